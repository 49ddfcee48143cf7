"""The PostgreSQL state backend against a real server: rows, workspaces, the advisory lock,
history, the schema version, and one clean line for every way the database can fail."""

from __future__ import annotations

import os
import socket
import threading

import psycopg
import pytest

from pgserver import PgServer
from ssoform.engine.postgres import SCHEMA_VERSION, PostgresStateBackend, redact_url
from ssoform.engine.state import ResourceState, State
from ssoform.errors import LockError, StateError


def _resource(n: int) -> ResourceState:
    return ResourceState(
        provider="cf",
        provider_type="cloudflare",
        scope="acct",
        key=f"d{n}.example",
        id=f"id-{n}",
        origin="created",
        fingerprints={"secret": f"hmac-sha256:{n:064x}"},
    )


def _seeded(url: str, count: int = 3, workspace: str = "default") -> PostgresStateBackend:
    backend = PostgresStateBackend(url, workspace=workspace)
    state = State()
    backend.write(state)
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        for n in range(count):
            state.resources[f"acme/cf/acct/d{n}.example"] = _resource(n)
            state.journal_append(f"acme/cf/acct/d{n}.example", "create", "ok")
        state.serial += 1
        backend.write(state, {f"acme/cf/acct/d{n}.example" for n in range(count)})
    return backend


def test_round_trip_keeps_everything(pg_url: str) -> None:
    backend = _seeded(pg_url)
    again = PostgresStateBackend(pg_url).read()
    assert again is not None
    assert again.serial == 1
    assert sorted(again.resources) == [f"acme/cf/acct/d{n}.example" for n in range(3)]
    assert again.resources["acme/cf/acct/d1.example"] == _resource(1).model_copy(
        update={"updated_at": again.resources["acme/cf/acct/d1.example"].updated_at}
    )
    assert [e.address for e in again.journal] == sorted(again.resources)
    state = backend.read()
    assert state is not None
    assert state.lineage == again.lineage and state.fingerprint_key == again.fingerprint_key


def test_write_touches_only_the_rows_that_changed(pg_url: str) -> None:
    backend = _seeded(pg_url, count=20)
    with psycopg.connect(pg_url) as conn:
        before = dict(conn.execute("SELECT address, xmin::text FROM ssoform_resources").fetchall())
    with backend.lock("apply"):
        state = backend.read()
        assert state is not None
        address = "acme/cf/acct/d7.example"
        state.resources[address] = _resource(7).model_copy(update={"id": "new"})
        state.journal_append(address, "update", "ok")
        state.serial += 1
        backend.write(state, {address})
    with psycopg.connect(pg_url) as conn:
        after = dict(conn.execute("SELECT address, xmin::text FROM ssoform_resources").fetchall())
        journal = conn.execute("SELECT count(*) FROM ssoform_journal").fetchone()
    assert {a for a in after if after[a] != before[a]} == {address}
    assert journal == (21,)
    history = PostgresStateBackend(pg_url).history()
    assert [(h.serial, h.operation) for h in history] == [(0, "write"), (1, "apply"), (2, "apply")]


def test_workspaces_are_separate_lineages(pg_url: str) -> None:
    _seeded(pg_url, count=2, workspace="staging")
    _seeded(pg_url, count=5, workspace="production")
    staging = PostgresStateBackend(pg_url, workspace="staging").read()
    production = PostgresStateBackend(pg_url, workspace="production").read()
    assert staging is not None and production is not None
    assert staging.lineage != production.lineage
    assert (len(staging.resources), len(production.resources)) == (2, 5)
    assert PostgresStateBackend(pg_url, workspace="other").read() is None


def test_a_second_lock_sees_the_holder(
    pg_url: str, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seeded(pg_url)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/sso")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    with PostgresStateBackend(pg_url).lock("apply") as held:
        with pytest.raises(LockError) as caught, PostgresStateBackend(pg_url).lock("apply"):
            pass
        message = str(caught.value)
        assert f"(lock {held.id}): apply by process {os.getpid()}" in message
        assert "https://github.com/acme/sso/actions/runs/42" in message
        assert pg_server.password not in message
        waited = PostgresStateBackend(pg_url, lock_timeout=0.2)
        with pytest.raises(LockError), waited.lock("apply"):
            pass
    with PostgresStateBackend(pg_url).lock("apply"):  # released at the end of the block
        pass


def test_a_waiting_lock_gets_it_when_freed(pg_url: str) -> None:
    _seeded(pg_url)
    release = threading.Event()
    taken = threading.Event()

    def hold() -> None:
        with PostgresStateBackend(pg_url).lock("apply"):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    release.set()
    with PostgresStateBackend(pg_url, lock_timeout=20).lock("apply") as info:
        assert info.operation == "apply"
    holder.join()


def test_a_dead_holder_frees_the_lock(pg_url: str, pg_server: PgServer) -> None:
    backend = _seeded(pg_url)
    dbname = pg_url.rsplit("/", 1)[1]
    with backend.lock("apply"):
        with pg_server.admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
        assert PostgresStateBackend(pg_url).current_lock() is None
        with PostgresStateBackend(pg_url).lock("apply"):
            pass
        with pytest.raises(StateError) as caught:  # the killed holder cannot write any more
            state = State(serial=5)
            backend.write(state)
    assert "cannot write state" in str(caught.value)
    assert PostgresStateBackend(pg_url).read() is not None


def test_unlock_ends_a_hung_holder(pg_url: str) -> None:
    _seeded(pg_url)
    hung = PostgresStateBackend(pg_url)
    with hung.lock("apply") as held:
        with pytest.raises(LockError):
            PostgresStateBackend(pg_url).unlock("not-the-id")
        released = PostgresStateBackend(pg_url).unlock(held.id)
        assert released.id == held.id
        with PostgresStateBackend(pg_url).lock("apply"):
            pass


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    _seeded(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE ssoform_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StateError) as caught:
        PostgresStateBackend(pg_url).read()
    assert str(caught.value) == (
        f"state {redact_url(pg_url)} (workspace default): the database schema is version "
        f"{SCHEMA_VERSION + 1}, made by a newer ssoform (this one knows version "
        f"{SCHEMA_VERSION}); upgrade ssoform"
    )


def test_a_newer_state_format_is_refused(pg_url: str) -> None:
    _seeded(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE ssoform_workspaces SET format = 99")
    with pytest.raises(StateError, match="format 99 is newer than this ssoform"):
        PostgresStateBackend(pg_url).read()


def test_another_writer_is_detected(pg_url: str) -> None:
    first = _seeded(pg_url)
    state = first.read()
    assert state is not None
    second = PostgresStateBackend(pg_url)
    other = second.read()
    assert other is not None
    other.serial += 1
    second.write(other)
    state.serial += 1
    with pytest.raises(StateError, match="changed by another run"):
        first.write(state)


def test_bad_servers_fail_in_one_line_without_the_password(
    pg_server: PgServer, pg_url: str
) -> None:
    wrong = pg_server.url(pg_url.rsplit("/", 1)[1], password="not-the-password-9f2")
    missing = pg_server.url("no_such_db")
    with socket_closed() as port:
        unreachable = f"postgresql://ssoform:secret-x1@127.0.0.1:{port}/db"
        cases = {
            unreachable: "cannot connect",
            wrong: "password authentication failed",
            missing: 'database "no_such_db" does not exist',
        }
        for url, reason in cases.items():
            with pytest.raises(StateError) as caught:
                PostgresStateBackend(url).read()
            message = str(caught.value)
            assert "\n" not in message
            assert reason in message
            assert message.startswith(f"state {redact_url(url)} (workspace default): ")
            for secret in ("not-the-password-9f2", "secret-x1", pg_server.password):
                assert secret not in message


def test_a_read_only_role_fails_cleanly(pg_server: PgServer, pg_url: str) -> None:
    _seeded(pg_url)
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw-77'")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    url = f"postgresql://reader:reader-pw-77@{pg_server.host}:{pg_server.port}/{dbname}"
    reader = PostgresStateBackend(url)
    state = reader.read()
    assert state is not None and len(state.resources) == 3
    with pytest.raises(StateError) as caught, reader.lock("apply"):
        pass
    message = str(caught.value)
    assert "permission denied" in message and "reader-pw-77" not in message
    assert "\n" not in message


class socket_closed:
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_redact_url_drops_the_password() -> None:
    assert redact_url("postgresql://u:p4ss@db.example:5433/ssoform?sslmode=require") == (
        "postgresql://u@db.example:5433/ssoform"
    )
    assert "p4ss" not in redact_url("postgresql://u:p4ss@/x")


def test_move_and_remove_write_only_those_rows(pg_url: str) -> None:
    backend = _seeded(pg_url, count=4)
    old, new = "acme/cf/acct/d1.example", "renamed/cf/acct/d1.example"
    preview = backend.move(old, new, dry_run=True)
    assert preview.id == "id-1"
    assert old in (PostgresStateBackend(pg_url).read() or State()).resources
    assert backend.move(old, new).id == "id-1"
    state = PostgresStateBackend(pg_url).read()
    assert state is not None
    assert new in state.resources and old not in state.resources
    assert state.journal[-1].action == "move"
    assert backend.remove("acme/cf/acct/d2.example").id == "id-2"
    state = PostgresStateBackend(pg_url).read()
    assert state is not None
    assert sorted(state.resources) == [
        "acme/cf/acct/d0.example",
        "acme/cf/acct/d3.example",
        new,
    ]
    assert [h.operation for h in PostgresStateBackend(pg_url).history()][-2:] == [
        "state mv",
        "state rm",
    ]
    with pytest.raises(StateError, match="is not in the state"):
        backend.remove("no/such/resource/here")
