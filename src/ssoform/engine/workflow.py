"""The engine's entry points: plan and apply, from a loaded manifest and a state backend."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ssoform.engine.apply import Applier, ApplyResult, check_fresh
from ssoform.engine.authority import exact_targets, plan_differences, replan_differences
from ssoform.engine.backend import StateBackend
from ssoform.engine.drift import DriftOptions, build_report
from ssoform.engine.drift_model import DriftReport
from ssoform.engine.limits import Budget, BudgetStats
from ssoform.engine.plan import Plan
from ssoform.engine.planner import Planner, PlanOptions
from ssoform.engine.state import State, state_key
from ssoform.engine.wiring import DriverSet, RunConfig, expand_desired, open_drivers
from ssoform.errors import PlanError, StalePlanError, UnsafePlanError
from ssoform.idp.findings import IdpSide
from ssoform.idp.read import resolve_from_metadata
from ssoform.idp.run import binding_of, note_picks, read_for
from ssoform.idp.unreadable import set_aside_unreadable
from ssoform.manifest.diagnostics import path_to_str
from ssoform.manifest.load import LoadedManifest
from ssoform.manifest.secrets import SecretResolver
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
    key: bytes
    """The state's key, which seals a saved plan."""


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
            state = backend.read() or state  # a run that created it at the same moment wins
    return state


def _sharing_budgets(config: RunConfig, backend: StateBackend) -> RunConfig:
    """Runs on a shared state backend share each provider credential's request budget."""
    if config.shared_budgets is not None:
        return config
    shared = backend.rate_budgets()
    return config if shared is None else dataclasses.replace(config, shared_budgets=shared)


def _check_loaded(loaded: LoadedManifest) -> None:
    if loaded.manifest is None or not loaded.ok:
        raise PlanError("the manifest is not valid; run `ssoform validate` to see why")


def _planner(
    loaded: LoadedManifest,
    state: State,
    drivers: DriverSet,
    desired: Sequence[Desired],
    options: PlanOptions,
    config: RunConfig,
    resolver: SecretResolver | None,
) -> Planner:
    """The planner over `drivers`, telling the run's progress (if any) what it reads."""
    assert loaded.manifest is not None
    planner = Planner(
        loaded.manifest, loaded.digest(), state, drivers.drivers, desired, options, resolver
    )
    progress = config.progress
    if progress is not None:
        budgets = drivers.budgets
        planner.on_read = lambda totals: progress.begin("reading", budgets, totals)
    return planner


def _stamped(plan: Plan, manifest_paths: Sequence[str], config: RunConfig) -> Plan:
    """`plan` naming the manifest files it was made from and whether it ran in the sandbox."""
    return plan.model_copy(
        update={"manifest_paths": tuple(manifest_paths), "sandbox": config.sandbox is not None}
    )


async def make_plan(
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    options: PlanOptions,
    manifest_paths: Sequence[str] = (),
) -> PlanOutcome:
    _check_loaded(loaded)
    config = _sharing_budgets(config, backend)
    loaded, picks = resolve_from_metadata(loaded, await read_for(loaded, config, everything=False))
    assert loaded.manifest is not None
    state = load_state(backend, create=True)
    desired = expand_desired(loaded, config)
    async with open_drivers(loaded, config) as drivers:
        planner = _planner(loaded, state, drivers, desired, options, config, config.secrets)
        plan = note_picks(await planner.plan(), binding_of(loaded, config), picks)
        stats = {n: b.stats for n, b in drivers.budgets.items()}
    return PlanOutcome(
        _stamped(plan, manifest_paths, config),
        stats,
        planner.live,
        desired,
        state_key(state),
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
    loaded, set_aside = set_aside_unreadable(loaded, readouts)
    skip = frozenset(s.idp for s in set_aside)
    loaded, _picks = resolve_from_metadata(loaded, readouts, skip=skip)
    assert loaded.manifest is not None
    config = _sharing_budgets(config, backend)
    state = load_state(backend, create=False)
    desired = expand_desired(loaded, config)
    options = dataclasses.replace(options, allow_delete=False)
    if set_aside:
        names = ", ".join(sorted(skip))
        reason = f"connections signing in with {names} not compared: metadata unreadable"
        options = dataclasses.replace(options, partial_reason=options.partial_reason or reason)
    async with open_drivers(loaded, config) as drivers:
        planner = _planner(loaded, state, drivers, desired, options, config, config.secrets)
        plan, live = await planner.plan_with_live()
        plan = _stamped(plan, manifest_paths, config)
        certificates = {path_to_str(p): c for p, c in loaded.certificates.items()}
        idp = IdpSide(written, readouts, binding_of(loaded, config), set_aside)
        return build_report(plan, live, drivers.drivers, certificates, drift, idp)


async def apply_plan(
    plan: Plan,
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    *,
    force: bool = False,
    live: Mapping[tuple[str, str, str], Live] | None = None,
    desired: Sequence[Desired] | None = None,
    replan: bool = False,
) -> ApplyResult:
    """Apply a plan under the state lock, once what it proposes is shown to be allowed.

    `live` is given only when the plan was made moments ago in this run by this process and is
    applied without a pause (`apply MANIFEST --auto-approve`): that plan is the derivation, and
    the live objects it read are used. Otherwise the plan is a proposal: it is derived again
    from the manifest, the state and the live objects re-read now (`engine/authority.py`), and
    refused, with nothing applied, unless the two agree; the fresh plan is what runs, and its
    safety thresholds are the ones checked. With `replan`, the plan is made again against the
    current state and applied only if its changes are exactly the reviewed plan's. `desired` is
    the expansion of this same `loaded` manifest, when there is one.
    """
    _check_loaded(loaded)
    config = _sharing_budgets(config, backend)
    loaded, _picks = resolve_from_metadata(loaded, await read_for(loaded, config, everything=False))
    assert loaded.manifest is not None
    with backend.lock("apply"):
        state = load_state(backend, create=False)
        check_fresh(plan, manifest_digest=loaded.digest(), state=state, replan=replan)
        if desired is None:
            desired = expand_desired(loaded, config)
        names = None if replan else {c.provider for c in plan.changes}
        async with open_drivers(loaded, config, names) as drivers:
            resolver = config.secrets
            if live is None:
                plan, live = await _derive_again(
                    plan, loaded, state, drivers, desired, config, resolver, replan=replan
                )
            if plan.unsafe and not force:
                raise UnsafePlanError("unsafe plan: " + "; ".join(plan.unsafe))
            applier = Applier(
                plan, resolver, drivers.drivers, {d.address: d for d in desired}, state, backend
            )
            applier.use_live(live)
            if config.progress is not None:
                config.progress.begin("applying", drivers.budgets, applier.minimal_calls())
            with _stop_on_signals(drivers.budgets.values()):
                result = await applier.run()
            result.stats = {n: b.stats for n, b in drivers.budgets.items()}
            return result


async def _derive_again(
    proposal: Plan,
    loaded: LoadedManifest,
    state: State,
    drivers: DriverSet,
    desired: Sequence[Desired],
    config: RunConfig,
    resolver: SecretResolver,
    *,
    replan: bool,
) -> tuple[Plan, dict[tuple[str, str, str], Live]]:
    """The plan derived now, with the options `proposal` was made with; refused unless they
    agree (`replan`: unless their changes are the same)."""
    assert loaded.manifest is not None
    targets = proposal.targets if replan else exact_targets([c.address for c in proposal.changes])
    options = PlanOptions(
        targets=targets,
        allow_delete=proposal.allow_delete,
        allow_outside_files=config.allow_outside_files,
    )
    planner = _planner(loaded, state, drivers, desired, options, config, resolver)
    fresh = await planner.plan()
    if replan:
        differences = replan_differences(proposal, fresh)
        if differences:
            raise StalePlanError(
                "the plan made now differs from the reviewed plan; nothing applied. "
                "Difference (reviewed -> now):\n" + "\n".join(differences)
            )
    else:
        differences = plan_differences(proposal, fresh)
        if differences:
            raise StalePlanError(
                "the plan does not match what the manifest, the state and the live objects "
                "allow now; nothing applied (plan again):\n" + "\n".join(differences)
            )
    return fresh, planner.live


@contextlib.contextmanager
def _stop_on_signals(budgets: Iterable[Budget]) -> Iterator[None]:
    """SIGTERM or SIGINT during an apply: send nothing more, let the requests in flight finish
    and be recorded, then leave (the lock is released on the way out). A second signal acts at
    once, as usual."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    held = list(budgets)

    def stop(sig: signal.Signals) -> None:
        for other in signals:
            loop.remove_signal_handler(other)
        for budget in held:
            budget.stop(f"ssoform received {sig.name} and is stopping")

    installed: list[signal.Signals] = []
    for sig in signals:
        try:
            loop.add_signal_handler(sig, stop, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
