"""Listings a provider never ends: pagination stops at a page cap with an error."""

from __future__ import annotations

import httpx
import pytest

from ssoform.drivers.base import DriverContext
from ssoform.drivers.vantage import VantageDriver
from ssoform.errors import DriverError


async def test_a_vantage_listing_whose_next_link_never_ends_stops_at_the_page_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ssoform.drivers.vantage.MAX_PAGES", 5)
    pages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page"]
        pages.append(page)
        return httpx.Response(
            200,
            json={
                "managed_accounts": [{"token": f"acct_p{page}", "email_domain": "x.com"}],
                "links": {"next": f"https://api.vantage.sh/v2/managed_accounts?page={page}1"},
            },
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    driver = VantageDriver(DriverContext("va", None, client, {}, "https://api.test"))
    with pytest.raises(DriverError, match="still a next page after 5 pages"):
        await driver.read_scopes(["acct_a", "acct_b"])
    assert pages == ["1", "2", "3", "4", "5"]
