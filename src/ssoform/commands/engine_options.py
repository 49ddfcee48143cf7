"""Options shared by the commands that talk to providers: state, targets, output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.runner import RunConfig
from ssoform.errors import ManifestError
from ssoform.manifest.diagnostics import Severity
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

__all__ = ["backend_for", "load_valid", "run_config", "state_option", "target_option", "use_color"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_STATE = Path(".ssoform/state.json")


def state_option(func: F) -> F:
    return click.option(
        "--state",
        "state_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: Path(os.environ.get("SSOFORM_STATE", str(DEFAULT_STATE))),
        show_default=".ssoform/state.json or $SSOFORM_STATE",
        help="The state file.",
    )(func)


def target_option(func: F) -> F:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="GLOB",
        help="Only addresses matching GLOB, e.g. 'acme/*' or '*/cloudflare-main/*' (repeatable).",
    )(func)


def backend_for(path: Path) -> LocalStateBackend:
    return LocalStateBackend(path)


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
    return loaded


def run_config(*, allow_outside_files: bool) -> RunConfig:
    return RunConfig(allow_outside_files=allow_outside_files)


def use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
