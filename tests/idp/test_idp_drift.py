"""The IdP's side in drift and plan, against the Descope emulator and the emulated IdP."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from certs import pem
from descope_manifest import descope_manifest, okta
from emulated import Harness
from ssoform.emulators.descope import DescopeStore
from ssoform.emulators.descope import create_app as descope_app
from ssoform.engine.drift import parse_fail_on
from ssoform.engine.drift_model import DriftReport
from ssoform.engine.plan import Action
from ssoform.manifest.certificates import parse_pem
from ssoform.report.drift import FORMATS, render_drift

IDP_KINDS = {
    "certificate_rotation",
    "idp_unreachable",
    "idp_invalid",
    "idp_mismatch",
    "oidc_issuer_mismatch",
    "oidc_jwks_unreachable",
}


ENTRA = """\
  entra:
    kind: entra
    oidc:
      issuer: https://login.microsoftonline.com/globex/v2.0
      client_id: app
      client_secret: {env: ENTRA_SECRET}
"""


def _manifest(certificate: str, *saml_extra: str) -> str:
    return descope_manifest(
        """\
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - {provider: ds, tenant_id: T2acme, protocol: saml}
""",
        idps=okta(certificate=certificate, saml_extra=saml_extra, oidc=False) + ENTRA,
    )


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    monkeypatch.setenv("ENTRA_SECRET", "entra-s3cr3t")
    (tmp_path / "idp.pem").write_text(pem("acme.okta.com", 200))
    store = DescopeStore()
    store.create_tenant("Acme", "T2acme")
    app = descope_app(store=store, project_id="P2emulator", management_key="descope-emulator-key")
    return Harness(tmp_path, {"ds": app}, _manifest("{file: idp.pem}"))


def _idp_findings(report: DriftReport) -> list[tuple[str, str]]:
    return [(f.kind, f.message) for f in report.findings if f.kind in IDP_KINDS]


async def test_in_sync_idp_has_no_findings(harness: Harness) -> None:
    await harness.converge()
    report = await harness.drift()
    assert _idp_findings(report) == []
    sources = {c.source for c in report.certificates}
    assert sources == {"manifest", "live", "metadata"}
    assert not report.summary.failing


async def test_a_published_new_certificate_is_a_rotation_with_its_date(harness: Harness) -> None:
    await harness.converge()
    held = parse_pem((harness.root / "idp.pem").read_text())
    new_pem = harness.idps.rotate("okta", dt.datetime.now(dt.UTC))
    new = parse_pem(new_pem)
    since = f"{x509.load_pem_x509_certificate(new_pem.encode()).not_valid_before_utc:%Y-%m-%d}"
    report = await harness.drift()
    (rotation,) = [f for f in report.findings if f.kind == "certificate_rotation"]
    assert rotation.subject == "acme/ds/T2acme/default"
    assert rotation.severity == "warning" and rotation.failing  # failing by default
    assert rotation.message == (
        f"okta publishes signing certificate sha256:{new.sha256[:16]} (O=ssoform sandbox,"
        f"CN=acme.okta.com, valid from {since}) "
        f"that acme/ds/T2acme/default does not hold; roll it out by {held.not_after:%Y-%m-%d}, "
        f"when the certificate it holds (sha256:{held.sha256[:16]}) expires"
    )
    assert rotation.certificate is not None and rotation.certificate.sha256 == new.sha256
    assert report.summary.failing
    quiet = await harness.drift(fail_on=parse_fail_on("drifted"))
    assert not quiet.summary.failing
    for fmt in FORMATS:
        assert "certificate_rotation" in render_drift(report.data(), fmt).replace(
            "certificate-rotation", "certificate_rotation"
        ), fmt


async def test_entity_id_and_sso_url_differing_from_the_metadata(harness: Harness) -> None:
    await harness.converge()
    harness.config()  # seeds the IdP
    harness.idps.idps["okta"]["entity_id"] = "http://www.okta.com/exk2"
    harness.idps.idps["okta"]["sso_url"] = "https://acme.okta.com/app/exk2/sso/saml"
    report = await harness.drift(fail_on=parse_fail_on("idp-mismatch"))
    assert _idp_findings(report) == [
        (
            "idp_mismatch",
            "okta: the metadata's entity id is 'http://www.okta.com/exk2', the manifest's "
            "'http://www.okta.com/exk1'",
        ),
        (
            "idp_mismatch",
            "okta: the manifest's SSO URL https://acme.okta.com/app/exk1/sso/saml is not one the "
            "metadata publishes (https://acme.okta.com/app/exk2/sso/saml)",
        ),
        (
            "idp_mismatch",
            "acme/ds/T2acme/default holds entity id 'http://www.okta.com/exk1'; okta's metadata "
            "says 'http://www.okta.com/exk2'",
        ),
        (
            "idp_mismatch",
            "acme/ds/T2acme/default holds SSO URL https://acme.okta.com/app/exk1/sso/saml, which "
            "okta's metadata does not publish",
        ),
    ]
    assert report.summary.failing


async def test_unreachable_metadata_and_wrong_issuer(harness: Harness) -> None:
    harness.config()
    harness.idps.idps["okta"]["metadata_url"] = "https://acme.okta.com/elsewhere"
    harness.idps.idps["entra"]["issuer"] = "https://login.microsoftonline.com/globex/v2.0/"
    report = await harness.drift(fail_on=parse_fail_on("idp-unreachable,oidc-issuer-mismatch"))
    kinds = [k for k, _ in _idp_findings(report)]
    assert kinds == ["oidc_issuer_mismatch", "idp_unreachable"]
    assert report.summary.failing
    assert "entra-s3cr3t" not in str(report.data())


async def test_metadata_certificates_expiring_are_findings(harness: Harness) -> None:
    harness.config()
    report = await harness.drift(cert_warning_days=365)
    where = {
        f.certificate.where
        for f in report.findings
        if f.kind == "certificate_expiring" and f.certificate is not None
    }
    assert "identity_providers.okta.saml.metadata_url" in where


async def test_from_metadata_plan_picks_the_new_certificate_and_says_why(
    harness: Harness,
) -> None:
    harness.write(_manifest("{from_metadata: true}"))
    await harness.converge()
    new = parse_pem(harness.idps.rotate("okta", dt.datetime.now(dt.UTC)))
    plan = await harness.plan()
    (change,) = [c for c in plan.changes if c.action is Action.UPDATE]
    fields = {f.path: f for f in change.changes}
    assert str(fields["saml.certificate"].after).startswith(f"sha256:{new.sha256}")
    # Descope takes additional certificates: the old one stays beside the new during the overlap
    old = fields["saml.certificate"].before
    assert fields["additional_certificates"].after == [old]
    (note,) = [n for n in change.notes if n.startswith("okta: certificate from metadata")]
    assert "2 valid signing certificates (a rotation)" in note
    assert f"picked sha256:{new.sha256[:16]}" in note
    again = await harness.converge()
    assert all(c.action is Action.NOOP for c in again.changes)
    report = await harness.drift()
    assert _idp_findings(report) == [] and not report.summary.failing
    harness.idps.retire_old("okta")
    retired = await harness.plan()
    # the metadata gives the whole set: the certificate stays, the retired one is removed
    (change,) = [c for c in retired.changes if c.action is Action.UPDATE]
    assert [(f.path, f.before, f.after) for f in change.changes] == [
        ("additional_certificates", [old], [])
    ]
    settled = await harness.converge()
    assert all(c.action is Action.NOOP for c in settled.changes)


async def test_metadata_signing_certificate_refuses_unsigned_metadata(harness: Harness) -> None:
    (harness.root / "signer.pem").write_text(pem("metadata signer", 300))
    signed = _manifest("{file: idp.pem}", "metadata_signing_certificate: {file: signer.pem}")
    harness.write(signed)
    report = await harness.drift(fail_on=parse_fail_on("idp-invalid"))
    assert _idp_findings(report) == [
        (
            "idp_invalid",
            "SAML metadata https://acme.okta.com/app/exk1/sso/saml/metadata: unsigned, but the "
            "manifest gives metadata_signing_certificate",
        )
    ]
    assert report.summary.failing
