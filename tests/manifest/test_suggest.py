"""Did-you-mean suggests only keys valid where the unknown key stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssoform.cli import main
from ssoform.manifest.suggest import keys_at, suggestion


def test_keys_at_each_place() -> None:
    assert keys_at(("tenant",)) == [
        "identity_providers",
        "moved",
        "providers",
        "tenants",
        "vars",
        "version",
    ]
    assert "domains" in keys_at(("tenants", "acme", "domain"))
    cf = keys_at(("tenants", "acme", "connections", 0, "cloudflare", "enabeld"))
    assert "account_id" in cf and "tenant_id" not in cf
    assert keys_at(("providers", "cf", "cloudflare", "x")) == [
        "api_token",
        "base_url",
        "max_concurrency",
        "prune",
        "rate_limit",
        "sandbox",
        "type",
    ]
    assert keys_at(("identity_providers", "okta", "saml", "certificate", "fil")) == [
        "file",
        "from_metadata",
        "pem",
    ]
    assert keys_at(("tenants", "acme", "vars", "x", "y")) == []


def test_a_word_from_elsewhere_is_not_suggested() -> None:
    # `provider` is a connection's key: a tenant cannot hold it, so nothing is suggested.
    assert suggestion(("tenants", "acme", "provider"), "provider") is None
    assert suggestion(("tenants", "acme", "connections", 0, "descope", "provder"), "provder") == (
        "provider"
    )
    assert suggestion(("identity_providers", "okta", "saml", "entityid"), "entityid") == (
        "entity_id"
    )


def test_validate_words_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.yaml").write_text(
        "version: 1\ntenants:\n  acme:\n    domains: [acme.com]\n    provider: cf\n"
    )
    assert main(["validate", "m.yaml"]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert first == "m.yaml:5:5: tenants.acme.provider: unknown key 'provider'"
