"""Diagnostics: one problem found in a manifest, with where it is and how to print it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

__all__ = ["Diagnostic", "Severity", "format_diagnostics", "path_to_str"]

PathElem = str | int


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: `file:line:col: path: message`. Lines and columns are 1-based; 0 is unknown."""

    file: str
    line: int
    col: int
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}"
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}: {prefix}{path}{self.message}"


def path_to_str(path: Sequence[PathElem]) -> str:
    """`('tenants', 'acme', 'connections', 1, 'saml')` -> `tenants.acme.connections[1].saml`."""
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else str(elem)
    return out


def format_diagnostics(diagnostics: Iterable[Diagnostic], fmt: str) -> str:
    """Render diagnostics as `text`, `json` or `github` workflow annotations."""
    items = sorted(diagnostics)
    if fmt == "json":
        payload = {
            "valid": not any(d.severity is Severity.ERROR for d in items),
            "diagnostics": [asdict(d) for d in items],
        }
        return json.dumps(payload, indent=2)
    if fmt == "github":
        return "\n".join(_github(d) for d in items)
    return "\n".join(str(d) for d in items)


def _github(diag: Diagnostic) -> str:
    level = "error" if diag.severity is Severity.ERROR else "warning"
    message = f"{diag.path}: {diag.message}" if diag.path else diag.message
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} file={diag.file},line={diag.line or 1},col={diag.col or 1}::{message}"
