"""The README's main job, as real processes: validate, plan, apply the saved plan, plan again."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox_cli import copy_examples, run_cli


@pytest.mark.slow
def test_sandbox_plan_apply_plan_converges(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    first = run_cli(tmp_path, "plan", "--sandbox", "manifests", "-o", "plan.json")
    assert first.returncode == 0, first.stderr
    for expected in ("to create", "to adopt", "Unmanaged", "blocked:", "[experimental]"):
        assert expected in first.stdout, expected
    applied = run_cli(tmp_path, "apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = run_cli(tmp_path, "plan", "--sandbox", "manifests", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    assert (tmp_path / ".ssoform" / "sandbox" / "state.json").exists()
