"""Manifest values as import reshapes them: nested paths, declared values overlaid on live ones,
two views of one identity provider merged, certificate files inlined."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ssoform.drivers.base import SECRET_SLOT
from ssoform.errors import SsoformError

__all__ = ["get_path", "inline_certificates", "merge_views", "overlay", "put_path", "without"]


def get_path(value: Any, path: Sequence[str]) -> Any:
    """The value at `path` inside nested mappings, or None."""
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def put_path(value: dict[str, Any], path: Sequence[str], item: Any) -> None:
    """Set `item` at `path`, making the mappings on the way."""
    for part in path[:-1]:
        value = value.setdefault(part, {})
    value[path[-1]] = item


def without(value: dict[str, Any], holes: Sequence[Sequence[str]]) -> dict[str, Any]:
    """A copy of `value` without the values at `holes` (and the mappings left empty)."""
    out = json.loads(json.dumps(value))
    for hole in holes:
        parent = get_path(out, hole[:-1])
        if isinstance(parent, dict):
            parent.pop(hole[-1], None)
    return {k: v for k, v in out.items() if v != {}}


def overlay(declared: Any, live: Any) -> Any:
    """`declared` with every value live can read taken from `live` (secrets stay declared)."""
    if isinstance(declared, dict) and isinstance(live, Mapping):
        out = {k: overlay(declared[k], v) if k in declared else v for k, v in live.items()}
        out.update({k: v for k, v in declared.items() if k not in out})
        return {k: v for k, v in out.items() if not _has_slot(v)}
    if _has_slot(live):
        return declared
    return live


def _has_slot(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_slot(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_slot(v) for v in value)
    return bool(value == SECRET_SLOT)


def merge_views(one: Any, other: Any) -> Any:
    """Two views of one identity provider as one, or None when a field has two values."""
    if isinstance(one, dict) and isinstance(other, dict):
        out = dict(one)
        for key, value in other.items():
            if key == "kind" and "other" in (out.get(key), value):
                out[key] = value if out.get(key) in (None, "other") else out[key]
                continue
            if key not in out:
                out[key] = value
                continue
            merged = merge_views(out[key], value)
            if merged is None:
                return None
            out[key] = merged
        return out
    return one if json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True) else None


def inline_certificates(value: Any, base_dir: Path) -> Any:
    """Certificates by `{file: ...}` become `{pem: ...}`: the import lands elsewhere, and a
    certificate is public. Secret references stay as written (their values are never read)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "certificate" and isinstance(item, dict) and "file" in item:
                path = base_dir / str(item["file"])
                try:
                    out[key] = {"pem": path.read_text(encoding="utf-8")}
                except (OSError, UnicodeError) as exc:
                    raise SsoformError(f"{path}: cannot read the certificate: {exc}") from None
            elif key == "additional_certificates" and isinstance(item, list):
                out[key] = [
                    inline_certificates({"certificate": c}, base_dir)["certificate"] for c in item
                ]
            else:
                out[key] = inline_certificates(item, base_dir)
        return out
    return value
