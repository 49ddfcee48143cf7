"""The sandbox never touches real state (issue: `SSOFORM_STATE` once sent sandbox resources into
the production state), and nothing derived from a real secret reaches the sandbox's stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sandbox_cli import copy_examples, run_cli

CANARY = "real-okta-secret-4b1d9e"


@pytest.mark.slow
def test_sandbox_ignores_the_real_state_and_real_secrets(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    secrets = {"ACME_OKTA_CLIENT_SECRET": CANARY, "INITECH_OKTA_CLIENT_SECRET": CANARY + "-2"}
    applied = run_cli(
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

    refused = run_cli(tmp_path, "state", "list", "--state", str(sandbox_state))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: {sandbox_state}: this state holds sandbox resources (written by a --sandbox "
        "run); a real run refuses it. Point --state at the real state; the sandbox keeps its "
        "own in .ssoform/sandbox/state.json"
    )
    listed = run_cli(tmp_path, "state", "list", "--sandbox", SSOFORM_STATE="prod-state.json")
    assert listed.returncode == 0, listed.stderr
    assert "resource(s); lineage" in listed.stdout
