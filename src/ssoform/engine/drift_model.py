"""The drift report as pydantic models: its one serialisation, and the source of
`schemas/drift-report.schema.json`.

`DriftReport.data()` is the JSON document; text, Markdown, HTML and JUnit XML are rendered from
that same data through the templates in `ssoform/report/templates/`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CLASSES",
    "DRIFT_FORMAT_VERSION",
    "FINDINGS",
    "CertificateDoc",
    "ClassCounts",
    "DriftClass",
    "DriftReport",
    "FieldDrift",
    "Finding",
    "FindingKind",
    "ResourceDrift",
    "Summary",
    "drift_schema",
]

DRIFT_FORMAT_VERSION = "1.0"

DriftClass = Literal["in_sync", "drifted", "missing", "unmanaged", "unverifiable", "pending"]
CLASSES: tuple[DriftClass, ...] = get_args(DriftClass)

FindingKind = Literal[
    "certificate_expired",
    "certificate_expiring",
    "certificate_rotation",
    "domain_conflict",
    "duplicate_live_object",
    "verification_failed",
    "enabled_unverified",
    "idp_unreachable",
    "idp_invalid",
    "idp_metadata_unreadable",
    "idp_mismatch",
    "oidc_issuer_mismatch",
    "oidc_jwks_unreachable",
]
FINDINGS: tuple[FindingKind, ...] = get_args(FindingKind)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldDrift(_Doc):
    """One field that differs: what the manifest expects and what is live."""

    path: str
    expected: Any
    live: Any
    sensitive: bool = False
    write_only: Literal["changed", "unchanged", "unverifiable"] | None = None
    """For fields the API cannot read back: compared through state fingerprints."""


class ResourceDrift(_Doc):
    address: str
    tenant: str | None
    """None for unmanaged objects (declared nowhere)."""
    provider: str
    type: str
    scope: str
    key: str
    id: str | None
    status: DriftClass
    reason: str
    declared: bool
    live: bool
    fields: list[FieldDrift]
    notes: list[str]


class CertificateDoc(_Doc):
    """What a report shows of a certificate: never the PEM."""

    source: Literal["manifest", "live", "metadata"]
    where: str
    """A manifest data path, the address of the live object holding it, or (metadata) the
    identity provider's `metadata_url` path."""
    subject: str
    issuer: str
    not_after: str
    sha256: str
    days_left: int


class Finding(_Doc):
    kind: FindingKind
    severity: Literal["error", "warning"]
    subject: str
    """What it is about: an address, a domain, or a manifest path."""
    message: str
    addresses: list[str]
    certificate: CertificateDoc | None = None
    failing: bool
    """Whether it counts towards exit code 2 (see `fail_on`)."""


class ClassCounts(_Doc):
    in_sync: int
    drifted: int
    missing: int
    unmanaged: int
    unverifiable: int
    pending: int


class Summary(_Doc):
    resources: int
    counts: ClassCounts
    findings: dict[str, int]
    live_objects: int
    managed_live_objects: int
    coverage: float | None
    """Share of live objects that a manifest declares (None when nothing is live)."""
    failing: bool
    """Whether drift or a failing finding was found (exit code 2)."""


class DriftReport(_Doc):
    format_version: str
    ssoform_version: str
    created_at: str
    manifest_paths: list[str]
    sandbox: bool
    targets: list[str]
    partial: bool
    fail_on: list[str]
    cert_warning_days: int
    summary: Summary
    resources: list[ResourceDrift]
    findings: list[Finding]
    certificates: list[CertificateDoc]

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def drift_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ssoform.dev/schemas/drift-report.schema.json",
        "title": "ssoform drift report",
        **DriftReport.model_json_schema(),
    }
