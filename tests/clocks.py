"""A clock for tests: time moves only when the code under test waits, and every wait is kept, so
a test asserts the wait a provider asked for (in milliseconds) instead of sleeping it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class ManualClock:
    """`ssoform.transport.Clock` with one time for wall and monotonic readings; calling it reads
    the time too (what the emulators' `clock` parameter takes)."""

    now: float = 1_700_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # still a point where other tasks run

    def waits_ms(self) -> list[int]:
        """Each wait so far, in whole milliseconds."""
        return [round(seconds * 1000) for seconds in self.slept]
