"""Descope tenant SSO: the default configuration and named ones (`ssoId`), SAML by fields, SAML
by metadata URL, or OIDC.

Reads and writes use different names and shapes (`idpUrl` is written, `idpSSOUrl` read;
`roleMappings[{groups, roleName}]` written, `groupsMapping[{role: {name}, groups}]` read; domains
written with the configuration, read on the tenant); OIDC role mappings are `groupsMapping`
both ways. Both sides are normalised to one canonical shape here, so apply followed by plan shows
no changes. The current protocol is the tenant's `authType`: the other protocol's settings stay
stored after a switch. Every configure call replaces the whole configuration, so settings the
manifest does not manage are sent back as the same plan read them (`descope_settings`). The OIDC
client secret and the SAML SP keys are never returned: write-only, compared through state
fingerprints. A configuration is always updated in place (recreating a SAML one would change its
ACS URL); disabling uses the authtype call (experimental) and keeps the configuration. Long
project ids carry a region, which picks the API host. The configure call's body is built in
`descope_configure`, the error shape and the authtype calls are `descope_api`'s, and what is read
becomes one canonical object in `descope_read`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ssoform.drivers.base import (
    Capabilities,
    ExpandContext,
    FieldChange,
    Guidance,
    Imported,
)
from ssoform.drivers.descope_api import DescopeApi
from ssoform.drivers.descope_configure import configure_request
from ssoform.drivers.descope_manifest import DEFAULT, imported
from ssoform.drivers.descope_read import cert_id, live, mappings, unconfigured
from ssoform.drivers.http import HttpDriver
from ssoform.errors import DriverError
from ssoform.manifest.certificates import parse_pem
from ssoform.manifest.models import (
    Certificate,
    DescopeConnection,
    IdentityProvider,
)
from ssoform.model import Desired, Live

__all__ = ["DescopeDriver"]


class DescopeDriver(HttpDriver):
    type_name = "descope"
    credential = "management_key"
    api_class = DescopeApi
    api: DescopeApi
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
        write_only=frozenset({"client_secret", "sp_encryption_key", "sp_sign_key"}),
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
    def base_url_for(cls, config: Any) -> str:
        """As Descope's SDKs do: a project id of 32 characters or more carries its region (the
        four characters after the first), served at `https://api.<region>.descope.com`."""
        if getattr(config, "base_url", None):
            return str(config.base_url)
        project = str(config.project_id)
        if len(project) >= 32:
            return f"https://api.{project[1:5]}.descope.com"
        return cls.default_base_url

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(DescopeConnection)
        idp = ctx.idp
        idp_dir = ctx.base_dir("identity_providers", ctx.idp_name)
        fields: dict[str, Any] = {
            "protocol": connection.protocol,
            "enabled": connection.enabled,
            "domains": sorted(ctx.domains),
            "role_mappings": mappings(
                [{"groups": m.groups, "role": m.role} for m in connection.role_mappings]
            ),
            "attribute_mapping": dict(sorted(connection.attribute_mapping.items())),
            "default_roles": sorted(connection.default_roles),
        }
        if connection.groups_priority is not None:
            fields["groups_priority"] = list(connection.groups_priority)
        secrets = {}
        payload: dict[str, Any] = {}
        if connection.protocol == "oidc":
            assert idp.oidc is not None
            fields["oidc"] = _oidc_fields(idp)
            secrets["client_secret"] = idp.oidc.client_secret
        else:
            fields["redirect_url"] = connection.redirect_url or ""
            fields["saml"], payload = _saml_fields(idp, connection.protocol, idp_dir)
            if connection.subject_name_id_format is not None:
                fields["subject_name_id_format"] = connection.subject_name_id_format
            for name in ("sp_encryption_key", "sp_sign_key"):
                if (ref := getattr(connection, name)) is not None:
                    secrets[name] = ref
            # Managed when the manifest lists some, or when the metadata gave the whole set
            # (then none listed means none: a certificate the IdP retired is removed).
            managed = idp.saml is not None and idp.saml.certificates_from_metadata
            if payload.get("additional_pems") or (managed and "additional_pems" in payload):
                fields["additional_certificates"] = [
                    cert_id(pem) for pem in payload["additional_pems"]
                ]
        write_only = {"display_name": connection.display_name} if connection.sso_id else {}
        return [
            ctx.desired(
                scope,
                key,
                fields,
                write_only=write_only,
                secrets=secrets,
                payload=payload,
                base_dir=idp_dir,
            )
            for scope, key in ctx.live_keys()
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
            live(scope, item)
            for item in items
            if isinstance(item, Mapping) and not unconfigured(item)
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
        await self._configure(desired, None, secrets)
        if not desired.fields["enabled"]:
            await self.api.set_auth_type(desired.scope, desired.key, "none")
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
            await self._configure(desired, live, secrets)
        if "enabled" in roots or (roots - {"enabled"} and not desired.fields["enabled"]):
            protocol = "oidc" if desired.fields["protocol"] == "oidc" else "saml"
            auth_type = protocol if desired.fields["enabled"] else "none"
            await self.api.set_auth_type(desired.scope, desired.key, auth_type)
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

    async def _configure(
        self, desired: Desired, live: Live | None, secrets: Mapping[str, str]
    ) -> None:
        """One configure call: a full replace, so the settings ssoform does not manage are
        sent back as this plan read them (`live`), and the managed ones as the manifest says."""
        path, body = configure_request(desired, live, secrets)
        await self.api.call(
            "POST",
            path,
            call=f"configure {desired.fields['protocol']} for {desired.key} of tenant "
            f"{desired.scope}",
            json_body=body,
            idempotent=True,
            secrets=list(secrets.values()),
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
        ambiguous = live is not None and live.status.get("ambiguous_protocol")
        if ambiguous and any(c.path == "protocol" for c in changes):
            return Guidance(
                notes=(
                    "this configuration is disabled and holds both SAML and OIDC "
                    "settings; Descope does not say which was used last, so it reads as "
                    "SAML and this change may show again until it is enabled",
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


# --- canonical shapes (the manifest side; the read side is `descope_read`) ------------------


def _saml_fields(
    idp: IdentityProvider, protocol: str, base: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    saml = idp.saml
    assert saml is not None
    if protocol == "saml-metadata":
        return {"metadata_url": saml.metadata_url or ""}, {}
    cert = saml.certificate
    assert cert is not None
    pem = _pem_text(cert, base)
    fields = {
        "idp_url": saml.sso_url or "",
        "entity_id": saml.entity_id or "",
        "certificate": cert_id(pem),
    }
    extra = [_pem_text(c, base) for c in saml.additional_certificates]
    return fields, {"certificate_pem": pem.strip(), "additional_pems": extra}


def _pem_text(cert: Certificate, base: str) -> str:
    if cert.pem is not None:
        return cert.pem.strip()
    assert cert.file is not None
    return (Path(base) / cert.file).read_text(encoding="ascii", errors="replace").strip()


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
