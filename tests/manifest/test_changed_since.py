"""`--changed-since`: which tenants and provider instances changed since a git ref."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ssoform.errors import ManifestError
from ssoform.manifest.changed_since import ChangeScope, changed_scope
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

SHARED = """
version: 1
providers:
  cf: {type: cloudflare, api_token: {env: CF_TOKEN}}
  ds: {type: descope, project_id: P2x, management_key: {env: DS_KEY}}
identity_providers:
  okta: {kind: okta, saml: {metadata_url: "https://a.okta.com/m"}}
  entra: {kind: entra, saml: {metadata_url: "https://login.example/m"}}
"""


def _tenant(name: str, idp: str, provider: str = "ds", extra: str = "") -> str:
    return (
        f"tenants:\n  {name}:\n    domains: [{name}.example]\n    idp: {idp}\n"
        f"    connections:\n      - {{provider: {provider}, tenant_id: T2{name}, "
        f"protocol: saml-metadata{extra}}}\n"
    )


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "tenants").mkdir()
    (tmp_path / "ssoform.yaml").write_text(SHARED)
    for name, idp in (("acme", "okta"), ("globex", "entra"), ("initech", "okta")):
        (tmp_path / "tenants" / f"{name}.yaml").write_text(_tenant(name, idp))
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "fleet")
    return tmp_path


def _scope(root: Path) -> ChangeScope | None:
    loaded: LoadedManifest = load_manifest([root], LoadOptions())
    assert loaded.manifest is not None, [str(d) for d in loaded.diagnostics]
    return changed_scope(loaded, [root], "HEAD")


def test_one_tenant_file_changed(repo: Path) -> None:
    (repo / "tenants" / "globex.yaml").write_text(
        _tenant("globex", "entra", extra=", enabled: false")
    )
    assert _scope(repo) == ChangeScope("HEAD", frozenset({"globex"}), frozenset())


def test_nothing_changed(repo: Path) -> None:
    scope = _scope(repo)
    assert scope == ChangeScope("HEAD", frozenset(), frozenset())
    assert scope.describe() == "changed since HEAD: nothing changed"


def test_new_and_removed_tenants(repo: Path) -> None:
    (repo / "tenants" / "initech.yaml").unlink()
    (repo / "tenants" / "hooli.yaml").write_text(_tenant("hooli", "okta"))
    assert _scope(repo) == ChangeScope("HEAD", frozenset({"hooli", "initech"}), frozenset())


def test_shared_idp_brings_in_its_tenants(repo: Path) -> None:
    (repo / "ssoform.yaml").write_text(SHARED.replace("a.okta.com", "b.okta.com"))
    assert _scope(repo) == ChangeScope("HEAD", frozenset({"acme", "initech"}), frozenset())


def test_provider_instance_brings_in_its_tenants(repo: Path) -> None:
    changed = SHARED.replace("project_id: P2x", "project_id: P2y")
    (repo / "ssoform.yaml").write_text(changed)
    scope = _scope(repo)
    assert scope is not None
    assert scope.providers == {"ds"}
    assert scope.tenants == {"acme", "globex", "initech"}
    assert scope.covers("gone", "ds") and not scope.covers("gone", "cf")


def test_vars_change_means_a_full_plan(repo: Path) -> None:
    (repo / "ssoform.yaml").write_text(SHARED + "vars: {host: x.example}\n")
    assert _scope(repo) is None


def test_not_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ssoform.yaml").write_text(SHARED)
    (tmp_path / "t.yaml").write_text(_tenant("acme", "okta"))
    loaded = load_manifest([tmp_path], LoadOptions())
    assert loaded.manifest is not None
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(ManifestError, match="needs the manifests in a git repository"):
        changed_scope(loaded, [tmp_path], "HEAD")


def test_unknown_ref(repo: Path) -> None:
    loaded = load_manifest([repo], LoadOptions())
    with pytest.raises(ManifestError, match="no-such-ref: not a commit in this repository"):
        changed_scope(loaded, [repo], "no-such-ref")
