"""How to build, seed and talk to each provider type's emulator, read from the type table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette

from ssoform.errors import SsoformError
from ssoform.manifest.models import Manifest
from ssoform.manifest.provider_types import ProviderType, ProviderTypes, load_part
from ssoform.sandbox.seeds import seed_nothing

__all__ = ["EmulatorKind", "JsonStore", "kind_for", "known_kinds"]


class JsonStore(Protocol):
    def to_json(self) -> dict[str, Any]: ...

    def load_json(self, data: dict[str, Any]) -> None: ...


Seeder = Callable[[Any, Manifest, str], None]
"""(store, manifest, provider instance name) -> None: a realistic existing estate."""


@dataclass(frozen=True)
class EmulatorKind:
    type_name: str
    module: str
    """`ssoform.emulators.<type>`, holding `create_app` and the store class."""
    store_class: str
    credentials: Callable[[Any], dict[str, str]]
    """The credentials the emulator accepts, by provider-instance field name."""
    app_options: Callable[[Any], dict[str, Any]]
    """Extra `create_app` keywords derived from the provider instance's config."""
    base_path: str
    """What follows host:port in the served emulator's base URL for the driver."""
    seed: Seeder

    origin: str = "built in"
    """Where the provider type came from (named when its emulator cannot be loaded)."""

    def new_store(self, data: dict[str, Any] | None) -> JsonStore:
        cls = self._load(self.store_class)
        store: JsonStore = cls()
        if data is not None:
            store.load_json(data)
        return store

    def app(self, store: JsonStore, config: Any, **options: Any) -> Starlette:
        """The emulator app over `store`; `options` are more `create_app` keywords (for example
        `rate_limit` and `rate_window`)."""
        create_app = self._load("create_app")
        app: Starlette = create_app(store=store, **self.app_options(config), **options)
        return app

    def _load(self, attr: str) -> Any:
        return load_part(f"{self.module}:{attr}", "emulator", self.type_name, self.origin)


def _kind(record: ProviderType) -> EmulatorKind:
    spec = record.emulator
    assert spec is not None
    credentials = dict(spec.credentials)
    fixed = dict(spec.app_options)
    from_config = dict(spec.config_options)

    def app_options(config: Any) -> dict[str, Any]:
        taken = {keyword: str(getattr(config, name)) for keyword, name in from_config.items()}
        return {**taken, **fixed}

    return EmulatorKind(
        type_name=record.name,
        module=spec.module,
        store_class=spec.store_class,
        credentials=lambda _config: dict(credentials),
        app_options=app_options,
        base_path=spec.base_path,
        seed=load_part(spec.seed, "emulator", record.name, record.origin)
        if spec.seed
        else seed_nothing,
        origin=record.origin,
    )


def kind_for(type_name: str, types: ProviderTypes | None = None) -> EmulatorKind:
    """The emulator of a provider type (built in, or an installed plugin's that has one)."""
    record = (types or ProviderTypes()).get(type_name)
    if record is None or record.emulator is None:
        raise SsoformError(f"no emulator for provider type {type_name!r} yet")
    return _kind(record)


def known_kinds(types: ProviderTypes | None = None) -> list[EmulatorKind]:
    """Every emulator in the table's order (cloudflare, descope, vantage, cantina, pandastack,
    then installed plugins that bring one)."""
    return [_kind(record) for record in (types or ProviderTypes()).usable() if record.emulator]
