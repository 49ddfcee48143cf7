"""Emulator of PandaStack's "Developers API" SSO endpoints (`https://api.pandastack.io/api/v1/sso`).

Contract: provider-apis.md §5 and §7.4; the state lives in `pandastack_store`. The documented
contract is thin, so nearly everything here is a choice:

- Auth: `Authorization: Bearer psk_<64 lower-case hex>`. A missing header or a token not of
  that form → 401 `{"message": "Invalid API token format"}`; a well-formed unknown token → 401
  `{"message": "Invalid API token"}`. `token` may act on every organization unless
  `token_organizations` names it; that mapping gives further tokens the organization ids they
  may use. A token used for another organization → 403 `{"message": "Forbidden"}`.
- Every API call needs the query parameter `organization_id` (any non-empty string) → 400
  `{"message": "organization_id query parameter is required"}`. Checks run: 401, 400
  organization, 403, 400 body or id, 404.
- The API is an opaque JSON document store per organization. Answers wrap their payload in
  `{"data": ...}` and are 200:
  - `GET /api/v1/sso/` → `{"data": [document, ...]}` in creation order;
  - `POST /api/v1/sso/` with any JSON object → `{"data": document}`; the server adds `id`
    (24 hex digits) and `organization_id` (the query's; client values for both are ignored);
  - `GET /api/v1/sso/single/{id}` (also `?id=`) → `{"data": document}`;
  - `POST /api/v1/sso/update` with `{"id": ..., <keys to change>}` (or `?id=`) → the merged
    `{"data": document}`: top-level keys replace the stored ones (null stores null);
  - `DELETE /api/v1/sso/{id}` (also `?id=` or a body `{"id": ...}`) →
    `{"data": {"id": ..., "deleted": true}}`.
  The id in the path follows PandaStack's sibling routes (`/project/single/:id`,
  `DELETE /project/:id`); the SSO page itself documents none. A create's documented field is
  `slug` (`length` is documented too, meaning unknown); documents are kept as sent.
  `/api/v1/sso` without the trailing slash is served too. Missing `id` → 400, an id unknown in
  that organization → 404 `{"message": "SSO provider not found"}`, a body that is not a JSON
  object → 400, unknown path → 404, wrong method → 405 (all `{"message": ...}`).
- Secrets: keys named `*secret*`, `*password*`, `*token`, `*private_key` or `*api_key` (any
  case, `_`/`-` ignored, at any depth) are stored only as `<key>_sha256` / `<key>Sha256`
  digests and read back as the mask `********`; null and boolean values are kept as they are.
- 500 is never produced by the emulator itself; server errors come from the injected 503s.
- Rate limit (undocumented): one fixed window, default 100 requests per 60 s for the whole
  emulator, counting every API request; 429 `{"message": "Too many requests"}` with
  `Retry-After` (whole seconds, ≥ 1; 1 for injected bursts). No rate headers otherwise.
- `POST /api/v1/sso/` honours `Emulator.ambiguous_create()`: commit, then stall.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators.app import emulator_app
from ssoform.emulators.base import Emulator, RateWindow, after_create
from ssoform.emulators.fields import json_object
from ssoform.emulators.gate import Door, bearer_token
from ssoform.emulators.pandastack_store import PandaStackStore, public

__all__ = ["DEFAULT_TOKEN", "PandaStackError", "PandaStackStore", "create_app", "is_token"]

DEFAULT_TOKEN = "psk_" + "0123456789abcdef" * 4
_TOKEN = re.compile(r"psk_[0-9a-f]{64}")


def is_token(value: str | None) -> bool:
    """Whether `value` has the form of a PandaStack API token (`psk_` + 64 hex digits)."""
    return value is not None and _TOKEN.fullmatch(value) is not None


class PandaStackError(Exception):
    """A refusal, answered as `{"message": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def _store(request: Request) -> PandaStackStore:
    store: PandaStackStore = request.app.state.store
    return store


def _organization(request: Request) -> str:
    """The `organization_id` of the query, after the 400 and 403 checks."""
    organization = request.query_params.get("organization_id", "").strip()
    if not organization:
        raise PandaStackError(400, "organization_id query parameter is required")
    grants: dict[str, frozenset[str] | None] = request.app.state.grants
    allowed = grants[str(bearer_token(request.headers))]
    if allowed is not None and organization not in allowed:
        raise PandaStackError(403, "Forbidden")
    return organization


async def _body(request: Request) -> dict[str, Any]:
    try:
        return await json_object(request)
    except ValueError as exc:
        raise PandaStackError(400, str(exc)) from exc


def _id(request: Request, body: dict[str, Any] | None = None) -> str:
    value = (
        request.path_params.get("id") or (body or {}).get("id") or request.query_params.get("id")
    )
    if not isinstance(value, str) or not value:
        raise PandaStackError(400, "id is required")
    return value


def _found(document: dict[str, Any] | None) -> JSONResponse:
    if document is None:
        raise PandaStackError(404, "SSO provider not found")
    return JSONResponse({"data": public(document)})


# -- routes ------------------------------------------------------------------------------------
async def list_providers(request: Request) -> Response:
    documents = _store(request).documents(_organization(request))
    return JSONResponse({"data": [public(d) for d in documents]})


async def create_provider(request: Request) -> Response:
    organization = _organization(request)
    document = _store(request).create(organization, await _body(request))
    await after_create(request)
    return JSONResponse({"data": public(document)})


async def get_provider(request: Request) -> Response:
    organization = _organization(request)
    return _found(_store(request).get(organization, _id(request)))


async def update_provider(request: Request) -> Response:
    organization = _organization(request)
    body = await _body(request)
    return _found(_store(request).update(organization, _id(request, body), body))


async def delete_provider(request: Request) -> Response:
    organization = _organization(request)
    body = await _body(request) if await request.body() else {}
    doc_id = _id(request, body)
    if not _store(request).delete(organization, doc_id):
        raise PandaStackError(404, "SSO provider not found")
    return JSONResponse({"data": {"id": doc_id, "deleted": True}})


# -- app ---------------------------------------------------------------------------------------
def _answer(exc: PandaStackError) -> Response:
    return _message(exc.status, exc.message)


def _answer_http(exc: HTTPException) -> Response:
    return _message(exc.status_code, str(exc.detail))


def _door(tokens: Collection[str], window: RateWindow, clock: Callable[[], float]) -> Door:
    def authorize(headers: Headers) -> Response | None:
        token = bearer_token(headers)
        if not is_token(token):
            return _message(401, "Invalid API token format")
        return None if token in tokens else _message(401, "Invalid API token")

    def too_many(seconds: int) -> Response:
        return _message(429, "Too many requests", {"Retry-After": str(seconds)})

    return Door(window=window, authorize=authorize, too_many=too_many, clock=clock)


def create_app(
    *,
    token: str = DEFAULT_TOKEN,
    token_organizations: Mapping[str, Collection[str]] | None = None,
    rate_limit: int = 100,
    rate_window: float = 60.0,
    store: PandaStackStore | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The PandaStack emulator; `clock` (seconds) drives the rate window.

    `token` may use every organization; `token_organizations` maps other tokens (or `token`
    itself, to restrict it) to the organization ids they may use. Tokens must be well-formed.
    """
    grants: dict[str, frozenset[str] | None] = {token: None}
    grants.update({t: frozenset(orgs) for t, orgs in (token_organizations or {}).items()})
    malformed = [t for t in grants if not is_token(t)]
    if malformed:
        raise ValueError(f"{len(malformed)} token(s) are not psk_ + 64 hex digits")
    emulator = Emulator("pandastack")
    door = _door(set(grants), RateWindow(rate_limit, rate_window), clock)
    routes = [
        *(
            route
            for root in ("/api/v1/sso/", "/api/v1/sso")
            for route in (
                Route(root, list_providers, methods=["GET"]),
                Route(root, create_provider, methods=["POST"]),
                Route(root, delete_provider, methods=["DELETE"]),
            )
        ),
        Route("/api/v1/sso/single", get_provider, methods=["GET"]),
        Route("/api/v1/sso/single/{id}", get_provider, methods=["GET"]),
        Route("/api/v1/sso/update", update_provider, methods=["POST"]),
        Route("/api/v1/sso/{id}", delete_provider, methods=["DELETE"]),
    ]
    return emulator_app(
        emulator,
        door,
        routes,
        refusal=PandaStackError,
        answer=_answer,
        answer_http=_answer_http,
        store=store if store is not None else PandaStackStore(),
        grants=grants,
    )
