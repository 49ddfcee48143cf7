"""Rendering reports from their JSON data through the Jinja2 templates shipped in the package.

Every human format (text, Markdown, HTML) is rendered from the same data a JSON report holds:
one source of truth. Text output is coloured only when asked (a terminal without NO_COLOR).

Whatever a template prints passes `scrub.visible` (Jinja's `finalize`, and the `style` filter for
what it colours): a provider's value cannot carry a control, bidi or ANSI character, a registered
secret or 100 kB into a report. Values keep their differences: they are spelled out, not dropped.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ssoform.scrub import visible

__all__ = ["VALUE_CHARS", "markdown_text", "render", "shown_value"]

VALUE_CHARS = 400
"""A field value longer than this (as JSON) is cut in human outputs (the JSON holds it whole)."""

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


class _Shown(str):
    """Text already made safe to show (coloured by `style`): `finalize` passes it through."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    """Every printed expression: made visible unless a filter already did (see `_Shown`)."""
    if isinstance(value, _Shown | Markup):
        return value
    return visible(value)


@functools.cache
def _environment(color: bool) -> Environment:
    """One environment per colour setting, so each template is compiled once per process."""
    env = Environment(
        finalize=_finalize,
        loader=PackageLoader("ssoform", "report/templates"),
        autoescape=select_autoescape(["html", "xml", "html.j2", "xml.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def style(text: Any, name: str) -> str:
        code = _STYLES.get(name)
        shown = text if isinstance(text, _Shown) else visible(text)
        return _Shown(f"\x1b[{code}m{shown}\x1b[0m" if color and code else shown)

    env.filters["style"] = style
    env.filters["symbol"] = lambda action: _SYMBOLS.get(str(action), "?")
    env.filters["value"] = _value
    env.filters["md"] = markdown_text
    env.filters["breakable"] = _breakable
    return env


def _breakable(value: Any) -> Markup:
    """HTML-escaped text that may wrap after `/` or `|` (long addresses and ids), not inside
    a word."""
    text = str(escape(visible(value)))
    for mark in ("/", "|"):
        text = text.replace(mark, mark + "<wbr />")
    return Markup(text)  # noqa: S704 - escaped above; only <wbr /> is added


_TABLE_CELL = str.maketrans(
    {"\r": " ", "\n": " ", "&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "'"}
)


def markdown_text(value: Any) -> str:
    """Text safe inside a Markdown table cell: no raw HTML, pipes, line breaks or control
    characters, no registered secret, and cut when very long."""
    return visible(value).translate(_TABLE_CELL)


def shown_value(value: Any) -> str:
    """A field value as JSON a person reads: secrets redacted, control characters spelled out,
    and cut after `VALUE_CHARS` with a marker (the JSON plan or report holds it whole)."""
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > VALUE_CHARS:
        cut = visible(text, limit=VALUE_CHARS - 40)
        return f"{cut.rsplit('…', 1)[0]}… ({len(text):,} characters; whole in the JSON)"
    return visible(text)


def _value(value: Any) -> str:
    return _Shown(shown_value(value))


def render(template: str, data: dict[str, Any], *, color: bool = False) -> str:
    return _environment(color).get_template(template).render(**data)
