"""What `--github-step-summary` appends stays within GitHub's 1 MiB, cut at a whole resource."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sample_plans import change, plan_of
from ssoform.commands.summary import write_step_summary
from ssoform.engine.drift_model import CLASSES, DriftReport
from ssoform.report.plan import render_plan_markdown
from ssoform.report.step_summary import (
    STEP_SUMMARY_LIMIT,
    drift_step_summary,
    plan_step_summary,
)

HINT = "the saved plan `plan.json`"
LEFT_OUT = re.compile(
    r"\n_([\d,]+) resources? left out of this step summary \(GitHub takes at most 1 MiB\); "
    r"every one is in the saved plan `plan.json`\._\n$"
)


def _big_plan(changes: int = 5000, fields: int = 20) -> dict[str, Any]:
    """`changes` changes; every tenth a delete (a careful look), the others updates."""
    return plan_of(
        [
            change(f"t{i:05d}/p/s/k{i}", "delete" if i % 10 == 0 else "update", fields)
            for i in range(changes)
        ]
    )


def big_report(resources: int = 300) -> dict[str, Any]:
    """A drift report with `resources` drifted resources, as JSON data."""
    rows = [
        {
            "address": f"t{n}/cf/account/sso-{n}.example",
            "tenant": f"t{n}",
            "provider": "cf",
            "type": "cloudflare",
            "scope": "account",
            "key": f"sso-{n}.example",
            "id": f"{n:032x}",
            "status": "drifted",
            "reason": "update",
            "declared": True,
            "live": True,
            "fields": [{"path": "enabled", "expected": True, "live": False}],
            "notes": [],
        }
        for n in range(resources)
    ]
    counts = dict.fromkeys(CLASSES, 0) | {"drifted": resources}
    summary = {"resources": resources, "counts": counts, "findings": {}, "live_objects": resources}
    summary |= {"managed_live_objects": resources, "coverage": 1.0, "failing": True}
    return DriftReport.model_validate(
        {
            "format_version": "1.0",
            "ssoform_version": "test",
            "created_at": "2026-01-01T00:00:00Z",
            "manifest_paths": ["manifests/"],
            "sandbox": False,
            "targets": [],
            "partial": False,
            "fail_on": ["drifted"],
            "cert_warning_days": 30,
            "summary": summary,
            "resources": rows,
            "findings": [],
            "certificates": [],
        }
    ).data()


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def test_a_plan_that_fits_is_whole_and_says_so_nowhere() -> None:
    data = _big_plan(changes=20, fields=3)
    text = plan_step_summary(data, json_hint=HINT, max_bytes=STEP_SUMMARY_LIMIT)
    assert "left out" not in text
    assert text.count("#### **") == 20
    assert text.startswith("## ssoform plan: 20 change(s)")


def test_a_5000_change_plan_is_cut_at_a_whole_change_within_the_limit() -> None:
    data = _big_plan()
    assert sum(_size(p) for p in render_plan_markdown(data, json_hint=HINT)) > STEP_SUMMARY_LIMIT
    text = plan_step_summary(data, json_hint=HINT, max_bytes=STEP_SUMMARY_LIMIT)
    assert _size(text) <= STEP_SUMMARY_LIMIT
    found = LEFT_OUT.search(text)
    assert found is not None, text[-300:]
    # the careful-look changes (the 500 deletes) are listed first and in full
    assert text.count("#### **delete**") == 500
    listed = text.count("\n- **update** ")
    assert listed > 0
    assert int(found.group(1).replace(",", "")) == 4500 - listed
    # nothing cut inside a change: the last listed update names all its 20 fields
    body = text[: found.start()]
    last = body[body.rindex("\n- **update** ") :]
    assert last.count("`field_") == 20


def test_a_nearly_full_file_gets_a_shorter_summary(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "summary.md"
    earlier = "x" * (STEP_SUMMARY_LIMIT - 200_000) + "\n"
    target.write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    data = _big_plan()
    write_step_summary(lambda budget: plan_step_summary(data, json_hint=HINT, max_bytes=budget))
    written = target.read_text(encoding="utf-8")
    assert written.startswith(earlier)  # appended, earlier steps kept
    assert target.stat().st_size <= STEP_SUMMARY_LIMIT
    assert LEFT_OUT.search(written) is not None
    assert "## ssoform plan: 5000 change(s)" in written


def test_a_full_file_gets_one_line_or_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "summary.md"
    target.write_text("x" * (STEP_SUMMARY_LIMIT - 4300), encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    data = _big_plan(changes=50)
    write_step_summary(lambda budget: plan_step_summary(data, json_hint=HINT, max_bytes=budget))
    assert target.read_text(encoding="utf-8")[STEP_SUMMARY_LIMIT - 4300 :] == (
        "_ssoform plan: the step summary is full (GitHub takes at most 1 MiB); "
        "see the saved plan `plan.json`._\n"
    )
    target.write_text("x" * STEP_SUMMARY_LIMIT, encoding="utf-8")
    write_step_summary(lambda budget: plan_step_summary(data, json_hint=HINT, max_bytes=budget))
    assert target.stat().st_size == STEP_SUMMARY_LIMIT


@pytest.mark.parametrize("max_bytes", [60_000, 8_000, 3_000])
def test_drift_lists_fewer_resources_to_fit(max_bytes: int) -> None:
    data = big_report(1000)
    text = drift_step_summary(data, json_hint="the JSON report", max_bytes=max_bytes)
    assert 0 < _size(text) <= max_bytes
    assert "## ssoform drift" in text
    if max_bytes < 60_000:
        assert "more not shown here: see the JSON report" in text


def test_drift_with_no_room_says_where_the_report_is() -> None:
    text = drift_step_summary(big_report(), json_hint="the JSON report", max_bytes=200)
    assert text == (
        "_ssoform drift: the step summary is full (GitHub takes at most 1 MiB); "
        "see the JSON report._\n"
    )
    assert drift_step_summary(big_report(), json_hint="the JSON report", max_bytes=10) == ""
