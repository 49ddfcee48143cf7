"""The Descope driver against the Descope emulator, through the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from descope_manifest import descope_manifest
from emulated import Harness, actions
from manifest.certgen import make_pem
from ssoform.emulators.descope import DescopeStore, create_app

CANARY = "canary-oidc-secret-91f2"
MANIFEST = descope_manifest("""\
  acme:
    domains: [acme.com, acme.io]
    idp: okta
    connections:
      - provider: ds
        tenant_id: T2acme
        protocol: saml
        redirect_url: https://app.example.com/acme
        role_mappings: [{groups: [admins, sso-admins], role: Tenant Admin}]
        attribute_mapping: {email: user.email, name: user.displayName}
  initech:
    domains: [initech.example]
    idp: okta
    connections:
      - {provider: ds, tenant_id: T2initech, sso_id: okta-oidc, display_name: Okta, protocol: oidc}
""")
ACME = "acme/ds/T2acme/default"
INITECH = "acme/ds/T2initech/okta-oidc".replace("acme/", "initech/", 1)


def _certificate(path: Path) -> None:
    start = dt.datetime.now(dt.UTC)
    path.write_text(make_pem("acme.okta.com", start, start + dt.timedelta(days=365)))


@pytest.fixture
def store() -> DescopeStore:
    store = DescopeStore()
    store.create_tenant("Acme", "T2acme")
    store.create_tenant("Initech", "T2initech")
    return store


@pytest.fixture
def h(tmp_path: Path, store: DescopeStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    monkeypatch.setenv("OKTA_SECRET", CANARY)
    _certificate(tmp_path / "idp.pem")
    return Harness(tmp_path, {"ds": create_app(store=store)}, MANIFEST)


async def test_saml_and_named_oidc_converge(h: Harness, store: DescopeStore) -> None:
    plan = await h.plan()
    assert actions(plan) == {ACME: "create", INITECH: "create"}
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op", INITECH: "no-op"}, [c.changes for c in plan.changes]
    assert CANARY not in str(store.to_json())
    config = store.config("T2initech", "okta-oidc")
    assert config.auth_type == "oidc"


async def test_field_change_is_an_update_in_place(h: Harness, store: DescopeStore) -> None:
    await h.apply()
    nonce = store.config("T2acme").sp_nonce
    h.write(MANIFEST.replace("https://app.example.com/acme", "https://app.example.com/acme2"))
    plan = await h.plan()
    assert actions(plan)[ACME] == "update"
    assert [c.path for c in plan.changes[0].changes] == ["redirect_url"]
    plan = await h.converge()
    assert actions(plan)[ACME] == "no-op"
    assert store.config("T2acme").sp_nonce == nonce  # same ACS URL: updated in place


async def test_disable_keeps_the_configuration(h: Harness, store: DescopeStore) -> None:
    await h.apply()
    h.write(MANIFEST.replace("protocol: saml\n", "protocol: saml\n        enabled: false\n"))
    plan = await h.plan()
    assert [(c.path, c.before, c.after) for c in plan.changes[0].changes] == [
        ("enabled", True, False)
    ]
    plan = await h.converge()
    assert actions(plan)[ACME] == "no-op"
    config = store.config("T2acme")
    assert config.auth_type == "none"
    assert config.saml  # kept


async def test_rotated_oidc_secret_is_a_write_only_change(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.apply()
    monkeypatch.setenv("OKTA_SECRET", "rotated-secret-value")
    plan = await h.plan()
    change = next(c for c in plan.changes if c.address == INITECH)
    assert change.action.value == "update"
    assert [(c.path, c.write_only, c.after) for c in change.changes] == [
        ("client_secret", "changed", None)
    ]
    plan = await h.converge()
    assert actions(plan)[INITECH] == "no-op"


async def test_drift_outside_ssoform_is_shown_and_reverted(h: Harness, store: DescopeStore) -> None:
    await h.apply()
    store.config("T2acme").saml["entityId"] = "http://evil.example/entity"
    plan = await h.plan()
    change = next(c for c in plan.changes if c.address == ACME)
    assert [(c.path, c.before, c.after) for c in change.changes] == [
        ("saml.entity_id", "http://evil.example/entity", "http://www.okta.com/exk1")
    ]
    plan = await h.converge()
    assert actions(plan)[ACME] == "no-op"
