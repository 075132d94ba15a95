"""Where the course keeps things, and the environment variables that move them.

Every location is read from the environment each time it is asked for, so tests and
shared servers can redirect it without touching code.

The variables (``FACECOURSE_ROOT``, ``FACECOURSE_IMAGE_MIRROR``, ``FACECOURSE_IMAGE_DIR``,
``FACECOURSE_CACHE_DIR``, ``FACECOURSE_CLASS_CACHE``, ``FACECOURSE_MY_IMAGES``,
``FACECOURSE_PROGRESS``) are described in one table, in CONTRIBUTING.md's section
"Environment variables"; a test checks that it lists every one the code reads.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the helper package is installed in editable mode from it).
REPO_ROOT = Path(__file__).resolve().parents[1]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else default


def course_root() -> Path:
    """The folder that holds ``sample_images/``, ``lessons/`` and ``exercises/``."""
    return _env_path("FACECOURSE_ROOT", REPO_ROOT)


def manifest_path() -> Path:
    """The committed manifest: the only list of images the course will load."""
    return course_root() / "sample_images" / "manifest.csv"


def revocations_path() -> Path:
    """The committed list of people who have withdrawn consent."""
    return course_root() / "sample_images" / "revocations.csv"


def image_dir() -> Path:
    """Where downloaded, verified images live (git-ignored)."""
    return _env_path("FACECOURSE_IMAGE_DIR", course_root() / "sample_images" / "downloaded")


def cache_dir() -> Path:
    """The single folder for every file the course derives from the images."""
    return _env_path("FACECOURSE_CACHE_DIR", course_root() / ".facecourse-cache")


def class_cache_dir() -> Path | None:
    """The class cache built by ``python -m facecourse build-class-cache DIR``, if one is set.

    Read (never written) before a faceprint is computed; see :mod:`facecourse.classcache`.
    """
    value = os.environ.get("FACECOURSE_CLASS_CACHE", "").strip()
    return Path(value).expanduser().resolve() if value else None


def image_mirror() -> str | None:
    """A local folder or base URL to fetch images from instead of the pinned upstream."""
    value = os.environ.get("FACECOURSE_IMAGE_MIRROR", "").strip()
    return value or None


def my_images_dir() -> Path:
    """A student's own consenting photos: git-ignored, never uploaded."""
    return _env_path("FACECOURSE_MY_IMAGES", course_root() / "my_images")


def progress_enabled() -> bool:
    """Whether long steps show a progress bar (``FACECOURSE_PROGRESS=0`` turns them off)."""
    return os.environ.get("FACECOURSE_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}
