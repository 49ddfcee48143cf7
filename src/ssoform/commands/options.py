"""Options shared by several subcommands: manifest paths and template variables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ssoform.errors import ManifestError
from ssoform.manifest.yamlsource import YamlProblem, load_yaml

__all__ = ["manifest_options", "parse_vars"]

F = TypeVar("F", bound=Callable[..., Any])


def manifest_options(func: F) -> F:
    """PATH... plus --var, --var-file and --allow-outside-files."""
    func = click.option(
        "--allow-outside-files",
        is_flag=True,
        help="Allow {file: ...} references outside the manifest's directory tree.",
    )(func)
    func = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="YAML file of template variables (repeatable).",
    )(func)
    func = click.option(
        "--var",
        "var_pairs",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a template variable (repeatable; wins over --var-file and the manifest).",
    )(func)
    return click.argument(
        "paths",
        nargs=-1,
        required=True,
        type=click.Path(exists=True, allow_dash=True, path_type=Path),  # `-`: standard input
    )(func)


def parse_vars(pairs: tuple[str, ...], files: tuple[Path, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in files:
        try:
            data = load_yaml(path.read_bytes())
        except OSError as exc:
            raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
        except YamlProblem as problem:
            raise ManifestError(f"{path}:{problem.line}:{problem.col}: {problem.message}") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: a var file is a mapping of names to values")
        values.update(data)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--var")
        values[key.strip()] = value
    return values
