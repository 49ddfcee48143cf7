"""The identity provider's side: SAML metadata and OIDC discovery, read once per run.

`read.read_identity_providers` fetches what the manifest's identity providers publish (bounded,
https only, no redirects), `saml` and `oidc` parse it as untrusted input, `rotation` picks the
signing certificate for `certificate: {from_metadata: true}`, and `findings` turns it all into
drift findings.
"""
