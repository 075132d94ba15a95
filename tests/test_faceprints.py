"""The faceprint pipeline and its cache: real face_recognition on the real consenting photos."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ManifestCounter
from facecourse import faceprints, metrics
from facecourse.dataset import load_photo
from facecourse.errors import ConsentRevokedError
from facecourse.manifest import ManifestEntry, load_manifest


@pytest.fixture
def entry(isolated: Path) -> ManifestEntry:
    return load_manifest()["london-001-neutral"]


def _encoding(record: faceprints.FaceRecord) -> np.ndarray:
    """The record's faceprint; fails the test (with the pipeline's reason) when none was made."""
    assert record.encoding is not None, f"{record.file_id}: no faceprint ({record.error})"
    return record.encoding


def test_default_threshold_is_the_library_default_tolerance() -> None:
    import face_recognition

    default = inspect.signature(face_recognition.compare_faces).parameters["tolerance"].default
    assert default == metrics.DEFAULT_THRESHOLD


def test_pipeline_matches_face_recognition_on_the_same_box(entry) -> None:
    """Our encoding is what face_recognition.face_encodings gives for the same face box."""
    import face_recognition

    record = faceprints.encode_entry(entry)
    image = load_photo(entry)
    (reference,) = face_recognition.face_encodings(image, [record.box])
    assert np.array_equal(_encoding(record), reference)
    assert record.landmarks68 is not None, f"{record.file_id}: no landmarks ({record.error})"
    assert record.landmarks68.shape == (68, 2) and _encoding(record).shape == (128,)


def test_downscaled_detection_finds_the_same_face_as_full_size(entry) -> None:
    small = faceprints.encode_entry(entry)
    full = faceprints.encode_array(load_photo(entry), params=faceprints.EncodingParams(detect_max_side=None))
    overlap = _iou(small.box, full.box)
    assert overlap > 0.7
    assert np.linalg.norm(_encoding(small) - _encoding(full)) < 0.05  # far below any same-person distance


def _iou(a, b) -> float:
    top, right, bottom, left = max(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = lambda x: (x[1] - x[3]) * (x[2] - x[0])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_cache_is_keyed_by_hash_and_parameters(entry, isolated: Path) -> None:
    first = faceprints.encode_entry(entry)
    path = faceprints.cache_path(entry.sha256)
    assert path.exists() and entry.sha256 in path.name
    start = time.perf_counter()
    again = faceprints.encode_entry(entry)
    assert time.perf_counter() - start < 0.5 and np.array_equal(_encoding(first), _encoding(again))
    jittered = faceprints.EncodingParams(num_jitters=2)
    assert faceprints.cache_path(entry.sha256, params=jittered) != path  # other parameters, other entry
    assert faceprints.cache_path(entry.sha256, variant="blur:sigma=2") != path


def test_cache_never_serves_a_stale_or_corrupt_entry(entry, isolated: Path) -> None:
    record = faceprints.encode_entry(entry)
    path = faceprints.cache_path(entry.sha256)
    path.write_bytes(b"garbage")  # a damaged cache file is recomputed, not trusted
    assert np.array_equal(_encoding(faceprints.encode_entry(entry)), _encoding(record))


def test_withdrawn_person_is_refused_even_when_cached(entry, isolated: Path, monkeypatch) -> None:
    faceprints.encode_entry(entry)
    revocations = isolated / "revocations.csv"
    revocations.write_text("person_id,date,note\nlondon-001,2026-11-26,test\n")
    from facecourse import config

    monkeypatch.setattr(config, "revocations_path", lambda: revocations)
    with pytest.raises(ConsentRevokedError):
        faceprints.encode_entry(entry)
    assert all(e.person_id != "london-001" for e in load_manifest().photos("london_neutral"))  # what encode_set uses
    with pytest.raises(ConsentRevokedError):
        faceprints.encode_entries([entry], workers=1)


def test_batch_keeps_order_and_failures(isolated: Path) -> None:
    m = load_manifest()
    entries = m.photos("composite")[:3] + m.photos("london_neutral")[:3]
    serial = faceprints.encode_entries(entries, workers=1)
    assert [r.file_id for r in serial.records] == [e.file_id for e in entries]
    assert serial.embeddings.shape == (6, 128) and serial.failures == []
    faceprints_dir = isolated / "cache" / "faceprints"
    for f in faceprints_dir.rglob("*.npz"):
        f.unlink()
    parallel = faceprints.encode_entries(entries, workers=2)
    assert np.array_equal(serial.embeddings, parallel.embeddings)


def test_failure_to_acquire_is_recorded_not_raised(isolated: Path) -> None:
    blank = np.full((400, 400, 3), 128, dtype=np.uint8)
    record = faceprints.encode_array(blank, name="blank.png")
    assert not record.acquired
    assert record.error is not None and "blank.png" in record.error


def test_jittered_faceprints_are_reproducible(entry, isolated: Path) -> None:
    """dlib's jitter uses a random generator inside the encoder; a fresh encoder per photo fixes it."""
    image = load_photo(entry)
    params = faceprints.EncodingParams(num_jitters=3)
    first = faceprints.encode_array(image, params=params)
    faceprints.encode_array(load_photo(load_manifest()["london-002-neutral"]), params=params)  # disturb the state
    again = faceprints.encode_array(image, params=params)
    assert np.array_equal(_encoding(first), _encoding(again))
    assert not np.array_equal(_encoding(first), _encoding(faceprints.encode_array(image)))  # jitter does something


def test_batch_of_changed_copies_equals_one_at_a_time(entry, isolated: Path) -> None:
    """encode_variants shrinks each photo once and reuses it; results must equal apply() alone."""
    from facecourse.degrade import Degradation, LowLight

    transforms: list[faceprints.Transform] = [Degradation("blur", 4), Degradation("jpeg", 10), LowLight(0.05)]
    batch = faceprints.encode_variants([entry], transforms, workers=1)
    image = load_photo(entry)
    for t in transforms:
        alone = faceprints.encode_array(t.apply(image), name="alone")
        assert np.array_equal(_encoding(batch[t.variant].records[0]), _encoding(alone)), t.variant


# --------------------------------------------------------------------------- records and errors


def _record(encoding: np.ndarray | None, error: str | None = None) -> faceprints.FaceRecord:
    landmarks = None if encoding is None else np.arange(136, dtype=np.float64).reshape(68, 2)
    box = None if encoding is None else (10, 90, 90, 10)
    return faceprints.FaceRecord("f", "ab" * 32, box, landmarks, encoding, (100, 100), error)


def test_face_records_compare_by_value() -> None:
    """``==`` compares the arrays' values (it used to raise: dataclass equality on numpy arrays)."""
    a = _record(np.linspace(-0.25, 0.25, 128))
    assert a == _record(np.linspace(-0.25, 0.25, 128))  # equal values, different array objects
    assert a != _record(np.linspace(-0.25, 0.25, 128) + 2.0 ** -10)
    assert a != _record(None, "no face") and _record(None, "no face") == _record(None, "no face")
    assert a != "not a record"
    assert a in [_record(None, "no face"), _record(np.linspace(-0.25, 0.25, 128))]
    with pytest.raises(TypeError):
        hash(a)  # mutable arrays inside: not hashable, so never a dict key or set member by accident


def test_require_face_keeps_the_detection_error_catchable() -> None:
    from facecourse.errors import CourseError, FaceDetectionError

    record = _record(None, "No face found in 'x.jpg' (100x100 pixels).")
    with pytest.raises(FaceDetectionError, match=r"No face found in 'x\.jpg'") as caught:
        faceprints.require_face(record)
    assert isinstance(caught.value, CourseError)  # and still a CourseError, as before
    assert faceprints.require_face(_record(np.zeros(128))).acquired


# --------------------------------------------------------------------------- one manifest, one consent check


def test_one_manifest_per_call_and_one_consent_check_per_image(isolated: Path, monkeypatch: pytest.MonkeyPatch,
                                                                manifest_counter: ManifestCounter) -> None:
    """A call chain reads the manifest once and checks each image's consent once.

    Before: ``encode_entries`` checked every photo 3 times (its list, ``encode_entry``, ``read_bytes``),
    ``encode_variants`` 3 times and read the manifest again for every photo (its worker), and
    ``load_templates`` checked each template 3 times. Counted here on a cache miss (the photo is read).
    ``encode_checked_entries`` is for a caller that has just checked (``rights.FaceIndex.enrol``):
    given that caller's manifest it reads none and checks nothing again.
    """
    from facecourse import landmarks
    from facecourse.degrade import Degradation

    made, checked = manifest_counter.reads, manifest_counter.checked
    # no dlib: the chain up to the pixels is what is counted (the photo is still read and verified)
    monkeypatch.setattr(faceprints, "encode_array", lambda image, **kw: faceprints.FaceRecord(
        kw["file_id"], kw["sha256"], None, None, None, image.shape[:2], "stand-in"))
    m = load_manifest()
    photos = m.photos("london_neutral")[:3]
    ids = sorted(e.file_id for e in photos)
    lisa = sorted(e.file_id for e in m.photos("lisa"))

    for call, reads, expected in (
        (lambda: faceprints.encode_entries(photos, workers=1), 1, ids),
        (lambda: faceprints.encode_entries(photos, workers=1), 1, ids),  # cache hits: still checked, once
        (lambda: faceprints.encode_entries(photos, params=faceprints.EncodingParams(upsample=1), workers=1,
                                           manifest=m), 0, ids),
        (lambda: faceprints.encode_checked_entries(photos, workers=1, manifest=m), 0, []),
        (lambda: faceprints.encode_checked_entries(photos, params=faceprints.EncodingParams(upsample=2),
                                                   workers=1, manifest=m), 0, []),  # a cache miss: no check
        (lambda: faceprints.encode_variants(photos, [Degradation("blur", 2)], workers=1), 1, ids),
        (lambda: faceprints.encode_variants(photos, [Degradation("blur", 2), Degradation("blur", 3)],
                                            workers=1), 1, ids),  # one copy cached, one not
        (lambda: faceprints.encode_entry(photos[0]), 1, ids[:1]),
        (lambda: faceprints.encode_set("lisa", workers=1), 1, lisa),
        (lambda: landmarks.load_templates(photos), 1, sorted(f"{i}-landmarks" for i in ids)),
    ):
        made.clear()
        checked.clear()
        call()
        assert len(made) == reads, f"the manifest was read {len(made)} times in one call"
        assert sorted(checked) == expected
