"""The Descope driver where Descope's published behaviour matters: OIDC role mappings read as
`groupsMapping`, the protocol read from `authType`, full-replace configure calls that keep
what the manifest does not manage, and the regional API host."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from descope_manifest import descope_manifest
from emulated import Harness, actions
from manifest.certgen import make_pem
from ssoform.drivers.descope import DescopeDriver
from ssoform.drivers.descope_manifest import imported
from ssoform.emulators.base import emulator_transport
from ssoform.emulators.descope import DescopeStore, create_app
from ssoform.manifest.models import DescopeProvider
from ssoform.model import Live

BASE = descope_manifest("""\
  acme:
    domains: [acme.com]
    idp: okta
    connections:
""")
ACME = "acme/ds/T2acme/default"


def _manifest(connection: str) -> str:
    return BASE + "      - " + connection + "\n"


@pytest.fixture
def store() -> DescopeStore:
    store = DescopeStore()
    store.create_tenant("Acme", "T2acme")
    return store


@pytest.fixture
def h(tmp_path: Path, store: DescopeStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    monkeypatch.setenv("OKTA_SECRET", "okta-secret-value")
    start = dt.datetime.now(dt.UTC)
    (tmp_path / "idp.pem").write_text(
        make_pem("acme.okta.com", start, start + dt.timedelta(days=365))
    )
    return Harness(tmp_path, {"ds": create_app(store=store)}, _manifest(SAML))


SAML = (
    "{provider: ds, tenant_id: T2acme, protocol: saml, "
    "redirect_url: 'https://app.example.com/acme'}"
)
OIDC_ROLES = (
    "{provider: ds, tenant_id: T2acme, protocol: oidc, "
    "role_mappings: [{groups: [admins], role: Tenant Admin}]}"
)


async def _api(store: DescopeStore) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emulator_transport(create_app(store=store)),
        base_url="https://api.descope.com",
        headers={"Authorization": "Bearer P2emulator:descope-emulator-key"},
    )


async def _load(store: DescopeStore) -> dict[str, Any]:
    async with await _api(store) as api:
        r = await api.get("/v2/mgmt/sso/settings", params={"tenantId": "T2acme"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_oidc_role_mappings_converge(h: Harness, store: DescopeStore) -> None:
    h.write(_manifest(OIDC_ROLES))
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op"}, [c.changes for c in plan.changes]
    oidc = (await _load(store))["oidc"]
    assert "roleMappings" not in oidc
    assert [(m["role"]["name"], m["groups"]) for m in oidc["groupsMapping"]] == [
        ("Tenant Admin", ["admins"])
    ]


async def test_switching_from_saml_metadata_to_oidc_converges(
    h: Harness, store: DescopeStore
) -> None:
    h.write(_manifest(SAML.replace("protocol: saml,", "protocol: saml-metadata,")))
    assert actions(await h.converge()) == {ACME: "no-op"}
    h.write(_manifest(OIDC_ROLES))
    plan = await h.plan()
    assert [c.path for c in plan.changes[0].changes if c.path == "protocol"] == ["protocol"]
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op"}, [c.changes for c in plan.changes]
    body = await _load(store)
    assert body["tenant"]["authType"] == "oidc"
    assert body["saml"]["idpMetadataUrl"]  # the SAML settings remain, and decide nothing


async def _set_directly(store: DescopeStore, path: str, body: dict[str, Any]) -> None:
    async with await _api(store) as api:
        r = await api.post(path, json=body)
    assert r.status_code == 200, r.text


async def test_saml_settings_the_manifest_does_not_manage_survive_an_apply(
    h: Harness, store: DescopeStore
) -> None:
    await h.apply()
    saml = store.config("T2acme").saml
    assert saml is not None
    now = dt.datetime.now(dt.UTC)
    extra_pem = make_pem("extra.okta.com", now, now + dt.timedelta(days=90))
    await _set_directly(
        store,
        "/v1/mgmt/sso/saml",
        {
            "tenantId": "T2acme",
            "redirectUrl": "https://app.example.com/acme",
            "domains": ["acme.com"],
            "settings": {
                "idpUrl": saml["idpUrl"],
                "entityId": saml["entityId"],
                "idpCert": saml["idpCert"],
                "idpAdditionalCerts": [extra_pem],
                "groupsPriority": ["admins", "staff"],
                "fgaMappings": {"admins": {"relations": [{"resource": "doc"}]}},
                "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            },
        },
    )
    assert actions(await h.plan()) == {ACME: "no-op"}
    h.write(_manifest(SAML.replace("/acme'", "/acme2'")))
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op"}
    read = (await _load(store))["saml"]
    assert read["redirectUrl"] == "https://app.example.com/acme2"
    assert read["idpAdditionalCertificates"] == [extra_pem]
    assert read["groupsPriority"] == ["admins", "staff"]
    assert read["fgaMappings"] == {"admins": {"relations": [{"resource": "doc"}]}}
    assert read["subjectNameIdFormat"].endswith("emailAddress")


async def test_oidc_settings_the_manifest_does_not_manage_survive_an_apply(
    h: Harness, store: DescopeStore
) -> None:
    h.write(_manifest(OIDC_ROLES))
    await h.apply()
    oidc = (await _load(store))["oidc"]
    kept = {
        "redirectUrl": "https://app.example.com/oidc-return",
        "grantType": "implicit",
        "prompt": ["login"],
        "callbackDomain": "auth.example.com",
        "manageProviderTokens": True,
    }
    settings = {
        k: oidc[k]
        for k in ("name", "clientId", "issuer", "authUrl", "tokenUrl", "scope", "groupsMapping")
    }
    await _set_directly(
        store,
        "/v1/mgmt/sso/oidc",
        {"tenantId": "T2acme", "domains": ["acme.com"], "settings": {**settings, **kept}},
    )
    h.write(_manifest(OIDC_ROLES.replace("[admins]", "[admins, owners]")))
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op"}
    oidc = (await _load(store))["oidc"]
    assert {k: oidc[k] for k in kept} == kept
    assert oidc["groupsMapping"][0]["groups"] == ["admins", "owners"]


async def test_the_manifest_can_manage_subject_format_and_groups_priority(
    h: Harness, store: DescopeStore
) -> None:
    fmt = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    h.write(
        _manifest(
            SAML.replace(
                "}", f", subject_name_id_format: '{fmt}', groups_priority: [admins, staff]}}"
            )
        )
    )
    assert actions(await h.converge()) == {ACME: "no-op"}
    read = (await _load(store))["saml"]
    assert (read["subjectNameIdFormat"], read["groupsPriority"]) == (fmt, ["admins", "staff"])


@pytest.mark.parametrize(
    ("project_id", "url"),
    [
        ("P2emulator", "https://api.descope.com"),
        ("Puse12aAbCdEfGhIjKlMnOpQrStUvWxYz0", "https://api.use1.descope.com"),
    ],
)
def test_api_host_follows_the_project_region(project_id: str, url: str) -> None:
    config = DescopeProvider.model_validate(
        {"type": "descope", "project_id": project_id, "management_key": {"env": "K"}}
    )
    assert DescopeDriver.base_url_for(config) == url


def test_base_url_override_still_wins() -> None:
    config = DescopeProvider.model_validate(
        {
            "type": "descope",
            "project_id": "Puse12aAbCdEfGhIjKlMnOpQrStUvWxYz0",
            "management_key": {"env": "K"},
            "base_url": "https://descope.internal.example",
        }
    )
    assert DescopeDriver.base_url_for(config) == "https://descope.internal.example"


class _WithoutAuthTypeCall:
    """The emulator, except that the experimental `authtype` call is refused as unknown."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/mgmt/sso/settings/authtype":
            self.refused += 1
            response = JSONResponse(
                {"errorCode": "E011404", "errorDescription": "Not found", "errorMessage": "?"},
                status_code=404,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def test_disabling_the_default_falls_back_to_tenant_settings(
    h: Harness, store: DescopeStore
) -> None:
    store.tenants["T2acme"].self_provisioning_domains = ["acme.com"]
    wrapped = _WithoutAuthTypeCall(create_app(store=store))
    h.apps["ds"] = wrapped  # type: ignore[assignment]
    await h.apply()
    h.write(_manifest(SAML.replace("}", ", enabled: false}")))
    plan = await h.converge()
    assert actions(plan) == {ACME: "no-op"}
    assert wrapped.refused == 1
    assert store.config("T2acme").auth_type == "none"
    assert store.config("T2acme").saml  # kept
    assert store.tenants["T2acme"].self_provisioning_domains == ["acme.com"]  # sent back


async def test_a_named_configuration_has_no_fallback(h: Harness, store: DescopeStore) -> None:
    h.apps["ds"] = _WithoutAuthTypeCall(create_app(store=store))  # type: ignore[assignment]
    h.write(_manifest(SAML.replace("}", ", sso_id: okta, display_name: Okta, enabled: false}")))
    result = await h.apply()
    assert not result.ok
    assert "no other published way" in str(result.failed)


async def test_the_manifest_can_manage_additional_certificates(
    h: Harness, store: DescopeStore, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    (tmp_path / "next.pem").write_text(make_pem("next.okta.com", now, now + dt.timedelta(days=9)))
    h.write(
        _manifest(SAML).replace(
            "      certificate: {file: idp.pem}\n",
            "      certificate: {file: idp.pem}\n"
            "      additional_certificates: [{file: next.pem}]\n",
        )
    )
    assert actions(await h.converge()) == {ACME: "no-op"}
    read = (await _load(store))["saml"]
    assert read["idpAdditionalCertificates"] == [(tmp_path / "next.pem").read_text().strip()]


async def test_the_manifest_can_manage_the_sp_keys_write_only(
    h: Harness, store: DescopeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SP_SIGN_KEY", "sp-sign-key-canary-1")
    h.write(_manifest(SAML.replace("}", ", sp_sign_key: {env: SP_SIGN_KEY}}")))
    assert actions(await h.converge()) == {ACME: "no-op"}
    saml = store.config("T2acme").saml
    assert saml is not None and "spSignKeySha256" in saml
    assert "sp-sign-key-canary-1" not in str(store.to_json())
    monkeypatch.setenv("SP_SIGN_KEY", "sp-sign-key-canary-2")
    plan = await h.plan()
    assert [(c.path, c.write_only) for c in plan.changes[0].changes] == [("sp_sign_key", "changed")]
    assert actions(await h.converge()) == {ACME: "no-op"}


async def test_a_disabled_configuration_holding_both_protocols_is_explained(
    h: Harness, store: DescopeStore
) -> None:
    await h.apply()
    h.write(_manifest(OIDC_ROLES[:-1] + ", enabled: false}"))
    await h.apply()
    plan = await h.plan()
    change = plan.changes[0]
    assert any("holds both SAML and OIDC" in n for n in change.notes), change.notes


async def test_import_proposes_groups_priority_and_name_id_format(
    h: Harness, store: DescopeStore
) -> None:
    fmt = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    h.write(_manifest(SAML[:-1] + f", subject_name_id_format: '{fmt}', groups_priority: [a]}}"))
    await h.apply()
    plan = await h.plan()
    assert actions(plan) == {ACME: "no-op"}
    live = plan.changes[0].before
    assert live is not None
    proposed = imported(Live("T2acme", "default", "default", live)).connection
    assert (proposed["subject_name_id_format"], proposed["groups_priority"]) == (fmt, ["a"])
