"""Running the engine against in-process emulators: manifest in a temp dir, plan, apply."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from ssoform.emulators.base import emulator_transport
from ssoform.emulators.idp import IdpStore
from ssoform.emulators.idp import create_app as create_idp_app
from ssoform.engine.apply import ApplyResult
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.drift import DriftOptions
from ssoform.engine.drift_model import DriftReport
from ssoform.engine.plan import Plan
from ssoform.engine.planner import PlanOptions
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import apply_plan, make_drift, make_plan
from ssoform.manifest.load import LoadedManifest, load_manifest
from ssoform.sandbox.idp import seed_idps
from ssoform.transport import SYSTEM_CLOCK, Clock


class Harness:
    """A manifest, a state file and emulator apps keyed by provider instance name."""

    def __init__(
        self,
        root: Path,
        apps: dict[str, Starlette],
        manifest: str,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.root = root
        self.apps = apps
        self.clock = clock
        """What the runs' budgets and transports wait on (a test's clock asserts the waits)."""
        self.path = root / "manifest.yaml"
        self.backend = LocalStateBackend(root / "state.json")
        self.idps = IdpStore()
        """The identity providers' side, seeded from the manifest (in sync to begin with)."""
        self.write(manifest)

    def write(self, manifest: str) -> None:
        self.path.write_text(textwrap.dedent(manifest))

    def loaded(self) -> LoadedManifest:
        loaded = load_manifest([self.path])
        assert loaded.ok, [str(d) for d in loaded.diagnostics]
        return loaded

    def config(self) -> RunConfig:
        loaded = self.loaded()
        assert loaded.manifest is not None
        seed_idps(self.idps, loaded.manifest, loaded.certificates, dt.datetime.now(dt.UTC))
        return RunConfig(
            transport_factory=lambda name, _type, _cfg: emulator_transport(self.apps[name]),
            backoff=False,
            idp_transport=emulator_transport(create_idp_app(self.idps)),
            clock=self.clock,
        )

    async def plan(self, **options: Any) -> Plan:
        outcome = await make_plan(
            self.loaded(), self.backend, self.config(), PlanOptions(**options)
        )
        return outcome.plan

    async def drift(self, **options: Any) -> DriftReport:
        return await make_drift(
            self.loaded(), self.backend, self.config(), PlanOptions(), DriftOptions(**options)
        )

    async def apply(self, plan: Plan | None = None, **options: Any) -> ApplyResult:
        plan = plan or await self.plan(**options)
        return await apply_plan(plan, self.loaded(), self.backend, self.config())

    async def converge(self) -> Plan:
        """Apply, then plan again: the second plan must have no changes."""
        result = await self.apply()
        assert result.ok, result.failed
        return await self.plan()


def actions(plan: Plan) -> dict[str, str]:
    return {c.address: c.action.value for c in plan.changes}
