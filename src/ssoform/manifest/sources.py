"""Finding manifest files and merging them into one document, remembering where parts came from."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssoform.manifest.diagnostics import PathElem
from ssoform.manifest.yamlsource import YamlProblem, load_yaml

__all__ = [
    "MERGED_SECTIONS",
    "STDIN",
    "MergedDocument",
    "SourceFile",
    "collect_files",
    "merge_files",
]

MERGED_SECTIONS = ("vars", "providers", "identity_providers", "tenants")
LISTED_SECTIONS = ("moved",)
"""Lists that files add to (each file's entries are kept, in file order)."""


@dataclass
class SourceFile:
    path: Path
    display: str
    raw: bytes


@dataclass
class Problem:
    """A problem found while merging, located by file and data path (resolved to a line later)."""

    display: str
    path: tuple[PathElem, ...]
    message: str
    line: int = 0
    col: int = 0


@dataclass
class MergedDocument:
    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[tuple[PathElem, ...], str] = field(default_factory=dict)
    """(section, name) or (key,) -> display name of the file that defined it."""
    base_dirs: dict[str, Path] = field(default_factory=dict)
    """display name -> the directory its relative file references resolve from."""
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def file_of(self, path: Sequence[PathElem]) -> str:
        """The file a data path was written in."""
        if len(path) >= 2 and path[0] in MERGED_SECTIONS:
            found = self.origin.get((path[0], path[1]))
            if found:
                return found
        if path:
            found = self.origin.get((path[0],))
            if found:
                return found
        return self.files[0].display if self.files else ""


STDIN = "-"
STDIN_NAME = "<stdin>"


def _stdin() -> bytes:
    return sys.stdin.buffer.read()


def collect_files(paths: Sequence[Path]) -> list[SourceFile]:
    """The manifest files named by `paths`: files as given, directories' `*.yaml`/`*.yml` sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    (
                        p
                        for p in path.rglob("*")
                        if p.suffix in (".yaml", ".yml")
                        and p.is_file()
                        and not any(part.startswith(".") for part in p.relative_to(path).parts)
                    ),
                    key=lambda p: p.parts,  # as Path orders them, but much faster
                )
            )
        else:
            found.append(path)
    files = []
    for path in found:
        if str(path) == STDIN:  # `-`: the manifest on standard input (relative files from .)
            files.append(SourceFile(path=Path(STDIN_NAME), display=STDIN_NAME, raw=_stdin()))
            continue
        raw = path.read_bytes()  # OSError is handled by the caller
        files.append(SourceFile(path=path, display=str(path), raw=raw))
    return files


def merge_files(files: Sequence[SourceFile]) -> MergedDocument:
    """Parse each file and merge their sections; a name defined twice is a problem naming both."""
    doc = MergedDocument(files=list(files))
    for source in files:
        doc.base_dirs[source.display] = source.path.parent
        try:
            data = load_yaml(source.raw)
        except YamlProblem as problem:
            doc.problems.append(
                Problem(source.display, (), problem.message, problem.line, problem.col)
            )
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            doc.problems.append(
                Problem(
                    source.display, (), "a manifest file is a mapping (version, tenants, ...)", 1, 1
                )
            )
            continue
        _merge_one(doc, source.display, data)
    return doc


def _merge_one(doc: MergedDocument, display: str, data: dict[Any, Any]) -> None:
    for key, value in data.items():
        if key in MERGED_SECTIONS and isinstance(value, dict):
            section = doc.data.setdefault(key, {})
            if not isinstance(section, dict):
                continue
            for name, item in value.items():
                where = (key, name)
                if name in section:
                    first = doc.origin.get(where, "?")
                    doc.problems.append(Problem(display, where, f"already defined in {first}"))
                    continue
                section[name] = item
                doc.origin[where] = display
            doc.origin.setdefault((key,), display)
        elif key in LISTED_SECTIONS and isinstance(value, list):
            listed = doc.data.setdefault(key, [])
            if isinstance(listed, list):
                listed.extend(value)
            doc.origin.setdefault((key,), display)
        elif key in doc.data and key not in MERGED_SECTIONS:
            if doc.data[key] != value:
                first = doc.origin.get((key,), "?")
                doc.problems.append(
                    Problem(display, (key,), f"{key} differs from the value given in {first}")
                )
        else:
            doc.data[key] = value
            doc.origin[(key,)] = display
