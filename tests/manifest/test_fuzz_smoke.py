"""The manifest fuzzer (benchmarks/fuzz_manifest.py) in a shortened form for CI."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

SECONDS = os.environ.get("SSOFORM_FUZZ_SECONDS", "8")
"""600 in the full run (docs/reliability.md)."""


@pytest.mark.slow
def test_short_fuzz_run_finds_no_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).parents[2] / "benchmarks" / "fuzz_manifest.py"
    spec = importlib.util.spec_from_file_location("ssoform_bench_fuzz", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    findings = str(tmp_path / "findings")
    code = module.main(["--seconds", SECONDS, "--batch", "10", "--findings", findings])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 distinct crash(es)" in out
