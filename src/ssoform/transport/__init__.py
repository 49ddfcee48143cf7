"""HTTP mechanics shared by the drivers and the engine, below both: the budgeted, retrying,
bounded transport, body reading, wait ceilings, the clock it waits on, and safe URL paths.

Nothing here imports the engine or the drivers; the engine builds a `BudgetedTransport` over its
budgets, and the drivers' `ApiCaller` maps this package's refusals to `DriverError`.
"""

from __future__ import annotations

from ssoform.transport.body import MAX_BODY_BYTES
from ssoform.transport.budgeted import (
    DEFAULT_DEADLINE,
    IDEMPOTENT,
    BudgetedTransport,
    RequestBudget,
    RetryableResponse,
    untrusted_certificate,
)
from ssoform.transport.clock import SYSTEM_CLOCK, Clock, SystemClock
from ssoform.transport.paths import MAX_PAGES, InvalidId, path_with
from ssoform.transport.refusals import DeadlineExceeded, TransportRefusal, WaitTooLong
from ssoform.transport.waits import DEFAULT_MAX_WAIT

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_WAIT",
    "IDEMPOTENT",
    "MAX_BODY_BYTES",
    "MAX_PAGES",
    "SYSTEM_CLOCK",
    "BudgetedTransport",
    "Clock",
    "DeadlineExceeded",
    "InvalidId",
    "RequestBudget",
    "RetryableResponse",
    "SystemClock",
    "TransportRefusal",
    "WaitTooLong",
    "path_with",
    "untrusted_certificate",
]
