"""SIGKILL `ssoform apply` (real drivers) against `ssoform emulate` (a real server process):
the state stays readable, the replan adopts what was made, and nothing is made twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from served import (
    ACCOUNT,
    DOMAINS,
    TENANTS,
    WRITES,
    Served,
    kill_after_writes,
    live_objects,
    served,
    ssoform_run,
)
from ssoform.engine.state import State

__all__ = ["served"]  # the fixture, used by name

POINTS = int(os.environ.get("SSOFORM_CRASH_POINTS", "3"))
"""Kill points spread over the writes; all of them (15) in the full run (docs/reliability.md)."""


@pytest.mark.slow
@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_served_apply(served: Served, point: int) -> None:
    writes = 1 + (point * WRITES) // POINTS
    kill_after_writes(served, writes)

    state = Path(served.state)
    recorded = (
        State.model_validate_json(state.read_text()).resources  # readable, if written
        if state.exists()
        else {}
    )
    lock = state.with_name("state.json.lock")
    assert lock.exists()  # a killed process cannot clean up
    lock_id = json.loads(lock.read_text())["id"]
    blocked = ssoform_run(served, "apply", str(served.manifest), "--auto-approve")
    assert blocked.returncode == 1
    assert f"release it with: ssoform state unlock {lock_id}" in blocked.stderr
    unlocked = ssoform_run(served, "state", "unlock", lock_id)
    assert unlocked.returncode == 0, unlocked.stderr

    live = live_objects(served)
    replan = ssoform_run(served, "plan", str(served.manifest), "--json")
    assert replan.returncode == 0, replan.stderr
    changes = json.loads(replan.stdout)["resource_changes"]
    assert len(changes) == WRITES - len(TENANTS)
    for change in changes:
        key = f"{change['scope']}/{change['key']}"
        in_state = any(address.endswith(f"/{key}") for address in recorded)
        recorded_action = "blocked" if change["scope"] == ACCOUNT else "no-op"  # DNS pending
        expected = recorded_action if in_state else ("adopt" if key in live else "create")
        assert change["action"] == expected, (key, change["action"], sorted(live))

    finish = ssoform_run(served, "apply", str(served.manifest), "--auto-approve")
    assert finish.returncode == 0, finish.stdout + finish.stderr
    final = ssoform_run(served, "plan", str(served.manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    live = live_objects(served)
    declared = [f"{ACCOUNT}/{d}" for d in DOMAINS]
    declared += [f"{t}/{sso_id}" for t in TENANTS for sso_id in ("default", "extra")]
    assert live == dict.fromkeys(declared, 1)  # each declared object once, nothing else
