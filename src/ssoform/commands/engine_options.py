"""Options shared by the commands that talk to providers: state, targets, output."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ssoform.commands.options import gathered
from ssoform.commands.progress import show_progress
from ssoform.engine.backend import LocalStateBackend, StateBackend
from ssoform.engine.postgres import PostgresStateBackend, is_url
from ssoform.engine.progress import Progress
from ssoform.engine.wiring import RunConfig
from ssoform.errors import SecretError
from ssoform.manifest.load import LoadedManifest, unresolved_secrets
from ssoform.sandbox.session import DEFAULT_SANDBOX_DIR, SandboxSession
from ssoform.transport import DEFAULT_MAX_WAIT

__all__ = [
    "EngineArgs",
    "backend_for",
    "engine_options",
    "listing_missing_secrets",
    "max_wait_from_env",
    "parse_duration",
    "resolve_state",
    "run_config",
    "run_engine",
    "sandbox_for",
    "sandbox_option",
    "state_backend",
    "state_option",
    "target_option",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

DEFAULT_STATE = Path(".ssoform/state.json")


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `5m`, `1h`, `250ms` or a bare number of seconds."""
    value = text.strip().lower()
    for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
        if value.endswith(unit):
            number, scale = value[: -len(unit)], _DURATION_UNITS[unit]
            break
    else:
        number, scale = value, 1.0
    try:
        seconds = float(number) * scale
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 30s, 5m, 1h)") from None
    if not 0 <= seconds <= 86400:
        raise click.BadParameter(f"{text!r} is out of range (0 to 24h)")
    return seconds


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    if value is not None:
        ctx.meta[f"ssoform.{param.name}"] = value
    return value


def state_option(func: F) -> F:
    """`--state FILE|URL`, plus `--workspace` and `--lock-timeout`, which `backend_for` reads."""
    func = click.option(
        "--lock-timeout",
        "lock_timeout",
        metavar="DURATION",
        default=None,
        expose_value=False,
        callback=lambda ctx, param, value: _remember(
            ctx, param, None if value is None else parse_duration(value)
        ),
        help="Wait up to DURATION (30s, 5m) for a busy state lock [default: fail at once].",
    )(func)
    func = click.option(
        "--workspace",
        "workspace",
        metavar="NAME",
        default=None,
        expose_value=False,
        callback=_remember,
        help="The state's workspace in a PostgreSQL database [default: $SSOFORM_WORKSPACE, "
        "else default].",
    )(func)
    return click.option(
        "--state",
        "state_path",
        default=None,
        metavar="FILE|URL",
        help="The state: a file or a postgresql:// URL [default: $SSOFORM_STATE, else "
        ".ssoform/state.json; --sandbox always uses .ssoform/sandbox/state.json].",
    )(func)


sandbox_option = click.option(
    "--sandbox",
    is_flag=True,
    help="Run against ssoform's embedded emulators (data kept in .ssoform/sandbox/).",
)


def resolve_state(path: str | Path | None, *, sandbox: bool) -> str:
    """Where the state is: the sandbox's own file for a sandbox run (whatever --state or
    SSOFORM_STATE say), else --state, else SSOFORM_STATE, else the default file."""
    if sandbox:
        return str(DEFAULT_SANDBOX_DIR / "state.json")
    if path is not None and str(path):
        return str(path)
    if os.environ.get("SSOFORM_STATE"):
        return os.environ["SSOFORM_STATE"]
    return str(DEFAULT_STATE)


def sandbox_for(loaded: LoadedManifest, flag: bool) -> SandboxSession | None:
    """A sandbox session when --sandbox is given or a provider instance asks for one."""
    manifest = loaded.manifest
    assert manifest is not None
    if flag or any(p.sandbox for p in manifest.providers.values()):
        return SandboxSession(
            DEFAULT_SANDBOX_DIR, manifest, everything=flag, certificates=loaded.certificates
        )
    return None


target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="GLOB",
    help="Only addresses matching GLOB, e.g. 'acme/*' or '*/cloudflare-main/*' (repeatable).",
)


@dataclass(frozen=True)
class EngineArgs:
    """Where a run reads and writes: `--state`, `--sandbox` and the `--target` globs."""

    state_path: Path | None
    sandbox: bool
    targets: tuple[str, ...]


def engine_options(func: F) -> F:
    """`--state` (with its lock options), `--sandbox` and `--target`, as `engine: EngineArgs`."""
    return state_option(sandbox_option(target_option(gathered("engine", EngineArgs)(func))))


def _backend(state_path: str | None, sandbox: bool) -> StateBackend:
    return backend_for(state_path, sandbox=sandbox)


def state_backend(func: F) -> F:
    """`--state` (with its lock options) and `--sandbox`, as `backend`, the backend they name."""
    return state_option(
        sandbox_option(gathered("backend", _backend, ("state_path", "sandbox"))(func))
    )


def backend_for(path: str | Path | None, *, sandbox: bool = False) -> StateBackend:
    """The state backend the options name: a PostgreSQL workspace for a URL, else a file."""
    location = resolve_state(path, sandbox=sandbox)
    meta = click.get_current_context(silent=True)
    options = meta.meta if meta is not None else {}
    timeout = float(options.get("ssoform.lock_timeout", 0.0))
    if is_url(location):
        workspace = str(
            options.get("ssoform.workspace") or os.environ.get("SSOFORM_WORKSPACE") or "default"
        )
        return PostgresStateBackend(location, workspace=workspace, lock_timeout=timeout)
    return LocalStateBackend(Path(location), lock_timeout=timeout, sandbox=sandbox)


def run_config(
    *,
    allow_outside_files: bool,
    sandbox: SandboxSession | None = None,
    progress: Progress | None = None,
) -> RunConfig:
    return RunConfig(
        allow_outside_files=allow_outside_files,
        sandbox=sandbox,
        progress=progress,
        idp_transport=sandbox.idp_transport() if sandbox is not None else None,
        max_wait=max_wait_from_env(),
    )


def max_wait_from_env() -> float:
    """`SSOFORM_MAX_WAIT` (seconds), the longest wait a provider may ask for; default 300."""
    raw = os.environ.get("SSOFORM_MAX_WAIT", "").strip()
    if not raw:
        return DEFAULT_MAX_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise click.UsageError(f"SSOFORM_MAX_WAIT must be a number of seconds, not {raw[:40]!r}")
    return value


@contextlib.contextmanager
def listing_missing_secrets(loaded: LoadedManifest, *, allow_outside_files: bool) -> Iterator[None]:
    """When a run stops on a secret it cannot resolve, name every one it could not, each at its
    file:line, so one fix covers them all (never a value)."""
    try:
        yield
    except SecretError as exc:
        missing = unresolved_secrets(loaded, allow_outside_files=allow_outside_files)
        if len(missing) < 1:
            raise
        listing = "\n".join(str(d) for d in missing)
        raise SecretError(
            f"{exc}; every secret reference that cannot be resolved:\n{listing}"
        ) from None


def run_engine(
    loaded: LoadedManifest,
    state_path: str | Path | None,
    sandbox: SandboxSession | None,
    config: RunConfig,
    work: Callable[[StateBackend], Coroutine[Any, Any, T]],
) -> T:
    """Run `work` on the state backend the options name, showing the run's progress and naming
    every secret it cannot resolve when it stops on one; the sandbox is saved however it ends."""
    try:
        backend = backend_for(state_path, sandbox=sandbox is not None)
        missing = listing_missing_secrets(loaded, allow_outside_files=config.allow_outside_files)
        with missing, show_progress(config.progress):
            return asyncio.run(work(backend))
    finally:
        if sandbox is not None:
            sandbox.save()
