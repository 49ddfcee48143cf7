"""Emulator of Vantage's managed-account SSO API (`https://api.vantage.sh/v2/managed_accounts`).

Contract: provider-apis.md §3 and §7.4; the state lives in `vantage_store`. Choices made where
the reference says [?] or [I]:

- Auth: `Authorization: Bearer <token>`; anything else → 401 `{"errors": ["Unauthorized"]}`.
  An optional `read_token` has the Read scope only: writes with it → 403
  `{"errors": ["Token lacks the write scope"]}`.
- Errors are `{"errors": ["<message>"]}` (no `links`). Unknown account → 404; malformed body,
  bad field types, invalid domains or URLs → 400; unknown path → 404, wrong method → 405.
  Unknown body fields are ignored (as Rails/Grape APIs do), so `type` on PUT is ignored too.
- SSO connection: POST when one exists → 400 `{"errors": ["SSO connection already exists"]}`
  (the wording is the emulator's: Vantage publishes only the `Errors` model);
  PUT or DELETE when none → 404 `{"errors": ["SSO connection not found"]}`. POST answers 201,
  PUT 200 (both the `ManagedAccount`), DELETE 204 with an empty body.
- `type` must be `"saml"`; `saml_metadata_url` must be an absolute http(s) URL. Domains are
  lower-cased and de-duplicated; `additional_domains` never holds the account's `email_domain`
  (it is dropped if sent: "always included", never duplicated). PUT with `additional_domains`
  replaces them; without it keeps them. Configuring SSO on an account without `email_domain` →
  400 (the account's SSO domain is always part of the connection). Domains are not checked
  across accounts.
- List: `limit` defaults to 100, must be 1..1000 (else 400); `page` starts at 1. `links` are
  full URLs carrying `page` and `limit`; `next`/`prev` are null on the last/first page, `last`
  is page 1 for an empty list. Accounts are listed in creation order.
- `POST /v2/managed_accounts` (201) needs `name` and `contact_email`; `PUT` changes only the
  fields sent. `parent_account_token` is the store's; tokens are `acct_` + 16 hex digits.
- Rate limit: one fixed window of `rate_limit` requests per `rate_window` seconds (default
  1,000 per hour, as Vantage documents for a whole account) for the whole emulator, counting
  every API request (also refused ones). Every answer of the API, errors included, carries
  `x-rate-limit-limit`, `x-rate-limit-remaining` and `x-rate-limit-reset` (Unix epoch seconds,
  rounded up); 429 `{"errors": ["Rate limit exceeded"]}` has no `Retry-After`. Injected 503s,
  drops and stalls sit in front of the API (before the window) and carry no rate headers.
- Ambiguous create: `POST .../sso_connection` and `POST /v2/managed_accounts` commit, then
  stall when `Emulator.ambiguous_create()` says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators.app import emulator_app
from ssoform.emulators.base import Emulator, RateWindow, after_create
from ssoform.emulators.fields import is_domain, is_http_url, json_object, normalise_domains
from ssoform.emulators.gate import Door, bearer_token
from ssoform.emulators.vantage_store import ManagedAccount, VantageStore

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "VantageError", "VantageStore", "create_app"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "access_credential_tokens": (list,),
    "billing_rule_tokens": (list,),
    "msp_billing_profile_token": (str, type(None)),
    "payment_terms_days": (int, type(None)),
    "include_managed_account_integrations": (bool, type(None)),
    "billing_information_attributes": (dict, type(None)),
    "business_information_attributes": (dict, type(None)),
}


class VantageError(Exception):
    """A refusal, answered as `{"errors": [message]}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _errors(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [message]}, status_code=status)


# -- request parsing ---------------------------------------------------------------------------
async def _body(request: Request) -> dict[str, Any]:
    try:
        return await json_object(request)
    except ValueError as exc:
        raise VantageError(400, str(exc)) from exc


def _store(request: Request) -> VantageStore:
    store: VantageStore = request.app.state.store
    return store


def _writable(request: Request) -> None:
    read_token: str | None = request.app.state.read_token
    if read_token is not None and bearer_token(request.headers) == read_token:
        raise VantageError(403, "Token lacks the write scope")


def _account(request: Request) -> ManagedAccount:
    account = _store(request).account(request.path_params["token"])
    if account is None:
        raise VantageError(404, "Managed account not found")
    return account


def _domains(body: dict[str, Any], name: str) -> list[str] | None:
    if body.get(name) is None:
        return None
    try:
        return normalise_domains(body[name], name)
    except ValueError as exc:
        raise VantageError(400, str(exc)) from exc


def _metadata_url(body: dict[str, Any], *, required: bool) -> str | None:
    value = body.get("saml_metadata_url")
    if value is None:
        if required:
            raise VantageError(400, "saml_metadata_url is required when type is saml")
        return None
    if not is_http_url(value):
        raise VantageError(400, "saml_metadata_url must be an http(s) URL")
    return str(value)


def _typed(value: object, types: tuple[type, ...]) -> bool:
    """`isinstance`, except that a JSON boolean is not an integer."""
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _account_fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The `ManagedAccount` fields of a create or update body, checked."""
    out: dict[str, Any] = {}
    for name in ("name", "contact_email"):
        if name in body:
            if not isinstance(body[name], str) or not body[name].strip():
                raise VantageError(400, f"{name} must be a non-empty string")
            out[name] = body[name]
        elif creating:
            raise VantageError(400, f"{name} is required")
    if "email_domain" in body:
        out["email_domain"] = _email_domain(body["email_domain"])
    for name, types in _OPTIONAL_FIELDS.items():
        if name in body:
            out[name] = _optional_field(name, body[name], types)
    return out


def _email_domain(domain: Any) -> Any:
    """An account's `email_domain` (lower-cased), or None; 400 when it is no domain."""
    if domain is None:
        return None
    domain = domain.strip().lower() if isinstance(domain, str) else domain
    if not is_domain(domain):
        raise VantageError(400, "email_domain is not a valid domain")
    return domain


def _optional_field(name: str, value: Any, types: tuple[type, ...]) -> Any:
    if not _typed(value, types):
        raise VantageError(400, f"{name} has the wrong type")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise VantageError(400, f"{name} must be an array of strings")
    return value


# -- managed accounts --------------------------------------------------------------------------
def _int_query(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise VantageError(400, f"{name} must be an integer") from exc


async def list_accounts(request: Request) -> Response:
    page = _int_query(request, "page", 1)
    limit = _int_query(request, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise VantageError(400, f"limit must be between 1 and {MAX_LIMIT}")
    if page < 1:
        raise VantageError(400, "page must be at least 1")
    store = _store(request)
    last = max(1, math.ceil(len(store.accounts) / limit))

    def link(number: int) -> str:
        return str(request.url.replace(query=urlencode({"page": number, "limit": limit})))

    links = {
        "self": link(page),
        "first": link(1),
        "next": link(page + 1) if page < last else None,
        "last": link(last),
        "prev": link(page - 1) if page > 1 else None,
    }
    accounts = [a.to_json() for a in store.page(page, limit)]
    return JSONResponse({"links": links, "managed_accounts": accounts})


async def get_account(request: Request) -> Response:
    return JSONResponse(_account(request).to_json())


async def create_account(request: Request) -> Response:
    _writable(request)
    values = _account_fields(await _body(request), creating=True)
    name, contact = values.pop("name"), values.pop("contact_email")
    account = _store(request).add_managed_account(name, contact, **values)
    await after_create(request)
    return JSONResponse(account.to_json(), status_code=201)


async def update_account(request: Request) -> Response:
    _writable(request)
    account = _account(request)
    values = _account_fields(await _body(request), creating=False)
    if "email_domain" in values:
        _store(request).set_email_domain(account.token, values.pop("email_domain"))
    for name, value in values.items():
        setattr(account, name, value)
    return JSONResponse(account.to_json())


# -- SSO connection ----------------------------------------------------------------------------
async def create_sso(request: Request) -> Response:
    _writable(request)
    account = _account(request)
    body = await _body(request)
    if body.get("type") is None:
        raise VantageError(400, "type is required")
    if body["type"] != "saml":
        raise VantageError(400, "type does not have a valid value (supported: saml)")
    url = _metadata_url(body, required=True)
    domains = _domains(body, "additional_domains")
    store = _store(request)
    if account.token in store.connections:
        raise VantageError(400, "SSO connection already exists")
    if not account.email_domain:
        raise VantageError(400, "Managed account has no email_domain to configure SSO for")
    store.put_sso_connection(account.token, saml_metadata_url=url, additional_domains=domains)
    await after_create(request)
    return JSONResponse(account.to_json(), status_code=201)


async def update_sso(request: Request) -> Response:
    _writable(request)
    account = _account(request)
    body = await _body(request)
    url = _metadata_url(body, required=False)
    domains = _domains(body, "additional_domains")
    store = _store(request)
    if account.token not in store.connections:
        raise VantageError(404, "SSO connection not found")
    store.put_sso_connection(account.token, saml_metadata_url=url, additional_domains=domains)
    return JSONResponse(account.to_json())


async def delete_sso(request: Request) -> Response:
    _writable(request)
    account = _account(request)
    if not _store(request).delete_sso_connection(account.token):
        raise VantageError(404, "SSO connection not found")
    return Response(status_code=204)


# -- control -----------------------------------------------------------------------------------
async def control_sso_connections(request: Request) -> Response:
    store = _store(request)
    return JSONResponse({token: store.sso_connection(token) for token in store.connections})


async def control_sso_connection(request: Request) -> Response:
    token = request.path_params["token"]
    connection = _store(request).sso_connection(token)
    if connection is None:
        return JSONResponse({"error": f"no SSO connection for {token}"}, status_code=404)
    return JSONResponse(connection)


# -- app ---------------------------------------------------------------------------------------
def _answer(exc: VantageError) -> Response:
    return _errors(exc.status, exc.message)


def _answer_http(exc: HTTPException) -> Response:
    return _errors(exc.status_code, str(exc.detail))


def _door(tokens: set[str], window: RateWindow, clock: Callable[[], float]) -> Door:
    def authorize(headers: Headers) -> Response | None:
        return None if bearer_token(headers) in tokens else _errors(401, "Unauthorized")

    def rate_headers(remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(math.ceil(clock() + reset_in)),
        }

    return Door(
        window=window,
        authorize=authorize,
        too_many=lambda _seconds: _errors(429, "Rate limit exceeded"),
        rate_headers=rate_headers,
        clock=clock,
    )


def create_app(
    *,
    token: str = "vantage-emulator-token",  # noqa: S107 - the emulator's well-known test token
    read_token: str | None = None,
    rate_limit: int = 1000,
    rate_window: float = 3600.0,
    store: VantageStore | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The Vantage emulator; `clock` (Unix seconds) drives the rate window and its headers."""
    emulator = Emulator("vantage")
    tokens = {token} if read_token is None else {token, read_token}
    door = _door(tokens, RateWindow(rate_limit, rate_window), clock)
    one = "/v2/managed_accounts/{token}"
    routes = [
        Route("/v2/managed_accounts", list_accounts, methods=["GET"]),
        Route("/v2/managed_accounts", create_account, methods=["POST"]),
        Route(one, get_account, methods=["GET"]),
        Route(one, update_account, methods=["PUT"]),
        Route(f"{one}/sso_connection", create_sso, methods=["POST"]),
        Route(f"{one}/sso_connection", update_sso, methods=["PUT"]),
        Route(f"{one}/sso_connection", delete_sso, methods=["DELETE"]),
    ]
    return emulator_app(
        emulator,
        door,
        routes,
        refusal=VantageError,
        answer=_answer,
        answer_http=_answer_http,
        extra_control=[
            Route("/_emulator/sso_connections", control_sso_connections, methods=["GET"]),
            Route("/_emulator/sso_connections/{token}", control_sso_connection, methods=["GET"]),
        ],
        store=store if store is not None else VantageStore(),
        read_token=read_token,
    )
