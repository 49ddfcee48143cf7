"""The CI examples: valid YAML, and every `ssoform` command line in them works (on the sandbox)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssoform.cli import main

ROOT = Path(__file__).parents[2]
CI = ROOT / "examples" / "ci"
WORKFLOWS = ("plan-on-pr.yml", "apply-on-merge.yml", "nightly-drift.yml")
PROVIDERS = ("plan", "drift", "import")


def _commands(name: str) -> list[list[str]]:
    workflow: dict[Any, Any] = yaml.safe_load((CI / name).read_text())
    assert workflow["name"] and workflow[True], name  # PyYAML reads the `on:` key as True
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                if line.strip().startswith("ssoform "):
                    found.append(shlex.split(line.strip())[1:])
    return found


def test_every_workflow_is_valid_yaml_with_ssoform_commands() -> None:
    assert sorted(p.name for p in CI.glob("*.yml")) == sorted(WORKFLOWS)
    for name in WORKFLOWS:
        assert _commands(name), name


def _workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((CI / name).read_text())
    return loaded


def test_no_expression_inside_run_and_no_bare_install() -> None:
    """Untrusted text (branch names, titles) never reaches a shell: `run:` blocks hold no
    `${{ }}` expressions (values come in through `env:`), and ssoform is installed from a pinned
    source, never by a bare `pip install ssoform` (no such package is published)."""
    for name in WORKFLOWS:
        for job in _workflow(name)["jobs"].values():
            for step in job["steps"]:
                run = str(step.get("run", ""))
                assert "${{" not in run, (name, run)
                assert not re.search(r"pip install\s+['\"]?ssoform['\"]?\s*$", run, re.M), run
        assert "github.head_ref" not in (CI / name).read_text(), name


def test_every_secret_the_manifests_name_is_passed() -> None:
    manifests = "".join(p.read_text() for p in (ROOT / "examples" / "manifests").rglob("*.y*ml"))
    named = set(re.findall(r"\{env: ([A-Z0-9_]+)\}", manifests))
    assert named
    for name in WORKFLOWS:
        for job in _workflow(name)["jobs"].values():
            assert named <= set(job["env"]), (name, named - set(job["env"]))


def test_apply_takes_the_plan_of_the_merged_head_commit() -> None:
    job = _workflow("apply-on-merge.yml")["jobs"]["apply"]
    assert job["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    fetch = next(s for s in job["steps"] if "gh run download" in str(s.get("run", "")))
    assert '--commit "$HEAD_SHA"' in fetch["run"]
    assert '--name "ssoform-plan-$HEAD_SHA"' in fetch["run"]
    upload = next(
        s
        for s in _workflow("plan-on-pr.yml")["jobs"]["plan"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact")
    )
    assert upload["with"]["name"] == "ssoform-plan-${{ github.event.pull_request.head.sha }}"


def test_every_command_line_runs_against_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "examples" / "manifests", tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSOFORM_STATE", ".ssoform/sandbox/state.json")
    monkeypatch.setenv("NO_COLOR", "1")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    codes: dict[str, int] = {}
    for name in WORKFLOWS:
        for args in _commands(name):
            if args[0] in PROVIDERS:
                args = [*args, "--sandbox"]
            code = main(args)
            out, err = capsys.readouterr()
            codes[" ".join(args)] = code
            assert code in (0, 2), (name, args, out, err)
    assert codes["apply plan.json --replan --lock-timeout 10m"] == 0
    drift = json.loads((tmp_path / "drift.json").read_text())
    assert drift["summary"]["failing"] is True  # the sandbox keeps an unmanaged connector
    assert [c for c, code in codes.items() if code == 2] == [
        "drift manifests/ --format json -o drift.json --github-step-summary "
        "--cert-warning-days 30 --sandbox"
    ]
    text = summary.read_text()
    assert "## ssoform plan:" in text and "## ssoform drift:" in text
    assert (tmp_path / "drift.html").read_text().startswith("<!DOCTYPE html>")
    assert main(["apply", "plan.json"]) == 1, "a plan already applied is stale"
    assert "the state changed since the plan was made" in capsys.readouterr().err
