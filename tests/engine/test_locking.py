"""Two applies on one state, as real processes: the second fails fast naming the holder; a lock
left by a SIGKILLed apply is reported as stale and released with `ssoform state unlock`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from workspace import CF_ACCOUNT

SCRIPT = Path(__file__).with_name("apply_subprocess.py")
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


def _cmd(cloud: Path, *args: str) -> list[str]:
    return [sys.executable, str(SCRIPT), str(cloud), *args]


def _run(cloud: Path, *args: str, delay: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CF_TOKEN": "t", "FAKE_DELAY": delay}
    return subprocess.run(
        _cmd(cloud, *args),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=cloud.parent,
    )


def test_second_apply_fails_fast_and_stale_lock_is_released(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(textwrap.dedent(MANIFEST))
    cloud, state, plan = tmp_path / "cloud.json", tmp_path / "state.json", tmp_path / "plan.json"
    made = _run(cloud, "plan", str(manifest), "--state", str(state), "-o", str(plan))
    assert made.returncode == 0, made.stderr
    lock = tmp_path / "state.json.lock"
    env = {**os.environ, "CF_TOKEN": "t", "FAKE_DELAY": "2"}
    holder = subprocess.Popen(
        _cmd(cloud, "apply", str(plan), "--state", str(state)),
        env=env,
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
        second = _run(cloud, "apply", str(plan), "--state", str(state))
        assert time.monotonic() - started < 10  # fails fast: it does not wait for the lock
        assert second.returncode == 1
        assert f"is locked (lock {lock_id}): apply by process {holder.pid} on " in second.stderr
        assert f" on {socket.gethostname()} since 20" in second.stderr
        assert "stale" not in second.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert lock.exists()  # a killed process cannot clean up
    stale = _run(cloud, "plan", str(manifest), "--state", str(state))
    assert stale.returncode == 0  # plan does not need the lock
    blocked = _run(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert blocked.returncode == 1
    assert f"Process {holder.pid} is gone: the lock is stale" in blocked.stderr
    assert f"release it with: ssoform state unlock {lock_id}" in blocked.stderr
    wrong = _run(cloud, "state", "unlock", "not-the-id", "--state", str(state))
    assert wrong.returncode == 1
    assert f"does not match the lock held ({lock_id})" in wrong.stderr
    released = _run(cloud, "state", "unlock", lock_id, "--state", str(state))
    assert released.returncode == 0, released.stderr
    assert f"released lock {lock_id} (apply by process {holder.pid}" in released.stdout
    assert not lock.exists()
    finish = _run(cloud, "apply", str(manifest), "--auto-approve", "--state", str(state))
    assert finish.returncode == 0, finish.stderr
    again = _run(cloud, "state", "unlock", lock_id, "--state", str(state))
    assert again.returncode == 1 and "is not locked" in again.stderr
