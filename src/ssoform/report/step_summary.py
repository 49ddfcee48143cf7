"""Markdown for `$GITHUB_STEP_SUMMARY` within a byte budget: GitHub refuses a step summary over
1 MiB, so what a command appends is cut at a whole resource, with a line saying how many were
left out and where the whole report is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ssoform.report.drift import render_markdown
from ssoform.report.plan import markdown_header, resource_units, shown_groups

__all__ = ["STEP_SUMMARY_LIMIT", "drift_step_summary", "plan_step_summary"]

STEP_SUMMARY_LIMIT = 1024 * 1024
"""Bytes GitHub accepts in one step's summary (1024 KiB)."""

_FIELDS_BUDGET = 50_000
"""Characters of one change's field listing before it is split into several blocks."""


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _left_out(count: int, json_hint: str) -> str:
    noun = "resource" if count == 1 else "resources"
    return (
        f"\n_{count:,} {noun} left out of this step summary (GitHub takes at most 1 MiB); "
        f"every one is in {json_hint}._\n"
    )


def _nothing_fits(command: str, json_hint: str, max_bytes: int) -> str:
    line = (
        f"_ssoform {command}: the step summary is full (GitHub takes at most 1 MiB); "
        f"see {json_hint}._\n"
    )
    return line if _size(line) <= max_bytes else ""


def _cut(
    header: str,
    units: Sequence[tuple[list[str], int]],
    max_bytes: int,
    json_hint: str,
) -> tuple[str, int] | None:
    """`header` and the units in order, while they fit with the note on what was left out, and
    how many resources were left out; None when not even the header does."""
    total = sum(count for _, count in units)
    reserve = _size(_left_out(total, json_hint))
    out = [header]
    used = _size(header)
    shown = 0
    for pieces, count in units:
        text = "".join(pieces)
        size = _size(text)
        if used + size + reserve > max_bytes:
            break
        out.append(text)
        used += size
        shown += count
    if used + reserve > max_bytes:
        return None
    if shown < total:
        out.append(_left_out(total - shown, json_hint))
    return "".join(out), total - shown


def plan_step_summary(data: Mapping[str, Any], *, json_hint: str, max_bytes: int) -> str:
    """The Markdown plan in at most `max_bytes` UTF-8 bytes: whole when it fits, else with the
    changes outside the careful-look group listing their fields without values, then cut at a
    whole change (careful-look changes come first, so they are the last to go)."""
    header = markdown_header(data, json_hint, "")
    groups = shown_groups(data)
    full = _cut(header, resource_units(data, groups, _FIELDS_BUDGET, None), max_bytes, json_hint)
    if full is not None and full[1] == 0:
        return full[0]
    compact = resource_units(data, groups, _FIELDS_BUDGET, json_hint)
    cut = _cut(header, compact, max_bytes, json_hint)
    return cut[0] if cut is not None else _nothing_fits("plan", json_hint, max_bytes)


def drift_step_summary(data: dict[str, Any], *, json_hint: str, max_bytes: int) -> str:
    """The Markdown drift report in at most `max_bytes` UTF-8 bytes: it lists fewer resources
    and findings (saying how many more the JSON report holds) until it fits."""
    limit = 200
    while True:
        text = render_markdown("drift.md.j2", data, json_hint=json_hint, limit=limit)
        if _size(text) <= max_bytes:
            return text
        if limit == 0:
            return _nothing_fits("drift", json_hint, max_bytes)
        limit //= 2
