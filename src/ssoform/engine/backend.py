"""Where state lives: the interface every state store implements, and the local file store.

`StateBackend` is the one interface: read, write (the whole state, or only the resources that
changed), lock and unlock, history, and the `move`/`remove` edits of `ssoform state mv|rm`.
The local file backend (the embedded default) writes a temporary file, fsyncs it, renames it
over the old one and fsyncs the directory, so a crash at any point leaves either the old or the
new state. Its lock is a file created exclusively beside the state, holding who took it, from
where and when. The PostgreSQL backend lives in `engine/postgres.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from ssoform.engine.shared_budget import SharedBudgets
from ssoform.engine.state import HistoryEntry, ResourceState, State, check_sandbox, parse_state
from ssoform.errors import LockError, StateError
from ssoform.files import remove_stray_temporaries, write_private

__all__ = [
    "LocalStateBackend",
    "LockInfo",
    "StateBackend",
    "actor",
    "ci_run_url",
    "edit_state",
    "move_resource",
    "new_lock_info",
    "real_path",
    "remove_resource",
]

_LOCK_POLL_SECONDS = 0.2


class LockInfo(BaseModel):
    id: str
    operation: str
    host: str
    pid: int
    since: str
    user: str = ""
    run_url: str = ""

    def describe(self) -> str:
        who = f" as {self.user}" if self.user else ""
        text = f"{self.operation} by process {self.pid} on {self.host}{who} since {self.since}"
        if self.run_url:
            text += f" ({self.run_url})"
        return text


def ci_run_url() -> str:
    """The CI run that holds a lock, when GitHub Actions' variables say so."""
    server = os.environ.get("GITHUB_SERVER_URL", "")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    run = os.environ.get("GITHUB_RUN_ID", "")
    if server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"[:300]
    return ""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def new_lock_info(operation: str) -> LockInfo:
    return LockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        host=socket.gethostname(),
        pid=os.getpid(),
        since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        user=_user(),
        run_url=ci_run_url(),
    )


class StateBackend(Protocol):
    """A state store. `location` names it in messages (never with a password)."""

    location: str

    def read(self) -> State | None: ...

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        """Store `state` as the next version. `changed` names the only resources that differ
        from the last version read or written (None: any may); new journal entries are those
        appended since then."""
        ...

    def lock(self, operation: str) -> contextlib.AbstractContextManager[LockInfo]: ...

    def unlock(self, lock_id: str) -> LockInfo: ...

    def current_lock(self) -> LockInfo | None: ...

    def history(self) -> list[HistoryEntry]: ...

    def rate_budgets(self) -> SharedBudgets | None:
        """Request budgets shared by every run on this backend, when it can keep them."""
        ...

    def move(self, old: str, new: str, *, dry_run: bool = False) -> ResourceState:
        """`state mv`: the object recorded at `old` is recorded at `new` (nothing is sent)."""
        ...

    def remove(self, address: str, *, dry_run: bool = False) -> ResourceState:
        """`state rm`: forget `address` (the object stays at the provider, untouched)."""
        ...


def edit_state(
    backend: StateBackend,
    operation: str,
    edit: Callable[[State], Collection[str]],
    *,
    dry_run: bool = False,
) -> State:
    """Under the lock: read the state, let `edit` change it (returning the addresses it
    changed), bump the serial and write only those resources (nothing with `dry_run`)."""
    with backend.lock(operation):
        state = backend.read()
        if state is None:
            raise StateError(f"no state at {backend.location}")
        changed = edit(state)
        if not dry_run:
            state.serial += 1
            backend.write(state, changed)
        return state


def move_resource(backend: StateBackend, old: str, new: str, dry_run: bool) -> ResourceState:
    """The one implementation of `state mv` for every backend."""
    moved: list[ResourceState] = []

    def edit(state: State) -> Collection[str]:
        if old not in state.resources:
            raise StateError(f"{old} is not in the state")
        if new in state.resources:
            raise StateError(f"{new} is already in the state")
        moved.append(state.move(old, new))
        return {old, new}

    edit_state(backend, "state mv", edit, dry_run=dry_run)
    return moved[0]


def remove_resource(backend: StateBackend, address: str, dry_run: bool) -> ResourceState:
    """The one implementation of `state rm` for every backend."""
    removed: list[ResourceState] = []

    def edit(state: State) -> Collection[str]:
        if address not in state.resources:
            raise StateError(f"{address} is not in the state")
        removed.append(state.forget(address))
        return {address}

    edit_state(backend, "state rm", edit, dry_run=dry_run)
    return removed[0]


def real_path(path: Path) -> Path:
    """The state file a path leads to, through symlinks, so one state has one lock."""
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError) as exc:
        raise StateError(f"{path}: cannot resolve the state path: {exc}") from None


class LocalStateBackend:
    """State in a local JSON file (default `.ssoform/state.json`)."""

    def __init__(self, path: Path, *, lock_timeout: float = 0.0, sandbox: bool = False) -> None:
        self.given = path
        self.path = real_path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.location = str(path)
        self.lock_timeout = lock_timeout
        self.sandbox = sandbox
        self._operation: str | None = None

    def read(self) -> State | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{self.location}: cannot read state: {exc.strerror}") from None
        return check_sandbox(
            parse_state(data, self.location), sandbox=self.sandbox, where=self.location
        )

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        if self.sandbox:
            state.sandbox = True
        if not state.history or state.history[-1].serial != state.serial:
            operation = self._operation or "write"
            state.history.append(HistoryEntry.now(state.serial, operation, actor()))
        try:
            write_private(self.path, state.to_json())
        except OSError as exc:
            raise StateError(f"{self.location}: cannot write state: {exc.strerror}") from None

    def history(self) -> list[HistoryEntry]:
        state = self.read()
        return list(state.history) if state else []

    def current_lock(self) -> LockInfo | None:
        try:
            text = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return LockInfo(id="unknown", operation="?", host="?", pid=0, since="?")
        if not text.strip():
            return LockInfo(id="empty", operation="(empty lock file)", host="?", pid=0, since="?")
        try:
            return LockInfo.model_validate_json(text)
        except (ValidationError, ValueError):
            return LockInfo(id="unknown", operation="?", host="?", pid=0, since="?")

    @contextlib.contextmanager
    def lock(self, operation: str) -> Iterator[LockInfo]:
        info = new_lock_info(operation)
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"{self.location}: cannot create the state directory: {exc.strerror}"
            ) from None
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                break
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise LockError(self._held_message()) from None
                time.sleep(_LOCK_POLL_SECONDS)
            except OSError as exc:
                raise StateError(
                    f"{self.location}: cannot take the lock {self.lock_path}: {exc.strerror}"
                ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(info.model_dump_json())
        except OSError:
            self.lock_path.unlink(missing_ok=True)
            raise
        remove_stray_temporaries(self.path)
        self._operation = operation
        try:
            yield info
        finally:
            self._operation = None
            with contextlib.suppress(FileNotFoundError):
                self.lock_path.unlink()

    def _held_message(self) -> str:
        holder = self.current_lock()
        if holder is None:
            return f"state {self.location} is locked"
        if holder.id == "empty":
            return (
                f"state {self.location} is locked by an empty lock file {self.lock_path} "
                "(its writer stopped before recording who it was). If no apply is running, "
                "release it with: ssoform state unlock empty"
            )
        message = f"state {self.location} is locked (lock {holder.id}): {holder.describe()}"
        if holder.host == socket.gethostname() and holder.pid and not _alive(holder.pid):
            message += (
                f". Process {holder.pid} is gone: the lock is stale. If no apply is running, "
                f"release it with: ssoform state unlock {holder.id}"
            )
        return message

    def unlock(self, lock_id: str) -> LockInfo:
        holder = self.current_lock()
        if holder is None:
            raise LockError(f"state {self.location} is not locked")
        if holder.id != lock_id:
            raise LockError(f"lock id {lock_id!r} does not match the lock held ({holder.id})")
        self.lock_path.unlink(missing_ok=True)
        return holder

    def rate_budgets(self) -> SharedBudgets | None:
        return None  # one machine: each run's own budget

    def move(self, old: str, new: str, *, dry_run: bool = False) -> ResourceState:
        return move_resource(self, old, new, dry_run)

    def remove(self, address: str, *, dry_run: bool = False) -> ResourceState:
        return remove_resource(self, address, dry_run)


def actor() -> str:
    """Who runs this process: user@host, and the CI run's URL when there is one."""
    user = _user()
    host = socket.gethostname()
    who = f"{user}@{host}" if user else host
    return f"{who} {ci_run_url()}".strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
