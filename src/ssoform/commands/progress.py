"""The progress line on long reads and applies: per provider instance, requests done of the
fewest needed, and whether it is waiting on the rate limit. On stderr, and only on a terminal
(CI logs get nothing), cut to the terminal's width."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from ssoform.engine.progress import Progress

__all__ = ["new_progress", "show_progress"]

INTERVAL = 0.5


def new_progress(stream: TextIO | None = None) -> Progress | None:
    """A `Progress` to fill when `stream` (stderr) is a terminal, else None."""
    stream = stream or sys.stderr
    return Progress() if stream.isatty() else None


def terminal_width(stream: TextIO) -> int:
    """The width of the terminal `stream` writes to (80 when it cannot tell)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size().columns


def render_line(progress: Progress, width: int = 120) -> str:
    """The line, cut to fit `width` columns (one short of it: a full line would wrap)."""
    width = max(0, width - 1)
    parts = [
        f"{p.name} {p.done}/{p.total}" + (" (rate limit)" if p.waiting else "")
        for p in progress.snapshot()
    ]
    if not parts:
        return ""
    return f"{progress.phase}: " + ", ".join(parts)[: max(0, width - len(progress.phase) - 2)]


@contextlib.contextmanager
def show_progress(progress: Progress | None, stream: TextIO | None = None) -> Iterator[None]:
    """Redraw the progress line every half second while the block runs; erase it after."""
    if progress is None:
        yield
        return
    out = stream or sys.stderr
    stop = threading.Event()

    def draw() -> None:
        shown = 0
        while not stop.wait(INTERVAL):
            line = render_line(progress, terminal_width(out))
            out.write("\r" + line + " " * max(0, shown - len(line)))
            out.flush()
            shown = len(line)
        if shown:
            out.write("\r" + " " * shown + "\r")
            out.flush()

    thread = threading.Thread(target=draw, name="ssoform-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2 * INTERVAL)
