"""The drift report's formats, each rendered from the report's JSON data.

JSON is the data itself; text, Markdown, HTML and JUnit XML come from the templates
`drift.txt.j2`, `drift.md.j2`, `drift.html.j2` and `drift.xml.j2`. Markdown (for pull-request
comments and `$GITHUB_STEP_SUMMARY`) stays under `MARKDOWN_LIMIT` characters by listing fewer
resources and pointing to the JSON report for the rest.
"""

from __future__ import annotations

import json
from typing import Any

from ssoform.report.render import render

__all__ = ["FORMATS", "MARKDOWN_LIMIT", "render_drift", "render_markdown"]

FORMATS = ("text", "json", "markdown", "html", "junit")
MARKDOWN_LIMIT = 60_000
"""GitHub's limit for a comment is 65,536 characters; keep a margin."""

_TEMPLATES = {"text": "drift.txt.j2", "html": "drift.html.j2", "junit": "drift.xml.j2"}
_JSON_HINT = "the JSON report (`ssoform drift --format json`)"


def render_markdown(
    template: str, data: dict[str, Any], *, json_hint: str = _JSON_HINT, limit: int = 200
) -> str:
    """Markdown under MARKDOWN_LIMIT: the list shrinks until it fits, the summary always stays."""
    while True:
        text = render(template, {**data, "limit": limit, "json_hint": json_hint})
        if len(text) <= MARKDOWN_LIMIT or limit == 0:
            return text[:MARKDOWN_LIMIT]
        limit //= 2


def render_drift(
    data: dict[str, Any], fmt: str, *, color: bool = False, json_hint: str = _JSON_HINT
) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return render_markdown("drift.md.j2", data, json_hint=json_hint)
    return render(_TEMPLATES[fmt], data, color=color and fmt == "text")
