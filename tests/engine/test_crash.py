"""An apply killed with SIGKILL at many points leaves a readable state; nothing is made twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ssoform.engine.state import State
from workspace import CF_ACCOUNT

SCRIPT = Path(__file__).with_name("apply_subprocess.py")
POINTS = int(os.environ.get("SSOFORM_CRASH_POINTS", "6"))
"""Kill points spread over the 20 creates; 20 in the full run (docs/reliability.md)."""

MANIFEST = """
version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
tenants:
  acme:
    domains: [{domains}]
    connections:
      - {{provider: cf, account_id: {account}}}
"""


def _run(cloud: Path, *args: str, delay: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CF_TOKEN": "t", "FAKE_DELAY": delay}
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(cloud), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=cloud.parent,
    )


@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_apply_leaves_readable_state(tmp_path: Path, point: int) -> None:
    domains = [f"d{i}.example" for i in range(20)]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        textwrap.dedent(MANIFEST.format(domains=", ".join(domains), account=CF_ACCOUNT))
    )
    cloud, state, plan = tmp_path / "cloud.json", tmp_path / "state.json", tmp_path / "plan.json"
    made = _run(cloud, "plan", str(manifest), "--state", str(state), "-o", str(plan))
    assert made.returncode == 0, made.stderr
    nth = 1 + (point * 20) // POINTS
    phase = "before" if point % 2 else "after"
    env = {**os.environ, "CF_TOKEN": "t", "FAKE_KILL_AT": f"{nth}:{phase}"}
    killed = subprocess.run(
        [sys.executable, str(SCRIPT), str(cloud), "apply", str(plan), "--state", str(state)],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
    )
    assert killed.returncode == -signal.SIGKILL
    recorded = State.model_validate_json(state.read_text())  # readable, whatever the point
    lock = state.with_name("state.json.lock")
    if lock.exists():
        lock_id = json.loads(lock.read_text())["id"]
        unlocked = _run(cloud, "state", "unlock", lock_id, "--state", str(state))
        assert unlocked.returncode == 0, unlocked.stderr
    replan = _run(cloud, "plan", str(manifest), "--state", str(state), "--json")
    assert replan.returncode == 0, replan.stderr
    actions = {c["key"]: c["action"] for c in json.loads(replan.stdout)["resource_changes"]}
    created = set(json.loads(cloud.read_text())["objects"]) if cloud.exists() else set()
    for key, action in actions.items():
        in_cloud = f"cf|{CF_ACCOUNT}|{key}" in created
        in_state = f"acme/cf/{CF_ACCOUNT}/{key}" in recorded.resources
        expected = "no-op" if in_state else ("adopt" if in_cloud else "create")
        assert action == expected, (key, action)
    finish = _run(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert finish.returncode == 0, finish.stderr
    final = _run(cloud, "plan", str(manifest), "--state", str(state), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout
    final_cloud = json.loads(cloud.read_text())
    assert len(final_cloud["objects"]) == 20
    assert final_cloud["duplicates"] == 0
