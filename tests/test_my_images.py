"""A student's own photo that shows other people is refused: they have not agreed.

The two-face photo is built in the test, in a temporary my_images folder (never committed),
from two consenting manifest photos placed side by side: Lisa DeBruine (CC0) and London Set
participant 001 (CC BY 4.0, consent to publication in the set).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecourse import config, faceprints, my_images
from facecourse.dataset import load_photo
from facecourse.errors import FaceDetectionError, MultipleFacesError
from facecourse.manifest import load_manifest


@pytest.fixture
def folder(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = isolated / "my_images"
    path.mkdir()
    monkeypatch.setenv("FACECOURSE_MY_IMAGES", str(path))
    m = load_manifest()
    left = load_photo(m["lisa-lisa1"])  # 800 x 600
    big = Image.fromarray(load_photo(m["london-001-neutral"]))  # 1350 x 1350, shrunk to the same height
    right = np.asarray(big.resize((round(big.width * left.shape[0] / big.height), left.shape[0])))
    Image.fromarray(np.concatenate([left, right], axis=1)).save(path / "two_faces.png")
    Image.fromarray(left).save(path / "me.png")
    return path


def _cached_files() -> list[Path]:
    return [p for p in config.cache_dir().rglob("*") if p.is_file()]


@pytest.fixture
def no_faceprint_computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make computing landmarks or a faceprint fail loudly (face detection stays allowed)."""
    import face_recognition.api as fr

    calls: list[str] = []

    class Refuse:
        def __init__(self, what: str) -> None:
            self.what = what

        def __call__(self, *args: object, **kw: object) -> None:
            calls.append(self.what)
            raise AssertionError(f"{self.what} was computed for a refused photo")

        def compute_face_descriptor(self, *args: object, **kw: object) -> None:
            self("a faceprint")

    for attr in ("pose_predictor_68_point", "pose_predictor_5_point", "face_encoder"):
        monkeypatch.setattr(fr, attr, Refuse(attr))
    monkeypatch.setattr(faceprints, "_encoder", Refuse("a faceprint (encoder)"))
    return calls


@pytest.mark.parametrize("on_multiple", ["largest", "all", "error"])
def test_a_photo_with_a_bystander_is_refused_before_any_faceprint(folder: Path, no_faceprint_computed: list[str],
                                                                  on_multiple: str) -> None:
    params = faceprints.EncodingParams(on_multiple=on_multiple)
    with pytest.raises(MultipleFacesError) as caught:
        my_images.encode("two_faces.png", params=params)
    assert isinstance(caught.value, FaceDetectionError)
    message = str(caught.value)
    assert "Found 2 faces in 'two_faces.png'" in message
    assert "have not agreed to have their faceprint computed" in message  # why
    assert "crop the photo so that only your face is left" in message  # how to go on
    assert "pick a photo that shows only you" in message
    assert no_faceprint_computed == []  # detection only: no landmarks, no faceprint of anybody
    assert _cached_files() == []  # and nothing cached


def test_a_photo_of_one_person_is_still_encoded(folder: Path) -> None:
    record = my_images.encode("me.png")
    assert record.acquired and record.encoding is not None, record.error
    assert record.encoding.shape == (128,)
    cached = _cached_files()
    assert len(cached) == 1 and cached[0].relative_to(config.cache_dir()).parts[:2] == ("my_images", "faceprints")
    # once cropped to one person, the refused photo's left half encodes like the photo it came from
    left = np.asarray(Image.open(folder / "two_faces.png"))[:, :600]
    Image.fromarray(left).save(folder / "two_faces_cropped.png")
    cropped = my_images.encode("two_faces_cropped.png")
    assert cropped.acquired and cropped.box == record.box


def test_the_manifest_photos_keep_the_largest_face() -> None:
    """One consenting person per manifest photo: there, keeping the largest face is the default."""
    assert faceprints.DEFAULT_PARAMS.on_multiple == "largest"
