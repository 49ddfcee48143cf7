"""Hostile API answers: each becomes a clear error naming the provider and the call.

Malformed JSON, wrong types, missing fields, huge bodies, HTML error pages and redirects to other
hosts, from every provider, through the CLI: exit 1 with `error: INSTANCE: CALL: ...`, never a
traceback or a bug exit, never a redirect followed, and the state left as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ssoform.cli import main
from ssoform.engine.state import State
from ssoform.engine.wiring import RunConfig
from ssoform.transport import MAX_BODY_BYTES

IDP = """
identity_providers:
  okta:
    kind: okta
    saml: {metadata_url: "https://acme.okta.com/app/exk1/sso/saml/metadata"}
    oidc: {issuer: https://acme.okta.com, client_id: 0oa1, client_secret: {env: H_SECRET}}
"""
PROVIDERS = {
    "cf": (
        "{type: cloudflare, api_token: {env: H_TOKEN}}",
        "{provider: cf, account_id: 023e105f4ecef8ad9ca31a8372d0c353}",
    ),
    "ds": (
        "{type: descope, project_id: P2x, management_key: {env: H_TOKEN}}",
        "{provider: ds, tenant_id: T1, protocol: oidc}",
    ),
    "va": (
        "{type: vantage, api_token: {env: H_TOKEN}}",
        "{provider: va, managed_account: acct_be30cfd09cf0b3c5}",
    ),
    "ca": (
        "{type: cantina, api_key: {env: H_TOKEN}}",
        "{provider: ca, company_id: 3c90c3cc-0d44-4b50-8888-8dd25736052a}",
    ),
    "ps": (
        '{type: pandastack, api_token: {env: H_TOKEN}, organization_id: "1234567890"}',
        "{provider: ps, name: okta, settings: {client_id: x, enabled: true}}",
    ),
}
TOKEN = "psk_" + "c4" * 32  # a well-formed PandaStack token, used by every provider

Answer = Callable[[httpx.Request], httpx.Response]


def _json(status: int, text: str) -> Answer:
    return lambda _r: httpx.Response(
        status, content=text.encode(), headers={"content-type": "application/json"}
    )


ANSWERS: dict[str, Answer] = {
    "malformed JSON": _json(200, '{"result": [{"id": '),
    "wrong types": _json(
        200, '{"success": true, "result": "x", "data": 7, "tenants": 5, "links": 1}'
    ),
    "missing fields": _json(200, "{}"),
    "junk items": _json(200, '{"result": [1, null], "data": [1], "tenants": [2], "items": [3]}'),
    "JSON null": _json(200, "null"),
    "huge body": lambda _r: httpx.Response(200, content=b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]"),
    "HTML error page": lambda _r: httpx.Response(
        502, content=b"<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
    ),
    "HTML 200": lambda _r: httpx.Response(
        200, content=b"<!doctype html><p>login</p>", headers={"content-type": "text/html"}
    ),
    "redirect to another host": lambda _r: httpx.Response(
        302, headers={"location": "https://evil.example/steal"}
    ),
    "error echoing the request": lambda r: httpx.Response(
        400, json={"message": f"bad request {dict(r.headers)}", "error": "x"}
    ),
}


@pytest.mark.parametrize("answer", ANSWERS, ids=list(ANSWERS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_hostile_answer_is_a_clear_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    answer: str,
) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return ANSWERS[answer](request)

    config = lambda **kw: RunConfig(  # noqa: E731
        transport_factory=lambda *_: httpx.MockTransport(handler), backoff=False, **kw
    )
    monkeypatch.setattr("ssoform.commands.plan.run_config", config)
    monkeypatch.setattr("ssoform.commands.apply.run_config", config)
    monkeypatch.setattr("ssoform.commands.apply.run_config", config)
    monkeypatch.setenv("H_TOKEN", TOKEN)
    monkeypatch.setenv("H_SECRET", "hostile-oidc-canary")
    instance, connection = PROVIDERS[provider]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"version: 1\nproviders:\n  {provider}: {instance}\n{IDP}tenants:\n  acme:\n"
        f"    domains: [acme.com]\n    idp: okta\n    connections:\n      - {connection}\n"
    )
    state = tmp_path / "state.json"
    code = main(["plan", str(manifest), "--state", str(state)])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert re.match(rf"error: {provider}: [a-z].*: (HTTP \d+|no answer)", err), err
    assert "Traceback" not in err and "internal error" not in err
    assert TOKEN not in out + err and "hostile-oidc-canary" not in out + err
    assert all(url.host != "evil.example" for url in seen)
    assert State.model_validate_json(state.read_text()).serial == 0
    assert not json.loads(state.read_text())["resources"]


CF_ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
EVIL_ID = "../../../../../admin/delete_everything?x="


def _run_cf(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    handler: Answer,
    *args: str,
) -> tuple[int, str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    config = lambda **kw: RunConfig(  # noqa: E731
        transport_factory=lambda *_: httpx.MockTransport(record), backoff=False, **kw
    )
    monkeypatch.setattr("ssoform.commands.plan.run_config", config)
    monkeypatch.setattr("ssoform.commands.apply.run_config", config)
    monkeypatch.setenv("H_TOKEN", TOKEN)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nproviders:\n  cf: {type: cloudflare, api_token: {env: H_TOKEN}}\n"
        "tenants:\n  acme:\n    domains: [acme.com]\n    connections:\n"
        f"      - {{provider: cf, account_id: {CF_ACCOUNT}, enabled: true}}\n"
    )
    code = main([*args, str(manifest), "--state", str(tmp_path / "state.json")])
    out, err = capsys.readouterr()
    return code, out + err, seen


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
            "HTTP 200 10000: Authentication error",
        ),
        (200, {"success": False, "errors": ["boom"]}, "HTTP 200: boom"),
        (400, {"success": False, "errors": ["boom"]}, "HTTP 400: boom"),
        (200, {"success": False, "errors": []}, "HTTP 200: failed (success: false"),
    ],
    ids=["200 success false", "200 string errors", "400 string errors", "200 no errors"],
)
def test_cloudflare_failure_envelopes_are_one_line_errors_with_their_status(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: object,
    expected: str,
) -> None:
    code, output, _ = _run_cf(
        tmp_path, monkeypatch, capsys, lambda _r: httpx.Response(status, json=body), "plan"
    )
    assert code == 1, output
    line = f"error: cf: list SSO connectors of account {CF_ACCOUNT}: {expected}"
    assert line in output, output
    assert "no answer" not in output and "internal error" not in output


def test_an_id_from_the_provider_never_chooses_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listed connector whose id climbs out of its path: apply sends nothing with it."""
    connector = {
        "id": EVIL_ID,
        "email_domain": "acme.com",
        "enabled": False,
        "use_fedramp_language": False,
        "verification": {"status": "verified"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"success": True, "errors": [], "result": [connector]})
        return httpx.Response(200, json={"success": True, "result": connector})

    code, output, seen = _run_cf(tmp_path, monkeypatch, capsys, handler, "apply", "--auto-approve")
    assert code == 1, output
    assert "refused connector id '../../../../../admin/delete_everything?x='" in output
    assert "nothing was sent" in output
    assert {r.method for r in seen} == {"GET"}  # reads only: the PATCH was never sent
    assert all("admin" not in r.url.raw_path.decode() for r in seen)
