"""The JSON Schemas agree with `ssoform validate`, checked by an independent validator.

The `jsonschema` library (what check-jsonschema and editors use) checks every example manifest
(each must pass) and every broken case in examples/invalid/ (each must fail, unless it is listed
in ONLY_VALIDATE with the reason a schema cannot see it). The list is exact: a case the schema
starts catching, or stops catching, fails this test until the list is updated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ssoform.cli import main

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "schemas"
INVALID = ROOT / "examples" / "invalid"
EXAMPLES = ROOT / "examples" / "manifests"

CROSS = "a cross-check between parts of the manifest"
ONLY_VALIDATE: dict[str, str] = {
    # Not YAML a schema validator can even read, or YAML it reads differently.
    "not-utf8": "not UTF-8: the file cannot be read as YAML",
    "syntax-bad-indent": "a YAML syntax error",
    "syntax-tab-indent": "a YAML syntax error",
    "syntax-unclosed-flow": "a YAML syntax error",
    "multiple-documents": "several YAML documents in one file",
    "duplicate-key": "a duplicate key (YAML loaders keep the last)",
    "alias-bomb": "a billion-laughs alias expansion (a size limit, not a shape)",
    "deep-nesting-block": "nesting deeper than ssoform's limit",
    "deep-nesting-flow": "nesting deeper than ssoform's limit",
    "tag-custom": "a custom YAML tag",
    "tag-python-object": "a Python object tag",
    # Cross-checks and checks of contents that no JSON Schema expresses.
    "duplicate-domains": CROSS + " (one domain in two tenants)",
    "duplicate-live-object": CROSS + " (two connections for one live object)",
    "duplicate-spellings": CROSS + " (one domain spelt twice, equal after normalisation)",
    "moved-entries": CROSS + " (moved: addresses against what the manifest declares)",
    "undefined-references": CROSS + " (a provider or IdP that is not defined)",
    "provider-type-mismatch": CROSS + " (the connection's kind against its provider's type)",
    "protocol-not-defined": CROSS + " (a protocol the identity provider does not define)",
    "protocol-unsupported": CROSS + " (a protocol the provider type does not support)",
    "no-domains-no-idp": CROSS + " (a tenant's connections need its domains and IdP)",
    "saml-fields-missing": CROSS + " (what the provider needs of the SAML IdP)",
    "cert-expired": "a certificate's contents (its expiry date)",
    "cert-expiring": "a certificate's contents (its expiry date; a warning)",
    "cert-garbage": "a certificate's contents (not a PEM certificate)",
    "unreadable-file-and-references": "a file reference that cannot be read",
    "resolve-secrets": "secret references that do not resolve (--resolve-secrets)",
    "template-errors": "a template that fails to render",
    "template-renders-invalid": "a template whose rendered value is invalid",
}


def _schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


WHOLE = _schema("ssoform-manifest.schema.json")
PART = _schema("ssoform-manifest-file.schema.json")


def _load(path: Path) -> Any:
    """The document as JSON sees it (keys are strings), as check-jsonschema reads YAML."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def _schema_rejects(case: Path) -> bool:
    """Whether the independent validator rejects the case (or cannot read it as YAML)."""
    files = sorted(case.rglob("*.yaml"))
    try:
        docs = [_load(f) for f in files]
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return False  # not the schema's catch: it never saw the document
    validator = WHOLE if len(files) == 1 else PART
    return any(not validator.is_valid(doc) for doc in docs)


def test_every_example_file_passes_the_schema() -> None:
    root = EXAMPLES / "ssoform.yaml"
    assert WHOLE.is_valid(_load(root)), list(WHOLE.iter_errors(_load(root)))
    for path in sorted((EXAMPLES / "tenants").glob("*.yaml")):
        header = path.read_text().splitlines()[0]
        assert header.endswith("schemas/ssoform-manifest-file.schema.json"), path
        errors = [e.message for e in PART.iter_errors(_load(path))]
        assert errors == [], path
        assert not WHOLE.is_valid(_load(path))  # no `version`: a part, not a whole manifest


CASES = sorted(p.name for p in INVALID.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_schema_and_validate_agree_on_invalid_case(case: str) -> None:
    rejected = _schema_rejects(INVALID / case)
    if case in ONLY_VALIDATE:
        assert not rejected, f"{case}: the schema catches it now; remove it from ONLY_VALIDATE"
    else:
        assert rejected, f"{case}: only validate catches it; say why in ONLY_VALIDATE"


def test_the_record_names_real_cases() -> None:
    assert set(ONLY_VALIDATE) <= set(CASES)


def test_templated_identifier_and_closed_names() -> None:
    base: dict[str, Any] = {
        "version": 1,
        "providers": {
            "ds": {"type": "descope", "project_id": "P2", "management_key": {"env": "K"}}
        },
    }
    templated = {
        **base,
        "tenants": {
            "acme": {
                "connections": [
                    {"provider": "ds", "tenant_id": "T2x{{ vars.region }}", "protocol": "oidc"}
                ]
            }
        },
    }
    assert WHOLE.is_valid(templated), list(WHOLE.iter_errors(templated))
    assert not WHOLE.is_valid({**base, "tenants": {"Acme": {"anything": 1}}})
    assert not WHOLE.is_valid({**base, "tenants": {"acme": {"domains": ["https://acme.com"]}}})
    idp = {"oidc": {"issuer": "http://idp.example.com", "client_id": "x", "client_secret": "y"}}
    assert not WHOLE.is_valid({**base, "identity_providers": {"okta": idp}})


def test_validate_agrees_with_the_schema_on_the_templated_identifier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(
        "version: 1\nvars: {region: eu}\n"
        "providers:\n  ds: {type: descope, project_id: P2, management_key: {env: K}}\n"
        "identity_providers:\n  okta:\n    oidc: {issuer: 'https://o.example.com', "
        "client_id: x, client_secret: {env: S}}\n"
        "tenants:\n  acme:\n    domains: [acme.com]\n    idp: okta\n    connections:\n"
        "      - {provider: ds, tenant_id: 'T2x{{ vars.region }}', protocol: oidc}\n"
    )
    assert main(["validate", "m.yaml"]) == 0
    assert WHOLE.is_valid(_load(Path("m.yaml")))
