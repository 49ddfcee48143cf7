"""How long `ssoform validate` takes on a fleet of 10,000 tenants, and how much memory.

Generates a manifest of N tenants (four connections each, on all four stable providers) as a
single file and as a directory of one file per tenant, validates each in-process with
`load_manifest` and through the CLI in a subprocess, and prints wall time and peak memory
against the targets (under 5 s and 500 MB). Then plants one error in the middle tenant of each
layout and checks that the error path stays within twice the valid case's time and memory (only
the paths that carry an error are located in the YAML).

    PYTHONPATH=src python benchmarks/validate_fleet.py [--tenants 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from ssoform.cli import tuned_collector
from ssoform.manifest.load import LoadedManifest, LoadOptions, load_manifest

TARGET_SECONDS = 5.0
TARGET_MB = 500.0
ERROR_RATIO = 2.0

HEADER = """\
version: 1
vars:
  callback_host: sso.example-saas.com
providers:
  cf:
    type: cloudflare
    api_token: {env: CF_TOKEN}
  descope:
    type: descope
    project_id: P2fleet
    management_key: {env: DESCOPE_KEY}
  vantage:
    type: vantage
    api_token: {env: VANTAGE_TOKEN}
  cantina:
    type: cantina
    api_key: {env: CANTINA_KEY}
"""


def idp(i: int) -> str:
    return f"""\
  idp-{i}:
    kind: okta
    saml:
      metadata_url: https://t{i}.okta.example/app/sso/saml/metadata
    oidc:
      issuer: https://t{i}.okta.example
      client_id: client{i}
      client_secret: {{env: IDP_{i}_SECRET}}
"""


def tenant(i: int) -> str:
    return f"""\
  t{i}:
    description: Tenant number {i}
    domains: [t{i}.example, t{i}-corp.example]
    idp: idp-{i}
    connections:
      - provider: descope
        tenant_id: T{i}
        protocol: saml-metadata
        redirect_url: "https://{{{{ vars.callback_host }}}}/{{{{ tenant.name }}}}/callback"
        role_mappings:
          - {{groups: [admins], role: Tenant Admin}}
      - provider: cf
        account_id: "{i:032x}"
      - provider: vantage
        managed_account: acct_{i:08d}
      - provider: cantina
        company_id: {i:08x}-0000-4000-8000-000000000000
        domains: [t{i}.example]
"""


def write_single(folder: Path, count: int) -> Path:
    path = folder / "fleet.yaml"
    parts = [HEADER, "identity_providers:\n"]
    parts.extend(idp(i) for i in range(count))
    parts.append("tenants:\n")
    parts.extend(tenant(i) for i in range(count))
    path.write_text("".join(parts))
    return path


def plant_error(path: Path, count: int) -> Path:
    """Add one unknown key to the middle tenant of a fleet written by `write_single` or
    `write_directory`; returns the path to validate (unchanged)."""
    middle = count // 2
    target = path if path.is_file() else path / "tenants" / f"t{middle:05d}.yaml"
    line = f"    description: Tenant number {middle}\n"
    text = target.read_text()
    assert line in text, "the fleet layout changed"
    target.write_text(text.replace(line, line + "    bogus_key: 1\n", 1))
    return path


def write_directory(folder: Path, count: int) -> Path:
    root = folder / "fleet"
    (root / "tenants").mkdir(parents=True)
    (root / "ssoform.yaml").write_text(HEADER)
    for i in range(count):
        text = f"identity_providers:\n{idp(i)}tenants:\n{tenant(i)}"
        (root / "tenants" / f"t{i:05d}.yaml").write_text(text)
    return root


def _load(path: Path, options: LoadOptions) -> LoadedManifest:
    """Load as the console script does: in its garbage-collector tuning (cli.py), undone after."""
    try:
        with tuned_collector():
            return load_manifest([path], options)
    finally:
        gc.unfreeze()


def in_process(path: Path, profile: bool) -> tuple[float, float, int]:
    """(seconds, peak MB traced by tracemalloc, diagnostics) of one load_manifest."""
    options = LoadOptions()
    run: Callable[[], object] = lambda: _load(path, options)  # noqa: E731
    profiler = cProfile.Profile() if profile else None
    tracemalloc.start()
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    loaded = _load(path, options)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    del run
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    # time again without tracemalloc, which slows allocation-heavy code down
    start = time.perf_counter()
    _load(path, options)
    seconds = min(seconds, time.perf_counter() - start)
    return seconds, peak, len(loaded.diagnostics)


_CHILD = """
import sys
from ssoform.cli import main
code = main(sys.argv[1:], tune_collector=True)
status = open("/proc/self/status").read()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
sys.stderr.write(f"\\npeak-kb={peak}\\n")
sys.exit(code)
"""


def via_cli(path: Path, expect: int = 0) -> tuple[float, float, int]:
    """(seconds, peak RSS MB of the child, exit code) of `ssoform validate` in a new process.

    The child reports its own high-water mark (VmHWM, Linux): the rusage of a child counts the
    parent's memory it was forked from, which here holds the in-process runs' manifests."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, "validate", str(path)],
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    err = result.stderr.decode()
    peak_kb = int(err.rsplit("peak-kb=", 1)[1]) if "peak-kb=" in err else 0
    if result.returncode != expect:
        sys.stderr.write(err[:2000])
    return seconds, peak_kb / 1024, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process runs")
    args = parser.parse_args()
    ok = True
    print(f"targets: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        layouts = {
            "single file": write_single(folder, args.tenants),
            "directory": write_directory(folder, args.tenants),
        }
        size = layouts["single file"].stat().st_size / 1e6
        print(f"{args.tenants} tenants, {4 * args.tenants} connections; single file {size:.1f} MB")
        valid: dict[str, tuple[float, float]] = {}
        for name, path in layouts.items():
            seconds, peak, diags = in_process(path, args.profile)
            verdict = seconds < TARGET_SECONDS and peak < TARGET_MB and diags == 0
            ok &= verdict
            print(
                f"  {name:12} load_manifest: {seconds:6.2f} s, peak traced {peak:6.1f} MB, "
                f"{diags} diagnostics  {'ok' if verdict else 'MISSED'}"
            )
            seconds, rss, code = via_cli(path)
            valid[name] = (seconds, rss)
            verdict = seconds < TARGET_SECONDS and rss < TARGET_MB and code == 0
            ok &= verdict
            print(
                f"  {name:12} ssoform validate: {seconds:6.2f} s, peak RSS {rss:6.1f} MB, "
                f"exit {code}  {'ok' if verdict else 'MISSED'}"
            )
        print(f"one error planted: within {ERROR_RATIO:.0f}x of the valid case's time and memory")
        for name, path in layouts.items():
            seconds, rss, code = via_cli(plant_error(path, args.tenants), expect=1)
            base_seconds, base_rss = valid[name]
            verdict = (
                code == 1 and seconds < ERROR_RATIO * base_seconds and rss < ERROR_RATIO * base_rss
            )
            ok &= verdict
            print(
                f"  {name:12} ssoform validate: {seconds:6.2f} s "
                f"({seconds / base_seconds:.2f}x), peak RSS {rss:6.1f} MB "
                f"({rss / base_rss:.2f}x), exit {code}  {'ok' if verdict else 'MISSED'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
