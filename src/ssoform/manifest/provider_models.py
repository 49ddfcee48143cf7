"""The built-in provider types' manifest models: each type's provider instance and connection.

A connection model knows the live objects it declares (`live_keys`) and what it needs of its
email domains and identity provider; the provider-type table (`provider_types`) pairs each
provider model with its connection model, scope key and driver.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ssoform.manifest.descope_keys import attribute_key_problem
from ssoform.manifest.fields import PUBLIC_MAIL_DOMAINS, CloudflareId, HttpsUrl, Identifier, Name
from ssoform.manifest.idp_urls import admin_host, domain_url
from ssoform.manifest.model_base import ConnectionBase, ManifestModel, ProviderBase
from ssoform.manifest.secrets import SecretRef

if TYPE_CHECKING:
    from ssoform.manifest.models import IdentityProvider, Manifest, Tenant

__all__ = [
    "DESCOPE_DEFAULT",
    "VANTAGE_KEY",
    "CantinaConnection",
    "CantinaProvider",
    "CloudflareConnection",
    "CloudflareProvider",
    "DescopeConnection",
    "DescopeProvider",
    "PandaStackConnection",
    "PandaStackProvider",
    "RoleMapping",
    "VantageConnection",
    "VantageProvider",
    "is_secret_setting",
]

# --- providers ---------------------------------------------------------------------------------

DESCOPE_DEFAULT = "default"
"""The key of a Descope tenant's default SSO configuration (a connection without `sso_id`)."""
VANTAGE_KEY = "sso"
"""The key of a Vantage managed account's one SSO connection."""


class CloudflareProvider(ProviderBase):
    type: Literal["cloudflare"]
    api_token: SecretRef


class DescopeProvider(ProviderBase):
    type: Literal["descope"]
    project_id: Identifier
    management_key: SecretRef


class VantageProvider(ProviderBase):
    type: Literal["vantage"]
    api_token: SecretRef


class CantinaProvider(ProviderBase):
    type: Literal["cantina"]
    api_key: SecretRef


class PandaStackProvider(ProviderBase):
    type: Literal["pandastack"]
    api_token: SecretRef
    organization_id: Identifier


# --- connections -------------------------------------------------------------------------------


class CloudflareConnection(ConnectionBase):
    """Cloudflare dashboard SSO: one connector per email domain in an account."""

    account_id: CloudflareId
    enabled: bool = True
    use_fedramp_language: bool = False

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        return [(self.account_id, domain) for domain in self.email_domains(tenant)]

    def domain_problem(self, domain: str) -> str | None:
        if domain in PUBLIC_MAIL_DOMAINS:
            return f"{domain} is a public mail domain; it cannot have SSO"
        return None


class RoleMapping(ManifestModel):
    groups: list[str] = Field(min_length=1)
    role: str = Field(min_length=1)


class DescopeConnection(ConnectionBase):
    """A Descope tenant's SSO configuration: the default one, or a named one (`sso_id`)."""

    tenant_id: Identifier
    sso_id: Identifier | None = Field(default=None, description="Absent: the default config.")
    display_name: str | None = None
    protocol: Literal["saml", "saml-metadata", "oidc"]
    enabled: bool = True
    redirect_url: HttpsUrl | None = None
    role_mappings: list[RoleMapping] = Field(default_factory=list)
    attribute_mapping: dict[str, str] = Field(default_factory=dict)
    default_roles: list[str] = Field(default_factory=list)
    groups_priority: list[str] | None = Field(
        default=None, description="Group names, highest priority first. Absent: left as it is."
    )
    subject_name_id_format: str | None = Field(
        default=None, description="SAML only: the NameID format. Absent: left as it is."
    )
    sp_encryption_key: SecretRef | None = Field(
        default=None, description="SAML only: the SP's encryption key (PEM). Write-only."
    )
    sp_sign_key: SecretRef | None = Field(
        default=None, description="SAML only: the SP's signing key (PEM). Write-only."
    )

    @model_validator(mode="after")
    def _known_attribute_keys(self) -> DescopeConnection:
        problems = [attribute_key_problem(k, self.protocol) for k in self.attribute_mapping]
        if any(problems):
            raise ValueError("attribute_mapping: " + "; ".join(p for p in problems if p))
        saml_only = ("subject_name_id_format", "sp_encryption_key", "sp_sign_key")
        for name in saml_only:
            if getattr(self, name) is not None and self.protocol == "oidc":
                raise ValueError(f"{name} applies to SAML connections only")
        return self

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        return [(self.tenant_id, self.sso_id or DESCOPE_DEFAULT)]


class VantageConnection(ConnectionBase):
    """A Vantage managed account's SAML connection (by metadata URL). Write-only at the API."""

    managed_account: Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]+$")]
    protocol: Literal["saml-metadata"] = "saml-metadata"

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        return [(self.managed_account, VANTAGE_KEY)]


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class CantinaConnection(ConnectionBase):
    """A Cantina company's SSO connection (Okta or Entra over OIDC). Create-only at the API."""

    company_id: Annotated[str, Field(pattern=_UUID)]
    idp_kind: Literal["okta", "entra"] | None = Field(
        default=None, description="Defaults to the identity provider's kind."
    )
    provider_base_url: HttpsUrl | None = Field(
        default=None,
        description="The IdP's domain URL (for Okta https://x.okta.com, not the -admin host). "
        "Derived from an Okta issuer; required otherwise (Entra).",
    )

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        domains = self.email_domains(tenant)
        return [(self.company_id, min(domains) if domains else "")]

    def idp_problems(self, idp: IdentityProvider) -> Iterator[tuple[str | None, str]]:
        if self.idp_kind is None and idp.kind not in ("okta", "entra"):
            yield None, "cantina supports okta or entra: set idp_kind or the idp's kind"
        elif idp.oidc is not None:
            yield from self._base_url_problems(self.idp_kind or idp.kind, idp.oidc.issuer)

    def _base_url_problems(self, kind: str, issuer: str) -> Iterator[tuple[str | None, str]]:
        """Cantina takes the IdP's domain URL, which only some issuers tell with certainty."""
        if self.provider_base_url is not None:
            if admin_host(self.provider_base_url):
                yield "provider_base_url", "use the Okta domain URL without -admin"
        elif domain_url(kind, issuer) is None:
            yield (
                "provider_base_url",
                f"required: cannot derive the {kind} domain URL Cantina needs from the issuer "
                f"{issuer} (for example https://acme.okta.com)",
            )


class PandaStackConnection(ConnectionBase):
    """EXPERIMENTAL. A PandaStack organization's SSO provider, as an opaque settings document."""

    needs_domains: ClassVar[bool] = False

    name: Name = Field(description="The key of this SSO provider within the organization.")
    organization_id: Identifier | None = Field(
        default=None, description="Defaults to the provider instance's organization_id."
    )
    settings: dict[str, Any] = Field(
        description="Keys sent to PandaStack as they are; only these keys are compared. "
        "Keys that name a secret take a reference ({env: NAME} or {file: path})."
    )

    @model_validator(mode="after")
    def _secret_keys_are_references(self) -> PandaStackConnection:
        for key, value in self.settings.items():
            if is_secret_setting(key) and not _is_reference(value):
                raise ValueError(
                    f"settings.{key} looks like a secret: give it as {{env: NAME}} or "
                    "{file: path}, never a literal value"
                )
        return self

    def organization(self, manifest: Manifest) -> str:
        """The organization it lives in: its own, else its provider instance's."""
        instance = manifest.providers.get(self.provider)
        return self.organization_id or str(getattr(instance, "organization_id", ""))

    def live_keys(self, manifest: Manifest, tenant: Tenant) -> list[tuple[str, str]]:
        return [(self.organization(manifest), self.name)]


_SECRET_KEY = re.compile(r"secret|password|token|private|api_?key", re.IGNORECASE)


def is_secret_setting(key: str) -> bool:
    """Whether a PandaStack settings key names a secret (it must be given by reference)."""
    return _SECRET_KEY.search(key) is not None


def _is_reference(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    try:
        SecretRef.model_validate(value)
    except ValueError:
        return False
    return True
