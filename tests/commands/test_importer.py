"""`ssoform import` as real processes on the sandbox: a proposal in YAML, never a state write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sandbox_cli import copy_examples, run_cli

INSTANCES = ("cloudflare-main", "descope-prod", "vantage-msp", "cantina", "pandastack")
LEGACY = "acme/cloudflare-main/023e105f4ecef8ad9ca31a8372d0c353/legacy.acme.com"


def _applied_sandbox(tmp_path: Path) -> Path:
    copy_examples(tmp_path)
    assert run_cli(tmp_path, "plan", "--sandbox", "manifests", "-o", "plan.json").returncode == 0
    applied = run_cli(tmp_path, "apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return tmp_path / ".ssoform" / "sandbox" / "state.json"


def _actions(tmp_path: Path, directory: str) -> dict[str, str]:
    done = run_cli(tmp_path, "plan", "--sandbox", directory, "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    return {c["address"]: c["action"] for c in plan["resource_changes"]}


@pytest.mark.slow  # the whole sandbox end to end: six processes, seconds each
def test_import_of_the_whole_sandbox_into_an_empty_directory_plans_no_change(
    tmp_path: Path,
) -> None:
    state = _applied_sandbox(tmp_path)
    before = state.read_bytes()
    done = run_cli(
        tmp_path, "import", *INSTANCES, "--manifest", "manifests", "--sandbox",
        "-o", "empty/imported.yaml",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Nothing was recorded in state" in done.stdout
    assert state.read_bytes() == before, "import proposes: it never writes state"

    original = _actions(tmp_path, "manifests")
    imported = _actions(tmp_path, "empty")
    # the same plan, but for the object no manifest declared: imported, it is now adopted
    assert imported.pop(LEGACY) == "adopt"
    assert imported == original
    assert not {"create", "update", "replace", "delete", "manual"} & set(imported.values())

    document = yaml.safe_load((tmp_path / "empty" / "imported.yaml").read_text())
    # acme's Okta serves Descope, Vantage and Cantina: one entry, under its own name
    assert sorted(document["identity_providers"]) == ["acme-okta", "globex-entra", "initech-okta"]
    initech = document["tenants"]["initech"]["connections"]
    descope = next(c for c in initech if c["provider"] == "descope-prod")
    assert descope["display_name"] == "Initech Okta"

    applied = run_cli(tmp_path, "apply", "--sandbox", "empty", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    recorded = json.loads(state.read_text())["resources"]
    assert recorded[LEGACY]["origin"] == "adopted"


def test_import_into_the_manifest_directory_writes_only_what_is_new(tmp_path: Path) -> None:
    _applied_sandbox(tmp_path)
    out = tmp_path / "manifests" / "imported.yaml"
    done = run_cli(
        tmp_path, "import", *INSTANCES, "--manifest", "manifests", "--sandbox", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "already declared" in done.stderr
    assert f"not written: {LEGACY}: tenant 'acme' is already defined in" in done.stderr
    document = yaml.safe_load(out.read_text())
    assert document == {"version": 1, "providers": {}, "identity_providers": {}, "tenants": {}}
    valid = run_cli(tmp_path, "validate", "manifests")
    assert valid.returncode == 0, valid.stdout + valid.stderr
