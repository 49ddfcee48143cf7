"""An identity provider's published side, emulated: SAML metadata, OIDC discovery and JWKS for
a set of identity providers, with real X.509 signing certificates.

The sandbox serves it in-process for every URL an identity provider of the manifest names
(`metadata_url`, `{issuer}/.well-known/openid-configuration`, and the JWKS it points to), and
`rotate` publishes a new signing certificate beside the old one, as Okta and Entra do weeks
before a switch. `misbehave` makes one identity provider's metadata URL answer as a broken IdP
does (404, an answer that never comes, a body past any cap, XML that is not metadata). It signs
nothing: the private keys are thrown away.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["MISBEHAVIOURS", "IdpStore", "Misbehaviour", "create_app", "make_certificate"]

_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

Misbehaviour = Literal["not_found", "hang", "oversized", "garbage"]
MISBEHAVIOURS: tuple[Misbehaviour, ...] = get_args(Misbehaviour)
_OVERSIZED = 3 * 1024 * 1024
"""Past the 2 MiB any reader of metadata should accept."""


def make_certificate(common_name: str, not_before: dt.datetime, not_after: dt.datetime) -> str:
    """A self-signed PEM certificate for `common_name` (an ECDSA P-256 key, thrown away)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ssoform sandbox"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM).decode("ascii")


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode("ascii")


def _jwk(kid: str) -> dict[str, str]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "kid": kid,
        "x": _b64url(numbers.x),
        "y": _b64url(numbers.y),
    }


def _der_base64(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


class IdpStore:
    """Identity providers by name: what each publishes."""

    def __init__(self) -> None:
        self.idps: dict[str, dict[str, Any]] = {}

    def to_json(self) -> dict[str, Any]:
        return {"identity_providers": self.idps}

    def load_json(self, data: dict[str, Any]) -> None:
        found = data.get("identity_providers")
        self.idps = dict(found) if isinstance(found, dict) else {}

    def add_saml(
        self, name: str, metadata_url: str, entity_id: str, sso_url: str, certificates: list[str]
    ) -> None:
        entry = self.idps.setdefault(name, {})
        entry.update(
            metadata_url=metadata_url,
            entity_id=entity_id,
            sso_url=sso_url,
            certificates=list(certificates),
        )

    def add_oidc(self, name: str, issuer: str) -> None:
        entry = self.idps.setdefault(name, {})
        entry.update(issuer=issuer, jwks=[_jwk(f"{name}-1")])

    def rotate(self, name: str, now: dt.datetime, *, retire_old: bool = False) -> str:
        """Publish a new signing certificate (valid from now for three years) after the others;
        with `retire_old`, drop the others. Returns the new PEM."""
        entry = self.idps[name]
        host = urlsplit(str(entry.get("sso_url") or entry["metadata_url"])).hostname or name
        pem = make_certificate(host, now - dt.timedelta(minutes=5), now + dt.timedelta(days=1095))
        old = [] if retire_old else list(entry.get("certificates", []))
        entry["certificates"] = [*old, pem]
        return pem

    def retire_old(self, name: str) -> int:
        """Drop every signing certificate but the newest; the number dropped."""
        certs = list(self.idps[name].get("certificates", []))
        self.idps[name]["certificates"] = certs[-1:]
        return max(len(certs) - 1, 0)

    def misbehave(self, name: str, how: Misbehaviour | None) -> None:
        """Make `name`'s metadata URL answer `how` (None: answer normally again)."""
        if how is not None and how not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {how!r} (known: {', '.join(MISBEHAVIOURS)})")
        self.idps[name]["misbehave"] = how

    def metadata(self, entry: dict[str, Any]) -> str:
        keys = "".join(
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{_der_base64(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>"
            for pem in entry.get("certificates", [])
        )
        sso = quoteattr(str(entry["sso_url"]))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
            f"entityID={quoteattr(str(entry['entity_id']))}>"
            '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f"{keys}<md:NameIDFormat>{escape('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')}"
            "</md:NameIDFormat>"
            f'<md:SingleSignOnService Binding="{_POST}" Location={sso}/>'
            f'<md:SingleSignOnService Binding="{_REDIRECT}" Location={sso}/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>\n"
        )


def _same(url: str, host: str, path: str) -> bool:
    parts = urlsplit(url)
    return (parts.hostname or "") == host and (parts.path or "/") == path


async def _metadata_answer(store: IdpStore, entry: dict[str, Any]) -> Response:
    how = entry.get("misbehave")
    media = "application/samlmetadata+xml"
    if how == "not_found":
        return JSONResponse({"error": "not_found"}, status_code=404)
    if how == "hang":
        await asyncio.Event().wait()  # never answers; the reader's deadline ends it
    if how == "oversized":
        padding = "<!--" + " " * _OVERSIZED + "-->"
        return Response(store.metadata(entry) + padding, media_type=media)
    if how == "garbage":
        return Response("<md:EntityDescriptor><unclosed>\x01 not metadata", media_type=media)
    return Response(store.metadata(entry), media_type=media)


def create_app(store: IdpStore) -> Starlette:
    async def serve(request: Request) -> Response:
        host, path = request.url.hostname or "", request.url.path or "/"
        for entry in store.idps.values():
            url = entry.get("metadata_url")
            if url and _same(url, host, path):
                return await _metadata_answer(store, entry)
            issuer = entry.get("issuer")
            if not issuer:
                continue
            base = str(issuer).rstrip("/")
            if _same(f"{base}/.well-known/openid-configuration", host, path):
                return JSONResponse(
                    {
                        "issuer": issuer,
                        "authorization_endpoint": f"{base}/v1/authorize",
                        "token_endpoint": f"{base}/v1/token",
                        "userinfo_endpoint": f"{base}/v1/userinfo",
                        "jwks_uri": f"{base}/v1/keys",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["ES256"],
                    }
                )
            if _same(f"{base}/v1/keys", host, path):
                return JSONResponse({"keys": entry.get("jwks", [])})
        return JSONResponse({"error": "not_found"}, status_code=404)

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET"])])
