"""How the Descope emulator reads requests: JSON bodies, query parameters and the settings
schemas, refused with Descope's codes (`E011001` to `E011004`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from ssoform.emulators.descope_store import DescopeError, invalid, missing, secret_digest
from ssoform.manifest.descope_keys import OIDC_ATTRIBUTE_KEYS, SAML_ATTRIBUTE_KEYS

__all__ = [
    "OIDC",
    "SAML_MANUAL",
    "SAML_METADATA",
    "check",
    "domains",
    "json_body",
    "query",
    "settings",
    "text",
]

# Settings schemas: field name → kind (see `check`).
_SAML_COMMON = {
    "entityId": "str",
    "roleMappings": "roles",
    "attributeMapping": "saml_attrs",
    "defaultSSORoles": "strs",
    "groupsPriority": "strs",
    "fgaMappings": "map",
    "configFGATenantIDResourcePrefix": "str",
    "configFGATenantIDResourceSuffix": "str",
    "spEncryptionKey": "secret",
    "spSignKey": "secret",
    "subjectNameIdFormat": "str",
    "spACSUrl": "str",
    "spEntityId": "str",
    "disableSignRequest": "bool",
}
SAML_MANUAL = {**_SAML_COMMON, "idpUrl": "str", "idpCert": "str", "idpAdditionalCerts": "strs"}
SAML_METADATA = {**_SAML_COMMON, "idpMetadataUrl": "str"}
_OIDC_TEXT = """
name clientId redirectUrl authUrl tokenUrl userDataUrl JWKsUrl callbackDomain grantType issuer
providerID scimProviderID
"""
OIDC = {
    **dict.fromkeys(_OIDC_TEXT.split(), "str"),
    "clientSecret": "secret",
    "scope": "strs",
    "prompt": "strs",
    "userAttrMapping": "oidc_attrs",
    "manageProviderTokens": "bool",
    "groupsMapping": "groups",
    "roleMappings": "roles",
    "defaultSSORoles": "strs",
    "groupsPriority": "strs",
    "fgaMappings": "map",
}


async def json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise DescopeError(400, "E011001", "Malformed request", "body is not JSON") from exc
    if not isinstance(body, dict):
        raise DescopeError(400, "E011001", "Malformed request", "body must be a JSON object")
    _refuse_unknown(body, allowed, "")
    return {k: v for k, v in body.items() if v is not None}


def _refuse_unknown(body: dict[str, Any], allowed: set[str] | dict[str, str], where: str) -> None:
    for name in body:
        if name not in allowed:
            raise invalid(f"unknown field {where}{name}")


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_role_mapping(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"groups", "roleName"}
        and isinstance(value.get("roleName"), str)
        and _is_strs(value.get("groups", []))
    )


def _is_groups_mapping(value: Any) -> bool:
    if not isinstance(value, dict) or not set(value) <= {"role", "groups"}:
        return False
    role = value.get("role")
    return (
        isinstance(role, dict)
        and set(role) <= {"id", "name"}
        and isinstance(role.get("name"), str)
        and bool(role["name"])
        and _is_strs(value.get("groups", []))
    )


def _is_attribute_mapping(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key == "customAttributes":
            if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
                return False
        elif not isinstance(item, str):
            return False
    return True


def _list_of(item: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(item(v) for v in value)


_KINDS: dict[str, Callable[[Any], bool]] = {
    "str": lambda value: isinstance(value, str),
    "secret": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "strs": _is_strs,
    "map": lambda value: isinstance(value, dict),
    "roles": _list_of(_is_role_mapping),
    "groups": _list_of(_is_groups_mapping),
    "saml_attrs": _is_attribute_mapping,
    "oidc_attrs": _is_attribute_mapping,
    "any": lambda value: True,
}
"""Each kind a settings schema names, and the test a value of that kind passes."""


def check(value: Any, kind: str, name: str) -> Any:
    """`value` if it is of `kind`, else E011004 (messages name fields, never echo values)."""
    if not _KINDS.get(kind, lambda _: False)(value):
        raise invalid(f"{name} has the wrong type")
    if kind == "roles":
        return [{"groups": list(m.get("groups", [])), "roleName": m["roleName"]} for m in value]
    if kind == "groups":  # stored in the write shape of `roleMappings`
        return [{"groups": list(m.get("groups", [])), "roleName": m["role"]["name"]} for m in value]
    if kind in ("saml_attrs", "oidc_attrs"):
        known = SAML_ATTRIBUTE_KEYS if kind == "saml_attrs" else OIDC_ATTRIBUTE_KEYS
        return {k: v for k, v in value.items() if k in known or k == "customAttributes"}
    return value


def settings(body: dict[str, Any], schema: dict[str, str], required: tuple[str, ...]) -> Any:
    raw = body.get("settings")
    if raw is None:
        raise missing("settings")
    if not isinstance(raw, dict):
        raise invalid("settings must be an object")
    _refuse_unknown(raw, schema, "settings.")
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        value = check(value, schema[name], f"settings.{name}")
        if schema[name] == "secret":
            if value:
                clean[f"{name}Sha256"] = secret_digest(value)
        else:
            clean[name] = value
    for name in required:
        if not clean.get(name):
            raise missing(f"settings.{name}")
    return clean


def text(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    if required and not value:
        raise missing(name)
    return value


def domains(body: dict[str, Any], name: str = "domains") -> list[str]:
    value = body.get(name, [])
    return list(check(value, "strs", name))


def query(request: Request, name: str, *, required: bool = True) -> str:
    value = request.query_params.get(name, "")
    if required and not value:
        raise DescopeError(400, "E011002", "Missing arguments", f"{name} is required")
    return value
