"""Cross-checks that need the whole manifest: references, protocols, duplicates, certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ssoform.manifest.certificates import CertInfo
from ssoform.manifest.diagnostics import PathElem, Severity
from ssoform.manifest.fields import normalise_domain
from ssoform.manifest.models import (
    Certificate,
    ConnectionBase,
    IdentityProvider,
    Manifest,
    Tenant,
)
from ssoform.manifest.provider_types import ProviderType, ProviderTypes

__all__ = [
    "Finding",
    "Unchecked",
    "cross_check",
    "declared_addresses",
    "duplicate_spellings",
]

CertLoader = Callable[[str, tuple[PathElem, ...], Certificate], CertInfo]
"""(idp name, path of the certificate, certificate) -> parsed certificate; raises ValueError."""


@dataclass(frozen=True)
class Finding:
    path: tuple[PathElem, ...]
    message: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class Unchecked:
    """Names defined in the manifest but left out of the cross-checks, because they failed
    validation (or, with `everything`, because a file could not be read at all). A reference
    to one of them is not reported as undefined: its own errors are reported instead."""

    providers: frozenset[str] = frozenset()
    identity_providers: frozenset[str] = frozenset()
    everything: bool = False

    def has_provider(self, name: str) -> bool:
        return self.everything or name in self.providers

    def has_idp(self, name: str) -> bool:
        return self.everything or name in self.identity_providers


def cross_check(
    manifest: Manifest,
    load_cert: CertLoader,
    *,
    now: dt.datetime,
    warning_days: int,
    unchecked: Unchecked | None = None,
    expired: Severity = Severity.ERROR,
    types: ProviderTypes | None = None,
) -> list[Finding]:
    """Problems across the manifest. `manifest` may hold only the parts that validated; then
    `unchecked` names what was left out, so references to it are not reported as undefined.
    `types` are the provider types the manifest was validated with."""
    unchecked = unchecked or Unchecked()
    findings = list(_check_identity_providers(manifest, load_cert, now, warning_days, expired))
    findings.extend(_check_connections(manifest, unchecked, types or ProviderTypes()))
    findings.extend(_check_duplicate_domains(manifest))
    findings.extend(_check_duplicate_objects(manifest))
    findings.extend(_check_moved(manifest))
    return findings


def _check_identity_providers(
    manifest: Manifest,
    load_cert: CertLoader,
    now: dt.datetime,
    warning_days: int,
    expired: Severity = Severity.ERROR,
) -> Iterator[Finding]:
    for name, idp in manifest.identity_providers.items():
        if idp.saml is None:
            continue
        base: tuple[PathElem, ...] = ("identity_providers", name, "saml")
        certs: list[tuple[tuple[PathElem, ...], Certificate]] = []
        if idp.saml.certificate is not None and not idp.saml.certificate.from_metadata:
            certs.append(((*base, "certificate"), idp.saml.certificate))
        certs.extend(
            ((*base, "additional_certificates", i), c)
            for i, c in enumerate(idp.saml.additional_certificates)
        )
        signer = idp.saml.metadata_signing_certificate
        if signer is not None:
            certs.append(((*base, "metadata_signing_certificate"), signer))
        for path, cert in certs:
            try:
                info = load_cert(name, path, cert)
            except ValueError as exc:
                yield Finding(path, str(exc))
                continue
            days = info.days_left(now)
            expiry = info.not_after.strftime("%Y-%m-%d")
            if days < 0:
                yield Finding(path, f"certificate expired on {expiry} ({info.subject})", expired)
            elif days < warning_days:
                yield Finding(
                    path,
                    f"certificate expires on {expiry}, in {int(days)} days ({info.subject})",
                    Severity.WARNING,
                )


def _check_connections(
    manifest: Manifest, unchecked: Unchecked, types: ProviderTypes
) -> Iterator[Finding]:
    for tname, tenant in manifest.tenants.items():
        tpath: tuple[PathElem, ...] = ("tenants", tname)
        idp = tenant.idp
        if (
            idp is not None
            and idp not in manifest.identity_providers
            and not unchecked.has_idp(idp)
        ):
            yield Finding((*tpath, "idp"), _undefined("identity provider", idp, manifest))
        for index, conn in enumerate(tenant.connections):
            cpath = (*tpath, "connections", index)
            yield from _check_connection(manifest, unchecked, types, tenant, conn, cpath)


def _check_connection(
    manifest: Manifest,
    unchecked: Unchecked,
    types: ProviderTypes,
    tenant: Tenant,
    conn: ConnectionBase,
    cpath: tuple[PathElem, ...],
) -> Iterator[Finding]:
    """One connection against its provider instance, its email domains and its IdP."""
    record = types.of_connection(conn)
    kind = record.name if record is not None else "?"
    instance = manifest.providers.get(conn.provider)
    if instance is None:
        if not unchecked.has_provider(conn.provider):
            yield Finding((*cpath, "provider"), _undefined("provider", conn.provider, manifest))
        return
    if instance.type != kind:
        yield Finding(
            (*cpath, "provider"),
            f"provider {conn.provider!r} is of type {instance.type}, "
            f"but this connection has {kind} fields",
        )
        return
    domains = conn.email_domains(tenant)
    if not domains and conn.needs_domains:
        yield Finding(cpath, "no email domains: set domains on the tenant or connection")
    for domain in domains:
        if (problem := conn.domain_problem(domain)) is not None:
            yield Finding(cpath, problem)
    if record is not None and record.protocols:
        yield from _check_protocol(manifest, unchecked, tenant, conn, cpath, record)


def _check_protocol(
    manifest: Manifest,
    unchecked: Unchecked,
    tenant: Tenant,
    conn: ConnectionBase,
    cpath: tuple[PathElem, ...],
    record: ProviderType,
) -> Iterator[Finding]:
    """A connection that signs in through an IdP: the IdP, the protocol and what it needs."""
    idp_name = conn.idp_name(tenant)
    if idp_name is None:
        yield Finding(cpath, "no identity provider: set idp on the tenant or the connection")
        return
    idp = manifest.identity_providers.get(idp_name)
    if idp is None:
        if conn.idp is not None and not unchecked.has_idp(idp_name):
            yield Finding((*cpath, "idp"), _undefined("identity provider", idp_name, manifest))
        return
    protocol = getattr(conn, "protocol", None) or record.protocols[0]
    if protocol not in record.protocols:
        yield Finding((*cpath, "protocol"), f"{record.name} does not support {protocol}")
        return
    problem = _protocol_problem(protocol, idp, idp_name, record.name)
    if problem is not None:
        yield Finding(cpath, problem)
    for key, message in conn.idp_problems(idp):
        yield Finding(cpath if key is None else (*cpath, key), message)


def _protocol_problem(protocol: str, idp: IdentityProvider, idp_name: str, kind: str) -> str | None:
    """What the identity provider lacks for `protocol`, if anything."""
    if protocol == "oidc" and idp.oidc is None:
        return f"identity provider {idp_name!r} defines no oidc application"
    if protocol.startswith("saml") and idp.saml is None:
        return f"identity provider {idp_name!r} defines no saml application"
    if protocol == "saml-metadata" and idp.saml and idp.saml.metadata_url is None:
        return f"{kind} needs saml.metadata_url on identity provider {idp_name!r}"
    if protocol == "saml" and idp.saml is not None:
        missing = [
            f for f in ("entity_id", "sso_url", "certificate") if getattr(idp.saml, f) is None
        ]
        if missing:
            return (
                f"SAML by fields needs {', '.join(missing)} on identity provider {idp_name!r} "
                "(or use protocol: saml-metadata)"
            )
    return None


def _check_duplicate_domains(manifest: Manifest) -> Iterator[Finding]:
    owner: dict[str, str] = {}
    for tname, tenant in manifest.tenants.items():
        domains = set(tenant.domains)
        for conn in tenant.connections:
            domains.update(conn.domains or [])
        for domain in sorted(domains):
            first = owner.setdefault(domain, tname)
            if first != tname:
                yield Finding(
                    ("tenants", tname, "domains"),
                    f"email domain {domain} is also claimed by tenant {first!r}",
                )


def _check_duplicate_objects(manifest: Manifest) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], str] = {}
    for tname, tenant in manifest.tenants.items():
        for index, conn in enumerate(tenant.connections):
            for scope, key in conn.live_keys(manifest, tenant):
                ident = (conn.provider, scope, key)
                here = f"tenants.{tname}.connections[{index}]"
                first = seen.setdefault(ident, here)
                if first != here:
                    yield Finding(
                        ("tenants", tname, "connections", index),
                        f"{conn.provider}/{scope}/{key} is already declared at {first}",
                    )


def duplicate_spellings(data: Mapping[str, Any]) -> Iterator[Finding]:
    """Email domains listed twice in one list of a tenant, however spelt (`acme.com`,
    `ACME.com`, `acme.com.`, full-width letters): read from the document before validation,
    which normalises the spellings away."""
    tenants = data.get("tenants")
    if not isinstance(tenants, Mapping):
        return
    for tname, tenant in tenants.items():
        if not isinstance(tenant, Mapping):
            continue
        lists: list[tuple[tuple[PathElem, ...], Any]] = [
            (("tenants", str(tname), "domains"), tenant.get("domains"))
        ]
        connections = tenant.get("connections")
        if isinstance(connections, list):
            lists += [
                (("tenants", str(tname), "connections", i, "domains"), conn.get("domains"))
                for i, conn in enumerate(connections)
                if isinstance(conn, Mapping)
            ]
        for path, domains in lists:
            if isinstance(domains, list):
                yield from _same_domain_twice(path, domains)


def _same_domain_twice(path: tuple[PathElem, ...], domains: list[Any]) -> Iterator[Finding]:
    first: dict[str, str] = {}
    for index, spelling in enumerate(domains):
        try:
            name = normalise_domain(spelling)
        except ValueError:
            continue  # reported by validation
        if name not in first:
            first[name] = str(spelling)
            continue
        same = "the same spelling" if first[name] == spelling else f"both are {name}"
        yield Finding(
            (*path, index),
            f"email domain {spelling!r} repeats {first[name]!r} ({same}): list it once",
        )


def declared_addresses(manifest: Manifest) -> set[str]:
    """The address of every live object the manifest declares."""
    return {
        f"{tname}/{conn.provider}/{scope}/{key}"
        for tname, tenant in manifest.tenants.items()
        for conn in tenant.connections
        for scope, key in conn.live_keys(manifest, tenant)
    }


def _check_moved(manifest: Manifest) -> Iterator[Finding]:
    """`moved:` entries: each `to` declared, no `from` still declared, no chains or cycles."""
    if not manifest.moved:
        return
    declared = declared_addresses(manifest)
    sources: dict[str, int] = {}
    targets: dict[str, int] = {}
    for index, move in enumerate(manifest.moved):
        sources.setdefault(move.from_, index)
        targets.setdefault(move.to, index)
    for index, move in enumerate(manifest.moved):
        path: tuple[PathElem, ...] = ("moved", index)
        if sources[move.from_] != index:
            yield Finding(path, f"{move.from_} is already moved by moved[{sources[move.from_]}]")
        if targets[move.to] != index:
            yield Finding(path, f"{move.to} is already the target of moved[{targets[move.to]}]")
        if move.to in sources:
            yield Finding(
                (*path, "to"),
                f"{move.to} is moved on again by moved[{sources[move.to]}]: "
                "chains and cycles are not allowed; move straight to the final address",
            )
        if move.to not in declared:
            yield Finding((*path, "to"), f"{move.to} is not declared by any connection")
        if move.from_ in declared:
            yield Finding(
                (*path, "from"), f"{move.from_} is still declared: a move leaves its old address"
            )


def _undefined(what: str, name: str, manifest: Manifest) -> str:
    import difflib

    pool = manifest.providers if what == "provider" else manifest.identity_providers
    close = difflib.get_close_matches(name, list(pool), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = sorted(pool)[:20]
    more = f", and {len(pool) - len(shown)} more" if len(pool) > len(shown) else ""
    defined = f"; defined: {', '.join(shown)}{more}" if pool else "; none is defined"
    return f"{what} {name!r} is not defined{hint}{defined}"
