"""SIGKILL `ssoform apply` (real drivers) against `ssoform emulate` (a real server process):
the state stays readable, the replan adopts what was made, and nothing is made twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from served import (
    WRITES,
    Served,
    check_rest_and_finish,
    kill_after_writes,
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

    check_rest_and_finish(served, recorded)
