"""State in PostgreSQL: several workspaces per database, small row writes, a cross-machine lock.

Selected by a URL (`--state postgresql://user@host/db`); the password comes from the URL,
`PGPASSWORD` or `~/.pgpass` (libpq's rules) and is never printed. Each workspace is one state
with its own lineage. A write stores only what changed (the resources named, the journal entries
appended, one history row and the new serial) in one transaction, so its cost does not grow with
the state. The lock is a session-level advisory lock, which PostgreSQL frees when the holding
connection ends (a killed runner never leaves it held), plus a row naming the holder for display.
The schema is created and upgraded here, under a schema-version row, in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Collection, Iterator
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict

from ssoform.engine.backend import (
    LockInfo,
    actor,
    move_resource,
    new_lock_info,
    remove_resource,
)
from ssoform.engine.shared_budget import PostgresBudgets
from ssoform.engine.state import (
    STATE_FORMAT,
    HistoryEntry,
    JournalEntry,
    ResourceState,
    State,
    check_sandbox,
)
from ssoform.errors import LockError, StateError

__all__ = ["SCHEMA_VERSION", "PostgresStateBackend", "is_url", "redact_url"]

SCHEMA_VERSION = 1
_LOCK_CLASS = 0x5550F0  # the first key of ssoform's two-key advisory locks
_CONNECT_TIMEOUT = 10

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


def _advisory_key(workspace: str) -> int:
    return int.from_bytes(hashlib.sha256(workspace.encode()).digest()[:4], "big") & 0x7FFFFFFF


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
            row = None
            with contextlib.suppress(pgerrors.UndefinedTable), conn.transaction():
                row = conn.execute("SELECT version FROM ssoform_schema").fetchone()
            if row is not None and row[0] == SCHEMA_VERSION:
                return
            if row is not None and row[0] > SCHEMA_VERSION:
                raise StateError(
                    f"state {self.location}: the database schema is version {row[0]}, made by a "
                    f"newer ssoform (this one knows version {SCHEMA_VERSION}); upgrade ssoform"
                )
        with self._errors("cannot create the schema"), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_CLASS,))
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO ssoform_schema (version) VALUES (%s) "
                "ON CONFLICT (id) DO UPDATE SET version = GREATEST(ssoform_schema.version, "
                "EXCLUDED.version)",
                (SCHEMA_VERSION,),
            )

    # -- reading ------------------------------------------------------------------------------

    def read(self) -> State | None:
        conn = self.conn
        with self._errors("cannot read state"), conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            head = conn.execute(
                "SELECT lineage, serial, format, fingerprint_key, sandbox "
                "FROM ssoform_workspaces WHERE workspace = %s",
                (self.workspace,),
            ).fetchone()
            if head is None:
                self._serial = None
                self._journal_len = 0
                self._snapshot = {}
                return None
            resources = conn.execute(
                "SELECT address, data::text FROM ssoform_resources WHERE workspace = %s",
                (self.workspace,),
            ).fetchall()
            journal = conn.execute(
                "SELECT entry::text FROM ssoform_journal WHERE workspace = %s ORDER BY seq",
                (self.workspace,),
            ).fetchall()
            history = conn.execute(
                "SELECT serial, at, operation, actor FROM ssoform_history "
                "WHERE workspace = %s ORDER BY serial",
                (self.workspace,),
            ).fetchall()
        lineage, serial, fmt, key, sandbox = head
        if fmt > STATE_FORMAT:
            raise StateError(
                f"state {self.location}: format {fmt} is newer than this ssoform reads "
                f"({STATE_FORMAT}); upgrade ssoform"
            )
        try:
            state = State(
                format=fmt,
                lineage=lineage,
                serial=serial,
                fingerprint_key=key,
                sandbox=sandbox,
                resources={
                    addr: ResourceState.model_validate_json(data) for addr, data in resources
                },
                journal=[JournalEntry.model_validate_json(e) for (e,) in journal],
                history=[
                    HistoryEntry(serial=s, at=a, operation=o, actor=w) for s, a, o, w in history
                ],
            )
        except ValueError as exc:
            raise StateError(f"state {self.location}: not a valid ssoform state: {exc}") from None
        self._serial = serial
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
                inserted = conn.execute(
                    "INSERT INTO ssoform_workspaces "
                    "(workspace, lineage, serial, format, fingerprint_key, sandbox) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (workspace) DO NOTHING",
                    (
                        self.workspace,
                        state.lineage,
                        state.serial,
                        state.format,
                        state.fingerprint_key,
                        state.sandbox,
                    ),
                ).rowcount
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
            upserts, deletes = self._changes(state, changed)
            with conn.cursor() as cur:
                if deletes:
                    cur.execute(
                        "DELETE FROM ssoform_resources WHERE workspace = %s AND address = ANY(%s)",
                        (self.workspace, list(deletes)),
                    )
                if upserts:
                    cur.executemany(
                        "INSERT INTO ssoform_resources (workspace, address, data) "
                        "VALUES (%s, %s, %s::jsonb) ON CONFLICT (workspace, address) "
                        "DO UPDATE SET data = EXCLUDED.data",
                        [(self.workspace, a, d) for a, d in upserts.items()],
                    )
                fresh = state.journal[self._journal_len :]
                if fresh:
                    cur.executemany(
                        "INSERT INTO ssoform_journal (workspace, seq, entry) "
                        "VALUES (%s, %s, %s::jsonb)",
                        [
                            (self.workspace, self._journal_len + i, e.model_dump_json())
                            for i, e in enumerate(fresh)
                        ],
                    )
                entry = HistoryEntry.now(state.serial, operation, actor())
                cur.execute(
                    "INSERT INTO ssoform_history (workspace, serial, at, operation, actor) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (workspace, serial) DO NOTHING",
                    (self.workspace, entry.serial, entry.at, entry.operation, entry.actor),
                )
        if not state.history or state.history[-1].serial != state.serial:
            state.history.append(entry)
        self._serial = state.serial
        self._journal_len = len(state.journal)
        for address in deletes:
            self._snapshot.pop(address, None)
        self._snapshot.update(upserts)

    def _changes(
        self, state: State, changed: Collection[str] | None
    ) -> tuple[dict[str, str], set[str]]:
        names = set(self._snapshot) | set(state.resources) if changed is None else set(changed)
        upserts: dict[str, str] = {}
        deletes: set[str] = set()
        for address in names:
            res = state.resources.get(address)
            if res is None:
                if address in self._snapshot:
                    deletes.add(address)
                continue
            data = res.model_dump_json()
            if self._snapshot.get(address) != data:
                upserts[address] = data
        return upserts, deletes

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
            conn.execute(
                "INSERT INTO ssoform_workspaces "
                "(workspace, lineage, serial, format, fingerprint_key, sandbox) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    self.workspace,
                    state.lineage,
                    state.serial,
                    state.format,
                    state.fingerprint_key,
                    state.sandbox,
                ),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO ssoform_resources (workspace, address, data) "
                    "VALUES (%s, %s, %s::jsonb)",
                    [(self.workspace, a, r.model_dump_json()) for a, r in state.resources.items()],
                )
                cur.executemany(
                    "INSERT INTO ssoform_journal (workspace, seq, entry) "
                    "VALUES (%s, %s, %s::jsonb)",
                    [(self.workspace, i, e.model_dump_json()) for i, e in enumerate(state.journal)],
                )
                cur.executemany(
                    "INSERT INTO ssoform_history (workspace, serial, at, operation, actor) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [(self.workspace, h.serial, h.at, h.operation, h.actor) for h in state.history],
                )
        self._serial = state.serial
        self._journal_len = len(state.journal)
        self._snapshot = {a: r.model_dump_json() for a, r in state.resources.items()}

    # -- the lock -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = new_lock_info(operation)
        conn = self._connect()
        key = _advisory_key(self.workspace)
        try:
            with self._errors("cannot take the lock"):
                got = self._acquire(conn, key)
            if not got:
                raise LockError(self._held_message())
            with self._errors("cannot record the lock holder"), conn.transaction():
                conn.execute(
                    "INSERT INTO ssoform_locks (workspace, info, backend_pid) "
                    "VALUES (%s, %s::jsonb, pg_backend_pid()) ON CONFLICT (workspace) "
                    "DO UPDATE SET info = EXCLUDED.info, backend_pid = EXCLUDED.backend_pid",
                    (self.workspace, info.model_dump_json()),
                )
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
                    with conn.transaction():
                        conn.execute(
                            "DELETE FROM ssoform_locks WHERE workspace = %s AND info->>'id' = %s",
                            (self.workspace, info.id),
                        )
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_LOCK_CLASS, key))
            conn.close()

    def _acquire(self, conn: psycopg.Connection[Any], key: int) -> bool:
        if self.lock_timeout <= 0:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, key)).fetchone()
            return bool(row and row[0])
        timeout = f"{max(1, int(self.lock_timeout * 1000))}ms"
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (timeout,))
        try:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (_LOCK_CLASS, key))
        except pgerrors.LockNotAvailable:
            return False
        finally:
            conn.execute("SELECT set_config('lock_timeout', '0', false)")
        return True

    def _held(self, conn: psycopg.Connection[Any]) -> int | None:
        """The backend pid holding this workspace's advisory lock, if any."""
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2",
            (_LOCK_CLASS, _advisory_key(self.workspace)),
        ).fetchone()
        return int(row[0]) if row else None

    def current_lock(self) -> LockInfo | None:
        conn = self.conn
        with self._errors("cannot read the lock"):
            pid = self._held(conn)
            row = conn.execute(
                "SELECT info::text FROM ssoform_locks WHERE workspace = %s", (self.workspace,)
            ).fetchone()
        if pid is None:
            return None
        if row is None:
            return LockInfo(id="unknown", operation="?", host="?", pid=0, since="?")
        return LockInfo.model_validate_json(row[0])

    def _held_message(self) -> str:
        holder = self.current_lock()
        if holder is None:
            return f"state {self.location} is locked"
        return f"state {self.location} is locked (lock {holder.id}): {holder.describe()}"

    def unlock(self, lock_id: str) -> LockInfo:
        """Free a lock whose holder hangs: end the holder's database session (its advisory lock
        goes with it). A holder that died has freed the lock already."""
        conn = self.conn
        holder = self.current_lock()
        if holder is None:
            raise LockError(
                f"state {self.location} is not locked (a lock ends with its holder's connection)"
            )
        if holder.id != lock_id:
            raise LockError(f"lock id {lock_id!r} does not match the lock held ({holder.id})")
        with self._errors("cannot end the lock holder's session"):
            pid = self._held(conn)
            if pid is not None:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with conn.transaction():
                conn.execute("DELETE FROM ssoform_locks WHERE workspace = %s", (self.workspace,))
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
