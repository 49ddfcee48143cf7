"""A large apply: state writes are group-committed (a few, not one per change, and every change
recorded), and each provider instance's changes run within its concurrency."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import pytest

from fakes import CLOUD, FakeCloudflare
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.state import State
from ssoform.model import Desired, Live
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

    def slow_write(self: LocalStateBackend, state: State) -> None:
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


def test_changes_run_within_the_instance_concurrency(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_flight = [0, 0]  # now, most
    create = FakeCloudflare.create

    async def counted(self: FakeCloudflare, desired: Desired, secrets: Mapping[str, str]) -> Live:
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        try:
            return await create(self, desired, secrets)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(FakeCloudflare, "create", counted)
    CLOUD.delay = 0.001
    ws.write(_fleet_manifest())
    code, out, err = ws.run("apply", str(ws.manifest), "--auto-approve")
    assert code == 0, err
    assert f"{TENANTS} applied, 0 failed" in out
    assert in_flight[1] == FakeCloudflare.capabilities.max_concurrency
