"""The experimental PandaStack driver against its emulator: an opaque settings document."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulated import Harness, actions
from ssoform.emulators.pandastack import DEFAULT_TOKEN, PandaStackStore, create_app
from ssoform.errors import SsoformError

ORG = "1234567890"
ADDR = f"acme/ps/{ORG}/okta"
CANARY = "canary-pandastack-secret-3e"
MANIFEST = f"""
version: 1
providers:
  ps: {{type: pandastack, api_token: {{env: PS_TOKEN}}, organization_id: "{ORG}"}}
tenants:
  acme:
    domains: [acme.com]
    connections:
      - provider: ps
        name: okta
        settings:
          provider_url: https://acme.okta.com
          client_id: 0oa1
          client_secret: {{env: PS_SECRET}}
          enabled: true
"""


@pytest.fixture
def store() -> PandaStackStore:
    return PandaStackStore()


@pytest.fixture
def h(tmp_path: Path, store: PandaStackStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("PS_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("PS_SECRET", CANARY)
    return Harness(tmp_path, {"ps": create_app(store=store)}, MANIFEST)


async def test_create_update_converge_marked_experimental(
    h: Harness, store: PandaStackStore
) -> None:
    plan = await h.plan()
    assert actions(plan) == {ADDR: "create"}
    assert plan.changes[0].experimental
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert CANARY not in str(store.to_json())
    h.write(MANIFEST.replace("enabled: true", "enabled: false"))
    plan = await h.plan()
    assert [(c.path, c.before, c.after) for c in plan.changes[0].changes] == [
        ("settings.enabled", True, False)
    ]
    assert "experimental" in plan.changes[0].notes[0]
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}


async def test_keys_not_declared_are_left_alone(h: Harness, store: PandaStackStore) -> None:
    await h.apply()
    [doc] = store.documents(ORG)
    doc["managed_elsewhere"] = "keep me"
    assert actions(await h.plan()) == {ADDR: "no-op"}


async def test_token_format_is_required(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PS_TOKEN", "not-a-psk-token")
    with pytest.raises(SsoformError, match="psk_<64 hex digits>"):
        await h.plan()


async def test_create_sends_slug_and_delete_takes_the_id_in_the_path(
    h: Harness, store: PandaStackStore
) -> None:
    await h.apply()
    [doc] = store.documents(ORG)
    assert doc["slug"] == "okta" and "name" not in doc
    h.write(MANIFEST.split("    connections:")[0] + "    connections: []\n")
    calls = h.apps["ps"].state.emulator.calls
    result = await h.apply(allow_delete=True)
    assert result.ok, result.failed
    assert calls[f"DELETE /api/v1/sso/{doc['id']}"] == 1
    assert store.documents(ORG) == []
