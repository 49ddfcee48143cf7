import json
from pathlib import Path

from ssoform.engine.planfile import SavedPlan, plan_schema
from workspace import Workspace

COMMITTED = Path(__file__).parents[2] / "schemas" / "plan.schema.json"


def test_committed_plan_schema_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == plan_schema(), "run `ssoform schema`"


def test_saved_plans_match_the_schema_models(ws: Workspace) -> None:
    plan = ws.plan_file()
    SavedPlan.model_validate_json(plan.read_text())
    ws.run("apply", str(plan))
    ws.manifest.write_text(ws.manifest.read_text().replace("[acme.com, acme.io]", "[acme.com]"))
    SavedPlan.model_validate_json(ws.plan_file().read_text())
