"""The command line follows the conventions of the tools around it: `-` for stdin and stdout,
`-v` anywhere, colour by NO_COLOR/FORCE_COLOR/--color, a progress line that fits, and an
honest User-Agent."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulated import Harness
from sample_plans import sandbox_workdir
from ssoform import __version__
from ssoform.cli import main
from ssoform.commands.color import use_color
from ssoform.commands.progress import render_line
from ssoform.emulators.base import emulator_transport
from ssoform.emulators.pandastack import DEFAULT_TOKEN, PandaStackStore, create_app
from ssoform.engine.limits import Budget
from ssoform.engine.progress import Progress
from ssoform.engine.wiring import USER_AGENT

VALID = "version: 1\ntenants:\n  acme: {domains: [acme.com]}\n"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plan_dash_o_writes_the_saved_plan_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_workdir(tmp_path, monkeypatch)
    assert main(["plan", "manifests/", "--sandbox", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    saved = json.loads(out)
    assert set(saved) >= {"hmac", "plan"}
    assert "Plan: " in err  # the readable plan moved to stderr
    assert not Path("-").exists()
    Path("plan.json").write_text(out)
    assert main(["apply", "plan.json"]) == 0  # what stdout held is a plan apply takes


def test_drift_dash_o_writes_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_workdir(tmp_path, monkeypatch)
    assert main(["drift", "manifests/", "--sandbox", "--format", "json", "-o", "-"]) in (0, 2)
    assert json.loads(capsys.readouterr().out)["format_version"]
    assert not Path("-").exists()


def test_validate_dash_reads_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(VALID.encode())))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.startswith("valid: 1 tenant(s)")
    bad = "version: 1\ntenants:\n  Acme: {}\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(bad.encode())))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().err.startswith("<stdin>:3:3: tenants.Acme: the name 'Acme'")


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (["-v", "validate"], logging.INFO),
        (["validate", "-v"], logging.INFO),
        (["validate", "-vv"], logging.DEBUG),
        (["-v", "validate", "-v"], logging.DEBUG),
    ],
)
def test_verbose_before_or_after_the_subcommand(
    args: list[str], level: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(VALID)
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        assert main([*args, "m.yaml"]) == 0
        assert root.level == level
    finally:
        main(["validate", "m.yaml"])  # back to no handler
        root.setLevel(saved[0])
    assert root.handlers == saved[1]


def test_state_subcommands_take_verbose_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "list", "--help"]) == 0
    assert "-v, --verbose" in capsys.readouterr().out


def test_bogus_log_level_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(VALID)
    monkeypatch.setenv("SSOFORM_LOG_LEVEL", "bogus")
    assert main(["validate", "m.yaml"]) == 0
    assert (
        "warning: SSOFORM_LOG_LEVEL='bogus' is not a log level (DEBUG, INFO, WARNING, ERROR or "
        "CRITICAL): logging warnings only" in capsys.readouterr().err
    )
    monkeypatch.setenv("SSOFORM_LOG_LEVEL", "debug")
    assert main(["validate", "m.yaml"]) == 0
    assert "SSOFORM_LOG_LEVEL" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": ""}, True, True),  # empty: not set, by the convention
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, True),
    ],
)
def test_colour_follows_no_color_and_force_color(
    env: dict[str, str], tty: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_color(_Tty() if tty else io.StringIO()) is expected


def test_color_option_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_workdir(tmp_path, monkeypatch)  # NO_COLOR=1
    assert main(["--color", "always", "plan", "manifests/", "--sandbox"]) == 0
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["--color", "never", "plan", "manifests/", "--sandbox"]) == 0
    assert "\x1b[" not in capsys.readouterr().out
    assert main(["plan", "manifests/", "--sandbox"]) == 0
    assert "\x1b[" in capsys.readouterr().out


def test_progress_line_fits_the_width() -> None:
    progress = Progress()
    budgets = {f"instance-{n}": Budget(f"instance-{n}", 10, 1.0, 2) for n in range(20)}
    progress.begin("reading", budgets, dict.fromkeys(budgets, 100))
    for width in (20, 80, 200):
        assert len(render_line(progress, width)) < width
    assert render_line(progress, 400).endswith("instance-9 0/100")


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, seen: list[httpx.Request]) -> None:
        self.inner = inner
        self.seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)


async def test_requests_identify_as_ssoform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PS_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("PS_SECRET", "s3cret-value")
    manifest = (
        "version: 1\nproviders:\n"
        '  ps: {type: pandastack, api_token: {env: PS_TOKEN}, organization_id: "1234567890"}\n'
        "tenants:\n  acme:\n    domains: [acme.com]\n    connections:\n"
        "      - {provider: ps, name: okta, settings: {client_id: x, enabled: true}}\n"
    )
    h = Harness(tmp_path, {"ps": create_app(store=PandaStackStore())}, manifest)
    seen: list[httpx.Request] = []

    def factory(name: str, _type: str, _cfg: Any) -> httpx.AsyncBaseTransport:
        return _Recording(emulator_transport(h.apps[name]), seen)

    config = dataclasses.replace(h.config(), transport_factory=factory)
    monkeypatch.setattr(h, "config", lambda: config)
    await h.plan()
    assert seen
    assert {r.headers["user-agent"] for r in seen} == {USER_AGENT} == {f"ssoform/{__version__}"}


def test_sandbox_logs_name_the_emulators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_workdir(tmp_path, monkeypatch)
    root = logging.getLogger()
    level = root.level
    try:
        assert main(["plan", "manifests/", "--sandbox", "-v"]) == 0
    finally:
        main(["validate", "manifests/"])
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "HTTP Request: GET https://cloudflare-main.emulator.sandbox.localhost/" in err
    assert "api.cloudflare.com" not in err and "api.descope.com" not in err


REAL = """\
version: 1
providers:
  cf: {type: cloudflare, api_token: {env: SSOFORM_TEST_CF_X}}
  ds: {type: descope, project_id: P2x, management_key: {env: SSOFORM_TEST_DS_X}}
identity_providers:
  okta:
    oidc: {issuer: "https://a.okta.com", client_id: abc, client_secret: {env: SSOFORM_TEST_OK_X}}
tenants:
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - {provider: cf, account_id: 0123456789abcdef0123456789abcdef}
      - {provider: ds, tenant_id: T1, protocol: oidc}
"""


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_real_run_lists_every_missing_secret(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(REAL)
    assert main([command, "m.yaml", "--state", "state.json"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("every secret reference that cannot be resolved:")
    assert err[1:] == [
        "m.yaml:3:26: providers.cf.api_token: secret env:SSOFORM_TEST_CF_X: "
        "environment variable SSOFORM_TEST_CF_X is not set",
        "m.yaml:4:40: providers.ds.management_key: secret env:SSOFORM_TEST_DS_X: "
        "environment variable SSOFORM_TEST_DS_X is not set",
        "m.yaml:7:58: identity_providers.okta.oidc.client_secret: secret env:SSOFORM_TEST_OK_X: "
        "environment variable SSOFORM_TEST_OK_X is not set",
    ]


def test_shell_completion_as_documented() -> None:
    """README and docs/engine.md tell users to eval `_SSOFORM_COMPLETE=bash_source ssoform`."""
    run = [sys.executable, "-c", "from ssoform.cli import entrypoint; entrypoint()"]
    script = subprocess.run(
        run,
        env={**os.environ, "_SSOFORM_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "_ssoform_completion()" in script.stdout
    words = subprocess.run(
        run,
        env={
            **os.environ,
            "_SSOFORM_COMPLETE": "bash_complete",
            "COMP_WORDS": "ssoform plan --markdown",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert words.stdout.split() == ["plain,--markdown-dir"]
