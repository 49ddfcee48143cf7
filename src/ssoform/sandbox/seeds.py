"""The estate each built-in emulator starts with in the sandbox, and its well-known credentials.

A sandbox store is seeded from the manifest it first runs with, so every example (and a user's
own manifest) meets a realistic existing estate: some connections already correct, some drifted,
one unmanaged, a Cloudflare domain waiting for DNS verification, Vantage accounts whose SSO
connection ssoform has no record of.
"""

from __future__ import annotations

from typing import Any

from ssoform.manifest.models import (
    CantinaConnection,
    CloudflareConnection,
    DescopeConnection,
    Manifest,
    VantageConnection,
)
from ssoform.manifest.provider_types import BUILTIN_TYPES


def _credential(type_name: str, field: str) -> str:
    """An emulator's well-known credential, as its provider-type record gives it."""
    record = next(t for t in BUILTIN_TYPES if t.name == type_name)
    assert record.emulator is not None
    return record.emulator.credentials[field]


CLOUDFLARE_TOKEN = _credential("cloudflare", "api_token")
DESCOPE_KEY = _credential("descope", "management_key")
VANTAGE_TOKEN = _credential("vantage", "api_token")
CANTINA_KEY = _credential("cantina", "api_key")
PANDASTACK_TOKEN = _credential("pandastack", "api_token")


def _connections(manifest: Manifest, instance: str, kind: type) -> list[tuple[Any, Any]]:
    return [
        (tenant, conn)
        for tenant in manifest.tenants.values()
        for conn in tenant.connections
        if isinstance(conn, kind) and conn.provider == instance
    ]


def seed_cloudflare(store: Any, manifest: Manifest, instance: str) -> None:
    found = _connections(manifest, instance, CloudflareConnection)
    for index, (tenant, conn) in enumerate(found):
        domains = conn.email_domains(tenant)
        if index == 0 and domains:
            store.add_connector(conn.account_id, domains[0], status="verified", enabled=True)
            store.add_connector(conn.account_id, f"legacy.{domains[0]}", status="verified")
        elif index == 1 and domains:
            store.add_connector(conn.account_id, domains[0], status="pending")


def seed_descope(store: Any, manifest: Manifest, instance: str) -> None:
    found = _connections(manifest, instance, DescopeConnection)
    for tenant_id in sorted({conn.tenant_id for _, conn in found}):
        store.create_tenant(f"Tenant {tenant_id}", tenant_id)


def seed_vantage(store: Any, manifest: Manifest, instance: str) -> None:
    """Every managed account exists; the second one's email domain has drifted."""
    for index, (tenant, conn) in enumerate(_connections(manifest, instance, VantageConnection)):
        domains = conn.email_domains(tenant)
        domain = domains[0] if domains else None
        if index == 1 and domain:
            domain = f"old-{domain}"
        contact = f"it@{domains[0]}" if domains else "it@example.com"
        store.add_managed_account(
            tenant.description or conn.managed_account,
            contact,
            email_domain=domain,
            token=conn.managed_account,
        )


def seed_cantina(store: Any, manifest: Manifest, instance: str) -> None:
    """Every company exists; the first one already has a matching connection (to adopt)."""
    seen: set[str] = set()
    for tenant, conn in _connections(manifest, instance, CantinaConnection):
        if conn.company_id in seen:
            continue
        seen.add(conn.company_id)
        domains = sorted(conn.email_domains(tenant))
        store.add_company(tenant.description or conn.company_id, conn.company_id)
        idp = manifest.identity_providers.get(conn.idp_name(tenant) or "")
        if len(seen) == 1 and idp is not None and idp.oidc is not None:
            store.create_connection(
                conn.company_id,
                provider=conn.idp_kind or idp.kind,
                provider_base_url=(conn.provider_base_url or idp.oidc.issuer).rstrip("/"),
                client_id=idp.oidc.client_id,
                client_secret_sha256="0" * 64,
                domains=domains,
                user={
                    "userId": "00000000-0000-4000-8000-000000000001",
                    "name": "Sandbox Admin",
                    "username": "sandbox-admin",
                    "avatar": "",
                    "disabledAt": None,
                },
                now="2026-01-01T00:00:00Z",
            )


def seed_nothing(store: Any, manifest: Manifest, instance: str) -> None:
    """PandaStack organizations start with no SSO providers."""
