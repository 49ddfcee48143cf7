"""Two applies on one state, as real processes: the second fails fast naming the holder; a lock
left by a SIGKILLed apply is reported as stale and released with `ssoform state unlock`."""

from __future__ import annotations

import getpass
import json
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from fake_cli import fake_cli, fake_env, run_fake_cli, saved_plan
from workspace import CF_ACCOUNT

MANIFEST = f"""
version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
tenants:
  acme:
    domains: [a.example, b.example, c.example]
    connections:
      - {{provider: cf, account_id: {CF_ACCOUNT}}}
"""


@pytest.mark.slow
def test_second_apply_fails_fast_and_stale_lock_is_released(tmp_path: Path) -> None:
    manifest, cloud, state, plan = saved_plan(tmp_path, textwrap.dedent(MANIFEST))
    lock = tmp_path / "state.json.lock"
    holder = subprocess.Popen(
        fake_cli(cloud, "apply", str(plan), "--state", str(state)),
        env=fake_env(FAKE_DELAY="2"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.exists()
        lock_id = json.loads(lock.read_text())["id"]
        started = time.monotonic()
        second = run_fake_cli(cloud, "apply", str(plan), "--state", str(state))
        assert time.monotonic() - started < 10  # fails fast: it does not wait for the lock
        assert second.returncode == 1
        assert f"is locked (lock {lock_id}): apply by process {holder.pid} on " in second.stderr
        assert f" on {socket.gethostname()} as {getpass.getuser()} since 20" in second.stderr
        assert "stale" not in second.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert lock.exists()  # a killed process cannot clean up
    stale = run_fake_cli(cloud, "plan", str(manifest), "--state", str(state))
    assert stale.returncode == 0  # plan does not need the lock
    blocked = run_fake_cli(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert blocked.returncode == 1
    assert f"Process {holder.pid} is gone: the lock is stale" in blocked.stderr
    assert f"release it with: ssoform state unlock {lock_id}" in blocked.stderr
    wrong = run_fake_cli(cloud, "state", "unlock", "not-the-id", "--state", str(state))
    assert wrong.returncode == 1
    assert f"does not match the lock held ({lock_id})" in wrong.stderr
    released = run_fake_cli(cloud, "state", "unlock", lock_id, "--state", str(state))
    assert released.returncode == 0, released.stderr
    assert f"released lock {lock_id} (apply by process {holder.pid}" in released.stdout
    assert not lock.exists()
    finish = run_fake_cli(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert finish.returncode == 0, finish.stderr
    again = run_fake_cli(cloud, "state", "unlock", lock_id, "--state", str(state))
    assert again.returncode == 1 and "is not locked" in again.stderr
