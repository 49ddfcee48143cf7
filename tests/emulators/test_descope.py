"""Contract tests of the Descope SSO management emulator, from provider-apis.md §2 and §7.4."""

from __future__ import annotations

import asyncio
import hashlib
import json
import string
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.descope import DescopeStore, create_app

AUTH = {"Authorization": "Bearer P2emulator:descope-emulator-key"}
CANARY = "CANARY-s3cr3t-DO-NOT-PERSIST"
SAML = {
    "idpUrl": "https://idp.acme.com/sso",
    "entityId": "https://idp.acme.com/entity",
    "idpCert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "roleMappings": [{"groups": ["admins", "ops"], "roleName": "Tenant Admin"}],
    "attributeMapping": {"email": "mail", "name": "displayName", "customAttributes": {"d": "dep"}},
}
OIDC = {
    "name": "Okta",
    "clientId": "client-123",
    "clientSecret": CANARY,
    "redirectUrl": "https://app.acme.com/cb",
    "issuer": "https://acme.okta.com",
    "scope": ["openid", "email"],
    "JWKsUrl": "https://acme.okta.com/keys",
}


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def client_for(app: Starlette, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emulator_transport(app),
        base_url="https://api.descope.com",
        headers=AUTH if headers is None else headers,
    )


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        await c.post("/v1/mgmt/tenant/create", json={"id": "T1", "name": "Acme"})
        await c.post("/v1/mgmt/tenant/create", json={"id": "T2", "name": "Globex"})
        yield c


def store_of(app: Starlette) -> DescopeStore:
    store: DescopeStore = app.state.store
    return store


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"errorCode", "errorDescription", "errorMessage"}
    assert body["errorCode"] == code
    assert isinstance(body["errorDescription"], str)
    assert isinstance(body["errorMessage"], str)
    return body


async def load(client: httpx.AsyncClient, tenant: str = "T1", **params: str) -> dict[str, Any]:
    r = await client.get("/v2/mgmt/sso/settings", params={"tenantId": tenant, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def configure_saml(
    client: httpx.AsyncClient, tenant: str = "T1", **extra: Any
) -> httpx.Response:
    body = {"tenantId": tenant, "settings": SAML, **extra}
    return await client.post("/v1/mgmt/sso/saml", json=body)


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer descope-emulator-key"},
        {"Authorization": "Bearer P2emulator:wrong"},
        {"Authorization": "Bearer Pother:descope-emulator-key"},
        {"Authorization": "Basic P2emulator:descope-emulator-key"},
    ],
)
async def test_bad_credentials_are_401(app: Starlette, headers: dict[str, str]) -> None:
    async with client_for(app, headers) as c:
        r = await c.get("/v1/mgmt/tenant/all")
    assert r.status_code == 401
    assert set(r.json()) == {"errorCode", "errorDescription", "errorMessage"}


# -- tenants ---------------------------------------------------------------------------------


async def test_tenant_create_load_and_list(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/mgmt/tenant/create", json={"name": "Initech"})
    assert r.status_code == 200
    new_id = r.json()["id"]
    assert new_id
    tenant = (await client.get("/v1/mgmt/tenant", params={"id": new_id})).json()
    assert tenant["id"] == new_id
    assert tenant["name"] == "Initech"
    assert tenant["authType"] == "none"
    assert tenant["domains"] == []
    assert isinstance(tenant["createdTime"], int)
    listed = (await client.get("/v1/mgmt/tenant/all")).json()["tenants"]
    assert [t["id"] for t in listed] == ["T1", "T2", new_id]


async def test_tenant_create_validation(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/v1/mgmt/tenant/create", json={}), 400, "E011003")
    r = await client.post("/v1/mgmt/tenant/create", json={"id": "T1", "name": "Again"})
    assert_error(r, 400, "E011004")


async def test_unknown_tenant_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/mgmt/tenant", params={"id": "Tnope"}), 404, "E011004")
    r = await client.get("/v2/mgmt/sso/settings", params={"tenantId": "Tnope"})
    assert_error(r, 404, "E011004")
    r = await client.post("/v1/mgmt/sso/saml", json={"tenantId": "Tnope", "settings": SAML})
    assert_error(r, 404, "E011004")


async def test_missing_query_parameter(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v2/mgmt/sso/settings"), 400, "E011002")
    assert_error(await client.get("/v1/mgmt/tenant"), 400, "E011002")
    assert_error(await client.delete("/v1/mgmt/sso/settings"), 400, "E011002")


async def test_unknown_route(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/mgmt/nothing")
    assert r.status_code == 404
    assert "errorCode" in r.json()


# -- SAML and the read/write renames ---------------------------------------------------------


async def test_saml_manual_reads_back_renamed(client: httpx.AsyncClient) -> None:
    r = await configure_saml(
        client, redirectUrl="https://app.acme.com/after", domains=["acme.com", "Acme.IO"]
    )
    assert r.status_code == 200
    body = await load(client)
    assert set(body) == {"tenant", "saml", "oidc", "ssoId"}
    assert body["ssoId"] == ""
    saml = body["saml"]
    assert saml["idpSSOUrl"] == SAML["idpUrl"]
    assert saml["idpEntityId"] == SAML["entityId"]
    assert saml["idpCertificate"] == SAML["idpCert"]
    assert saml["redirectUrl"] == "https://app.acme.com/after"
    assert saml["attributeMapping"]["email"] == "mail"
    assert saml["attributeMapping"]["customAttributes"] == {"d": "dep"}
    for key in ("username", "verifiedEmail", "verifiedPhone"):
        assert key in saml["attributeMapping"]
    [mapping] = saml["groupsMapping"]
    assert mapping["role"]["name"] == "Tenant Admin"
    assert isinstance(mapping["role"]["id"], str)
    assert mapping["groups"] == ["admins", "ops"]
    for write_name in ("idpUrl", "entityId", "idpCert", "roleMappings"):
        assert write_name not in saml
    assert "redirectUrl" not in body["tenant"]
    assert body["tenant"]["domains"] == ["acme.com", "acme.io"]
    assert body["tenant"]["authType"] == "saml"
    assert body["tenant"]["id"] == "T1"
    assert saml["spACSUrl"]


@pytest.mark.parametrize("field", ["idpUrl", "entityId", "idpCert"])
async def test_saml_required_fields(client: httpx.AsyncClient, field: str) -> None:
    settings = {k: v for k, v in SAML.items() if k != field}
    r = await client.post("/v1/mgmt/sso/saml", json={"tenantId": "T1", "settings": settings})
    error = assert_error(r, 400, "E011003")
    assert field in error["errorMessage"]
    assert "is required" in error["errorMessage"]


async def test_required_tenant_id_and_settings(client: httpx.AsyncClient) -> None:
    error = assert_error(
        await client.post("/v1/mgmt/sso/saml", json={"settings": SAML}), 400, "E011003"
    )
    assert "tenantId" in error["errorMessage"]
    assert_error(await client.post("/v1/mgmt/sso/saml", json={"tenantId": "T1"}), 400, "E011003")


@pytest.mark.parametrize(
    "body",
    [
        {"tenantId": "T1", "settings": {**SAML, "idpSSOUrl": "https://x"}},
        {"tenantId": "T1", "settings": SAML, "redirectURL": "https://x"},
        {"tenantId": "T1", "settings": {**SAML, "idpUrl": 5}},
        {"tenantId": "T1", "settings": {**SAML, "roleMappings": [{"role": "x"}]}},
        {"tenantId": "T1", "settings": SAML, "domains": "acme.com"},
        {"tenantId": "T1", "settings": SAML, "domains": ["not a domain"]},
        {"tenantId": "T1", "settings": "nope"},
    ],
)
async def test_saml_invalid_arguments(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert_error(await client.post("/v1/mgmt/sso/saml", json=body), 400, "E011004")
    assert (await load(client))["tenant"]["authType"] == "none"


@pytest.mark.parametrize("content", [b"{oops", b"[1, 2]"])
async def test_malformed_body(client: httpx.AsyncClient, content: bytes) -> None:
    r = await client.post("/v1/mgmt/sso/saml", content=content)
    assert_error(r, 400, "E011001")


async def test_configure_is_a_full_replace(client: httpx.AsyncClient) -> None:
    await configure_saml(client, redirectUrl="https://app.acme.com/after", domains=["acme.com"])
    settings = {k: v for k, v in SAML.items() if k != "roleMappings"}
    r = await client.post("/v1/mgmt/sso/saml", json={"tenantId": "T1", "settings": settings})
    assert r.status_code == 200
    body = await load(client)
    assert body["saml"]["groupsMapping"] == []
    assert body["saml"]["redirectUrl"] == ""
    assert body["tenant"]["domains"] == []


async def test_saml_metadata(client: httpx.AsyncClient) -> None:
    url = "https://idp.acme.com/metadata.xml"
    r = await client.post(
        "/v1/mgmt/sso/saml/metadata",
        json={"tenantId": "T1", "settings": {"idpMetadataUrl": url}, "domains": ["acme.com"]},
    )
    assert r.status_code == 200
    body = await load(client)
    assert body["saml"]["idpMetadataUrl"] == url
    assert body["tenant"]["authType"] == "saml"
    r = await client.post("/v1/mgmt/sso/saml/metadata", json={"tenantId": "T1", "settings": {}})
    assert_error(r, 400, "E011003")


# -- OIDC and secrets ------------------------------------------------------------------------


async def test_oidc_secret_never_returned_nor_stored(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/v1/mgmt/sso/oidc", json={"tenantId": "T1", "settings": OIDC, "domains": ["acme.com"]}
    )
    assert r.status_code == 200
    body = await load(client)
    oidc = body["oidc"]
    assert oidc["clientSecret"] == ""
    assert oidc["clientId"] == "client-123"
    assert oidc["issuer"] == "https://acme.okta.com"
    assert oidc["scope"] == ["openid", "email"]
    assert oidc["JWKsUrl"] == "https://acme.okta.com/keys"
    assert oidc["redirectUrl"] == "https://app.acme.com/cb"
    assert body["tenant"]["authType"] == "oidc"

    api_reads = [
        (await client.get("/v2/mgmt/sso/settings", params={"tenantId": "T1"})).text,
        (await client.get("/v2/mgmt/sso/settings/all", params={"tenantId": "T1"})).text,
        (await client.get("/v1/mgmt/tenant", params={"id": "T1"})).text,
    ]
    for text in api_reads:
        assert CANARY not in text
        assert "Sha256" not in text
    assert CANARY not in (await client.get("/_emulator/state")).text
    dump = json.dumps(store_of(app).to_json())
    assert hashlib.sha256(CANARY.encode()).hexdigest() in dump
    assert "clientSecretSha256" in dump


async def test_saml_sp_keys_never_stored(app: Starlette, client: httpx.AsyncClient) -> None:
    settings = {**SAML, "spEncryptionKey": CANARY + "-enc", "spSignKey": CANARY + "-sign"}
    r = await client.post("/v1/mgmt/sso/saml", json={"tenantId": "T1", "settings": settings})
    assert r.status_code == 200
    assert CANARY not in json.dumps(await load(client))
    dump = json.dumps(store_of(app).to_json())
    assert CANARY not in dump
    assert hashlib.sha256((CANARY + "-sign").encode()).hexdigest() in dump


@settings(max_examples=25, deadline=None)
@given(secret=st.text(alphabet=string.ascii_uppercase + string.punctuation, min_size=12))
def test_any_secret_stays_out_of_the_store(secret: str) -> None:
    async def run() -> str:
        app = create_app()
        async with client_for(app) as c:
            await c.post("/v1/mgmt/tenant/create", json={"id": "T1", "name": "Acme"})
            oidc = {**OIDC, "clientSecret": secret}
            r = await c.post("/v1/mgmt/sso/oidc", json={"tenantId": "T1", "settings": oidc})
            assert r.status_code == 200
            read = (await c.get("/v2/mgmt/sso/settings", params={"tenantId": "T1"})).text
        return read + json.dumps(store_of(app).to_json())

    texts = asyncio.run(run())
    assert json.dumps(secret)[1:-1] not in texts


# -- modes, authtype and domains -------------------------------------------------------------


async def test_configure_switches_mode(client: httpx.AsyncClient) -> None:
    await configure_saml(client)
    await client.post("/v1/mgmt/sso/oidc", json={"tenantId": "T1", "settings": OIDC})
    assert (await load(client))["tenant"]["authType"] == "oidc"
    await configure_saml(client)
    assert (await load(client))["tenant"]["authType"] == "saml"


async def test_authtype_keeps_config(client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"])
    r = await client.post(
        "/v1/mgmt/sso/settings/authtype", json={"tenantId": "T1", "authType": "none"}
    )
    assert r.status_code == 200
    body = await load(client)
    assert body["tenant"]["authType"] == "none"
    assert body["saml"]["idpSSOUrl"] == SAML["idpUrl"]
    assert body["tenant"]["domains"] == ["acme.com"]
    r = await client.post(
        "/v1/mgmt/sso/settings/authtype", json={"tenantId": "T1", "authType": "saml"}
    )
    assert r.status_code == 200
    assert (await load(client))["tenant"]["authType"] == "saml"


async def test_authtype_validation(client: httpx.AsyncClient) -> None:
    url = "/v1/mgmt/sso/settings/authtype"
    assert_error(
        await client.post(url, json={"tenantId": "T1", "authType": "oidc"}), 400, "E011004"
    )
    assert_error(
        await client.post(url, json={"tenantId": "T1", "authType": "ldap"}), 400, "E011004"
    )
    assert_error(await client.post(url, json={"tenantId": "T1"}), 400, "E011003")


async def test_duplicate_domain_across_tenants_is_refused(client: httpx.AsyncClient) -> None:
    assert (await configure_saml(client, domains=["acme.com"])).status_code == 200
    assert_error(await configure_saml(client, "T2", domains=["ACME.com"]), 400, "E011004")
    assert (await load(client, "T2"))["tenant"]["authType"] == "none"
    assert (await configure_saml(client, domains=["acme.com", "acme.io"])).status_code == 200


async def test_duplicate_domains_allowed_by_project_flag() -> None:
    app = create_app(allow_duplicate_domains=True)
    async with client_for(app) as c:
        for tenant in ("T1", "T2"):
            await c.post("/v1/mgmt/tenant/create", json={"id": tenant, "name": tenant})
            assert (await configure_saml(c, tenant, domains=["acme.com"])).status_code == 200


# -- named configurations --------------------------------------------------------------------


async def test_named_configurations(client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"])
    r = await client.post(
        "/v1/mgmt/sso/settings/new",
        json={"tenantId": "T1", "ssoId": "okta", "displayName": "Okta"},
    )
    assert r.status_code == 200
    assert r.json()["ssoId"] == "okta"
    assert set(r.json()) == {"tenant", "saml", "oidc", "ssoId"}
    r = await client.post(
        "/v1/mgmt/sso/oidc",
        json={"tenantId": "T1", "ssoId": "okta", "settings": OIDC, "domains": ["acme.io"]},
    )
    assert r.status_code == 200
    named = await load(client, ssoId="okta")
    assert named["ssoId"] == "okta"
    assert named["oidc"]["clientId"] == "client-123"
    assert named["tenant"]["domains"] == ["acme.io"]
    default = await load(client)
    assert default["tenant"]["authType"] == "saml"
    assert default["tenant"]["domains"] == ["acme.com"]

    every = (await client.get("/v2/mgmt/sso/settings/all", params={"tenantId": "T1"})).json()
    assert [s["ssoId"] for s in every["SSOSettings"]] == ["", "okta"]

    r = await client.delete("/v1/mgmt/sso/settings", params={"tenantId": "T1", "ssoId": "okta"})
    assert r.status_code == 200
    r = await client.get("/v2/mgmt/sso/settings", params={"tenantId": "T1", "ssoId": "okta"})
    assert_error(r, 404, "E011004")
    assert (await load(client))["saml"]["idpSSOUrl"] == SAML["idpUrl"]


async def test_new_configuration_validation(client: httpx.AsyncClient) -> None:
    url = "/v1/mgmt/sso/settings/new"
    generated = await client.post(url, json={"tenantId": "T1", "displayName": "Extra"})
    assert generated.status_code == 200
    assert generated.json()["ssoId"]
    assert_error(await client.post(url, json={"tenantId": "T1"}), 400, "E011003")
    body = {"tenantId": "T1", "ssoId": "x", "displayName": "X"}
    assert (await client.post(url, json=body)).status_code == 200
    assert_error(await client.post(url, json=body), 400, "E011004")
    r = await configure_saml(client, ssoId="never-created")
    assert_error(r, 404, "E011004")


async def test_delete_default_resets_and_changes_acs_url(client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"])
    before = (await load(client))["saml"]["spACSUrl"]
    r = await client.delete("/v1/mgmt/sso/settings", params={"tenantId": "T1"})
    assert r.status_code == 200
    body = await load(client)
    assert body["tenant"]["authType"] == "none"
    assert body["tenant"]["domains"] == []
    assert body["saml"]["idpSSOUrl"] == ""
    await configure_saml(client)
    assert (await load(client))["saml"]["spACSUrl"] != before


async def test_redirect_urls(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/mgmt/sso/redirect",
        json={
            "tenantId": "T1",
            "samlRedirectUrl": "https://a.example/saml",
            "oauthRedirectUrl": "https://a.example/oidc",
        },
    )
    assert r.status_code == 200
    body = await load(client)
    assert body["saml"]["redirectUrl"] == "https://a.example/saml"
    assert body["oidc"]["redirectUrl"] == "https://a.example/oidc"


async def test_recalculate_mappings(client: httpx.AsyncClient) -> None:
    url = "/v1/mgmt/sso/recalculate-mappings"
    assert (await client.post(url, json={"tenantId": "T1"})).status_code == 200
    assert_error(await client.post(url, json={"tenantId": "Tnope"}), 404, "E011004")


async def test_tenant_settings(client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"])
    got = (await client.get("/v1/mgmt/tenant/settings", params={"id": "T1"})).json()
    assert got["domains"] == ["acme.com"]
    assert got["authType"] == "saml"
    r = await client.post(
        "/v1/mgmt/tenant/settings",
        json={"tenantId": "T1", "enforceSSO": True, "domains": ["acme.com", "acme.net"]},
    )
    assert r.status_code == 200
    got = (await client.get("/v1/mgmt/tenant/settings", params={"id": "T1"})).json()
    assert got["enforceSSO"] is True
    assert got["domains"] == ["acme.com", "acme.net"]
    assert got["authType"] == "saml"
    r = await client.post(
        "/v1/mgmt/tenant/settings",
        json={"tenantId": "T2", "enforceSSO": True, "domains": ["acme.net"]},
    )
    assert_error(r, 400, "E011004")
    got = (await client.get("/v1/mgmt/tenant/settings", params={"id": "T2"})).json()
    assert got["enforceSSO"] is False
    r = await client.post("/v1/mgmt/tenant/settings", json={"tenantId": "T1", "authType": "x"})
    assert_error(r, 400, "E011004")


# -- rate limiting and faults ----------------------------------------------------------------


async def test_rate_limit_429_with_retry_after() -> None:
    clock = Clock()
    app = create_app(rate_limit=2, rate_window=60.0, clock=clock)
    async with client_for(app) as c:
        assert (await c.get("/v1/mgmt/tenant/all")).status_code == 200
        clock.now += 20.5
        assert (await c.get("/v1/mgmt/tenant/all")).status_code == 200
        r = await c.get("/v1/mgmt/tenant/all")
        assert_error(r, 429, "E130429")
        assert r.headers["Retry-After"] == "40"
        clock.now += 40
        assert (await c.get("/v1/mgmt/tenant/all")).status_code == 200


async def test_injected_429_burst(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(burst_429=1))
    r = await client.get("/v1/mgmt/tenant/all")
    assert_error(r, 429, "E130429")
    assert int(r.headers["Retry-After"]) >= 1
    assert (await client.get("/v1/mgmt/tenant/all")).status_code == 200


async def test_injected_503_drop_and_stall(app: Starlette, client: httpx.AsyncClient) -> None:
    emulator = app.state.emulator
    emulator.configure(FaultConfig(error_rate=1.0))
    assert (await client.get("/v1/mgmt/tenant/all")).status_code == 503
    emulator.configure(FaultConfig(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/v1/mgmt/tenant/all")
    emulator.configure(FaultConfig(stall_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/mgmt/tenant/all")
    emulator.configure(FaultConfig())
    assert (await client.get("/v1/mgmt/tenant/all")).status_code == 200


async def test_ambiguous_new_configuration(app: Starlette, client: httpx.AsyncClient) -> None:
    app.state.emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    with pytest.raises(httpx.ReadTimeout):
        await client.post(
            "/v1/mgmt/sso/settings/new",
            json={"tenantId": "T1", "ssoId": "okta", "displayName": "Okta"},
        )
    with pytest.raises(httpx.ReadTimeout):
        await configure_saml(client, ssoId="okta")
    app.state.emulator.configure(FaultConfig())
    assert (await load(client, ssoId="okta"))["saml"]["idpSSOUrl"] == SAML["idpUrl"]


# -- persistence and control routes ----------------------------------------------------------


async def test_store_json_round_trip(app: Starlette, client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"], redirectUrl="https://r.example")
    await client.post(
        "/v1/mgmt/sso/settings/new", json={"tenantId": "T1", "ssoId": "o", "displayName": "O"}
    )
    await client.post("/v1/mgmt/sso/oidc", json={"tenantId": "T1", "ssoId": "o", "settings": OIDC})
    dumped = json.loads(json.dumps(store_of(app).to_json()))
    restored = DescopeStore.from_json(dumped)
    assert restored.to_json() == store_of(app).to_json()
    async with client_for(create_app(store=restored)) as again:
        for sso_id in ("", "o"):
            params = {"tenantId": "T1", "ssoId": sso_id}
            mine = (await client.get("/v2/mgmt/sso/settings", params=params)).json()
            theirs = (await again.get("/v2/mgmt/sso/settings", params=params)).json()
            assert mine == theirs


async def test_state_and_fault_control_routes(client: httpx.AsyncClient) -> None:
    await configure_saml(client, domains=["acme.com"])
    state = (await client.get("/_emulator/state", headers={"Authorization": ""})).json()
    assert (await client.put("/_emulator/state", json={"tenants": []})).status_code == 200
    assert (await client.get("/v1/mgmt/tenant/all")).json()["tenants"] == []
    assert (await client.put("/_emulator/state", json=state)).status_code == 200
    assert (await load(client))["tenant"]["domains"] == ["acme.com"]
    assert (await client.put("/_emulator/faults", json={"burst_429": 1})).status_code == 200
    assert (await client.get("/v1/mgmt/tenant/all")).status_code == 429
    assert (await client.put("/_emulator/faults", json={"burst_429": -1})).status_code == 400
