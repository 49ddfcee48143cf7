"""Sixth's manifest models: a provider instance (an API key) and a workspace's SSO connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ssoform.manifest.fields import Identifier
from ssoform.manifest.model_base import ConnectionBase, ProviderBase
from ssoform.manifest.secrets import SecretRef

if TYPE_CHECKING:
    from ssoform.manifest.models import Manifest, Tenant

KEY = "sso"
"""A workspace has one SSO connection."""


class SixthProvider(ProviderBase):
    type: Literal["sixth"]
    api_key: SecretRef


class SixthConnection(ConnectionBase):
    """A Sixth workspace's OIDC sign-in."""

    workspace_id: Identifier
    enabled: bool = True

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        return [(self.workspace_id, KEY)]
