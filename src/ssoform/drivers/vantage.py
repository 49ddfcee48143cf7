"""Vantage managed accounts' SAML connection (`/managed_accounts/{token}/sso_connection`).

The SSO connection can be created (201), updated (PUT) and deleted (204) but never read:
everything in it is write-only, so state is its source of truth and the plan shows its fields
as unchanged, changed or unverifiable. The account's `email_domain` is readable and is diffed.
`additional_domains` has replace semantics; the account's own domain is always kept by Vantage,
so it is never sent twice. Accounts are listed 1,000 to a page: reading a thousand accounts is
one call, not a thousand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ssoform.drivers.base import BaseDirs, Capabilities, FieldChange, Imported
from ssoform.drivers.http import ApiCaller, HttpDriver
from ssoform.errors import DriverError
from ssoform.manifest.checks import connection_domains
from ssoform.manifest.models import Manifest, Tenant, VantageConnection
from ssoform.model import Desired, Live
from ssoform.transport import MAX_PAGES

__all__ = ["VantageDriver"]

KEY = "sso"
PLACEHOLDER_METADATA_URL = "https://replace-me.invalid/saml/metadata"
PAGE = 1000
_ACCOUNT = "/managed_accounts/{account}"
_SSO = "/managed_accounts/{account}/sso_connection"


class _VantageApi(ApiCaller):
    id_formats: ClassVar[Mapping[str, re.Pattern[str]]] = {
        "account": re.compile(r"acct_[A-Za-z0-9]{1,64}")
    }

    def error_detail(self, body: Any) -> tuple[str | None, str]:
        if isinstance(body, Mapping) and isinstance(body.get("errors"), list) and body["errors"]:
            return None, "; ".join(str(e) for e in body["errors"][:3])
        return super().error_detail(body)


class VantageDriver(HttpDriver):
    type_name = "vantage"
    credential = "api_token"
    api_class = _VantageApi
    default_base_url: ClassVar[str] = "https://api.vantage.sh/v2"
    capabilities = Capabilities(
        readable=frozenset({"email_domain"}),
        write_only=frozenset({"saml_metadata_url", "additional_domains"}),
        existence_observable=False,
        rate_limit=(1000, 60.0),
        max_concurrency=4,
    )

    @classmethod
    def expand(
        cls,
        manifest: Manifest,
        tenant_name: str,
        tenant: Tenant,
        connection: Any,
        base_dir: BaseDirs,
    ) -> list[Desired]:
        assert isinstance(connection, VantageConnection)
        idp = manifest.identity_providers[connection.idp or tenant.idp or ""]
        assert idp.saml is not None
        domains = connection_domains(tenant, connection)
        own = domains[0]
        return [
            Desired(
                tenant=tenant_name,
                provider=connection.provider,
                scope=connection.managed_account,
                key=KEY,
                fields={"email_domain": own},
                write_only={
                    "saml_metadata_url": idp.saml.metadata_url,
                    "additional_domains": sorted(set(domains[1:]) - {own}),
                },
                protect=connection.protect,
            )
        ]

    # --- reading ---------------------------------------------------------------------------

    async def read_scope(self, scope: str) -> list[Live]:
        status, body = await self.api.call(
            "GET",
            _ACCOUNT,
            call=f"read managed account {scope}",
            allow=(404,),
            ids={"account": scope},
        )
        return [] if status == 404 else [self._live(body, f"read managed account {scope}")]

    @classmethod
    def read_calls(cls, scopes: int) -> int:
        return -(-scopes // PAGE)

    async def read_scopes(self, scopes: Sequence[str]) -> dict[str, list[Live]]:
        """One listing, 1,000 accounts a page, instead of one call per account."""
        wanted = set(scopes)
        found: dict[str, list[Live]] = {s: [] for s in scopes}
        page = 1
        while True:
            call = f"list managed accounts (page {page})"
            _, body = await self.api.call(
                "GET",
                "/managed_accounts",
                call=call,
                params={"page": str(page), "limit": str(PAGE)},
            )
            accounts = body.get("managed_accounts") if isinstance(body, Mapping) else None
            if not isinstance(accounts, list):
                raise DriverError(self.name, call, "answer has no managed_accounts list")
            for account in accounts:
                live = self._live(account, call)
                if live.scope in wanted:
                    found[live.scope] = [live]
            links = body.get("links") if isinstance(body.get("links"), Mapping) else {}
            if not accounts or not links or not links.get("next"):
                return found
            if page >= MAX_PAGES:
                raise DriverError(self.name, call, f"still a next page after {MAX_PAGES} pages")
            page += 1

    def _live(self, account: Any, call: str) -> Live:
        if not isinstance(account, Mapping) or not isinstance(account.get("token"), str):
            raise DriverError(self.name, call, "a managed account in the answer has no token")
        domain = account.get("email_domain")
        token = account["token"]
        return Live(
            scope=token,
            key=KEY,
            id=token,
            fields={"email_domain": domain.lower() if isinstance(domain, str) else None},
        )

    # --- writing ---------------------------------------------------------------------------

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        await self._write_sso(desired, prefer="POST")
        return Live(desired.scope, KEY, desired.scope, dict(desired.fields))

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        paths = {c.path for c in changes}
        if "email_domain" in paths:
            await self.api.call(
                "PUT",
                _ACCOUNT,
                call=f"set email domain of {desired.scope}",
                json_body={"email_domain": desired.fields["email_domain"]},
                ids={"account": desired.scope},
            )
        if paths & self.capabilities.write_only:
            await self._write_sso(desired, prefer="PUT")
        return Live(desired.scope, KEY, desired.scope, dict(desired.fields))

    async def _write_sso(self, desired: Desired, *, prefer: str) -> None:
        """Upsert: the API cannot say whether a connection exists, so fall back on its answer."""
        path = _SSO
        ids = {"account": desired.scope}
        body = {
            "saml_metadata_url": desired.write_only["saml_metadata_url"],
            "additional_domains": desired.write_only["additional_domains"],
        }
        if prefer == "PUT":
            status, _ = await self.api.call(
                "PUT",
                path,
                call=f"update SSO of {desired.scope}",
                json_body=body,
                allow=(404,),
                ids=ids,
            )
            if status != 404:
                return
        status, _ = await self.api.call(
            "POST",
            path,
            call=f"configure SSO of {desired.scope}",
            json_body={"type": "saml", **body},
            allow=(400, 409) if prefer == "POST" else (),
            ids=ids,
        )
        if status in (400, 409):
            call = f"update SSO of {desired.scope}"
            await self.api.call("PUT", path, call=call, json_body=body, ids=ids)

    async def delete(self, live: Live) -> None:
        await self.api.call(
            "DELETE",
            _SSO,
            call=f"delete SSO of {live.scope}",
            allow=(404,),
            ids={"account": live.scope},
        )

    def to_manifest(self, live: Live) -> Imported | None:
        """The account's email domain is all Vantage shows; the SSO connection is write-only."""
        domain = live.fields.get("email_domain")
        if not isinstance(domain, str) or not domain:
            return None
        return Imported(
            connection={"managed_account": live.scope},
            domains=(domain,),
            idp={"kind": "other", "saml": {"metadata_url": PLACEHOLDER_METADATA_URL}},
            unreadable=("idp.saml.metadata_url", "connection.domains"),
        )
