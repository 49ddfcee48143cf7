"""The Cantina emulator's state: companies, their SSO connections and SSO enforcement rules.

Kept apart from `emulators/cantina.py` (routes, auth and request parsing). A connection's
`clientSecret` never reaches the store: it keeps `clientSecretSha256` (hex SHA-256), and the API
answers the fixed mask `fields.MASK` instead. Store JSON uses the API's camelCase names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ssoform.emulators.base import JsonStore
from ssoform.emulators.fields import MASK

__all__ = ["CantinaConflict", "CantinaStore", "Company", "EnforcementRule", "SsoConnection"]


class CantinaConflict(ValueError):
    """A domain that is already taken; the message names the domain and what holds it."""


@dataclass
class Company:
    id: str
    name: str
    verified_email_domains: list[str] = field(default_factory=list)
    """Domains with at least one verified company-user email (what a manager may claim)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "verifiedEmailDomains": self.verified_email_domains,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Company:
        return cls(str(data["id"]), str(data["name"]), list(data.get("verifiedEmailDomains", [])))


@dataclass
class SsoConnection:
    """A `CompanySsoConnection` as stored: the secret only as its digest."""

    id: str
    company_id: str
    provider: str
    provider_base_url: str
    client_id: str
    client_secret_sha256: str
    domains: list[str]
    created_at: str
    created_by: dict[str, Any]
    last_updated_at: str
    last_updated_by: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        """The `CompanySsoConnection` the API answers: masked secret, no digest."""
        data = self.to_json()
        del data["clientSecretSha256"]
        return {**data, "clientSecret": MASK}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "companyId": self.company_id,
            "provider": self.provider,
            "providerBaseUrl": self.provider_base_url,
            "clientId": self.client_id,
            "clientSecretSha256": self.client_secret_sha256,
            "domains": list(self.domains),
            "createdAt": self.created_at,
            "createdBy": dict(self.created_by),
            "lastUpdatedAt": self.last_updated_at,
            "lastUpdatedBy": dict(self.last_updated_by),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SsoConnection:
        return cls(
            id=str(data["id"]),
            company_id=str(data["companyId"]),
            provider=str(data["provider"]),
            provider_base_url=str(data["providerBaseUrl"]),
            client_id=str(data["clientId"]),
            client_secret_sha256=str(data["clientSecretSha256"]),
            domains=list(data["domains"]),
            created_at=str(data["createdAt"]),
            created_by=dict(data["createdBy"]),
            last_updated_at=str(data["lastUpdatedAt"]),
            last_updated_by=dict(data["lastUpdatedBy"]),
        )


@dataclass
class EnforcementRule:
    id: str
    company_id: str
    domain: str
    created_at: str
    created_by: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "companyId": self.company_id,
            "domain": self.domain,
            "createdAt": self.created_at,
            "createdBy": dict(self.created_by),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnforcementRule:
        return cls(
            str(data["id"]),
            str(data["companyId"]),
            str(data["domain"]),
            str(data["createdAt"]),
            dict(data["createdBy"]),
        )


class CantinaStore(JsonStore):
    """Companies by id; connections and enforcement rules in creation order."""

    def __init__(self) -> None:
        self.companies: dict[str, Company] = {}
        self.connections: list[SsoConnection] = []
        self.rules: list[EnforcementRule] = []

    def add_company(
        self,
        name: str,
        company_id: str | None = None,
        *,
        verified_email_domains: list[str] | None = None,
    ) -> Company:
        """Seed a company (a random UUID unless `company_id` is given)."""
        company_id = str(uuid.UUID(company_id)) if company_id else str(uuid.uuid4())
        if company_id in self.companies:
            raise ValueError(f"company {company_id} already exists")
        company = Company(company_id, name, list(verified_email_domains or []))
        self.companies[company_id] = company
        return company

    def connections_of(self, company_id: str) -> list[SsoConnection]:
        return [c for c in self.connections if c.company_id == company_id]

    def rules_of(self, company_id: str) -> list[EnforcementRule]:
        return [r for r in self.rules if r.company_id == company_id]

    def check_connection_domains(self, domains: list[str]) -> None:
        """CantinaConflict unless every domain is free of connections and enforcement rules."""
        for domain in domains:
            if any(domain in c.domains for c in self.connections):
                raise CantinaConflict(f"Domain {domain} is already used by an SSO connection")
            if any(domain == r.domain for r in self.rules):
                raise CantinaConflict(f"Domain {domain} overlaps an SSO enforcement rule")

    def check_rule_domain(self, domain: str) -> None:
        """CantinaConflict unless the domain is in no rule and no connection."""
        if any(domain == r.domain for r in self.rules):
            raise CantinaConflict(f"Domain {domain} already has an SSO enforcement rule")
        if any(domain in c.domains for c in self.connections):
            raise CantinaConflict(f"Domain {domain} overlaps an SSO connection's domains")

    def create_connection(
        self,
        company_id: str,
        *,
        provider: str,
        provider_base_url: str,
        client_id: str,
        client_secret_sha256: str,
        domains: list[str],
        user: dict[str, Any],
        now: str,
    ) -> SsoConnection:
        """Add a connection (domains checked); the caller hashes the secret."""
        self.check_connection_domains(domains)
        connection = SsoConnection(
            id=str(uuid.uuid4()),
            company_id=company_id,
            provider=provider,
            provider_base_url=provider_base_url,
            client_id=client_id,
            client_secret_sha256=client_secret_sha256,
            domains=list(domains),
            created_at=now,
            created_by=dict(user),
            last_updated_at=now,
            last_updated_by=dict(user),
        )
        self.connections.append(connection)
        return connection

    def create_rule(
        self, company_id: str, domain: str, *, user: dict[str, Any], now: str
    ) -> EnforcementRule:
        self.check_rule_domain(domain)
        rule = EnforcementRule(str(uuid.uuid4()), company_id, domain, now, dict(user))
        self.rules.append(rule)
        return rule

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "companies": [c.to_json() for c in self.companies.values()],
            "ssoConnections": [c.to_json() for c in self.connections],
            "ssoEnforcementRules": [r.to_json() for r in self.rules],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Replace the whole state with `data` (the shape of `to_json`)."""
        companies = {c.id: c for c in map(Company.from_json, data.get("companies", []))}
        connections = [SsoConnection.from_json(c) for c in data.get("ssoConnections", [])]
        rules = [EnforcementRule.from_json(r) for r in data.get("ssoEnforcementRules", [])]
        owners = {c.company_id for c in connections} | {r.company_id for r in rules}
        orphans = owners - set(companies)
        if orphans:
            raise ValueError(f"records for unknown companies: {sorted(orphans)}")
        self.companies, self.connections, self.rules = companies, connections, rules
