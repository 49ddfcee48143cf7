"""`ssoform plan` and `ssoform apply`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from ssoform.commands.engine_options import (
    backend_for,
    load_valid,
    run_config,
    state_option,
    target_option,
    use_color,
)
from ssoform.commands.options import manifest_options, parse_vars
from ssoform.engine.apply import ApplyResult
from ssoform.engine.planfile import read_plan, write_plan
from ssoform.engine.planner import PlanOptions
from ssoform.engine.workflow import apply_plan, make_plan
from ssoform.errors import PlanError
from ssoform.manifest.load import LoadOptions
from ssoform.report.render import render

__all__ = ["apply_command", "plan_command"]

EXIT_CHANGES = 2


def _plan_options(
    targets: tuple[str, ...], allow_delete: bool, allow_outside_files: bool
) -> PlanOptions:
    return PlanOptions(
        targets=targets, allow_delete=allow_delete, allow_outside_files=allow_outside_files
    )


@click.command("plan")
@manifest_options
@state_option
@target_option
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--allow-delete", is_flag=True, help="Plan deletes of resources removed from the manifest."
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
def plan_command(
    paths: tuple[Path, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    allow_outside_files: bool,
    state_path: Path,
    targets: tuple[str, ...],
    out: Path | None,
    as_json: bool,
    allow_delete: bool,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change; save it with -o for a later apply."""
    loaded = load_valid(
        list(paths),
        LoadOptions(
            cli_vars=parse_vars(var_pairs, var_files), allow_outside_files=allow_outside_files
        ),
    )
    outcome = asyncio.run(
        make_plan(
            loaded,
            backend_for(state_path),
            run_config(allow_outside_files=allow_outside_files),
            _plan_options(targets, allow_delete, allow_outside_files),
            manifest_paths=[str(p) for p in paths],
        )
    )
    plan = outcome.plan
    if as_json:
        click.echo(json.dumps(plan.data(), indent=2, sort_keys=True))
    else:
        click.echo(render("plan.txt.j2", plan.data(), color=use_color()), nl=False)
    if out is not None:
        write_plan(out, plan)
        click.echo(f"Saved the plan to {out}. Apply it with: ssoform apply {out}", err=True)
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
@target_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--allow-delete", is_flag=True, help="Delete resources removed from the manifest.")
@click.option("--force", is_flag=True, help="Apply a plan that exceeds the safety thresholds.")
def apply_command(
    args: tuple[Path, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    allow_outside_files: bool,
    state_path: Path,
    targets: tuple[str, ...],
    auto_approve: bool,
    allow_delete: bool,
    force: bool,
) -> int:
    """Apply a saved plan (PLAN.json), or plan MANIFEST... and apply after confirmation."""
    backend = backend_for(state_path)
    config = run_config(allow_outside_files=allow_outside_files)
    options = LoadOptions(
        cli_vars=parse_vars(var_pairs, var_files), allow_outside_files=allow_outside_files
    )
    if len(args) == 1 and args[0].suffix == ".json":
        data = read_plan(args[0])
        manifests = [Path(p) for p in data.get("manifest_paths") or []]
        if not manifests:
            raise PlanError(f"{args[0]}: the plan does not say which manifest it was made from")
        loaded = load_valid(manifests, options)
        result = asyncio.run(apply_plan(data, loaded, backend, config, force=force))
        return _report(result)
    loaded = load_valid(list(args), options)
    outcome = asyncio.run(
        make_plan(
            loaded,
            backend,
            config,
            _plan_options(targets, allow_delete, allow_outside_files),
            manifest_paths=[str(p) for p in args],
        )
    )
    plan = outcome.plan
    click.echo(render("plan.txt.j2", plan.data(), color=use_color()), nl=False)
    if not plan.has_changes:
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
    result = asyncio.run(apply_plan(plan.data(), loaded, backend, config, force=force))
    return _report(result)


def _report(result: ApplyResult) -> int:
    for address, message in result.failed:
        click.echo(f"failed: {address}: {message}", err=True)
    for address, why in result.skipped:
        click.echo(f"skipped: {address}: {why}", err=True)
    click.echo(
        f"Apply: {len(result.applied)} applied, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped (manual or blocked)."
    )
    return 0 if result.ok else 1
