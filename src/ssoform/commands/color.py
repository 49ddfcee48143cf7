"""Whether a command colours its output: `--color`, $FORCE_COLOR, $NO_COLOR, else a terminal."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click

__all__ = ["use_color"]


def use_color(stream: TextIO | None = None) -> bool:
    """Whether to colour `stream` (stdout): `--color always|never`, else $FORCE_COLOR (set and
    not empty or 0) colours, $NO_COLOR (set and not empty) does not, else only a terminal."""
    ctx = click.get_current_context(silent=True)
    choice = ctx.find_root().meta.get("ssoform.color", "auto") if ctx is not None else "auto"
    if choice != "auto":
        return bool(choice == "always")
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if os.environ.get("NO_COLOR", ""):
        return False
    return (stream or sys.stdout).isatty()
