"""Writing files that may hold secrets: atomically, owner-only, durable across a crash.

A write goes to a temporary file beside the target, is fsynced, renamed over the target and the
directory fsynced, so a crash leaves either the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["remove_stray_temporaries", "write_private"]


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stray_temporaries(path: Path) -> None:
    """Remove the temporary files a killed `write_private` left beside `path` (only ours, by
    name)."""
    with contextlib.suppress(OSError):
        for stray in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stray.unlink()
