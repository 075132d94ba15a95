"""The one atomic writer (facecourse._files.write_atomic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from facecourse._files import FileWriteError, write_atomic
from facecourse.errors import CourseError


def test_writes_and_returns_the_path(tmp_path):
    target = tmp_path / "a.bin"
    assert write_atomic(target, b"\x00\x01data") == target
    assert target.read_bytes() == b"\x00\x01data"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]  # no temporary file left


def test_replaces_an_existing_file_whole(tmp_path):
    target = tmp_path / "index.json"
    target.write_bytes(b"old contents, longer than the new ones")
    write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]


def test_the_temporary_file_is_in_the_same_folder_and_replaced_in_one_step(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.fspath(src), os.fspath(dst), Path(src).read_bytes(), Path(dst).read_bytes()))
        real(src, dst)

    target = tmp_path / "a.txt"
    target.write_bytes(b"before")
    monkeypatch.setattr(os, "replace", spy)
    write_atomic(target, b"after")
    [(src, dst, new, old)] = seen
    assert os.path.dirname(src) == str(tmp_path) and os.path.basename(src).startswith(".a.txt.")
    assert dst == str(target) and new == b"after" and old == b"before"  # the target was whole until the rename


def test_a_failed_replace_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_bytes(b"before")

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(FileWriteError, match="disk is not full") as info:
        write_atomic(target, b"after")
    assert isinstance(info.value, OSError) and isinstance(info.value, CourseError)
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_interrupt_during_the_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "a.txt", b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_error_that_says_how_to_fix_it(tmp_path):
    with pytest.raises(FileWriteError, match=r"does not exist\. Create it first"):
        write_atomic(tmp_path / "missing" / "a.txt", b"data")
    assert not (tmp_path / "missing").exists()


def test_a_read_only_folder_is_an_error_that_says_how_to_fix_it(tmp_path, monkeypatch):
    def refused(*args, **kwargs):  # what a read-only folder gives (simulated: the tests may run as root)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(FileWriteError, match=r"not writable by you\..*FACECOURSE_CACHE_DIR"):
        write_atomic(tmp_path / "a.txt", b"data")
    assert list(tmp_path.iterdir()) == []


def test_mode_is_set_before_the_file_appears(tmp_path):
    target = tmp_path / "index.json"
    write_atomic(target, b"{}", mode=0o444)
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_refuses_text(tmp_path):
    with pytest.raises(TypeError, match="encode text first"):
        write_atomic(tmp_path / "a.txt", "text")  # type: ignore[arg-type]
