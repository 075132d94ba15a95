"""facecourse.detection: finding faces, detection-rate tables, box overlap (and their figures).

Every expected value is worked out by hand in the comments, on made-up data small enough to check.
The find_faces tests read the consenting Face Research Lab photos from the read-only mirror
(conftest's `mirror` fixture) and FAIL without it (they are not skipped: CI always has it).
"""

from __future__ import annotations

import doctest
import math
import sys
from pathlib import Path

import face_recognition
import numpy as np
import pytest
from PIL import Image

from conftest import mirror_photo
from facecourse import degrade, detection, plots
from facecourse.degrade import LowLight
from facecourse.detection import (
    DetectionRate,
    box_iou,
    count_by_condition,
    detection_table,
    find_faces,
    misplaced_detections,
)
from facecourse.errors import (
    CourseError,
    FaceDetectionError,
    ImageLoadError,
    MultipleFacesError,
    NoFaceError,
)
from facecourse.faceprints import EncodingSet, FaceRecord
from facecourse.landmarks import LandmarkErrors


def test_doctests() -> None:
    result = doctest.testmod(detection)
    assert result.attempted > 0 and result.failed == 0  # attempted: a module without examples passes too


# ------------------------------------------------------------------------------- counting


def test_count_by_condition_on_five_records() -> None:
    # blur: detected, missed, detected -> 2 of 3; none: detected twice -> 2 of 2.
    # "blur" appears first, so it comes first (not alphabetical order).
    labels, hits, totals = count_by_condition(
        ["blur", "blur", "none", "blur", "none"], [True, False, True, True, True])
    assert labels.tolist() == ["blur", "none"]
    assert hits.tolist() == [2, 2]
    assert totals.tolist() == [3, 2]


def test_count_by_condition_keeps_first_seen_order_and_accepts_zeros_and_ones() -> None:
    labels, hits, totals = count_by_condition(["z", "a", "z"], [0, 1, 1])
    assert labels.tolist() == ["z", "a"] and hits.tolist() == [1, 1] and totals.tolist() == [2, 1]


@pytest.mark.parametrize("conditions, detected, message", [
    (["a", "b"], [True], "same length"),
    (["a"], [2], "True/False"),
    ([["a"]], [[True]], "1-D"),
])
def test_count_by_condition_rejects_bad_input(conditions, detected, message) -> None:
    with pytest.raises(ValueError, match=message):
        count_by_condition(conditions, detected)


def test_detection_rate_counts_and_wilson_interval() -> None:
    row = DetectionRate("blur:8@512", "blur", 8.0, "blur sigma in pixels", detected=2, total=3)
    # 1 failure in 3: FTA = 1/3. Wilson, z = 1.95996, z^2 = 3.84146:
    # centre = (1 + 1.92073) / (3 + 3.84146) = 0.42692
    # half   = 1.95996 / 6.84146 * sqrt(1*2/3 + 0.96036) = 0.28648 * 1.27556 = 0.36543
    # -> (0.06149, 0.79235); the detection rate's interval is its mirror image.
    assert row.failures == 1 and row.fta == pytest.approx(1 / 3) and row.rate == pytest.approx(2 / 3)
    assert row.fta_ci == pytest.approx((0.06149, 0.79235), abs=1e-5)
    assert row.rate_ci == pytest.approx((1 - 0.79235, 1 - 0.06149), abs=1e-5)
    cells = row.as_row()
    assert cells["detected"] == "2/3" and cells["FTA"] == "33.3%" and cells["95% CI"] == "6.1%-79.2%"


def test_detection_rate_is_built_on_the_one_rate_type() -> None:
    row = DetectionRate("blur:8@512", "blur", 8.0, "blur sigma in pixels", detected=2, total=3, confidence=0.9)
    assert (row.detections.count, row.detections.total, row.detections.confidence) == (2, 3, 0.9)
    assert row.failed.value == row.fta and row.failed.ci == row.fta_ci
    assert row.detections.value == row.rate
    with pytest.raises(ValueError, match="confidence"):
        DetectionRate("x", "x", 0.0, "", detected=1, total=2, confidence=95)


def test_detection_rate_with_no_images_is_nan_not_zero() -> None:
    row = DetectionRate("x", "x", 0.0, "", detected=0, total=0)
    assert math.isnan(row.fta) and row.as_row()["FTA"] == "n/a"
    with pytest.raises(ValueError, match="detected <= total"):
        DetectionRate("x", "x", 0.0, "", detected=3, total=2)


def _record(box=None) -> FaceRecord:
    found = box is not None
    return FaceRecord("f", "0" * 64, box, np.zeros((68, 2)) if found else None,
                      np.zeros(128) if found else None, (512, 512), None if found else "No face found")


def _results(transforms, boxes_per_transform):
    return {t.variant: EncodingSet([], [_record(b) for b in boxes])
            for t, boxes in zip(transforms, boxes_per_transform, strict=True)}


def test_detection_table_counts_acquired_records_in_transform_order() -> None:
    face = (100, 300, 300, 100)
    ts = [degrade.Degradation("none", 0), degrade.Degradation("blur", 8), LowLight(0.01)]
    results = _results(ts, [[face, face, face], [face, None, None], [None, None, None]])
    rows = detection_table(results, ts)
    assert [(r.kind, r.level, r.detected, r.total) for r in rows] == [
        ("none", 0.0, 3, 3), ("blur", 8.0, 1, 3), ("lowlight", 0.01, 0, 3)]
    assert rows[1].unit == "blur sigma in pixels" and rows[2].unit == "share of the light"
    with pytest.raises(KeyError, match="same transforms"):
        detection_table(results, [degrade.Degradation("jpeg", 5)])


def test_misplaced_detections_flags_boxes_away_from_the_face() -> None:
    face = (100, 300, 300, 100)
    elsewhere = (400, 500, 500, 400)  # no overlap with the face: IoU 0
    nearby = (100, 300, 300, 150)  # inside the face box: IoU = 150*200 / (200*200) = 0.75
    ts = [degrade.Degradation("none", 0), degrade.Degradation("rotate", 30)]
    results = _results(ts, [[face, face, None], [elsewhere, nearby, face]])
    # image 0: misplaced (IoU 0); image 1: fine; image 2: the baseline found nothing, so not judged
    base, rotated = misplaced_detections(results, ts, ts[0])
    assert (base.condition, base.detections, base.misplaced) == ("none:0@512", 2, ())
    assert (rotated.condition, rotated.detections, rotated.misplaced, rotated.iou) == ("rotate:30@512", 3, (0,), (0.0,))
    assert misplaced_detections(results, ts, ts[0], min_iou=0.8)[1].misplaced == (0, 1)  # 0.75 < 0.8


def test_box_iou_by_hand_and_broadcasting() -> None:
    # two 10x10 boxes offset by 5 in both directions: overlap 5x5 = 25, union 100 + 100 - 25 = 175
    assert box_iou((0, 10, 10, 0), (5, 15, 15, 5)) == pytest.approx(25 / 175)
    many = box_iou([(0, 10, 10, 0), (0, 10, 10, 0)], (0, 10, 10, 0))
    assert isinstance(many, np.ndarray), f"several boxes give an array of IoUs, not {type(many).__name__}"
    assert many.tolist() == [1.0, 1.0]
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # empty boxes: 0, not a division error
    with pytest.raises(ValueError, match="4 numbers"):
        box_iou((0, 1, 2), (0, 1, 2, 3))


def test_run_detector_times_with_the_given_clock_and_reports_no_face_as_empty() -> None:
    ticks = iter([0.0, 2.0, 10.0, 11.0])  # run 1 takes 2 s, run 2 takes 1 s: best is 1 s
    grey = np.full((120, 120, 3), 128, dtype=np.uint8)  # no face in a flat grey square
    run = detection.run_detector(grey, model="hog", repeat=2, name="grey", clock=lambda: next(ticks))
    assert run.boxes == () and run.seconds == 1.0 and run.image_size == (120, 120)


def test_detection_figures_label_the_rows_confidence() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def texts(fig) -> str:
        out = " | ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())
        plt.close(fig)
        return out

    rows = [DetectionRate("none", "none", 0, "", 9, 10, confidence=0.9),
            DetectionRate("blur:2", "blur", 2, "blur sigma in pixels", 8, 10, confidence=0.9),
            DetectionRate("blur:4", "blur", 4, "blur sigma in pixels", 5, 10, confidence=0.9)]
    shown = texts(plots.plot_detection_rates(rows, title="t"))
    assert "90% Wilson CI" in shown and "95%" not in shown
    mixed = rows[:2] + [DetectionRate("blur:4", "blur", 4, "blur sigma in pixels", 5, 10, confidence=0.95)]
    assert "Wilson CI (90%, 95%)" in texts(plots.plot_detection_rates(mixed, title="t"))
    errors = LandmarkErrors(("a", "b"), np.array([[1.0, 2.0], [3.0, 4.0], [2.0, 2.0]]),
                                      np.array([10.0, 10.0, 10.0]))
    shown = texts(plots.plot_landmark_errors(errors.summary(confidence=0.8), title="t"))
    assert "80% CI" in shown and "95%" not in shown


# ------------------------------------------------------------------------------------------
# find_faces (moved from the loader's tests with the function)
# ------------------------------------------------------------------------------------------

def _message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return str(excinfo.value)


def _assert_says(message: str, *words: str) -> None:
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} missing from message:\n{message}"


# face450 and face450_box (photo 001 at 450 px, and its detected box) come from tests/conftest.py.


def test_find_faces_one_face(face450: Image.Image) -> None:
    boxes = find_faces(np.asarray(face450))
    assert len(boxes) == 1
    top, right, bottom, left = boxes[0]
    assert all(type(v) is int for v in boxes[0])
    assert 0 <= top < bottom <= 450 and 0 <= left < right <= 450
    assert 100 < right - left < 250  # the face, not the whole photo


def test_find_faces_on_a_mirrored_view(face450: Image.Image) -> None:
    # face_recognition.face_locations on such a view reads the wrong memory: measured here, it
    # returned no face or a wrong box, varying from call to call. find_faces passes a copy.
    view = np.asarray(face450)[:, ::-1]
    assert not view.flags.c_contiguous
    expected = face_recognition.face_locations(view.copy(), number_of_times_to_upsample=0)
    assert len(expected) == 1
    for _ in range(3):
        assert find_faces(view) == expected


@pytest.fixture(scope="session")
def two_faces(mirror: Path, face450: Image.Image) -> np.ndarray:
    """Two people side by side: 001 at 300 px (left, larger), 002 at 220 px (right)."""
    canvas = Image.new("RGB", (520, 300), (235, 235, 235))
    canvas.paste(face450.resize((300, 300), Image.Resampling.LANCZOS), (0, 0))
    canvas.paste(mirror_photo(mirror, "002", 220), (300, 40))
    return np.asarray(canvas)


def test_several_faces_error(two_faces: np.ndarray) -> None:
    with pytest.raises(MultipleFacesError) as excinfo:
        find_faces(two_faces, name="group.jpg")
    _assert_says(_message(excinfo), "Found 2 faces", "group.jpg", "exactly one",
                 "on_multiple='largest'", "on_multiple='all'")
    assert isinstance(excinfo.value, FaceDetectionError) and isinstance(excinfo.value, CourseError)


def test_several_faces_largest_and_all(two_faces: np.ndarray) -> None:
    largest = find_faces(two_faces, on_multiple="largest")
    every = find_faces(two_faces, on_multiple="all")
    assert len(largest) == 1 and len(every) == 2
    assert largest[0] == every[0]
    assert largest[0][1] <= 300  # the larger face is the left one
    assert every[1][3] >= 300    # the smaller one is on the right

    def area(box: tuple[int, int, int, int]) -> int:
        return (box[2] - box[0]) * (box[1] - box[3])
    assert area(every[0]) > area(every[1])


def test_no_face(tmp_path: Path) -> None:
    gradient = np.tile(np.linspace(0, 255, 400).astype(np.uint8), (400, 1))
    image = np.ascontiguousarray(np.stack([gradient, gradient[::-1], gradient.T], axis=-1))
    with pytest.raises(NoFaceError) as excinfo:
        find_faces(image, name="wall.png")
    _assert_says(_message(excinfo), "No face found", "wall.png", "400x400 pixels", "upsample=0",
                 "upsample=1", "80x80")
    with pytest.raises(NoFaceError) as excinfo:
        find_faces(image, upsample=1)
    _assert_says(_message(excinfo), "the image", "upsample=1", "model='cnn'", "slow")
    with pytest.raises(NoFaceError):  # also when every face was asked for
        find_faces(image, on_multiple="all")


@pytest.fixture(scope="session")
def tiny_face(face450: Image.Image, face450_box: tuple[int, int, int, int]) -> np.ndarray:
    """The face (with a margin) shrunk to 60 px wide in a 200x200 canvas: the detected face box
    would be about 40 px, half of what HOG finds without upsampling. Measured: found with
    upsample=1 and 2, not with 0, for head crops from 40 to 76 px wide."""
    top, right, bottom, left = face450_box
    centre_x, centre_y, half = (left + right) / 2, (top + bottom) / 2, 0.75 * (right - left)
    head = face450.crop((round(centre_x - half), round(centre_y - half),
                         round(centre_x + half), round(centre_y + half)))
    canvas = Image.new("RGB", (200, 200), (200, 200, 200))
    canvas.paste(head.resize((60, 60), Image.Resampling.LANCZOS), (70, 70))
    return np.asarray(canvas)


def test_tiny_face_needs_upsampling(tiny_face: np.ndarray) -> None:
    with pytest.raises(NoFaceError) as excinfo:
        find_faces(tiny_face, name="thumbnail.png")
    _assert_says(_message(excinfo), "thumbnail.png", "200x200 pixels", "image is small",
                 "shorter side 200 px", "80x80", "upsample=1", "larger")
    boxes = find_faces(tiny_face, upsample=1)
    assert len(boxes) == 1
    top, right, bottom, left = boxes[0]
    assert 70 <= (left + right) / 2 <= 130 and 70 <= (top + bottom) / 2 <= 130
    assert right - left < 80


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (np.zeros((50, 50, 3), np.float64), ("dtype float64", "* 255")),
        (np.zeros((50, 50, 4), np.uint8), ("shape (50, 50, 4)", "alpha", "[:, :, :3]")),
        (np.zeros((50, 50), np.uint8), ("shape (50, 50)", "grayscale", "np.stack")),
        (np.zeros((3, 50, 60), np.uint8), ("shape (3, 50, 60)", "channels-first")),
        (np.zeros((50, 50, 3), np.uint16), ("dtype uint16", "// 257")),
        (np.zeros((0, 50, 3), np.uint8), ("empty",)),
        ([[0, 0, 0]], ("of type list, not a numpy array",)),
        (Image.new("RGB", (5, 5)), ("of type Image", "np.array(img.convert('RGB'))")),
        ("photo.jpg", ("of type str", "image = load_rgb(path)")),
    ],
    ids=["float", "rgba", "gray", "chw", "uint16", "empty", "list", "pil", "path"],
)
def test_find_faces_rejects_wrong_arrays(bad: object, words: tuple[str, ...]) -> None:
    with pytest.raises(ImageLoadError) as excinfo:
        find_faces(bad)  # type: ignore[arg-type]
    _assert_says(_message(excinfo), "find_faces() needs an 8-bit image", *words)


def test_cnn_no_face_message() -> None:
    image = np.full((120, 120, 3), 128, np.uint8)
    with pytest.raises(NoFaceError) as excinfo:
        find_faces(image, model="cnn")
    _assert_says(_message(excinfo), "model='cnn'", "Even the CNN detector found nothing")


def test_dlib_failure_is_wrapped(monkeypatch: pytest.MonkeyPatch, face450: Image.Image) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Error while calling cudaMalloc")
    monkeypatch.setattr(face_recognition, "face_locations", crash)
    with pytest.raises(CourseError) as excinfo:
        find_faces(np.asarray(face450), name="big.jpg")
    assert not isinstance(excinfo.value, FaceDetectionError)  # a crash is no verdict on the image
    _assert_says(_message(excinfo), "failed inside dlib", "big.jpg", "450x450", "cudaMalloc",
                 "downscale")
    assert isinstance(excinfo.value.__cause__, RuntimeError)


def test_broken_face_recognition_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "face_recognition", None)  # makes the import fail
    with pytest.raises(CourseError) as excinfo:
        find_faces(np.zeros((10, 10, 3), np.uint8))
    assert not isinstance(excinfo.value, FaceDetectionError)
    _assert_says(_message(excinfo), "could not be imported", "requirements.txt", "setuptools<80.9")


def test_find_faces_rejects_bad_options(face450: Image.Image) -> None:
    image = np.asarray(face450)
    with pytest.raises(ValueError, match="on_multiple"):
        find_faces(image, on_multiple="first")
    with pytest.raises(ValueError, match="model"):
        find_faces(image, model="haar")
    with pytest.raises(ValueError, match="upsample"):
        find_faces(image, upsample=-1)


def test_public_api() -> None:
    assert set(detection.__all__) >= {"find_faces", "run_detector", "detection_table", "DetectionRate"}
