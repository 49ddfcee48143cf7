"""The engine's entry points: plan and apply, from a loaded manifest and a state backend."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ssoform.engine.apply import Applier, ApplyResult, check_fresh
from ssoform.engine.backend import StateBackend
from ssoform.engine.drift import DriftOptions, build_report
from ssoform.engine.drift_model import DriftReport
from ssoform.engine.limits import BudgetStats
from ssoform.engine.plan import Plan
from ssoform.engine.planner import Planner, PlanOptions
from ssoform.engine.runner import RunConfig, expand_desired, open_drivers
from ssoform.engine.state import State
from ssoform.errors import PlanError
from ssoform.idp.findings import IdpSide
from ssoform.idp.read import resolve_from_metadata
from ssoform.idp.run import binding_of, note_picks, read_for
from ssoform.manifest.diagnostics import path_to_str
from ssoform.manifest.load import LoadedManifest
from ssoform.model import Desired, Live

__all__ = ["PlanOutcome", "apply_plan", "load_state", "make_drift", "make_plan"]


@dataclass
class PlanOutcome:
    plan: Plan
    stats: dict[str, BudgetStats]
    live: dict[tuple[str, str, str], Live]
    """The live objects the plan read, for an apply that follows at once (`use_live`)."""
    desired: list[Desired]
    """The manifest's resources, expanded, for an apply of the same loaded manifest."""


def load_state(backend: StateBackend, *, create: bool) -> State:
    """The current state; a new one is written first when missing and `create` is set.

    Writing the empty state at the first plan pins its lineage, so a plan made before any state
    existed cannot be applied twice (a known Terraform gap).
    """
    state = backend.read()
    if state is None:
        state = State()
        if create:
            backend.write(state)
    return state


def _check_loaded(loaded: LoadedManifest) -> None:
    if loaded.manifest is None or not loaded.ok:
        raise PlanError("the manifest is not valid; run `ssoform validate` to see why")


async def make_plan(
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    options: PlanOptions,
    manifest_paths: Sequence[str] = (),
) -> PlanOutcome:
    _check_loaded(loaded)
    loaded, picks = resolve_from_metadata(loaded, await read_for(loaded, config, everything=False))
    assert loaded.manifest is not None
    state = load_state(backend, create=True)
    desired = expand_desired(loaded, config)
    if config.sandbox is not None:
        options = dataclasses.replace(options, placeholder_secrets=True)
    async with open_drivers(loaded, config) as drivers:
        planner = Planner(
            loaded.manifest, loaded.digest(), state, drivers.drivers, desired, options
        )
        progress = config.progress
        if progress is not None:
            budgets = drivers.budgets
            planner.on_read = lambda totals: progress.begin("reading", budgets, totals)
        plan = note_picks(await planner.plan(), binding_of(loaded, config), picks)
        stats = {n: b.stats for n, b in drivers.budgets.items()}
    return PlanOutcome(
        plan.with_paths(manifest_paths, sandbox=config.sandbox is not None),
        stats,
        planner.live,
        desired,
    )


async def make_drift(
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    options: PlanOptions,
    drift: DriftOptions,
    manifest_paths: Sequence[str] = (),
) -> DriftReport:
    """Read everything in scope and report drift; reads state, never writes it."""
    _check_loaded(loaded)
    readouts = await read_for(loaded, config, everything=True)
    written = loaded.manifest
    assert written is not None
    loaded, _picks = resolve_from_metadata(loaded, readouts)
    assert loaded.manifest is not None
    state = load_state(backend, create=False)
    desired = expand_desired(loaded, config)
    options = dataclasses.replace(options, allow_delete=False)
    if config.sandbox is not None:
        options = dataclasses.replace(options, placeholder_secrets=True)
    async with open_drivers(loaded, config) as drivers:
        planner = Planner(
            loaded.manifest, loaded.digest(), state, drivers.drivers, desired, options
        )
        plan, live = await planner.plan_with_live()
        plan = plan.with_paths(manifest_paths, sandbox=config.sandbox is not None)
        certificates = {path_to_str(p): c for p, c in loaded.certificates.items()}
        idp = IdpSide(written, readouts, binding_of(loaded, config))
        return build_report(plan, live, drivers.drivers, certificates, drift, idp)


async def apply_plan(
    plan: Mapping[str, Any],
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    *,
    force: bool = False,
    live: Mapping[tuple[str, str, str], Live] | None = None,
    desired: Sequence[Desired] | None = None,
) -> ApplyResult:
    """Apply a saved plan's data under the state lock, refusing it when stale.

    `live` is given only when the plan was made moments ago in this run and applied without a
    pause (`apply MANIFEST --auto-approve`): the live objects it read are used instead of being
    read again. Otherwise every scope the plan changes is re-read and checked. `desired` is the
    plan's expansion of this same `loaded` manifest, when there is one.
    """
    _check_loaded(loaded)
    loaded, _picks = resolve_from_metadata(loaded, await read_for(loaded, config, everything=False))
    assert loaded.manifest is not None
    with backend.lock("apply"):
        state = load_state(backend, create=False)
        check_fresh(plan, manifest_digest=loaded.digest(), state=state, force=force)
        if desired is None:
            desired = expand_desired(loaded, config)
        names = {c["provider"] for c in plan["resource_changes"]}
        async with open_drivers(loaded, config, names) as drivers:
            options = PlanOptions(
                allow_outside_files=config.allow_outside_files,
                placeholder_secrets=config.sandbox is not None,
            )
            planner = Planner(
                loaded.manifest, loaded.digest(), state, drivers.drivers, desired, options
            )
            applier = Applier(
                plan,
                planner,
                drivers.drivers,
                {d.address: d for d in desired},
                state,
                backend,
            )
            applier.check_secrets()
            if config.progress is not None:
                config.progress.begin("applying", drivers.budgets, applier.minimal_calls(live))
            if live is None:
                await applier.check_live()
            else:
                applier.use_live(live)
            result = await applier.run()
            result.stats = {n: b.stats for n, b in drivers.budgets.items()}
            return result


def run(coro: Any) -> Any:
    return asyncio.run(coro)
