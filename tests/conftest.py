import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["pgserver"]  # a real PostgreSQL server for the tests that share state


@pytest.fixture(autouse=True)
def _unfreeze_gc() -> Iterator[None]:
    """Commands freeze the loaded manifest out of the collector's sight, which suits one command
    per process; between tests, hand everything back so test garbage is still collected."""
    yield
    gc.unfreeze()
