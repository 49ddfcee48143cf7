"""The saved-plan JSON document as pydantic models: the source of `schemas/plan.schema.json`.

`Plan.data()` builds the document; a test validates real plans against these models, so the
schema cannot drift from what ssoform writes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["PlanDocument", "SavedPlan", "plan_schema"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldDoc(_Strict):
    path: str
    before: Any
    after: Any
    sensitive: bool
    write_only: Literal["changed", "unchanged", "unverifiable"] | None


class ChangeDoc(_Strict):
    actions: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    after_sensitive: dict[str, bool]
    fields: list[FieldDoc]
    replace_paths: list[str]


class ResourceChangeDoc(_Strict):
    address: str
    tenant: str
    provider: str
    type: str
    scope: str
    key: str
    id: str | None
    change: ChangeDoc
    action: Literal[
        "create",
        "update",
        "replace",
        "delete",
        "adopt",
        "no-op",
        "manual",
        "blocked",
        "forget",
        "move",
    ]
    action_reason: str
    live_fingerprint: str | None
    blocked: str | None
    manual: str | None
    notes: list[str]
    experimental: bool
    protect: bool
    previous_address: str | None = None


class UnmanagedDoc(_Strict):
    provider: str
    type: str
    scope: str
    key: str
    id: str
    fields: dict[str, Any]


class SecretDoc(_Strict):
    address: str
    field: str
    ref: str
    fingerprint: str


class StateDoc(_Strict):
    lineage: str
    serial: int


class PlanDocument(_Strict):
    format_version: str
    ssoform_version: str
    created_at: str
    manifest_digest: str
    manifest_paths: list[str]
    sandbox: bool
    state: StateDoc
    targets: list[str]
    partial: bool
    summary: dict[str, int]
    unsafe: list[str]
    warnings: list[str]
    resource_changes: list[ResourceChangeDoc]
    unmanaged: list[UnmanagedDoc]
    secrets: list[SecretDoc]


class SavedPlan(_Strict):
    """What `ssoform plan -o FILE` writes; `--json` prints the `plan` part."""

    checksum: str
    plan: PlanDocument


def plan_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ssoform.dev/schemas/plan.schema.json",
        "title": "ssoform saved plan",
        **SavedPlan.model_json_schema(),
    }
