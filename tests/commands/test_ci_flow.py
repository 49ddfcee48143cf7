"""The CI flow as a user's runners run it: every job a real process in its own fresh directory,
sharing only a real PostgreSQL server (the state), the served emulators (the providers) and the
artifact files (saved plans). Pull request 1 and 2 plan, merge 1 applies, merge 2's reviewed
plan is refused as stale without `--replan` and applies with it, the nightly drift reads the
shared state, and two applies started at the same moment leave one applied and the other
refused, never a corrupt state or a duplicate."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pgserver import PgServer
from served import (
    ACCOUNT,
    DESCOPE_TENANT,
    MANIFEST,
    TENANTS,
    TIMEOUT,
    Served,
    live_objects,
    serve,
)
from ssoform.engine.postgres import PostgresStateBackend


@pytest.fixture
def emulators(tmp_path: Path, pg_url: str) -> Iterator[Served]:
    (tmp_path / "emulators").mkdir()
    yield from serve(tmp_path / "emulators", pg_url)


class Repo:
    """The manifests as they stand at one commit; each job checks them out afresh."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.port = int(served.cf.rsplit(":", 1)[1])
        self.ds_port = int(served.ds.rsplit(":", 1)[1])

    def text(self, domains: list[str], tenants: list[int]) -> str:
        return MANIFEST.format(
            port=self.port,
            ds_port=self.ds_port,
            domains=", ".join(domains),
            account=ACCOUNT,
        ) + "".join(DESCOPE_TENANT.format(name=f"t{i}", tenant=TENANTS[i]) for i in tenants)


def _job(root: Path, name: str, manifest: str, artifacts: dict[str, Path] | None = None) -> Path:
    """A fresh runner directory: a checkout of the manifests, plus downloaded artifacts."""
    job = root / name
    (job / "manifests").mkdir(parents=True)
    (job / "manifests" / "sso.yaml").write_text(manifest)
    for target, source in (artifacts or {}).items():
        shutil.copy(source, job / target)
    return job


def _ssoform(served: Served, job: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssoform", *args],
        cwd=job,
        env=served.env | {"SSOFORM_STATE": served.state},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _start(served: Served, job: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ssoform", *args],
        cwd=job,
        env=served.env | {"SSOFORM_STATE": served.state},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_pull_requests_merges_and_drift_on_separate_runners(
    emulators: Served, pg_server: PgServer, tmp_path: Path
) -> None:
    served, repo, runners = emulators, Repo(emulators), tmp_path / "runners"
    main0 = repo.text(["d0.example"], [])
    pr1 = repo.text(["d0.example", "d1.example", "d2.example"], [])  # more Cloudflare domains
    pr2 = repo.text(["d0.example"], [0])  # a Descope tenant, independent of pull request 1
    both = repo.text(["d0.example", "d1.example", "d2.example"], [0])

    seed = _job(runners, "seed", main0)  # the state as main left it
    assert _ssoform(served, seed, "apply", "manifests/", "--auto-approve").returncode == 0

    plan1 = _ssoform(
        served, job1 := _job(runners, "pr1-plan", pr1), "plan", "manifests/", "-o", "plan.json"
    )
    plan2 = _ssoform(
        served, job2 := _job(runners, "pr2-plan", pr2), "plan", "manifests/", "-o", "plan.json"
    )
    assert plan1.returncode == 0, plan1.stderr
    assert plan2.returncode == 0, plan2.stderr

    merge1 = _job(runners, "merge1-apply", pr1, {"plan.json": job1 / "plan.json"})
    applied = _ssoform(served, merge1, "apply", "plan.json", "--lock-timeout", "30s")
    assert applied.returncode == 0, applied.stdout + applied.stderr

    merge2 = _job(runners, "merge2-apply", both, {"plan.json": job2 / "plan.json"})
    stale = _ssoform(served, merge2, "apply", "plan.json", "--lock-timeout", "30s")
    assert stale.returncode == 1
    assert "changed since the plan was made" in stale.stderr  # the manifest, and the state
    # What the workflow runs: plan again against the state merge 1 left, and apply only if the
    # changes are exactly the reviewed ones (pull request 2 is independent of pull request 1).
    merge2b = _job(runners, "merge2-apply-replan", both, {"plan.json": job2 / "plan.json"})
    again = _ssoform(served, merge2b, "apply", "plan.json", "--replan", "--lock-timeout", "30s")
    assert again.returncode == 0, again.stdout + again.stderr

    nightly = _job(runners, "nightly-drift", both)
    drift = _ssoform(served, nightly, "drift", "manifests/", "--format", "json", "-o", "d.json")
    assert drift.returncode in (0, 2), drift.stderr
    report = json.loads((nightly / "d.json").read_text())
    assert report["summary"]
    final = _ssoform(
        served, _job(runners, "check", both), "plan", "manifests/", "--detailed-exitcode"
    )
    assert final.returncode == 0, final.stdout + final.stderr

    live = live_objects(served)
    declared = [f"{ACCOUNT}/d{i}.example" for i in range(3)]
    declared += [f"{TENANTS[0]}/default", f"{TENANTS[0]}/extra"]
    assert live == dict.fromkeys(declared, 1)
    history = PostgresStateBackend(served.state).history()
    assert [h.operation for h in history].count("apply") >= 3
    assert pg_server.password not in "".join(
        p.stdout + p.stderr for p in (plan1, plan2, applied, stale, again, drift, final)
    )


@pytest.mark.slow
def test_two_applies_at_the_same_moment(emulators: Served, tmp_path: Path) -> None:
    served, repo, runners = emulators, Repo(emulators), tmp_path / "runners"
    wanted = repo.text([f"d{i}.example" for i in range(4)], [0, 1])
    planner = _job(runners, "plan", wanted)
    assert _ssoform(served, planner, "plan", "manifests/", "-o", "plan.json").returncode == 0
    jobs = [
        _job(runners, f"apply-{n}", wanted, {"plan.json": planner / "plan.json"}) for n in (1, 2)
    ]
    procs = [_start(served, job, "apply", "plan.json") for job in jobs]
    results = [(p.wait(timeout=TIMEOUT), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    _, _, refused = next(r for r in results if r[0] == 1)
    assert (
        "is locked (lock " in refused and " on " in refused
    ) or "the state changed since the plan was made" in refused, refused

    state = PostgresStateBackend(served.state).read()
    assert state is not None
    final = _ssoform(
        served, _job(runners, "check", wanted), "plan", "manifests/", "--detailed-exitcode"
    )
    assert final.returncode == 0, final.stdout + final.stderr
    declared = [f"{ACCOUNT}/d{i}.example" for i in range(4)]
    declared += [f"{TENANTS[t]}/{s}" for t in (0, 1) for s in ("default", "extra")]
    assert live_objects(served) == dict.fromkeys(declared, 1)
