"""Self-signed certificates with a chosen expiry, for tests."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from manifest.certgen import make_pem


def pem(common_name: str, days: int) -> str:
    """A PEM certificate for `common_name` that expires in `days` days (negative: expired)."""
    now = dt.datetime.now(dt.UTC)
    end = now + dt.timedelta(days=days, hours=1)
    return make_pem(common_name, min(now, end) - dt.timedelta(days=365), end)


def loopback_server_cert() -> tuple[bytes, bytes]:
    """A self-signed server certificate and its key for 127.0.0.1, as PEM: valid in every way
    except that no trusted authority signed it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
