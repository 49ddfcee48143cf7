"""The transport against hostile answers: waits beyond the ceiling fail at once, every request
has an overall deadline, bodies are capped after decompression. Time is injected, never slept."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from clocks import ManualClock
from ssoform.commands.engine_options import max_wait_from_env
from ssoform.drivers.http import ApiCaller
from ssoform.engine.limits import Budget
from ssoform.errors import DriverError
from ssoform.transport import MAX_BODY_BYTES, BudgetedTransport

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Rig:
    api: ApiCaller
    clock: ManualClock
    budget: Budget
    seen: list[httpx.Request]


def rig(handler: Handler, *, max_wait: float = 300.0, deadline: float = 120.0) -> Rig:
    clock = ManualClock()
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    budget = Budget("cf", 1000, 60.0, 4, clock=clock)
    transport = BudgetedTransport(
        httpx.MockTransport(record),
        budget,
        backoff=False,
        max_wait=max_wait,
        deadline=deadline,
        clock=clock,
    )
    client = httpx.AsyncClient(transport=transport, follow_redirects=False)
    return Rig(ApiCaller("cf", client, "https://api.test"), clock, budget, seen)


async def test_retry_after_beyond_the_ceiling_fails_at_once() -> None:
    r = rig(lambda _r: httpx.Response(503, headers={"retry-after": "999999"}))
    with pytest.raises(DriverError) as caught:
        await r.api.call("GET", "/things", call="list things")
    assert "asked to wait 999999 s" in str(caught.value)
    assert "300 s ceiling (SSOFORM_MAX_WAIT)" in str(caught.value)
    assert str(caught.value).startswith("cf: list things: HTTP 503: ")
    assert len(r.seen) == 1 and r.clock.slept == []


async def test_a_429_beyond_the_ceiling_does_not_hold_the_budget() -> None:
    r = rig(lambda _r: httpx.Response(429, headers={"retry-after": "999999"}))
    with pytest.raises(DriverError, match="asked to wait 999999 s"):
        await r.api.call("POST", "/things", call="create thing")
    assert r.budget.bucket._log.paused_until == 0.0
    assert r.clock.slept == []


async def test_retry_after_within_the_ceiling_is_waited_exactly() -> None:
    answers = iter([httpx.Response(503, headers={"retry-after": "120"}), httpx.Response(200)])
    r = rig(lambda _r: next(answers))
    status, _ = await r.api.call("GET", "/things", call="list things")
    assert status == 200 and r.clock.slept == [120.0]


async def test_a_lower_ceiling_refuses_a_shorter_wait() -> None:
    r = rig(lambda _r: httpx.Response(503, headers={"retry-after": "61"}), max_wait=60)
    with pytest.raises(DriverError, match=r"asked to wait 61 s.*60 s ceiling"):
        await r.api.call("GET", "/things", call="list things")


@pytest.mark.parametrize(
    "headers",
    [
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "99999999999"},
        {"ratelimit": '"default";r=0;t=999999999'},
    ],
    ids=["x-rate-limit far reset", "RateLimit r=0 t=999999999"],
)
async def test_a_quota_spent_until_beyond_the_ceiling_fails_the_next_request(
    headers: dict[str, str],
) -> None:
    r = rig(lambda _r: httpx.Response(200, json={"ok": True}, headers=headers))
    status, body = await r.api.call("GET", "/things", call="list things")
    assert (status, body) == (200, {"ok": True})  # the answer that says so is still used
    with pytest.raises(DriverError, match=r"no request is left for \d+ s, longer than the 300 s"):
        await asyncio.wait_for(r.api.call("GET", "/things", call="list things"), 5)
    assert len(r.seen) == 1 and r.clock.slept == []


class Trickle(httpx.AsyncByteStream):
    """A body sent one byte at a time, `gap` seconds apart on the injected clock."""

    def __init__(self, clock: ManualClock, gap: float) -> None:
        self.clock = clock
        self.gap = gap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for byte in b'{"result": []}' * 100:
            self.clock.now += self.gap
            yield bytes([byte])


async def test_a_trickling_body_is_cut_off_by_the_overall_deadline() -> None:
    holder: list[ManualClock] = []
    r = rig(lambda _r: httpx.Response(200, stream=Trickle(holder[0], 5.0)), deadline=60)
    holder.append(r.clock)
    with pytest.raises(DriverError) as caught:
        await r.api.call("GET", "/things", call="list things")
    assert "did not arrive within the deadline" in str(caught.value)
    assert r.clock.now - 1_700_000_000.0 < 70  # stopped at the deadline, not at the end
    assert not caught.value.ambiguous  # a GET changes nothing


class Stall(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.Event().wait()  # never set
        yield b"}"  # pragma: no cover


async def test_a_stalled_answer_is_cut_off_by_the_deadline_on_the_loop_clock() -> None:
    r = rig(lambda _r: httpx.Response(200, stream=Stall()), deadline=0.05)
    message = r"no complete answer within the 0\.05 s deadline"
    with pytest.raises(DriverError, match=message) as caught:
        await r.api.call("PATCH", "/things/1", call="update thing")
    assert caught.value.ambiguous  # a write may have taken effect


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def _gzip_bomb(inflated: int) -> list[bytes]:
    """A gzip stream of `inflated` zero bytes, in 64 KiB pieces (300 MB makes about 300 KB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    packed = b"".join(packer.compress(block) for _ in range(inflated // len(block)))
    packed += packer.flush()
    return [packed[i : i + 65536] for i in range(0, len(packed), 65536)]


@pytest.mark.parametrize(
    "megabytes", [40, pytest.param(300, marks=pytest.mark.slow)], ids=["40 MB", "300 MB"]
)
async def test_a_gzip_bomb_is_capped_after_decompression(megabytes: int) -> None:
    chunks = _gzip_bomb(megabytes * 1024 * 1024)
    assert sum(map(len, chunks)) < megabytes * 1100  # about a thousandth of what it inflates to
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    r = rig(lambda _r: httpx.Response(200, stream=Chunks(chunks), headers=headers))
    tracemalloc.start()
    try:
        with pytest.raises(DriverError, match=f"larger than {MAX_BODY_BYTES} bytes"):
            await r.api.call("GET", "/things", call="list things")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_BODY_BYTES, peak


async def test_a_gzip_body_within_the_cap_is_decoded_once() -> None:
    body = gzip.compress(b'{"result": ["ok"]}')
    r = rig(
        lambda _r: httpx.Response(
            200, stream=Chunks([body[:5], body[5:]]), headers={"content-encoding": "gzip"}
        )
    )
    assert await r.api.call("GET", "/things", call="list things") == (200, {"result": ["ok"]})
    assert r.seen[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("coding", "message"),
    [("br", "unsupported content encoding 'br'"), ("gzip", "malformed gzip body")],
)
async def test_a_body_in_an_encoding_not_asked_for_is_refused(coding: str, message: str) -> None:
    headers = {"content-encoding": coding}
    r = rig(lambda _r: httpx.Response(200, stream=Chunks([b"junk"]), headers=headers))
    with pytest.raises(DriverError, match=message):
        await r.api.call("GET", "/things", call="list things")


def test_the_ceiling_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSOFORM_MAX_WAIT", raising=False)
    assert max_wait_from_env() == 300.0
    monkeypatch.setenv("SSOFORM_MAX_WAIT", "30")
    assert max_wait_from_env() == 30.0
    monkeypatch.setenv("SSOFORM_MAX_WAIT", "soon")
    with pytest.raises(Exception, match="SSOFORM_MAX_WAIT must be a number of seconds"):
        max_wait_from_env()


async def test_a_gzip_body_already_read_by_the_inner_transport_is_not_decoded_twice() -> None:
    body = gzip.compress(b'{"result": ["ok"]}')
    r = rig(lambda _r: httpx.Response(200, content=body, headers={"content-encoding": "gzip"}))
    assert await r.api.call("GET", "/things", call="list things") == (200, {"result": ["ok"]})
