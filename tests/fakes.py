"""In-memory drivers implementing the real Driver interface, for engine tests.

`FakeCloud` is the "provider": a dict of objects, optionally persisted to a JSON file (so a
subprocess can share it), with switches for failures and ambiguous creates.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ssoform.drivers.base import Capabilities, Driver, ExpandContext, FieldChange, Guidance
from ssoform.errors import DriverError
from ssoform.manifest.models import CloudflareConnection, DescopeConnection
from ssoform.model import Desired, Live


class FakeCloud:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.objects: dict[str, dict[str, Any]] = {}
        self.next_id = 1
        self.fail: set[str] = set()
        self.ambiguous: set[str] = set()
        self.calls: list[str] = []
        self.received_secrets: dict[str, str] = {}
        self.duplicates = 0
        self.delay = float(os.environ.get("FAKE_DELAY", "0"))
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            self.objects, self.next_id = data["objects"], data["next_id"]
            self.duplicates = data.get("duplicates", 0)

    def save(self) -> None:
        if self.path is not None:
            payload = {
                "objects": self.objects,
                "next_id": self.next_id,
                "duplicates": self.duplicates,
            }
            self.path.write_text(json.dumps(payload))

    @staticmethod
    def ident(provider: str, scope: str, key: str) -> str:
        return f"{provider}|{scope}|{key}"

    def put(self, provider: str, scope: str, key: str, fields: dict[str, Any]) -> str:
        if self.ident(provider, scope, key) in self.objects:
            self.duplicates += 1
        oid = f"id{self.next_id:04d}"
        self.next_id += 1
        self.objects[self.ident(provider, scope, key)] = {"id": oid, "fields": fields}
        self.save()
        return oid


CLOUD = FakeCloud()
_CREATES = [0]


def _maybe_die(phase: str) -> None:
    """SIGKILL this process at the Nth create, before or after it commits (crash tests)."""
    target = os.environ.get("FAKE_KILL_AT")  # "N:before" or "N:after"
    if not target:
        return
    count, _, when = target.partition(":")
    if phase == "before":
        _CREATES[0] += 1
    if _CREATES[0] == int(count) and when == phase:
        os.kill(os.getpid(), signal.SIGKILL)


class _FakeBase(Driver):
    default_base_url: ClassVar[str] = "https://fake.invalid"

    def _cloud(self) -> FakeCloud:
        return CLOUD

    async def _tick(self, call: str) -> None:
        self._cloud().calls.append(f"{self.name}:{call}")
        if self._cloud().delay:
            await asyncio.sleep(self._cloud().delay * (1 + zlib.crc32(call.encode()) % 20))

    async def read_scope(self, scope: str) -> list[Live]:
        await self._tick(f"list {scope}")
        prefix = f"{self.name}|{scope}|"
        return [
            Live(scope=scope, key=k[len(prefix) :], id=v["id"], fields=dict(v["fields"]))
            for k, v in sorted(self._cloud().objects.items())
            if k.startswith(prefix)
        ]

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        await self._tick(f"create {desired.address}")
        cloud = self._cloud()
        if desired.key in cloud.fail:
            raise DriverError(self.name, "create", "injected failure", status=500)
        fields = {**desired.fields, **desired.write_only}
        _maybe_die("before")
        oid = cloud.put(self.name, desired.scope, desired.key, fields)
        _maybe_die("after")
        cloud.received_secrets.update(secrets)
        if desired.key in cloud.ambiguous:
            cloud.ambiguous.discard(desired.key)
            raise DriverError(self.name, "create", "timed out", ambiguous=True)
        return Live(desired.scope, desired.key, oid, dict(desired.fields))

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        await self._tick(f"update {desired.address}")
        cloud = self._cloud()
        if desired.key in cloud.fail:
            raise DriverError(self.name, "update", "injected failure", status=500)
        ident = cloud.ident(self.name, desired.scope, desired.key)
        obj = cloud.objects[ident]
        obj["fields"] = {**obj["fields"], **desired.fields}
        cloud.received_secrets.update(secrets)
        cloud.save()
        return Live(desired.scope, desired.key, obj["id"], dict(obj["fields"]))

    async def delete(self, live: Live) -> None:
        await self._tick(f"delete {live.scope}/{live.key}")
        self._cloud().objects.pop(self._cloud().ident(self.name, live.scope, live.key), None)
        self._cloud().save()


class FakeCloudflare(_FakeBase):
    type_name = "cloudflare"
    capabilities = Capabilities(
        readable=frozenset({"email_domain", "enabled", "use_fedramp_language"}),
        immutable=frozenset({"use_fedramp_language"}),
        rate_limit=(100_000, 1.0),
        max_concurrency=16,
    )

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(CloudflareConnection)
        fields = {
            "enabled": connection.enabled,
            "use_fedramp_language": connection.use_fedramp_language,
        }
        return [
            ctx.desired(account, domain, {"email_domain": domain, **fields})
            for account, domain in ctx.live_keys()
        ]

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        if desired is not None and desired.fields.get("email_domain", "").startswith("pending."):
            return Guidance(blocked="waiting for DNS", hold_fields=frozenset({"enabled"}))
        return Guidance()


class FakeDescope(_FakeBase):
    type_name = "descope"
    capabilities = Capabilities(
        readable=frozenset({"protocol", "enabled"}),
        write_only=frozenset({"client_secret"}),
        rate_limit=(100_000, 1.0),
        max_concurrency=16,
    )

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(DescopeConnection)
        secrets = {}
        if connection.protocol == "oidc" and ctx.idp.oidc is not None:
            secrets["client_secret"] = ctx.idp.oidc.client_secret
        return [
            ctx.desired(
                scope,
                key,
                {"protocol": connection.protocol, "enabled": connection.enabled},
                secrets=secrets,
                base_dir=ctx.base_dir("identity_providers", ctx.idp_name),
            )
            for scope, key in ctx.live_keys()
        ]


FAKE_DRIVERS: dict[str, type[Driver]] = {"cloudflare": FakeCloudflare, "descope": FakeDescope}
