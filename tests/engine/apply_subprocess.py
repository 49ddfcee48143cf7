"""Runs `ssoform` with the in-memory drivers in a real process (for the crash tests).

Usage: python apply_subprocess.py CLOUD_FILE ssoform-args...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import fakes
import ssoform.commands.apply as apply_commands
import ssoform.commands.plan as plan_commands
from ssoform.cli import main
from ssoform.engine.wiring import RunConfig

fakes.CLOUD.__init__(Path(sys.argv[1]))  # type: ignore[misc]
plan_commands.run_config = lambda **kw: RunConfig(driver_classes=fakes.FAKE_DRIVERS, **kw)
apply_commands.run_config = plan_commands.run_config
sys.exit(main(sys.argv[2:]))
