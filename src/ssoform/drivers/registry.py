"""Which driver serves which provider type: built-ins by name, third parties by entry point.

Built-in drivers are imported lazily from `ssoform.drivers.<type>`. Third-party drivers are found
through the `ssoform.drivers` entry-point group. A class named in a manifest is never loaded.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from ssoform.drivers.base import Driver
from ssoform.errors import SsoformError

__all__ = ["BUILTIN", "driver_class"]

BUILTIN: dict[str, str] = {
    "cloudflare": "ssoform.drivers.cloudflare:CloudflareDriver",
    "descope": "ssoform.drivers.descope:DescopeDriver",
    "vantage": "ssoform.drivers.vantage:VantageDriver",
    "cantina": "ssoform.drivers.cantina:CantinaDriver",
    "pandastack": "ssoform.drivers.pandastack:PandaStackDriver",
}


def driver_class(type_name: str) -> type[Driver]:
    target = BUILTIN.get(type_name)
    if target is not None:
        module_name, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
    else:
        found = [ep for ep in entry_points(group="ssoform.drivers") if ep.name == type_name]
        if not found:
            raise SsoformError(f"no driver is installed for provider type {type_name!r}")
        cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, Driver)):
        raise SsoformError(f"the driver for {type_name!r} is not an ssoform Driver")
    return cls
