"""Group-committed state writes: a large apply writes the state a few times, not once per change,
and still records every change."""

from __future__ import annotations

import json
import time

import pytest

from fakes import CLOUD
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.state import State
from workspace import Workspace

TENANTS = 60


def _fleet_manifest() -> str:
    lines = [
        "version: 1",
        "providers:",
        "  cf: {type: cloudflare, api_token: {env: CF_TOKEN}}",
        "tenants:",
    ]
    for i in range(TENANTS):
        lines += [
            f"  t{i:03}:",
            f"    domains: [t{i:03}.example.com]",
            "    connections:",
            f"      - {{provider: cf, account_id: '{i:032x}'}}",
        ]
    return "\n".join(lines) + "\n"


def test_a_large_apply_batches_its_writes_and_loses_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    write = LocalStateBackend.write

    def slow_write(self: LocalStateBackend, state: State, changed: object = None) -> None:
        time.sleep(0.02)  # a state of thousands of resources takes this long to write
        writes.append(len(state.resources))
        write(self, state)

    monkeypatch.setattr(LocalStateBackend, "write", slow_write)
    CLOUD.delay = 0.002
    ws.write(_fleet_manifest())
    plan = ws.plan_file()
    writes.clear()
    code, out, err = ws.run("apply", str(plan))
    assert code == 0, err
    assert f"{TENANTS} applied, 0 failed" in out
    state = json.loads(ws.state.read_text())
    assert len(state["resources"]) == TENANTS
    assert sum(1 for e in state["journal"] if e["outcome"] == "ok") == TENANTS
    assert writes[-1] == TENANTS
    assert len(writes) <= TENANTS // 4, writes
