"""What a manifest cannot do: escape the template sandbox, read files outside its tree, send
credentials over plain http, or switch TLS verification off. What ssoform writes is owner-only."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from certs import loopback_server_cert
from ssoform.cli import main
from ssoform.manifest.load import LoadOptions, load_manifest

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}",
    "{{ joiner.__init__.__globals__['os'].system('touch pwned') }}",
    "{{ lipsum.__globals__['os'].popen('touch pwned').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "{{ config.__class__.__init__.__globals__['os'] }}",
    "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "{{ vars.__class__.__base__.__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ 'a'.format.__globals__ }}",
    "{{ ('a' * 1000000) * 1000000 }}",
    "{{ 9 ** (9 ** 9) }}",
]


def _load(root: Path, text: str, **options: bool) -> list[str]:
    path = root / "m.yaml"
    path.write_text(text)
    loaded = load_manifest([path], LoadOptions(**options))  # type: ignore[arg-type]
    return [str(d) for d in loaded.diagnostics]


@pytest.mark.parametrize("payload", ESCAPES)
def test_template_escape_attempts_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    monkeypatch.chdir(tmp_path)
    quoted = payload.replace('"', '\\"')
    problems = _load(
        tmp_path,
        "version: 1\nproviders: {}\ntenants:\n  acme:\n"
        f'    description: "{quoted}"\n    domains: [acme.com]\n    connections: []\n',
    )
    assert problems, payload  # refused, with a located diagnostic
    assert not (tmp_path / "pwned").exists()
    assert all("object at 0x" not in p and "<class" not in p for p in problems)


CERT_MANIFEST = """version: 1
providers:
  ds: {type: descope, project_id: P2x, management_key: {file: ../outside/key}}
tenants: {}
"""


def test_file_reference_outside_the_manifest_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "key").write_text("k3y-value\n")
    inside = tmp_path / "manifests"
    inside.mkdir()
    problems = _load(inside, CERT_MANIFEST, resolve_secrets=True)
    assert any("outside" in p for p in problems), problems
    assert not any("k3y-value" in p for p in problems)
    allowed = _load(inside, CERT_MANIFEST, resolve_secrets=True, allow_outside_files=True)
    assert not [p for p in allowed if "error" in p.lower() and "outside" in p], allowed


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://api.example.com", True),
        ("http://10.0.0.5:8700", True),
        ("ftp://api.example.com", True),
        ("http://localhost.evil.com", True),
        ("http://api.localhost:8700", True),
        ("http://evil.localhost", True),
        ("http://127.0.0.1:8700", False),
        ("http://[::1]:8700", False),
        ("http://localhost:8700", False),
        ("https://api.example.com", False),
    ],
)
def test_base_url_must_be_https_unless_loopback(tmp_path: Path, url: str, refused: bool) -> None:
    problems = _load(
        tmp_path,
        "version: 1\nproviders:\n"
        f'  cf: {{type: cloudflare, api_token: {{env: T}}, base_url: "{url}"}}\ntenants: {{}}\n',
    )
    assert bool([p for p in problems if "base_url" in p]) is refused, problems


@pytest.mark.parametrize(
    "setting",
    ["verify: false", "tls_verify: false", "insecure: true", "ssl_verify: false", "verify_tls: no"],
)
def test_tls_verification_cannot_be_switched_off(tmp_path: Path, setting: str) -> None:
    problems = _load(
        tmp_path,
        f"version: 1\nproviders:\n  cf: {{type: cloudflare, api_token: {{env: T}}, {setting}}}\n"
        "tenants: {}\n",
    )
    assert any("unknown key" in p for p in problems), problems


@pytest.fixture
def untrusted_https_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on loopback whose certificate no authority signed; it records requests."""
    cert, key = loopback_server_cert()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen: list[str] = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b'{"success": true, "errors": [], "messages": [], "result": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_untrusted_certificate_is_refused(
    tmp_path: Path,
    untrusted_https_server: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, seen = untrusted_https_server
    monkeypatch.setenv("CF_TOKEN", "t" * 40)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nproviders:\n"
        f'  cf: {{type: cloudflare, api_token: {{env: CF_TOKEN}}, base_url: "{url}"}}\n'
        "tenants:\n  acme:\n    domains: [acme.com]\n    connections:\n"
        "      - {provider: cf, account_id: 0123456789abcdef0123456789abcdef}\n"
    )
    code = main(["plan", str(manifest), "--state", str(tmp_path / "state.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert "certificate" in err.lower(), err
    assert "Traceback" not in err
    assert seen == []  # the handshake failed: no request, no token, ever reached the server
