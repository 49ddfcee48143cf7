"""The hostile-answer fuzzer (benchmarks/fuzz_http.py) in a shortened form for CI, and the
answers it found or that must always be covered, replayed one by one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench_scripts import FUZZ_SECONDS, bench_script


@pytest.mark.slow
def test_short_fuzz_run_finds_no_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code = bench_script("fuzz_http").main(["--seconds", FUZZ_SECONDS])
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
    fuzzer = bench_script("fuzz_http")
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
