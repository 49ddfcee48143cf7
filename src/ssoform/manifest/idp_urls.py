"""An identity provider's domain URL worked out from its OIDC issuer, where that is certain.

Cantina's `providerBaseUrl` is the IdP's domain URL (for Okta the org's `https://x.okta.com`, never
the `-admin` host), not the OIDC issuer: an Okta custom authorization server's issuer
(`https://x.okta.com/oauth2/default`) must not be sent as it is. What cannot be derived with
certainty (an Entra tenant, an issuer of another shape) must be written in the manifest.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["admin_host", "domain_url"]

_OKTA_PATH = re.compile(r"(/oauth2/[A-Za-z0-9_-]+)?/?")
"""An Okta issuer's path: empty (the org authorization server) or a custom authorization server."""


def domain_url(kind: str, issuer: str) -> str | None:
    """The IdP's domain URL (`https://host`) for `kind`, or None when it cannot be derived."""
    if kind != "okta":
        return None  # an Entra issuer names a tenant id, not the directory's domain
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return None
    if not _OKTA_PATH.fullmatch(parts.path) or admin_host(issuer):
        return None
    return f"https://{parts.netloc}"


def admin_host(url: str) -> bool:
    """Whether `url` is an Okta admin console host (`x-admin.okta.com`), never a domain URL."""
    host = urlsplit(url).hostname or ""
    return host.split(".", 1)[0].endswith("-admin")
