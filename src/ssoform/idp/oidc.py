"""OIDC discovery, checked as untrusted input: the issuer must match exactly, and `jwks_uri`
must answer with at least one key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ssoform.idp.saml import IdpDocumentError

__all__ = ["Discovery", "discovery_url", "parse_discovery", "parse_jwks"]


@dataclass(frozen=True)
class Discovery:
    issuer: str
    jwks_uri: str


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise IdpDocumentError(f"the {what} is not JSON") from None


def parse_discovery(body: bytes) -> Discovery:
    data = _json(body, "discovery document")
    if not isinstance(data, dict):
        raise IdpDocumentError("the discovery document is not a JSON object")
    issuer, jwks = data.get("issuer"), data.get("jwks_uri")
    if not isinstance(issuer, str) or not issuer:
        raise IdpDocumentError("the discovery document has no issuer")
    if not isinstance(jwks, str) or not jwks:
        raise IdpDocumentError("the discovery document has no jwks_uri")
    return Discovery(issuer=issuer, jwks_uri=jwks)


def parse_jwks(body: bytes) -> int:
    """The number of keys a JWKS answer holds; raises IdpDocumentError when it holds none."""
    data = _json(body, "JWKS")
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not any(isinstance(k, dict) and "kty" in k for k in keys):
        raise IdpDocumentError("the JWKS holds no keys")
    return len(keys)
