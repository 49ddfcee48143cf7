"""Reading every identity provider of a manifest once per run, and folding what was read into
the manifest (`certificate: {from_metadata: true}` becomes the picked PEM).

Nothing here raises for an unreachable or hostile IdP: each problem becomes a `Problem` on the
readout, which drift reports as a finding and plan refuses with its one-line message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import certifi
import httpx

from ssoform.errors import PlanError
from ssoform.idp.fetch import FetchLimits, IdpFetchError, fetch_document, shown_url
from ssoform.idp.oidc import discovery_url, parse_discovery, parse_jwks
from ssoform.idp.rotation import Pick, pick_certificates
from ssoform.idp.saml import IdpDocumentError, SamlMetadata, parse_metadata, printable
from ssoform.idp.signature import verified_metadata
from ssoform.manifest.load import LoadedManifest
from ssoform.manifest.models import Certificate, Manifest

__all__ = [
    "IdpReadout",
    "Problem",
    "from_metadata_names",
    "metadata_pick",
    "read_identity_providers",
    "resolve_from_metadata",
]

_Fetch = Callable[[str, str], "asyncio.Future[bytes]"]
"""(url, accept) -> the one fetch of that URL in this run."""

_SAML_ACCEPT = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8"
_JSON_ACCEPT = "application/json"


@dataclass(frozen=True)
class Problem:
    kind: str
    """A drift finding kind: idp_unreachable, idp_invalid, oidc_issuer_mismatch, ..."""
    message: str


@dataclass
class IdpReadout:
    """What one identity provider publishes, or why it could not be read."""

    name: str
    metadata_url: str | None = None
    saml: SamlMetadata | None = None
    oidc_issuer: str | None = None
    jwks_keys: int | None = None
    oidc_read: bool = False
    """Whether OIDC discovery was read (plan and apply read SAML metadata only)."""
    problems: list[Problem] = field(default_factory=list)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def from_metadata_names(manifest: Manifest) -> set[str]:
    """Identity providers whose SAML certificate comes from their metadata."""
    return {
        name
        for name, idp in manifest.identity_providers.items()
        if idp.saml is not None
        and idp.saml.certificate is not None
        and idp.saml.certificate.from_metadata
    }


async def read_identity_providers(
    manifest: Manifest,
    *,
    names: set[str] | None = None,
    oidc: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    limits: FetchLimits | None = None,
    signers: Mapping[str, str] | None = None,
) -> dict[str, IdpReadout]:
    """Read the SAML metadata (and OIDC discovery, when `oidc`) of the identity providers named
    (all by default); each URL is fetched once. `signers` gives, by identity provider, the PEM
    its metadata must be signed with."""
    signers = signers or {}
    limits = limits or FetchLimits()
    inner = transport or httpx.AsyncHTTPTransport(verify=_tls_context())
    documents: dict[str, asyncio.Task[bytes]] = {}
    async with httpx.AsyncClient(transport=inner, follow_redirects=False) as client:

        def fetch(url: str, accept: str) -> asyncio.Task[bytes]:
            if url not in documents:
                documents[url] = asyncio.ensure_future(
                    fetch_document(client, url, limits, accept=accept)
                )
            return documents[url]

        async def one(name: str) -> IdpReadout:
            idp = manifest.identity_providers[name]
            out = IdpReadout(name)
            if idp.saml is not None and idp.saml.metadata_url is not None:
                out.metadata_url = idp.saml.metadata_url
                document = fetch(idp.saml.metadata_url, _SAML_ACCEPT)
                await _read_saml(out, document, signers.get(name))
            if oidc and idp.oidc is not None:
                await _read_oidc(out, idp.oidc.issuer, fetch)
            out.oidc_read = oidc
            return out

        chosen = sorted(manifest.identity_providers if names is None else names)
        try:
            found = await asyncio.gather(*(one(n) for n in chosen))
        finally:
            for task in documents.values():
                task.cancel()
    return {r.name: r for r in found}


async def _read_saml(out: IdpReadout, document: asyncio.Future[bytes], signer: str | None) -> None:
    where = shown_url(out.metadata_url or "")
    try:
        body = await document
        if signer is not None:
            body = verified_metadata(body, signer)
        out.saml = parse_metadata(body)
    except IdpFetchError as exc:
        out.problems.append(Problem("idp_unreachable", f"SAML metadata {exc}"))
    except IdpDocumentError as exc:
        out.problems.append(Problem("idp_invalid", f"SAML metadata {where}: {exc}"))


async def _read_oidc(out: IdpReadout, issuer: str, fetch: _Fetch) -> None:
    url = discovery_url(issuer)
    try:
        discovery = parse_discovery(await fetch(url, _JSON_ACCEPT))
    except IdpFetchError as exc:
        out.problems.append(Problem("idp_unreachable", f"OIDC discovery {exc}"))
        return
    except IdpDocumentError as exc:
        out.problems.append(Problem("idp_invalid", f"OIDC discovery {shown_url(url)}: {exc}"))
        return
    out.oidc_issuer = discovery.issuer
    if discovery.issuer != issuer:
        out.problems.append(
            Problem(
                "oidc_issuer_mismatch",
                f"OIDC discovery {shown_url(url)} names issuer {printable(discovery.issuer)!r}, "
                f"the manifest {issuer!r} (they must match exactly; tokens are refused)",
            )
        )
    try:
        out.jwks_keys = parse_jwks(await fetch(discovery.jwks_uri, _JSON_ACCEPT))
    except IdpFetchError as exc:
        out.problems.append(Problem("oidc_jwks_unreachable", f"OIDC keys {exc}"))
    except IdpDocumentError as exc:
        where = shown_url(discovery.jwks_uri)
        out.problems.append(Problem("oidc_jwks_unreachable", f"OIDC keys {where}: {exc}"))


def metadata_pick(name: str, readout: IdpReadout | None, now: dt.datetime) -> Pick:
    """The certificates `name`'s metadata gives its `certificate: {from_metadata: true}`.

    Raises PlanError, one line naming the identity provider, when its metadata cannot be used."""
    if readout is None or readout.saml is None:
        why = readout.problems[0].message if readout and readout.problems else "not read"
        raise PlanError(f"identity_providers.{name}.saml.certificate: from_metadata, but {why}")
    try:
        return pick_certificates(readout.saml.certificates, now)
    except IdpDocumentError as exc:
        raise PlanError(
            f"identity_providers.{name}.saml.certificate: from_metadata, but {exc}"
        ) from None


def resolve_from_metadata(
    loaded: LoadedManifest,
    readouts: Mapping[str, IdpReadout],
    now: dt.datetime | None = None,
    *,
    skip: frozenset[str] = frozenset(),
) -> tuple[LoadedManifest, dict[str, Pick]]:
    """The manifest with each `certificate: {from_metadata: true}` replaced by the picked
    certificate (and the others still valid appended to `additional_certificates`).

    Raises PlanError naming the identity provider when its metadata cannot be used; those in
    `skip` are left as they are (drift set their connections aside)."""
    manifest = loaded.manifest
    assert manifest is not None
    now = now or dt.datetime.now(dt.UTC)
    picks: dict[str, Pick] = {}
    idps = dict(manifest.identity_providers)
    for name in sorted(from_metadata_names(manifest) - skip):
        pick = metadata_pick(name, readouts.get(name), now)
        picks[name] = pick
        saml = idps[name].saml
        assert saml is not None
        resolved = saml.resolved_from_metadata(
            Certificate(pem=pick.primary.pem), [Certificate(pem=c.pem) for c in pick.additional]
        )
        idps[name] = idps[name].model_copy(update={"saml": resolved})
    if not picks:
        return loaded, picks
    updated = manifest.model_copy(update={"identity_providers": idps})
    return dataclasses.replace(loaded, manifest=updated), picks
