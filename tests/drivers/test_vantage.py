"""The Vantage driver against the Vantage emulator: a write-only SSO connection through state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from clocks import ManualClock
from emulated import Harness, actions
from ssoform.drivers.base import DriverContext
from ssoform.drivers.vantage import VantageDriver
from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.vantage import VantageStore, create_app
from ssoform.engine.limits import slack_for
from ssoform.errors import DriverError
from ssoform.model import Desired

TOKEN = "acct_be30cfd09cf0b3c5"
ADDR = f"acme/va/{TOKEN}/sso"
METADATA = "https://acme.okta.com/app/exk1/sso/saml/metadata"
MANIFEST = f"""
version: 1
providers:
  va: {{type: vantage, api_token: {{env: VA_TOKEN}}}}
identity_providers:
  okta:
    saml: {{metadata_url: "{METADATA}"}}
tenants:
  acme:
    domains: [acme.com, acme.io, acme.dev]
    idp: okta
    connections:
      - {{provider: va, managed_account: {TOKEN}}}
"""


@pytest.fixture
def store() -> VantageStore:
    store = VantageStore()
    store.add_managed_account("Acme", "it@acme.com", email_domain="acme.com", token=TOKEN)
    for index in range(1500):
        store.add_managed_account(f"Other {index}", "x@example.com", token=f"acct_other{index:05d}")
    return store


@pytest.fixture
def h(tmp_path: Path, store: VantageStore, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("VA_TOKEN", "vantage-emulator-token")
    return Harness(tmp_path, {"va": create_app(store=store)}, MANIFEST)


async def test_unverifiable_then_written_then_unchanged(h: Harness, store: VantageStore) -> None:
    plan = await h.plan()
    change = plan.changes[0]
    assert actions(plan) == {ADDR: "update"}
    assert {(c.path, c.write_only) for c in change.changes} == {
        ("additional_domains", "unverifiable"),
        ("saml_metadata_url", "unverifiable"),
    }
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    connection = store.sso_connection(TOKEN)
    assert connection is not None
    assert connection["saml_metadata_url"] == METADATA
    assert connection["domains"] == ["acme.com", "acme.dev", "acme.io"]


async def test_listing_1500_accounts_takes_two_pages(h: Harness) -> None:
    emulator = h.apps["va"].state.emulator
    await h.plan()
    lists = sum(n for call, n in emulator.calls.items() if call.endswith("/managed_accounts"))
    assert lists == 2
    assert sum(emulator.calls.values()) == 2


async def test_changed_write_only_field_and_readable_drift(h: Harness, store: VantageStore) -> None:
    await h.apply()
    h.write(MANIFEST.replace("[acme.com, acme.io, acme.dev]", "[acme.com, acme.io]"))
    store.set_email_domain(TOKEN, "acme-old.com")
    plan = await h.plan()
    change = plan.changes[0]
    assert {(c.path, c.write_only) for c in change.changes} == {
        ("email_domain", None),
        ("additional_domains", "changed"),
    }
    plan = await h.converge()
    assert actions(plan) == {ADDR: "no-op"}
    assert store.sso_connection(TOKEN)["domains"] == ["acme.com", "acme.io"]  # type: ignore[index]


async def test_rate_limit_reset_is_honoured(
    tmp_path: Path, store: VantageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VA_TOKEN", "vantage-emulator-token")
    clock = ManualClock()
    h = Harness(tmp_path, {"va": create_app(store=store, clock=clock)}, MANIFEST, clock=clock)
    emulator = h.apps["va"].state.emulator
    emulator.configure(FaultConfig(burst_429=1))
    plan = await h.plan()
    assert actions(plan) == {ADDR: "update"}
    assert emulator.answers[429] == 1
    # The 429 says `x-rate-limit-remaining: 0` and `x-rate-limit-reset` one second on: the retry
    # waits until that reset, then the budget holds the hour's tokens its slack longer.
    assert clock.waits_ms() == [1000, round(slack_for(3600.0) * 1000)]


async def test_delete_with_allow_delete(h: Harness, store: VantageStore) -> None:
    await h.apply()
    h.write(MANIFEST.split("    connections:")[0] + "    connections: []\n")
    plan = await h.plan(allow_delete=True)
    assert actions(plan) == {ADDR: "delete"}
    await h.apply(allow_delete=True)
    assert store.sso_connection(TOKEN) is None


def _refusing_sso_posts(app: Starlette, status: int, message: str) -> ASGIApp:
    """`app`, except that every SSO create is refused with Vantage's `Errors` model."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and path.endswith("/sso_connection")
        ):
            app.state.emulator.calls[f"POST {path}"] += 1
            await JSONResponse({"errors": [message]}, status_code=status)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


async def test_declared_rate_limit_is_vantages_hour() -> None:
    assert VantageDriver.capabilities.rate_limit == (1000, 3600.0)
    now = [1_700_000_000.0]
    app = create_app(rate_limit=2, clock=lambda: now[0])
    transport = emulator_transport(app)
    headers = {"Authorization": "Bearer vantage-emulator-token"}
    async with httpx.AsyncClient(transport=transport, base_url="http://va", headers=headers) as c:
        assert (await c.get("/v2/managed_accounts")).status_code == 200
        assert (await c.get("/v2/managed_accounts")).status_code == 200
        now[0] += 61  # a minute later the hour's window is still spent
        refused = await c.get("/v2/managed_accounts")
        assert refused.status_code == 429
        assert int(refused.headers["x-rate-limit-reset"]) >= 1_700_000_000 + 3599
        now[0] += 3600
        assert (await c.get("/v2/managed_accounts")).status_code == 200


async def test_refused_create_shows_vantages_message_without_put(store: VantageStore) -> None:
    app = create_app(store=store)
    message = "saml_metadata_url could not be fetched"
    driver = _driver(_refusing_sso_posts(app, 400, message))  # type: ignore[arg-type]
    with pytest.raises(DriverError) as caught:
        await driver.create(_desired(), {})
    error = str(caught.value)
    assert "HTTP 400" in error and message in error
    assert "not found" not in error
    assert not [c for c in app.state.emulator.calls if c.startswith("PUT ")]


async def test_create_refused_as_existing_falls_back_to_put(store: VantageStore) -> None:
    app = create_app(store=store)
    store.put_sso_connection(TOKEN, saml_metadata_url="https://old.example/metadata")
    driver = _driver(app)
    await driver.create(_desired(), {})
    connection = store.sso_connection(TOKEN)
    assert connection is not None and connection["saml_metadata_url"] == METADATA
    calls = app.state.emulator.calls
    assert calls[f"POST /v2/managed_accounts/{TOKEN}/sso_connection"] == 1
    assert calls[f"PUT /v2/managed_accounts/{TOKEN}/sso_connection"] == 1


async def test_ambiguous_sso_create_converges_in_one_apply(h: Harness, store: VantageStore) -> None:
    emulator = h.apps["va"].state.emulator
    emulator.configure(FaultConfig(commit_then_timeout_rate=1.0))
    result = await h.apply()
    assert result.ok, result.failed
    emulator.configure(FaultConfig())
    assert len(store.connections) == 1
    connection = store.sso_connection(TOKEN)
    assert connection is not None and connection["saml_metadata_url"] == METADATA
    plan = await h.plan()
    assert actions(plan) == {ADDR: "no-op"}
    posts = emulator.calls[f"POST /v2/managed_accounts/{TOKEN}/sso_connection"]
    assert posts == 1  # re-read by PUT, never posted again


async def test_create_failing_before_it_lands_is_posted_again(store: VantageStore) -> None:
    app = create_app(store=store)
    app.state.emulator.configure(FaultConfig(error_rate=1.0))
    driver = _driver(app)
    calls: list[str] = []
    original = driver.api.call

    async def heal(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        calls.append(method)
        if method == "PUT":  # the outage ends after the first POST
            app.state.emulator.configure(FaultConfig())
        return await original(method, path, **kwargs)

    driver.api.call = heal  # type: ignore[method-assign]
    await driver.create(_desired(), {})
    assert calls == ["POST", "PUT", "POST"]
    assert len(store.connections) == 1


def _driver(app: ASGIApp) -> VantageDriver:
    client = httpx.AsyncClient(
        transport=emulator_transport(app),
        headers={"Authorization": "Bearer vantage-emulator-token"},
    )
    ctx = DriverContext("va", None, client, {"api_token": "vantage-emulator-token"}, "http://va/v2")
    return VantageDriver(ctx)


def _desired() -> Desired:
    return Desired(
        tenant="acme",
        provider="va",
        scope=TOKEN,
        key="sso",
        fields={"email_domain": "acme.com"},
        write_only={"saml_metadata_url": METADATA, "additional_domains": ["acme.io"]},
    )
