"""The `/_emulator/` control routes every emulator serves (no auth, never rate limited).

- `GET /_emulator/state` → the store as JSON; `PUT /_emulator/state` replaces it.
- `GET /_emulator/faults` → the fault configuration; `PUT /_emulator/faults` sets it from a JSON
  object of `FaultConfig` fields (unknown fields or wrong types → 400).
- `GET /_emulator/stats` → call and answer counters; `DELETE /_emulator/stats` resets them.

Control errors are `{"error": "<message>"}` with status 400; they are not in any provider's shape.
The app must hold its `Emulator` in `app.state.emulator` and its store in `app.state.store`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ssoform.emulators.base import Emulator, FaultConfig

__all__ = ["ControlError", "JsonStore", "control_routes", "faults_from_json", "faults_to_json"]


class ControlError(ValueError):
    """A control request that cannot be applied."""


class JsonStore(Protocol):
    def to_json(self) -> dict[str, Any]: ...

    def load_json(self, data: dict[str, Any]) -> None: ...


def faults_to_json(faults: FaultConfig) -> dict[str, Any]:
    return dataclasses.asdict(faults)


def faults_from_json(data: object) -> FaultConfig:
    """A `FaultConfig` from a JSON object; raises ControlError on unknown fields or bad types."""
    if not isinstance(data, dict):
        raise ControlError("faults must be a JSON object")
    known = {f.name: f for f in dataclasses.fields(FaultConfig)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            raise ControlError(f"unknown fault field {name!r}")
        if name == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ControlError("seed must be an integer or null")
        elif name == "burst_429":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ControlError("burst_429 must be a non-negative integer")
        elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ControlError(f"{name} must be a non-negative number")
        values[name] = value
    return FaultConfig(**values)


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise ControlError("body is not JSON") from exc


def _problem(exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _get_state(request: Request) -> Response:
    store: JsonStore = request.app.state.store
    return JSONResponse(store.to_json())


async def _put_state(request: Request) -> Response:
    store: JsonStore = request.app.state.store
    try:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ControlError("state must be a JSON object")
        store.load_json(body)
    except (ControlError, KeyError, TypeError, ValueError) as exc:
        return _problem(exc)
    return JSONResponse(store.to_json())


async def _get_faults(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    return JSONResponse(faults_to_json(emulator.faults))


async def _put_faults(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    try:
        emulator.configure(faults_from_json(await _json_body(request)))
    except ControlError as exc:
        return _problem(exc)
    return JSONResponse(faults_to_json(emulator.faults))


async def _get_stats(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    return JSONResponse(
        {
            "calls": dict(emulator.calls),
            "answers": {str(status): n for status, n in emulator.answers.items()},
        }
    )


async def _reset_stats(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    emulator.reset_counters()
    return Response(status_code=204)


def control_routes() -> list[BaseRoute]:
    """The shared `/_emulator/` routes; an emulator may add its own beside them."""
    return [
        Route("/_emulator/state", _get_state, methods=["GET"]),
        Route("/_emulator/state", _put_state, methods=["PUT"]),
        Route("/_emulator/faults", _get_faults, methods=["GET"]),
        Route("/_emulator/faults", _put_faults, methods=["PUT"]),
        Route("/_emulator/stats", _get_stats, methods=["GET"]),
        Route("/_emulator/stats", _reset_stats, methods=["DELETE"]),
    ]
