"""Reading YAML safely and fast, and finding where a value came from.

Values always come from one parser, `yaml_rs` (YAML 1.2, Rust): it is about fifteen times faster
than PyYAML's C loader on large manifests, rejects duplicate keys, and bounds alias expansion.
PyYAML is used only on the error path, to compose the file with line and column marks so a
diagnostic can point at `file:line:col`; it never supplies values. Non-standard tags, which
yaml_rs would silently drop, are rejected by a strict PyYAML pass on files that contain a `!`.

Hostile input is refused before any recursive code sees it: files over `MAX_FILE_BYTES`, text
that is not UTF-8, and documents nested deeper than `MAX_DEPTH` (measured without recursion on
the values yaml_rs returns, and located with PyYAML's event parser, which does not recurse
either). Only then are PyYAML's recursive composers used, so they cannot overflow the stack.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
import yaml_rs

from ssoform.manifest.diagnostics import PathElem

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Locator", "YamlProblem", "load_yaml", "locate"]

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists a manifest may have (a real one needs about 8)."""

_ALIAS_LIMITS = yaml_rs.AliasLimits(
    max_total_replayed_events=100_000,
    max_replay_stack_depth=32,
    max_alias_expansions_per_anchor=1_000,
)
_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary")
)
_LINE_COL = re.compile(r"line (\d+), column (\d+)")
_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""Composes with marks; safe to use only on text whose depth is already known to be bounded."""


@dataclass(frozen=True)
class YamlProblem(Exception):
    """The text is not a YAML document ssoform accepts."""

    line: int
    col: int
    message: str


def load_yaml(raw: bytes) -> Any:
    """Parse one YAML document from `raw`. Raises `YamlProblem` with a 1-based position."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblem(1, 1, f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(line, col, f"not valid UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise YamlProblem(line, 1, "file contains a NUL character")
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=_ALIAS_LIMITS,
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except yaml_rs.YAMLDecodeError as exc:
        raise _locate_problem(text, str(exc)) from None
    except (RecursionError, OverflowError, MemoryError, ValueError) as exc:
        raise _locate_problem(text, f"document too deeply nested or too large ({exc})") from None
    except TypeError as exc:  # yaml_rs can fail building a key it cannot hash (fuzz finding)
        raise _locate_problem(text, f"unsupported YAML construct ({exc})") from None
    if _too_deep(data):
        raise _depth_problem(text) or YamlProblem(0, 0, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(data, list) and "---" in text:
        second = _second_document(text)
        if second is not None:
            raise YamlProblem(*second, "a manifest file holds one YAML document, not several (---)")
    if "!" in text:
        _strict_compose(text)  # finds non-standard tags with their marks
    return data


def _too_deep(data: Any) -> bool:
    """Whether `data` nests deeper than MAX_DEPTH, found without recursion."""
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            below.extend(c for c in children if isinstance(c, dict | list))
        if not below:
            return False
        level = below
    return True


def _events(text: str, *, fast: bool = False) -> Any:
    """PyYAML's event stream: a state machine with its own stack, so any depth is safe.

    `fast` uses libyaml's parser where PyYAML was built with it: also a state machine, with the
    same marks, several times faster; the syntax-error paths keep the pure-Python parser, whose
    problem texts the diagnostics quote."""
    loader = _LOADER if fast else yaml.SafeLoader
    return yaml.parse(text, Loader=loader)


def _depth_problem(text: str) -> YamlProblem | None:
    """Where `text` first nests deeper than MAX_DEPTH (or its first syntax error), or None."""
    depth = 0
    try:
        for event in _events(text):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return YamlProblem(
                        *_pos(event.start_mark), f"nested more than {MAX_DEPTH} levels deep"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        return _marked(exc)
    except yaml.YAMLError as exc:
        return YamlProblem(0, 0, str(exc))
    return None


def _second_document(text: str) -> tuple[int, int] | None:
    """The position of the second document in `text`, if it holds more than one."""
    count = 0
    try:
        for event in _events(text):
            if isinstance(event, yaml.DocumentStartEvent):
                count += 1
                if count == 2:
                    return _pos(event.start_mark)
    except yaml.YAMLError:
        return None
    return None


def _first_alias(text: str) -> tuple[int, int]:
    try:
        for event in _events(text):
            if isinstance(event, yaml.AliasEvent):
                return _pos(event.start_mark)
    except yaml.YAMLError:
        pass
    return (0, 0)


def _locate_problem(text: str, message: str) -> YamlProblem:
    """Turn a yaml_rs error into a located problem, asking PyYAML when yaml_rs gives no position."""
    first = message.splitlines()[0] if message else "invalid YAML"
    if "alias" in first and "limit" in first:
        line, col = _first_alias(text)
        return YamlProblem(line, col, "too many alias expansions; refusing a YAML bomb")
    problem = _depth_problem(text)  # syntax errors and deep nesting, without recursion
    if problem is not None:
        return problem
    try:
        _strict_compose(text)  # duplicate keys and tags; depth is bounded now
    except YamlProblem as found:
        return found
    match = _LINE_COL.search(first)
    if match:
        detail = message.splitlines()[-1].strip() if "\n" in message else first
        return YamlProblem(int(match.group(1)), int(match.group(2)), detail)
    return YamlProblem(0, 0, first)


def _pos(mark: Any) -> tuple[int, int]:
    """A PyYAML mark as a 1-based (line, column); (0, 0) when there is none."""
    return (0, 0) if mark is None else (mark.line + 1, mark.column + 1)


def _marked(exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return YamlProblem(0, 0, problem)
    return YamlProblem(mark.line + 1, mark.column + 1, problem)


def _compose(text: str) -> Any:
    """The node tree of `text` with marks, or None; callers bound the depth first."""
    loader = _LOADER(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _strict_compose(text: str) -> None:
    """Refuse duplicate keys and non-standard tags, naming where they are."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        raise _marked(exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(0, 0, str(exc)) from None
    except RecursionError:
        raise YamlProblem(0, 0, f"nested more than {MAX_DEPTH} levels deep") from None
    stack = [root] if root is not None else []
    visited: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in visited:  # an alias met again, or a self-referencing one (`a: &a [*a]`)
            continue
        visited.add(id(node))
        if node.tag not in _STANDARD_TAGS:
            mark = node.start_mark
            raise YamlProblem(
                mark.line + 1, mark.column + 1, f"non-standard YAML tag {node.tag!r} is not allowed"
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                first = seen.setdefault(key_node.value, key_node.start_mark)
                if first is not key_node.start_mark:
                    line = _pos(first)[0]
                    raise YamlProblem(
                        *_pos(key_node.start_mark),
                        f"duplicate key {key_node.value!r} (first defined at line {line})",
                    )
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


class Locator:
    """Maps the data paths asked for inside one YAML file to the lines and columns where they are.

    Built from libyaml's event stream (a state machine with its own stack, so any depth is safe),
    recording marks only along the paths asked for and skipping every other subtree: locating one
    error in a 10,000-tenant file costs one pass of the C parser, not a composed node tree.
    Mapping keys are matched by their text, so a key yaml_rs read as a number or a boolean
    (`1:`, `true:`) is still found. A path that runs through an alias stops at the alias.
    """

    def __init__(self, text: str, paths: Iterable[tuple[PathElem, ...]]) -> None:
        self._marks: dict[tuple[PathElem, ...], tuple[int, int]] = {}
        wanted = {tuple(_key_text(e) for e in path) for path in paths}
        prefixes = {path[:end] for path in wanted for end in range(len(path) + 1)}
        if prefixes:
            with contextlib.suppress(yaml.YAMLError):  # marks found before an error stay usable
                self._walk(text, prefixes)

    def _walk(self, text: str, prefixes: set[tuple[PathElem, ...]]) -> None:
        # A frame per open collection: [path, is_mapping, next key or index, expecting a key].
        frames: list[list[Any]] = []
        skip = 0  # depth inside a subtree that no wanted path enters
        for event in _events(text, fast=True):
            if skip:
                if isinstance(event, yaml.CollectionStartEvent):
                    skip += 1
                elif isinstance(event, yaml.CollectionEndEvent):
                    skip -= 1
                    if not skip:
                        _advance(frames)
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
                _advance(frames)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            frame = frames[-1] if frames else None
            if frame is not None and frame[1] and frame[3]:  # a mapping key
                key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
                path = (*frame[0], key)
                if path in prefixes:
                    self._marks.setdefault(path, _pos(event.start_mark))
                frame[2], frame[3] = key, False
                if isinstance(event, yaml.CollectionStartEvent):
                    skip = 1  # a complex key: never on a wanted path
                continue
            path = () if frame is None else (*frame[0], _key_text(frame[2]))
            if path not in prefixes:
                if isinstance(event, yaml.CollectionStartEvent):
                    skip = 1
                else:
                    _advance(frames)
                continue
            self._marks.setdefault(path, _pos(event.start_mark))
            if isinstance(event, yaml.MappingStartEvent):
                frames.append([path, True, None, True])
            elif isinstance(event, yaml.SequenceStartEvent):
                frames.append([path, False, 0, False])
            else:
                _advance(frames)

    def find(self, path: tuple[PathElem, ...]) -> tuple[int, int]:
        """The position of `path`, or of its nearest written ancestor; (0, 0) when unknown."""
        text_path = tuple(_key_text(e) for e in path)
        for end in range(len(text_path), -1, -1):
            mark = self._marks.get(text_path[:end])
            if mark is not None:
                return mark
        return (0, 0)


def _advance(frames: list[list[Any]]) -> None:
    """A value of the innermost collection has ended: expect the next key or index."""
    if not frames:
        return
    frame = frames[-1]
    if frame[1]:
        frame[3] = True
    else:
        frame[2] += 1


def _key_text(elem: PathElem | Any) -> PathElem:
    if isinstance(elem, bool):
        return "true" if elem else "false"
    if elem is None:
        return "null"
    return elem if isinstance(elem, str) else str(elem)


def locate(text: str, paths: Iterable[tuple[PathElem, ...]]) -> Locator:
    """Build a locator for the given data paths of `text` (one pass of the C event parser)."""
    return Locator(text, paths)
