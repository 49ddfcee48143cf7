"""The plan as reviewers and operators read it: Markdown parts, terminal text, apply's lines."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sample_plans import change, plan_of, sandbox_dir, sandbox_plan
from ssoform.cli import main
from ssoform.report.plan import COMMENT_LIMIT, MAX_PARTS, render_plan_markdown, render_plan_text

__all__ = ["sandbox_dir", "sandbox_plan"]  # the fixtures, used by name


def test_markdown_shows_every_field_warning_and_unmanaged_object(
    sandbox_plan: dict[str, Any],
) -> None:
    data = sandbox_plan
    assert main(["plan", "manifests/", "--sandbox", "--markdown-dir", "md"]) == 0
    parts = sorted(Path("md").glob("plan-*.md"))
    assert [p.name for p in parts] == ["plan-1.md"]
    text = parts[0].read_text()
    assert "more" not in text.replace("more than", "")
    assert "applies to every Cloudflare user with an @\u2060acme.io email address" in text
    for u in data["unmanaged"]:
        assert f"`{u['provider']}/{u['scope']}/{u['key']}`" in text
    for rc in data["resource_changes"]:
        if rc["action"] != "no-op":
            assert f"`{rc['address']}`" in text
        for f in rc["change"]["fields"]:
            if rc["action"] != "no-op":
                assert f"- `{f['path']}`" in text, (rc["address"], f["path"])
    assert "`role_mappings`" in text and "`saml`" in text
    careful = text.index("### Needs a careful look")
    assert careful < text.index("### Other changes")
    assert text.index("⚠ blocked") > careful


def test_terminal_counts_agree_with_the_lines(
    sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "manifests/", "--sandbox"]) == 0
    out = capsys.readouterr().out
    blocked_lines = len(re.findall(r"^\s+blocked: ", out, re.M))
    assert blocked_lines == 2
    summary = out.strip().splitlines()[-1]
    assert f"{blocked_lines} blocked" in summary
    created = len(re.findall(r"^  \+ ", out, re.M))
    assert f"Plan: {created} to create" in summary
    # Cloudflare sets `verification` itself once DNS is published: no planned change.
    assert "verification:" not in out


def test_long_plan_splits_into_parts_without_dropping_a_line() -> None:
    changes = [change(f"t{n % 7}/p/s/r{n}", "update", 12, value_chars=120) for n in range(400)]
    changes += [change(f"t{n}/p/s/gone{n}", "delete", 2) for n in range(30)]
    data = plan_of(changes, unmanaged=3000)
    parts = render_plan_markdown(data, json_hint="`plan.json`", max_parts=100)
    assert len(parts) > 3
    assert all(len(p) <= COMMENT_LIMIT for p in parts)
    assert parts[0].startswith(f"## ssoform plan (part 1 of {len(parts)}): 430 change(s)")
    assert parts[1].startswith(f"## ssoform plan (part 2 of {len(parts)}), continued")
    joined = "\n".join(parts)
    for rc in changes:
        assert f"`{rc['address']}`" in joined
    assert joined.count("- `field_") == 400 * 12 + 30 * 2
    assert joined.count("(id `id") == 3000
    # Deletes come first: every one of them in the first part.
    assert all(f"`t{n}/p/s/gone{n}`" in parts[0] for n in range(30))
    for p in parts:  # folds never cut across parts
        assert p.count("<details>") == p.count("</details>")


def test_one_huge_change_is_split_across_parts() -> None:
    data = plan_of([change("t/p/s/huge", "update", 400, value_chars=300)])
    parts = render_plan_markdown(data, json_hint="`plan.json`", limit=20_000, max_parts=100)
    assert len(parts) > 5
    assert all(len(p) <= 20_000 for p in parts)
    assert "\n".join(parts).count("- `field_") == 400


def test_values_are_literal_code_spans() -> None:
    rc = change("t/p/s/x", "update", 1)
    rc["change"]["fields"][0]["after"] = "a`b <script>\n|c"
    text = render_plan_markdown(plan_of([rc]), json_hint="x")[0]
    assert '`"a\'b <script>\\n|c"`' in text


def test_text_counts_a_blocked_create_once_as_blocked() -> None:
    rc = change("t/p/s/x", "create", 1)
    rc["blocked"] = "waiting for DNS"
    text = render_plan_text(plan_of([rc]), color=False)
    assert "blocked: waiting for DNS" in text
    assert "Plan: 1 to create, 0 to adopt, 0 to update, 0 to replace, 0 to delete; " in text
    assert "0 manual, 1 blocked, 0 unmanaged." in text


def test_apply_prints_each_resource_and_json(
    sandbox_plan: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    data = sandbox_plan
    assert main(["plan", "manifests/", "--sandbox", "-o", "plan.json"]) == 0
    capsys.readouterr()
    assert main(["apply", "plan.json", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    changing = [
        rc for rc in data["resource_changes"] if rc["action"] not in ("no-op", "manual", "blocked")
    ]
    applied = [r for r in doc["resources"] if r["outcome"] == "applied"]
    assert [(r["address"], r["action"]) for r in applied] == [
        (rc["address"], rc["action"]) for rc in changing
    ]
    assert doc["summary"] == {"applied": len(changing), "failed": 0, "skipped": 0}
    assert doc["ok"] is True


def test_apply_text_has_a_line_per_resource(
    sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "manifests/", "--sandbox", "-o", "plan.json"]) == 0
    capsys.readouterr()
    assert main(["apply", "plan.json"]) == 0
    out = capsys.readouterr().out
    assert "  + acme/descope-prod/T2acme/default  create: applied" in out
    assert "  < globex/cloudflare-main/" in out
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert f"Apply: {len(lines)} applied, 0 failed, 0 skipped" in out


def test_notes_are_inert_markdown() -> None:
    rc = change("t/p/s/x", "update", 1)
    rc["notes"] = ["see [here](https://evil.example) and ping @octocat <img src=x>"]
    text = render_plan_markdown(plan_of([rc]), json_hint="x")[0]
    assert "\\[here\\](https://evil.example)" in text
    assert "@\u2060octocat" in text and "@octocat" not in text
    assert "&lt;img src=x&gt;" in text and "<img" not in text


def test_a_very_long_plan_keeps_careful_changes_whole_and_points_to_the_json() -> None:
    changes = [change(f"t/p/s/r{n}", "update", 8, value_chars=200) for n in range(3000)]
    changes += [change(f"t/p/s/gone{n}", "delete", 3) for n in range(5)]
    changes[7]["notes"] = ["enabling applies to every user of @acme.io"]
    parts = render_plan_markdown(plan_of(changes), json_hint="`plan.json`")
    assert len(parts) <= MAX_PARTS
    joined = "\n".join(parts)
    for n in range(5):  # deletes: every field with its values
        assert joined.count(f"#### **delete** `t/p/s/gone{n}`") == 1
    assert joined.count('- `field_0`: `"' + "b" * 30 + '"`') == 5
    assert "the values are in `plan.json`" in joined
    for rc in changes[:3000]:  # every other change still listed, with its fields named
        line = f"- **update** `{rc['address']}`: " + ", ".join(f"`field_{i}`" for i in range(8))
        assert line in joined
    assert "every user of @\u2060acme.io" in joined
