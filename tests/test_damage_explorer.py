"""Lesson 01's damage explorer: the pure state function, the widget's wiring, and its headless text.

The numbers below are worked by hand (Wilson score interval, z = 1.96), so a wrong state function
cannot pass by agreeing with itself:

* 2 of 10: centre (2 + 1.9208) / 13.8416 = 0.28326; half-width 1.96 / 13.8416 * sqrt(1.6 + 0.9604)
  = 0.22660 -> 5.7 %–51.0 %.
* 10 of 10: centre 0.86130; half-width 0.14160 * sqrt(0.9604) = 0.13877 -> 72.2 %–100.0 %.
"""

from __future__ import annotations

import doctest
import math

import pytest

from facecourse import damage_explorer as de
from facecourse.detection import DetectionRate

ROWS = [
    DetectionRate("none", "none", 0, "no change", 10, 10),
    DetectionRate("blur:2", "blur", 2, "blur sigma in pixels", 9, 10),
    DetectionRate("blur:8", "blur", 8, "blur sigma in pixels", 2, 10),
    DetectionRate("rotate:30", "rotate", 30, "in-plane rotation in degrees", 10, 10),
    DetectionRate("rotate:60", "rotate", 60, "in-plane rotation in degrees", 1, 10),
    DetectionRate("lowlight:0.02", "lowlight", 0.02, "share of the light", 7, 10),
]


def test_state_by_hand() -> None:
    f = de.damage_state(ROWS, "blur", 8).fields()
    assert set(f) == set(de.FIELD_IDS)
    assert (f["kind"], f["level"], f["unit"]) == ("blur", "8", "blur sigma in pixels")
    assert (f["detected"], f["total"], f["rate"], f["rate-ci"]) == ("2", "10", "20.0%", "5.7%-51.0%")
    assert (f["baseline-detected"], f["baseline-total"], f["baseline-rate-ci"]) == ("10", "10", "72.2%-100.0%")
    assert f["compared"] == "fewer than undamaged (the intervals do not overlap)"


def test_overlapping_intervals_are_not_called_a_drop() -> None:
    s = de.damage_state(ROWS, "blur", 2)
    assert s.baseline_ci is not None  # the table has undamaged rows
    assert s.detected == 9 and s.rate_ci[1] > s.baseline_ci[0]
    assert s.fields()["compared"] == "not distinguishable from undamaged (the intervals overlap)"


def test_a_float_level_is_found_without_exact_equality() -> None:
    s = de.damage_state(ROWS, "lowlight", 0.1 * 0.2)  # 0.020000000000000004, not the literal 0.02
    assert s.detected == 7 and s.fields()["level"] == "0.02"


def test_without_a_baseline_the_comparison_says_so() -> None:
    f = de.damage_state(ROWS[1:], "rotate", 60).fields()
    assert f["baseline-detected"] == "n/a" and f["compared"] == "no undamaged baseline in the table"


def test_levels_keep_table_order_and_skip_the_baseline() -> None:
    assert de.damage_levels(ROWS) == {"blur": [2.0, 8.0], "rotate": [30.0, 60.0], "lowlight": [0.02]}


@pytest.mark.parametrize("kind, level, message", [
    ("noise", 1, "Unknown kind of damage 'noise'; the table has: blur, rotate, lowlight."),
    ("blur", 4, "'blur' has no level 4; its levels are: 2, 8."),
])
def test_bad_choices_say_what_exists(kind: str, level: float, message: str) -> None:
    with pytest.raises(ValueError) as err:
        de.damage_state(ROWS, kind, level)
    assert str(err.value) == message


def test_no_rows_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="detection_table"):
        de.damage_state([], "blur", 2)
    with pytest.raises(ValueError, match="no damaged conditions"):
        de.damage_explorer(ROWS[:1])


def test_widget_follows_its_controls() -> None:
    ex = de.damage_explorer(ROWS)
    assert (ex.kind.value, ex.level.value) == ("blur", "2")
    assert ex.level.options == ("2", "8")
    ex.level.value = "8"
    assert ex.panel.value == de.damage_state(ROWS, "blur", 8).html()
    ex.kind.value = "rotate"  # options change; the slider goes to the mildest level of the new kind
    assert ex.level.options == ("30", "60") and ex.level.value == "30"
    assert ex.panel.value == de.damage_state(ROWS, "rotate", 30).html()
    ex.level.value = "60"
    assert ex.state().detected == 1
    assert ex.panel.value == de.damage_state(ROWS, "rotate", 60).html()


def test_html_carries_every_field() -> None:
    s = de.damage_state(ROWS, "rotate", 60)
    page = s.html()
    for key, text in s.fields().items():
        assert f'data-testid="{key}">{text}<' in page


def test_headless_text_is_deterministic_and_complete() -> None:
    a, b = de.damage_explorer(ROWS, kind="rotate", level=60), de.damage_explorer(ROWS, kind="rotate", level=60)
    text = a.static_text()
    assert text == b.static_text() == repr(a)
    assert "blur" in text and "2: 9/10, 8: 2/10" in text and "60: 1/10" in text
    assert text.endswith(str(de.damage_state(ROWS, "rotate", 60)))
    bundle = a._repr_mimebundle_()
    assert bundle["text/plain"] == text and "application/vnd.jupyter.widget-view+json" in bundle


def test_wilson_numbers_match_the_library() -> None:
    from facecourse.metrics import wilson_interval

    s = de.damage_state(ROWS, "lowlight", 0.02)
    lo, hi = wilson_interval(7, 10)
    assert math.isclose(s.rate_ci[0], float(lo)) and math.isclose(s.rate_ci[1], float(hi))


def test_doctests() -> None:
    assert doctest.testmod(de).failed == 0
