"""Descope tenant SSO: the default configuration and named ones (`ssoId`), SAML by fields, SAML
by metadata URL, or OIDC.

Reads and writes use different names and shapes (`idpUrl` is written, `idpSSOUrl` read;
`roleMappings[{groups, roleName}]` written, `groupsMapping[{role: {name}, groups}]` read; domains
written with the configuration, read on the tenant). Both sides are normalised to one canonical
shape here, so apply followed by plan shows no changes. The OIDC client secret is never
returned: it is write-only, compared through state fingerprints. A configuration is always
updated in place (recreating a SAML one would change its ACS URL); disabling uses the authtype
endpoint and keeps the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ssoform.drivers.base import (
    BaseDirs,
    Capabilities,
    FieldChange,
    Guidance,
    Imported,
)
from ssoform.drivers.descope_manifest import DEFAULT, imported
from ssoform.drivers.http import ApiCaller, HttpDriver
from ssoform.errors import DriverError
from ssoform.manifest.certificates import parse_pem
from ssoform.manifest.checks import connection_domains
from ssoform.manifest.models import DescopeConnection, IdentityProvider, Manifest, Tenant
from ssoform.model import Desired, Live

__all__ = ["DescopeDriver"]


class _DescopeApi(ApiCaller):
    def error_detail(self, body: Any) -> tuple[str | None, str]:
        if isinstance(body, Mapping) and "errorCode" in body:
            message = body.get("errorMessage") or body.get("errorDescription") or "error"
            return str(body["errorCode"]), str(message)
        return super().error_detail(body)


class DescopeDriver(HttpDriver):
    type_name = "descope"
    credential = "management_key"
    api_class = _DescopeApi
    default_base_url: ClassVar[str] = "https://api.descope.com"
    capabilities = Capabilities(
        readable=frozenset(
            {
                "protocol",
                "enabled",
                "domains",
                "redirect_url",
                "saml",
                "oidc",
                "role_mappings",
                "attribute_mapping",
                "default_roles",
            }
        ),
        write_only=frozenset({"client_secret"}),
        rate_limit=(100, 60.0),
        max_concurrency=4,
    )

    @classmethod
    def auth_headers(cls, config: Any, credentials: Mapping[str, str]) -> dict[str, str]:
        project = str(config.project_id)
        return {
            "Authorization": f"Bearer {project}:{credentials['management_key']}",
            "x-descope-project-id": project,
        }

    @classmethod
    def expand(
        cls,
        manifest: Manifest,
        tenant_name: str,
        tenant: Tenant,
        connection: Any,
        base_dir: BaseDirs,
    ) -> list[Desired]:
        assert isinstance(connection, DescopeConnection)
        idp_name = connection.idp or tenant.idp or ""
        idp = manifest.identity_providers[idp_name]
        fields: dict[str, Any] = {
            "protocol": connection.protocol,
            "enabled": connection.enabled,
            "domains": sorted(connection_domains(tenant, connection)),
            "role_mappings": _mappings(
                [{"groups": m.groups, "role": m.role} for m in connection.role_mappings]
            ),
            "attribute_mapping": dict(sorted(connection.attribute_mapping.items())),
            "default_roles": sorted(connection.default_roles),
        }
        secrets = {}
        payload: dict[str, Any] = {}
        if connection.protocol == "oidc":
            assert idp.oidc is not None
            fields["oidc"] = _oidc_fields(idp)
            secrets["client_secret"] = idp.oidc.client_secret
        else:
            fields["redirect_url"] = connection.redirect_url or ""
            idp_dir = base_dir(("identity_providers", idp_name))
            fields["saml"], payload = _saml_fields(idp, connection.protocol, idp_dir)
        return [
            Desired(
                tenant=tenant_name,
                provider=connection.provider,
                scope=connection.tenant_id,
                key=connection.sso_id or DEFAULT,
                fields=fields,
                write_only={"display_name": connection.display_name} if connection.sso_id else {},
                secrets=secrets,
                payload=payload,
                protect=connection.protect,
                base_dir=base_dir(("identity_providers", idp_name)),
            )
        ]

    # --- reading ---------------------------------------------------------------------------

    async def read_scope(self, scope: str) -> list[Live]:
        call = f"load SSO settings of tenant {scope}"
        status, body = await self.api.call(
            "GET", "/v2/mgmt/sso/settings/all", call=call, params={"tenantId": scope}, allow=(404,)
        )
        if status == 404:
            return []
        items = body.get("SSOSettings") if isinstance(body, Mapping) else None
        if items is None:
            items = body.get("ssoSettings") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise DriverError(self.name, call, "answer has no SSOSettings list")
        return [
            _live(scope, item)
            for item in items
            if isinstance(item, Mapping) and not _unconfigured(item)
        ]

    # --- writing ---------------------------------------------------------------------------

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        if desired.key != DEFAULT:
            await self.api.call(
                "POST",
                "/v1/mgmt/sso/settings/new",
                call=f"create SSO configuration {desired.key} in tenant {desired.scope}",
                json_body={
                    "tenantId": desired.scope,
                    "ssoId": desired.key,
                    "displayName": desired.write_only.get("display_name") or desired.key,
                },
            )
        await self._configure(desired, secrets)
        if not desired.fields["enabled"]:
            await self._set_auth_type(desired, "none")
        return Live(desired.scope, desired.key, desired.key, dict(desired.fields))

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        roots = {c.path.split(".")[0] for c in changes}
        if roots - {"enabled"}:
            await self._configure(desired, secrets)
        if "enabled" in roots or (roots - {"enabled"} and not desired.fields["enabled"]):
            protocol = "oidc" if desired.fields["protocol"] == "oidc" else "saml"
            await self._set_auth_type(desired, protocol if desired.fields["enabled"] else "none")
        return Live(desired.scope, desired.key, desired.key, dict(desired.fields))

    async def delete(self, live: Live) -> None:
        params = {"tenantId": live.scope}
        if live.key != DEFAULT:
            params["ssoId"] = live.key
        await self.api.call(
            "DELETE",
            "/v1/mgmt/sso/settings",
            call=f"delete SSO configuration {live.key} of tenant {live.scope}",
            params=params,
        )

    async def _configure(self, desired: Desired, secrets: Mapping[str, str]) -> None:
        fields = desired.fields
        roles = [{"groups": m["groups"], "roleName": m["role"]} for m in fields["role_mappings"]]
        mappings: dict[str, Any] = {
            "roleMappings": roles,
            "attributeMapping": fields["attribute_mapping"],
            "defaultSSORoles": fields["default_roles"],
        }
        body: dict[str, Any] = {"tenantId": desired.scope, "domains": fields["domains"]}
        if desired.key != DEFAULT:
            body["ssoId"] = desired.key
        protocol = fields["protocol"]
        if protocol == "oidc":
            oidc = fields["oidc"]
            path = "/v1/mgmt/sso/oidc"
            body["settings"] = {
                "name": desired.write_only.get("display_name") or desired.key,
                "clientId": oidc["client_id"],
                "clientSecret": secrets.get("client_secret", ""),
                "issuer": oidc["issuer"],
                "authUrl": oidc["authorization_url"],
                "tokenUrl": oidc["token_url"],
                "userDataUrl": oidc["userinfo_url"],
                "JWKsUrl": oidc["jwks_url"],
                "scope": oidc["scopes"],
                "roleMappings": roles,
                "userAttrMapping": fields["attribute_mapping"],
                "defaultSSORoles": fields["default_roles"],
            }
        elif protocol == "saml-metadata":
            path = "/v1/mgmt/sso/saml/metadata"
            body["settings"] = {"idpMetadataUrl": fields["saml"]["metadata_url"], **mappings}
            body["redirectUrl"] = fields["redirect_url"]
        else:
            saml = fields["saml"]
            path = "/v1/mgmt/sso/saml"
            body["settings"] = {
                "idpUrl": saml["idp_url"],
                "entityId": saml["entity_id"],
                "idpCert": desired.payload["certificate_pem"],
                **mappings,
            }
            body["redirectUrl"] = fields["redirect_url"]
        await self.api.call(
            "POST",
            path,
            call=f"configure {protocol} for {desired.key} of tenant {desired.scope}",
            json_body=body,
            idempotent=True,
            secrets=list(secrets.values()),
        )

    async def _set_auth_type(self, desired: Desired, auth_type: str) -> None:
        body: dict[str, Any] = {"tenantId": desired.scope, "authType": auth_type}
        if desired.key != DEFAULT:
            body["ssoId"] = desired.key
        await self.api.call(
            "POST",
            "/v1/mgmt/sso/settings/authtype",
            call=f"set auth type {auth_type} for {desired.key} of tenant {desired.scope}",
            json_body=body,
            idempotent=True,
        )

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        if desired is None and live is not None and live.fields.get("enabled"):
            return Guidance(
                notes=(
                    f"deleting SSO of tenant {live.scope}: if it enforces SSO, its users "
                    "cannot sign in until another method is configured",
                )
            )
        return Guidance()

    # --- drift and import hooks ------------------------------------------------------------

    def certificates(self, live: Live) -> list[dict[str, str]]:
        pem = live.status.get("certificate_pem")
        if not isinstance(pem, str) or not pem.strip():
            return []
        try:
            info = parse_pem(pem)
        except ValueError:
            return []
        return [
            {
                "subject": info.subject,
                "issuer": info.issuer,
                "not_after": info.not_after.isoformat(),
                "sha256": info.sha256,
            }
        ]

    def to_manifest(self, live: Live) -> Imported | None:
        return imported(live)


# --- canonical shapes -------------------------------------------------------------------------


def _mappings(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    normal = [{"groups": sorted(set(i["groups"])), "role": i["role"]} for i in items]
    return sorted(normal, key=lambda m: (m["role"], m["groups"]))


def _cert_id(text: str) -> str:
    """What is compared of a certificate: its SHA-256 fingerprint and subject, not the PEM."""
    if not text.strip():
        return ""
    try:
        info = parse_pem(text)
    except ValueError:
        return "unparsable certificate"
    return f"sha256:{info.sha256} ({info.subject}, expires {info.not_after:%Y-%m-%d})"


def _saml_fields(
    idp: IdentityProvider, protocol: str, base: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    saml = idp.saml
    assert saml is not None
    if protocol == "saml-metadata":
        return {"metadata_url": saml.metadata_url or ""}, {}
    cert = saml.certificate
    assert cert is not None
    if cert.pem is not None:
        pem = cert.pem
    else:
        assert cert.file is not None
        pem = (Path(base) / cert.file).read_text(encoding="ascii", errors="replace")
    fields = {
        "idp_url": saml.sso_url or "",
        "entity_id": saml.entity_id or "",
        "certificate": _cert_id(pem),
    }
    return fields, {"certificate_pem": pem.strip()}


def _oidc_fields(idp: IdentityProvider) -> dict[str, Any]:
    oidc = idp.oidc
    assert oidc is not None
    return {
        "issuer": oidc.issuer,
        "client_id": oidc.client_id,
        "authorization_url": oidc.authorization_url or "",
        "token_url": oidc.token_url or "",
        "userinfo_url": oidc.userinfo_url or "",
        "jwks_url": oidc.jwks_url or "",
        "scopes": list(oidc.scopes),
    }


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
    return _mappings(found)


def _unconfigured(item: Mapping[str, Any]) -> bool:
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


def _live(scope: str, item: Mapping[str, Any]) -> Live:
    tenant, saml, oidc = _map(item.get("tenant")), _map(item.get("saml")), _map(item.get("oidc"))
    key = _text(item.get("ssoId")) or DEFAULT
    auth_type = _text(tenant.get("authType")) or "none"
    if _text(saml.get("idpMetadataUrl")):
        protocol = "saml-metadata"
    elif auth_type == "oidc" or (auth_type == "none" and _text(oidc.get("clientId"))):
        protocol = "oidc"
    else:
        protocol = "saml"
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
        if protocol == "saml-metadata":
            fields["saml"] = {"metadata_url": _text(saml.get("idpMetadataUrl"))}
        else:
            fields["saml"] = {
                "idp_url": _text(saml.get("idpSSOUrl")),
                "entity_id": _text(saml.get("idpEntityId")),
                "certificate": _cert_id(_text(saml.get("idpCertificate"))),
            }
    status = {"auth_type": auth_type, "certificate_pem": _text(saml.get("idpCertificate"))}
    return Live(scope=scope, key=key, id=key, fields=fields, status=status)
