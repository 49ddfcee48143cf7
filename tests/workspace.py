"""A temporary manifest and state, driven through the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fakes import CLOUD
from ssoform.cli import main

CANARY = "canary-s3cr3t-7f3a9c1d"
CF_ACCOUNT = "0123456789abcdef0123456789abcdef"

BASE_MANIFEST = f"""
version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
  ds: {{type: descope, project_id: P2x, management_key: {{env: DS_KEY}}}}
identity_providers:
  okta:
    kind: okta
    oidc:
      issuer: https://acme.okta.com
      client_id: abc
      client_secret: {{env: OKTA_SECRET}}
tenants:
  acme:
    domains: [acme.com, acme.io]
    idp: okta
    connections:
      - {{provider: cf, account_id: {CF_ACCOUNT}, enabled: true}}
      - {{provider: ds, tenant_id: T1, protocol: oidc}}
"""


class Workspace:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.manifest = root / "manifest.yaml"
        self.state = root / "state.json"
        self.capsys = capsys
        self.outputs: list[str] = []
        self.write(BASE_MANIFEST)

    def write(self, text: str) -> None:
        self.manifest.write_text(textwrap.dedent(text))

    def run(self, *args: str) -> tuple[int, str, str]:
        code = main([*args, "--state", str(self.state)])
        out, err = self.capsys.readouterr()
        self.outputs += [out, err]
        return code, out, err

    def plan(self, *args: str) -> tuple[int, str, str]:
        return self.run("plan", str(self.manifest), *args)

    def plan_file(self, *args: str) -> Path:
        path = self.root / "plan.json"
        code, _, err = self.plan("-o", str(path), *args)
        assert code in (0, 2), err
        return path

    def over_the_update_threshold(self) -> list[str]:
        """Ten Cloudflare domains applied, then four of them (returned) disabled at the provider:
        a plan now updates 4 of 10 existing resources, over the safety threshold."""
        domains = [f"d{i}.example" for i in range(10)]
        text = self.manifest.read_text()
        self.manifest.write_text(text.replace("[acme.com, acme.io]", f"[{', '.join(domains)}]"))
        assert self.run("apply", str(self.plan_file()))[0] == 0
        for key in domains[:4]:
            CLOUD.objects[f"cf|{CF_ACCOUNT}|{key}"]["fields"]["enabled"] = False
        return domains[:4]
