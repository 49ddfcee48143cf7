"""What apply may do: manifest paths, exact targets, and the differences that refuse a plan."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from ssoform.engine.authority import (
    exact_targets,
    manifest_paths_within,
    plan_differences,
    recorded_paths,
    replan_differences,
)
from ssoform.engine.plan import Action, Plan, ResourceChange, SecretPin, StatePin
from ssoform.errors import PlanError
from ssoform.model import FieldChange


def _change(key: str, action: Action, after: object = True, fp: str = "f1") -> ResourceChange:
    return ResourceChange.make(
        address=f"acme/cf/acct/{key}",
        tenant="acme",
        provider="cf",
        provider_type="cloudflare",
        scope="acct",
        key=key,
        action=action,
        reason="",
        live_fingerprint=fp,
        changes=[FieldChange(path="enabled", before=None, after=after)],
    )


def _plan(*changes: ResourceChange, pins: tuple[SecretPin, ...] = ()) -> Plan:
    return Plan(
        created_at="t",
        manifest_digest="d",
        state=StatePin(lineage="l", serial=1),
        changes=changes,
        secrets=pins,
    )


def test_recorded_paths_are_relative_and_must_be_inside(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    assert recorded_paths([tmp_path / "manifests", Path("manifests")], tmp_path) == [
        "manifests",
        "manifests",
    ]
    with pytest.raises(PlanError, match="only name manifests inside the current directory"):
        recorded_paths([tmp_path.parent], tmp_path)


@pytest.mark.parametrize("text", ["/etc/passwd", "../elsewhere.yaml", "a/../../b.yaml"])
def test_manifest_paths_leaving_the_directory_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(PlanError, match="outside the directory it was made for"):
        manifest_paths_within([text], tmp_path, Path("plan.json"))


def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "link.yaml").symlink_to(tmp_path.parent)
    with pytest.raises(PlanError, match="outside the directory"):
        manifest_paths_within(["link.yaml"], tmp_path, Path("plan.json"))
    assert manifest_paths_within(["m.yaml"], tmp_path, Path("p")) == [tmp_path.resolve() / "m.yaml"]


def test_exact_targets_match_only_their_own_address() -> None:
    (pattern,) = exact_targets(["acme/p/s/[x]*?"])
    assert fnmatch.fnmatchcase("acme/p/s/[x]*?", pattern)
    assert not fnmatch.fnmatchcase("acme/p/s/x-anything", pattern)


def test_the_same_plan_has_no_differences() -> None:
    plan = _plan(_change("a.com", Action.UPDATE), _change("b.com", Action.NOOP))
    assert plan_differences(plan, plan) == []
    assert replan_differences(plan, plan) == []


def test_differences_name_each_address_and_what_is_allowed() -> None:
    saved = _plan(
        _change("a.com", Action.DELETE),
        _change("b.com", Action.UPDATE),
        _change("c.com", Action.UPDATE),
        pins=(SecretPin(address="acme/cf/acct/c.com", field="s", ref="env:S", fingerprint="1"),),
    )
    fresh = _plan(
        _change("a.com", Action.NOOP),
        _change("b.com", Action.UPDATE, fp="f2"),
        _change("c.com", Action.UPDATE, after=False),
        _change("d.com", Action.CREATE),
        pins=(SecretPin(address="acme/cf/acct/c.com", field="s", ref="env:S", fingerprint="2"),),
    )
    assert plan_differences(saved, fresh) == [
        "acme/cf/acct/a.com: the plan says delete; the manifest, state and live objects allow "
        "no-op",
        "acme/cf/acct/b.com: the live object changed since the plan was made",
        "acme/cf/acct/c.com: its field changes differ from the plan's",
        "acme/cf/acct/d.com: create is due but not in the plan",
        "acme/cf/acct/c.com: secret env:S changed since the plan was made",
    ]


def test_replan_differences_compare_changes_only() -> None:
    reviewed = _plan(_change("a.com", Action.CREATE), _change("b.com", Action.UPDATE))
    now = _plan(
        _change("a.com", Action.CREATE, fp="other"),  # live objects may differ: not compared
        _change("b.com", Action.UPDATE, after=False),
        _change("c.com", Action.DELETE),
        _change("z.com", Action.NOOP),
    )
    assert replan_differences(reviewed, now) == [
        "~ acme/cf/acct/b.com: reviewed update, now update",
        "    enabled: reviewed None -> True; now None -> False",
        "+ acme/cf/acct/c.com: delete (not in the reviewed plan)",
    ]
    assert (
        replan_differences(now, reviewed)[-1] == "- acme/cf/acct/c.com: delete (no longer planned)"
    )
