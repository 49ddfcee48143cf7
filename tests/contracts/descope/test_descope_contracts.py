"""Descope contract tests: the driver sends, and the emulator answers, only the published shapes
written down (with their sources) in `shapes.json` next to this file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from descope_manifest import descope_manifest, okta
from emulated import Harness
from manifest.certgen import make_pem
from ssoform.emulators.descope import DescopeStore, create_app

SHAPES = json.loads((Path(__file__).parent / "shapes.json").read_text())
DEFINITIONS: dict[str, Any] = SHAPES["definitions"]
CALLS: dict[str, Any] = SHAPES["calls"]

MANIFEST = descope_manifest(
    """\
  acme:
    domains: [acme.com]
    idp: okta
    connections:
      - provider: ds
        tenant_id: T2acme
        protocol: saml
        enabled: ENABLED
        redirect_url: https://app.example.com/acme
        role_mappings: [{groups: [admins], role: Tenant Admin}]
        attribute_mapping: {email: mail, phoneNumber: phone}
        subject_name_id_format: urn:oasis:names:tc:SAML:2.0:nameid-format:persistent
        groups_priority: [admins]
      - provider: ds
        tenant_id: T2acme
        sso_id: okta-oidc
        display_name: Okta
        protocol: oidc
        domains: [acme.io]
        role_mappings: [{groups: [admins], role: Tenant Admin}]
        attribute_mapping: {loginId: sub, verifiedEmail: email_verified}
  globex:
    domains: [globex.com]
    idp: okta
    connections:
      - {provider: ds, tenant_id: T2globex, protocol: saml-metadata}
""",
    idps=okta(saml_extra=["additional_certificates: [{file: idp.pem}]"]),
)


class Recorder:
    """The emulator app, recording each request and its JSON answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, dict[str, str], Any, int, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        sent: list[bytes] = []
        status = [0]

        async def receive_recorded() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        async def send_recorded(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive_recorded, send_recorded)
        query = dict(
            pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if pair
        )
        body = b"".join(chunks)
        answer = b"".join(sent)
        self.seen.append(
            (
                scope["method"],
                scope["path"],
                query,
                json.loads(body) if body else None,
                status[0],
                json.loads(answer) if answer else None,
            )
        )


def conforms(value: Any, shape: Any, where: str, *, exact: bool = False) -> list[str]:
    """Problems with `value` against `shape` (a type name, definition or `{fields}`)."""
    if isinstance(shape, str) and shape.startswith("array<"):
        if not isinstance(value, list):
            return [f"{where}: not an array"]
        inner = shape[6:-1]
        return [
            p for i, v in enumerate(value) for p in conforms(v, inner, f"{where}[{i}]", exact=exact)
        ]
    if isinstance(shape, str) and shape in DEFINITIONS:
        return conforms(value, DEFINITIONS[shape], where, exact=exact)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        fields = shape["fields"]
        problems = [f"{where}.{k}: not published" for k in value if k not in fields]
        if exact:
            problems += [f"{where}.{k}: published but missing" for k in fields if k not in value]
        for k, v in value.items():
            if k in fields:
                problems += conforms(v, fields[k], f"{where}.{k}", exact=exact)
        return problems
    kinds = {"string": str, "boolean": bool, "object": dict, "array": list}
    if shape == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kinds[shape])
    return [] if ok else [f"{where}: not {shape}"]


def contract_for(method: str, path: str) -> tuple[str, dict[str, Any]]:
    for name, call in CALLS.items():
        if (call["method"], call["path"]) == (method, path):
            return name, call
    raise AssertionError(f"{method} {path} has no published contract")


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Harness, Recorder]:
    monkeypatch.setenv("DS_KEY", "descope-emulator-key")
    monkeypatch.setenv("OKTA_SECRET", "okta-secret-value")
    now = dt.datetime.now(dt.UTC)
    (tmp_path / "idp.pem").write_text(make_pem("acme.okta.com", now, now + dt.timedelta(days=9)))
    store = DescopeStore()
    store.create_tenant("Acme", "T2acme")
    store.create_tenant("Globex", "T2globex")
    recorder = Recorder(create_app(store=store))
    h = Harness(tmp_path, {"ds": recorder}, MANIFEST.replace("ENABLED", "true"))  # type: ignore[dict-item]
    return h, recorder


async def _exercise(h: Harness) -> None:
    """Create, update (read-modify-write), disable, and delete: every call the driver makes."""
    assert (await h.apply()).ok
    h.write(MANIFEST.replace("ENABLED", "false").replace("/acme\n", "/acme2\n"))
    assert (await h.apply()).ok
    h.write(MANIFEST.replace("ENABLED", "false").split("  globex:")[0])
    assert (await h.apply(allow_delete=True)).ok


async def test_driver_sends_only_published_requests(recorded: tuple[Harness, Recorder]) -> None:
    h, recorder = recorded
    await _exercise(h)
    used = set()
    for method, path, query, body, _status, _answer in recorder.seen:
        name, call = contract_for(method, path)
        used.add(name)
        assert set(query) <= set(call.get("query", [])), (name, query)
        if "request" in call:
            assert conforms(body, call["request"], name) == [], body
            assert set(call.get("required", [])) <= set(body), (name, body)
        else:
            assert body is None, (name, body)
    assert used >= {"load_all", "new", "configure_saml", "configure_saml_metadata"}
    assert used >= {"configure_oidc", "authtype", "delete"}


async def test_driver_sends_oidc_role_mappings_as_groups_mapping(
    recorded: tuple[Harness, Recorder],
) -> None:
    h, recorder = recorded
    await h.apply()
    bodies = [b for m, p, _q, b, _s, _a in recorder.seen if p == "/v1/mgmt/sso/oidc"]
    assert [b["settings"]["groupsMapping"] for b in bodies] == [
        [{"role": {"name": "Tenant Admin"}, "groups": ["admins"]}]
    ]
    assert "roleMappings" not in bodies[0]["settings"]


async def test_emulator_answers_exactly_the_published_shapes(
    recorded: tuple[Harness, Recorder],
) -> None:
    h, recorder = recorded
    await _exercise(h)
    answers = 0
    for method, path, _query, _body, status, answer in recorder.seen:
        name, call = contract_for(method, path)
        if status != 200:
            continue
        if call["response"] == "empty":
            assert answer in (None, {}), (name, answer)
        elif call["response"] != "object":
            assert conforms(answer, call["response"], name, exact=True) == [], answer
            answers += 1
    assert answers >= 3


def test_every_contract_names_its_sources() -> None:
    known = set(SHAPES["sources"])
    for name, item in [*DEFINITIONS.items(), *CALLS.items()]:
        cited = {part.split()[0] for part in item["source"].split("; ")}
        assert cited & known, f"{name} cites no known source: {item['source']}"
