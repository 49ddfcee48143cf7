"""What a resource removed from the manifest needs: kept (protected or not allowed), forgotten,
deleted, or deleted by hand."""

from __future__ import annotations

from typing import Any

from ssoform.drivers.base import Driver
from ssoform.engine.declared import with_action
from ssoform.engine.live_index import live_fingerprint
from ssoform.engine.plan import Action, ResourceChange
from ssoform.engine.state import ResourceState
from ssoform.model import Live

__all__ = ["KEPT_ELSEWHERE", "kept_elsewhere", "plan_removed"]

KEPT_ELSEWHERE = "kept_at_another_address"
"""The reason of a record dropped because another address keeps its live object (tested in
tests/engine/test_moves.py)."""


def plan_removed(
    driver: Driver,
    address: str,
    res: ResourceState,
    live: Live | None,
    *,
    may_delete: bool,
) -> ResourceChange:
    """The change for the state record at `address`, which the manifest no longer declares;
    `may_delete` is `--allow-delete` or the provider instance's `prune: true`."""
    base: dict[str, Any] = {
        "address": address,
        "tenant": address.split("/", 1)[0],
        "provider": res.provider,
        "provider_type": res.provider_type,
        "scope": res.scope,
        "key": res.key,
        "live_id": live.id if live else res.id,
        "live_fingerprint": live_fingerprint(live),
        "experimental": driver.capabilities.experimental,
        "protect": res.protect,
        "before": dict(live.fields) if live else None,
    }
    if res.protect:
        note = (
            "removed from the manifest but protected: kept until released "
            f"(ssoform state release {address})"
        )
        return ResourceChange.make(**base, action=Action.NOOP, reason="protected", notes=(note,))
    if live is None and driver.capabilities.existence_observable:
        return ResourceChange.make(
            **base, action=Action.FORGET, reason="gone_from_live_and_manifest"
        )
    if not may_delete:
        note = "removed from the manifest; not deleted without --allow-delete (or prune: true)"
        return ResourceChange.make(
            **base, action=Action.NOOP, reason="delete_not_allowed", notes=(note,)
        )
    if not driver.capabilities.can_delete:
        guidance = driver.guidance(None, live, [])
        return ResourceChange.make(
            **base,
            action=Action.MANUAL,
            reason="delete_not_supported",
            manual=guidance.manual or f"{driver.type_name} has no API to delete it",
        )
    notes = driver.guidance(None, live, []).notes
    return ResourceChange.make(
        **base, action=Action.DELETE, reason="removed_from_manifest", notes=notes
    )


def kept_elsewhere(change: ResourceChange, keeper: str) -> ResourceChange:
    """A delete whose live object the address `keeper` keeps: only the record is forgotten."""
    return with_action(
        change,
        Action.FORGET,
        reason=KEPT_ELSEWHERE,
        notes=(
            f"the same live object is kept at {keeper}: "
            "only this state record is dropped, nothing is deleted",
        ),
    )
