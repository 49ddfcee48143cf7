"""Options shared by the commands that talk to providers: state, targets, output."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.progress import Progress
from ssoform.engine.runner import RunConfig
from ssoform.errors import ManifestError
from ssoform.manifest.diagnostics import Severity
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest
from ssoform.sandbox.session import DEFAULT_SANDBOX_DIR, SandboxSession
from ssoform.transport import DEFAULT_MAX_WAIT

__all__ = [
    "backend_for",
    "load_valid",
    "max_wait_from_env",
    "resolve_state",
    "run_config",
    "sandbox_for",
    "sandbox_option",
    "state_option",
    "target_option",
    "use_color",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_STATE = Path(".ssoform/state.json")


def state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The state file [default: $SSOFORM_STATE, else .ssoform/state.json, or "
        ".ssoform/sandbox/state.json with --sandbox].",
    )(func)


def sandbox_option(func: F) -> F:
    return click.option(
        "--sandbox",
        is_flag=True,
        help="Run against ssoform's embedded emulators (data kept in .ssoform/sandbox/).",
    )(func)


def resolve_state(path: Path | None, *, sandbox: bool) -> Path:
    if path is not None:
        return path
    if os.environ.get("SSOFORM_STATE"):
        return Path(os.environ["SSOFORM_STATE"])
    return DEFAULT_SANDBOX_DIR / "state.json" if sandbox else DEFAULT_STATE


def sandbox_for(loaded: LoadedManifest, flag: bool) -> SandboxSession | None:
    """A sandbox session when --sandbox is given or a provider instance asks for one."""
    manifest = loaded.manifest
    assert manifest is not None
    if flag or any(p.sandbox for p in manifest.providers.values()):
        return SandboxSession(
            DEFAULT_SANDBOX_DIR, manifest, everything=flag, certificates=loaded.certificates
        )
    return None


def target_option(func: F) -> F:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="GLOB",
        help="Only addresses matching GLOB, e.g. 'acme/*' or '*/cloudflare-main/*' (repeatable).",
    )(func)


def backend_for(path: Path | None, *, sandbox: bool = False) -> LocalStateBackend:
    return LocalStateBackend(resolve_state(path, sandbox=sandbox))


def load_valid(paths: list[Path], options: LoadOptions) -> LoadedManifest:
    """Load manifests; raise with every error when invalid, print warnings to stderr."""
    loaded = load_manifest(paths, options)
    errors = [d for d in loaded.diagnostics if d.severity is Severity.ERROR]
    for diag in loaded.diagnostics:
        if diag.severity is Severity.WARNING:
            click.echo(str(diag), err=True)
    if errors or loaded.manifest is None:
        listing = "\n".join(str(d) for d in errors)
        raise ManifestError(f"the manifest is not valid:\n{listing}")
    # The manifest lives as long as the command: take it out of the cyclic collector's sight,
    # which otherwise rescans it at every full collection while live objects stream in (a third
    # of the CPU of a 5,000-connection plan; docs/performance.md).
    gc.freeze()
    return loaded


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


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
