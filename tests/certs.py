"""Self-signed certificates with a chosen expiry, for tests."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from manifest.certgen import make_pem, self_signed


def pem(common_name: str, days: int) -> str:
    """A PEM certificate for `common_name` that expires in `days` days (negative: expired)."""
    now = dt.datetime.now(dt.UTC)
    end = now + dt.timedelta(days=days, hours=1)
    return make_pem(common_name, min(now, end) - dt.timedelta(days=365), end)


def loopback_server_cert() -> tuple[bytes, bytes]:
    """A self-signed server certificate and its key for 127.0.0.1, as PEM: valid in every way
    except that no trusted authority signed it."""
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    key, cert = self_signed(
        "127.0.0.1", now - dt.timedelta(days=1), now + dt.timedelta(days=1), [san]
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
