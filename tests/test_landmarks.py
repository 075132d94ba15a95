"""facecourse.landmarks: the .tem parser, dlib-vs-hand-placed landmark errors.

Every expected value is worked out by hand in the comments, on made-up data small enough to check.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from facecourse import landmarks
from facecourse.landmarks import (
    LandmarkPair,
    TemplateError,
    correspondence_check,
    landmark_errors,
    nearest_reference_points,
    parse_tem,
)


def test_doctests() -> None:
    result = doctest.testmod(landmarks)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------- .tem files


TEM = (
    "3\r\n"            # three points, Windows line ends
    "10.5\t20\r\n"
    "\r\n"             # a stray blank line
    "30 40.25\r\n"
    "50\t60\r\n"
    "2\r\n"            # two lines follow: flag, count, indices
    "0\r\n2\r\n0 1\r\n"
    "0\r\n3\r\n0 1 2\r\n"
)


def test_parse_tem_reads_points_and_lines() -> None:
    t = parse_tem(TEM)
    assert t.points.tolist() == [[10.5, 20.0], [30.0, 40.25], [50.0, 60.0]]
    assert t.lines == ((0, 1), (0, 1, 2))
    assert len(t) == 3
    assert parse_tem(TEM.encode()).points.tolist() == t.points.tolist()  # bytes work too


def test_parse_tem_without_a_line_section() -> None:
    assert parse_tem("1\n5 6\n").lines == ()


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("three\n1 2\n", "number of points"),
    ("3\n1 2\n3 4\n", "announces 3 points"),
    ("2\n1 2\n3 x\n", "line 3: point 1"),
    ("2\n1 2\n3 4 5\n", "point 1 should be two numbers"),
    ("2\n1 2\n3 4\n1\n0\n2\n0 7\n", r"point\(s\) \[7\]"),
    ("2\n1 2\n3 4\n2\n0\n2\n0 1\n", "do not add up"),
])
def test_parse_tem_explains_what_is_wrong(text, message) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_tem(text, name="test.tem")


def test_real_london_template(images_ready) -> None:
    from facecourse.manifest import load_manifest

    t = landmarks.load_template(load_manifest()["london-001-neutral"])
    assert t.points.shape == (189, 2) and len(t.lines) == 44
    left_pupil, right_pupil = t.points[0], t.points[1]
    assert left_pupil[0] < right_pupil[0]  # point 0 is the pupil on the left of the image
    assert abs(left_pupil[1] - right_pupil[1]) < 30  # ... at about the same height


# ------------------------------------------------------------------------------- landmark errors


def _reference(n_photos: int = 1) -> np.ndarray:
    ref = np.zeros((n_photos, 189, 2))
    ref[:, 0] = (0, 0)
    ref[:, 1] = (100, 0)  # pupils 100 px apart: inter-ocular distance 100
    return ref


def test_landmark_errors_in_pixels_and_share_of_inter_ocular_distance() -> None:
    dlib = np.zeros((1, 68, 2))
    ref = _reference()
    ref[0, 129] = (50, 200)
    dlib[0, 8] = (53, 204)  # chin off by (3, 4): 5 px = 5 % of 100 px
    ref[0, 54], ref[0, 60] = (40, 100), (60, 100)  # the two sides of the nose tip, midpoint (50, 100)
    dlib[0, 30] = (50, 112)  # 12 px below the midpoint
    dlib[0, 36:42] = [(-2, 0), (2, 0), (-2, 3), (2, 3), (0, 0), (0, 0)]  # eyelid points: mean (0, 1)
    pairs = [LandmarkPair("chin", (8,), (129,)), LandmarkPair("nose tip", (30,), (54, 60)),
             LandmarkPair("left eye centre", tuple(range(36, 42)), (0,))]
    e = landmark_errors(dlib, ref, pairs=pairs)
    assert e.names == ("chin", "nose tip", "left eye centre")
    assert e.pixels.tolist() == [[5.0, 12.0, 1.0]]
    assert e.normalised.tolist() == [[0.05, 0.12, 0.01]]


def test_landmark_error_summary_mean_and_interval() -> None:
    dlib = np.zeros((2, 68, 2))
    ref = _reference(2)
    ref[:, 129] = (0, 50)
    dlib[0, 8] = (0, 51)  # errors 1 and 3 px: mean 2, sd sqrt(2)
    dlib[1, 8] = (0, 53)
    (row,) = landmark_errors(dlib, ref, pairs=[LandmarkPair("chin", (8,), (129,))]).summary()
    # half-width = 1.95996 * sqrt(2) / sqrt(2) = 1.95996 -> (0.04004, 3.95996); in IOD: / 100
    assert row.photos == 2 and row.mean_px == pytest.approx(2.0)
    assert row.ci_px == pytest.approx((0.04004, 3.95996), abs=1e-5)
    assert row.mean_iod == pytest.approx(0.02) and row.ci_iod == pytest.approx((0.0004004, 0.0395996), abs=1e-7)
    assert row.as_row()["mean error (px)"] == "2.0"


def test_landmark_errors_reject_mismatched_or_missing_input() -> None:
    with pytest.raises(ValueError, match="same photos"):
        landmark_errors(np.zeros((2, 68, 2)), _reference(3))
    with pytest.raises(ValueError, match="shape"):
        landmark_errors(np.zeros((68, 3)), _reference())
    bad = np.zeros((1, 68, 2))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        landmark_errors(bad, _reference())
    with pytest.raises(ValueError, match="189-point"):
        landmark_errors(np.zeros((1, 68, 2)), _reference(), inter_ocular_points=(0, 500))
    with pytest.raises(ValueError, match="do not fit"):
        landmark_errors(np.zeros((1, 68, 2)), _reference(), pairs=[LandmarkPair("x", (70,), (0,))])


def test_nearest_reference_points_and_correspondence_check() -> None:
    # one dlib point (index 0) paired with template point 2, over three photos
    dlib = np.zeros((3, 1, 2))
    ref = np.zeros((3, 3, 2))
    ref[:, 0] = (100, 100)
    ref[:, 1] = (0, 10)     # a distractor 10 px away
    ref[:, 2] = [(0, 1), (0, 2), (0, 50)]  # the partner: nearest in photos 0 and 1, not in photo 2
    assert nearest_reference_points(dlib, ref).tolist() == [[2], [2], [1]]
    (row,) = correspondence_check(dlib, ref, pairs=[LandmarkPair("p", (0,), (2,))])
    assert (row["wins"], row["photos"], row["runner_up"]) == (2, 3, 1)
