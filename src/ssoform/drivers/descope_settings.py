"""The Descope settings ssoform does not manage but must send back: every configure call
replaces the whole configuration, so what a read returned goes back unchanged.

Sources (facts only): the management OpenAPI document (`SSOSAMLSettings`,
`SSOSAMLByMetadataSettings`, `SSOOIDCSettings`, `SamlSettingsResponse`) and descope/go-sdk
`descope/types.go` (`SSOSAMLSettingsResponse`, `SSOOIDCSettings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["kept_oidc", "kept_saml"]

# Read name -> write name of SAML settings ssoform does not manage (kept as read).
_SAML_KEPT = {
    "groupsPriority": "groupsPriority",
    "fgaMappings": "fgaMappings",
    "configFGATenantIDResourcePrefix": "configFGATenantIDResourcePrefix",
    "configFGATenantIDResourceSuffix": "configFGATenantIDResourceSuffix",
    "subjectNameIdFormat": "subjectNameIdFormat",
}
_SAML_MANUAL_KEPT = {**_SAML_KEPT, "idpAdditionalCertificates": "idpAdditionalCerts"}
_SAML_METADATA_KEPT = {**_SAML_KEPT, "idpEntityId": "entityId"}
_OIDC_KEPT = (
    "redirectUrl",
    "callbackDomain",
    "prompt",
    "grantType",
    "manageProviderTokens",
    "providerID",
    "scimProviderID",
    "groupsPriority",
    "fgaMappings",
)


def _present(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def kept_saml(read: Mapping[str, Any], *, metadata: bool) -> dict[str, Any]:
    """The SAML settings (write names) to send back unchanged, from a load answer's `saml`."""
    names = _SAML_METADATA_KEPT if metadata else _SAML_MANUAL_KEPT
    return {w: read[r] for r, w in names.items() if _present(read.get(r))}


def kept_oidc(read: Mapping[str, Any]) -> dict[str, Any]:
    """The OIDC settings to send back unchanged, from a load answer's `oidc` (same names)."""
    return {name: read[name] for name in _OIDC_KEPT if _present(read.get(name))}
