"""Figures of verification errors: score histograms, error rates against the threshold, DET plots.

Each function draws on a matplotlib ``Axes`` you give it and returns that ``Axes``, so a lesson
can put several panels in one figure, add a title that states the finding, and hand the figure
to :func:`facecourse.plots.show` with its alt text. The numbers come from
:mod:`facecourse.metrics`; nothing here computes an error rate of its own except by calling it.

* :func:`score_histograms` - mated and non-mated distances, with the threshold line;
* :func:`error_rate_plot` - FMR and FNMR against the threshold, with 95 % interval bands;
* :func:`det_plot` - one or several DET curves (FNMR against FMR) on normal-deviate axes
  labelled in percentages, e.g. one curve per condition or per group of people;
* :func:`proportion_plot` - a rate against a level (e.g. FNMR against blur), with interval band;
* :func:`set_probit_axes`, :func:`probit_ticks`, :func:`rate_label` - the DET axes on their own.

Colours come from :data:`facecourse.plots.COLOURS` (Okabe-Ito, colour-blind-safe); DET curves
also differ in line style and marker, so they can be told apart in grey print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.axes
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from numpy.typing import ArrayLike

from . import _text, metrics, plots
from .demographics import GroupInterval

__all__ = [
    "CURVE_COLOURS",
    "DET_TICKS",
    "det_plot",
    "error_rate_plot",
    "plot_fmr_by_threshold",
    "plot_interval_comparison",
    "probit_ticks",
    "proportion_plot",
    "rate_label",
    "score_histograms",
    "set_probit_axes",
]

#: Rates marked on the axes of a DET plot (0.01 % ... 95 %).
DET_TICKS = (1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.8, 0.95)
#: Colours of successive curves: the Okabe-Ito palette without its yellow, which is too pale for a
#: thin line on white.
CURVE_COLOURS = tuple(c for c in plots.COLOURS if c.upper() != "#F0E442")
#: Line styles and markers given to successive DET curves (besides their colours).
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

FMR_LABEL = "FMR: share of non-mated pairs declared a match"
FNMR_LABEL = "FNMR: share of mated pairs declared a non-match"


def rate_label(p: float) -> str:
    """A rate as a short percentage for an axis: 1e-4 -> '0.01%', 0.05 -> '5%', 0.5 -> '50%'.

    >>> [rate_label(p) for p in (1e-4, 1e-3, 0.01, 0.05, 0.5, 0.999)]
    ['0.01%', '0.1%', '1%', '5%', '50%', '99.9%']
    """
    pct = 100 * float(p)
    return f"{pct:.10g}%" if pct >= 1 else f"{pct:.2g}%"


def probit_ticks(rates: Sequence[float] = DET_TICKS) -> tuple[np.ndarray, list[str]]:
    """Positions on a normal-deviate axis, and percentage labels, of the given rates.

    >>> pos, labels = probit_ticks([0.5, 0.975])
    >>> pos.round(2).tolist(), labels
    ([0.0, 1.96], ['50%', '97.5%'])
    """
    arr = np.asarray(rates, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or np.any((arr <= 0) | (arr >= 1)):
        raise ValueError("probit_ticks: give rates strictly between 0 and 1, e.g. (0.001, 0.01, 0.1)")
    return np.atleast_1d(metrics.probit(arr)), [rate_label(p) for p in arr]


def set_probit_axes(
    ax: matplotlib.axes.Axes,
    *,
    xlim: tuple[float, float] = (1e-4, 0.5),
    ylim: tuple[float, float] = (1e-3, 0.95),
    ticks: Sequence[float] = DET_TICKS,
    xlabel: str = FMR_LABEL + " (normal-deviate scale)",
    ylabel: str = FNMR_LABEL + " (normal-deviate scale)",
    diagonal: bool = True,
) -> matplotlib.axes.Axes:
    """Make ``ax`` a DET frame: both axes in normal deviates, ticks labelled as rates.

    The data plotted on it must be deviates too (``metrics.probit(rate)``; :func:`det_plot` does
    it). ``xlim``/``ylim`` are given as *rates*. ``diagonal`` draws the line FMR = FNMR, where the
    equal error rate lies.
    """
    for lim, name in ((xlim, "xlim"), (ylim, "ylim")):
        if not 0 < lim[0] < lim[1] < 1:
            raise ValueError(f"{name} must be two rates 0 < low < high < 1, got {lim!r}")
    x0, x1 = (float(v) for v in np.asarray(metrics.probit(np.asarray(xlim))))  # two rates in, two deviates out
    y0, y1 = (float(v) for v in np.asarray(metrics.probit(np.asarray(ylim))))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    for axis, lo, hi in ((ax.xaxis, xlim[0], xlim[1]), (ax.yaxis, ylim[0], ylim[1])):
        shown = [t for t in ticks if lo <= t <= hi]
        pos, labels = probit_ticks(shown) if shown else (np.empty(0), [])
        axis.set_ticks(pos, labels)
        axis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.85", linewidth=0.6)
    if diagonal:
        lo, hi = min(x0, y0), max(x1, y1)
        ax.plot([lo, hi], [lo, hi], color="0.6", linestyle=":", linewidth=1, label="_FMR = FNMR")
    return ax


def det_plot(
    ax: matplotlib.axes.Axes,
    curves_list: Sequence[metrics.ErrorCurves],
    labels: Sequence[str],
    *,
    mark_threshold: float | None = metrics.DEFAULT_THRESHOLD,
    xlim: tuple[float, float] = (1e-4, 0.5),
    ylim: tuple[float, float] = (1e-3, 0.95),
    ticks: Sequence[float] = DET_TICKS,
    colours: Sequence[str] | None = None,
    legend: bool = True,
) -> matplotlib.axes.Axes:
    """DET curves (FNMR against FMR, normal-deviate axes) of several score sets on one plot.

    ``curves_list`` holds :class:`~facecourse.metrics.ErrorCurves` (from ``error_rate_curves``,
    ``error_rates_at_thresholds`` or ``curves_from_histogram``), one per condition or group, and
    ``labels`` names them. Points where either rate is 0 or 1 cannot be drawn on these axes (their
    deviate is infinite); a curve left with no drawable point is still listed in the legend,
    with "(no point with both rates > 0)", so an empty curve is never silently missing.
    ``mark_threshold`` puts a marker on each curve at that threshold (when drawable). Colours
    default to :data:`CURVE_COLOURS`; successive curves also change line style and marker.
    """
    curves_list = list(curves_list)
    labels = [str(s) for s in labels]
    if len(curves_list) != len(labels):
        raise ValueError(f"det_plot: {len(curves_list)} curves but {len(labels)} labels; give one label per curve")
    colours = list(colours or CURVE_COLOURS)
    set_probit_axes(ax, xlim=xlim, ylim=ylim, ticks=ticks)
    for k, (curves, label) in enumerate(zip(curves_list, labels, strict=True)):
        colour = colours[k % len(colours)]
        style = LINESTYLES[k % len(LINESTYLES)]
        marker = MARKERS[k % len(MARKERS)]
        points = metrics.det_points(curves)
        if points.fmr_deviate.size == 0:
            ax.plot([], [], color=colour, linestyle=style, label=f"{label} (no point with both rates > 0)")
            continue
        ax.plot(points.fmr_deviate, points.fnmr_deviate, color=colour, linestyle=style, linewidth=1.6,
                drawstyle="steps-post", label=label)
        if mark_threshold is not None:
            at = curves.at(mark_threshold)
            if 0 < at.fmr < 1 and 0 < at.fnmr < 1:
                ax.plot(metrics.probit(at.fmr), metrics.probit(at.fnmr), marker=marker, color=colour,
                        markersize=7, linestyle="none", label=f"_{label} at {mark_threshold:g}")
    if mark_threshold is not None and curves_list:
        ax.plot([], [], marker="o", color="0.3", linestyle="none", label=f"marker: threshold {mark_threshold:g}")
    if legend and curves_list:
        ax.legend(fontsize=8, loc="upper right")
    return ax


def score_histograms(
    ax: matplotlib.axes.Axes,
    mated: ArrayLike,
    nonmated: ArrayLike,
    *,
    threshold: float | None = metrics.DEFAULT_THRESHOLD,
    threshold_label: str | None = None,
    bins: int | ArrayLike = 40,
    labels: tuple[str, str] = ("mated pairs (same person)", "non-mated pairs (different people)"),
    density: bool = True,
    xlabel: str = "distance between the two faceprints (Euclidean, no unit)",
) -> matplotlib.axes.Axes:
    """Histograms of the mated and non-mated distances on one axis, with a threshold line.

    ``density=True`` scales each histogram to area 1 (the sets differ in size: ~100 mated
    against ~20,000 non-mated pairs), and the y label says so. Either set may be empty (it is
    then only named in the legend, "(no pairs)"). The bins are shared by both sets.
    """
    m = _finite(mated, "mated")
    nm = _finite(nonmated, "nonmated")
    both = np.concatenate([m, nm])
    if np.ndim(bins) == 0:
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        if threshold is not None:
            lo, hi = min(lo, threshold), max(hi, threshold)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, int(np.asarray(bins)) + 1)  # a 0-d array: the number of bins
    else:
        edges = np.asarray(bins, dtype=np.float64)
    for scores, label, colour, hatch in ((m, labels[0], plots.MATED_COLOUR, None),
                                         (nm, labels[1], plots.NONMATED_COLOUR, "//")):
        if scores.size == 0:
            ax.plot([], [], color=colour, label=f"{label} (no pairs)")
            continue
        ax.hist(scores, bins=edges.tolist(), density=density, color=colour, alpha=0.55, hatch=hatch,
                edgecolor=colour, linewidth=0.6, label=f"{label}, n = {scores.size:,}")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2,
                   label=threshold_label or f"threshold {threshold:g}: match if distance <= it")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density (share of pairs per unit of distance)" if density else "number of pairs")
    ax.legend(fontsize=8)
    return ax


def error_rate_plot(
    ax: matplotlib.axes.Axes,
    curves: metrics.ErrorCurves,
    *,
    confidence: float | None = 0.95,
    thresholds_marked: Sequence[float] = (metrics.DEFAULT_THRESHOLD,),
    xlim: tuple[float, float] | None = None,
    label_prefix: str = "",
    colours: tuple[str, str] = (plots.NONMATED_COLOUR, plots.MATED_COLOUR),
    log: bool = False,
) -> matplotlib.axes.Axes:
    """FMR and FNMR against the threshold (step curves) with Wilson interval bands.

    The bands are ``metrics.wilson_interval`` at every tabulated threshold (``confidence=None``
    leaves them out); they treat every comparison as independent, so they are a lower bound on
    the uncertainty. ``thresholds_marked`` draws vertical lines (by default at 0.6).
    ``log=True`` puts the rates on a log scale (a rate of 0 cannot be drawn there and is left
    out). Call it again on the same ``ax`` with another ``label_prefix`` and ``colours`` to
    compare two score sets.
    """
    t = np.asarray(curves.thresholds, dtype=np.float64)
    finite = t[np.isfinite(t)]
    if xlim is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        pad = 0.02 * (hi - lo or 1.0)
        xlim = (lo - pad, hi + pad)
    x = np.where(np.isfinite(t), t, xlim[0])  # the -inf row starts the curve at the left edge
    x = np.append(x, max(xlim[1], x[-1]))  # ...and the last step runs to the right edge (or beyond)
    for rate, errors, total, name, colour, style in (
        (curves.fmr, curves.false_matches, curves.nonmated_count, "FMR", colours[0], "-"),
        (curves.fnmr, curves.false_non_matches, curves.mated_count, "FNMR", colours[1], "--"),
    ):
        y = np.append(rate, rate[-1])
        if log:
            y = np.where(y > 0, y, np.nan)
        ax.step(x, y, where="post", color=colour, linestyle=style, linewidth=1.6,
                label=f"{label_prefix}{name} ({total:,} pairs)")
        if confidence is not None:
            lo_ci, hi_ci = (np.asarray(v) for v in metrics.wilson_interval(errors, total, confidence))  # per threshold
            lo_ci, hi_ci = np.append(lo_ci, lo_ci[-1]), np.append(hi_ci, hi_ci[-1])
            if log:
                lo_ci = np.where(lo_ci > 0, lo_ci, np.nan)
            ax.fill_between(x, lo_ci, hi_ci, step="post", color=colour, alpha=0.2, linewidth=0,
                            label=f"{label_prefix}{name} {_text.confidence_label(confidence)} CI")
    for tm in thresholds_marked:
        ax.axvline(tm, color="black", linestyle=":", linewidth=1)
    ax.set_xlim(*xlim)
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("threshold: a pair is a match when its distance <= threshold")
    ax.set_ylabel("error rate (share of pairs)")
    ax.legend(fontsize=8)
    return ax


def proportion_plot(
    ax: matplotlib.axes.Axes,
    x: ArrayLike,
    errors: ArrayLike,
    totals: ArrayLike,
    *,
    label: str,
    colour: str | None = None,
    marker: str = "o",
    linestyle: str = "-",
    confidence: float | None = 0.95,
) -> matplotlib.axes.Axes:
    """A rate ``errors / totals`` against ``x`` (e.g. a degradation level), with a Wilson band.

    Points with ``totals == 0`` have no rate (nothing was measured) and are left out of the line,
    not drawn as 0. The caller labels the axes (it knows what ``x`` is).
    """
    xs = np.asarray(x, dtype=np.float64)
    k = np.asarray(errors, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    if not xs.shape == k.shape == n.shape or xs.ndim != 1:
        raise ValueError(f"proportion_plot: x, errors and totals must be 1-D and the same length, got "
                         f"{xs.shape}, {k.shape}, {n.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
    ax.plot(xs, rate, color=colour, marker=marker, linestyle=linestyle, linewidth=1.5, label=label)
    if confidence is not None and xs.size:
        lo, hi = metrics.wilson_interval(k, n, confidence)
        ax.fill_between(xs, np.atleast_1d(lo), np.atleast_1d(hi), color=ax.lines[-1].get_color(),
                        alpha=0.18, linewidth=0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    return ax


def _finite(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite distances")
    return arr


# ---------------------------------------------------------------------------------------------
# Group comparisons: figures of facecourse.demographics' numbers (lesson 05)
# ---------------------------------------------------------------------------------------------


def _group_colours(names: Sequence[str]) -> dict[str, str]:
    return {name: plots.COLOURS[k % len(plots.COLOURS)] for k, name in enumerate(names)}


def plot_fmr_by_threshold(curves: Mapping[str, np.ndarray], thresholds: ArrayLike, marks: Mapping[str, float],
                          title: str, *, overall: np.ndarray | None = None) -> Any:
    """Within-group FMR against the threshold, one line per group, on a log scale.

    ``curves`` is :func:`facecourse.demographics.within_group_fmr_curves`. Points where a
    group's FMR is 0 cannot be drawn on a log axis and are left out (with n pairs, 0 false
    matches only shows FMR < about 3/n). ``marks`` adds vertical lines ({label: threshold});
    ``overall`` adds the FMR over all non-mated pairs as a black line.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    colours = _group_colours(list(curves))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, fmr in curves.items():
        y = np.where(fmr > 0, fmr, np.nan)
        ax.plot(t, y, color=colours[name], label=f"within {name}", linewidth=1.8)
    if overall is not None:
        ax.plot(t, np.where(overall > 0, overall, np.nan), color="black", linewidth=1.2, linestyle="--",
                label="all pairs")
    for k, (label, value) in enumerate(marks.items()):
        ax.axvline(value, color="0.4", linestyle=[":", "-."][k % 2], linewidth=1, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("threshold (match if distance <= threshold)")
    ax.set_ylabel("false match rate (log scale)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    return fig


def plot_interval_comparison(rows: Sequence[GroupInterval], title: str) -> Any:
    """Each group's FMR with its Wilson interval (pairs) and its bootstrap interval (people), side by side.

    ``rows`` is :func:`facecourse.demographics.within_group_intervals`. The intervals are
    labelled with the rows' own ``confidence``: in the legend when every row shares one level,
    on each row's label when they differ.
    """
    if not rows:
        raise ValueError("plot_interval_comparison: no rows")
    colours = plots.COLOURS
    uniform = len({r.confidence for r in rows}) == 1
    # one confidence level: named once in the legend; mixed levels: named on each row instead
    level = f"{_text.confidence_label(rows[0].confidence)} " if uniform else ""
    fig, ax = plt.subplots(figsize=(7, 0.75 * len(rows) + 1.4))
    for k, r in enumerate(rows):
        y = len(rows) - 1 - k
        for dy, ci, colour, label in ((0.15, r.fmr_ci, colours[0], f"{level}CI over photo pairs (Wilson)"),
                                      (-0.15, r.bootstrap, colours[3], f"{level}CI over people (bootstrap)")):
            ax.plot([100 * ci[0], 100 * ci[1]], [y + dy, y + dy], color=colour, linewidth=3,
                    label=label if k == 0 else None, solid_capstyle="butt")
        ax.plot([100 * r.fmr], [y], marker="o", color="black", label="measured FMR" if k == 0 else None)
    ax.set_yticks(range(len(rows)))

    def row_name(r: GroupInterval) -> str:
        own_level = "" if uniform else f", {_text.confidence_label(r.confidence)} CI"
        return f"{r.group} ({r.people} people{own_level})"

    ax.set_yticklabels([row_name(r) for r in reversed(rows)])
    ax.set_xlabel("within-group false match rate (%)")
    ax.set_xlim(left=0)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title)
    return fig
