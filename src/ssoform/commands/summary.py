"""Markdown for GitHub: `--github-step-summary` (appended to the file GitHub Actions names) and
`plan --markdown-dir` (one file per pull-request comment)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from ssoform.report.step_summary import STEP_SUMMARY_LIMIT

__all__ = ["step_summary_option", "write_markdown_parts", "write_step_summary"]

_MARGIN = 4096
"""Bytes kept free under GitHub's limit, for the line break appended and a safety margin."""


step_summary_option = click.option(
    "--github-step-summary",
    "step_summary",
    is_flag=True,
    help="Also append a Markdown summary to $GITHUB_STEP_SUMMARY (when it is set).",
)


def write_step_summary(render: Callable[[int], str]) -> None:
    """Append `render(budget)` to $GITHUB_STEP_SUMMARY; nothing when it is not set (outside
    GitHub Actions). `budget` is the bytes the file may still take under GitHub's 1 MiB limit,
    counting what earlier steps left in it: the summary must fit in it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    path = Path(target)
    held = path.stat().st_size if path.is_file() else 0
    markdown = render(max(STEP_SUMMARY_LIMIT - held - _MARGIN, 0))
    if not markdown:
        return
    with path.open("a", encoding="utf-8") as out:
        out.write(markdown if markdown.endswith("\n") else markdown + "\n")


def write_markdown_parts(directory: Path, parts: list[str]) -> None:
    """Write `plan-1.md`, `plan-2.md`, ... into `directory`, removing older parts left there."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("plan-*.md"):
        old.unlink()
    for n, text in enumerate(parts, 1):
        (directory / f"plan-{n}.md").write_text(text, encoding="utf-8")
    click.echo(f"Wrote the plan's Markdown to {directory}/ ({len(parts)} part(s)).", err=True)
