"""`certificate: {from_metadata: true}`: where it is allowed, and what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssoform.manifest.load import load_manifest

BASE = """version: 1
identity_providers:
  okta:
    saml:
{saml}
"""


def _errors(tmp_path: Path, saml: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(BASE.format(saml=saml))
    return [str(d).removeprefix(f"{tmp_path}/") for d in load_manifest([path]).diagnostics]


def test_from_metadata_with_a_metadata_url_is_valid(tmp_path: Path) -> None:
    saml = """      metadata_url: https://acme.okta.com/app/exk1/sso/saml/metadata
      entity_id: http://www.okta.com/exk1
      certificate: {from_metadata: true}"""
    assert _errors(tmp_path, saml) == []


@pytest.mark.parametrize(
    ("saml", "message"),
    [
        (
            "      entity_id: e\n      certificate: {from_metadata: true}",
            "m.yaml:4:5: identity_providers.okta.saml: certificate: "
            "{from_metadata: true} needs a metadata_url",
        ),
        (
            "      metadata_url: https://i.example/m\n"
            "      certificate: {from_metadata: true, file: idp.pem}",
            "m.yaml:6:7: identity_providers.okta.saml.certificate: a certificate names exactly "
            "one of file, pem or from_metadata: true",
        ),
        (
            "      metadata_url: https://i.example/m\n"
            "      additional_certificates: [{from_metadata: true}]",
            "m.yaml:4:5: identity_providers.okta.saml: from_metadata is for "
            "`certificate` only (it brings the others)",
        ),
    ],
)
def test_from_metadata_misuse_is_located(tmp_path: Path, saml: str, message: str) -> None:
    assert _errors(tmp_path, saml) == [message]
