"""Saved plans: `{"hmac": ..., "plan": Plan}`, written owner-only, sealed with the state's key.

The seal is an HMAC-SHA256 of the plan's canonical JSON, keyed with the state's fingerprint key
(or `SSOFORM_STATE_KEY`): a plan file changed by anyone who cannot read that key is refused. A
seal is integrity, not authority: apply still derives every action again (`engine/authority.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ssoform.engine.plan import PLAN_FORMAT_VERSION, Plan
from ssoform.errors import PlanError, StalePlanError
from ssoform.files import write_private
from ssoform.manifest.secrets import read_regular_file

__all__ = [
    "MAX_PLAN_BYTES",
    "PlanFile",
    "SavedPlan",
    "plan_schema",
    "read_plan",
    "seal",
    "write_plan",
]

MAX_PLAN_BYTES = 64 * 1024 * 1024
"""A saved plan larger than this is refused unread (a 10,000-tenant plan is about 30 MB)."""


class SavedPlan(BaseModel):
    """What `ssoform plan -o FILE` writes; `--json` prints the `plan` part."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hmac: str
    """`hmac-sha256:` and the hex HMAC of the plan's canonical JSON, keyed with the state key."""
    plan: Plan


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a saved plan, generated from the models."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ssoform.dev/schemas/plan.schema.json",
        "title": "ssoform saved plan",
        **SavedPlan.model_json_schema(by_alias=True, mode="serialization"),
    }


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal(key: bytes, data: Any) -> str:
    """The keyed integrity seal of plan data."""
    return "hmac-sha256:" + hmac.new(key, _canonical(data), hashlib.sha256).hexdigest()


def write_plan(path: Path, plan: Plan, key: bytes) -> None:
    data = plan.data()
    text = json.dumps({"hmac": seal(key, data), "plan": data}, indent=2, sort_keys=True)
    try:
        write_private(path, text + "\n")
    except OSError as exc:
        raise PlanError(f"{path}: cannot write the plan: {exc.strerror}") from None


@dataclass(frozen=True)
class PlanFile:
    """A saved plan as read, not yet verified: nothing in it is used before `verified`, except
    `sandbox`, which picks the state whose key verifies it."""

    path: Path
    raw: dict[str, Any]
    seal: str

    @property
    def sandbox(self) -> bool:
        return self.raw.get("sandbox") is True

    def verified(self, key: bytes) -> Plan:
        """The plan, once its seal checks out with the state's key and it parses."""
        if not hmac.compare_digest(self.seal, seal(key, self.raw)):
            raise StalePlanError(
                f"{self.path}: the plan file was altered after it was saved, or was made "
                "against another state (its HMAC does not match the state's key); "
                "refusing to apply it"
            )
        try:
            return Plan.model_validate(self.raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StalePlanError(
                f"{self.path}: not a valid saved plan: {where:.100}: {first['msg']:.200}"
            ) from None


def read_plan(path: Path) -> PlanFile:
    """A saved plan file, read within bounds; verify it with `PlanFile.verified`."""
    try:
        blob = read_regular_file(path, MAX_PLAN_BYTES)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan: {exc.strerror}") from None
    if len(blob) > MAX_PLAN_BYTES:
        raise StalePlanError(f"{path}: larger than {MAX_PLAN_BYTES} bytes; not a saved plan")
    try:
        saved = json.loads(blob.decode("utf-8"))
    except ValueError:
        raise StalePlanError(f"{path}: not a saved ssoform plan (not JSON)") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("plan"), dict):
        raise StalePlanError(f"{path}: not a saved ssoform plan")
    raw: dict[str, Any] = saved["plan"]
    major = str(raw.get("format_version", "")).split(".")[0]
    if major != PLAN_FORMAT_VERSION.split(".")[0]:
        version = str(raw.get("format_version"))[:40]
        raise StalePlanError(f"{path}: plan format {version!r} is not supported")
    if not isinstance(saved.get("hmac"), str):
        raise StalePlanError(
            f"{path}: the plan has no HMAC seal (made by an older ssoform?); plan again"
        )
    return PlanFile(path=path, raw=raw, seal=saved["hmac"])
