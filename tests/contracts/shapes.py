"""Checking recorded HTTP exchanges against the contract fixtures written from published sources.

A fixture (`<provider>/calls.json` here) lists each call a driver relies on: method, path template,
query parameters, the request body it may send and the answers it may get, each with the source
the fact came from. Shapes are a small language: `"string"`, `"boolean"`, `"integer"`,
`"object"` (any object), `"any"`, `{"ref": NAME}`, `{"nullable": SHAPE}`, `{"enum": [...]}`,
`{"array": SHAPE}`, `{"oneOf": [SHAPE, ...]}`, `"empty"` (no body) and
`{"properties": {...}, "required": [...]}` (no other keys allowed unless `"open": true`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HERE = Path(__file__).parent


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    answer: Any = None


@dataclass
class Recorder:
    """An ASGI app in front of an emulator that keeps every API exchange."""

    app: ASGIApp
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def state(self) -> Any:
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        answer: list[bytes] = []
        query = parse_qs(scope.get("query_string", b"").decode())
        exchange = Exchange(str(scope["method"]), path, query, None)

        async def recv() -> Message:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        async def snd(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = int(message["status"])
            elif message["type"] == "http.response.body":
                answer.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recv, snd)
        finally:
            raw = b"".join(chunks)
            exchange.body = json.loads(raw) if raw.strip() else None
            text = b"".join(answer)
            exchange.answer = json.loads(text) if text.strip() else None
            if exchange.status:
                self.exchanges.append(exchange)


def load(provider: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / provider / "calls.json").read_text())
    return data


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


def find_call(fixture: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    for call in fixture["calls"]:
        if call["method"] == exchange.method and _pattern(call["path"]).match(exchange.path):
            found: dict[str, Any] = call
            return found
    raise AssertionError(f"{exchange.method} {exchange.path}: no published call in the fixture")


def check(value: Any, shape: Any, shapes: dict[str, Any], where: str = "$") -> None:
    """Raise AssertionError where `value` does not have `shape`."""
    if shape == "any":
        return
    if shape == "empty":
        assert value is None, f"{where}: {value!r} where no body is published"
        return
    if isinstance(shape, str):
        kinds = {"string": str, "boolean": bool, "integer": int, "object": dict}
        ok = isinstance(value, kinds[shape]) and not (
            shape == "integer" and isinstance(value, bool)
        )
        assert ok, f"{where}: {value!r} is not {shape}"
        return
    if "ref" in shape:
        check(value, shapes[shape["ref"]], shapes, where)
    elif "nullable" in shape:
        if value is not None:
            check(value, shape["nullable"], shapes, where)
    elif "enum" in shape:
        assert value in shape["enum"], f"{where}: {value!r} not one of {shape['enum']}"
    elif "array" in shape:
        assert isinstance(value, list), f"{where}: {value!r} is not an array"
        for index, item in enumerate(value):
            check(item, shape["array"], shapes, f"{where}[{index}]")
    elif "oneOf" in shape:
        errors = []
        for option in shape["oneOf"]:
            try:
                check(value, option, shapes, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no option ({'; '.join(errors)})")
    else:
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        properties: dict[str, Any] = shape.get("properties", {})
        missing = set(shape.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {sorted(missing)}"
        if not shape.get("open"):
            extra = set(value) - set(properties)
            assert not extra, f"{where}: unpublished {sorted(extra)}"
        for name, item in value.items():
            if name in properties:
                check(item, properties[name], shapes, f"{where}.{name}")


def check_exchange(fixture: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    """The fixture call `exchange` is; asserts its request and answer have the published shapes."""
    call = find_call(fixture, exchange)
    shapes = fixture.get("shapes", {})
    where = f"{exchange.method} {exchange.path}"
    assert set(call.get("query", [])) >= set(exchange.query), f"{where}: query {exchange.query}"
    for name in call.get("required_query", []):
        assert name in exchange.query, f"{where}: no {name} in the query"
    request = call.get("request")
    if request is None:
        assert exchange.body is None, f"{where}: sends a body, none is published"
    else:
        check(exchange.body, request, shapes, f"{where} request")
        if "exactly" in call:
            assert set(exchange.body) == set(call["exactly"]), f"{where}: sends {exchange.body}"
    answers = call["responses"]
    assert str(exchange.status) in answers, f"{where}: answered {exchange.status}"
    check(exchange.answer, answers[str(exchange.status)], shapes, f"{where} -> {exchange.status}")
    return call
