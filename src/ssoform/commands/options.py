"""Options shared by several subcommands: manifest paths and template variables, and how a
command receives a group of options as one value."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from ssoform.errors import ManifestError
from ssoform.manifest.load import LoadOptions
from ssoform.manifest.yamlsource import YamlProblem, load_yaml

__all__ = [
    "ManifestArgs",
    "cert_warning_days_option",
    "gathered",
    "manifest_options",
    "parse_vars",
]

F = TypeVar("F", bound=Callable[..., Any])


def gathered(
    name: str, build: Callable[..., Any], names: tuple[str, ...] | None = None
) -> Callable[[F], F]:
    """Hand a command the options `names` (by default the fields of the dataclass `build`) as
    one value, `name`, built from them by `build`."""
    if names is None:
        assert isinstance(build, type) and dataclasses.is_dataclass(build)
        names = tuple(f.name for f in dataclasses.fields(build))
    taken = names

    def decorate(func: F) -> F:
        @functools.wraps(func)  # keeps the options click recorded on `func`
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = build(**{n: kwargs.pop(n) for n in taken})
            return func(*args, **kwargs)

        return cast(F, command)

    return decorate


@dataclass(frozen=True)
class ManifestArgs:
    """The manifest paths a command was given, with its template variables."""

    paths: tuple[Path, ...]
    var_pairs: tuple[str, ...]
    var_files: tuple[Path, ...]
    allow_outside_files: bool

    def load_options(self, settings: LoadOptions | None = None) -> LoadOptions:
        """`settings` (else the defaults) with these template variables and file policy."""
        return dataclasses.replace(
            settings or LoadOptions(),
            cli_vars=parse_vars(self.var_pairs, self.var_files),
            allow_outside_files=self.allow_outside_files,
        )


def cert_warning_days_option(text: str) -> Callable[[F], F]:
    """`--cert-warning-days N` (30 by default), described by `text`."""
    return click.option(
        "--cert-warning-days",
        type=click.IntRange(min=0),
        default=30,
        show_default=True,
        help=text,
    )


def manifest_options(func: F) -> F:
    """PATH... plus --var, --var-file and --allow-outside-files, as `manifest: ManifestArgs`."""
    func = gathered("manifest", ManifestArgs)(func)
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
