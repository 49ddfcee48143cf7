"""Which driver serves which provider type, read from the table of provider types.

Built-in drivers are imported lazily from the module their record names. Third-party drivers come
from provider-type records installed through the `ssoform.drivers` entry-point group. A class
named in a manifest is never loaded.
"""

from __future__ import annotations

from ssoform.drivers.base import Driver
from ssoform.errors import SsoformError
from ssoform.manifest.provider_types import BUILTIN_TYPES, ProviderTypes, load_part

__all__ = ["BUILTIN", "driver_class"]

BUILTIN: dict[str, str] = {record.name: record.driver for record in BUILTIN_TYPES}
"""Built-in type name -> `"module:Class"` of its driver, in the table's order."""


def driver_class(type_name: str, types: ProviderTypes | None = None) -> type[Driver]:
    """The driver class of a provider type (built in, or an installed plugin's)."""
    record = (types or ProviderTypes()).get(type_name)
    if record is None:
        raise SsoformError(f"no driver is installed for provider type {type_name!r}")
    cls = load_part(record.driver, "driver", type_name, record.origin)
    if not (isinstance(cls, type) and issubclass(cls, Driver)):
        raise SsoformError(f"the driver for {type_name!r} is not an ssoform Driver")
    return cls
