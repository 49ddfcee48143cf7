"""`ssoform plan`: show what apply would change, and save it for a later apply."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import click

from ssoform.commands.engine_options import (
    backend_for,
    load_valid,
    run_config,
    sandbox_for,
    sandbox_option,
    state_option,
    target_option,
    use_color,
)
from ssoform.commands.options import manifest_options, parse_vars
from ssoform.commands.progress import new_progress, show_progress
from ssoform.commands.summary import step_summary_option, write_step_summary
from ssoform.engine.authority import recorded_paths
from ssoform.engine.plan import Plan
from ssoform.engine.planfile import write_plan
from ssoform.engine.planner import PlanOptions
from ssoform.engine.runner import RunConfig
from ssoform.engine.workflow import PlanOutcome, make_plan
from ssoform.manifest.changes import changed_scope
from ssoform.manifest.load import LoadedManifest, LoadOptions
from ssoform.report.drift import render_markdown
from ssoform.report.render import render
from ssoform.sandbox.session import SandboxSession

__all__ = ["options_for", "plan_command", "run_plan", "show_plan"]

EXIT_CHANGES = 2


def options_for(
    targets: tuple[str, ...], allow_delete: bool, allow_outside_files: bool
) -> PlanOptions:
    return PlanOptions(
        targets=targets, allow_delete=allow_delete, allow_outside_files=allow_outside_files
    )


def show_plan(plan: Plan) -> None:
    click.echo(render("plan.txt.j2", plan.data(), color=use_color()), nl=False)


def run_plan(
    loaded: LoadedManifest,
    paths: tuple[Path, ...],
    state_path: Path | None,
    sandbox: SandboxSession | None,
    options: PlanOptions,
    config: RunConfig,
    recorded: list[str] | None = None,
) -> PlanOutcome:
    """Plan; `recorded` are the manifest paths a saved plan names (relative to the current
    directory, where it will be applied)."""
    try:
        with show_progress(config.progress):
            outcome = asyncio.run(
                make_plan(
                    loaded,
                    backend_for(state_path, sandbox=sandbox is not None),
                    config,
                    options,
                    manifest_paths=recorded or [str(p) for p in paths],
                )
            )
    finally:
        if sandbox is not None:
            sandbox.save()
    return outcome


@click.command("plan")
@manifest_options
@state_option
@sandbox_option
@target_option
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--allow-delete", is_flag=True, help="Plan deletes of resources no longer declared.")
@click.option(
    "--changed-since",
    metavar="GIT_REF",
    help="Plan only the tenants whose manifest files changed since GIT_REF (and what those "
    "changes touch: a shared identity provider or provider instance). For pull requests.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
@step_summary_option
def plan_command(
    paths: tuple[Path, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    allow_outside_files: bool,
    state_path: Path | None,
    sandbox: bool,
    targets: tuple[str, ...],
    out: Path | None,
    as_json: bool,
    allow_delete: bool,
    changed_since: str | None,
    detailed_exitcode: bool,
    step_summary: bool,
) -> int:
    """Show what apply would change; save it with -o for a later apply."""
    cli_vars = parse_vars(var_pairs, var_files)
    options = LoadOptions(cli_vars=cli_vars, allow_outside_files=allow_outside_files)
    loaded = load_valid(list(paths), options)
    plan_options = options_for(targets, allow_delete, allow_outside_files)
    if changed_since is not None:
        if targets:
            raise click.UsageError("--changed-since and --target cannot be combined")
        scope = changed_scope(loaded, list(paths), changed_since)
        if scope is None:
            click.echo(
                f"Changes since {changed_since} can touch every tenant (shared vars, or a "
                "file the manifests reference): planning everything.",
                err=True,
            )
        plan_options = dataclasses.replace(plan_options, only=scope)
    recorded = recorded_paths(paths, Path.cwd()) if out is not None else None
    session = sandbox_for(loaded, sandbox)
    outcome = run_plan(
        loaded,
        paths,
        state_path,
        session,
        plan_options,
        run_config(
            allow_outside_files=allow_outside_files, sandbox=session, progress=new_progress()
        ),
        recorded,
    )
    plan = outcome.plan
    if as_json:
        click.echo(json.dumps(plan.data(), indent=2, sort_keys=True))
    else:
        show_plan(plan)
    if out is not None:
        write_plan(out, plan, outcome.key)
        click.echo(f"Saved the plan to {out}. Apply it with: ssoform apply {out}", err=True)
    if step_summary:
        hint = f"the saved plan `{out}`" if out is not None else "`ssoform plan --json`"
        write_step_summary(render_markdown("plan.md.j2", plan.data(), json_hint=hint))
    if detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return 0
