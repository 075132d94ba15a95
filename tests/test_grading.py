"""facecourse.grading, and the exercises' use of it: delegating and looping answers fail.

Unit tests of the two helpers, then the real thing: a copy of an exercise's source notebook
whose model answer is replaced by one that calls the course's own function (or loops where the
question asks for numpy) is executed, and its autograder test cell must fail with the helper's
message while the rest of the notebook still passes. Also checked here: every question prints
its rubric (hand-marked ones word for word from INSTRUCTORS.md) and every coded question has a
folded hint.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from facecourse import grading, metrics

sys.path.insert(0, str(ROOT / "tools"))
import nbgrader_check

SOURCES = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))


# ------------------------------------------------------------------------------ forbid

def test_forbid_blocks_module_attribute_and_restores_it() -> None:
    original = metrics.threshold_for_fmr
    with grading.forbid("facecourse.metrics.threshold_for_fmr", task="find the threshold"):
        with pytest.raises(grading.DelegationError, match=re.escape("asks you to find the threshold yourself; "
                                                                    "calling facecourse.metrics.threshold_for_fmr")):
            metrics.threshold_for_fmr([0.3, 0.5], 0.5)
        assert metrics.error_rates_at is not None  # others untouched
    assert metrics.threshold_for_fmr is original
    assert metrics.threshold_for_fmr([0.3, 0.5], 0.5) == 0.3


def test_forbid_catches_names_imported_into_the_callers_namespace_and_reexports() -> None:
    import face_recognition
    from face_recognition import face_distance as fd

    namespace = {"fd": fd, "other": len}
    with grading.forbid("face_recognition.face_distance", task="compute the distances", namespace=namespace):
        with pytest.raises(grading.DelegationError):
            namespace["fd"](np.zeros((1, 2)), np.zeros(2))
        with pytest.raises(grading.DelegationError):
            face_recognition.api.face_distance(np.zeros((1, 2)), np.zeros(2))
        assert namespace["other"] is len
    assert namespace["fd"] is fd and face_recognition.face_distance is fd


def test_forbid_restores_after_an_error_and_counts_as_a_failed_assertion() -> None:
    original = metrics.error_rates_at
    # DelegationError is an AssertionError: nbgrader counts it failed
    with pytest.raises(AssertionError), grading.forbid("facecourse.metrics.error_rates_at"):
        metrics.error_rates_at([0.1], [0.9], 0.5)
    assert metrics.error_rates_at is original
    with pytest.raises(ValueError, match="check the name"), grading.forbid("facecourse.metrics.no_such_function"):
        pass
    with pytest.raises(ValueError, match="with its module"):
        grading.forbid("threshold_for_fmr").__enter__()
    assert metrics.error_rates_at is original


# ------------------------------------------------------------------------------ loops

def vectorised(gallery, probe):
    d = np.linalg.norm(np.asarray(gallery) - probe, axis=1)
    return int(np.argmin(d)), float(d.min())


def with_for(gallery, probe):
    best = None
    for k, row in enumerate(gallery):
        d = float(np.linalg.norm(row - probe))
        if best is None or d < best[1]:
            best = (k, d)
    return best


def with_while(values):
    k = 0
    while k < len(values):
        k += 1
    return k


def with_comprehension(gallery, probe):
    return min((float(np.linalg.norm(r - probe)), k) for k, r in enumerate(gallery))


def one_loop_over_groups(labels, groups):
    return {g: sum(1 for x in labels if x == g) for g in groups}


def pairs_loop(d):
    return sum(d[i][j] for i in range(len(d)) for j in range(i))


def test_find_loops_sees_every_kind_and_the_nesting() -> None:
    assert grading.find_loops(vectorised) == []
    assert [(x.kind, x.line, x.depth) for x in grading.find_loops(with_for)] == [("a for loop", 3, 1)]
    assert [x.kind for x in grading.find_loops(with_while)] == ["a while loop"]
    assert [x.kind for x in grading.find_loops(with_comprehension)] == ["a generator expression"]
    assert max(x.depth for x in grading.find_loops(one_loop_over_groups)) == 2  # dict comp with a generator inside
    assert [x.depth for x in grading.find_loops(pairs_loop)] == [2]  # two for clauses: a loop in a loop
    assert grading.find_loops("def f(x):\n    return [[a for a in r] for r in x]")[-1].depth == 2


def test_assert_no_loops_explains_what_to_do() -> None:
    grading.assert_no_loops(vectorised, over="the gallery")
    for func in (with_for, with_while, with_comprehension):
        with pytest.raises(grading.LoopError, match=rf"`{func.__name__}` uses a Python loop .*line \d+ of the "
                                                    r"function.*no Python loop over the gallery\. Hint: use axis=1"):
            grading.assert_no_loops(func, over="the gallery", hint="use axis=1")
    grading.assert_no_loops(with_for, over="pairs", max_depth=1)  # one loop is allowed there
    with pytest.raises(grading.LoopError, match="nested 2 deep"):
        grading.assert_no_loops(pairs_loop, over="pairs", max_depth=1)
    with pytest.raises(grading.LoopError, match="Cannot read the source"):
        grading.assert_no_loops(len)


# ------------------------------------------------------------------------------ rubrics and hints

def cells_by_id(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_question_prints_its_rubric_and_coded_questions_have_a_hint(source: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    cells = cells_by_id(nb)
    order = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    guide = (ROOT / "INSTRUCTORS.md").read_text()
    questions = sorted({int(m.group(1)) for g in cells for m in [re.fullmatch(r"q(\d+)_text", g)] if m})
    assert questions
    for q in questions:
        rubric = cells.get(f"q{q}_rubric")
        assert rubric is not None, f"{source.name}: question {q} prints no rubric"
        assert order.index(f"q{q}_rubric") == order.index(f"q{q}_text") + 1, "the rubric sits under the question"
        graded = [c for g, c in cells.items() if re.match(rf"q{q}(_|$)", g) and c.metadata["nbgrader"]["grade"]]
        points = sum(c.metadata["nbgrader"]["points"] for c in graded)
        hand = any(c.cell_type == "markdown" and c.metadata["nbgrader"]["solution"] for c in graded)
        if hand:  # word for word from the guide, so the two cannot drift apart
            assert nbgrader_check.rubric_block(guide, source.name[:2], q) in rubric.source, (
                f"{source.name}: the printed rubric of Q{q} differs from INSTRUCTORS.md: run "
                "`python tools/nbgrader_check.py rubrics`, then `python tools/notebooks.py release`")
            assert f"({points} points" in rubric.source
        else:
            assert f"**Rubric ({points} points, autograded).**" in rubric.source
        coded = any(c.cell_type == "code" and c.metadata["nbgrader"]["solution"]
                    for g, c in cells.items() if re.fullmatch(rf"q{q}(_\w+)?", g))
        if coded and not hand:
            hint = cells.get(f"q{q}_hint")
            folded = hint is not None or "<details>" in cells[f"q{q}_text"].source
            assert folded, f"{source.name}: coded question {q} has no folded hint"
            if hint is not None:
                assert hint.source.startswith("<details><summary>Hint") and hint.source.endswith("</details>")


# ------------------------------------------------------------------------------ the exercises

def run_with_answers(name: str, answers: dict[str, str], tmp_path: Path) -> dict:
    """Execute a copy of the source notebook with some model answers replaced; return cells by id."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "exercises" / "source" / name, as_version=4)
    cells = cells_by_id(nb)
    for gid, code in answers.items():
        assert "### BEGIN SOLUTION" in cells[gid].source
        cells[gid].source = code
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT / "exercises" / "source")}}).execute()
    return cells_by_id(nb)


def error_of(cell) -> str:
    return "\n".join(f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error")


DELEGATING_03 = {
    "q1": '''def fmr_fnmr_at(mated, nonmated, threshold):
    r = metrics.error_rates_at(mated, nonmated, threshold)
    return {"fmr": r.fmr, "fnmr": r.fnmr, "false_matches": r.false_matches, "nonmated_count": r.nonmated_count,
            "false_non_matches": r.false_non_matches, "mated_count": r.mated_count}''',
    "q2": '''from facecourse.metrics import threshold_for_fmr

def threshold_for_target_fmr(nonmated, target):
    return threshold_for_fmr(nonmated, target)''',
}


def test_delegating_answers_fail_exercise_03(tmp_path: Path) -> None:
    """Before issue 14 both answers passed every test (visible and hidden)."""
    cells = run_with_answers("03_error_rates.ipynb", DELEGATING_03, tmp_path)
    for gid, forbidden in (("q1_tests", "metrics.error_rates_at"), ("q2_tests", "metrics.threshold_for_fmr")):
        err = error_of(cells[gid])
        assert "DelegationError" in err and forbidden in err and "yourself" in err, f"{gid}: {err!r}"
    assert error_of(cells["q3_tests"]) == "", "the rest of the exercise still runs on the delegated answers"


def test_looping_and_delegating_answers_fail_exercise_04(tmp_path: Path) -> None:
    answers = {
        "q1": '''def rank_k_hits(distances, gallery_ids, probe_ids, k):  # correct, but one probe at a time
    out = []
    for row, who in zip(np.asarray(distances), probe_ids):
        out.append(who in np.asarray(gallery_ids)[np.argsort(row, kind="stable")[:k]])
    return np.array(out, dtype=bool)''',
        "q2": '''def fpir_counts(distances, threshold):
    r = search.fpir(distances, threshold)
    return int(r.count), int(r.total)''',
    }
    cells = run_with_answers("04_one_to_many.ipynb", answers, tmp_path)
    err = error_of(cells["q1_tests"])
    assert "LoopError" in err and "`rank_k_hits` uses a Python loop (a for loop, line 3" in err, err
    err = error_of(cells["q2_tests"])
    assert "DelegationError" in err and "facecourse.search.fpir" in err, err
    assert error_of(cells["q3_tests"]) == "" and error_of(cells["q4_tests"]) == ""


# ------------------------------------------------------------------------------ the nbgrader tool's own parts

def test_rubric_block_takes_heading_and_table_only_and_refuses_a_missing_rubric() -> None:
    guide = ("intro\n\n**Rubric — Exercise 09, Q2, a test (3 points).** Extra words\non two lines:\n\n"
             "| criterion | points |\n|---|---|\n| a | 2 |\n| b | 1 |\n\n*Notes for instructors only.*\n")
    block = nbgrader_check.rubric_block(guide, "09", 2)
    assert block.startswith("**Rubric — Exercise 09, Q2") and block.endswith("| b | 1 |")
    assert "Notes for instructors" not in block
    with pytest.raises(KeyError, match="Exercise 09, Q3"):
        nbgrader_check.rubric_block(guide, "09", 3)


def test_round_trip_comparison_sees_a_changed_cell(tmp_path: Path) -> None:
    """tools/nbgrader_check.py compares type, source and nbgrader metadata (minus nbgrader's own
    checksum); a changed source or grade flag is a difference."""
    release = ROOT / "exercises" / "release" / "03_error_rates.ipynb"
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        cell.metadata.get("nbgrader", {})["checksum"] = "added by nbgrader"
    same = tmp_path / "same.ipynb"
    nbformat.write(nb, same)
    assert nbgrader_check.comparable(same) == nbgrader_check.comparable(release)
    nb.cells[3].source += "\n# edited"
    nb.cells[4].metadata["nbgrader"]["grade"] = not nb.cells[4].metadata["nbgrader"]["grade"]
    changed = tmp_path / "changed.ipynb"
    nbformat.write(nb, changed)
    pairs = zip(nbgrader_check.comparable(release), nbgrader_check.comparable(changed), strict=True)
    diffs = [k for k, (a, b) in enumerate(pairs) if a != b]
    assert diffs == [3, 4]


def test_delegating_answers_fail_exercises_02_and_05(tmp_path: Path) -> None:
    """The other two delegations the issue names: Ex02's nearest identity and Ex05's bootstrap."""
    cells = run_with_answers("02_nearest_identity.ipynb", {"q1": '''from facecourse import embeddings

def nearest_identity(probe, gallery_embeddings, gallery_ids, *args, **kwargs):  # whatever the threshold is called
    probe = np.asarray(probe, dtype=float)
    if probe.shape != (np.asarray(gallery_embeddings).shape[1],):
        raise ValueError("wrong length")
    r = embeddings.nearest_identity(probe[None, :], gallery_embeddings, gallery_ids, *args, **kwargs)
    return (r.ids[0] if r.known[0] else "unknown"), float(r.distances[0])'''}, tmp_path)
    err = error_of(cells["q1_tests"])
    assert "DelegationError" in err and "facecourse.embeddings.nearest_identity" in err, err
    # Ex05 Q3: the recipe on the tiny hand cases (so the visible tests pass), the course's own
    # bootstrap on the real data, where a student would most want to delegate.
    source = nbformat.read(ROOT / "exercises" / "source" / "05_group_rates.ipynb", as_version=4)
    model = cells_by_id(source)["q3"].source
    branch = """    if distances is D:  # the real data: let the course do it
        members = np.array([groups[p] == group for p in ids])
        r = metrics.fmr_bootstrap_by_subject(photos.embeddings[members], ids[members], threshold,
                                             n_boot=n_boot, seed=seed, confidence=confidence)
        return float(r.lo), float(r.hi)
"""
    cells = run_with_answers("05_group_rates.ipynb", {"q3": model.replace("    ### BEGIN SOLUTION\n", branch)},
                             tmp_path)
    assert error_of(cells["q2_tests"]) == ""
    err = error_of(cells["q3_tests"])
    assert "DelegationError" in err and "facecourse.metrics.fmr_bootstrap_by_subject" in err, err
