"""What every provider emulator shares: fault injection, rate windows, a call log, the transport.

An emulator is a Starlette application built by `create_app(...)` in `emulators/<provider>.py`.
It is used in-process through `emulator_transport(app)` (an `httpx.AsyncBaseTransport`) or served
on a loopback port by `ssoform emulate`. Faults are controlled through the app's `Emulator`
object (`app.state.emulator`), which tests and benchmarks change between calls.
"""

from __future__ import annotations

import abc
import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "EmulatedDrop",
    "EmulatedStall",
    "Emulator",
    "FaultConfig",
    "FaultMiddleware",
    "JsonStore",
    "RateWindow",
    "after_create",
    "emulator_transport",
    "passes_through",
]


class EmulatedDrop(Exception):
    """Raised inside an app to drop the connection (in-process: httpx.RemoteProtocolError)."""


class EmulatedStall(Exception):
    """Raised inside an app to stall past the client's timeout (in-process: httpx.ReadTimeout)."""


@dataclass
class FaultConfig:
    """Faults an emulator injects. Shares are probabilities in [0, 1]; all default to none."""

    latency: float = 0.0
    """Seconds added before every answer."""
    error_rate: float = 0.0
    """Share of requests answered 503 before reaching the handler."""
    drop_rate: float = 0.0
    """Share of requests whose connection is dropped before an answer."""
    stall_rate: float = 0.0
    """Share of requests that stall past the client's timeout."""
    stall_seconds: float = 30.0
    """How long a served emulator stalls (in-process stalls are immediate timeouts)."""
    burst_429: int = 0
    """The next N requests are answered 429 (the provider's own shape); counts down."""
    commit_then_timeout_rate: float = 0.0
    """Share of creates that commit the object and then time out (the ambiguous create)."""
    seed: int | None = None


@dataclass
class RateWindow:
    """A fixed window of `limit` requests per `window` seconds, as the providers document."""

    limit: int
    window: float
    _start: float = field(default=0.0, init=False)
    _count: int = field(default=0, init=False)

    def hit(self, now: float | None = None) -> tuple[bool, int, float]:
        """Count one request. Returns (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic() if now is None else now
        if now - self._start >= self.window:
            self._start = now
            self._count = 0
        reset_in = max(0.0, self.window - (now - self._start))
        if self._count >= self.limit:
            return False, 0, reset_in
        self._count += 1
        return True, self.limit - self._count, reset_in


@dataclass
class Emulator:
    """The control surface of one emulator instance: faults, call counters, served or in-process."""

    name: str
    faults: FaultConfig = field(default_factory=FaultConfig)
    served: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    answers: Counter[int] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)

    def configure(self, faults: FaultConfig) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)  # noqa: S311 - fault dice, not crypto

    def roll(self, share: float) -> bool:
        return share > 0 and self.rng.random() < share

    def take_burst(self) -> bool:
        if self.faults.burst_429 > 0:
            self.faults.burst_429 -= 1
            return True
        return False

    async def stall(self) -> None:
        """Stall past the client timeout: sleep when served, raise when in-process."""
        if self.served:
            await asyncio.sleep(self.faults.stall_seconds)
        raise EmulatedStall

    def ambiguous_create(self) -> bool:
        """Whether this create, after committing, should fail as a timeout."""
        return self.roll(self.faults.commit_then_timeout_rate)

    def reset_counters(self) -> None:
        self.calls.clear()
        self.answers.clear()


class JsonStore(abc.ABC):
    """An emulator's state, saved and restored as JSON (the sandbox and `/_emulator/state`)."""

    @abc.abstractmethod
    def to_json(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def load_json(self, data: dict[str, Any]) -> None: ...

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        store = cls()
        store.load_json(data)
        return store


async def after_create(request: Request) -> None:
    """A create has committed: stall past the client's timeout when the app's emulator rolls an
    ambiguous create (`FaultConfig.commit_then_timeout_rate`)."""
    emulator: Emulator = request.app.state.emulator
    if emulator.ambiguous_create():
        await emulator.stall()


def passes_through(scope: Scope) -> bool:
    """Whether a request skips the fault and gate middleware: not HTTP, or a control route."""
    return scope["type"] != "http" or str(scope.get("path", "")).startswith("/_emulator")


class FaultMiddleware:
    """ASGI middleware: counts calls, adds latency, injects 503s, drops and stalls.

    Provider-specific 429 bursts are injected by each emulator (their shapes differ); this
    middleware handles what is the same everywhere.
    """

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if passes_through(scope):
            await self.app(scope, receive, send)
            return
        emu = self.emulator
        emu.calls[f"{scope['method']} {scope['path']}"] += 1
        faults = emu.faults
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if emu.roll(faults.drop_rate):
            await _drop(send, emu.served)
            return
        if emu.roll(faults.stall_rate):
            await emu.stall()
        if emu.roll(faults.error_rate):
            emu.answers[503] += 1
            await _plain(send, 503, b'{"error": "service unavailable (injected)"}')
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                emu.answers[int(message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send, served: bool) -> None:
    if served:
        # Start a response that promises a body, then abort: the server closes the socket.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
    raise EmulatedDrop


class _EmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except EmulatedDrop as exc:
            message = "connection dropped (injected)"
            raise httpx.RemoteProtocolError(message, request=request) from exc
        except EmulatedStall as exc:
            raise httpx.ReadTimeout("read timed out (injected stall)", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def emulator_transport(app: Any) -> httpx.AsyncBaseTransport:
    """An httpx transport that runs requests through `app` in-process, mapping injected faults."""
    return _EmulatorTransport(app)
