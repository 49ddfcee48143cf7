"""`ssoform import`: live objects into manifest YAML, and into state as adopted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ssoform.commands.engine_options import (
    backend_for,
    load_valid,
    run_config,
    sandbox_for,
    sandbox_option,
    state_option,
)
from ssoform.engine.backend import write_private
from ssoform.engine.importer import import_live
from ssoform.manifest.load import LoadOptions

__all__ = ["import_command"]


@click.command("import")
@click.argument("instances", nargs=-1, required=True, metavar="PROVIDER_INSTANCE...")
@click.option(
    "--manifest",
    "manifests",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Manifest(s) naming the provider instances (repeatable).",
)
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="YAML out."
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="ID",
    help="Scope to read (account, tenant, ...; repeatable) [default: every scope the "
    "manifest and state name for the instances].",
)
@state_option
@sandbox_option
def import_command(
    instances: tuple[str, ...],
    manifests: tuple[Path, ...],
    out: Path,
    scopes: tuple[str, ...],
    state_path: Path | None,
    sandbox: bool,
) -> int:
    """Write live SSO configuration as manifest YAML and record it in state as adopted."""
    loaded = load_valid(list(manifests), LoadOptions())
    session = sandbox_for(loaded, sandbox)
    try:
        result = asyncio.run(
            import_live(
                loaded,
                backend_for(state_path, sandbox=session is not None),
                run_config(allow_outside_files=False, sandbox=session),
                instances,
                scopes,
            )
        )
    finally:
        if session is not None:
            session.save()
    write_private(out, result.yaml())
    for address in result.skipped:
        click.echo(f"skipped: {address}: its driver cannot express it in a manifest", err=True)
    click.echo(
        f"Imported {len(result.records)} object(s) into {out}; recorded them in state as adopted."
    )
    return 0
