"""The sandbox's emulators come from the provider-type table; a plugin's that cannot be loaded is
one line naming the type and the plugin, never a traceback."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from ssoform.manifest.model_base import ConnectionBase, ProviderBase
from ssoform.manifest.provider_types import EmulatorSpec, PluginError, ProviderType, ProviderTypes
from ssoform.sandbox.kinds import kind_for


class SeventhProvider(ProviderBase):
    pass


class SeventhConnection(ConnectionBase):
    seventh_id: str


def _record(module: str, seed: str | None) -> ProviderType:
    return ProviderType(
        name="seventh",
        provider_model=SeventhProvider,
        connection_model=SeventhConnection,
        scope_key="seventh_id",
        driver="nowhere_driver:Driver",
        emulator=EmulatorSpec(
            module=module, store_class="Store", base_path="", credentials={}, seed=seed
        ),
    )


MISSING_SEED = _record(__name__, "nowhere_seeds:seed")
MISSING_EMULATOR = _record("nowhere_emulator", None)


def _types(attr: str) -> ProviderTypes:
    return ProviderTypes(installed=[EntryPoint("seventh", f"{__name__}:{attr}", "ssoform.drivers")])


def test_a_plugin_seed_that_cannot_be_imported_is_one_line() -> None:
    with pytest.raises(PluginError) as caught:
        kind_for("seventh", _types("MISSING_SEED"))
    message = str(caught.value)
    assert message.startswith("the emulator of provider type 'seventh' (")
    assert "nowhere_seeds:seed: ModuleNotFoundError" in message
    assert "\n" not in message


def test_a_plugin_emulator_that_cannot_be_imported_fails_when_first_used() -> None:
    kind = kind_for("seventh", _types("MISSING_EMULATOR"))
    with pytest.raises(PluginError, match=r"nowhere_emulator:Store: ModuleNotFoundError"):
        kind.new_store(None)
