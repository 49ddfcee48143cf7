"""How to build, seed and talk to each provider type's emulator (one entry per type)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette

from ssoform.errors import SsoformError
from ssoform.manifest.models import Manifest

__all__ = ["EmulatorKind", "JsonStore", "kind_for"]


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


_KINDS: dict[str, EmulatorKind] = {}


def register(kind: EmulatorKind) -> None:
    _KINDS[kind.type_name] = kind


def kind_for(type_name: str) -> EmulatorKind:
    from ssoform.sandbox import seeds  # registers the built-in kinds

    _ = seeds
    try:
        return _KINDS[type_name]
    except KeyError:
        raise SsoformError(f"no emulator for provider type {type_name!r} yet") from None


def known_kinds() -> list[EmulatorKind]:
    """Every emulator, in the registry's order (cloudflare, descope, vantage, cantina, ...)."""
    from ssoform.drivers.registry import BUILTIN
    from ssoform.sandbox import seeds

    _ = seeds
    order = list(BUILTIN)
    return sorted(_KINDS.values(), key=lambda k: order.index(k.type_name))
