"""Every lesson keeps the shape and the budget of the lesson conventions (issue 13).

The shape, as ``tools/lesson_stats.py`` parses it (see its docstring):

* cell 0: the title, **What you'll do**, **What you'll learn**, **What you'll need** and the core
  time; cell 1: ``## A case to start``, a real case in a few lines with a link into
  ``docs/sources.md``;
* a core path that a mixed class finishes in 45 minutes by the stated model (words / 150 per
  minute + 0.5 min per core code cell + 3 min per active moment + the measured run time of the
  core cells, from ``docs/lesson_times.csv``), with at most 1,500 words of prose (no margin: the
  time budget already has its own, and 1,500 is what the conventions state), at least four active
  moments, and no core code cell longer than 12 lines;
* then ``## Key points`` (bullets), ``## Self-check`` (8–12 numbered questions, each with a folded
  answer), any ``## Going deeper: …`` sections, and last ``## Exercise`` (the pointer to the exercise), so
  that no core cell can depend on a Going-deeper cell;
* at least one glossary link; no visible ``NBVAL`` comment (use the ``nbval-ignore-output`` tag);
  a kernelspec.

Lessons still being restructured fail here until they are done: that is the point of the test.
The first tests check the stats tool itself on a hand-made notebook, with hand-counted numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, load_script

lesson_stats = load_script(ROOT / "tools" / "lesson_stats.py")

LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
MAX_CORE_MINUTES = 45
MAX_CORE_WORDS = 1500
MIN_ACTIVE = 4
SELF_CHECK_ITEMS = range(8, 13)
MAX_CORE_CELL_LINES = 12
MAX_CASE_WORDS = 110  # "3-5 lines": about 20-22 words a line


# ---------------------------------------------------------------------------------------------
# The tool, on a notebook whose numbers are counted by hand
# ---------------------------------------------------------------------------------------------

def _toy(path: Path) -> Path:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    active = md("**Predict.** Which is larger?")  # 4 words
    active.metadata["tags"] = ["active"]
    untagged = md("**Argue.** Not tagged, so not counted.")  # 6 words
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# Title\n\nOne two [three](../docs/glossary.md#x) <b>four</b>"),      # 5 words
        md("## A case to start\n\nFive words <!-- hidden --> here."),              # 4 + 3 = 7
        code("a = 1\n\nb = 2\n# a comment line\n"),                                # 3 lines
        active,
        code("print(a)"),                                                           # 1 line
        untagged,
        md("## Key points\n\n- one point <details><summary>x</summary>folded words</details>"),  # 4
        md("## Self-check\n\n1. Q one?\n<details><summary>Answer</summary>A.</details>\n\n"
           "2. Q two?\n<details><summary>Answer</summary>B.</details>"),
        md("## Going deeper: more\n\nSix words of deeper prose here."),
        code("x = 1\ny = 2"),                                                       # deeper: 2 lines
        md("## Exercise\n\nGo."),                                                   # 2 words
    ]
    path = path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_stats_tool_counts_a_hand_made_notebook(tmp_path: Path) -> None:
    s = lesson_stats.lesson_stats(_toy(tmp_path), factories=set())
    # core: 5 + 7 + 4 (Predict) + 6 (untagged) + 4 (key points; the folded block excluded) + 2 = 28
    assert s.core_words == 28
    assert s.deeper_words == 9  # "Going deeper: more" (3) + 6
    assert (s.core_code_lines, s.deeper_code_lines, s.core_code_cells) == (4, 2, 2)
    assert (s.longest_core_cell, s.longest_core_cell_index) == (3, 2)
    assert s.active == 1
    assert (s.selfcheck_questions, s.selfcheck_answers) == (2, 2)
    # 28/150 + 0.5 * 2 + 3 * 1 = 4.1867 min, plus a measured 30 s
    assert s.estimated_minutes() == pytest.approx(28 / 150 + 1 + 3, abs=1e-9)
    s.core_seconds = 30.0
    assert s.estimated_minutes() == pytest.approx(28 / 150 + 1 + 3 + 0.5, abs=1e-9)


def test_stats_table_is_markdown(tmp_path: Path) -> None:
    s = lesson_stats.lesson_stats(_toy(tmp_path), factories=set())
    lines = lesson_stats.table([s]).splitlines()
    assert lines[0].startswith("| lesson |") and set(lines[1]) <= set("|-")
    # estimate 28/150 + 2 x 0.5 + 3 = 4.2 ("+": no run time measured); slow reader 28/100 + 2 x 1 + 3 = 5.3
    assert lines[2].split("|")[1].strip() == "toy" and lines[2].rstrip().endswith("| 4+ | 5 |")


def test_times_file_with_wrong_columns_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "times.csv"
    bad.write_text("lesson,seconds\n00_course_map,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="--measure"):
        lesson_stats.read_times(bad)


# ---------------------------------------------------------------------------------------------
# Every lesson
# ---------------------------------------------------------------------------------------------

def _nb(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def times() -> dict[str, dict[str, str]]:
    return lesson_stats.read_times(lesson_stats.TIMES)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_opening_and_case(path: Path) -> None:
    cells = _nb(path).cells
    head = cells[0].source
    assert cells[0].cell_type == "markdown" and head.startswith("# "), "cell 0 starts with the title"
    for label in ("**What you'll do:**", "**What you'll learn:**", "**What you'll need:**"):
        assert label in head, f"cell 0 lacks {label}"
    assert re.search(r"\d+\s*minutes", head), "cell 0 states the estimated core time in minutes"
    case = cells[1]
    assert case.cell_type == "markdown" and case.source.startswith("## A case to start"), \
        "cell 1 is the '## A case to start' section"
    assert "sources.md#" in case.source, "the case links its source in docs/sources.md"
    words = lesson_stats.count_words(case.source)
    assert words <= MAX_CASE_WORDS, f"the case is {words} words; keep it to 3-5 lines (<= {MAX_CASE_WORDS})"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_core_budget(path: Path, times: dict[str, dict[str, str]]) -> None:
    s = lesson_stats.lesson_stats(path)
    assert s.core_words <= MAX_CORE_WORDS, f"{s.core_words} words of core prose (at most {MAX_CORE_WORDS})"
    assert s.longest_core_cell <= MAX_CORE_CELL_LINES, \
        f"core code cell {s.longest_core_cell_index} has {s.longest_core_cell} lines (at most {MAX_CORE_CELL_LINES})"
    assert s.active >= MIN_ACTIVE, f"{s.active} active moments in the core path (at least {MIN_ACTIVE})"
    assert path.stem in times, (f"no measured run time for {path.stem} in docs/lesson_times.csv: "
                                f"run `python tools/lesson_stats.py --measure {path.relative_to(ROOT)}`")
    s.core_seconds = float(times[path.stem]["core_seconds"])
    assert s.estimated_minutes() <= MAX_CORE_MINUTES, \
        f"estimated core time {s.estimated_minutes():.0f} min (at most {MAX_CORE_MINUTES})"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_closing_sections_in_order(path: Path) -> None:
    nb = _nb(path)
    kinds = [k for k, _ in lesson_stats.cell_sections(nb)]
    assert "keypoints" in kinds, "no '## Key points' section"
    assert "selfcheck" in kinds, "no '## Self-check' section"
    assert kinds[-1] == "exercise", "the last section is '## Exercise' (the pointer to the exercise)"
    first_kp = kinds.index("keypoints")
    tail = kinds[first_kp:]
    # Key points, then the self-check, then only Going-deeper sections, then the exercise pointer.
    order = [k for i, k in enumerate(tail) if i == 0 or k != tail[i - 1]]
    assert order[:2] == ["keypoints", "selfcheck"], f"sections after the key points: {order}"
    assert all(k == "deeper" for k in order[2:-1]) and order[-1] == "exercise", \
        f"after the self-check only Going-deeper sections, then the exercise: {order}"
    assert "deeper" not in kinds[:first_kp], "Going-deeper sections come after the self-check"
    kp = "\n".join(c.source for c, k in zip(nb.cells, kinds, strict=True) if k == "keypoints")
    assert re.search(r"^\s*[-*] \S", kp, re.M), "key points are bullets"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_self_check(path: Path) -> None:
    s = lesson_stats.lesson_stats(path)
    assert s.selfcheck_questions in SELF_CHECK_ITEMS, f"{s.selfcheck_questions} self-check questions (8-12)"
    assert s.selfcheck_answers == s.selfcheck_questions, \
        f"{s.selfcheck_questions} questions but {s.selfcheck_answers} folded answers"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_active_moments_are_well_formed(path: Path) -> None:
    cells = _nb(path).cells
    for i, c in enumerate(cells):
        if c.cell_type != "markdown" or "active" not in c.get("metadata", {}).get("tags", []):
            continue
        text = c.source.lstrip()
        assert text.startswith(lesson_stats.ACTIVE_LABELS), f"cell {i} is tagged active but has no label"
        following = cells[i + 1] if i + 1 < len(cells) else None
        if text.startswith(("**Predict.**", "**Your turn.**", "**Check by hand.**")):
            assert following is not None and following.cell_type == "code", \
                f"cell {i}: a code cell must follow a Predict / Your turn / Check by hand prompt"
        if text.startswith("**Your turn.**"):
            assert "<summary>Solution</summary>" in c.source, f"cell {i}: fold the solution in <details>"
        if text.startswith("**Check by hand.**"):
            assert following is not None and "assert" in following.source, \
                f"cell {i}: the next cell asserts the hand-computed number"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_glossary_nbval_and_kernelspec(path: Path) -> None:
    nb = _nb(path)
    assert any("glossary.md#" in c.source for c in nb.cells if c.cell_type == "markdown"), \
        "link each term's first use to docs/glossary.md"
    visible = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and re.search(r"#\s*NBVAL", c.source)]
    assert not visible, f"cells {visible} show an NBVAL comment: use the cell tag nbval-ignore-output instead"
    ks = nb.metadata.get("kernelspec", {})
    assert ks.get("name") == "python3" and ks.get("language") == "python", "kernelspec metadata missing"


def test_measure_times_core_and_deeper_cells_and_flags_stale_times(tmp_path: Path) -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [md("# Toy"), code("import time\ntime.sleep(0.3)"),
                md("## Going deeper: slow"), code("time.sleep(0.2)"), md("## Exercise")]
    path = tmp_path / "toy_timed.ipynb"
    nbformat.write(nb, path)
    row = lesson_stats.measure(path)
    assert float(row["core_seconds"]) >= 0.3 and float(row["deeper_seconds"]) >= 0.2
    assert float(row["total_seconds"]) >= float(row["core_seconds"]) + float(row["deeper_seconds"])
    assert row[lesson_stats.CODE_FIELD] == lesson_stats.code_hash(nbformat.read(path, as_version=4))
    times = tmp_path / "times.csv"
    lesson_stats.write_times(times, {"toy_timed": row})
    assert lesson_stats.read_times(times)["toy_timed"] == row
    # A plain run reads the times back; after the code changes, the time is flagged as stale.
    nb.cells[1].source = "import time\ntime.sleep(0.31)"
    nbformat.write(nb, path)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        lesson_stats.main([str(path), "--times", str(times)])
    assert "re-run with --measure" in out.getvalue()
    assert out.getvalue().splitlines()[2].split("|")[11].strip().endswith("*")
