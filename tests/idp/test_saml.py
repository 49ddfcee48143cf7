"""SAML metadata parsed as untrusted input: what is read, and what is refused."""

from __future__ import annotations

import datetime as dt
import resource

import pytest

from ssoform.emulators.idp import IdpStore, make_certificate
from ssoform.idp.saml import IdpDocumentError, parse_metadata
from ssoform.manifest.certificates import parse_pem

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MD = 'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'


def _metadata(*pems: str, entity_id: str = "http://www.okta.com/exk1") -> bytes:
    store = IdpStore()
    store.add_saml(
        "okta", "https://acme.okta.com/m", entity_id, "https://acme.okta.com/sso", [*pems]
    )
    return store.metadata(store.idps["okta"]).encode()


def test_entity_id_endpoints_and_every_signing_certificate_are_read() -> None:
    old = make_certificate(
        "acme.okta.com", NOW - dt.timedelta(days=300), NOW + dt.timedelta(days=20)
    )
    new = make_certificate(
        "acme.okta.com", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=900)
    )
    found = parse_metadata(_metadata(old, new))
    assert found.entity_id == "http://www.okta.com/exk1"
    assert {(e.binding.rsplit(":", 1)[1], e.location) for e in found.sso} == {
        ("HTTP-POST", "https://acme.okta.com/sso"),
        ("HTTP-Redirect", "https://acme.okta.com/sso"),
    }
    assert [c.sha256 for c in found.certificates] == [parse_pem(old).sha256, parse_pem(new).sha256]
    first = found.certificates[0]
    assert first.not_after.date() == (NOW + dt.timedelta(days=20)).date()
    assert first.subject == "O=ssoform sandbox,CN=acme.okta.com"
    assert first.valid_at(NOW) and not first.valid_at(NOW + dt.timedelta(days=21))


def test_an_entities_descriptor_yields_its_identity_provider_and_skips_encryption_keys() -> None:
    pem = make_certificate("idp.example", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=9))
    inner = _metadata(pem).decode().split("?>", 1)[1]
    body = inner.replace('use="signing"', 'use="encryption"', 0)
    doc = (
        f"<md:EntitiesDescriptor {MD}><md:EntityDescriptor entityID='sp'>"
        "<md:SPSSODescriptor protocolSupportEnumeration='x'/></md:EntityDescriptor>"
        f"{body}</md:EntitiesDescriptor>"
    )
    assert parse_metadata(doc.encode()).entity_id == "http://www.okta.com/exk1"
    encryption_only = doc.replace('use="signing"', 'use="encryption"')
    with pytest.raises(IdpDocumentError, match="publishes no signing certificate"):
        parse_metadata(encryption_only.encode())


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE md SYSTEM "https://evil.example/md.dtd">
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [(BOMB, "DTDForbidden"), (XXE, "DTDForbidden"), (DTD_ONLY, "DTDForbidden")],
    ids=["xml-bomb", "external-entity", "external-dtd"],
)
def test_dtds_and_entities_are_refused_without_expansion(body: bytes, reason: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(IdpDocumentError) as caught:
        parse_metadata(body)
    assert str(caught.value) == f"refused: {reason} (DTDs and entities are not allowed)"
    assert "root:" not in str(caught.value)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000  # a billion laughs expanded would take gigabytes


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<md:EntityDescriptor", "not well-formed XML"),
        (b"\xff\xfe not xml", "not well-formed XML"),
        (b"<html><body>login</body></html>", "no EntityDescriptor with an IDPSSODescriptor"),
        (
            f"<md:EntityDescriptor {MD}><md:IDPSSODescriptor/></md:EntityDescriptor>".encode(),
            "the EntityDescriptor has no entityID",
        ),
        (
            f"<md:EntityDescriptor {MD} entityID='e'><md:IDPSSODescriptor/>"
            "</md:EntityDescriptor>".encode(),
            "publishes no signing certificate",
        ),
    ],
)
def test_documents_that_are_not_idp_metadata_are_one_line_errors(body: bytes, message: str) -> None:
    with pytest.raises(IdpDocumentError, match=message) as caught:
        parse_metadata(body)
    assert "\n" not in str(caught.value)


def test_a_certificate_that_is_not_x509_is_refused() -> None:
    pem = make_certificate("idp.example", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=9))
    good = _metadata(pem).decode()
    start = good.index("<ds:X509Certificate>") + len("<ds:X509Certificate>")
    broken = good[:start] + "bm90IGEgY2VydA==" + good[good.index("</ds:X509Certificate>") :]
    with pytest.raises(IdpDocumentError, match=r"not a base64 X\.509 certificate"):
        parse_metadata(broken.encode())


def test_idp_sourced_texts_are_made_printable() -> None:
    pem = make_certificate("idp.example", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=9))
    spoof = "urn:idp:\u202eevil\u200b" + "x" * 400
    found = parse_metadata(_metadata(pem, entity_id=spoof))
    assert found.entity_id.startswith("urn:idp:?evil?x") and len(found.entity_id) == 300
    assert found.entity_id.endswith("...")
