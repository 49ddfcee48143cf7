"""Which part of a manifest changed since a git ref: the scope of an incremental plan.

`changed_scope(loaded, paths, ref)` runs `git diff --name-only REF -- PATHS` (plus untracked
files) and compares each changed manifest file with its version at REF, entry by entry:

- a tenant whose entry changed, appeared or disappeared is in scope;
- a changed provider instance brings in every tenant that uses it (and, in the planner, every
  resource state holds for it);
- a changed identity provider brings in every tenant that binds it, directly or per connection;
- anything else (`vars`, `version`, a certificate or other non-manifest file, an unparseable
  file) can touch any tenant: the answer is then None, a full plan.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssoform.errors import ManifestError
from ssoform.manifest.load import LoadedManifest
from ssoform.manifest.yamlsource import YamlProblem, load_yaml

__all__ = ["ChangeScope", "changed_scope"]

_GIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ChangeScope:
    """Tenants and provider instances an incremental plan covers."""

    ref: str
    tenants: frozenset[str]
    providers: frozenset[str]

    def covers(self, tenant: str, provider: str) -> bool:
        return tenant in self.tenants or provider in self.providers

    def describe(self) -> str:
        def listing(names: frozenset[str]) -> str:
            shown = sorted(names)
            more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
            return ", ".join(shown[:5]) + more

        parts = []
        if self.tenants:
            parts.append(f"tenant(s) {listing(self.tenants)}")
        if self.providers:
            parts.append(f"provider instance(s) {listing(self.providers)}")
        what = "; ".join(parts) if parts else "nothing changed"
        return f"changed since {self.ref}: {what}"


def _git(args: Sequence[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ManifestError("--changed-since needs git, which was not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise ManifestError(f"git {args[0]} took longer than {_GIT_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise ManifestError(f"git {' '.join(args[:2])}: {message}")
    return done.stdout


def _toplevel(paths: Sequence[Path]) -> Path:
    start = paths[0] if paths[0].is_dir() else paths[0].parent
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], start.resolve()).strip())
    except ManifestError:
        raise ManifestError(
            f"--changed-since needs the manifests in a git repository: {start} is not in one"
        ) from None


def _entries(data: Any, section: str) -> dict[str, Any]:
    value = data.get(section) if isinstance(data, Mapping) else None
    return dict(value) if isinstance(value, Mapping) else {}


def _differing(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def changed_scope(loaded: LoadedManifest, paths: Sequence[Path], ref: str) -> ChangeScope | None:
    """The tenants and provider instances touched since `ref`, or None when a change can touch
    every tenant (then plan everything)."""
    manifest = loaded.manifest
    assert manifest is not None
    top = _toplevel(paths)
    where = [str(p.resolve()) for p in paths]
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    except ManifestError:
        raise ManifestError(
            f"--changed-since {ref}: not a commit in this repository ({top})"
        ) from None
    names = _git(["diff", "--name-only", ref, "--", *where], top).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard", "--", *where], top).splitlines()
    tenants: set[str] = set()
    providers: set[str] = set()
    idps: set[str] = set()
    for name in sorted(set(filter(None, names))):
        if Path(name).suffix not in (".yaml", ".yml"):
            return None  # a certificate or other referenced file: it may touch anything
        new_path = top / name
        try:
            old = load_yaml(_old_text(top, ref, name))
            new = load_yaml(new_path.read_bytes()) if new_path.exists() else {}
        except (YamlProblem, OSError, UnicodeDecodeError):
            return None
        old, new = old if isinstance(old, Mapping) else {}, new if isinstance(new, Mapping) else {}
        sections = {"providers", "identity_providers", "tenants"}
        for key in old.keys() | new.keys():
            if key not in sections and old.get(key) != new.get(key):
                return None  # vars, version, ...: may touch every tenant
        tenants |= _differing(_entries(old, "tenants"), _entries(new, "tenants"))
        providers |= _differing(_entries(old, "providers"), _entries(new, "providers"))
        idps |= _differing(_entries(old, "identity_providers"), _entries(new, "identity_providers"))
    for tname, tenant in manifest.tenants.items():
        bound = {tenant.idp} | {c.idp for c in tenant.connections}
        if bound & idps or any(c.provider in providers for c in tenant.connections):
            tenants.add(tname)
    return ChangeScope(ref, frozenset(tenants), frozenset(providers))


def _old_text(top: Path, ref: str, name: str) -> bytes:
    """The file at `ref`, or nothing when it did not exist then."""
    try:
        return _git(["show", f"{ref}:{name}"], top).encode()
    except ManifestError:
        return b""
