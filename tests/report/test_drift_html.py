"""The HTML drift report in a real browser (Debian's chromium driven by Playwright), plus the
JUnit and Markdown details a reviewer reads.

The browser test renders a report of a few hundred resources, checks the grouping, the order and
the filter box in the rendered page at desktop and phone widths, and saves screenshots as test
artifacts (the directory is printed). Without chromium or Playwright it is skipped, except when
$SSOFORM_REQUIRE_BROWSER or $CI is set (scripts/test sets it): there it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ssoform.engine.drift_model import CLASSES, DriftReport
from ssoform.report.drift import render_drift

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATUSES = ("in_sync", "in_sync", "in_sync", "drifted", "missing", "pending", "unverifiable")
LONG_ID = "a" * 90


def _resource(tenant: str | None, n: int, status: str) -> dict[str, Any]:
    key = f"sso-{n}.{tenant or 'stray'}.example"
    fields = []
    if status == "drifted":
        fields = [{"path": "enabled", "expected": True, "live": False, "sensitive": False}]
    return {
        "address": f"{tenant or '(unmanaged)'}/cloudflare-main/{LONG_ID}/{key}",
        "tenant": tenant,
        "provider": "cloudflare-main",
        "type": "cloudflare",
        "scope": LONG_ID,
        "key": key,
        "id": f"{n:032x}",
        "status": status,
        "reason": "",
        "declared": tenant is not None,
        "live": status != "missing",
        "fields": fields,
        "notes": ["waiting for DNS verification"] if status == "pending" else [],
    }


def big_report(tenants: int = 12, per_tenant: int = 25) -> dict[str, Any]:
    """A report of `tenants * per_tenant` resources plus a few unmanaged ones, as JSON data."""
    resources = [
        _resource(f"tenant{t:02d}", t * per_tenant + n, STATUSES[(t + n) % len(STATUSES)])
        for t in range(tenants)
        for n in range(per_tenant)
    ]
    resources[-per_tenant:] = [  # one tenant wholly in sync
        {**r, "status": "in_sync", "fields": [], "notes": [], "live": True}
        for r in resources[-per_tenant:]
    ]
    resources += [_resource(None, 9000 + n, "unmanaged") for n in range(3)]
    counts = {c: sum(1 for r in resources if r["status"] == c) for c in CLASSES}
    failing = resources[1]["address"]
    data = {
        "format_version": "1.0",
        "ssoform_version": "test",
        "created_at": "2026-01-01T00:00:00Z",
        "manifest_paths": ["manifests/"],
        "sandbox": True,
        "targets": [],
        "partial": False,
        "fail_on": ["drifted", "missing"],
        "cert_warning_days": 30,
        "summary": {
            "resources": len(resources),
            "counts": counts,
            "findings": {"verification_failed": 1},
            "live_objects": len(resources),
            "managed_live_objects": len(resources) - 3,
            "coverage": 0.99,
            "failing": True,
        },
        "resources": resources,
        "findings": [
            {
                "kind": "certificate_expiring",
                "severity": "warning",
                "subject": "identity_providers.okta.saml.certificate",
                "message": "expires in 20 days",
                "addresses": [],
                "failing": False,
            },
            {
                "kind": "verification_failed",
                "severity": "error",
                "subject": failing,
                "message": "DNS verification failed",
                "addresses": [failing],
                "failing": True,
            },
        ],
        "certificates": [],
    }
    return DriftReport.model_validate(data).data()


def _artifacts() -> Path:
    root = Path(os.environ.get("SSOFORM_TEST_ARTIFACTS") or Path(tempfile.gettempdir()))
    out = root / "ssoform-test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _browser_or_skip() -> Any:
    required = bool(os.environ.get("SSOFORM_REQUIRE_BROWSER") or os.environ.get("CI"))
    missing = None
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing = "Debian's chromium is not installed (scripts/ensure-chromium installs it)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright is not installed (pip install -e '.[test]')"
    if missing:
        if required:
            pytest.fail(f"the browser test cannot run: {missing}")
        pytest.skip(missing)
    return sync_playwright


@pytest.mark.slow
def test_report_in_a_real_browser(tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    data = big_report()
    page_file = tmp_path / "drift.html"
    page_file.write_text(render_drift(data, "html"), encoding="utf-8")
    artifacts = _artifacts()
    shutil.copy(page_file, artifacts / "drift.html")
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=FLAGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            # Findings first, the failing error before the warning.
            headings = page.locator("h2").all_inner_texts()
            assert headings[:2] == ["Findings (2)", f"Resources ({len(data['resources'])})"]
            kinds = page.locator("tr.finding td:first-child").all_inner_texts()
            assert kinds == ["error (failing)", "warning"]
            # Grouped by tenant, worst group first, each group's rows by severity.
            groups = page.locator("section.tenant")
            assert groups.count() == 13
            first_rows = groups.nth(0).locator("table:not(details table) tr.res")
            ranks = [
                ("missing", "drifted", "unmanaged", "pending", "unverifiable").index(s)
                for s in first_rows.evaluate_all("rows => rows.map(r => r.dataset.status)")
            ]
            assert ranks == sorted(ranks) and ranks[0] == 0
            last = groups.nth(12)
            assert last.get_attribute("data-tenant") == "tenant11"  # wholly in sync: last
            # In-sync rows are folded away: present, not visible.
            fold = last.locator("details.in-sync")
            assert fold.locator("summary").inner_text() == "25 in sync"
            assert not fold.locator("tr.res").first.is_visible()
            visible = page.locator("tr.res:visible").count()
            assert visible == sum(1 for r in data["resources"] if r["status"] != "in_sync")
            # Nothing overflows the page at 1,280 px, long addresses included.
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            page.screenshot(path=str(artifacts / "drift-1280.png"), full_page=False)
            # The filter box: one in-sync resource of the all-in-sync tenant.
            target = data["resources"][-4]["key"]
            page.fill("#filter", target)
            assert page.locator("tr.res:visible").count() == 1
            assert page.locator("section.tenant:visible").count() == 1
            assert fold.locator("tr.res:visible").count() == 1  # its fold opened
            assert page.inner_text("#shown") == f"1 of {len(data['resources'])} resources match"
            page.fill("#filter", "pending")
            assert page.locator("tr.res:visible").count() == sum(
                1 for r in data["resources"] if r["status"] == "pending"
            )
            page.fill("#filter", "")
            assert page.locator("section.tenant:visible").count() == 13
            # A phone's width: still no sideways scrolling.
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(artifacts / "drift-390.png"), full_page=False)
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith("file://")] == []
    print(f"browser test artifacts: {artifacts}")


def test_header_line_spacing_and_failing_on() -> None:
    html = render_drift(big_report(2, 3), "html")
    assert "(sandbox). Failing on: drifted, missing." in html


def test_junit_failure_text_has_a_line_per_field_and_note() -> None:
    data = big_report(2, 7)
    drifted = next(r for r in data["resources"] if r["status"] == "drifted")
    drifted["notes"] = ["enabling applies to every user"]
    junit = ET.fromstring(render_drift(data, "junit"))  # noqa: S314 - our own output
    text = next(
        c.find("failure").text or ""  # type: ignore[union-attr]
        for c in junit.iter("testcase")
        if c.get("name") == drifted["address"]
    )
    assert text.splitlines() == ["enabled: expected true, live false", drifted["notes"][0]]


def test_markdown_says_which_side_is_desired() -> None:
    data = big_report(2, 7)
    assert "`enabled`: expected true, live false" in render_drift(data, "markdown")
