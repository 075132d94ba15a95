"""Tests of facecourse.errorplots: labelled axes, the probit tick transform, and empty edge cases.

Hand-made scores (distance; match when distance <= threshold):
    mated      0.1  0.3  0.5
    non-mated  0.2  0.4  0.6  0.8
Their DET points (both rates strictly between 0 and 1) are at thresholds 0.2, 0.3, 0.4:
    t = 0.2: FMR 1/4, FNMR 2/3;  t = 0.3: FMR 1/4, FNMR 1/3;  t = 0.4: FMR 2/4, FNMR 1/3.
"""

from __future__ import annotations

import doctest
from statistics import NormalDist

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from facecourse import errorplots, metrics
from facecourse.errorplots import (
    det_plot,
    error_rate_plot,
    probit_ticks,
    proportion_plot,
    rate_label,
    score_histograms,
    set_probit_axes,
)

MATED = [0.1, 0.3, 0.5]
NONMATED = [0.2, 0.4, 0.6, 0.8]


@pytest.fixture
def ax():
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def test_doctests():
    result = doctest.testmod(errorplots)
    assert result.attempted > 0 and result.failed == 0  # attempted: a module without examples passes too


def test_rate_labels():
    assert [rate_label(p) for p in (5e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.95)] == [
        "0.005%", "0.01%", "0.1%", "1%", "5%", "20%", "50%", "95%"]


def test_probit_ticks_put_50_percent_at_zero_and_match_the_normal_quantile():
    pos, labels = probit_ticks([1e-3, 0.5, 0.9])
    assert pos[1] == 0.0 and labels[1] == "50%"
    for p, x in zip([1e-3, 0.5, 0.9], pos, strict=True):
        assert x == pytest.approx(NormalDist().inv_cdf(p), abs=1e-12)
    assert pos[0] == pytest.approx(-3.0902, abs=1e-4)  # 0.1 % is 3.09 standard deviations below
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        probit_ticks([0.0, 0.5])


def test_probit_axes_are_labelled_with_rates(ax):
    set_probit_axes(ax, xlim=(1e-3, 0.5), ylim=(0.01, 0.95))
    xticks = ax.get_xticks()
    xlabels = [t.get_text() for t in ax.get_xticklabels()]
    assert xlabels == ["0.1%", "1%", "5%", "20%", "50%"]  # only the ticks inside the limits
    assert xticks[-1] == 0.0  # 50 % sits at deviate 0
    assert ax.get_xlim() == pytest.approx((NormalDist().inv_cdf(1e-3), 0.0))
    assert "FMR" in ax.get_xlabel() and "FNMR" in ax.get_ylabel()
    with pytest.raises(ValueError, match="xlim"):
        set_probit_axes(ax, xlim=(0.0, 0.5))


def test_det_plot_draws_the_deviates_of_each_curve(ax):
    curves = metrics.error_rate_curves(MATED, NONMATED)
    det_plot(ax, [curves], ["hand-made"], mark_threshold=None)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "hand-made")
    x, y = line.get_data()
    assert np.allclose(x, [NormalDist().inv_cdf(p) for p in (0.25, 0.25, 0.5)])
    assert np.allclose(y, [NormalDist().inv_cdf(p) for p in (2 / 3, 1 / 3, 1 / 3)])
    assert "FMR" in ax.get_xlabel() and "FNMR" in ax.get_ylabel()


def test_det_plot_takes_several_curves_and_names_an_empty_one(ax):
    separated = metrics.error_rate_curves([0.1, 0.2], [0.7, 0.9])  # no point with both rates > 0
    overlapping = metrics.error_rate_curves(MATED, NONMATED)
    det_plot(ax, [separated, overlapping], ["separated", "overlapping"], mark_threshold=0.35)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "separated (no point with both rates > 0)" in legend
    assert "overlapping" in legend
    # the marker at 0.35 sits at FMR 1/4, FNMR 1/3
    marker = next(ln for ln in ax.get_lines() if ln.get_label().startswith("_overlapping at"))
    assert marker.get_xdata()[0] == pytest.approx(NormalDist().inv_cdf(0.25))
    assert marker.get_ydata()[0] == pytest.approx(NormalDist().inv_cdf(1 / 3))
    styles = {ln.get_linestyle() for ln in ax.get_lines() if ln.get_label() in ("separated", "overlapping",
                                                                            legend[0])}
    assert len(styles) == 2, "curves differ in line style, not only in colour"


def test_det_plot_needs_one_label_per_curve(ax):
    with pytest.raises(ValueError, match="one label per curve"):
        det_plot(ax, [metrics.error_rate_curves(MATED, NONMATED)], ["a", "b"])


def test_score_histograms_are_labelled_and_survive_an_empty_set(ax):
    score_histograms(ax, MATED, NONMATED, threshold=0.6)
    assert ax.get_xlabel() and "density" in ax.get_ylabel()
    assert any(ln.get_xdata()[0] == 0.6 for ln in ax.get_lines())  # the threshold line
    fig, ax2 = plt.subplots()
    score_histograms(ax2, [], NONMATED, threshold=None, density=False)
    box = ax2.get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert any("(no pairs)" in t for t in legend)
    assert ax2.get_ylabel() == "number of pairs"
    plt.close(fig)


def test_error_rate_plot_has_bands_and_survives_zero_errors(ax):
    # perfectly separated: FNMR is 0 at every threshold from 0.2 on, FMR 0 below 0.7
    curves = metrics.error_rate_curves([0.1, 0.2], [0.7, 0.9])
    error_rate_plot(ax, curves, thresholds_marked=(0.6,))
    assert "threshold" in ax.get_xlabel() and "rate" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "FMR (2 pairs)" in labels and "FNMR 95% CI" in labels
    fig, ax2 = plt.subplots()
    error_rate_plot(ax2, curves, log=True, confidence=None)  # zeros are left out on a log scale
    assert ax2.get_yscale() == "log"
    plt.close(fig)


def test_error_rate_plot_of_a_histogram_curve(ax):
    hist = metrics.error_counts_histogram([[0.0], [0.1], [1.0]], ["a", "a", "b"], [0.5, 0.95])
    error_rate_plot(ax, metrics.curves_from_histogram(hist), xlim=(0, 1.2))
    assert ax.get_xlim() == (0, 1.2)


def test_proportion_plot_leaves_out_points_with_nothing_measured(ax):
    proportion_plot(ax, [1, 2, 3], [0, 2, 0], [10, 10, 0], label="FNMR")
    y = ax.get_lines()[0].get_ydata()
    assert y[0] == 0.0 and y[1] == 0.2 and np.isnan(y[2])
    with pytest.raises(ValueError, match="same length"):
        proportion_plot(ax, [1, 2], [0], [10, 10], label="x")
