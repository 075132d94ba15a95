"""Tests of facecourse.progress: a bar only when bars are on and there is something to do."""

from __future__ import annotations

import pytest

from facecourse.progress import progress


def test_no_bar_for_nothing_to_do(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With bars on, an empty job list (every faceprint already cached) prints nothing.

    Before: ``zip(missing, progress(jobs), strict=True)`` over no jobs started a bar and printed
    "Encoding faces: 0img [00:00, ?img/s]" into the students' notebooks on a hub with a class cache.
    """
    monkeypatch.setenv("FACECOURSE_PROGRESS", "1")
    assert list(progress([], desc="Encoding faces", unit="img")) == []
    assert list(progress(iter(()), desc="Encoding faces", unit="img", total=0)) == []
    assert list(zip([], progress([], desc="Encoding faces"), strict=True)) == []
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_bar_when_there_is_work(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACECOURSE_PROGRESS", "1")
    assert list(progress([1, 2, 3], desc="Encoding faces", unit="img")) == [1, 2, 3]
    assert "Encoding faces" in capsys.readouterr().err  # tqdm writes to stderr outside a notebook


def test_bars_off(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACECOURSE_PROGRESS", "0")
    assert list(progress(range(3), desc="x")) == [0, 1, 2]
    assert capsys.readouterr().err == ""
