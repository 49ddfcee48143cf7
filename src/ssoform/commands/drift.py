"""`ssoform drift`: what differs between the manifest, state and the live providers."""

from __future__ import annotations

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
from ssoform.commands.options import ManifestArgs, cert_warning_days_option, manifest_options
from ssoform.commands.summary import step_summary_option, write_step_summary
from ssoform.engine.drift import DEFAULT_FAIL_ON, DriftOptions, parse_fail_on
from ssoform.engine.planner import PlanOptions
from ssoform.engine.workflow import make_drift
from ssoform.files import write_private
from ssoform.manifest.load import LoadOptions
from ssoform.report.drift import FORMATS, render_drift
from ssoform.report.step_summary import drift_step_summary

__all__ = ["EXIT_DRIFT", "drift_command"]

EXIT_DRIFT = 2


def _fail_on(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    try:
        return parse_fail_on(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("drift")
@manifest_options
@engine_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the report here (`-`: stdout).",
)
@click.option(
    "--fail-on",
    default=",".join(DEFAULT_FAIL_ON),
    show_default=True,
    callback=_fail_on,
    help="Classes and findings that exit 2 (comma-separated; 'all' or 'none').",
)
@cert_warning_days_option("Report certificates expiring within this many days.")
@step_summary_option
def drift_command(
    manifest: ManifestArgs,
    engine: EngineArgs,
    fmt: str,
    out: Path | None,
    fail_on: tuple[str, ...],
    cert_warning_days: int,
    step_summary: bool,
) -> int:
    """Report drift: exit 0 in sync, 2 on drift or a failing finding, 1 on error."""
    options = manifest.load_options(
        LoadOptions(cert_warning_days=cert_warning_days, expired_certificates_are_errors=False)
    )
    loaded = load_valid(list(manifest.paths), options)
    session = sandbox_for(loaded, engine.sandbox)
    outside = manifest.allow_outside_files
    config = run_config(allow_outside_files=outside, sandbox=session)
    report = run_engine(
        loaded,
        engine.state_path,
        session,
        config,
        lambda backend: make_drift(
            loaded,
            backend,
            config,
            PlanOptions(targets=engine.targets, allow_outside_files=outside),
            DriftOptions(fail_on=fail_on, cert_warning_days=cert_warning_days),
            manifest_paths=[str(p) for p in manifest.paths],
        ),
    )
    data = report.data()
    hint = (
        f"the JSON report `{out}`"
        if out is not None and fmt == "json"
        else "the JSON report (`ssoform drift --format json`)"
    )
    if out is not None and str(out) == "-":
        out = None
    colour = out is None and fmt == "text" and use_color()
    text = render_drift(data, fmt, color=colour, json_hint=hint)
    if out is not None:
        write_private(out, text)
        click.echo(f"Wrote the {fmt} drift report to {out}.", err=True)
    else:
        click.echo(text, nl=False, color=colour)
    if step_summary:
        write_step_summary(
            lambda budget: drift_step_summary(data, json_hint=hint, max_bytes=budget)
        )
    return EXIT_DRIFT if report.summary.failing else 0
