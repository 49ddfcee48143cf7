"""Field-level differences between a live object and a desired one (deepdiff stays in here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff

from ssoform.model import FieldChange

__all__ = ["diff_fields", "dotted"]


def dotted(path: list[Any]) -> str:
    out = ""
    for elem in path:
        out += f"[{elem}]" if isinstance(elem, int) else (f".{elem}" if out else str(elem))
    return out


def diff_fields(live: Mapping[str, Any], desired: Mapping[str, Any]) -> list[FieldChange]:
    """Changes that turn `live` into `desired`, for the fields `desired` declares."""
    changes: list[FieldChange] = []
    for name in sorted(desired):
        want = desired[name]
        have = live.get(name)
        if have == want:
            continue
        if isinstance(want, dict) and isinstance(have, dict):
            changes.extend(_nested(name, have, want))
        else:
            changes.append(FieldChange(path=name, before=have, after=want))
    return changes


def _nested(name: str, have: dict[str, Any], want: dict[str, Any]) -> list[FieldChange]:
    diff = DeepDiff(have, want, view="tree", verbose_level=2)
    out: list[FieldChange] = []
    for items in diff.values():
        for item in items:
            path = item.path(output_format="list")
            before = None if _missing(item.t1) else item.t1
            after = None if _missing(item.t2) else item.t2
            out.append(FieldChange(path=dotted([name, *path]), before=before, after=after))
    return sorted(out, key=lambda c: c.path)


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"
