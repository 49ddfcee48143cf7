"""The drift report's formats, each rendered from the report's JSON data.

JSON is the data itself; text, Markdown, HTML and JUnit XML come from the templates
`drift.txt.j2`, `drift.md.j2`, `drift.html.j2` and `drift.xml.j2`. The HTML page shows findings
first, then resources grouped by tenant (worst first), each group's failing rows by severity and
its in-sync rows folded away, with a filter box; it loads nothing from the network. Markdown
(for pull-request comments and `$GITHUB_STEP_SUMMARY`) stays under `MARKDOWN_LIMIT` characters
by listing fewer resources and pointing to the JSON report for the rest.
"""

from __future__ import annotations

import json
from typing import Any

from ssoform.report.render_jinja import render
from ssoform.scrub import redact_value

__all__ = [
    "FORMATS",
    "MARKDOWN_LIMIT",
    "SEVERITY",
    "html_groups",
    "render_drift",
    "render_markdown",
]

FORMATS = ("text", "json", "markdown", "html", "junit")
MARKDOWN_LIMIT = 60_000
"""GitHub's limit for a comment is 65,536 characters; keep a margin."""

SEVERITY = ("missing", "drifted", "unmanaged", "pending", "unverifiable", "in_sync")
"""Resource classes, most severe first: the order the HTML report lists them in."""

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


def html_groups(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Resources grouped by tenant for the HTML page: the group with the worst row first, rows
    by severity then address, in-sync rows apart (the page folds them)."""
    rank = {c: n for n, c in enumerate(SEVERITY)}
    by_tenant: dict[str | None, list[dict[str, Any]]] = {}
    for n, r in enumerate(data["resources"]):
        by_tenant.setdefault(r["tenant"], []).append({**r, "anchor": f"r{n + 1}"})
    groups = []
    for tenant, rows in by_tenant.items():
        rows.sort(key=lambda r: (rank[r["status"]], r["address"]))
        groups.append(
            {
                "tenant": tenant,
                "worst": rows[0]["status"],
                "rows": [r for r in rows if r["status"] != "in_sync"],
                "in_sync": [r for r in rows if r["status"] == "in_sync"],
                "counts": {c: sum(1 for r in rows if r["status"] == c) for c in SEVERITY},
            }
        )
    groups.sort(key=lambda g: (rank[g["worst"]], g["tenant"] is None, g["tenant"] or ""))
    return groups


def render_drift(
    data: dict[str, Any], fmt: str, *, color: bool = False, json_hint: str = _JSON_HINT
) -> str:
    """The report in `fmt`; a registered secret a provider echoed is redacted in every format."""
    data = redact_value(data)
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return render_markdown("drift.md.j2", data, json_hint=json_hint)
    if fmt == "html":
        findings = sorted(
            data["findings"], key=lambda f: (not f["failing"], f["severity"] != "error")
        )
        anchors = {r["address"]: f"r{n + 1}" for n, r in enumerate(data["resources"])}
        return render(
            _TEMPLATES[fmt],
            {**data, "groups": html_groups(data), "sorted_findings": findings, "anchors": anchors},
        )
    return render(_TEMPLATES[fmt], data, color=color and fmt == "text")
