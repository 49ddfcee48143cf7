"""Cloudflare dashboard SSO connectors (`/accounts/{account_id}/sso_connectors`).

One connector per email domain; `email_domain` is immutable (a change is a replace). A new
connector starts domain verification: the plan shows the DNS TXT record to publish while it is
pending, and `enabled: true` stays blocked until the status is `verified`. A failed verification
is restarted with `begin_verification`. Enabling affects every Cloudflare user with that email
domain, across all accounts: the plan says so next to that change.

`verification` is optional in Cloudflare's connector schema, and the dashboard SSO guide lists an
enabled connector without it: a connector can only be enabled once verified, so an enabled one
without `verification` is verified. Deleting needs no disable first (nothing published asks for
it; Cloudflare's Terraform provider deletes directly). PATCH may answer `result` as an array (the
guide's disable example) or as an object (the schema). Errors show Cloudflare's `error_chain`
(a bad token is HTTP 400, code 6003, with the header's problem in the chain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ssoform.drivers.base import (
    Capabilities,
    ExpandContext,
    FieldChange,
    Guidance,
    Imported,
    LiveIssue,
)
from ssoform.drivers.http import ApiCaller, HttpDriver
from ssoform.errors import DriverError
from ssoform.manifest.fields import normalise_domain
from ssoform.manifest.models import CloudflareConnection
from ssoform.model import Desired, Live

__all__ = ["CloudflareDriver"]

VERIFIED = "verified"
_CONNECTOR = "/accounts/{account}/sso_connectors/{connector}"


def _first_error(body: Any) -> tuple[str | None, str] | None:
    """(code, message) of the envelope's first error, its `error_chain` told in the message."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, Mapping):
        return None
    message = str(first.get("message", "error"))
    chain = first.get("error_chain")
    if isinstance(chain, list):
        links = [
            f"{link.get('code', '?')}: {link.get('message', '')}"
            for link in chain[:3]
            if isinstance(link, Mapping)
        ]
        if links:
            message += " (" + "; ".join(links) + ")"
    return str(first.get("code", "")) or None, message


class _CloudflareApi(ApiCaller):
    id_formats: ClassVar[Mapping[str, re.Pattern[str]]] = {
        "account": re.compile(r"[0-9a-f]{32}"),
        "connector": re.compile(r"[0-9a-f]{32}"),
    }

    def error_detail(self, body: Any) -> tuple[str | None, str]:
        found = _first_error(body)
        if found is not None:
            return found
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if isinstance(errors, list) and errors:
            return None, str(errors[0])
        if isinstance(body, Mapping) and body.get("success") is False:
            return None, "failed (success: false, no errors given)"
        return super().error_detail(body)

    def failed(self, body: Any) -> bool:
        return isinstance(body, Mapping) and body.get("success") is False


class CloudflareDriver(HttpDriver):
    type_name = "cloudflare"
    credential = "api_token"
    api_class = _CloudflareApi
    default_base_url: ClassVar[str] = "https://api.cloudflare.com/client/v4"
    capabilities = Capabilities(
        readable=frozenset({"email_domain", "enabled", "use_fedramp_language", "verification"}),
        immutable=frozenset({"email_domain"}),
        rate_limit=(1200, 300.0),
        max_concurrency=4,
    )

    @classmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        connection = ctx.connection_as(CloudflareConnection)
        fields = {
            "enabled": connection.enabled,
            "use_fedramp_language": connection.use_fedramp_language,
            "verification": VERIFIED,
        }
        return [
            ctx.desired(account, domain, {"email_domain": domain, **fields})
            for account, domain in ctx.live_keys()
        ]

    # --- reading ---------------------------------------------------------------------------

    async def read_scope(self, scope: str) -> list[Live]:
        call = f"list SSO connectors of account {scope}"
        _, body = await self.api.call(
            "GET", "/accounts/{account}/sso_connectors", call=call, ids={"account": scope}
        )
        result = _result(body, self.name, call)
        if not isinstance(result, list):
            raise DriverError(self.name, call, "answer has no list of connectors in `result`")
        return [self._live(scope, item, call) for item in result]

    def _live(self, scope: str, item: Any, call: str) -> Live:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise DriverError(self.name, call, "a connector in the answer has no id")
        raw_domain = item.get("email_domain")
        try:
            domain = normalise_domain(raw_domain)
        except ValueError:
            domain = str(raw_domain)
        found = item.get("verification")
        verification: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        enabled = item.get("enabled") is True
        status = str(verification.get("status") or (VERIFIED if enabled else "unknown"))
        return Live(
            scope=scope,
            key=domain,
            id=item["id"],
            fields={
                "email_domain": domain,
                "enabled": enabled,
                "use_fedramp_language": bool(item.get("use_fedramp_language", False)),
                "verification": status,
            },
            status={"verification_code": verification.get("code")},
        )

    # --- writing ---------------------------------------------------------------------------

    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        call = f"create SSO connector for {desired.key} in account {desired.scope}"
        body = {
            "email_domain": desired.fields["email_domain"],
            "begin_verification": True,
            "use_fedramp_language": desired.fields["use_fedramp_language"],
        }
        _, answer = await self.api.call(
            "POST",
            "/accounts/{account}/sso_connectors",
            call=call,
            json_body=body,
            ids={"account": desired.scope},
        )
        return self._live(desired.scope, _result(answer, self.name, call), call)

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        assert live is not None
        paths = {c.path for c in changes}
        ids = {"account": desired.scope, "connector": live.id}
        if "verification" in paths and live.fields.get("verification") != VERIFIED:
            await self.api.call(
                "POST",
                f"{_CONNECTOR}/begin_verification",
                call=f"begin verification of {desired.key}",
                idempotent=True,
                ids=ids,
            )
        patch = {k: desired.fields[k] for k in ("enabled", "use_fedramp_language") if k in paths}
        if not patch:
            return None
        call = f"update SSO connector {desired.key}"
        _, answer = await self.api.call("PATCH", _CONNECTOR, call=call, json_body=patch, ids=ids)
        result = _result(answer, self.name, call)
        if isinstance(result, list):  # the docs' example shows an array here
            result = result[0] if result else None
        return self._live(desired.scope, result, call) if isinstance(result, Mapping) else None

    async def delete(self, live: Live) -> None:
        ids = {"account": live.scope, "connector": live.id}
        call = f"delete SSO connector {live.key}"
        await self.api.call("DELETE", _CONNECTOR, call=call, allow=(404,), ids=ids)

    # --- planning hooks --------------------------------------------------------------------

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        if desired is None:
            if live is not None and live.fields.get("enabled"):
                return Guidance(notes=(_disable_note(live.key),))
            return Guidance()
        domain = desired.key
        wants_enabled = bool(desired.fields.get("enabled"))
        status = live.fields.get("verification") if live else None
        code = live.status.get("verification_code") if live else None
        notes: list[str] = []
        hold: set[str] = set()
        blocked = None
        if wants_enabled and (live is None or not live.fields.get("enabled")):
            notes.append(
                f"enabling dashboard SSO applies to every Cloudflare user with an @{domain} "
                "email address, in every account: they will sign in through your IdP"
            )
        if status in ("pending", None):
            record = f'TXT "{code}"' if code else "the TXT record shown after creation"
            blocked = f"waiting for DNS verification of {domain}: publish {record} on {domain}" + (
                "; enabling waits until it is verified" if wants_enabled else ""
            )
            hold.add("verification")
            if wants_enabled:
                hold.add("enabled")
        elif status in ("failed", "awaiting") and wants_enabled:
            hold.add("enabled")
            notes.append(f"verification of {domain} is {status}: apply restarts it")
        if live is not None and live.fields.get("enabled") and not wants_enabled:
            notes.append(_disable_note(domain))
        return Guidance(blocked=blocked, notes=tuple(notes), hold_fields=frozenset(hold))

    # --- drift and import hooks ------------------------------------------------------------

    def issues(self, live: Live) -> list[LiveIssue]:
        status = live.fields.get("verification")
        found: list[LiveIssue] = []
        if status == "failed":
            found.append(
                LiveIssue(
                    "verification_failed",
                    f"DNS verification of {live.key} failed in account {live.scope}",
                )
            )
        if live.fields.get("enabled") and status != VERIFIED:
            found.append(
                LiveIssue(
                    "enabled_unverified",
                    f"dashboard SSO is enabled for {live.key} in account {live.scope}, "
                    f"but the domain is not verified ({status})",
                )
            )
        return found

    def to_manifest(self, live: Live) -> Imported | None:
        return Imported(
            connection={
                "account_id": live.scope,
                "enabled": bool(live.fields.get("enabled")),
                "use_fedramp_language": bool(live.fields.get("use_fedramp_language")),
            },
            domains=(live.key,),
        )


def _disable_note(domain: str) -> str:
    return (
        f"disabling dashboard SSO for {domain}: its users sign in with passwords again; keep an "
        "API token with SSO Connector Edit to recover from a lock-out"
    )


def _result(body: Any, provider: str, call: str) -> Any:
    if not isinstance(body, Mapping):
        raise DriverError(provider, call, "answer is not a Cloudflare envelope")
    return body.get("result")  # `success: false` was raised by the API caller, with its status
