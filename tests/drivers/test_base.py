"""The driver base class: reading many scopes with bounded workers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import SimpleNamespace

import httpx
import pytest

from ssoform.drivers.base import Capabilities, Driver, DriverContext, ExpandContext
from ssoform.errors import DriverError
from ssoform.model import Desired, Live


class Counting(Driver):
    """Reads take a moment; records how many overlap and which scopes were started."""

    type_name = "counting"
    capabilities = Capabilities(readable=frozenset(), max_concurrency=3)
    default_base_url = "https://counting.invalid"

    def __init__(self, ctx: DriverContext, fail_on: str | None = None) -> None:
        super().__init__(ctx)
        self.fail_on = fail_on
        self.started: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def read_scope(self, scope: str) -> list[Live]:
        self.started.append(scope)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if scope == self.fail_on:
                raise DriverError(self.name, f"list {scope}", "HTTP 500")
            return [Live(scope=scope, key="k", id=scope, fields={})]
        finally:
            self.in_flight -= 1

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        return []

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        raise NotImplementedError


def _driver(max_concurrency: int | None = None, fail_on: str | None = None) -> Counting:
    config = SimpleNamespace(max_concurrency=max_concurrency)
    ctx = DriverContext("c", config, httpx.AsyncClient(), {}, "https://counting.invalid")
    return Counting(ctx, fail_on)


def test_every_scope_is_read_once_in_order_within_the_concurrency() -> None:
    driver = _driver()
    scopes = [f"s{i:03}" for i in range(50)]
    found = asyncio.run(driver.read_scopes(scopes))
    assert list(found) == scopes
    assert sorted(driver.started) == scopes
    assert all(found[s][0].id == s for s in scopes)
    assert driver.most_in_flight == 3


def test_the_instance_setting_overrides_the_declared_concurrency() -> None:
    driver = _driver(max_concurrency=7)
    asyncio.run(driver.read_scopes([f"s{i}" for i in range(40)]))
    assert driver.most_in_flight == 7


def test_a_failed_read_stops_the_others_from_starting_new_ones() -> None:
    driver = _driver(fail_on="s005")
    with pytest.raises(DriverError, match="list s005"):
        asyncio.run(driver.read_scopes([f"s{i:03}" for i in range(100)]))
    assert len(driver.started) < 10  # the workers in flight finish; none starts another


def test_no_scopes_no_reads() -> None:
    driver = _driver()
    assert asyncio.run(driver.read_scopes([])) == {}
    assert driver.started == []
