"""The `ssoform` command line: each subcommand is a thin call into the library.

`main(argv) -> int` never raises: expected errors (`SsoformError`) exit 1 with their message,
Ctrl-C exits 130, and anything else is a bug, reported in one line with exit 3 and a hint.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from ssoform import __version__
from ssoform.errors import SsoformError
from ssoform.logs import configure_logging

__all__ = ["EXIT_BUG", "EXIT_ERROR", "EXIT_INTERRUPTED", "entrypoint", "main"]

EXIT_ERROR = 1
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("ssoform.commands.validate", "validate_command"),
    "schema": ("ssoform.commands.validate", "schema_command"),
    "plan": ("ssoform.commands.plan", "plan_command"),
    "apply": ("ssoform.commands.apply", "apply_command"),
    "state": ("ssoform.commands.state", "state_group"),
    "emulate": ("ssoform.commands.emulate", "emulate_command"),
    "sandbox": ("ssoform.commands.sandbox", "sandbox_group"),
    "drift": ("ssoform.commands.drift", "drift_command"),
    "import": ("ssoform.commands.importer", "import_command"),
}
"""Subcommand -> (module, attribute). Imported on use: `validate` of a large fleet should not
pay for importing the emulators' web framework (about a second)."""


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            found = getattr(importlib.import_module(module), attr)
            assert isinstance(found, click.Command)
            self.add_command(found, cmd_name)
        return found


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssoform")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log to stderr: -v info, -vv debug (or set $SSOFORM_LOG_LEVEL). Secrets are redacted.",
)
def cli(verbose: int) -> None:
    """Declarative SSO-as-code: validate, plan, apply and report drift."""
    configure_logging(verbose)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="ssoform", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except SsoformError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_ERROR
    except Exception as exc:  # the one place that turns a bug into a message, not a traceback
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in ssoform. Run with SSOFORM_DEBUG=1 for a traceback and report it.",
            err=True,
        )
        if _debug_enabled():
            raise
        return EXIT_BUG
    return int(result) if isinstance(result, int) else 0


def _debug_enabled() -> bool:
    import os

    return os.environ.get("SSOFORM_DEBUG", "") not in ("", "0")


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
