"""Descope's management API as the driver calls it: its error shape, and enabling or disabling a
configuration (the authtype call, with the tenant settings call as the default's fallback)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ssoform.drivers.descope_manifest import DEFAULT
from ssoform.drivers.http import ApiCaller, scrub
from ssoform.errors import DriverError

__all__ = ["DescopeApi"]

_BODY_REFUSED = frozenset({"E011001", "E011004"})
"""Error codes meaning the request body itself was refused (malformed, invalid arguments)."""


class DescopeApi(ApiCaller):
    def error_detail(self, body: Any) -> tuple[str | None, str]:
        if isinstance(body, Mapping) and "errorCode" in body:
            message = body.get("errorMessage") or body.get("errorDescription") or "error"
            return str(body["errorCode"]), str(message)
        return super().error_detail(body)

    async def set_auth_type(self, tenant_id: str, sso_id: str, auth_type: str) -> None:
        """Enable or disable a configuration, keeping it. The `authtype` call is published
        (SDK releases of 2026-08) but its body names are not: `tenantId`/`authType`/`ssoId` are
        inferred from the sibling calls. Refused as unknown (404) or malformed (400
        `E011001`/`E011004`), the default configuration falls back to the documented tenant
        settings call; a named one has no documented alternative and fails. A 404 `E011004`
        (tenant or configuration not found) is an answer, not a refusal."""
        body: dict[str, Any] = {"tenantId": tenant_id, "authType": auth_type}
        if sso_id != DEFAULT:
            body["ssoId"] = sso_id
        call = f"set auth type {auth_type} for {sso_id} of tenant {tenant_id}"
        status, answer = await self.call(
            "POST",
            "/v1/mgmt/sso/settings/authtype",
            call=call,
            json_body=body,
            idempotent=True,
            allow=(400, 404),
        )
        if status < 400:
            return
        code, message = self.error_detail(answer)
        message = scrub(message, self.credentials)
        refused = code in _BODY_REFUSED if status == 400 else code != "E011004"
        if not refused:  # a real answer about this tenant or configuration
            raise DriverError(self.provider, call, message, status=status, code=code)
        if sso_id != DEFAULT:
            raise DriverError(
                self.provider,
                call,
                f"Descope refused the authtype call ({code or status}: {message}); a named "
                "configuration has no other published way to be enabled or disabled",
                status=status,
                code=code,
            )
        await self._set_tenant_auth_type(tenant_id, auth_type)

    async def _set_tenant_auth_type(self, tenant_id: str, auth_type: str) -> None:
        """The documented fallback for the default configuration: the tenant settings call,
        sending back every setting this same call read, with only `authType` changed."""
        read = f"load settings of tenant {tenant_id}"
        _, current = await self.call(
            "GET", "/v1/mgmt/tenant/settings", call=read, params={"id": tenant_id}
        )
        if not isinstance(current, Mapping):
            raise DriverError(self.provider, read, "answer is not a JSON object")
        body = {**current, "tenantId": tenant_id, "authType": auth_type}
        await self.call(
            "POST",
            "/v1/mgmt/tenant/settings",
            call=f"set auth type {auth_type} of tenant {tenant_id} (tenant settings)",
            json_body=body,
            idempotent=True,
        )
