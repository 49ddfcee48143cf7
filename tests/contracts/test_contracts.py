"""Each driver sends exactly the published request bodies, and each emulator answers in exactly
the published shapes: every exchange of a plan/apply scenario is checked against the contract
fixtures beside this file (`<provider>/calls.json`, each fact with its source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.shapes import Exchange, Recorder, check, check_exchange, load
from emulated import Harness
from ssoform.drivers.base import DriverContext
from ssoform.drivers.cloudflare import CloudflareDriver
from ssoform.emulators import cantina, cloudflare, pandastack, vantage
from ssoform.emulators.base import emulator_transport

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
COMPANY = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
TOKEN = "acct_be30cfd09cf0b3c5"
ORG = "1234567890"
PROVIDERS = {
    "cf": "  cf: {type: cloudflare, api_token: {env: C_CF}}\n",
    "va": "  va: {type: vantage, api_token: {env: C_VA}}\n",
    "ca": "  ca: {type: cantina, api_key: {env: C_CA}}\n",
    "ps": '  ps: {type: pandastack, api_token: {env: C_PS}, organization_id: "1234567890"}\n',
}
IDPS = """identity_providers:
  okta:
    kind: okta
    saml: {metadata_url: "https://acme.okta.com/app/exk1/sso/saml/metadata"}
    oidc:
      issuer: https://acme.okta.com/oauth2/default
      client_id: 0oa1
      client_secret: {env: C_OIDC}
tenants:
"""
TENANT = """
  acme:
    domains: [acme.com, acme.io]
    idp: okta
    connections:
"""
CONNECTIONS = {
    "cf": f"      - {{provider: cf, account_id: {ACCOUNT}, enabled: true}}\n",
    "va": f"      - {{provider: va, managed_account: {TOKEN}}}\n",
    "ca": f"      - {{provider: ca, company_id: {COMPANY}}}\n",
    "ps": "      - {provider: ps, name: okta, settings: {provider_url: https://acme.okta.com,"
    " client_id: 0oa1, enabled: true}}\n",
}


def _checked(recorder: Recorder, provider: str) -> set[str]:
    fixture = load(provider)
    assert recorder.exchanges, "the scenario made no call"
    return {check_exchange(fixture, e)["call"] for e in recorder.exchanges}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C_CF", "cf-emulator-token")
    monkeypatch.setenv("C_VA", "vantage-emulator-token")
    monkeypatch.setenv("C_CA", "cantina-emulator-key")
    monkeypatch.setenv("C_PS", pandastack.DEFAULT_TOKEN)
    monkeypatch.setenv("C_OIDC", "contract-oidc-secret")


def _harness(tmp_path: Path, name: str, app: Any) -> tuple[Harness, Recorder]:
    recorder = Recorder(app)
    manifest = "version: 1\nproviders:\n" + PROVIDERS[name] + IDPS + TENANT + CONNECTIONS[name]
    return Harness(tmp_path, {name: recorder}, manifest), recorder  # type: ignore[dict-item]


async def test_vantage_requests_and_answers_are_published(tmp_path: Path, env: None) -> None:
    store = vantage.VantageStore()
    store.add_managed_account("Acme", "it@acme.com", email_domain="acme.org", token=TOKEN)
    h, recorder = _harness(tmp_path, "va", vantage.create_app(store=store))
    assert (await h.apply()).ok  # list, set email domain, PUT 404, POST 201
    h.write(h.path.read_text().replace("[acme.com, acme.io]", "[acme.com]"))
    assert (await h.apply()).ok  # PUT 200
    h.write(h.path.read_text().split("    connections:")[0] + "    connections: []\n")
    assert (await h.apply(allow_delete=True)).ok  # DELETE 204
    calls = _checked(recorder, "vantage")
    assert calls == {
        "list managed accounts",
        "set email domain",
        "configure SSO",
        "update SSO",
        "delete SSO",
    }
    statuses = {(e.method, e.status) for e in recorder.exchanges}
    assert {("PUT", 404), ("POST", 201), ("PUT", 200), ("DELETE", 204)} <= statuses


async def test_cloudflare_requests_and_answers_are_published(tmp_path: Path, env: None) -> None:
    store = cloudflare.CloudflareStore()
    h, recorder = _harness(tmp_path, "cf", cloudflare.create_app(store=store))
    assert (await h.apply()).ok  # create two connectors (pending)
    store.set_verification(ACCOUNT, "acme.com", "verified")
    store.set_verification(ACCOUNT, "acme.io", "failed")
    assert (await h.apply()).ok  # enable acme.com (object), begin verification of acme.io
    h.write(h.path.read_text().replace("enabled: true", "enabled: false"))
    assert (await h.apply()).ok  # disable acme.com: the array answer
    h.write(h.path.read_text().split("    connections:")[0] + "    connections: []\n")
    assert (await h.apply(allow_delete=True)).ok
    calls = _checked(recorder, "cloudflare")
    assert calls == {
        "list connectors",
        "create connector",
        "update connector",
        "begin verification",
        "delete connector",
    }
    patches = [e.answer["result"] for e in recorder.exchanges if e.method == "PATCH"]
    assert {type(r).__name__ for r in patches} == {"dict", "list"}


async def test_cloudflare_bad_token_answer_is_published(tmp_path: Path, env: None) -> None:
    recorder = Recorder(cloudflare.create_app())
    async with httpx.AsyncClient(
        transport=emulator_transport(recorder), base_url="https://api.cloudflare.com"
    ) as c:
        await c.get(f"/client/v4/accounts/{ACCOUNT}/sso_connectors")
    [exchange] = recorder.exchanges
    assert exchange.status == 400
    check_exchange(load("cloudflare"), exchange)
    [error] = exchange.answer["errors"]
    assert error["code"] == 6003 and error["error_chain"][0]["code"] == 6111


async def test_cloudflare_guides_list_example_reads_as_verified() -> None:
    """The dashboard SSO guide's list answer (an enabled connector, no `verification`)."""
    example = {
        "result": [{"id": "d616ac82cc7f87153112d75a711c5c3c", "email_domain": "cool.cats",
                    "enabled": True}],
        "success": True,
        "errors": [],
        "messages": [],
    }  # fmt: skip
    fixture = load("cloudflare")
    check(example, {"ref": "ListEnvelope"}, fixture["shapes"])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=example)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    ctx = DriverContext("cf", None, client, {"api_token": "t"}, "https://cf.test/client/v4")
    [live] = await CloudflareDriver(ctx).read_scope(ACCOUNT)
    assert live.fields["verification"] == "verified" and live.fields["enabled"] is True


async def test_cantina_requests_and_answers_are_published(tmp_path: Path, env: None) -> None:
    store = cantina.CantinaStore()
    store.add_company("Acme", COMPANY)
    h, recorder = _harness(tmp_path, "ca", cantina.create_app(store=store))
    assert (await h.apply()).ok
    assert _checked(recorder, "cantina") == {"list connections", "configure SSO"}
    [post] = [e for e in recorder.exchanges if e.method == "POST"]
    assert post.body["providerBaseUrl"] == "https://acme.okta.com"  # not the issuer


async def test_pandastack_requests_follow_the_seed(tmp_path: Path, env: None) -> None:
    h, recorder = _harness(tmp_path, "ps", pandastack.create_app())
    assert (await h.apply()).ok
    h.write(h.path.read_text().replace("enabled: true", "enabled: false"))
    assert (await h.apply()).ok
    h.write(h.path.read_text().split("    connections:")[0] + "    connections: []\n")
    assert (await h.apply(allow_delete=True)).ok
    assert _checked(recorder, "pandastack") == {
        "list SSO providers",
        "create SSO provider",
        "update SSO provider",
        "delete SSO provider",
    }
    [post] = [e for e in recorder.exchanges if e.path == "/api/v1/sso/" and e.method == "POST"]
    assert post.body["slug"] == "okta" and "name" not in post.body


@pytest.mark.parametrize("provider", ["vantage", "cloudflare", "cantina", "pandastack"])
def test_every_fixture_call_names_its_source(provider: str) -> None:
    fixture = load(provider)
    for call in fixture["calls"]:
        assert call["source"].split(":")[0] in fixture["sources"], call["call"]


def test_a_shape_mismatch_is_caught() -> None:
    fixture = load("vantage")
    bad = Exchange("POST", f"/v2/managed_accounts/{TOKEN}/sso_connection", {}, {"name": "x"})
    bad.status, bad.answer = 201, {}
    with pytest.raises(AssertionError, match="missing"):
        check_exchange(fixture, bad)
    json.dumps(fixture)  # the fixture is plain JSON
