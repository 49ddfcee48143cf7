"""A plan: immutable, typed values with one serialisation (`Plan.data()`).

Text, JSON, Markdown and the checksum are all derived from `data()`. The JSON is modelled on
Terraform's plan JSON: `format_version`, `resource_changes[]` with `address`, `change.actions`,
`before`, `after`, `after_sensitive` and `action_reason`, plus summary counts and a checksum.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ssoform.drivers.base import FieldChange

__all__ = [
    "PLAN_FORMAT_VERSION",
    "SENSITIVE",
    "Action",
    "Plan",
    "ResourceChange",
    "SecretPin",
    "Unmanaged",
    "checksum_of",
]

PLAN_FORMAT_VERSION = "1.0"
SENSITIVE = "(sensitive)"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    NOOP = "no-op"
    MANUAL = "manual"
    BLOCKED = "blocked"
    FORGET = "forget"
    MOVE = "move"
    """The object is renamed in the manifest: state follows it, nothing is sent."""


_TF_ACTIONS: dict[Action, list[str]] = {
    Action.CREATE: ["create"],
    Action.UPDATE: ["update"],
    Action.REPLACE: ["delete", "create"],
    Action.DELETE: ["delete"],
    Action.ADOPT: ["adopt"],
    Action.NOOP: ["no-op"],
    Action.MANUAL: ["manual"],
    Action.BLOCKED: ["blocked"],
    Action.FORGET: ["forget"],
    Action.MOVE: ["move"],
}

CHANGING = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.REPLACE,
        Action.DELETE,
        Action.ADOPT,
        Action.FORGET,
        Action.MOVE,
    }
)
"""Actions that apply will carry out (`manual` and `blocked` are shown, never pretended)."""


@dataclass(frozen=True)
class ResourceChange:
    address: str
    tenant: str
    provider: str
    provider_type: str
    scope: str
    key: str
    action: Action
    reason: str
    live_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changes: tuple[FieldChange, ...] = ()
    live_fingerprint: str | None = None
    blocked: str | None = None
    manual: str | None = None
    notes: tuple[str, ...] = ()
    replace_fields: tuple[str, ...] = ()
    experimental: bool = False
    protect: bool = False
    previous_address: str | None = None
    """Where state recorded this object before a rename (`moved: OLD -> NEW`)."""

    @property
    def is_change(self) -> bool:
        return self.action in CHANGING

    def data(self) -> dict[str, Any]:
        after_sensitive = {c.path: True for c in self.changes if c.sensitive}
        actions = list(_TF_ACTIONS[self.action])
        if self.action is Action.ADOPT and any(not c.write_only for c in self.changes):
            actions.append("update")
        return {
            "address": self.address,
            "tenant": self.tenant,
            "provider": self.provider,
            "type": self.provider_type,
            "scope": self.scope,
            "key": self.key,
            "id": self.live_id,
            "change": {
                "actions": actions,
                "before": self.before,
                "after": self.after,
                "after_sensitive": after_sensitive,
                "fields": [
                    {
                        "path": c.path,
                        "before": SENSITIVE if c.sensitive and c.before is not None else c.before,
                        "after": SENSITIVE if c.sensitive else c.after,
                        "sensitive": c.sensitive,
                        "write_only": c.write_only,
                    }
                    for c in self.changes
                ],
                "replace_paths": list(self.replace_fields),
            },
            "action": self.action.value,
            "action_reason": self.reason,
            "live_fingerprint": self.live_fingerprint,
            "blocked": self.blocked,
            "manual": self.manual,
            "notes": list(self.notes),
            "experimental": self.experimental,
            "protect": self.protect,
            "previous_address": self.previous_address,
        }


@dataclass(frozen=True)
class Unmanaged:
    """A live object in a managed scope that no manifest entry describes and state does not own."""

    provider: str
    provider_type: str
    scope: str
    key: str
    id: str
    fields: dict[str, Any]

    def data(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "type": self.provider_type,
            "scope": self.scope,
            "key": self.key,
            "id": self.id,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class SecretPin:
    """A secret the plan will send: its reference and keyed fingerprint, never its value."""

    address: str
    field: str
    ref: str
    fingerprint: str


@dataclass(frozen=True)
class Plan:
    manifest_digest: str
    state_lineage: str
    state_serial: int
    created_at: str
    changes: tuple[ResourceChange, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    secrets: tuple[SecretPin, ...] = ()
    unsafe: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    partial: bool = False
    ssoform_version: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    manifest_paths: tuple[str, ...] = ()
    sandbox: bool = False

    def with_paths(self, paths: Sequence[str], *, sandbox: bool = False) -> Plan:
        return replace(self, manifest_paths=tuple(paths), sandbox=sandbox)

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action.value for c in self.changes)
        out = {a.value: counts.get(a.value, 0) for a in Action}
        out["unmanaged"] = len(self.unmanaged)
        return out

    def data(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "ssoform_version": self.ssoform_version,
            "created_at": self.created_at,
            "manifest_digest": self.manifest_digest,
            "manifest_paths": list(self.manifest_paths),
            "sandbox": self.sandbox,
            "state": {"lineage": self.state_lineage, "serial": self.state_serial},
            "targets": list(self.targets),
            "partial": self.partial,
            "summary": self.summary(),
            "unsafe": list(self.unsafe),
            "warnings": list(self.warnings),
            "resource_changes": [c.data() for c in self.changes],
            "unmanaged": [u.data() for u in self.unmanaged],
            "secrets": [
                {"address": s.address, "field": s.field, "ref": s.ref, "fingerprint": s.fingerprint}
                for s in self.secrets
            ],
        }

    def checksum(self) -> str:
        return checksum_of(self.data())


def checksum_of(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of plan data."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
