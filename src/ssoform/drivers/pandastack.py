"""EXPERIMENTAL. PandaStack organization SSO (`/api/v1/sso/`), documented without payloads.

The driver treats each SSO provider as an opaque settings document: the keys the manifest
declares are compared and sent, everything else is left alone. Secrets in the document are
write-only. Requests carry `organization_id` and a `psk_` token, as the documentation requires.

What is documented: the five routes, `organization_id`, the bearer token, and `slug` as the
create body's field, so the connection's name is sent as `slug`. What is guessed (and marked
experimental in docs/providers.md): the answers' shape (a list, or `{data: ...}`), that `slug`
names the provider in reads too, that one provider is read at `/single/{id}` and deleted at
`/{id}` (PandaStack's sibling routes, for projects and cronjobs, take ids in the path), and that
an update is `POST /update` with the id in the body. Every change is marked experimental in the
plan.
"""

from __future__ import annotations

import re
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
from ssoform.errors import DriverError, SsoformError
from ssoform.manifest.models import PandaStackConnection, is_secret_setting
from ssoform.manifest.secrets import SecretRef
from ssoform.model import Desired, Live

__all__ = ["PandaStackDriver"]

_TOKEN = re.compile(r"^psk_[0-9a-f]{64}$")
PREFIX = "settings."
IDENTITY = ("id", "_id", "slug", "name")
"""Keys of a read document that identify it rather than hold settings."""


class PandaStackDriver(HttpDriver):
    type_name = "pandastack"
    credential = "api_token"
    default_base_url: ClassVar[str] = "https://api.pandastack.io"
    capabilities = Capabilities(
        readable=frozenset({"settings"}),
        rate_limit=(60, 60.0),
        max_concurrency=2,
        experimental=True,
    )

    @classmethod
    def auth_headers(cls, config: Any, credentials: Mapping[str, str]) -> dict[str, str]:
        token = credentials["api_token"]
        if not _TOKEN.match(token):
            raise SsoformError(
                "pandastack: the api_token does not have PandaStack's form psk_<64 hex digits>"
            )
        return {"Authorization": f"Bearer {token}"}

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(PandaStackConnection)
        fields: dict[str, Any] = {}
        secrets: dict[str, SecretRef] = {}
        for key, value in sorted(connection.settings.items()):
            if isinstance(value, dict) and set(value) <= {"env", "file"} and value:
                secrets[PREFIX + key] = SecretRef.model_validate(value)
            else:
                fields[PREFIX + key] = value
        return [
            ctx.desired(
                scope,
                key,
                fields,
                secrets=secrets,
                base_dir=ctx.base_dir("tenants", ctx.tenant_name),
            )
            for scope, key in ctx.live_keys()
        ]

    async def read_scope(self, scope: str) -> list[Live]:
        call = f"list SSO providers of organization {scope}"
        _, body = await self.api.call(
            "GET", "/api/v1/sso/", call=call, params={"organization_id": scope}
        )
        items = _items(body)
        if items is None:
            raise DriverError(self.name, call, "answer holds no list of SSO providers")
        if not all(isinstance(item, Mapping) for item in items):
            raise DriverError(self.name, call, "an SSO provider in the answer is not an object")
        return [self._live(scope, item) for item in items]

    def _live(self, scope: str, item: Mapping[str, Any]) -> Live:
        oid = str(item.get("id") or item.get("_id") or "")
        name = str(item.get("slug") or item.get("name") or oid)
        fields = {PREFIX + k: v for k, v in item.items() if k not in IDENTITY}
        return Live(scope=scope, key=name, id=oid, fields=fields)

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        call = f"create SSO provider {desired.key} in organization {desired.scope}"
        body = {**_document(desired, secrets), "slug": desired.key}
        _, answer = await self.api.call(
            "POST",
            "/api/v1/sso/",
            call=call,
            json_body=body,
            params={"organization_id": desired.scope},
            secrets=list(secrets.values()),
        )
        found = _single(answer)
        if found is None:
            raise DriverError(self.name, call, "answer holds no created SSO provider")
        return self._live(desired.scope, found)

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        assert live is not None
        document = _document(desired, secrets)
        changed = {c.path.removeprefix(PREFIX).split(".")[0] for c in changes}
        body = {"id": live.id, **{k: v for k, v in document.items() if k in changed}}
        await self.api.call(
            "POST",
            "/api/v1/sso/update",
            call=f"update SSO provider {desired.key} of organization {desired.scope}",
            json_body=body,
            params={"organization_id": desired.scope},
            idempotent=True,
            secrets=list(secrets.values()),
        )
        return None

    async def delete(self, live: Live) -> None:
        await self.api.call(
            "DELETE",
            "/api/v1/sso/{id}",
            call=f"delete SSO provider {live.key} of organization {live.scope}",
            params={"organization_id": live.scope},
            allow=(404,),
            ids={"id": live.id},
        )

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        if not changes and live is not None:
            return Guidance()
        return Guidance(
            notes=("experimental: PandaStack's SSO payloads are undocumented; check the result",)
        )

    def to_manifest(self, live: Live) -> Imported | None:
        settings: dict[str, Any] = {}
        for path, value in sorted(live.fields.items()):
            key = path.removeprefix(PREFIX)
            if key in _SERVER_KEYS:
                continue
            settings[key] = SECRET_SLOT if is_secret_setting(key) else value
        connection: dict[str, Any] = {"name": live.key, "settings": settings}
        if live.scope != str(getattr(self.ctx.config, "organization_id", "")):
            connection["organization_id"] = live.scope
        return Imported(connection=connection, domains=())


_SERVER_KEYS = frozenset({"organization_id", "created_at", "updated_at"})


def _document(desired: Desired, secrets: Mapping[str, str]) -> dict[str, Any]:
    doc = {k.removeprefix(PREFIX): v for k, v in desired.fields.items()}
    doc.update({k.removeprefix(PREFIX): v for k, v in secrets.items()})
    return doc


def _items(body: Any) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for key in ("data", "sso", "items", "results", "providers"):
            if isinstance(body.get(key), list):
                return list(body[key])
    return None


def _single(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, Mapping):
        inner = body.get("data")
        if isinstance(inner, Mapping):
            return inner
        return body
    return None
