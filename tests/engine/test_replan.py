"""`apply PLAN --replan`: two pull requests planned against one state, merged one by one."""

from __future__ import annotations

from pathlib import Path

from fakes import CLOUD
from workspace import CF_ACCOUNT, Workspace

ACME_NET = "[acme.com, acme.io, acme.net]"
HOOLI = f"""  hooli:
    domains: [hooli.com]
    idp: okta
    connections:
      - {{provider: cf, account_id: {CF_ACCOUNT}, enabled: true}}
"""


def _pr_plan(ws: Workspace, manifest: str, name: str) -> Path:
    """A pull request's plan: its manifest, planned against the shared state."""
    ws.manifest.write_text(manifest)
    path = ws.root / name
    code, _, err = ws.run("plan", str(ws.manifest), "-o", str(path))
    assert code in (0, 2), err
    return path


def _two_prs(ws: Workspace, first: str) -> tuple[str, Path, Path]:
    assert ws.run("apply", str(ws.plan_file()))[0] == 0
    base = ws.manifest.read_text()
    pr1 = _pr_plan(ws, first, "pr1.json")
    pr2 = _pr_plan(ws, base.replace("[acme.com, acme.io]", ACME_NET), "pr2.json")
    ws.manifest.write_text(first)  # main after merging the first pull request
    assert ws.run("apply", str(pr1))[0] == 0
    merged = first.replace("[acme.com, acme.io]", ACME_NET)
    ws.manifest.write_text(merged)  # main after merging the second
    return merged, pr1, pr2


def test_an_independent_second_plan_applies_with_replan(ws: Workspace) -> None:
    first = ws.manifest.read_text() + HOOLI
    _, _, pr2 = _two_prs(ws, first)
    code, _, err = ws.run("apply", str(pr2))
    assert code == 1
    assert "(or apply it with --replan)" in err
    code, out, err = ws.run("apply", str(pr2), "--replan")
    assert code == 0, err
    assert "1 applied" in out
    assert f"cf|{CF_ACCOUNT}|acme.net" in CLOUD.objects
    assert ws.plan("--detailed-exitcode")[0] == 0


def test_a_conflicting_second_plan_is_refused_with_the_difference(ws: Workspace) -> None:
    first = ws.manifest.read_text().replace("enabled: true}", "enabled: false}")
    _, _, pr2 = _two_prs(ws, first)
    calls = len(CLOUD.calls)
    code, _, err = ws.run("apply", str(pr2), "--replan")
    assert code == 1
    assert "differs from the reviewed plan; nothing applied" in err
    assert f"~ acme/cf/{CF_ACCOUNT}/acme.net: reviewed create (new), now create (new)" in err
    assert "    enabled: reviewed None -> True; now None -> False" in err
    assert f"cf|{CF_ACCOUNT}|acme.net" not in CLOUD.objects
    assert not [c for c in CLOUD.calls[calls:] if "create" in c or "update" in c]


def test_replan_needs_a_saved_plan(ws: Workspace) -> None:
    code, _, err = ws.run("apply", str(ws.manifest), "--replan")
    assert code != 0
    assert "--replan applies a saved plan" in err
