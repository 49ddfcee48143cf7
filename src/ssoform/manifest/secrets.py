"""Secret references: credentials and client secrets come only as `{env: NAME}` or `{file: path}`.

A literal value in a secret field is a validation error, so no secret is ever committed to git.
Resolution happens only when a command needs the value (plan, apply), never during `validate`
unless `--resolve-secrets` asks to check that each reference can be resolved.

A run resolves through one `SecretResolver`: it owns the policy (which directories files may be
read from, sandbox stand-ins), the cache (each reference is read once), and the redaction
registry (every value it hands out is registered, so no log line shows it). Credentials and
resource secrets go through the same resolver.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ssoform.errors import SecretError
from ssoform.logs import register_secret

if TYPE_CHECKING:
    from ssoform.model import Desired

__all__ = ["SecretRef", "SecretResolver", "read_regular_file", "resolve_secret", "secret_problem"]

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
    if not path.exists():
        return f"secret file {ref.file} does not exist"
    if not path.is_file():
        return f"secret file {ref.file} is not a regular file"
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
        data = read_regular_file(path, _MAX_SECRET_FILE)
    except OSError as exc:
        raise SecretError(f"{ref.describe()}: cannot read ({exc.strerror})") from None
    if len(data) > _MAX_SECRET_FILE:
        raise SecretError(f"{ref.describe()}: file is larger than 64 KiB")
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretError(f"{ref.describe()}: not UTF-8 text") from None
    if "\n" in value or "\r" in value:
        raise SecretError(
            f"{ref.describe()}: the file holds more than one line; a secret file holds its "
            "value on one line"
        )
    return value


def read_regular_file(path: Path, limit: int) -> bytes:
    """Up to `limit` + 1 bytes of a regular file; anything else (a FIFO, a device, a directory)
    is refused before a read that could block. Raises OSError with a `strerror`."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_Register = Callable[[str], None]


class SecretResolver:
    """One run's secrets: the policy, the cache and the redaction registry, in one owner.

    `allow_outside` lets `{file: ...}` references leave the manifest's directory tree;
    `placeholders` (the sandbox only) gives an unresolvable resource secret a stand-in value.
    """

    def __init__(
        self,
        *,
        allow_outside: bool = False,
        placeholders: bool = False,
        register: _Register = register_secret,
    ) -> None:
        self.allow_outside = allow_outside
        self.placeholders = placeholders
        self._register = register
        self._cache: dict[tuple[SecretRef, str], str] = {}

    def resolve(self, ref: SecretRef, base_dir: Path, *, stand_in: bool = False) -> str:
        """The value of `ref` (files relative to `base_dir`), read once per run."""
        cache_key = (ref, str(base_dir))
        if cache_key not in self._cache:
            try:
                value = resolve_secret(ref, base_dir, allow_outside=self.allow_outside)
            except SecretError:
                if not (stand_in and self.placeholders):
                    raise
                value = f"sandbox-stand-in-for-{ref.describe()}"
            self._register(value)
            self._cache[cache_key] = value
        return self._cache[cache_key]

    def value(self, desired: Desired, name: str) -> str:
        """The value of one of a resource's secrets (a sandbox stand-in when allowed)."""
        return self.resolve(desired.secrets[name], Path(desired.base_dir), stand_in=True)

    def credentials(self, refs: dict[str, SecretRef], base_dir: Path) -> dict[str, str]:
        """A provider instance's credentials (never stand-ins: a real API needs real ones)."""
        return {name: self.resolve(ref, base_dir) for name, ref in refs.items()}
