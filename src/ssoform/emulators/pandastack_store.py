"""The PandaStack emulator's state: opaque SSO provider documents per organization.

Kept apart from `emulators/pandastack.py` (routes and auth). Documents are any JSON objects;
the store adds `id` (24 hex digits) and `organization_id`. Secret-looking keys never keep their
value: `is_secret_key` names them, and the store keeps `<key>_sha256` (`<key>Sha256` for a
camelCase key) holding the hex SHA-256 instead, at any depth. `public()` renders a stored
document for the API: each digest becomes its original key with the value `fields.MASK`.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ssoform.emulators.base import JsonStore
from ssoform.emulators.fields import MASK, sha256_hex

__all__ = ["SERVER_KEYS", "PandaStackStore", "digest_key", "is_secret_key", "public", "scrub"]

SERVER_KEYS = ("id", "organization_id")
"""Keys the server owns: a client's values for them are ignored."""
_SECRET_PARTS = ("secret", "password")
_SECRET_ENDINGS = ("token", "privatekey", "apikey")
_HEX = frozenset("0123456789abcdef")


def is_secret_key(key: str) -> bool:
    """Whether a key names a secret: *secret*, *password*, *token, *private_key, *api_key."""
    name = key.lower().replace("_", "").replace("-", "")
    return any(p in name for p in _SECRET_PARTS) or name.endswith(_SECRET_ENDINGS)


def digest_key(key: str) -> str:
    """Where a secret key's digest is kept: `client_secret_sha256`, `clientSecretSha256`."""
    return f"{key}Sha256" if any(c.isupper() for c in key) else f"{key}_sha256"


def _digest(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return sha256_hex(text)


def scrub(value: Any, *, stored: bool = False) -> Any:
    """A copy of `value` whose secret-named keys hold digests (null and booleans are kept).

    With `stored`, `value` is in the store's own form: digests already there are kept as they
    are (anything else under a secret-named key is still hashed).
    """
    if isinstance(value, list):
        return [scrub(item, stored=stored) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if stored and _stem(key) is not None and _is_digest(item):
            out[key] = item
        elif is_secret_key(key) and item is not None and not isinstance(item, bool):
            out[digest_key(key)] = _digest(item)
        else:
            out[key] = scrub(item, stored=stored)
    return out


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in _HEX for c in value)


def _stem(key: str) -> str | None:
    for suffix in ("_sha256", "Sha256"):
        if key.endswith(suffix) and is_secret_key(key[: -len(suffix)]):
            return key[: -len(suffix)]
    return None


def public(value: Any) -> Any:
    """A stored value as the API shows it: digests become their key with a fixed mask."""
    if isinstance(value, list):
        return [public(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        stem = _stem(key) if isinstance(item, str) else None
        if stem is not None:
            out[stem] = MASK
        else:
            out[key] = public(item)
    return out


class PandaStackStore(JsonStore):
    """Organization id → document id → stored (scrubbed) document, in creation order."""

    def __init__(self) -> None:
        self.organizations: dict[str, dict[str, dict[str, Any]]] = {}

    def documents(self, organization_id: str) -> list[dict[str, Any]]:
        return list(self.organizations.get(organization_id, {}).values())

    def get(self, organization_id: str, doc_id: str) -> dict[str, Any] | None:
        return self.organizations.get(organization_id, {}).get(doc_id)

    def create(self, organization_id: str, document: dict[str, Any]) -> dict[str, Any]:
        """Store a new document (secrets scrubbed); returns the stored form."""
        doc_id = secrets.token_hex(12)
        body = {k: v for k, v in document.items() if k not in SERVER_KEYS}
        stored = {"id": doc_id, "organization_id": organization_id, **scrub(body)}
        self.organizations.setdefault(organization_id, {})[doc_id] = stored
        return stored

    def update(
        self, organization_id: str, doc_id: str, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Merge top-level `changes` into a document (None when there is no such document)."""
        stored = self.get(organization_id, doc_id)
        if stored is None:
            return None
        for key, value in changes.items():
            if key in SERVER_KEYS:
                continue
            stored.pop(key, None)
            stored.pop(digest_key(key), None)
            stored.update(scrub({key: value}))
        return stored

    def delete(self, organization_id: str, doc_id: str) -> bool:
        return self.organizations.get(organization_id, {}).pop(doc_id, None) is not None

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "organizations": {org: list(docs.values()) for org, docs in self.organizations.items()}
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Replace the whole state with `data` (the shape of `to_json`); secrets are scrubbed."""
        organizations: dict[str, dict[str, dict[str, Any]]] = {}
        for org, docs in data.get("organizations", {}).items():
            organizations[str(org)] = {}
            for doc in docs:
                if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
                    raise ValueError("every document needs a string id")
                clean = scrub(doc, stored=True)
                organizations[str(org)][doc["id"]] = {**clean, "organization_id": str(org)}
        self.organizations = organizations
