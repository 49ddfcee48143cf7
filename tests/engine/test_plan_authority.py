"""A saved plan is a proposal, never an authority: apply derives every action again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fakes import CLOUD
from ssoform.engine.planfile import seal
from ssoform.engine.state import State, state_key
from workspace import CF_ACCOUNT, Workspace

PROTECTED = "enabled: true, protect: true}"


def _edit(plan: Path, change: Any) -> dict[str, Any]:
    saved = json.loads(plan.read_text())
    change(saved["plan"])
    return saved


def _write_with_sha256(plan: Path, saved: dict[str, Any]) -> None:
    """What an attacker did on earlier versions: recompute the unkeyed SHA-256 checksum."""
    text = json.dumps(saved["plan"], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    saved["checksum"] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    plan.write_text(json.dumps(saved))


def _reseal(ws: Workspace, plan: Path, saved: dict[str, Any]) -> None:
    """An attacker who can read the state (and so its key) seals the edited plan."""
    key = state_key(State.model_validate_json(ws.state.read_text()))
    saved["hmac"] = seal(key, saved["plan"])
    plan.write_text(json.dumps(saved))


def _all_deletes(plan: dict[str, Any]) -> None:
    for change in plan["resource_changes"]:
        change["action"] = "delete"
        change["change"]["actions"] = ["delete"]
        change["change"]["fields"] = []
        change["change"]["after_sensitive"] = {}
    plan["summary"] = {**dict.fromkeys(plan["summary"], 0), "delete": 3}
    plan["unsafe"] = []


def _protected_estate(ws: Workspace) -> None:
    ws.manifest.write_text(
        ws.manifest.read_text()
        .replace("enabled: true}", PROTECTED)
        .replace("protocol: oidc}", "protocol: oidc, protect: true}")
    )
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    assert len(CLOUD.objects) == 3


def test_a_plan_edited_into_deletes_with_a_recomputed_sha256_is_refused(ws: Workspace) -> None:
    _protected_estate(ws)
    plan = ws.plan_file()
    _write_with_sha256(plan, _edit(plan, _all_deletes))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "altered after it was saved" in err
    assert len(CLOUD.objects) == 3


def test_a_resealed_plan_of_deletes_is_refused_by_the_derivation(ws: Workspace) -> None:
    _protected_estate(ws)
    plan = ws.plan_file()
    _reseal(ws, plan, _edit(plan, _all_deletes))
    calls = len(CLOUD.calls)
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "nothing applied" in err
    assert f"acme/cf/{CF_ACCOUNT}/acme.com: the plan says delete; the manifest" in err
    assert len(CLOUD.objects) == 3
    assert not [c for c in CLOUD.calls[calls:] if "delete" in c]


def test_a_delete_needs_allow_delete_as_recorded_in_the_plan(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("[acme.com, acme.io]", "[acme.com]"))
    plan = ws.plan_file()

    def delete_acme_io(data: dict[str, Any]) -> None:
        for change in data["resource_changes"]:
            if change["address"].endswith("acme.io"):
                change["action"] = "delete"
                change["change"]["actions"] = ["delete"]
                change["notes"] = []
        data["summary"]["delete"] += 1
        data["summary"]["no-op"] -= 1

    _reseal(ws, plan, _edit(plan, delete_acme_io))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "allow no-op (delete_not_allowed)" in err
    assert f"cf|{CF_ACCOUNT}|acme.io" in CLOUD.objects


def test_thresholds_are_recomputed_not_read_from_the_plan(ws: Workspace) -> None:
    disabled = ws.over_the_update_threshold()
    plan = ws.plan_file()
    _reseal(ws, plan, _edit(plan, lambda data: data.update(unsafe=[])))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "unsafe plan: cf: 4 of 10 existing resources" in err
    assert all(
        CLOUD.objects[f"cf|{CF_ACCOUNT}|{k}"]["fields"]["enabled"] is False for k in disabled
    )


def test_manifest_paths_outside_the_plans_directory_are_refused(ws: Workspace) -> None:
    plan = ws.plan_file()
    elsewhere = ws.root.parent / f"{ws.root.name}-elsewhere.yaml"
    elsewhere.write_text("version: 1\nproviders: {x: canary-value-from-elsewhere}\n")
    for path in (str(elsewhere), f"../{elsewhere.name}"):
        _reseal(ws, plan, _edit(plan, lambda data, p=path: data.update(manifest_paths=[p])))
        code, _, err = ws.run("apply", str(plan))
        assert code == 1
        assert "names a manifest outside the directory it was made for" in err
        assert "canary-value-from-elsewhere" not in err
    assert not CLOUD.objects


def test_a_plan_records_manifest_paths_relative_to_where_it_was_made(ws: Workspace) -> None:
    saved = json.loads(ws.plan_file().read_text())
    assert saved["plan"]["manifest_paths"] == ["manifest.yaml"]
    assert saved["hmac"].startswith("hmac-sha256:")


def test_target_and_allow_delete_are_refused_with_a_saved_plan(ws: Workspace) -> None:
    plan = ws.plan_file()
    for flag in (["--target", "acme/*"], ["--allow-delete"]):
        code, _, err = ws.run("apply", str(plan), *flag)
        assert code != 0
        assert f"{flag[0]} cannot be given with a saved plan" in err
    assert not CLOUD.objects


def test_a_plan_without_a_seal_is_refused(ws: Workspace) -> None:
    plan = ws.plan_file()
    saved = json.loads(plan.read_text())
    del saved["hmac"]
    plan.write_text(json.dumps(saved))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "has no HMAC seal" in err
    assert not CLOUD.objects


def test_a_fifo_given_as_the_plan_is_refused_not_read(ws: Workspace) -> None:
    fifo = ws.root / "fifo.json"
    os.mkfifo(fifo)
    code, _, err = ws.run("apply", str(fifo))
    assert code == 1
    assert "cannot read the plan: not a regular file" in err
