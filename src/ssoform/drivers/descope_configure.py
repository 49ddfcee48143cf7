"""The body of Descope's configure call: a full replace of one configuration, built from the
manifest's fields and the settings ssoform does not manage, sent back as the plan read them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ssoform.drivers.descope_manifest import DEFAULT
from ssoform.model import Desired, Live

__all__ = ["configure_request"]


def configure_request(
    desired: Desired, live: Live | None, secrets: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """The path and body of the configure call for `desired`: the settings ssoform does not
    manage as `live` read them, the managed ones as the manifest says."""
    fields = desired.fields
    protocol = fields["protocol"]
    kept = _kept_for(live, protocol)
    managed: dict[str, Any] = {"defaultSSORoles": fields["default_roles"]}
    if "groups_priority" in fields:
        managed["groupsPriority"] = fields["groups_priority"]
    body: dict[str, Any] = {"tenantId": desired.scope, "domains": fields["domains"]}
    if desired.key != DEFAULT:
        body["ssoId"] = desired.key
    if protocol == "oidc":
        body["settings"] = {**kept, **_oidc_settings(desired, secrets), **managed}
        return "/v1/mgmt/sso/oidc", body
    roles = [{"groups": m["groups"], "roleName": m["role"]} for m in fields["role_mappings"]]
    managed["roleMappings"] = roles
    managed["attributeMapping"] = fields["attribute_mapping"]
    if "subject_name_id_format" in fields:
        managed["subjectNameIdFormat"] = fields["subject_name_id_format"]
    for name, wire in (("sp_encryption_key", "spEncryptionKey"), ("sp_sign_key", "spSignKey")):
        if name in secrets:
            managed[wire] = secrets[name]
    body["redirectUrl"] = fields["redirect_url"]
    if protocol == "saml-metadata":
        path = "/v1/mgmt/sso/saml/metadata"
        settings = {"idpMetadataUrl": fields["saml"]["metadata_url"]}
    else:
        saml = fields["saml"]
        path = "/v1/mgmt/sso/saml"
        settings = {
            "idpUrl": saml["idp_url"],
            "entityId": saml["entity_id"],
            "idpCert": desired.payload["certificate_pem"],
        }
        if "additional_certificates" in fields:
            managed["idpAdditionalCerts"] = list(desired.payload["additional_pems"])
    body["settings"] = {**kept, **settings, **managed}
    return path, body


def _oidc_settings(desired: Desired, secrets: Mapping[str, str]) -> dict[str, Any]:
    fields = desired.fields
    oidc = fields["oidc"]
    return {
        "name": desired.write_only.get("display_name") or desired.key,
        "clientId": oidc["client_id"],
        "clientSecret": secrets.get("client_secret", ""),
        "issuer": oidc["issuer"],
        "authUrl": oidc["authorization_url"],
        "tokenUrl": oidc["token_url"],
        "userDataUrl": oidc["userinfo_url"],
        "JWKsUrl": oidc["jwks_url"],
        "scope": oidc["scopes"],
        "groupsMapping": [
            {"role": {"name": m["role"]}, "groups": m["groups"]} for m in fields["role_mappings"]
        ],
        "userAttrMapping": fields["attribute_mapping"],
    }


def _kept_for(live: Live | None, protocol: str) -> dict[str, Any]:
    """Settings ssoform does not manage, as `live` read them, in `protocol`'s write shape."""
    if live is None:
        return {}
    kept = live.status.get("kept")
    by_protocol = kept.get(protocol) if isinstance(kept, Mapping) else None
    return dict(by_protocol) if isinstance(by_protocol, Mapping) else {}
