"""`ssoform import`: live objects into manifest YAML that the next plan adopts (no state)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ssoform.commands.engine_options import (
    backend_for,
    run_config,
    sandbox_for,
    sandbox_option,
    state_option,
)
from ssoform.commands.load_valid import load_valid
from ssoform.engine.importer import Defined, import_live
from ssoform.files import write_private
from ssoform.manifest.load import LoadOptions
from ssoform.manifest.sources import collect_files, merge_files
from ssoform.scrub import visible

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
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file to write; what the other manifest files in its directory define is left out.",
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
    """Write live SSO configuration as manifest YAML; the next plan adopts it (no state)."""
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
                defined_beside(out),
            )
        )
    finally:
        if session is not None:
            session.save()
    write_private(out, result.yaml())
    for address in result.skipped:
        click.echo(
            f"skipped: {visible(address)}: its driver cannot express it in a manifest", err=True
        )
    for reason in result.held:
        click.echo(f"not written: {visible(reason)}", err=True)
    if result.present:
        click.echo(
            f"{len(result.present)} object(s) already declared in {out.parent}: not written again",
            err=True,
        )
    click.echo(
        f"Wrote {len(result.written)} object(s) to {out}. Nothing was recorded in state: "
        "the next plan shows them as adopt, and apply records them."
    )
    return 0


def defined_beside(out: Path) -> Defined:
    """What the manifest files beside `out` (not `out` itself) define, by section and name."""
    try:
        files = [f for f in collect_files([out.parent]) if f.path.resolve() != out.resolve()]
    except OSError:
        return Defined()
    doc = merge_files(files)

    def names(section: str) -> dict[str, str]:
        items = doc.data.get(section)
        if not isinstance(items, dict):
            return {}
        return {str(n): doc.origin.get((section, n), "?") for n in items}

    return Defined(names("providers"), names("identity_providers"), names("tenants"))
