"""Shared test set-up.

The tests use the real consenting photos. In CI they come from the offline mirror named by
FACECOURSE_IMAGE_MIRROR (see .ci/run); on a student's machine they are downloaded once.
Tests that need to damage or move images work on copies in a temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Progress bars off and the network guard on: see facecourse/pytest_plugin.py (loaded by addopts).
DEFAULT_MIRROR = ROOT.parent / "shared" / "datasets" / "face-research-lab"


def load_script(path: Path) -> types.ModuleType:
    """Import a script that is not in a package (``tools/*.py``, ``benchmarks/*.py``) as the module named
    like its file, registered in ``sys.modules`` (dataclasses look their module up while a class is built)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def mirror_dir() -> Path:
    """A folder laid out like the dataset, that tests can copy images from.

    CI (and anyone with the offline mirror) names it in FACECOURSE_IMAGE_MIRROR. On a
    student's machine with no mirror, the course's own verified download folder serves
    instead: the images are fetched from the pinned upstream first (needs the internet once).
    """
    value = os.environ.get("FACECOURSE_IMAGE_MIRROR")
    path = Path(value) if value else DEFAULT_MIRROR
    if (path / "SHA256SUMS").exists():
        return path
    if value:
        pytest.fail(f"FACECOURSE_IMAGE_MIRROR={value} is not a copy of the image set (no SHA256SUMS there).")
    from facecourse import config
    from facecourse.dataset import fetch
    from facecourse.errors import DownloadError

    try:
        fetch()
    except DownloadError as err:
        pytest.fail(f"The tests need the course images and could not get them: {err}")
    return config.image_dir()


@pytest.fixture(scope="session")
def mirror() -> Path:
    return mirror_dir()


def mirror_photo(mirror: Path, face_id: str, side: int) -> Any:
    """Neutral photo ``face_id`` of the mirror resized to ``side`` x ``side`` px, as a PIL image."""
    from PIL import Image  # here, not at the top: most test runs never need a photo

    path = mirror / "neutral_front" / f"{face_id}_03.jpg"
    if not path.is_file():
        pytest.fail(f"THE FACE PHOTO {path} IS MISSING from the image mirror; the face-detection "
                    "tests need it (they fail instead of skipping: CI always has the mirror).",
                    pytrace=False)
    with Image.open(path) as im:
        return im.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)


@pytest.fixture(scope="session")
def face450(mirror: Path) -> Any:
    """Photo 001 downscaled from 1350 to 450 px (HOG time grows with the pixel count); shared by
    the loader's and the detector's tests."""
    return mirror_photo(mirror, "001", 450)


@pytest.fixture(scope="session")
def face450_box(face450: Any) -> tuple[int, int, int, int]:
    """The face box dlib's HOG detector finds in ``face450``."""
    import numpy as np

    from facecourse.detection import find_faces

    return find_faces(np.asarray(face450))[0]


class ManifestCounter:
    """How often a call chain reads the manifest and checks a photo's consent (see ``manifest_counter``)."""

    def __init__(self) -> None:
        self.reads: list[int] = []
        self.checked: list[str] = []

    def reset(self) -> None:
        self.reads.clear()
        self.checked.clear()


@pytest.fixture
def manifest_counter(monkeypatch: pytest.MonkeyPatch) -> ManifestCounter:
    """Count every ``Manifest`` built (a read of the manifest file) and every consent check, by file id."""
    from facecourse.manifest import Manifest

    counter = ManifestCounter()
    real_init, real_check = Manifest.__init__, Manifest._check_not_revoked

    def counting_init(self: Manifest, *args: Any, **kwargs: Any) -> None:
        counter.reads.append(1)
        real_init(self, *args, **kwargs)

    def counting_check(self: Manifest, entry: Any) -> None:
        counter.checked.append(entry.file_id)
        real_check(self, entry)

    monkeypatch.setattr(Manifest, "__init__", counting_init)
    monkeypatch.setattr(Manifest, "_check_not_revoked", counting_check)
    return counter


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
