"""The chaos run (benchmarks/chaos.py) in a shortened form: 100 connections under faults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench_scripts import bench_script

CONNECTIONS = int(os.environ.get("SSOFORM_CHAOS_CONNECTIONS", "100"))
"""500 in the full run (docs/reliability.md)."""


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 7])
async def test_fleet_converges_under_faults_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    chaos = bench_script("chaos")
    for name, value in chaos.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    report = await chaos.run_chaos(CONNECTIONS, tmp_path, seed=seed, burst=1)
    assert report.converged, report.remaining
    assert report.runs <= 3
    assert report.objects == CONNECTIONS
    assert report.duplicates == []
    assert report.unaccounted == []
    assert report.requests[503] > 0 and report.requests[429] > 0
    assert report.journal["create:adopted"] > 0  # ambiguous creates happened and were adopted
