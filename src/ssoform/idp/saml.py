"""SAML metadata, parsed as untrusted input: the entity id, SSO endpoints and signing
certificates of the first identity provider the document describes.

defusedxml refuses a DTD of any kind, entity declarations and external references, so an XML
bomb or an external entity is an `IdpDocumentError`, never an expansion or a file read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ssoform.errors import SsoformError

__all__ = [
    "IdpDocumentError",
    "MetadataCertificate",
    "SamlMetadata",
    "SsoEndpoint",
    "parse_metadata",
    "printable",
]

_MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
_DS = "{http://www.w3.org/2000/09/xmldsig#}"
_MAX_CERTIFICATES = 16


def printable(text: str, limit: int = 300) -> str:
    """An IdP-sourced text as it may be shown: control and format characters (terminal escapes,
    bidirectional overrides) become `?`, and it is cut at `limit` characters."""
    clean = "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


class IdpDocumentError(SsoformError):
    """An identity provider's document is not what it should be (the message is one line)."""


@dataclass(frozen=True)
class SsoEndpoint:
    binding: str
    location: str


@dataclass(frozen=True)
class MetadataCertificate:
    """A signing certificate the metadata publishes; `pem` is public data, never printed."""

    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str
    pem: str

    def valid_at(self, now: dt.datetime) -> bool:
        return self.not_before <= now < self.not_after

    def short(self) -> str:
        return f"sha256:{self.sha256[:16]}"


@dataclass(frozen=True)
class SamlMetadata:
    entity_id: str
    sso: tuple[SsoEndpoint, ...]
    certificates: tuple[MetadataCertificate, ...]
    """Signing certificates in document order (a KeyDescriptor without `use` signs too)."""

    def sso_locations(self) -> set[str]:
        return {e.location for e in self.sso}


def parse_metadata(body: bytes) -> SamlMetadata:
    """Parse a metadata document; raises IdpDocumentError with a one-line reason."""
    try:
        root: Any = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise IdpDocumentError(
            f"refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except (ParseError, ValueError) as exc:
        raise IdpDocumentError(f"not well-formed XML ({_one_line(exc)})") from None
    entity = _idp_entity(root)
    if entity is None:
        raise IdpDocumentError("no EntityDescriptor with an IDPSSODescriptor")
    entity_id = printable(str(entity.get("entityID") or ""))
    if not entity_id:
        raise IdpDocumentError("the EntityDescriptor has no entityID")
    descriptor = entity.find(f"{_MD}IDPSSODescriptor")
    sso = tuple(
        SsoEndpoint(printable(str(e.get("Binding") or "")), printable(str(e.get("Location") or "")))
        for e in descriptor.findall(f"{_MD}SingleSignOnService")
        if e.get("Location")
    )
    certificates: list[MetadataCertificate] = []
    for key in descriptor.findall(f"{_MD}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for node in key.iter(f"{_DS}X509Certificate"):
            if len(certificates) >= _MAX_CERTIFICATES:
                raise IdpDocumentError(f"more than {_MAX_CERTIFICATES} signing certificates")
            cert = _certificate(node.text or "")
            if all(c.sha256 != cert.sha256 for c in certificates):
                certificates.append(cert)
    if not certificates:
        raise IdpDocumentError("the IDPSSODescriptor publishes no signing certificate")
    return SamlMetadata(entity_id, sso, tuple(certificates))


def _idp_entity(root: Any) -> Any:
    if root.tag == f"{_MD}EntityDescriptor":
        candidates = [root]
    elif root.tag == f"{_MD}EntitiesDescriptor":
        candidates = list(root.iter(f"{_MD}EntityDescriptor"))
    else:
        return None
    for entity in candidates:
        if entity.find(f"{_MD}IDPSSODescriptor") is not None:
            return entity
    return None


def _certificate(text: str) -> MetadataCertificate:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise IdpDocumentError("a signing certificate is not a base64 X.509 certificate") from None
    return MetadataCertificate(
        subject=printable(cert.subject.rfc4514_string()),
        issuer=printable(cert.issuer.rfc4514_string()),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(der).hexdigest(),
        pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
    )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
