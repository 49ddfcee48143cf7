"""Emulator of Cloudflare's dashboard SSO connectors API, `/client/v4/accounts/{id}/sso_connectors`.

Contract: docs/reference provider-apis.md §1 and §7.4. Routes are the real paths under
`/client/v4`, so a driver only swaps its base URL. Choices made where the reference says [?] or [I]:

- Auth: `Authorization: Bearer <token>` only. A missing, malformed or wrong token → 400, code
  6003 "Invalid request headers" with `error_chain` [6111 "Invalid format for Authorization
  header"], the shape Cloudflare answers a bad token with. The token is good for every account.
- Every well-formed account id (32 lower-case hex) exists and starts empty. A malformed account
  or connector id → 400, code 7003 "Could not route to <path>, perhaps your object identifier is
  invalid?". An unknown path → 404, code 7003 "No route for the URI"; a wrong method → 405,
  code 7001 "Method not allowed for this route".
- Error codes the provider does not publish (all 400 unless noted), see `Code`:
  1001 body is not a JSON object; 1002 a field is missing, of the wrong type or unknown (with
  `source.pointer`); 1003 connector not found (404); 1004 the account already has a connector for
  this email domain; 1005 the email domain is refused (public mail providers, `.edu`);
  1006 enabling a connector that is not `verified`; 1007 the domain is enabled in another account;
  1009 begin_verification on a `verified` connector; 10429 rate limited (429).
- An enabled connector can be deleted as it is: nothing Cloudflare publishes requires disabling
  first (the Terraform provider deletes directly).
- `email_domain` is stored lower-cased and must be an ASCII (punycode) host name with a dot.
- begin_verification restarts `awaiting`/`failed` → `pending`, leaves `pending` as it is, keeps
  the verification code, and refuses `verified` (1009).
- `set_verification` (test hook) changes the status only; an enabled connector stays enabled.
- PATCH answers with `result` as an object (the schema) when it enables or changes the FedRAMP
  wording, and as an array of the one connector when it disables, as the dashboard SSO guide's
  disable example shows; a driver must read both. `updated_on` moves only when a value changes.
- Lists leave `verification` out of enabled, verified connectors: the guide's list example of an
  enabled connector has none (the schema makes every field optional).
- Rate limit: one fixed window (`RateWindow`) for the whole emulator, counting every API request
  including refused ones. When exceeded, every call gets 429 until the window resets (the real
  API blocks for 5 minutes from the excess). Headers on every API answer:
  `Ratelimit: "default";r=<remaining>;t=<whole seconds to reset>` and
  `Ratelimit-Policy: "default";q=<limit>;w=<window seconds>`; `retry-after` (whole seconds, at
  least 1) on 429. Injected bursts answer the same 429 with `retry-after: 1`.
- Creates honour `Emulator.ambiguous_create()`: the connector is committed, then the call stalls.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ssoform.emulators.app import emulator_app
from ssoform.emulators.base import Emulator, RateWindow, after_create
from ssoform.emulators.cloudflare_store import (
    PUBLIC_MAIL_DOMAINS,
    CloudflareError,
    CloudflareStore,
    Code,
    Connector,
    failure,
    invalid,
)
from ssoform.emulators.gate import Door, bearer_token

__all__ = [
    "PUBLIC_MAIL_DOMAINS",
    "CloudflareError",
    "CloudflareStore",
    "Code",
    "Connector",
    "create_app",
]

PREFIX = "/client/v4/accounts/{account_id}/sso_connectors"
_HEX32 = re.compile(r"[0-9a-f]{32}")


# -- request handling --------------------------------------------------------------------------
def _ok(result: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"success": True, "errors": [], "messages": [], "result": result, **extra})


def _ids(request: Request) -> tuple[str, str | None]:
    account_id = request.path_params["account_id"]
    connector_id = request.path_params.get("connector_id")
    if not _HEX32.fullmatch(account_id) or (
        connector_id is not None and not _HEX32.fullmatch(connector_id)
    ):
        raise CloudflareError(
            400,
            Code.NO_ROUTE,
            f"Could not route to {request.url.path}, perhaps your object identifier is invalid?",
        )
    return account_id, connector_id


async def _body(request: Request, fields: dict[str, type]) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise CloudflareError(400, Code.MALFORMED_BODY, "Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise CloudflareError(400, Code.MALFORMED_BODY, "Request body must be a JSON object")
    for name, value in body.items():
        if name not in fields:
            raise invalid(f"/{name}", f"Unknown field {name}")
        if not isinstance(value, fields[name]):
            kind = "a boolean" if fields[name] is bool else "a string"
            raise invalid(f"/{name}", f"{name} must be {kind}")
    return body


def _store(request: Request) -> CloudflareStore:
    store: CloudflareStore = request.app.state.store
    return store


async def list_connectors(request: Request) -> Response:
    account_id, _ = _ids(request)
    found = [_listed(c) for c in _store(request).list(account_id)]
    info = {"page": 1, "per_page": len(found), "count": len(found), "total_count": len(found)}
    return _ok(found, result_info=info)


def _listed(connector: Connector) -> dict[str, Any]:
    """A connector as lists show it: an enabled, verified one without `verification` (as in the
    guide's list example); any other keeps it, so a seeded enabled-but-unverified one shows."""
    item = connector.to_api()
    if connector.enabled and connector.verification_status == "verified":
        del item["verification"]
    return item


async def get_connector(request: Request) -> Response:
    account_id, connector_id = _ids(request)
    assert connector_id is not None
    return _ok(_store(request).get(account_id, connector_id).to_api())


async def create_connector(request: Request) -> Response:
    account_id, _ = _ids(request)
    body = await _body(
        request, {"email_domain": str, "begin_verification": bool, "use_fedramp_language": bool}
    )
    if "email_domain" not in body:
        raise invalid("/email_domain", "email_domain is required")
    connector = _store(request).create(
        account_id,
        body["email_domain"],
        begin_verification=body.get("begin_verification", True),
        use_fedramp_language=body.get("use_fedramp_language", False),
    )
    await after_create(request)
    return _ok(connector.to_api())


async def update_connector(request: Request) -> Response:
    account_id, connector_id = _ids(request)
    assert connector_id is not None
    body = await _body(request, {"enabled": bool, "use_fedramp_language": bool})
    connector = _store(request).update(
        account_id,
        connector_id,
        enabled=body.get("enabled"),
        use_fedramp_language=body.get("use_fedramp_language"),
    )
    if body.get("enabled") is False:  # the guide's disable example answers an array
        return _ok([connector.to_api()])
    return _ok(connector.to_api())


async def delete_connector(request: Request) -> Response:
    account_id, connector_id = _ids(request)
    assert connector_id is not None
    _store(request).delete(account_id, connector_id)
    return _ok({"id": connector_id})


async def begin_verification(request: Request) -> Response:
    account_id, connector_id = _ids(request)
    assert connector_id is not None
    _store(request).begin_verification(account_id, connector_id)
    return JSONResponse({"success": True, "errors": [], "messages": []})


async def control_verification(request: Request) -> Response:
    """`POST /_emulator/verification` `{account_id, email_domain, status}`."""
    try:
        body = json.loads(await request.body())
        connector = _store(request).set_verification(
            body["account_id"], body["email_domain"], body["status"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(connector.to_api())


def _answer(exc: CloudflareError) -> Response:
    return exc.response()


def _answer_http(exc: HTTPException) -> Response:
    if exc.status_code == 405:
        error = {
            "code": int(Code.METHOD_NOT_ALLOWED),
            "message": "Method not allowed for this route",
        }
        return failure(405, error, headers=exc.headers)
    return failure(exc.status_code, {"code": int(Code.NO_ROUTE), "message": "No route for the URI"})


def _door(token: str, window: RateWindow, clock: Callable[[], float]) -> Door:
    def authorize(headers: Headers) -> Response | None:
        if bearer_token(headers) != token:
            chain = {
                "code": int(Code.INVALID_AUTHORIZATION),
                "message": "Invalid format for Authorization header",
            }
            error = {
                "code": int(Code.INVALID_HEADERS),
                "message": "Invalid request headers",
                "error_chain": [chain],
            }
            return failure(400, error)
        return None

    def too_many(retry_after: int) -> Response:
        error = {
            "code": int(Code.RATE_LIMITED),
            "message": "Rate limited. Please wait and consider throttling your request speed",
        }
        return failure(429, error, headers={"retry-after": str(retry_after)})

    def rate_headers(remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "Ratelimit": f'"default";r={remaining};t={math.ceil(reset_in)}',
            "Ratelimit-Policy": f'"default";q={window.limit};w={math.ceil(window.window)}',
        }

    return Door(window, authorize, too_many, rate_headers, clock)


def create_app(
    *,
    token: str = "cf-emulator-token",  # noqa: S107 - the emulator's well-known test token
    rate_limit: int = 1200,
    rate_window: float = 300.0,
    store: CloudflareStore | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The Cloudflare emulator; `clock` (monotonic seconds) drives the rate window."""
    emulator = Emulator("cloudflare")
    door = _door(token, RateWindow(rate_limit, rate_window), clock)
    routes = [
        Route(PREFIX, list_connectors, methods=["GET"]),
        Route(PREFIX, create_connector, methods=["POST"]),
        Route(PREFIX + "/{connector_id}", get_connector, methods=["GET"]),
        Route(PREFIX + "/{connector_id}", update_connector, methods=["PATCH"]),
        Route(PREFIX + "/{connector_id}", delete_connector, methods=["DELETE"]),
        Route(PREFIX + "/{connector_id}/begin_verification", begin_verification, methods=["POST"]),
        Route("/_emulator/verification", control_verification, methods=["POST"]),
    ]
    return emulator_app(
        emulator,
        door,
        routes,
        refusal=CloudflareError,
        answer=_answer,
        answer_http=_answer_http,
        store=store if store is not None else CloudflareStore(),
    )
