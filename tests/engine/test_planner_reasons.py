"""Every `action_reason` the planner gives, one table row each: the situation and the action.

A row is a driver's capabilities, a desired resource (or none: removed from the manifest), a
state record (or none) and a live object (or none). The last test reads the planner's
decision modules (`declared`, `removed`) for the reasons they can give, so a new reason without
a row here fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ssoform.drivers.base import Capabilities, Driver, DriverContext, ExpandContext
from ssoform.engine import declared, removed
from ssoform.engine.plan import Action
from ssoform.engine.planner import Planner, PlanOptions
from ssoform.engine.state import ResourceState, State
from ssoform.manifest.models import Manifest
from ssoform.model import Desired, Live

SCOPE, KEY = "acct", "acme.com"
ADDRESS = f"acme/p/{SCOPE}/{KEY}"
FIELDS = {"name": "Acme", "region": "eu"}


class TableDriver(Driver):
    type_name = "table"
    default_base_url: ClassVar[str] = "https://table.invalid"
    capabilities = Capabilities(readable=frozenset(FIELDS), immutable=frozenset({"region"}))
    live: ClassVar[list[Live]] = []

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        return []

    async def read_scope(self, scope: str) -> list[Live]:
        return [obj for obj in self.live if obj.scope == scope]

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        raise AssertionError("planning never writes")


@dataclass(frozen=True)
class Row:
    reason: str
    action: Action
    desired: Mapping[str, Any] | None = field(default_factory=lambda: dict(FIELDS))
    owned: bool = False
    live: Mapping[str, Any] | None = None
    caps: Mapping[str, Any] = field(default_factory=dict)
    protect: bool = False
    write_only: Mapping[str, Any] = field(default_factory=dict)
    allow_delete: bool = False


CHANGED = {"name": "Acme Corp", "region": "eu"}
MOVED = {"name": "Acme", "region": "us"}
GONE: dict[str, Any] | None = None

ROWS = [
    Row("new", Action.CREATE),
    Row("new", Action.MANUAL, caps={"can_create": False}),
    Row("deleted_outside_ssoform", Action.CREATE, owned=True),
    Row("scope_not_found", Action.MANUAL, caps={"existence_observable": False}),
    Row("adopt_needs_manual_change", Action.MANUAL, live=MOVED),
    Row("adopt_needs_manual_change", Action.MANUAL, live=CHANGED, caps={"can_update": False}),
    Row("matches_by_natural_key", Action.ADOPT, live=CHANGED),
    Row("", Action.NOOP, owned=True, live=FIELDS),
    Row("immutable_field_changed", Action.REPLACE, owned=True, live=MOVED),
    Row("immutable_field_changed", Action.MANUAL, owned=True, live=MOVED, protect=True),
    Row(
        "immutable_field_changed", Action.MANUAL, owned=True, live=MOVED, caps={"can_delete": False}
    ),
    Row(
        "write_only_unverifiable",
        Action.NOOP,
        owned=True,
        live=FIELDS,
        caps={"can_update": False},
        write_only={"token_ttl": 60},
    ),
    Row(
        "write_only_unverifiable",
        Action.UPDATE,
        live=FIELDS,
        caps={"existence_observable": False},
        write_only={"token_ttl": 60},
    ),
    Row(
        "update_not_supported", Action.MANUAL, owned=True, live=CHANGED, caps={"can_update": False}
    ),
    Row("fields_changed", Action.UPDATE, owned=True, live=CHANGED),
    Row("protected", Action.NOOP, desired=GONE, owned=True, live=FIELDS, protect=True),
    Row("gone_from_live_and_manifest", Action.FORGET, desired=GONE, owned=True),
    Row("delete_not_allowed", Action.NOOP, desired=GONE, owned=True, live=FIELDS),
    Row(
        "delete_not_supported",
        Action.MANUAL,
        desired=GONE,
        owned=True,
        live=FIELDS,
        allow_delete=True,
        caps={"can_delete": False},
    ),
    Row(
        "removed_from_manifest",
        Action.DELETE,
        desired=GONE,
        owned=True,
        live=FIELDS,
        allow_delete=True,
    ),
]


def _plan(row: Row) -> tuple[Action, str, tuple[str, ...]]:
    caps = Capabilities(
        readable=frozenset(FIELDS),
        immutable=frozenset({"region"}),
        write_only=frozenset(row.write_only),
        **row.caps,
    )
    driver_class = type("Driver", (TableDriver,), {"capabilities": caps})
    driver_class.live = [] if row.live is None else [Live(SCOPE, KEY, "id1", dict(row.live))]
    client = httpx.AsyncClient()
    driver = driver_class(DriverContext("p", None, client, {}, "https://table.invalid"))
    state = State()
    if row.owned:
        state.resources[ADDRESS] = ResourceState(
            provider="p",
            provider_type="table",
            scope=SCOPE,
            key=KEY,
            id="id1",
            origin="created",
            protect=row.protect,
        )
    desired = []
    if row.desired is not None:
        desired.append(
            Desired(
                "acme", "p", SCOPE, KEY, row.desired, write_only=row.write_only, protect=row.protect
            )
        )
    manifest = Manifest.model_validate({"version": 1})
    options = PlanOptions(allow_delete=row.allow_delete)
    plan = asyncio.run(Planner(manifest, "d", state, {"p": driver}, desired, options).plan())
    asyncio.run(client.aclose())
    (change,) = plan.changes
    return change.action, change.reason, change.replace_fields


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.reason or 'in_sync'}-{r.action.value}")
def test_each_situation_gets_its_action_and_reason(row: Row) -> None:
    action, reason, _ = _plan(row)
    assert (action, reason) == (row.action, row.reason)


def test_an_immutable_change_is_planned_as_a_replace_of_that_field() -> None:
    row = Row("immutable_field_changed", Action.REPLACE, owned=True, live=MOVED)
    assert _plan(row) == (Action.REPLACE, "immutable_field_changed", ("region",))


_REASON = re.compile(r'reason\s*=\s*"([a-z_]*)"(?:\s+if [^"\n]+ else "([a-z_]+)")?')


def test_every_reason_the_planner_gives_has_a_row() -> None:
    source = "".join(Path(m.__file__).read_text() for m in (declared, removed))
    given = {r for found in _REASON.findall(source) for r in found if r or found == ("", "")}
    assert given <= {row.reason for row in ROWS}, sorted(given - {r.reason for r in ROWS})
    assert len(given) >= 15, sorted(given)
