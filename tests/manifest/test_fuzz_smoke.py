"""The manifest fuzzer (benchmarks/fuzz_manifest.py) in a shortened form for CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_scripts import FUZZ_SECONDS, bench_script


@pytest.mark.slow
def test_short_fuzz_run_finds_no_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = str(tmp_path / "findings")
    code = bench_script("fuzz_manifest").main(
        ["--seconds", FUZZ_SECONDS, "--batch", "10", "--findings", findings]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 distinct crash(es)" in out
