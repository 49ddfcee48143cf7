"""The Descope emulator's state: tenants, their SSO configurations, and the read model.

Kept apart from `emulators/descope.py` (routes and request parsing) so each stays small. Settings
are stored in their *write* shape (`idpUrl`, `roleMappings`, …); `load_settings` renders the
*read* shape (`saml.idpSSOUrl`, `saml.groupsMapping`, …) as provider-apis.md table 2.4 describes.
Secret inputs (OIDC `clientSecret`, SAML `spEncryptionKey`/`spSignKey`) never reach the store:
request parsing replaces them by `<name>Sha256` (hex SHA-256), which reads never return.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from ssoform.manifest.descope_keys import OIDC_CLAIM_KEYS

__all__ = [
    "AUTH_TYPES",
    "OIDC_CLAIM_KEYS",
    "DescopeError",
    "DescopeStore",
    "SsoConfig",
    "Tenant",
    "invalid",
    "missing",
    "secret_digest",
]

AUTH_TYPES = ("none", "saml", "oidc")
DEFAULT = ""
"""The ssoId of a tenant's default configuration."""
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_USER_MAPPING_KEYS = (
    "name",
    "email",
    "username",
    "phoneNumber",
    "group",
    "givenName",
    "middleName",
    "familyName",
    "picture",
    "verifiedEmail",
    "verifiedPhone",
)


class DescopeError(Exception):
    """A refusal, answered as `{errorCode, errorDescription, errorMessage}`."""

    def __init__(self, status: int, code: str, description: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.description = description
        self.message = message

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        body = {
            "errorCode": self.code,
            "errorDescription": self.description,
            "errorMessage": self.message,
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


def missing(name: str) -> DescopeError:
    return DescopeError(400, "E011003", "Request is invalid", f"The {name} field is required")


def invalid(message: str, status: int = 400) -> DescopeError:
    return DescopeError(status, "E011004", "Invalid arguments", message)


def secret_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_domains(values: list[str]) -> list[str]:
    """Lower-cased, de-duplicated (first wins) host names; E011004 on a malformed one."""
    out: list[str] = []
    for value in values:
        domain = value.strip().lower().rstrip(".")
        labels = domain.split(".")
        if len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
            raise invalid(f"domain {value!r} is not a valid domain name")
        if domain not in out:
            out.append(domain)
    return out


@dataclass
class SsoConfig:
    sso_id: str
    display_name: str = ""
    auth_type: str = "none"
    saml_mode: str = ""
    """"manual", "metadata" or "" (never configured)."""
    saml: dict[str, Any] | None = None
    oidc: dict[str, Any] | None = None
    saml_redirect_url: str = ""
    oidc_redirect_url: str = ""
    domains: list[str] = field(default_factory=list)
    sp_nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    """Part of the generated SP ACS URL and entity id; new on every (re)creation."""


@dataclass
class Tenant:
    id: str
    name: str
    self_provisioning_domains: list[str] = field(default_factory=list)
    enforce_sso: bool = False
    enforce_sso_exclusions: list[str] = field(default_factory=list)
    created_time: int = field(default_factory=lambda: int(time.time()))
    configs: dict[str, SsoConfig] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.configs.setdefault(DEFAULT, SsoConfig(DEFAULT))

    @property
    def default(self) -> SsoConfig:
        return self.configs[DEFAULT]


class DescopeStore:
    """Tenants of one project, each with a default SSO configuration and named ones."""

    def __init__(self, project_id: str = "P2emulator", *, allow_duplicate_domains: bool = False):
        self.project_id = project_id
        self.allow_duplicate_domains = allow_duplicate_domains
        self.tenants: dict[str, Tenant] = {}

    # -- tenants -----------------------------------------------------------------------------
    def create_tenant(
        self,
        name: str,
        tenant_id: str | None = None,
        self_provisioning_domains: list[str] | None = None,
    ) -> Tenant:
        tenant_id = tenant_id or "T" + secrets.token_hex(13)
        if tenant_id in self.tenants:
            raise invalid(f"tenant {tenant_id} already exists")
        tenant = Tenant(tenant_id, name, list(self_provisioning_domains or []))
        self.tenants[tenant_id] = tenant
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        found = self.tenants.get(tenant_id)
        if found is None:
            raise invalid(f"tenant {tenant_id} not found", status=404)
        return found

    def config(self, tenant_id: str, sso_id: str = DEFAULT) -> SsoConfig:
        found = self.tenant(tenant_id).configs.get(sso_id)
        if found is None:
            raise invalid(f"SSO configuration {sso_id} not found in tenant {tenant_id}", 404)
        return found

    # -- SSO configurations -----------------------------------------------------------------
    def new_config(self, tenant_id: str, sso_id: str | None, display_name: str) -> SsoConfig:
        tenant = self.tenant(tenant_id)
        sso_id = sso_id or "SSO" + secrets.token_hex(8)
        if sso_id in tenant.configs:
            raise invalid(f"SSO configuration {sso_id} already exists in tenant {tenant_id}")
        tenant.configs[sso_id] = SsoConfig(sso_id, display_name)
        return tenant.configs[sso_id]

    def configure_saml(
        self,
        tenant_id: str,
        sso_id: str,
        *,
        settings: dict[str, Any],
        metadata: bool,
        redirect_url: str,
        domains: list[str],
    ) -> SsoConfig:
        config = self.config(tenant_id, sso_id)
        config.domains = self.claim_domains(tenant_id, sso_id, domains)
        config.saml = dict(settings)
        config.saml_mode = "metadata" if metadata else "manual"
        config.saml_redirect_url = redirect_url
        config.auth_type = "saml"
        return config

    def configure_oidc(
        self, tenant_id: str, sso_id: str, *, settings: dict[str, Any], domains: list[str]
    ) -> SsoConfig:
        config = self.config(tenant_id, sso_id)
        config.domains = self.claim_domains(tenant_id, sso_id, domains)
        oidc = dict(settings)
        config.oidc_redirect_url = oidc.pop("redirectUrl", "")
        config.oidc = oidc
        config.auth_type = "oidc"
        return config

    def set_redirects(
        self, tenant_id: str, sso_id: str, saml_url: str | None, oauth_url: str | None
    ) -> None:
        config = self.config(tenant_id, sso_id)
        if saml_url is not None:
            config.saml_redirect_url = saml_url
        if oauth_url is not None:
            config.oidc_redirect_url = oauth_url

    def set_auth_type(self, tenant_id: str, sso_id: str, auth_type: str) -> None:
        self.check_auth_type(tenant_id, sso_id, auth_type)
        self.config(tenant_id, sso_id).auth_type = auth_type

    def check_auth_type(self, tenant_id: str, sso_id: str, auth_type: str) -> None:
        """E011004 unless `auth_type` is known and, for saml/oidc, configured."""
        config = self.config(tenant_id, sso_id)
        if auth_type not in AUTH_TYPES:
            raise invalid(f"authType must be one of {', '.join(AUTH_TYPES)}")
        if (auth_type == "saml" and config.saml is None) or (
            auth_type == "oidc" and config.oidc is None
        ):
            raise invalid(f"authType {auth_type} is not configured for this SSO configuration")

    def set_domains(self, tenant_id: str, sso_id: str, domains: list[str]) -> None:
        self.config(tenant_id, sso_id).domains = self.claim_domains(tenant_id, sso_id, domains)

    def delete_config(self, tenant_id: str, sso_id: str) -> None:
        tenant = self.tenant(tenant_id)
        self.config(tenant_id, sso_id)
        if sso_id == DEFAULT:
            tenant.configs[DEFAULT] = SsoConfig(DEFAULT)
        else:
            del tenant.configs[sso_id]

    def claim_domains(self, tenant_id: str, sso_id: str, domains: list[str]) -> list[str]:
        """`domains` normalised; E011004 if one belongs to another configuration."""
        wanted = normalise_domains(domains)
        if self.allow_duplicate_domains:
            return wanted
        for tenant in self.tenants.values():
            for config in tenant.configs.values():
                if (tenant.id, config.sso_id) == (tenant_id, sso_id):
                    continue
                taken = set(config.domains).intersection(wanted)
                if taken:
                    raise invalid(
                        f"domain {min(taken)} is already used by another SSO configuration"
                    )
        return wanted

    # -- read model --------------------------------------------------------------------------
    def tenant_view(self, tenant: Tenant, config: SsoConfig | None = None) -> dict[str, Any]:
        """The `Tenant` object; with `config`, its domains and authType are that config's."""
        if config is None:
            domains = [d for c in tenant.configs.values() for d in c.domains]
            auth_type = tenant.default.auth_type
        else:
            domains, auth_type = list(config.domains), config.auth_type
        return {
            "id": tenant.id,
            "name": tenant.name,
            "customAttributes": {},
            "selfProvisioningDomains": list(tenant.self_provisioning_domains),
            "authType": auth_type,
            "domains": domains,
            "createdTime": tenant.created_time,
            "disabled": False,
            "enforceSSO": tenant.enforce_sso,
            "enforceSSOExclusions": list(tenant.enforce_sso_exclusions),
            "federatedAppIds": [],
            "parent": "",
            "successors": [],
            "defaultRoles": [],
            "roleInheritance": "",
        }

    def load_settings(self, tenant_id: str, sso_id: str = DEFAULT) -> dict[str, Any]:
        """`LoadSSOSettingsResponse`: `{tenant, saml, oidc, ssoId}` in the read shape."""
        tenant = self.tenant(tenant_id)
        config = self.config(tenant_id, sso_id)
        return {
            "tenant": self.tenant_view(tenant, config),
            "saml": self._saml_view(tenant, config),
            "oidc": _oidc_view(config),
            "ssoId": config.sso_id,
        }

    def _saml_view(self, tenant: Tenant, config: SsoConfig) -> dict[str, Any]:
        saml = config.saml or {}
        derived = config.saml_mode == "metadata"
        mapping = saml.get("attributeMapping") or {}
        return {
            "idpEntityId": saml.get("entityId", ""),
            "idpSSOUrl": "" if derived else saml.get("idpUrl", ""),
            "idpCertificate": "" if derived else saml.get("idpCert", ""),
            "idpAdditionalCertificates": list(saml.get("idpAdditionalCerts", [])),
            "idpMetadataUrl": saml.get("idpMetadataUrl", ""),
            "spEntityId": saml.get("spEntityId")
            or f"https://descope.com/{self.project_id}/{config.sp_nonce}",
            "spACSUrl": saml.get("spACSUrl")
            or f"https://api.descope.com/v1/auth/saml/acs/{tenant.id}/{config.sp_nonce}",
            "spCertificate": "",
            "spSignCertificate": "",
            "attributeMapping": {
                **{key: mapping.get(key, "") for key in _USER_MAPPING_KEYS},
                "customAttributes": dict(mapping.get("customAttributes", {})),
            },
            "groupsMapping": _groups_mapping(saml.get("roleMappings", [])),
            "redirectUrl": config.saml_redirect_url,
            "defaultSSORoles": list(saml.get("defaultSSORoles", [])),
            "groupsPriority": list(saml.get("groupsPriority", [])),
            "fgaMappings": dict(saml.get("fgaMappings", {})),
            "configFGATenantIDResourcePrefix": saml.get("configFGATenantIDResourcePrefix", ""),
            "configFGATenantIDResourceSuffix": saml.get("configFGATenantIDResourceSuffix", ""),
            "subjectNameIdFormat": saml.get("subjectNameIdFormat", ""),
            "disableSignRequest": saml.get("disableSignRequest", False),
            "lastSuccessTestTime": 0,
        }

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "allow_duplicate_domains": self.allow_duplicate_domains,
            "tenants": [asdict(t) for t in self.tenants.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.project_id = data.get("project_id", self.project_id)
        self.allow_duplicate_domains = data.get(
            "allow_duplicate_domains", self.allow_duplicate_domains
        )
        tenants = {}
        for item in data.get("tenants", []):
            configs = {c["sso_id"]: SsoConfig(**c) for c in item.get("configs", {}).values()}
            tenant = Tenant(**{**item, "configs": configs})
            tenants[tenant.id] = tenant
        self.tenants = tenants

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DescopeStore:
        store = cls()
        store.load_json(data)
        return store


_OIDC_DEFAULTS: dict[str, Any] = {
    "name": "",
    "clientId": "",
    "clientSecret": "",
    "redirectUrl": "",
    "authUrl": "",
    "tokenUrl": "",
    "userDataUrl": "",
    "scope": [],
    "JWKsUrl": "",
    "userAttrMapping": {},
    "manageProviderTokens": False,
    "callbackDomain": "",
    "prompt": [],
    "grantType": "",
    "issuer": "",
    "groupsMapping": [],
    "defaultSSORoles": [],
    "groupsPriority": [],
    "fgaMappings": {},
}


def _oidc_view(config: SsoConfig) -> dict[str, Any]:
    stored = {k: v for k, v in (config.oidc or {}).items() if not k.endswith("Sha256")}
    roles = stored.pop("roleMappings", [])
    claims = stored.pop("userAttrMapping", {})
    return {
        **_OIDC_DEFAULTS,
        **stored,
        "clientSecret": "",
        "redirectUrl": config.oidc_redirect_url,
        "userAttrMapping": {
            **{key: claims.get(key, "") for key in OIDC_CLAIM_KEYS},
            "customAttributes": dict(claims.get("customAttributes", {})),
        },
        "groupsMapping": _groups_mapping(roles),
        "lastSuccessTestTime": 0,
    }


def _groups_mapping(role_mappings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored `roleMappings[{groups, roleName}]` in the read shape `groupsMapping`."""
    return [
        {"role": {"id": _role_id(m["roleName"]), "name": m["roleName"]}, "groups": m["groups"]}
        for m in role_mappings
    ]


def _role_id(name: str) -> str:
    return "R" + hashlib.sha256(name.encode()).hexdigest()[:26]
