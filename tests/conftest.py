"""Shared test set-up.

The tests use the real consenting photos. In CI they come from the offline mirror named by
FACECOURSE_IMAGE_MIRROR (see .ci/run); on a student's machine they are downloaded once.
Tests that need to damage or move images work on copies in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("FACECOURSE_PROGRESS", "0")

ROOT = Path(__file__).resolve().parents[1]

# No network at run time: every process the tests start (notebook kernels included) gets the
# guard in tests/offline/sitecustomize.py, and so does this process.
OFFLINE = Path(__file__).resolve().parent / "offline"
os.environ["FACECOURSE_OFFLINE_GUARD"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(OFFLINE), os.environ.get("PYTHONPATH")]))
import runpy  # noqa: E402

runpy.run_path(str(OFFLINE / "sitecustomize.py"))
DEFAULT_MIRROR = ROOT.parent / "shared" / "datasets" / "face-research-lab"


def mirror_dir() -> Path:
    """The offline mirror of the images; tests that need it fail loudly without it."""
    value = os.environ.get("FACECOURSE_IMAGE_MIRROR")
    path = Path(value) if value else DEFAULT_MIRROR
    if not (path / "SHA256SUMS").exists():
        pytest.fail(f"No image mirror at {path}: set FACECOURSE_IMAGE_MIRROR to the folder of the "
                    "Face Research Lab images (CI sets it in .ci/run).")
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    return mirror_dir()


@pytest.fixture(scope="session")
def images_ready(mirror: Path) -> Path:
    """Make sure the verified images are in the course's image folder (fetched from the mirror)."""
    os.environ.setdefault("FACECOURSE_IMAGE_MIRROR", str(mirror))
    from facecourse.dataset import fetch

    fetch()
    from facecourse import config

    return config.image_dir()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Path) -> Path:
    """A private image folder and cache for one test, fed from the mirror."""
    monkeypatch.setenv("FACECOURSE_IMAGE_MIRROR", str(mirror))
    monkeypatch.setenv("FACECOURSE_IMAGE_DIR", str(tmp_path / "images"))
    monkeypatch.setenv("FACECOURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def git_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f]


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)
