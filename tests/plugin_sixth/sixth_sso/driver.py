"""Sixth's driver: one SSO connection per workspace at `/api/workspaces/{id}/sso`.

`PUT` creates or replaces the connection (the client secret is write-only), `GET` reads it
(404: none), `DELETE` removes it; the key travels as `X-Api-Key`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sixth_sso.models import KEY, SixthConnection
from ssoform.drivers.base import Capabilities, ExpandContext, FieldChange
from ssoform.drivers.http import HttpDriver
from ssoform.errors import DriverError
from ssoform.model import Desired, Live

_SSO = "/workspaces/{workspace}/sso"
FIELDS = ("issuer", "client_id", "domains", "enabled")


class SixthDriver(HttpDriver):
    type_name = "sixth"
    credential = "api_key"
    default_base_url: ClassVar[str] = "https://api.sixth.invalid/api"
    capabilities = Capabilities(
        readable=frozenset(FIELDS),
        write_only=frozenset({"client_secret"}),
        rate_limit=(1_000, 1.0),
    )

    @classmethod
    def auth_headers(cls, config: Any, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"X-Api-Key": credentials["api_key"]}

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(SixthConnection)
        oidc = ctx.idp.oidc
        assert oidc is not None, "validate requires an oidc application (the type's protocol)"
        fields = {
            "issuer": oidc.issuer,
            "client_id": oidc.client_id,
            "domains": sorted(ctx.domains),
            "enabled": connection.enabled,
        }
        return [
            ctx.desired(
                scope,
                key,
                fields,
                secrets={"client_secret": oidc.client_secret},
                base_dir=ctx.base_dir("identity_providers", ctx.idp_name),
            )
            for scope, key in ctx.live_keys()
        ]

    async def read_scope(self, scope: str) -> list[Live]:
        call = f"read the SSO connection of workspace {scope}"
        status, body = await self.api.call(
            "GET", _SSO, call=call, ids={"workspace": scope}, allow=(404,)
        )
        return [] if status == 404 else [self._live(scope, body, call)]

    def _live(self, scope: str, body: Any, call: str) -> Live:
        if not isinstance(body, Mapping) or not isinstance(body.get("id"), str):
            raise DriverError(self.name, call, "answer is not an SSO connection")
        return Live(scope, KEY, body["id"], {name: body.get(name) for name in FIELDS})

    async def _put(self, desired: Desired, secrets: Mapping[str, str], verb: str) -> Live:
        call = f"{verb} the SSO connection of workspace {desired.scope}"
        _, body = await self.api.call(
            "PUT",
            _SSO,
            call=call,
            json_body={**desired.fields, "client_secret": secrets["client_secret"]},
            ids={"workspace": desired.scope},
            secrets=list(secrets.values()),
            idempotent=True,
        )
        return self._live(desired.scope, body, call)

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        return await self._put(desired, secrets, "create")

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        return await self._put(desired, secrets, "update")

    async def delete(self, live: Live) -> None:
        call = f"delete the SSO connection of workspace {live.scope}"
        await self.api.call("DELETE", _SSO, call=call, ids={"workspace": live.scope})
