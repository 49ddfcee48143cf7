"""What every provider's manifest models share: the provider-instance and connection bases.

A provider type (built in or installed as a plugin) brings a provider model derived from
`ProviderBase` and a connection model derived from `ConnectionBase`. A connection model says
which email domains it serves and which live objects it declares (`email_domains`,
`live_keys`): validation's cross-checks and the driver's `expand` both ask it, so that logic is
written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssoform.manifest.fields import Domain, HttpsUrl, Name

if TYPE_CHECKING:
    from ssoform.manifest.models import IdentityProvider, Manifest, Tenant

__all__ = ["ConnectionBase", "ManifestModel", "ProviderBase", "RateLimit"]


class ManifestModel(BaseModel):
    """A part of the manifest: unknown keys are errors, and a validated value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class RateLimit(ManifestModel):
    """Override a provider's documented rate limit (for example a raised enterprise quota)."""

    requests: int = Field(gt=0, le=1_000_000)
    per_seconds: float = Field(gt=0, le=86_400)


class ProviderBase(ManifestModel):
    """A provider instance: what every type has; each type adds `type` and its credentials."""

    if TYPE_CHECKING:  # each type declares it (a Literal), after the fields below
        type: str

    base_url: HttpsUrl | None = Field(
        default=None, description="Override the API base URL (https, or http on loopback only)."
    )
    sandbox: bool = Field(
        default=False, description="Route this instance to ssoform's embedded emulator."
    )
    rate_limit: RateLimit | None = None
    max_concurrency: int | None = Field(default=None, gt=0, le=64)
    prune: bool = Field(
        default=False,
        description="Delete managed resources removed from the manifest (same as --allow-delete).",
    )


class ConnectionBase(ManifestModel):
    """A tenant's connection on one provider instance; each type adds its scope key."""

    needs_domains: ClassVar[bool] = True
    """Whether validation requires email domains (on the connection or its tenant)."""

    provider: Name = Field(description="The provider instance (a key of `providers`).")
    idp: Name | None = Field(default=None, description="Overrides the tenant's identity provider.")
    domains: list[Domain] | None = Field(
        default=None, description="Overrides the tenant's email domains for this connection."
    )
    protect: bool = Field(
        default=False,
        description="Never delete; survives removal from the manifest until released.",
    )

    def email_domains(self, tenant: Tenant) -> list[str]:
        """The email domains this connection serves: its own list, else the tenant's."""
        return list(self.domains) if self.domains is not None else list(tenant.domains)

    def idp_name(self, tenant: Tenant) -> str | None:
        """The identity provider users sign in with: the connection's, else the tenant's."""
        return self.idp or tenant.idp

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        """The (scope, key) of each live object this connection declares."""
        raise NotImplementedError(f"{type(self).__name__} does not say what it declares")

    def domain_problem(self, domain: str) -> str | None:
        """Why this connection cannot serve `domain` (default: it can)."""
        return None

    def idp_problems(self, idp: IdentityProvider) -> Iterator[tuple[str | None, str]]:
        """What this connection needs of its identity provider beyond the protocol:
        (the connection's key at fault or None for the connection, message) pairs."""
        return iter(())
