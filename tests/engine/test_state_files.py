"""The local state file against careless and hostile input: symlinks, empty lock files, stray
temporaries, garbage keys, non-UTF-8 bytes, read-only directories, future formats, negative
serials. Each ends in one clean line and exit 1, never an internal error (exit 3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ssoform.cli import main
from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.state import State


def _state_file(path: Path, **changes: object) -> Path:
    data = json.loads(State().to_json())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


def test_a_symlinked_state_has_one_lock_and_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / ".ssoform" / "state.json"
    real.parent.mkdir()
    _state_file(real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    via_link, direct = LocalStateBackend(link), LocalStateBackend(real)
    assert via_link.lock_path == direct.lock_path == real.with_name("state.json.lock")
    with via_link.lock("apply"):
        state = via_link.read()
        assert state is not None
        state.serial += 1
        via_link.write(state)
    assert link.is_symlink()
    again = direct.read()
    assert again is not None and again.serial == 1


def test_an_empty_lock_file_is_named_with_the_unlock_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _state_file(tmp_path / "state.json")
    (tmp_path / "state.json.lock").write_text("")
    backend = LocalStateBackend(state)
    with pytest.raises(Exception) as caught, backend.lock("apply"):
        pass
    assert "empty lock file" in str(caught.value)
    assert "ssoform state unlock empty" in str(caught.value)
    assert main(["state", "unlock", "empty", "--state", str(state)]) == 0
    assert not (tmp_path / "state.json.lock").exists()


def test_stray_temporaries_do_not_survive_the_next_run(tmp_path: Path) -> None:
    state = _state_file(tmp_path / "state.json")
    stray = tmp_path / ".state.json.abc123.tmp"
    stray.write_text("half a state")
    other = tmp_path / "notes.tmp"
    other.write_text("not ours")
    with LocalStateBackend(state).lock("apply"):
        pass
    assert not stray.exists()
    assert other.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"fingerprint_key": "abc"}, "fingerprint_key: not base64"),
        ({"fingerprint_key": None}, "fingerprint_key: Input should be a valid string"),
        ({"format": 99}, "format: format 99 is newer than this ssoform reads (1); upgrade ssoform"),
        ({"serial": -1}, "serial: Input should be greater than or equal to 0"),
    ],
)
@pytest.mark.parametrize("command", [["state", "list"], ["state", "history"]])
def test_garbage_state_is_one_clean_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: dict[str, object],
    reason: str,
    command: list[str],
) -> None:
    state = _state_file(tmp_path / "state.json", **content)
    assert main([*command, "--state", str(state)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {state}: not a valid ssoform state ({reason})\n"


def test_a_non_utf8_state_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(b'{"lineage": "\xff\xfe"}')
    assert main(["state", "list", "--state", str(state)]) == 1
    assert capsys.readouterr().err == (
        f"error: {state}: not a valid ssoform state (not UTF-8 text at byte 13)\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_state_directory_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    state = _state_file(folder / "state.json")
    address = "acme/cf/x/acme.com"
    folder.chmod(0o500)
    try:
        assert main(["state", "release", address, "--state", str(state)]) == 1
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err


def test_a_read_only_state_file_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "not-a-dir"
    folder.write_text("a file where the state directory should be")
    state = folder / "state.json"
    assert main(["state", "release", "a/b/c/d", "--state", str(state)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {state}: ")
