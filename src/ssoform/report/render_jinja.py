"""Rendering reports from their JSON data through the Jinja2 templates shipped in the package.

Every human format (text, Markdown, HTML) is rendered from the same data a JSON report holds:
one source of truth. Text output is coloured only when asked (a terminal without NO_COLOR).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

__all__ = ["markdown_text", "render"]

_STYLES = {
    "create": "32",
    "adopt": "36",
    "update": "33",
    "replace": "35",
    "delete": "31",
    "forget": "2",
    "move": "36",
    "manual": "1;33",
    "blocked": "1;34",
    "no-op": "2",
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
}

_SYMBOLS = {
    "create": "+",
    "adopt": "<",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "forget": "x",
    "move": ">",
    "manual": "!",
    "blocked": "#",
    "no-op": "=",
}


@functools.cache
def _environment(color: bool) -> Environment:
    """One environment per colour setting, so each template is compiled once per process."""
    env = Environment(
        loader=PackageLoader("ssoform", "report/templates"),
        autoescape=select_autoescape(["html", "xml", "html.j2", "xml.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def style(text: Any, name: str) -> str:
        code = _STYLES.get(name)
        return f"\x1b[{code}m{text}\x1b[0m" if color and code else str(text)

    env.filters["style"] = style
    env.filters["symbol"] = lambda action: _SYMBOLS.get(str(action), "?")
    env.filters["value"] = _value
    env.filters["md"] = markdown_text
    env.filters["breakable"] = _breakable
    return env


def _breakable(value: Any) -> Markup:
    """HTML-escaped text that may wrap after `/` or `|` (long addresses and ids), not inside
    a word."""
    text = str(escape(str(value)))
    for mark in ("/", "|"):
        text = text.replace(mark, mark + "<wbr />")
    return Markup(text)  # noqa: S704 - escaped above; only <wbr /> is added


_TABLE_CELL = str.maketrans(
    {"\r": " ", "\n": " ", "&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "'"}
)


def markdown_text(value: Any) -> str:
    """Text safe inside a Markdown table cell: no raw HTML, pipes or line breaks."""
    return str(value).translate(_TABLE_CELL)


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render(template: str, data: dict[str, Any], *, color: bool = False) -> str:
    return _environment(color).get_template(template).render(**data)
