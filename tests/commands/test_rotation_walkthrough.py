"""The README's certificate rotation walk-through, as real processes against the sandbox: the
IdP publishes a new certificate, drift reports the rotation with its date, plan picks it up,
apply rolls it out, drift is clean; once the IdP retires the old one, drift reports that Descope
still trusts it and an apply removes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sandbox_cli import copy_examples, run_cli


@pytest.mark.slow
def test_rotation_walkthrough(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    assert run_cli(tmp_path, "apply", "--sandbox", "manifests", "--auto-approve").returncode == 0
    shared = tmp_path / "manifests" / "ssoform.yaml"
    text = shared.read_text()
    assert "certificate: {file: certs/acme-okta.pem}" in text
    shared.write_text(
        text.replace(
            "certificate: {file: certs/acme-okta.pem}", "certificate: {from_metadata: true}"
        )
    )
    fail_on = ("--fail-on", "certificate-rotation,idp-unreachable,idp-mismatch,drifted")
    clean = run_cli(tmp_path, "drift", "--sandbox", "manifests", *fail_on)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    rotated = run_cli(tmp_path, "sandbox", "rotate-certificate", "acme-okta")
    assert rotated.returncode == 0, rotated.stderr
    assert re.match(
        r"acme-okta: published signing certificate sha256:[0-9a-f]{16} ", rotated.stdout
    )
    assert rotated.stdout.rstrip().endswith("beside the old one (2 published)")

    drift = run_cli(tmp_path, "drift", "--sandbox", "manifests", *fail_on, "--format", "json")
    assert drift.returncode == 2, drift.stderr
    (finding,) = [
        f for f in json.loads(drift.stdout)["findings"] if f["kind"] == "certificate_rotation"
    ]
    assert finding["subject"] == "acme/descope-prod/T2acme/default"
    assert "roll it out by 2035-12-30" in finding["message"]  # the example certificate's expiry

    plan = run_cli(tmp_path, "plan", "--sandbox", "manifests", "-o", "rotation.json")
    assert plan.returncode == 0, plan.stderr
    assert "~ acme/descope-prod/T2acme/default  (update, fields_changed)" in plan.stdout
    assert "saml.certificate:" in plan.stdout
    assert "acme-okta: certificate from metadata: 2 valid signing certificates" in plan.stdout
    applied = run_cli(tmp_path, "apply", "rotation.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "1 applied, 0 failed" in applied.stdout

    after = run_cli(tmp_path, "drift", "--sandbox", "manifests", *fail_on)
    assert after.returncode == 0, after.stdout + after.stderr
    retired = run_cli(tmp_path, "sandbox", "rotate-certificate", "acme-okta", "--retire-old")
    assert retired.stdout == "acme-okta: retired 1 older signing certificate(s)\n"
    # Descope still trusts the retired certificate: drift says so, and the plan removes it
    lingering = run_cli(tmp_path, "drift", "--sandbox", "manifests", *fail_on)
    assert lingering.returncode == 2, lingering.stdout + lingering.stderr
    assert "additional_certificates" in lingering.stdout
    cleanup = run_cli(tmp_path, "apply", "--sandbox", "manifests", "--auto-approve")
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert "additional_certificates:" in cleanup.stdout
    final = run_cli(tmp_path, "drift", "--sandbox", "manifests", *fail_on)
    assert final.returncode == 0, final.stdout + final.stderr


@pytest.mark.slow
def test_rotate_certificate_names_the_known_identity_providers(tmp_path: Path) -> None:
    none = run_cli(tmp_path, "sandbox", "rotate-certificate", "acme-okta")
    assert none.returncode == 1
    assert "no sandbox identity provider 'acme-okta' with SAML metadata" in none.stderr
    copy_examples(tmp_path)
    assert run_cli(tmp_path, "drift", "--sandbox", "manifests").returncode == 2
    unknown = run_cli(tmp_path, "sandbox", "rotate-certificate", "initech-okta")
    assert unknown.returncode == 1
    assert "(known: acme-okta, globex-entra)" in unknown.stderr
    assert "Traceback" not in unknown.stderr
