"""Secret references and the run's one resolver: policy, cache, redaction, and hostile files."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ssoform.errors import SecretError
from ssoform.manifest.load import LoadOptions, load_manifest
from ssoform.manifest.secrets import SecretRef, SecretResolver, resolve_secret
from ssoform.model import Desired

FILE = SecretRef(file="secret.txt")


def _finishes(call: Callable[[], object], seconds: float = 10.0) -> object:
    """`call`'s result or exception, asserting it does not hang (a FIFO would block a read)."""
    out: list[object] = []

    def target() -> None:
        try:
            out.append(call())
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, "hung on the file"
    return out[0]


def test_a_fifo_as_a_secret_file_is_refused_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "secret.txt")
    result = _finishes(lambda: resolve_secret(FILE, tmp_path))
    assert isinstance(result, SecretError)
    assert str(result) == "file:secret.txt: cannot read (not a regular file)"


def test_a_fifo_as_a_certificate_file_is_refused_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "idp.pem")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nproviders: {}\nidentity_providers:\n  okta:\n    kind: okta\n"
        "    saml:\n      entity_id: http://www.okta.com/exk1\n"
        "      sso_url: https://acme.okta.com/app/exk1/sso/saml\n"
        "      certificate: {file: idp.pem}\ntenants: {}\n"
    )
    result = _finishes(lambda: load_manifest([manifest], LoadOptions()))
    problems = [str(d) for d in result.diagnostics]  # type: ignore[attr-defined]
    assert any("cannot read certificate file idp.pem: not a regular file" in p for p in problems)


def test_a_two_line_secret_file_is_a_clear_error_without_its_lines(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("first-line-value\nsecond-line-value\n")
    with pytest.raises(SecretError) as caught:
        resolve_secret(FILE, tmp_path)
    assert str(caught.value) == (
        "file:secret.txt: the file holds more than one line; a secret file holds its value "
        "on one line"
    )
    (tmp_path / "secret.txt").write_text("  one-value  \n")
    assert resolve_secret(FILE, tmp_path) == "one-value"


def test_the_resolver_reads_each_reference_once_and_registers_it(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("v1-value\n")
    registered: list[str] = []
    resolver = SecretResolver(register=registered.append)
    assert resolver.resolve(FILE, tmp_path) == "v1-value"
    (tmp_path / "secret.txt").write_text("v2-value\n")
    assert resolver.resolve(FILE, tmp_path) == "v1-value"
    assert registered == ["v1-value"]
    assert SecretResolver(register=registered.append).resolve(FILE, tmp_path) == "v2-value"


def test_stand_ins_only_for_resource_secrets_and_only_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    ref = SecretRef(env="NOT_SET_ANYWHERE")
    desired = Desired("t", "p", "s", "k", {}, secrets={"client_secret": ref})
    sandbox = SecretResolver(placeholders=True, register=lambda _: None)
    assert sandbox.value(desired, "client_secret") == "sandbox-stand-in-for-env:NOT_SET_ANYWHERE"
    with pytest.raises(SecretError, match="NOT_SET_ANYWHERE is not set"):
        sandbox.credentials({"api_token": ref}, tmp_path)
    with pytest.raises(SecretError, match="NOT_SET_ANYWHERE is not set"):
        SecretResolver(register=lambda _: None).value(desired, "client_secret")


def test_the_resolver_keeps_files_inside_the_manifest_tree(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k3y-value\n")
    inside = tmp_path / "manifests"
    inside.mkdir()
    ref = SecretRef(file="../key")
    with pytest.raises(SecretError, match="outside the manifest's directory tree"):
        SecretResolver(register=lambda _: None).resolve(ref, inside)
    outside = SecretResolver(allow_outside=True, register=lambda _: None)
    assert outside.resolve(ref, inside) == "k3y-value"
