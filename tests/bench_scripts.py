"""The scripts in `benchmarks/` loaded as modules, for the tests that run them in a shortened
form; `FUZZ_SECONDS` is how long those tests fuzz (`SSOFORM_FUZZ_SECONDS`, 8 by default)."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
FUZZ_SECONDS = os.environ.get("SSOFORM_FUZZ_SECONDS", "8")
"""600 in the full run (docs/reliability.md)."""


@functools.cache
def bench_script(name: str) -> ModuleType:
    """`benchmarks/<name>.py`, loaded once (as `ssoform_bench_<name>`)."""
    spec = importlib.util.spec_from_file_location(
        f"ssoform_bench_{name}", BENCHMARKS / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
