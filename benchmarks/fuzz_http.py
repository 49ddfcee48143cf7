"""Fuzz the drivers with hostile HTTP answers: no answer may make ssoform crash or leak.

    python benchmarks/fuzz_http.py --seconds 600

`ssoform apply --auto-approve` runs over a one-connection manifest of one of the five providers,
and every request it sends is answered by hypothesis: any status, hostile headers (Retry-After
and rate-limit values far in the future or not numbers, redirects, content encodings that lie,
Content-Types carrying the token), and bodies that are random bytes, provider-shaped JSON with
wrong types, ids that climb out of their path, terminal escapes, or the credential echoed in
every encoding, gzip-compressed or not. Plausible answers (empty listings) are mixed in so that
creates and updates are reached too. Waits are injected (nothing sleeps), the deadline is short.

Each run must exit 0 or 1, print no traceback and no internal error, keep every error on one line
without escapes, send no request outside the providers' API paths, and leave the token in no
encoding in the output or the state file. Failing inputs are printed, with their traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gzip
import io
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ssoform.cli import main as ssoform_main
from ssoform.engine.wiring import RunConfig
from ssoform.scrub import secret_forms

TOKEN = "psk_" + "c4" * 32  # well-formed for PandaStack, used by every provider
OIDC_SECRET = 'fuzz"oidc\\secret/77+x='  # noqa: S105 - a canary, never a real secret
PROVIDERS = {
    "cf": (
        "{type: cloudflare, api_token: {env: FUZZ_TOKEN}}",
        "{provider: cf, account_id: 023e105f4ecef8ad9ca31a8372d0c353, enabled: true}",
    ),
    "ds": (
        "{type: descope, project_id: P2x, management_key: {env: FUZZ_TOKEN}}",
        "{provider: ds, tenant_id: T1, protocol: oidc}",
    ),
    "va": (
        "{type: vantage, api_token: {env: FUZZ_TOKEN}}",
        "{provider: va, managed_account: acct_be30cfd09cf0b3c5}",
    ),
    "ca": (
        "{type: cantina, api_key: {env: FUZZ_TOKEN}}",
        "{provider: ca, company_id: 3c90c3cc-0d44-4b50-8888-8dd25736052a}",
    ),
    "ps": (
        '{type: pandastack, api_token: {env: FUZZ_TOKEN}, organization_id: "1234567890"}',
        "{provider: ps, name: okta, settings: {client_id: x, enabled: true}}",
    ),
}
IDP = """identity_providers:
  okta:
    kind: okta
    saml: {metadata_url: "https://acme.okta.com/app/exk1/sso/saml/metadata"}
    oidc: {issuer: https://acme.okta.com, client_id: 0oa1, client_secret: {env: FUZZ_SECRET}}
"""
EMPTY_LISTING: dict[str, tuple[int, Any]] = {
    "api.cloudflare.com": (200, {"success": True, "errors": [], "result": []}),
    "api.descope.com": (404, {"errorCode": "E0", "errorDescription": "not found"}),
    "api.vantage.sh": (
        200,
        {"managed_accounts": [{"token": "acct_be30cfd09cf0b3c5", "email_domain": "acme.com"}]},
    ),
    "cantina.xyz": (200, []),
    "api.pandastack.io": (200, []),
}
"""What each provider answers a read with when it holds nothing yet (so writes are reached)."""


def manifest(provider: str) -> str:
    instance, connection = PROVIDERS[provider]
    return (
        f"version: 1\nproviders:\n  {provider}: {instance}\n{IDP}tenants:\n  acme:\n"
        f"    domains: [acme.com]\n    idp: okta\n    connections:\n      - {connection}\n"
    )


API_PATH = re.compile(
    r"/client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/sso_connectors(/[0-9a-f]{32}(/begin_verification)?)?"
    r"|/v[12]/mgmt/sso/[a-z/]+|/api/v1/sso/[a-z]*"
    r"|/v2/managed_accounts(/acct_[A-Za-z0-9]+(/sso_connection)?)?"
    r"|/api/v0/companies/3c90c3cc-0d44-4b50-8888-8dd25736052a/sso-connections(/[0-9a-f-]+)?"
)
"""Every path the drivers may send to, for the manifest above."""

EVIL_IDS = ["../../../../../admin/delete_everything?x=", "..", "a/b", "x%2F..", "\x1b[2Kid", ""]
KEYS = [
    "success", "errors", "result", "code", "message", "id", "email_domain", "enabled",
    "verification", "status", "managed_accounts", "links", "next", "token", "tenants", "data",
    "items", "errorCode", "errorDescription", "errorMessage", "ssoId", "domains", "provider",
    "clientId", "providerBaseUrl", "SSOSettings", "oidc", "saml", "settings", "name", "error",
]  # fmt: skip


def _echoes(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        json.dumps(value)[1:-1],
        urllib.parse.quote(value, safe=""),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        f"\x1b[2K\rApply complete! {value}\n",
    ]


HOSTILE_TEXT = st.sampled_from([*_echoes(TOKEN), *_echoes(f"Bearer {TOKEN}"), *EVIL_IDS])
TEXT = st.one_of(st.text(max_size=24), HOSTILE_TEXT)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=6),
    ),
    max_leaves=24,
)
HEADER_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    st.sampled_from(
        [
            "999999", "-1", "nan", "inf", "1e309", "0", "Tue, 01 Jan 9999 00:00:00 GMT",
            '"default";r=0;t=999999999', "gzip", "deflate", "br", "gzip, gzip", "text/html",
            f"https://evil.example/?t={urllib.parse.quote(TOKEN)}", f"application/x-{TOKEN}",
        ]
    ),
)  # fmt: skip
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "content-type", "content-encoding", "retry-after", "retry-after-ms", "location",
            "x-rate-limit-remaining", "x-rate-limit-reset", "ratelimit",
        ]
    ),
    HEADER_VALUE,
    max_size=4,
)  # fmt: skip


@st.composite
def answers(draw: st.DrawFn, request: httpx.Request) -> httpx.Response:
    """An answer to `request`: the plausible one (an empty listing for a read; a 2xx with
    hostile JSON for a write), provider-shaped JSON with hostile values, or raw bytes."""
    kind = draw(st.sampled_from(["plausible", "plausible", "json", "bytes"]))
    headers = draw(HEADERS)
    if kind == "plausible" and request.method == "GET":
        status, body = EMPTY_LISTING[request.url.host]
        content = json.dumps(body).encode()
    elif kind == "plausible":
        status = draw(st.sampled_from([200, 201, 204]))
        content = json.dumps(draw(JSON)).encode()
    else:
        status = draw(st.one_of(st.sampled_from([200, 201, 204, 302, 400, 409, 429, 503])))
        status = draw(st.one_of(st.just(status), st.integers(100, 599)))
        content = (
            json.dumps(draw(JSON)).encode() if kind == "json" else draw(st.binary(max_size=64))
        )
    if headers.get("content-encoding") == "gzip" and draw(st.booleans()):
        content = gzip.compress(content)
    return httpx.Response(status, content=content, headers=headers)


def _decoded_stream(response: httpx.Response, raw: bytes) -> httpx.Response:
    """`response` with its body sent as a stream (so the transport decodes it itself)."""
    return httpx.Response(response.status_code, headers=response.headers, stream=_Bytes(raw))


class _Bytes(httpx.AsyncByteStream):
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    async def __aiter__(self) -> Any:
        yield self.raw


class Failure(Exception):
    pass


def run_once(
    workdir: Path, provider: str, draw_answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    """One apply of `provider`'s manifest over answers from `draw_answer`; raises `Failure`
    saying what went wrong."""
    state = workdir / "state.json"
    state.unlink(missing_ok=True)
    for stray in workdir.glob("state.json*"):
        stray.unlink()
    outside: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        if not API_PATH.fullmatch(path):
            outside.append(path)
        drawn = draw_answer(request)
        return _decoded_stream(drawn, drawn.content)

    clock = SkippingClock()

    def config(**kw: Any) -> RunConfig:
        return RunConfig(
            transport_factory=lambda *_: httpx.MockTransport(handler),
            backoff=False,
            deadline=5.0,
            max_wait=60.0,
            clock=clock,
            **kw,
        )

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch("ssoform.commands.plan.run_config", config),
        mock.patch("ssoform.commands.apply.run_config", config),
        mock.patch("asyncio.sleep", _fast_sleep),
    ):
        code = ssoform_main(
            ["apply", str(workdir / f"{provider}.yaml"), "--auto-approve", "--state", str(state)]
        )
    output = out.getvalue() + err.getvalue()
    stored = state.read_text() if state.exists() else ""
    problems = []
    if code not in (0, 1):
        problems.append(f"exit {code}")
    if "Traceback" in output or "internal error" in output:
        problems.append("traceback or internal error")
    if "\x1b" in output or "\nApply complete!" in output or "\rApply" in output:
        problems.append("a provider printed escapes or a line of its own")
    for form in secret_forms(TOKEN) | secret_forms(OIDC_SECRET):
        if form in output or form in stored:
            problems.append(f"secret leaked as {form[:12]}...")
            break
    if outside:
        problems.append(f"request outside the API paths: {outside[:2]}")
    if problems:
        raise Failure(f"{'; '.join(problems)}\n--- output ---\n{output[-3000:]}")


class SkippingClock:
    """The run's clock (`ssoform.transport.Clock`): a wait returns at once and moves this clock
    on by its length, so a budget paused by a 429 is not held in real time."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def time(self) -> float:
        return time.time() + self.skipped

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.skipped += max(0.0, seconds)
        await _REAL_SLEEP(0)


async def _fast_sleep(_seconds: float, result: Any = None) -> Any:
    """asyncio.sleep for the run: yields to the loop, never waits (budget pauses, Retry-After)."""
    await _REAL_SLEEP(0)
    return result


_REAL_SLEEP = asyncio.sleep


def fuzz(seconds: float, workdir: Path) -> int:
    """Run hypothesis for about `seconds`; returns the number of examples tried."""
    for provider in PROVIDERS:
        (workdir / f"{provider}.yaml").write_text(manifest(provider))
    os.environ["FUZZ_TOKEN"] = TOKEN
    os.environ["FUZZ_SECRET"] = OIDC_SECRET

    tried = 0

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # report the failing input as found: shrinking takes minutes
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def batch(data: st.DataObject) -> None:
        nonlocal tried
        tried += 1
        provider = data.draw(st.sampled_from(sorted(PROVIDERS)))
        run_once(workdir, provider, lambda request: data.draw(answers(request)))

    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        batch()  # a fresh random batch each time (no example database)
    return tried


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        try:
            tried = fuzz(args.seconds, Path(tmp))
        except Failure as exc:
            print(f"FAILURE: {exc}")
            return 1
        print(f"{tried} runs in {time.monotonic() - started:.0f} s: 0 failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
