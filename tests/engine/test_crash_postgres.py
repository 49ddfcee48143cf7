"""Crash safety on the PostgreSQL backend, as real processes against served emulators: SIGKILL
an apply at several points, or cut its database connection with `pg_terminate_backend`. Each
time the state reads, the lock is free once the process is gone (no unlock needed), and the
next plan shows exactly the remaining work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import PgServer
from served import (
    ACCOUNT,
    DOMAINS,
    TENANTS,
    TIMEOUT,
    WRITES,
    Served,
    kill_after_writes,
    live_objects,
    serve,
    ssoform_run,
    writes_made,
)
from ssoform.engine.postgres import PostgresStateBackend

POINTS = int(os.environ.get("SSOFORM_CRASH_POINTS", "3"))


@pytest.fixture
def served_pg(tmp_path: Path, pg_url: str) -> Iterator[Served]:
    yield from serve(tmp_path, pg_url, latency=0.2)  # slow enough to kill it mid-way


def _check_rest_and_finish(served: Served, recorded: set[str]) -> None:
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
    declared = [f"{ACCOUNT}/{d}" for d in DOMAINS]
    declared += [f"{t}/{sso_id}" for t in TENANTS for sso_id in ("default", "extra")]
    assert live_objects(served) == dict.fromkeys(declared, 1)  # each once, nothing else


@pytest.mark.slow
@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_apply_on_postgresql(served_pg: Served, point: int) -> None:
    kill_after_writes(served_pg, 1 + (point * WRITES) // POINTS)
    backend = PostgresStateBackend(served_pg.state)
    state = backend.read()  # readable
    assert backend.current_lock() is None  # freed with the killed process's connection
    _check_rest_and_finish(served_pg, set(state.resources) if state else set())


@pytest.mark.slow
def test_connection_cut_mid_apply_is_one_line_and_recoverable(
    served_pg: Served, pg_server: PgServer
) -> None:
    apply = subprocess.Popen(
        [
            *(sys.executable, "-m", "ssoform", "apply", str(served_pg.manifest)),
            *("--auto-approve", "--state", served_pg.state),
        ],
        env=served_pg.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while writes_made(served_pg) < 3 and apply.poll() is None:
            assert time.monotonic() < deadline, "apply made no progress"
            time.sleep(0.005)
        with pg_server.admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'ssoform' AND datname = %s",
                (served_pg.state.rsplit("/", 1)[1],),
            )
        _, stderr = apply.communicate(timeout=TIMEOUT)
    finally:
        if apply.poll() is None:
            os.kill(apply.pid, signal.SIGKILL)
            apply.communicate()
    assert apply.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: state postgresql://ssoform@127.0.0.1:"), stderr
    assert pg_server.password not in stderr
    state = PostgresStateBackend(served_pg.state).read()
    _check_rest_and_finish(served_pg, set(state.resources) if state else set())
