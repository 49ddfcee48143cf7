"""`ssoform validate` through `main([...])`: formats word for word, exit codes and options."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from manifest.certgen import make_pem
from ssoform.cli import main

VALID = """\
version: 1
vars:
  org: acme
providers:
  cf:
    type: cloudflare
    api_token: {env: SSOFORM_TEST_CF_TOKEN}
identity_providers:
  okta:
    saml:
      metadata_url: "https://{{ vars.org }}.okta.com/metadata"
tenants:
  acme:
    domains: ["{{ vars.org }}.com"]
    idp: okta
    connections:
      - provider: cf
        account_id: 023e105f4ecef8ad9ca31a8372d0c353
"""

BROKEN = """\
version: 1
providers:
  cf:
    type: cloudflare
    api_token: literal-token
tenants:
  acme:
    domain: [acme.com]
    connections:
      - provider: cloudfare
        account_id: 023e105f4ecef8ad9ca31a8372d0c353
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SSOFORM_TEST_CF_TOKEN", raising=False)
    return tmp_path


def _write(name: str, text: str) -> str:
    Path(name).write_text(text)
    return name


def test_valid_manifest_exits_zero(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", _write("m.yaml", VALID)]) == 0
    out, err = capsys.readouterr()
    assert out == "valid: 1 tenant(s), 1 connection(s), 1 provider instance(s), 0 warning(s)\n"
    assert err == ""


def test_text_format_word_for_word(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", _write("m.yaml", BROKEN)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "m.yaml:5:5: providers.cf.api_token: secrets must be references, {env: NAME} or "
        "{file: path}, never a literal value\n"
        "m.yaml:8:5: tenants.acme.domain: unknown key 'domain' (did you mean 'domains'?)\n"
        "invalid: 2 error(s), 0 warning(s)\n"
    )


def test_json_format_word_for_word(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", _write("m.yaml", BROKEN)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == {
        "valid": False,
        "diagnostics": [
            {
                "file": "m.yaml",
                "line": 5,
                "col": 5,
                "path": "providers.cf.api_token",
                "message": "secrets must be references, {env: NAME} or {file: path}, "
                "never a literal value",
                "severity": "error",
            },
            {
                "file": "m.yaml",
                "line": 8,
                "col": 5,
                "path": "tenants.acme.domain",
                "message": "unknown key 'domain' (did you mean 'domains'?)",
                "severity": "error",
            },
        ],
    }


def test_github_format_word_for_word(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "github", _write("m.yaml", BROKEN)]) == 1
    out, _ = capsys.readouterr()
    assert out == (
        "::error file=m.yaml,line=5,col=5::providers.cf.api_token: secrets must be references, "
        "{env: NAME} or {file: path}, never a literal value\n"
        "::error file=m.yaml,line=8,col=5::tenants.acme.domain: unknown key 'domain' "
        "(did you mean 'domains'?)\n"
    )


def test_valid_json_has_no_diagnostics(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", _write("m.yaml", VALID)]) == 0
    assert json.loads(capsys.readouterr().out) == {"valid": True, "diagnostics": []}


def test_var_overrides_the_manifest(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--var", "org=Not A Domain", _write("m.yaml", VALID)]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "m.yaml:11:7: identity_providers.okta.saml.metadata_url: "
        "'https://Not A Domain.okta.com/metadata' is not a valid URL (it contains a space)\n"
        "m.yaml:14:15: tenants.acme.domains[0]: "
        "'Not A Domain.com' is not a domain name (it contains a space)\n"
        "invalid: 2 error(s), 0 warning(s)\n"
    )


def test_var_file_and_var_precedence(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _write("m.yaml", VALID.replace("{{ vars.org }}.com", "{{ vars.domain }}"))
    _write("vars.yaml", "domain: from-file.com\n")
    assert main(["validate", "--var-file", "vars.yaml", manifest]) == 0
    capsys.readouterr()
    assert main(["validate", "--var-file", "vars.yaml", "--var", "domain=bad", manifest]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "m.yaml:14:15: tenants.acme.domains[0]: 'bad' is not a valid domain name\n"
        "invalid: 1 error(s), 0 warning(s)\n"
    )


def test_bad_var_file_is_an_error_not_a_traceback(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write("vars.yaml", "a: [\n")
    assert main(["validate", "--var-file", "vars.yaml", _write("m.yaml", VALID)]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: vars.yaml:2:1: ")


def test_var_without_equals_is_a_usage_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--var", "novalue", _write("m.yaml", VALID)]) == 1
    assert "'novalue' is not KEY=VALUE" in capsys.readouterr().err


def test_resolve_secrets_names_what_is_missing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _write("m.yaml", VALID)
    assert main(["validate", manifest]) == 0  # offline: secrets are not looked at
    capsys.readouterr()
    assert main(["validate", "--resolve-secrets", manifest]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "m.yaml:7:5: providers.cf.api_token: secret env:SSOFORM_TEST_CF_TOKEN: "
        "environment variable SSOFORM_TEST_CF_TOKEN is not set\n"
        "invalid: 1 error(s), 0 warning(s)\n"
    )


def test_resolve_secrets_never_prints_a_value(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "canary-7f3a9c-do-not-print"
    monkeypatch.setenv("SSOFORM_TEST_CF_TOKEN", canary)
    Path("secret.txt").write_text(canary)
    manifest = _write(
        "m.yaml",
        VALID.replace("okta.com/metadata", "okta.com/{{ vars.org }}")
        + "      - provider: cf\n        account_id: 7d4c0e9b2f1a4c8e9d3b6a5f0e1c2d3b\n"
        "        domains: [gmail.com]\n",
    )
    for fmt in ("text", "json", "github"):
        main(["validate", "--resolve-secrets", "--format", fmt, manifest])
        out, err = capsys.readouterr()
        assert canary not in out + err
        assert "gmail.com is a public mail domain" in out + err


def _pem(days_left: int) -> str:
    now = dt.datetime.now(dt.UTC)
    return make_pem(
        "soon.example", now - dt.timedelta(days=30), now + dt.timedelta(days=days_left, hours=12)
    )


def test_cert_warning_days(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("soon.pem").write_text(_pem(10))
    manifest = _write(
        "m.yaml",
        VALID.replace('/metadata"\n', '/metadata"\n      certificate: {file: soon.pem}\n'),
    )
    assert main(["validate", manifest]) == 0  # a warning does not fail
    out, err = capsys.readouterr()
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10, hours=12)).strftime("%Y-%m-%d")
    assert err == (
        f"m.yaml:12:7: warning: identity_providers.okta.saml.certificate: certificate expires "
        f"on {expiry}, in 10 days (CN=soon.example)\n"
    )
    assert out.endswith("1 warning(s)\n")
    assert main(["validate", "--cert-warning-days", "5", manifest]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith("0 warning(s)\n")
    assert main(["validate", "--format", "github", manifest]) == 0
    assert capsys.readouterr().out.startswith("::warning file=m.yaml,line=12,col=7::")


def test_several_paths_and_directories(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("dir").mkdir()
    _write("dir/a.yaml", "version: 1\ntenants:\n  acme: {domains: [acme.com]}\n")
    _write("b.yaml", "tenants:\n  acme: {domains: [acme.org]}\n")
    assert main(["validate", "dir", "b.yaml"]) == 1
    _, err = capsys.readouterr()
    assert err.splitlines()[0] == "b.yaml:2:3: tenants.acme: already defined in dir/a.yaml"


def test_missing_path_is_a_usage_error(in_tmp: Path) -> None:
    assert main(["validate", "nope.yaml"]) == 1


def test_hostile_input_is_reported(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", _write("m.yaml", "[" * 100_000)]) == 1
    _, err = capsys.readouterr()
    assert (
        err == "m.yaml:1:65: nested more than 64 levels deep\ninvalid: 1 error(s), 0 warning(s)\n"
    )
