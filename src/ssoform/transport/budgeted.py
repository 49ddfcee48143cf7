"""The HTTP transport under every driver: budgeted, retried, bounded in size and time, redacted.

- Every request takes a token from its provider instance's budget and a concurrency slot.
- Idempotent requests (GET, PUT, PATCH, DELETE, and POSTs a driver marks idempotent) are
  retried with tenacity on 429, 5xx, timeouts and dropped connections, honouring Retry-After
  and `x-rate-limit-reset`. Other POSTs are retried only on 429 and connection failures before
  sending, never after an ambiguous failure: the engine re-reads and adopts instead.
- A provider asking for a wait longer than `max_wait` (Retry-After, or a quota spent until a
  reset further away) is given up at once with the reason (`WaitTooLong`), never waited for.
- Each attempt has an overall deadline (answer and body), not only per-read timeouts.
- Redirects are never followed (the client is built with follow_redirects=False); bodies are
  capped after decompression (`ssoform.transport.body`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Protocol

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ssoform.logs import redact_headers
from ssoform.transport.body import ACCEPT_ENCODING, decoded_headers, read_body
from ssoform.transport.clock import SYSTEM_CLOCK, Clock
from ssoform.transport.refusals import DeadlineExceeded, WaitTooLong
from ssoform.transport.waits import DEFAULT_MAX_WAIT, quota, retry_after

__all__ = [
    "DEFAULT_DEADLINE",
    "IDEMPOTENT",
    "BudgetedTransport",
    "RequestBudget",
    "RetryableResponse",
    "untrusted_certificate",
]

log = logging.getLogger("ssoform.http")

IDEMPOTENT = "ssoform.idempotent"
DEFAULT_DEADLINE = 120.0
"""Seconds one attempt may take from sending to the last byte of its answer."""
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 524, 530})


class _Bucket(Protocol):
    async def acquire(self) -> float: ...

    def release(self) -> None: ...

    def observe(self, remaining: int, reset_in: float) -> None: ...


class _Stats(Protocol):
    requests: int
    rate_limited: int
    retries: int
    waited_seconds: float


class RequestBudget(Protocol):
    """What the transport needs of a provider instance's budget (`ssoform.engine.limits`)."""

    @property
    def bucket(self) -> _Bucket: ...

    @property
    def concurrency(self) -> asyncio.Semaphore: ...

    @property
    def stats(self) -> _Stats: ...

    def hold_for(self, seconds: float) -> None: ...


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
        budget: RequestBudget,
        *,
        attempts: int = 5,
        max_backoff: float = 30.0,
        backoff: bool = True,
        max_wait: float = DEFAULT_MAX_WAIT,
        deadline: float = DEFAULT_DEADLINE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._inner = inner
        self.budget = budget
        self._attempts = attempts
        self._max_backoff = max_backoff
        self._backoff = backoff
        self.max_wait = max_wait
        self.deadline = deadline
        # Wall time for the headers and the body's deadline, and the waits between attempts:
        # the system's, or a test's that asserts each wait instead of sleeping it.
        self._clock = clock.time
        self._sleep = clock.sleep
        self._spent_until = 0.0
        """The provider said its quota is spent until then (clock time), beyond `max_wait`."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in ("GET", "PUT", "PATCH", "DELETE", "HEAD") or bool(
            request.extensions.get(IDEMPOTENT)
        )
        request.headers["accept-encoding"] = ACCEPT_ENCODING  # the codings body.py can bound

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
            sleep=self._sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(request, idempotent)
        except RetryableResponse as exc:
            return exc.response
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableResponse) and exc.wait is not None:
            return exc.wait  # at most max_wait: _send_once refuses longer ones
        if not self._backoff:
            return 0.0
        return float(wait_exponential_jitter(multiplier=0.5, max=self._max_backoff)(state))

    def _count_retry(self, state: RetryCallState) -> None:
        self.budget.stats.retries += 1

    async def _send_once(self, request: httpx.Request, idempotent: bool) -> httpx.Response:
        self._refuse_spent_quota()
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
                response, body = await self._exchange(request)
                log.debug("answer %s (%d bytes)", response.status_code, len(body))
            finally:
                budget.bucket.release()
        response = httpx.Response(
            status_code=response.status_code,
            headers=decoded_headers(response.headers),
            content=body,
            request=request,
            extensions=response.extensions,
        )
        self._observe_headers(response)
        if response.status_code in _RETRY_STATUS:
            wait = retry_after(response.headers, self._clock())
            if (idempotent or response.status_code == 429) and (wait or 0.0) > self.max_wait:
                raise WaitTooLong(
                    f"asked to wait {wait:.0f} s before asking again, longer than the "
                    f"{self.max_wait:g} s ceiling (SSOFORM_MAX_WAIT)",
                    status=response.status_code,
                )
            if response.status_code == 429:
                budget.stats.rate_limited += 1
                budget.hold_for(wait if wait is not None else 1.0)
            raise RetryableResponse(response, wait)
        return response

    async def _exchange(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """Send `request` and read its body, all within the overall deadline."""
        ends = self._clock() + self.deadline
        try:
            async with asyncio.timeout(self.deadline):
                response = await self._inner.handle_async_request(request)
                return response, await read_body(response, clock=self._clock, deadline=ends)
        except TimeoutError:
            raise DeadlineExceeded(
                f"no complete answer within the {self.deadline:g} s deadline"
            ) from None

    def _refuse_spent_quota(self) -> None:
        left = self._spent_until - self._clock()
        if left > self.max_wait:
            raise WaitTooLong(
                f"the provider said no request is left for {left:.0f} s, longer than the "
                f"{self.max_wait:g} s ceiling (SSOFORM_MAX_WAIT)"
            )

    def _observe_headers(self, response: httpx.Response) -> None:
        """Adjust the budget from the rate-limit headers; a quota spent until beyond the
        ceiling makes the next request fail at once instead of waiting."""
        found = quota(response.headers, self._clock())
        if found is None:
            return
        remaining, reset_in = found
        if remaining <= 0 and reset_in > self.max_wait:
            self._spent_until = self._clock() + reset_in
            return
        self.budget.bucket.observe(remaining, min(reset_in, self.max_wait))

    async def aclose(self) -> None:
        await self._inner.aclose()
