"""What reading an identity provider costs, and what hostile answers cost: prints figures.

Usage: python benchmarks/idp_hostile.py
For each case: wall seconds and the growth of peak RSS (MiB) while it ran, and the outcome (the
one-line finding or "ok"). Cases: a 20-certificate metadata document (larger than Entra's), an
XML bomb, an external entity, a 50 MB answer without a declared length, a 50 MB gzip bomb
(decompressed size counted), a body that stalls (cut at a 0.5 s deadline), a redirect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import resource
import time
from collections.abc import AsyncIterator, Callable

import httpx

from ssoform.emulators.idp import IdpStore, make_certificate
from ssoform.idp.fetch import FetchLimits
from ssoform.idp.read import read_identity_providers
from ssoform.manifest.models import Manifest

URL = "https://idp.example/app/metadata"
MANIFEST = Manifest.model_validate(
    {"version": 1, "identity_providers": {"idp": {"saml": {"metadata_url": URL}}}}
)


def _large_metadata() -> bytes:
    now = dt.datetime.now(dt.UTC)
    certs = [
        make_certificate(
            f"signer{i}.idp.example", now - dt.timedelta(days=i), now + dt.timedelta(days=400)
        )
        for i in range(16)
    ]
    store = IdpStore()
    store.add_saml("idp", URL, "urn:idp", "https://idp.example/sso", certs)
    return store.metadata(store.idps["idp"]).encode()


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
    )
    + b']><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&j;"/>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>'
)


async def _fifty_mb() -> AsyncIterator[bytes]:
    chunk = b" " * 65536
    for _ in range(800):
        yield chunk


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 16384):  # as a network would deliver it
        yield data[start : start + 16384]


async def _stall() -> AsyncIterator[bytes]:
    yield b"<md:EntityDescriptor"
    await asyncio.Event().wait()


def _cases() -> dict[str, Callable[[httpx.Request], httpx.Response]]:
    large = _large_metadata()
    gz = gzip.compress(b" " * (50 * 1024 * 1024))
    return {
        "metadata, 16 certificates": lambda _r: httpx.Response(200, content=large),
        "XML bomb": lambda _r: httpx.Response(200, content=BOMB),
        "external entity": lambda _r: httpx.Response(200, content=XXE),
        "50 MB, no length": lambda _r: httpx.Response(200, content=_fifty_mb()),
        "50 MB gzip bomb": lambda _r: httpx.Response(
            200, content=_chunks(gz), headers={"content-encoding": "gzip"}
        ),
        "stalled body": lambda _r: httpx.Response(200, content=_stall()),
        "redirect": lambda _r: httpx.Response(302, headers={"location": "https://evil.example/"}),
    }


async def main() -> None:
    print(f"{'case':28} {'seconds':>8} {'RSS +MiB':>9}  outcome")
    for name, handler in _cases().items():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        found = await read_identity_providers(
            MANIFEST,
            transport=httpx.MockTransport(handler),
            limits=FetchLimits(deadline=0.5),
        )
        seconds = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        readout = found["idp"]
        outcome = (
            f"{readout.problems[0].kind}: {readout.problems[0].message}"
            if readout.problems
            else f"ok, {len(readout.saml.certificates) if readout.saml else 0} certificates"
        )
        print(f"{name:28} {seconds:8.3f} {grown:9.1f}  {outcome}")


if __name__ == "__main__":
    asyncio.run(main())
