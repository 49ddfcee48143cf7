"""Saved plans: `{"checksum": ..., "plan": Plan.data()}`, written owner-only, verified on read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ssoform.engine.backend import write_private
from ssoform.engine.plan import PLAN_FORMAT_VERSION, Plan, checksum_of
from ssoform.errors import PlanError, StalePlanError

__all__ = ["read_plan", "write_plan"]


def write_plan(path: Path, plan: Plan) -> None:
    data = plan.data()
    text = json.dumps({"checksum": checksum_of(data), "plan": data}, indent=2, sort_keys=True)
    try:
        write_private(path, text + "\n")
    except OSError as exc:
        raise PlanError(f"{path}: cannot write the plan: {exc.strerror}") from None


def read_plan(path: Path) -> dict[str, Any]:
    """The plan data of a saved plan file, after checking it was not altered."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan: {exc.strerror}") from None
    except ValueError:
        raise StalePlanError(f"{path}: not a saved ssoform plan (not JSON)") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("plan"), dict):
        raise StalePlanError(f"{path}: not a saved ssoform plan")
    data: dict[str, Any] = saved["plan"]
    if saved.get("checksum") != checksum_of(data):
        raise StalePlanError(
            f"{path}: the plan file was altered after it was saved (checksum mismatch); "
            "refusing to apply it"
        )
    major = str(data.get("format_version", "")).split(".")[0]
    if major != PLAN_FORMAT_VERSION.split(".")[0]:
        raise StalePlanError(f"{path}: plan format {data.get('format_version')} is not supported")
    return data
