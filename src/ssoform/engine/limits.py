"""Each provider instance's request budget: a token bucket plus a concurrency cap, shared by all
its scopes, adjusted from the rate-limit headers the API returns.

The bucket holds `limit` tokens. A request spends one, and that token comes back one window
(plus a little slack) after its answer arrived. The provider counted the request somewhere
between our sending it and its answer, so no more than `limit` requests ever reach it in any
window, whichever way it anchors its windows and however the network jitters, while a long run
keeps the provider's budget busy but for one round trip per window (a bucket that refills
continuously at `limit / window` could send up to twice the limit in one window, or must give up
a tenth of the budget or more to avoid it).
It never sleeps when it has tokens. A 429, or an answer saying the window is spent, pauses it.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ssoform.errors import DriverError
from ssoform.transport.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from ssoform.engine.shared_budget import SharedToken

__all__ = ["Budget", "BudgetStats", "SpentLog", "SpentLogs", "TokenBucket", "slack_for"]

MAX_TRACKED_TOKENS = 100_000
"""A limit above this is treated as this many tokens per proportionally shorter window."""


def slack_for(window: float) -> float:
    """Extra seconds before a spent token comes back, for clock granularity (0.5% of the window
    plus 2 ms, at most one second)."""
    return min(1.0, 0.005 * window + 0.002)


@dataclass
class SpentLog:
    """When each token spent within the last window comes back (oldest first), and any pause.

    Plain data, so one provider token's history outlives a set of drivers: a plan and the apply
    that follows it in one run share it (`RunConfig.spent`), and the apply cannot overrun a window
    the plan filled."""

    spent: collections.deque[float] = field(default_factory=collections.deque)
    paused_until: float = 0.0


class SpentLogs:
    """The logs of a run's budgets, by provider instance, base URL and limit."""

    def __init__(self) -> None:
        self._logs: dict[tuple[str, int, float], SpentLog] = {}

    def get(self, key: str, limit: int, window: float) -> SpentLog:
        return self._logs.setdefault((key, limit, window), SpentLog())


class TokenBucket:
    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        log: SpentLog | None = None,
        sleep: Callable[[float], Awaitable[None]] = SYSTEM_CLOCK.sleep,
    ) -> None:
        if limit > MAX_TRACKED_TOKENS:
            window = window * MAX_TRACKED_TOKENS / limit
            limit = MAX_TRACKED_TOKENS
        self.capacity = max(1, int(limit))
        self.window = float(window)
        self.slack = slack_for(self.window)
        self._clock = clock
        self._sleep = sleep
        self._log = log if log is not None else SpentLog()
        self._spent = self._log.spent
        self._in_flight = 0
        self._lock = asyncio.Lock()
        self.waiting = 0
        """How many requests are waiting on this bucket right now (for progress displays)."""
        self.owner = ""
        self.stop_reason: str | None = None
        """Set when the run stops (SIGTERM/SIGINT): requests not yet sent fail with it."""
        self.shared: SharedToken | None = None
        """A budget shared with other runs (in the state database): asked once this bucket has
        a token; returns 0 when granted, else how long until it has one."""

    def available(self) -> int:
        self._return_tokens(self._clock())
        return self.capacity - len(self._spent) - self._in_flight

    def release(self) -> None:
        """The answer to a request that took a token has arrived (or it failed): its token comes
        back one window from now."""
        self._in_flight = max(0, self._in_flight - 1)
        if self.shared is not None:
            self.shared.release()
        back = self._clock() + self.window + self.slack
        if not self._spent or self._spent[-1] <= back:
            self._spent.append(back)
        else:
            bisect.insort(self._spent, back)

    def _return_tokens(self, now: float) -> None:
        spent = self._spent
        while spent and spent[0] <= now:
            spent.popleft()

    def pause_until(self, when: float) -> None:
        """Hold every request until `when` (monotonic seconds): a 429 or an exhausted window."""
        self._log.paused_until = max(self._log.paused_until, when)

    def observe(self, remaining: int, reset_in: float) -> None:
        """The provider says `remaining` requests are left for `reset_in` seconds. Never assume
        more than that (another client may share the token): tokens beyond it come back only
        after the reset. Our own requests never trigger this, as the bucket is stricter than any
        window the provider keeps."""
        extra = self.available() - max(0, remaining)
        if extra > 0:
            back = self._clock() + max(0.0, reset_in) + self.slack
            for _ in range(extra):
                bisect.insort(self._spent, back)

    async def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited. Call
        `release()` once the request is answered or has failed."""
        waited = 0.0
        self.waiting += 1
        try:
            async with self._lock:
                while True:
                    if self.stop_reason is not None:
                        raise DriverError(self.owner, "request", f"not sent: {self.stop_reason}")
                    now = self._clock()
                    if now < self._log.paused_until:
                        delay = self._log.paused_until - now
                    else:
                        self._return_tokens(now)
                        if len(self._spent) + self._in_flight < self.capacity:
                            delay = await self.shared.take() if self.shared is not None else 0.0
                            if delay <= 0:
                                self._in_flight += 1
                                return waited
                        else:
                            # All in flight: the first answer releases one (polled every 5 ms).
                            delay = self._spent[0] - now if self._spent else 0.005
                    delay = max(delay, 0.001)
                    waited += delay
                    await self._sleep(delay)
        finally:
            self.waiting -= 1


@dataclass
class BudgetStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    waited_seconds: float = 0.0


class Budget:
    """The shared budget of one provider instance."""

    def __init__(
        self,
        name: str,
        limit: int,
        window: float,
        max_concurrency: int,
        log: SpentLog | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.name = name
        self._clock = clock
        self.bucket = TokenBucket(limit, window, clock.monotonic, log, clock.sleep)
        self.bucket.owner = name
        self.max_concurrency = max_concurrency
        self.concurrency = asyncio.Semaphore(max_concurrency)
        self.stats = BudgetStats()

    def stop(self, reason: str) -> None:
        """Send nothing more: requests waiting for a token fail with `reason`; requests in
        flight finish (and are recorded)."""
        self.bucket.stop_reason = reason

    def hold_for(self, seconds: float) -> None:
        self.bucket.pause_until(self._clock.monotonic() + max(0.0, seconds))

    @property
    def rate_limited_now(self) -> bool:
        """Whether a request is waiting for a token (the budget is the bottleneck)."""
        return self.bucket.waiting > 0
