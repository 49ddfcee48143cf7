"""Self-signed certificates for the tests (the one place they make them), and the invalid
corpus's, whose dates are fixed.

The corpus is checked with `now` fixed at `CORPUS_NOW`, so these never rot. Regenerate with
`PYTHONPATH=src python tests/manifest/certgen.py` (the keys are throwaway, made fresh each time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

CORPUS_NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
CORPUS = Path(__file__).parents[2] / "examples" / "invalid"


def self_signed(
    common_name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    extensions: Sequence[x509.ExtensionType] = (),
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed certificate for `common_name`, valid between the two dates, with its key
    (ECDSA P-256) and any non-critical `extensions`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return key, builder.sign(key, hashes.SHA256())


def make_pem(common_name: str, not_before: dt.datetime, not_after: dt.datetime) -> str:
    """A PEM certificate for `common_name`, valid between the two dates (its key thrown away)."""
    _key, cert = self_signed(common_name, not_before, not_after)
    return cert.public_bytes(Encoding.PEM).decode("ascii")


def main() -> None:
    day = dt.timedelta(days=1)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    expired = dt.datetime(2029, 6, 30, tzinfo=dt.UTC)
    good = dt.datetime(2035, 1, 1, tzinfo=dt.UTC)
    certs = {
        "cert-expired/expired.pem": ("expired.example", start, expired),
        "cert-expiring/soon.pem": ("soon.example", start, CORPUS_NOW + 14 * day),
        "cert-expiring/good.pem": ("good.example", start, good),
    }
    for relative, (cn, not_before, not_after) in certs.items():
        path = CORPUS / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make_pem(cn, not_before, not_after))


if __name__ == "__main__":
    main()
