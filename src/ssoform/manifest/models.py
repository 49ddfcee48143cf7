"""The manifest language, version 1, as pydantic models: the one source of the JSON Schema.

A manifest names provider instances (credentials by reference), identity providers (the
customer's IdP apps, defined once) and tenants, each with the connections it should have on each
provider. A connection's shape depends on its provider type; the type is recognised by the scope
key it names (`account_id` for Cloudflare, `tenant_id` for Descope, `managed_account` for Vantage,
`company_id` for Cantina, `settings` for PandaStack), and a cross-check makes sure the named
provider instance is of that type.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from ssoform.manifest.descope_keys import attribute_key_problem
from ssoform.manifest.fields import (
    ADDRESS_PATTERN,
    CloudflareId,
    Domain,
    HttpsUrl,
    Identifier,
    Name,
)
from ssoform.manifest.secrets import SecretRef

__all__ = [
    "CantinaConnection",
    "CantinaProvider",
    "Certificate",
    "CloudflareConnection",
    "CloudflareProvider",
    "Connection",
    "DescopeConnection",
    "DescopeProvider",
    "IdentityProvider",
    "Manifest",
    "Moved",
    "OidcIdp",
    "PandaStackConnection",
    "PandaStackProvider",
    "ProviderInstance",
    "RateLimit",
    "RoleMapping",
    "SamlIdp",
    "Tenant",
    "VantageConnection",
    "VantageProvider",
    "connection_type",
    "is_secret_setting",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


# --- providers ---------------------------------------------------------------------------------


class RateLimit(_Model):
    """Override a provider's documented rate limit (for example a raised enterprise quota)."""

    requests: int = Field(gt=0, le=1_000_000)
    per_seconds: float = Field(gt=0, le=86_400)


class _ProviderBase(_Model):
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


class CloudflareProvider(_ProviderBase):
    type: Literal["cloudflare"]
    api_token: SecretRef


class DescopeProvider(_ProviderBase):
    type: Literal["descope"]
    project_id: Identifier
    management_key: SecretRef


class VantageProvider(_ProviderBase):
    type: Literal["vantage"]
    api_token: SecretRef


class CantinaProvider(_ProviderBase):
    type: Literal["cantina"]
    api_key: SecretRef


class PandaStackProvider(_ProviderBase):
    type: Literal["pandastack"]
    api_token: SecretRef
    organization_id: Identifier


ProviderInstance = Annotated[
    CloudflareProvider | DescopeProvider | VantageProvider | CantinaProvider | PandaStackProvider,
    Field(discriminator="type"),
]

# --- identity providers ------------------------------------------------------------------------


class Certificate(_Model):
    """An X.509 certificate in PEM: inline, from a file next to the manifest (public data), or
    the current signing certificate of the identity provider's SAML metadata."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["file"]},
                {"required": ["pem"]},
                {"required": ["from_metadata"], "properties": {"from_metadata": {"const": True}}},
            ]
        }
    )

    file: str | None = None
    pem: str | None = None
    from_metadata: bool = Field(
        default=False,
        description="Take the signing certificate from saml.metadata_url at each plan.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Certificate:
        given = (self.file is not None) + (self.pem is not None) + self.from_metadata
        if given != 1:
            raise ValueError("a certificate names exactly one of file, pem or from_metadata: true")
        return self


class SamlIdp(_Model):
    metadata_url: HttpsUrl | None = None
    entity_id: str | None = Field(default=None, min_length=1)
    sso_url: HttpsUrl | None = None
    certificate: Certificate | None = None
    additional_certificates: list[Certificate] = Field(default_factory=list)
    metadata_signing_certificate: Certificate | None = Field(
        default=None,
        description="Verify the metadata's XML signature with this certificate; "
        "unsigned or badly signed metadata is refused.",
    )

    @model_validator(mode="after")
    def _from_metadata_needs_url(self) -> SamlIdp:
        signer = self.metadata_signing_certificate
        if signer is not None and (signer.from_metadata or self.metadata_url is None):
            raise ValueError(
                "metadata_signing_certificate needs a metadata_url and names a file or pem"
            )
        from_metadata = self.certificate is not None and self.certificate.from_metadata
        if from_metadata and self.metadata_url is None:
            raise ValueError("certificate: {from_metadata: true} needs a metadata_url")
        if any(c.from_metadata for c in self.additional_certificates):
            raise ValueError("from_metadata is for `certificate` only (it brings the others)")
        return self


class OidcIdp(_Model):
    issuer: HttpsUrl
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    authorization_url: HttpsUrl | None = None
    token_url: HttpsUrl | None = None
    userinfo_url: HttpsUrl | None = None
    jwks_url: HttpsUrl | None = None
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])


class IdentityProvider(_Model):
    """A customer's IdP application, defined once and bound by many tenants and connections."""

    kind: Literal["okta", "entra", "google", "onelogin", "ping", "jumpcloud", "other"] = "other"
    saml: SamlIdp | None = None
    oidc: OidcIdp | None = None

    @model_validator(mode="after")
    def _some_protocol(self) -> IdentityProvider:
        if self.saml is None and self.oidc is None:
            raise ValueError("an identity provider defines saml, oidc or both")
        return self


# --- connections -------------------------------------------------------------------------------


class _ConnectionBase(_Model):
    provider: Name = Field(description="The provider instance (a key of `providers`).")
    idp: Name | None = Field(default=None, description="Overrides the tenant's identity provider.")
    domains: list[Domain] | None = Field(
        default=None, description="Overrides the tenant's email domains for this connection."
    )
    protect: bool = Field(
        default=False,
        description="Never delete; survives removal from the manifest until released.",
    )


class CloudflareConnection(_ConnectionBase):
    """Cloudflare dashboard SSO: one connector per email domain in an account."""

    account_id: CloudflareId
    enabled: bool = True
    use_fedramp_language: bool = False


class RoleMapping(_Model):
    groups: list[str] = Field(min_length=1)
    role: str = Field(min_length=1)


class DescopeConnection(_ConnectionBase):
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


class VantageConnection(_ConnectionBase):
    """A Vantage managed account's SAML connection (by metadata URL). Write-only at the API."""

    managed_account: Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]+$")]
    protocol: Literal["saml-metadata"] = "saml-metadata"


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class CantinaConnection(_ConnectionBase):
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


class PandaStackConnection(_ConnectionBase):
    """EXPERIMENTAL. A PandaStack organization's SSO provider, as an opaque settings document."""

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


_SCOPE_KEYS = {
    "account_id": "cloudflare",
    "tenant_id": "descope",
    "managed_account": "vantage",
    "company_id": "cantina",
    "settings": "pandastack",
}


def connection_type(value: Any) -> str | None:
    """The provider type a connection is for, from the scope key it names."""
    if isinstance(value, BaseModel):
        return value.model_config.get("title") or _TYPE_OF_MODEL.get(type(value))
    if not isinstance(value, dict):
        return None
    found = [kind for key, kind in _SCOPE_KEYS.items() if key in value]
    return found[0] if len(found) == 1 else None


Connection = Annotated[
    Annotated[CloudflareConnection, Tag("cloudflare")]
    | Annotated[DescopeConnection, Tag("descope")]
    | Annotated[VantageConnection, Tag("vantage")]
    | Annotated[CantinaConnection, Tag("cantina")]
    | Annotated[PandaStackConnection, Tag("pandastack")],
    Discriminator(
        connection_type,
        custom_error_type="connection_type",
        custom_error_message=(
            "a connection names exactly one scope: account_id (cloudflare), tenant_id (descope), "
            "managed_account (vantage), company_id (cantina) or settings (pandastack)"
        ),
    ),
]

_TYPE_OF_MODEL: dict[type[BaseModel], str] = {
    CloudflareConnection: "cloudflare",
    DescopeConnection: "descope",
    VantageConnection: "vantage",
    CantinaConnection: "cantina",
    PandaStackConnection: "pandastack",
}

# --- tenants and the manifest ------------------------------------------------------------------


class Tenant(_Model):
    description: str | None = None
    domains: list[Domain] = Field(default_factory=list)
    idp: Name | None = Field(default=None, description="The identity provider users sign in with.")
    vars: dict[str, Any] = Field(default_factory=dict)
    connections: list[Connection] = Field(default_factory=list)


Address = Annotated[
    str,
    Field(
        max_length=512,
        pattern=ADDRESS_PATTERN,
        description="A resource address: TENANT/PROVIDER-INSTANCE/SCOPE/KEY.",
    ),
]


class Moved(_Model):
    """A rename the engine cannot infer (as Terraform's `moved` block): the object state
    records at `from` is the one the manifest now declares at `to`; nothing is sent."""

    from_: Address = Field(alias="from")
    to: Address

    @model_validator(mode="after")
    def _distinct(self) -> Moved:
        if self.from_ == self.to:
            raise ValueError("from and to are the same address")
        return self


class Manifest(_Model):
    """A whole manifest: one file, or a directory of files merged into one."""

    version: Literal[1]
    vars: dict[str, Any] = Field(default_factory=dict)
    providers: dict[Name, ProviderInstance] = Field(default_factory=dict)
    identity_providers: dict[Name, IdentityProvider] = Field(default_factory=dict)
    tenants: dict[Name, Tenant] = Field(default_factory=dict)
    moved: list[Moved] = Field(
        default_factory=list, description="Renamed resources: state follows, nothing is sent."
    )
