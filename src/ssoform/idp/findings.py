"""Drift findings from the identity provider's side: what its metadata and discovery say,
compared with the manifest and with what each provider holds.

A provider configured by fields holds a copy of the IdP's signing certificate (its driver's
`certificates` hook says which); when the IdP publishes a newer one it does not hold, that is a
`certificate_rotation` finding with the date by which it must be rolled out: the day the
certificate it holds expires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ssoform.drivers.base import Driver
from ssoform.engine.drift_model import CertificateDoc, Finding
from ssoform.idp.read import IdpReadout
from ssoform.idp.saml import MetadataCertificate
from ssoform.idp.unreadable import SetAside
from ssoform.manifest.models import Manifest
from ssoform.model import Live

__all__ = ["Binding", "IdpSide", "idp_findings", "metadata_certificates", "set_aside_findings"]

Binding = Mapping[tuple[str, str, str], str]
"""(provider instance, scope, key) -> the identity provider that resource signs in with."""


@dataclass(frozen=True)
class IdpSide:
    """What drift compares: the manifest, what each IdP published, and who signs in with whom."""

    manifest: Manifest
    readouts: Mapping[str, IdpReadout]
    binding: Binding
    set_aside: Sequence[SetAside] = ()
    """Identity providers whose metadata gave no `from_metadata` certificate: their
    connections were not compared."""

    def set_aside_keys(self) -> frozenset[tuple[str, str, str]]:
        """(provider instance, scope, key) of every resource left out of the comparison."""
        return frozenset(k for s in self.set_aside for k in s.keys)


def _doc(name: str, cert: MetadataCertificate, now: dt.datetime) -> CertificateDoc:
    return CertificateDoc(
        source="metadata",
        where=f"identity_providers.{name}.saml.metadata_url",
        subject=cert.subject,
        issuer=cert.issuer,
        not_after=cert.not_after.isoformat(),
        sha256=cert.sha256,
        days_left=int((cert.not_after - now).total_seconds() // 86400),
    )


def metadata_certificates(
    readouts: Mapping[str, IdpReadout], now: dt.datetime
) -> list[CertificateDoc]:
    """Every signing certificate the metadata publishes, for the report's certificate list
    (their expiry becomes `certificate_expiring` / `certificate_expired` findings there)."""
    return [
        _doc(name, cert, now)
        for name in sorted(readouts)
        if (saml := readouts[name].saml) is not None
        for cert in saml.certificates
    ]


def _finding(kind: str, subject: str, message: str, **extra: Any) -> Finding:
    return Finding.model_validate(
        {
            "kind": kind,
            "severity": extra.pop("severity", "error"),
            "subject": subject,
            "message": message,
            "addresses": extra.pop("addresses", []),
            "failing": False,
            **extra,
        }
    )


def idp_findings(
    idp_side: IdpSide, live: Iterable[tuple[str, Driver, Live, str]], now: dt.datetime
) -> list[Finding]:
    """`live` yields (instance name, driver, live object, address) for every object read."""
    manifest, readouts, binding = idp_side.manifest, idp_side.readouts, idp_side.binding
    out: list[Finding] = []
    for name in sorted(readouts):
        readout = readouts[name]
        subject = f"identity_providers.{name}"
        out.extend(_finding(p.kind, subject, p.message) for p in readout.problems)
        out.extend(_manifest_mismatch(manifest, readout))
    for instance, driver, obj, address in live:
        idp = binding.get((instance, obj.scope, obj.key))
        found = readouts.get(idp or "")
        if idp is None or found is None or found.saml is None:
            continue
        out.extend(_live_mismatch(idp, found, obj, address))
        held = {c["sha256"] for c in driver.certificates(obj)}
        out.extend(_rotation(idp, found.saml.certificates, held, address, now))
    return out


def set_aside_findings(set_aside: Sequence[SetAside]) -> list[Finding]:
    """One `idp_metadata_unreadable` finding per identity provider set aside."""
    out = []
    for aside in set_aside:
        count = len(aside.addresses)
        what = "resource" if count == 1 else "resources"
        out.append(
            _finding(
                "idp_metadata_unreadable",
                f"identity_providers.{aside.idp}",
                f"{aside.reason}; {count} {what} signing in with {aside.idp} not compared "
                "(which certificate they should hold is unknown)",
                addresses=list(aside.addresses),
            )
        )
    return out


def _manifest_mismatch(manifest: Manifest, readout: IdpReadout) -> list[Finding]:
    saml, idp = readout.saml, manifest.identity_providers[readout.name].saml
    if saml is None or idp is None:
        return []
    subject = f"identity_providers.{readout.name}.saml"
    out = []
    if idp.entity_id is not None and idp.entity_id != saml.entity_id:
        out.append(
            _finding(
                "idp_mismatch",
                subject,
                f"{readout.name}: the metadata's entity id is {saml.entity_id!r}, "
                f"the manifest's {idp.entity_id!r}",
            )
        )
    if idp.sso_url is not None and idp.sso_url not in saml.sso_locations():
        shown = ", ".join(sorted(saml.sso_locations())) or "none"
        out.append(
            _finding(
                "idp_mismatch",
                subject,
                f"{readout.name}: the manifest's SSO URL {idp.sso_url} is not one the metadata "
                f"publishes ({shown})",
            )
        )
    return out


def _live_mismatch(idp: str, readout: IdpReadout, obj: Live, address: str) -> list[Finding]:
    """A provider configured by fields holds the entity id and SSO URL (`saml.entity_id`,
    `saml.idp_url` in the canonical shape); compared with the metadata when present."""
    saml = readout.saml
    held = obj.fields.get("saml")
    if saml is None or not isinstance(held, Mapping):
        return []
    out = []
    entity_id, sso_url = held.get("entity_id"), held.get("idp_url")
    if isinstance(entity_id, str) and entity_id and entity_id != saml.entity_id:
        out.append(
            _finding(
                "idp_mismatch",
                address,
                f"{address} holds entity id {entity_id!r}; {idp}'s metadata says "
                f"{saml.entity_id!r}",
                addresses=[address],
            )
        )
    if isinstance(sso_url, str) and sso_url and sso_url not in saml.sso_locations():
        out.append(
            _finding(
                "idp_mismatch",
                address,
                f"{address} holds SSO URL {sso_url}, which {idp}'s metadata does not publish",
                addresses=[address],
            )
        )
    return out


def _rotation(
    idp: str,
    published: Sequence[MetadataCertificate],
    held: set[str],
    address: str,
    now: dt.datetime,
) -> list[Finding]:
    if not held:
        return []  # configured by metadata URL (or holds no certificate): nothing to roll out
    current = [c for c in published if c.sha256 in held]
    out = []
    for cert in published:
        if cert.sha256 in held or cert.not_after <= now:
            continue
        if any(h.not_before >= cert.not_before for h in current):
            continue  # it already holds a newer one: this one is being retired
        if current:
            deadline = min(h.not_after for h in current)
            by = (
                f"roll it out by {deadline:%Y-%m-%d}, when the certificate it holds "
                f"({min(current, key=lambda h: h.not_after).short()}) expires"
            )
        else:
            by = "roll it out now: it holds no certificate the IdP publishes"
        out.append(
            _finding(
                "certificate_rotation",
                address,
                f"{idp} publishes signing certificate {cert.short()} ({cert.subject}, valid "
                f"from {cert.not_before:%Y-%m-%d}) that {address} does not hold; {by}",
                addresses=[address],
                certificate=_doc(idp, cert, now).model_dump(),
                severity="error" if not current else "warning",
            )
        )
    return out
