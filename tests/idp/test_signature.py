"""Signed metadata: verified with the manifest's certificate; unsigned or badly signed refused."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree  # type: ignore[import-untyped]
from signxml import XMLSigner  # type: ignore[attr-defined]

from manifest.certgen import self_signed
from ssoform.emulators.idp import IdpStore, make_certificate
from ssoform.idp.read import read_identity_providers
from ssoform.idp.saml import IdpDocumentError, parse_metadata
from ssoform.idp.signature import verified_metadata
from ssoform.manifest.models import Manifest

NOW = dt.datetime.now(dt.UTC)
URL = "https://idp.example/metadata"


def _signer() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key, cert = self_signed(
        "metadata signer", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30)
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _document() -> bytes:
    store = IdpStore()
    pem = make_certificate("idp.example", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=9))
    store.add_saml("i", URL, "urn:idp:entity", "https://idp.example/sso", [pem])
    return store.metadata(store.idps["i"]).encode()


def _signed(key: ec.EllipticCurvePrivateKey, pem: str) -> bytes:
    root = etree.fromstring(_document())
    signed = XMLSigner(signature_algorithm="ecdsa-sha256").sign(root, key=key, cert=pem)
    return bytes(etree.tostring(signed))


def test_a_good_signature_yields_the_signed_document() -> None:
    key, pem = _signer()
    assert parse_metadata(verified_metadata(_signed(key, pem), pem)).entity_id == "urn:idp:entity"


def test_unsigned_metadata_is_refused() -> None:
    _key, pem = _signer()
    with pytest.raises(IdpDocumentError, match=r"^unsigned, but the manifest gives"):
        verified_metadata(_document(), pem)


def test_changed_content_is_refused() -> None:
    key, pem = _signer()
    tampered = _signed(key, pem).replace(b"urn:idp:entity", b"urn:idp:evil")
    with pytest.raises(IdpDocumentError, match=r"^the signature does not verify \(Digest"):
        verified_metadata(tampered, pem)


def test_a_signature_by_another_key_is_refused() -> None:
    key, pem = _signer()
    _other_key, other_pem = _signer()
    with pytest.raises(IdpDocumentError, match=r"^the signature does not verify"):
        verified_metadata(_signed(key, pem), other_pem)


def test_a_dtd_is_refused_before_signature_checking() -> None:
    _key, pem = _signer()
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(IdpDocumentError, match=r"^refused: DTDForbidden"):
        verified_metadata(bomb, pem)


async def test_reading_with_a_signer_reports_a_bad_signature_as_invalid() -> None:
    key, pem = _signer()
    _other, other_pem = _signer()
    body = _signed(key, pem)
    idps = {name: {"saml": {"metadata_url": URL}} for name in ("good", "bad")}
    manifest = Manifest.model_validate({"version": 1, "identity_providers": idps})
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, content=body))
    found = await read_identity_providers(
        manifest, transport=transport, signers={"good": pem, "bad": other_pem}
    )
    assert found["good"].problems == [] and found["good"].saml is not None
    (problem,) = found["bad"].problems
    assert problem.kind == "idp_invalid"
    assert problem.message.startswith(f"SAML metadata {URL}: the signature does not verify")
