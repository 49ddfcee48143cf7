"""The applier carries out a derived plan; a move rewrites state and sends nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ssoform.engine.apply import Applier
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.plan import Action, Plan, ResourceChange, StatePin
from ssoform.engine.state import ResourceState, State
from ssoform.manifest.secrets import SecretResolver

OLD, NEW = "aviato/cf/acct/aviato.com", "aviato-renamed/cf/acct/aviato.com"


def test_a_move_rewrites_state_and_calls_no_driver(tmp_path: Path) -> None:
    state = State()
    state.resources[OLD] = ResourceState(
        provider="cf",
        provider_type="cloudflare",
        scope="acct",
        key="aviato.com",
        id="id7",
        origin="created",
    )
    move = ResourceChange.make(
        address=NEW,
        tenant="aviato-renamed",
        provider="cf",
        provider_type="cloudflare",
        scope="acct",
        key="aviato.com",
        live_id="id7",
        action=Action.MOVE,
        reason="moved",
        previous_address=OLD,
    )
    plan = Plan(
        created_at="t",
        manifest_digest="d",
        state=StatePin(lineage=state.lineage, serial=0),
        changes=(move,),
    )
    backend = LocalStateBackend(tmp_path / "state.json")
    applier = Applier(plan, SecretResolver(), {}, {}, state, backend)
    assert applier.minimal_calls() == {}
    result = asyncio.run(applier.run())
    assert result.applied == [NEW]
    saved = backend.read()
    assert saved is not None
    assert set(saved.resources) == {NEW}
    assert saved.resources[NEW].id == "id7"
    assert saved.journal[-1].detail == f"moved from {OLD}"
