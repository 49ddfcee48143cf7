"""Planning: desired (manifest) against live (drivers) and state, into an immutable `Plan`.

The workflow lives here, once: expand the manifest into desired resources, read each provider
instance's scopes through its driver (instances in parallel), diff readable fields against live
and write-only fields against state fingerprints, ask the driver for guidance (blocked, manual,
warnings), then apply the safety rails: delete gating, protection and change thresholds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssoform import __version__
from ssoform.drivers.base import Driver
from ssoform.engine.diff import diff_fields
from ssoform.engine.plan import (
    Action,
    Plan,
    ResourceChange,
    SecretPin,
    StatePin,
    Unmanaged,
    terraform_actions,
)
from ssoform.engine.state import ResourceState, State, fingerprint, state_key
from ssoform.manifest.changed_since import ChangeScope
from ssoform.manifest.models import Manifest
from ssoform.manifest.secrets import SecretResolver
from ssoform.model import Desired, FieldChange, Live

__all__ = ["PlanOptions", "Planner", "index_live", "live_fingerprint", "matches_targets"]

SENSITIVE = "(sensitive)"
RENAMED = "renamed"
KEPT_ELSEWHERE = "kept_at_another_address"
"""Reasons that involve two addresses (tested in tests/engine/test_moves.py)."""
DUPLICATE = "duplicate: "
"""How a plan warning about duplicates at a provider starts."""


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[str, ...] = ()
    allow_delete: bool = False
    threshold: float = 0.30
    threshold_min_existing: int = 10
    allow_outside_files: bool = False
    partial_reason: str | None = None
    placeholder_secrets: bool = False
    """Sandbox only: a secret reference that cannot be resolved gets a stand-in value."""
    only: ChangeScope | None = None
    """An incremental plan (`--changed-since`): only these tenants and provider instances."""

    def includes(self, address: str, tenant: str, provider: str) -> bool:
        if self.only is not None and not self.only.covers(tenant, provider):
            return False
        return matches_targets(address, self.targets)


def matches_targets(address: str, targets: Sequence[str]) -> bool:
    return not targets or any(fnmatch.fnmatchcase(address, t) for t in targets)


def live_fingerprint(live: Live | None) -> str | None:
    if live is None:
        return None
    payload = {"id": live.id, "fields": live.fields, "status": live.status}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def index_live(
    objs: Iterable[Live], recorded: Mapping[tuple[str, str], str]
) -> tuple[dict[tuple[str, str], Live], list[Live]]:
    """Live objects by (scope, key), one each, and the duplicates left over.

    A provider may hold several objects for one key (three Cloudflare connectors for one
    domain). The one state records (by id) is the one managed, else the last listed; the others
    are returned, to be reported, never hidden or silently adopted."""
    chosen: dict[tuple[str, str], Live] = {}
    extras: list[Live] = []
    for obj in objs:
        key = (obj.scope, obj.key)
        other = chosen.get(key)
        if other is not None and recorded.get(key) == other.id:
            extras.append(obj)
            continue
        if other is not None:
            extras.append(other)
        chosen[key] = obj
    return chosen, extras


@dataclass
class _InstanceInput:
    driver: Driver
    desired: list[Desired] = field(default_factory=list)
    owned: dict[str, ResourceState] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    """New address -> the address state records the object at (a rename)."""


class Planner:
    def __init__(
        self,
        manifest: Manifest,
        manifest_digest: str,
        state: State,
        drivers: Mapping[str, Driver],
        desired: Sequence[Desired],
        options: PlanOptions,
        secrets: SecretResolver | None = None,
    ) -> None:
        self.manifest = manifest
        self.digest = manifest_digest
        self.state = state
        self.drivers = drivers
        self.desired = [d for d in desired if options.includes(d.address, d.tenant, d.provider)]
        self._declared = {d.address for d in desired}
        """Every address the manifest declares (whatever the targets)."""
        self.options = options
        self._key = state_key(state)
        self.secrets = secrets or SecretResolver(
            allow_outside=options.allow_outside_files, placeholders=options.placeholder_secrets
        )
        """The run's secret resolver (its policy, cache and redaction registry)."""
        self.live: dict[tuple[str, str, str], Live] = {}
        """Every live object the last `plan()` read, by (provider instance, scope, key)."""
        self.on_read: Callable[[dict[str, int]], None] | None = None
        """Told, before reading, the fewest requests each provider instance's read takes."""

    def secret_value(self, desired: Desired, name: str) -> str:
        """The resolved value of one of `desired`'s secrets (through the run's resolver)."""
        return self.secrets.value(desired, name)

    async def read_live(
        self, inputs: Mapping[str, _InstanceInput]
    ) -> dict[str, dict[str, list[Live]]]:
        scopes = {
            name: sorted({d.scope for d in item.desired} | {r.scope for r in item.owned.values()})
            for name, item in inputs.items()
        }
        if self.on_read is not None:
            self.on_read({n: inputs[n].driver.read_calls(len(s)) for n, s in scopes.items()})

        async def read(name: str, item: _InstanceInput) -> tuple[str, dict[str, list[Live]]]:
            wanted = scopes[name]
            return name, await item.driver.read_scopes(wanted) if wanted else {}

        results = await asyncio.gather(*(read(n, i) for n, i in inputs.items()))
        return dict(results)

    def inputs(self) -> dict[str, _InstanceInput]:
        inputs = {name: _InstanceInput(driver) for name, driver in self.drivers.items()}
        for desired in self.desired:
            inputs[desired.provider].desired.append(desired)
        declared = {d.address: d for d in self.desired}
        sources: set[str] = set()
        for move in self.manifest.moved:  # `moved:` entries: state follows to the new address
            res = self.state.resources.get(move.from_)
            target = declared.get(move.to)
            if res is None or target is None or move.to in self.state.resources:
                continue
            inputs[target.provider].moved[move.to] = move.from_
            inputs[target.provider].owned[move.from_] = res
            sources.add(move.from_)
        for address, res in self.state.resources.items():
            tenant = address.split("/", 1)[0]
            if address in sources:
                continue
            if res.provider in inputs and self.options.includes(address, tenant, res.provider):
                inputs[res.provider].owned[address] = res
        return {n: i for n, i in inputs.items() if i.desired or i.owned}

    async def plan(self) -> Plan:
        plan, _ = await self.plan_with_live()
        return plan

    async def plan_with_live(self) -> tuple[Plan, dict[str, dict[str, list[Live]]]]:
        """The plan and the live objects it was made from (by instance, then scope)."""
        inputs = self.inputs()
        live = await self.read_live(inputs)
        self.live = {}
        duplicates: list[str] = []
        indexed: dict[str, tuple[dict[tuple[str, str], Live], list[Live]]] = {}
        for name, scopes in live.items():
            indexed[name] = index_live(
                (obj for objs in scopes.values() for obj in objs), self._recorded(name)
            )
            by_key, extras = indexed[name]
            self.live.update({(name, *key): obj for key, obj in by_key.items()})
            duplicates += _duplicate_warnings(name, by_key, extras)
        changes: list[ResourceChange] = []
        unmanaged: list[Unmanaged] = []
        unsafe: list[str] = []
        for name, item in inputs.items():
            instance_changes, instance_unmanaged = self._plan_instance(name, item, *indexed[name])
            changes.extend(instance_changes)
            unmanaged.extend(instance_unmanaged)
            reason = self._threshold(name, item, instance_changes)
            if reason:
                unsafe.append(reason)
        changes.sort(key=lambda c: c.address)
        changing = {c.address for c in changes if c.is_change}
        pins = tuple(
            SecretPin(
                address=d.address,
                field=f,
                ref=ref.describe(),
                fingerprint=fingerprint(self._key, f, self.secret_value(d, f)),
            )
            for d in self.desired
            if d.address in changing
            for f, ref in sorted(d.secrets.items())
        )
        plan = Plan(
            manifest_digest=self.digest,
            state=StatePin(lineage=self.state.lineage, serial=self.state.serial),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            changes=tuple(changes),
            unmanaged=tuple(sorted(unmanaged, key=lambda u: (u.provider, u.scope, u.key))),
            secrets=pins,
            unsafe=tuple(unsafe),
            targets=self.options.targets,
            allow_delete=self.options.allow_delete,
            partial=bool(self.options.targets)
            or self.options.partial_reason is not None
            or self.options.only is not None,
            ssoform_version=__version__,
            warnings=tuple(
                w
                for w in (
                    self.options.partial_reason,
                    self.options.only.describe() if self.options.only else None,
                    *duplicates,
                )
                if w
            ),
        )
        return plan, live

    # --- one provider instance -------------------------------------------------------------

    def _recorded(self, name: str) -> dict[tuple[str, str], str]:
        return {(r.scope, r.key): r.id for r in self.state.resources.values() if r.provider == name}

    def _plan_instance(
        self,
        name: str,
        item: _InstanceInput,
        by_key: Mapping[tuple[str, str], Live],
        extras: Sequence[Live],
    ) -> tuple[list[ResourceChange], list[Unmanaged]]:
        moved = self._moves(item, by_key)
        changes = [
            self._plan_desired(item.driver, d, by_key, moved.get(d.address)) for d in item.desired
        ]
        wanted = {d.address for d in item.desired} | set(moved.values())
        kept = {(c.scope, c.live_id): c.address for c in changes if c.live_id}
        for address, res in item.owned.items():
            if address not in wanted:
                change = self._plan_removed(item.driver, address, res, by_key)
                keeper = kept.get((change.scope, change.live_id or ""))
                if change.action is Action.DELETE and keeper is not None:
                    change = _with_action(
                        change,
                        Action.FORGET,
                        reason=KEPT_ELSEWHERE,
                        notes=(
                            f"the same live object is kept at {keeper}: "
                            "only this state record is dropped, nothing is deleted",
                        ),
                    )
                changes.append(change)
        claimed = {(d.scope, d.key) for d in item.desired}
        claimed |= {(r.scope, r.key) for r in self.state.resources.values() if r.provider == name}
        drv = item.driver
        unclaimed = [obj for key, obj in sorted(by_key.items()) if key not in claimed]
        unmanaged = [
            Unmanaged(
                provider=name,
                provider_type=drv.type_name,
                scope=obj.scope,
                key=obj.key,
                id=obj.id,
                fields=drv.describe_unmanaged(obj),
            )
            for obj in [*unclaimed, *extras]
        ]
        return changes, unmanaged

    def _moves(
        self, item: _InstanceInput, live_by_key: Mapping[tuple[str, str], Live]
    ) -> dict[str, str]:
        """Renames (new address -> old): the `moved:` entries, then every declared resource not in
        state whose live object state records, under this instance, at an address no longer
        declared. One live object is never both kept and deleted."""
        moved = dict(item.moved)
        taken = set(moved.values())
        by_id: dict[tuple[str, str], str] = {}  # ids are unique within a scope only
        name = item.driver.name
        for address, res in sorted(self.state.resources.items()):  # outside --target too
            if res.provider != name or address in self._declared or address in taken:
                continue
            if res.id:
                by_id.setdefault((res.scope, res.id), address)
        for desired in item.desired:
            if desired.address in moved or desired.address in self.state.resources:
                continue
            live = live_by_key.get((desired.scope, desired.key))
            old = by_id.pop((live.scope, live.id), None) if live is not None else None
            if old is not None:
                moved[desired.address] = old
        return moved

    def _plan_desired(
        self,
        driver: Driver,
        desired: Desired,
        live_by_key: Mapping[tuple[str, str], Live],
        moved_from: str | None = None,
    ) -> ResourceChange:
        change = self._plan_declared(driver, desired, live_by_key, moved_from)
        if moved_from is None:
            return change
        if change.action is Action.NOOP:
            return _with_action(change, Action.MOVE, reason=RENAMED, previous_address=moved_from)
        return change.model_copy(update={"previous_address": moved_from})

    def _plan_declared(
        self,
        driver: Driver,
        desired: Desired,
        live_by_key: Mapping[tuple[str, str], Live],
        moved_from: str | None,
    ) -> ResourceChange:
        caps = driver.capabilities
        live = live_by_key.get((desired.scope, desired.key))
        owned = self.state.resources.get(moved_from or desired.address)
        base = self._base(driver, desired, live)
        after = {
            **desired.fields,
            **desired.write_only,
            **dict.fromkeys(desired.secrets, SENSITIVE),
        }
        write_only = self._write_only_changes(desired, owned)
        if live is None and caps.existence_observable:
            reason = "deleted_outside_ssoform" if owned else "new"
            guidance = driver.guidance(desired, None, [])
            action = Action.CREATE if caps.can_create else Action.MANUAL
            return ResourceChange.make(
                **base,
                action=action,
                reason=reason,
                after=after,
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
        if live is None:  # existence not observable and the scope object is gone
            return ResourceChange.make(
                **base,
                action=Action.MANUAL,
                reason="scope_not_found",
                after=after,
                manual=f"{desired.scope} was not found at {driver.name}: check the manifest",
            )
        readable = diff_fields(live.fields, desired.fields)
        pending_wo = [c for c in write_only if c.write_only != "unchanged"]
        all_changes = readable + pending_wo
        guidance = driver.guidance(desired, live, all_changes)
        if guidance.hold_fields:
            all_changes = [
                c for c in all_changes if c.path.split(".")[0] not in guidance.hold_fields
            ]
        before = dict(live.fields)
        common = {**base, "before": before, "after": after, "notes": guidance.notes}
        immutable = sorted({c.path.split(".")[0] for c in readable} & caps.immutable)
        if owned is None and caps.existence_observable:
            if immutable or (readable and not caps.can_update):
                return ResourceChange.make(
                    **common,
                    action=Action.MANUAL,
                    reason="adopt_needs_manual_change",
                    changes=tuple(all_changes),
                    manual=guidance.manual or _manual_default(driver, readable),
                )
            return ResourceChange.make(
                **common,
                action=Action.ADOPT,
                reason="matches_by_natural_key",
                changes=tuple(all_changes),
                blocked=guidance.blocked,
            )
        if not all_changes:
            action = Action.BLOCKED if guidance.blocked else Action.NOOP
            return ResourceChange.make(**common, action=action, reason="", blocked=guidance.blocked)
        if immutable:
            if caps.can_delete and caps.can_create and not desired.protect:
                return ResourceChange.make(
                    **common,
                    action=Action.REPLACE,
                    reason="immutable_field_changed",
                    changes=tuple(all_changes),
                    replace_fields=tuple(immutable),
                    blocked=guidance.blocked,
                )
            return ResourceChange.make(
                **common,
                action=Action.MANUAL,
                reason="immutable_field_changed",
                changes=tuple(all_changes),
                replace_fields=tuple(immutable),
                manual=guidance.manual or _manual_default(driver, readable),
            )
        if not caps.can_update:
            only_unverifiable = all(c.write_only == "unverifiable" for c in all_changes)
            if only_unverifiable:
                return ResourceChange.make(
                    **common,
                    action=Action.NOOP,
                    reason="write_only_unverifiable",
                    changes=tuple(all_changes),
                )
            return ResourceChange.make(
                **common,
                action=Action.MANUAL,
                reason="update_not_supported",
                changes=tuple(all_changes),
                manual=guidance.manual or _manual_default(driver, all_changes),
            )
        reason = "write_only_unverifiable" if owned is None else "fields_changed"
        return ResourceChange.make(
            **common,
            action=Action.UPDATE,
            reason=reason,
            changes=tuple(all_changes),
            blocked=guidance.blocked,
        )

    def _plan_removed(
        self,
        driver: Driver,
        address: str,
        res: ResourceState,
        live_by_key: Mapping[tuple[str, str], Live],
    ) -> ResourceChange:
        live = live_by_key.get((res.scope, res.key))
        tenant = address.split("/", 1)[0]
        base: dict[str, Any] = {
            "address": address,
            "tenant": tenant,
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
            return ResourceChange.make(
                **base, action=Action.NOOP, reason="protected", notes=(note,)
            )
        if live is None and driver.capabilities.existence_observable:
            return ResourceChange.make(
                **base, action=Action.FORGET, reason="gone_from_live_and_manifest"
            )
        instance = self.manifest.providers.get(res.provider)
        if not (self.options.allow_delete or getattr(instance, "prune", False)):
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

    def _base(self, driver: Driver, desired: Desired, live: Live | None) -> dict[str, Any]:
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

    def _write_only_changes(
        self, desired: Desired, owned: ResourceState | None
    ) -> list[FieldChange]:
        out = []
        recorded = owned.fingerprints if owned else {}
        items: list[tuple[str, Any, bool]] = [
            (k, v, False) for k, v in sorted(desired.write_only.items())
        ]
        items += [(k, self.secret_value(desired, k), True) for k in sorted(desired.secrets)]
        for name, value, sensitive in items:
            now = fingerprint(self._key, name, value)
            was = recorded.get(name)
            status = "unverifiable" if was is None else ("unchanged" if was == now else "changed")
            out.append(
                FieldChange(
                    path=name,
                    before=None,
                    after=None if sensitive else value,
                    sensitive=sensitive,
                    write_only=status,
                )
            )
        return out

    def _threshold(
        self, name: str, item: _InstanceInput, changes: list[ResourceChange]
    ) -> str | None:
        existing = sum(1 for c in changes if c.live_id is not None)
        risky = sum(
            1 for c in changes if c.action in (Action.UPDATE, Action.DELETE, Action.REPLACE)
        )
        if existing < self.options.threshold_min_existing or existing == 0:
            return None
        share = risky / existing
        if share <= self.options.threshold:
            return None
        return (
            f"{name}: {risky} of {existing} existing resources would be updated, replaced or "
            f"deleted ({share:.0%} > {self.options.threshold:.0%}); apply needs --force"
        )


def _with_action(change: ResourceChange, action: Action, **update: Any) -> ResourceChange:
    """`change` with another action (its `change.actions` derived again)."""
    detail = change.change.model_copy(update={"actions": terraform_actions(action, change.changes)})
    return change.model_copy(update={"action": action, "change": detail, **update})


def _duplicate_warnings(
    name: str, by_key: Mapping[tuple[str, str], Live], extras: Sequence[Live]
) -> list[str]:
    others: dict[tuple[str, str], list[str]] = {}
    for obj in extras:
        others.setdefault((obj.scope, obj.key), []).append(obj.id)
    return [
        f"{DUPLICATE}{name} holds {len(ids) + 1} live objects for {scope}/{key} (ids "
        f"{', '.join([by_key[(scope, key)].id, *ids])}): ssoform manages id "
        f"{by_key[(scope, key)].id}; the others are listed as unmanaged: remove the duplicates "
        "by hand"
        for (scope, key), ids in sorted(others.items())
    ]


def _manual_default(driver: Driver, changes: Sequence[FieldChange]) -> str:
    fields = ", ".join(sorted({c.path.split(".")[0] for c in changes})) or "this resource"
    return f"{driver.type_name}'s API cannot change {fields}: make the change by hand"
