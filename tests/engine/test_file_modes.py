"""The state file, its lock and saved plans are written owner-only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat

from workspace import Workspace


def test_state_and_saved_plan_are_owner_only(ws: Workspace) -> None:
    old = os.umask(0o022)
    try:
        plan = ws.plan_file()
        assert ws.run("apply", str(plan))[0] == 0
    finally:
        os.umask(old)
    for path in (plan, ws.state):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, (path, oct(mode))
