"""Reading an answer's body within bounds: size counted after decompression, time by a deadline.

A gzip body of 300 KB can inflate to 300 MB, so the cap applies to the decoded bytes: the raw
stream is read (capped too) and inflated here in steps that never produce more than the cap. Only
the encodings ssoform asks for (`gzip`, `deflate`) are accepted. A body trickling a byte every few
seconds passes every per-read timeout; the overall deadline of the request ends it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import httpx

from ssoform.transport.refusals import DeadlineExceeded

__all__ = ["ACCEPT_ENCODING", "MAX_BODY_BYTES", "decoded_headers", "read_body"]

MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest answer ssoform reads, in decoded bytes."""
ACCEPT_ENCODING = "gzip, deflate"


def _too_large() -> httpx.DecodingError:
    return httpx.DecodingError(f"response body larger than {MAX_BODY_BYTES} bytes")


class _Decoder:
    """Inflates one content coding, never producing more than the cap in total."""

    def __init__(self, coding: str) -> None:
        if coding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
        else:
            raise httpx.DecodingError(f"unsupported content encoding {coding[:40]!r}")
        self._coding = coding
        self._produced = 0

    def feed(self, data: bytes) -> bytes:
        room = MAX_BODY_BYTES + 1 - self._produced
        try:
            out = self._inflater.decompress(data, room)
        except zlib.error as exc:
            if self._coding == "deflate" and self._produced == 0 and not self._started:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # headerless deflate
                self._started = True
                return self.feed(data)
            raise httpx.DecodingError(f"malformed {self._coding} body ({exc})") from None
        self._started = True
        return self._count(out)

    def flush(self) -> bytes:
        if self._inflater.unconsumed_tail:
            raise _too_large()
        return self._count(self._inflater.flush(MAX_BODY_BYTES + 1 - self._produced))

    def _count(self, out: bytes) -> bytes:
        self._produced += len(out)
        if self._produced > MAX_BODY_BYTES or self._inflater.unconsumed_tail:
            raise _too_large()
        return out

    _started = False


def _codings(headers: httpx.Headers) -> list[str]:
    """The content codings applied, outermost first (the order to undo them)."""
    value = ",".join(headers.get_list("content-encoding"))
    codings = [c.strip().lower() for c in value.split(",") if c.strip()]
    return [c for c in reversed(codings) if c != "identity"]


def decoded_headers(headers: httpx.Headers) -> httpx.Headers:
    """`headers` for a body already decoded: no content encoding or length left to apply."""
    kept = httpx.Headers(headers)
    for name in ("content-encoding", "content-length"):
        if name in kept:
            del kept[name]
    return kept


async def read_body(
    response: httpx.Response, *, clock: Callable[[], float], deadline: float
) -> bytes:
    """The decoded body of `response`, at most `MAX_BODY_BYTES`, read before `clock()` passes
    `deadline`; raises `httpx.DecodingError` or `DeadlineExceeded` otherwise."""
    if response.is_stream_consumed:  # already read by the inner transport (a mock, a test double)
        if len(response.content) > MAX_BODY_BYTES:
            raise _too_large()
        return response.content
    decoders = [_Decoder(c) for c in _codings(response.headers)]
    chunks: list[bytes] = []
    raw = size = 0
    try:
        async for chunk in response.aiter_raw():
            if clock() > deadline:
                raise DeadlineExceeded("the answer's body did not arrive within the deadline")
            raw += len(chunk)
            if raw > MAX_BODY_BYTES:
                raise _too_large()
            for decoder in decoders:
                chunk = decoder.feed(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large()
            chunks.append(chunk)
        for i, decoder in enumerate(decoders):  # what each decoder holds goes through the rest
            tail = decoder.flush()
            for later in decoders[i + 1 :]:
                tail = later.feed(tail)
            chunks.append(tail)
    finally:
        await response.aclose()
    body = b"".join(chunks)
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    return body
