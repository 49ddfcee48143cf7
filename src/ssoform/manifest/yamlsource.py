"""Reading YAML safely and fast, and finding where a value came from.

Values always come from one parser, `yaml_rs` (YAML 1.2, Rust): it is about fifteen times faster
than PyYAML's C loader on large manifests, rejects duplicate keys, and bounds alias expansion.
PyYAML is used only on the error path, to compose the file with line and column marks so a
diagnostic can point at `file:line:col`; it never supplies values. Non-standard tags, which
yaml_rs would silently drop, are rejected by a strict PyYAML pass on files that contain a `!`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
import yaml_rs

from ssoform.manifest.diagnostics import PathElem

__all__ = ["MAX_FILE_BYTES", "Locator", "YamlProblem", "load_yaml", "locate"]

MAX_FILE_BYTES = 32 * 1024 * 1024
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


@dataclass(frozen=True)
class YamlProblem(Exception):
    """The text is not a YAML document ssoform accepts."""

    line: int
    col: int
    message: str


def load_yaml(raw: bytes) -> Any:
    """Parse one YAML document from `raw`. Raises `YamlProblem` with a 1-based position."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblem(0, 0, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem(line, 1, f"not valid UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise YamlProblem(0, 0, "file contains a NUL character")
    if "!" in text:
        _strict_compose(text)  # finds non-standard tags and duplicate keys with their marks
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=_ALIAS_LIMITS,
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except yaml_rs.YAMLDecodeError as exc:
        raise _locate_problem(text, str(exc)) from None
    except (RecursionError, OverflowError) as exc:
        raise YamlProblem(0, 0, f"document too deeply nested or too large ({exc})") from None
    if isinstance(data, list) and text.lstrip().startswith("---") and _multi_document(text):
        raise YamlProblem(0, 0, "a manifest file holds one YAML document, not several")
    return data


def _multi_document(text: str) -> bool:
    return sum(1 for line in text.splitlines() if line.rstrip() == "---") > 1


def _locate_problem(text: str, message: str) -> YamlProblem:
    """Turn a yaml_rs error into a located problem, asking PyYAML when yaml_rs gives no position."""
    first = message.splitlines()[0] if message else "invalid YAML"
    if "alias" in first and "limit" in first:
        return YamlProblem(0, 0, f"alias expansion limit exceeded ({first}); refusing a YAML bomb")
    try:
        _strict_compose(text)
    except YamlProblem as problem:
        return problem
    match = _LINE_COL.search(first)
    if match:
        detail = message.splitlines()[-1].strip() if "\n" in message else first
        return YamlProblem(int(match.group(1)), int(match.group(2)), detail)
    return YamlProblem(0, 0, first)


class _StrictLoader(yaml.SafeLoader):
    """A composer that refuses duplicate keys and non-standard tags, with their marks."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        node = super().compose_node(parent, index)
        if node is not None and node.tag not in _STANDARD_TAGS:
            mark = node.start_mark
            raise YamlProblem(
                mark.line + 1, mark.column + 1, f"non-standard YAML tag {node.tag!r} is not allowed"
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                if key in seen:
                    first = seen[key]
                    mark = key_node.start_mark
                    raise YamlProblem(
                        mark.line + 1,
                        mark.column + 1,
                        f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    )
                seen[key] = key_node.start_mark
        return node


def _strict_compose(text: str) -> Any:
    try:
        loader = _StrictLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise YamlProblem(0, 0, problem) from None
        raise YamlProblem(mark.line + 1, mark.column + 1, problem) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(0, 0, str(exc)) from None
    except RecursionError:
        raise YamlProblem(0, 0, "document too deeply nested") from None


class Locator:
    """Maps a data path inside one YAML file to the line and column where it is written."""

    def __init__(self, text: str) -> None:
        self._marks: dict[tuple[PathElem, ...], tuple[int, int]] = {}
        try:
            loader = yaml.SafeLoader(text)
            try:
                root = loader.get_single_node()
            finally:
                loader.dispose()
        except (yaml.YAMLError, RecursionError):
            return
        if root is not None:
            try:
                for path, mark in _walk(root, ()):
                    self._marks.setdefault(path, mark)
            except RecursionError:  # a self-referencing alias (`a: &a [*a]`): keep what we have
                return

    def find(self, path: tuple[PathElem, ...]) -> tuple[int, int]:
        """The position of `path`, or of its nearest written ancestor; (0, 0) when unknown."""
        for end in range(len(path), -1, -1):
            mark = self._marks.get(path[:end])
            if mark is not None:
                return mark
        return (0, 0)


_Marks = Iterator[tuple[tuple[PathElem, ...], tuple[int, int]]]


def _walk(node: Any, path: tuple[PathElem, ...]) -> _Marks:
    yield path, (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            yield child, (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            yield from ((p, m) for p, m in _walk(value_node, child) if p != child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index))


def locate(text: str) -> Locator:
    """Build a locator for `text` (slow: composes the whole file with PyYAML)."""
    return Locator(text)
