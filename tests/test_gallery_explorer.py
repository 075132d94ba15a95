"""Tests of facecourse.gallery_explorer: the pure state function, its markup, and the live widget.

Hand-worked cases (FMR = false matches / comparisons; band = the formulas at the interval's ends):

    FMR 2/1000 = 0.002, interval 0.001 to 0.005, N = 1000:
        expected FMR x N = 2 (band 1 to 5)
        P(>= 1) = 1 - 0.998**1000 = 0.86479 -> "86.5%"; band 1 - 0.999**1000 = 0.63230 -> "63.2%"
                                                      to 1 - 0.995**1000 = 0.99334 -> "99.3%"
    The same FMR at N = 1: expected 0.002 -> "0.002"; P = 0.002 -> "0.2%"
    FMR 0/20,604 (nothing observed), Wilson upper end 0.000186..., N = 3e9: expected "0",
        band "0 to 559,000" (0.000186 x 3e9 = 559,223 to 3 significant digits)
"""

from __future__ import annotations

import doctest
import html
import json
import re
from itertools import pairwise

import numpy as np
import pytest

from facecourse import gallery_explorer as ge
from facecourse import metrics
from facecourse.gallery_explorer import FIELD_IDS, MeasuredFMR, gallery_explorer, gallery_state

F = MeasuredFMR(0.6, metrics.Rate(2, 1000), low=0.001, high=0.005, interval="hand-made interval")


def test_hand_worked_state() -> None:
    s = gallery_state(F, 1000)
    f = s.fields()
    assert list(f) == list(FIELD_IDS)
    assert f["expected"] == "2" and f["expected-band"] == "1 to 5"
    assert f["p-any"] == "86.5%" and f["p-any-band"] == "63.2% to 99.3%"
    assert f["fmr"] == "0.2%" and f["fmr-band"] == "0.1% to 0.5%"
    assert (f["false-matches"], f["comparisons"], f["gallery-size"], f["threshold"]) == ("2", "1,000", "1,000", "0.60")
    assert s.p_any == pytest.approx(1 - 0.998 ** 1000, rel=1e-12)
    assert s.expected_band == pytest.approx((1.0, 5.0))


def test_single_comparison_and_monotone_in_n() -> None:
    f1 = gallery_state(F, 1).fields()
    assert (f1["expected"], f1["p-any"]) == ("0.002", "0.2%")
    sizes = np.logspace(0, 10, 41)
    p = [gallery_state(F, n).p_any for n in sizes]
    e = [gallery_state(F, n).expected for n in sizes]
    assert all(a <= b for a, b in pairwise(p)) and all(a < b for a, b in pairwise(e))
    # The band always contains the point value.
    for n in sizes:
        s = gallery_state(F, n)
        assert s.p_any_band[0] <= s.p_any <= s.p_any_band[1]
        assert s.expected_band[0] <= s.expected <= s.expected_band[1]


def test_near_certainty_is_never_printed_as_100_percent() -> None:
    assert gallery_state(F, 1e7).fields()["p-any"] == "> 99.9%"
    assert gallery_state(F, 3000).fields()["p-any"] == "99.8%"  # 1 - 0.998**3000 = 0.99753


def test_zero_observed_uses_the_upper_bound() -> None:
    lo, hi = metrics.wilson_interval(0, 20_604)
    zero = MeasuredFMR(0.45, metrics.Rate(0, 20_604), lo, hi, "Wilson")
    f = gallery_state(zero, 3e9).fields()
    assert f["expected"] == "0" and f["expected-band"] == "0 to 559,000"
    assert f["p-any"] == "0%" and f["p-any-band"] == "0% to > 99.9%"


@pytest.mark.parametrize("bad", [0, 0.5, -3, float("nan"), float("inf"), [10, 20]])
def test_bad_gallery_size_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="gallery_size"):
        gallery_state(F, bad)


def test_bad_measurements_are_refused() -> None:
    with pytest.raises(ValueError, match="comparisons"):
        MeasuredFMR(0.6, metrics.Rate(0, 0), 0, 0, "x")
    with pytest.raises(ValueError, match="count <= total"):  # the Rate refuses 5 false matches of 4
        MeasuredFMR(0.6, metrics.Rate(5, 4), 0, 1, "x")
    with pytest.raises(TypeError, match=r"metrics\.Rate"):  # the counts come as a Rate, not as two numbers
        MeasuredFMR(0.6, 1, 0, 1, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="low <= high"):
        MeasuredFMR(0.6, metrics.Rate(1, 4), 0.5, 0.2, "x")
    with pytest.raises(TypeError, match="MeasuredFMR"):
        gallery_state(0.01, 100)  # type: ignore[arg-type]


def test_from_photos_counts_and_intervals() -> None:
    # Three people, two photos each, on a line (1-D "faceprints"). Non-mated pairs: 12.
    # Distances <= 0.5 between different people: a(0.0, 0.1) vs b(0.4): 0.4 and 0.3 -> 2 false matches;
    # b vs c(3.0, 3.2): none; a vs c: none. So 2 of 12 at 0.5; none at 0.2.
    emb = [[0.0], [0.1], [0.4], [0.45], [3.0], [3.2]]
    ids = ["a", "a", "b", "b", "c", "c"]
    # b's second photo 0.45: vs a 0.45 and 0.35 -> 2 more false matches at 0.5: 4 of 12.
    at_05, at_02 = MeasuredFMR.from_photos(emb, ids, (0.5, 0.2), n_boot=200, seed=1)
    assert (at_05.false_matches, at_05.nonmated_count) == (4, 12)
    assert at_05.false_match == metrics.Rate(4, 12, name="FMR") and at_05.fmr == 4 / 12
    boot = metrics.fmr_bootstrap_by_subject(emb, ids, 0.5, n_boot=200, seed=1)
    assert (at_05.low, at_05.high) == (boot.lo, boot.hi)
    assert "bootstrap" in at_05.interval
    assert (at_02.false_matches, at_02.low) == (0, 0.0)
    assert at_02.high == pytest.approx(metrics.wilson_interval(0, 12)[1])
    assert "Wilson" in at_02.interval


def test_html_carries_every_field_and_the_settings() -> None:
    s = gallery_state(F, 1000)
    page = s.html()
    shown = dict(re.findall(r'data-testid="([a-z-]+)">([^<]*)<', page))
    assert {k: html.unescape(v) for k, v in shown.items()} == s.fields()
    found = re.search(r'data-settings="([^"]*)"', page)
    assert found is not None
    settings = json.loads(html.unescape(found.group(1)))
    assert settings == {"threshold": 0.6, "gallery_size": 1000.0}


def test_widget_follows_its_controls_and_shows_static_text() -> None:
    pytest.importorskip("ipywidgets")
    other = MeasuredFMR(0.5, metrics.Rate(1, 1000), 0.0001, 0.004, "other")
    ex = gallery_explorer([F, other], initial_size=1000)
    assert ex.threshold.value == 0.6  # the largest threshold by default
    assert ex.panel.value == gallery_state(F, 1000).html()
    ex.gallery_size.value = 10
    assert ex.panel.value == gallery_state(F, 10).html()
    ex.threshold.value = 0.5
    assert ex.panel.value == gallery_state(other, 10).html()
    text = repr(gallery_explorer([F, other], initial_size=1000, static_sizes=(1, 1000)))
    assert "interactive in JupyterLab" in text and "86.5%" in text and "63.2% to 99.3%" in text
    assert "model_id" not in text
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == ex.static_text()


def test_widget_refuses_bad_settings() -> None:
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match="not one of the measured thresholds"):
        gallery_explorer([F], initial_threshold=0.55)
    with pytest.raises(ValueError, match="initial gallery size"):
        gallery_explorer([F], initial_size=0.5)
    with pytest.raises(ValueError, match="at least one"):
        gallery_explorer([])


def test_doctests() -> None:
    assert doctest.testmod(ge).failed == 0
