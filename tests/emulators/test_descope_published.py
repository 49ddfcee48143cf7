"""The Descope emulator where Descope's published shapes decide: OIDC role mappings read back as
`groupsMapping`, and attribute mapping keys outside the published set are dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ssoform.emulators.base import emulator_transport
from ssoform.emulators.descope import create_app

AUTH = {"Authorization": "Bearer P2emulator:descope-emulator-key"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = emulator_transport(create_app())
    async with httpx.AsyncClient(
        transport=transport, base_url="https://api.descope.com", headers=AUTH
    ) as c:
        await c.post("/v1/mgmt/tenant/create", json={"id": "T1", "name": "Acme"})
        yield c


async def _oidc(client: httpx.AsyncClient, **settings: Any) -> httpx.Response:
    body = {"tenantId": "T1", "settings": {"clientId": "c1", **settings}}
    return await client.post("/v1/mgmt/sso/oidc", json=body)


async def _load(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/v2/mgmt/sso/settings", params={"tenantId": "T1"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize(
    "mapping",
    [
        {"groupsMapping": [{"role": {"name": "Admin"}, "groups": ["g1"]}]},
        {"roleMappings": [{"roleName": "Admin", "groups": ["g1"]}]},
    ],
)
async def test_oidc_role_mappings_read_back_as_groups_mapping(
    client: httpx.AsyncClient, mapping: dict[str, Any]
) -> None:
    assert (await _oidc(client, **mapping)).status_code == 200
    oidc = (await _load(client))["oidc"]
    assert "roleMappings" not in oidc
    [item] = oidc["groupsMapping"]
    assert (item["role"]["name"], item["groups"]) == ("Admin", ["g1"])
    assert item["role"]["id"]


async def test_oidc_role_mappings_in_both_shapes_are_refused(client: httpx.AsyncClient) -> None:
    r = await _oidc(
        client,
        groupsMapping=[{"role": {"name": "A"}, "groups": []}],
        roleMappings=[{"roleName": "A", "groups": []}],
    )
    assert (r.status_code, r.json()["errorCode"]) == (400, "E011004")


async def test_unknown_attribute_mapping_keys_are_dropped(client: httpx.AsyncClient) -> None:
    r = await _oidc(client, userAttrMapping={"emial": "mail", "email": "email", "loginId": "sub"})
    assert r.status_code == 200
    claims = (await _load(client))["oidc"]["userAttrMapping"]
    assert "emial" not in claims
    assert (claims["email"], claims["loginId"], claims["username"]) == ("email", "sub", "")
    saml = {
        "idpUrl": "https://idp.example/sso",
        "entityId": "urn:idp",
        "idpCert": "PEM",
        "attributeMapping": {"loginId": "sub", "email": "mail", "customAttributes": {"a": "b"}},
    }
    r = await client.post("/v1/mgmt/sso/saml", json={"tenantId": "T1", "settings": saml})
    assert r.status_code == 200
    mapping = (await _load(client))["saml"]["attributeMapping"]
    assert "loginId" not in mapping  # an OIDC key, not a SAML one
    assert (mapping["email"], mapping["customAttributes"]) == ("mail", {"a": "b"})
