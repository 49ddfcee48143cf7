"""A real PostgreSQL server for the tests: initdb + pg_ctl from the machine's server binaries,
in a temporary directory, on a free port, stopped and removed after the session (one per pytest
process: each xdist worker has its own).

PostgreSQL cannot listen on port 0 and say which port it got, so the port is one the system
handed out and released just before; when another process takes it in between, the server fails
to bind and starts again on another (`PORT_TRIES`).

Run as root (CI), the server runs as the unprivileged `postgres` account, which PostgreSQL
requires. Where the binaries are missing, the tests fail under CI (never a silent skip) and are
skipped elsewhere, naming the package to install (`apt-get install postgresql`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl) are missing: install them with "
    "`apt-get install -y postgresql` (scripts/test does this when run as root)"
)


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: $SSOFORM_PG_BINDIR, Debian's layout, or PATH."""
    override = os.environ.get("SSOFORM_PG_BINDIR")
    if override:
        return Path(override)
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


PORT_TRIES = 5
"""Starts tried, each on another port, before giving up on a port taken meanwhile."""


def _released_port() -> int:
    """A port nothing listens on just now (the system's pick for port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, dbname: str = "postgres", *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(), autocommit=True)


MEMORY_DIR_FREE = 2 * 1024**3
"""Free bytes `/dev/shm` must have to hold the server (a container's default 64 MB does not)."""


def _memory_dir() -> str | None:
    """Linux's shared-memory file system where there is one with room: the server's files (a
    database per test) are written, and removed after the session, in memory instead of on disk
    (removing them from disk took 20 s on a busy machine). None: the usual temporary directory."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK):
        return None
    found = os.statvfs(shm)
    return str(shm) if found.f_bavail * found.f_frsize >= MEMORY_DIR_FREE else None


def _run_as(user: str | None, args: list[str]) -> None:
    result = subprocess.run(
        args, user=user, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="ssoform-pg-", dir=_memory_dir()))
    try:
        if user is not None:
            account = pwd.getpwnam(user)
            os.chown(root, account.pw_uid, account.pw_gid)
        data = root / "data"
        password = secrets.token_hex(12)
        pwfile = root / "pw"
        pwfile.write_text(password)
        if user is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        _run_as(
            user,
            [
                str(bindir / "initdb"),
                *("-D", str(data), "-U", "ssoform", "--pwfile", str(pwfile)),
                *("--auth", "scram-sha-256", "--encoding", "UTF8", "--no-sync"),
            ],
        )
        port = _start(user, bindir, data, root / "log")
        try:
            yield PgServer("127.0.0.1", port, "ssoform", password)
        finally:
            _run_as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(user: str | None, bindir: Path, data: Path, log: Path) -> int:
    """Start the server on a released port; another one when that port was taken meanwhile."""
    for attempt in range(PORT_TRIES):
        port = _released_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' "
            "-c fsync=off -c max_connections=200"
        )
        try:
            _run_as(
                user,
                [
                    str(bindir / "pg_ctl"),
                    *("-D", str(data), "-o", options, "-l", str(log), "-w", "start"),
                ],
            )
        except RuntimeError:
            taken = log.exists() and "already in use" in log.read_text(errors="replace")
            if not taken or attempt == PORT_TRIES - 1:
                raise
            log.unlink()
            continue
        return port
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A URL to a fresh, empty database on the test server."""
    name = f"t_{secrets.token_hex(6)}"
    with pg_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return pg_server.url(name)
