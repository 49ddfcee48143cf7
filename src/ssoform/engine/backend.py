"""Where state lives. The embedded default is a local JSON file, written atomically and locked.

`StateBackend` is the interface a shared backend (a database) implements: read, write, lock,
unlock. The local file backend writes a temporary file, fsyncs it, renames it over the old one
and fsyncs the directory, so a crash at any point leaves either the old or the new state. Its
lock is a file created exclusively beside the state, holding who took it, from where and when.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from ssoform.engine.state import ResourceState, State
from ssoform.errors import LockError, StateError

__all__ = ["LocalStateBackend", "LockInfo", "StateBackend", "write_private"]


class LockInfo(BaseModel):
    id: str
    operation: str
    host: str
    pid: int
    since: str

    def describe(self) -> str:
        return f"{self.operation} by process {self.pid} on {self.host} since {self.since}"


class StateBackend(Protocol):
    def read(self) -> State | None: ...

    def write(self, state: State) -> None: ...

    def lock(self, operation: str) -> contextlib.AbstractContextManager[LockInfo]: ...

    def unlock(self, lock_id: str) -> LockInfo: ...

    def current_lock(self) -> LockInfo | None: ...

    def move(self, old: str, new: str, *, dry_run: bool = False) -> ResourceState: ...

    def remove(self, address: str, *, dry_run: bool = False) -> ResourceState: ...


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LocalStateBackend:
    """State in a local JSON file (default `.ssoform/state.json`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> State | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state: {exc.strerror}") from None
        try:
            return State.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StateError(
                f"{self.path}: not a valid ssoform state ({where}: {first['msg']})"
            ) from None

    def write(self, state: State) -> None:
        try:
            write_private(self.path, state.to_json())
        except OSError as exc:
            raise StateError(f"{self.path}: cannot write state: {exc.strerror}") from None

    def move(self, old: str, new: str, *, dry_run: bool = False) -> ResourceState:
        """`state mv`: the object recorded at `old` is recorded at `new` (nothing is sent)."""
        return self._edit("state mv", lambda state: state.move(old, new), dry_run)

    def remove(self, address: str, *, dry_run: bool = False) -> ResourceState:
        """`state rm`: forget `address` (the object stays at the provider, untouched)."""
        return self._edit("state rm", lambda state: state.forget(address), dry_run)

    def _edit(
        self, operation: str, change: Callable[[State], ResourceState], dry_run: bool
    ) -> ResourceState:
        with self.lock(operation):
            state = self.read() or State()
            res = change(state)
            if not dry_run:
                state.serial += 1
                self.write(state)
            return res

    def current_lock(self) -> LockInfo | None:
        try:
            return LockInfo.model_validate_json(self.lock_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValidationError, ValueError):
            return LockInfo(id="unknown", operation="?", host="?", pid=0, since="?")

    @contextlib.contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = LockInfo(
            id=str(uuid.uuid4()),
            operation=operation,
            host=socket.gethostname(),
            pid=os.getpid(),
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise LockError(self._held_message()) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(info.model_dump_json())
        try:
            yield info
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.lock_path.unlink()

    def _held_message(self) -> str:
        holder = self.current_lock()
        if holder is None:
            return f"state {self.path} is locked"
        message = f"state {self.path} is locked (lock {holder.id}): {holder.describe()}"
        if holder.host == socket.gethostname() and holder.pid and not _alive(holder.pid):
            message += (
                f". Process {holder.pid} is gone: the lock is stale. If no apply is running, "
                f"release it with: ssoform state unlock {holder.id}"
            )
        return message

    def unlock(self, lock_id: str) -> LockInfo:
        holder = self.current_lock()
        if holder is None:
            raise LockError(f"state {self.path} is not locked")
        if holder.id != lock_id:
            raise LockError(f"lock id {lock_id!r} does not match the lock held ({holder.id})")
        self.lock_path.unlink(missing_ok=True)
        return holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
