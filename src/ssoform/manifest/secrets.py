"""Secret references: credentials and client secrets come only as `{env: NAME}` or `{file: path}`.

A literal value in a secret field is a validation error, so no secret is ever committed to git.
Resolution happens only when a command needs the value (plan, apply), never during `validate`
unless `--resolve-secrets` asks to check that each reference can be resolved.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ssoform.errors import SecretError

__all__ = ["SecretRef", "resolve_secret", "secret_problem"]

_MAX_SECRET_FILE = 64 * 1024


class SecretRef(BaseModel):
    """Where a secret lives: an environment variable or a file (relative to the manifest file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _only_references(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(
                "secrets must be references, {env: NAME} or {file: path}, never a literal value"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference names exactly one of env or file")
        return self

    def describe(self) -> str:
        """The reference as text (`env:NAME`, `file:path`), safe to print."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"


def _file_path(ref: SecretRef, base_dir: Path, allow_outside: bool) -> Path:
    assert ref.file is not None
    path = (base_dir / ref.file).resolve()
    if not allow_outside and not path.is_relative_to(base_dir.resolve()):
        raise SecretError(
            f"{ref.describe()}: the file is outside the manifest's directory tree "
            "(pass --allow-outside-files to allow it)"
        )
    return path


def secret_problem(ref: SecretRef, base_dir: Path, *, allow_outside: bool = False) -> str | None:
    """Why `ref` cannot be resolved now, or None. Never reads or returns the value."""
    if ref.env is not None:
        return None if ref.env in os.environ else f"environment variable {ref.env} is not set"
    try:
        path = _file_path(ref, base_dir, allow_outside)
    except SecretError as exc:
        return str(exc).removeprefix(f"{ref.describe()}: ")
    if not path.is_file():
        return f"secret file {ref.file} does not exist"
    if not os.access(path, os.R_OK):
        return f"secret file {ref.file} is not readable"
    return None


def resolve_secret(ref: SecretRef, base_dir: Path, *, allow_outside: bool = False) -> str:
    """The secret's value. Raises SecretError naming the reference, never the value."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            raise SecretError(f"environment variable {ref.env} is not set")
        return value
    path = _file_path(ref, base_dir, allow_outside)
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise SecretError(f"{ref.describe()}: cannot read ({exc.strerror})") from None
    if len(data) > _MAX_SECRET_FILE:
        raise SecretError(f"{ref.describe()}: file is larger than 64 KiB")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretError(f"{ref.describe()}: not UTF-8 text") from None
