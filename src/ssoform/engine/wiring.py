"""Wiring: from a loaded manifest to drivers with budgeted HTTP clients, and desired resources."""

from __future__ import annotations

import contextlib
import functools
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx

from ssoform import __version__
from ssoform.drivers.base import Driver, DriverContext, ExpandContext
from ssoform.drivers.registry import driver_class
from ssoform.engine.limits import Budget, SpentLogs
from ssoform.engine.progress import Progress
from ssoform.engine.shared_budget import SharedBudgets, SharedToken
from ssoform.idp.fetch import FetchLimits
from ssoform.logs import register_secret
from ssoform.manifest.load import LoadedManifest
from ssoform.manifest.models import Manifest
from ssoform.manifest.secrets import SecretRef, SecretResolver
from ssoform.model import Desired
from ssoform.transport import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_WAIT,
    SYSTEM_CLOCK,
    BudgetedTransport,
    Clock,
)

USER_AGENT = f"ssoform/{__version__}"
"""What every request to a provider identifies as."""


def sandbox_url(default_url: str, instance: str) -> str:
    """`default_url` with its host replaced by the sandbox's name for `instance`'s emulator."""
    label = re.sub(r"[^a-z0-9-]+", "-", instance.lower()).strip("-")[:63] or "instance"
    parts = urlsplit(default_url)
    return urlunsplit(parts._replace(netloc=f"{label}.emulator.sandbox.localhost"))


__all__ = [
    "USER_AGENT",
    "DriverSet",
    "RunConfig",
    "SandboxRouter",
    "expand_desired",
    "open_drivers",
    "sandbox_url",
]

TransportFactory = Callable[[str, str, Any], httpx.AsyncBaseTransport]
"""(instance name, provider type, instance config) -> the transport under the budget."""


@dataclass(frozen=True)
class RunConfig:
    driver_classes: Mapping[str, type[Driver]] = field(default_factory=dict)
    """Overrides of the registry (tests, the sandbox)."""
    transport_factory: TransportFactory | None = None
    timeout: float = 30.0
    """Seconds each connect, read or write may take."""
    deadline: float = DEFAULT_DEADLINE
    """Seconds one request may take in all, answer and body (a trickling body hits this)."""
    max_wait: float = DEFAULT_MAX_WAIT
    """The longest wait a provider may ask for (Retry-After, a spent quota); longer fails it."""
    backoff: bool = True
    allow_outside_files: bool = False
    sandbox: SandboxRouter | None = None
    """Routes some provider instances to in-process emulators (ssoform's embedded default)."""
    progress: Progress | None = None
    """Counts reads and changes per provider instance, for a display (the CLI's, on a tty)."""
    spent: SpentLogs = field(default_factory=SpentLogs)
    """Each budget's recent requests, shared by the plan and apply of one run."""
    shared_budgets: SharedBudgets | None = None
    """Budgets shared with other runs on the same state database (PostgreSQL)."""
    idp_transport: httpx.AsyncBaseTransport | None = None
    """Where identity providers' metadata is fetched (the sandbox's IdP, tests); the network
    when None."""
    idp_limits: FetchLimits = field(default_factory=FetchLimits)
    """The size cap and deadline of each identity provider document (tests shorten the
    deadline to meet a hung IdP)."""
    idp_readouts: dict[str, Any] = field(default_factory=dict)
    """What each identity provider published, read once per run (`ssoform.idp.read`)."""
    clock: Clock = SYSTEM_CLOCK
    """What the budgets and the transport read the time from and wait on (tests give one they
    advance, to assert each wait the providers asked for instead of sleeping it)."""

    resolver: SecretResolver | None = None
    """The run's one secret resolver; made from the policy above when not given, and kept by
    `dataclasses.replace` (a changed config is still the same run)."""

    def __post_init__(self) -> None:
        if self.resolver is None:
            sandbox = self.sandbox
            resolver = SecretResolver(
                allow_outside=self.allow_outside_files,
                placeholders=sandbox is not None,
                sandboxed=sandbox.routes if sandbox is not None else None,
            )
            object.__setattr__(self, "resolver", resolver)

    @property
    def secrets(self) -> SecretResolver:
        """The run's one secret resolver (credentials and resource secrets alike)."""
        assert self.resolver is not None
        return self.resolver


class SandboxRouter(Protocol):
    def routes(self, name: str) -> bool: ...

    def transport(self, name: str, type_name: str, config: Any) -> httpx.AsyncBaseTransport: ...

    def credentials(self, name: str) -> dict[str, str]: ...


@dataclass
class DriverSet:
    drivers: dict[str, Driver]
    budgets: dict[str, Budget]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate-verifying TLS context for every provider instance (loading the CA bundle
    takes tens of milliseconds, once per transport otherwise)."""
    return ssl.create_default_context(cafile=certifi.where())


def _class_for(config: RunConfig, type_name: str) -> type[Driver]:
    return config.driver_classes.get(type_name) or driver_class(type_name)


def expand_desired(loaded: LoadedManifest, config: RunConfig) -> list[Desired]:
    manifest = loaded.manifest
    assert manifest is not None

    def base_dir(path: tuple[str | int, ...]) -> str:
        return str(loaded.base_dir(path))

    desired: list[Desired] = []
    classes: dict[str, type[Driver]] = {}  # a plugin's driver is looked up once per run
    for tname, tenant in manifest.tenants.items():
        for conn in tenant.connections:
            kind = manifest.providers[conn.provider].type
            cls = classes.get(kind) or classes.setdefault(kind, _class_for(config, kind))
            desired.extend(cls.expand(ExpandContext(manifest, tname, tenant, conn, base_dir)))
    return desired


@contextlib.asynccontextmanager
async def open_drivers(
    loaded: LoadedManifest, config: RunConfig, names: set[str] | None = None
) -> AsyncIterator[DriverSet]:
    """Drivers for the manifest's provider instances (or `names`), closed on exit."""
    manifest: Manifest | None = loaded.manifest
    assert manifest is not None
    drivers: dict[str, Driver] = {}
    budgets: dict[str, Budget] = {}
    shared_tokens: list[SharedToken] = []
    async with contextlib.AsyncExitStack() as stack:
        for name, instance in manifest.providers.items():
            if names is not None and name not in names:
                continue
            cls = _class_for(config, instance.type)
            base = Path(loaded.base_dir(("providers", name)))
            sandboxed = config.sandbox is not None and config.sandbox.routes(name)
            if sandboxed:
                assert config.sandbox is not None
                credentials = config.sandbox.credentials(name)
                for value in credentials.values():
                    register_secret(value)
            else:
                refs = {
                    f: ref
                    for f in cls.credential_fields()
                    if isinstance(ref := getattr(instance, f, None), SecretRef)
                }
                credentials = config.secrets.credentials(refs, base)
            caps = cls.capabilities
            limit = instance.rate_limit
            requests = limit.requests if limit else caps.rate_limit[0]
            per_seconds = limit.per_seconds if limit else caps.rate_limit[1]
            default_url = str(getattr(cls, "default_base_url", ""))
            # In the sandbox the host names the emulator (what -v logs show), never the provider.
            base_url = sandbox_url(default_url, name) if sandboxed else cls.base_url_for(instance)
            budget = Budget(
                name,
                requests,
                per_seconds,
                cls.concurrency_for(instance),
                log=config.spent.get(f"{name} {base_url}", requests, per_seconds),
                clock=config.clock,
            )
            if config.shared_budgets is not None and not sandboxed:
                shared = config.shared_budgets
                key = shared.key_for(instance.type, base_url, credentials)
                token = shared.taker(key, requests, per_seconds)
                budget.bucket.shared = token
                shared_tokens.append(token)
            inner: httpx.AsyncBaseTransport
            if sandboxed:
                assert config.sandbox is not None
                inner = config.sandbox.transport(name, instance.type, instance)
            elif config.transport_factory is not None:
                inner = config.transport_factory(name, instance.type, instance)
            else:
                inner = httpx.AsyncHTTPTransport(verify=_tls_context(), retries=0)
            client = httpx.AsyncClient(
                transport=BudgetedTransport(
                    inner,
                    budget,
                    backoff=config.backoff,
                    max_wait=config.max_wait,
                    deadline=config.deadline,
                    clock=config.clock,
                ),
                headers={"User-Agent": USER_AGENT, **cls.auth_headers(instance, credentials)},
                timeout=httpx.Timeout(config.timeout),
                follow_redirects=False,
            )
            await stack.enter_async_context(client)
            ctx = DriverContext(name, instance, client, credentials, base_url)
            drivers[name] = cls(ctx)
            budgets[name] = budget
        yield DriverSet(drivers, budgets)
        for token in shared_tokens:  # done: give back leased tokens (a failed run's expire)
            await token.finish()
