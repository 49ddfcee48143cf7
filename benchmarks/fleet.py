"""Generate a benchmark fleet: a manifest, emulator stores and a state, a tenth of it differing.

For `size` connections (5,000 by default): 2/5 Descope tenants, 1/5 Cloudflare accounts, 1/5
Vantage managed accounts, 1/10 Cantina companies and 1/10 PandaStack organizations, spread over
`2/5 * size` tenants, one manifest file per tenant. The estate is made by applying the manifest
(minus the differing tenth) to in-process emulators; the manifest then changes a tenth of each
provider's connections: Descope redirect URLs, Cloudflare FedRAMP wording, Vantage IdP metadata
URLs (write-only), PandaStack settings, and new Cantina connections (Cantina cannot update).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssoform.emulators.base import emulator_transport
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.planner import PlanOptions
from ssoform.engine.wiring import RunConfig
from ssoform.engine.workflow import apply_plan, make_plan
from ssoform.manifest.load import LoadOptions, load_manifest
from ssoform.sandbox import seeds
from ssoform.sandbox.kinds import JsonStore, kind_for

__all__ = ["ENV", "PROVIDERS", "Fleet", "generate"]

PROVIDERS = ("cloudflare", "descope", "vantage", "cantina", "pandastack")
"""Provider instance names; each is of the type it is named after."""

ENV = {
    "BENCH_CLOUDFLARE_TOKEN": seeds.CLOUDFLARE_TOKEN,
    "BENCH_DESCOPE_KEY": seeds.DESCOPE_KEY,
    "BENCH_VANTAGE_TOKEN": seeds.VANTAGE_TOKEN,
    "BENCH_CANTINA_KEY": seeds.CANTINA_KEY,
    "BENCH_PANDASTACK_TOKEN": seeds.PANDASTACK_TOKEN,
    "BENCH_OIDC_SECRET": "bench-oidc-client-secret",
    "SSOFORM_STATE_KEY": "bench-state-key",
}
_CREDENTIAL = {
    "cloudflare": ("api_token", "BENCH_CLOUDFLARE_TOKEN"),
    "descope": ("management_key", "BENCH_DESCOPE_KEY"),
    "vantage": ("api_token", "BENCH_VANTAGE_TOKEN"),
    "cantina": ("api_key", "BENCH_CANTINA_KEY"),
    "pandastack": ("api_token", "BENCH_PANDASTACK_TOKEN"),
}
IDPS = 20
UNLIMITED = dict.fromkeys(PROVIDERS, (1_000_000, 1.0))


@dataclass(frozen=True)
class Fleet:
    root: Path
    size: int
    counts: dict[str, int]
    """Connections per provider instance."""
    changes: dict[str, int]
    """Connections per provider instance that differ from the estate."""

    @property
    def manifest(self) -> Path:
        return self.root / "manifest"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    def store(self, provider: str) -> Path:
        return self.root / "stores" / f"{provider}.json"


def _counts(size: int) -> dict[str, int]:
    return {
        "descope": size * 2 // 5,
        "cloudflare": size // 5,
        "vantage": size // 5,
        "cantina": size // 10,
        "pandastack": size // 10,
    }


def _differs(index: int) -> bool:
    return index % 10 == 3


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _tenant_yaml(i: int, counts: dict[str, int], final: bool) -> str:
    name = f"t{i:05d}"
    changed = final and _differs(i)
    lines = [
        "tenants:",
        f"  {name}:",
        f"    domains: [{name}.example]",
        f"    idp: idp-{i % IDPS:02d}",
        "    connections:",
        "      - provider: descope",
        f"        tenant_id: T2{name}",
        "        protocol: saml-metadata",
        '        redirect_url: "https://{{ vars.callback_host }}/'
        + ("v2/" if changed else "")
        + '{{ tenant.name }}/callback"',
        "        attribute_mapping: {email: user.email}",
    ]
    cf, panda_end = counts["cloudflare"], counts["cloudflare"]
    if i < cf:
        lines += [
            "      - provider: cloudflare",
            f"        account_id: {_hex(name)[:32]}",
            "        enabled: false",
            f"        use_fedramp_language: {'true' if changed else 'false'}",
        ]
    elif i < cf + counts["vantage"]:
        lines += [
            "      - provider: vantage",
            f"        managed_account: acct_{_hex(name)[:16]}",
        ]
        if changed:
            lines.append("        idp: idp-alt")
    if i < counts["cantina"] and (final or not _differs(i)):
        lines += [
            "      - provider: cantina",
            f"        company_id: {uuid.UUID(_hex(name)[:32])}",
        ]
    elif counts["cantina"] <= i < counts["cantina"] + counts["pandastack"] and i < panda_end:
        client = f"client-{name}" + ("-rotated" if changed else "")
        lines += [
            "      - provider: pandastack",
            f"        name: okta-{name}",
            f'        organization_id: "{100000 + i}"',
            f"        settings: {{provider: okta, client_id: {client}, enabled: true}}",
        ]
    return "\n".join(lines) + "\n"


def _shared_yaml(
    ports: dict[str, int] | None, limits: dict[str, tuple[int, float]], concurrency: int
) -> str:
    lines = ["version: 1", "vars:", "  callback_host: sso.example-saas.com", "providers:"]
    for provider in PROVIDERS:
        field, env = _CREDENTIAL[provider]
        lines += [f"  {provider}:", f"    type: {provider}", f"    {field}: {{env: {env}}}"]
        if provider == "descope":
            lines.append("    project_id: P2emulator")
        if provider == "pandastack":
            lines.append('    organization_id: "100000"')
        if ports is not None:
            port = ports.get(provider, 0)
            path = kind_for(provider).base_path
            lines.append(f"    base_url: http://127.0.0.1:{port}{path}")
        lines += [
            f"    rate_limit: {{requests: {limits[provider][0]}, "
            f"per_seconds: {limits[provider][1]}}}",
            f"    max_concurrency: {concurrency}",
        ]
    lines.append("identity_providers:")
    for n in [f"{i:02d}" for i in range(IDPS)] + ["alt"]:
        lines += [
            f"  idp-{n}:",
            "    kind: okta",
            "    saml:",
            f"      metadata_url: https://idp{n}.okta.example/app/sso/saml/metadata",
            "    oidc:",
            f"      issuer: https://idp{n}.okta.example",
            f"      client_id: 0oa{n}client",
            "      client_secret: {env: BENCH_OIDC_SECRET}",
        ]
    return "\n".join(lines) + "\n"


def write_manifest(
    directory: Path,
    size: int,
    *,
    ports: dict[str, int] | None,
    limits: dict[str, tuple[int, float]],
    concurrency: int,
    final: bool,
) -> None:
    counts = _counts(size)
    (directory / "tenants").mkdir(parents=True, exist_ok=True)
    (directory / "ssoform.yaml").write_text(_shared_yaml(ports, limits, concurrency))
    for i in range(counts["descope"]):
        (directory / "tenants" / f"t{i:05d}.yaml").write_text(_tenant_yaml(i, counts, final))


def _empty_stores(size: int) -> dict[str, JsonStore]:
    counts = _counts(size)
    stores = {p: kind_for(p).new_store(None) for p in PROVIDERS}
    descope: Any = stores["descope"]
    vantage: Any = stores["vantage"]
    cantina: Any = stores["cantina"]
    for i in range(counts["descope"]):
        name = f"t{i:05d}"
        descope.create_tenant(f"Tenant {name}", f"T2{name}")
        if counts["cloudflare"] <= i < counts["cloudflare"] + counts["vantage"]:
            vantage.add_managed_account(
                name, f"it@{name}.example", email_domain=f"{name}.example",
                token=f"acct_{_hex(name)[:16]}",
            )  # fmt: skip
        if i < counts["cantina"]:
            cantina.add_company(
                name, str(uuid.UUID(_hex(name)[:32])), verified_email_domains=[f"{name}.example"]
            )
    return stores


async def _seed(fleet: Fleet, stores: dict[str, JsonStore]) -> None:
    """Apply the manifest minus the differing tenth to in-process emulators, without limits."""
    seed_dir = fleet.root / "seed-manifest"
    write_manifest(seed_dir, fleet.size, ports=None, limits=UNLIMITED, concurrency=64, final=False)
    apps = {
        p: kind_for(p).app(stores[p], _Config(), rate_limit=1_000_000, rate_window=1.0)
        for p in PROVIDERS
    }
    config = RunConfig(
        transport_factory=lambda name, _type, _conf: emulator_transport(apps[name]),
        backoff=False,
    )
    loaded = load_manifest([seed_dir], LoadOptions())
    assert loaded.manifest is not None, [str(d) for d in loaded.diagnostics]
    backend = LocalStateBackend(fleet.state)
    outcome = await make_plan(loaded, backend, config, PlanOptions(threshold=1.0))
    result = await apply_plan(
        outcome.plan,
        loaded,
        backend,
        config,
        force=True,
        live=outcome.live,
        desired=outcome.desired,
    )
    if result.failed:
        raise RuntimeError(f"seeding failed: {result.failed[:3]}")


class _Config:
    project_id = "P2emulator"


def generate(root: Path, size: int, ports: dict[str, int], limits: dict[str, tuple[int, float]],
             concurrency: int) -> Fleet:  # fmt: skip
    """Make (or reuse) the fleet under `root`, its manifest pointing at `ports` and declaring
    `limits` (requests, seconds) per provider instance."""
    os.environ.update(ENV)
    fleet = Fleet(root, size, _counts(size), _changes(size))
    marker = root / "fleet.json"
    if not marker.exists():
        root.mkdir(parents=True, exist_ok=True)
        stores = _empty_stores(size)
        asyncio.run(_seed(fleet, stores))
        (root / "stores").mkdir(exist_ok=True)
        for provider, store in stores.items():
            fleet.store(provider).write_text(json.dumps(store.to_json()))
        marker.write_text(json.dumps({"size": size}))
    write_manifest(
        fleet.manifest, size, ports=ports, limits=limits, concurrency=concurrency, final=True
    )
    return fleet


def _changes(size: int) -> dict[str, int]:
    counts = _counts(size)
    cf, va = counts["cloudflare"], counts["vantage"]
    ca, pa = counts["cantina"], counts["pandastack"]
    return {
        "descope": sum(1 for i in range(counts["descope"]) if _differs(i)),
        "cloudflare": sum(1 for i in range(cf) if _differs(i)),
        "vantage": sum(1 for i in range(cf, cf + va) if _differs(i)),
        "cantina": sum(1 for i in range(ca) if _differs(i)),
        "pandastack": sum(1 for i in range(ca, ca + pa) if _differs(i)),
    }
