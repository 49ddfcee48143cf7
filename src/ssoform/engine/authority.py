"""What apply may do: a plan is a proposal, checked against a plan derived again at apply.

Apply never takes an action from a plan file on trust. It plans again from the manifest, the
state and the live objects it re-reads, with the options the plan was made with (its exact
addresses, `--allow-delete` as recorded), and carries out the fresh plan only when every
action, field change and live object is the one that was reviewed. `--replan` compares the
changes alone (for a plan whose state moved on since it was reviewed, e.g. a second pull
request). Where the manifest may be read from is checked here too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ssoform.engine.plan import Plan, ResourceChange
from ssoform.errors import PlanError

__all__ = [
    "exact_targets",
    "manifest_paths_within",
    "plan_differences",
    "recorded_paths",
    "replan_differences",
]

_SHOWN = 8


def recorded_paths(paths: Sequence[Path], root: Path) -> list[str]:
    """Manifest paths as a saved plan records them: relative to `root`, where apply must run."""
    base = root.resolve()
    out = []
    for path in paths:
        resolved = (root / path).resolve()
        if not resolved.is_relative_to(base):
            raise PlanError(
                f"{path}: a saved plan can only name manifests inside the current directory "
                f"({base}), where `ssoform apply PLAN` will run; plan from a directory that "
                "holds them"
            )
        out.append(os.path.relpath(resolved, base))
    return out


def manifest_paths_within(recorded: Sequence[str], root: Path, plan_path: Path) -> list[Path]:
    """The plan's manifest paths, each resolved inside `root` (the directory apply runs in)."""
    if not recorded:
        raise PlanError(f"{plan_path}: the plan does not say which manifest it was made from")
    base = root.resolve()
    out = []
    for text in recorded:
        path = Path(text)
        resolved = (base / path).resolve()
        if path.is_absolute() or not resolved.is_relative_to(base):
            raise PlanError(
                f"{plan_path}: the plan names a manifest outside the directory it was made for "
                f"({text!r:.200}); refusing to read it. Apply a plan from the directory where "
                "it was made"
            )
        out.append(resolved)
    return out


def exact_targets(addresses: Sequence[str]) -> tuple[str, ...]:
    """`--target` patterns that match exactly these addresses (glob characters escaped)."""
    table = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})
    return tuple(a.translate(table) for a in addresses)


def _fields(change: ResourceChange) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in change.changes]


def _describe(change: ResourceChange | None) -> str:
    if change is None:
        return "nothing"
    reason = f" ({change.reason})" if change.reason else ""
    return f"{change.action.value}{reason}"


def _limit(lines: list[str]) -> list[str]:
    if len(lines) <= _SHOWN:
        return lines
    return [*lines[:_SHOWN], f"... and {len(lines) - _SHOWN} more"]


def plan_differences(saved: Plan, fresh: Plan) -> list[str]:
    """Where a saved plan differs from the one derived now (empty when it may be applied)."""
    now = {c.address: c for c in fresh.changes}
    out = []
    for planned in saved.changes:
        derived = now.pop(planned.address, None)
        if derived is None or derived.action is not planned.action:
            out.append(
                f"{planned.address}: the plan says {_describe(planned)}; the manifest, state "
                f"and live objects allow {_describe(derived)}"
            )
        elif derived.live_fingerprint != planned.live_fingerprint:
            out.append(f"{planned.address}: the live object changed since the plan was made")
        elif _fields(derived) != _fields(planned) or (
            derived.replace_fields != planned.replace_fields
        ):
            out.append(f"{planned.address}: its field changes differ from the plan's")
    out += [
        f"{c.address}: {_describe(c)} is due but not in the plan"
        for c in now.values()
        if c.is_change
    ]
    pins = {(p.address, p.field): p.fingerprint for p in saved.secrets}
    for pin in fresh.secrets:
        if pins.pop((pin.address, pin.field), pin.fingerprint) != pin.fingerprint:
            out.append(f"{pin.address}: secret {pin.ref} changed since the plan was made")
    out += [f"{address}: the plan sends a secret no longer declared" for address, _ in pins]
    return _limit(out)


def _change_view(change: ResourceChange) -> tuple[str, list[dict[str, Any]], tuple[str, ...]]:
    return change.action.value, _fields(change), change.replace_fields


def replan_differences(reviewed: Plan, new: Plan) -> list[str]:
    """Where a new plan's changes (addresses, actions, field changes) differ from the reviewed
    plan's, as lines of a difference (empty when they are exactly the same)."""
    was = {c.address: c for c in reviewed.changes if c.is_change}
    now = {c.address: c for c in new.changes if c.is_change}
    out = []
    for address in sorted(was.keys() | now.keys()):
        before, after = was.get(address), now.get(address)
        if before is None:
            out.append(f"+ {address}: {_describe(after)} (not in the reviewed plan)")
        elif after is None:
            out.append(f"- {address}: {_describe(before)} (no longer planned)")
        elif _change_view(before) != _change_view(after):
            out.append(f"~ {address}: reviewed {_describe(before)}, now {_describe(after)}")
            out += _field_lines(before, after)
    return _limit(out)


def _field_lines(before: ResourceChange, after: ResourceChange) -> list[str]:
    was = {f["path"]: f for f in _fields(before)}
    now = {f["path"]: f for f in _fields(after)}
    lines = []
    for path in sorted(was.keys() | now.keys()):
        old, new = was.get(path), now.get(path)
        if old == new:
            continue
        shown_old = "-" if old is None else f"{old['before']!r:.80} -> {old['after']!r:.80}"
        shown_new = "-" if new is None else f"{new['before']!r:.80} -> {new['after']!r:.80}"
        lines.append(f"    {path}: reviewed {shown_old}; now {shown_new}")
    return lines
