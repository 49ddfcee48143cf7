from pathlib import Path

from ssoform.manifest.load import load_manifest

EXAMPLES = Path(__file__).parents[2] / "examples" / "manifests"


def test_examples_are_valid() -> None:
    loaded = load_manifest([EXAMPLES])
    assert loaded.ok, [str(d) for d in loaded.diagnostics]
    assert loaded.manifest is not None
    assert set(loaded.manifest.tenants) == {"acme", "globex", "initech"}


def test_templates_are_rendered_with_tenant_context() -> None:
    loaded = load_manifest([EXAMPLES])
    assert loaded.manifest is not None
    conn = loaded.manifest.tenants["acme"].connections[0]
    assert getattr(conn, "redirect_url", None) == "https://sso.example-saas.com/acme/callback"


def test_digest_is_stable_and_changes_with_content(tmp_path: Path) -> None:
    first = load_manifest([EXAMPLES]).digest()
    assert first == load_manifest([EXAMPLES]).digest()
    changed = load_manifest([EXAMPLES], _opts(okta_org="other")).digest()
    assert changed != first


def _opts(**cli_vars: str):  # type: ignore[no-untyped-def]
    from ssoform.manifest.load import LoadOptions

    return LoadOptions(cli_vars=dict(cli_vars))
