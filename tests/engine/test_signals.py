"""SIGTERM or SIGINT during an apply (real process, served emulators): the requests in flight
finish and are recorded, nothing more is sent, and the lock is released on the way out."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from served import (
    ACCOUNT,
    TIMEOUT,
    Served,
    live_objects,
    serve,
    ssoform_run,
    start_apply,
    wait_for_writes,
)
from ssoform.engine.state import State


@pytest.fixture
def slow_served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, str(tmp_path / "state.json"), latency=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_after_recording_what_is_in_flight(
    slow_served: Served, sig: signal.Signals
) -> None:
    served = slow_served
    apply = start_apply(served, stdout=subprocess.PIPE)
    try:
        wait_for_writes(served, apply, 2)
        apply.send_signal(sig)
        out, err = apply.communicate(timeout=TIMEOUT)
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.communicate()
    assert apply.returncode == 1, (apply.returncode, err)
    assert f"not sent: ssoform received {sig.name} and is stopping" in out + err
    state_path = Path(served.state)
    assert not state_path.with_name("state.json.lock").exists()
    state = State.model_validate_json(state_path.read_text())
    recorded = {f"{r.scope}/{r.key}" for r in state.resources.values()}
    made = {key for key in live_objects(served) if key.startswith(ACCOUNT)}
    assert made <= recorded  # every connector the provider made is in the state
    replan = ssoform_run(served, "plan", str(served.manifest), "--json")
    assert replan.returncode == 0, replan.stderr
    adopted = [
        c["address"]
        for c in json.loads(replan.stdout)["resource_changes"]
        if c["action"] == "adopt" and c["scope"] == ACCOUNT
    ]
    assert adopted == []  # single-call creates: what was sent was recorded
    # (a Descope named configuration takes two calls; one cut between them is adopted next time)
