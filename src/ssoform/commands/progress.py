"""The progress line on long reads and applies: per provider instance, requests done of the
fewest needed, and whether it is waiting on the rate limit. On stderr, and only on a terminal:
CI logs get nothing."""

from __future__ import annotations

import contextlib
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


def render_line(progress: Progress, width: int = 120) -> str:
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
            line = render_line(progress)
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
