"""Fleet benchmark: plan and apply thousands of connections against emulators served as real
processes on loopback, with injected latency and sped-up rate windows. Prints its figures.

    PYTHONPATH=src python benchmarks/fleet_bench.py [--sizes 500,5000] [--latency 0.05]
        [--time-scale 60] [--concurrency 16] [--workdir /tmp/ssoform-bench]

Each provider keeps its documented limit (the driver's declared `rate_limit`: Cloudflare 1,200
per 300 s, Descope 100 per 60 s, Vantage 1,000 per hour, ...) with its window divided by
`--time-scale`, the same factor for all, so their ratios stay real. For each provider the lower
bound of a phase is the larger of the windows its minimal requests must wait for
((ceil(requests / limit) - 1) x window) and (latency x minimal requests / concurrency); the
time ratio is wall time / the largest bound. Minimal requests: one list call per scope (one page
per 1,000 Vantage accounts) for plan, one call per change for apply.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fleet import ENV, PROVIDERS, Fleet, generate

from ssoform.drivers.registry import driver_class

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
TARGETS = {"plan_time": 1.15, "apply_time": 1.25, "plan_rss_mb": 300, "validate_s": 3.0}


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(SRC), str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, **ENV, "PYTHONPATH": path}


def scaled_limits(scale: float) -> dict[str, tuple[int, float]]:
    """Each provider's declared (requests, seconds), its window divided by `scale`."""
    out = {}
    for provider in PROVIDERS:
        requests, seconds = driver_class(provider).capabilities.rate_limit
        out[provider] = (requests, round(seconds / scale, 3))
    return out


@contextlib.contextmanager
def serve(
    fleet: Fleet, ports: dict[str, int], latency: float, limits: dict[str, tuple[int, float]]
) -> Iterator[None]:
    """One `ssoform emulate` process per provider, stopped on exit."""
    procs = []
    try:
        for provider in PROVIDERS:
            command = [
                sys.executable, "-m", "ssoform", "emulate", "--only", provider,
                "--port", str(ports[provider]), "--latency", str(latency),
                "--rate-limit", str(limits[provider][0]),
                "--rate-window", str(limits[provider][1]),
                "--store", f"{provider}={fleet.store(provider)}",
            ]  # fmt: skip
            procs.append(
                subprocess.Popen(
                    command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            )
        for provider in PROVIDERS:
            _wait_up(ports[provider])
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_up(port: int) -> None:
    for _ in range(200):  # at most 20 s
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1.0)
            return
        time.sleep(0.1)
    raise RuntimeError(f"emulator on port {port} did not start")


def emulator_stats(ports: dict[str, int], reset: bool = False) -> dict[str, dict[str, Any]]:
    out = {}
    for provider, port in ports.items():
        url = f"http://127.0.0.1:{port}/_emulator/stats"
        body = httpx.get(url, timeout=5.0).json()
        out[provider] = {
            "calls": sum(body["calls"].values()),
            "429": int(body["answers"].get("429", 0)),
        }
        if reset:
            httpx.delete(url, timeout=5.0)
    return out


def run_phase(phase: str, fleet: Fleet, state: Path) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "phase.py"), phase, str(fleet.manifest), str(state)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = proc.communicate(timeout=1800)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{phase} failed ({proc.returncode}): {stderr[-2000:]}{stdout[-500:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


def time_validate(fleet: Fleet) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ssoform", "validate", str(fleet.manifest)],
        env=_env(), check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return time.perf_counter() - started


def minimal_plan_requests(fleet: Fleet) -> dict[str, int]:
    return {p: math.ceil(n / 1000) if p == "vantage" else n for p, n in fleet.counts.items()}


def bound(
    minimal: dict[str, int],
    limits: dict[str, tuple[int, float]],
    latency: float,
    concurrency: int,
) -> float:
    return max(
        max((math.ceil(n / limits[p][0]) - 1) * limits[p][1], latency * n / concurrency)
        for p, n in minimal.items()
    )


def report(size: int, fleet: Fleet, figures: dict[str, Any], args: argparse.Namespace) -> None:
    plan, apply = figures["plan"], figures["apply"]
    plan_min = minimal_plan_requests(fleet)
    apply_min = dict(fleet.changes)
    limits = scaled_limits(args.time_scale)
    plan_bound = bound(plan_min, limits, args.latency, args.concurrency)
    apply_bound = bound(apply_min, limits, args.latency, args.concurrency)
    print(f"\n== {sum(fleet.counts.values())} connections ({size}) ==")
    print(
        f"latency {args.latency * 1000:.0f} ms, windows / {args.time_scale:g}, "
        f"concurrency {args.concurrency}"
    )
    print("limits: " + ", ".join(f"{p} {n} per {w:g} s" for p, (n, w) in limits.items()))
    print(f"{'provider':<11} {'scopes':>6} {'plan req':>9} {'min':>5} {'429':>4}"
          f" {'changes':>7} {'apply req':>9} {'429':>4}")  # fmt: skip
    for p in PROVIDERS:
        ps, aps = plan["plan_stats"][p], apply["apply_stats"].get(p, {})
        print(
            f"{p:<11} {fleet.counts[p]:>6} {ps['requests']:>9} {plan_min[p]:>5} "
            f"{ps['rate_limited']:>4} {apply_min[p]:>7} {aps.get('requests', 0):>9} "
            f"{aps.get('rate_limited', 0):>4}"
        )
    plan_req = sum(s["requests"] for s in plan["plan_stats"].values())
    apply_req = sum(s["requests"] for s in apply["apply_stats"].values())
    plan_429 = sum(s["rate_limited"] for s in plan["plan_stats"].values())
    apply_429 = sum(s["rate_limited"] for s in apply["apply_stats"].values())
    served_429 = sum(s["429"] for s in figures["served"].values())
    wall = plan["process_wall"]
    rows = [
        ("validate (s)", f"{figures['validate']:.2f}", f"< {TARGETS['validate_s']}"),
        ("plan wall, process (s)", f"{wall:.2f}", ""),
        ("  load manifest (s)", f"{plan['load']:.2f}", ""),
        ("  read + diff (s)", f"{plan['plan']:.2f}", ""),
        ("  render report (s)", f"{plan['render']:.2f}", ""),
        ("plan lower bound (s)", f"{plan_bound:.2f}", ""),
        ("plan time ratio", f"{wall / plan_bound:.3f}", f"<= {TARGETS['plan_time']}"),
        ("plan request ratio", f"{plan_req / sum(plan_min.values()):.3f}", "1.0"),
        ("plan 429s", f"{plan_429}", "0"),
        ("plan peak RSS (MB)", f"{plan['peak_rss_mb']:.0f}", f"< {TARGETS['plan_rss_mb']}"),
        ("apply wall (s)", f"{apply['apply']:.2f}", ""),
        ("apply lower bound (s)", f"{apply_bound:.2f}", ""),
        ("apply time ratio", f"{apply['apply'] / apply_bound:.3f}", f"<= {TARGETS['apply_time']}"),
        ("apply request ratio", f"{apply_req / sum(apply_min.values()):.3f}", ""),
        ("apply 429s", f"{apply_429}", "0"),
        ("applied / failed", f"{apply['applied']} / {apply['failed_count']}", ""),
        ("apply process peak RSS (MB)", f"{apply['peak_rss_mb']:.0f}", ""),
        ("429s counted by the emulators", f"{served_429}", "0"),
        ("plan after apply: changes left", f"{figures['after']}", ""),
    ]
    for name, value, target in rows:
        print(f"{name:<32} {value:>12}   {('target ' + target) if target else ''}")
    if apply["failed"]:
        print("failures:", *apply["failed"], sep="\n  ")


def _pause(fleet: Fleet, limits: dict[str, tuple[int, float]]) -> float:
    """Seconds until every window that two phases together could overrun has passed."""
    plan_min, apply_min = minimal_plan_requests(fleet), dict(fleet.changes)
    crowded = [w for p, (n, w) in limits.items() if plan_min[p] + apply_min[p] > n]
    return max([1.0, *crowded]) * 1.02 + 0.5


def run_size(size: int, args: argparse.Namespace) -> None:
    ports = {p: args.port + i for i, p in enumerate(PROVIDERS)}
    root = Path(args.workdir) / f"fleet-{size}"
    limits = scaled_limits(args.time_scale)
    fleet = generate(root, size, ports, limits, args.concurrency)
    state = root / "run-state.json"
    shutil.copyfile(fleet.state, state)
    figures: dict[str, Any] = {"validate": time_validate(fleet)}
    pause = _pause(fleet, limits)
    with serve(fleet, ports, args.latency, limits):
        figures["plan"] = run_phase("plan", fleet, state)
        time.sleep(pause)  # let the emulators' windows pass: each phase starts fresh
        emulator_stats(ports, reset=True)
        figures["apply"] = run_phase("apply", fleet, state)
        figures["served"] = emulator_stats(ports)
        time.sleep(pause)
        after = run_phase("plan", fleet, state)
        changing = ("create", "update", "replace", "delete", "adopt")
        figures["after"] = sum(after["actions"].get(a, 0) for a in changing)
    report(size, fleet, figures, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000", help="Connections, comma-separated.")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="Divide every provider's documented rate window by this (the same for all).",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--workdir", default="/tmp/ssoform-bench")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
