"""The README's main job, as real processes: validate, plan, apply the saved plan, plan again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "manifests"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOFORM_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_sandbox_plan_apply_plan_converges(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    first = _run(tmp_path, "plan", "--sandbox", "manifests", "-o", "plan.json")
    assert first.returncode == 0, first.stderr
    for expected in ("to create", "to adopt", "Unmanaged", "blocked:", "[experimental]"):
        assert expected in first.stdout, expected
    applied = _run(tmp_path, "apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = _run(tmp_path, "plan", "--sandbox", "manifests", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    assert (tmp_path / ".ssoform" / "sandbox" / "state.json").exists()
