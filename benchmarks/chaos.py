"""Chaos: apply a fleet of SSO connections while every emulator misbehaves.

    PYTHONPATH=src python benchmarks/chaos.py --connections 500 [--seed 1]

The fleet spreads its connections over Cloudflare, Descope (OIDC), PandaStack, Cantina and
Vantage (whose SSO connection cannot be read back), all run in-process. Each emulator answers
10% of requests 503, drops 3% of connections, stalls 3% past the client timeout, commits 10% of
creates and then times out, and opens with a short burst of 429s carrying Retry-After. Apply runs
up to three times; the run must converge (the next plan has no changes) with no duplicate object
anywhere, and the journal must account for every object that exists. `tests/engine/test_chaos.py`
runs a shortened form in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette

from ssoform.emulators import cantina, cloudflare, descope, pandastack, vantage
from ssoform.emulators.base import FaultConfig, emulator_transport
from ssoform.emulators.cantina_store import CantinaStore
from ssoform.emulators.cloudflare import CloudflareStore
from ssoform.emulators.descope_store import DescopeStore
from ssoform.emulators.pandastack_store import PandaStackStore
from ssoform.emulators.vantage_store import VantageStore
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.plan import CHANGING
from ssoform.engine.planner import PlanOptions
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import apply_plan, make_plan
from ssoform.manifest.load import load_manifest

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
ORG = "1234567890"
PROVIDERS = ("cf", "ds", "ps", "ca", "va")
UNLIMITED = "rate_limit: {requests: 100000, per_seconds: 1}"
HEADER = f"""version: 1
providers:
  cf: {{type: cloudflare, api_token: {{env: CHAOS_CF}}, {UNLIMITED}}}
  ds: {{type: descope, project_id: P2emulator, management_key: {{env: CHAOS_DS}}, {UNLIMITED}}}
  ps: {{type: pandastack, api_token: {{env: CHAOS_PS}}, organization_id: "{ORG}", {UNLIMITED}}}
  ca: {{type: cantina, api_key: {{env: CHAOS_CA}}, {UNLIMITED}}}
  va: {{type: vantage, api_token: {{env: CHAOS_VA}}, {UNLIMITED}}}
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: 0oa1, client_secret: {{env: CHAOS_OIDC}}}}
    saml: {{metadata_url: "https://acme.okta.com/app/exk1/sso/saml/metadata"}}
tenants:
"""
CREDENTIALS = {
    "CHAOS_CF": "cf-emulator-token",
    "CHAOS_DS": "descope-emulator-key",
    "CHAOS_PS": pandastack.DEFAULT_TOKEN,
    "CHAOS_CA": "cantina-emulator-key",
    "CHAOS_VA": "vantage-emulator-token",
    "CHAOS_OIDC": "chaos-oidc-secret-5d1e",
}


def chaos_faults(seed: int, burst: int) -> FaultConfig:
    return FaultConfig(
        error_rate=0.10,
        drop_rate=0.03,
        stall_rate=0.03,
        commit_then_timeout_rate=0.10,
        burst_429=burst,
        seed=seed,
    )


@dataclass
class Fleet:
    """The manifest and the emulator stores for `size` connections."""

    size: int
    cf: CloudflareStore = field(default_factory=CloudflareStore)
    ds: DescopeStore = field(default_factory=DescopeStore)
    ps: PandaStackStore = field(default_factory=PandaStackStore)
    ca: CantinaStore = field(default_factory=CantinaStore)
    va: VantageStore = field(default_factory=VantageStore)
    companies: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    def manifest(self) -> str:
        lines = [HEADER]
        for index in range(self.size):
            name = f"t{index:04d}"
            provider = PROVIDERS[index % len(PROVIDERS)]
            lines.append(f"  {name}:\n    domains: [{name}.example]\n    idp: okta\n")
            lines.append(f"    connections:\n      - {self._connection(provider, name)}\n")
        return "".join(lines)

    def _connection(self, provider: str, name: str) -> str:
        if provider == "cf":
            return f"{{provider: cf, account_id: {ACCOUNT}}}"
        if provider == "ds":
            self.ds.create_tenant(name, f"T{name}")
            return f"{{provider: ds, tenant_id: T{name}, protocol: oidc}}"
        if provider == "ps":
            settings = "{provider_url: https://acme.okta.com, client_id: 0oa1, enabled: true}"
            return f"{{provider: ps, name: {name}, settings: {settings}}}"
        if provider == "va":
            token = f"acct_{uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:16]}"
            self.va.add_managed_account(
                name, f"it@{name}.example", email_domain=f"{name}.example", token=token
            )
            self.accounts[name] = token
            return f"{{provider: va, managed_account: {token}}}"
        company = str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
        self.ca.add_company(name, company)
        self.companies[name] = company
        return f"{{provider: ca, company_id: {company}}}"

    def apps(self) -> dict[str, Starlette]:
        big = {"rate_limit": 1_000_000}
        return {
            "cf": cloudflare.create_app(store=self.cf, **big),
            "ds": descope.create_app(store=self.ds, **big),
            "ps": pandastack.create_app(store=self.ps, **big),
            "ca": cantina.create_app(store=self.ca, **big),
            "va": vantage.create_app(store=self.va, **big),
        }

    def objects(self) -> Counter[str]:
        """Every SSO object in every emulator, counted by its natural key."""
        found: Counter[str] = Counter()
        for connector in self.cf.list(ACCOUNT):
            found[f"cf/{connector.email_domain}"] += 1
        for tenant_id, tenant in self.ds.tenants.items():
            for sso_id, config in tenant.configs.items():
                if config.oidc is not None or config.saml is not None:
                    found[f"ds/{tenant_id}/{sso_id}"] += 1
        for document in self.ps.documents(ORG):
            found[f"ps/{document['slug']}"] += 1
        for name, company in self.companies.items():
            for _ in self.ca.connections_of(company):
                found[f"ca/{name}"] += 1
        for name, token in self.accounts.items():
            if token in self.va.connections:  # at most one per account: the API has no second
                found[f"va/{name}"] += 1
        return found


@dataclass
class ChaosReport:
    connections: int
    runs: int = 0
    converged: bool = False
    seconds: float = 0.0
    objects: int = 0
    duplicates: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    failed_per_run: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    requests: Counter[int] = field(default_factory=Counter)
    journal: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(self.requests.items()))
        return (
            f"chaos: {self.connections} connections, converged={self.converged} after "
            f"{self.runs} run(s) in {self.seconds:.1f} s; objects {self.objects}, "
            f"duplicates {len(self.duplicates)}, unaccounted {len(self.unaccounted)}; "
            f"failed per run {self.failed_per_run}; answers {{{answers}}}; "
            f"journal {dict(sorted(self.journal.items()))}"
        )


async def run_chaos(
    size: int, root: Path, *, seed: int = 1, burst: int = 2, max_runs: int = 3
) -> ChaosReport:
    os.environ.update(CREDENTIALS)
    fleet = Fleet(size)
    path = root / "fleet.yaml"
    path.write_text(fleet.manifest())
    apps = fleet.apps()
    for offset, app in enumerate(apps.values()):
        app.state.emulator.configure(chaos_faults(seed + offset, burst))
    config = RunConfig(
        transport_factory=lambda name, _type, _cfg: emulator_transport(apps[name]),
        backoff=False,
    )
    backend = LocalStateBackend(root / "state.json")
    report = ChaosReport(size)
    started = time.monotonic()
    loaded = load_manifest([path])
    assert loaded.ok, [str(d) for d in loaded.diagnostics[:5]]
    for _ in range(max_runs):
        report.runs += 1
        plan = await _plan_through_faults(loaded, backend, config)
        # --force: Vantage's first write of every connection counts as an update of an existing
        # object, over the 30% threshold; the threshold guards intent, not faults.
        result = await apply_plan(plan, loaded, backend, config, force=True)
        report.failed_per_run.append(len(result.failed))
        report.failures.extend(message for _, message in result.failed)
        if result.ok:
            break
    for app in apps.values():
        app.state.emulator.configure(FaultConfig())
        report.requests.update(app.state.emulator.answers)
    final = await _plan_through_faults(loaded, backend, config)
    report.remaining = [
        f"{c.address}: {c.action.value}" for c in final.changes if c.action in CHANGING
    ]
    report.converged = not report.remaining
    report.seconds = time.monotonic() - started
    objects = fleet.objects()
    report.objects = sum(objects.values())
    report.duplicates = sorted(k for k, n in objects.items() if n > 1)
    state = backend.read()
    assert state is not None
    report.journal.update(f"{e.action}:{e.outcome}" for e in state.journal)
    journaled = {
        e.address for e in state.journal if e.outcome in ("ok", "adopted") and e.action != "forget"
    }
    report.unaccounted = sorted(set(state.resources) - journaled)
    if report.objects != len(state.resources):
        report.unaccounted.append(
            f"{report.objects} objects exist but state holds {len(state.resources)}"
        )
    return report


async def _plan_through_faults(loaded, backend, config):  # type: ignore[no-untyped-def]
    """Plan, retrying when faults outlast the transport's retries (a plan makes no changes)."""
    for attempt in range(5):
        try:
            return (await make_plan(loaded, backend, config, PlanOptions())).plan
        except Exception:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--burst", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ssoform-chaos-") as tmp:
        report = asyncio.run(
            run_chaos(args.connections, Path(tmp), seed=args.seed, burst=args.burst)
        )
    print(report.summary())
    for line in report.remaining[:20]:
        print(f"  remaining: {line}")
    for line in report.failures[:20]:
        print(f"  failed: {line}")
    ok = report.converged and not report.duplicates and not report.unaccounted
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
