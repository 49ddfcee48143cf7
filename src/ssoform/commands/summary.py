"""`--github-step-summary`: Markdown appended to the file GitHub Actions names."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["step_summary_option", "write_step_summary"]

F = TypeVar("F", bound=Callable[..., Any])


def step_summary_option(func: F) -> F:
    return click.option(
        "--github-step-summary",
        "step_summary",
        is_flag=True,
        help="Also append a Markdown summary to $GITHUB_STEP_SUMMARY (when it is set).",
    )(func)


def write_step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY; nothing when it is not set (outside GitHub Actions)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(markdown if markdown.endswith("\n") else markdown + "\n")
