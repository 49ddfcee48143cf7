"""How a Descope SSO configuration as read (`LoadSSOSettingsResponse`) becomes one canonical
`Live` object: read names and shapes mapped to the ones the manifest side writes, the protocol
taken from the tenant's `authType`, certificates compared by fingerprint, and the settings the
manifest does not manage kept to be sent back as read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ssoform.drivers.descope_manifest import DEFAULT
from ssoform.drivers.descope_settings import kept_oidc, kept_saml
from ssoform.manifest.certificates import parse_pem
from ssoform.model import Live

__all__ = ["cert_id", "live", "mappings", "unconfigured"]


def mappings(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    normal = [{"groups": sorted(set(i["groups"])), "role": i["role"]} for i in items]
    return sorted(normal, key=lambda m: (m["role"], m["groups"]))


def cert_id(text: str) -> str:
    """What is compared of a certificate: its SHA-256 fingerprint and subject, not the PEM."""
    if not text.strip():
        return ""
    try:
        info = parse_pem(text)
    except ValueError:
        return "unparsable certificate"
    return f"sha256:{info.sha256} ({info.subject}, expires {info.not_after:%Y-%m-%d})"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _read_mappings(raw: Any) -> list[dict[str, Any]]:
    found = []
    for item in _list(raw):
        role = _text(_map(_map(item).get("role")).get("name"))
        groups = [str(g) for g in _list(_map(item).get("groups"))]
        found.append({"groups": groups, "role": role})
    return mappings(found)


def unconfigured(item: Mapping[str, Any]) -> bool:
    """A tenant's default configuration exists even when nothing was ever configured, so an
    unconfigured one is no object. A named configuration exists only once created: reported
    as it is, so that one whose create was cut short is adopted, not created again."""
    if _text(item.get("ssoId")):
        return False
    saml, oidc = _map(item.get("saml")), _map(item.get("oidc"))
    auth_type = _text(_map(item.get("tenant")).get("authType")) or "none"
    configured = (
        _text(saml.get("idpSSOUrl"))
        or _text(saml.get("idpMetadataUrl"))
        or _text(saml.get("idpEntityId"))
        or _text(oidc.get("clientId"))
    )
    return auth_type == "none" and not configured


def _protocol(auth_type: str, saml: Mapping[str, Any], oidc: Mapping[str, Any]) -> str:
    """The current protocol is the tenant's `authType`; settings of the other protocol stay
    stored after a switch and decide nothing. Disabled (`none`), it is inferred from what is
    stored: OIDC only when no SAML settings are."""
    metadata = "saml-metadata" if _text(saml.get("idpMetadataUrl")) else "saml"
    if auth_type == "oidc":
        return "oidc"
    if auth_type == "saml":
        return metadata
    saml_set = any(_text(saml.get(k)) for k in ("idpSSOUrl", "idpMetadataUrl", "idpEntityId"))
    return "oidc" if _text(oidc.get("clientId")) and not saml_set else metadata


def live(scope: str, item: Mapping[str, Any]) -> Live:
    tenant, saml, oidc = _map(item.get("tenant")), _map(item.get("saml")), _map(item.get("oidc"))
    key = _text(item.get("ssoId")) or DEFAULT
    auth_type = _text(tenant.get("authType")) or "none"
    protocol = _protocol(auth_type, saml, oidc)
    source = oidc if protocol == "oidc" else saml
    attrs = _map(
        oidc.get("userAttrMapping") if protocol == "oidc" else saml.get("attributeMapping")
    )
    fields: dict[str, Any] = {
        "protocol": protocol,
        "enabled": auth_type != "none",
        "domains": sorted(str(d).lower() for d in _list(tenant.get("domains"))),
        "role_mappings": _read_mappings(source.get("groupsMapping")),
        "attribute_mapping": dict(
            sorted((str(k), v) for k, v in attrs.items() if isinstance(v, str) and v)
        ),
        "default_roles": sorted(str(r) for r in _list(source.get("defaultSSORoles"))),
        "groups_priority": [str(g) for g in _list(source.get("groupsPriority"))],
    }
    if protocol == "oidc":
        fields["oidc"] = {
            "issuer": _text(oidc.get("issuer")),
            "client_id": _text(oidc.get("clientId")),
            "authorization_url": _text(oidc.get("authUrl")),
            "token_url": _text(oidc.get("tokenUrl")),
            "userinfo_url": _text(oidc.get("userDataUrl")),
            "jwks_url": _text(oidc.get("JWKsUrl")),
            "scopes": [str(s) for s in _list(oidc.get("scope"))],
        }
    else:
        fields["redirect_url"] = _text(saml.get("redirectUrl"))
        fields["subject_name_id_format"] = _text(saml.get("subjectNameIdFormat"))
        if protocol == "saml-metadata":
            fields["saml"] = {"metadata_url": _text(saml.get("idpMetadataUrl"))}
        else:
            fields["saml"] = {
                "idp_url": _text(saml.get("idpSSOUrl")),
                "entity_id": _text(saml.get("idpEntityId")),
                "certificate": cert_id(_text(saml.get("idpCertificate"))),
            }
            fields["additional_certificates"] = [
                cert_id(_text(c)) for c in _list(saml.get("idpAdditionalCertificates"))
            ]
    status = {
        "auth_type": auth_type,
        "ambiguous_protocol": auth_type == "none"
        and bool(_text(oidc.get("clientId")))
        and protocol != "oidc",
        "certificate_pem": _text(saml.get("idpCertificate")),
        "kept": {
            "saml": kept_saml(saml, metadata=False),
            "saml-metadata": kept_saml(saml, metadata=True),
            "oidc": kept_oidc(oidc),
        },
    }
    return Live(scope=scope, key=key, id=key, fields=fields, status=status)
