"""Renames are moves: state follows the object, nothing is sent, nothing is deleted."""

from __future__ import annotations

import json

from fakes import CLOUD
from ssoform.cli import main
from ssoform.report.plan import render_plan_markdown
from workspace import CF_ACCOUNT, Workspace

OLD = f"acme/cf/{CF_ACCOUNT}/acme.com"
NEW = f"acme-renamed/cf/{CF_ACCOUNT}/acme.com"


def _rename_tenant(ws: Workspace, extra: str = "") -> None:
    ws.manifest.write_text(
        ws.manifest.read_text().replace("  acme:\n", "  acme-renamed:\n") + extra
    )


def test_renamed_tenant_is_moved_not_deleted(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ids = {k: v["id"] for k, v in CLOUD.objects.items()}
    _rename_tenant(ws)
    code, out, _ = ws.plan("--allow-delete", "--detailed-exitcode")
    assert code == 2
    assert f"moved: {OLD} -> {NEW}" in out
    assert "to delete" in out and "0 to delete" in out
    assert "3 to move" in out
    plan = ws.plan_file("--allow-delete")
    data = json.loads(plan.read_text())["plan"]
    moves = {c["address"]: c for c in data["resource_changes"] if c["action"] == "move"}
    assert moves[NEW]["previous_address"] == OLD
    assert not [c for c in data["resource_changes"] if c["action"] in ("delete", "adopt")]
    calls = len(CLOUD.calls)
    code, out, err = ws.run("apply", str(plan))
    assert code == 0, err
    assert [c for c in CLOUD.calls[calls:] if ":list " not in c] == []  # apply re-reads, sends none
    assert {k: v["id"] for k, v in CLOUD.objects.items()} == ids
    state = json.loads(ws.state.read_text())
    assert NEW in state["resources"] and OLD not in state["resources"]
    assert state["resources"][NEW]["id"] == ids[f"cf|{CF_ACCOUNT}|acme.com"]
    code, out, _ = ws.plan("--allow-delete", "--detailed-exitcode")
    assert code == 0, out
    assert "deleted outside ssoform" not in out


def test_rename_with_a_field_change_moves_then_updates(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    _rename_tenant(ws)
    ws.manifest.write_text(ws.manifest.read_text().replace("enabled: true", "enabled: false"))
    _, out, _ = ws.plan("--allow-delete")
    assert f"~ {NEW}" in out
    assert f"moved: {OLD} -> {NEW}" in out
    calls = len(CLOUD.calls)
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    sent = [c for c in CLOUD.calls[calls:] if ":list " not in c]
    assert sent and all("update" in c for c in sent)
    state = json.loads(ws.state.read_text())
    assert NEW in state["resources"] and OLD not in state["resources"]
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_moved_entry_follows_a_renamed_provider_instance(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    text = ws.manifest.read_text().replace("  cf: {type", "  edge: {type")
    text = text.replace("{provider: cf,", "{provider: edge,")
    moved = [
        f"  - {{from: acme/cf/{CF_ACCOUNT}/{d}, to: acme/edge/{CF_ACCOUNT}/{d}}}\n"
        for d in ("acme.com", "acme.io")
    ]
    ws.manifest.write_text(text + "moved:\n" + "".join(moved))
    for ident in [i for i in CLOUD.objects if i.startswith("cf|")]:  # the fake keys by instance
        CLOUD.objects["edge|" + ident[3:]] = CLOUD.objects.pop(ident)
    code, out, err = ws.plan("--allow-delete")
    assert code == 0, err
    assert f"moved: acme/cf/{CF_ACCOUNT}/acme.io -> acme/edge/{CF_ACCOUNT}/acme.io" in out
    assert "2 to move" in out
    calls = len(CLOUD.calls)
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert not [c for c in CLOUD.calls[calls:] if ":list " not in c]
    state = json.loads(ws.state.read_text())
    res = state["resources"][f"acme/edge/{CF_ACCOUNT}/acme.io"]
    assert res["provider"] == "edge"
    assert not [a for a in state["resources"] if "/cf/" in a]
    # once applied, the entry is inert
    assert ws.plan("--allow-delete", "--detailed-exitcode")[0] == 0


def _validate(ws: Workspace) -> tuple[int, str, str]:
    code = main(["validate", str(ws.manifest)])
    out, err = ws.capsys.readouterr()
    return code, out, err


def test_moved_addresses_must_be_well_formed(ws: Workspace) -> None:
    ws.manifest.write_text(
        ws.manifest.read_text() + "moved:\n  - {from: not-an-address, to: acme/cf/x/acme.com}\n"
    )
    code, out, err = _validate(ws)
    assert code != 0
    assert "moved" in out + err and "from" in out + err


def test_moved_entries_are_cross_checked(ws: Workspace) -> None:
    entries = (
        "moved:\n"
        f"  - {{from: acme/cf/{CF_ACCOUNT}/old.com, to: acme/cf/{CF_ACCOUNT}/nowhere.com}}\n"
        f"  - {{from: acme/cf/{CF_ACCOUNT}/a.com, to: acme/cf/{CF_ACCOUNT}/b.com}}\n"
        f"  - {{from: acme/cf/{CF_ACCOUNT}/b.com, to: acme/cf/{CF_ACCOUNT}/acme.com}}\n"
        f"  - {{from: acme/cf/{CF_ACCOUNT}/acme.io, to: acme/cf/{CF_ACCOUNT}/acme.com}}\n"
    )
    ws.manifest.write_text(ws.manifest.read_text() + entries)
    code, out, err = _validate(ws)
    text = out + err
    assert code != 0
    assert f"acme/cf/{CF_ACCOUNT}/nowhere.com is not declared" in text
    assert "chains and cycles are not allowed" in text
    assert f"acme/cf/{CF_ACCOUNT}/acme.io is still declared" in text
    assert "is already the target of moved[2]" in text


def test_state_mv_moves_the_record_and_the_next_plan_agrees(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    _rename_tenant(ws)
    before = ws.state.read_text()
    code, out, _ = ws.run("state", "mv", "--dry-run", OLD, NEW)
    assert code == 0 and f"would move {OLD} -> {NEW}" in out
    assert ws.state.read_text() == before
    code, out, _ = ws.run("state", "mv", OLD, NEW)
    assert code == 0 and f"moved {OLD} -> {NEW}" in out
    state = json.loads(ws.state.read_text())
    assert NEW in state["resources"] and OLD not in state["resources"]
    assert state["journal"][-1]["action"] == "move"
    _, out, _ = ws.plan("--allow-delete")
    assert f"moved: {OLD} -> {NEW}" not in out  # already moved by hand
    assert f"= {NEW}" not in out and "0 to delete" in out


def test_state_mv_refuses_unknown_taken_or_malformed_addresses(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    before = ws.state.read_text()
    taken = f"acme/cf/{CF_ACCOUNT}/acme.io"
    assert "is not in the state" in ws.run("state", "mv", "acme/cf/x/nope", NEW)[2]
    assert "is already in the state" in ws.run("state", "mv", OLD, taken)[2]
    code, _, err = ws.run("state", "mv", OLD, "not an address")
    assert code == 1 and "is not an address" in err
    assert ws.state.read_text() == before


def test_state_rm_forgets_without_deleting(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    ws.manifest.write_text(ws.manifest.read_text().replace("[acme.com, acme.io]", "[acme.com]"))
    gone = f"acme/cf/{CF_ACCOUNT}/acme.io"
    before = ws.state.read_text()
    code, out, _ = ws.run("state", "rm", "--dry-run", gone)
    assert code == 0 and f"would forget {gone}" in out
    assert ws.state.read_text() == before
    calls = len(CLOUD.calls)
    code, out, _ = ws.run("state", "rm", gone)
    assert code == 0 and f"forgot {gone}" in out
    assert CLOUD.calls[calls:] == []
    assert gone not in json.loads(ws.state.read_text())["resources"]
    code, out, _ = ws.plan("--allow-delete")
    assert "No changes." in out
    assert f"? cf/{CF_ACCOUNT}/acme.io" in out  # unmanaged now, never deleted
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.io" in CLOUD.objects
    assert "is not in the state" in ws.run("state", "rm", gone)[2]


def test_a_targeted_plan_of_the_new_address_still_moves(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    _rename_tenant(ws)
    _, out, _ = ws.plan("--allow-delete", "--target", "acme-renamed/cf/*")
    assert f"moved: {OLD} -> {NEW}" in out
    assert "to adopt" in out and "0 to adopt" in out
    assert (
        ws.run("apply", str(ws.plan_file("--allow-delete", "--target", "acme-renamed/*")))[0] == 0
    )
    calls = len(CLOUD.calls)
    code, out, _ = ws.plan("--allow-delete", "--detailed-exitcode")
    assert code == 0, out
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert not [c for c in CLOUD.calls[calls:] if "delete" in c]


def test_a_live_object_kept_elsewhere_is_never_deleted(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    state = json.loads(ws.state.read_text())
    stale = f"gone/cf/{CF_ACCOUNT}/acme.com"  # a second record of the same object (an old bug)
    state["resources"][stale] = state["resources"][OLD]
    ws.state.write_text(json.dumps(state))
    _, out, _ = ws.plan("--allow-delete")
    assert f"x {stale}" in out and f"the same live object is kept at {OLD}" in out
    assert ws.run("apply", str(ws.plan_file("--allow-delete")))[0] == 0
    assert f"cf|{CF_ACCOUNT}|acme.com" in CLOUD.objects
    assert stale not in json.loads(ws.state.read_text())["resources"]


def test_markdown_plan_shows_the_move(ws: Workspace) -> None:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    _rename_tenant(ws)
    data = json.loads(ws.plan_file().read_text())["plan"]
    text = "".join(render_plan_markdown(data, json_hint="plan.json"))
    assert f"**move** `{NEW}` (moved from `{OLD}`)" in text
    assert "| forget | move |" in text
