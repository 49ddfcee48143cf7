"""The PostgreSQL state schema: its tables, its version row, and creating or upgrading it."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
from psycopg import errors as pgerrors

__all__ = ["LOCK_CLASS", "SCHEMA_VERSION", "create_schema", "schema_version"]

SCHEMA_VERSION = 1
LOCK_CLASS = 0x5550F0
"""The first key of ssoform's two-key advisory locks (the schema's, then each workspace's)."""

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS ssoform_schema (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        version integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ssoform_workspaces (
        workspace text PRIMARY KEY,
        lineage text NOT NULL,
        serial bigint NOT NULL CHECK (serial >= 0),
        format integer NOT NULL,
        fingerprint_key text NOT NULL,
        sandbox boolean NOT NULL DEFAULT false)""",
    """CREATE TABLE IF NOT EXISTS ssoform_resources (
        workspace text NOT NULL REFERENCES ssoform_workspaces ON DELETE CASCADE,
        address text NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (workspace, address))""",
    """CREATE TABLE IF NOT EXISTS ssoform_journal (
        workspace text NOT NULL REFERENCES ssoform_workspaces ON DELETE CASCADE,
        seq bigint NOT NULL,
        entry jsonb NOT NULL,
        PRIMARY KEY (workspace, seq))""",
    """CREATE TABLE IF NOT EXISTS ssoform_history (
        workspace text NOT NULL REFERENCES ssoform_workspaces ON DELETE CASCADE,
        serial bigint NOT NULL,
        at text NOT NULL,
        operation text NOT NULL,
        actor text NOT NULL,
        PRIMARY KEY (workspace, serial))""",
    """CREATE TABLE IF NOT EXISTS ssoform_locks (
        workspace text PRIMARY KEY,
        info jsonb NOT NULL,
        backend_pid integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ssoform_rate_key (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        key text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ssoform_rate_spent (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key text NOT NULL,
        back_at double precision NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ssoform_rate_spent_key ON ssoform_rate_spent (key, back_at)",
]


def schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The version the database's schema row names, or None before ssoform made one."""
    row = None
    with contextlib.suppress(pgerrors.UndefinedTable), conn.transaction():
        row = conn.execute("SELECT version FROM ssoform_schema").fetchone()
    return None if row is None else int(row[0])


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the missing tables and raise the version row, in one transaction that concurrent
    runs take in turn."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO ssoform_schema (version) VALUES (%s) "
            "ON CONFLICT (id) DO UPDATE SET version = GREATEST(ssoform_schema.version, "
            "EXCLUDED.version)",
            (SCHEMA_VERSION,),
        )
