"""How to build, seed and talk to each provider type's emulator (one entry per type)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette

from ssoform.errors import SsoformError
from ssoform.manifest.models import Manifest
from ssoform.sandbox.seeds import (
    CANTINA_KEY,
    CLOUDFLARE_TOKEN,
    DESCOPE_KEY,
    PANDASTACK_TOKEN,
    VANTAGE_TOKEN,
    seed_cantina,
    seed_cloudflare,
    seed_descope,
    seed_nothing,
    seed_vantage,
)

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

    def new_store(self, data: dict[str, Any] | None) -> JsonStore:
        cls = getattr(importlib.import_module(self.module), self.store_class)
        store: JsonStore = cls()
        if data is not None:
            store.load_json(data)
        return store

    def app(self, store: JsonStore, config: Any, **options: Any) -> Starlette:
        """The emulator app over `store`; `options` are more `create_app` keywords (for example
        `rate_limit` and `rate_window`)."""
        create_app = importlib.import_module(self.module).create_app
        app: Starlette = create_app(store=store, **self.app_options(config), **options)
        return app


_BUILTIN_KINDS = (
    EmulatorKind(
        type_name="cantina",
        module="ssoform.emulators.cantina",
        store_class="CantinaStore",
        credentials=lambda _config: {"api_key": CANTINA_KEY},
        app_options=lambda _config: {"api_key": CANTINA_KEY},
        base_path="/api/v0",
        seed=seed_cantina,
    ),
    EmulatorKind(
        type_name="pandastack",
        module="ssoform.emulators.pandastack",
        store_class="PandaStackStore",
        credentials=lambda _config: {"api_token": PANDASTACK_TOKEN},
        app_options=lambda _config: {"token": PANDASTACK_TOKEN},
        base_path="",
        seed=seed_nothing,
    ),
    EmulatorKind(
        type_name="vantage",
        module="ssoform.emulators.vantage",
        store_class="VantageStore",
        credentials=lambda _config: {"api_token": VANTAGE_TOKEN},
        app_options=lambda _config: {"token": VANTAGE_TOKEN},
        base_path="/v2",
        seed=seed_vantage,
    ),
    EmulatorKind(
        type_name="cloudflare",
        module="ssoform.emulators.cloudflare",
        store_class="CloudflareStore",
        credentials=lambda _config: {"api_token": CLOUDFLARE_TOKEN},
        app_options=lambda _config: {"token": CLOUDFLARE_TOKEN},
        base_path="/client/v4",
        seed=seed_cloudflare,
    ),
    EmulatorKind(
        type_name="descope",
        module="ssoform.emulators.descope",
        store_class="DescopeStore",
        credentials=lambda _config: {"management_key": DESCOPE_KEY},
        app_options=lambda config: {
            "project_id": str(config.project_id),
            "management_key": DESCOPE_KEY,
        },
        base_path="",
        seed=seed_descope,
    ),
)
_KINDS: dict[str, EmulatorKind] = {kind.type_name: kind for kind in _BUILTIN_KINDS}


def kind_for(type_name: str) -> EmulatorKind:
    try:
        return _KINDS[type_name]
    except KeyError:
        raise SsoformError(f"no emulator for provider type {type_name!r} yet") from None


def known_kinds() -> list[EmulatorKind]:
    """Every emulator, in the registry's order (cloudflare, descope, vantage, cantina, ...)."""
    from ssoform.drivers.registry import BUILTIN

    order = list(BUILTIN)
    return sorted(_KINDS.values(), key=lambda k: order.index(k.type_name))
