"""One bounded GET of an identity provider's document: https only (plain http on literal
loopback), no redirects, a size cap counted while streaming, and one deadline for it all.

Errors are `IdpFetchError` with a one-line message naming the URL without its query string
(metadata URLs sometimes carry tokens there); a provider's body is never echoed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ssoform.errors import SsoformError

__all__ = ["MAX_BYTES", "FetchLimits", "IdpFetchError", "fetch_document", "shown_url"]

MAX_BYTES = 2 * 1024 * 1024
"""Larger than any real metadata document (Entra's federation metadata is under 100 KB)."""


class IdpFetchError(SsoformError):
    """An identity provider's document could not be fetched (the message is one line)."""


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = MAX_BYTES
    deadline: float = 15.0
    """Seconds for connecting, the answer and the whole body together."""


def shown_url(url: str) -> str:
    """The URL as it may be shown: scheme, host and path, never the query or user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Refuse anything but https (or http to a literal loopback address or `localhost`)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port
    except ValueError:
        raise IdpFetchError(f"{shown_url(url)}: not a valid URL") from None
    if not host:
        raise IdpFetchError(f"{shown_url(url)}: the URL names no host")
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return
    raise IdpFetchError(f"{shown_url(url)}: only https is allowed (plain http on loopback only)")


async def fetch_document(
    client: httpx.AsyncClient, url: str, limits: FetchLimits, *, accept: str
) -> bytes:
    """The body of `url` (a 200 answer), within `limits`; raises IdpFetchError."""
    check_url(url)
    where = shown_url(url)
    try:
        async with asyncio.timeout(limits.deadline):
            return await _get(client, url, where, limits, accept)
    except TimeoutError:
        raise IdpFetchError(f"{where}: no complete answer within {limits.deadline:g} s") from None
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
        raise IdpFetchError(f"{where}: cannot be fetched ({reason})") from None


async def _get(
    client: httpx.AsyncClient, url: str, where: str, limits: FetchLimits, accept: str
) -> bytes:
    request = client.build_request(
        "GET", url, headers={"Accept": accept, "Accept-Encoding": "gzip, identity"}
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        if response.is_redirect:
            target = response.headers.get("location", "")
            host = urlsplit(target).hostname or "the same host"
            raise IdpFetchError(
                f"{where}: answered HTTP {response.status_code}, a redirect to {host} "
                "(redirects are refused: give the final URL)"
            )
        if response.status_code != 200:
            raise IdpFetchError(f"{where}: answered HTTP {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raise _too_large(where, limits)
        return await _body(response, where, limits)
    finally:
        await response.aclose()


async def _body(response: httpx.Response, where: str, limits: FetchLimits) -> bytes:
    """The body, decompressed here (never more than the cap plus one byte at a time, so a gzip
    bomb costs no memory), counted against the cap after decompression."""
    if response.is_stream_consumed:  # an in-process answer built from bytes: read already
        if len(response.content) > limits.max_bytes:
            raise _too_large(where, limits)
        return response.content
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise IdpFetchError(f"{where}: unsupported content encoding {encoding[:40]!r}")
    decoder = None if encoding in ("", "identity") else zlib.decompressobj(wbits=47)
    body = bytearray()
    try:
        async for raw in response.aiter_raw():
            pending = raw
            while pending:
                if decoder is None:
                    body += pending
                    pending = b""
                else:
                    body += decoder.decompress(pending, limits.max_bytes + 1 - len(body))
                    pending = decoder.unconsumed_tail
                if len(body) > limits.max_bytes:
                    raise _too_large(where, limits)
        if decoder is not None:
            body += decoder.flush()
    except zlib.error:
        raise IdpFetchError(f"{where}: the {encoding} body cannot be decoded") from None
    if len(body) > limits.max_bytes:
        raise _too_large(where, limits)
    return bytes(body)


def _too_large(where: str, limits: FetchLimits) -> IdpFetchError:
    return IdpFetchError(f"{where}: the document is larger than {limits.max_bytes} bytes")
