"""`ssoform validate` and `ssoform schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ssoform.commands.load_valid import loading
from ssoform.commands.options import ManifestArgs, cert_warning_days_option, manifest_options
from ssoform.engine.drift_model import drift_schema
from ssoform.engine.planfile import plan_schema
from ssoform.manifest.diagnostics import Severity, format_diagnostics
from ssoform.manifest.load import LoadOptions, load_manifest
from ssoform.manifest.schema import manifest_file_schema, manifest_schema

__all__ = ["schema_command", "validate_command"]


@click.command("validate")
@manifest_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
)
@click.option(
    "--resolve-secrets",
    is_flag=True,
    help="Also check that every secret reference resolves (never prints values).",
)
@cert_warning_days_option("Warn about certificates expiring within this many days.")
def validate_command(
    manifest: ManifestArgs,
    fmt: str,
    resolve_secrets: bool,
    cert_warning_days: int,
) -> int:
    """Validate manifests offline: schema, templates, references and certificates."""
    options = manifest.load_options(
        LoadOptions(cert_warning_days=cert_warning_days, resolve_secrets=resolve_secrets)
    )
    with loading():
        loaded = load_manifest(list(manifest.paths), options)
    errors = sum(1 for d in loaded.diagnostics if d.severity is Severity.ERROR)
    warnings = len(loaded.diagnostics) - errors
    rendered = format_diagnostics(loaded.diagnostics, fmt)
    if fmt == "json":
        click.echo(rendered)
    else:
        if rendered:
            click.echo(rendered, err=fmt == "text")
        if fmt == "text":
            valid = loaded.manifest
            if errors:
                click.echo(f"invalid: {errors} error(s), {warnings} warning(s)", err=True)
            elif valid is not None:
                conns = sum(len(t.connections) for t in valid.tenants.values())
                click.echo(
                    f"valid: {len(valid.tenants)} tenant(s), {conns} connection(s), "
                    f"{len(valid.providers)} provider instance(s), {warnings} warning(s)"
                )
    return 1 if errors or loaded.manifest is None else 0


@click.command("schema")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Where to write the JSON Schemas.",
)
def schema_command(directory: Path) -> int:
    """Write the JSON Schemas (manifest, plan, drift report) generated from the models."""
    for name, schema in (
        ("ssoform-manifest.schema.json", manifest_schema()),
        ("ssoform-manifest-file.schema.json", manifest_file_schema()),
        ("plan.schema.json", plan_schema()),
        ("drift-report.schema.json", drift_schema()),
    ):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(json.dumps(schema, indent=2) + "\n")
        click.echo(f"wrote {directory / name}")
    return 0
