"""Contract tests of the Cloudflare SSO connectors emulator, from provider-apis.md §1 and §7.4."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.cloudflare import CloudflareStore, create_app

TOKEN = "cf-emulator-token"
ACCOUNT = "0123456789abcdef0123456789abcdef"
OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"
CONNECTORS = f"/client/v4/accounts/{ACCOUNT}/sso_connectors"
OTHER_CONNECTORS = f"/client/v4/accounts/{OTHER_ACCOUNT}/sso_connectors"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emulator_transport(app),
        base_url="https://api.cloudflare.com",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as c:
        yield c


def store_of(app: Starlette) -> CloudflareStore:
    store: CloudflareStore = app.state.store
    return store


async def create(client: httpx.AsyncClient, domain: str, **extra: Any) -> dict[str, Any]:
    r = await client.post(CONNECTORS, json={"email_domain": domain, **extra})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["result"]
    return result


def assert_failure(r: httpx.Response, status: int, code: int | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["success"] is False
    assert body["messages"] == []
    assert body["result"] is None
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    assert isinstance(error["code"], int)
    assert error["code"] >= 1000
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


# -- endpoints and envelope ------------------------------------------------------------------


async def test_create_returns_pending_connector_in_success_envelope(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(CONNECTORS, json={"email_domain": "acme.com"})
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert body["errors"] == []
    assert body["messages"] == []
    connector = body["result"]
    assert HEX32.match(connector["id"])
    assert connector["email_domain"] == "acme.com"
    assert connector["enabled"] is False
    assert connector["use_fedramp_language"] is False
    assert connector["verification"]["status"] == "pending"
    assert re.fullmatch(r"cloudflare_dashboard_sso=\d+", connector["verification"]["code"])
    assert "created_on" in connector
    assert "begin_verification" not in connector


async def test_create_without_begin_verification_is_awaiting(client: httpx.AsyncClient) -> None:
    connector = await create(client, "acme.com", begin_verification=False)
    assert connector["verification"]["status"] == "awaiting"


async def test_create_with_fedramp_language(client: httpx.AsyncClient) -> None:
    connector = await create(client, "acme.com", use_fedramp_language=True)
    assert connector["use_fedramp_language"] is True


async def test_list_returns_all_connectors_with_result_info(client: httpx.AsyncClient) -> None:
    r = await client.get(CONNECTORS)
    assert r.status_code == 200
    assert r.json()["result"] == []
    a = await create(client, "acme.com")
    b = await create(client, "acme.io")
    await client.post(OTHER_CONNECTORS, json={"email_domain": "other.com"})
    body = (await client.get(CONNECTORS)).json()
    assert body["success"] is True
    assert [c["id"] for c in body["result"]] == [a["id"], b["id"]]
    assert body["result_info"] == {"page": 1, "per_page": 2, "count": 2, "total_count": 2}


async def test_get_returns_the_connector(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    r = await client.get(f"{CONNECTORS}/{created['id']}")
    assert r.status_code == 200
    assert r.json()["success"] is True
    assert r.json()["result"] == created


async def test_unknown_connector_is_404(client: httpx.AsyncClient) -> None:
    missing = "a" * 32
    assert_failure(await client.get(f"{CONNECTORS}/{missing}"), 404)
    assert_failure(await client.patch(f"{CONNECTORS}/{missing}", json={"enabled": False}), 404)
    assert_failure(await client.delete(f"{CONNECTORS}/{missing}"), 404)
    assert_failure(await client.post(f"{CONNECTORS}/{missing}/begin_verification"), 404)


async def test_connector_of_another_account_is_404(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    assert_failure(await client.get(f"{OTHER_CONNECTORS}/{created['id']}"), 404)


async def test_patch_fedramp_returns_object(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    r = await client.patch(f"{CONNECTORS}/{created['id']}", json={"use_fedramp_language": True})
    assert r.status_code == 200
    result = r.json()["result"]
    assert isinstance(result, dict)
    assert result["use_fedramp_language"] is True
    assert result["email_domain"] == "acme.com"


async def test_delete_returns_id_and_removes(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    r = await client.delete(f"{CONNECTORS}/{created['id']}")
    assert r.status_code == 200
    assert r.json()["success"] is True
    assert r.json()["result"] == {"id": created["id"]}
    assert_failure(await client.get(f"{CONNECTORS}/{created['id']}"), 404)


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_failure(await client.get("/client/v4/nothing/here"), 404, 7003)
    assert_failure(await client.put(CONNECTORS, json={}), 405, 7001)


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong-token"},
    ],
)
async def test_bad_credentials_are_400_6003_with_an_error_chain(
    app: Starlette, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url="https://api.cloudflare.com"
    ) as anonymous:
        r = await anonymous.get(CONNECTORS, headers=headers)
    error = assert_failure(r, 400, 6003)
    assert error["message"] == "Invalid request headers"
    assert error["error_chain"] == [
        {"code": 6111, "message": "Invalid format for Authorization header"}
    ]


async def test_custom_token() -> None:
    app = create_app(token="other")
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url="https://api.cloudflare.com"
    ) as c:
        assert (await c.get(CONNECTORS, headers={"Authorization": "Bearer other"})).is_success
        r = await c.get(CONNECTORS, headers={"Authorization": f"Bearer {TOKEN}"})
        assert_failure(r, 400, 6003)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account", ["abc", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdeg"]
)
async def test_malformed_account_id_is_refused(client: httpx.AsyncClient, account: str) -> None:
    assert_failure(await client.get(f"/client/v4/accounts/{account}/sso_connectors"), 400, 7003)


async def test_malformed_connector_id_is_refused(client: httpx.AsyncClient) -> None:
    assert_failure(await client.get(f"{CONNECTORS}/c3ebcba5c20b42f73e111110d0be67d"), 400, 7003)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/email_domain"),
        ({"email_domain": 42}, "/email_domain"),
        ({"email_domain": None}, "/email_domain"),
        ({"email_domain": "not a domain"}, "/email_domain"),
        ({"email_domain": "localhost"}, "/email_domain"),
        ({"email_domain": "acme.com", "begin_verification": "yes"}, "/begin_verification"),
        ({"email_domain": "acme.com", "use_fedramp_language": 1}, "/use_fedramp_language"),
        ({"email_domain": "acme.com", "enabled": True}, "/enabled"),
        ({"email_domain": "acme.com", "colour": "red"}, "/colour"),
    ],
)
async def test_create_validation(
    client: httpx.AsyncClient, body: dict[str, Any], pointer: str
) -> None:
    error = assert_failure(await client.post(CONNECTORS, json=body), 400, 1002)
    assert error["source"] == {"pointer": pointer}
    assert (await client.get(CONNECTORS)).json()["result"] == []


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'"acme.com"'])
async def test_create_with_malformed_body(client: httpx.AsyncClient, content: bytes) -> None:
    r = await client.post(CONNECTORS, content=content, headers={"content-type": "application/json"})
    assert_failure(r, 400, 1001)


@pytest.mark.parametrize(
    "body",
    [
        {"email_domain": "acme.io"},
        {"enabled": "true"},
        {"use_fedramp_language": None},
        {"begin_verification": True},
    ],
)
async def test_patch_accepts_only_enabled_and_fedramp(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    created = await create(client, "acme.com")
    assert_failure(await client.patch(f"{CONNECTORS}/{created['id']}", json=body), 400, 1002)


async def test_email_domain_is_lower_cased(client: httpx.AsyncClient) -> None:
    assert (await create(client, "Acme.COM"))["email_domain"] == "acme.com"


async def test_duplicate_domain_in_same_account_is_refused(client: httpx.AsyncClient) -> None:
    await create(client, "acme.com")
    assert_failure(await client.post(CONNECTORS, json={"email_domain": "ACME.com"}), 400, 1004)
    other = await client.post(OTHER_CONNECTORS, json={"email_domain": "acme.com"})
    assert other.status_code == 200


@pytest.mark.parametrize("domain", ["gmail.com", "outlook.com", "harvard.edu", "yahoo.com"])
async def test_public_and_mixed_population_domains_are_refused(
    client: httpx.AsyncClient, domain: str
) -> None:
    assert_failure(await client.post(CONNECTORS, json={"email_domain": domain}), 400, 1005)


# -- verification state machine -------------------------------------------------------------


async def test_enable_refused_until_verified(app: Starlette, client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    url = f"{CONNECTORS}/{created['id']}"
    assert_failure(await client.patch(url, json={"enabled": True}), 400, 1006)
    for status in ("failed", "pending", "awaiting"):
        store_of(app).set_verification(ACCOUNT, "acme.com", status)
        assert_failure(await client.patch(url, json={"enabled": True}), 400, 1006)
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    r = await client.patch(url, json={"enabled": True})
    assert r.status_code == 200
    assert r.json()["result"]["enabled"] is True
    assert r.json()["result"]["verification"]["status"] == "verified"
    assert (await client.get(url)).json()["result"]["enabled"] is True


async def test_disabling_is_always_allowed_and_answers_an_array(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client, "acme.com")
    r = await client.patch(f"{CONNECTORS}/{created['id']}", json={"enabled": False})
    assert r.status_code == 200
    [result] = r.json()["result"]  # the dashboard SSO guide's disable example
    assert result["id"] == created["id"] and result["enabled"] is False


@pytest.mark.parametrize("start", ["failed", "awaiting"])
async def test_begin_verification_restarts_polling(
    app: Starlette, client: httpx.AsyncClient, start: str
) -> None:
    created = await create(client, "acme.com")
    store_of(app).set_verification(ACCOUNT, "acme.com", start)
    r = await client.post(f"{CONNECTORS}/{created['id']}/begin_verification")
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert body["errors"] == []
    assert body["messages"] == []
    assert "result" not in body
    after = (await client.get(f"{CONNECTORS}/{created['id']}")).json()["result"]
    assert after["verification"] == {"code": created["verification"]["code"], "status": "pending"}


async def test_begin_verification_when_pending_stays_pending(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    r = await client.post(f"{CONNECTORS}/{created['id']}/begin_verification")
    assert r.status_code == 200
    after = (await client.get(f"{CONNECTORS}/{created['id']}")).json()["result"]
    assert after["verification"]["status"] == "pending"


async def test_begin_verification_when_verified_is_refused(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    created = await create(client, "acme.com")
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    r = await client.post(f"{CONNECTORS}/{created['id']}/begin_verification")
    assert_failure(r, 400, 1009)


async def test_domain_enabled_elsewhere_cannot_be_enabled(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    mine = await create(client, "acme.com")
    theirs = (await client.post(OTHER_CONNECTORS, json={"email_domain": "acme.com"})).json()
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    store_of(app).set_verification(OTHER_ACCOUNT, "acme.com", "verified")
    url = f"{OTHER_CONNECTORS}/{theirs['result']['id']}"
    assert (await client.patch(url, json={"enabled": True})).status_code == 200
    assert_failure(
        await client.patch(f"{CONNECTORS}/{mine['id']}", json={"enabled": True}), 400, 1007
    )
    assert (await client.patch(url, json={"enabled": False})).status_code == 200
    r = await client.patch(f"{CONNECTORS}/{mine['id']}", json={"enabled": True})
    assert r.status_code == 200


async def test_enabled_connector_is_deleted_directly(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    created = await create(client, "acme.com")
    url = f"{CONNECTORS}/{created['id']}"
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    await client.patch(url, json={"enabled": True})
    r = await client.delete(url)
    assert r.status_code == 200 and r.json()["result"] == {"id": created["id"]}
    assert store_of(app).list(ACCOUNT) == []


async def test_list_shows_enabled_connectors_without_verification(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    on = await create(client, "acme.com")
    await create(client, "acme.io")
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    await client.patch(f"{CONNECTORS}/{on['id']}", json={"enabled": True})
    listed = {c["email_domain"]: c for c in (await client.get(CONNECTORS)).json()["result"]}
    assert "verification" not in listed["acme.com"] and listed["acme.com"]["enabled"] is True
    assert listed["acme.io"]["verification"]["status"] == "pending"


async def test_verification_control_route(client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    r = await client.post(
        "/_emulator/verification",
        json={"account_id": ACCOUNT, "email_domain": "acme.com", "status": "verified"},
        headers={"Authorization": ""},
    )
    assert r.status_code == 200
    after = (await client.get(f"{CONNECTORS}/{created['id']}")).json()["result"]
    assert after["verification"]["status"] == "verified"
    bad = await client.post(
        "/_emulator/verification",
        json={"account_id": ACCOUNT, "email_domain": "acme.com", "status": "done"},
    )
    assert bad.status_code == 400
    unknown = await client.post(
        "/_emulator/verification",
        json={"account_id": ACCOUNT, "email_domain": "nope.com", "status": "verified"},
    )
    assert unknown.status_code == 400


# -- rate limiting ---------------------------------------------------------------------------


async def test_rate_limit_headers_and_429() -> None:
    clock = Clock()
    app = create_app(rate_limit=3, rate_window=60.0, clock=clock)
    async with httpx.AsyncClient(
        transport=emulator_transport(app),
        base_url="https://api.cloudflare.com",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as c:
        seen = []
        for _ in range(3):
            r = await c.get(CONNECTORS)
            assert r.status_code == 200
            assert r.headers["ratelimit-policy"] == '"default";q=3;w=60'
            assert "retry-after" not in r.headers
            seen.append(r.headers["ratelimit"])
            clock.now += 10
        assert seen == ['"default";r=2;t=60', '"default";r=1;t=50', '"default";r=0;t=40']
        r = await c.get(CONNECTORS)
        assert_failure(r, 429, 10429)
        assert r.headers["retry-after"] == "30"
        assert r.headers["ratelimit"] == '"default";r=0;t=30'
        assert r.headers["ratelimit-policy"] == '"default";q=3;w=60'
        clock.now += 30
        r = await c.get(CONNECTORS)
        assert r.status_code == 200
        assert r.headers["ratelimit"] == '"default";r=2;t=60'


async def test_rate_limit_headers_on_failures_too() -> None:
    app = create_app(rate_limit=5, clock=Clock())
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url="https://api.cloudflare.com"
    ) as c:
        r = await c.get(CONNECTORS)
    assert r.status_code == 400
    assert r.headers["ratelimit"] == '"default";r=4;t=300'
    assert r.headers["ratelimit-policy"] == '"default";q=5;w=300'


async def test_control_routes_are_not_rate_limited() -> None:
    app = create_app(rate_limit=1, clock=Clock())
    async with httpx.AsyncClient(
        transport=emulator_transport(app), base_url="https://api.cloudflare.com"
    ) as c:
        for _ in range(5):
            r = await c.get("/_emulator/state")
            assert r.status_code == 200
            assert "ratelimit" not in r.headers


async def test_injected_429_burst(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(burst_429=2))
    for _ in range(2):
        r = await client.get(CONNECTORS)
        assert_failure(r, 429, 10429)
        assert int(r.headers["retry-after"]) >= 1
        assert "ratelimit" in r.headers
    assert (await client.get(CONNECTORS)).status_code == 200


# -- injected faults -------------------------------------------------------------------------


async def test_injected_503(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(error_rate=1.0))
    assert (await client.get(CONNECTORS)).status_code == 503
    app.state.emulator.configure(FaultConfig())
    assert (await client.get(CONNECTORS)).status_code == 200


async def test_injected_drop(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(CONNECTORS)


async def test_injected_stall(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(stall_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.get(CONNECTORS)


async def test_ambiguous_create_commits_then_times_out(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    app.state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(CONNECTORS, json={"email_domain": "acme.com"})
    app.state.emulator.configure(FaultConfig())
    listed = (await client.get(CONNECTORS)).json()["result"]
    assert [c["email_domain"] for c in listed] == ["acme.com"]


async def test_faults_control_route(app: Starlette, client: httpx.AsyncClient) -> None:
    r = await client.put("/_emulator/faults", json={"error_rate": 1.0, "seed": 7})
    assert r.status_code == 200
    assert r.json()["error_rate"] == 1.0
    assert (await client.get(CONNECTORS)).status_code == 503
    assert (await client.get("/_emulator/faults")).json()["seed"] == 7
    assert (await client.put("/_emulator/faults", json={"nonsense": 1})).status_code == 400
    assert (await client.put("/_emulator/faults", json={"drop_rate": "x"})).status_code == 400
    assert (await client.put("/_emulator/faults", json={})).status_code == 200
    assert (await client.get(CONNECTORS)).status_code == 200
    stats = (await client.get("/_emulator/stats")).json()
    assert stats["calls"][f"GET {CONNECTORS}"] == 2
    assert stats["answers"] == {"503": 1, "200": 1}


# -- persistence -----------------------------------------------------------------------------


async def test_store_json_round_trip(app: Starlette, client: httpx.AsyncClient) -> None:
    created = await create(client, "acme.com")
    await create(client, "acme.io", begin_verification=False)
    store_of(app).set_verification(ACCOUNT, "acme.com", "verified")
    await client.patch(f"{CONNECTORS}/{created['id']}", json={"enabled": True})
    dumped = json.loads(json.dumps(store_of(app).to_json()))
    restored = CloudflareStore.from_json(dumped)
    assert restored.to_json() == store_of(app).to_json()

    again = create_app(store=restored)
    async with httpx.AsyncClient(
        transport=emulator_transport(again),
        base_url="https://api.cloudflare.com",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as c:
        before = (await client.get(CONNECTORS)).json()["result"]
        assert (await c.get(CONNECTORS)).json()["result"] == before


async def test_state_control_routes(client: httpx.AsyncClient) -> None:
    await create(client, "acme.com")
    state = (await client.get("/_emulator/state")).json()
    assert (await client.put("/_emulator/state", json={"connectors": []})).status_code == 200
    assert (await client.get(CONNECTORS)).json()["result"] == []
    assert (await client.put("/_emulator/state", json=state)).status_code == 200
    listed = (await client.get(CONNECTORS)).json()["result"]
    assert [c["email_domain"] for c in listed] == ["acme.com"]
    assert (await client.put("/_emulator/state", json=[1])).status_code == 400


async def test_seeded_connector(app: Starlette, client: httpx.AsyncClient) -> None:
    seeded = store_of(app).add_connector(ACCOUNT, "seed.example", status="verified", enabled=True)
    result = (await client.get(f"{CONNECTORS}/{seeded.id}")).json()["result"]
    assert result["enabled"] is True
    assert result["verification"]["status"] == "verified"
