"""X.509 certificates of identity providers: parsed for expiry and fingerprint, never printed."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

__all__ = ["CertInfo", "parse_pem"]


@dataclass(frozen=True)
class CertInfo:
    """What a report may show of a certificate: never the PEM itself."""

    subject: str
    issuer: str
    not_after: dt.datetime
    sha256: str
    pem: str

    def days_left(self, now: dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def parse_pem(text: str) -> CertInfo:
    """Parse one PEM certificate. Raises ValueError with a plain message when it is not one."""
    data = text.strip().encode("ascii", errors="replace")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("not a PEM certificate (no BEGIN CERTIFICATE line)")
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ValueError(
            "not a valid PEM certificate (its body is not an X.509 certificate)"
        ) from None
    der = cert.public_bytes(Encoding.DER)
    pem = cert.public_bytes(Encoding.PEM).decode("ascii")
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(der).hexdigest(),
        pem=pem,
    )
