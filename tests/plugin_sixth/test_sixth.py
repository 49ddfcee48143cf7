"""A provider type installed as a plugin works like a built-in one, through the real CLI.

The sixth provider type (`sixth_sso`, beside this file) is installed the way pip would install
it: a `.dist-info` directory with its `ssoform.drivers` entry point, on the path of a real
`ssoform` process, so ssoform finds it through `importlib.metadata.entry_points` and nothing
else. Its emulator is served by `ssoform emulate` (found through the same record) on a loopback
port, and validate, plan and apply run against it over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ssoform
from served import TIMEOUT, get_json, start_emulators, stop
from ssoform.cli import main

PLUGIN = Path(__file__).parent
SRC = Path(ssoform.__file__).parents[1]

MANIFEST = """
version: 1
providers:
  six:
    type: sixth
    api_key: {{env: SIXTH_KEY}}
    base_url: http://127.0.0.1:{port}/api
identity_providers:
  okta:
    kind: okta
    oidc: {{issuer: https://acme.okta.com, client_id: abc, client_secret: {{env: OKTA}}}}
tenants:
  acme:
    domains: [acme.example]
    idp: okta
    connections:
      - {{provider: six, workspace_id: ws1}}
      - {{provider: six, workspace_id: ws2, enabled: false, domains: [beta.example]}}
"""


def install(site: Path, name: str, entry_points: dict[str, str]) -> Path:
    """A `.dist-info` in `site` registering `entry_points` under `ssoform.drivers`."""
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = [f"{key} = {value}" for key, value in entry_points.items()]
    (info / "entry_points.txt").write_text("[ssoform.drivers]\n" + "\n".join(lines) + "\n")
    return site


def declared_entry_points() -> dict[str, str]:
    """The entry points the plugin's own pyproject.toml declares."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    found: dict[str, str] = project["entry-points"]["ssoform.drivers"]
    return found


@dataclass(frozen=True)
class Sixth:
    manifest: Path
    state: Path
    env: dict[str, str]
    url: str


@pytest.fixture
def sixth(tmp_path: Path) -> Iterator[Sixth]:
    site = install(tmp_path / "site", "ssoform_sixth", declared_entry_points())
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(PLUGIN), str(site)]),
        "SIXTH_KEY": "sixth-emulator-key",
        "OKTA": "okta-client-secret",
        "NO_COLOR": "1",
    }
    server, ports = start_emulators(["--only", "sixth"], env)
    try:
        url = f"http://127.0.0.1:{ports['sixth']}"
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(textwrap.dedent(MANIFEST.format(port=ports["sixth"])))
        yield Sixth(manifest, tmp_path / "state.json", env, url)
    finally:
        stop(server)


def run(sixth: Sixth, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args],
        env=sixth.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.slow
def test_a_plugin_type_validates_plans_and_applies_over_http(sixth: Sixth) -> None:
    state = ("--state", str(sixth.state))
    validated = run(sixth, "validate", str(sixth.manifest))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    planned = run(sixth, "plan", str(sixth.manifest), *state, "--json")
    assert planned.returncode == 0, planned.stderr
    changes = json.loads(planned.stdout)["resource_changes"]
    assert sorted((c["scope"], c["key"], c["action"]) for c in changes) == [
        ("ws1", "sso", "create"),
        ("ws2", "sso", "create"),
    ]

    applied = run(sixth, "apply", str(sixth.manifest), *state, "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    held = get_json(f"{sixth.url}/_emulator/state")["connections"]
    assert {ws: (c["domains"], c["enabled"]) for ws, c in held.items()} == {
        "ws1": (["acme.example"], True),
        "ws2": (["beta.example"], False),
    }
    calls = get_json(f"{sixth.url}/_emulator/stats")["calls"]
    assert sum(n for call, n in calls.items() if call.startswith("PUT ")) == 2

    again = run(sixth, "plan", str(sixth.manifest), *state, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


# --- errors, in-process (the entry points are read from sys.path all the same) -----------------

BROKEN_MODULE = 'raise RuntimeError("sixth_broken refuses to load")\n'


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`ssoform validate` in `tmp_path`: the exit code and the diagnostics it printed."""
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text))
    code = main(["validate", "m.yaml"])
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).splitlines()
    return code, "\n".join(line for line in lines if line.startswith("m.yaml:"))


PROVIDER = """
version: 1
providers:
  six:
    type: {type}
    api_key: {{env: SIXTH_KEY}}
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sixth type, and two broken plugins: one that fails to import, one naming a class
    that is no provider-type record."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "sixth_broken.py").write_text(BROKEN_MODULE)
    entry_points = {
        **declared_entry_points(),
        "broken": "sixth_broken:PROVIDER_TYPE",
        "wrong": "sixth_sso.models:SixthProvider",
    }
    site = install(tmp_path / "site", "ssoform_sixth", entry_points)
    for path in (PLUGIN, modules, site):
        monkeypatch.syspath_prepend(str(path))
    monkeypatch.chdir(tmp_path)


def test_a_plugin_type_reports_errors_at_their_place(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROVIDER.format(type="sixth") + textwrap.dedent("""\
        tenants:
          acme:
            domains: [acme.example]
            connections:
              - {provider: six, workspace_id: "not an id"}
              - {provider: six, workspace_id: ws2, colour: blue}
        """)
    code, out = validate(tmp_path, text, capsys)
    assert code == 1
    assert out.splitlines() == [
        "m.yaml:11:25: tenants.acme.connections[0].workspace_id: 'not an id' does not match "
        "the expected form ^[A-Za-z0-9][A-Za-z0-9_.:@-]*$",
        "m.yaml:12:44: tenants.acme.connections[1].colour: unknown key 'colour'",
    ]


def test_a_plugin_type_needs_what_its_protocol_needs(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROVIDER.format(type="sixth") + textwrap.dedent("""\
        tenants:
          acme:
            domains: [acme.example]
            connections:
              - {provider: six, workspace_id: ws1}
        """)
    code, out = validate(tmp_path, text, capsys)
    assert code == 1
    assert out.strip().splitlines() == [
        "m.yaml:11:9: tenants.acme.connections[0]: "
        "no identity provider: set idp on the tenant or the connection"
    ]


def test_an_unknown_type_lists_the_installed_ones(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = validate(tmp_path, PROVIDER.format(type="seventh"), capsys)
    assert code == 1
    assert out.strip() == (
        "m.yaml:4:3: providers.six: unknown provider type 'seventh' (expected one of "
        "'cloudflare', 'descope', 'vantage', 'cantina', 'pandastack', 'broken', 'sixth', 'wrong')"
    )


def test_a_plugin_that_fails_to_import_is_one_line_naming_it(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = validate(tmp_path, PROVIDER.format(type="broken"), capsys)
    assert code == 1
    assert out.strip() == (
        "m.yaml:4:3: providers.six: plugin 'broken' (sixth_broken:PROVIDER_TYPE) cannot be "
        "loaded: RuntimeError: sixth_broken refuses to load"
    )


def test_a_plugin_naming_no_record_is_one_line_naming_it(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = validate(tmp_path, PROVIDER.format(type="wrong"), capsys)
    assert code == 1
    assert out.strip() == (
        "m.yaml:4:3: providers.six: plugin 'wrong' (sixth_sso.models:SixthProvider) names "
        "the class SixthProvider, not a ProviderType record (nor a driver class carrying "
        "one as provider_type)"
    )


def test_built_in_types_validate_without_importing_plugins(
    installed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.modules.pop("sixth_sso", None)
    text = """
        version: 1
        providers:
          cf: {type: cloudflare, api_token: {env: CF}}
        tenants:
          acme:
            domains: [acme.example]
            connections: [{provider: cf, account_id: 023e105f4ecef8ad9ca31a8372d0c353}]
        """
    code, out = validate(tmp_path, text, capsys)
    assert code == 0, out
    assert "sixth_sso" not in sys.modules
