"""The CLI on a PostgreSQL state (in-memory drivers, real server): plan, apply, the `state`
commands, history and `state migrate` between a file and the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssoform.engine.postgres import PostgresStateBackend
from workspace import CF_ACCOUNT, Workspace


@pytest.fixture
def pg_ws(ws: Workspace, pg_url: str) -> Workspace:
    ws.state = pg_url  # type: ignore[assignment]
    return ws


def test_plan_apply_plan_on_postgresql(pg_ws: Workspace, pg_url: str) -> None:
    plan = pg_ws.plan_file()
    code, out, err = pg_ws.run("apply", str(plan))
    assert code == 0, err
    assert "3 applied, 0 failed" in out
    code, out, _ = pg_ws.plan("--detailed-exitcode")
    assert code == 0, out
    code, out, _ = pg_ws.run("state", "list")
    assert code == 0
    assert f"acme/cf/{CF_ACCOUNT}/acme.com  id=" in out
    assert "3 resource(s); lineage " in out
    code, out, _ = pg_ws.run("state", "journal")
    assert out.count("  ok  ") == 3
    code, out, _ = pg_ws.run("state", "history", "--json")
    history = json.loads(out)["history"]
    assert history[0]["serial"] == 0
    assert {h["operation"] for h in history[1:]} == {"apply"}
    assert history[-1]["serial"] == PostgresStateBackend(pg_url).read().serial  # type: ignore[union-attr]
    code, out, _ = pg_ws.run("state", "history")
    assert " apply " in out
    password = pg_url.split(":")[2].split("@")[0]
    assert all(password not in text for text in pg_ws.outputs)


def test_protection_is_released_on_postgresql(pg_ws: Workspace) -> None:
    pg_ws.write(
        pg_ws.manifest.read_text().replace("enabled: true}", "enabled: true, protect: true}")
    )
    assert pg_ws.run("apply", str(pg_ws.plan_file()))[0] == 0
    address = f"acme/cf/{CF_ACCOUNT}/acme.com"
    code, out, _ = pg_ws.run("state", "list")
    assert f"{address}  id=" in out and "[protected]" in out
    code, out, err = pg_ws.run("state", "release", address)
    assert code == 0, err
    code, out, _ = pg_ws.run("state", "list")
    assert f"{address}  id=" in out
    assert out.count("[protected]") == 1  # acme.io still protected
    code, _, err = pg_ws.run("state", "release", "no/such/address")
    assert code == 1 and "no/such/address is not in the state" in err


def test_migrate_file_to_postgresql_and_back(ws: Workspace, pg_url: str, tmp_path: Path) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    code, out, err = ws.run("state", "migrate", "--to", pg_url)
    assert code == 0, err
    password = pg_url.split(":")[2].split("@")[0]
    assert password not in out
    original = json.loads(ws.state.read_text())
    copied = PostgresStateBackend(pg_url).read()
    assert copied is not None
    assert copied.model_dump(mode="json") == original
    back = tmp_path / "back.json"
    ws.state = pg_url  # type: ignore[assignment]
    code, _, err = ws.run("state", "migrate", "--to", str(back))
    assert code == 0, err
    assert json.loads(back.read_text()) == original

    other = tmp_path / "other.json"
    ws.state = other
    assert ws.plan()[0] == 0
    assert json.loads(other.read_text())["lineage"] != original["lineage"]  # a new state
    ws.state = pg_url  # type: ignore[assignment]
    code, _, err = ws.run("state", "migrate", "--to", str(other))
    assert code == 1
    assert "holds another lineage" in err and "refusing to overwrite it" in err
    ws.state = other
    code, _, err = ws.run("state", "migrate", "--to", pg_url)
    assert code == 1
    assert "holds another lineage" in err


def test_protection_from_the_manifest_is_stored_on_postgresql(
    pg_ws: Workspace, pg_url: str
) -> None:
    assert pg_ws.run("apply", str(pg_ws.plan_file()))[0] == 0
    pg_ws.write(
        pg_ws.manifest.read_text().replace("enabled: true}", "enabled: true, protect: true}")
    )
    code, _, err = pg_ws.run("apply", str(pg_ws.plan_file()))
    assert code == 0, err
    state = PostgresStateBackend(pg_url).read()
    assert state is not None
    assert sorted(a for a, r in state.resources.items() if r.protect) == [
        f"acme/cf/{CF_ACCOUNT}/acme.com",
        f"acme/cf/{CF_ACCOUNT}/acme.io",
    ]
