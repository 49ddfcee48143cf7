"""SIGKILL `ssoform apply` (real drivers) against `ssoform emulate` (a real server process):
the state stays readable, the replan adopts what was made, and nothing is made twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import ssoform
from ssoform.engine.state import State

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
DOMAINS = [f"d{i}.example" for i in range(6)]
TENANTS = [f"T2t{i}" for i in range(3)]
WRITES = len(DOMAINS) + 3 * len(TENANTS)
"""Write calls of a full apply: a connector per domain; per Descope tenant, the default
configuration (configure) and a named one (settings/new, configure)."""
POINTS = int(os.environ.get("SSOFORM_CRASH_POINTS", "3"))
"""Kill points spread over the writes; all of them (15) in the full run (docs/reliability.md)."""
TIMEOUT = 120.0

MANIFEST = """
version: 1
providers:
  cf:
    type: cloudflare
    api_token: {{env: CF_TOKEN}}
    base_url: http://127.0.0.1:{port}/client/v4
    max_concurrency: 1
  ds:
    type: descope
    project_id: P2emulator
    management_key: {{env: DS_KEY}}
    base_url: http://127.0.0.1:{ds_port}
    max_concurrency: 1
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: abc, client_secret: {{env: OKTA}}}}
tenants:
  acme:
    domains: [{domains}]
    idp: okta
    connections:
      - {{provider: cf, account_id: {account}, enabled: false}}
"""

DESCOPE_TENANT = """
  {name}:
    domains: [{name}.example]
    idp: okta
    connections:
      - {{provider: ds, tenant_id: {tenant}, protocol: oidc}}
      - {{provider: ds, tenant_id: {tenant}, protocol: oidc, sso_id: extra,
          domains: [extra-{name}.example]}}
"""


@dataclass(frozen=True)
class Served:
    manifest: Path
    state: Path
    env: dict[str, str]
    cf: str
    ds: str


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
        if port > 65000:
            continue
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")


def _get(url: str) -> Any:
    return httpx.get(url, timeout=10).json()


def _wait_until_serving(server: subprocess.Popen[str], urls: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    for url in urls:
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                _get(f"{url}/_emulator/stats")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"emulator at {url} did not start") from None
                time.sleep(0.05)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port_pair()
    text = MANIFEST.format(
        port=port, ds_port=port + 1, domains=", ".join(DOMAINS), account=ACCOUNT
    ) + "".join(
        DESCOPE_TENANT.format(name=f"t{i}", tenant=tenant) for i, tenant in enumerate(TENANTS)
    )
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(textwrap.dedent(text))
    seed = tmp_path / "descope-seed.json"  # the tenants exist; none has SSO configured
    seed.write_text(json.dumps({"tenants": [{"id": t, "name": t} for t in TENANTS]}))
    env = {
        **os.environ,
        "CF_TOKEN": "cf-emulator-token",
        "DS_KEY": "descope-emulator-key",
        "OKTA": "okta-client-secret",
        "CI": "true",
        # The processes run the code under test, not whatever ssoform the interpreter finds.
        "PYTHONPATH": os.pathsep.join(
            [str(Path(ssoform.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
        "NO_COLOR": "1",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "ssoform", "emulate", "--port", str(port)),
            *("--only", "cloudflare", "--only", "descope", "--latency", "0.2"),
            *("--store", f"descope={seed}"),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cf, ds = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        _wait_until_serving(server, [cf, ds])
        yield Served(manifest, tmp_path / "state.json", env, cf, ds)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _ssoform(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args, "--state", str(served.state)],
        env=served.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _writes(served: Served) -> int:
    calls = {**_get(f"{served.cf}/_emulator/stats")["calls"]}
    calls.update(_get(f"{served.ds}/_emulator/stats")["calls"])
    return sum(n for call, n in calls.items() if call.startswith("POST "))


def _live(served: Served) -> dict[str, int]:
    """How many objects the emulators hold for each resource key (`scope/key`)."""
    found: dict[str, int] = {}
    for connector in _get(f"{served.cf}/_emulator/state")["connectors"]:
        key = f"{connector['account_id']}/{connector['email_domain']}"
        found[key] = found.get(key, 0) + 1
    for tenant in _get(f"{served.ds}/_emulator/state")["tenants"]:
        for sso_id, config in tenant["configs"].items():
            if sso_id or config["oidc"] or config["saml"]:  # made by ssoform
                key = f"{tenant['id']}/{sso_id or 'default'}"
                found[key] = found.get(key, 0) + 1
    return found


def _kill_after_writes(served: Served, writes: int) -> None:
    apply = subprocess.Popen(
        [
            *(sys.executable, "-m", "ssoform", "apply", str(served.manifest)),
            *("--auto-approve", "--state", str(served.state)),
        ],
        env=served.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while _writes(served) < writes and apply.poll() is None:
            assert time.monotonic() < deadline, "apply made no progress"
            time.sleep(0.005)
        os.kill(apply.pid, signal.SIGKILL)
    finally:
        _, stderr = apply.communicate(timeout=TIMEOUT)
    assert apply.returncode == -signal.SIGKILL, stderr  # killed before it finished


@pytest.mark.slow
@pytest.mark.parametrize("point", range(POINTS))
def test_sigkill_during_served_apply(served: Served, point: int) -> None:
    writes = 1 + (point * WRITES) // POINTS
    _kill_after_writes(served, writes)

    recorded = (
        State.model_validate_json(served.state.read_text()).resources  # readable, if written
        if served.state.exists()
        else {}
    )
    lock = served.state.with_name("state.json.lock")
    assert lock.exists()  # a killed process cannot clean up
    lock_id = json.loads(lock.read_text())["id"]
    blocked = _ssoform(served, "apply", str(served.manifest), "--auto-approve")
    assert blocked.returncode == 1
    assert f"release it with: ssoform state unlock {lock_id}" in blocked.stderr
    unlocked = _ssoform(served, "state", "unlock", lock_id)
    assert unlocked.returncode == 0, unlocked.stderr

    live = _live(served)
    replan = _ssoform(served, "plan", str(served.manifest), "--json")
    assert replan.returncode == 0, replan.stderr
    changes = json.loads(replan.stdout)["resource_changes"]
    assert len(changes) == WRITES - len(TENANTS)
    for change in changes:
        key = f"{change['scope']}/{change['key']}"
        in_state = any(address.endswith(f"/{key}") for address in recorded)
        recorded_action = "blocked" if change["scope"] == ACCOUNT else "no-op"  # DNS pending
        expected = recorded_action if in_state else ("adopt" if key in live else "create")
        assert change["action"] == expected, (key, change["action"], sorted(live))

    finish = _ssoform(served, "apply", str(served.manifest), "--auto-approve")
    assert finish.returncode == 0, finish.stdout + finish.stderr
    final = _ssoform(served, "plan", str(served.manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    live = _live(served)
    declared = [f"{ACCOUNT}/{d}" for d in DOMAINS]
    declared += [f"{t}/{sso_id}" for t in TENANTS for sso_id in ("default", "extra")]
    assert live == dict.fromkeys(declared, 1)  # each declared object once, nothing else
