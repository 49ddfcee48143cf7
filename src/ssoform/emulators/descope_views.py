"""The Descope emulator's read model: stored tenants and SSO configurations rendered in the
shapes Descope's reads answer (`Tenant`, `LoadSSOSettingsResponse`)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ssoform.manifest.descope_keys import OIDC_CLAIM_KEYS

if TYPE_CHECKING:
    from ssoform.emulators.descope_store import SsoConfig, Tenant

__all__ = ["settings_view", "tenant_view"]

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


def tenant_view(tenant: Tenant, config: SsoConfig | None = None) -> dict[str, Any]:
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


def settings_view(project_id: str, tenant: Tenant, config: SsoConfig) -> dict[str, Any]:
    """`LoadSSOSettingsResponse`: `{tenant, saml, oidc, ssoId}` in the read shape."""
    return {
        "tenant": tenant_view(tenant, config),
        "saml": _saml_view(project_id, tenant, config),
        "oidc": _oidc_view(config),
        "ssoId": config.sso_id,
    }


def _saml_view(project_id: str, tenant: Tenant, config: SsoConfig) -> dict[str, Any]:
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
        or f"https://descope.com/{project_id}/{config.sp_nonce}",
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
