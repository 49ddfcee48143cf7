"""Markdown for GitHub: `--github-step-summary` (appended to the file GitHub Actions names) and
`plan --markdown-dir` (one file per pull-request comment)."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["step_summary_option", "write_markdown_parts", "write_step_summary"]


step_summary_option = click.option(
    "--github-step-summary",
    "step_summary",
    is_flag=True,
    help="Also append a Markdown summary to $GITHUB_STEP_SUMMARY (when it is set).",
)


def write_step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY; nothing when it is not set (outside GitHub Actions)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(markdown if markdown.endswith("\n") else markdown + "\n")


def write_markdown_parts(directory: Path, parts: list[str]) -> None:
    """Write `plan-1.md`, `plan-2.md`, ... into `directory`, removing older parts left there."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("plan-*.md"):
        old.unlink()
    for n, text in enumerate(parts, 1):
        (directory / f"plan-{n}.md").write_text(text, encoding="utf-8")
    click.echo(f"Wrote the plan's Markdown to {directory}/ ({len(parts)} part(s)).", err=True)
