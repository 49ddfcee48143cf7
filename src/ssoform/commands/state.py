"""`ssoform state`: look at the state, its history and lock, fix protections, move it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from ssoform.commands.engine_options import backend_for, state_backend, state_option
from ssoform.engine.backend import LocalStateBackend, StateBackend, edit_state
from ssoform.engine.postgres import PostgresStateBackend, is_url
from ssoform.engine.state import State
from ssoform.errors import StateError
from ssoform.manifest.fields import ADDRESS_PATTERN
from ssoform.scrub import visible

__all__ = ["state_group"]

ADDRESS = re.compile(ADDRESS_PATTERN)


@click.group("state")
def state_group() -> None:
    """Inspect and maintain ssoform's state."""


@state_group.command("list")
@state_backend
def state_list(backend: StateBackend) -> int:
    """List the resources ssoform manages."""
    state = backend.read()
    if state is None:
        click.echo(f"no state at {backend.location}")
        return 0
    for address, res in sorted(state.resources.items()):
        flags = " [protected]" if res.protect else ""
        click.echo(f"{visible(address)}  id={visible(res.id)}  {res.origin}{flags}")
    click.echo(
        f"{len(state.resources)} resource(s); lineage {state.lineage}, serial {state.serial}"
    )
    return 0


@state_group.command("journal")
@state_backend
@click.option("--last", type=click.IntRange(min=1), default=50, show_default=True)
def state_journal(backend: StateBackend, last: int) -> int:
    """Show the last operations applied."""
    state = backend.read()
    for entry in (state.journal if state else [])[-last:]:
        detail = f"  {visible(entry.detail)}" if entry.detail else ""
        click.echo(
            f"{entry.at}  {entry.outcome:8}  {entry.action:10}  {visible(entry.address)}{detail}"
        )
    return 0


@state_group.command("history")
@state_backend
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def state_history(backend: StateBackend, as_json: bool) -> int:
    """List every version of the state: serial, time, operation and who ran it."""
    entries = backend.history()
    if as_json:
        click.echo(json.dumps({"history": [e.model_dump() for e in entries]}, indent=2))
        return 0
    for entry in entries:
        click.echo(f"{entry.serial:>6}  {entry.at}  {entry.operation:12}  {entry.actor}")
    return 0


@state_group.command("unlock")
@click.argument("lock_id")
@state_backend
def state_unlock(lock_id: str, backend: StateBackend) -> int:
    """Release a lock left by a killed process; needs the lock's id."""
    holder = backend.unlock(lock_id)
    click.echo(f"released lock {holder.id} ({holder.describe()})")
    return 0


@state_group.command("release")
@click.argument("address")
@state_backend
def state_release(address: str, backend: StateBackend) -> int:
    """Stop protecting a resource (so a later apply may delete it)."""
    released: list[str] = []

    def release(state: State) -> set[str]:
        if address not in state.resources:
            raise StateError(f"{address} is not in the state")
        if not state.resources[address].protect:
            return set()
        state.resources[address].protect = False
        state.journal_append(address, "release", "ok", "protection released")
        released.append(address)
        return {address}

    edit_state(backend, "state release", release)
    if released:
        click.echo(f"released protection of {address}")
    else:
        click.echo(f"{address} was not protected: nothing to release")
    return 0


@state_group.command("migrate")
@click.option(
    "--to", "destination", required=True, metavar="FILE|URL", help="Where to copy the state."
)
@click.option(
    "--to-workspace",
    metavar="NAME",
    default=None,
    help="The destination's workspace [default: the source's].",
)
@state_option
def state_migrate(destination: str, to_workspace: str | None, state_path: str | None) -> int:
    """Copy the state to another backend (file <-> PostgreSQL), keeping lineage, serial,
    fingerprints, protection, journal and history. Refuses a destination with another lineage."""
    source = backend_for(state_path)
    target = _destination(destination, source, to_workspace)
    with source.lock("state migrate"):
        state = source.read()
        if state is None:
            raise StateError(f"no state at {source.location}")
        with target.lock("state migrate"):
            existing = target.read()
            if existing is not None and existing.lineage != state.lineage:
                raise StateError(
                    f"{target.location} holds another lineage ({existing.lineage}); "
                    "refusing to overwrite it"
                )
            if isinstance(target, PostgresStateBackend):
                target.replace(state)
            else:
                target.write(state)
    click.echo(
        f"copied {len(state.resources)} resource(s), serial {state.serial}, lineage "
        f"{state.lineage} from {source.location} to {target.location}"
    )
    return 0


def _destination(location: str, source: StateBackend, workspace: str | None) -> StateBackend:
    if is_url(location):
        name = workspace or (
            source.workspace if isinstance(source, PostgresStateBackend) else "default"
        )
        return PostgresStateBackend(location, workspace=name)
    return LocalStateBackend(Path(location))


@state_group.command("mv")
@click.argument("source", metavar="OLD")
@click.argument("destination", metavar="NEW")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@state_backend
def state_mv(source: str, destination: str, dry_run: bool, backend: StateBackend) -> int:
    """Record the object managed at OLD under the address NEW (nothing is sent)."""
    if not ADDRESS.match(destination):
        raise StateError(f"{destination!r} is not an address (TENANT/PROVIDER/SCOPE/KEY)")
    res = backend.move(source, destination, dry_run=dry_run)
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb} {source} -> {destination} (id {res.id}); nothing was sent")
    return 0


@state_group.command("rm")
@click.argument("address")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@state_backend
def state_rm(address: str, dry_run: bool, backend: StateBackend) -> int:
    """Forget ADDRESS without deleting it: the object stays at the provider, unmanaged."""
    res = backend.remove(address, dry_run=dry_run)
    verb = "would forget" if dry_run else "forgot"
    click.echo(
        f"{verb} {address} (id {res.id}); the object stays at {res.provider}, untouched. "
        "While the manifest declares it, the next plan adopts it again"
    )
    return 0
