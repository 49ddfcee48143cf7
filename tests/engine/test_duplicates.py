"""Several live objects for one key at a provider are reported (plan warning, drift finding),
never hidden: against the Cloudflare emulator, through the real driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulated import Harness
from ssoform.emulators.cloudflare import CloudflareStore
from ssoform.emulators.cloudflare import create_app as cloudflare_app
from ssoform.engine.plan import Action
from ssoform.report.plan import render_plan_text

ACCOUNT = "0123456789abcdef0123456789abcdef"
MANIFEST = f"""
version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: TOKEN}}}}
tenants:
  acme:
    domains: [acme.com]
    connections:
      - {{provider: cf, account_id: {ACCOUNT}, enabled: false}}
"""


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Harness, list[str]]:
    monkeypatch.setenv("TOKEN", "cf-emulator-token")
    store = CloudflareStore()
    ids = [store.add_connector(ACCOUNT, "acme.com", status="verified").id for _ in range(3)]
    return Harness(tmp_path, {"cf": cloudflare_app(store=store)}, MANIFEST), ids


async def test_duplicates_are_a_plan_warning_and_listed_as_unmanaged(
    estate: tuple[Harness, list[str]],
) -> None:
    h, ids = estate
    plan = await h.plan()
    (change,) = plan.changes
    assert change.action is Action.ADOPT
    warnings = [w for w in plan.warnings if w.startswith("duplicate: ")]
    assert len(warnings) == 1
    assert f"cf holds 3 live objects for {ACCOUNT}/acme.com" in warnings[0]
    assert all(i in warnings[0] for i in ids)
    extras = {u.id for u in plan.unmanaged}
    assert extras == set(ids) - {change.live_id}
    assert not plan.partial
    text = render_plan_text(plan.data(), color=False)
    assert f"Warning: duplicate: cf holds 3 live objects for {ACCOUNT}/acme.com" in text
    assert "Partial plan" not in text

    result = await h.apply(plan)
    assert result.ok, result.failed
    state = h.backend.read()
    assert state is not None
    managed = state.resources[f"acme/cf/{ACCOUNT}/acme.com"].id
    again = await h.plan()
    assert {c.action for c in again.changes} == {Action.NOOP}
    assert again.changes[0].live_id == managed  # the one state records stays the one managed
    assert len({u.id for u in again.unmanaged}) == 2
    assert any(w.startswith("duplicate: ") for w in again.warnings)


async def test_duplicates_are_a_drift_finding(estate: tuple[Harness, list[str]]) -> None:
    h, ids = estate
    report = await h.drift()
    (finding,) = [f for f in report.findings if f.kind == "duplicate_live_object"]
    assert finding.subject == f"acme/cf/{ACCOUNT}/acme.com"
    assert all(i in finding.message for i in ids)
    assert finding.failing
    assert sum(1 for r in report.resources if r.status == "unmanaged") == 2
