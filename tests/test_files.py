"""Writing private files: owner-only, whole or not at all, and no stray temporaries kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ssoform.files import remove_stray_temporaries, write_private


def test_a_private_file_is_owner_only_and_its_directory_is_made(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "state.json"
    write_private(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_rewrite_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_private(target, "first, and longer than the second")
    write_private(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    write_private(target, "old")

    def refuse(self: Path, other: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_private(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_only_our_stray_temporaries_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    ours = tmp_path / ".state.json.abc123.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    for path in (target, ours, other):
        path.write_text("x")
    remove_stray_temporaries(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.abc123.tmp", "state.json"]
