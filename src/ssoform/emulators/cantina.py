"""Emulator of Cantina's company SSO API (`https://cantina.xyz/api/v0/companies/{id}/sso-*`).

Contract: provider-apis.md §4 and §7.4; the state lives in `cantina_store`. Choices made where
the reference says [?] or [I]:

- Auth: `Authorization: Bearer <API key>`; a missing or unknown key → 401 `{"msg": "Unauthorized"}`.
  `api_key` is an admin with `manage_companies` (every company) unless `manager_companies` names
  it; `manager_companies` maps further keys to the company ids their manager manages. A key
  that may not act on a company → 403. Each key acts as one user (`createdBy`): a stable UUID
  derived from the key's position (never from the key), `avatar` a URL, `disabledAt` null.
- Errors are `{"msg": "<message>"}`. Order of checks: 401 key, 400 `company_id` not a UUID,
  404 unknown company, 403 not its manager, 400 body, 400 domain conflicts.
- Create (both endpoints) answers **201**. All create fields are required: `provider`
  (`okta`|`entra`), `providerBaseUrl` (absolute http(s) URL; for Okta not the `-admin` host),
  `clientId` and `clientSecret` (non-empty strings), `domains` (non-empty array of domain
  names, lower-cased and de-duplicated). Unknown fields are ignored.
- `clientSecret` reads back as the fixed mask `********` (reveals nothing, not even its
  length); the store keeps only `clientSecretSha256`.
- Domains are unique across all connections of all companies and may not be an enforcement
  rule's domain (and vice versa) → 400. A company manager (not an admin) may only claim domains
  listed in the company's `verified_email_domains` (stand-in for "at least one verified company
  user email") → 400 otherwise.
- Enforcement rule answer: `{id, companyId, domain, createdAt, createdBy}` with `createdBy` the
  same user object as a connection's. Rules cannot be listed through the API (none documented).
- No update or delete: other methods on the collections → 405 `{"msg": "Method Not Allowed"}`;
  any `/sso-connections/{id}` path → 404 `{"msg": "Not Found"}`.
- List: a bare array in creation order, no pagination.
- Rate limit (undocumented): one fixed window, default 60 requests per 60 s for the whole
  emulator, counting every API request; 429 `{"msg": "Too many requests"}` with `Retry-After`
  (whole seconds, ≥ 1; 1 for injected bursts). No rate headers on other answers.
- Creates honour `Emulator.ambiguous_create()`: commit, then stall. Timestamps come from `clock`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators.app import emulator_app
from ssoform.emulators.base import Emulator, RateWindow, after_create
from ssoform.emulators.cantina_store import CantinaConflict, CantinaStore, Company
from ssoform.emulators.fields import (
    is_domain,
    is_http_url,
    iso_time,
    json_object,
    normalise_domains,
    sha256_hex,
)
from ssoform.emulators.gate import Door, bearer_token

__all__ = ["PROVIDERS", "ApiKey", "CantinaError", "CantinaStore", "create_app"]

PROVIDERS = ("okta", "entra")
_USERS = uuid.UUID("6f1d8a52-3c59-4a57-9f0e-0c4e8d7b2a11")
"""Namespace of the emulated users' ids."""


class CantinaError(Exception):
    """A refusal, answered as `{"msg": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ApiKey:
    """Who a key acts as: its user and the companies it manages (None: every company)."""

    user: dict[str, Any]
    companies: frozenset[str] | None

    @property
    def admin(self) -> bool:
        return self.companies is None


def _keys(api_key: str, manager_companies: Mapping[str, Collection[str]]) -> dict[str, ApiKey]:
    grants: dict[str, frozenset[str] | None] = {api_key: None}
    grants.update({key: frozenset(ids) for key, ids in manager_companies.items()})
    keys: dict[str, ApiKey] = {}
    for n, (key, companies) in enumerate(grants.items()):
        role = "admin" if companies is None else "manager"
        username = f"emulator-{role}-{n}"
        user = {
            "userId": str(uuid.uuid5(_USERS, str(n))),
            "name": f"Emulator {role.title()} {n}",
            "username": username,
            "avatar": f"https://cantina.xyz/avatars/{username}.png",
            "disabledAt": None,
        }
        keys[key] = ApiKey(user, companies)
    return keys


def _msg(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"msg": message}, status_code=status, headers=headers)


# -- request parsing ---------------------------------------------------------------------------
def _store(request: Request) -> CantinaStore:
    store: CantinaStore = request.app.state.store
    return store


def _company(request: Request) -> tuple[Company, ApiKey]:
    """The path's company and the caller, after the 400/404/403 checks."""
    raw = request.path_params["company_id"]
    try:
        company_id = str(uuid.UUID(raw))
    except ValueError as exc:
        raise CantinaError(400, "company_id must be a UUID") from exc
    company = _store(request).companies.get(company_id)
    if company is None:
        raise CantinaError(404, "Company not found")
    keys: dict[str, ApiKey] = request.app.state.keys
    caller = keys[str(bearer_token(request.headers))]
    if caller.companies is not None and company.id not in caller.companies:
        raise CantinaError(403, "Requires a company manager or the manage_companies permission")
    return company, caller


async def _body(request: Request) -> dict[str, Any]:
    try:
        return await json_object(request)
    except ValueError as exc:
        raise CantinaError(400, str(exc)) from exc


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise CantinaError(400, f"{name} is required")
    if not isinstance(value, str) or not value.strip():
        raise CantinaError(400, f"{name} must be a non-empty string")
    return value


def _provider_base_url(provider: str, value: str) -> str:
    if not is_http_url(value):
        raise CantinaError(400, "providerBaseUrl must be an http(s) URL")
    host = urlsplit(value).hostname or ""
    if provider == "okta" and host.split(".")[0].endswith("-admin"):
        raise CantinaError(400, "providerBaseUrl must be the Okta domain, not its -admin domain")
    return value


def _check_verified(company: Company, caller: ApiKey, domains: list[str]) -> None:
    if caller.admin:
        return
    for domain in domains:
        if domain not in company.verified_email_domains:
            raise CantinaError(400, f"Domain {domain} has no verified company user email")


def _now(request: Request) -> str:
    clock: Callable[[], float] = request.app.state.clock
    return iso_time(clock())


# -- routes ------------------------------------------------------------------------------------
async def list_connections(request: Request) -> Response:
    company, _ = _company(request)
    return JSONResponse([c.to_api() for c in _store(request).connections_of(company.id)])


async def create_connection(request: Request) -> Response:
    company, caller = _company(request)
    body = await _body(request)
    provider = _text(body, "provider")
    if provider not in PROVIDERS:
        raise CantinaError(400, f"provider must be one of {', '.join(PROVIDERS)}")
    base_url = _provider_base_url(provider, _text(body, "providerBaseUrl"))
    client_id = _text(body, "clientId")
    secret = _text(body, "clientSecret")
    if body.get("domains") is None:
        raise CantinaError(400, "domains is required")
    try:
        domains = normalise_domains(body["domains"], "domains")
    except ValueError as exc:
        raise CantinaError(400, str(exc)) from exc
    if not domains:
        raise CantinaError(400, "domains must not be empty")
    _check_verified(company, caller, domains)
    try:
        connection = _store(request).create_connection(
            company.id,
            provider=provider,
            provider_base_url=base_url,
            client_id=client_id,
            client_secret_sha256=sha256_hex(secret),
            domains=domains,
            user=caller.user,
            now=_now(request),
        )
    except CantinaConflict as exc:
        raise CantinaError(400, str(exc)) from exc
    await after_create(request)
    return JSONResponse(connection.to_api(), status_code=201)


async def create_rule(request: Request) -> Response:
    company, caller = _company(request)
    body = await _body(request)
    domain = _text(body, "domain").strip().lower().rstrip(".")
    if not is_domain(domain):
        raise CantinaError(400, "domain is not a valid domain")
    _check_verified(company, caller, [domain])
    try:
        rule = _store(request).create_rule(company.id, domain, user=caller.user, now=_now(request))
    except CantinaConflict as exc:
        raise CantinaError(400, str(exc)) from exc
    await after_create(request)
    return JSONResponse(rule.to_json(), status_code=201)


# -- app ---------------------------------------------------------------------------------------
def _answer(exc: CantinaError) -> Response:
    return _msg(exc.status, exc.message)


def _answer_http(exc: HTTPException) -> Response:
    return _msg(exc.status_code, str(exc.detail))


def _door(keys: Collection[str], window: RateWindow, clock: Callable[[], float]) -> Door:
    def authorize(headers: Headers) -> Response | None:
        return None if bearer_token(headers) in keys else _msg(401, "Unauthorized")

    def too_many(seconds: int) -> Response:
        return _msg(429, "Too many requests", {"Retry-After": str(seconds)})

    return Door(window=window, authorize=authorize, too_many=too_many, clock=clock)


def create_app(
    *,
    api_key: str = "cantina-emulator-key",
    manager_companies: Mapping[str, Collection[str]] | None = None,
    rate_limit: int = 60,
    rate_window: float = 60.0,
    store: CantinaStore | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The Cantina emulator; `clock` (Unix seconds) drives the rate window and timestamps.

    `api_key` may act on every company; `manager_companies` maps other keys (or `api_key`
    itself, to demote it) to the ids of the companies they manage.
    """
    emulator = Emulator("cantina")
    keys = _keys(api_key, manager_companies or {})
    door = _door(set(keys), RateWindow(rate_limit, rate_window), clock)
    company = "/api/v0/companies/{company_id}"
    routes = [
        Route(f"{company}/sso-connections", list_connections, methods=["GET"]),
        Route(f"{company}/sso-connections", create_connection, methods=["POST"]),
        Route(f"{company}/sso-enforcement-rules", create_rule, methods=["POST"]),
    ]
    return emulator_app(
        emulator,
        door,
        routes,
        refusal=CantinaError,
        answer=_answer,
        answer_http=_answer_http,
        store=store if store is not None else CantinaStore(),
        keys=keys,
        clock=clock,
    )
