"""Self-signed certificates with fixed dates, for the invalid corpus and tests.

The corpus is checked with `now` fixed at `CORPUS_NOW`, so these never rot. Regenerate with
`PYTHONPATH=src python tests/manifest/certgen.py` (the keys are throwaway, made fresh each time).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

CORPUS_NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
CORPUS = Path(__file__).parents[2] / "examples" / "invalid"


def make_pem(common_name: str, not_before: dt.datetime, not_after: dt.datetime) -> str:
    """A PEM certificate for `common_name`, valid between the two dates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
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
