"""Canary values for every credential and secret, through every command and format.

Cloudflare and Descope emulators accept only the canary credentials; the OIDC client secret is a
canary too. Validate, plan (text, JSON, plan file), apply (including a create whose error body
echoes the request), state list and journal, all at the highest verbosity and with
SSOFORM_LOG_LEVEL=debug: no canary in any output, log line, plan file, state or journal, and
authorization headers show as redacted in the debug log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ssoform.cli import main
from ssoform.emulators import cloudflare, descope
from ssoform.emulators.base import emulator_transport
from ssoform.emulators.descope_store import DescopeStore
from ssoform.engine.runner import RunConfig

CANARIES = {
    "CF_TOKEN": "canary-cf-token-b71c",
    "DS_KEY": "canary-ds-key-9e02",
    "OKTA_SECRET": "canary-oidc-secret-4aa8",
}
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
MANIFEST = f"""version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
  ds: {{type: descope, project_id: P2emulator, management_key: {{env: DS_KEY}}}}
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: 0oa1, client_secret: {{env: OKTA_SECRET}}}}
tenants:
  acme:
    domains: [acme.com, echo.example]
    idp: okta
    connections:
      - {{provider: cf, account_id: {ACCOUNT}}}
      - {{provider: ds, tenant_id: T1, protocol: oidc}}
"""


class EchoingTransport(httpx.AsyncBaseTransport):
    """The emulator, except that creates for echo.example fail with the request echoed back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        if request.method == "POST" and "echo.example" in body:
            echo = {"headers": dict(request.headers), "body": body}
            return httpx.Response(400, json={"message": f"rejected {json.dumps(echo)}"})
        return await self.inner.handle_async_request(request)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    store = DescopeStore()
    store.create_tenant("acme", "T1")
    apps = {
        "cf": cloudflare.create_app(token=CANARIES["CF_TOKEN"]),
        "ds": descope.create_app(management_key=CANARIES["DS_KEY"], store=store),
    }
    config = lambda **kw: RunConfig(  # noqa: E731
        transport_factory=lambda name, *_: EchoingTransport(emulator_transport(apps[name])),
        backoff=False,
        **kw,
    )
    monkeypatch.setattr("ssoform.commands.plan.run_config", config)
    monkeypatch.setattr("ssoform.commands.apply.run_config", config)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    yield tmp_path
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if h.get_name() != "ssoform-cli"
    ]


def test_no_canary_anywhere(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def run(*args: str) -> int:
        code = main(["-vv", *args])
        out, err = capsys.readouterr()
        seen.extend([out, err])
        return code

    state = ["--state", "state.json"]
    assert run("validate", "m.yaml", "--resolve-secrets") == 0
    assert run("validate", "m.yaml", "--resolve-secrets", "--format", "json") == 0
    assert run("plan", "m.yaml", *state) == 0
    assert run("plan", "m.yaml", "--json", *state) == 0
    assert run("plan", "m.yaml", "-o", "plan.json", *state) == 0
    assert run("apply", "plan.json", *state) == 1  # the echo.example create fails
    monkeypatch.setenv("SSOFORM_LOG_LEVEL", "debug")
    assert main(["plan", "m.yaml", *state]) == 0
    seen.extend(capsys.readouterr())
    assert run("state", "list", *state) == 0
    assert run("state", "journal", *state) == 0
    assert run("apply", "m.yaml", "--auto-approve", *state) == 1
    output = "\n".join(seen)
    files = {p.name: p.read_text() for p in workspace.iterdir() if p.is_file()}
    assert {"plan.json", "state.json"} <= set(files)
    for name, canary in CANARIES.items():
        assert canary not in output, name
        for file_name, text in files.items():
            assert canary not in text, (name, file_name)
    assert "DEBUG ssoform.http: POST " in output  # the debug log was on
    assert "'authorization': '(sensitive)'" in output
    assert "rejected" in output  # the echoed error reached the user, scrubbed
    journal = json.loads(files["state.json"])["journal"]
    assert any(e["outcome"] == "failed" and "rejected" in e["detail"] for e in journal)
