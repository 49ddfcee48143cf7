"""Sixth, an example provider type shipped as a plugin: its one provider-type record."""

from __future__ import annotations

from sixth_sso.models import SixthConnection, SixthProvider
from ssoform.manifest.provider_types import EmulatorSpec, ProviderType

__all__ = ["EMULATOR_KEY", "PROVIDER_TYPE"]

EMULATOR_KEY = "sixth-emulator-key"

PROVIDER_TYPE = ProviderType(
    name="sixth",
    provider_model=SixthProvider,
    connection_model=SixthConnection,
    scope_key="workspace_id",
    protocols=("oidc",),
    driver="sixth_sso.driver:SixthDriver",
    emulator=EmulatorSpec(
        module="sixth_sso.emulator",
        store_class="SixthStore",
        base_path="/api",
        credentials={"api_key": EMULATOR_KEY},
        app_options={"api_key": EMULATOR_KEY},
    ),
)
