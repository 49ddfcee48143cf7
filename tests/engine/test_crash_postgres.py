"""Crash safety on the PostgreSQL backend, as real processes against served emulators: SIGKILL
an apply at several points, or cut its database connection with `pg_terminate_backend`. Each
time the state reads, the lock is free once the process is gone (no unlock needed), and the
next plan shows exactly the remaining work."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import PgServer
from served import (
    TIMEOUT,
    WRITES,
    Served,
    check_rest_and_finish,
    kill_after_writes,
    serve,
    start_apply,
    wait_for_writes,
)
from ssoform.engine.postgres import PostgresStateBackend

POINTS = int(os.environ.get("SSOFORM_CRASH_POINTS", "3"))


@pytest.fixture
def served_pg(tmp_path: Path, pg_url: str) -> Iterator[Served]:
    yield from serve(tmp_path, pg_url, latency=0.2)  # slow enough to kill it mid-way


@pytest.mark.slow
@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_apply_on_postgresql(served_pg: Served, point: int) -> None:
    kill_after_writes(served_pg, 1 + (point * WRITES) // POINTS)
    backend = PostgresStateBackend(served_pg.state)
    state = backend.read()  # readable
    assert backend.current_lock() is None  # freed with the killed process's connection
    check_rest_and_finish(served_pg, set(state.resources) if state else set())


@pytest.mark.slow
def test_connection_cut_mid_apply_is_one_line_and_recoverable(
    served_pg: Served, pg_server: PgServer
) -> None:
    apply = start_apply(served_pg)
    try:
        wait_for_writes(served_pg, apply, 3)
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
    check_rest_and_finish(served_pg, set(state.resources) if state else set())
