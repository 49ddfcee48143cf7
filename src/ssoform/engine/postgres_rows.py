"""The rows of one workspace's state in PostgreSQL: reading them whole, writing only what changed,
and storing a state whole."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import psycopg

from ssoform.engine.state import HistoryEntry, JournalEntry, ResourceState, State

__all__ = [
    "Rows",
    "changed_rows",
    "insert_workspace",
    "read_rows",
    "state_of",
    "store_changes",
    "store_whole",
]

Rows = tuple[tuple[Any, ...], list[tuple[str, str]], list[tuple[str]], list[tuple[Any, ...]]]
"""A workspace's head row, resources (address, JSON), journal (JSON) and history rows."""


def read_rows(conn: psycopg.Connection[Any], workspace: str) -> Rows | None:
    """Every row of `workspace`, in one repeatable-read transaction; None when it has none."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head = conn.execute(
            "SELECT lineage, serial, format, fingerprint_key, sandbox "
            "FROM ssoform_workspaces WHERE workspace = %s",
            (workspace,),
        ).fetchone()
        if head is None:
            return None
        resources = conn.execute(
            "SELECT address, data::text FROM ssoform_resources WHERE workspace = %s",
            (workspace,),
        ).fetchall()
        journal = conn.execute(
            "SELECT entry::text FROM ssoform_journal WHERE workspace = %s ORDER BY seq",
            (workspace,),
        ).fetchall()
        history = conn.execute(
            "SELECT serial, at, operation, actor FROM ssoform_history "
            "WHERE workspace = %s ORDER BY serial",
            (workspace,),
        ).fetchall()
    return head, resources, journal, history


def state_of(rows: Rows) -> State:
    """The state `rows` hold (ValueError when they are not a valid one)."""
    (lineage, serial, fmt, key, sandbox), resources, journal, history = rows
    return State(
        format=fmt,
        lineage=lineage,
        serial=serial,
        fingerprint_key=key,
        sandbox=sandbox,
        resources={addr: ResourceState.model_validate_json(data) for addr, data in resources},
        journal=[JournalEntry.model_validate_json(e) for (e,) in journal],
        history=[HistoryEntry(serial=s, at=a, operation=o, actor=w) for s, a, o, w in history],
    )


def insert_workspace(
    conn: psycopg.Connection[Any], workspace: str, state: State, *, if_new: bool = False
) -> int:
    """Insert `workspace`'s head row from `state`; with `if_new`, nothing when it exists.
    Returns how many rows were inserted."""
    conflict = " ON CONFLICT (workspace) DO NOTHING" if if_new else ""
    return conn.execute(
        "INSERT INTO ssoform_workspaces "
        "(workspace, lineage, serial, format, fingerprint_key, sandbox) "
        "VALUES (%s, %s, %s, %s, %s, %s)" + conflict,
        (
            workspace,
            state.lineage,
            state.serial,
            state.format,
            state.fingerprint_key,
            state.sandbox,
        ),
    ).rowcount


def changed_rows(
    snapshot: Mapping[str, str], state: State, changed: Collection[str] | None
) -> tuple[dict[str, str], set[str]]:
    """The resource rows to upsert (address -> JSON) and the addresses to delete, so that the
    rows last read or written (`snapshot`) become `state`'s; only `changed` ones when given."""
    names = set(snapshot) | set(state.resources) if changed is None else set(changed)
    upserts: dict[str, str] = {}
    deletes: set[str] = set()
    for address in names:
        res = state.resources.get(address)
        if res is None:
            if address in snapshot:
                deletes.add(address)
            continue
        data = res.model_dump_json()
        if snapshot.get(address) != data:
            upserts[address] = data
    return upserts, deletes


def store_changes(
    conn: psycopg.Connection[Any],
    workspace: str,
    upserts: Mapping[str, str],
    deletes: Collection[str],
    journal: Sequence[JournalEntry],
    journal_start: int,
    entry: HistoryEntry,
) -> None:
    """Write changed resources, the journal entries appended since `journal_start` and one
    history row."""
    with conn.cursor() as cur:
        if deletes:
            cur.execute(
                "DELETE FROM ssoform_resources WHERE workspace = %s AND address = ANY(%s)",
                (workspace, list(deletes)),
            )
        if upserts:
            cur.executemany(
                "INSERT INTO ssoform_resources (workspace, address, data) "
                "VALUES (%s, %s, %s::jsonb) ON CONFLICT (workspace, address) "
                "DO UPDATE SET data = EXCLUDED.data",
                [(workspace, a, d) for a, d in upserts.items()],
            )
        if journal:
            cur.executemany(
                "INSERT INTO ssoform_journal (workspace, seq, entry) VALUES (%s, %s, %s::jsonb)",
                [
                    (workspace, journal_start + i, e.model_dump_json())
                    for i, e in enumerate(journal)
                ],
            )
        cur.execute(
            "INSERT INTO ssoform_history (workspace, serial, at, operation, actor) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (workspace, serial) DO NOTHING",
            (workspace, entry.serial, entry.at, entry.operation, entry.actor),
        )


def store_whole(conn: psycopg.Connection[Any], workspace: str, state: State) -> None:
    """Write every resource, journal entry and history row of `state` (after its head row)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ssoform_resources (workspace, address, data) VALUES (%s, %s, %s::jsonb)",
            [(workspace, a, r.model_dump_json()) for a, r in state.resources.items()],
        )
        cur.executemany(
            "INSERT INTO ssoform_journal (workspace, seq, entry) VALUES (%s, %s, %s::jsonb)",
            [(workspace, i, e.model_dump_json()) for i, e in enumerate(state.journal)],
        )
        cur.executemany(
            "INSERT INTO ssoform_history (workspace, serial, at, operation, actor) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(workspace, h.serial, h.at, h.operation, h.actor) for h in state.history],
        )
