import json
from pathlib import Path

from ssoform.engine.drift_model import drift_schema

COMMITTED = Path(__file__).parents[2] / "schemas" / "drift-report.schema.json"


def test_committed_drift_schema_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == drift_schema(), "run `ssoform schema`"
