"""The progress line: counts per provider instance, on a terminal only."""

from __future__ import annotations

import io

from ssoform.commands.progress import new_progress, render_line, show_progress
from ssoform.engine.limits import Budget
from ssoform.engine.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_without_a_terminal() -> None:
    assert new_progress(io.StringIO()) is None
    out = io.StringIO()
    with show_progress(None, out):
        pass
    assert out.getvalue() == ""


def test_counts_requests_against_the_fewest_needed() -> None:
    progress = new_progress(_Tty())
    assert isinstance(progress, Progress)
    budgets = {"cf": Budget("cf", 10, 1.0, 2), "ds": Budget("ds", 10, 1.0, 2)}
    budgets["cf"].stats.requests = 5
    progress.begin("reading", budgets, {"cf": 100, "ds": 3})
    budgets["cf"].stats.requests += 40
    budgets["ds"].stats.requests += 7
    budgets["ds"].bucket.waiting = 1
    assert render_line(progress) == "reading: cf 40/100, ds 3/3 (rate limit)"
