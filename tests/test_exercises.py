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
import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import notebooks

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


# ---------------------------------------------------------------------------------------------
# Portable autograders: every correct answer passes, however it computes, on any CPU. Each test
# below runs an exercise's test cell (visible and hidden tests) against several correct answers
# that take different floating-point paths (BLAS or not, another order of additions, the formula
# written out by hand). A test cell that compares floats for exact equality across two paths, or
# at a threshold equal to a distance computed another way, fails here (CONTRIBUTING.md,
# "Numbers that hold on every CPU").


def _test_cell(name: str, grade_id: str) -> str:
    nb = nbformat.read(ROOT / "exercises" / "source" / name, as_version=4)
    return next(c.source for c, meta in grade_cells(nb) if meta["grade_id"] == grade_id)


def _distances(how: str, gallery: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """Euclidean distances from probe to each gallery row, computed in one of several correct ways."""
    import math

    d = gallery - probe
    if how == "axis":  # the model answer: a reduction per row (numpy's own loop)
        return np.linalg.norm(d, axis=1)
    if how == "rows":  # one 1-D norm per row: a BLAS dot product, whose kernel depends on the CPU
        return np.array([np.linalg.norm(row) for row in d])
    if how == "math":  # Python's math.dist: a more exact sum
        return np.array([math.dist(row, probe) for row in gallery])
    if how == "einsum":
        return np.sqrt(np.einsum("ij,ij->i", d, d))
    raise ValueError(how)


@pytest.mark.parametrize("how", ["axis", "rows", "math", "einsum", "squared"])
def test_exercise06_access_report_tests_accept_every_correct_distance(how: str) -> None:
    import shutil

    def access_report(gallery, provenance, probe, threshold):
        gallery, probe = np.asarray(gallery, dtype=float), np.asarray(probe, dtype=float)
        if how == "squared":  # compare squared distances with threshold squared, then take roots
            d2 = ((gallery - probe) ** 2).sum(axis=1)
            hits, d = np.flatnonzero(d2 <= threshold * threshold), np.sqrt(d2)
        else:
            d = _distances(how, gallery, probe)
            hits = np.flatnonzero(d <= threshold)
        rows = [{**provenance[i], "distance": float(d[i])} for i in hits]
        return sorted(rows, key=lambda row: (row["distance"], row["entry_id"]))

    namespace: dict = {}
    exec(_test_cell("06_access_and_erasure.ipynb", "setup"), namespace)
    namespace["access_report"] = access_report
    try:
        exec(_test_cell("06_access_and_erasure.ipynb", "q1_tests"), namespace)
    finally:
        shutil.rmtree(namespace["WORK"], ignore_errors=True)


def _wilson_library(k, n, confidence):
    from facecourse.metrics import wilson_interval

    return wilson_interval(k, n, confidence)


def _wilson_by_hand(k, n, confidence):  # the formula of help(wilson_interval), no special cases
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * (k * (n - k) / n + z * z / 4) ** 0.5
    return centre - half, centre + half


def _wilson_textbook(k, n, confidence):  # the same in terms of p = k/n, clipped to [0, 1]
    from statistics import NormalDist

    z, p = NormalDist().inv_cdf(0.5 + confidence / 2), k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.mark.parametrize("interval", [_wilson_library, _wilson_by_hand, _wilson_textbook],
                         ids=lambda f: f.__name__[8:])
def test_exercise01_interval_tests_accept_every_correct_wilson(interval) -> None:
    # The by-hand formula gives 0.9999999999999999 for 10 of 10 and 2.8e-17 for 0 of 10.
    def detection_rate_by_condition(outcomes, confidence=0.95):
        counts: dict = {}
        for condition, detected in outcomes:
            hits, total = counts.get(condition, (0, 0))
            counts[condition] = (hits + int(bool(detected)), total + 1)
        return {c: {"detected": k, "total": n, "rate": k / n, "ci": tuple(map(float, interval(k, n, confidence)))}
                for c, (k, n) in counts.items()}

    def first_confident_drop(rows, threshold=0.9, confidence=0.95):
        return next((level for level, k, n in rows if interval(k, n, confidence)[1] < threshold), None)

    namespace = {"np": np, "detection_rate_by_condition": detection_rate_by_condition,
                 "first_confident_drop": first_confident_drop}
    exec(_test_cell("01_detection_rates.ipynb", "q1_tests"), namespace)
    exec(_test_cell("01_detection_rates.ipynb", "q2_tests"), namespace)
