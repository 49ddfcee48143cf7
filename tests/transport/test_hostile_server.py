"""A hostile HTTP server on a real socket (port 0), through httpx's real transport: a gzip bomb
and a body that trickles forever are both cut off, and the connection is closed."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from ssoform.drivers.http import ApiCaller
from ssoform.engine.limits import Budget
from ssoform.errors import DriverError
from ssoform.transport import MAX_BODY_BYTES, BudgetedTransport

Script = Callable[[asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def _serve(script: Script) -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            await script(writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def _caller(base: str, deadline: float) -> ApiCaller:
    transport = BudgetedTransport(
        httpx.AsyncHTTPTransport(retries=0),
        Budget("hostile", 1000, 60.0, 4),
        backoff=False,
        attempts=1,
        deadline=deadline,
    )
    return ApiCaller("hostile", httpx.AsyncClient(transport=transport, timeout=5.0), base)


async def test_a_gzip_bomb_from_a_real_server_stops_at_the_cap() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(block) for _ in range(40)) + packer.flush()

    async def script(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(bomb)
        )
        writer.write(bomb)
        await writer.drain()

    async with _serve(script) as base:
        with pytest.raises(DriverError, match=f"larger than {MAX_BODY_BYTES} bytes"):
            await _caller(base, 30.0).call("GET", "/things", call="list things")


async def test_a_body_trickling_from_a_real_server_ends_at_the_deadline() -> None:
    async def script(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        while True:  # a byte every 20 ms: no read ever times out
            writer.write(b"1\r\n \r\n")
            await writer.drain()
            await asyncio.sleep(0.02)

    async with _serve(script) as base:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(DriverError, match=r"within the 0\.3 s deadline|within the deadline"):
            await _caller(base, 0.3).call("GET", "/things", call="list things")
        assert loop.time() - started < 3.0
