"""Contract tests of the Cantina company SSO emulator, from provider-apis.md §4 and §7.4."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.cantina import CantinaStore, create_app

KEY = "cantina-emulator-key"
MANAGER_KEY = "manager-key"
BASE = "https://cantina.xyz"
COMPANY = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
OTHER_COMPANY = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CONNECTIONS = f"/api/v0/companies/{COMPANY}/sso-connections"
RULES = f"/api/v0/companies/{COMPANY}/sso-enforcement-rules"
OTHER_CONNECTIONS = f"/api/v0/companies/{OTHER_COMPANY}/sso-connections"
CONNECTION_FIELDS = {
    "id",
    "companyId",
    "provider",
    "providerBaseUrl",
    "clientId",
    "clientSecret",
    "domains",
    "createdAt",
    "createdBy",
    "lastUpdatedAt",
    "lastUpdatedBy",
}
USER_FIELDS = {"userId", "name", "username", "avatar", "disabledAt"}


class Clock:
    """Unix seconds that only move when a test moves them."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Starlette:
    app = create_app(manager_companies={MANAGER_KEY: [COMPANY]}, clock=clock)
    store_of(app).add_company("Acme", COMPANY, verified_email_domains=["acme.com"])
    store_of(app).add_company("Other", OTHER_COMPANY)
    return app


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


def client_for(app: Starlette, key: str | None = KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(transport=emulator_transport(app), base_url=BASE, headers=headers)


def store_of(app: Starlette) -> CantinaStore:
    store: CantinaStore = app.state.store
    return store


def connection(domains: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": "okta",
        "providerBaseUrl": "https://acme.okta.com",
        "clientId": "0oa1b2c3d4",
        "clientSecret": "s3cr3t-value",
        "domains": domains or ["acme.com"],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def assert_msg(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"msg"}
    assert isinstance(body["msg"], str)
    assert body["msg"]
    message: str = body["msg"]
    return message


# -- create and list ---------------------------------------------------------------------------


async def test_create_returns_company_sso_connection(client: httpx.AsyncClient) -> None:
    r = await client.post(CONNECTIONS, json=connection(["Acme.com", "acme.com"]))
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == CONNECTION_FIELDS
    assert uuid.UUID(created["id"])
    assert created["companyId"] == COMPANY
    assert created["provider"] == "okta"
    assert created["providerBaseUrl"] == "https://acme.okta.com"
    assert created["clientId"] == "0oa1b2c3d4"
    assert created["domains"] == ["acme.com"]
    assert created["createdAt"] == "2023-11-14T22:13:20Z"
    assert created["lastUpdatedAt"] == created["createdAt"]
    for who in (created["createdBy"], created["lastUpdatedBy"]):
        assert set(who) == USER_FIELDS
        assert uuid.UUID(who["userId"])
    assert created["createdBy"] == created["lastUpdatedBy"]


async def test_client_secret_is_masked_and_reveals_nothing(client: httpx.AsyncClient) -> None:
    secret = "canary-" + secrets.token_hex(16)
    r = await client.post(CONNECTIONS, json=connection(clientSecret=secret))
    masked = r.json()["clientSecret"]
    assert masked
    assert masked != secret
    assert not any(part in masked for part in (secret[-4:], secret[:4]))
    other = await client.post(CONNECTIONS, json=connection(["b.io"], clientSecret="x" * 40))
    assert other.json()["clientSecret"] == masked  # one mask, whatever the secret
    listed = await client.get(CONNECTIONS)
    assert secret not in listed.text
    assert listed.json()[0]["clientSecret"] == masked


async def test_canary_secret_never_reaches_the_store(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    canary = "canary-" + secrets.token_hex(16)
    r = await client.post(CONNECTIONS, json=connection(clientSecret=canary))
    assert r.status_code == 201
    dump = json.dumps(store_of(app).to_json())
    assert canary not in dump
    assert canary not in (await client.get("/_emulator/state")).text
    stored = store_of(app).to_json()["ssoConnections"][0]
    assert stored["clientSecretSha256"] == hashlib.sha256(canary.encode()).hexdigest()
    assert "clientSecretSha256" not in r.text


async def test_list_is_a_bare_array_per_company(client: httpx.AsyncClient) -> None:
    assert (await client.get(CONNECTIONS)).json() == []
    first = (await client.post(CONNECTIONS, json=connection(["acme.com"]))).json()
    entra = connection(["acme.io"], provider="entra", providerBaseUrl="https://login.acme.io")
    second = (await client.post(CONNECTIONS, json=entra)).json()
    r = await client.get(CONNECTIONS)
    assert r.status_code == 200
    assert r.json() == [first, second]
    assert (await client.get(OTHER_CONNECTIONS)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        connection(provider=None),
        connection(provider="google"),
        connection(providerBaseUrl=None),
        connection(providerBaseUrl="not a url"),
        connection(providerBaseUrl="https://acme-admin.okta.com"),
        connection(clientId=None),
        connection(clientId=""),
        connection(clientSecret=None),
        connection(clientSecret=""),
        connection(clientSecret=42),
        {**connection(), "domains": []},
        {**connection(), "domains": "acme.com"},
        {**connection(), "domains": ["not a domain"]},
        {k: v for k, v in connection().items() if k != "domains"},
        ["not", "an", "object"],
    ],
)
async def test_create_validation(
    app: Starlette, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_msg(await client.post(CONNECTIONS, json=body), 400)
    assert store_of(app).connections == []


async def test_create_with_malformed_json(client: httpx.AsyncClient) -> None:
    r = await client.post(CONNECTIONS, content=b"{", headers={"content-type": "application/json"})
    assert_msg(r, 400)


# -- domains -----------------------------------------------------------------------------------


async def test_domains_are_unique_across_companies(client: httpx.AsyncClient) -> None:
    assert (await client.post(CONNECTIONS, json=connection(["acme.com"]))).status_code == 201
    assert_msg(await client.post(CONNECTIONS, json=connection(["acme.com"])), 400)
    assert_msg(await client.post(OTHER_CONNECTIONS, json=connection(["b.io", "acme.com"])), 400)
    assert (await client.post(OTHER_CONNECTIONS, json=connection(["b.io"]))).status_code == 201


async def test_enforcement_rule_is_created(client: httpx.AsyncClient) -> None:
    r = await client.post(RULES, json={"domain": "acme.com"})
    assert r.status_code == 201, r.text
    rule = r.json()
    assert set(rule) == {"id", "companyId", "domain", "createdAt", "createdBy"}
    assert uuid.UUID(rule["id"])
    assert rule["companyId"] == COMPANY
    assert rule["domain"] == "acme.com"


async def test_enforcement_rules_and_connections_may_not_overlap(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post(RULES, json={"domain": "rule.acme.com"})).status_code == 201
    assert_msg(await client.post(RULES, json={"domain": "rule.acme.com"}), 400)
    assert_msg(await client.post(CONNECTIONS, json=connection(["rule.acme.com"])), 400)
    assert (await client.post(CONNECTIONS, json=connection(["acme.com"]))).status_code == 201
    assert_msg(await client.post(RULES, json={"domain": "acme.com"}), 400)


async def test_enforcement_rule_validation(client: httpx.AsyncClient) -> None:
    assert_msg(await client.post(RULES, json={}), 400)
    assert_msg(await client.post(RULES, json={"domain": "no domain"}), 400)


async def test_manager_needs_a_verified_domain_admin_does_not(app: Starlette) -> None:
    async with client_for(app, MANAGER_KEY) as manager:
        assert_msg(await manager.post(CONNECTIONS, json=connection(["unverified.io"])), 400)
        assert_msg(await manager.post(RULES, json={"domain": "unverified.io"}), 400)
        r = await manager.post(CONNECTIONS, json=connection(["acme.com"]))
        assert r.status_code == 201
        by = r.json()["createdBy"]
    async with client_for(app) as admin:
        r = await admin.post(CONNECTIONS, json=connection(["unverified.io"]))
        assert r.status_code == 201
        assert r.json()["createdBy"]["userId"] != by["userId"]


# -- auth, permissions, unknown companies ------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {KEY}", "Bearer "])
async def test_bad_credentials_are_401(app: Starlette, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with client_for(app, key=None) as anonymous:
        assert_msg(await anonymous.get(CONNECTIONS, headers=headers), 401)
        assert_msg(await anonymous.post(CONNECTIONS, headers=headers, json=connection()), 401)


async def test_key_that_does_not_manage_the_company_is_403(app: Starlette) -> None:
    async with client_for(app, MANAGER_KEY) as manager:
        assert (await manager.get(CONNECTIONS)).status_code == 200
        assert_msg(await manager.get(OTHER_CONNECTIONS), 403)
        assert_msg(await manager.post(OTHER_CONNECTIONS, json=connection(["b.io"])), 403)
        other_rules = f"/api/v0/companies/{OTHER_COMPANY}/sso-enforcement-rules"
        assert_msg(await manager.post(other_rules, json={"domain": "b.io"}), 403)


async def test_demoted_default_key(clock: Clock) -> None:
    app = create_app(api_key="only-acme", manager_companies={"only-acme": [COMPANY]}, clock=clock)
    store_of(app).add_company("Acme", COMPANY)
    store_of(app).add_company("Other", OTHER_COMPANY)
    async with client_for(app, "only-acme") as client:
        assert (await client.get(CONNECTIONS)).status_code == 200
        assert_msg(await client.get(OTHER_CONNECTIONS), 403)


async def test_unknown_company_is_404(client: httpx.AsyncClient) -> None:
    unknown = f"/api/v0/companies/{uuid.uuid4()}/sso-connections"
    assert_msg(await client.get(unknown), 404)
    assert_msg(await client.post(unknown, json=connection()), 404)


async def test_company_id_must_be_a_uuid(client: httpx.AsyncClient) -> None:
    assert_msg(await client.get("/api/v0/companies/acme/sso-connections"), 400)


async def test_no_update_or_delete(app: Starlette, client: httpx.AsyncClient) -> None:
    created = (await client.post(CONNECTIONS, json=connection())).json()
    one = f"{CONNECTIONS}/{created['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        assert_msg(await client.request(method, CONNECTIONS, json=connection()), 405)
        assert (await client.request(method, one, json={})).status_code in (404, 405)
    assert (await client.get(CONNECTIONS)).json() == [created]


# -- rate limits and faults --------------------------------------------------------------------


async def test_429_when_exhausted(clock: Clock) -> None:
    app = create_app(rate_limit=2, rate_window=60.0, clock=clock)
    store_of(app).add_company("Acme", COMPANY)
    async with client_for(app) as client:
        assert (await client.get(CONNECTIONS)).status_code == 200
        assert (await client.get(CONNECTIONS)).status_code == 200
        limited = await client.get(CONNECTIONS)
        assert_msg(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        clock.now += 60
        assert (await client.get(CONNECTIONS)).status_code == 200


async def test_default_rate_limit_is_conservative(clock: Clock) -> None:
    app = create_app(clock=clock)
    store_of(app).add_company("Acme", COMPANY)
    async with client_for(app) as client:
        statuses = [(await client.get(CONNECTIONS)).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


async def test_injected_429_burst(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(burst_429=1))
    assert_msg(await client.get(CONNECTIONS), 429)
    assert (await client.get(CONNECTIONS)).status_code == 200


async def test_injected_503_drop_and_stall(app: Starlette, client: httpx.AsyncClient) -> None:
    emulator = app.state.emulator
    emulator.configure(FaultConfig(error_rate=1.0))
    assert (await client.get(CONNECTIONS)).status_code == 503
    emulator.configure(FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(CONNECTIONS)
    emulator.configure(FaultConfig(stall_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.get(CONNECTIONS)
    emulator.configure(FaultConfig())
    assert (await client.get(CONNECTIONS)).status_code == 200


async def test_ambiguous_create_commits_then_times_out(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    app.state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(CONNECTIONS, json=connection(["acme.com"]))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(RULES, json={"domain": "rule.acme.com"})
    app.state.emulator.configure(FaultConfig())
    listed = (await client.get(CONNECTIONS)).json()
    assert [c["domains"] for c in listed] == [["acme.com"]]
    assert_msg(await client.post(CONNECTIONS, json=connection(["acme.com"])), 400)
    assert [r.domain for r in store_of(app).rules] == ["rule.acme.com"]


# -- store -------------------------------------------------------------------------------------


async def test_store_json_round_trip(app: Starlette, client: httpx.AsyncClient) -> None:
    await client.post(CONNECTIONS, json=connection(["acme.com"]))
    await client.post(RULES, json={"domain": "rule.acme.com"})
    dump = store_of(app).to_json()
    restored = CantinaStore.from_json(json.loads(json.dumps(dump)))
    assert restored.to_json() == dump
    copy = create_app(store=restored)
    async with client_for(copy) as other:
        assert (await other.get(CONNECTIONS)).json() == (await client.get(CONNECTIONS)).json()
        assert_msg(await other.post(CONNECTIONS, json=connection(["rule.acme.com"])), 400)


async def test_state_control_routes(client: httpx.AsyncClient) -> None:
    state = (await client.get("/_emulator/state")).json()
    assert {c["id"] for c in state["companies"]} == {COMPANY, OTHER_COMPANY}
    assert (await client.put("/_emulator/state", json={"companies": []})).status_code == 200
    assert_msg(await client.get(CONNECTIONS), 404)
    assert (await client.put("/_emulator/state", json=state)).status_code == 200
    assert (await client.get(CONNECTIONS)).status_code == 200
