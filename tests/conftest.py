import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["pgserver"]  # a real PostgreSQL server for the tests that share state
