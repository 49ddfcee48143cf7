"""Loading the manifest for a command that needs a valid one: errors stop it, warnings print."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from ssoform.errors import ManifestError
from ssoform.manifest.diagnostics import Severity
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

__all__ = ["load_valid"]


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
