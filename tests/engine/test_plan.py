"""The plan model: one shape from planner to file and back, consistent in its derived parts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ssoform.engine.plan import Action, Plan, ResourceChange, StatePin
from ssoform.model import FieldChange


def _change(action: Action = Action.UPDATE) -> ResourceChange:
    return ResourceChange.make(
        address="acme/cf/acct/acme.com",
        tenant="acme",
        provider="cf",
        provider_type="cloudflare",
        scope="acct",
        key="acme.com",
        live_id="id1",
        action=action,
        reason="fields_changed",
        before={"enabled": False},
        after={"enabled": True, "client_secret": "(sensitive)"},
        changes=[
            FieldChange(path="enabled", before=False, after=True),
            FieldChange(path="client_secret", sensitive=True, write_only="changed"),
        ],
    )


def _plan() -> Plan:
    return Plan(
        created_at="2026-01-01T00:00:00+00:00",
        manifest_digest="sha256:x",
        state=StatePin(lineage="l", serial=3),
        changes=(_change(),),
    )


def test_a_plan_round_trips_through_its_json() -> None:
    plan = _plan()
    data = plan.data()
    assert data["resource_changes"][0]["type"] == "cloudflare"
    assert data["resource_changes"][0]["action_reason"] == "fields_changed"
    assert data["resource_changes"][0]["change"]["actions"] == ["update"]
    assert data["resource_changes"][0]["change"]["after_sensitive"] == {"client_secret": True}
    assert data["summary"]["update"] == 1
    again = Plan.model_validate(data)
    assert again.data() == data
    assert again.changes[0].provider_type == "cloudflare"


def test_a_sensitive_field_shows_no_value_even_if_one_was_given() -> None:
    shown = FieldChange(path="s", before="old-value", after="new-value", sensitive=True)
    assert shown.model_dump(mode="json")["before"] == "(sensitive)"
    assert shown.model_dump(mode="json")["after"] == "(sensitive)"


def test_an_adopt_that_sends_fields_is_also_an_update() -> None:
    change = _change(Action.ADOPT)
    assert change.change.actions == ("adopt", "update")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["resource_changes"][0].update(action="delete"), "change.actions do not match"),
        (
            lambda d: d["resource_changes"][0]["change"].update(after_sensitive={}),
            "after_sensitive does not match",
        ),
        (lambda d: d["summary"].update(update=0), "summary does not match"),
        (lambda d: d.update(extra=1), "Extra inputs are not permitted"),
    ],
)
def test_a_plan_whose_derived_parts_disagree_is_invalid(edit: object, message: str) -> None:
    data = _plan().data()
    edit(data)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        Plan.model_validate(data)


def test_plans_are_frozen() -> None:
    plan = _plan()
    with pytest.raises(ValidationError):
        plan.partial = True  # type: ignore[misc]
