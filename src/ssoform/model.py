"""Canonical resources: what the manifest wants (`Desired`), what a provider has (`Live`), and
how one field differs between them (`FieldChange`, shared by drivers, the diff and the plan).

Every resource has a stable address, `TENANT/PROVIDER-INSTANCE/SCOPE/KEY`, shown everywhere.
Field values are plain JSON data, already normalised by the driver on both sides, so comparing
them is comparing values: a perpetual diff is a normalisation bug in a driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from ssoform.manifest.secrets import SecretRef

__all__ = ["SENSITIVE", "Desired", "FieldChange", "Live", "WriteOnlyStatus", "make_address"]

SENSITIVE = "(sensitive)"
"""What a plan, a report or a log shows in place of a secret value."""

WriteOnlyStatus = Literal["changed", "unchanged", "unverifiable"]


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


class FieldChange(BaseModel):
    """One field's change: dotted path, before and after.

    A sensitive value is never held here (the planner puts None); serialised, a sensitive
    field shows `(sensitive)` in place of any value.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True
    )

    path: str
    before: Any = None
    after: Any = None
    sensitive: bool = False
    write_only: WriteOnlyStatus | None = None
    """For write-only fields: 'changed', 'unchanged' or 'unverifiable'."""

    @field_serializer("before")
    def _show_before(self, value: Any) -> Any:
        return SENSITIVE if self.sensitive and value is not None else value

    @field_serializer("after")
    def _show_after(self, value: Any) -> Any:
        return SENSITIVE if self.sensitive else value
