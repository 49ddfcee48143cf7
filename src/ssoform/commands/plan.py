"""`ssoform plan` and `ssoform apply`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from ssoform.commands.engine_options import (
    backend_for,
    listing_missing_secrets,
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
from ssoform.commands.summary import (
    step_summary_option,
    write_markdown_parts,
    write_step_summary,
)
from ssoform.engine.apply import ApplyResult
from ssoform.engine.plan import Plan
from ssoform.engine.planfile import read_plan, write_plan
from ssoform.engine.planner import PlanOptions
from ssoform.engine.runner import RunConfig
from ssoform.engine.workflow import PlanOutcome, apply_plan, make_plan
from ssoform.errors import PlanError
from ssoform.manifest.changes import changed_scope
from ssoform.manifest.load import LoadedManifest, LoadOptions
from ssoform.model import Desired, Live
from ssoform.report.apply import apply_rows, render_apply_json, render_apply_text
from ssoform.report.plan import render_plan_markdown, render_plan_text
from ssoform.sandbox.session import SandboxSession

__all__ = ["apply_command", "plan_command"]

EXIT_CHANGES = 2


def _plan_options(
    targets: tuple[str, ...], allow_delete: bool, allow_outside_files: bool
) -> PlanOptions:
    return PlanOptions(
        targets=targets, allow_delete=allow_delete, allow_outside_files=allow_outside_files
    )


def _show(plan: Plan, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    colour = use_color(stream)  # click.echo keeps the colour codes only when told to
    click.echo(render_plan_text(plan.data(), color=colour), nl=False, err=err, color=colour)


def saved_plan_text(plan: Plan) -> str:
    """The saved-plan file's text, exactly as `write_plan` writes it (for `-o -`)."""
    with tempfile.TemporaryDirectory(prefix="ssoform-plan-") as tmp:
        path = Path(tmp) / "plan.json"
        write_plan(path, plan)
        return path.read_text(encoding="utf-8")


def _plan(
    loaded: LoadedManifest,
    paths: tuple[Path, ...],
    state_path: Path | None,
    sandbox: SandboxSession | None,
    options: PlanOptions,
    config: RunConfig,
) -> PlanOutcome:
    try:
        missing = listing_missing_secrets(loaded, allow_outside_files=options.allow_outside_files)
        with missing, show_progress(config.progress):
            outcome = asyncio.run(
                make_plan(
                    loaded,
                    backend_for(state_path, sandbox=sandbox is not None),
                    config,
                    options,
                    manifest_paths=[str(p) for p in paths],
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
    markdown_dir: Path | None,
    step_summary: bool,
) -> int:
    """Show what apply would change; save it with -o for a later apply."""
    cli_vars = parse_vars(var_pairs, var_files)
    options = LoadOptions(cli_vars=cli_vars, allow_outside_files=allow_outside_files)
    loaded = load_valid(list(paths), options)
    plan_options = _plan_options(targets, allow_delete, allow_outside_files)
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
    session = sandbox_for(loaded, sandbox)
    plan = _plan(
        loaded,
        paths,
        state_path,
        session,
        plan_options,
        run_config(
            allow_outside_files=allow_outside_files, sandbox=session, progress=new_progress()
        ),
    ).plan
    to_stdout = out is not None and str(out) == "-"
    if as_json:
        click.echo(json.dumps(plan.data(), indent=2, sort_keys=True), err=to_stdout)
    else:
        _show(plan, err=to_stdout)
    if to_stdout:
        click.echo(saved_plan_text(plan), nl=False)
    elif out is not None:
        write_plan(out, plan)
        click.echo(f"Saved the plan to {out}. Apply it with: ssoform apply {out}", err=True)
    if step_summary or markdown_dir is not None:
        hint = f"the saved plan `{out}`" if out is not None else "`ssoform plan --json`"
        parts = render_plan_markdown(plan.data(), json_hint=hint)
        if markdown_dir is not None:
            write_markdown_parts(markdown_dir, parts)
        if step_summary:
            write_step_summary("\n".join(parts))
    if detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return 0


@click.command("apply")
@click.argument("args", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--var", "var_pairs", multiple=True, metavar="KEY=VALUE", help="Template variable.")
@click.option(
    "--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--allow-outside-files", is_flag=True)
@state_option
@sandbox_option
@target_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--allow-delete", is_flag=True, help="Delete resources removed from the manifest.")
@click.option("--force", is_flag=True, help="Apply a plan that exceeds the safety thresholds.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print what was applied, resource by resource, as JSON."
)
def apply_command(
    args: tuple[Path, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    allow_outside_files: bool,
    state_path: Path | None,
    sandbox: bool,
    targets: tuple[str, ...],
    auto_approve: bool,
    allow_delete: bool,
    force: bool,
    as_json: bool,
) -> int:
    """Apply a saved plan (PLAN.json), or plan MANIFEST... and apply after confirmation."""
    options = LoadOptions(
        cli_vars=parse_vars(var_pairs, var_files), allow_outside_files=allow_outside_files
    )
    if len(args) == 1 and args[0].suffix == ".json":
        data = read_plan(args[0])
        manifests = [Path(p) for p in data.get("manifest_paths") or []]
        if not manifests:
            raise PlanError(f"{args[0]}: the plan does not say which manifest it was made from")
        loaded = load_valid(manifests, options)
        session = sandbox_for(loaded, sandbox or bool(data.get("sandbox")))
        config = run_config(
            allow_outside_files=allow_outside_files, sandbox=session, progress=new_progress()
        )
        return _apply(data, loaded, state_path, session, config, force, as_json=as_json)
    loaded = load_valid(list(args), options)
    session = sandbox_for(loaded, sandbox)
    # One run: the apply shares the plan's budgets (a window the plan filled stays filled).
    config = run_config(
        allow_outside_files=allow_outside_files, sandbox=session, progress=new_progress()
    )
    outcome = _plan(
        loaded,
        args,
        state_path,
        session,
        _plan_options(targets, allow_delete, allow_outside_files),
        config,
    )
    plan = outcome.plan
    if not as_json:
        _show(plan)
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
    # may come minutes later, every scope the plan changes is read again and checked.
    live = outcome.live if auto_approve else None
    return _apply(
        plan.data(),
        loaded,
        state_path,
        session,
        config,
        force,
        live,
        outcome.desired,
        as_json=as_json,
    )


def _apply(
    data: dict[str, object],
    loaded: LoadedManifest,
    state_path: Path | None,
    sandbox: SandboxSession | None,
    config: RunConfig,
    force: bool,
    live: Mapping[tuple[str, str, str], Live] | None = None,
    desired: Sequence[Desired] | None = None,
    *,
    as_json: bool = False,
) -> int:
    backend = backend_for(state_path, sandbox=sandbox is not None)
    try:
        missing = listing_missing_secrets(loaded, allow_outside_files=config.allow_outside_files)
        with missing, show_progress(config.progress):
            result = asyncio.run(
                apply_plan(data, loaded, backend, config, force=force, live=live, desired=desired)
            )
    finally:
        if sandbox is not None:
            sandbox.save()
    return _report(result, data, as_json=as_json)


def _report(result: ApplyResult, plan: Mapping[str, object], *, as_json: bool) -> int:
    """Each resource applied, failed or skipped on stdout; failures again on stderr."""
    for address, message in result.failed:
        click.echo(f"failed: {address}: {message}", err=True)
    rows = apply_rows(plan, result.applied, result.failed, result.skipped)
    if as_json:
        click.echo(render_apply_json(rows), nl=False)
    else:
        colour = use_color()
        click.echo(render_apply_text(rows, color=colour), nl=False, color=colour)
    return 0 if result.ok else 1
