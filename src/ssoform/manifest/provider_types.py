"""The table of provider types: one record per type, built in or installed as a plugin.

Everything that depends on a provider type is derived from its record: the manifest's provider
and connection models, the scope key that tells a connection's type, the protocols it supports,
its driver, its emulator and the estate the sandbox seeds it with. Drivers, emulators and seeds
are named lazily (`"module:attr"`), so the manifest layer never imports them.

Plugins register a record (or a driver class carrying one as `provider_type`) under the
`ssoform.drivers` entry-point group, named for the type. They are looked up only when a manifest
names a type that is not built in, so validating built-in types never imports plugin code; a
plugin that cannot be loaded is a one-line `PluginError` naming it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ssoform.errors import SsoformError
from ssoform.manifest.model_base import ConnectionBase, ProviderBase
from ssoform.manifest.provider_models import (
    CantinaConnection,
    CantinaProvider,
    CloudflareConnection,
    CloudflareProvider,
    DescopeConnection,
    DescopeProvider,
    PandaStackConnection,
    PandaStackProvider,
    VantageConnection,
    VantageProvider,
)

__all__ = [
    "BUILTIN_TYPES",
    "ENTRY_POINT_GROUP",
    "EmulatorSpec",
    "PluginError",
    "ProviderType",
    "ProviderTypes",
    "load_part",
    "load_ref",
]

ENTRY_POINT_GROUP = "ssoform.drivers"


class PluginError(SsoformError):
    """An installed provider-type plugin that cannot be used (it fails to import, or names
    something that is not a provider type)."""


@dataclass(frozen=True)
class EmulatorSpec:
    """How to build, reach and seed a provider type's emulator."""

    module: str
    """The module holding `create_app` and the store class."""
    store_class: str
    base_path: str
    """What follows host:port in the served emulator's base URL for the driver."""
    credentials: Mapping[str, str]
    """The credentials the emulator accepts, by provider-instance field name."""
    app_options: Mapping[str, str] = field(default_factory=dict)
    """Fixed `create_app` keywords (the emulator's credentials)."""
    config_options: Mapping[str, str] = field(default_factory=dict)
    """`create_app` keywords taken from the provider instance: keyword -> field name."""
    seed: str | None = None
    """`"module:function"` giving a sandbox store its first estate: (store, manifest, instance)."""


@dataclass(frozen=True)
class ProviderType:
    """One provider type: everything ssoform needs to know of it, in one place."""

    name: str
    provider_model: type[ProviderBase]
    connection_model: type[ConnectionBase]
    scope_key: str
    """The connection key that names the type's scope (a connection names exactly one)."""
    driver: str
    """`"module:Class"` of its driver (a subclass of `ssoform.drivers.base.Driver`)."""
    protocols: tuple[str, ...] = ()
    """The sign-in protocols it supports, the default first; empty when it binds no IdP."""
    emulator: EmulatorSpec | None = None
    origin: str = "built in"
    """Where the record came from: built in, or the plugin's entry point."""


def load_ref(ref: str) -> Any:
    """The object a `"module:attr"` reference names (imported on demand)."""
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def load_part(ref: str, part: str, type_name: str, origin: str) -> Any:
    """The object `ref` names for one part of a provider type (its driver, its emulator), or a
    one-line PluginError naming the part, the type and where it came from: a plugin part that
    fails to import is the plugin's fault, never a traceback."""
    try:
        return load_ref(ref)
    except Exception as exc:
        raise PluginError(
            f"the {part} of provider type {type_name!r} ({origin}) cannot be loaded: "
            f"{ref}: {type(exc).__name__}: {exc}"
        ) from None


_EMULATORS = "ssoform.emulators"
_SEEDS = "ssoform.sandbox.seeds"

BUILTIN_TYPES: tuple[ProviderType, ...] = (
    ProviderType(
        name="cloudflare",
        provider_model=CloudflareProvider,
        connection_model=CloudflareConnection,
        scope_key="account_id",
        driver="ssoform.drivers.cloudflare:CloudflareDriver",
        emulator=EmulatorSpec(
            module=f"{_EMULATORS}.cloudflare",
            store_class="CloudflareStore",
            base_path="/client/v4",
            credentials={"api_token": "cf-emulator-token"},
            app_options={"token": "cf-emulator-token"},
            seed=f"{_SEEDS}:seed_cloudflare",
        ),
    ),
    ProviderType(
        name="descope",
        provider_model=DescopeProvider,
        connection_model=DescopeConnection,
        scope_key="tenant_id",
        protocols=("saml", "saml-metadata", "oidc"),
        driver="ssoform.drivers.descope:DescopeDriver",
        emulator=EmulatorSpec(
            module=f"{_EMULATORS}.descope",
            store_class="DescopeStore",
            base_path="",
            credentials={"management_key": "descope-emulator-key"},
            app_options={"management_key": "descope-emulator-key"},
            config_options={"project_id": "project_id"},
            seed=f"{_SEEDS}:seed_descope",
        ),
    ),
    ProviderType(
        name="vantage",
        provider_model=VantageProvider,
        connection_model=VantageConnection,
        scope_key="managed_account",
        protocols=("saml-metadata",),
        driver="ssoform.drivers.vantage:VantageDriver",
        emulator=EmulatorSpec(
            module=f"{_EMULATORS}.vantage",
            store_class="VantageStore",
            base_path="/v2",
            credentials={"api_token": "vantage-emulator-token"},
            app_options={"token": "vantage-emulator-token"},
            seed=f"{_SEEDS}:seed_vantage",
        ),
    ),
    ProviderType(
        name="cantina",
        provider_model=CantinaProvider,
        connection_model=CantinaConnection,
        scope_key="company_id",
        protocols=("oidc",),
        driver="ssoform.drivers.cantina:CantinaDriver",
        emulator=EmulatorSpec(
            module=f"{_EMULATORS}.cantina",
            store_class="CantinaStore",
            base_path="/api/v0",
            credentials={"api_key": "cantina-emulator-key"},
            app_options={"api_key": "cantina-emulator-key"},
            seed=f"{_SEEDS}:seed_cantina",
        ),
    ),
    ProviderType(
        name="pandastack",
        provider_model=PandaStackProvider,
        connection_model=PandaStackConnection,
        scope_key="settings",
        driver="ssoform.drivers.pandastack:PandaStackDriver",
        emulator=EmulatorSpec(
            module=f"{_EMULATORS}.pandastack",
            store_class="PandaStackStore",
            base_path="",
            credentials={"api_token": "psk_" + "0123456789abcdef" * 4},
            app_options={"token": "psk_" + "0123456789abcdef" * 4},
        ),
    ),
)
_BUILTIN = {record.name: record for record in BUILTIN_TYPES}
_BUILTIN_BY_CONNECTION = {record.connection_model: record for record in BUILTIN_TYPES}


class ProviderTypes:
    """The provider types one run knows: the built-ins, then installed plugins, each plugin
    loaded the first time it is needed (and at most once per run)."""

    def __init__(self, installed: Iterable[EntryPoint] | None = None) -> None:
        """`installed`: the entry points to consider (default: the environment's, read once)."""
        self._given = None if installed is None else list(installed)
        self._installed: list[EntryPoint] | None = None
        self._plugins: dict[str, ProviderType | PluginError] = {}

    def installed(self) -> list[EntryPoint]:
        """The `ssoform.drivers` entry points (a built-in name shadows a plugin's)."""
        if self._installed is None:
            found = self._given
            if found is None:
                found = list(entry_points(group=ENTRY_POINT_GROUP))
            self._installed = [ep for ep in found if ep.name not in _BUILTIN]
        return self._installed

    def names(self) -> list[str]:
        """Every known type name: the built-ins in table order, then installed plugins."""
        plugins = sorted({ep.name for ep in self.installed()})
        return [*_BUILTIN, *plugins]

    def get(self, name: str) -> ProviderType | None:
        """The record of type `name`; None when it is neither built in nor installed.

        Raises PluginError when a plugin is installed under that name but cannot be used."""
        record = _BUILTIN.get(name)
        if record is not None:
            return record
        if name not in self._plugins:
            found = [ep for ep in self.installed() if ep.name == name]
            if not found:
                return None
            self._plugins[name] = _load_plugin(found[0])
        loaded = self._plugins[name]
        if isinstance(loaded, PluginError):
            raise loaded
        return loaded

    def require(self, name: str) -> ProviderType:
        """The record of type `name`, or a one-line error saying which types there are."""
        record = self.get(name)
        if record is None:
            known = ", ".join(repr(n) for n in self.names())
            raise SsoformError(f"unknown provider type {name!r} (expected one of {known})")
        return record

    def usable(self) -> list[ProviderType]:
        """The built-ins and every installed plugin that loads."""
        found = list(BUILTIN_TYPES)
        for name in sorted({ep.name for ep in self.installed()}):
            try:
                record = self.get(name)
            except PluginError:
                continue
            if record is not None:
                found.append(record)
        return found

    def for_connection(self, data: Mapping[str, Any]) -> ProviderType | None:
        """The plugin type whose scope key a raw connection names, when exactly one does.

        Only asked about a connection that names no built-in scope key."""
        if not self.installed():
            return None
        found = [t for t in self.usable() if t.origin != "built in" and t.scope_key in data]
        return found[0] if len(found) == 1 else None

    def of_connection(self, value: ConnectionBase) -> ProviderType | None:
        """The type whose connection model `value` is."""
        record = _BUILTIN_BY_CONNECTION.get(type(value))
        if record is not None or not self.installed():
            return record
        return next((t for t in self.usable() if isinstance(value, t.connection_model)), None)


def _load_plugin(ep: EntryPoint) -> ProviderType | PluginError:
    where = f"plugin {ep.name!r} ({ep.value})"
    try:
        loaded = ep.load()
    except Exception as exc:
        return PluginError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}")
    record = getattr(loaded, "provider_type", loaded)
    if not isinstance(record, ProviderType):
        what = (
            f"the class {loaded.__name__}"
            if isinstance(loaded, type)
            else "a " + (type(loaded).__name__)
        )
        return PluginError(
            f"{where} names {what}, not a ProviderType record "
            "(nor a driver class carrying one as provider_type)"
        )
    problem = _record_problem(ep.name, record)
    if problem:
        return PluginError(f"{where}: {problem}")
    return ProviderType(
        name=record.name,
        provider_model=record.provider_model,
        connection_model=record.connection_model,
        scope_key=record.scope_key,
        driver=record.driver,
        protocols=record.protocols,
        emulator=record.emulator,
        origin=f"plugin {ep.name} = {ep.value}",
    )


def _record_problem(name: str, record: ProviderType) -> str | None:
    """What makes a plugin's record unusable, if anything."""
    if record.name != name:
        return f"its record is for type {record.name!r}, not {name!r}"
    if not (
        isinstance(record.provider_model, type) and issubclass(record.provider_model, ProviderBase)
    ):
        return "its provider_model does not derive from ProviderBase"
    if not (
        isinstance(record.connection_model, type)
        and issubclass(record.connection_model, ConnectionBase)
    ):
        return "its connection_model does not derive from ConnectionBase"
    if record.scope_key not in record.connection_model.model_fields:
        return f"its connection model has no {record.scope_key!r} field (its scope key)"
    taken = {t.scope_key: t.name for t in BUILTIN_TYPES}
    if record.scope_key in taken:
        return f"scope key {record.scope_key!r} is already {taken[record.scope_key]}'s"
    return None
