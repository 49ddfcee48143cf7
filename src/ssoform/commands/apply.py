"""`ssoform apply`: apply a saved plan (checked again), or plan and apply after confirmation."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from ssoform.commands.color import use_color
from ssoform.commands.engine_options import (
    EngineArgs,
    backend_for,
    engine_options,
    run_config,
    run_engine,
    sandbox_for,
)
from ssoform.commands.load_valid import load_valid
from ssoform.commands.options import ManifestArgs, gathered
from ssoform.commands.plan import options_for, run_plan, show_plan
from ssoform.commands.progress import new_progress
from ssoform.engine.apply import ApplyResult
from ssoform.engine.authority import manifest_paths_within
from ssoform.engine.plan import Plan
from ssoform.engine.planfile import read_plan
from ssoform.engine.state import state_key
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import apply_plan
from ssoform.errors import PlanError, StalePlanError
from ssoform.manifest.load import LoadedManifest, LoadOptions
from ssoform.model import Desired, Live
from ssoform.report.apply import apply_rows, render_apply_json, render_apply_text
from ssoform.sandbox.session import SandboxSession

__all__ = ["apply_command"]


@click.command("apply")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    metavar="ARGS...",  # a saved PLAN.json or MANIFEST...
    type=click.Path(exists=True, path_type=Path),
)
@click.option("--var", "var_pairs", multiple=True, metavar="KEY=VALUE", help="Template variable.")
@click.option(
    "--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--allow-outside-files", is_flag=True)
@gathered("manifest", ManifestArgs)
@engine_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--allow-delete", is_flag=True, help="Delete resources removed from the manifest.")
@click.option("--force", is_flag=True, help="Apply a plan that exceeds the safety thresholds.")
@click.option(
    "--replan",
    is_flag=True,
    help="With a saved PLAN: plan again against the current state and live objects, and apply "
    "only if the changes are exactly the reviewed plan's (for a plan whose state moved on).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print what was applied, resource by resource, as JSON."
)
def apply_command(
    manifest: ManifestArgs,
    engine: EngineArgs,
    auto_approve: bool,
    allow_delete: bool,
    force: bool,
    replan: bool,
    as_json: bool,
) -> int:
    """Apply a saved plan (PLAN.json), or plan MANIFEST... and apply after confirmation."""
    options = manifest.load_options()
    args, state_path, targets = manifest.paths, engine.state_path, engine.targets
    if len(args) == 1 and args[0].suffix == ".json":
        if targets or allow_delete:
            flag = "--target" if targets else "--allow-delete"
            raise click.UsageError(
                f"{flag} cannot be given with a saved plan: the plan fixes its targets and "
                f"deletes; plan again with {flag} and apply that plan"
            )
        return _apply_saved(args[0], options, state_path, engine.sandbox, force, replan, as_json)
    if replan:
        raise click.UsageError("--replan applies a saved plan: ssoform apply PLAN.json --replan")
    loaded = load_valid(list(args), options)
    session = sandbox_for(loaded, engine.sandbox)
    # One run: the apply shares the plan's budgets (a window the plan filled stays filled).
    config = run_config(
        allow_outside_files=options.allow_outside_files, sandbox=session, progress=new_progress()
    )
    outcome = run_plan(
        loaded,
        args,
        state_path,
        session,
        options_for(targets, allow_delete, options.allow_outside_files),
        config,
    )
    plan = outcome.plan
    if not as_json:
        show_plan(plan)
    if not plan.has_changes:
        if as_json:
            click.echo(render_apply_json([]), nl=False)
        return 0
    if not auto_approve:
        if not sys.stdin.isatty():
            raise PlanError(
                "refusing to apply without confirmation: no terminal to ask on; "
                "pass --auto-approve, or save the plan with `ssoform plan -o` and apply it"
            )
        if not click.confirm("Apply these changes?", default=False):
            click.echo("Nothing applied.", err=True)
            return 1
    # Applied at once after planning: reuse what the plan read. After a confirmation, which
    # may come minutes later, the plan is derived again and must not have changed.
    live = outcome.live if auto_approve else None
    return _apply(
        plan, loaded, state_path, session, config, force, live, outcome.desired, as_json=as_json
    )


def _apply_saved(
    path: Path,
    options: LoadOptions,
    state_path: Path | None,
    sandbox: bool,
    force: bool,
    replan: bool,
    as_json: bool = False,
) -> int:
    """Verify a saved plan's seal with the state's key, then read only the manifests it names
    inside the current directory, and apply it (derived again, or `replan`ned)."""
    saved = read_plan(path)
    sandboxed = sandbox or saved.sandbox
    state = backend_for(state_path, sandbox=sandboxed).read()
    if state is None:
        raise StalePlanError(f"{path}: there is no state here; the plan was made for another one")
    plan = saved.verified(state_key(state))
    manifests = manifest_paths_within(plan.manifest_paths, Path.cwd(), path)
    loaded = load_valid(manifests, options)
    session = sandbox_for(loaded, sandboxed)
    config = run_config(
        allow_outside_files=options.allow_outside_files, sandbox=session, progress=new_progress()
    )
    return _apply(plan, loaded, state_path, session, config, force, replan=replan, as_json=as_json)


def _apply(
    plan: Plan,
    loaded: LoadedManifest,
    state_path: Path | None,
    sandbox: SandboxSession | None,
    config: RunConfig,
    force: bool,
    live: Mapping[tuple[str, str, str], Live] | None = None,
    desired: Sequence[Desired] | None = None,
    *,
    replan: bool = False,
    as_json: bool = False,
) -> int:
    result = run_engine(
        loaded,
        state_path,
        sandbox,
        config,
        lambda backend: apply_plan(
            plan, loaded, backend, config, force=force, live=live, desired=desired, replan=replan
        ),
    )
    return _report(result, plan, as_json=as_json)


def _report(result: ApplyResult, plan: Plan, *, as_json: bool) -> int:
    """Each resource applied, failed or skipped on stdout; failures again on stderr."""
    for address, message in result.failed:
        click.echo(f"failed: {address}: {message}", err=True)
    rows = apply_rows(plan.data(), result.applied, result.failed, result.skipped)
    if as_json:
        click.echo(render_apply_json(rows), nl=False)
    else:
        colour = use_color()
        click.echo(render_apply_text(rows, color=colour), nl=False, color=colour)
    return 0 if result.ok else 1
