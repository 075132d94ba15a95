"""The exercises follow nbgrader's conventions, and the student versions really are unsolved.

The solution versions (exercises/source/) are run by nbval like the lessons. Here we check
the rest: each student version (exercises/release/) is exactly what tools/notebooks.py
generates from its source (nobody edits the two by hand), each exercise has autograded tests
and a hand-marked written answer, and - like `nbgrader validate --invert` - every autograder
test cell FAILS when run on the student version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))


def grade_cells(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta:
            yield cell, meta


def test_there_are_exercises() -> None:
    assert len(SOURCES) >= 1


def test_student_versions_are_generated_not_hand_edited() -> None:
    assert notebooks.stale() == []
    released = sorted(p.name for p in (ROOT / "exercises" / "release").glob("*.ipynb"))
    assert released == [p.name for p in SOURCES], "every source has exactly one student version"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_exercise_follows_nbgrader_conventions(source: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    cells = list(grade_cells(nb))
    assert len(cells) == len(nb.cells), "every cell carries nbgrader metadata"
    ids = [meta["grade_id"] for _, meta in cells]
    assert len(ids) == len(set(ids)), "grade_id values must be unique"
    answers = [c for c, meta in cells if meta["solution"] and c.cell_type == "code"]
    tests = [c for c, meta in cells if meta["grade"] and not meta["solution"]]
    written = [c for c, meta in cells if meta["grade"] and meta["solution"] and c.cell_type == "markdown"]
    assert answers and tests and written, "autograded answers, their tests, and a written answer"
    assert all(c.metadata["nbgrader"].get("points", 0) > 0 for c in tests + written)
    assert all(c.metadata["nbgrader"]["locked"] for c in tests)
    for cell in answers + written:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_version_fails_every_autograder_test(source: Path) -> None:
    """As `nbgrader validate --invert`: with no answers filled in, every test cell must fail."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "exercises" / "release" / source.name, as_version=4)
    assert not any("### BEGIN SOLUTION" in c.source for c in nb.cells), "solutions leaked"
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(source.parent)}}).execute()
    for cell, meta in grade_cells(nb):
        if meta["grade"] and not meta["solution"]:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert errors, f"{source.name}: test cell {meta['grade_id']} passes on the unsolved notebook"
        if meta["grade"] and meta["solution"] and cell.cell_type == "markdown":
            assert notebooks.ANSWER_STUB in cell.source


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_written_answer_has_a_rubric_with_its_points(source: Path) -> None:
    """Each hand-marked answer has a rubric in INSTRUCTORS.md announcing the same points."""
    import re

    guide = (ROOT / "INSTRUCTORS.md").read_text()
    number = source.name[:2]
    for cell, meta in grade_cells(nbformat.read(source, as_version=4)):
        if meta["grade"] and meta["solution"] and cell.cell_type == "markdown":
            question = re.sub(r"\D", "", meta["grade_id"].split("_")[0])
            heading = rf"Exercise {number}, Q{question}\b[^\n]*\({meta['points']} points\)"
            assert re.search(heading, guide), f"no rubric 'Exercise {number}, Q{question} ... " \
                                              f"({meta['points']} points)' in INSTRUCTORS.md"
