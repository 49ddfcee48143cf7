"""`ssoform` as a real process with the in-memory drivers (`engine/apply_subprocess.py`), whose
cloud is a JSON file: what the locking and crash tests start, kill and start again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "engine" / "apply_subprocess.py"


def fake_cli(cloud: Path, *args: str) -> list[str]:
    """The command line of `ssoform ARGS...` against the cloud kept in `cloud`."""
    return [sys.executable, str(SCRIPT), str(cloud), *args]


def fake_env(**settings: str) -> dict[str, str]:
    """The environment for it: the fake Cloudflare token, plus `settings` (`FAKE_DELAY`, seconds
    per write; `FAKE_KILL_AT`, `N:before` or `N:after`, SIGKILL at the Nth write)."""
    return {**os.environ, "CF_TOKEN": "t", **settings}


def run_fake_cli(cloud: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run it to the end in the cloud file's directory."""
    return subprocess.run(
        fake_cli(cloud, *args),
        capture_output=True,
        text=True,
        env=fake_env(**settings),
        timeout=120,
        check=False,
        cwd=cloud.parent,
    )


def saved_plan(root: Path, manifest_text: str) -> tuple[Path, Path, Path, Path]:
    """`root/m.yaml` holding `manifest_text`, planned into `root/plan.json`; returns the
    manifest, the cloud file, the state file and the plan."""
    manifest = root / "m.yaml"
    manifest.write_text(manifest_text)
    cloud, state, plan = root / "cloud.json", root / "state.json", root / "plan.json"
    made = run_fake_cli(cloud, "plan", str(manifest), "--state", str(state), "-o", str(plan))
    assert made.returncode == 0, made.stderr
    return manifest, cloud, state, plan
