"""Small value helpers the Vantage, Cantina and PandaStack emulators share.

Nothing here knows a provider's error shape: checks return booleans or raise `ValueError` with a
message that names the field and never echoes the value, and each emulator words its own refusal.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

__all__ = [
    "MASK",
    "is_domain",
    "is_http_url",
    "iso_time",
    "json_object",
    "normalise_domains",
    "sha256_hex",
]

MASK = "********"
"""What a masked secret reads back as: a fixed string that reveals nothing of the value."""

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of `value` (UTF-8): what a store keeps instead of a secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def is_domain(value: object) -> bool:
    """Whether `value` is a lower-case host name of at least two labels (`acme.com`)."""
    if not isinstance(value, str) or len(value) > 253:
        return False
    labels = value.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)


def normalise_domains(values: object, name: str) -> list[str]:
    """Lower-cased, de-duplicated (first wins) domains; ValueError naming `name` otherwise."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name} must be an array of strings")
    out: list[str] = []
    for value in values:
        domain = value.strip().lower().rstrip(".")
        if not is_domain(domain):
            raise ValueError(f"{name} contains an invalid domain")
        if domain not in out:
            out.append(domain)
    return out


def is_http_url(value: object) -> bool:
    """Whether `value` is an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def iso_time(seconds: float) -> str:
    """Unix seconds as an RFC 3339 UTC timestamp with a `Z` suffix."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; ValueError when it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise ValueError("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body
