"""facecourse.detection: detection-rate tables, the .tem parser, landmark errors, low light.

Every expected value is worked out by hand in the comments, on made-up data small enough to check.
"""

from __future__ import annotations

import doctest
import math
import pickle

import numpy as np
import pytest

from facecourse import degrade, detection
from facecourse.detection import (
    DetectionRate,
    LandmarkPair,
    LowLight,
    TemplateError,
    box_iou,
    correspondence_check,
    count_by_condition,
    detection_table,
    landmark_errors,
    misplaced_detections,
    nearest_reference_points,
    parse_tem,
)
from facecourse.faceprints import EncodingSet, FaceRecord


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
            for t, boxes in zip(transforms, boxes_per_transform)}


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
    assert many.tolist() == [1.0, 1.0]
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # empty boxes: 0, not a division error
    with pytest.raises(ValueError, match="4 numbers"):
        box_iou((0, 1, 2), (0, 1, 2, 3))


def test_run_detector_times_with_the_given_clock_and_reports_no_face_as_empty() -> None:
    ticks = iter([0.0, 2.0, 10.0, 11.0])  # run 1 takes 2 s, run 2 takes 1 s: best is 1 s
    grey = np.full((120, 120, 3), 128, dtype=np.uint8)  # no face in a flat grey square
    run = detection.run_detector(grey, "hog", repeat=2, name="grey", clock=lambda: next(ticks))
    assert run.boxes == () and run.seconds == 1.0 and run.image_size == (120, 120)


# ------------------------------------------------------------------------------- low light


def test_low_light_without_noise_is_the_identity_at_full_light() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    # 1e12 electrons per white pixel: shot noise ~ 1e-6 relative, no read noise -> same picture
    out = LowLight(1.0, base_side=None, white_electrons=1e12, read_noise=0).apply(img)
    assert np.abs(out.astype(int) - img.astype(int)).max() <= 1


def test_low_light_gain_is_capped_so_very_little_light_is_also_darker() -> None:
    white = np.full((4, 4, 3), 255, dtype=np.uint8)
    # level 0.01, gain capped at 16: linear 1.0 -> 0.16; 0.16 ** (1 / 2.2) * 255 = 110.86 -> 111
    out = LowLight(0.01, base_side=None, white_electrons=1e12, read_noise=0).apply(white)
    assert np.all(out == 111)


def test_low_light_noise_follows_photon_statistics() -> None:
    # input 136: linear (136/255)^2.2 = 0.2508. At level 0.1 with 1000 electrons per white pixel,
    # a pixel expects 25.08 electrons; Poisson sd = sqrt(25.08) = 5.01 electrons. Gain 10 gives
    # linear = electrons / 100: mean 0.2508, sd 0.0501.
    img = np.full((200, 200, 3), 136, dtype=np.uint8)
    out = LowLight(0.1, base_side=None, read_noise=0).apply(img)
    linear = (out.astype(np.float64) / 255) ** 2.2
    assert linear.mean() == pytest.approx(0.2508, abs=0.005)
    assert linear.std() == pytest.approx(0.0501, rel=0.08)  # 8-bit rounding adds a little


def test_low_light_is_seeded_by_the_image_not_by_global_state() -> None:
    img = np.full((32, 32, 3), 100, dtype=np.uint8)
    other = img.copy()
    other[0, 0, 0] = 101
    t = LowLight(0.05, base_side=None)
    np.random.seed(1)
    first = t.apply(img)
    np.random.seed(2)
    assert np.array_equal(first, LowLight(0.05, base_side=None).apply(img))
    assert not np.array_equal(first[1:], t.apply(other)[1:])  # a different photo gets different noise


def test_low_light_shrinks_pickles_and_names_itself() -> None:
    t = LowLight(0.2)
    out = t.apply(np.zeros((1024, 768, 3), dtype=np.uint8))
    assert out.shape == (512, 384, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    assert pickle.loads(pickle.dumps(t)) == t  # worker processes receive it pickled
    assert t.variant == "lowlight:0.2@512/e1000/r3/g16"
    assert LowLight(0.2, read_noise=5).variant != t.variant  # every setting is part of the cache key
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="share of the light"):
            LowLight(bad)


def test_conditions_with_low_light_add_six_levels_to_the_standard_ones() -> None:
    conds = detection.conditions_with_low_light()
    standard = degrade.conditions()
    assert [c.variant for c in conds[:len(standard)]] == [c.variant for c in standard]
    assert [c.level for c in conds[len(standard):]] == list(detection.LOW_LIGHT_LEVELS)
    assert len({c.variant for c in conds}) == len(conds)


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

    t = detection.load_template(load_manifest()["london-001-neutral"])
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
    e = landmark_errors(dlib, ref, pairs)
    assert e.names == ("chin", "nose tip", "left eye centre")
    assert e.pixels.tolist() == [[5.0, 12.0, 1.0]]
    assert e.normalised.tolist() == [[0.05, 0.12, 0.01]]


def test_landmark_error_summary_mean_and_interval() -> None:
    dlib = np.zeros((2, 68, 2))
    ref = _reference(2)
    ref[:, 129] = (0, 50)
    dlib[0, 8] = (0, 51)  # errors 1 and 3 px: mean 2, sd sqrt(2)
    dlib[1, 8] = (0, 53)
    (row,) = landmark_errors(dlib, ref, [LandmarkPair("chin", (8,), (129,))]).summary()
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
        landmark_errors(np.zeros((1, 68, 2)), _reference(), [LandmarkPair("x", (70,), (0,))])


def test_nearest_reference_points_and_correspondence_check() -> None:
    # one dlib point (index 0) paired with template point 2, over three photos
    dlib = np.zeros((3, 1, 2))
    ref = np.zeros((3, 3, 2))
    ref[:, 0] = (100, 100)
    ref[:, 1] = (0, 10)     # a distractor 10 px away
    ref[:, 2] = [(0, 1), (0, 2), (0, 50)]  # the partner: nearest in photos 0 and 1, not in photo 2
    assert nearest_reference_points(dlib, ref).tolist() == [[2], [2], [1]]
    (row,) = correspondence_check(dlib, ref, [LandmarkPair("p", (0,), (2,))])
    assert (row["wins"], row["photos"], row["runner_up"]) == (2, 3, 1)


def test_detection_plots_label_the_rows_confidence() -> None:
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
    shown = texts(detection.plot_detection_rates(rows, title="t"))
    assert "90% Wilson CI" in shown and "95%" not in shown
    mixed = rows[:2] + [DetectionRate("blur:4", "blur", 4, "blur sigma in pixels", 5, 10, confidence=0.95)]
    assert "Wilson CI (90%, 95%)" in texts(detection.plot_detection_rates(mixed, title="t"))
    errors = detection.LandmarkErrors(("a", "b"), np.array([[1.0, 2.0], [3.0, 4.0], [2.0, 2.0]]),
                                      np.array([10.0, 10.0, 10.0]))
    shown = texts(detection.plot_landmark_errors(errors.summary(confidence=0.8), title="t"))
    assert "80% CI" in shown and "95%" not in shown
