"""Planning: desired (manifest) against live (drivers) and state, into an immutable `Plan`.

The workflow lives here, once: expand the manifest into desired resources, read each provider
instance's scopes through its driver (instances in parallel), diff readable fields against live
and write-only fields against state fingerprints, ask the driver for guidance (blocked, manual,
warnings), then apply the safety rails: delete gating, protection and change thresholds. What
one declared resource needs is decided in `declared`, what a removed one needs in `removed`;
`live_index` indexes the live objects and finds duplicates and unmanaged ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssoform import __version__
from ssoform.drivers.base import Driver, refuse_secret_id
from ssoform.engine.declared import plan_declared
from ssoform.engine.live_index import duplicate_warnings, index_live, unmanaged_objects
from ssoform.engine.plan import Action, Plan, ResourceChange, SecretPin, StatePin, Unmanaged
from ssoform.engine.removed import kept_elsewhere, plan_removed
from ssoform.engine.state import ResourceState, State, fingerprint, state_key
from ssoform.manifest.changed_since import ChangeScope
from ssoform.manifest.models import Manifest
from ssoform.manifest.secrets import SecretResolver
from ssoform.model import Desired, FieldChange, Live

__all__ = ["PlanOptions", "Planner", "matches_targets"]


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
            duplicates += duplicate_warnings(name, by_key, extras)
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
        ).without_secrets()
        for change in plan.changes:
            refuse_secret_id(change.provider, change.live_id)
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
                    change = kept_elsewhere(change, keeper)
                changes.append(change)
        claimed = {(d.scope, d.key) for d in item.desired}
        claimed |= {(r.scope, r.key) for r in self.state.resources.values() if r.provider == name}
        return changes, unmanaged_objects(name, item.driver, by_key, extras, claimed)

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
        moved_from: str | None,
    ) -> ResourceChange:
        live = live_by_key.get((desired.scope, desired.key))
        owned = self.state.resources.get(moved_from or desired.address)
        write_only = self._write_only_changes(desired, owned)
        return plan_declared(driver, desired, live, owned, write_only, moved_from)

    def _plan_removed(
        self,
        driver: Driver,
        address: str,
        res: ResourceState,
        live_by_key: Mapping[tuple[str, str], Live],
    ) -> ResourceChange:
        instance = self.manifest.providers.get(res.provider)
        may_delete = self.options.allow_delete or bool(getattr(instance, "prune", False))
        live = live_by_key.get((res.scope, res.key))
        return plan_removed(driver, address, res, live, may_delete=may_delete)

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
