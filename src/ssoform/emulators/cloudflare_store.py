"""The Cloudflare emulator's state: SSO connectors of every account, and the rules on writes.

Kept apart from `emulators/cloudflare.py` (routes and request parsing); the refusals and their
envelope codes are documented there.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from starlette.responses import JSONResponse

from ssoform.emulators.base import JsonStore

__all__ = [
    "PUBLIC_MAIL_DOMAINS",
    "STATUSES",
    "CloudflareError",
    "CloudflareStore",
    "Code",
    "Connector",
    "failure",
    "invalid",
    "normalise_domain",
]

STATUSES = ("awaiting", "pending", "failed", "verified")
_PUBLIC_MAIL = """
gmail.com googlemail.com yahoo.com outlook.com hotmail.com live.com msn.com icloud.com me.com
aol.com proton.me protonmail.com gmx.com mail.com yandex.com zoho.com
"""
PUBLIC_MAIL_DOMAINS = frozenset(_PUBLIC_MAIL.split())
REFUSED_TLDS = frozenset({"edu"})
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class Code(IntEnum):
    """Envelope error codes. 6003/6111, 7001 and 7003 are Cloudflare's; the rest the emulator's."""

    INVALID_HEADERS = 6003
    INVALID_AUTHORIZATION = 6111
    NO_ROUTE = 7003
    METHOD_NOT_ALLOWED = 7001
    MALFORMED_BODY = 1001
    INVALID_FIELD = 1002
    NOT_FOUND = 1003
    DUPLICATE_DOMAIN = 1004
    DOMAIN_REFUSED = 1005
    NOT_VERIFIED = 1006
    ENABLED_ELSEWHERE = 1007
    ALREADY_VERIFIED = 1009
    RATE_LIMITED = 10429


class CloudflareError(Exception):
    """A refusal, answered as the Cloudflare failure envelope."""

    def __init__(self, status: int, code: Code, message: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.pointer = pointer

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": int(self.code), "message": self.message}
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        return failure(self.status, error)


def failure(
    status: int, error: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"success": False, "errors": [error], "messages": [], "result": None}
    return JSONResponse(body, status_code=status, headers=headers)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Connector:
    id: str
    account_id: str
    email_domain: str
    enabled: bool
    use_fedramp_language: bool
    verification_code: str
    verification_status: str
    created_on: str
    updated_on: str

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email_domain": self.email_domain,
            "enabled": self.enabled,
            "use_fedramp_language": self.use_fedramp_language,
            "verification": {"code": self.verification_code, "status": self.verification_status},
            "created_on": self.created_on,
            "updated_on": self.updated_on,
        }


def invalid(pointer: str, message: str) -> CloudflareError:
    return CloudflareError(400, Code.INVALID_FIELD, message, pointer)


def normalise_domain(value: object) -> str:
    """The lower-cased host name, or CloudflareError 1002/1005."""
    if not isinstance(value, str):
        raise invalid("/email_domain", "email_domain must be a string")
    domain = value.strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise invalid("/email_domain", "email_domain is not a valid domain name")
    if domain in PUBLIC_MAIL_DOMAINS or labels[-1] in REFUSED_TLDS:
        raise CloudflareError(
            400, Code.DOMAIN_REFUSED, f"Email domain {domain} cannot be used for dashboard SSO"
        )
    return domain


class CloudflareStore(JsonStore):
    """All connectors of all accounts, keyed by connector id (insertion order = list order)."""

    def __init__(self) -> None:
        self.connectors: dict[str, Connector] = {}

    # -- reads -------------------------------------------------------------------------------
    def list(self, account_id: str) -> list[Connector]:
        return [c for c in self.connectors.values() if c.account_id == account_id]

    def get(self, account_id: str, connector_id: str) -> Connector:
        found = self.connectors.get(connector_id)
        if found is None or found.account_id != account_id:
            raise CloudflareError(404, Code.NOT_FOUND, "SSO connector not found")
        return found

    def find(self, account_id: str, email_domain: str) -> Connector | None:
        domain = email_domain.lower()
        return next((c for c in self.list(account_id) if c.email_domain == domain), None)

    # -- writes ------------------------------------------------------------------------------
    def create(
        self,
        account_id: str,
        email_domain: str,
        *,
        begin_verification: bool = True,
        use_fedramp_language: bool = False,
    ) -> Connector:
        domain = normalise_domain(email_domain)
        if self.find(account_id, domain) is not None:
            raise CloudflareError(
                400,
                Code.DUPLICATE_DOMAIN,
                f"An SSO connector for {domain} already exists in this account",
            )
        return self.add_connector(
            account_id,
            domain,
            status="pending" if begin_verification else "awaiting",
            use_fedramp_language=use_fedramp_language,
        )

    def add_connector(
        self,
        account_id: str,
        email_domain: str,
        *,
        status: str = "pending",
        enabled: bool = False,
        use_fedramp_language: bool = False,
        connector_id: str | None = None,
    ) -> Connector:
        """Seed a connector as-is (no policy checks besides the status name)."""
        if status not in STATUSES:
            raise ValueError(f"unknown verification status {status!r}")
        stamp = _now()
        connector = Connector(
            id=connector_id or secrets.token_hex(16),
            account_id=account_id,
            email_domain=email_domain.lower(),
            enabled=enabled,
            use_fedramp_language=use_fedramp_language,
            verification_code=f"cloudflare_dashboard_sso={secrets.randbelow(10**9):09d}",
            verification_status=status,
            created_on=stamp,
            updated_on=stamp,
        )
        self.connectors[connector.id] = connector
        return connector

    def update(
        self,
        account_id: str,
        connector_id: str,
        *,
        enabled: bool | None = None,
        use_fedramp_language: bool | None = None,
    ) -> Connector:
        connector = self.get(account_id, connector_id)
        if enabled and not connector.enabled:
            if connector.verification_status != "verified":
                raise CloudflareError(
                    400,
                    Code.NOT_VERIFIED,
                    "SSO connector cannot be enabled before its email domain is verified",
                )
            if any(
                c.enabled and c.email_domain == connector.email_domain and c is not connector
                for c in self.connectors.values()
            ):
                raise CloudflareError(
                    400,
                    Code.ENABLED_ELSEWHERE,
                    f"Email domain {connector.email_domain} is enabled on another account",
                )
        changed = False
        if enabled is not None and enabled != connector.enabled:
            connector.enabled, changed = enabled, True
        if use_fedramp_language is not None and use_fedramp_language != (
            connector.use_fedramp_language
        ):
            connector.use_fedramp_language, changed = use_fedramp_language, True
        if changed:
            connector.updated_on = _now()
        return connector

    def delete(self, account_id: str, connector_id: str) -> None:
        self.get(account_id, connector_id)
        del self.connectors[connector_id]

    def begin_verification(self, account_id: str, connector_id: str) -> None:
        connector = self.get(account_id, connector_id)
        if connector.verification_status == "verified":
            raise CloudflareError(400, Code.ALREADY_VERIFIED, "SSO connector is already verified")
        if connector.verification_status != "pending":
            connector.verification_status = "pending"
            connector.updated_on = _now()

    def set_verification(self, account_id: str, email_domain: str, status: str) -> Connector:
        """Test hook: the DNS poll's outcome for `email_domain` in `account_id`."""
        if status not in STATUSES:
            raise ValueError(f"unknown verification status {status!r}")
        connector = self.find(account_id, email_domain)
        if connector is None:
            raise KeyError(f"no connector for {email_domain} in account {account_id}")
        connector.verification_status = status
        connector.updated_on = _now()
        return connector

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"connectors": [asdict(c) for c in self.connectors.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        connectors = [Connector(**item) for item in data.get("connectors", [])]
        self.connectors = {c.id: c for c in connectors}
