"""Import then plan, for every provider against its emulator: adopt, nothing else to change.

Each estate is made by applying a source manifest with a separate state; the import starts from
a manifest that names only the provider instance, and a fresh state that import leaves alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette

from certs import pem
from descope_manifest import DESCOPE, okta
from emulated import Harness
from ssoform.emulators.cantina import CantinaStore
from ssoform.emulators.cantina import create_app as cantina_app
from ssoform.emulators.cloudflare import CloudflareStore
from ssoform.emulators.cloudflare import create_app as cloudflare_app
from ssoform.emulators.descope import DescopeStore
from ssoform.emulators.descope import create_app as descope_app
from ssoform.emulators.pandastack import create_app as pandastack_app
from ssoform.emulators.vantage import VantageStore
from ssoform.emulators.vantage import create_app as vantage_app
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.importer import import_live
from ssoform.engine.plan import Action

CANARY = "canary-import-s3cr3t-0c2e"
CF_A, CF_B = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
COMPANY = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
ORG = "1234567890"
PS_TOKEN = "psk_" + "0123456789abcdef" * 4
IDPS = "identity_providers:\n" + okta("SOURCE_SECRET")

PROVIDERS = {
    "cloudflare": "  cf: {type: cloudflare, api_token: {env: TOKEN}}",
    "descope": "  " + DESCOPE.replace("DS_KEY", "TOKEN"),
    "vantage": "  va: {type: vantage, api_token: {env: TOKEN}}",
    "cantina": "  ca: {type: cantina, api_key: {env: TOKEN}}",
    "pandastack": "  ps: {type: pandastack, api_token: {env: TOKEN}, organization_id: '"
    + ORG
    + "'}",
}

TENANTS = {
    "cloudflare": f"""
  acme:
    domains: [acme.com, acme.io]
    connections:
      - {{provider: cf, account_id: {CF_A}, enabled: false}}
  globex:
    domains: [globex.example]
    connections:
      - {{provider: cf, account_id: {CF_B}, enabled: false, use_fedramp_language: true}}
""",
    "descope": """
  acme:
    domains: [acme.com, acme.io]
    idp: okta
    connections:
      - provider: ds
        tenant_id: T2acme
        protocol: saml
        redirect_url: https://app.example.com/acme
        role_mappings: [{groups: [admins], role: Tenant Admin}]
        attribute_mapping: {email: user.email}
      - {provider: ds, tenant_id: T2acme, sso_id: okta-oidc, protocol: oidc, domains: [acme.dev]}
  globex:
    domains: [globex.example]
    idp: okta
    connections:
      - {provider: ds, tenant_id: T2globex, protocol: saml-metadata, enabled: false}
""",
    "vantage": """
  acme:
    domains: [acme.com, acme.io]
    idp: okta
    connections:
      - {provider: va, managed_account: acct_acme1}
""",
    "cantina": f"""
  acme:
    domains: [acme.io, acme.com]
    idp: okta
    connections:
      - {{provider: ca, company_id: {COMPANY}}}
""",
    "pandastack": """
  acme:
    domains: [acme.com]
    connections:
      - provider: ps
        name: okta
        settings:
          provider_url: https://acme.okta.com
          client_id: 0oa1
          client_secret: {env: SOURCE_SECRET}
          enabled: true
""",
}

TOKENS = {
    "cloudflare": "cf-emulator-token",
    "descope": "descope-emulator-key",
    "vantage": "vantage-emulator-token",
    "cantina": "cantina-emulator-key",
    "pandastack": PS_TOKEN,
}


def _app(kind: str) -> Starlette:
    if kind == "cloudflare":
        return cloudflare_app(store=CloudflareStore())
    if kind == "descope":
        store = DescopeStore()
        for tenant in ("T2acme", "T2globex"):
            store.create_tenant(tenant, tenant)
        return descope_app(store=store)
    if kind == "vantage":
        vantage = VantageStore()
        vantage.add_managed_account("Acme", "it@acme.com", token="acct_acme1")
        return vantage_app(store=vantage)
    if kind == "cantina":
        cantina = CantinaStore()
        cantina.add_company("Acme", COMPANY)
        return cantina_app(store=cantina)
    return pandastack_app(token=PS_TOKEN)


def _manifest(kind: str, tenants: bool) -> str:
    text = "version: 1\nproviders:\n" + PROVIDERS[kind] + "\n"
    if tenants:
        text += IDPS + "tenants:" + TENANTS[kind]
    return text


def _instance(kind: str) -> str:
    return PROVIDERS[kind].split(":")[0].strip()


@pytest.mark.parametrize("kind", list(PROVIDERS))
async def test_import_then_plan_shows_no_changes(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN", TOKENS[kind])
    monkeypatch.setenv("SOURCE_SECRET", CANARY)
    (tmp_path / "idp.pem").write_text(pem("acme.okta.com", 200))
    name = _instance(kind)
    source = Harness(tmp_path, {name: _app(kind)}, _manifest(kind, tenants=True))
    source.backend = LocalStateBackend(tmp_path / "source-state.json")
    result = await source.apply()
    assert result.ok, result.failed
    scopes = sorted({d.scope for d in (await source.plan()).changes})

    h = source  # the same emulators, a manifest naming only the instance, a fresh state
    h.backend = LocalStateBackend(tmp_path / "state.json")
    h.write(_manifest(kind, tenants=False))
    imported = await import_live(h.loaded(), h.backend, h.config(), [name], scopes)
    text = imported.yaml()
    assert CANARY not in text
    for env in re.findall(r"env: ([A-Z0-9_]+)", text):
        if env != "TOKEN":
            monkeypatch.setenv(env, "imported-" + CANARY)
    h.path.write_text(text)
    assert h.backend.read() is None, "import proposes: it never writes state"
    plan = await h.plan()
    assert plan.changes, text
    assert not plan.unmanaged, text
    for change in plan.changes:
        assert change.action in (Action.ADOPT, Action.BLOCKED, Action.UPDATE), (change, text)
        not_unverifiable = [c for c in change.changes if c.write_only != "unverifiable"]
        assert not not_unverifiable, (change.address, not_unverifiable, text)
    assert imported.written == [c.address for c in plan.changes]
    h.write(_manifest(kind, tenants=False))
    again = await import_live(h.loaded(), h.backend, h.config(), [name], scopes)
    assert again.yaml() == text, "a second import must diff cleanly"
