"""A student's own consenting photos, kept on their machine only.

Photos live in ``my_images/`` (git-ignored; see its README and consent template). They never go
through the research manifest, never leave the machine, and everything derived from them is
cached under ``<cache>/my_images/``, which ``python -m facecourse forget-my-images`` deletes.

A photo with more than one face is refused (:class:`~facecourse.errors.MultipleFacesError`):
the other people in it have not agreed to have their faceprint computed. Keeping only the
largest face (``on_multiple="largest"``) is right only for the manifest's photos, where the
manifest records one consenting person per photo.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from . import config
from .detection import find_faces
from .errors import MultipleFacesError, NoFaceError
from .faceprints import DEFAULT_PARAMS, EncodingParams, FaceRecord, cached_record, encode_array
from .images import downscale, load_rgb

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


def bystander_message(name: str, n_faces: int, *, own_photo: bool = True) -> str:
    """Why a photo of several people is refused, and how to go on.

    ``own_photo``: a student's photo in ``my_images/`` (True) or a probe photo given to a search
    or a rights request (False); only the advice on how to go on differs.
    """
    how = ("crop the photo so that only your face is left, save the crop in my_images/ under a new "
           "name and encode that, or pick a photo that shows only you. Someone else may appear only "
           "in a photo of their own, after signing a consent note (my_images/CONSENT_TEMPLATE.md)."
           if own_photo else
           "crop the photo so that only the face the search or request is about is left, or use a "
           "photo that shows only that person.")
    return (
        f"Found {n_faces} faces in '{name}', so the course will not compute a faceprint from it. "
        "The other people in this photo have not agreed to have their faceprint computed, and a "
        "faceprint is biometric data about them. Only the positions of the faces were computed; "
        f"no faceprint was made and nothing was kept. To go on: {how}"
    )


def refuse_bystanders(image: np.ndarray, *, params: EncodingParams, name: str, own_photo: bool = True) -> None:
    """Raise :class:`MultipleFacesError` if the photo shows more than one face (detection only).

    Detects on the same shrunk copy as :func:`facecourse.faceprints.encode_array`, so both see
    the same faces. No landmarks and no faceprint of anybody are computed here. Used for every
    photo that does not come from the manifest (which records one consenting person per photo).
    """
    small = image if params.detect_max_side is None else downscale(image, params.detect_max_side)[0]
    try:
        boxes = find_faces(small, model=params.detector, upsample=params.upsample, on_multiple="all", name=name)
    except NoFaceError:
        return  # encode_array records the failure to acquire, as for any photo
    if len(boxes) > 1:
        raise MultipleFacesError(bystander_message(name, len(boxes), own_photo=own_photo))


def encode(name: str | Path, *, params: EncodingParams = DEFAULT_PARAMS) -> FaceRecord:
    """The faceprint of one of your photos, cached on this machine only.

    Raises :class:`~facecourse.errors.MultipleFacesError` for a photo with more than one face,
    whatever ``params.on_multiple`` says (see the module notes); nothing is computed beyond the
    face positions and nothing is cached. A photo with no face gives a record with ``error`` set.
    """
    path = _path(name)
    data = path.read_bytes() if path.is_file() else b""
    digest = hashlib.sha256(data).hexdigest()
    own = dataclasses.replace(params, on_multiple="error")  # never "largest": that would encode a bystander

    def compute() -> FaceRecord:
        image = load_rgb(path, name=path.name)
        refuse_bystanders(image, params=own, name=path.name)  # raises before anything is computed or cached
        return encode_array(image, params=own, name=path.name, file_id=path.name, sha256=digest)

    return cached_record(digest, compute, params=own, file_id=path.name, area=AREA)
