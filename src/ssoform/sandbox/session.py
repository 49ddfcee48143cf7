"""A sandbox session: emulator stores loaded from (and saved to) a directory, served in-process.

`ssoform plan --sandbox` routes every provider instance to its emulator; a provider instance with
`sandbox: true` is routed alone. The data lives in `.ssoform/sandbox/<instance>.json`, seeded
from the manifest on first use, so plan, apply and plan again see the same estate.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from ssoform.emulators.base import emulator_transport
from ssoform.emulators.idp import IdpStore
from ssoform.emulators.idp import create_app as create_idp_app
from ssoform.errors import SsoformError
from ssoform.files import write_private
from ssoform.manifest.certificates import CertInfo
from ssoform.manifest.models import Manifest
from ssoform.sandbox.idp import load_idp_store, save_idp_store, seed_idps
from ssoform.sandbox.kinds import JsonStore, kind_for

__all__ = ["DEFAULT_SANDBOX_DIR", "SandboxSession"]

DEFAULT_SANDBOX_DIR = Path(".ssoform/sandbox")


class SandboxSession:
    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        everything: bool,
        certificates: Mapping[tuple[str | int, ...], CertInfo] | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.everything = everything
        self.certificates = dict(certificates or {})
        """The manifest's certificates: what the sandbox's identity providers publish first."""
        self._idps: IdpStore | None = None
        self.names = {
            name for name, instance in manifest.providers.items() if everything or instance.sandbox
        }
        self._stores: dict[str, JsonStore] = {}
        self._apps: dict[str, Starlette] = {}

    def routes(self, name: str) -> bool:
        return name in self.names

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def store(self, name: str) -> JsonStore:
        if name not in self._stores:
            instance = self.manifest.providers[name]
            kind = kind_for(instance.type)
            path = self._path(name)
            if path.exists():
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise SsoformError(
                        f"{path}: the sandbox data is unreadable ({exc}); "
                        "remove it or run `ssoform sandbox reset`"
                    ) from None
                self._stores[name] = kind.new_store(data)
            else:
                store = kind.new_store(None)
                kind.seed(store, self.manifest, name)
                self._stores[name] = store
        return self._stores[name]

    def app(self, name: str) -> Starlette:
        if name not in self._apps:
            instance = self.manifest.providers[name]
            self._apps[name] = kind_for(instance.type).app(self.store(name), instance)
        return self._apps[name]

    def transport(self, name: str, _type: str, _config: Any) -> httpx.AsyncBaseTransport:
        return emulator_transport(self.app(name))

    def credentials(self, name: str) -> dict[str, str]:
        instance = self.manifest.providers[name]
        return kind_for(instance.type).credentials(instance)

    def idp_transport(self) -> httpx.AsyncBaseTransport | None:
        """The sandbox's identity providers (with --sandbox only: a provider instance sandboxed
        alone still reads the real IdP)."""
        if not self.everything:
            return None
        if self._idps is None:
            self._idps = load_idp_store(self.directory) or IdpStore()
            seed_idps(self._idps, self.manifest, self.certificates, dt.datetime.now(dt.UTC))
        return emulator_transport(create_idp_app(self._idps))

    def save(self) -> None:
        if self._idps is not None:
            save_idp_store(self.directory, self._idps)
        for name, store in self._stores.items():
            write_private(self._path(name), json.dumps(store.to_json(), indent=1, sort_keys=True))
