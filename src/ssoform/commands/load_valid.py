"""Loading the manifest for a command: errors stop it, warnings print.

The command-line entry point may wrap loading in its garbage-collector tuning (`cli.py`); the
library never changes process-wide state itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import click

from ssoform.errors import ManifestError
from ssoform.manifest.diagnostics import Severity
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

__all__ = ["load_valid", "loading"]


def load_valid(paths: list[Path], options: LoadOptions) -> LoadedManifest:
    """Load manifests; raise with every error when invalid, print warnings to stderr."""
    with loading():
        loaded = load_manifest(paths, options)
    errors = [d for d in loaded.diagnostics if d.severity is Severity.ERROR]
    for diag in loaded.diagnostics:
        if diag.severity is Severity.WARNING:
            click.echo(str(diag), err=True)
    if errors or loaded.manifest is None:
        listing = "\n".join(str(d) for d in errors)
        raise ManifestError(f"the manifest is not valid:\n{listing}")
    return loaded


def loading() -> AbstractContextManager[None]:
    """What the entry point asked manifest loading to run in (`ssoform.loading` in the root
    context's meta), else nothing."""
    ctx = click.get_current_context(silent=True)
    wrap: Callable[[], AbstractContextManager[None]] | None = (
        ctx.find_root().meta.get("ssoform.loading") if ctx is not None else None
    )
    return wrap() if wrap is not None else contextlib.nullcontext()
