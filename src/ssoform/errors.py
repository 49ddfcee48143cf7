"""The one exception tree: every error ssoform raises on purpose derives from `SsoformError`.

The CLI maps any `SsoformError` to exit 1 with its message; anything else is a bug and gets a
distinct exit code with a hint. Messages never carry secret values: a `DriverError`, whose text
comes partly from a provider, scrubs its every part (`ssoform.scrub`).
"""

from __future__ import annotations

from ssoform.scrub import scrub

__all__ = [
    "DriverError",
    "LockError",
    "ManifestError",
    "PlanError",
    "SecretError",
    "SsoformError",
    "StalePlanError",
    "StateError",
    "UnsafePlanError",
]


class SsoformError(Exception):
    """Root of every error ssoform raises on purpose."""


class ManifestError(SsoformError):
    """A manifest could not be loaded or is invalid; the message lists every problem found."""


class SecretError(SsoformError):
    """A secret reference could not be resolved (the message names the reference, never a value)."""


class DriverError(SsoformError):
    """A provider API call failed. Names the provider instance and the call."""

    def __init__(
        self,
        provider: str,
        call: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
    ) -> None:
        call = scrub(call, limit=200)
        message = scrub(message)
        code = scrub(code, limit=80) if code is not None else None
        self.provider = provider
        self.ambiguous = ambiguous
        """The request may have taken effect (a timeout or drop after sending a write)."""
        self.call = call
        self.status = status
        self.code = code
        self.retryable = retryable
        where = f"{provider}: {call}"
        detail = f"HTTP {status}" if status is not None else "no answer"
        if code:
            detail += f" {code}"
        super().__init__(f"{where}: {detail}: {message}")


class StateError(SsoformError):
    """The state store could not be read or written."""


class LockError(StateError):
    """The state is locked by another process."""


class PlanError(SsoformError):
    """A plan cannot be made or applied."""


class StalePlanError(PlanError):
    """A saved plan no longer matches the manifest, the state or the live objects."""


class UnsafePlanError(PlanError):
    """A plan exceeds a safety threshold; apply needs --force."""
