"""Vantage managed accounts' SAML connection (`/managed_accounts/{token}/sso_connection`).

The SSO connection can be created (201), updated (PUT) and deleted (204) but never read:
everything in it is write-only, so state is its source of truth and the plan shows its fields
as unchanged, changed or unverifiable. The account's `email_domain` is readable and is diffed.
`additional_domains` has replace semantics; the account's own domain is always kept by Vantage,
so it is never sent twice. Accounts are listed 1,000 to a page: reading a thousand accounts is
one call, not a thousand.

Vantage allows 1,000 requests per hour for the whole account (every token and user counts).

Writing is an upsert, since the API cannot say whether a connection exists: PUT, and on 404
POST; a POST refused with 400 falls back to PUT only when Vantage's `errors` say the connection
already exists, otherwise Vantage's message is the error. A POST that fails ambiguously (a
timeout, a dropped connection, a 5xx) is never sent again blindly: the idempotent PUT is the
re-read (200: the POST landed, and the connection now holds these values; 404: it did not, so
POST again), at most `POST_ATTEMPTS` times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ssoform.drivers.base import Capabilities, ExpandContext, FieldChange, Imported
from ssoform.drivers.http import ApiCaller, HttpDriver, scrub
from ssoform.errors import DriverError
from ssoform.manifest.models import VantageConnection
from ssoform.model import Desired, Live
from ssoform.transport import MAX_PAGES

__all__ = ["VantageDriver"]

KEY = "sso"
PLACEHOLDER_METADATA_URL = "https://replace-me.invalid/saml/metadata"
PAGE = 1000
POST_ATTEMPTS = 3
_EXISTS = ("already exists", "already configured", "already has")
"""Words of a refusal that mean the connection exists (Vantage publishes no error codes)."""
_ACCOUNT = "/managed_accounts/{account}"
_SSO = "/managed_accounts/{account}/sso_connection"


def _error_list(body: Any) -> list[str]:
    """The messages of Vantage's `Errors` model (`{"errors": [str], "links"?}`)."""
    found = body.get("errors") if isinstance(body, Mapping) else None
    return [str(e) for e in found[:3]] if isinstance(found, list) else []


def _errors_text(body: Any) -> str:
    return "; ".join(_error_list(body)) or "refused without a message"


def _says_exists(body: Any) -> bool:
    return any(word in e.lower() for e in _error_list(body) for word in _EXISTS)


class _VantageApi(ApiCaller):
    id_formats: ClassVar[Mapping[str, re.Pattern[str]]] = {
        "account": re.compile(r"acct_[A-Za-z0-9]{1,64}")
    }

    def error_detail(self, body: Any) -> tuple[str | None, str]:
        if _error_list(body):
            return None, _errors_text(body)
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
        rate_limit=(1000, 3600.0),
        max_concurrency=4,
    )

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        ctx.connection_as(VantageConnection)
        saml = ctx.idp.saml
        assert saml is not None
        domains = ctx.domains
        own = domains[0]
        return [
            ctx.desired(
                scope,
                key,
                {"email_domain": own},
                write_only={
                    "saml_metadata_url": saml.metadata_url,
                    "additional_domains": sorted(set(domains[1:]) - {own}),
                },
            )
            for scope, key in ctx.live_keys()
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
        """Upsert: the API cannot say whether a connection exists, so go by its answers."""
        body = {
            "saml_metadata_url": desired.write_only["saml_metadata_url"],
            "additional_domains": desired.write_only["additional_domains"],
        }
        if prefer == "PUT" and await self._put(desired, body, missing_ok=True):
            return
        call = f"configure SSO of {desired.scope}"
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                status, answer = await self.api.call(
                    "POST",
                    _SSO,
                    call=call,
                    json_body={"type": "saml", **body},
                    allow=(400, 409),
                    ids={"account": desired.scope},
                )
            except DriverError as exc:
                if not (exc.ambiguous or exc.retryable) or attempt == POST_ATTEMPTS:
                    raise
                if await self._put(desired, body, missing_ok=True):
                    return  # the POST had landed: the PUT found it and wrote the same values
                continue
            if status == 400 and not _says_exists(answer):
                message = scrub(_errors_text(answer), self.api.credentials)
                raise DriverError(self.name, call, message, status=status)
            if status in (400, 409):
                await self._put(desired, body, missing_ok=False)
            return

    async def _put(self, desired: Desired, body: dict[str, Any], *, missing_ok: bool) -> bool:
        """PUT the connection; False when Vantage answers 404 and `missing_ok`."""
        status, _ = await self.api.call(
            "PUT",
            _SSO,
            call=f"update SSO of {desired.scope}",
            json_body=body,
            allow=(404,) if missing_ok else (),
            ids={"account": desired.scope},
        )
        return status != 404

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
