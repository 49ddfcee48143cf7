"""The door of an emulated API: 429 bursts, the fixed rate window, and the credential check.

Each emulator describes its provider's door with a `Door` (how to authorise a request, what its
429 looks like, which rate headers go on every answer) and wraps its app in `GateMiddleware`.
Requests under `/_emulator/` pass straight through: the control routes are never limited.

Order at the door: an injected burst (`Emulator.take_burst()`) is answered first and does not use
the window; then the request counts in the window (whether or not its credentials are good); then
credentials are checked. Every answer, including the door's own, carries `Door.rate_headers`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ssoform.emulators.base import Emulator, RateWindow, passes_through

__all__ = ["Door", "GateMiddleware", "bearer_token", "retry_after_seconds"]

BURST_RETRY_AFTER = 1
"""Seconds a client is told to wait after an injected 429 burst."""


def _no_headers(remaining: int, reset_in: float) -> dict[str, str]:
    return {}


@dataclass
class Door:
    """How one provider guards its API."""

    window: RateWindow
    authorize: Callable[[Headers], Response | None]
    """Returns the provider's refusal, or None when the credentials are good."""
    too_many: Callable[[int], Response]
    """The provider's 429 answer, given the whole seconds to wait."""
    rate_headers: Callable[[int, float], dict[str, str]] = _no_headers
    """Headers for every answer, given (remaining, seconds until the window resets)."""
    clock: Callable[[], float] = field(default=time.monotonic)


def retry_after_seconds(reset_in: float) -> int:
    """Seconds rounded up, never below one."""
    return max(1, math.ceil(reset_in))


def bearer_token(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class GateMiddleware:
    """ASGI middleware applying a `Door` to every API request."""

    def __init__(self, app: ASGIApp, emulator: Emulator, door: Door) -> None:
        self.app = app
        self.emulator = emulator
        self.door = door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if passes_through(scope):
            await self.app(scope, receive, send)
            return
        door = self.door
        if self.emulator.take_burst():
            extra = door.rate_headers(0, float(BURST_RETRY_AFTER))
            await door.too_many(BURST_RETRY_AFTER)(scope, receive, _adding(send, extra))
            return
        allowed, remaining, reset_in = door.window.hit(door.clock())
        extra = door.rate_headers(remaining, reset_in)
        if not allowed:
            response = door.too_many(retry_after_seconds(reset_in))
            await response(scope, receive, _adding(send, extra))
            return
        refusal = door.authorize(Headers(scope=scope))
        if refusal is not None:
            await refusal(scope, receive, _adding(send, extra))
            return
        await self.app(scope, receive, _adding(send, extra))


def _adding(send: Send, extra: dict[str, str]) -> Send:
    if not extra:
        return send
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *encoded]}
        await send(message)

    return sending
