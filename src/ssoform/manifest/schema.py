"""The manifest JSON Schemas, generated from the pydantic models (the one source of truth).

Two schemas: one for a whole manifest (`version` required) and one for a file of a manifest
split over a directory (every top-level key optional). Both are what editors and independent
validators (check-jsonschema) check a file with, so they are made to agree with `validate` where
a schema can: objects keyed by names admit no other keys (`additionalProperties: false` beside
`patternProperties`), and a string checked by a pattern also admits a template (`{{ ... }}`),
which is rendered before validation. What only `validate` can catch (cross-references,
duplicates across files, certificates' contents, secrets) is listed in docs/manifest.md.
"""

from __future__ import annotations

import copy
from typing import Any

from ssoform.manifest.models import Manifest

__all__ = ["FILE_SCHEMA_ID", "SCHEMA_ID", "manifest_file_schema", "manifest_schema"]

SCHEMA_ID = "https://ssoform.dev/schemas/ssoform-manifest.schema.json"
FILE_SCHEMA_ID = "https://ssoform.dev/schemas/ssoform-manifest-file.schema.json"
TEMPLATE = r"\{\{"
"""A string holding this is a template: it is rendered before it is validated."""


def manifest_schema() -> dict[str, Any]:
    """The schema of a whole manifest (one file, or the files of a directory merged)."""
    schema = Manifest.model_json_schema(mode="validation")
    _tighten(schema, in_properties=False)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ssoform manifest (version 1)",
        **schema,
    }


def manifest_file_schema() -> dict[str, Any]:
    """The schema of one file of a manifest split over a directory: no key is required."""
    schema = copy.deepcopy(manifest_schema())
    schema.pop("required", None)
    schema["$id"] = FILE_SCHEMA_ID
    schema["title"] = "ssoform manifest file (version 1; part of a manifest directory)"
    return schema


def _tighten(node: Any, *, in_properties: bool) -> None:
    """Close name-keyed objects and let patterned strings hold templates, in place."""
    if isinstance(node, list):
        for item in node:
            _tighten(item, in_properties=False)
        return
    if not isinstance(node, dict):
        return
    if "patternProperties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    pattern = node.get("pattern")
    if (
        not in_properties
        and node.get("type") == "string"
        and isinstance(pattern, str)
        and TEMPLATE not in pattern
    ):
        node["pattern"] = f"(?:{pattern})|{TEMPLATE}"
    for key, value in node.items():
        # The keys of `properties`/`patternProperties` are names, not schemas.
        _tighten(value, in_properties=key in ("properties", "patternProperties", "$defs"))
