"""The manifest language, version 1, as pydantic models: the one source of the JSON Schema.

A manifest names provider instances (credentials by reference), identity providers (the
customer's IdP apps, defined once) and tenants, each with the connections it should have on each
provider. A connection's shape depends on its provider type; the type is recognised by the scope
key it names (each type's record in `provider_types` says which), and a cross-check makes sure
the named provider instance is of that type. The unions of provider and connection models are
derived from that table; a type installed as a plugin validates through its own models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ssoform.manifest.fields import ADDRESS_PATTERN, Domain, HttpsUrl, Name
from ssoform.manifest.model_base import (
    ConnectionBase,
    ManifestModel,
    ProviderBase,
    RateLimit,
)
from ssoform.manifest.provider_models import (
    CantinaConnection,
    CantinaProvider,
    CloudflareConnection,
    CloudflareProvider,
    DescopeConnection,
    DescopeProvider,
    PandaStackConnection,
    PandaStackProvider,
    RoleMapping,
    VantageConnection,
    VantageProvider,
    is_secret_setting,
)
from ssoform.manifest.provider_types import BUILTIN_TYPES, PluginError, ProviderTypes
from ssoform.manifest.secrets import SecretRef

__all__ = [
    "CantinaConnection",
    "CantinaProvider",
    "Certificate",
    "CloudflareConnection",
    "CloudflareProvider",
    "Connection",
    "ConnectionBase",
    "DescopeConnection",
    "DescopeProvider",
    "IdentityProvider",
    "Manifest",
    "Moved",
    "OidcIdp",
    "PandaStackConnection",
    "PandaStackProvider",
    "ProviderBase",
    "ProviderInstance",
    "RateLimit",
    "RoleMapping",
    "SamlIdp",
    "Tenant",
    "VantageConnection",
    "VantageProvider",
    "connection_type",
    "is_secret_setting",
    "scope_message",
    "types_in",
]


def types_in(info: ValidationInfo | None) -> ProviderTypes:
    """The provider types of this validation (passed as `context={"provider_types": ...}`), or
    a fresh lookup when validating without one."""
    context = info.context if info is not None else None
    found = context.get("provider_types") if isinstance(context, dict) else None
    return found if isinstance(found, ProviderTypes) else ProviderTypes()


# --- providers ---------------------------------------------------------------------------------


def _provider_or_plugin(
    value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> Any:
    """A built-in type validates through the union; an installed plugin's through its model."""
    name = value.get("type") if isinstance(value, dict) else None
    if isinstance(name, str) and name not in _BUILTIN_NAMES:
        try:
            record = types_in(info).get(name)
        except PluginError as exc:
            raise PydanticCustomError(
                "provider_plugin", "{message}", {"message": str(exc)}
            ) from None
        if record is not None:
            return record.provider_model.model_validate(value, context=info.context)
    return handler(value)


def _builtin_or_plugin_dump(
    value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo
) -> Any:
    if isinstance(value, BaseModel) and type(value) not in _BUILTIN_MODELS:
        return value.model_dump(mode=info.mode, by_alias=info.by_alias)
    return handler(value)


_BUILTIN_NAMES = frozenset(t.name for t in BUILTIN_TYPES)
_BUILTIN_MODELS = frozenset(
    model for t in BUILTIN_TYPES for model in (t.provider_model, t.connection_model)
)

if TYPE_CHECKING:
    ProviderInstance = ProviderBase
else:
    ProviderInstance = Annotated[
        Union[tuple(t.provider_model for t in BUILTIN_TYPES)],  # noqa: UP007 - built at runtime
        Field(discriminator="type"),
        WrapValidator(_provider_or_plugin),
        WrapSerializer(_builtin_or_plugin_dump),
    ]
"""A provider instance: one of the built-in types' models (tagged by `type`, which is all the
JSON Schema shows), or an installed plugin type's model."""

# --- identity providers ------------------------------------------------------------------------


class Certificate(ManifestModel):
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


class SamlIdp(ManifestModel):
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
    _certificates_from_metadata: bool = PrivateAttr(default=False)

    @property
    def certificates_from_metadata(self) -> bool:
        """Whether `certificate` and `additional_certificates` were resolved from the
        metadata (`certificate: {from_metadata: true}`): the metadata's set is then the whole
        set, so an empty `additional_certificates` means none, not "leave them as they are"."""
        return self._certificates_from_metadata

    def resolved_from_metadata(self, primary: Certificate, others: list[Certificate]) -> SamlIdp:
        """This IdP with the certificates its metadata publishes now."""
        resolved = self.model_copy(
            update={
                "certificate": primary,
                "additional_certificates": [*self.additional_certificates, *others],
            }
        )
        resolved._certificates_from_metadata = True
        return resolved

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


class OidcIdp(ManifestModel):
    issuer: HttpsUrl
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    authorization_url: HttpsUrl | None = None
    token_url: HttpsUrl | None = None
    userinfo_url: HttpsUrl | None = None
    jwks_url: HttpsUrl | None = None
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])


class IdentityProvider(ManifestModel):
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


def scope_message(types: Any) -> str:
    """The error for a connection that does not name exactly one scope key of `types`."""
    named = [f"{t.scope_key} ({t.name})" for t in types]
    listed = ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) > 1 else named[0]
    return f"a connection names exactly one scope: {listed}"


def connection_type(value: Any) -> str | None:
    """The built-in provider type a connection is for, from the scope key it names."""
    if isinstance(value, ConnectionBase):
        record = _BUILTIN_BY_MODEL.get(type(value))
        return record.name if record is not None else None
    if not isinstance(value, dict):
        return None
    found = [t.name for t in BUILTIN_TYPES if t.scope_key in value]
    return found[0] if len(found) == 1 else None


def _connection_or_plugin(
    value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> Any:
    """A connection naming one built-in scope key validates through the union; one naming an
    installed plugin type's scope key through that type's model."""
    if isinstance(value, ConnectionBase) and type(value) not in _BUILTIN_MODELS:
        return value
    if not isinstance(value, dict) or connection_type(value) is not None:
        return handler(value)
    if any(t.scope_key in value for t in BUILTIN_TYPES):
        return handler(value)  # several built-in scope keys: the union says so
    types = types_in(info)
    record = types.for_connection(value)
    if record is not None:
        return record.connection_model.model_validate(value, context=info.context)
    if not types.installed():
        return handler(value)
    raise PydanticCustomError("connection_type", scope_message(types.usable()))


_BUILTIN_BY_MODEL = {t.connection_model: t for t in BUILTIN_TYPES}

if TYPE_CHECKING:
    Connection = ConnectionBase
else:
    Connection = Annotated[
        Union[tuple(Annotated[t.connection_model, Tag(t.name)] for t in BUILTIN_TYPES)],  # noqa: UP007
        Discriminator(
            connection_type,
            custom_error_type="connection_type",
            custom_error_message=scope_message(BUILTIN_TYPES),
        ),
        WrapValidator(_connection_or_plugin),
        WrapSerializer(_builtin_or_plugin_dump),
    ]
"""A tenant's connection, of the type whose scope key it names (built in or a plugin's)."""

# --- tenants and the manifest ------------------------------------------------------------------


class Tenant(ManifestModel):
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


class Moved(ManifestModel):
    """A rename the engine cannot infer (as Terraform's `moved` block): the object state
    records at `from` is the one the manifest now declares at `to`; nothing is sent."""

    from_: Address = Field(alias="from")
    to: Address

    @model_validator(mode="after")
    def _distinct(self) -> Moved:
        if self.from_ == self.to:
            raise ValueError("from and to are the same address")
        return self


class Manifest(ManifestModel):
    """A whole manifest: one file, or a directory of files merged into one."""

    version: Literal[1]
    vars: dict[str, Any] = Field(default_factory=dict)
    providers: dict[Name, ProviderInstance] = Field(default_factory=dict)
    identity_providers: dict[Name, IdentityProvider] = Field(default_factory=dict)
    tenants: dict[Name, Tenant] = Field(default_factory=dict)
    moved: list[Moved] = Field(
        default_factory=list, description="Renamed resources: state follows, nothing is sent."
    )
