"""The attribute mapping keys Descope's SSO settings accept (a fixed, published set).

Sources (facts only): the management OpenAPI document (`AttributeMapping` for SAML,
`OAuthUserDataClaimsMapping` for OIDC's `userAttrMapping`); descope/go-sdk `descope/types.go`
and descope/python-sdk `descope/management/_sso_settings_base.py` also send `phoneNumber`.
Descope drops a key outside the set, so a misspelt one would never converge.
"""

from __future__ import annotations

import difflib

__all__ = ["OIDC_ATTRIBUTE_KEYS", "OIDC_CLAIM_KEYS", "SAML_ATTRIBUTE_KEYS", "attribute_key_problem"]

SAML_ATTRIBUTE_KEYS = frozenset(
    ("name", "email", "phoneNumber", "group", "givenName", "middleName", "familyName", "picture")
)
"""`AttributeMapping` (SAML write shape) plus `phoneNumber` (sent by the SDKs);
`customAttributes` is a nested map and not a manifest key."""

OIDC_CLAIM_KEYS = (
    "loginId",
    "username",
    "name",
    "email",
    "phoneNumber",
    "verifiedEmail",
    "verifiedPhone",
    "picture",
    "givenName",
    "middleName",
    "familyName",
    "group",
)
"""`OAuthUserDataClaimsMapping` (OIDC `userAttrMapping`) plus `phoneNumber` (SDKs), in the
order Descope answers them."""
OIDC_ATTRIBUTE_KEYS = frozenset(OIDC_CLAIM_KEYS)


def attribute_key_problem(key: str, protocol: str) -> str | None:
    """Why `key` cannot be an attribute mapping key for `protocol`, with a suggestion."""
    known = OIDC_ATTRIBUTE_KEYS if protocol == "oidc" else SAML_ATTRIBUTE_KEYS
    if key in known:
        return None
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    name = "userAttrMapping" if protocol == "oidc" else "attributeMapping"
    return f"{key!r} is not a Descope {name} key (Descope drops unknown keys){hint}"
