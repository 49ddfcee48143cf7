"""The Cloudflare driver against the Cloudflare emulator, through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from clocks import ManualClock
from emulated import Harness, actions
from ssoform.emulators.base import FaultConfig
from ssoform.emulators.cloudflare import CloudflareStore, create_app
from ssoform.engine.limits import slack_for

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
ADDR = f"acme/cf/{ACCOUNT}/acme.com"
MANIFEST = f"""
version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
tenants:
  acme:
    domains: [acme.com]
    connections:
      - {{provider: cf, account_id: {ACCOUNT}, enabled: true}}
"""


@pytest.fixture
def store() -> CloudflareStore:
    return CloudflareStore()


@pytest.fixture
def h(tmp_path: Path, store: CloudflareStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("CF_TOKEN", "cf-emulator-token")
    return Harness(tmp_path, {"cf": create_app(store=store)}, MANIFEST)


async def test_create_then_blocked_until_verified_then_enable(
    h: Harness, store: CloudflareStore
) -> None:
    plan = await h.plan()
    assert actions(plan) == {ADDR: "create"}
    assert any("every Cloudflare user with an @acme.com" in n for n in plan.changes[0].notes)
    plan = await h.converge()
    change = plan.changes[0]
    assert change.action.value == "blocked"
    connector = store.find(ACCOUNT, "acme.com")
    assert connector is not None and not connector.enabled
    assert f'publish TXT "{connector.verification_code}" on acme.com' in (change.blocked or "")
    store.set_verification(ACCOUNT, "acme.com", "verified")
    plan = await h.plan()
    assert actions(plan) == {ADDR: "update"}
    assert [(c.path, c.before, c.after) for c in plan.changes[0].changes] == [
        ("enabled", False, True)
    ]
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert store.find(ACCOUNT, "acme.com").enabled  # type: ignore[union-attr]


async def test_failed_verification_is_restarted(h: Harness, store: CloudflareStore) -> None:
    await h.apply()
    store.set_verification(ACCOUNT, "acme.com", "failed")
    plan = await h.plan()
    assert actions(plan) == {ADDR: "update"}
    assert "apply restarts it" in " ".join(plan.changes[0].notes)
    plan = await h.converge()
    assert store.find(ACCOUNT, "acme.com").verification_status == "pending"  # type: ignore[union-attr]
    assert actions(plan) == {ADDR: "blocked"}


async def test_existing_connector_is_adopted(h: Harness, store: CloudflareStore) -> None:
    store.add_connector(ACCOUNT, "acme.com", status="verified", enabled=True)
    plan = await h.plan()
    assert actions(plan) == {ADDR: "adopt"}
    assert not plan.changes[0].changes
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert len(store.list(ACCOUNT)) == 1


async def test_unmanaged_connector_is_reported(h: Harness, store: CloudflareStore) -> None:
    store.add_connector(ACCOUNT, "legacy.acme.com")
    plan = await h.plan(allow_delete=True)
    assert [(u.key, u.scope) for u in plan.unmanaged] == [("legacy.acme.com", ACCOUNT)]
    await h.apply(allow_delete=True)
    assert store.find(ACCOUNT, "legacy.acme.com") is not None


async def test_removed_enabled_connector_is_deleted_directly(
    h: Harness, store: CloudflareStore
) -> None:
    store.add_connector(ACCOUNT, "acme.com", status="verified", enabled=True)
    await h.apply()
    h.write(MANIFEST.split("    connections:")[0] + "    connections: []\n")
    plan = await h.plan(allow_delete=True)
    assert actions(plan) == {ADDR: "delete"}
    assert "users sign in with passwords again" in plan.changes[0].notes[0]
    calls = h.apps["cf"].state.emulator.calls
    calls.clear()
    result = await h.apply(allow_delete=True)
    assert result.ok, result.failed
    assert store.find(ACCOUNT, "acme.com") is None
    writes = [c.split(" ")[0] for c in calls if not c.startswith("GET ")]
    assert writes == ["DELETE"]  # no disabling PATCH first


async def test_enabled_connector_listed_without_verification_is_verified(
    h: Harness, store: CloudflareStore
) -> None:
    store.add_connector(ACCOUNT, "acme.com", status="verified", enabled=True)
    plan = await h.plan()
    assert actions(plan) == {ADDR: "adopt"}
    assert plan.changes[0].changes == ()
    calls = h.apps["cf"].state.emulator.calls
    result = await h.apply()
    assert result.ok, result.failed
    assert not [c for c in calls if c.endswith("/begin_verification")]
    assert actions(await h.plan()) == {ADDR: "no-op"}


async def test_disabling_reads_the_array_answer(h: Harness, store: CloudflareStore) -> None:
    store.add_connector(ACCOUNT, "acme.com", status="verified", enabled=True)
    await h.apply()
    h.write(MANIFEST.replace("enabled: true", "enabled: false"))
    assert actions(await h.plan()) == {ADDR: "update"}
    result = await h.apply()
    assert result.ok, result.failed
    assert store.find(ACCOUNT, "acme.com").enabled is False  # type: ignore[union-attr]
    assert actions(await h.plan()) == {ADDR: "no-op"}


async def test_retries_through_429_bursts_and_5xx(
    tmp_path: Path, store: CloudflareStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_TOKEN", "cf-emulator-token")
    clock = ManualClock()
    h = Harness(tmp_path, {"cf": create_app(store=store, clock=clock)}, MANIFEST, clock=clock)
    emulator = h.apps["cf"].state.emulator
    emulator.configure(FaultConfig(burst_429=2, seed=1))
    plan = await h.plan()
    assert actions(plan) == {ADDR: "create"}
    assert emulator.answers[429] == 2
    # Each 429 says `Retry-After: 1` and `RateLimit: "default";r=0;t=1`: the retry waits the
    # second asked for, then the budget holds the spent window's tokens its slack longer.
    slack_ms = round(slack_for(300.0) * 1000)
    assert clock.waits_ms() == [1000, slack_ms] * 2
    emulator.configure(FaultConfig(error_rate=0.3, seed=2))
    result = await h.apply()
    assert result.ok, result.failed
    assert emulator.answers[503] >= 1
    assert clock.waits_ms()[4:] == [0]  # a 503 that names no wait is retried at once (no backoff)


async def test_ambiguous_create_is_adopted_not_duplicated(
    h: Harness, store: CloudflareStore
) -> None:
    plan = await h.plan()
    h.apps["cf"].state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    result = await h.apply(plan)
    assert result.ok, result.failed
    h.apps["cf"].state.emulator.configure(FaultConfig())
    assert len(store.list(ACCOUNT)) == 1
    state = h.backend.read()
    assert state is not None
    assert state.journal[-1].outcome == "adopted"
    assert actions(await h.plan()) == {ADDR: "blocked"}


async def test_bad_token_is_a_clear_error(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssoform.errors import DriverError

    monkeypatch.setenv("CF_TOKEN", "wrong")
    expected = (
        r"cf: list SSO connectors of account .*: HTTP 400 6003: Invalid request headers "
        r"\(6111: Invalid format for Authorization header\)"
    )
    with pytest.raises(DriverError, match=expected):
        await h.plan()
