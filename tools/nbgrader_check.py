#!/usr/bin/env python3
"""The exercises in real nbgrader: generate, autograde the solutions and the blank copies, export.

    python tools/nbgrader_check.py            # the round trip (needs .ci/nbgrader-requirements.txt)
    python tools/nbgrader_check.py rubrics    # rewrite the printed rubric cells from INSTRUCTORS.md

The round trip, in a temporary nbgrader course directory (nothing is written to the repository):

1. every ``exercises/source/*.ipynb`` becomes ``source/<exercise>/<exercise>.ipynb`` and
   ``nbgrader generate_assignment`` makes its student version, which must equal
   ``exercises/release/`` cell for cell (source, cell type, nbgrader metadata);
2. student ``solutions`` submits the source notebooks themselves (the model answers),
   student ``blank`` the untouched release copies; ``nbgrader autograde`` grades both, running
   every notebook, hidden tests included, in a fresh kernel;
3. ``nbgrader export`` writes the grades as CSV; the table is printed.

It exits non-zero unless the generated copies match, ``solutions`` gets every autograded point
of every exercise and ``blank`` gets none. Hand-marked answers score 0 until a person marks them,
so only autograded points are compared. The kernels need the images (FACECOURSE_IMAGE_MIRROR)
and, to finish in minutes, a warm faceprint cache (CI's main test run leaves one in the clone).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "source"
RELEASE = ROOT / "exercises" / "release"
GUIDE = ROOT / "INSTRUCTORS.md"


# ---------------------------------------------------------------------------------------------
# Rubrics printed in the exercises come from the instructors' guide, word for word.

def rubric_block(guide: str, number: str, question: int) -> str:
    """The rubric of exercise ``number`` question ``question`` in INSTRUCTORS.md: its bold heading
    paragraph and its criteria table (what follows the table - scenario notes, marking advice - is
    for instructors only)."""
    lines = guide.splitlines()
    start = next((k for k, line in enumerate(lines)
                  if re.match(rf"\*\*Rubric — Exercise {number}, Q{question}\b", line)), None)
    if start is None:
        raise KeyError(f"INSTRUCTORS.md has no '**Rubric — Exercise {number}, Q{question}' heading")
    block: list[str] = []
    in_table = False
    for line in lines[start:]:
        if line.startswith("|"):
            in_table = True
        elif in_table:
            break
        if not line.strip() and block and not in_table and block[-1].strip():
            block.append("")
            continue
        block.append(line)
    text = "\n".join(block).strip()
    if "|---" not in text:
        raise ValueError(f"the rubric of Exercise {number}, Q{question} in INSTRUCTORS.md has no criteria table")
    return text


HAND_HEADER = ("*This written answer is marked by hand, with this rubric from the instructors' guide "
               "(any well-argued position can score full marks):*\n\n")


def sync_rubrics() -> list[str]:
    """Rewrite every hand-marked question's rubric cell (grade_id ``qN_rubric``) from INSTRUCTORS.md."""
    import nbformat

    guide = GUIDE.read_text(encoding="utf-8")
    changed = []
    for path in sorted(SOURCE.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        dirty = False
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id", "")
            if gid.endswith("_rubric") and "marked by hand" in cell.source:
                want = HAND_HEADER + rubric_block(guide, path.name[:2], int(gid[1:].split("_")[0]))
                if cell.source != want:
                    cell.source, dirty = want, True
        if dirty:
            nbformat.write(nb, path)
            changed.append(path.name)
    return changed


# ---------------------------------------------------------------------------------------------
# The round trip.

def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nbgrader", *args, "--CourseDirectory.root=" + str(course)]
    print("$ nbgrader " + " ".join(args), flush=True)
    out = subprocess.run(cmd, cwd=course, capture_output=True, text=True)
    if out.returncode:
        print(out.stdout[-4000:], out.stderr[-4000:], sep="\n")
    return out


def comparable(nb_path: Path) -> list[tuple[str, str, dict]]:
    """What must agree between nbgrader's student version and ours: per cell, its type, source and
    nbgrader metadata (nbgrader adds a checksum and cell_type to locked cells; those are dropped)."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    out = []
    for cell in cells:
        meta = dict(cell.get("metadata", {}).get("nbgrader", {}))
        for key in ("checksum", "cell_type"):
            meta.pop(key, None)
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        out.append((cell["cell_type"], source.rstrip("\n"), meta))
    return out


def autograded_points(nb_path: Path) -> float:
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    total = 0.0
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            total += float(meta.get("points", 0))
    return total


def round_trip(keep: bool = False) -> int:
    problems: list[str] = []
    course = Path(tempfile.mkdtemp(prefix="facecourse-nbgrader-"))
    exercises = [p.stem for p in sorted(SOURCE.glob("*.ipynb"))]
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'facecourse'\n"
        "c.Execute.timeout = 1800\n"
        # the stubs tools/notebooks.py writes into exercises/release (nbgrader's defaults, spelled out)
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
        "c.ClearSolutions.text_stub = 'YOUR ANSWER HERE'\n")
    # nbgrader runs the notebooks from the submitted folder: the relative links (../../docs) and
    # the helper package must resolve as in the repository, so give the kernels the package path.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    os.environ.setdefault("FACECOURSE_PROGRESS", "0")
    # nbgrader runs the `alembic` command of its own environment: put that environment's bin first
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    snapshot = course / "repository-release"  # both sides copied at the same moment
    snapshot.mkdir()
    for name in exercises:
        (course / "source" / name).mkdir(parents=True)
        shutil.copy(SOURCE / f"{name}.ipynb", course / "source" / name / f"{name}.ipynb")
        shutil.copy(RELEASE / f"{name}.ipynb", snapshot / f"{name}.ipynb")
    for student in ("solutions", "blank"):
        nbgrader(course, "db", "student", "add", student)
    for name in exercises:
        for student, src in (("solutions", course / "source" / name / f"{name}.ipynb"),
                             ("blank", snapshot / f"{name}.ipynb")):
            (course / "submitted" / student / name).mkdir(parents=True)
            shutil.copy(src, course / "submitted" / student / name / f"{name}.ipynb")
        if nbgrader(course, "generate_assignment", name, "--create", "--force").returncode:
            problems.append(f"nbgrader generate_assignment {name} failed")
        generated = course / "release" / name / f"{name}.ipynb"
        if not generated.exists():
            problems.append(f"{name}: nbgrader generated no student version")
            continue
        ours, theirs = comparable(snapshot / f"{name}.ipynb"), comparable(generated)
        if len(ours) != len(theirs):
            problems.append(f"{name}: nbgrader's student version has {len(theirs)} cells, exercises/release "
                            f"{len(ours)}")
        for k, (a, b) in enumerate(zip(ours, theirs, strict=False)):  # a different cell count is reported above
            if a != b:
                problems.append(f"{name}: cell {k} ({a[2].get('grade_id')}) differs from nbgrader's student version")
    for student in ("solutions", "blank"):
        for name in exercises:
            if nbgrader(course, "autograde", name, "--student", student, "--force").returncode:
                problems.append(f"nbgrader autograde {name} --student {student} failed")
    if nbgrader(course, "export", "--to", str(course / "grades.csv")).returncode:
        problems.append("nbgrader export failed")
    grades = list(csv.DictReader((course / "grades.csv").open())) if (course / "grades.csv").exists() else []
    print(f"\n{'exercise':<24}{'student':<11}{'autograded':>11}{'of':>5}{'hand-marked (to do)':>22}")
    for name in exercises:
        full = autograded_points(course / "source" / name / f"{name}.ipynb")
        for student in ("solutions", "blank"):
            row = next((r for r in grades if r["assignment"] == name and r["student_id"] == student), None)
            if row is None:
                problems.append(f"{name}: no grade exported for {student}")
                continue
            # nbgrader's export gives raw_score = autograded + manual points; manual ones are 0 until marked
            got = float(row["raw_score"])
            hand = float(row["max_score"]) - full
            print(f"{name:<24}{student:<11}{got:>11g}{full:>5g}{hand:>22g}")
            want = full if student == "solutions" else 0.0
            if abs(got - want) > 1e-9:
                problems.append(f"{name}: {student} scored {got:g} autograded points, expected {want:g}")
    print()
    if keep:
        print(f"course directory kept: {course}")
    else:
        shutil.rmtree(course, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem)
    print("nbgrader round trip: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["rubrics"]:
        changed = sync_rubrics()
        print("rubric cells rewritten in: " + (", ".join(changed) or "none (already in step)"))
        return 0
    if argv and argv[0] not in ("--keep",):
        print(__doc__)
        return 2
    return round_trip(keep="--keep" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
