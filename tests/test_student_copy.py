"""The student distribution (`python3 tools/course.py student-copy DIR`) carries no solution and runs.

The full repository holds every model answer, hidden test and rubric; students get a copy built
by that command (docs/classroom.md). These tests build one and check that (1) nothing instructor-
only is in it: no exercises/source, no INSTRUCTORS.md, no model dossier, no solution or hidden-test
region in any notebook, and no distinctive line of any model answer or hidden test in any file;
(2) the check itself catches a planted leak (a test that cannot fail proves nothing); (3) the
course runs from the copy: the helper package imports from it and a lesson passes nbval there,
with the images and faceprint cache of this checkout. The copy is built from the last commit
(`--ref`, default HEAD), never from uncommitted work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import course


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("student") / "facecourse"
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "course.py"), "student-copy", str(dest)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    return dest


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_copy_holds_what_students_need(copy: Path) -> None:
    names = files(copy)
    releases = sorted(p.name for p in (ROOT / "exercises" / "release").glob("*.ipynb"))
    assert [n for n in names if n.startswith("exercises/")] == [f"exercises/release/{r}" for r in releases]
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb"))
    assert lessons and all(f"lessons/{name}" in names for name in lessons)
    for needed in ("README.md", "requirements.txt", "pyproject.toml", "tools/course.py",
                   "tools/dlib-shim/pyproject.toml", "facecourse/__init__.py", "facecourse/grading.py",
                   "sample_images/manifest.csv", "binder/requirements.txt", "docs/sources.md"):
        assert needed in names, f"{needed} is missing from the student copy"
    assert "Student distribution" in (copy / "README.md").read_text()


def test_copy_holds_nothing_for_instructors_only(copy: Path) -> None:
    names = files(copy)
    assert not (copy / "exercises" / "source").exists()
    assert not (copy / "exercises" / "instructor").exists()
    for private in ("INSTRUCTORS.md", "CONTRIBUTING.md", "tests/test_exercises.py", "tests/test_grading.py",
                    "tools/notebooks.py", "tools/nbgrader_check.py"):
        assert private not in names, f"{private} must stay out of the student copy"
    assert course.solution_leaks(copy) == []


def test_solution_scan_finds_planted_leaks(copy: Path, tmp_path: Path) -> None:
    """The scan is not vacuous: a copied source notebook and a model-answer line pasted into
    the package are both found."""
    secrets = course.solution_lines()
    assert len(secrets) >= 50, "every exercise's model answers contribute distinctive lines"
    assert {where.split(" ")[0] for where in secrets.values()} >= {
        p.name for p in (ROOT / "exercises" / "source").glob("*.ipynb")}, "every exercise has secret lines"
    planted = tmp_path / "planted"
    shutil.copytree(copy / "facecourse", planted / "facecourse")
    shutil.copy(ROOT / "exercises" / "source" / "03_error_rates.ipynb", planted / "03.ipynb")
    line = next(line for line, where in secrets.items() if where.startswith("04_"))
    with open(planted / "facecourse" / "metrics.py", "a") as f:
        f.write(f"\n    {line}\n")
    leaks = course.solution_leaks(planted)
    assert any(leak.startswith("03.ipynb: ### BEGIN SOLUTION") for leak in leaks), leaks
    assert any(leak.startswith("03.ipynb: a line of 03_error_rates.ipynb") for leak in leaks), leaks
    assert any(leak.startswith("facecourse/metrics.py: a line of 04_") for leak in leaks), leaks


def test_student_copy_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "course.py"), "student-copy", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0 and "not empty" in out.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine" and files(tmp_path) == ["keep.txt"]


def test_course_runs_from_the_copy(copy: Path, images_ready: Path) -> None:
    """The package imports from the copy, and lesson 05 (one of the fastest, about 20 s warm) passes
    nbval there, configured by the copy's own pyproject.toml, with this checkout's images and cache."""
    from facecourse import config

    env = {**os.environ, "PYTHONPATH": str(copy), "FACECOURSE_IMAGE_DIR": str(config.image_dir()),
           "FACECOURSE_CACHE_DIR": str(config.cache_dir()), "FACECOURSE_PROGRESS": "0"}
    where = subprocess.run([sys.executable, "-c", "import facecourse; print(facecourse.__file__)"],
                           env=env, cwd=copy, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(copy), f"facecourse imported from {where}, not the copy"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                          "lessons/05_who_gets_misidentified.ipynb"],
                         env=env, cwd=copy, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "passed" in run.stdout
