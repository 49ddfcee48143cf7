"""Drift against the emulators: every class, every finding, every format."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drift_estate import CANARY, ROTATED, A, B, Estate, build_estate, seed_drift, seeded_report
from ssoform.engine.drift import parse_fail_on
from ssoform.engine.drift_model import DriftReport
from ssoform.report.drift import FORMATS, MARKDOWN_LIMIT, render_drift


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Estate:
    return build_estate(tmp_path, monkeypatch)


def _by_address(report: DriftReport) -> dict[str, str]:
    return {r.address: r.status for r in report.resources}


async def test_every_class_is_seen(estate: Estate) -> None:
    await seed_drift(estate)
    os.environ["OKTA_SECRET"] = ROTATED  # the Descope OIDC secret was rotated since apply
    report = await estate.h.drift()
    status = _by_address(report)
    assert status[f"acme/cf/{A}/acme.com"] == "in_sync"
    assert status[f"acme/cf/{A}/acme.io"] == "drifted"
    assert status[f"acme/cf/{A}/acme.net"] == "missing"
    assert status[f"acme/cf/{A}/acme.dev"] == "pending"
    assert status[f"cf/{A}/legacy.acme.com"] == "unmanaged"
    assert status["globex/va/acct_globex1/sso"] == "unverifiable"
    assert status["globex/ds/T2globex/default"] == "drifted"
    io = next(r for r in report.resources if r.address.endswith("/acme.io"))
    assert [(f.path, f.expected, f.live) for f in io.fields] == [("enabled", True, False)]
    secret = next(r for r in report.resources if r.address == "globex/ds/T2globex/default")
    assert [(f.path, f.write_only, f.expected) for f in secret.fields] == [
        ("client_secret", "changed", "(sensitive)")
    ]
    counts = report.summary.counts
    assert (counts.in_sync, counts.missing, counts.pending, counts.unverifiable) == (1, 1, 1, 1)
    assert report.summary.live_objects == counts.in_sync + counts.drifted + counts.pending + (
        counts.unmanaged + counts.unverifiable
    )
    assert report.summary.coverage == round(
        report.summary.managed_live_objects / report.summary.live_objects, 4
    )
    assert report.summary.failing


async def test_every_finding_is_seen(estate: Estate) -> None:
    report = await seeded_report(estate, cert_warning_days=30)
    kinds = {f.kind: f for f in report.findings}
    assert set(kinds) == {
        "certificate_expired",
        "certificate_expiring",
        "certificate_rotation",
        "domain_conflict",
        "verification_failed",
        "enabled_unverified",
    }
    rotation = kinds["certificate_rotation"]
    assert rotation.subject == "acme/ds/T2acme/default"
    assert "roll it out now: it holds no certificate the IdP publishes" in rotation.message
    expired = kinds["certificate_expired"].certificate
    assert expired is not None and expired.source == "live"
    assert expired.subject == "CN=old.acme.okta.com" and len(expired.sha256) == 64
    assert expired.where == "acme/ds/T2acme/default"
    expiring = {
        f.certificate.source: f.certificate
        for f in report.findings
        if f.kind == "certificate_expiring" and f.certificate is not None
    }
    assert set(expiring) == {"manifest", "metadata"}  # the IdP publishes the same certificate
    assert expiring["manifest"].days_left == expiring["metadata"].days_left == 10
    assert expiring["metadata"].where == "identity_providers.okta.saml.metadata_url"
    conflict = kinds["domain_conflict"]
    assert conflict.subject == "acme.com"
    assert conflict.addresses == [f"acme/cf/{A}/acme.com", f"cf/{B}/acme.com"]
    assert kinds["verification_failed"].addresses == [f"initech/cf/{B}/initech.example"]
    assert kinds["enabled_unverified"].addresses == [f"cf/{B}/rogue.example"]
    assert not kinds["certificate_expiring"].failing
    assert kinds["certificate_expired"].failing


async def test_in_sync_estate_is_not_failing(estate: Estate) -> None:
    estate.h.write(estate.h.path.read_text().split("  globex:")[0])
    estate.cloudflare.set_verification(A, "acme.dev", "verified")
    result = await estate.h.apply()
    assert result.ok, result.failed
    report = await estate.h.drift(cert_warning_days=5)
    assert {r.status for r in report.resources} == {"in_sync"}, _by_address(report)
    assert not report.findings
    assert not report.summary.failing
    assert report.summary.coverage == 1.0


async def test_fail_on_chooses_what_counts(estate: Estate) -> None:
    report = await seeded_report(estate, fail_on=parse_fail_on("pending"))
    assert report.summary.failing
    assert not any(f.failing for f in report.findings)
    report = await estate.h.drift(fail_on=parse_fail_on("none"))
    assert not report.summary.failing
    with pytest.raises(ValueError, match="unknown: bogus"):
        parse_fail_on("drifted,bogus")


async def test_every_format_renders_and_parses_without_secrets(estate: Estate) -> None:
    await seed_drift(estate)
    os.environ["OKTA_SECRET"] = ROTATED
    report = await estate.h.drift()
    data = report.data()
    outputs = {fmt: render_drift(data, fmt) for fmt in FORMATS}
    for fmt, text in outputs.items():
        for secret in (CANARY, ROTATED, "BEGIN CERTIFICATE", "descope-emulator-key"):
            assert secret not in text, (fmt, secret)
    assert DriftReport.model_validate(json.loads(outputs["json"])) == report
    assert f"drifted: acme/cf/{A}/acme.io" in outputs["text"]
    assert "enabled: expected true, live false" in outputs["text"]
    assert "Coverage:" in outputs["text"]
    html = ET.fromstring(outputs["html"].split("\n", 1)[1])  # noqa: S314 - our own output
    assert html.tag.endswith("html")
    _StrictHtml().feed(outputs["html"])
    assert "<script" not in outputs["html"] and "http://" not in outputs["html"].replace(
        'xmlns="http://www.w3.org/1999/xhtml"', ""
    )
    junit = ET.fromstring(outputs["junit"])  # noqa: S314 - our own output
    cases = junit.findall("./testsuite[@name='resources']/testcase")
    assert len(cases) == len(report.resources)
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert f"acme/cf/{A}/acme.io" in failed and f"acme/cf/{A}/acme.com" not in failed
    assert len(junit.findall("./testsuite[@name='findings']/testcase")) == len(report.findings)
    assert "| drifted |" in outputs["markdown"]


def test_markdown_stays_under_its_limit_for_5000_resources() -> None:
    resource = {
        "address": "",
        "tenant": "t",
        "provider": "cf",
        "type": "cloudflare",
        "scope": "s",
        "key": "k",
        "id": "x",
        "status": "drifted",
        "reason": "fields_changed",
        "declared": True,
        "live": True,
        "fields": [
            {"path": f"f{i}", "expected": "a" * 80, "live": "b" * 80, "sensitive": False}
            for i in range(8)
        ],
        "notes": ["a note"],
    }
    resources = [{**resource, "address": f"tenant{i}/cf/s/domain{i}.example"} for i in range(5000)]
    counts = {"in_sync": 0, "drifted": 5000, "missing": 0}
    counts |= {"unmanaged": 0, "unverifiable": 0, "pending": 0}
    summary = {"resources": 5000, "counts": counts, "findings": {}, "live_objects": 5000}
    summary |= {"managed_live_objects": 5000, "coverage": 1.0, "failing": True}
    report = DriftReport.model_validate(
        {
            "format_version": "1.0",
            "ssoform_version": "0",
            "created_at": "2026-01-01T00:00:00+00:00",
            "manifest_paths": ["m"],
            "sandbox": False,
            "targets": [],
            "partial": False,
            "fail_on": ["drifted"],
            "cert_warning_days": 30,
            "summary": summary,
            "resources": resources,
            "findings": [],
            "certificates": [],
        }
    )
    text = render_drift(report.data(), "markdown", json_hint="`drift.json`")
    assert len(text) < MARKDOWN_LIMIT
    assert "| drifted | 5000 |" in text
    assert "more not shown here: see `drift.json`" in text


class _StrictHtml(HTMLParser):
    """Fails on unbalanced tags (void elements aside)."""

    VOID = frozenset({"meta", "br", "link", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag
