"""ssoform's state: what the provider APIs cannot tell us, kept between runs.

For each managed resource: its provider-assigned id, a keyed fingerprint (HMAC-SHA256) of every
write-only value last applied, whether ssoform created or adopted it, and its protection. Plus a
lineage id, a serial that grows with every write, and an append-only journal of operations.
Never a secret value, never an unkeyed hash of one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssoform.errors import StateError
from ssoform.scrub import scrub

__all__ = [
    "JournalEntry",
    "ResourceState",
    "State",
    "fingerprint",
    "state_key",
]

STATE_FORMAT = 1


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ResourceState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    provider_type: str
    scope: str
    key: str
    id: str
    origin: Literal["created", "adopted", "imported"]
    protect: bool = False
    fingerprints: dict[str, str] = Field(default_factory=dict)
    """field path -> HMAC fingerprint of the value last applied (write-only fields)."""
    updated_at: str = Field(default_factory=_now)


class JournalEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str = Field(default_factory=_now)
    address: str
    action: str
    outcome: Literal["ok", "failed", "adopted", "skipped"]
    detail: str = ""


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = STATE_FORMAT
    lineage: str = Field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    fingerprint_key: str | None = Field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    """Random HMAC key, used only when SSOFORM_STATE_KEY is not set."""
    resources: dict[str, ResourceState] = Field(default_factory=dict)
    journal: list[JournalEntry] = Field(default_factory=list)

    def to_json(self) -> str:
        """The state file's text: resources by address, each object's keys in field order.

        Serialised by pydantic-core: about eight times faster than `json.dumps(indent=2)` on a
        fleet's state, which matters because apply writes it many times (and a write holds the
        GIL that the event loop sending requests needs)."""
        if list(self.resources) != sorted(self.resources):
            self.resources = dict(sorted(self.resources.items()))
        for res in self.resources.values():
            if list(res.fingerprints) != sorted(res.fingerprints):
                res.fingerprints = dict(sorted(res.fingerprints.items()))
        return self.model_dump_json(indent=2) + "\n"

    def move(self, old: str, new: str) -> ResourceState:
        """Record the object managed at `old` under `new` instead (a rename; nothing is sent).
        `new` is a well-formed address (TENANT/PROVIDER-INSTANCE/SCOPE/KEY)."""
        if old not in self.resources:
            raise StateError(f"{old} is not in the state")
        if new in self.resources:
            raise StateError(f"{new} is already in the state")
        res = self.resources.pop(old)
        _, provider, scope, key = new.split("/", 3)
        res.provider, res.scope, res.key = provider, scope, key
        self.resources[new] = res
        self.journal_append(new, "move", "ok", f"moved from {old}")
        return res

    def forget(self, address: str) -> ResourceState:
        """Stop managing `address` without touching the object at the provider."""
        if address not in self.resources:
            raise StateError(f"{address} is not in the state")
        res = self.resources.pop(address)
        self.journal_append(address, "forget", "ok", f"forgotten; id {res.id} left at the provider")
        return res

    def journal_append(
        self,
        address: str,
        action: str,
        outcome: Literal["ok", "failed", "adopted", "skipped"],
        detail: str = "",
    ) -> None:
        detail = scrub(detail, limit=1000)  # may quote a provider: never stored unscrubbed
        self.journal.append(
            JournalEntry(address=address, action=action, outcome=outcome, detail=detail)
        )


def state_key(state: State) -> bytes:
    """The HMAC key: SSOFORM_STATE_KEY when set, else the random key kept in the state."""
    env = os.environ.get("SSOFORM_STATE_KEY")
    if env:
        return env.encode()
    assert state.fingerprint_key is not None
    return base64.b64decode(state.fingerprint_key)


def fingerprint(key: bytes, field: str, value: Any) -> str:
    """Keyed fingerprint of one field's value: HMAC-SHA256 over the field name and JSON value."""
    payload = json.dumps([field, value], sort_keys=True, separators=(",", ":")).encode()
    return "hmac-sha256:" + hmac.new(key, payload, hashlib.sha256).hexdigest()
