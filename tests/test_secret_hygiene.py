"""Canary values for every credential and secret, through every command and format.

Cloudflare and Descope emulators accept only the canary credentials; the OIDC client secret is a
canary too. Validate, plan (text, JSON, plan file), apply (including a create whose error body
echoes the request), state list and journal, all at the highest verbosity and with
SSOFORM_LOG_LEVEL=debug: no canary in any output, log line, plan file, state or journal, and
authorization headers show as redacted in the debug log.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ssoform.cli import main
from ssoform.emulators import cloudflare, descope
from ssoform.emulators.base import emulator_transport
from ssoform.emulators.descope_store import DescopeStore
from ssoform.engine.wiring import RunConfig
from ssoform.scrub import secret_forms

CHANNELS = ("message", "code", "location", "content-type", "success-false", "escapes")
"""How a provider echoes a write back: in an error message, an error code, a redirect's
Location, the Content-Type of a non-JSON answer, a Cloudflare HTTP 200 `success: false`, or a
message with terminal escapes and newlines. Each Cloudflare create uses the channel its domain
names; Descope answers with its own `errorCode` echoing."""


CANARIES = {
    "CF_TOKEN": "canary-cf-token-b71c",
    "DS_KEY": "canary-ds-key-9e02",
    "OKTA_SECRET": 'canary"oidc\\secret/4aa8+x=',
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
    domains: [acme.com, echo.example, {", ".join(f"{c}.echo.example" for c in CHANNELS)}]
    idp: okta
    connections:
      - {{provider: cf, account_id: {ACCOUNT}}}
      - {{provider: ds, tenant_id: T1, protocol: oidc}}
"""


def _encodings(text: str) -> str:
    """`text` raw, JSON-escaped, percent-encoded, base64 and base64url, as a provider may."""
    raw = text.encode()
    return " | ".join(
        [
            text,
            json.dumps(text)[1:-1],
            urllib.parse.quote(text, safe=""),
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode(),
        ]
    )


def _echo(request: httpx.Request, channel: str) -> httpx.Response:
    echo = _encodings(f"{request.headers.get('authorization')} {request.content.decode()}")
    if channel == "code":
        return httpx.Response(
            400, json={"errorCode": echo, "errors": [{"code": echo, "message": "rejected"}]}
        )
    if channel == "location":
        return httpx.Response(302, headers={"location": f"https://evil.example/?e={echo}"})
    if channel == "content-type":
        kind = base64.urlsafe_b64encode(request.content).decode()
        return httpx.Response(500, content=b"<oops", headers={"content-type": f"text/x-{kind}"})
    if channel == "success-false":
        return httpx.Response(200, json={"success": False, "errors": [{"message": echo}]})
    if channel == "escapes":
        fake = f"\x1b[2K\rApply complete! Resources: 9 added.\n{echo}\n"
        return httpx.Response(400, json={"message": fake})
    return httpx.Response(400, json={"message": f"rejected {echo}"})


class EchoingTransport(httpx.AsyncBaseTransport):
    """The emulator, except that writes naming an `*.echo.example` domain fail with the request
    (headers and body) echoed back in every encoding, through the channel the domain names."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        if request.method != "GET" and "echo.example" in body:
            channel = next((c for c in CHANNELS if f"{c}.echo.example" in body), "message")
            if request.url.host == "api.descope.com":
                channel = "code"  # Descope's own shape: `errorCode`
            return _echo(request, channel)
        return await self.inner.handle_async_request(request)


def leaked(output: str, canary: str) -> list[str]:
    """The spellings of `canary` found in `output`, and any 12 bytes of it in base64 or
    base64url at any alignment (as they would sit inside a longer encoded text)."""
    found = [form for form in secret_forms(canary) if form in output]
    raw = canary.encode()
    for start in range(len(raw) - 11):
        piece = raw[start : start + 12]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            for shift in range(3):
                encoded = encode(b"\0" * shift + piece).decode()
                core = encoded[4 if shift else 0 : (12 + shift) // 3 * 4]
                found.extend([core] if core in output else [])
    return found


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
        assert not leaked(output, canary), name
        for file_name, text in files.items():
            assert not leaked(text, canary), (name, file_name)
    assert "DEBUG ssoform.http: POST " in output  # the debug log was on
    assert "'authorization': '(sensitive)'" in output
    assert "rejected" in output  # the echoed error reached the user, scrubbed
    journal = json.loads(files["state.json"])["journal"]
    failed = [e["detail"] for e in journal if e["outcome"] == "failed"]
    assert any("rejected" in detail for detail in failed)
    assert any(detail.startswith("ds: ") and "HTTP 400 (sensitive)" in detail for detail in failed)
    for channel in ("refused to follow a redirect to https://evil.example/", "HTTP 200: "):
        assert any(channel in detail for detail in failed), (channel, failed)
    assert "\x1b" not in output and "\nApply complete!" not in output  # no line of its own
    assert "Apply complete! Resources: 9 added." in output  # the text itself, on the error line
