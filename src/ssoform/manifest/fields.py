"""Field types with their normalisation: domains, URLs, identifiers, certificates."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

import idna
from pydantic import BeforeValidator, Field, WithJsonSchema

__all__ = [
    "ADDRESS_PATTERN",
    "CloudflareId",
    "Domain",
    "HttpsUrl",
    "Identifier",
    "Name",
    "is_loopback_host",
    "normalise_domain",
    "normalise_https_url",
]

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
ADDRESS_PATTERN = r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*/[^/\s]+/\S+$"
"""A resource address: TENANT/PROVIDER-INSTANCE/SCOPE/KEY."""
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")
_PUBLIC_MAIL = frozenset({"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com"})


def _to_ascii(name: str) -> str:
    """The ASCII (IDNA) form of a host name, lower-cased.

    Plain ASCII names skip the idna package, which is slow (a fleet has tens of thousands of
    names); the label rules are checked by the caller either way.
    """
    if name.isascii() and "xn--" not in name.lower():
        return name.lower()
    return idna.encode(name, uts46=True).decode("ascii")


def normalise_domain(value: object) -> str:
    """Lower-case, IDNA-encode and check an email domain (`Acme.COM` -> `acme.com`)."""
    if not isinstance(value, str):
        raise ValueError("a domain is a string such as example.com")
    text = value.strip().rstrip(".")
    if not text:
        raise ValueError("a domain cannot be empty")
    if _SPACE.search(text):
        raise ValueError(f"{value!r} is not a domain name (it contains a space)")
    if "@" in text or "/" in text or ":" in text:
        raise ValueError(f"{value!r} is not a domain name (write example.com, not a URL)")
    if text.startswith("*."):
        raise ValueError(f"{value!r}: wildcard domains are not allowed")
    try:
        ascii_name = _to_ascii(text)
    except idna.IDNAError as exc:
        raise ValueError(f"{value!r} is not a valid domain name ({exc})") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise ValueError(f"{value!r} is an IP address, not a domain name")
    if len(ascii_name) > 253:
        raise ValueError(f"{value!r} is longer than 253 characters")
    return ascii_name


def is_loopback_host(host: str) -> bool:
    """Whether `host` is `localhost` itself or a literal loopback address (127.0.0.0/8, ::1).
    Names under `.localhost` are not: a resolver may send them anywhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise_https_url(value: object) -> str:
    """Check a URL is absolute https (http only for loopback hosts) and return it unchanged."""
    if not isinstance(value, str):
        raise ValueError("a URL is a string such as https://idp.example.com/metadata")
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{value!r} is not an absolute https URL")
    if _SPACE.search(text):
        raise ValueError(f"{value!r} is not a valid URL (it contains a space)")
    if not _valid_host(host):
        raise ValueError(f"{value!r} is not a valid URL (bad host name {host!r})")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ValueError(f"{value!r} must use https (http is allowed only for loopback hosts)")
    if parts.username or parts.password:
        raise ValueError("a URL must not carry credentials")
    return text


def _valid_host(host: str) -> bool:
    if host.isascii() and all(_LABEL.match(label) for label in host.lower().split(".")):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_name = _to_ascii(host)
    except idna.IDNAError:
        return False
    return all(_LABEL.match(label) for label in ascii_name.split("."))


def _reject_non_string(value: object) -> object:
    if isinstance(value, bool | int | float):
        raise ValueError(f"expected a string, got the number {value!r} (quote it in YAML)")
    return value


# The schema's patterns approximate the validators for editors (`{{` admits a template); the
# validators above stay the authority.
Domain = Annotated[
    str,
    BeforeValidator(normalise_domain),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(?!\*\.)[^\s@/:*]+\.[^\s@/:.]+\.?$|\{\{",
            "description": "An email domain such as example.com (no URL, no wildcard).",
        }
    ),
]
HttpsUrl = Annotated[
    str,
    BeforeValidator(normalise_https_url),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^https://[^\s/@]+(/\S*)?$"
            r"|^http://(localhost|[^\s/@]+\.localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(/\S*)?$"
            r"|\{\{",
            "description": "An absolute https URL (http only on loopback hosts).",
        }
    ),
]
# Checked by pydantic-core alone (strict: a YAML number is not silently made a string); the
# loader words a number given for a string as "quote it in YAML".
Identifier = Annotated[
    str,
    Field(strict=True, min_length=1, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$"),
]
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


CloudflareId = Annotated[str, Field(strict=True, pattern=r"^[0-9a-f]{32}$")]
CLOUDFLARE_ID_MESSAGE = "a Cloudflare account id is 32 lower-case hexadecimal characters"

PUBLIC_MAIL_DOMAINS = _PUBLIC_MAIL
