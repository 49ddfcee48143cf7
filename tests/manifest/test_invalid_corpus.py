"""Every case in examples/invalid/ yields exactly the diagnostics in its expected.txt.

A case is a directory of manifest files and an `expected.txt`: one diagnostic a line, as
`FILE:LINE:COL: [warning: ]path: message` with FILE relative to the case directory, in the
order `ssoform validate` prints them. Lines starting with `#` are comments, except
`# options: {json}`, which sets `LoadOptions` fields (`resolve_secrets`, `cert_warning_days`,
`cli_vars`). Every case is loaded with `now` fixed at `CORPUS_NOW`, so certificates never rot.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssoform.manifest.diagnostics import Severity
from ssoform.manifest.load import LoadOptions, load_manifest

from .certgen import CORPUS, CORPUS_NOW

CASES = sorted(p for p in CORPUS.iterdir() if (p / "expected.txt").is_file())


def run_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str], bool]:
    """(expected lines, actual lines, whether the expected set has no error)."""
    expected: list[str] = []
    options: dict[str, object] = {}
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("# options:"):
            options = json.loads(line.removeprefix("# options:"))
        elif line.strip() and not line.startswith("#"):
            expected.append(line)
    monkeypatch.chdir(CORPUS)  # file names in messages are then relative, as a user types them
    monkeypatch.delenv("SSOFORM_CORPUS_UNSET_TOKEN", raising=False)
    loaded = load_manifest([Path(case.name)], LoadOptions(now=CORPUS_NOW, **options))  # type: ignore[arg-type]
    prefix = f"{case.name}/"
    actual = [str(d).removeprefix(prefix) for d in loaded.diagnostics]
    return expected, actual, not any(d.severity is Severity.ERROR for d in loaded.diagnostics)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


def test_only_the_expiring_certificate_case_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    valid = [case.name for case in CASES if run_case(case, monkeypatch)[2]]
    assert valid == ["cert-expiring"]  # warnings do not make a manifest invalid


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected, actual, _ = run_case(case, monkeypatch)
    assert actual == expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_reports_something_located(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, actual, _ = run_case(case, monkeypatch)
    assert actual, "a corpus case must produce at least one diagnostic"
    for line in actual:
        where = line.split(": ", 1)[0]
        assert where.count(":") == 2, f"not located at FILE:LINE:COL: {line}"
        assert ":0:" not in where, f"unknown position: {line}"
