"""Loading a manifest: read, merge, render, validate, cross-check, and locate every problem.

`load_manifest` never raises for bad input: it returns every problem it found as a located
`Diagnostic`, ordered by file and line, and the validated `Manifest` when there were no errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ssoform.manifest.certificates import CertInfo, parse_pem
from ssoform.manifest.checks import Unchecked, cross_check, duplicate_spellings
from ssoform.manifest.diagnostics import Diagnostic, PathElem, Severity, path_to_str
from ssoform.manifest.fields import CLOUDFLARE_ID_MESSAGE
from ssoform.manifest.models import Certificate, Manifest
from ssoform.manifest.provider_types import BUILTIN_TYPES, ProviderTypes
from ssoform.manifest.render_templates import render_document
from ssoform.manifest.secrets import SecretRef, read_regular_file, secret_problem
from ssoform.manifest.sources import (
    MergedDocument,
    Problem,
    collect_files,
    merge_files,
)
from ssoform.manifest.suggest import suggestion
from ssoform.manifest.yamlsource import Locator

__all__ = ["LoadOptions", "LoadedManifest", "load_manifest", "unresolved_secrets"]


@dataclass(frozen=True)
class LoadOptions:
    cli_vars: dict[str, Any] = field(default_factory=dict)
    cert_warning_days: int = 30
    resolve_secrets: bool = False
    allow_outside_files: bool = False
    now: dt.datetime | None = None
    expired_certificates_are_errors: bool = True
    """False for drift: an expired certificate is a finding to report, not a reason to stop."""


@dataclass
class LoadedManifest:
    """The outcome of loading: the manifest when valid, and every diagnostic found."""

    manifest: Manifest | None
    diagnostics: list[Diagnostic]
    document: MergedDocument
    certificates: dict[tuple[PathElem, ...], CertInfo] = field(default_factory=dict)
    _digest: tuple[int, str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not any(
            d.severity is Severity.ERROR for d in self.diagnostics
        )

    def base_dir(self, path: Sequence[PathElem]) -> Path:
        """The directory that relative file references at `path` resolve from."""
        return self.document.base_dirs.get(self.document.file_of(path), Path.cwd())

    def digest(self) -> str:
        """SHA-256 of the resolved manifest (and its certificates): what a saved plan pins.

        Computed once per manifest object (a plan and the apply that follows share it)."""
        assert self.manifest is not None
        if self._digest is not None and self._digest[0] == id(self.manifest):
            return self._digest[1]
        payload = {
            "manifest": self.manifest.model_dump(mode="json"),
            "certificates": {path_to_str(p): c.sha256 for p, c in self.certificates.items()},
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).hexdigest()
        self._digest = (id(self.manifest), digest)
        return digest


def load_manifest(paths: Sequence[Path], options: LoadOptions | None = None) -> LoadedManifest:
    """Read, render, validate and cross-check the manifest at `paths` (files or directories)."""
    return _load(paths, options or LoadOptions())


def _load(paths: Sequence[Path], options: LoadOptions) -> LoadedManifest:
    try:
        files = collect_files(paths)
    except OSError as exc:
        where = str(exc.filename or paths[0] if paths else "")
        diag = Diagnostic(where, 0, 0, "", f"cannot read: {exc.strerror or exc}")
        return LoadedManifest(None, [diag], MergedDocument())
    doc = merge_files(files)
    if not files:
        shown = ", ".join(str(p) for p in paths)
        doc.problems.append(Problem(shown, (), "no manifest files (*.yaml, *.yml) found"))
    render_document(doc, options.cli_vars)
    # A file that could not be read as a mapping leaves the manifest incomplete: keys it may
    # have held are not reported missing and names it may have defined are not "undefined".
    incomplete = any(not p.path for p in doc.problems)
    manifest: Manifest | None = None
    checked: Manifest | None = None
    unchecked = Unchecked(everything=incomplete)
    types = ProviderTypes()  # plugins are looked up only if the manifest names one
    if files:
        manifest, checked, unchecked = _validate(doc, incomplete, types)
    loaded = LoadedManifest(None, [], doc)
    findings: list[tuple[tuple[PathElem, ...], str, Severity]] = []
    if checked is not None:
        now = options.now or dt.datetime.now(dt.UTC)

        def load_cert(_idp: str, path: tuple[PathElem, ...], cert: Certificate) -> CertInfo:
            info = _load_certificate(loaded, path, cert, options.allow_outside_files)
            loaded.certificates[path] = info
            return info

        for finding in cross_check(
            checked,
            load_cert,
            now=now,
            warning_days=options.cert_warning_days,
            unchecked=unchecked,
            expired=Severity.ERROR if options.expired_certificates_are_errors else Severity.WARNING,
            types=types,
        ):
            findings.append((finding.path, finding.message, finding.severity))
        for finding in duplicate_spellings(doc.data):
            findings.append((finding.path, finding.message, finding.severity))
        if options.resolve_secrets:
            findings.extend(_secret_findings(loaded, checked, options.allow_outside_files))
    loaded.diagnostics = _locate(doc, findings)
    if not any(d.severity is Severity.ERROR for d in loaded.diagnostics):
        loaded.manifest = manifest
    return loaded


def _load_certificate(
    loaded: LoadedManifest, path: tuple[PathElem, ...], cert: Certificate, allow_outside: bool
) -> CertInfo:
    if cert.pem is not None:
        return parse_pem(cert.pem)
    assert cert.file is not None
    base = loaded.base_dir(path)
    target = (base / cert.file).resolve()
    if not allow_outside and not target.is_relative_to(base.resolve()):
        raise ValueError(f"certificate file {cert.file} is outside the manifest's directory tree")
    try:
        data = read_regular_file(target, 256 * 1024)[: 256 * 1024]
    except OSError as exc:
        raise ValueError(f"cannot read certificate file {cert.file}: {exc.strerror}") from None
    return parse_pem(data.decode("ascii", errors="replace"))


def unresolved_secrets(loaded: LoadedManifest, *, allow_outside_files: bool) -> list[Diagnostic]:
    """Every secret reference of a valid manifest that cannot be resolved, located at its
    file:line (as `validate --resolve-secrets` reports them). Values are never shown."""
    if loaded.manifest is None:
        return []
    return _locate(loaded.document, _secret_findings(loaded, loaded.manifest, allow_outside_files))


def _secret_findings(
    loaded: LoadedManifest, manifest: Manifest, allow_outside: bool
) -> list[tuple[tuple[PathElem, ...], str, Severity]]:
    found = []
    for path, ref in _secret_refs(manifest, ()):
        problem = secret_problem(ref, loaded.base_dir(path), allow_outside=allow_outside)
        if problem:
            found.append((path, f"secret {ref.describe()}: {problem}", Severity.ERROR))
    return found


_Refs = list[tuple[tuple[PathElem, ...], SecretRef]]


def _secret_refs(value: Any, path: tuple[PathElem, ...]) -> _Refs:
    if isinstance(value, SecretRef):
        return [(path, value)]
    out: _Refs = []
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            out.extend(_secret_refs(getattr(value, name), (*path, name)))
    elif isinstance(value, dict):
        for key, item in value.items():
            out.extend(_secret_refs(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_secret_refs(item, (*path, index)))
    return out


# --- validation ----------------------------------------------------------------------------------

_NAMED_SECTIONS = ("providers", "identity_providers", "tenants")


def _validate(
    doc: MergedDocument, incomplete: bool, types: ProviderTypes
) -> tuple[Manifest | None, Manifest | None, Unchecked]:
    """(the manifest if valid, the parts that are valid for cross-checks, what was left out).

    The whole document is validated once (the fast path). When that fails, every provider,
    identity provider and tenant with an error is set aside and the rest is validated again,
    so that cross-checks still run on everything that is well-formed and a user sees all
    problems in one run.
    """
    context = {"provider_types": types}
    try:
        manifest = Manifest.model_validate(doc.data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    else:
        return manifest, manifest, Unchecked(everything=incomplete)
    doc.problems.extend(_validation_problems(doc, errors, incomplete, types))
    broken: dict[str, set[str]] = {section: set() for section in _NAMED_SECTIONS}
    broken_sections: set[str] = set()
    for error in errors:
        path = _data_path(doc.data, error["loc"])
        if not path or path[0] not in broken:
            continue
        if len(path) == 1 or not isinstance(path[1], str):
            broken_sections.add(str(path[0]))
        else:
            broken[str(path[0])].add(path[1])
    partial: dict[str, Any] = {"version": 1}
    for section in _NAMED_SECTIONS:
        items = doc.data.get(section)
        if section in broken_sections or not isinstance(items, dict):
            partial[section] = {}
            continue
        partial[section] = {k: v for k, v in items.items() if k not in broken[section]}
    try:
        checked = Manifest.model_validate(partial, context=context)
    except ValidationError:
        checked = None
    unchecked = Unchecked(
        providers=frozenset(broken["providers"]),
        identity_providers=frozenset(broken["identity_providers"]),
        everything=incomplete or bool(broken_sections & {"providers", "identity_providers"}),
    )
    return None, checked, unchecked


# --- pydantic errors -> problems ---------------------------------------------------------------

_CF_PATTERN = "^[0-9a-f]{32}$"
_TAGS = frozenset(record.name for record in BUILTIN_TYPES)
"""The union tags pydantic puts in an error's location (not keys of the document)."""


def _validation_problems(
    doc: MergedDocument, errors: Sequence[Any], incomplete: bool, types: ProviderTypes
) -> list[Problem]:
    problems: dict[tuple[tuple[PathElem, ...], str], Problem] = {}
    already = {p.path for p in doc.problems if p.path}  # e.g. a template that failed to render
    bad_names = {
        _data_path(doc.data, e["loc"]) for e in errors if any(x == "[key]" for x in e["loc"])
    }
    for error in errors:
        path = _data_path(doc.data, error["loc"])
        if path in already:
            continue
        if path in bad_names and not any(x == "[key]" for x in error["loc"]):
            continue  # the name is wrong; what is under it is not worth a second message
        if incomplete and len(path) == 1 and error["type"] == "missing":
            continue  # perhaps in the file that could not be read
        message = _message(error, path, types)
        problems.setdefault((path, message), Problem(doc.file_of(path), path, message))
    return list(problems.values())


def _data_path(data: Any, loc: Sequence[Any]) -> tuple[PathElem, ...]:
    """The path in the raw document of a pydantic error location (union tags dropped)."""
    path: list[PathElem] = []
    node = data
    for elem in loc:
        if (isinstance(node, dict) and elem in node) or (
            isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node)
        ):
            path.append(elem)
            node = node[elem]
        elif isinstance(elem, str) and (
            elem in _TAGS or "[" in elem or elem.startswith("function")
        ):
            continue
        else:
            path.append(elem)
            node = None
    return tuple(path)


def _message(error: Any, path: tuple[PathElem, ...], types: ProviderTypes) -> str:
    kind = error["type"]
    last = path[-1] if path else ""
    if any(elem == "[key]" for elem in error["loc"]):
        return f"the name {last!r} is not valid: names are lower-case strings such as acme-corp"
    if kind == "missing":
        return f"required key {last!r} is missing"
    if kind == "extra_forbidden":
        close = suggestion(error["loc"], str(last))
        hint = f" (did you mean {close!r}?)" if close else ""
        return f"unknown key {last!r}{hint}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "union_tag_invalid" and error.get("ctx"):
        expected = ", ".join(repr(name) for name in types.names())
        return f"unknown provider type {error['ctx'].get('tag')!r} (expected one of {expected})"
    if kind == "union_tag_not_found" and error.get("ctx"):
        return f"required key {error['ctx'].get('discriminator', 'type')} is missing"
    if kind == "literal_error" and error.get("ctx"):
        return f"{error['input']!r} is not allowed here (expected {error['ctx']['expected']})"
    if kind == "string_type" and isinstance(error.get("input"), int | float):
        return f"expected a string, got the number {error['input']!r} (quote it in YAML)"
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == _CF_PATTERN:
        return CLOUDFLARE_ID_MESSAGE
    if kind == "string_pattern_mismatch" and error.get("ctx"):
        return f"{error['input']!r} does not match the expected form {error['ctx']['pattern']}"
    return message


# --- locating ----------------------------------------------------------------------------------


def _locate(
    doc: MergedDocument, findings: list[tuple[tuple[PathElem, ...], str, Severity]]
) -> list[Diagnostic]:
    """Every problem and finding as a diagnostic with its file, line and column.

    The paths to locate are gathered first, so each file is read once, for just those paths."""
    texts = {f.display: f.raw for f in doc.files}
    wanted: dict[str, list[tuple[PathElem, ...]]] = {}
    for problem in doc.problems:
        if not problem.line and problem.path:
            wanted.setdefault(problem.display, []).append(problem.path)
    located = [(doc.file_of(path), path, message, severity) for path, message, severity in findings]
    for display, path, _, _ in located:
        wanted.setdefault(display, []).append(path)
    locators = {
        display: Locator(texts[display].decode("utf-8", errors="replace"), paths)
        for display, paths in wanted.items()
        if display in texts
    }

    def position(display: str, path: tuple[PathElem, ...]) -> tuple[int, int]:
        locator = locators.get(display)
        return (0, 0) if locator is None else locator.find(path)

    out = []
    for problem in doc.problems:
        line, col = problem.line, problem.col
        if not line and problem.path:
            line, col = position(problem.display, problem.path)
        out.append(
            Diagnostic(problem.display, line, col, path_to_str(problem.path), problem.message)
        )
    for display, path, message, severity in located:
        line, col = position(display, path)
        out.append(Diagnostic(display, line, col, path_to_str(path), message, severity))
    return sorted(set(out))
