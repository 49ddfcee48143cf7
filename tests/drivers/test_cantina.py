"""The Cantina driver against the Cantina emulator: create only, everything else manual."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulated import Harness, actions
from ssoform.emulators.cantina import CantinaStore, create_app
from ssoform.manifest.load import load_manifest

COMPANY = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
ADDR = f"acme/ca/{COMPANY}/acme.com"
CANARY = "canary-cantina-secret-77aa"
MANIFEST = f"""
version: 1
providers:
  ca: {{type: cantina, api_key: {{env: CA_KEY}}}}
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: 0oa1, client_secret: {{env: OKTA}}}}
tenants:
  acme:
    domains: [acme.io, acme.com]
    idp: okta
    connections:
      - {{provider: ca, company_id: {COMPANY}}}
"""


@pytest.fixture
def store() -> CantinaStore:
    store = CantinaStore()
    store.add_company("Acme", COMPANY)
    return store


@pytest.fixture
def h(tmp_path: Path, store: CantinaStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("CA_KEY", "cantina-emulator-key")
    monkeypatch.setenv("OKTA", CANARY)
    return Harness(tmp_path, {"ca": create_app(store=store)}, MANIFEST)


async def test_create_then_no_changes(h: Harness, store: CantinaStore) -> None:
    assert actions(await h.plan()) == {ADDR: "create"}
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    [connection] = store.connections_of(COMPANY)
    assert connection.domains == ["acme.com", "acme.io"]
    assert CANARY not in str(store.to_json())


async def test_changes_are_manual_and_never_applied(
    h: Harness, store: CantinaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.apply()
    h.write(MANIFEST.replace("client_id: 0oa1", "client_id: 0oa2"))
    monkeypatch.setenv("OKTA", "rotated-secret")
    plan = await h.plan()
    change = plan.changes[0]
    assert change.action.value == "manual"
    assert "Ask Cantina support to make these changes (client_id: '0oa1' -> '0oa2'" in (
        change.manual or ""
    )
    assert "rotated-secret" not in str(plan.data())
    result = await h.apply(plan)
    assert result.ok
    assert result.skipped and result.skipped[0][0] == ADDR
    [connection] = store.connections_of(COMPANY)
    assert connection.client_id == "0oa1"


async def test_existing_connection_is_adopted_with_secret_unverifiable(
    h: Harness, store: CantinaStore
) -> None:
    store.create_connection(
        COMPANY,
        provider="okta",
        provider_base_url="https://acme.okta.com",
        client_id="0oa1",
        client_secret_sha256="0" * 64,
        domains=["acme.com", "acme.io"],
        user={"userId": "u", "name": "n", "username": "n", "avatar": "", "disabledAt": None},
        now="2026-01-01T00:00:00Z",
    )
    plan = await h.plan()
    assert actions(plan) == {ADDR: "adopt"}
    assert [(c.path, c.write_only) for c in plan.changes[0].changes] == [
        ("client_secret", "unverifiable")
    ]
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert len(store.connections_of(COMPANY)) == 1


async def test_removed_connection_is_a_manual_delete(h: Harness) -> None:
    await h.apply()
    h.write(MANIFEST.split("    connections:")[0] + "    connections: []\n")
    plan = await h.plan(allow_delete=True)
    assert actions(plan) == {ADDR: "manual"}
    assert "ask Cantina support to remove it" in (plan.changes[0].manual or "")


async def test_custom_authorization_server_issuer_sends_the_okta_domain(
    h: Harness, store: CantinaStore
) -> None:
    h.write(
        MANIFEST.replace(
            "issuer: https://acme.okta.com", "issuer: https://acme.okta.com/oauth2/default"
        )
    )
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    [connection] = store.connections_of(COMPANY)
    assert connection.provider_base_url == "https://acme.okta.com"


@pytest.mark.parametrize(
    ("issuer", "extra", "message"),
    [
        (
            "https://login.microsoftonline.com/acme-tenant/v2.0",
            ", idp_kind: entra",
            "required: cannot derive the entra domain URL Cantina needs",
        ),
        (
            "https://acme.okta.com/custom/path",
            "",
            "required: cannot derive the okta domain URL Cantina needs",
        ),
        (
            "https://acme.okta.com",
            ", provider_base_url: 'https://acme-admin.okta.com'",
            "use the Okta domain URL without -admin",
        ),
    ],
)
def test_base_url_required_when_not_derivable(
    tmp_path: Path, issuer: str, extra: str, message: str
) -> None:
    manifest = MANIFEST.replace("issuer: https://acme.okta.com", f"issuer: {issuer}")
    manifest = manifest.replace(f"company_id: {COMPANY}}}", f"company_id: {COMPANY}{extra}}}")
    path = tmp_path / "m.yaml"
    path.write_text(manifest)
    loaded = load_manifest([path])
    found = [str(d) for d in loaded.diagnostics]
    assert any("connections[0].provider_base_url" in d and message in d for d in found), found


def test_explicit_base_url_is_sent_as_written(tmp_path: Path) -> None:
    manifest = MANIFEST.replace("issuer: https://acme.okta.com", "issuer: https://x.example/v2.0")
    manifest = manifest.replace(
        f"company_id: {COMPANY}}}",
        f"company_id: {COMPANY}, idp_kind: entra, provider_base_url: 'https://acme.onmicrosoft.com'}}",
    )
    path = tmp_path / "m.yaml"
    path.write_text(manifest)
    assert load_manifest([path]).ok
