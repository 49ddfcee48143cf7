"""`ssoform plan`: show what apply would change, and save it for a later apply."""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import click

from ssoform.commands.color import use_color
from ssoform.commands.engine_options import (
    EngineArgs,
    engine_options,
    run_config,
    run_engine,
    sandbox_for,
)
from ssoform.commands.load_valid import load_valid
from ssoform.commands.options import ManifestArgs, manifest_options
from ssoform.commands.progress import new_progress
from ssoform.commands.summary import (
    step_summary_option,
    write_markdown_parts,
    write_step_summary,
)
from ssoform.engine.authority import recorded_paths
from ssoform.engine.plan import Plan
from ssoform.engine.planfile import write_plan
from ssoform.engine.planner import PlanOptions
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import PlanOutcome, make_plan
from ssoform.manifest.changed_since import changed_scope
from ssoform.manifest.load import LoadedManifest
from ssoform.report.plan import render_plan_markdown, render_plan_text
from ssoform.report.step_summary import plan_step_summary
from ssoform.sandbox.session import SandboxSession

__all__ = ["options_for", "plan_command", "run_plan", "show_plan"]

EXIT_CHANGES = 2


def options_for(
    targets: tuple[str, ...], allow_delete: bool, allow_outside_files: bool
) -> PlanOptions:
    return PlanOptions(
        targets=targets, allow_delete=allow_delete, allow_outside_files=allow_outside_files
    )


def show_plan(plan: Plan, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    colour = use_color(stream)  # click.echo keeps the colour codes only when told to
    click.echo(render_plan_text(plan.data(), color=colour), nl=False, err=err, color=colour)


def saved_plan_text(plan: Plan, key: bytes) -> str:
    """The saved-plan file's text, exactly as `write_plan` writes it (for `-o -`)."""
    with tempfile.TemporaryDirectory(prefix="ssoform-plan-") as tmp:
        path = Path(tmp) / "plan.json"
        write_plan(path, plan, key)
        return path.read_text(encoding="utf-8")


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
    manifest_paths = recorded or [str(p) for p in paths]
    return run_engine(
        loaded,
        state_path,
        sandbox,
        config,
        lambda backend: make_plan(loaded, backend, config, options, manifest_paths=manifest_paths),
    )


@click.command("plan")
@manifest_options
@engine_options
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Save the plan (`-` writes it to stdout, and the readable plan to stderr).",
)
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
@click.option(
    "--markdown-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the plan as Markdown for pull-request comments: DIR/plan-1.md, plan-2.md, ... "
    "(each under GitHub's comment limit; nothing is left out).",
)
@step_summary_option
def plan_command(
    manifest: ManifestArgs,
    engine: EngineArgs,
    out: Path | None,
    as_json: bool,
    allow_delete: bool,
    changed_since: str | None,
    detailed_exitcode: bool,
    markdown_dir: Path | None,
    step_summary: bool,
) -> int:
    """Show what apply would change; save it with -o for a later apply."""
    paths, outside = manifest.paths, manifest.allow_outside_files
    loaded = load_valid(list(paths), manifest.load_options())
    plan_options = options_for(engine.targets, allow_delete, outside)
    if changed_since is not None:
        if engine.targets:
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
    session = sandbox_for(loaded, engine.sandbox)
    outcome = run_plan(
        loaded,
        paths,
        engine.state_path,
        session,
        plan_options,
        run_config(allow_outside_files=outside, sandbox=session, progress=new_progress()),
        recorded,
    )
    plan = outcome.plan
    to_stdout = out is not None and str(out) == "-"
    if as_json:
        click.echo(json.dumps(plan.data(), indent=2, sort_keys=True), err=to_stdout)
    else:
        show_plan(plan, err=to_stdout)
    if to_stdout:
        click.echo(saved_plan_text(plan, outcome.key), nl=False)
    elif out is not None:
        write_plan(out, plan, outcome.key)
        click.echo(f"Saved the plan to {out}. Apply it with: ssoform apply {out}", err=True)
    if step_summary or markdown_dir is not None:
        hint = f"the saved plan `{out}`" if out is not None else "`ssoform plan --json`"
        data = plan.data()
        if markdown_dir is not None:
            write_markdown_parts(markdown_dir, render_plan_markdown(data, json_hint=hint))
        if step_summary:
            write_step_summary(
                lambda budget: plan_step_summary(data, json_hint=hint, max_bytes=budget)
            )
    if detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return 0
