"""Contract tests of the PandaStack SSO emulator, from provider-apis.md §5 and §7.4."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.pandastack import DEFAULT_TOKEN, PandaStackStore, create_app

BASE = "https://api.pandastack.io"
ORG = "1234567890"
OTHER_ORG = "9876543210"
SSO = "/api/v1/sso/"
SINGLE = "/api/v1/sso/single"
UPDATE = "/api/v1/sso/update"
RESTRICTED = "psk_" + "ab" * 32
PROVIDER = {
    "provider": "okta",
    "provider_url": "https://acme.okta.com",
    "client_id": "0oa1b2c3",
    "client_secret": "s3cr3t",
    "enabled": True,
    "project_ids": ["p1", "p2"],
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Starlette:
    return create_app(token_organizations={RESTRICTED: [ORG]}, clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


def client_for(app: Starlette, token: str | None = DEFAULT_TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(transport=emulator_transport(app), base_url=BASE, headers=headers)


def store_of(app: Starlette) -> PandaStackStore:
    store: PandaStackStore = app.state.store
    return store


def org(organization: str = ORG, **extra: str) -> dict[str, str]:
    return {"organization_id": organization, **extra}


def assert_message(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["message"], str)
    assert body["message"]


async def create(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await client.post(SSO, params=org(), json=PROVIDER if body is None else body)
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()["data"]
    return created


# -- documents ---------------------------------------------------------------------------------


async def test_create_returns_document_with_id(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert isinstance(created["id"], str)
    assert created["id"]
    for key in ("provider", "provider_url", "client_id", "enabled", "project_ids"):
        assert created[key] == PROVIDER[key]


async def test_list_and_single(client: httpx.AsyncClient) -> None:
    assert (await client.get(SSO, params=org())).json() == {"data": []}
    first = await create(client)
    second = await create(client, {"provider": "entra", "anything": {"nested": [1, 2]}})
    listed = await client.get(SSO, params=org())
    assert listed.status_code == 200
    assert listed.json()["data"] == [first, second]
    one = await client.get(SINGLE, params=org(id=second["id"]))
    assert one.status_code == 200
    assert one.json()["data"] == second


async def test_documents_are_scoped_by_organization(client: httpx.AsyncClient) -> None:
    created = await create(client)
    assert (await client.get(SSO, params=org(OTHER_ORG))).json()["data"] == []
    assert_message(await client.get(SINGLE, params=org(OTHER_ORG, id=created["id"])), 404)
    r = await client.post(UPDATE, params=org(OTHER_ORG), json={"id": created["id"], "x": 1})
    assert_message(r, 404)
    assert_message(await client.delete(SSO, params=org(OTHER_ORG, id=created["id"])), 404)


async def test_update_merges_keys(client: httpx.AsyncClient) -> None:
    created = await create(client)
    r = await client.post(
        UPDATE, params=org(), json={"id": created["id"], "enabled": False, "role_mapping": {}}
    )
    assert r.status_code == 200, r.text
    updated = r.json()["data"]
    assert updated["enabled"] is False
    assert updated["role_mapping"] == {}
    assert updated["provider_url"] == PROVIDER["provider_url"]
    assert updated["id"] == created["id"]
    one = (await client.get(SINGLE, params=org(id=created["id"]))).json()["data"]
    assert one == updated


async def test_update_and_single_need_an_existing_id(client: httpx.AsyncClient) -> None:
    assert_message(await client.post(UPDATE, params=org(), json={"enabled": False}), 400)
    assert_message(await client.post(UPDATE, params=org(), json={"id": "nope", "x": 1}), 404)
    assert_message(await client.get(SINGLE, params=org()), 400)
    assert_message(await client.get(SINGLE, params=org(id="nope")), 404)


async def test_delete(client: httpx.AsyncClient) -> None:
    created = await create(client)
    r = await client.delete(SSO, params=org(id=created["id"]))
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), dict)
    assert (await client.get(SSO, params=org())).json()["data"] == []
    assert_message(await client.get(SINGLE, params=org(id=created["id"])), 404)
    assert_message(await client.delete(SSO, params=org(id=created["id"])), 404)
    assert_message(await client.delete(SSO, params=org()), 400)


@pytest.mark.parametrize("content", [b"{", b"[]", b'"text"'])
async def test_body_must_be_a_json_object(client: httpx.AsyncClient, content: bytes) -> None:
    headers = {"content-type": "application/json"}
    assert_message(await client.post(SSO, params=org(), content=content, headers=headers), 400)


async def test_root_without_trailing_slash(client: httpx.AsyncClient) -> None:
    created = await create(client)
    r = await client.get("/api/v1/sso", params=org())
    assert r.status_code == 200
    assert r.json()["data"] == [created]


async def test_unknown_path_and_method(client: httpx.AsyncClient) -> None:
    assert_message(await client.get("/api/v1/sso/single/x/y", params=org()), 404)
    assert_message(await client.get("/api/v1/sso/nothing", params=org()), 405)
    assert_message(await client.put(SSO, params=org(), json={}), 405)


async def test_ids_in_the_path_as_the_sibling_routes_take_them(client: httpx.AsyncClient) -> None:
    created = (await client.post(SSO, params=org(), json={"slug": "okta"})).json()["data"]
    assert created["slug"] == "okta"
    one = await client.get(f"{SINGLE}/{created['id']}", params=org())
    assert one.status_code == 200 and one.json()["data"]["id"] == created["id"]
    gone = await client.delete(f"/api/v1/sso/{created['id']}", params=org())
    assert gone.json() == {"data": {"id": created["id"], "deleted": True}}
    assert_message(await client.get(f"{SINGLE}/{created['id']}", params=org()), 404)


# -- organization_id and tokens ----------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"organization_id": ""}])
async def test_organization_id_is_required_everywhere(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_message(await client.get(SSO, params=params), 400)
    assert_message(await client.post(SSO, params=params, json=PROVIDER), 400)
    assert_message(await client.get(SINGLE, params={**params, "id": "x"}), 400)
    assert_message(await client.post(UPDATE, params=params, json={"id": "x"}), 400)
    assert_message(await client.delete(SSO, params={**params, "id": "x"}), 400)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer ",
        f"Basic {DEFAULT_TOKEN}",
        "Bearer psk_123",
        "Bearer " + "psk_" + "g" * 64,
        "Bearer " + "psk_" + "A" * 64,
        "Bearer " + "pk_" + "a" * 64,
        "Bearer " + DEFAULT_TOKEN + "0",
    ],
)
async def test_malformed_token_is_401(app: Starlette, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with client_for(app, token=None) as anonymous:
        assert_message(await anonymous.get(SSO, params=org(), headers=headers), 401)


async def test_well_formed_unknown_token_is_refused(app: Starlette) -> None:
    async with client_for(app, "psk_" + secrets.token_hex(32)) as stranger:
        r = await stranger.get(SSO, params=org())
    assert r.status_code in (401, 403)
    assert_message(r, r.status_code)


async def test_token_restricted_to_organizations(app: Starlette) -> None:
    async with client_for(app, RESTRICTED) as restricted:
        assert (await restricted.get(SSO, params=org())).status_code == 200
        assert_message(await restricted.get(SSO, params=org(OTHER_ORG)), 403)


def test_tokens_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="psk_"):
        create_app(token="not-a-psk-token")


# -- secrets -----------------------------------------------------------------------------------


async def test_secret_keys_are_hashed_masked_and_never_stored(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    canary = "canary-" + secrets.token_hex(16)
    body = {
        "provider": "okta",
        "client_secret": canary,
        "clientSecret": canary + "-camel",
        "password": canary + "-password",
        "token": canary + "-token",
        "oidc": {"access_token": canary + "-nested"},
        "token_settings": {"lifetime": 3600},
    }
    created = await create(client, body)
    text = json.dumps(created)
    listed = (await client.get(SSO, params=org())).text
    state = (await client.get("/_emulator/state")).text
    dump = json.dumps(store_of(app).to_json())
    for place in (text, listed, state, dump):
        assert canary not in place
    for key in ("client_secret", "clientSecret", "password", "token"):
        assert created[key] != body[key]
    assert created["token_settings"] == {"lifetime": 3600}
    stored = store_of(app).to_json()["organizations"][ORG][0]
    assert stored["client_secret_sha256"] == hashlib.sha256(canary.encode()).hexdigest()
    assert stored["clientSecretSha256"] == hashlib.sha256(f"{canary}-camel".encode()).hexdigest()
    assert "sha256" not in text.lower()


CANARY = "canary-7f3a9c"
_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_secret_key = st.sampled_from(["client_secret", "clientSecret", "password", "apiToken", "api_key"])
_secret_value = st.sampled_from([CANARY, [CANARY], {"value": CANARY}])
_plain_key = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)


def _with_secrets(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    plain = st.dictionaries(_plain_key, inner | st.lists(inner, max_size=2), max_size=3)
    hidden = st.dictionaries(_secret_key, _secret_value, max_size=2)
    return st.builds(lambda a, b: {**a, **b}, plain, hidden)


_documents = st.recursive(_with_secrets(_leaf), _with_secrets, max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(_documents)
def test_no_stored_document_holds_a_secret_value(document: dict[str, Any]) -> None:
    secret_document = {**document, "client_secret": CANARY, "nested": {"password": CANARY}}
    store = PandaStackStore()
    store.create(ORG, secret_document)
    dump = store.to_json()
    assert CANARY not in json.dumps(dump)
    restored = PandaStackStore.from_json(json.loads(json.dumps(dump)))
    assert restored.to_json() == dump


async def test_secret_update_replaces_digest(app: Starlette, client: httpx.AsyncClient) -> None:
    created = await create(client)
    canary = "canary-" + secrets.token_hex(16)
    r = await client.post(UPDATE, params=org(), json={"id": created["id"], "client_secret": canary})
    assert r.status_code == 200
    assert canary not in r.text
    stored = store_of(app).to_json()["organizations"][ORG][0]
    assert stored["client_secret_sha256"] == hashlib.sha256(canary.encode()).hexdigest()
    assert canary not in json.dumps(store_of(app).to_json())


# -- rate limits and faults --------------------------------------------------------------------


async def test_429_when_exhausted(clock: Clock) -> None:
    app = create_app(rate_limit=2, rate_window=60.0, clock=clock)
    async with client_for(app) as client:
        assert (await client.get(SSO, params=org())).status_code == 200
        assert (await client.get(SSO, params=org())).status_code == 200
        limited = await client.get(SSO, params=org())
        assert_message(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        clock.now += 60
        assert (await client.get(SSO, params=org())).status_code == 200


async def test_injected_429_burst(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(burst_429=1))
    assert_message(await client.get(SSO, params=org()), 429)
    assert (await client.get(SSO, params=org())).status_code == 200


async def test_injected_503_drop_and_stall(app: Starlette, client: httpx.AsyncClient) -> None:
    emulator = app.state.emulator
    emulator.configure(FaultConfig(error_rate=1.0))
    assert (await client.get(SSO, params=org())).status_code == 503
    emulator.configure(FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(SSO, params=org())
    emulator.configure(FaultConfig(stall_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.get(SSO, params=org())


async def test_ambiguous_create_commits_then_times_out(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    app.state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(SSO, params=org(), json=PROVIDER)
    app.state.emulator.configure(FaultConfig())
    listed = (await client.get(SSO, params=org())).json()["data"]
    assert [d["provider_url"] for d in listed] == [PROVIDER["provider_url"]]


# -- store -------------------------------------------------------------------------------------


async def test_store_json_round_trip(app: Starlette, client: httpx.AsyncClient) -> None:
    await create(client)
    await client.post(SSO, params=org(OTHER_ORG), json={"provider": "entra", "api_key": "k"})
    dump = store_of(app).to_json()
    restored = PandaStackStore.from_json(json.loads(json.dumps(dump)))
    assert restored.to_json() == dump
    copy = create_app(store=restored)
    async with client_for(copy) as other:
        for organization in (ORG, OTHER_ORG):
            mine = (await client.get(SSO, params=org(organization))).json()
            assert (await other.get(SSO, params=org(organization))).json() == mine


async def test_state_control_routes(client: httpx.AsyncClient) -> None:
    created = await create(client)
    state = (await client.get("/_emulator/state")).json()
    assert (await client.put("/_emulator/state", json={"organizations": {}})).status_code == 200
    assert_message(await client.get(SINGLE, params=org(id=created["id"])), 404)
    assert (await client.put("/_emulator/state", json=state)).status_code == 200
    assert (await client.get(SINGLE, params=org(id=created["id"]))).json()["data"] == created
