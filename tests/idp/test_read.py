"""Reading a manifest's identity providers: every problem becomes a one-line finding kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import pytest

from ssoform.emulators.base import emulator_transport
from ssoform.emulators.idp import IdpStore, create_app, make_certificate
from ssoform.idp.fetch import FetchLimits
from ssoform.idp.read import IdpReadout, read_identity_providers
from ssoform.manifest.models import Manifest

NOW = dt.datetime.now(dt.UTC)
ISSUER = "https://acme.okta.com"
METADATA = "https://acme.okta.com/app/exk1/sso/saml/metadata?token=s3cr3t-q"


def _manifest(issuer: str = ISSUER) -> Manifest:
    return Manifest.model_validate(
        {
            "version": 1,
            "identity_providers": {
                "okta": {
                    "saml": {"metadata_url": METADATA, "certificate": {"from_metadata": True}},
                    "oidc": {"issuer": issuer, "client_id": "c", "client_secret": {"env": "X"}},
                }
            },
        }
    )


def _store() -> IdpStore:
    store = IdpStore()
    pem = make_certificate("acme.okta.com", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=99))
    store.add_saml("okta", METADATA, "http://www.okta.com/exk1", f"{ISSUER}/sso", [pem])
    store.add_oidc("okta", ISSUER)
    return store


async def _read(transport: httpx.AsyncBaseTransport, **kw: object) -> IdpReadout:
    found = await read_identity_providers(_manifest(), transport=transport, **kw)  # type: ignore[arg-type]
    return found["okta"]


def _kinds(readout: IdpReadout) -> list[str]:
    return [p.kind for p in readout.problems]


async def test_the_sandbox_idp_reads_clean() -> None:
    readout = await _read(emulator_transport(create_app(_store())))
    assert readout.problems == []
    assert readout.saml is not None and readout.saml.entity_id == "http://www.okta.com/exk1"
    assert readout.oidc_issuer == ISSUER and readout.jwks_keys == 1


def _with(
    app_store: IdpStore, override: Callable[[httpx.Request], httpx.Response | None]
) -> httpx.AsyncBaseTransport:
    inner = emulator_transport(create_app(app_store))

    class Patched(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = override(request)
            return answer if answer is not None else await inner.handle_async_request(request)

    return Patched()


async def test_issuer_differing_by_a_trailing_slash_is_a_mismatch() -> None:
    store = _store()
    store.idps["okta"]["issuer"] = ISSUER + "/"
    readout = await _read(emulator_transport(create_app(store)))
    assert _kinds(readout) == ["oidc_issuer_mismatch"]
    assert readout.problems[0].message == (
        "OIDC discovery https://acme.okta.com/.well-known/openid-configuration names issuer "
        "'https://acme.okta.com/', the manifest 'https://acme.okta.com' (they must match "
        "exactly; tokens are refused)"
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            httpx.Response(500),
            "OIDC keys https://acme.okta.com/v1/keys: answered HTTP 500",
        ),
        (
            httpx.Response(200, json={"keys": []}),
            "OIDC keys https://acme.okta.com/v1/keys: the JWKS holds no keys",
        ),
        (
            httpx.Response(200, text="<html>"),
            "OIDC keys https://acme.okta.com/v1/keys: the JWKS is not JSON",
        ),
    ],
)
async def test_jwks_that_does_not_answer_with_keys(answer: httpx.Response, message: str) -> None:
    transport = _with(_store(), lambda r: answer if r.url.path == "/v1/keys" else None)
    readout = await _read(transport)
    assert _kinds(readout) == ["oidc_jwks_unreachable"]
    assert readout.problems[0].message == message


async def test_unreachable_and_invalid_documents() -> None:
    def override(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/metadata"):
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, text="not json")

    readout = await _read(_with(_store(), override))
    assert [(p.kind, p.message) for p in readout.problems] == [
        (
            "idp_unreachable",
            "SAML metadata https://acme.okta.com/app/exk1/sso/saml/metadata: cannot be fetched "
            "(ConnectError)",
        ),
        (
            "idp_invalid",
            "OIDC discovery https://acme.okta.com/.well-known/openid-configuration: the "
            "discovery document is not JSON",
        ),
    ]
    assert all("s3cr3t" not in p.message for p in readout.problems)


async def test_hostile_metadata_answers_are_findings() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    transport = _with(
        _store(),
        lambda r: httpx.Response(200, content=bomb) if r.url.path.endswith("metadata") else None,
    )
    readout = await _read(transport)
    assert [(p.kind, p.message) for p in readout.problems] == [
        (
            "idp_invalid",
            "SAML metadata https://acme.okta.com/app/exk1/sso/saml/metadata: refused: "
            "DTDForbidden (DTDs and entities are not allowed)",
        )
    ]


async def test_a_redirect_and_an_oversize_document_are_unreachable() -> None:
    def override(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("metadata"):
            return httpx.Response(301, headers={"location": "https://elsewhere.example/m"})
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, content=b"{" * 5000)
        return None

    readout = await _read(_with(_store(), override), limits=FetchLimits(max_bytes=4096))
    assert _kinds(readout) == ["idp_unreachable", "idp_unreachable"]
    assert "a redirect to elsewhere.example" in readout.problems[0].message
    assert "larger than 4096 bytes" in readout.problems[1].message


async def test_each_url_is_fetched_once_per_run() -> None:
    seen: list[str] = []

    def override(request: httpx.Request) -> httpx.Response | None:
        seen.append(request.url.path)
        return None

    manifest = Manifest.model_validate(
        {
            "version": 1,
            "identity_providers": {
                name: {"saml": {"metadata_url": METADATA}} for name in ("one", "two")
            },
        }
    )
    found = await read_identity_providers(manifest, transport=_with(_store(), override))
    assert set(found) == {"one", "two"} and all(r.saml is not None for r in found.values())
    assert seen == ["/app/exk1/sso/saml/metadata"]
