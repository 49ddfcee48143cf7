"""Import: live objects back into a manifest, and into state as adopted (`origin: imported`).

The drivers say what each live object means in manifest terms (`Driver.to_manifest`); this
module groups the results by tenant in a stable order (so a second import diffs cleanly),
turns secrets into `{env: NAME}` references with generated names (never values), and notes the
fields no API can read back, which the YAML marks with a comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssoform.drivers.base import SECRET_SLOT, Driver, Imported
from ssoform.engine.backend import StateBackend
from ssoform.engine.runner import RunConfig, expand_desired, open_drivers
from ssoform.engine.state import ResourceState
from ssoform.engine.workflow import load_state
from ssoform.errors import SsoformError
from ssoform.manifest.emit import Path, emit_yaml
from ssoform.manifest.load import LoadedManifest
from ssoform.model import Live, make_address

__all__ = ["ImportResult", "import_live"]

_NAME_JUNK = re.compile(r"[^a-z0-9_.-]+")


@dataclass
class ImportResult:
    document: dict[str, Any]
    comments: dict[Path, str] = field(default_factory=dict)
    records: dict[str, ResourceState] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def yaml(self) -> str:
        header = "# Written by `ssoform import`. Secrets are references: set the variables named.\n"
        return header + emit_yaml(self.document, self.comments)


@dataclass
class _Tenant:
    domains: list[str] = field(default_factory=list)
    items: list[tuple[str, Live, Imported]] = field(default_factory=list)


async def import_live(
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    instances: Sequence[str],
    scopes: Sequence[str] = (),
) -> ImportResult:
    """Read the instances' scopes, build the manifest and record the objects in state."""
    manifest = loaded.manifest
    assert manifest is not None
    unknown = [n for n in instances if n not in manifest.providers]
    if unknown:
        raise SsoformError(f"no provider instance named {', '.join(unknown)} in the manifest")
    desired = expand_desired(loaded, config)
    tenant_of = {(d.provider, d.scope, d.key): d.tenant for d in desired}
    state = load_state(backend, create=False)
    wanted: dict[str, list[str]] = {}
    for name in instances:
        named = {d.scope for d in desired if d.provider == name}
        named |= {r.scope for r in state.resources.values() if r.provider == name}
        wanted[name] = sorted(set(scopes) or named)
    async with open_drivers(loaded, config, set(instances)) as drivers:
        live = {n: await drivers.drivers[n].read_scopes(wanted[n]) for n in sorted(wanted)}
        result = _build(live, drivers.drivers, tenant_of)
    result.document["providers"] = {
        n: manifest.providers[n].model_dump(mode="json", exclude_defaults=True) for n in instances
    }
    result.document = {"version": 1, **{k: result.document[k] for k in _ORDER}}
    with backend.lock("import"):
        state = load_state(backend, create=True)
        for address, record in result.records.items():
            if address not in state.resources:
                state.resources[address] = record
                state.journal_append(address, "import", "adopted", f"id {record.id}")
        state.serial += 1
        backend.write(state)
    return result


_ORDER = ("providers", "identity_providers", "tenants")


def _build(
    live: Mapping[str, Mapping[str, Sequence[Live]]],
    drivers: Mapping[str, Driver],
    tenant_of: Mapping[tuple[str, str, str], str],
) -> ImportResult:
    result = ImportResult(document={"identity_providers": {}, "tenants": {}})
    tenants: dict[str, _Tenant] = {}
    for name in sorted(live):
        for scope in sorted(live[name]):
            for obj in sorted(live[name][scope], key=lambda o: o.key):
                imported = drivers[name].to_manifest(obj)
                if imported is None:
                    result.skipped.append(f"{name}/{obj.scope}/{obj.key}")
                    continue
                tenant = tenant_of.get((name, obj.scope, obj.key)) or _tenant_name(obj, imported)
                entry = tenants.setdefault(tenant, _Tenant())
                entry.domains += [d for d in imported.domains if d not in entry.domains]
                entry.items.append((name, obj, imported))
                result.records[make_address(tenant, name, obj.scope, obj.key)] = ResourceState(
                    provider=name,
                    provider_type=drivers[name].type_name,
                    scope=obj.scope,
                    key=obj.key,
                    id=obj.id,
                    origin="imported",
                )
    idps: dict[str, Any] = result.document["identity_providers"]
    for tenant in sorted(tenants):
        _add_tenant(result, idps, tenant, tenants[tenant])
    return result


def _add_tenant(result: ImportResult, idps: dict[str, Any], name: str, tenant: _Tenant) -> None:
    domains = sorted(tenant.domains)
    connections: list[dict[str, Any]] = []
    body: dict[str, Any] = {"domains": domains, "connections": connections}
    result.document["tenants"][name] = body
    by_content: dict[str, str] = {}
    for index, (instance, _obj, imported) in enumerate(tenant.items):
        conn: dict[str, Any] = {"provider": instance}
        where: Path = ("tenants", name, "connections", index)
        if imported.idp is not None:
            content = json.dumps(imported.idp, sort_keys=True)
            idp_name = by_content.get(content)
            if idp_name is None:
                idp_name = _unique(f"{name}-{instance}", idps)
                by_content[content] = idp_name
                idps[idp_name] = _secrets(result, imported.idp, ("identity_providers", idp_name))
            conn["idp"] = idp_name
        conn.update(_secrets(result, imported.connection, where))
        if list(imported.domains) != domains and imported.domains:
            conn["domains"] = list(imported.domains)
        connections.append(conn)
        for path in imported.unreadable:
            root, _, rest = path.partition(".")
            if root == "idp" and imported.idp is not None:
                target: Path = ("identity_providers", conn["idp"], *rest.split("."))
            else:
                target = (*where, rest) if rest in conn else where
            result.comments[target] = f"write-only: the API cannot read {rest} back; set it by hand"


def _secrets(result: ImportResult, value: Any, path: Path) -> Any:
    """A copy of `value` with every SECRET_SLOT replaced by an `{env: NAME}` reference."""
    if isinstance(value, Mapping):
        return {k: _secrets(result, v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets(result, v, (*path, i)) for i, v in enumerate(value)]
    if value == SECRET_SLOT:
        words = [str(p) for p in path if not isinstance(p, int)]
        words = [w for w in words if w not in ("tenants", "identity_providers", "connections")]
        env = re.sub(r"[^A-Z0-9]+", "_", "_".join(words).upper()).strip("_")
        env = env if env[:1].isalpha() else f"SSO_{env}"
        result.comments[path] = f"secret: set ${env}; its value is never read or written"
        return {"env": env}
    return value


def _tenant_name(obj: Live, imported: Imported) -> str:
    if imported.domains:
        labels = imported.domains[0].split(".")
        base = labels[-2] if len(labels) >= 2 else labels[0]
    else:
        base = f"{obj.scope}"
    name = _NAME_JUNK.sub("-", base.lower()).strip("-.")
    return name if name and name[0].isalnum() else f"t-{name}"


def _unique(base: str, taken: Mapping[str, Any]) -> str:
    name = _NAME_JUNK.sub("-", base.lower())
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"
