"""Plan data for the renderers' tests: a real sandbox plan, and large synthetic ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ssoform.cli import main

ROOT = Path(__file__).parents[1]


def sandbox_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example manifests copied to `tmp_path`, which becomes the working directory."""
    shutil.copytree(ROOT / "examples" / "manifests", tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


@pytest.fixture
def sandbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`sandbox_workdir` as a fixture: import it into the test module to use it."""
    return sandbox_workdir(tmp_path, monkeypatch)


@pytest.fixture
def sandbox_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """The sandbox's plan as `plan --json` prints it, made in `sandbox_workdir`: import it into
    the test module to use it."""
    sandbox_workdir(tmp_path, monkeypatch)
    assert main(["plan", "manifests/", "--sandbox", "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def change(address: str, action: str, fields: int, *, value_chars: int = 30) -> dict[str, Any]:
    tenant = address.split("/", 1)[0]
    return {
        "address": address,
        "tenant": tenant,
        "provider": "p",
        "type": "descope",
        "scope": "s",
        "key": address.rsplit("/", 1)[-1],
        "id": None,
        "change": {
            "actions": [action],
            "before": None,
            "after": None,
            "after_sensitive": {},
            "fields": [
                {
                    "path": f"field_{n}",
                    "before": "b" * value_chars,
                    "after": "a" * value_chars,
                    "sensitive": False,
                    "write_only": None,
                }
                for n in range(fields)
            ],
            "replace_paths": [],
        },
        "action": action,
        "action_reason": "",
        "live_fingerprint": None,
        "blocked": None,
        "manual": None,
        "notes": [],
        "experimental": False,
        "protect": False,
        "previous_address": None,
    }


def plan_of(changes: list[dict[str, Any]], unmanaged: int = 0) -> dict[str, Any]:
    summary = dict.fromkeys(("create", "update", "replace", "delete", "adopt", "no-op"), 0)
    summary |= {"manual": 0, "blocked": 0, "forget": 0, "move": 0, "unmanaged": unmanaged}
    for c in changes:
        summary[c["action"]] += 1
    return {
        "summary": summary,
        "partial": False,
        "targets": [],
        "unsafe": [],
        "warnings": [],
        "resource_changes": changes,
        "unmanaged": [
            {"provider": "p", "type": "t", "scope": "s", "key": f"u{n}", "id": f"id{n}"}
            | {"fields": {}}
            for n in range(unmanaged)
        ],
    }
