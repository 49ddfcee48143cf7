"""Manifests for the Descope tests: the `ds` provider instance on the emulator's project and the
`okta` identity provider (SAML from its metadata, and OIDC) that their tenants connect to."""

from __future__ import annotations

from collections.abc import Sequence

DESCOPE = "ds: {type: descope, project_id: P2emulator, management_key: {env: DS_KEY}}"
"""The Descope provider instance, `ds`, as one line of `providers:`."""


def okta(
    env_var: str = "OKTA_SECRET",
    *,
    certificate: str = "{file: idp.pem}",
    saml_extra: Sequence[str] = (),
    oidc: bool = True,
) -> str:
    """The `okta` identity provider as YAML lines under `identity_providers:`; `saml_extra` are
    more lines of its `saml:` block, `oidc` adds its OIDC client (its secret from `env_var`)."""
    lines = [
        "  okta:",
        "    kind: okta",
        "    saml:",
        "      metadata_url: https://acme.okta.com/app/exk1/sso/saml/metadata",
        "      entity_id: http://www.okta.com/exk1",
        "      sso_url: https://acme.okta.com/app/exk1/sso/saml",
        f"      certificate: {certificate}",
        *(f"      {line}" for line in saml_extra),
    ]
    if oidc:
        lines += [
            "    oidc:",
            "      issuer: https://acme.okta.com",
            "      client_id: 0oa1abc",
            f"      client_secret: {{env: {env_var}}}",
        ]
    return "\n".join(lines) + "\n"


def descope_manifest(
    tenants: str, *, providers: Sequence[str] = (DESCOPE,), idps: str | None = None
) -> str:
    """A whole manifest: `providers` (one line each), `idps` (`okta()` unless given) and
    `tenants`, the YAML under `tenants:` (indented two spaces)."""
    listed = "".join(f"  {line}\n" for line in providers)
    return (
        f"version: 1\nproviders:\n{listed}identity_providers:\n{idps or okta()}tenants:\n{tenants}"
    )
