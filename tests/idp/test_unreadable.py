"""An identity provider whose metadata gives no `from_metadata` certificate: drift sets its
connections aside and reports it as a finding; plan and apply keep refusing."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from certs import pem
from descope_manifest import descope_manifest, okta
from emulated import Harness
from ssoform.emulators.descope import DescopeStore
from ssoform.emulators.descope import create_app as descope_app
from ssoform.emulators.idp import Misbehaviour
from ssoform.engine.drift import DriftOptions, parse_fail_on
from ssoform.engine.drift_model import DriftReport
from ssoform.engine.planner import PlanOptions
from ssoform.engine.workflow import make_drift
from ssoform.errors import PlanError
from ssoform.idp.fetch import FetchLimits

METADATA = "https://acme.okta.com/app/exk1/sso/saml/metadata"

ONELOGIN = """\
  onelogin:
    kind: onelogin
    saml:
      metadata_url: https://globex.onelogin.com/saml/metadata/1
      entity_id: https://app.onelogin.com/saml/metadata/1
      sso_url: {sso}
      certificate: {{file: globex.pem}}
"""

TENANTS = """\
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - {provider: ds, tenant_id: T2acme, protocol: saml}
  globex:
    domains: [globex.com]
    idp: onelogin
    connections:
      - {provider: ds, tenant_id: T2globex, protocol: saml}
"""

REASONS: dict[Misbehaviour, str] = {
    "not_found": f"SAML metadata {METADATA}: answered HTTP 404",
    "hang": f"SAML metadata {METADATA}: no complete answer within 0.5 s",
    "oversized": f"SAML metadata {METADATA}: the document is larger than 2097152 bytes",
    "garbage": f"SAML metadata {METADATA}: not well-formed XML",
}


def _manifest(globex_sso: str = "https://globex.onelogin.com/trust/saml2/http-post/sso/1") -> str:
    idps = okta(certificate="{from_metadata: true}", oidc=False) + ONELOGIN.format(sso=globex_sso)
    return descope_manifest(TENANTS, idps=idps)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    (tmp_path / "globex.pem").write_text(pem("globex.onelogin.com", 200))
    store = DescopeStore()
    store.create_tenant("Acme", "T2acme")
    store.create_tenant("Globex", "T2globex")
    app = descope_app(store=store, project_id="P2emulator", management_key="descope-emulator-key")
    return Harness(tmp_path, {"ds": app}, _manifest())


async def _drift(harness: Harness, **options: Any) -> DriftReport:
    """Drift with a short deadline for identity provider documents (a hung IdP meets it)."""
    config = dataclasses.replace(harness.config(), idp_limits=FetchLimits(deadline=0.5))
    return await make_drift(
        harness.loaded(), harness.backend, config, PlanOptions(), DriftOptions(**options)
    )


@pytest.mark.parametrize("how", list(REASONS))
async def test_unreadable_metadata_is_a_finding_and_the_rest_is_reported(
    harness: Harness, how: Misbehaviour
) -> None:
    await harness.converge()
    harness.write(_manifest("https://globex.onelogin.com/trust/saml2/http-post/sso/2"))
    harness.idps.misbehave("okta", how)
    report = await _drift(harness)
    (finding,) = [f for f in report.findings if f.kind == "idp_metadata_unreadable"]
    assert finding.subject == "identity_providers.okta"
    assert finding.message.startswith(
        f"identity_providers.okta.saml.certificate: from_metadata, but {REASONS[how]}"
    ), finding.message
    assert finding.message.endswith(
        "; 1 resource signing in with okta not compared (which certificate they should hold "
        "is unknown)"
    )
    assert "\n" not in finding.message
    assert finding.addresses == ["acme/ds/T2acme/default"]
    assert finding.failing and report.summary.failing  # exit 2, as for any failing finding
    assert report.partial
    # the other identity provider's connection is still compared, and its drift reported
    statuses = {r.address: r.status for r in report.resources}
    assert statuses == {"globex/ds/T2globex/default": "drifted"}
    assert report.summary.findings["idp_metadata_unreadable"] == 1


async def test_set_aside_resources_are_not_called_unmanaged(harness: Harness) -> None:
    """Owned in state and live, but left out: neither removed from the manifest nor unmanaged."""
    await harness.converge()
    harness.idps.misbehave("okta", "not_found")
    report = await _drift(harness, fail_on=parse_fail_on("drifted,missing,unmanaged"))
    assert [(r.address, r.status) for r in report.resources] == [
        ("globex/ds/T2globex/default", "in_sync")
    ]
    assert not report.summary.failing  # the finding shows, but was not asked to fail
    harness.idps.misbehave("okta", None)
    again = await _drift(harness)
    assert [f.kind for f in again.findings if f.kind.startswith("idp_")] == []
    assert not again.partial and not again.summary.failing


async def test_plan_and_apply_still_refuse(harness: Harness) -> None:
    await harness.converge()
    harness.idps.misbehave("okta", "not_found")
    message = f"identity_providers.okta.saml.certificate: from_metadata, but {REASONS['not_found']}"
    with pytest.raises(PlanError) as planned:
        await harness.plan()
    assert str(planned.value) == message
    with pytest.raises(PlanError) as applied:
        await harness.apply()
    assert str(applied.value) == message
