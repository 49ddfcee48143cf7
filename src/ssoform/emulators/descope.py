"""Emulator of Descope's tenant SSO management API (`/v1|v2/mgmt/sso/*`, `/v1/mgmt/tenant*`).

Contract: provider-apis.md §2 and §7.4; the state lives in `descope_store`, the read model in
`descope_views`, request parsing and the settings schemas in `descope_requests`.
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

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators import descope_requests as req
from ssoform.emulators.app import emulator_app
from ssoform.emulators.base import Emulator, RateWindow, after_create
from ssoform.emulators.descope_store import DescopeError, DescopeStore, invalid
from ssoform.emulators.descope_views import tenant_view
from ssoform.emulators.gate import Door, bearer_token

__all__ = ["DescopeError", "DescopeStore", "create_app"]


def _store(request: Request) -> DescopeStore:
    store: DescopeStore = request.app.state.store
    return store


def _done() -> JSONResponse:
    return JSONResponse({})


# -- SSO settings ------------------------------------------------------------------------------
async def load_settings(request: Request) -> Response:
    tenant_id = req.query(request, "tenantId")
    sso_id = req.query(request, "ssoId", required=False)
    return JSONResponse(_store(request).load_settings(tenant_id, sso_id))


async def load_all_settings(request: Request) -> Response:
    store = _store(request)
    tenant = store.tenant(req.query(request, "tenantId"))
    return JSONResponse(
        {"SSOSettings": [store.load_settings(tenant.id, s) for s in tenant.configs]}
    )


async def new_settings(request: Request) -> Response:
    body = await req.json_body(request, {"tenantId", "ssoId", "displayName"})
    tenant_id = req.text(body, "tenantId", required=True)
    display_name = req.text(body, "displayName", required=True)
    store = _store(request)
    config = store.new_config(tenant_id, req.text(body, "ssoId") or None, display_name)
    await after_create(request)
    return JSONResponse(store.load_settings(tenant_id, config.sso_id))


async def _configure_saml(request: Request, *, metadata: bool) -> Response:
    body = await req.json_body(request, {"tenantId", "settings", "redirectUrl", "domains", "ssoId"})
    tenant_id = req.text(body, "tenantId", required=True)
    if metadata:
        settings = req.settings(body, req.SAML_METADATA, ("idpMetadataUrl",))
    else:
        settings = req.settings(body, req.SAML_MANUAL, ("idpUrl", "entityId", "idpCert"))
    _store(request).configure_saml(
        tenant_id,
        req.text(body, "ssoId"),
        settings=settings,
        metadata=metadata,
        redirect_url=req.text(body, "redirectUrl"),
        domains=req.domains(body),
    )
    await after_create(request)
    return _done()


async def configure_saml(request: Request) -> Response:
    return await _configure_saml(request, metadata=False)


async def configure_saml_metadata(request: Request) -> Response:
    return await _configure_saml(request, metadata=True)


async def configure_oidc(request: Request) -> Response:
    body = await req.json_body(request, {"tenantId", "settings", "domains", "ssoId"})
    tenant_id = req.text(body, "tenantId", required=True)
    settings = req.settings(body, req.OIDC, ("clientId",))
    if "groupsMapping" in settings and "roleMappings" in settings:
        raise invalid("settings.groupsMapping and settings.roleMappings are exclusive")
    if "groupsMapping" in settings:
        settings["roleMappings"] = settings.pop("groupsMapping")
    _store(request).configure_oidc(
        tenant_id, req.text(body, "ssoId"), settings=settings, domains=req.domains(body)
    )
    await after_create(request)
    return _done()


async def configure_redirect(request: Request) -> Response:
    body = await req.json_body(
        request, {"tenantId", "samlRedirectUrl", "oauthRedirectUrl", "ssoId"}
    )
    tenant_id = req.text(body, "tenantId", required=True)
    saml = req.text(body, "samlRedirectUrl") if "samlRedirectUrl" in body else None
    oauth = req.text(body, "oauthRedirectUrl") if "oauthRedirectUrl" in body else None
    _store(request).set_redirects(tenant_id, req.text(body, "ssoId"), saml, oauth)
    return _done()


async def delete_settings(request: Request) -> Response:
    tenant_id = req.query(request, "tenantId")
    _store(request).delete_config(tenant_id, req.query(request, "ssoId", required=False))
    return _done()


async def set_auth_type(request: Request) -> Response:
    body = await req.json_body(request, {"tenantId", "authType", "ssoId"})
    tenant_id = req.text(body, "tenantId", required=True)
    auth_type = req.text(body, "authType", required=True)
    _store(request).set_auth_type(tenant_id, req.text(body, "ssoId"), auth_type)
    return _done()


async def recalculate_mappings(request: Request) -> Response:
    body = await req.json_body(request, {"tenantId", "ssoId"})
    _store(request).config(req.text(body, "tenantId", required=True), req.text(body, "ssoId"))
    return JSONResponse({"failedUsers": []})


# -- tenants -----------------------------------------------------------------------------------
async def load_tenant(request: Request) -> Response:
    store = _store(request)
    return JSONResponse(tenant_view(store.tenant(req.query(request, "id"))))


async def load_all_tenants(request: Request) -> Response:
    store = _store(request)
    return JSONResponse({"tenants": [tenant_view(t) for t in store.tenants.values()]})


async def create_tenant(request: Request) -> Response:
    body = await req.json_body(request, {"id", "name", "selfProvisioningDomains"})
    tenant = _store(request).create_tenant(
        req.text(body, "name", required=True),
        req.text(body, "id") or None,
        req.domains(body, "selfProvisioningDomains"),
    )
    await after_create(request)
    return JSONResponse({"id": tenant.id})


async def load_tenant_settings(request: Request) -> Response:
    tenant = _store(request).tenant(req.query(request, "id"))
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
    body = await req.json_body(request, {"tenantId", "enforceSSOExclusions", *fields})
    store = _store(request)
    tenant = store.tenant(req.text(body, "tenantId", required=True))
    # Check everything before changing anything.
    enforce = req.check(body.get("enforceSSO", tenant.enforce_sso), "bool", "enforceSSO")
    domains = store.claim_domains(tenant.id, "", req.domains(body)) if "domains" in body else None
    self_provisioning = req.domains(body, "selfProvisioningDomains")
    exclusions = req.domains(body, "enforceSSOExclusions")
    auth_type = req.text(body, "authType") if "authType" in body else None
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
def _answer(exc: DescopeError) -> Response:
    return exc.response()


def _answer_http(exc: HTTPException) -> Response:
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
    ]
    return emulator_app(
        emulator,
        door,
        routes,
        refusal=DescopeError,
        answer=_answer,
        answer_http=_answer_http,
        store=(
            store
            if store is not None
            else DescopeStore(project_id, allow_duplicate_domains=allow_duplicate_domains)
        ),
    )
