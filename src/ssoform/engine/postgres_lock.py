"""The PostgreSQL state lock: a session-level advisory lock per workspace, freed when the holding
connection ends, and a row naming its holder for display."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from ssoform.engine.backend import LockInfo
from ssoform.engine.postgres_schema import LOCK_CLASS

__all__ = [
    "advisory_key",
    "forget_holder",
    "holder",
    "holder_pid",
    "record_holder",
    "release",
    "take",
]


def advisory_key(workspace: str) -> int:
    """The second key of `workspace`'s advisory lock."""
    return int.from_bytes(hashlib.sha256(workspace.encode()).digest()[:4], "big") & 0x7FFFFFFF


def take(conn: psycopg.Connection[Any], workspace: str, timeout: float) -> bool:
    """Whether `conn` got the lock, waiting up to `timeout` seconds (none when 0)."""
    key = advisory_key(workspace)
    if timeout <= 0:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, key)).fetchone()
        return bool(row and row[0])
    conn.execute(
        "SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(timeout * 1000))}ms",)
    )
    try:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, key))
    except pgerrors.LockNotAvailable:
        return False
    finally:
        conn.execute("SELECT set_config('lock_timeout', '0', false)")
    return True


def record_holder(conn: psycopg.Connection[Any], workspace: str, info: LockInfo) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO ssoform_locks (workspace, info, backend_pid) "
            "VALUES (%s, %s::jsonb, pg_backend_pid()) ON CONFLICT (workspace) "
            "DO UPDATE SET info = EXCLUDED.info, backend_pid = EXCLUDED.backend_pid",
            (workspace, info.model_dump_json()),
        )


def release(conn: psycopg.Connection[Any], workspace: str, info: LockInfo) -> None:
    """Drop the holder row `info` wrote and free the advisory lock."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM ssoform_locks WHERE workspace = %s AND info->>'id' = %s",
            (workspace, info.id),
        )
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, advisory_key(workspace)))


def holder_pid(conn: psycopg.Connection[Any], workspace: str) -> int | None:
    """The backend pid holding `workspace`'s advisory lock, if any."""
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = %s AND objid = %s AND objsubid = 2",
        (LOCK_CLASS, advisory_key(workspace)),
    ).fetchone()
    return int(row[0]) if row else None


def holder(conn: psycopg.Connection[Any], workspace: str) -> LockInfo | None:
    """Who holds `workspace`'s lock, if anyone (an unnamed holder when its row is missing)."""
    pid = holder_pid(conn, workspace)
    row = conn.execute(
        "SELECT info::text FROM ssoform_locks WHERE workspace = %s", (workspace,)
    ).fetchone()
    if pid is None:
        return None
    if row is None:
        return LockInfo(id="unknown", operation="?", host="?", pid=0, since="?")
    return LockInfo.model_validate_json(row[0])


def forget_holder(conn: psycopg.Connection[Any], workspace: str) -> None:
    """End the session holding `workspace`'s lock (its advisory lock goes with it), drop its row."""
    pid = holder_pid(conn, workspace)
    if pid is not None:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with conn.transaction():
        conn.execute("DELETE FROM ssoform_locks WHERE workspace = %s", (workspace,))
