"""The token bucket: never more than the limit in any window, the whole budget over a run."""

from __future__ import annotations

import asyncio

from ssoform.engine.limits import SpentLog, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_comes_back_one_window_after_its_answer() -> None:
    clock = Clock()
    bucket = TokenBucket(3, 1.0, clock=clock)

    async def take(n: int) -> None:
        for _ in range(n):
            assert await bucket.acquire() == 0.0  # never sleeps while it has tokens

    asyncio.run(take(3))
    assert bucket.available() == 0
    clock.now += 0.2
    bucket.release()
    bucket.release()
    assert bucket.available() == 0  # answered, but counted until a window after the answer
    clock.now += 1.0 + bucket.slack
    assert bucket.available() == 2


def test_headers_saying_less_is_left_are_believed() -> None:
    clock = Clock()
    bucket = TokenBucket(10, 1.0, clock=clock)
    bucket.observe(remaining=4, reset_in=0.5)
    assert bucket.available() == 4
    bucket.observe(remaining=8, reset_in=0.5)  # never assumes more than it counted itself
    assert bucket.available() == 4
    clock.now += 0.5 + bucket.slack
    assert bucket.available() == 10


def test_a_shared_log_carries_a_window_from_the_plan_to_the_apply() -> None:
    clock = Clock()
    log = SpentLog()
    first = TokenBucket(2, 1.0, clock=clock, log=log)

    async def take() -> None:
        await first.acquire()
        first.release()

    asyncio.run(take())
    second = TokenBucket(2, 1.0, clock=clock, log=log)
    assert second.available() == 1
