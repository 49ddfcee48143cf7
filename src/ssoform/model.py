"""Canonical resources: what the manifest wants (`Desired`) and what a provider has (`Live`).

Every resource has a stable address, `TENANT/PROVIDER-INSTANCE/SCOPE/KEY`, shown everywhere.
Field values are plain JSON data, already normalised by the driver on both sides, so comparing
them is comparing values: a perpetual diff is a normalisation bug in a driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ssoform.manifest.secrets import SecretRef

__all__ = ["Desired", "Live", "make_address"]


def make_address(tenant: str, provider: str, scope: str, key: str) -> str:
    return f"{tenant}/{provider}/{scope}/{key}"


@dataclass(frozen=True)
class Desired:
    """One resource as the manifest describes it."""

    tenant: str
    provider: str
    scope: str
    key: str
    fields: Mapping[str, Any]
    """Fields the API can read back, compared with the live object."""
    write_only: Mapping[str, Any] = field(default_factory=dict)
    """Fields the API cannot read back (not secret): compared through state fingerprints."""
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    """Secret fields, by reference: compared through state fingerprints, never shown."""
    protect: bool = False
    payload: Mapping[str, Any] = field(default_factory=dict)
    """What the driver sends but the planner neither compares nor shows (e.g. a PEM whose
    fingerprint is the compared field)."""
    base_dir: str = "."
    """Directory that `{file: ...}` secret references resolve from."""

    @property
    def address(self) -> str:
        return make_address(self.tenant, self.provider, self.scope, self.key)


@dataclass(frozen=True)
class Live:
    """One object as the provider returned it, normalised to the driver's canonical fields."""

    scope: str
    key: str
    id: str
    fields: Mapping[str, Any]
    status: Mapping[str, Any] = field(default_factory=dict)
    """Read-only facts that are not configuration (verification status, codes, timestamps)."""
