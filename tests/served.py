"""Served emulators for tests that run ssoform as real processes: `ssoform emulate` serving
Cloudflare and Descope on loopback ports, a manifest for them, and helpers to count what the
emulators hold. The state is a file or a PostgreSQL URL (`Served.state`)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import ssoform

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
DOMAINS = [f"d{i}.example" for i in range(6)]
TENANTS = [f"T2t{i}" for i in range(3)]
WRITES = len(DOMAINS) + 3 * len(TENANTS)
"""Write calls of a full apply: a connector per domain; per Descope tenant, the default
configuration (configure) and a named one (settings/new, configure)."""
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
    state: str
    env: dict[str, str]
    cf: str
    ds: str


ANNOUNCED = re.compile(r"(?P<type>[a-z]+) +http://127\.0\.0\.1:(?P<port>\d+)\S*  ")
"""A line `ssoform emulate` prints for each emulator: its type, then its base URL."""


def start_emulators(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[str], dict[str, int]]:
    """Start `ssoform emulate --port 0 ARGS` (each emulator on a port the system picks, so two
    test runs never collide) and return it with the port of each emulator, as it printed them.
    The sockets listen before the ports are printed."""
    server = subprocess.Popen(
        [sys.executable, "-m", "ssoform", "emulate", "--port", "0", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ports: dict[str, int] = {}
    assert server.stdout is not None
    for line in server.stdout:
        found = ANNOUNCED.match(line)
        if found is None:
            break
        ports[found["type"]] = int(found["port"])
        if len(ports) == args.count("--only"):
            break
    if len(ports) != args.count("--only"):
        server.kill()
        raise RuntimeError(f"ssoform emulate did not start: {server.communicate()[1][-2000:]}")
    return server, ports


def get_json(url: str) -> Any:
    return httpx.get(url, timeout=10).json()


def wait_until_serving(server: subprocess.Popen[str], urls: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    for url in urls:
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                get_json(f"{url}/_emulator/stats")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"emulator at {url} did not start") from None
                time.sleep(0.05)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # Slow enough answers that a test killing the apply mid-way is not outrun by it.
    yield from serve(tmp_path, str(tmp_path / "state.json"), latency=0.2)


def serve(tmp_path: Path, state: str, *, latency: float = 0.05) -> Iterator[Served]:
    """Start the emulators and write a manifest for them in `tmp_path`; stop them after."""
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
    server, ports = start_emulators(
        [
            *("--only", "cloudflare", "--only", "descope", "--latency", str(latency)),
            *("--store", f"descope={seed}"),
        ],
        env,
    )
    try:
        text = MANIFEST.format(
            port=ports["cloudflare"],
            ds_port=ports["descope"],
            domains=", ".join(DOMAINS),
            account=ACCOUNT,
        ) + "".join(
            DESCOPE_TENANT.format(name=f"t{i}", tenant=tenant) for i, tenant in enumerate(TENANTS)
        )
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(textwrap.dedent(text))
        cf, ds = f"http://127.0.0.1:{ports['cloudflare']}", f"http://127.0.0.1:{ports['descope']}"
        wait_until_serving(server, [cf, ds])
        yield Served(manifest, state, env, cf, ds)
    finally:
        stop(server)


def stop(server: subprocess.Popen[str]) -> None:
    """Stop a served `ssoform emulate` as a user would (SIGTERM), killing it if it hangs."""
    server.send_signal(signal.SIGTERM)
    try:
        server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()


def ssoform_run(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args, "--state", served.state],
        env=served.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def writes_made(served: Served) -> int:
    calls = {**get_json(f"{served.cf}/_emulator/stats")["calls"]}
    calls.update(get_json(f"{served.ds}/_emulator/stats")["calls"])
    return sum(n for call, n in calls.items() if call.startswith("POST "))


def live_objects(served: Served) -> dict[str, int]:
    """How many objects the emulators hold for each resource key (`scope/key`)."""
    found: dict[str, int] = {}
    for connector in get_json(f"{served.cf}/_emulator/state")["connectors"]:
        key = f"{connector['account_id']}/{connector['email_domain']}"
        found[key] = found.get(key, 0) + 1
    for tenant in get_json(f"{served.ds}/_emulator/state")["tenants"]:
        for sso_id, config in tenant["configs"].items():
            if sso_id or config["oidc"] or config["saml"]:  # made by ssoform
                key = f"{tenant['id']}/{sso_id or 'default'}"
                found[key] = found.get(key, 0) + 1
    return found


def start_apply(served: Served, *, stdout: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """`ssoform apply --auto-approve` of the served manifest, started and left running."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "ssoform", "apply", str(served.manifest)),
            *("--auto-approve", "--state", served.state),
        ],
        env=served.env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_writes(served: Served, apply: subprocess.Popen[str], writes: int) -> None:
    """Return once the emulators have taken `writes` write calls (or the apply has ended)."""
    deadline = time.monotonic() + TIMEOUT
    while writes_made(served) < writes and apply.poll() is None:
        assert time.monotonic() < deadline, "apply made no progress"
        time.sleep(0.005)


def kill_after_writes(served: Served, writes: int) -> None:
    apply = start_apply(served)
    try:
        wait_for_writes(served, apply, writes)
        os.kill(apply.pid, signal.SIGKILL)
    finally:
        _, stderr = apply.communicate(timeout=TIMEOUT)
    assert apply.returncode == -signal.SIGKILL, stderr  # killed before it finished


def check_rest_and_finish(served: Served, recorded: Iterable[str]) -> None:
    """After an interrupted apply that recorded the addresses `recorded`: the next plan shows
    exactly the remaining work (adopting what was made but not recorded), the apply after it
    converges, and each declared object exists once, nothing else."""
    live = live_objects(served)
    replan = ssoform_run(served, "plan", str(served.manifest), "--json")
    assert replan.returncode == 0, replan.stderr
    changes = json.loads(replan.stdout)["resource_changes"]
    assert len(changes) == WRITES - len(TENANTS)
    for change in changes:
        key = f"{change['scope']}/{change['key']}"
        in_state = any(address.endswith(f"/{key}") for address in recorded)
        recorded_action = "blocked" if change["scope"] == ACCOUNT else "no-op"  # DNS pending
        expected = recorded_action if in_state else ("adopt" if key in live else "create")
        assert change["action"] == expected, (key, change["action"], sorted(live))
    finish = ssoform_run(served, "apply", str(served.manifest), "--auto-approve")
    assert finish.returncode == 0, finish.stdout + finish.stderr
    final = ssoform_run(served, "plan", str(served.manifest), "--detailed-exitcode")
    assert final.returncode == 0, final.stdout + final.stderr
    declared = [f"{ACCOUNT}/{d}" for d in DOMAINS]
    declared += [f"{t}/{sso_id}" for t in TENANTS for sso_id in ("default", "extra")]
    assert live_objects(served) == dict.fromkeys(declared, 1)  # each once, nothing else
