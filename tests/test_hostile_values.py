"""Hostile field values: what a provider answers to a read reaches no person or file unsafely.

The Cloudflare emulator lists three extra connectors besides its own: one whose domain and id
carry ANSI escapes, a bidi override, carriage returns and a fake `Apply complete!` line; one whose
domain echoes the run's credential and a manifest secret, raw, JSON-escaped, percent-encoded and
in base64; one whose domain is 100 kB long. Plan (text, JSON, plan file, Markdown, step summary),
drift (text, JSON, Markdown, HTML), state list and import (its output and the YAML it writes):
no escape, bidi or carriage return reaches a human output, no canary reaches any output, no
human output carries the 100 kB, and the JSON plan still holds the hostile value (spelled out
for people, never normalised away: the difference stays visible).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from tests.test_secret_hygiene import _encodings, leaked

from ssoform.cli import main
from ssoform.emulators import cloudflare, descope
from ssoform.emulators.base import emulator_transport
from ssoform.emulators.descope_store import DescopeStore
from ssoform.engine.wiring import RunConfig

CANARIES = {"CF_TOKEN": "canary-cf-token-5d1e", "OKTA_SECRET": "canary-oidc-secret-77a3"}
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
    domains: [acme.com]
    idp: okta
    connections:
      - {{provider: cf, account_id: {ACCOUNT}}}
      - {{provider: ds, tenant_id: T1, protocol: oidc}}
"""
FAKE = "\x1b[2K\r\x1b[32mApply complete! Resources: 9 added.\x1b[0m"
HOSTILE = f"evil\u202egro.example\r\n{FAKE}\n\x9b31m\u2028x"
BIG = "big-" + "x" * 100_000 + ".example"
MARKERS = ("\x1b", "\u202e", "\r", "\x9b", "\u2028")


def _connector(n: int, domain: str, id_: str) -> dict[str, object]:
    return {
        "id": id_,
        "email_domain": domain,
        "enabled": False,
        "use_fedramp_language": False,
        "verification": {"code": f"code-{n}", "status": "pending"},
        "created_on": "2025-01-01T00:00:00Z",
        "updated_on": "2025-01-01T00:00:00Z",
    }


def _echo() -> str:
    return " ".join(_encodings(value) for value in CANARIES.values())


class HostileReads(httpx.AsyncBaseTransport):
    """The emulator, except that every list of connectors gains three hostile ones."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or not request.url.path.endswith("/sso_connectors"):
            return response
        await response.aread()
        body = json.loads(response.content)
        body["result"] += [
            _connector(1, HOSTILE, "id-\x1b]0;owned\x07-\u202e1"),
            _connector(2, f"echo {_echo()}", "id-2"),
            _connector(3, BIG, "id-3"),
        ]
        return httpx.Response(200, json=body)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DS_KEY", "ds-management-key")
    store = DescopeStore()
    store.create_tenant("acme", "T1")
    apps = {
        "cf": cloudflare.create_app(token=CANARIES["CF_TOKEN"]),
        "ds": descope.create_app(management_key="ds-management-key", store=store),
    }

    def transport(name: str, *_: object) -> httpx.AsyncBaseTransport:
        inner = emulator_transport(apps[name])
        return HostileReads(inner) if name == "cf" else inner

    config = lambda **kw: RunConfig(transport_factory=transport, backoff=False, **kw)  # noqa: E731
    for command in ("plan", "apply", "drift", "importer"):
        monkeypatch.setattr(f"ssoform.commands.{command}.run_config", config)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def _assert_shown_safely(name: str, text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, (name, repr(marker))
    assert not any(line.startswith("Apply complete!") for line in text.splitlines()), name
    assert "x" * 5_000 not in text, name  # the 100 kB value is cut
    for canary, value in CANARIES.items():
        assert not leaked(text, value), (name, canary)


def test_hostile_values_reach_no_output_unsafely(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state", "state.json"]
    human: dict[str, str] = {}
    machine: dict[str, str] = {}
    code, human["plan text"] = _run(capsys, "plan", "m.yaml", "--markdown-dir", "md", *state)
    assert code == 0, human["plan text"]
    human["plan markdown"] = "".join(p.read_text() for p in sorted((workspace / "md").iterdir()))
    assert _run(capsys, "plan", "m.yaml", "--github-step-summary", *state)[0] == 0
    human["step summary"] = (workspace / "summary.md").read_text()
    code, machine["plan --json"] = _run(capsys, "plan", "m.yaml", "--json", *state)
    assert code == 0
    assert _run(capsys, "plan", "m.yaml", "-o", "plan.json", *state)[0] == 0
    machine["plan file"] = (workspace / "plan.json").read_text()
    code, human["apply"] = _run(capsys, "apply", "plan.json", *state)
    assert code == 0, human["apply"]
    machine["state"] = (workspace / "state.json").read_text()
    human["state list"] = _run(capsys, "state", "list", *state)[1]
    for fmt in ("text", "markdown", "html", "junit"):
        human[f"drift {fmt}"] = _run(capsys, "drift", "m.yaml", "--format", fmt, *state)[1]
    machine["drift json"] = _run(capsys, "drift", "m.yaml", "--format", "json", *state)[1]
    code, human["import"] = _run(capsys, "import", "cf", "--manifest", "m.yaml", "-o", "out/i.yaml")
    assert code == 0, human["import"]
    written = (workspace / "out" / "i.yaml").read_text()

    for name, text in human.items():
        _assert_shown_safely(name, text)
    for name, text in machine.items():
        for canary, value in CANARIES.items():
            assert not leaked(text, value), (name, canary)

    # People see the hostile values, spelled out; the JSON plan holds them as read.
    assert "evil\\u202egro.example" in human["plan text"]
    assert "\\x1b[2K" in human["plan markdown"]
    assert "(100,012 characters)" in human["plan text"]
    plan = json.loads(machine["plan file"])["plan"]
    keys = {u["key"] for u in plan["unmanaged"]}
    assert HOSTILE in keys and BIG in keys
    assert any(k.startswith("echo ") and "(sensitive)" in k for k in keys)

    # The imported manifest is plain YAML: no tag, anchor, secret or control character, and the
    # values whole (a manifest is not cut).
    for marker in MARKERS:
        assert marker not in written, repr(marker)
    for canary, value in CANARIES.items():
        assert not leaked(written, value), canary
    assert not any(line.lstrip("- ").startswith(("!", "&", "*")) for line in written.splitlines())
    imported = yaml.safe_load(written)
    domains = [d for t in imported["tenants"].values() for d in t.get("domains", [])]
    assert HOSTILE in domains


CLOUDFLARE_ONLY = f"""version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}}}
tenants:
  acme:
    domains: [acme.com]
    connections:
      - {{provider: cf, account_id: {ACCOUNT}}}
"""


class SecretIds(httpx.AsyncBaseTransport):
    """The emulator, except that every connector it answers is named by the run's credential."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/sso_connectors" not in request.url.path or request.method == "DELETE":
            return response
        await response.aread()
        body = json.loads(response.content)
        result = body.get("result")
        for connector in result if isinstance(result, list) else [result]:
            if isinstance(connector, dict) and "id" in connector:
                connector["id"] = CANARIES["CF_TOKEN"]
        return httpx.Response(response.status_code, json=body)


@pytest.fixture
def secret_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    app = cloudflare.create_app(token=CANARIES["CF_TOKEN"])

    def transport(*_: object) -> httpx.AsyncBaseTransport:
        return SecretIds(emulator_transport(app))

    config = lambda **kw: RunConfig(transport_factory=transport, backoff=False, **kw)  # noqa: E731
    for command in ("plan", "apply"):
        monkeypatch.setattr(f"ssoform.commands.{command}.run_config", config)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(CLOUDFLARE_ONLY)
    return tmp_path


def test_an_object_id_holding_a_secret_is_never_kept(
    secret_ids: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--state", "state.json"]
    # The create answers with the credential as the new connector's id: not recorded.
    code, applied = _run(capsys, "apply", "m.yaml", "--auto-approve", *state)
    assert code == 1, applied
    assert "id holds a secret this run uses" in applied
    kept = (secret_ids / "state.json").read_text() if (secret_ids / "state.json").exists() else ""
    # The connector now exists, named by the credential: a plan refuses to carry that id.
    code, planned = _run(capsys, "plan", "m.yaml", "-o", "plan.json", *state)
    assert code == 1, planned
    assert len(planned.strip().splitlines()) == 1, planned
    assert not (secret_ids / "plan.json").exists()
    for text in (applied, kept, planned):
        assert not leaked(text, CANARIES["CF_TOKEN"])
