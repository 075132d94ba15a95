#!/usr/bin/env python3
"""Set up and run the course with one command (Linux, macOS, Windows; Python 3.10-3.14).

    python3 tools/course.py lab      # create .venv if needed, fetch the images, open JupyterLab
    python3 tools/course.py test     # create .venv if needed, run every test and notebook check
    python3 tools/course.py fetch    # only download and verify the images
    python3 tools/course.py setup    # only create or update .venv
    python3 tools/course.py student-copy DIR [--git] [--ref=COMMIT]   # the students' copy: no solutions

Extra arguments after `test` go to pytest (e.g. `python3 tools/course.py test -k metrics`).
Uses only the standard library, so it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements-sha256"
INPUTS = ("requirements.txt", "pyproject.toml", "tools/dlib-shim/pyproject.toml")


def say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def check_platform() -> None:
    if sys.version_info < (3, 10) or sys.version_info >= (3, 15):
        sys.exit(f"[course] Python {platform.python_version()} is not supported: the prebuilt dlib wheel "
                 "exists for Python 3.10 to 3.14. Install one of those and run this command with it.")
    machine = platform.machine().lower()
    if sys.platform == "darwin" and machine not in ("arm64", "aarch64"):
        sys.exit("[course] Intel Macs have no prebuilt dlib wheel (dlib-bin ships macOS arm64 only), so "
                 "pip would compile dlib for about 25 minutes. Use the class JupyterHub or Binder link "
                 "instead (see README.md, 'Running it for a class').")


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_env() -> Path:
    """Create .venv and install requirements.txt into it, unless it is already up to date."""
    check_platform()
    python = venv_python()
    wanted = requirements_digest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python
    if not python.exists():
        say(f"creating a virtual environment in {VENV.relative_to(ROOT)}/ ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the course's packages (no compiler needed; about 1-2 minutes the first time) ...")
    start = time.monotonic()
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                    "-r", "requirements.txt"], cwd=ROOT, check=True)
    subprocess.run([str(python), "-m", "pip", "check"], cwd=ROOT, check=True)
    # face_recognition_models imports pkg_resources: fail here, loudly, not later in a notebook.
    subprocess.run([str(python), "-W", "error::UserWarning", "-c",
                    "import face_recognition, faiss; print('face_recognition and faiss import cleanly')"],
                   cwd=ROOT, check=True)
    STAMP.write_text(wanted)
    say(f"environment ready in {time.monotonic() - start:.0f} s")
    return python


# ---------------------------------------------------------------------------------------------
# The student distribution. The full repository holds the model answers and hidden tests
# (exercises/source/), the marking rubrics (INSTRUCTORS.md) and the capstone's model dossier
# (exercises/instructor/): a student who clones it has every answer. `student-copy` writes what a
# student needs to run the README's two commands, and nothing else: an ALLOW list (a new file is
# left out until someone decides it belongs), then a check that no solution text got through.

#: Tracked files copied to the student distribution (folders end in "/").
STUDENT_FILES = (
    "README.md", "requirements.txt", "pyproject.toml", ".gitignore",
    "lessons/", "exercises/release/", "facecourse/", "binder/",
    "sample_images/", "my_images/README.md", "my_images/CONSENT_TEMPLATE.md",
    "docs/glossary.md", "docs/sources.md", "docs/article.md",
    "tools/course.py", "tools/dlib-shim/",
    "tests/conftest.py", "tests/nbval_sanitize.cfg", "tests/offline/", "tests/README.md",
)
#: Unit tests that need only the package (not the sources, the guide, tools or the git history).
STUDENT_TESTS = (
    "test_damage_explorer.py", "test_dataset.py", "test_degrade.py", "test_demographics.py", "test_detection.py",
    "test_embeddings.py", "test_errorplots.py", "test_faceprints.py", "test_gallery_explorer.py",
    "test_group_explorer.py", "test_images.py", "test_landmarks.py", "test_manifest.py", "test_metrics.py",
    "test_my_images.py", "test_deployment.py", "test_privacy.py", "test_rights.py", "test_synthetic.py",
    "test_tables.py", "test_widgets.py",
)
#: Never in the student distribution, whatever the allow list says.
INSTRUCTOR_ONLY = ("exercises/source/", "exercises/instructor/", "INSTRUCTORS.md")
STUDENT_BANNER = """> **Student distribution**, generated by `python3 tools/course.py student-copy` from the course
> repository; do not edit it by hand. It holds the lessons and the exercises to solve
> (`exercises/release/`); the solutions, hidden tests and marking rubrics are only in the
> instructors' repository.

"""


def tracked_files(ref: str = "HEAD") -> list[str]:
    out = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", ref], cwd=ROOT, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f]


def student_file(path: str) -> bool:
    if any(path == x or path.startswith(x) for x in INSTRUCTOR_ONLY):
        return False
    if path.startswith("tests/test_"):
        return path[len("tests/"):] in STUDENT_TESTS
    return any(path == x or (x.endswith("/") and path.startswith(x)) for x in STUDENT_FILES)


def student_copy(dest: Path, git: bool = False, ref: str = "HEAD") -> int:
    """Write the student distribution into ``dest`` (new or empty); return how many files.

    The files come from the commit ``ref`` (default: the last commit), never from uncommitted
    work in the tree: the distribution is reproducible, and half-done edits stay out of it.
    """
    import io
    import shutil
    import tarfile

    dest = dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        sys.exit(f"[course] {dest} is inside the course repository: give a folder outside it")
    if dest.exists() and any(dest.iterdir()):
        sys.exit(f"[course] {dest} is not empty: give a new or empty folder (nothing was written)")
    files = [f for f in tracked_files(ref) if student_file(f)]
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "--", *files], cwd=ROOT,
                             capture_output=True, check=True).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(dest)
    # The README mentions the instructors' sources; the student copy says what it is instead.
    readme = dest / "README.md"
    readme.write_text(STUDENT_BANNER + readme.read_text(encoding="utf-8"), encoding="utf-8")
    # There are no solution notebooks to run under nbval here: test the package and the lessons.
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    wanted = 'testpaths = ["tests", "lessons", "exercises/source"]'
    if wanted not in text:
        sys.exit("[course] pyproject.toml's testpaths changed: update student_copy in tools/course.py")
    pyproject.write_text(text.replace(wanted, 'testpaths = ["tests", "lessons"]'), encoding="utf-8")
    leaks = solution_leaks(dest)
    if leaks:
        shutil.rmtree(dest)
        sys.exit("[course] solution text in the student copy (deleted it):\n  " + "\n  ".join(leaks[:20]))
    if git:
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=facecourse", "-c", "user.email=facecourse@localhost",
                     "commit", "-q", "-m", f"Student distribution of the course ({len(files)} files)"]):
            subprocess.run(["git", *cmd], cwd=dest, check=True)
    return len(files)


SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def solution_lines() -> dict[str, str]:
    """Distinctive lines of every model answer and hidden test in exercises/source (line -> where).

    A line counts when it has at least 30 characters and occurs neither in the exercise's student
    version (a visible assertion is not secret) nor in the lessons or the unit tests (a generic line
    such as ``rng = np.random.default_rng(7)``). Lines of the helper package are NOT excused: a model
    answer copied into ``facecourse/`` is a leak.
    """
    import json
    import re

    found: dict[str, str] = {}
    common = {line.strip() for path in [*(ROOT / "tests").glob("*.py"), *(ROOT / "lessons").glob("*.ipynb")]
              for line in path.read_text(encoding="utf-8").replace("\\n", "\n").splitlines()}
    common |= {line.strip().strip('",').strip() for line in common}
    region = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)[^\n]*\n(.*?)### END \1", re.S)
    sources = sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
    for src in sources:
        released = (ROOT / "exercises" / "release" / src.name)
        public = released.read_text(encoding="utf-8") if released.exists() else ""
        public_lines = {line.strip() for cell in json.loads(public or '{"cells": []}')["cells"]
                        for line in "".join(cell["source"]).splitlines()}
        for cell in json.loads(src.read_text(encoding="utf-8"))["cells"]:
            for match in region.finditer("".join(cell["source"])):
                for line in match.group(2).splitlines():
                    line = line.strip()
                    if len(line) >= 30 and line not in public_lines and line not in common:
                        found.setdefault(line, f"{src.name} ({match.group(1).lower()})")
    for dossier in sorted((ROOT / "exercises" / "instructor").glob("*.md")):
        for line in dossier.read_text(encoding="utf-8").splitlines():
            if len(line.strip()) >= 40:
                found.setdefault(line.strip(), dossier.name)
    return found


def solution_leaks(dest: Path) -> list[str]:
    """Every place in ``dest`` that carries a solution marker or a distinctive model-answer line."""
    import json

    secrets = solution_lines()
    leaks = []
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".ipynb":  # compare cell text, not JSON-escaped strings
            text = "\n".join("".join(c["source"]) + "\n" + "".join(
                "".join(o.get("text", "")) for o in c.get("outputs", [])) for c in json.loads(text)["cells"])
        rel = path.relative_to(dest)
        lines = {line.strip() for line in text.splitlines()}
        if path.suffix == ".ipynb":  # the markers are named in prose and code elsewhere (README, this file)
            leaks += [f"{rel}: {m}" for m in SOLUTION_MARKERS if m in text]
        leaks += [f"{rel}: a line of {where}: {line[:60]}" for line, where in secrets.items() if line in lines]
    return leaks


def run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("lab", [])
    if command == "student-copy":
        ref = next((a.split("=", 1)[1] for a in rest if a.startswith("--ref=")), "HEAD")
        args = [a for a in rest if a != "--git" and not a.startswith("--ref=")]
        if len(args) != 1:
            print("usage: python3 tools/course.py student-copy DIR [--git] [--ref=COMMIT]   (DIR new or empty)")
            return 2
        n = student_copy(Path(args[0]), git="--git" in rest, ref=ref)
        committed = "; committed as a git repository" if "--git" in rest else ""
        say(f"wrote the student distribution to {args[0]}: {n} files, no exercises/source, "
            f"no INSTRUCTORS.md, no hidden tests (checked){committed}")
        return 0
    if command not in {"lab", "test", "fetch", "setup"}:
        print(__doc__)
        return 2
    python = ensure_env()
    if command == "setup":
        return 0
    if command == "test":
        env_progress = os.environ.setdefault("FACECOURSE_PROGRESS", "0")
        say(f"running the tests (FACECOURSE_PROGRESS={env_progress}) ...")
        return run(python, "-m", "pytest", *rest)
    status = run(python, "-m", "facecourse", "fetch")
    if status or command == "fetch":
        return status
    say("opening JupyterLab; stop it with Ctrl+C in this window")
    extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return run(python, "-m", "jupyter", "lab", "lessons/00_course_map.ipynb", *extra, *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
