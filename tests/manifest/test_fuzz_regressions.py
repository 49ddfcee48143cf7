"""Inputs the manifest fuzzer (benchmarks/fuzz_manifest.py) found crashing the loader.

Each must now come back as diagnostics, never as an exception.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ssoform.manifest.load import load_manifest

FOUND = {
    "self-referencing alias": "a: &a [*a]\n",
    "deep flow nesting with a tag": "!x " + "{" * 3000 + "\n",
    "deep flow nesting": "[" * 3000 + "\n",
}


@pytest.mark.parametrize("text", FOUND.values(), ids=FOUND.keys())
def test_fuzz_finding_is_a_diagnostic(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    loaded = load_manifest([path])
    assert not loaded.ok
    assert loaded.diagnostics
    assert all(str(d).startswith(str(path)) for d in loaded.diagnostics)
