"""Descope configurations back in manifest terms (for `ssoform import`)."""

from __future__ import annotations

from typing import Any

from ssoform.drivers.base import SECRET_SLOT, Imported
from ssoform.model import Live

__all__ = ["DEFAULT", "imported"]

DEFAULT = "default"
"""The key of a tenant's default SSO configuration (no `sso_id`)."""


def imported(live: Live) -> Imported:
    """A live configuration as a manifest connection and the identity provider it needs."""
    fields = live.fields
    protocol = str(fields["protocol"])
    connection: dict[str, Any] = {"tenant_id": live.scope}
    unreadable: list[str] = []
    if live.key != DEFAULT:
        connection["sso_id"] = live.key
        unreadable.append("connection.sso_id")  # its display name is write-only
    connection["protocol"] = protocol
    connection["enabled"] = bool(fields["enabled"])
    if fields.get("redirect_url"):
        connection["redirect_url"] = fields["redirect_url"]
    if fields["role_mappings"]:
        connection["role_mappings"] = list(fields["role_mappings"])
    if fields["attribute_mapping"]:
        connection["attribute_mapping"] = dict(fields["attribute_mapping"])
    if fields["default_roles"]:
        connection["default_roles"] = list(fields["default_roles"])
    if fields.get("groups_priority"):
        connection["groups_priority"] = list(fields["groups_priority"])
    if fields.get("subject_name_id_format"):
        connection["subject_name_id_format"] = fields["subject_name_id_format"]
    idp: dict[str, Any] = {"kind": "other"}
    if protocol == "oidc":
        oidc = fields["oidc"]
        settings: dict[str, Any] = {
            "issuer": oidc["issuer"],
            "client_id": oidc["client_id"],
            "client_secret": SECRET_SLOT,
        }
        for name in ("authorization_url", "token_url", "userinfo_url", "jwks_url"):
            if oidc[name]:
                settings[name] = oidc[name]
        settings["scopes"] = list(oidc["scopes"])
        idp["oidc"] = settings
    elif protocol == "saml-metadata":
        idp["saml"] = {"metadata_url": fields["saml"]["metadata_url"]}
    else:
        saml = fields["saml"]
        idp["saml"] = {
            "sso_url": saml["idp_url"],
            "entity_id": saml["entity_id"],
            "certificate": {"pem": str(live.status.get("certificate_pem") or "").strip() + "\n"},
        }
    return Imported(
        connection=connection,
        domains=tuple(fields["domains"]),
        idp=idp,
        unreadable=tuple(unreadable),
    )
