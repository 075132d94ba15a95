"""The shared input checks: one rule per kind of input, a message that says how to fix it."""

import math

import numpy as np
import pytest

from facecourse import _checks


def test_threshold_is_one_finite_non_negative_distance() -> None:
    assert _checks.threshold(0.6) == 0.6 and _checks.threshold(0) == 0.0
    assert isinstance(_checks.threshold(np.float32(0.5)), float)
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="finite number >= 0"):
            _checks.threshold(bad)
    with pytest.raises(ValueError, match="single number"):
        _checks.threshold([0.5, 0.6])
    with pytest.raises(ValueError, match="tolerance_x"):
        _checks.threshold(-1, name="tolerance_x")


def test_curve_threshold_allows_the_ends_of_a_curve() -> None:
    assert _checks.curve_threshold(-math.inf) == -math.inf
    assert _checks.curve_threshold(-1) == -1.0
    with pytest.raises(ValueError, match="NaN"):
        _checks.curve_threshold(math.nan)
    with pytest.raises(ValueError, match="error_rates_at_thresholds"):
        _checks.curve_threshold([0.1, 0.2])


def test_confidence() -> None:
    assert _checks.confidence(0.9) == 0.9
    for bad in (0, 1, 95, -0.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            _checks.confidence(bad)


def test_probability_numbers_and_arrays() -> None:
    assert _checks.probability("fmr", 0.25).ndim == 0
    assert _checks.probability("fmr", [0, 1]).tolist() == [0.0, 1.0]
    for bad in (-0.1, 1.1, math.nan, [0.5, math.inf]):
        with pytest.raises(ValueError, match="fmr must be a probability"):
            _checks.probability("fmr", bad)


def test_scores() -> None:
    assert _checks.scores("mated", [0.1, 0.2]).dtype == np.float64
    with pytest.raises(ValueError, match="1-D"):
        _checks.scores("mated", [[0.1]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        _checks.scores("mated", [0.1, math.nan])


def test_faceprints() -> None:
    assert _checks.faceprints("x", [[1, 2]]).dtype == np.float64
    assert _checks.faceprints("x", [1, 2], allow_single=True).shape == (1, 2)
    assert _checks.faceprints("x", [[1, 2]], dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"passed as \[f\]"):
        _checks.faceprints("x", [1, 2])
    with pytest.raises(ValueError, match="128 numbers per row"):
        _checks.faceprints("x", [[1, 2]], dim=128)
    with pytest.raises(ValueError, match="failed encodings"):
        _checks.faceprints("x", [[1, math.nan]])


def test_labels() -> None:
    assert _checks.labels("ids", ["a", "b"], 2).tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="ids must give one label per faceprint: expected 3"):
        _checks.labels("ids", ["a", "b"], 3)


def test_positive_int() -> None:
    assert _checks.positive_int("k", np.int64(3)) == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            _checks.positive_int("k", bad)
    with pytest.raises(ValueError, match=r"k \(the list length\)"):
        _checks.positive_int("k", 0, what="the list length")
