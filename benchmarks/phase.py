"""One measured phase of the fleet benchmark, in its own process (so its memory is its own).

Usage: python benchmarks/phase.py plan|apply MANIFEST_DIR STATE_FILE
Prints one JSON object: seconds per step, requests and 429s per provider instance, peak RSS.
`apply` plans first (timed apart), waits for the rate window the plan spent to pass (as it has
when a reviewed plan is applied), then applies that plan reusing its reads, as `apply
--auto-approve` does.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from ssoform.cli import tuned_collector
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.limits import BudgetStats
from ssoform.engine.planner import PlanOptions
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import apply_plan, make_plan
from ssoform.manifest.load import LoadOptions, load_manifest
from ssoform.report.render_jinja import render


def _stats(stats: dict[str, BudgetStats]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "requests": s.requests,
            "rate_limited": s.rate_limited,
            "retries": s.retries,
            "waited": round(s.waited_seconds, 2),
        }
        for name, s in stats.items()
    }


def main(argv: list[str]) -> int:
    phase, manifest_dir, state_file = argv
    started = time.perf_counter()
    with tuned_collector():  # as the console script loads the manifest (cli.py)
        loaded = load_manifest([Path(manifest_dir)], LoadOptions())
    if loaded.manifest is None or not loaded.ok:
        print(json.dumps({"error": [str(d) for d in loaded.diagnostics][:5]}))
        return 1
    loaded_at = time.perf_counter()
    backend = LocalStateBackend(Path(state_file))
    config = RunConfig()
    outcome = asyncio.run(make_plan(loaded, backend, config, PlanOptions(threshold=1.0)))
    planned_at = time.perf_counter()
    text = render("plan.txt.j2", outcome.plan.data(), color=False)
    rendered_at = time.perf_counter()
    actions: dict[str, int] = {}
    for change in outcome.plan.changes:
        actions[change.action.value] = actions.get(change.action.value, 0) + 1
    out: dict[str, Any] = {
        "load": loaded_at - started,
        "plan": planned_at - loaded_at,
        "render": rendered_at - planned_at,
        "plan_total": rendered_at - started,
        "plan_stats": _stats(outcome.stats),
        "actions": actions,
        "report_bytes": len(text),
    }
    if phase == "apply":
        data = outcome.plan
        # The plan spent the budget's current window; the apply is measured from a budget as a
        # reviewed plan's apply finds it (the window has passed), still reusing the plan's reads.
        windows = [
            p.rate_limit.per_seconds for p in loaded.manifest.providers.values() if p.rate_limit
        ]
        time.sleep(max(windows, default=0.0) + 0.1)
        applied_from = time.perf_counter()
        result = asyncio.run(
            apply_plan(
                data,
                loaded,
                backend,
                config,
                force=True,
                live=outcome.live,
                desired=outcome.desired,
            )
        )
        out["apply"] = time.perf_counter() - applied_from
        out["apply_stats"] = _stats(result.stats)
        out["applied"] = len(result.applied)
        out["failed"] = [f"{a}: {m}" for a, m in result.failed[:5]]
        out["failed_count"] = len(result.failed)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
