#!/usr/bin/env python3
"""Set up and run the course with one command (Linux, macOS, Windows; Python 3.10-3.14).

    python3 tools/course.py lab      # create .venv if needed, fetch the images, open JupyterLab
    python3 tools/course.py test     # create .venv if needed, run every test and notebook check
    python3 tools/course.py fetch    # only download and verify the images
    python3 tools/course.py setup    # only create or update .venv

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


def run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("lab", [])
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
