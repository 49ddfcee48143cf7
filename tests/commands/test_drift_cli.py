"""`ssoform drift` through the CLI: an expired manifest certificate is a finding, not a stop."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from manifest.certgen import make_pem
from ssoform.cli import main


def test_expired_manifest_certificate_is_reported_as_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    now = dt.datetime.now(dt.UTC)
    (tmp_path / "old.pem").write_text(
        make_pem("old.okta.example", now - dt.timedelta(days=400), now - dt.timedelta(days=2))
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        textwrap.dedent("""
        version: 1
        providers:
          ds: {type: descope, project_id: P2x, management_key: {env: DS_KEY}}
        identity_providers:
          okta:
            saml:
              entity_id: http://www.okta.com/exk1
              sso_url: https://acme.okta.com/app/exk1/sso/saml
              certificate: {file: old.pem}
        tenants:
          acme:
            domains: [acme.com]
            idp: okta
            connections:
              - {provider: ds, tenant_id: T2acme, protocol: saml}
        """)
    )
    assert main(["validate", str(manifest)]) == 1
    assert "certificate expired on" in capsys.readouterr().err
    code = main(["drift", str(manifest), "--sandbox", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 2
    findings = json.loads(out)["findings"]
    assert [f["kind"] for f in findings] == ["certificate_expired"]
    assert "BEGIN CERTIFICATE" not in out
