"""Applying a plan: refuse it when stale, then carry it out concurrently, recording as we go.

Before anything is sent, the workflow checks that the manifest and the state are those the plan
was made for (`check_fresh`) and derives the plan again from them and the live objects
(`engine/authority.py`): what runs here is always a plan the engine derived. Changes then run
concurrently across provider instances and scopes, within each instance's shared budget. Every
success is written to state at once (so a crash loses nothing); a create that fails ambiguously
is never retried blindly: the scope is re-read and what was created is adopted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from ssoform.drivers.base import Driver, refuse_secret_id
from ssoform.engine.backend import StateBackend
from ssoform.engine.limits import BudgetStats
from ssoform.engine.plan import Action, Plan, ResourceChange
from ssoform.engine.state import ResourceState, State, fingerprint, state_key
from ssoform.errors import DriverError, StalePlanError
from ssoform.manifest.secrets import SecretResolver
from ssoform.model import Desired, Live

__all__ = ["Applier", "ApplyResult", "check_fresh"]


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, BudgetStats] = field(default_factory=dict)
    """Requests, 429s and waits per provider instance."""

    @property
    def ok(self) -> bool:
        return not self.failed


def check_fresh(plan: Plan, *, manifest_digest: str, state: State, replan: bool = False) -> None:
    """Refuse a plan made for another manifest or state (`replan`: another state lineage only,
    since the plan is made again against the current manifest and state)."""
    if not replan and plan.manifest_digest != manifest_digest:
        raise StalePlanError(
            "the manifest changed since the plan was made (digest mismatch); plan again "
            "(or apply it with --replan)"
        )
    if plan.state_lineage != state.lineage:
        raise StalePlanError(
            f"the plan was made for another state (lineage {plan.state_lineage}, "
            f"the state's is {state.lineage})"
        )
    if not replan and plan.state_serial != state.serial:
        raise StalePlanError(
            f"the state changed since the plan was made (serial {plan.state_serial} in the "
            f"plan, {state.serial} now): an apply ran in between; plan again "
            "(or apply it with --replan)"
        )


class Applier:
    """Carries out a plan the engine derived, recording each outcome in state as it lands."""

    def __init__(
        self,
        plan: Plan,
        secrets: SecretResolver,
        drivers: Mapping[str, Driver],
        desired: Mapping[str, Desired],
        state: State,
        backend: StateBackend,
    ) -> None:
        self.plan = plan
        self.secrets = secrets
        self.drivers = drivers
        self.desired = desired
        self.state = state
        self.backend = backend
        self._key = state_key(state)
        self._write_lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._generation = 0
        """Counts changes to the in-memory state; `_durable` is the last one written."""
        self._durable = 0
        self._write_seconds = 0.0
        """How long the last state write took; the next one waits as long again, twice."""
        self._written_at = 0.0
        self._dirty: set[str] = set()
        """Addresses recorded since the last write: all a row-writing backend stores."""
        self._live: dict[tuple[str, str, str], Live] = {}
        self.result = ApplyResult()

    def minimal_calls(self) -> dict[str, int]:
        """The fewest requests this apply takes per provider instance: one per change."""
        calls: dict[str, int] = {}
        for change in self._changes():
            if change.action is not Action.MOVE:  # a move only rewrites state
                calls[change.provider] = calls.get(change.provider, 0) + 1
        return calls

    def use_live(self, live: Mapping[tuple[str, str, str], Live]) -> None:
        """The live objects the plan was derived from (read by the plan or by its re-derivation
        under this same lock), by (provider instance, scope, key)."""
        self._live = dict(live)

    def _changes(self) -> list[ResourceChange]:
        return [c for c in self.plan.changes if c.is_change]

    # --- carrying out ------------------------------------------------------------------------

    async def run(self) -> ApplyResult:
        await self._sync_protection()
        await asyncio.gather(*(self._apply_one(c) for c in self._changes()))
        for change in self.plan.changes:
            if change.action in (Action.MANUAL, Action.BLOCKED):
                why = change.manual or change.blocked or change.action.value
                self.result.skipped.append((change.address, why))
        return self.result

    async def _sync_protection(self) -> None:
        """Record `protect` from the manifest for resources already in state (no API call)."""
        dirty = False
        for address, desired in self.desired.items():
            res = self.state.resources.get(address)
            if res is not None and res.protect != desired.protect:
                res.protect = desired.protect
                self._dirty.add(address)
                dirty = True
        if dirty:
            await self._save()

    async def _apply_one(self, change: ResourceChange) -> None:
        address = change.address
        action = change.action
        if change.previous_address:
            await self._move(change)
            if action is Action.MOVE:
                return
        driver = self.drivers[change.provider]
        live = self._live.get((change.provider, change.scope, change.key))
        desired = self.desired.get(address)
        try:
            if change.previous_address:
                await self._move(change)
                if action is Action.MOVE:
                    return
            if action is Action.FORGET:
                await self._record(address, "forget", None, None, remove=True)
                return
            if action is Action.DELETE:
                if live is not None:
                    await driver.delete(live)
                await self._record(address, "delete", None, None, remove=True)
                return
            assert desired is not None
            secrets = {k: self.secrets.value(desired, k) for k in desired.secrets}
            if action is Action.REPLACE:
                if live is not None:
                    await driver.delete(live)
                    await self._record(address, "delete (replace)", None, None, remove=True)
                await self._create(driver, desired, secrets, "replace")
            elif action is Action.CREATE:
                await self._create(driver, desired, secrets, "create")
            else:
                changes = list(change.changes)
                obj = live
                unsent: set[str] = set()
                if changes and driver.capabilities.can_update:
                    obj = await driver.update(desired, live, changes, secrets) or live
                elif changes:  # adopting where nothing can be sent: write-only stays unverified
                    unsent = {c.path for c in changes if c.write_only}
                origin = "adopted" if action is Action.ADOPT else None
                await self._record(
                    address, action.value, desired, obj, origin=origin, unsent=unsent
                )
        except DriverError as exc:
            await self._fail(address, action.value, str(exc))
        except NotImplementedError as exc:
            await self._fail(address, action.value, str(exc))

    async def _create(
        self, driver: Driver, desired: Desired, secrets: Mapping[str, str], action: str
    ) -> None:
        """Create; after an ambiguous or retryable failure, re-read first and adopt what is
        there, and create again only when the object is confirmed absent."""
        failure: DriverError | None = None
        for _ in range(_CREATE_ATTEMPTS):
            try:
                obj = await driver.create(desired, secrets)
            except DriverError as exc:
                if not (exc.ambiguous or exc.retryable):
                    raise
                failure = exc
                found = await self._find_after_ambiguous(driver, desired)
                if found is None:
                    continue
                await self._record(
                    desired.address,
                    action,
                    desired,
                    found,
                    origin="created",
                    outcome="adopted",
                    detail=f"the create failed ambiguously ({exc}); found the object and kept it",
                )
                return
            await self._record(desired.address, action, desired, obj, origin="created")
            return
        assert failure is not None
        raise failure

    async def _find_after_ambiguous(self, driver: Driver, desired: Desired) -> Live | None:
        try:
            objs = await driver.read_scope(desired.scope)
        except DriverError:
            return None
        return next((o for o in objs if o.key == desired.key), None)

    async def _record(
        self,
        address: str,
        action: str,
        desired: Desired | None,
        obj: Live | None,
        *,
        remove: bool = False,
        origin: str | None = None,
        outcome: str = "ok",
        detail: str = "",
        unsent: set[str] | None = None,
    ) -> None:
        if obj is not None and desired is not None:
            refuse_secret_id(desired.provider, obj.id)
        async with self._write_lock:
            if remove:
                self.state.resources.pop(address, None)
            elif desired is not None:
                previous = self.state.resources.get(address)
                prints = {k: fingerprint(self._key, k, v) for k, v in desired.write_only.items()}
                prints.update(
                    {
                        k: fingerprint(self._key, k, self.secrets.value(desired, k))
                        for k in desired.secrets
                    }
                )
                for name in unsent or ():
                    prints.pop(name, None)
                driver = self.drivers[desired.provider]
                self.state.resources[address] = ResourceState(
                    provider=desired.provider,
                    provider_type=driver.type_name,
                    scope=desired.scope,
                    key=desired.key,
                    id=obj.id if obj else (previous.id if previous else ""),
                    origin=origin or (previous.origin if previous else "created"),
                    protect=desired.protect,
                    fingerprints=prints,
                )
            self.state.journal_append(address, action, outcome, detail)  # type: ignore[arg-type]
            self._dirty.add(address)
            self.result.applied.append(address)
            generation = self._touch()
        await self._flush(generation)

    async def _move(self, change: ResourceChange) -> None:
        """State follows a renamed object to its new address; nothing is sent."""
        old, new = change.previous_address or "", change.address
        async with self._write_lock:
            if old in self.state.resources and new not in self.state.resources:
                res = self.state.move(old, new)
                res.provider, res.provider_type = change.provider, change.provider_type
                res.scope, res.key, res.protect = change.scope, change.key, change.protect
            if change.action is Action.MOVE:
                self.result.applied.append(new)
            generation = self._touch()
        await self._flush(generation)

    async def _fail(self, address: str, action: str, message: str) -> None:
        async with self._write_lock:
            self.state.journal_append(address, action, "failed", message)
            self.result.failed.append((address, message))
            generation = self._touch()
        await self._flush(generation)

    async def _save(self) -> None:
        async with self._write_lock:
            generation = self._touch()
        await self._flush(generation)

    def _touch(self) -> int:
        self._generation += 1
        return self._generation

    async def _flush(self, generation: int) -> None:
        """Return once the state holding change `generation` is on disk.

        Group commit: while one write runs, the records made meanwhile wait, and the next write
        carries all of them. Every success is still durable before its change completes (crash
        safety), but a large apply makes a few dozen writes of the state, not one per change
        (each costs O(n): O(n^2) in all). A write of the whole state holds the interpreter, so
        the next one starts only after a pause twice as long as the last one took: writes take
        at most a third of the time, and the requests in flight, which never wait for a write,
        keep their pace (as PostgreSQL's `commit_delay` trades latency for throughput).
        """
        async with self._flush_lock:
            if self._durable >= generation:
                return
            loop = asyncio.get_running_loop()
            pause = self._written_at + 2 * self._write_seconds - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            async with self._write_lock:
                target = self._generation
                self.state.serial += 1
                started = loop.time()
                changed, self._dirty = self._dirty, set()
                await asyncio.to_thread(self.backend.write, self.state, changed)
                self._written_at = loop.time()
                self._write_seconds = self._written_at - started
                self._durable = target


_CREATE_ATTEMPTS = 3
