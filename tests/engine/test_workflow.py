"""End to end through the CLI against the in-memory drivers: plan, save, apply, plan again."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from fakes import CLOUD
from workspace import BASE_MANIFEST, CANARY, CF_ACCOUNT, Workspace


def test_apply_then_plan_shows_no_changes(ws: Workspace) -> None:
    code, out, _ = ws.plan("--detailed-exitcode")
    assert code == 2
    assert "+ acme/cf/" + CF_ACCOUNT + "/acme.com" in out
    assert "Plan: 3 to create" in out
    plan = ws.plan_file()
    code, out, err = ws.run("apply", str(plan))
    assert code == 0, err
    assert "3 applied, 0 failed" in out
    assert CLOUD.received_secrets == {"client_secret": CANARY}
    code, out, _ = ws.plan("--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out


def test_applying_the_same_plan_twice_is_refused(ws: Workspace) -> None:
    plan = ws.plan_file()
    assert ws.run("apply", str(plan))[0] == 0
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "the state changed since the plan was made (serial" in err


def test_altered_plan_file_is_refused(ws: Workspace) -> None:
    plan = ws.plan_file()
    data = json.loads(plan.read_text())
    data["plan"]["resource_changes"][0]["action"] = "delete"
    plan.write_text(json.dumps(data))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "the plan file was altered after it was saved" in err
    assert not CLOUD.objects


def test_changed_manifest_is_refused(ws: Workspace) -> None:
    plan = ws.plan_file()
    ws.manifest.write_text(ws.manifest.read_text().replace("enabled: true", "enabled: false"))
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "the manifest changed since the plan was made" in err
    assert not CLOUD.objects


def test_live_change_since_plan_is_refused(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("enabled: true", "enabled: false"))
    plan = ws.plan_file()
    CLOUD.objects[f"cf|{CF_ACCOUNT}|acme.io"]["fields"]["use_fedramp_language"] = True
    calls = len(CLOUD.calls)
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "does not match what the manifest, the state and the live objects allow now" in err
    assert f"acme/cf/{CF_ACCOUNT}/acme.io: the plan says update (fields_changed)" in err
    assert not [c for c in CLOUD.calls[calls:] if "update" in c or "create" in c]


def test_changed_secret_is_refused(ws: Workspace, monkeypatch: object) -> None:
    import os

    plan = ws.plan_file()
    os.environ["OKTA_SECRET"] = "another-value"
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "secret env:OKTA_SECRET changed since the plan was made" in err
    assert "another-value" not in err
    assert not CLOUD.objects


def test_secret_rotation_shows_as_write_only_change(ws: Workspace) -> None:
    import os

    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    os.environ["OKTA_SECRET"] = "rotated-value-123"
    code, out, _ = ws.plan("--detailed-exitcode")
    assert code == 2
    assert "client_secret: write-only, changed (sensitive)" in out
    assert "rotated-value-123" not in out


def test_unmanaged_objects_are_reported_and_never_deleted(ws: Workspace) -> None:
    CLOUD.put("cf", CF_ACCOUNT, "other.example", {"email_domain": "other.example"})
    plan = ws.plan_file("--allow-delete")
    _, out, _ = ws.plan("--allow-delete")
    assert f"? cf/{CF_ACCOUNT}/other.example" in out
    assert ws.run("apply", str(plan))[0] == 0
    assert f"cf|{CF_ACCOUNT}|other.example" in CLOUD.objects


def test_removed_resource_is_kept_without_allow_delete_and_deleted_with_it(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("[acme.com, acme.io]", "[acme.com]"))
    _, out, _ = ws.plan()
    assert "not deleted without --allow-delete" in out
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.io" in CLOUD.objects
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.io" not in CLOUD.objects


def test_protected_resource_survives_removal_until_released(ws: Workspace) -> None:
    ws.manifest.write_text(
        ws.manifest.read_text().replace("enabled: true}", "enabled: true, protect: true}")
    )
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("      - {provider: cf", "      #"))
    _, out, _ = ws.plan("--allow-delete")
    assert "removed from the manifest but protected" in out
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.com" in CLOUD.objects
    assert ws.run("state", "release", f"acme/cf/{CF_ACCOUNT}/acme.com")[0] == 0
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.com" not in CLOUD.objects


def test_failure_mid_apply_leaves_consistent_state_and_remaining_work(ws: Workspace) -> None:
    CLOUD.fail.add("acme.io")
    code, out, err = ws.run("apply", str(ws.plan_file()))
    assert code == 1
    assert f"failed: acme/cf/{CF_ACCOUNT}/acme.io" in err
    assert "2 applied, 1 failed" in out
    state = json.loads(ws.state.read_text())
    assert set(state["resources"]) == {f"acme/cf/{CF_ACCOUNT}/acme.com", "acme/ds/T1/default"}
    assert any(e["outcome"] == "failed" for e in state["journal"])
    CLOUD.fail.clear()
    code, out, _ = ws.plan()
    assert "Plan: 1 to create, 0 to adopt, 0 to update" in out
    assert f"+ acme/cf/{CF_ACCOUNT}/acme.io" in out


def test_ambiguous_create_is_adopted_not_duplicated(ws: Workspace) -> None:
    CLOUD.ambiguous.add("acme.com")
    code, _, err = ws.run("apply", str(ws.plan_file()))
    assert code == 0, err
    keys = [k for k in CLOUD.objects if k.endswith("acme.com")]
    assert len(keys) == 1
    state = json.loads(ws.state.read_text())
    assert any(e["outcome"] == "adopted" for e in state["journal"])
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_existing_object_is_adopted_by_natural_key(ws: Workspace) -> None:
    CLOUD.put(
        "cf",
        CF_ACCOUNT,
        "acme.com",
        {"email_domain": "acme.com", "enabled": False, "use_fedramp_language": False},
    )
    _, out, _ = ws.plan()
    assert f"< acme/cf/{CF_ACCOUNT}/acme.com" in out
    assert "enabled: false -> true" in out
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    assert len(CLOUD.objects) == 3
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_immutable_change_is_a_replace(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(
        ws.manifest.read_text().replace(
            "enabled: true}", "enabled: true, use_fedramp_language: true}"
        )
    )
    _, out, _ = ws.plan()
    assert "replace: use_fedramp_language cannot change in place" in out
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_threshold_refuses_without_force(ws: Workspace) -> None:
    ws.over_the_update_threshold()
    code, out, _ = ws.plan()
    assert "UNSAFE: cf: 4 of 10 existing resources would be updated" in out
    plan = ws.plan_file()
    code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert "unsafe plan" in err
    assert ws.run("apply", str(plan), "--force")[0] == 0
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_blocked_change_is_shown_and_not_counted_as_change(ws: Workspace) -> None:
    ws.manifest.write_text(ws.manifest.read_text().replace("acme.io", "pending.acme.io"))
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    CLOUD.objects[f"cf|{CF_ACCOUNT}|pending.acme.io"]["fields"]["enabled"] = False
    code, out, _ = ws.plan("--detailed-exitcode")
    assert code == 0
    assert "blocked: waiting for DNS" in out


def test_target_limits_the_plan(ws: Workspace) -> None:
    _, out, _ = ws.plan("--target", "*/ds/*")
    assert "Partial plan" in out
    assert "acme/ds/T1/default" in out
    assert "acme.com" not in out


def test_apply_without_terminal_or_flag_refuses(ws: Workspace) -> None:
    code, _, err = ws.run("apply", str(ws.manifest))
    assert code == 1
    assert "refusing to apply without confirmation" in err
    assert not CLOUD.objects
    assert ws.run("apply", str(ws.manifest), "--auto-approve")[0] == 0
    assert len(CLOUD.objects) == 3


def test_locked_state_fails_fast_naming_the_holder(ws: Workspace) -> None:
    from ssoform.engine.backend import LocalStateBackend

    plan = ws.plan_file()
    with LocalStateBackend(ws.state).lock("apply") as held:
        code, _, err = ws.run("apply", str(plan))
    assert code == 1
    assert f"is locked (lock {held.id}): apply by process" in err
    assert not CLOUD.objects


def test_canary_secret_never_appears_anywhere(ws: Workspace) -> None:
    ws.plan()
    ws.plan("--json")
    plan = ws.plan_file()
    ws.run("apply", str(plan))
    ws.plan("--json")
    ws.run("state", "list")
    ws.run("state", "journal")
    files = [plan.read_text(), ws.state.read_text()]
    for text in ws.outputs + files:
        assert CANARY not in text
    assert oct(ws.state.stat().st_mode & 0o777) == "0o600"
    assert oct(plan.stat().st_mode & 0o777) == "0o600"


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def test_changed_since_plans_only_changed_tenants(ws: Workspace) -> None:
    _git(ws.root, "init", "-q", "-b", "main")
    _git(ws.root, "add", "manifest.yaml")
    _git(ws.root, "commit", "-q", "-m", "base")
    code, out, _ = ws.plan("--changed-since", "HEAD")
    assert code == 0
    assert "Partial plan: only part of the manifest (changed since HEAD: nothing changed)." in out
    assert "acme/" not in out
    ws.write(BASE_MANIFEST.replace("enabled: true", "enabled: false"))
    _, out, _ = ws.plan("--changed-since", "HEAD")
    assert "(changed since HEAD: tenant(s) acme)" in out
    assert "acme/cf/" in out
    code, _, err = ws.plan("--changed-since", "HEAD", "--target", "acme/*")
    assert code == 1  # a usage error, never the "changes" code
    assert "--changed-since and --target cannot be combined" in err


def test_release_of_an_unprotected_resource_says_so(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    code, out, _ = ws.run("state", "release", f"acme/cf/{CF_ACCOUNT}/acme.com")
    assert code == 0
    assert out == f"acme/cf/{CF_ACCOUNT}/acme.com was not protected: nothing to release\n"
