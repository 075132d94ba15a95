"""Tests of facecourse.widgets: the explorer's pure state function, its markup, and the live widget.

The hand-made scores used throughout (distances; a pair is a match when distance <= threshold):

    mated      0.10  0.30  0.50  0.62                       (4 pairs, labels m0..m3)
    non-mated  0.20  0.40  0.58  0.60  0.65  0.80           (6 pairs, labels n0..n5)

At the reference threshold 0.6:
    false matches     = non-mated <= 0.6 = 0.20, 0.40, 0.58, 0.60  -> 4 of 6 (FMR 66.67%)
    false non-matches = mated > 0.6      = 0.62                    -> 1 of 4 (FNMR 25.00%)
Raised to 0.7: the non-mated 0.65 (n4) becomes a false match (5 of 6, 83.33%); the mated 0.62 (m3)
    is no longer a false non-match (0 of 4).
Lowered to 0.45: the non-mated 0.60 (n3) and 0.58 (n2) are no longer false matches (2 of 6,
    33.33%), listed closest to 0.6 first: n3 then n2; the mated 0.50 (m2) becomes a false
    non-match (2 of 4, 50.00%).
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from facecourse import metrics
from facecourse.widgets import FIELD_IDS, NONE_TEXT, FlippedPairs, explorer_state, threshold_explorer

MATED = [0.10, 0.30, 0.50, 0.62]
NONMATED = [0.20, 0.40, 0.58, 0.60, 0.65, 0.80]
M_LABELS = [f"m{k}" for k in range(4)]
N_LABELS = [f"n{k}" for k in range(6)]


def state(t, **kw):
    kw.setdefault("mated_labels", M_LABELS)
    kw.setdefault("nonmated_labels", N_LABELS)
    return explorer_state(MATED, NONMATED, t, reference_threshold=0.6, **kw)


def displayed(markup: str) -> dict[str, str]:
    """What a browser would read: the text content of every element with a data-testid."""
    assert markup.count('data-testid="threshold-explorer"') == 1  # the container
    found = re.findall(r'data-testid="([^"]+)">([^<]*)<', markup)
    return {key: html.unescape(text) for key, text in found if key != "threshold-explorer"}


# --------------------------------------------------------------------------- the pure state


def test_rates_at_the_reference():
    s = state(0.6)
    f = s.fields()
    assert (s.rates.false_matches, s.rates.nonmated_count) == (4, 6)
    assert (s.rates.false_non_matches, s.rates.mated_count) == (1, 4)
    assert f["fmr"] == "66.67%" and f["fnmr"] == "25.00%"
    assert f["false-matches"] == "4" and f["nonmated-count"] == "6"
    assert f["false-non-matches"] == "1" and f["mated-count"] == "4"
    lo, hi = metrics.wilson_interval(4, 6)
    assert f["fmr-ci"] == f"{100 * lo:.2f}%-{100 * hi:.2f}%"
    # nothing changes at the reference itself
    assert all(f[k] == NONE_TEXT for k in ("became-false-matches", "no-longer-false-matches",
                                           "became-false-non-matches", "no-longer-false-non-matches"))
    assert "no pair changes outcome" in s.text()


def test_raising_the_threshold_adds_false_matches_and_clears_false_non_matches():
    s = state(0.7)
    assert (s.rates.false_matches, s.rates.false_non_matches) == (5, 0)
    assert s.became_false_matches == FlippedPairs(1, ("n4 (0.650)",))
    assert s.no_longer_false_non_matches == FlippedPairs(1, ("m3 (0.620)",))
    assert s.no_longer_false_matches == FlippedPairs(0, ())
    assert s.became_false_non_matches == FlippedPairs(0, ())
    assert s.fields()["fmr"] == "83.33%" and s.fields()["fnmr"] == "0.00%"


def test_lowering_the_threshold_lists_closest_to_the_reference_first():
    s = state(0.45)
    assert (s.rates.false_matches, s.rates.false_non_matches) == (2, 2)
    assert s.no_longer_false_matches == FlippedPairs(2, ("n3 (0.600)", "n2 (0.580)"))
    assert s.became_false_non_matches == FlippedPairs(1, ("m2 (0.500)",))
    assert s.became_false_matches.count == 0 and s.no_longer_false_non_matches.count == 0
    assert s.fields()["no-longer-false-matches"] == "n3 (0.600), n2 (0.580)"


def test_a_distance_equal_to_the_threshold_is_a_match():
    # at 0.58 the non-mated 0.58 still matches (<=): false matches 0.20, 0.40, 0.58 = 3
    assert state(0.58).rates.false_matches == 3
    # from 0.6 down to 0.58 only the non-mated 0.60 stops matching
    assert state(0.58).no_longer_false_matches == FlippedPairs(1, ("n3 (0.600)",))


def test_long_lists_are_truncated_with_a_count():
    s = state(0.0, max_listed=1)  # lowered to 0: all 4 non-mated <= 0.6 stop matching
    assert s.no_longer_false_matches.count == 4
    assert s.no_longer_false_matches.text() == "n3 (0.600), ... and 3 more"


def test_pairs_named_by_two_file_ids_or_by_position():
    ids = np.array([["a-1", "b-1"], ["a-2", "b-2"], ["a-3", "b-3"], ["a-4", "b-4"]])
    s = explorer_state(MATED, NONMATED, 0.7, reference_threshold=0.6, mated_labels=ids)
    assert s.no_longer_false_non_matches.listed == ("a-4 vs b-4 (0.620)",)
    assert s.became_false_matches.listed == ("non-mated #4 (0.650)",)  # no labels given


def test_ties_are_listed_in_label_order():
    s = explorer_state([0.1], [0.7, 0.7, 0.7], 0.8, reference_threshold=0.6, nonmated_labels=["c", "a", "b"])
    assert s.became_false_matches.listed == ("a (0.700)", "b (0.700)", "c (0.700)")
    # 0.6501 and 0.6504 are both shown as 0.650, so they are ordered by label, not by the hidden digits
    s = explorer_state([0.1], [0.6504, 0.6501], 0.8, reference_threshold=0.6, nonmated_labels=["a", "b"])
    assert s.became_false_matches.listed == ("a (0.650)", "b (0.650)")


def test_state_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(3)
    mated, nonmated = rng.uniform(0, 0.7, 50), rng.uniform(0.3, 1.1, 400)
    for t in (0.35, 0.5, 0.6, 0.66, 0.9):
        s = explorer_state(mated, nonmated, t, reference_threshold=0.6)
        assert s.rates.false_matches == sum(d <= t for d in nonmated)
        assert s.rates.false_non_matches == sum(d > t for d in mated)
        lo, hi = min(t, 0.6), max(t, 0.6)
        between_nm = sum(lo < d <= hi for d in nonmated)
        between_m = sum(lo < d <= hi for d in mated)
        if t > 0.6:
            assert (s.became_false_matches.count, s.no_longer_false_non_matches.count) == (between_nm, between_m)
        elif t < 0.6:
            assert (s.no_longer_false_matches.count, s.became_false_non_matches.count) == (between_nm, between_m)


def test_fields_are_the_documented_ids_and_the_html_shows_exactly_them():
    s = state(0.45)
    assert tuple(s.fields()) == FIELD_IDS
    assert displayed(s.html()) == s.fields()


def test_labels_are_escaped_in_the_html():
    s = explorer_state([0.1], [0.65], 0.7, reference_threshold=0.6, nonmated_labels=["<b>x</b> & y"])
    assert "<b>x</b> & y" not in s.html()
    assert displayed(s.html())["became-false-matches"] == "<b>x</b> & y (0.650)"


@pytest.mark.parametrize("kwargs, message", [
    (dict(mated=[], nonmated=[0.5], threshold=0.6), "mated must be a non-empty"),
    (dict(mated=[0.1], nonmated=[0.5, np.nan], threshold=0.6), "NaN"),
    (dict(mated=[0.1], nonmated=[0.5], threshold=[0.6, 0.7]), "threshold must be a single number"),
    (dict(mated=[0.1], nonmated=[0.5], threshold=0.6, nonmated_labels=["a", "b"]), "one label per pair"),
    (dict(mated=[0.1], nonmated=[0.5], threshold=0.6, max_listed=-1), "max_listed"),
])
def test_bad_input_gets_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explorer_state(**kwargs)


# --------------------------------------------------------------------------- the widget


def explorer(**kw):
    return threshold_explorer(MATED, NONMATED, mated_labels=M_LABELS, nonmated_labels=N_LABELS, initial=0.6,
                              reference_threshold=0.6, **kw)


def test_the_widget_starts_at_its_initial_state():
    ex = explorer()
    assert ex.slider.value == 0.6
    assert ex.panel.value == ex.state(0.6).html()
    assert displayed(ex.panel.value)["fmr"] == "66.67%"


def test_moving_the_slider_updates_the_displayed_numbers():
    ex = explorer()
    ex.slider.value = 0.7
    shown = displayed(ex.panel.value)
    assert shown == explorer_state(MATED, NONMATED, 0.7, reference_threshold=0.6, mated_labels=M_LABELS,
                                   nonmated_labels=N_LABELS).fields()
    assert shown["fmr"] == "83.33%" and shown["became-false-matches"] == "n4 (0.650)"
    ex.slider.value = 0.45
    shown = displayed(ex.panel.value)
    assert shown["fnmr"] == "50.00%" and shown["became-false-non-matches"] == "m2 (0.500)"
    assert ex.state().threshold == 0.45  # state() without argument follows the slider


def test_static_fallback_is_deterministic_text_without_model_ids():
    ex1, ex2 = explorer(), explorer()
    bundle = ex1._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, for JupyterLab
    assert bundle["text/plain"] == ex1.static_text() == ex2.static_text()  # same text every run
    assert "model_id" not in bundle["text/plain"] and "VBox" not in bundle["text/plain"]
    text = bundle["text/plain"]
    for t in ("0.4", "0.5", "0.6", "0.7"):  # the rates at a few thresholds
        assert re.search(rf"^{re.escape(t)}\s", text, re.M)
    assert "FMR  66.67% (4 of 6 non-mated pairs" in text


def test_default_slider_range_covers_the_scores():
    ex = threshold_explorer(MATED, NONMATED)
    assert (ex.slider.min, ex.slider.max) == (0.1, 0.8)  # 0.10..0.80 rounded out to 0.05


def test_widget_rejects_bad_settings():
    with pytest.raises(ValueError, match="outside the slider's range"):
        threshold_explorer(MATED, NONMATED, initial=2.0)
    with pytest.raises(ValueError, match="slider_range"):
        threshold_explorer(MATED, NONMATED, slider_range=(0.8, 0.2))
    with pytest.raises(ValueError, match="mated_labels"):
        threshold_explorer(MATED, NONMATED, mated_labels=["only one"])
