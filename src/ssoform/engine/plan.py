"""A plan: frozen, typed pydantic models, whose JSON is the saved plan and `plan --json`.

Text, JSON, Markdown, the JSON Schema and the integrity seal are all derived from these models.
The JSON is modelled on Terraform's plan JSON: `format_version`, `resource_changes[]` with
`address`, `change.actions`, `before`, `after`, `after_sensitive` and `action_reason`, plus
summary counts. A model read back from a file is checked for consistency (the derived parts,
`change.actions`, `after_sensitive` and `summary`, must be what the rest says); what it may do
is decided again at apply (see `engine/authority.py`), never taken from the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ssoform.model import SENSITIVE, FieldChange
from ssoform.scrub import redact_value

__all__ = [
    "CHANGING",
    "PLAN_FORMAT_VERSION",
    "SENSITIVE",
    "Action",
    "ChangeDetail",
    "FieldChange",
    "Plan",
    "ResourceChange",
    "SecretPin",
    "StatePin",
    "Unmanaged",
]

PLAN_FORMAT_VERSION = "1.0"


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


_TF_ACTIONS: dict[Action, tuple[str, ...]] = {
    Action.CREATE: ("create",),
    Action.UPDATE: ("update",),
    Action.REPLACE: ("delete", "create"),
    Action.DELETE: ("delete",),
    Action.ADOPT: ("adopt",),
    Action.NOOP: ("no-op",),
    Action.MANUAL: ("manual",),
    Action.BLOCKED: ("blocked",),
    Action.FORGET: ("forget",),
    Action.MOVE: ("move",),
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


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_serialization_defaults_required=True,
    )


def terraform_actions(action: Action, fields: Sequence[FieldChange]) -> tuple[str, ...]:
    """Terraform's `change.actions` for an action (an adopt that also sends fields updates)."""
    actions = _TF_ACTIONS[action]
    if action is Action.ADOPT and any(not c.write_only for c in fields):
        actions += ("update",)
    return actions


class ChangeDetail(_Model):
    """What changes in one resource: Terraform's `change` block."""

    actions: tuple[str, ...]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    after_sensitive: dict[str, bool] = Field(default_factory=dict)
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()


class ResourceChange(_Model):
    """One resource's planned action, why, and the field changes it makes."""

    address: str
    tenant: str
    provider: str
    provider_type: str = Field(alias="type")
    scope: str
    key: str
    live_id: str | None = Field(default=None, alias="id")
    change: ChangeDetail
    action: Action
    reason: str = Field(alias="action_reason")
    live_fingerprint: str | None = None
    blocked: str | None = None
    manual: str | None = None
    notes: tuple[str, ...] = ()
    experimental: bool = False
    protect: bool = False
    previous_address: str | None = None
    """Where state recorded this object before a rename (`moved: OLD -> NEW`)."""

    @classmethod
    def make(
        cls,
        *,
        action: Action,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        changes: Sequence[FieldChange] = (),
        replace_fields: Sequence[str] = (),
        **rest: Any,
    ) -> ResourceChange:
        """A change from the planner's terms: the `change` block is derived here."""
        detail = ChangeDetail(
            actions=terraform_actions(action, changes),
            before=before,
            after=after,
            after_sensitive={c.path: True for c in changes if c.sensitive},
            fields=tuple(changes),
            replace_paths=tuple(replace_fields),
        )
        return cls(action=action, change=detail, **rest)

    @model_validator(mode="after")
    def _derived_parts_agree(self) -> ResourceChange:
        if self.change.actions != terraform_actions(self.action, self.change.fields):
            raise ValueError(f"{self.address}: change.actions do not match action {self.action}")
        if self.change.after_sensitive != {c.path: True for c in self.change.fields if c.sensitive}:
            raise ValueError(f"{self.address}: after_sensitive does not match the fields")
        return self

    @property
    def is_change(self) -> bool:
        return self.action in CHANGING

    @property
    def before(self) -> dict[str, Any] | None:
        return self.change.before

    @property
    def after(self) -> dict[str, Any] | None:
        return self.change.after

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        return self.change.fields

    @property
    def replace_fields(self) -> tuple[str, ...]:
        return self.change.replace_paths


class Unmanaged(_Model):
    """A live object in a managed scope that no manifest entry describes and state does not own."""

    provider: str
    provider_type: str = Field(alias="type")
    scope: str
    key: str
    id: str
    fields: dict[str, Any]


def _redacted_change(change: ResourceChange) -> ResourceChange:
    fields = tuple(f.model_copy(update={"before": redact_value(f.before)}) for f in change.changes)
    detail = change.change.model_copy(
        update={"before": redact_value(change.change.before), "fields": fields}
    )
    texts = redact_value(
        {"blocked": change.blocked, "manual": change.manual, "notes": change.notes}
    )
    return change.model_copy(update={"change": detail, **texts})


class SecretPin(_Model):
    """A secret the plan will send: its reference and keyed fingerprint, never its value."""

    address: str
    field: str
    ref: str
    fingerprint: str


class StatePin(_Model):
    """The state a plan was made against."""

    lineage: str
    serial: int


def summary_of(changes: Sequence[ResourceChange], unmanaged: int) -> dict[str, int]:
    counts = Counter(c.action.value for c in changes)
    out = {a.value: counts.get(a.value, 0) for a in Action}
    out["unmanaged"] = unmanaged
    return out


class Plan(_Model):
    """A whole plan, as saved by `plan -o` and printed by `plan --json`."""

    format_version: str = PLAN_FORMAT_VERSION
    ssoform_version: str = ""
    created_at: str
    manifest_digest: str
    manifest_paths: tuple[str, ...] = ()
    """Relative to the directory the plan was made in (where apply must run)."""
    sandbox: bool = False
    state: StatePin
    targets: tuple[str, ...] = ()
    partial: bool = False
    allow_delete: bool = False
    """Whether `--allow-delete` was given when the plan was made (apply re-checks deletes)."""
    summary: dict[str, int] = Field(default_factory=dict)
    unsafe: tuple[str, ...] = ()
    """Shown to the reviewer; apply recomputes the thresholds rather than read these."""
    warnings: tuple[str, ...] = ()
    changes: tuple[ResourceChange, ...] = Field(default=(), alias="resource_changes")
    unmanaged: tuple[Unmanaged, ...] = ()
    secrets: tuple[SecretPin, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _fill_summary(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("summary"):
            changes = data.get("changes") or data.get("resource_changes") or ()
            if all(isinstance(c, ResourceChange) for c in changes):
                unmanaged = len(data.get("unmanaged") or ())
                return {**data, "summary": summary_of(changes, unmanaged)}
        return data

    @model_validator(mode="after")
    def _summary_agrees(self) -> Plan:
        if self.summary != summary_of(self.changes, len(self.unmanaged)):
            raise ValueError("summary does not match resource_changes")
        return self

    @property
    def state_lineage(self) -> str:
        return self.state.lineage

    @property
    def state_serial(self) -> int:
        return self.state.serial

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    def without_secrets(self) -> Plan:
        """This plan with every registered secret a provider echoed back redacted from what it
        read (values before, notes, warnings, unmanaged objects). The planner calls it on every
        plan it makes, so the plan apply derives again is redacted alike and compares equal;
        each change's live id stays as read (apply acts on it)."""
        changes = tuple(_redacted_change(c) for c in self.changes)
        unmanaged = tuple(
            u.model_copy(update=redact_value({"key": u.key, "id": u.id, "fields": u.fields}))
            for u in self.unmanaged
        )
        return self.model_copy(
            update={
                "changes": changes,
                "unmanaged": unmanaged,
                "warnings": redact_value(self.warnings),
                "unsafe": redact_value(self.unsafe),
            }
        )

    def data(self) -> dict[str, Any]:
        """The JSON document (what templates render and `plan --json` prints)."""
        return self.model_dump(mode="json", by_alias=True)
