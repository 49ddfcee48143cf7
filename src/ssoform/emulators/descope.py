"""Emulator of Descope's tenant SSO management API (`/v1|v2/mgmt/sso/*`, `/v1/mgmt/tenant*`).

Contract: provider-apis.md §2 and §7.4; the state and read model live in `descope_store`.
Choices made where the reference says [?] or [I]:

- Auth: `Authorization: Bearer <projectId>:<managementKey>`; anything else → 401 with the
  invented code `E011401` ("Unauthorized"). `x-descope-project-id` is ignored.
- Errors are `{errorCode, errorDescription, errorMessage}`: `E011001` body is not a JSON object;
  `E011002` a required query parameter is missing; `E011003` a required body field is missing
  or empty ("Request is invalid", "The <name> field is required"); `E011004` invalid arguments
  (wrong type, unknown field, bad value, duplicate domain, existing tenant id or ssoId, an
  authType that is not configured). An unknown tenant or ssoId → **404** with `E011004`.
  Unknown path → 404 `E011404`, wrong method → 405 `E011405` (both invented). Rate limit →
  429 `E130429` with `Retry-After` (whole seconds, at least 1; 1 for injected bursts); one fixed
  window for the whole emulator counting every API request. No rate headers otherwise.
- Unknown fields are refused (E011004) at the top level and inside `settings`, so a driver that
  sends read-model names (`idpSSOUrl`) or deprecated casing (`redirectURL`) fails loudly. JSON
  `null` counts as absent. SDK extras are accepted: `entityId` on metadata settings,
  `phoneNumber` in attribute mappings. Attribute mapping keys outside the published set are
  dropped, as Descope drops them.
- OIDC role mappings are accepted as `groupsMapping` (go-sdk) or `roleMappings` (OpenAPI), not
  both, and always read back as `groupsMapping`.
- Required settings: SAML manual `idpUrl`, `entityId`, `idpCert`; SAML metadata
  `idpMetadataUrl`; OIDC `clientId`. `displayName` for `settings/new`, `name` for tenant create.
- Configure calls answer `200 {}`, are full replaces (omitted `domains`/`redirectUrl` reset
  them), set that configuration's `authType`, and keep the other protocol's settings stored.
  A configure call or `settings/new` against an unknown ssoId → 404 (create it first).
  Configure calls, `settings/new` and tenant create honour `Emulator.ambiguous_create()`.
- Domains: stored lower-cased and de-duplicated. Each SSO configuration (default or named) has
  its own domains; a domain may belong to one configuration in the whole project unless
  `allow_duplicate_domains`. In `LoadSSOSettingsResponse`, `tenant` is the published
  tenant-wide `Tenant` object, except that for a named configuration its `domains`/`authType`
  are that configuration's: INFERRED (Descope publishes no per-configuration place for them;
  the authtype call and per-`ssoId` `domains` exist, so they are stored per configuration).
  `GET /v1/mgmt/tenant` shows the union of all its configurations' domains and the default
  configuration's authType.
- `/v1/mgmt/sso/settings/authtype` refuses `saml`/`oidc` when that protocol was never configured.
- Deleting the default configuration resets it (authType `none`, no domains, new ACS URL);
  deleting a named one removes it. The generated `spACSUrl` changes on every recreation.
- SAML metadata mode: the IdP URL and certificate would be read from the metadata, which the
  emulator does not fetch, so `idpSSOUrl`/`idpCertificate` read back empty; `idpEntityId` is
  the `entityId` the SDK sent, if any. `spCertificate`/`spSignCertificate` read back empty.
- `groupsMapping[].role.id` is a stable id derived from the role name.
- `recalculate-mappings` answers `{"failedUsers": []}` (the real shape is unpublished).
- `GET|POST /v1/mgmt/tenant/settings` (query `id` / body `tenantId`) cover `domains` (the
  default configuration's), `selfProvisioningDomains`, `authType`, `enforceSSO`,
  `enforceSSOExclusions`; a POST changes only the fields it sends.
- The deprecated v1 SSO endpoints are not emulated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators.base import Emulator, FaultMiddleware, RateWindow
from ssoform.emulators.control import control_routes
from ssoform.emulators.descope_store import (
    DescopeError,
    DescopeStore,
    invalid,
    missing,
    secret_digest,
)
from ssoform.emulators.gate import Door, GateMiddleware, bearer_token
from ssoform.manifest.descope_keys import OIDC_ATTRIBUTE_KEYS, SAML_ATTRIBUTE_KEYS

__all__ = ["DescopeError", "DescopeStore", "create_app"]


# Settings schemas: field name → kind (see `_check`).
_SAML_COMMON = {
    "entityId": "str",
    "roleMappings": "roles",
    "attributeMapping": "saml_attrs",
    "defaultSSORoles": "strs",
    "groupsPriority": "strs",
    "fgaMappings": "map",
    "configFGATenantIDResourcePrefix": "str",
    "configFGATenantIDResourceSuffix": "str",
    "spEncryptionKey": "secret",
    "spSignKey": "secret",
    "subjectNameIdFormat": "str",
    "spACSUrl": "str",
    "spEntityId": "str",
    "disableSignRequest": "bool",
}
SAML_MANUAL = {**_SAML_COMMON, "idpUrl": "str", "idpCert": "str", "idpAdditionalCerts": "strs"}
SAML_METADATA = {**_SAML_COMMON, "idpMetadataUrl": "str"}
_OIDC_TEXT = """
name clientId redirectUrl authUrl tokenUrl userDataUrl JWKsUrl callbackDomain grantType issuer
providerID scimProviderID
"""
OIDC = {
    **dict.fromkeys(_OIDC_TEXT.split(), "str"),
    "clientSecret": "secret",
    "scope": "strs",
    "prompt": "strs",
    "userAttrMapping": "oidc_attrs",
    "manageProviderTokens": "bool",
    "groupsMapping": "groups",
    "roleMappings": "roles",
    "defaultSSORoles": "strs",
    "groupsPriority": "strs",
    "fgaMappings": "map",
}


# -- request parsing ---------------------------------------------------------------------------
async def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise DescopeError(400, "E011001", "Malformed request", "body is not JSON") from exc
    if not isinstance(body, dict):
        raise DescopeError(400, "E011001", "Malformed request", "body must be a JSON object")
    _refuse_unknown(body, allowed, "")
    return {k: v for k, v in body.items() if v is not None}


def _refuse_unknown(body: dict[str, Any], allowed: set[str] | dict[str, str], where: str) -> None:
    for name in body:
        if name not in allowed:
            raise invalid(f"unknown field {where}{name}")


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_role_mapping(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"groups", "roleName"}
        and isinstance(value.get("roleName"), str)
        and _is_strs(value.get("groups", []))
    )


def _is_groups_mapping(value: Any) -> bool:
    if not isinstance(value, dict) or not set(value) <= {"role", "groups"}:
        return False
    role = value.get("role")
    return (
        isinstance(role, dict)
        and set(role) <= {"id", "name"}
        and isinstance(role.get("name"), str)
        and bool(role["name"])
        and _is_strs(value.get("groups", []))
    )


def _is_attribute_mapping(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key == "customAttributes":
            if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
                return False
        elif not isinstance(item, str):
            return False
    return True


def _check(value: Any, kind: str, name: str) -> Any:
    """`value` if it is of `kind`, else E011004 (messages name fields, never echo values)."""
    if kind in ("str", "secret"):
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "strs":
        ok = _is_strs(value)
    elif kind == "map":
        ok = isinstance(value, dict)
    elif kind == "roles":
        ok = isinstance(value, list) and all(_is_role_mapping(m) for m in value)
    elif kind in ("saml_attrs", "oidc_attrs"):
        ok = _is_attribute_mapping(value)
    elif kind == "groups":
        ok = isinstance(value, list) and all(_is_groups_mapping(m) for m in value)
    else:
        ok = kind == "any"
    if not ok:
        raise invalid(f"{name} has the wrong type")
    if kind == "roles":
        return [{"groups": list(m.get("groups", [])), "roleName": m["roleName"]} for m in value]
    if kind == "groups":  # stored in the write shape of `roleMappings`
        return [{"groups": list(m.get("groups", [])), "roleName": m["role"]["name"]} for m in value]
    if kind in ("saml_attrs", "oidc_attrs"):
        known = SAML_ATTRIBUTE_KEYS if kind == "saml_attrs" else OIDC_ATTRIBUTE_KEYS
        return {k: v for k, v in value.items() if k in known or k == "customAttributes"}
    return value


def _settings(body: dict[str, Any], schema: dict[str, str], required: tuple[str, ...]) -> Any:
    raw = body.get("settings")
    if raw is None:
        raise missing("settings")
    if not isinstance(raw, dict):
        raise invalid("settings must be an object")
    _refuse_unknown(raw, schema, "settings.")
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        value = _check(value, schema[name], f"settings.{name}")
        if schema[name] == "secret":
            if value:
                clean[f"{name}Sha256"] = secret_digest(value)
        else:
            clean[name] = value
    for name in required:
        if not clean.get(name):
            raise missing(f"settings.{name}")
    return clean


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    if required and not value:
        raise missing(name)
    return value


def _domains(body: dict[str, Any], name: str = "domains") -> list[str]:
    value = body.get(name, [])
    return list(_check(value, "strs", name))


def _query(request: Request, name: str, *, required: bool = True) -> str:
    value = request.query_params.get(name, "")
    if required and not value:
        raise DescopeError(400, "E011002", "Missing arguments", f"{name} is required")
    return value


def _store(request: Request) -> DescopeStore:
    store: DescopeStore = request.app.state.store
    return store


async def _maybe_stall(request: Request) -> None:
    emulator: Emulator = request.app.state.emulator
    if emulator.ambiguous_create():
        await emulator.stall()


def _done() -> JSONResponse:
    return JSONResponse({})


# -- SSO settings ------------------------------------------------------------------------------
async def load_settings(request: Request) -> Response:
    tenant_id = _query(request, "tenantId")
    sso_id = _query(request, "ssoId", required=False)
    return JSONResponse(_store(request).load_settings(tenant_id, sso_id))


async def load_all_settings(request: Request) -> Response:
    store = _store(request)
    tenant = store.tenant(_query(request, "tenantId"))
    return JSONResponse(
        {"SSOSettings": [store.load_settings(tenant.id, s) for s in tenant.configs]}
    )


async def new_settings(request: Request) -> Response:
    body = await _body(request, {"tenantId", "ssoId", "displayName"})
    tenant_id = _text(body, "tenantId", required=True)
    display_name = _text(body, "displayName", required=True)
    store = _store(request)
    config = store.new_config(tenant_id, _text(body, "ssoId") or None, display_name)
    await _maybe_stall(request)
    return JSONResponse(store.load_settings(tenant_id, config.sso_id))


async def _configure_saml(request: Request, *, metadata: bool) -> Response:
    body = await _body(request, {"tenantId", "settings", "redirectUrl", "domains", "ssoId"})
    tenant_id = _text(body, "tenantId", required=True)
    if metadata:
        settings = _settings(body, SAML_METADATA, ("idpMetadataUrl",))
    else:
        settings = _settings(body, SAML_MANUAL, ("idpUrl", "entityId", "idpCert"))
    _store(request).configure_saml(
        tenant_id,
        _text(body, "ssoId"),
        settings=settings,
        metadata=metadata,
        redirect_url=_text(body, "redirectUrl"),
        domains=_domains(body),
    )
    await _maybe_stall(request)
    return _done()


async def configure_saml(request: Request) -> Response:
    return await _configure_saml(request, metadata=False)


async def configure_saml_metadata(request: Request) -> Response:
    return await _configure_saml(request, metadata=True)


async def configure_oidc(request: Request) -> Response:
    body = await _body(request, {"tenantId", "settings", "domains", "ssoId"})
    tenant_id = _text(body, "tenantId", required=True)
    settings = _settings(body, OIDC, ("clientId",))
    if "groupsMapping" in settings and "roleMappings" in settings:
        raise invalid("settings.groupsMapping and settings.roleMappings are exclusive")
    if "groupsMapping" in settings:
        settings["roleMappings"] = settings.pop("groupsMapping")
    _store(request).configure_oidc(
        tenant_id, _text(body, "ssoId"), settings=settings, domains=_domains(body)
    )
    await _maybe_stall(request)
    return _done()


async def configure_redirect(request: Request) -> Response:
    body = await _body(request, {"tenantId", "samlRedirectUrl", "oauthRedirectUrl", "ssoId"})
    tenant_id = _text(body, "tenantId", required=True)
    saml = _text(body, "samlRedirectUrl") if "samlRedirectUrl" in body else None
    oauth = _text(body, "oauthRedirectUrl") if "oauthRedirectUrl" in body else None
    _store(request).set_redirects(tenant_id, _text(body, "ssoId"), saml, oauth)
    return _done()


async def delete_settings(request: Request) -> Response:
    tenant_id = _query(request, "tenantId")
    _store(request).delete_config(tenant_id, _query(request, "ssoId", required=False))
    return _done()


async def set_auth_type(request: Request) -> Response:
    body = await _body(request, {"tenantId", "authType", "ssoId"})
    tenant_id = _text(body, "tenantId", required=True)
    auth_type = _text(body, "authType", required=True)
    _store(request).set_auth_type(tenant_id, _text(body, "ssoId"), auth_type)
    return _done()


async def recalculate_mappings(request: Request) -> Response:
    body = await _body(request, {"tenantId", "ssoId"})
    _store(request).config(_text(body, "tenantId", required=True), _text(body, "ssoId"))
    return JSONResponse({"failedUsers": []})


# -- tenants -----------------------------------------------------------------------------------
async def load_tenant(request: Request) -> Response:
    store = _store(request)
    return JSONResponse(store.tenant_view(store.tenant(_query(request, "id"))))


async def load_all_tenants(request: Request) -> Response:
    store = _store(request)
    return JSONResponse({"tenants": [store.tenant_view(t) for t in store.tenants.values()]})


async def create_tenant(request: Request) -> Response:
    body = await _body(request, {"id", "name", "selfProvisioningDomains"})
    tenant = _store(request).create_tenant(
        _text(body, "name", required=True),
        _text(body, "id") or None,
        _domains(body, "selfProvisioningDomains"),
    )
    await _maybe_stall(request)
    return JSONResponse({"id": tenant.id})


async def load_tenant_settings(request: Request) -> Response:
    tenant = _store(request).tenant(_query(request, "id"))
    return JSONResponse(
        {
            "domains": list(tenant.default.domains),
            "selfProvisioningDomains": list(tenant.self_provisioning_domains),
            "authType": tenant.default.auth_type,
            "enforceSSO": tenant.enforce_sso,
            "enforceSSOExclusions": list(tenant.enforce_sso_exclusions),
        }
    )


async def update_tenant_settings(request: Request) -> Response:
    fields = {"domains", "selfProvisioningDomains", "authType", "enforceSSO"}
    body = await _body(request, {"tenantId", "enforceSSOExclusions", *fields})
    store = _store(request)
    tenant = store.tenant(_text(body, "tenantId", required=True))
    # Check everything before changing anything.
    enforce = _check(body.get("enforceSSO", tenant.enforce_sso), "bool", "enforceSSO")
    domains = store.claim_domains(tenant.id, "", _domains(body)) if "domains" in body else None
    self_provisioning = _domains(body, "selfProvisioningDomains")
    exclusions = _domains(body, "enforceSSOExclusions")
    auth_type = _text(body, "authType") if "authType" in body else None
    if auth_type is not None:
        store.check_auth_type(tenant.id, "", auth_type)
    tenant.enforce_sso = enforce
    if domains is not None:
        tenant.default.domains = domains
    if "selfProvisioningDomains" in body:
        tenant.self_provisioning_domains = self_provisioning
    if "enforceSSOExclusions" in body:
        tenant.enforce_sso_exclusions = exclusions
    if auth_type is not None:
        tenant.default.auth_type = auth_type
    return _done()


# -- app ---------------------------------------------------------------------------------------
async def _on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DescopeError)
    return exc.response()


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        refusal = DescopeError(405, "E011405", "Method not allowed", "method not allowed")
        return refusal.response(headers=dict(exc.headers or {}))
    return DescopeError(exc.status_code, "E011404", "Not found", "route not found").response()


def _door(
    project_id: str, management_key: str, window: RateWindow, clock: Callable[[], float]
) -> Door:
    def authorize(headers: Headers) -> Response | None:
        if bearer_token(headers) == f"{project_id}:{management_key}":
            return None
        return DescopeError(
            401, "E011401", "Unauthorized", "Bearer <projectId>:<managementKey> required"
        ).response()

    def too_many(retry_after: int) -> Response:
        refusal = DescopeError(429, "E130429", "Rate limit exceeded", "too many requests")
        return refusal.response(headers={"Retry-After": str(retry_after)})

    return Door(window, authorize, too_many, clock=clock)


def create_app(
    *,
    project_id: str = "P2emulator",
    management_key: str = "descope-emulator-key",
    rate_limit: int = 100,
    rate_window: float = 60.0,
    allow_duplicate_domains: bool = False,
    store: DescopeStore | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The Descope emulator; `clock` (monotonic seconds) drives the rate window.

    A given `store` keeps its own project id and duplicate-domain flag.
    """
    emulator = Emulator("descope")
    door = _door(project_id, management_key, RateWindow(rate_limit, rate_window), clock)
    post = ["POST"]
    routes = [
        Route("/v2/mgmt/sso/settings", load_settings, methods=["GET"]),
        Route("/v2/mgmt/sso/settings/all", load_all_settings, methods=["GET"]),
        Route("/v1/mgmt/sso/settings/new", new_settings, methods=post),
        Route("/v1/mgmt/sso/saml", configure_saml, methods=post),
        Route("/v1/mgmt/sso/saml/metadata", configure_saml_metadata, methods=post),
        Route("/v1/mgmt/sso/oidc", configure_oidc, methods=post),
        Route("/v1/mgmt/sso/redirect", configure_redirect, methods=post),
        Route("/v1/mgmt/sso/settings", delete_settings, methods=["DELETE"]),
        Route("/v1/mgmt/sso/settings/authtype", set_auth_type, methods=post),
        Route("/v1/mgmt/sso/recalculate-mappings", recalculate_mappings, methods=post),
        Route("/v1/mgmt/tenant", load_tenant, methods=["GET"]),
        Route("/v1/mgmt/tenant/all", load_all_tenants, methods=["GET"]),
        Route("/v1/mgmt/tenant/create", create_tenant, methods=post),
        Route("/v1/mgmt/tenant/settings", load_tenant_settings, methods=["GET"]),
        Route("/v1/mgmt/tenant/settings", update_tenant_settings, methods=post),
        *control_routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(FaultMiddleware, emulator=emulator),
            Middleware(GateMiddleware, emulator=emulator, door=door),
        ],
        exception_handlers={DescopeError: _on_error, HTTPException: _on_http},
    )
    app.state.emulator = emulator
    app.state.store = (
        store
        if store is not None
        else DescopeStore(project_id, allow_duplicate_domains=allow_duplicate_domains)
    )
    return app
