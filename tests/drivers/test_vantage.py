"""The Vantage driver against the Vantage emulator: a write-only SSO connection through state."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulated import Harness, actions
from ssoform.emulators.base import FaultConfig
from ssoform.emulators.vantage import VantageStore, create_app

TOKEN = "acct_be30cfd09cf0b3c5"
ADDR = f"acme/va/{TOKEN}/sso"
METADATA = "https://acme.okta.com/app/exk1/sso/saml/metadata"
MANIFEST = f"""
version: 1
providers:
  va: {{type: vantage, api_token: {{env: VA_TOKEN}}}}
identity_providers:
  okta:
    saml: {{metadata_url: "{METADATA}"}}
tenants:
  acme:
    domains: [acme.com, acme.io, acme.dev]
    idp: okta
    connections:
      - {{provider: va, managed_account: {TOKEN}}}
"""


@pytest.fixture
def store() -> VantageStore:
    store = VantageStore()
    store.add_managed_account("Acme", "it@acme.com", email_domain="acme.com", token=TOKEN)
    for index in range(1500):
        store.add_managed_account(f"Other {index}", "x@example.com", token=f"acct_other{index:05d}")
    return store


@pytest.fixture
def h(tmp_path: Path, store: VantageStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("VA_TOKEN", "vantage-emulator-token")
    return Harness(tmp_path, {"va": create_app(store=store)}, MANIFEST)


async def test_unverifiable_then_written_then_unchanged(h: Harness, store: VantageStore) -> None:
    plan = await h.plan()
    change = plan.changes[0]
    assert actions(plan) == {ADDR: "update"}
    assert {(c.path, c.write_only) for c in change.changes} == {
        ("additional_domains", "unverifiable"),
        ("saml_metadata_url", "unverifiable"),
    }
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    connection = store.sso_connection(TOKEN)
    assert connection is not None
    assert connection["saml_metadata_url"] == METADATA
    assert connection["domains"] == ["acme.com", "acme.dev", "acme.io"]


async def test_listing_1500_accounts_takes_two_pages(h: Harness) -> None:
    emulator = h.apps["va"].state.emulator
    await h.plan()
    lists = sum(n for call, n in emulator.calls.items() if call.endswith("/managed_accounts"))
    assert lists == 2
    assert sum(emulator.calls.values()) == 2


async def test_changed_write_only_field_and_readable_drift(h: Harness, store: VantageStore) -> None:
    await h.apply()
    h.write(MANIFEST.replace("[acme.com, acme.io, acme.dev]", "[acme.com, acme.io]"))
    store.set_email_domain(TOKEN, "acme-old.com")
    plan = await h.plan()
    change = plan.changes[0]
    assert {(c.path, c.write_only) for c in change.changes} == {
        ("email_domain", None),
        ("additional_domains", "changed"),
    }
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert store.sso_connection(TOKEN)["domains"] == ["acme.com", "acme.io"]  # type: ignore[index]


async def test_rate_limit_reset_is_honoured(h: Harness) -> None:
    h.apps["va"].state.emulator.configure(FaultConfig(burst_429=1))
    plan = await h.plan()
    assert actions(plan) == {ADDR: "update"}


async def test_delete_with_allow_delete(h: Harness, store: VantageStore) -> None:
    await h.apply()
    h.write(MANIFEST.split("    connections:")[0] + "    connections: []\n")
    plan = await h.plan(allow_delete=True)
    assert actions(plan) == {ADDR: "delete"}
    await h.apply(allow_delete=True)
    assert store.sso_connection(TOKEN) is None
