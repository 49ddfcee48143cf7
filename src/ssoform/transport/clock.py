"""The time the transport and the request budgets read and wait on: the system's in every run,
one a test advances by hand so that a provider's asked-for wait is asserted, never slept."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    """Wall time for the providers' headers, monotonic time for the budgets, and a wait."""

    def time(self) -> float:
        """Unix seconds (what `Retry-After` dates and `x-rate-limit-reset` count from)."""
        ...

    def monotonic(self) -> float:
        """Seconds that only go forward (what the token buckets count in)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a budget's pause, a Retry-After, a backoff)."""
        ...


class SystemClock:
    """The machine's clocks and asyncio's sleep."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
