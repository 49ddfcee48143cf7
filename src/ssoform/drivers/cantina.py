"""Cantina company SSO connections (`/companies/{company_id}/sso-connections`).

Only list and create are documented. The client secret comes back masked, so it is write-only
and compared through state fingerprints. `providerBaseUrl` is the IdP's domain URL, not its
OIDC issuer: it is the connection's `provider_base_url`, or derived from an Okta issuer (its
origin, also for a custom authorization server's `/oauth2/<id>` issuer); validate requires it
where it cannot be derived. Domains are effectively fixed after creation. Any change
the API cannot make is planned as `manual`, with the steps to take; apply never pretends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ssoform.drivers.base import (
    SECRET_SLOT,
    Capabilities,
    ExpandContext,
    FieldChange,
    Guidance,
    Imported,
)
from ssoform.drivers.http import HttpDriver
from ssoform.errors import DriverError
from ssoform.manifest.idp_urls import domain_url
from ssoform.manifest.models import CantinaConnection
from ssoform.model import Desired, Live

__all__ = ["CantinaDriver"]


_CONNECTIONS = "/companies/{company}/sso-connections"


class CantinaDriver(HttpDriver):
    type_name = "cantina"
    credential = "api_key"
    default_base_url: ClassVar[str] = "https://cantina.xyz/api/v0"
    capabilities = Capabilities(
        readable=frozenset({"provider", "provider_base_url", "client_id", "domains"}),
        write_only=frozenset({"client_secret"}),
        immutable=frozenset({"domains"}),
        can_update=False,
        can_delete=False,
        rate_limit=(60, 60.0),
        max_concurrency=2,
    )

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(CantinaConnection)
        idp = ctx.idp
        assert idp.oidc is not None
        kind = connection.idp_kind or idp.kind
        base_url = connection.provider_base_url or domain_url(kind, idp.oidc.issuer)
        assert base_url is not None, "validate requires provider_base_url when not derivable"
        fields = {
            "provider": kind,
            "provider_base_url": _base(base_url),
            "client_id": idp.oidc.client_id,
            "domains": sorted(ctx.domains),
        }
        return [
            ctx.desired(
                scope,
                key,
                fields,
                secrets={"client_secret": idp.oidc.client_secret},
                base_dir=ctx.base_dir("identity_providers", ctx.idp_name),
            )
            for scope, key in ctx.live_keys()
        ]

    async def read_scope(self, scope: str) -> list[Live]:
        call = f"list SSO connections of company {scope}"
        _, body = await self.api.call("GET", _CONNECTIONS, call=call, ids={"company": scope})
        if not isinstance(body, list):
            raise DriverError(self.name, call, "answer is not a list of connections")
        return [self._live(scope, item, call) for item in body]

    def _live(self, scope: str, item: Any, call: str) -> Live:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise DriverError(self.name, call, "a connection in the answer has no id")
        raw = item.get("domains")
        domains = sorted(str(d).lower() for d in raw) if isinstance(raw, list) else []
        return Live(
            scope=scope,
            key=domains[0] if domains else item["id"],
            id=item["id"],
            fields={
                "provider": item.get("provider"),
                "provider_base_url": _base(str(item.get("providerBaseUrl") or "")),
                "client_id": item.get("clientId"),
                "domains": domains,
            },
        )

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        call = f"create SSO connection for {desired.key} in company {desired.scope}"
        fields = desired.fields
        _, body = await self.api.call(
            "POST",
            _CONNECTIONS,
            call=call,
            ids={"company": desired.scope},
            json_body={
                "provider": fields["provider"],
                "providerBaseUrl": fields["provider_base_url"],
                "clientId": fields["client_id"],
                "clientSecret": secrets["client_secret"],
                "domains": fields["domains"],
            },
            secrets=list(secrets.values()),
        )
        return self._live(desired.scope, body, call)

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        if live is None:
            return Guidance()
        if desired is None:
            return Guidance(
                manual=(
                    f"Cantina's API cannot delete SSO connection {live.id} of company "
                    f"{live.scope}: ask Cantina support to remove it, then run plan again"
                )
            )
        wanted = [c for c in changes if c.write_only != "unverifiable"]
        if not wanted:
            return Guidance()
        described = "; ".join(
            f"{c.path}: replace the secret with the one in {c.path}'s reference"
            if c.sensitive
            else f"{c.path}: {c.before!r} -> {c.after!r}"
            for c in wanted
        )
        return Guidance(
            manual=(
                f"Cantina's API cannot change SSO connection {live.id} of company {live.scope}. "
                f"Ask Cantina support to make these changes ({described}), then run plan again"
            )
        )

    def to_manifest(self, live: Live) -> Imported | None:
        fields = live.fields
        domains = tuple(str(d) for d in fields.get("domains") or ())
        kind = str(fields.get("provider") or "other")
        if not domains or kind not in ("okta", "entra"):
            return None
        return Imported(
            connection={"company_id": live.scope},
            domains=domains,
            idp={
                "kind": kind,
                "oidc": {
                    "issuer": str(fields.get("provider_base_url") or ""),
                    "client_id": str(fields.get("client_id") or ""),
                    "client_secret": SECRET_SLOT,
                },
            },
        )


def _base(url: str) -> str:
    return url.rstrip("/")
