"""Three concurrent `ssoform plan` processes on one Cloudflare token, against a served emulator
that enforces the rate limit: with a PostgreSQL state they share the token's budget (no 429);
with three separate state files each spends the whole budget on its own.

Prints, for each mode, the requests made, the 429s answered, the wall time and the combined
throughput against the rate bound (and, with the shared budget, the database transactions the
runs committed: the budget's round trips plus the state's reads). Starts its own PostgreSQL
server (as the tests do) unless `--state postgresql://...` names one. Also prints the cost of
one state write (one changed resource) at 5,000 and 50,000 resources for both backends.

    python benchmarks/shared_budget.py [--accounts 40] [--limit 30] [--window 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from pgserver import running_server
from served import start_emulators
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.postgres import PostgresStateBackend
from ssoform.engine.state import ResourceState, State

TOKEN = "cf-emulator-token"  # noqa: S105 (the emulator's well-known token)


def _manifest(port: int, accounts: int, limit: int, window: float) -> str:
    lines = [
        "version: 1",
        "providers:",
        "  cf:",
        "    type: cloudflare",
        "    api_token: {env: CF_TOKEN}",
        f"    base_url: http://127.0.0.1:{port}/client/v4",
        f"    rate_limit: {{requests: {limit}, per_seconds: {window}}}",
        "tenants:",
    ]
    for n in range(accounts):
        lines += [
            f"  t{n}:",
            f"    domains: [t{n}.example]",
            "    connections:",
            f"      - {{provider: cf, account_id: '{n:032x}'}}",
        ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _emulator(limit: int, window: float, env: dict[str, str]) -> Iterator[int]:
    """A served Cloudflare emulator on a port the system picks; yields that port."""
    options = ["--only", "cloudflare", "--latency", "0.02"]
    options += ["--rate-limit", str(limit), "--rate-window", str(window)]
    server, ports = start_emulators(options, env)
    try:
        yield ports["cloudflare"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=20)


def _commits(database: str | None) -> int:
    """Transactions committed so far in the state database (its statistics), or 0 without one."""
    if database is None:
        return 0
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _three_plans(
    manifest: Path, states: list[str], env: dict[str, str], url: str
) -> tuple[int, int, float]:
    httpx.delete(f"{url}/_emulator/stats")
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ssoform", "plan", str(manifest), "--state", state],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for state in states
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode not in (0, 2):
            print(f"  a plan failed: {err.strip()}")
    elapsed = time.monotonic() - started
    stats = httpx.get(f"{url}/_emulator/stats").json()
    requests = sum(stats["calls"].values())
    return requests, int(stats["answers"].get("429", 0)), elapsed


def _write_cost(backend: LocalStateBackend | PostgresStateBackend, size: int) -> float:
    state = State()
    for n in range(size):
        state.resources[f"t/cf/acct/d{n}.example"] = ResourceState(
            provider="cf",
            provider_type="cloudflare",
            scope="acct",
            key=f"d{n}.example",
            id=f"id{n}",
            origin="created",
        )
    if isinstance(backend, PostgresStateBackend):
        backend.replace(state)
    else:
        backend.write(state)
    with backend.lock("apply"):
        state = backend.read() or state
        timings = []
        for round_ in range(5):
            address = f"t/cf/acct/d{round_}.example"
            state.resources[address] = state.resources[address].model_copy(update={"id": "x"})
            state.journal_append(address, "update", "ok")
            state.serial += 1
            started = time.perf_counter()
            backend.write(state, {address})
            timings.append(time.perf_counter() - started)
    return sorted(timings)[len(timings) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--state", default=None, help="a postgresql:// URL (else one is started)")
    parser.add_argument("--skip-writes", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "CF_TOKEN": TOKEN, "NO_COLOR": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1] / "src")])
    bound = args.limit / args.window
    with contextlib.ExitStack() as stack:
        url = args.state
        if url is None:
            url = stack.enter_context(running_server()).url()
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        port = stack.enter_context(_emulator(args.limit, args.window, env))
        emulator = f"http://127.0.0.1:{port}"
        manifest = tmp / "manifest.yaml"
        manifest.write_text(_manifest(port, args.accounts, args.limit, args.window))
        print(f"rate bound {args.limit}/{args.window:g}s = {bound:.2f} req/s, one token")
        modes = {
            "PostgreSQL state (shared budget)": [url] * 3,
            "three state files (no sharing)": [str(tmp / f"s{n}.json") for n in range(3)],
        }
        for label, states in modes.items():
            database = url if states[0] == url else None
            before = _commits(database)
            requests, limited, elapsed = _three_plans(manifest, states, env, emulator)
            time.sleep(1.0)  # the statistics of the runs' sessions reach the server
            commits = _commits(database) - before
            print(
                f"{label}: {requests} requests, {limited} answered 429, {elapsed:.1f} s, "
                f"{requests / elapsed:.2f} req/s = {requests / elapsed / bound:.2f}x the bound"
                + (f", {commits} database transactions" if database else "")
            )
        if not args.skip_writes:
            for size in (5_000, 50_000):
                file_cost = _write_cost(LocalStateBackend(tmp / f"w{size}.json"), size)
                pg = PostgresStateBackend(url, workspace=f"bench-{size}")
                pg_cost = _write_cost(pg, size)
                pg.close()
                print(
                    f"one state write at {size} resources: file {file_cost * 1000:.1f} ms, "
                    f"PostgreSQL {pg_cost * 1000:.1f} ms"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
