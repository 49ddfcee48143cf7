"""State in PostgreSQL: several workspaces per database, small row writes, a cross-machine lock.

Selected by a URL (`--state postgresql://user@host/db`); the password comes from the URL,
`PGPASSWORD` or `~/.pgpass` (libpq's rules) and is never printed. Each workspace is one state
with its own lineage. A write stores only what changed (the resources named, the journal entries
appended, one history row and the new serial) in one transaction, so its cost does not grow with
the state. The lock is a session-level advisory lock, which PostgreSQL frees when the holding
connection ends (a killed runner never leaves it held), plus a row naming the holder for display.
The schema is created and upgraded under a schema-version row, in one transaction
(`postgres_schema`); the rows are read and written by `postgres_rows`, the lock is
`postgres_lock`'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict

from ssoform.engine import postgres_lock as lock_rows
from ssoform.engine.backend import LockInfo, actor, move_resource, new_lock_info, remove_resource
from ssoform.engine.postgres_rows import (
    changed_rows,
    insert_workspace,
    read_rows,
    state_of,
    store_changes,
    store_whole,
)
from ssoform.engine.postgres_schema import SCHEMA_VERSION, create_schema, schema_version
from ssoform.engine.shared_budget import PostgresBudgets
from ssoform.engine.state import STATE_FORMAT, HistoryEntry, ResourceState, State, check_sandbox
from ssoform.errors import LockError, StateError

__all__ = ["SCHEMA_VERSION", "PostgresStateBackend", "is_url", "redact_url"]

_CONNECT_TIMEOUT = 10


def is_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL as shown in messages: scheme, user, host, port and database; no password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    user = params.get("user")
    host = params.get("host") or "localhost"
    port = params.get("port")
    dbname = params.get("dbname") or ""
    netloc = f"{user}@{host}" if user else str(host)
    if port:
        netloc += f":{port}"
    return f"postgresql://{netloc}/{dbname}"


class PostgresStateBackend:
    """One workspace's state in a PostgreSQL database."""

    def __init__(self, url: str, *, workspace: str = "default", lock_timeout: float = 0.0) -> None:
        self.url = url
        self.workspace = workspace
        self.lock_timeout = lock_timeout
        self.location = f"{redact_url(url)} (workspace {workspace})"
        self._password = str(_params(url).get("password") or "")
        self._conn: psycopg.Connection[Any] | None = None
        self._lock_conn: psycopg.Connection[Any] | None = None
        self._operation: str | None = None
        self._serial: int | None = None
        self._journal_len = 0
        self._snapshot: dict[str, str] = {}

    # -- connections and errors ---------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException) -> StateError:
        text = str(exc).strip().splitlines()
        reason = text[0] if text else type(exc).__name__
        for line in text[1:]:
            if line.startswith(("FATAL:", "ERROR:")):
                reason = line
                break
        reason = reason.removeprefix("connection failed: ")
        if self._password:
            reason = reason.replace(self._password, "***")
        reason = "".join(c if c.isprintable() else "?" for c in reason)[:300]
        if isinstance(exc, pgerrors.InsufficientPrivilege):
            reason += " (the role cannot write the state; use a role with write access)"
        return StateError(f"state {self.location}: {what}: {reason}")

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.url,
                connect_timeout=_CONNECT_TIMEOUT,
                application_name="ssoform",
                autocommit=True,
            )
        except psycopg.Error as exc:
            raise self._fail("cannot connect", exc) from None
        try:
            self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._lock_conn is not None:
            return self._lock_conn
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        for conn in (self._conn, self._lock_conn):
            if conn is not None:
                conn.close()
        self._conn = self._lock_conn = None

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            if self._conn is not None and self._conn.broken:
                self._conn = None
            raise self._fail(what, exc) from None

    def _ensure_schema(self, conn: psycopg.Connection[Any]) -> None:
        with self._errors("cannot read the schema version"):
            version = schema_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise StateError(
                f"state {self.location}: the database schema is version {version}, made by a "
                f"newer ssoform (this one knows version {SCHEMA_VERSION}); upgrade ssoform"
            )
        with self._errors("cannot create the schema"):
            create_schema(conn)

    # -- reading ------------------------------------------------------------------------------

    def read(self) -> State | None:
        with self._errors("cannot read state"):
            rows = read_rows(self.conn, self.workspace)
        if rows is None:
            self._serial = None
            self._journal_len = 0
            self._snapshot = {}
            return None
        fmt, resources = rows[0][2], rows[1]
        if fmt > STATE_FORMAT:
            raise StateError(
                f"state {self.location}: format {fmt} is newer than this ssoform reads "
                f"({STATE_FORMAT}); upgrade ssoform"
            )
        try:
            state = state_of(rows)
        except ValueError as exc:
            raise StateError(f"state {self.location}: not a valid ssoform state: {exc}") from None
        self._serial = state.serial
        self._journal_len = len(state.journal)
        self._snapshot = dict(resources)
        return check_sandbox(state, sandbox=False, where=f"state {self.location}")

    def history(self) -> list[HistoryEntry]:
        state = self.read()
        return list(state.history) if state else []

    # -- writing ------------------------------------------------------------------------------

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        conn = self.conn
        operation = self._operation or "write"
        with self._errors("cannot write state"), conn.transaction():
            if self._serial is None:
                inserted = insert_workspace(conn, self.workspace, state, if_new=True)
                if inserted != 1 and state.serial == 0 and not state.resources:
                    return  # another run made this new workspace a moment ago: theirs stands
                if inserted != 1:
                    raise StateError(
                        f"state {self.location}: another run created this workspace at the same "
                        "moment; run again"
                    )
            else:
                updated = conn.execute(
                    "UPDATE ssoform_workspaces SET serial = %s, sandbox = %s "
                    "WHERE workspace = %s AND serial = %s AND lineage = %s",
                    (state.serial, state.sandbox, self.workspace, self._serial, state.lineage),
                ).rowcount
                if updated != 1:
                    raise StateError(
                        f"state {self.location}: changed by another run since it was read "
                        f"(serial {self._serial}); plan again"
                    )
            upserts, deletes = changed_rows(self._snapshot, state, changed)
            entry = HistoryEntry.now(state.serial, operation, actor())
            fresh = state.journal[self._journal_len :]
            store_changes(conn, self.workspace, upserts, deletes, fresh, self._journal_len, entry)
        if not state.history or state.history[-1].serial != state.serial:
            state.history.append(entry)
        self._serial = state.serial
        self._journal_len = len(state.journal)
        for address in deletes:
            self._snapshot.pop(address, None)
        self._snapshot.update(upserts)

    def replace(self, state: State) -> None:
        """Store `state` whole (for `state migrate`): lineage, serial, resources, journal and
        history as they are. Refuses a workspace that holds another lineage."""
        conn = self.conn
        with self._errors("cannot write state"), conn.transaction():
            row = conn.execute(
                "SELECT lineage FROM ssoform_workspaces WHERE workspace = %s FOR UPDATE",
                (self.workspace,),
            ).fetchone()
            if row is not None and row[0] != state.lineage:
                raise StateError(
                    f"state {self.location} holds another lineage ({row[0]}); refusing to "
                    "overwrite it"
                )
            conn.execute("DELETE FROM ssoform_workspaces WHERE workspace = %s", (self.workspace,))
            insert_workspace(conn, self.workspace, state)
            store_whole(conn, self.workspace, state)
        self._serial = state.serial
        self._journal_len = len(state.journal)
        self._snapshot = {a: r.model_dump_json() for a, r in state.resources.items()}

    # -- the lock -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = new_lock_info(operation)
        conn = self._connect()
        try:
            with self._errors("cannot take the lock"):
                got = lock_rows.take(conn, self.workspace, self.lock_timeout)
            if not got:
                raise LockError(self._held_message())
            with self._errors("cannot record the lock holder"):
                lock_rows.record_holder(conn, self.workspace, info)
        except BaseException:
            conn.close()
            raise
        self._lock_conn = conn
        self._operation = operation
        self._serial = None
        try:
            yield info
        finally:
            self._operation = None
            self._lock_conn = None
            with contextlib.suppress(psycopg.Error):
                if not conn.broken:
                    lock_rows.release(conn, self.workspace, info)
            conn.close()

    def current_lock(self) -> LockInfo | None:
        with self._errors("cannot read the lock"):
            return lock_rows.holder(self.conn, self.workspace)

    def _held_message(self) -> str:
        holder = self.current_lock()
        if holder is None:
            return f"state {self.location} is locked"
        return f"state {self.location} is locked (lock {holder.id}): {holder.describe()}"

    def unlock(self, lock_id: str) -> LockInfo:
        """Free a lock whose holder hangs: end the holder's database session (its advisory lock
        goes with it). A holder that died has freed the lock already."""
        holder = self.current_lock()
        if holder is None:
            raise LockError(
                f"state {self.location} is not locked (a lock ends with its holder's connection)"
            )
        if holder.id != lock_id:
            raise LockError(f"lock id {lock_id!r} does not match the lock held ({holder.id})")
        with self._errors("cannot end the lock holder's session"):
            lock_rows.forget_holder(self.conn, self.workspace)
        return holder

    def rate_budgets(self) -> PostgresBudgets:
        """Request budgets shared with every run on this database (its own connection)."""
        return PostgresBudgets(self._connect)

    # -- edits --------------------------------------------------------------------------------

    def move(self, old: str, new: str, *, dry_run: bool = False) -> ResourceState:
        return move_resource(self, old, new, dry_run)

    def remove(self, address: str, *, dry_run: bool = False) -> ResourceState:
        return remove_resource(self, address, dry_run)


def _params(url: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return {}
