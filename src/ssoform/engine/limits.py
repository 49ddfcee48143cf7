"""Each provider instance's request budget: a token bucket plus a concurrency cap, shared by all
its scopes, adjusted from the rate-limit headers the API returns.

The bucket never lets more than the documented limit through in any window: with a burst of
`capacity`, it refills at `(limit - capacity) / window`, so `capacity + rate * window <= limit`.
It never sleeps when it has tokens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Budget", "BudgetStats", "TokenBucket"]


class TokenBucket:
    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = max(1.0, min(float(limit), limit / 10))
        self.rate = max(limit - self.capacity, 1.0) / window
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause_until(self, when: float) -> None:
        """Hold every request until `when` (monotonic seconds): a 429 or an exhausted window."""
        self._paused_until = max(self._paused_until, when)
        self._tokens = 0.0

    async def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    delay = self._paused_until - now
                else:
                    self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                    self._last = now
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return waited
                    delay = (1.0 - self._tokens) / self.rate
                waited += delay
                await asyncio.sleep(delay)


@dataclass
class BudgetStats:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    by_call: dict[str, int] = field(default_factory=dict)


class Budget:
    """The shared budget of one provider instance."""

    def __init__(self, name: str, limit: int, window: float, max_concurrency: int) -> None:
        self.name = name
        self.bucket = TokenBucket(limit, window)
        self.concurrency = asyncio.Semaphore(max_concurrency)
        self.stats = BudgetStats()

    def hold_for(self, seconds: float) -> None:
        self.bucket.pause_until(time.monotonic() + max(0.0, seconds))
