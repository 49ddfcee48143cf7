"""The `ssoform` command line: each subcommand is a thin call into the library.

`main(argv) -> int` never raises: expected errors (`SsoformError`) and usage errors (a misspelt
flag, a missing path: click's message) exit 1, Ctrl-C exits 130, and anything else is a bug,
reported in one line with exit 3 and a hint. Exit 2 is kept for "changes" (`plan
--detailed-exitcode`) and "drift", so CI can trust it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import warnings
from collections.abc import Iterator, Sequence

import click

from ssoform import __version__
from ssoform.errors import SsoformError
from ssoform.logs import configure_logging, log_level_problems

__all__ = [
    "EXIT_BUG",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "entrypoint",
    "main",
    "tuned_collector",
]

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


def _more_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    """`-v`/`-vv` given after the subcommand add to those given before it."""
    if value:
        root = ctx.find_root()
        root.meta["ssoform.verbose"] = root.meta.get("ssoform.verbose", 0) + value
        configure_logging(root.meta["ssoform.verbose"])


def _with_verbose(command: click.Command) -> None:
    """Accept -v/--verbose on `command` and its subcommands too (once each)."""
    if not any(p.name == "more_verbose" for p in command.params):
        command.params.append(
            click.Option(
                ["-v", "--verbose", "more_verbose"],
                count=True,
                expose_value=False,
                callback=_more_verbose,
                help="More log output on stderr (-v info, -vv debug); also before the command.",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_verbose(sub)


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            found = getattr(importlib.import_module(module), attr)
            assert isinstance(found, click.Command)
            _with_verbose(found)
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
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the output: auto colours a terminal unless $NO_COLOR is set (non-empty); "
    "$FORCE_COLOR (non-empty) forces it.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, color: str) -> None:
    """Declarative SSO-as-code: validate, plan, apply and report drift."""
    ctx.meta["ssoform.verbose"] = verbose
    ctx.meta["ssoform.color"] = color
    if ctx.obj is _TUNE_COLLECTOR:
        ctx.meta["ssoform.loading"] = tuned_collector  # commands/load_valid.py wraps loading in it
    configure_logging(verbose)
    for problem in log_level_problems():
        click.echo(f"warning: {problem}", err=True)


_TUNE_COLLECTOR = object()


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    """Load the manifest without the cyclic garbage collector, then take what was loaded out of
    its sight for the rest of the process.

    Loading builds a large tree of new objects and little cyclic garbage: the collector would
    rescan the growing tree again and again (a third of validating 10,000 tenants); what loading
    drops is freed by reference counting. Then the manifest lives as long as the command, and a
    full collection would rescan it while live objects stream in (a third of the CPU of a
    5,000-connection plan; docs/performance.md). Process-wide, so only the entry point does it.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
    gc.freeze()


def main(argv: Sequence[str] | None = None, *, tune_collector: bool = False) -> int:
    """Run the CLI with `argv` and return the exit code. `tune_collector` (the console script)
    loads the manifest in `tuned_collector`, which changes the whole process's collector."""
    args = list(sys.argv[1:] if argv is None else argv)
    obj = _TUNE_COLLECTOR if tune_collector else None
    try:
        result = cli.main(args=args, prog_name="ssoform", standalone_mode=False, obj=obj)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        # click gives usage errors exit 2, which ssoform means as "changes" or "drift".
        return EXIT_ERROR if isinstance(exc, click.UsageError) else exc.exit_code
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
    """Console-script entry point (and `python -m ssoform`): one command per process."""
    # A connection still being opened when a run stops on an error is cancelled before its
    # coroutine starts; at exit that unstarted coroutine would print a RuntimeWarning after the
    # one-line error. The process ends right after, so nothing is lost by not saying so.
    warnings.filterwarnings(
        "ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning
    )
    sys.exit(main(tune_collector=True))
