"""The HTTP transport the engine gives every driver: budgeted, retried, bounded, redacted.

- Every request takes a token from its provider instance's `Budget` and a concurrency slot.
- Idempotent requests (GET, PUT, PATCH, DELETE, and POSTs a driver marks idempotent) are
  retried with tenacity on 429, 5xx, timeouts and dropped connections, honouring Retry-After
  and `x-rate-limit-reset`. Other POSTs are retried only on 429 and connection failures before
  sending, never after an ambiguous failure: the engine re-reads and adopts instead.
- Redirects are never followed (the client is built with follow_redirects=False); response
  bodies are capped.
"""

from __future__ import annotations

import email.utils
import logging
import re
import ssl
import time
from collections.abc import Callable

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ssoform.engine.limits import Budget
from ssoform.logs import redact_headers

__all__ = [
    "IDEMPOTENT",
    "MAX_BODY_BYTES",
    "BudgetedTransport",
    "RetryableResponse",
    "untrusted_certificate",
]

log = logging.getLogger("ssoform.http")

IDEMPOTENT = "ssoform.idempotent"
MAX_BODY_BYTES = 8 * 1024 * 1024
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 524, 530})


def untrusted_certificate(exc: BaseException) -> str | None:
    """Why the server's TLS certificate was refused, when that is what `exc` comes from."""
    seen: BaseException | None = exc
    for _ in range(8):  # httpx wraps the ssl error once or twice; never loop on a cycle
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
        seen = seen.__cause__ or seen.__context__
    return None


class RetryableResponse(Exception):
    def __init__(self, response: httpx.Response, wait: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.wait = wait


class BudgetedTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        budget: Budget,
        *,
        attempts: int = 5,
        max_backoff: float = 30.0,
        backoff: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self.budget = budget
        self._attempts = attempts
        self._max_backoff = max_backoff
        self._backoff = backoff
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in ("GET", "PUT", "PATCH", "DELETE", "HEAD") or bool(
            request.extensions.get(IDEMPOTENT)
        )

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RetryableResponse):
                return idempotent or exc.response.status_code == 429
            if untrusted_certificate(exc) is not None:
                return False  # asking again will not make the certificate trusted
            if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
                return True  # never reached the server
            return idempotent and isinstance(exc, httpx.TransportError)

        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            reraise=True,
            before_sleep=self._count_retry,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(request)
        except RetryableResponse as exc:
            return exc.response
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableResponse) and exc.wait is not None:
            return min(exc.wait, 300.0)
        if not self._backoff:
            return 0.0
        return float(wait_exponential_jitter(multiplier=0.5, max=self._max_backoff)(state))

    def _count_retry(self, state: RetryCallState) -> None:
        self.budget.stats.retries += 1

    async def _send_once(self, request: httpx.Request) -> httpx.Response:
        budget = self.budget
        async with budget.concurrency:
            budget.stats.waited_seconds += await budget.bucket.acquire()
            try:
                budget.stats.requests += 1
                log.debug(
                    "%s %s headers=%s",
                    request.method,
                    request.url.copy_with(query=None),
                    redact_headers(request.headers),
                )
                response = await self._inner.handle_async_request(request)
                body = await _read_capped(response)
                log.debug("answer %s (%d bytes)", response.status_code, len(body))
            finally:
                budget.bucket.release()
        response = httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )
        self._observe_headers(response)
        if response.status_code in _RETRY_STATUS:
            wait = self._retry_after(response)
            if response.status_code == 429:
                budget.stats.rate_limited += 1
                budget.hold_for(wait if wait is not None else 1.0)
            raise RetryableResponse(response, wait)
        return response

    def _observe_headers(self, response: httpx.Response) -> None:
        """Adjust the budget from the rate-limit headers: `x-rate-limit-remaining` with
        `x-rate-limit-reset` (Unix seconds), or the IETF `RateLimit: "name";r=R;t=T` form."""
        quota = _quota(response.headers, self._clock())
        if quota is not None:
            self.budget.bucket.observe(*quota)

    def _retry_after(self, response: httpx.Response) -> float | None:
        for name in ("retry-after-ms", "retry-after"):
            value = response.headers.get(name)
            if value is None:
                continue
            try:
                seconds = float(value)
                return seconds / 1000 if name == "retry-after-ms" else seconds
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(value) if value else None
                if parsed is not None:
                    return max(0.0, parsed.timestamp() - self._clock())
        reset = response.headers.get("x-rate-limit-reset")
        if reset is not None:
            try:
                return max(0.0, float(reset) - self._clock())
            except ValueError:
                return None
        return None

    async def aclose(self) -> None:
        await self._inner.aclose()


def _quota(headers: httpx.Headers, now: float) -> tuple[int, float] | None:
    """(remaining, seconds until the window resets) from an answer's headers, if it says."""
    remaining = headers.get("x-rate-limit-remaining")
    reset = headers.get("x-rate-limit-reset")
    try:
        if remaining is not None and reset is not None:
            return int(remaining), float(reset) - now
        structured = headers.get("ratelimit")
        if structured is not None:
            params = dict(_RATELIMIT_PARAM.findall(structured))
            if "r" in params and "t" in params:
                return int(params["r"]), float(params["t"])
    except ValueError:
        return None
    return None


_RATELIMIT_PARAM = re.compile(r";\s*([a-z]+)=([0-9.]+)")


async def _read_capped(response: httpx.Response) -> bytes:
    if response.is_stream_consumed:  # already read by the inner transport (a mock, a test double)
        if len(response.content) > MAX_BODY_BYTES:
            raise httpx.DecodingError(f"response body larger than {MAX_BODY_BYTES} bytes")
        return response.content
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise httpx.DecodingError(f"response body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    finally:
        await response.aclose()
    return b"".join(chunks)
