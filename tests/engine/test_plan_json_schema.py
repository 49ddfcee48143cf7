"""`plan --json` and a saved plan agree with schemas/plan.schema.json, checked by an independent
JSON Schema validator (the `jsonschema` library), on a real sandbox plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from sample_plans import sandbox_plan
from ssoform.cli import main

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())

__all__ = ["sandbox_plan"]  # the fixtures, used by name


def _errors(schema: dict[str, Any], doc: Any) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_plan_json_and_saved_plan_match_the_schema(sandbox_plan: dict[str, Any]) -> None:
    printed = sandbox_plan
    assert main(["plan", "manifests/", "--sandbox", "-o", "plan.json"]) == 0
    saved = json.loads(Path("plan.json").read_text())
    assert _errors(SCHEMA, saved) == []
    # `plan --json` prints the plan document a saved plan holds under "plan".
    assert _errors({"$defs": SCHEMA["$defs"], **SCHEMA["properties"]["plan"]}, printed) == []
    assert printed["resource_changes"] and printed["unmanaged"]
