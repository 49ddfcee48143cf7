"""The driver interface: what each provider fills in; the engine does the rest.

A driver turns manifest connections into `Desired` resources, reads whole scopes in as few calls
as the API allows, and creates, updates and deletes single resources. It never plans, retries or
rate-limits: the engine does, through the `httpx.AsyncClient` it hands the driver (whose transport
shares the provider instance's budget and retries idempotent calls).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx

from ssoform.errors import DriverError
from ssoform.manifest.models import ConnectionBase, IdentityProvider, Manifest, Tenant
from ssoform.manifest.secrets import SecretRef
from ssoform.model import Desired, FieldChange, Live
from ssoform.scrub import holds_secret

__all__ = [
    "SECRET_SLOT",
    "BaseDirs",
    "Capabilities",
    "Driver",
    "DriverContext",
    "ExpandContext",
    "FieldChange",
    "Guidance",
    "Imported",
    "LiveIssue",
    "refuse_secret_id",
]

BaseDirs = Callable[[tuple[str | int, ...]], str]
"""(a manifest data path) -> the directory `{file: ...}` references written there resolve from."""

_C = TypeVar("_C", bound=ConnectionBase)


@dataclass(frozen=True)
class ExpandContext:
    """One manifest connection to expand, with what expanding it may read: the manifest, its
    tenant, and where file references resolve from. The helpers are what every driver's
    `expand` needs, so each driver writes only its own fields."""

    manifest: Manifest
    tenant_name: str
    tenant: Tenant
    connection: ConnectionBase
    base_dirs: BaseDirs

    def connection_as(self, model: type[_C]) -> _C:
        """The connection, as the model its driver serves (validation guarantees it)."""
        assert isinstance(self.connection, model), f"a {model.__name__} is expected"
        return self.connection

    @property
    def domains(self) -> list[str]:
        """The email domains the connection serves."""
        return self.connection.email_domains(self.tenant)

    def live_keys(self) -> list[tuple[str, str]]:
        """The (scope, key) of each live object the connection declares."""
        return self.connection.live_keys(self.manifest, self.tenant)

    @property
    def idp_name(self) -> str:
        return self.connection.idp_name(self.tenant) or ""

    @property
    def idp(self) -> IdentityProvider:
        """The identity provider the connection signs in with (validation makes sure of it)."""
        return self.manifest.identity_providers[self.idp_name]

    def base_dir(self, *path: str | int) -> str:
        """The directory file references written at manifest data `path` resolve from."""
        return self.base_dirs(path)

    def desired(
        self,
        scope: str,
        key: str,
        fields: Mapping[str, Any],
        *,
        write_only: Mapping[str, Any] | None = None,
        secrets: Mapping[str, SecretRef] | None = None,
        payload: Mapping[str, Any] | None = None,
        base_dir: str = ".",
    ) -> Desired:
        """A desired resource of this connection's tenant, provider instance and protection."""
        return Desired(
            tenant=self.tenant_name,
            provider=self.connection.provider,
            scope=scope,
            key=key,
            fields=fields,
            write_only=write_only or {},
            secrets=secrets or {},
            payload=payload or {},
            protect=self.connection.protect,
            base_dir=base_dir,
        )


@dataclass(frozen=True)
class Capabilities:
    """What a provider's API can do; the planner reads this, never the driver's code."""

    readable: frozenset[str]
    """Canonical fields the API returns and the planner diffs against live."""
    write_only: frozenset[str] = frozenset()
    """Fields the API never returns (secrets, or everything for Vantage's SSO connection)."""
    immutable: frozenset[str] = frozenset()
    """Fields that cannot change in place: a change means replace (or manual)."""
    can_create: bool = True
    can_update: bool = True
    can_delete: bool = True
    existence_observable: bool = True
    """False when the API cannot tell whether the resource exists (Vantage's SSO connection)."""
    rate_limit: tuple[int, float] = (60, 60.0)
    """Documented limit: (requests, per seconds)."""
    max_concurrency: int = 4
    experimental: bool = False


@dataclass(frozen=True)
class Guidance:
    """What a driver says about a planned change: blocked reasons, manual steps, warnings."""

    blocked: str | None = None
    """This change can only happen after something outside ssoform; says what."""
    manual: str | None = None
    """The API cannot make this change; the exact steps for the user."""
    notes: tuple[str, ...] = ()
    """Plain-words warnings to show next to the change."""
    hold_fields: frozenset[str] = field(default_factory=frozenset)
    """Fields whose change is held back (blocked) while the rest may proceed."""


@dataclass(frozen=True)
class LiveIssue:
    """A health problem a driver sees in one live object (shown by `ssoform drift`)."""

    kind: str
    """A finding kind of the drift report, e.g. `verification_failed`."""
    message: str


SECRET_SLOT = "<secret>"  # noqa: S105 - a marker, never a value
"""Placed by `Driver.to_manifest` where a secret belongs; import writes an `{env: ...}` there."""


@dataclass(frozen=True)
class Imported:
    """A live object turned back into manifest terms (for `ssoform import`)."""

    connection: dict[str, Any]
    """The connection entry, without `provider` (and without `idp`: import adds both)."""
    domains: tuple[str, ...]
    """The email domains it covers (they become the tenant's or the connection's domains)."""
    idp: dict[str, Any] | None = None
    """An `identity_providers` entry the connection needs; SECRET_SLOT marks secrets."""
    unreadable: tuple[str, ...] = ()
    """Paths (`connection.x`, `idp.saml.y`) holding placeholders: the API cannot read them."""


@dataclass(frozen=True)
class DriverContext:
    """What a driver gets: its instance name, config, an HTTP client and resolved credentials."""

    name: str
    config: Any
    client: httpx.AsyncClient
    credentials: Mapping[str, str]
    base_url: str


class Driver(ABC):
    """One provider API. Subclasses set `type_name` and `capabilities` and fill in the hooks."""

    type_name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    default_base_url: ClassVar[str]

    def __init__(self, ctx: DriverContext) -> None:
        self.ctx = ctx
        self.name = ctx.name
        self.client = ctx.client

    # --- manifest -> desired -------------------------------------------------------------

    @classmethod
    @abstractmethod
    def expand(cls, ctx: ExpandContext) -> list[Desired]:
        """The desired resources one manifest connection stands for (`ctx.desired` makes one).

        `ctx.base_dir(*path)` is the directory `{file: ...}` references written at a manifest
        data path (for example `("identity_providers", "acme-okta")`) resolve from.
        """

    @classmethod
    def auth_headers(cls, config: Any, credentials: Mapping[str, str]) -> dict[str, str]:
        """HTTP headers that authenticate every request (built from resolved credentials)."""
        return {}

    @classmethod
    def base_url_for(cls, config: Any) -> str:
        """The API base URL of an instance: its `base_url` override, else the default."""
        return str(getattr(config, "base_url", None) or cls.default_base_url)

    @classmethod
    def credential_fields(cls) -> tuple[str, ...]:
        """Names of the provider-instance fields that hold credentials (secret references)."""
        return ()

    # --- reading -------------------------------------------------------------------------

    @abstractmethod
    async def read_scope(self, scope: str) -> list[Live]:
        """Every object in one scope (one list call where the API has one)."""

    @classmethod
    def concurrency_for(cls, config: Any) -> int:
        """Requests an instance may have in flight: its `max_concurrency`, else the declared."""
        return getattr(config, "max_concurrency", None) or cls.capabilities.max_concurrency

    @classmethod
    def read_calls(cls, scopes: int) -> int:
        """The fewest requests reading `scopes` scopes takes (for progress displays)."""
        return scopes

    async def read_scopes(self, scopes: Sequence[str]) -> dict[str, list[Live]]:
        """Every object in several scopes; override when the API can list them together.

        As many workers as the instance may have requests in flight take the scopes in turn. A
        task per scope would do the same work, but thousands of them would queue up first, and
        the provider instances whose tasks came later would start their reads late (by a second
        for 5,000 scopes). After a failure no worker starts another read."""
        results: dict[str, list[Live]] = {}
        queue = iter(scopes)
        failed = False

        async def worker() -> None:
            nonlocal failed
            for scope in queue:  # one iterator shared by all: each scope is read once
                if failed:
                    return
                try:
                    results[scope] = await self.read_scope(scope)
                except BaseException:
                    failed = True
                    raise

        limit = self.concurrency_for(self.ctx.config)
        await asyncio.gather(*(worker() for _ in range(min(len(scopes), limit))))
        return {scope: results[scope] for scope in scopes}

    # --- writing -------------------------------------------------------------------------

    @abstractmethod
    async def create(self, desired: Desired, secrets: Mapping[str, str]) -> Live:
        """Create the resource; returns the object as created."""

    async def update(
        self,
        desired: Desired,
        live: Live | None,
        changes: Sequence[FieldChange],
        secrets: Mapping[str, str],
    ) -> Live | None:
        """Change the resource in place; `live` is None when existence is not observable."""
        raise NotImplementedError(f"{self.type_name} cannot update in place")

    async def delete(self, live: Live) -> None:
        raise NotImplementedError(f"{self.type_name} cannot delete")

    # --- planning hooks ------------------------------------------------------------------

    def guidance(
        self, desired: Desired | None, live: Live | None, changes: Sequence[FieldChange]
    ) -> Guidance:
        """Blocked reasons, manual steps and warnings for a planned change (default: none)."""
        return Guidance()

    def describe_unmanaged(self, live: Live) -> dict[str, Any]:
        """What to show of a live object no manifest entry describes."""
        return dict(live.fields)

    # --- drift and import hooks ----------------------------------------------------------

    def domains(self, live: Live) -> list[str]:
        """The email domains a live object claims (default: `email_domain` and `domains`)."""
        found: list[str] = []
        single = live.fields.get("email_domain")
        if isinstance(single, str) and single:
            found.append(single)
        many = live.fields.get("domains")
        if isinstance(many, list):
            found.extend(str(d) for d in many)
        return sorted(set(found))

    def issues(self, live: Live) -> list[LiveIssue]:
        """Health problems visible in a live object (default: none)."""
        return []

    def certificates(self, live: Live) -> list[dict[str, str]]:
        """Certificates a live object holds: `subject`, `issuer`, `not_after`, `sha256`."""
        return []

    def to_manifest(self, live: Live) -> Imported | None:
        """The manifest connection a live object stands for (None: cannot be imported)."""
        return None


def refuse_secret_id(provider: str, object_id: str | None) -> None:
    """Refuse an object id a provider answered that holds a secret this run resolved.

    Values a provider answers are redacted wherever they are shown, but the id of an object
    ssoform manages goes into plan files and state as it is, since apply acts on it: one that
    holds a secret could only be kept by writing the secret, so it is refused (a DriverError)."""
    if object_id and holds_secret(object_id):
        raise DriverError(
            provider,
            "read the objects it holds",
            "a managed object's id holds a secret this run uses; "
            "refusing to keep it in a plan or state",
        )
