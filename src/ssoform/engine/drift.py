"""Drift: the planner's result read as a report, plus SSO health findings.

Nothing is diffed twice: each `ResourceChange` of a plan (made with the default options, so no
deletes) is classified as in sync, drifted, missing, unmanaged, unverifiable or pending, and its
field changes become the changelog (expected is the manifest's value, live the provider's).
Health findings come from the manifest's certificates and from the live objects the plan was
made from, through the drivers' hooks (`domains`, `issues`, `certificates`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ssoform.drivers.base import Driver
from ssoform.engine.drift_model import (
    CLASSES,
    DRIFT_FORMAT_VERSION,
    FINDINGS,
    CertificateDoc,
    ClassCounts,
    DriftClass,
    DriftReport,
    FieldDrift,
    Finding,
    ResourceDrift,
    Summary,
)
from ssoform.engine.plan import SENSITIVE, Action, Plan, ResourceChange
from ssoform.idp.findings import IdpSide, idp_findings, metadata_certificates, set_aside_findings
from ssoform.manifest.certificates import CertInfo
from ssoform.model import FieldChange, Live

__all__ = ["DEFAULT_FAIL_ON", "DriftOptions", "build_report", "parse_fail_on"]

DEFAULT_FAIL_ON: tuple[str, ...] = (
    "drifted",
    "missing",
    "unmanaged",
    "certificate_expired",
    "certificate_rotation",
    "domain_conflict",
    "duplicate_live_object",
    "verification_failed",
    "enabled_unverified",
    "idp_metadata_unreadable",
    "idp_mismatch",
    "oidc_issuer_mismatch",
)

_MISSING_REASONS = frozenset({"new", "deleted_outside_ssoform", "scope_not_found"})
_REMOVED_REASONS = frozenset({"protected", "delete_not_allowed", "removed_from_manifest"})

LiveByInstance = Mapping[str, Mapping[str, Sequence[Live]]]


@dataclass(frozen=True)
class DriftOptions:
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    cert_warning_days: int = 30
    now: dt.datetime | None = None


def parse_fail_on(text: str) -> tuple[str, ...]:
    """`drifted,missing,...`, `all` or `none`; raises ValueError naming an unknown entry."""
    known = (*CLASSES, *FINDINGS)
    items = [i.strip().replace("-", "_") for i in text.split(",") if i.strip()]
    if items == ["none"]:
        return ()
    if items == ["all"]:
        return tuple(k for k in known if k != "in_sync")
    unknown = [i for i in items if i not in known]
    if unknown:
        raise ValueError(f"unknown: {', '.join(unknown)} (known: {', '.join(known)}, all, none)")
    return tuple(dict.fromkeys(items))


def build_report(
    plan: Plan,
    live: LiveByInstance,
    drivers: Mapping[str, Driver],
    manifest_certificates: Mapping[str, CertInfo],
    options: DriftOptions,
    idp: IdpSide | None = None,
) -> DriftReport:
    """`idp` is what the identity providers publish, when they were read."""
    now = options.now or dt.datetime.now(dt.UTC)
    fail_on = set(options.fail_on)
    resources = [_from_change(c) for c in plan.changes]
    resources += [
        ResourceDrift(
            address=f"{u.provider}/{u.scope}/{u.key}",
            tenant=None,
            provider=u.provider,
            type=u.provider_type,
            scope=u.scope,
            key=u.key,
            id=u.id,
            status="unmanaged",
            reason="declared_nowhere",
            declared=False,
            live=True,
            fields=[],
            notes=["live in a managed scope, declared nowhere; ssoform never deletes it"],
        )
        for u in plan.unmanaged
    ]
    if idp is not None and idp.set_aside:
        aside = idp.set_aside_keys()
        resources = [r for r in resources if (r.provider, r.scope, r.key) not in aside]
    resources.sort(key=lambda r: (r.tenant is None, r.address))
    addresses = {(r.provider, r.scope, r.key): r.address for r in resources}
    certs = _manifest_certs(manifest_certificates, now) + _live_certs(live, drivers, addresses, now)
    if idp is not None:
        certs += metadata_certificates(idp.readouts, now)
    findings = _cert_findings(certs, options.cert_warning_days)
    if idp is not None:
        each = (
            (name, driver, obj, _address(addresses, name, obj))
            for name, driver, obj in _each_live(live, drivers)
        )
        findings += idp_findings(idp, each, now)
        findings += set_aside_findings(idp.set_aside)
    findings += _domain_conflicts(live, drivers, addresses)
    findings += _duplicates(live, {(c.provider, c.scope, c.key): c.address for c in plan.changes})
    findings += _live_issues(live, drivers, addresses)
    findings = [f.model_copy(update={"failing": f.kind in fail_on}) for f in findings]
    counts = Counter(r.status for r in resources)
    live_count = sum(1 for r in resources if r.live)
    managed = sum(1 for r in resources if r.live and r.declared)
    failing = any(r.status in fail_on for r in resources) or any(f.failing for f in findings)
    summary = Summary(
        resources=len(resources),
        counts=ClassCounts(**{c: counts.get(c, 0) for c in CLASSES}),
        findings={k: n for k in FINDINGS if (n := sum(1 for f in findings if f.kind == k))},
        live_objects=live_count,
        managed_live_objects=managed,
        coverage=round(managed / live_count, 4) if live_count else None,
        failing=failing,
    )
    return DriftReport(
        format_version=DRIFT_FORMAT_VERSION,
        ssoform_version=plan.ssoform_version,
        created_at=plan.created_at,
        manifest_paths=list(plan.manifest_paths),
        sandbox=plan.sandbox,
        targets=list(plan.targets),
        partial=plan.partial,
        fail_on=sorted(fail_on),
        cert_warning_days=options.cert_warning_days,
        summary=summary,
        resources=resources,
        findings=findings,
        certificates=certs,
    )


# --- classes -----------------------------------------------------------------------------------


def classify(change: ResourceChange) -> tuple[DriftClass, list[FieldChange]]:
    """A plan's resource change as a drift class and the field changes that show it."""
    action, reason = change.action, change.reason
    readable = [c for c in change.changes if c.write_only is None]
    if action is Action.BLOCKED:
        return "pending", []
    if action is Action.FORGET or reason in _MISSING_REASONS:
        return "missing", []
    if reason in _REMOVED_REASONS or action is Action.DELETE:
        return "unmanaged", []
    shown = [c for c in change.changes if c.write_only != "unchanged"]
    if readable or any(c.write_only == "changed" for c in change.changes):
        return "drifted", shown
    if any(c.write_only == "unverifiable" for c in change.changes):
        return "unverifiable", shown
    if change.blocked:
        return "pending", []
    return "in_sync", []


def _from_change(change: ResourceChange) -> ResourceDrift:
    status, fields = classify(change)
    declared = change.reason not in _REMOVED_REASONS and change.action not in (
        Action.FORGET,
        Action.DELETE,
    )
    notes = list(change.notes)
    if change.blocked:
        notes.insert(0, change.blocked)
    if change.action is Action.ADOPT:
        notes.append("live but not yet in state: the next apply adopts it")
    if change.previous_address:
        notes.append(f"renamed from {change.previous_address}: the next apply moves its record")
    return ResourceDrift(
        address=change.address,
        tenant=change.tenant if declared else None,
        provider=change.provider,
        type=change.provider_type,
        scope=change.scope,
        key=change.key,
        id=change.live_id,
        status=status,
        reason=change.reason or change.action.value,
        declared=declared,
        live=change.before is not None,
        fields=[_field(c) for c in fields],
        notes=notes,
    )


def _field(change: FieldChange) -> FieldDrift:
    return FieldDrift(
        path=change.path,
        expected=SENSITIVE if change.sensitive else change.after,
        live=SENSITIVE if change.sensitive and change.before is not None else change.before,
        sensitive=change.sensitive,
        write_only=change.write_only,
    )


# --- findings ----------------------------------------------------------------------------------


def _cert(source: str, where: str, info: Mapping[str, str], now: dt.datetime) -> CertificateDoc:
    not_after = dt.datetime.fromisoformat(info["not_after"])
    if not_after.tzinfo is None:
        not_after = not_after.replace(tzinfo=dt.UTC)
    return CertificateDoc(
        source=source,
        where=where,
        subject=info["subject"],
        issuer=info["issuer"],
        not_after=not_after.isoformat(),
        sha256=info["sha256"],
        days_left=int((not_after - now).total_seconds() // 86400),
    )


def _manifest_certs(certs: Mapping[str, CertInfo], now: dt.datetime) -> list[CertificateDoc]:
    return [
        _cert(
            "manifest",
            where,
            {
                "subject": c.subject,
                "issuer": c.issuer,
                "not_after": c.not_after.isoformat(),
                "sha256": c.sha256,
            },
            now,
        )
        for where, c in sorted(certs.items())
    ]


def _each_live(
    live: LiveByInstance, drivers: Mapping[str, Driver]
) -> Iterable[tuple[str, Driver, Live]]:
    for name in sorted(live):
        for scope in sorted(live[name]):
            for obj in live[name][scope]:
                yield name, drivers[name], obj


def _address(addresses: Mapping[tuple[str, str, str], str], name: str, obj: Live) -> str:
    return addresses.get((name, obj.scope, obj.key), f"{name}/{obj.scope}/{obj.key}")


def _live_certs(
    live: LiveByInstance,
    drivers: Mapping[str, Driver],
    addresses: Mapping[tuple[str, str, str], str],
    now: dt.datetime,
) -> list[CertificateDoc]:
    return [
        _cert("live", _address(addresses, name, obj), info, now)
        for name, driver, obj in _each_live(live, drivers)
        for info in driver.certificates(obj)
    ]


def _cert_findings(certs: Sequence[CertificateDoc], warning_days: int) -> list[Finding]:
    out = []
    for cert in certs:
        if cert.days_left < 0:
            kind, severity, when = "certificate_expired", "error", "expired"
        elif cert.days_left <= warning_days:
            kind, severity, when = "certificate_expiring", "warning", "expires"
        else:
            continue
        where = f"{cert.source} {cert.where}"
        out.append(
            Finding(
                kind=kind,
                severity=severity,
                subject=cert.where,
                message=(
                    f"certificate {cert.subject} ({where}) {when} {cert.not_after[:10]} "
                    f"({cert.days_left} days)"
                ),
                addresses=[cert.where] if cert.source == "live" else [],
                certificate=cert,
                failing=False,
            )
        )
    return out


def _domain_conflicts(
    live: LiveByInstance,
    drivers: Mapping[str, Driver],
    addresses: Mapping[tuple[str, str, str], str],
) -> list[Finding]:
    claims: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, driver, obj in _each_live(live, drivers):
        for domain in driver.domains(obj):
            claims[(name, domain)][obj.scope].append(_address(addresses, name, obj))
    out = []
    for (name, domain), scopes in sorted(claims.items()):
        if len(scopes) < 2:
            continue
        listed = ", ".join(sorted(scopes))
        out.append(
            Finding(
                kind="domain_conflict",
                severity="error",
                subject=domain,
                message=f"{domain} is claimed by {len(scopes)} scopes of {name}: {listed}",
                addresses=sorted(a for found in scopes.values() for a in found),
                failing=False,
            )
        )
    return out


def _duplicates(
    live: LiveByInstance, addresses: Mapping[tuple[str, str, str], str]
) -> list[Finding]:
    """Several live objects for one key at one provider instance: reported, never hidden."""
    ids: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for name in sorted(live):
        for objs in live[name].values():
            for obj in objs:
                ids[(name, obj.scope, obj.key)].append(obj.id)
    out = []
    for (name, scope, key), found in sorted(ids.items()):
        if len(found) < 2:
            continue
        address = addresses.get((name, scope, key), f"{name}/{scope}/{key}")
        out.append(
            Finding(
                kind="duplicate_live_object",
                severity="error",
                subject=address,
                message=(
                    f"{name} holds {len(found)} live objects for {scope}/{key} "
                    f"(ids {', '.join(found)}): ssoform manages one; remove the others by hand"
                ),
                addresses=[address],
                failing=False,
            )
        )
    return out


def _live_issues(
    live: LiveByInstance,
    drivers: Mapping[str, Driver],
    addresses: Mapping[tuple[str, str, str], str],
) -> list[Finding]:
    out = []
    for name, driver, obj in _each_live(live, drivers):
        for issue in driver.issues(obj):
            address = _address(addresses, name, obj)
            out.append(
                Finding(
                    kind=issue.kind,
                    severity="error",
                    subject=address,
                    message=issue.message,
                    addresses=[address],
                    failing=False,
                )
            )
    return out
