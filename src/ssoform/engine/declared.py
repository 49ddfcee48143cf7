"""What one declared resource needs: its desired fields against live and state, decided as one
`ResourceChange` with its action and reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ssoform.drivers.base import Driver, Guidance
from ssoform.engine.diff import diff_fields
from ssoform.engine.live_index import live_fingerprint
from ssoform.engine.plan import Action, ResourceChange, terraform_actions
from ssoform.engine.state import ResourceState
from ssoform.model import SENSITIVE, Desired, FieldChange, Live

__all__ = ["RENAMED", "manual_default", "plan_declared", "with_action"]

RENAMED = "renamed"
"""The reason of a move with nothing else to change (tested in tests/engine/test_moves.py)."""


def plan_declared(
    driver: Driver,
    desired: Desired,
    live: Live | None,
    owned: ResourceState | None,
    write_only: Sequence[FieldChange],
    moved_from: str | None = None,
) -> ResourceChange:
    """The change `desired` needs, given the `live` object, the state record it `owned` (at
    `moved_from` when renamed) and its `write_only` fields compared with state."""
    base = _base(driver, desired, live)
    after = {**desired.fields, **desired.write_only, **dict.fromkeys(desired.secrets, SENSITIVE)}
    if live is None:
        change = _absent(driver, desired, owned, write_only, {**base, "after": after})
    else:
        common = {**base, "before": dict(live.fields), "after": after}
        change = _present(driver, desired, live, owned, write_only, common)
    if moved_from is None:
        return change
    if change.action is Action.NOOP:
        return with_action(change, Action.MOVE, reason=RENAMED, previous_address=moved_from)
    return change.model_copy(update={"previous_address": moved_from})


def with_action(change: ResourceChange, action: Action, **update: Any) -> ResourceChange:
    """`change` with another action (its `change.actions` derived again)."""
    detail = change.change.model_copy(update={"actions": terraform_actions(action, change.changes)})
    return change.model_copy(update={"action": action, "change": detail, **update})


def manual_default(driver: Driver, changes: Sequence[FieldChange]) -> str:
    fields = ", ".join(sorted({c.path.split(".")[0] for c in changes})) or "this resource"
    return f"{driver.type_name}'s API cannot change {fields}: make the change by hand"


def _base(driver: Driver, desired: Desired, live: Live | None) -> dict[str, Any]:
    return {
        "address": desired.address,
        "tenant": desired.tenant,
        "provider": desired.provider,
        "provider_type": driver.type_name,
        "scope": desired.scope,
        "key": desired.key,
        "live_id": live.id if live else None,
        "live_fingerprint": live_fingerprint(live),
        "experimental": driver.capabilities.experimental,
        "protect": desired.protect,
    }


def _absent(
    driver: Driver,
    desired: Desired,
    owned: ResourceState | None,
    write_only: Sequence[FieldChange],
    base: dict[str, Any],
) -> ResourceChange:
    """No live object: created (or made by hand), or its scope object is gone."""
    caps = driver.capabilities
    if not caps.existence_observable:  # existence not observable and the scope object is gone
        return ResourceChange.make(
            **base,
            action=Action.MANUAL,
            reason="scope_not_found",
            manual=f"{desired.scope} was not found at {driver.name}: check the manifest",
        )
    reason = "deleted_outside_ssoform" if owned else "new"
    guidance = driver.guidance(desired, None, [])
    action = Action.CREATE if caps.can_create else Action.MANUAL
    return ResourceChange.make(
        **base,
        action=action,
        reason=reason,
        # A held field (Cloudflare's `verification`, set by the provider later) is no
        # planned change: its blocked line says what it waits for.
        changes=tuple(
            FieldChange(path=k, after=v)
            for k, v in sorted(desired.fields.items())
            if k not in guidance.hold_fields
        )
        + tuple(write_only),
        blocked=guidance.blocked,
        manual=guidance.manual if action is Action.MANUAL else None,
        notes=guidance.notes
        + (("it was deleted outside ssoform; it will be created again",) if owned else ()),
    )


def _present(
    driver: Driver,
    desired: Desired,
    live: Live,
    owned: ResourceState | None,
    write_only: Sequence[FieldChange],
    common: dict[str, Any],
) -> ResourceChange:
    """A live object: adopted, left alone, updated, replaced or changed by hand."""
    caps = driver.capabilities
    readable = diff_fields(live.fields, desired.fields)
    pending = readable + [c for c in write_only if c.write_only != "unchanged"]
    guidance = driver.guidance(desired, live, pending)
    if guidance.hold_fields:
        pending = [c for c in pending if c.path.split(".")[0] not in guidance.hold_fields]
    common["notes"] = guidance.notes
    immutable = tuple(sorted({c.path.split(".")[0] for c in readable} & caps.immutable))
    if owned is None and caps.existence_observable:
        return _adopt(driver, readable, pending, immutable, guidance, common)
    if not pending:
        action = Action.BLOCKED if guidance.blocked else Action.NOOP
        return ResourceChange.make(**common, action=action, reason="", blocked=guidance.blocked)
    if immutable:
        return _replace(driver, desired, readable, pending, immutable, guidance, common)
    if not caps.can_update:
        return _not_updatable(driver, pending, guidance, common)
    reason = "write_only_unverifiable" if owned is None else "fields_changed"
    return ResourceChange.make(
        **common,
        action=Action.UPDATE,
        reason=reason,
        changes=tuple(pending),
        blocked=guidance.blocked,
    )


def _adopt(
    driver: Driver,
    readable: Sequence[FieldChange],
    pending: Sequence[FieldChange],
    immutable: tuple[str, ...],
    guidance: Guidance,
    common: dict[str, Any],
) -> ResourceChange:
    """A live object state does not record, found by its natural key."""
    if immutable or (readable and not driver.capabilities.can_update):
        return ResourceChange.make(
            **common,
            action=Action.MANUAL,
            reason="adopt_needs_manual_change",
            changes=tuple(pending),
            manual=guidance.manual or manual_default(driver, readable),
        )
    return ResourceChange.make(
        **common,
        action=Action.ADOPT,
        reason="matches_by_natural_key",
        changes=tuple(pending),
        blocked=guidance.blocked,
    )


def _replace(
    driver: Driver,
    desired: Desired,
    readable: Sequence[FieldChange],
    pending: Sequence[FieldChange],
    immutable: tuple[str, ...],
    guidance: Guidance,
    common: dict[str, Any],
) -> ResourceChange:
    """An immutable field changed: replaced when the driver can, else changed by hand."""
    caps = driver.capabilities
    if caps.can_delete and caps.can_create and not desired.protect:
        return ResourceChange.make(
            **common,
            action=Action.REPLACE,
            reason="immutable_field_changed",
            changes=tuple(pending),
            replace_fields=immutable,
            blocked=guidance.blocked,
        )
    return ResourceChange.make(
        **common,
        action=Action.MANUAL,
        reason="immutable_field_changed",
        changes=tuple(pending),
        replace_fields=immutable,
        manual=guidance.manual or manual_default(driver, readable),
    )


def _not_updatable(
    driver: Driver,
    pending: Sequence[FieldChange],
    guidance: Guidance,
    common: dict[str, Any],
) -> ResourceChange:
    """Changes a driver without an update call cannot make (unverifiable write-only ones aside)."""
    if all(c.write_only == "unverifiable" for c in pending):
        return ResourceChange.make(
            **common,
            action=Action.NOOP,
            reason="write_only_unverifiable",
            changes=tuple(pending),
        )
    return ResourceChange.make(
        **common,
        action=Action.MANUAL,
        reason="update_not_supported",
        changes=tuple(pending),
        manual=guidance.manual or manual_default(driver, pending),
    )
