"""Import: live objects back into manifest YAML, a proposal that the next plan adopts.

The drivers say what each live object means in manifest terms (`Driver.to_manifest`); this
module groups the results by tenant in a stable order (so a second import diffs cleanly) and
writes only what the manifest directory it lands in does not define yet. Import never writes
state: the next plan shows the imported objects as `adopt`, and apply records them.

An object the `--manifest` already declares keeps its tenant, its identity provider (by name,
once, however many platforms use it), its secret references and the values no API can read
back, so importing a whole estate into an empty directory plans without a change. Other
objects get secrets as `{env: NAME}` references with generated names (never values), and the
fields no API can read back are marked with a comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from ssoform.drivers.base import SECRET_SLOT, Driver, Imported
from ssoform.engine.backend import StateBackend
from ssoform.engine.import_values import (
    get_path,
    inline_certificates,
    merge_views,
    overlay,
    put_path,
    without,
)
from ssoform.engine.wiring import RunConfig, open_drivers
from ssoform.errors import SsoformError
from ssoform.manifest.emit import Path, emit_yaml
from ssoform.manifest.load import LoadedManifest
from ssoform.manifest.models import Manifest, Tenant
from ssoform.model import Live, make_address
from ssoform.scrub import redact_value

__all__ = ["Defined", "ImportResult", "import_live"]

_NAME_JUNK = re.compile(r"[^a-z0-9_.-]+")


@dataclass(frozen=True)
class Defined:
    """What the directory the import lands in defines already (by section, name -> file)."""

    providers: Mapping[str, str] = field(default_factory=dict)
    identity_providers: Mapping[str, str] = field(default_factory=dict)
    tenants: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    document: dict[str, Any]
    comments: dict[Path, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    """Addresses of the live objects written."""
    skipped: list[str] = field(default_factory=list)
    """Live objects a driver cannot express in a manifest."""
    present: list[str] = field(default_factory=list)
    """Live objects already declared where the import lands (not written again)."""
    held: list[str] = field(default_factory=list)
    """Why an object was not written (its tenant is defined elsewhere: add it by hand)."""

    def yaml(self) -> str:
        header = "# Written by `ssoform import`. Secrets are references: set the variables named.\n"
        return header + emit_yaml(redact_value(self.document), self.comments)


@dataclass(frozen=True)
class _Declared:
    tenant: str
    body: Tenant
    connection: Any


@dataclass
class _Item:
    instance: str
    obj: Live
    imported: Imported
    declared: _Declared | None


@dataclass
class _Tenant:
    domains: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    description: str | None = None


async def import_live(
    loaded: LoadedManifest,
    backend: StateBackend,
    config: RunConfig,
    instances: Sequence[str],
    scopes: Sequence[str] = (),
    defined: Defined | None = None,
) -> ImportResult:
    """Read the instances' scopes and build the manifest of what `defined` lacks (no state)."""
    manifest = loaded.manifest
    assert manifest is not None
    defined = defined or Defined()
    unknown = [n for n in instances if n not in manifest.providers]
    if unknown:
        raise SsoformError(f"no provider instance named {', '.join(unknown)} in the manifest")
    declared = _declarations(manifest)
    state = backend.read()
    wanted: dict[str, list[str]] = {}
    for name in instances:
        named = {scope for (inst, scope, _key) in declared if inst == name}
        if state is not None:
            named |= {r.scope for r in state.resources.values() if r.provider == name}
        wanted[name] = sorted(set(scopes) or named)
    async with open_drivers(loaded, config, set(instances)) as drivers:
        live = {n: await drivers.drivers[n].read_scopes(wanted[n]) for n in sorted(wanted)}
        builder = _Builder(manifest, declared, defined, loaded.document.base_dirs)
        for name in manifest.identity_providers:
            builder.idp_files[name] = loaded.document.origin.get(("identity_providers", name), "")
        result = builder.build(live, drivers.drivers)
    result.document["providers"] = {
        n: manifest.providers[n].model_dump(mode="json", exclude_defaults=True)
        for n in instances
        if n not in defined.providers
    }
    result.document = {"version": 1, **{k: result.document[k] for k in _ORDER}}
    return result


_ORDER = ("providers", "identity_providers", "tenants")


def _declarations(manifest: Manifest) -> dict[tuple[str, str, str], _Declared]:
    found: dict[tuple[str, str, str], _Declared] = {}
    for tname, tenant in manifest.tenants.items():
        for conn in tenant.connections:
            for scope, key in conn.live_keys(manifest, tenant):
                found.setdefault((conn.provider, scope, key), _Declared(tname, tenant, conn))
    return found


class _Builder:
    def __init__(
        self,
        manifest: Manifest,
        declared: Mapping[tuple[str, str, str], _Declared],
        defined: Defined,
        base_dirs: Mapping[str, FilePath],
    ) -> None:
        self.base_dirs = base_dirs
        self.idp_files: dict[str, str] = {}
        """Identity provider name -> the file that defines it (its `file:` paths' base)."""
        self.manifest = manifest
        self.declared = declared
        self.defined = defined
        self.result = ImportResult(document={"identity_providers": {}, "tenants": {}})
        self.idps: dict[str, Any] = self.result.document["identity_providers"]
        self.views: dict[str, Any] = {}
        """Identity providers seen only live, by name (secrets still SECRET_SLOT)."""
        self.view_tenant: dict[str, str] = {}
        self.holes: dict[str, list[tuple[list[str], Any]]] = {}
        """Per identity provider: paths no platform could read back, with their placeholder."""

    def build(
        self, live: Mapping[str, Mapping[str, Sequence[Live]]], drivers: Mapping[str, Driver]
    ) -> ImportResult:
        tenants: dict[str, _Tenant] = {}
        for name in sorted(live):
            for scope in sorted(live[name]):
                for obj in sorted(live[name][scope], key=lambda o: o.key):
                    self._collect(tenants, name, obj, drivers[name])
        for tenant in sorted(tenants):
            self._add_tenant(tenant, tenants[tenant])
        self._finish_idps()
        return self.result

    def _collect(self, tenants: dict[str, _Tenant], name: str, obj: Live, driver: Driver) -> None:
        imported = driver.to_manifest(obj)
        if imported is None:
            self.result.skipped.append(f"{name}/{obj.scope}/{obj.key}")
            return
        declared = self.declared.get((name, obj.scope, obj.key))
        if declared is not None:
            tenant = declared.tenant
            own = declared.connection.email_domains(declared.body)
            if "connection.domains" in imported.unreadable or not imported.domains:
                imported = Imported(
                    imported.connection, tuple(own), imported.idp, imported.unreadable
                )
        else:
            tenant = _tenant_name(obj, imported)
        address = make_address(tenant, name, obj.scope, obj.key)
        where = self.defined.tenants.get(tenant)
        if where is not None:
            if declared is not None:
                self.result.present.append(address)
            else:
                self.result.held.append(
                    f"{address}: tenant {tenant!r} is already defined in {where}; "
                    "add its connection there by hand"
                )
            return
        entry = tenants.setdefault(tenant, _Tenant())
        if declared is not None:
            entry.description = declared.body.description
        entry.domains += [d for d in imported.domains if d not in entry.domains]
        entry.items.append(_Item(name, obj, imported, declared))
        self.result.written.append(address)

    def _add_tenant(self, name: str, tenant: _Tenant) -> None:
        domains = sorted(tenant.domains)
        connections: list[dict[str, Any]] = []
        body: dict[str, Any] = {}
        if tenant.description:
            body["description"] = tenant.description
        body.update({"domains": domains, "connections": connections})
        self.result.document["tenants"][name] = body
        for index, item in enumerate(tenant.items):
            where: Path = ("tenants", name, "connections", index)
            if item.declared is not None:
                conn = self._declared_connection(item)
            else:
                conn = self._live_connection(name, item, where)
            if list(item.imported.domains) != domains and item.imported.domains:
                conn["domains"] = list(item.imported.domains)
            connections.append(conn)

    # --- an object the manifest declares: its declaration, with what live can tell ------------

    def _declared_connection(self, item: _Item) -> dict[str, Any]:
        declared = item.declared
        assert declared is not None
        own = declared.connection.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        own.pop("domains", None)
        unreadable = {p.partition(".")[2] for p in item.imported.unreadable}
        live = {k: v for k, v in item.imported.connection.items() if k not in unreadable}
        conn: dict[str, Any] = {"provider": item.instance}
        idp_name = getattr(declared.connection, "idp", None) or declared.body.idp
        if idp_name is not None and item.imported.idp is not None:
            conn["idp"] = self._declared_idp(str(idp_name), item.imported)
        merged = overlay(own, live)
        merged.pop("provider", None)
        merged.pop("idp", None)
        conn.update(merged)
        return conn

    def _declared_idp(self, name: str, imported: Imported) -> str:
        """The declared identity provider, once, with what the first platform reads of it."""
        if name in self.defined.identity_providers or name in self.idps or name in self.views:
            return name
        idp = self.manifest.identity_providers[name]
        own = idp.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        assert imported.idp is not None
        holes = [p.split(".")[1:] for p in imported.unreadable if p.startswith("idp.")]
        data = overlay(own, without(imported.idp, holes))
        base_dir = self.base_dirs.get(self.idp_files.get(name, ""), FilePath())
        self.idps[name] = inline_certificates(data, base_dir)
        return name

    # --- an object no manifest declares: live, with generated references -----------------------

    def _live_connection(self, tenant: str, item: _Item, where: Path) -> dict[str, Any]:
        imported = item.imported
        conn: dict[str, Any] = {"provider": item.instance}
        if imported.idp is not None:
            conn["idp"] = self._live_idp(tenant, item)
        conn.update(_secrets(self.result, imported.connection, where))
        for path in imported.unreadable:
            root, _, rest = path.partition(".")
            if root == "idp":
                continue  # placed (or not needed) once the identity provider is complete
            target = (*where, rest) if rest in conn else where
            self.result.comments[target] = _WRITE_ONLY.format(rest)
        return conn

    def _live_idp(self, tenant: str, item: _Item) -> str:
        """One entry per identity provider: views of it through several platforms that agree
        (no field with two values) are one identity provider. A placeholder (a field the API
        cannot read back) never disagrees: another platform's real value replaces it."""
        view = item.imported.idp
        assert view is not None
        holes = [p.split(".")[1:] for p in item.imported.unreadable if p.startswith("idp.")]
        known = without(view, holes)
        for name in sorted(self.views):
            if self.view_tenant[name] != tenant:
                continue
            merged = merge_views(self.views[name], known)
            if merged is not None:
                self.views[name] = merged
                self.holes[name] += [(h, get_path(view, h)) for h in holes]
                return name
        kind = str(view.get("kind") or "other")
        base = f"{tenant}-{kind if kind != 'other' else 'idp'}"
        name = _unique(base, {**self.idps, **self.views}, self.defined)
        self.views[name] = known
        self.view_tenant[name] = tenant
        self.holes[name] = [(h, get_path(view, h)) for h in holes]
        return name

    def _finish_idps(self) -> None:
        for name, view in sorted(self.views.items()):
            for hole, placeholder in self.holes[name]:
                if get_path(view, hole) is None and placeholder is not None:
                    put_path(view, hole, placeholder)
                    self.result.comments[("identity_providers", name, *hole)] = _WRITE_ONLY.format(
                        ".".join(hole)
                    )
            self.idps[name] = _secrets(self.result, view, ("identity_providers", name))


_WRITE_ONLY = "write-only: the API cannot read {} back; set it by hand"


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


def _unique(base: str, taken: Mapping[str, Any], defined: Defined) -> str:
    name = _NAME_JUNK.sub("-", base.lower())
    if name not in taken and name not in defined.identity_providers:
        return name
    n = 2
    while f"{name}-{n}" in taken or f"{name}-{n}" in defined.identity_providers:
        n += 1
    return f"{name}-{n}"
