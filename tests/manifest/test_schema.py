import json
from pathlib import Path

from ssoform.manifest.schema import manifest_file_schema, manifest_schema

COMMITTED = Path(__file__).parents[2] / "schemas" / "ssoform-manifest.schema.json"


def test_committed_schema_is_current() -> None:
    committed = json.loads(COMMITTED.read_text())
    assert committed == manifest_schema(), "run `ssoform schema` and commit the result"


def test_committed_file_schema_is_current() -> None:
    committed = json.loads((COMMITTED.parent / "ssoform-manifest-file.schema.json").read_text())
    assert committed == manifest_file_schema(), "run `ssoform schema` and commit the result"
    assert "required" not in committed
