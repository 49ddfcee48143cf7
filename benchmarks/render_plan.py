"""How long each rendering of a large plan takes: terminal text (plain and coloured), the
Markdown (pull-request parts and the step summary) and the JSON, at 5,000 and 50,000 changes.

Usage: PYTHONPATH=src python benchmarks/render_plan.py [CHANGES ...] [--profile]
Prints seconds and output size per format; `--profile` prints cProfile's top functions for
the terminal text of the first size. HTML is drift's only (`ssoform drift --format html`).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from ssoform.engine.plan import Action, Plan, ResourceChange, StatePin
from ssoform.model import FieldChange
from ssoform.report.plan import render_plan_markdown, render_plan_text
from ssoform.report.step_summary import STEP_SUMMARY_LIMIT, plan_step_summary

_ACTIONS = (Action.UPDATE, Action.UPDATE, Action.UPDATE, Action.CREATE, Action.NOOP, Action.DELETE)


def _fields(i: int, action: Action) -> list[FieldChange]:
    if action is Action.NOOP:
        return []
    before = None if action is Action.CREATE else f"https://idp{i}.example/sso/saml"
    return [
        FieldChange(path="saml.idp_url", before=before, after=f"https://idp{i}.example/sso/v2"),
        FieldChange(path="saml.entity_id", before=before, after=f"http://www.okta.com/exk{i}"),
        FieldChange(path="domains", before=[f"t{i}.example"], after=[f"t{i}.example", "x.io"]),
        FieldChange(path="attribute_mapping", before={"email": "mail"}, after={"email": "upn"}),
        FieldChange(path="client_secret", sensitive=True),
    ]


def large_plan(changes: int) -> Plan:
    """A plan of `changes` Descope-like resource changes across `changes // 5` tenants."""
    rows = []
    for i in range(changes):
        action = _ACTIONS[i % len(_ACTIONS)]
        tenant = f"tenant{i // 5:05d}"
        rows.append(
            ResourceChange.make(
                action=action,
                changes=_fields(i, action),
                address=f"{tenant}/descope-main/T{i:06d}/saml",
                tenant=tenant,
                type="descope",
                provider="descope-main",
                scope=f"T{i:06d}",
                key="saml",
                action_reason="" if action is not Action.NOOP else "in sync",
                notes=("SSO applies to every user of @example.com",) if i % 7 == 0 else (),
            )
        )
    return Plan(
        created_at="2026-01-01T00:00:00+00:00",
        manifest_digest="0" * 64,
        state=StatePin(lineage="bench", serial=1),
        changes=tuple(rows),
    )


def _timed(label: str, run: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = run()
    took = time.perf_counter() - start
    if isinstance(out, dict):
        print(f"  {label:<22} {took:7.2f} s")
        return out
    size = sum(len(p) for p in out) if isinstance(out, list) else len(out)
    print(f"  {label:<22} {took:7.2f} s  {size / 1e6:7.1f} M characters")
    return out


def measure(changes: int) -> None:
    plan = large_plan(changes)
    print(f"{changes:,} changes")
    data = _timed("JSON data (Plan.data)", plan.data)
    _timed("JSON text", lambda: json.dumps(data, indent=2, sort_keys=True))
    _timed("text", lambda: render_plan_text(plan.data(), color=False))
    _timed("text, coloured", lambda: render_plan_text(plan.data(), color=True))
    _timed("Markdown parts", lambda: render_plan_markdown(data, json_hint="the JSON plan"))
    _timed(
        "Markdown step summary",
        lambda: plan_step_summary(data, json_hint="the JSON plan", max_bytes=STEP_SUMMARY_LIMIT),
    )


def profile(changes: int) -> None:
    plan = large_plan(changes)
    profiler = cProfile.Profile()
    profiler.enable()
    render_plan_text(plan.data(), color=True)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [5_000, 50_000]
    if "--profile" in argv:
        profile(sizes[0])
        return
    for size in sizes:
        measure(size)


if __name__ == "__main__":
    main(sys.argv[1:])
