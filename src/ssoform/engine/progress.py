"""How far a long read or apply has got, per provider instance, for a display to show.

The engine only counts; it never prints. A display (the CLI's, on a terminal) polls `snapshot()`.
Done is measured in requests sent against the requests the phase needs at least (one list call
per scope, or per page where the API pages; one call per change), so it is an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ssoform.engine.limits import Budget

__all__ = ["Progress", "ProviderProgress"]


@dataclass(frozen=True)
class ProviderProgress:
    name: str
    done: int
    total: int
    waiting: bool
    """Requests are waiting for the provider's rate limit right now."""


class Progress:
    def __init__(self) -> None:
        self.phase = ""
        self._budgets: dict[str, Budget] = {}
        self._totals: dict[str, int] = {}
        self._start: dict[str, int] = {}

    def begin(self, phase: str, budgets: Mapping[str, Budget], totals: Mapping[str, int]) -> None:
        """Start counting `phase` ("reading", "applying") for the instances in `totals`."""
        self.phase = phase
        self._budgets = {n: budgets[n] for n in totals if n in budgets}
        self._totals = {n: t for n, t in totals.items() if n in budgets}
        self._start = {n: b.stats.requests for n, b in self._budgets.items()}

    def snapshot(self) -> list[ProviderProgress]:
        out = []
        for name, budget in sorted(self._budgets.items()):
            total = self._totals[name]
            sent = budget.stats.requests - self._start[name]
            out.append(ProviderProgress(name, min(sent, total), total, budget.rate_limited_now))
        return out
