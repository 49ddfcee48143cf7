"""Fetching an IdP's document: https only, no redirects, bounded in size and time."""

from __future__ import annotations

import asyncio
import gzip
import resource
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from ssoform.idp.fetch import FetchLimits, IdpFetchError, check_url, fetch_document, shown_url

URL = "https://i.example/m"


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def _fetch(
    handler: Callable[[httpx.Request], httpx.Response], url: str, deadline: float = 5.0
) -> bytes:
    async with _client(handler) as client:
        limits = FetchLimits(max_bytes=1024, deadline=deadline)
        return await fetch_document(client, url, limits, accept="application/xml")


@pytest.mark.parametrize(
    "url",
    ["https://idp.example/m", "http://127.0.0.1:8080/m", "http://[::1]/m", "http://localhost/m"],
)
def test_https_and_literal_loopback_are_allowed(url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://idp.example/m", "only https is allowed"),
        ("http://idp.localhost/m", "only https is allowed"),
        ("http://127.0.0.1.example.com/m", "only https is allowed"),
        ("ftp://idp.example/m", "only https is allowed"),
        ("https:///m", "names no host"),
    ],
)
def test_other_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(IdpFetchError, match=why):
        check_url(url)


def test_shown_url_drops_query_and_user_info() -> None:
    shown = shown_url("https://user:pw@idp.example:8443/app/metadata?token=s3cr3t#x")
    assert shown == "https://idp.example:8443/app/metadata"


async def test_a_200_answer_is_returned() -> None:
    assert await _fetch(
        lambda _r: httpx.Response(200, content=b"<ok/>"), "https://i.example/m"
    ) == (b"<ok/>")


async def test_a_redirect_to_another_host_is_refused_naming_it() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://evil.example/steal?token=x"})

    with pytest.raises(IdpFetchError) as caught:
        await _fetch(handler, "https://idp.example/m?token=s3cr3t")
    message = str(caught.value)
    assert message == (
        "https://idp.example/m: answered HTTP 302, a redirect to evil.example "
        "(redirects are refused: give the final URL)"
    )
    assert "s3cr3t" not in message and "\n" not in message


async def test_an_error_status_is_one_line() -> None:
    with pytest.raises(IdpFetchError, match=r"^https://i\.example/m: answered HTTP 503$"):
        await _fetch(lambda _r: httpx.Response(503, text="x" * 5000), "https://i.example/m")


async def test_a_declared_oversize_body_is_refused_before_reading() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(50 * 1024 * 1024)}, content=b"")

    with pytest.raises(IdpFetchError, match="larger than 1024 bytes"):
        await _fetch(handler, "https://i.example/m")


async def test_a_50_mb_stream_is_cut_at_the_cap() -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(50 * 1024):  # 50 MB in 1 KB chunks, no length declared
            sent += 1024
            yield b"<" * 1024

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    with pytest.raises(IdpFetchError, match="larger than 1024 bytes"):
        await _fetch(handler, "https://i.example/m")
    assert sent <= 4 * 1024  # stopped reading right after the cap


async def test_a_slow_body_is_cut_at_the_deadline() -> None:
    never = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"<EntityDescriptor"
        await never.wait()  # the rest never comes
        yield b"/>"

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    with pytest.raises(IdpFetchError, match=r"no complete answer within 0\.05 s"):
        await _fetch(handler, "https://i.example/m", deadline=0.05)


async def test_a_connection_error_is_one_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("boom", request=request)

    with pytest.raises(
        IdpFetchError, match=r"^https://i\.example/m: cannot be fetched \(ConnectError\)$"
    ):
        await _fetch(handler, "https://i.example/m?k=1")


async def test_a_gzip_body_is_decoded_and_a_gzip_bomb_cut_at_the_cap() -> None:
    small = gzip.compress(b"<EntityDescriptor/>")
    headers = {"content-encoding": "gzip"}
    ok = await _fetch(lambda _r: httpx.Response(200, content=small, headers=headers), URL)
    assert ok == b"<EntityDescriptor/>"
    bomb = gzip.compress(b" " * (50 * 1024 * 1024))  # 50 MB in about 50 KB

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(bomb), 16384):
            yield bomb[start : start + 16384]

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(IdpFetchError, match="larger than 1024 bytes"):
        await _fetch(lambda _r: httpx.Response(200, content=streamed(), headers=headers), URL)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB


async def test_an_unknown_or_broken_encoding_is_one_line() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"not gzip at all"

    def answer(encoding: str) -> Callable[[httpx.Request], httpx.Response]:
        return lambda _r: httpx.Response(
            200, content=body(), headers={"content-encoding": encoding}
        )

    with pytest.raises(IdpFetchError, match="unsupported content encoding 'br'"):
        await _fetch(answer("br"), URL)
    with pytest.raises(IdpFetchError, match="the gzip body cannot be decoded"):
        await _fetch(answer("gzip"), URL)
