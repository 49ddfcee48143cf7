"""The manifest JSON Schema, generated from the pydantic models (the one source of truth)."""

from __future__ import annotations

from typing import Any

from ssoform.manifest.models import Manifest

__all__ = ["SCHEMA_ID", "manifest_schema"]

SCHEMA_ID = "https://ssoform.dev/schemas/ssoform-manifest.schema.json"


def manifest_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ssoform manifest (version 1)",
        **schema,
    }
