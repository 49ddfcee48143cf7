"""End to end with real processes: `ssoform emulate` on loopback, the CLI planning and applying
against it through the network, until plan shows no changes."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox_cli import run_cli
from served import start_emulators, stop

CANARY = "canary-e2e-oidc-secret-5d1c"


MANIFEST = """
version: 1
providers:
  cf:
    type: cloudflare
    api_token: {{env: CF_TOKEN}}{cf_url}
  ds:
    type: descope
    project_id: P2emulator
    management_key: {{env: DS_KEY}}{ds_url}
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: abc, client_secret: {{env: OKTA}}}}
tenants:
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - {{provider: cf, account_id: 023e105f4ecef8ad9ca31a8372d0c353, enabled: false}}
      - {{provider: ds, tenant_id: T2acme, protocol: oidc}}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    env = {
        "CF_TOKEN": "cf-emulator-token",
        "DS_KEY": "descope-emulator-key",
        "OKTA": CANARY,
        "SSOFORM_STATE": str(tmp_path / "state.json"),
    }
    # The emulators seed their estate from the manifest before it points at their ports.
    seed = tmp_path / "seed.yaml"
    seed.write_text(textwrap.dedent(MANIFEST.format(cf_url="", ds_url="")))
    server, ports = start_emulators(
        ["--only", "cloudflare", "--only", "descope", "--seed", str(seed)],
        {**os.environ, "NO_COLOR": "1", **env},
    )
    try:
        manifest = tmp_path / "manifest.yaml"
        cf_url = f"\n    base_url: http://127.0.0.1:{ports['cloudflare']}/client/v4"
        ds_url = f"\n    base_url: http://127.0.0.1:{ports['descope']}"
        manifest.write_text(textwrap.dedent(MANIFEST.format(cf_url=cf_url, ds_url=ds_url)))
        yield manifest, env
    finally:
        stop(server)


@pytest.mark.slow
def test_plan_apply_plan_against_served_emulators(
    served: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    manifest, env = served
    plan_file = tmp_path / "plan.json"
    first = run_cli(
        tmp_path, "plan", str(manifest), "-o", str(plan_file), "--detailed-exitcode", **env
    )
    assert first.returncode == 2, first.stderr
    assert "Plan: 1 to create, 1 to adopt" in first.stdout  # the seed made acme.com
    applied = run_cli(tmp_path, "apply", str(plan_file), **env)
    assert applied.returncode == 0, applied.stderr
    assert "2 applied, 0 failed" in applied.stdout
    again = run_cli(tmp_path, "plan", str(manifest), "--detailed-exitcode", **env)
    assert again.returncode == 0, again.stdout + again.stderr
    outputs = [first.stdout, first.stderr, applied.stdout, applied.stderr, again.stdout]
    files = [plan_file.read_text(), (tmp_path / "state.json").read_text()]
    assert all(CANARY not in text for text in outputs + files)
