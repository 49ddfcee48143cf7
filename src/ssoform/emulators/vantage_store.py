"""The Vantage emulator's state: managed accounts and their hidden SSO connections.

Kept apart from `emulators/vantage.py` (routes and request parsing). The API never reads an SSO
connection back, so `sso_connection(token)` and the `/_emulator/sso_connections` control routes
are the only way to see one. Stored `additional_domains` never contain the account's own
`email_domain`; `domains` (the effective list) is derived on read, `email_domain` first.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ssoform.emulators.base import JsonStore

__all__ = ["PARENT_ACCOUNT", "ManagedAccount", "SsoConnection", "VantageStore", "new_token"]

PARENT_ACCOUNT = "acct_0000000000000001"


def new_token(prefix: str) -> str:
    """A Vantage-style token: `<prefix>_` and 16 hex digits (`acct_be30cfd09cf0b3c5`)."""
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass
class ManagedAccount:
    """The `ManagedAccount` model, field for field (seed 000)."""

    token: str
    name: str
    contact_email: str
    parent_account_token: str
    access_credential_tokens: list[str] = field(default_factory=list)
    billing_rule_tokens: list[str] = field(default_factory=list)
    email_domain: str | None = None
    msp_billing_profile_token: str | None = None
    payment_terms_days: int | None = None
    include_managed_account_integrations: bool | None = None
    billing_information_attributes: dict[str, Any] | None = None
    business_information_attributes: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagedAccount:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SsoConnection:
    """What a managed account's SSO connection holds; write-only through the API."""

    type: str
    saml_metadata_url: str
    additional_domains: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class VantageStore(JsonStore):
    """Managed accounts in creation order (the list order) and SSO connections by account."""

    def __init__(self, parent_account_token: str = PARENT_ACCOUNT) -> None:
        self.parent_account_token = parent_account_token
        self.accounts: dict[str, ManagedAccount] = {}
        self.connections: dict[str, SsoConnection] = {}

    # -- managed accounts ---------------------------------------------------------------------
    def add_managed_account(
        self,
        name: str,
        contact_email: str,
        *,
        email_domain: str | None = None,
        token: str | None = None,
        **extra: Any,
    ) -> ManagedAccount:
        """Seed (or create) a managed account; `extra` sets any other `ManagedAccount` field."""
        account = ManagedAccount(
            token=token or new_token("acct"),
            name=name,
            contact_email=contact_email,
            parent_account_token=self.parent_account_token,
            email_domain=email_domain,
        )
        for key, value in extra.items():
            if not hasattr(account, key) or key in ("token", "parent_account_token"):
                raise ValueError(f"unknown managed account field {key!r}")
            setattr(account, key, value)
        if account.token in self.accounts:
            raise ValueError(f"managed account {account.token} already exists")
        self.accounts[account.token] = account
        return account

    def account(self, token: str) -> ManagedAccount | None:
        return self.accounts.get(token)

    def page(self, page: int, limit: int) -> list[ManagedAccount]:
        """The accounts of 1-based `page` when pages hold `limit` accounts."""
        ordered = list(self.accounts.values())
        return ordered[(page - 1) * limit : page * limit]

    def set_email_domain(self, token: str, email_domain: str | None) -> None:
        """Change an account's email domain; its SSO connection keeps no copy of it."""
        self.accounts[token].email_domain = email_domain
        connection = self.connections.get(token)
        if connection is not None and email_domain in connection.additional_domains:
            connection.additional_domains.remove(email_domain)

    # -- SSO connections ----------------------------------------------------------------------
    def sso_connection(self, token: str) -> dict[str, Any] | None:
        """The hidden SSO connection of an account with its effective `domains`, or None."""
        connection = self.connections.get(token)
        if connection is None:
            return None
        own = self.accounts[token].email_domain
        domains = ([own] if own else []) + connection.additional_domains
        return {**connection.to_json(), "domains": domains}

    def put_sso_connection(
        self,
        token: str,
        *,
        saml_metadata_url: str | None = None,
        additional_domains: list[str] | None = None,
        kind: str = "saml",
    ) -> SsoConnection:
        """Create the connection, or update the fields given (domains are replaced)."""
        own = self.accounts[token].email_domain
        connection = self.connections.get(token)
        if connection is None:
            if saml_metadata_url is None:
                raise ValueError("saml_metadata_url is required")
            connection = SsoConnection(kind, saml_metadata_url)
            self.connections[token] = connection
        elif saml_metadata_url is not None:
            connection.saml_metadata_url = saml_metadata_url
        if additional_domains is not None:
            connection.additional_domains = [d for d in additional_domains if d != own]
        return connection

    def delete_sso_connection(self, token: str) -> bool:
        return self.connections.pop(token, None) is not None

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "parent_account_token": self.parent_account_token,
            "managed_accounts": [a.to_json() for a in self.accounts.values()],
            "sso_connections": {t: c.to_json() for t, c in self.connections.items()},
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Replace the whole state with `data` (the shape of `to_json`)."""
        accounts = [ManagedAccount.from_json(a) for a in data.get("managed_accounts", [])]
        connections = {
            token: SsoConnection(
                str(c["type"]), str(c["saml_metadata_url"]), list(c["additional_domains"])
            )
            for token, c in data.get("sso_connections", {}).items()
        }
        unknown = set(connections) - {a.token for a in accounts}
        if unknown:
            raise ValueError(f"SSO connections for unknown accounts: {sorted(unknown)}")
        self.parent_account_token = str(data.get("parent_account_token", self.parent_account_token))
        self.accounts = {a.token: a for a in accounts}
        self.connections = connections
