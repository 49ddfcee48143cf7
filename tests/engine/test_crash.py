"""An apply killed with SIGKILL at many points leaves a readable state; nothing is made twice."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest

from fake_cli import run_fake_cli, saved_plan
from ssoform.engine.state import State
from workspace import CF_ACCOUNT

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


@pytest.mark.slow
@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_apply_leaves_readable_state(tmp_path: Path, point: int) -> None:
    domains = [f"d{i}.example" for i in range(20)]
    text = textwrap.dedent(MANIFEST.format(domains=", ".join(domains), account=CF_ACCOUNT))
    manifest, cloud, state, plan = saved_plan(tmp_path, text)
    nth = 1 + (point * 20) // POINTS
    phase = "before" if point % 2 else "after"
    killed = run_fake_cli(
        cloud, "apply", str(plan), "--state", str(state), FAKE_KILL_AT=f"{nth}:{phase}"
    )
    assert killed.returncode == -signal.SIGKILL
    recorded = State.model_validate_json(state.read_text())  # readable, whatever the point
    lock = state.with_name("state.json.lock")
    if lock.exists():
        lock_id = json.loads(lock.read_text())["id"]
        unlocked = run_fake_cli(cloud, "state", "unlock", lock_id, "--state", str(state))
        assert unlocked.returncode == 0, unlocked.stderr
    replan = run_fake_cli(cloud, "plan", str(manifest), "--state", str(state), "--json")
    assert replan.returncode == 0, replan.stderr
    actions = {c["key"]: c["action"] for c in json.loads(replan.stdout)["resource_changes"]}
    created = set(json.loads(cloud.read_text())["objects"]) if cloud.exists() else set()
    for key, action in actions.items():
        in_cloud = f"cf|{CF_ACCOUNT}|{key}" in created
        in_state = f"acme/cf/{CF_ACCOUNT}/{key}" in recorded.resources
        expected = "no-op" if in_state else ("adopt" if in_cloud else "create")
        assert action == expected, (key, action)
    finish = run_fake_cli(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert finish.returncode == 0, finish.stderr
    final = run_fake_cli(cloud, "plan", str(manifest), "--state", str(state), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout
    final_cloud = json.loads(cloud.read_text())
    assert len(final_cloud["objects"]) == 20
    assert final_cloud["duplicates"] == 0
