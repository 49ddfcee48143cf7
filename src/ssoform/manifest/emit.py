"""Writing manifest YAML: block style, stable key order, and comments on chosen lines.

PyYAML cannot write comments, and `ssoform import` must mark fields the API cannot read back,
so this small emitter writes the plain data a manifest holds (mappings, lists, scalars).
Text that is not plain is double-quoted with every character that is not printable escaped
(`\\u202e`, `\\x1b`, `\\n`): a value read from a provider cannot break the YAML, start a tag or
an anchor, or carry a control or bidi character into the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["Path", "emit_yaml"]

Path = tuple[str | int, ...]

_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_ ./@+:-]*$")
_SIMPLE_KEY = 1000
"""A longer key is written as an explicit `? key` (YAML's implicit keys stop at 1024)."""
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "~", "y", "n"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    plain = (
        _PLAIN.match(text)
        and text.lower() not in _RESERVED
        and not text.endswith((" ", ":"))
        and ": " not in text
        and not _looks_numeric(text)
    )
    return text if plain else _quoted(text)


def _quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar (JSON's escapes are YAML's) with every character
    that is not printable escaped, not only the ones JSON escapes."""
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isprintable():
        return quoted
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.startswith(("0x", "0o"))
    return True


def _key(key: Any) -> str:
    return _scalar(str(key))


def emit_yaml(data: Mapping[str, Any], comments: Mapping[Path, str] | None = None) -> str:
    """`data` as YAML; `comments[path]` is written at the end of the line that starts `path`."""
    notes = comments or {}
    lines: list[str] = []

    def comment(path: Path) -> str:
        return f"  # {notes[path]}" if path in notes else ""

    def block(value: Any, indent: int, path: Path) -> None:
        pad = " " * indent
        if isinstance(value, Mapping):
            for key, item in value.items():
                here = (*path, key)
                name = _key(key)
                if len(name) > _SIMPLE_KEY:  # YAML's implicit keys end at 1024 characters
                    lines.append(f"{pad}? {name}")
                    name = ""
                if _is_block(item):
                    lines.append(f"{pad}{name}:{comment(here)}")
                    block(item, indent + 2, here)
                else:
                    lines.append(f"{pad}{name}: {_inline(item)}{comment(here)}")
        else:
            for index, item in enumerate(value):
                here = (*path, index)
                if isinstance(item, Mapping) and item:
                    first = len(lines)
                    block(item, indent + 2, here)
                    lines[first] = f"{pad}- {lines[first][indent + 2 :]}"
                    if here in notes:
                        lines[first] += comment(here)
                elif _is_block(item):
                    lines.append(f"{pad}-{comment(here)}")
                    block(item, indent + 2, here)
                else:
                    lines.append(f"{pad}- {_inline(item)}{comment(here)}")

    block(data, 0, ())
    return "\n".join(lines) + "\n"


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping | list) and bool(value) and not _short_list(value)


def _short_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and all(not isinstance(v, Mapping | list) for v in value)
        and len(value) <= 8
    )


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)}: {_inline(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, str) and "\n" in value:
        return _quoted(value)
    return _scalar(value)
