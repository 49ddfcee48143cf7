"""Why the transport gave up on a request without waiting for it: each carries a plain reason.

`ssoform.drivers.http.ApiCaller` turns these into the provider's `DriverError`.
"""

from __future__ import annotations

__all__ = ["DeadlineExceeded", "TransportRefusal", "WaitTooLong"]


class TransportRefusal(Exception):
    """The transport stopped a request; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WaitTooLong(TransportRefusal):
    """The provider asked for a wait longer than the ceiling (`SSOFORM_MAX_WAIT`)."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class DeadlineExceeded(TransportRefusal):
    """The request (answer and body) took longer than its overall deadline."""
