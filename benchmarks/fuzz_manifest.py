"""Fuzz the manifest loader and validator: no input may make `load_manifest` raise.

    python benchmarks/fuzz_manifest.py --seconds 600                 # hypothesis (default)
    python benchmarks/fuzz_manifest.py --seconds 600 --engine atheris

Inputs are arbitrary text, and the example manifests (merged into one document) mutated at
random paths: values replaced by random JSON, keys dropped, template escape attempts, hostile
YAML (tags, anchors, deep nesting). `load_manifest` must return diagnostics, never raise; a
valid result must have a manifest and a digest. Each crashing input is written to
`--findings` (default `benchmarks/fuzz-findings/`) and printed; turn them into regression
tests in `tests/manifest/test_fuzz_regressions.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssoform.manifest.load import load_manifest

EXAMPLES = Path(__file__).parents[1] / "examples" / "manifests"

HOSTILE_STRINGS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ 'a' * 100000000 }}",
    "{% for i in range(100000000) %}x{% endfor %}",
    "{{ vars }}",
    "{{ vars.missing }}",
    "{{ tenant.domains | join(',') }}",
    "{% set x = [] %}{% for i in range(99) %}{% do x.append(i) %}{% endfor %}",
    "{{",
    "{% if %}",
    "{# unterminated",
    "{{ range(10**9) | list }}",
    "{{ ((('a',) * 1000) | join) * 1000 }}",
    "\x00",
    "\ud7ff\ue000",
    "../../../../etc/passwd",
    "https://evil.example@127.0.0.1/",
    "http://10.0.0.1/metadata",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    "xn--zz-",
    "a" * 300,
]

HOSTILE_DOCUMENTS = [
    "!!python/object/apply:os.system ['id']",
    "a: &a [*a]",
    "a: &x [1]\nb: *x\nc: *nope",
    "[" * 5000 + "]" * 5000,
    "{" * 5000,
    "version: 1\n" + "x: y\n" * 3,
    "version: !!binary aGVsbG8=",
    "version: 1e309",
    "version: .nan",
    "? [a, b]\n: c",
    "%YAML 1.1\n---\nversion: 1\n---\nversion: 2",
    "version: 1\nproviders: {cf: {type: cloudflare, api_token: {file: /etc/passwd}}}",
    "\ufeffversion: 1",
    "version: 0x1",
    "<<: {version: 1}",
]


def base_document() -> dict[str, Any]:
    """The example manifests merged into one document."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / "ssoform.yaml").read_text())
    doc.setdefault("tenants", {})
    for tenant_file in sorted((EXAMPLES / "tenants").glob("*.yaml")):
        doc["tenants"].update(yaml.safe_load(tenant_file.read_text())["tenants"])
    return doc


class Target:
    """A directory holding the example certificates; each input is loaded from a file in it."""

    def __init__(self, findings: Path) -> None:
        self.findings = findings
        self.root = Path(tempfile.mkdtemp(prefix="ssoform-fuzz-"))
        shutil.copytree(EXAMPLES / "certs", self.root / "certs")
        (self.root / "secrets").mkdir()
        (self.root / "secrets" / "globex-client-secret").write_text("s3cret\n")
        self.path = self.root / "manifest.yaml"
        self.runs = 0
        self.crashes: dict[str, tuple[str, str]] = {}

    def check(self, text: str) -> None:
        """Load `text` as a manifest; raise AssertionError (recording it) if the loader crashes."""
        self.runs += 1
        self.path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            loaded = load_manifest([self.path])
            for diag in loaded.diagnostics:
                str(diag)
            if loaded.ok:
                assert loaded.manifest is not None
                loaded.digest()
        except Exception as exc:
            kind = f"{type(exc).__name__}: {str(exc)[:120]}"
            key = hashlib.sha256(kind.encode()).hexdigest()[:12]
            if key not in self.crashes:
                self.crashes[key] = (text, traceback.format_exc())
                self._save(key)
            raise AssertionError(kind) from exc

    def _save(self, key: str) -> None:
        """Write a finding at once (libFuzzer may end the process without returning)."""
        text, trace = self.crashes[key]
        self.findings.mkdir(parents=True, exist_ok=True)
        (self.findings / f"{key}.yaml").write_text(text, errors="surrogatepass")
        (self.findings / f"{key}.txt").write_text(trace)
        print(f"--- new crash {key}\n{trace}", file=sys.stderr, flush=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# --- hypothesis -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(HOSTILE_STRINGS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    doc = base_document()
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        op = draw(st.sampled_from(["replace", "drop", "hostile", "add"]))
        last = path[-1]
        if op == "drop":
            del parent[last]
        elif op == "hostile":
            parent[last] = draw(st.sampled_from(HOSTILE_STRINGS))
        elif op == "add" and isinstance(parent[last], dict):
            parent[last][draw(st.text(max_size=12))] = draw(json_values)
        else:
            parent[last] = draw(json_values)
    return yaml.safe_dump(doc, allow_unicode=True)


inputs = (
    mutated_documents()
    | st.text(max_size=400)
    | st.sampled_from(HOSTILE_DOCUMENTS)
    | json_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True))
)


def run_hypothesis(target: Target, seconds: float, batch: int = 200) -> None:
    @settings(
        max_examples=batch,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(inputs)
    def one(text: str) -> None:
        target.check(text)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            one()
        except (AssertionError, BaseExceptionGroup) as exc:
            print(f"crash: {exc}", file=sys.stderr)  # recorded by Target.check


# --- atheris ----------------------------------------------------------------------------------


def run_atheris(target: Target, seconds: float) -> None:
    import atheris  # type: ignore[import-not-found]

    corpus = Path(tempfile.mkdtemp(prefix="ssoform-fuzz-corpus-"))
    target.findings.mkdir(parents=True, exist_ok=True)
    (corpus / "base.yaml").write_text(yaml.safe_dump(base_document()))
    for index, doc in enumerate(HOSTILE_DOCUMENTS):
        (corpus / f"hostile-{index}.yaml").write_text(doc)

    def one(data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        try:
            target.check(text)
        except AssertionError:
            return  # recorded; keep fuzzing

    atheris.instrument_all()  # coverage feedback from every loaded module (the loader's too)
    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={int(seconds)}",
            "-max_len=8192",
            f"-artifact_prefix={target.findings}/",
            str(corpus),
        ],
        one,
    )
    atheris.Fuzz()


ENGINES: dict[str, Callable[..., None]] = {
    "hypothesis": run_hypothesis,
    "atheris": run_atheris,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--engine", choices=sorted(ENGINES), default="hypothesis")
    parser.add_argument("--batch", type=int, default=200, help="hypothesis examples per round")
    parser.add_argument("--findings", type=Path, default=Path(__file__).with_name("fuzz-findings"))
    args = parser.parse_args(argv)
    target = Target(args.findings)
    started = time.monotonic()
    try:
        if args.engine == "hypothesis":
            run_hypothesis(target, args.seconds, args.batch)
        else:
            run_atheris(target, args.seconds)
    except SystemExit:
        pass
    finally:
        target.close()
    elapsed = time.monotonic() - started
    print(
        f"fuzz ({args.engine}): {target.runs} inputs in {elapsed:.0f} s, "
        f"{len(target.crashes)} distinct crash(es)"
    )
    return 1 if target.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
