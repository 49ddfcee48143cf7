"""The table of provider types: the built-ins, what is derived from it, and plugin records."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ssoform.drivers.registry import BUILTIN, driver_class
from ssoform.engine.wiring import RunConfig, expand_desired
from ssoform.manifest.checks import declared_addresses
from ssoform.manifest.load import LoadOptions, load_manifest
from ssoform.manifest.models import scope_message
from ssoform.manifest.provider_types import (
    BUILTIN_TYPES,
    PluginError,
    ProviderType,
    ProviderTypes,
)
from ssoform.sandbox.kinds import known_kinds

EXAMPLES = Path(__file__).parents[2] / "examples" / "manifests"
NAMES = ["cloudflare", "descope", "vantage", "cantina", "pandastack"]


def test_the_registry_and_the_sandbox_follow_the_table() -> None:
    assert [t.name for t in BUILTIN_TYPES] == NAMES
    assert list(BUILTIN) == NAMES
    assert [k.type_name for k in known_kinds(ProviderTypes(installed=[]))] == NAMES
    for record in BUILTIN_TYPES:
        assert driver_class(record.name).type_name == record.name
        assert record.scope_key in record.connection_model.model_fields


def test_the_scope_error_names_every_type_of_the_table() -> None:
    assert scope_message(BUILTIN_TYPES) == (
        "a connection names exactly one scope: account_id (cloudflare), tenant_id (descope), "
        "managed_account (vantage), company_id (cantina) or settings (pandastack)"
    )


def test_validate_and_expand_agree_on_what_each_connection_declares() -> None:
    loaded = load_manifest([EXAMPLES], LoadOptions(cert_warning_days=0))
    assert loaded.manifest is not None, loaded.diagnostics
    expanded = {d.address for d in expand_desired(loaded, RunConfig())}
    assert len(expanded) > len(NAMES)
    assert expanded == declared_addresses(loaded.manifest)


def plugin(name: str, value: str) -> ProviderTypes:
    return ProviderTypes(installed=[EntryPoint(name, value, "ssoform.drivers")])


def test_a_built_in_name_is_never_a_plugin() -> None:
    types = plugin("cloudflare", "nowhere_at_all:RECORD")
    assert types.get("cloudflare") is BUILTIN_TYPES[0]
    assert types.names() == NAMES


def test_a_type_nobody_installed_is_none_and_require_says_which_there_are() -> None:
    types = ProviderTypes(installed=[])
    assert types.get("okta") is None
    with pytest.raises(Exception, match=r"unknown provider type 'okta' \(expected one of "):
        types.require("okta")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("nowhere_at_all:RECORD", "cannot be loaded: ModuleNotFoundError: No module named"),
        ("ssoform.manifest.provider_types:load_ref", "names a function, not a ProviderType"),
        (f"{__name__}:MISNAMED", "its record is for type 'other', not 'seventh'"),
        (f"{__name__}:SCOPE_TAKEN", "scope key 'account_id' is already cloudflare's"),
    ],
)
def test_an_unusable_plugin_is_one_error_naming_it(value: str, problem: str) -> None:
    with pytest.raises(PluginError) as caught:
        plugin("seventh", value).get("seventh")
    message = str(caught.value)
    assert message.startswith(f"plugin 'seventh' ({value})")
    assert problem in message
    assert "\n" not in message


def _record(name: str, scope_key: str) -> ProviderType:
    cloudflare = BUILTIN_TYPES[0]
    return ProviderType(
        name=name,
        provider_model=cloudflare.provider_model,
        connection_model=cloudflare.connection_model,
        scope_key=scope_key,
        driver=cloudflare.driver,
    )


MISNAMED = _record("other", "account_id")
SCOPE_TAKEN = _record("seventh", "account_id")
