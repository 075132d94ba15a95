"""A student's own consenting photos, kept on their machine only.

Photos live in ``my_images/`` (git-ignored; see its README and consent template). They never go
through the research manifest, never leave the machine, and everything derived from them is
cached under ``<cache>/my_images/``, which ``python -m facecourse forget-my-images`` deletes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from . import config
from .faceprints import DEFAULT_PARAMS, EncodingParams, FaceRecord, cached_record, encode_array
from .imageio import load_rgb

AREA = "my_images/faceprints"
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def list_photos() -> list[Path]:
    """The photos in ``my_images/`` (sorted by name)."""
    folder = config.my_images_dir()
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES) if folder.exists() else []


def _path(name: str | Path) -> Path:
    path = Path(name)
    return path if path.is_absolute() else config.my_images_dir() / path


def load(name: str | Path) -> np.ndarray:
    """Load one of your photos (upright, RGB), with a clear error if the file is not usable."""
    path = _path(name)
    return load_rgb(path, name=path.name)


def encode(name: str | Path, params: EncodingParams = DEFAULT_PARAMS) -> FaceRecord:
    """The faceprint of one of your photos, cached on this machine only."""
    path = _path(name)
    data = path.read_bytes() if path.is_file() else b""
    digest = hashlib.sha256(data).hexdigest()
    return cached_record(digest, lambda: encode_array(load_rgb(path, name=path.name), params, name=path.name,
                                                      file_id=path.name, sha256=digest),
                         params, file_id=path.name, area=AREA)
