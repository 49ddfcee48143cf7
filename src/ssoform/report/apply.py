"""What apply did, resource by resource: the lines `ssoform apply` prints and its `--json`.

Built from the plan's data (each change's address and action) and apply's outcome lists, so
every change the plan listed gets exactly one line: applied, failed (with the provider's error)
or skipped (manual or blocked, with why).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ssoform.report.render_jinja import render

__all__ = ["apply_rows", "render_apply_json", "render_apply_text"]


def apply_rows(
    plan: Mapping[str, Any],
    applied: Sequence[str],
    failed: Sequence[tuple[str, str]],
    skipped: Sequence[tuple[str, str]],
) -> list[dict[str, Any]]:
    """One row per change that apply acted on or skipped, in the plan's order."""
    outcome: dict[str, tuple[str, str | None]] = dict.fromkeys(applied, ("applied", None))
    outcome.update((a, ("failed", why)) for a, why in failed)
    outcome.update((a, ("skipped", why)) for a, why in skipped)
    rows = []
    for rc in plan["resource_changes"]:
        found = outcome.pop(rc["address"], None)
        if found is not None:
            rows.append(
                {
                    "address": rc["address"],
                    "action": rc["action"],
                    "outcome": found[0],
                    "detail": found[1],
                }
            )
    rows += [  # anything apply reported that the plan did not list (never expected)
        {"address": a, "action": None, "outcome": o, "detail": d} for a, (o, d) in outcome.items()
    ]
    return rows


def _totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {o: sum(1 for r in rows if r["outcome"] == o) for o in ("applied", "failed", "skipped")}


def render_apply_text(rows: Sequence[Mapping[str, Any]], *, color: bool) -> str:
    return render("apply.txt.j2", {"rows": rows, "totals": _totals(rows)}, color=color)


def render_apply_json(rows: Sequence[Mapping[str, Any]]) -> str:
    totals = _totals(rows)
    doc = {"resources": list(rows), "summary": totals, "ok": totals["failed"] == 0}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
