"""Descope attribute mapping keys are checked against the published set at validate time."""

from __future__ import annotations

from pathlib import Path

import pytest

from descope_manifest import descope_manifest
from ssoform.manifest.descope_keys import attribute_key_problem
from ssoform.manifest.load import load_manifest

MANIFEST = descope_manifest(
    """\
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - provider: ds
        tenant_id: T2acme
        protocol: oidc
        attribute_mapping: {%s}
""",
    idps="  okta:\n"
    "    oidc: {issuer: 'https://acme.okta.com', client_id: c1, client_secret: {env: S}}\n",
)


def _diagnostics(tmp_path: Path, mapping: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST % mapping)
    return [str(d) for d in load_manifest([path]).diagnostics]


def test_a_misspelt_key_is_a_validate_error_with_a_suggestion(tmp_path: Path) -> None:
    found = _diagnostics(tmp_path, "emial: email, loginId: sub")
    assert len(found) == 1, found
    assert "'emial' is not a Descope userAttrMapping key" in found[0]
    assert "did you mean 'email'?" in found[0]
    assert "m.yaml:" in found[0]


def test_published_keys_pass(tmp_path: Path) -> None:
    assert _diagnostics(tmp_path, "email: email, loginId: sub, verifiedEmail: email_verified") == []


@pytest.mark.parametrize(
    ("key", "protocol", "ok"),
    [
        ("phoneNumber", "saml", True),
        ("loginId", "saml", False),  # OIDC only
        ("loginId", "oidc", True),
        ("customAttributes", "saml", False),  # a nested map, not a key of its own
    ],
)
def test_the_set_depends_on_the_protocol(key: str, protocol: str, ok: bool) -> None:
    assert (attribute_key_problem(key, protocol) is None) is ok
