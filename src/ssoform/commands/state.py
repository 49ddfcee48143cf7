"""`ssoform state`: look at the state and fix its lock or protections."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ssoform.commands.engine_options import backend_for, sandbox_option, state_option
from ssoform.errors import StateError
from ssoform.manifest.fields import ADDRESS_PATTERN

__all__ = ["state_group"]

ADDRESS = re.compile(ADDRESS_PATTERN)


@click.group("state")
def state_group() -> None:
    """Inspect and maintain ssoform's state."""


@state_group.command("list")
@state_option
@sandbox_option
def state_list(state_path: Path | None, sandbox: bool) -> int:
    """List the resources ssoform manages."""
    backend = backend_for(state_path, sandbox=sandbox)
    state = backend.read()
    if state is None:
        click.echo(f"no state at {backend.path}")
        return 0
    for address, res in sorted(state.resources.items()):
        flags = " [protected]" if res.protect else ""
        click.echo(f"{address}  id={res.id}  {res.origin}{flags}")
    click.echo(
        f"{len(state.resources)} resource(s); lineage {state.lineage}, serial {state.serial}"
    )
    return 0


@state_group.command("journal")
@state_option
@sandbox_option
@click.option("--last", type=click.IntRange(min=1), default=50, show_default=True)
def state_journal(state_path: Path | None, sandbox: bool, last: int) -> int:
    """Show the last operations applied."""
    state = backend_for(state_path, sandbox=sandbox).read()
    for entry in (state.journal if state else [])[-last:]:
        detail = f"  {entry.detail}" if entry.detail else ""
        click.echo(f"{entry.at}  {entry.outcome:8}  {entry.action:10}  {entry.address}{detail}")
    return 0


@state_group.command("unlock")
@click.argument("lock_id")
@state_option
@sandbox_option
def state_unlock(lock_id: str, state_path: Path | None, sandbox: bool) -> int:
    """Release a lock left by a killed process; needs the lock's id."""
    holder = backend_for(state_path, sandbox=sandbox).unlock(lock_id)
    click.echo(f"released lock {holder.id} ({holder.describe()})")
    return 0


@state_group.command("release")
@click.argument("address")
@state_option
@sandbox_option
def state_release(address: str, state_path: Path | None, sandbox: bool) -> int:
    """Stop protecting a resource (so a later apply may delete it)."""
    backend = backend_for(state_path, sandbox=sandbox)
    with backend.lock("state release"):
        state = backend.read()
        if state is None or address not in state.resources:
            raise StateError(f"{address} is not in the state")
        state.resources[address].protect = False
        state.journal_append(address, "release", "ok", "protection released")
        state.serial += 1
        backend.write(state)
    click.echo(f"released protection of {address}")
    return 0


@state_group.command("mv")
@click.argument("source", metavar="OLD")
@click.argument("destination", metavar="NEW")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@state_option
@sandbox_option
def state_mv(
    source: str, destination: str, dry_run: bool, state_path: Path | None, sandbox: bool
) -> int:
    """Record the object managed at OLD under the address NEW (nothing is sent)."""
    if not ADDRESS.match(destination):
        raise StateError(f"{destination!r} is not an address (TENANT/PROVIDER/SCOPE/KEY)")
    res = backend_for(state_path, sandbox=sandbox).move(source, destination, dry_run=dry_run)
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb} {source} -> {destination} (id {res.id}); nothing was sent")
    return 0


@state_group.command("rm")
@click.argument("address")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@state_option
@sandbox_option
def state_rm(address: str, dry_run: bool, state_path: Path | None, sandbox: bool) -> int:
    """Forget ADDRESS without deleting it: the object stays at the provider, unmanaged."""
    res = backend_for(state_path, sandbox=sandbox).remove(address, dry_run=dry_run)
    verb = "would forget" if dry_run else "forgot"
    click.echo(
        f"{verb} {address} (id {res.id}); the object stays at {res.provider}, untouched. "
        "While the manifest declares it, the next plan adopts it again"
    )
    return 0
