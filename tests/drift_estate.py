"""An estate in the emulators with every drift class and every health finding in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from certs import pem
from descope_manifest import DESCOPE, descope_manifest
from emulated import Harness
from ssoform.emulators.cloudflare import CloudflareStore
from ssoform.emulators.cloudflare import create_app as cloudflare_app
from ssoform.emulators.descope import DescopeStore
from ssoform.emulators.descope import create_app as descope_app
from ssoform.emulators.vantage import VantageStore
from ssoform.emulators.vantage import create_app as vantage_app
from ssoform.engine.drift_model import DriftReport

CANARY = "canary-drift-s3cr3t-4b1d"
ROTATED = "canary-drift-rotated-9e7a"
A = "0123456789abcdef0123456789abcdef"
B = "fedcba9876543210fedcba9876543210"
VANTAGE_ACCOUNT = "acct_globex1"

MANIFEST = descope_manifest(
    f"""\
  acme:
    domains: [acme.com, acme.io, acme.dev, acme.net]
    idp: okta
    connections:
      - {{provider: cf, account_id: {A}, enabled: true}}
      - {{provider: ds, tenant_id: T2acme, protocol: saml, domains: [acme.com]}}
  globex:
    domains: [globex.example]
    idp: okta
    connections:
      - {{provider: va, managed_account: {VANTAGE_ACCOUNT}}}
      - {{provider: ds, tenant_id: T2globex, protocol: oidc}}
  initech:
    domains: [initech.example]
    connections:
      - {{provider: cf, account_id: {B}, enabled: false}}
""",
    providers=(
        "cf: {type: cloudflare, api_token: {env: CF_TOKEN}}",
        DESCOPE,
        "va: {type: vantage, api_token: {env: VA_TOKEN}}",
    ),
)


@dataclass
class Estate:
    h: Harness
    cloudflare: CloudflareStore
    descope: DescopeStore
    vantage: VantageStore


def build_estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    monkeypatch.setenv("CF_TOKEN", "cf-emulator-token")
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    monkeypatch.setenv("VA_TOKEN", "vantage-emulator-token")
    monkeypatch.setenv("OKTA_SECRET", CANARY)
    (tmp_path / "idp.pem").write_text(pem("acme.okta.com", 10))  # expiring: manifest finding
    cf, ds, va = CloudflareStore(), DescopeStore(), VantageStore()
    ds.create_tenant("Acme", "T2acme")
    ds.create_tenant("Globex", "T2globex")
    va.add_managed_account("Globex", "it@globex.example", email_domain="globex.example",
                           token=VANTAGE_ACCOUNT)  # fmt: skip
    for domain in ("acme.com", "acme.io", "acme.net"):
        cf.add_connector(A, domain, status="verified", enabled=True)
    cf.add_connector(A, "acme.dev", status="pending")
    cf.add_connector(B, "initech.example", status="verified")
    apps = {
        "cf": cloudflare_app(store=cf),
        "ds": descope_app(store=ds, project_id="P2emulator", management_key="descope-emulator-key"),
        "va": vantage_app(store=va, token="vantage-emulator-token"),
    }
    return Estate(Harness(tmp_path, apps, MANIFEST), cf, ds, va)


async def seed_drift(estate: Estate) -> None:
    """Apply everything but Vantage, then change the live side behind ssoform's back."""
    h, cf = estate.h, estate.cloudflare
    result = await h.apply(targets=("acme/*", "initech/*", "globex/ds/*"))
    assert result.ok, result.failed
    cf.update(A, cf.find(A, "acme.io").id, enabled=False)  # type: ignore[union-attr]  # drifted
    cf.connectors.pop(cf.find(A, "acme.net").id)  # type: ignore[union-attr]  # missing
    cf.add_connector(A, "legacy.acme.com", status="verified")  # unmanaged
    cf.set_verification(B, "initech.example", "failed")  # verification_failed
    cf.add_connector(B, "rogue.example", status="pending", enabled=True)  # enabled_unverified
    cf.add_connector(B, "acme.com", status="pending")  # domain_conflict with account A
    estate.descope.config("T2acme").saml["idpCert"] = pem("old.acme.okta.com", -3)  # expired


async def seeded_report(estate: Estate, **options: object) -> DriftReport:
    await seed_drift(estate)
    return await estate.h.drift(**options)
