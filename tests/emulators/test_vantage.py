"""Contract tests of the Vantage managed-account SSO emulator, from provider-apis.md §3 and §7.4."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.vantage import VantageStore, create_app

TOKEN = "vantage-emulator-token"
BASE = "https://api.vantage.sh"
ACCOUNTS = "/v2/managed_accounts"
METADATA = "https://idp.acme.com/saml/metadata.xml"
MANAGED_ACCOUNT_FIELDS = {
    "token",
    "name",
    "contact_email",
    "parent_account_token",
    "access_credential_tokens",
    "billing_rule_tokens",
    "email_domain",
    "msp_billing_profile_token",
    "payment_terms_days",
    "include_managed_account_integrations",
    "billing_information_attributes",
    "business_information_attributes",
}
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


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
    return create_app(clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


def client_for(app: Starlette, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(transport=emulator_transport(app), base_url=BASE, headers=headers)


def store_of(app: Starlette) -> VantageStore:
    store: VantageStore = app.state.store
    return store


def seed(app: Starlette, domain: str | None = "acme.com", name: str = "Acme") -> str:
    account = store_of(app).add_managed_account(
        name, f"it@{domain or 'example.org'}", email_domain=domain
    )
    return account.token


def sso(token: str) -> str:
    return f"{ACCOUNTS}/{token}/sso_connection"


async def hidden(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    r = await client.get(f"/_emulator/sso_connections/{token}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    connection: dict[str, Any] = r.json()
    return connection


def assert_errors(r: httpx.Response, status: int, message: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["errors"], list)
    assert body["errors"]
    assert all(isinstance(e, str) and e for e in body["errors"])
    if message is not None:
        assert body["errors"] == [message]


# -- managed accounts --------------------------------------------------------------------------


async def test_get_managed_account_has_exactly_the_model_fields(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    r = await client.get(f"{ACCOUNTS}/{token}")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == MANAGED_ACCOUNT_FIELDS
    assert body["token"] == token
    assert body["token"].startswith("acct_")
    assert body["email_domain"] == "acme.com"
    assert isinstance(body["access_credential_tokens"], list)
    assert isinstance(body["billing_rule_tokens"], list)


async def test_unknown_managed_account_is_404(client: httpx.AsyncClient) -> None:
    assert_errors(await client.get(f"{ACCOUNTS}/acct_ffffffffffffffff"), 404)
    assert_errors(await client.put(f"{ACCOUNTS}/acct_ffffffffffffffff", json={}), 404)


async def test_create_managed_account_is_201(client: httpx.AsyncClient) -> None:
    r = await client.post(
        ACCOUNTS, json={"name": "Beta", "contact_email": "ops@beta.io", "email_domain": "beta.io"}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert set(created) == MANAGED_ACCOUNT_FIELDS
    fetched = await client.get(f"{ACCOUNTS}/{created['token']}")
    assert fetched.json() == created


async def test_create_managed_account_needs_name_and_contact_email(
    client: httpx.AsyncClient,
) -> None:
    assert_errors(await client.post(ACCOUNTS, json={"contact_email": "a@b.io"}), 400)
    assert_errors(await client.post(ACCOUNTS, json={"name": "B"}), 400)


async def test_put_managed_account_sets_email_domain(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app, domain=None)
    r = await client.put(f"{ACCOUNTS}/{token}", json={"email_domain": "acme.io"})
    assert r.status_code == 200, r.text
    assert r.json()["email_domain"] == "acme.io"
    assert r.json()["name"] == "Acme"
    assert (await client.get(f"{ACCOUNTS}/{token}")).json()["email_domain"] == "acme.io"


async def test_put_managed_account_refuses_invalid_email_domain(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    assert_errors(await client.put(f"{ACCOUNTS}/{token}", json={"email_domain": "not a"}), 400)
    assert_errors(await client.put(f"{ACCOUNTS}/{token}", json={"email_domain": 7}), 400)


# -- pagination --------------------------------------------------------------------------------


async def test_list_pages_through_links_next(app: Starlette, client: httpx.AsyncClient) -> None:
    for i in range(2500):
        seed(app, domain=f"c{i}.example.com", name=f"Customer {i}")
    url: str | None = f"{BASE}{ACCOUNTS}?limit=1000"
    pages: list[dict[str, Any]] = []
    while url is not None:
        r = await client.get(url)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        url = r.json()["links"]["next"]
    assert [len(p["managed_accounts"]) for p in pages] == [1000, 1000, 500]
    tokens = [a["token"] for p in pages for a in p["managed_accounts"]]
    assert len(set(tokens)) == 2500
    first, second, third = (p["links"] for p in pages)
    assert set(first) == {"self", "first", "next", "last", "prev"}
    assert first["prev"] is None
    assert third["next"] is None
    assert second["prev"] is not None
    assert second["next"] is not None
    for links in (first, second, third):
        assert query(links["first"]) == {"page": "1", "limit": "1000"}
        assert query(links["last"]) == {"page": "3", "limit": "1000"}
        assert links["last"].startswith(f"{BASE}{ACCOUNTS}")
    assert query(first["next"])["page"] == "2"
    assert query(third["prev"])["page"] == "2"
    assert query(second["self"])["page"] == "2"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_list_of_no_accounts(client: httpx.AsyncClient) -> None:
    r = await client.get(ACCOUNTS)
    assert r.status_code == 200
    body = r.json()
    assert body["managed_accounts"] == []
    assert body["links"]["next"] is None
    assert body["links"]["prev"] is None


async def test_list_limit_is_at_most_1000(client: httpx.AsyncClient) -> None:
    assert_errors(await client.get(ACCOUNTS, params={"limit": 1001}), 400)
    assert_errors(await client.get(ACCOUNTS, params={"limit": 0}), 400)
    assert_errors(await client.get(ACCOUNTS, params={"page": "x"}), 400)
    assert (await client.get(ACCOUNTS, params={"limit": 1000})).status_code == 200


# -- SSO connection ----------------------------------------------------------------------------


async def test_create_sso_is_201_managed_account_without_sso_fields(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    body = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["acme.io"]}
    r = await client.post(sso(token), json=body)
    assert r.status_code == 201, r.text
    assert set(r.json()) == MANAGED_ACCOUNT_FIELDS
    assert r.json()["token"] == token
    assert "saml_metadata_url" not in r.text
    assert "acme.io" not in r.text
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["type"] == "saml"
    assert connection["saml_metadata_url"] == METADATA
    assert connection["additional_domains"] == ["acme.io"]
    assert connection["domains"] == ["acme.com", "acme.io"]


async def test_sso_connection_cannot_be_read_through_the_api(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    r = await client.get(sso(token))
    assert r.status_code in (404, 405)
    assert METADATA not in r.text
    assert METADATA not in (await client.get(f"{ACCOUNTS}/{token}")).text
    assert METADATA not in (await client.get(ACCOUNTS)).text


async def test_own_email_domain_is_included_once(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    body = {
        "type": "saml",
        "saml_metadata_url": METADATA,
        "additional_domains": ["ACME.com", "acme.io", "acme.io"],
    }
    assert (await client.post(sso(token), json=body)).status_code == 201
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["domains"] == ["acme.com", "acme.io"]
    assert "acme.com" not in connection["additional_domains"]


async def test_create_sso_without_additional_domains(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    r = await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    assert r.status_code == 201
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["domains"] == ["acme.com"]


async def test_sso_needs_the_accounts_email_domain(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app, domain=None)
    r = await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    assert_errors(r, 400)
    assert await hidden(client, token) is None


async def test_create_sso_twice_is_400(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    body = {"type": "saml", "saml_metadata_url": METADATA}
    assert (await client.post(sso(token), json=body)).status_code == 201
    assert_errors(await client.post(sso(token), json=body), 400, "SSO connection already exists")


@pytest.mark.parametrize(
    "body",
    [
        {"saml_metadata_url": METADATA},
        {"type": "oidc", "saml_metadata_url": METADATA},
        {"type": "saml"},
        {"type": "saml", "saml_metadata_url": "not a url"},
        {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": "acme.io"},
        {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["no domain"]},
        {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": [1]},
        [],
    ],
)
async def test_create_sso_validation(app: Starlette, client: httpx.AsyncClient, body: Any) -> None:
    token = seed(app)
    assert_errors(await client.post(sso(token), json=body), 400)
    assert await hidden(client, token) is None


async def test_create_sso_with_malformed_json(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    r = await client.post(sso(token), content=b"{", headers={"content-type": "application/json"})
    assert_errors(r, 400)


async def test_sso_on_unknown_account_is_404(client: httpx.AsyncClient) -> None:
    missing = sso("acct_ffffffffffffffff")
    assert_errors(
        await client.post(missing, json={"type": "saml", "saml_metadata_url": METADATA}), 404
    )
    assert_errors(await client.put(missing, json={"saml_metadata_url": METADATA}), 404)
    assert_errors(await client.delete(missing), 404)


async def test_update_sso_replaces_additional_domains(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    create = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["a.io", "b.io"]}
    await client.post(sso(token), json=create)
    r = await client.put(sso(token), json={"additional_domains": ["c.io", "acme.com"]})
    assert r.status_code == 200, r.text
    assert set(r.json()) == MANAGED_ACCOUNT_FIELDS
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["domains"] == ["acme.com", "c.io"]
    assert connection["saml_metadata_url"] == METADATA


async def test_update_sso_without_domains_keeps_them(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    create = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["a.io"]}
    await client.post(sso(token), json=create)
    other = "https://idp.acme.com/other.xml"
    assert (await client.put(sso(token), json={"saml_metadata_url": other})).status_code == 200
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["saml_metadata_url"] == other
    assert connection["domains"] == ["acme.com", "a.io"]


async def test_update_sso_with_empty_domains_keeps_own_domain(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    create = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["a.io"]}
    await client.post(sso(token), json=create)
    assert (await client.put(sso(token), json={"additional_domains": []})).status_code == 200
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["domains"] == ["acme.com"]


async def test_update_sso_validation(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    assert_errors(await client.put(sso(token), json={"saml_metadata_url": "ftp:x"}), 400)
    assert_errors(await client.put(sso(token), json={"additional_domains": ["x"]}), 400)


async def test_update_or_delete_without_connection_is_404(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    assert_errors(await client.put(sso(token), json={"saml_metadata_url": METADATA}), 404)
    assert_errors(await client.delete(sso(token)), 404)


async def test_delete_sso_is_204_empty(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    r = await client.delete(sso(token))
    assert r.status_code == 204
    assert r.content == b""
    assert await hidden(client, token) is None
    assert (await client.get(f"{ACCOUNTS}/{token}")).json()["email_domain"] == "acme.com"
    again = await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    assert again.status_code == 201


async def test_changing_email_domain_never_duplicates_it(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    create = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["acme.io"]}
    await client.post(sso(token), json=create)
    await client.put(f"{ACCOUNTS}/{token}", json={"email_domain": "acme.io"})
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["domains"] == ["acme.io"]


# -- auth --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
async def test_bad_credentials_are_401(app: Starlette, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with client_for(app, token=None) as anonymous:
        r = await anonymous.get(ACCOUNTS, headers=headers)
    assert_errors(r, 401)
    for name in RATE_HEADERS:
        assert name in r.headers


async def test_custom_token_and_read_only_token(clock: Clock) -> None:
    app = create_app(token="write-me", read_token="read-me", clock=clock)
    token = seed(app)
    async with client_for(app, "read-me") as reader, client_for(app, "write-me") as writer:
        assert (await reader.get(f"{ACCOUNTS}/{token}")).status_code == 200
        body = {"type": "saml", "saml_metadata_url": METADATA}
        assert_errors(await reader.post(sso(token), json=body), 403)
        assert (await writer.post(sso(token), json=body)).status_code == 201
    async with client_for(app) as default:
        assert_errors(await default.get(ACCOUNTS), 401)


# -- rate limits -------------------------------------------------------------------------------


async def test_rate_headers_on_every_answer(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    answers = [
        await client.get(ACCOUNTS),
        await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA}),
        await client.put(sso(token), json={"additional_domains": []}),
        await client.delete(sso(token)),
        await client.delete(sso(token)),
        await client.post(sso(token), json={}),
        await client.get("/v2/nothing-here"),
    ]
    assert [r.status_code for r in answers] == [200, 201, 200, 204, 404, 400, 404]
    remaining = [int(r.headers["x-rate-limit-remaining"]) for r in answers]
    assert remaining == list(range(999, 992, -1))
    for r in answers:
        assert r.headers["x-rate-limit-limit"] == "1000"
        reset = int(r.headers["x-rate-limit-reset"])
        assert 1_700_000_061 <= reset <= 1_700_003_600


async def test_429_when_exhausted_until_reset(clock: Clock) -> None:
    app = create_app(rate_limit=3, rate_window=60.0, clock=clock)
    async with client_for(app) as client:
        for expected in (2, 1, 0):
            r = await client.get(ACCOUNTS)
            assert r.status_code == 200
            assert int(r.headers["x-rate-limit-remaining"]) == expected
        limited = await client.get(ACCOUNTS)
        assert_errors(limited, 429)
        assert "retry-after" not in limited.headers
        assert limited.headers["x-rate-limit-remaining"] == "0"
        assert limited.headers["x-rate-limit-limit"] == "3"
        reset = int(limited.headers["x-rate-limit-reset"])
        assert reset == math.ceil(1_700_000_060.0)
        clock.now = float(reset)
        r = await client.get(ACCOUNTS)
        assert r.status_code == 200
        assert r.headers["x-rate-limit-remaining"] == "2"


async def test_control_routes_are_not_rate_limited(clock: Clock) -> None:
    app = create_app(rate_limit=1, clock=clock)
    async with client_for(app, token=None) as client:
        for _ in range(5):
            assert (await client.get("/_emulator/state")).status_code == 200


async def test_injected_429_burst(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(burst_429=2))
    first, second, third = [await client.get(ACCOUNTS) for _ in range(3)]
    assert_errors(first, 429)
    assert_errors(second, 429)
    assert third.status_code == 200
    for r in (first, second):
        assert "retry-after" not in r.headers
        assert r.headers["x-rate-limit-remaining"] == "0"
        assert "x-rate-limit-reset" in r.headers


# -- faults ------------------------------------------------------------------------------------


async def test_injected_503(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(error_rate=1.0))
    assert (await client.get(ACCOUNTS)).status_code == 503
    app.state.emulator.configure(FaultConfig())
    assert (await client.get(ACCOUNTS)).status_code == 200


async def test_injected_drop(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(ACCOUNTS)


async def test_injected_stall(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(stall_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.get(ACCOUNTS)


async def test_ambiguous_sso_create_commits_then_times_out(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = seed(app)
    app.state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    body = {"type": "saml", "saml_metadata_url": METADATA}
    with pytest.raises(httpx.ReadTimeout):
        await client.post(sso(token), json=body)
    app.state.emulator.configure(FaultConfig())
    connection = await hidden(client, token)
    assert connection is not None
    assert connection["saml_metadata_url"] == METADATA
    assert_errors(await client.post(sso(token), json=body), 400, "SSO connection already exists")


async def test_faults_control_route(client: httpx.AsyncClient) -> None:
    r = await client.put("/_emulator/faults", json={"error_rate": 1.0})
    assert r.status_code == 200
    assert (await client.get(ACCOUNTS)).status_code == 503
    assert (await client.put("/_emulator/faults", json={})).status_code == 200
    assert (await client.get(ACCOUNTS)).status_code == 200


# -- store -------------------------------------------------------------------------------------


async def test_store_json_round_trip(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    seed(app, domain=None, name="No Domain")
    body = {"type": "saml", "saml_metadata_url": METADATA, "additional_domains": ["acme.io"]}
    await client.post(sso(token), json=body)
    dump = store_of(app).to_json()
    text = json.dumps(dump)
    restored = VantageStore.from_json(json.loads(text))
    assert restored.to_json() == dump
    copy = create_app(store=restored)
    async with client_for(copy) as other:
        assert (await other.get(ACCOUNTS)).json()["managed_accounts"] == (
            await client.get(ACCOUNTS)
        ).json()["managed_accounts"]
        assert await hidden(other, token) == await hidden(client, token)


async def test_state_control_routes(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    state = (await client.get("/_emulator/state")).json()
    assert [a["token"] for a in state["managed_accounts"]] == [token]
    assert (await client.put("/_emulator/state", json={"managed_accounts": []})).status_code == 200
    assert_errors(await client.get(f"{ACCOUNTS}/{token}"), 404)
    assert (await client.put("/_emulator/state", json=state)).status_code == 200
    assert (await client.get(f"{ACCOUNTS}/{token}")).status_code == 200


async def test_sso_connections_control_route(app: Starlette, client: httpx.AsyncClient) -> None:
    token = seed(app)
    await client.post(sso(token), json={"type": "saml", "saml_metadata_url": METADATA})
    listed = (await client.get("/_emulator/sso_connections")).json()
    assert list(listed) == [token]
    assert listed[token]["domains"] == ["acme.com"]
    assert store_of(app).sso_connection(token) == listed[token]
