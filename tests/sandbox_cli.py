"""The ssoform CLI as a real process, run as a user runs it: no `SSOFORM_*` setting leaks in
from the test's own environment, no colour, and the example manifests to copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples" / "manifests"


def run_cli(
    cwd: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """`ssoform ARGS...` in `cwd`, with `env` added to a clean environment; never raises on a
    failing exit code (the test reads it)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SSOFORM_")}
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def copy_examples(root: Path) -> Path:
    """The example manifests, copied to `root/manifests` (which is returned)."""
    return Path(shutil.copytree(EXAMPLES, root / "manifests"))
