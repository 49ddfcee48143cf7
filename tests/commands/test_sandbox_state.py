"""The sandbox never touches real state (issue: `SSOFORM_STATE` once sent sandbox resources into
the production state), and nothing derived from a real secret reaches the sandbox's stores."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "manifests"
CANARY = "real-okta-secret-4b1d9e"


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SSOFORM_")}
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_sandbox_ignores_the_real_state_and_real_secrets(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    secrets = {"ACME_OKTA_CLIENT_SECRET": CANARY, "INITECH_OKTA_CLIENT_SECRET": CANARY + "-2"}
    applied = _run(
        tmp_path,
        *("apply", "--sandbox", "manifests", "--auto-approve"),
        SSOFORM_STATE="prod-state.json",
        **secrets,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not (tmp_path / "prod-state.json").exists()
    sandbox_state = tmp_path / ".ssoform" / "sandbox" / "state.json"
    assert sandbox_state.exists()

    for value in secrets.values():
        digests = {hashlib.sha256(value.encode()).hexdigest(), value}
        for stored in (tmp_path / ".ssoform").rglob("*"):
            if stored.is_file():
                text = stored.read_text(errors="replace")
                assert not any(d in text for d in digests), stored

    refused = _run(tmp_path, "state", "list", "--state", str(sandbox_state))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: {sandbox_state}: this state holds sandbox resources (written by a --sandbox "
        "run); a real run refuses it. Point --state at the real state; the sandbox keeps its "
        "own in .ssoform/sandbox/state.json"
    )
    listed = _run(tmp_path, "state", "list", "--sandbox", SSOFORM_STATE="prod-state.json")
    assert listed.returncode == 0, listed.stderr
    assert "resource(s); lineage" in listed.stdout
