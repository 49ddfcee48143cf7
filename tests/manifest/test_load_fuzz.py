"""No input makes `load_manifest` raise: it reports. Random bytes, YAML-ish text, and manifests
built near the real schema, with random keys, values and templates in them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssoform.manifest import yamlsource
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
OPTIONS = LoadOptions(now=NOW, resolve_secrets=True, cli_vars={"x": "1"})


def _load(tmp_path: Path, raw: bytes) -> LoadedManifest:
    path = tmp_path / "manifest.yaml"
    path.write_bytes(raw)
    loaded = load_manifest([path], OPTIONS)
    assert loaded.ok == (loaded.manifest is not None)
    for diag in loaded.diagnostics:
        assert diag.file and diag.message
    return loaded


@pytest.mark.slow  # 250 examples, like every fuzz test here
@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(tmp_path: Path, raw: bytes) -> None:
    _load(tmp_path, raw)


_YAMLISH = st.lists(
    st.sampled_from(
        [
            "version: 1\n", "tenants:\n", "  acme:\n", "    domains: [a.com]\n", "providers:\n",
            "  cf: {type: cloudflare, api_token: {env: T}}\n", "- ", "[", "]", "{", "}", ": ",
            "&a ", "*a ", "!!str ", "!x ", "---\n", "...\n", "? ", "'", '"', "|\n", ">-\n",
            "\t", "  ", "\n", "#", "{{ vars.x }}", "{% if %}", "\\u0000", "%YAML 1.2\n", "~",
            "0x1F", "1e999", ".nan", "<<: *a\n", "é", "\ufeff",
        ]
    )
    | st.text(max_size=8),
    max_size=60,
).map("".join)  # fmt: skip


@pytest.mark.slow
@FUZZ
@given(_YAMLISH)
def test_yamlish_text(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text.encode("utf-8", errors="surrogatepass"))


_KEYS = st.sampled_from(
    [
        "version", "vars", "providers", "identity_providers", "tenants", "type", "api_token",
        "project_id", "management_key", "api_key", "organization_id", "base_url", "sandbox",
        "rate_limit", "requests", "per_seconds", "kind", "saml", "oidc", "metadata_url",
        "entity_id", "sso_url", "certificate", "file", "pem", "issuer", "client_id",
        "client_secret", "env", "domains", "idp", "connections", "provider", "account_id",
        "tenant_id", "sso_id", "protocol", "managed_account", "company_id", "settings", "name",
        "role_mappings", "groups", "role", "protect", "enabled", "acme", "cf", "okta",
    ]
) | st.text(max_size=6)  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "cloudflare", "descope", "vantage", "cantina", "pandastack", "okta", "saml",
            "saml-metadata", "oidc", "acme.com", "https://idp.example.com", "http://x",
            "023e105f4ecef8ad9ca31a8372d0c353", "acct_1", "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "{{ vars.x }}", "{{ tenant.name }}", "{{ 2 ** 9999 }}", "{{ ''.__class__ }}",
            "{% for a in 'xy' %}{% endfor %}", "-----BEGIN CERTIFICATE-----", "../x.pem",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
_VALUES: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=40,
)


def _manifest(value: Any) -> st.SearchStrategy[dict[str, Any]]:
    section = st.dictionaries(_KEYS, value, max_size=3)
    return st.fixed_dictionaries(
        {"version": st.sampled_from([1, 1, 2, "1"])},
        optional={
            "vars": section,
            "providers": section,
            "identity_providers": section,
            "tenants": section,
            "extra": value,
        },
    )


@pytest.mark.slow
@FUZZ
@given(_manifest(_VALUES))
def test_structured_manifests(tmp_path: Path, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    _load(tmp_path, text.encode("utf-8", errors="surrogatepass"))


@pytest.mark.slow
@FUZZ
@given(st.lists(_manifest(_VALUES), min_size=2, max_size=3))
def test_directories_of_manifests(tmp_path: Path, parts: list[dict[str, Any]]) -> None:
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for index, data in enumerate(parts):
        text = yaml.safe_dump(data, allow_unicode=True)
        (folder / f"{index}.yaml").write_bytes(text.encode("utf-8", errors="surrogatepass"))
    loaded = load_manifest([folder], OPTIONS)
    assert loaded.ok == (loaded.manifest is not None)


_PAIRS = (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "{a: " * 100_000,
        "x: " + "[" * 5_000 + "]" * 5_000,
        "".join("  " * i + "k:\n" for i in range(5_000)),
        # 4 MB of nested dashes: yaml_rs parses it whole before the depth check (seconds)
        pytest.param("".join("- " * i + "\n" for i in range(1, 2_000)), marks=pytest.mark.slow),
        "!!str " + "[" * 100_000,
        "a: &a [" + ", ".join(["x"] * 50) + "]\n"
        + "".join(f"{c}: &{c} [" + ", ".join([f"*{p}"] * 50) + "]\n" for p, c in _PAIRS),
    ],
)  # fmt: skip
def test_hostile_yaml_is_reported_not_raised(tmp_path: Path, text: str) -> None:
    loaded = _load(tmp_path, text.encode())
    assert not loaded.ok
    assert all(d.line > 0 for d in loaded.diagnostics), [str(d) for d in loaded.diagnostics]


def test_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 1024)
    loaded = _load(tmp_path, b"version: 1\n" + b"# padding\n" * 200)
    assert [d.message for d in loaded.diagnostics] == [
        "file is larger than the limit of 1,024 bytes"
    ]
