"""`ssoform emulate`: serve the provider emulators on loopback ports, as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig
from ssoform.errors import SsoformError
from ssoform.manifest.fields import is_loopback_host
from ssoform.manifest.load import LoadOptions
from ssoform.manifest.models import Manifest
from ssoform.sandbox.kinds import EmulatorKind, known_kinds

__all__ = ["emulate_command"]

PROJECT_ID = "P2emulator"


@click.command("emulate")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option(
    "--port",
    type=click.IntRange(0, 65000),
    callback=lambda _ctx, _param, port: _unprivileged(port),
    default=8700,
    show_default=True,
    help="The first emulator's port (1024 to 65000), the next ones following; 0: any free port "
    "for each (the printed URLs say which).",
)
@click.option(
    "--only", multiple=True, metavar="TYPE", help="Serve only these provider types (repeatable)."
)
@click.option("--latency", type=click.FloatRange(0, 10), default=0.0, help="Seconds per answer.")
@click.option(
    "--rate-limit",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Requests each emulator allows per window [default: the provider's documented limit].",
)
@click.option(
    "--rate-window",
    type=click.FloatRange(0.01, 86_400),
    default=None,
    help="Seconds of the rate window (with --rate-limit) [default: the provider's].",
)
@click.option(
    "--store",
    "store_files",
    multiple=True,
    metavar="TYPE=FILE",
    help="Load an emulator's data from a JSON file (as GET /_emulator/state returns it).",
)
@click.option(
    "--seed",
    "seed_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Seed the emulators with the sandbox estate for this manifest.",
)
def emulate_command(
    host: str,
    port: int,
    only: tuple[str, ...],
    latency: float,
    rate_limit: int | None,
    rate_window: float | None,
    store_files: tuple[str, ...],
    seed_paths: tuple[Path, ...],
) -> int:
    """Serve the provider emulators on loopback ports until interrupted."""
    if not is_loopback_host(host):
        raise SsoformError(f"refusing to serve emulators on {host}: use a loopback address")
    kinds = [k for k in known_kinds() if not only or k.type_name in only]
    unknown = set(only) - {k.type_name for k in kinds}
    if unknown:
        raise SsoformError(f"no emulator for {', '.join(sorted(unknown))}")
    if rate_window is not None and rate_limit is None:
        raise SsoformError("--rate-window needs --rate-limit")
    stores = _store_files(store_files, {k.type_name for k in kinds})
    limits: dict[str, object] = {}
    if rate_limit is not None:
        limits["rate_limit"] = rate_limit
        limits["rate_window"] = rate_window if rate_window is not None else 60.0
    apps = []
    manifest = _seed_manifest(seed_paths)
    for offset, kind in enumerate(kinds):
        store = kind.new_store(stores.get(kind.type_name))
        if manifest is not None:
            for name, instance in manifest.providers.items():
                if instance.type == kind.type_name:
                    kind.seed(store, manifest, name)
        app = kind.app(store, SimpleNamespace(project_id=PROJECT_ID), **limits)
        app.state.emulator.served = True
        app.state.emulator.configure(FaultConfig(latency=latency))
        apps.append((app, _listen(host, port + offset if port else 0)))
    for kind, (_, sock) in zip(kinds, apps, strict=True):
        _announce(kind, host, int(sock.getsockname()[1]))
    click.echo("Serving; press Ctrl-C to stop.", err=True)
    asyncio.run(_serve(apps))
    return 0


def _unprivileged(port: int) -> int:
    """0 (any free port), or a port from 1024 up: the emulators never take a privileged one."""
    if 0 < port < 1024:
        raise click.BadParameter(f"{port} is a privileged port: give 0, or 1024 to 65000")
    return port


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port the system picks)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        return socket.create_server((address, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise SsoformError(f"cannot listen on {host}:{port}: {reason}") from None


def _store_files(specs: tuple[str, ...], served: set[str]) -> dict[str, dict[str, Any]]:
    stores: dict[str, dict[str, Any]] = {}
    for spec in specs:
        type_name, sep, file = spec.partition("=")
        if not sep or not file:
            raise SsoformError(f"--store {spec}: expected TYPE=FILE")
        if type_name not in served:
            raise SsoformError(f"--store {spec}: {type_name} is not served")
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SsoformError(f"--store {spec}: cannot read {file}: {exc.strerror}") from None
        except ValueError as exc:
            raise SsoformError(f"--store {spec}: {file} is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise SsoformError(f"--store {spec}: {file} does not hold a JSON object")
        stores[type_name] = data
    return stores


def _seed_manifest(paths: tuple[Path, ...]) -> Manifest | None:
    if not paths:
        return None
    from ssoform.commands.load_valid import load_valid

    return load_valid(list(paths), LoadOptions()).manifest


def _announce(kind: EmulatorKind, host: str, port: int) -> None:
    credentials = ", ".join(f"{k}={v}" for k, v in kind.credentials(None).items())
    extra = f" project_id={PROJECT_ID}" if kind.type_name == "descope" else ""
    click.echo(f"{kind.type_name:<11} http://{host}:{port}{kind.base_path}  {credentials}{extra}")


async def _serve(apps: list[tuple[Starlette, socket.socket]]) -> None:
    """Serve each app on its socket, already listening (so the announced port is the real one)."""
    import uvicorn

    servers = [
        (uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")), sock)
        for app, sock in apps
    ]
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
