"""The hostile-answer fuzzer (benchmarks/fuzz_http.py) in a shortened form for CI, and the
answers it found or that must always be covered, replayed one by one."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

SECONDS = os.environ.get("SSOFORM_FUZZ_SECONDS", "8")
"""600 in the full run (docs/reliability.md)."""


@functools.cache
def _fuzzer() -> ModuleType:
    path = Path(__file__).parents[2] / "benchmarks" / "fuzz_http.py"
    spec = importlib.util.spec_from_file_location("ssoform_bench_fuzz_http", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_short_fuzz_run_finds_no_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code = _fuzzer().main(["--seconds", SECONDS])
    out = capsys.readouterr().out
    assert code == 0, out
    assert ": 0 failures" in out


REPLAYED = {
    "string errors": (200, b'{"success": false, "errors": ["boom"]}', {}),
    "token echoed in a code": (400, b'{"errorCode": "TOKEN", "errors": [{"code": "TOKEN"}]}', {}),
    "escapes": (400, b'{"message": "\\u001b[2K\\rApply complete!\\n"}', {}),
    "redirect echoing": (302, b"", {"location": "https://evil.example/?t=TOKEN"}),
    "content type echoing": (500, b"<x", {"content-type": "text/x-TOKEN"}),
    "far retry": (503, b"", {"retry-after": "999999"}),
    "spent quota": (200, b"[]", {"ratelimit": '"d";r=0;t=999999999'}),
    "lying encoding": (200, b"not gzip", {"content-encoding": "gzip"}),
    "unknown encoding": (200, b"{}", {"content-encoding": "br"}),
    "nan retry": (429, b"", {"retry-after": "nan"}),
}


CASES = [
    (answer, provider)
    for index, answer in enumerate(REPLAYED)
    for provider in (["cf", "ds", "va", "ca", "ps"][index % 5],)
]


@pytest.mark.parametrize(("answer", "provider"), CASES, ids=[f"{a} ({p})" for a, p in CASES])
def test_a_hostile_answer_to_every_request_is_survived(
    tmp_path: Path, provider: str, answer: str
) -> None:
    fuzzer = _fuzzer()
    status, body, headers = REPLAYED[answer]
    token = fuzzer.TOKEN
    content = body.replace(b"TOKEN", token.encode())
    headers = {k: v.replace("TOKEN", token) for k, v in headers.items()}
    (tmp_path / f"{provider}.yaml").write_text(fuzzer.manifest(provider))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUZZ_TOKEN", token)
        patch.setenv("FUZZ_SECRET", fuzzer.OIDC_SECRET)
        fuzzer.run_once(
            tmp_path,
            provider,
            lambda _r: httpx.Response(status, content=content, headers=headers),
        )
