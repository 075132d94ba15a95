"""Lesson 04's gallery-size explorer: how many false candidates does one search of N people return?

Move a slider on the gallery size N (and pick a threshold); the explorer shows, for one non-mated
search (the person searched for is not enrolled):

* the **expected number of false candidates**, ``FMR × N`` (exact, no independence needed), and
* the **chance of at least one**, ``1 − (1 − FMR)^N`` (assumes independent comparisons),

each with a **band**: the same formulas at the two ends of the FMR's 95 % interval. The FMR is a
measurement (:class:`MeasuredFMR`), so the band is what the measurement's uncertainty does to
the answer; the independence assumption is a separate caveat (lesson 04 checks it on real
galleries, where the chance of at least one grows more slowly than the formula).

Which interval? :meth:`MeasuredFMR.from_photos` resamples **people** (the people-level bootstrap
of :func:`facecourse.metrics.fmr_bootstrap_by_subject`), because non-mated pairs that share a
person are not independent. Where no false match was observed, every bootstrap replicate is 0
too, so it uses the Wilson interval over pairs instead, whose upper end is then the only honest
statement ("below about 3/n": the rule of three). Each :class:`MeasuredFMR` says which it is.

One function decides what is shown
----------------------------------
:func:`gallery_state` is a pure function of the measured FMR and N. Its :meth:`GalleryState.fields`
gives the exact text of every displayed value; :meth:`~GalleryState.text` and
:meth:`~GalleryState.html` lay the same strings out. The widget, the static text shown without a
widget frontend (nbval, nbconvert, a terminal), the unit tests and the browser test all call it.

**Markup a test can read.** ``GalleryExplorer.panel`` (an ``ipywidgets.HTML``) holds
``GalleryState.html()``: a ``div[data-testid="gallery-explorer"]`` whose ``data-settings``
attribute is the JSON ``{"threshold": T, "gallery_size": N}`` it was computed from, and inside it
one element ``[data-testid=K]`` per K in :data:`FIELD_IDS`, whose text is exactly
``fields()[K]``.

>>> fmr = MeasuredFMR(0.6, metrics.Rate(2, 1000, name="FMR"), low=0.001, high=0.005, interval="made up")
>>> s = gallery_state(fmr, 1000)
>>> s.fields()["expected"], s.fields()["expected-band"]   # 0.002 × 1000; 0.001 and 0.005 × 1000
('2', '1 to 5')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import _text, deployment, metrics
from .widgets import HeadlessFallback, WidgetState, data_settings, field_tags

__all__ = ["FIELD_IDS", "GalleryExplorer", "GalleryState", "MeasuredFMR", "gallery_explorer", "gallery_state"]

#: Every displayed value's ``data-testid``, in display order (see :meth:`GalleryState.fields`).
FIELD_IDS = (
    "threshold",
    "gallery-size",
    "fmr",
    "false-matches",
    "comparisons",
    "fmr-band",
    "interval",
    "expected",
    "expected-band",
    "p-any",
    "p-any-band",
)

#: Largest gallery on the slider: 10^11 faceprints, the 100-billion target Clearview was reported
#: to have set itself in 2022 (its own claims were about 3 billion in 2020 and about 30 billion in 2023).
MAX_GALLERY = 1e11


@dataclass(frozen=True)
class MeasuredFMR(metrics.FalseMatchFields):
    """A false match rate measured at one threshold: counts, a 95 % interval, and what that interval is.

    ``false_match`` holds the counts as a :class:`~facecourse.metrics.Rate` (false matches of
    non-mated comparisons); ``false_matches``, ``nonmated_count`` and ``fmr`` read it, as in
    :class:`~facecourse.metrics.GroupFMR`. ``low`` and ``high`` are the ends of the interval the
    explorer uses, which is usually *not* the Rate's Wilson interval (``fmr_ci``): ``interval``
    says in words how it was computed (shown under the numbers), e.g. "people-level bootstrap,
    2,000 replicates".
    """

    threshold: float
    false_match: metrics.Rate
    low: float
    high: float
    interval: str

    def __post_init__(self) -> None:
        if not isinstance(self.false_match, metrics.Rate):
            raise TypeError("false_match must be a metrics.Rate (false matches of comparisons), "
                            f"e.g. metrics.Rate(2, 1000); got {self.false_match!r}")
        if self.nonmated_count < 1:
            raise ValueError(f"need at least 1 non-mated comparison, got {self.nonmated_count!r} comparisons")
        if not (0 <= self.low <= self.high <= 1):
            raise ValueError(f"the interval must satisfy 0 <= low <= high <= 1, got ({self.low!r}, {self.high!r})")

    @classmethod
    def from_photos(cls, embeddings: ArrayLike, subject_ids: ArrayLike, thresholds: Sequence[float], *,
                    n_boot: int = 2000, seed: int = 0) -> tuple[MeasuredFMR, ...]:
        """The FMR of every non-mated photo pair at each threshold, with a people-level interval.

        The counts are those of :func:`facecourse.metrics.mated_and_nonmated` (every pair of
        photos of two different people, once). The interval is the people-level bootstrap
        (:func:`facecourse.metrics.fmr_bootstrap_by_subject`, ``n_boot`` replicates, ``seed``) when
        at least one false match was observed, else the Wilson interval over pairs (a bootstrap
        of zero errors is zero: it cannot see beyond the data).
        """
        emb = np.asarray(embeddings, dtype=np.float64)
        ids = np.asarray(subject_ids)
        nonmated = metrics.mated_and_nonmated(emb, ids).nonmated
        out = []
        for t in thresholds:
            rate = metrics.Rate(int(np.count_nonzero(nonmated <= t)), int(nonmated.size), name="FMR")
            if rate.count > 0:
                boot = metrics.fmr_bootstrap_by_subject(emb, ids, t, n_boot=n_boot, seed=seed)
                lo, hi = boot.lo, boot.hi
                how = f"95% people-level bootstrap interval ({n_boot:,} replicates, seed {seed})"
            else:
                lo, hi = rate.ci
                how = "no false match observed: 95% Wilson interval over pairs (its upper end is an upper bound)"
            out.append(cls(float(t), rate, float(lo), float(hi), how))
        return tuple(out)


def _count(x: float) -> str:
    """An expected count with 3 significant digits: 25,200,000 / 8,400 / 84 / 8.4 / 0.57 / 0."""
    if x == 0:
        return "0"
    if x >= 1000:
        return f"{float(f'{x:.3g}'):,.0f}"
    return f"{x:.3g}" if x >= 1 else f"{x:.2g}"


def _percent(p: float) -> str:
    """A probability as a percentage, never rounded up to a certainty: 43.6%, 0.057%, > 99.9%."""
    if p == 0:
        return "0%"
    if p >= 0.9995:
        return "> 99.9%"
    if p < 0.001:
        return f"{100 * p:.2g}%"
    return f"{100 * p:.1f}%"


def _rate(p: float) -> str:
    """An FMR: 0.840%, 0.019%, 0%."""
    return "0%" if p == 0 else f"{100 * p:.3g}%"


@dataclass(frozen=True)
class GalleryState(WidgetState):
    """What the explorer shows for one measured FMR and one gallery size (see :func:`gallery_state`)."""

    fmr: MeasuredFMR
    gallery_size: float
    expected: float
    expected_band: tuple[float, float]
    p_any: float
    p_any_band: tuple[float, float]

    def fields(self) -> dict[str, str]:
        """The exact text of every displayed value, keyed by its ``data-testid`` (see FIELD_IDS)."""
        f = self.fmr
        return {
            "threshold": f"{f.threshold:.2f}",
            "gallery-size": f"{self.gallery_size:,.0f}",
            "fmr": _rate(f.fmr),
            "false-matches": f"{f.false_matches:,}",
            "comparisons": f"{f.nonmated_count:,}",
            "fmr-band": f"{_rate(f.low)} to {_rate(f.high)}",
            "interval": f.interval,
            "expected": _count(self.expected),
            "expected-band": f"{_count(self.expected_band[0])} to {_count(self.expected_band[1])}",
            "p-any": _percent(self.p_any),
            "p-any-band": f"{_percent(self.p_any_band[0])} to {_percent(self.p_any_band[1])}",
        }

    def text(self) -> str:
        """The state as plain text (what ``print(state)`` shows)."""
        f = self.fields()
        return (f"gallery of N = {f['gallery-size']}, threshold {f['threshold']}: FMR {f['fmr']} "
                f"({f['false-matches']} of {f['comparisons']} non-mated pairs; band {f['fmr-band']})\n"
                f"  expected false candidates per non-mated search (FMR x N): {f['expected']} "
                f"(band {f['expected-band']})\n"
                f"  chance of at least one, 1 - (1 - FMR)^N: {f['p-any']} (band {f['p-any-band']})")

    def html(self) -> str:
        """The state as HTML; every value sits in an element with a ``data-testid`` attribute."""
        el = field_tags(self.fields())
        settings = data_settings({"threshold": self.fmr.threshold, "gallery_size": self.gallery_size})
        lo, hi = self.p_any_band
        bar = (  # the chance of at least one false candidate, with its band, on a 0-100 % bar
            '<div style="position:relative; width:24em; height:0.9em; background:#eee; border:1px solid #999" '
            'aria-hidden="true">'
            f'<div style="position:absolute; left:{100 * lo:.2f}%; width:{max(100 * (hi - lo), 0.3):.2f}%; '
            'height:100%; background:#88ccee"></div>'
            f'<div style="position:absolute; left:{100 * self.p_any:.2f}%; width:2px; height:100%; '
            'background:#332288"></div></div>')
        return (
            f'<div class="facecourse-gallery-explorer" data-testid="gallery-explorer" {settings}>'
            f"<p>Gallery of <b>{el('gallery-size')}</b> people; threshold {el('threshold')}; measured FMR "
            f"{el('fmr', 'b')} ({el('false-matches')} of {el('comparisons')} non-mated pairs; band "
            f"{el('fmr-band')}).</p>"
            '<table style="border-collapse: separate; border-spacing: 12px 2px">'
            "<tr><th style='text-align:left'>"
            "expected false candidates per non-mated search (FMR &times; N)</th>"
            f"<td>{el('expected', 'b')}</td><td>band {el('expected-band')}</td></tr>"
            "<tr><th style='text-align:left'>"
            "chance of at least one false candidate, 1 &minus; (1 &minus; FMR)<sup>N</sup></th>"
            f"<td>{el('p-any', 'b')}</td><td>band {el('p-any-band')}</td></tr></table>{bar}"
            f"<p><small>Band: the same formula at both ends of the FMR's interval, {el('interval')}. "
            "The chance of at least one assumes independent comparisons; the expected number does not."
            "</small></p></div>"
        )


def gallery_state(fmr: MeasuredFMR, gallery_size: float) -> GalleryState:
    """Expected false candidates and the chance of at least one, for a non-mated search of N people.

    ``FMR × N`` and ``1 − (1 − FMR)^N`` (:func:`facecourse.deployment.expected_false_candidates`,
    :func:`facecourse.deployment.probability_of_false_candidate`) at the measured FMR and at both
    ends of its interval. ``gallery_size`` must be a number of at least 1.

    >>> f = MeasuredFMR(0.5, metrics.Rate(1, 1000), low=0.0002, high=0.005, interval="x")
    >>> s = gallery_state(f, 200)   # 1 - 0.999**200 = 0.181; band 1 - 0.9998**200 = 0.039 to 1 - 0.995**200 = 0.633
    >>> s.fields()["p-any"], s.fields()["p-any-band"]
    ('18.1%', '3.9% to 63.3%')
    """
    if not isinstance(fmr, MeasuredFMR):
        raise TypeError(f"fmr must be a MeasuredFMR (counts and interval), got {type(fmr).__name__}")
    if np.ndim(gallery_size) != 0 or not math.isfinite(float(gallery_size)) or float(gallery_size) < 1:
        raise ValueError(f"gallery_size must be a single number of at least 1, got {gallery_size!r}")
    n = float(gallery_size)
    expected = [float(deployment.expected_false_candidates(x, n)) for x in (fmr.fmr, fmr.low, fmr.high)]
    p = [float(deployment.probability_of_false_candidate(x, n)) for x in (fmr.fmr, fmr.low, fmr.high)]
    return GalleryState(fmr, n, expected[0], (expected[1], expected[2]), p[0], (p[1], p[2]))


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------


class GalleryExplorer(HeadlessFallback):
    """A log slider on the gallery size and a threshold picker; build it with :func:`gallery_explorer`.

    Attributes: ``gallery_size`` (``ipywidgets.FloatLogSlider``, 1 to 10^11), ``threshold``
    (``ipywidgets.Dropdown`` over the measured thresholds), ``panel`` (``ipywidgets.HTML`` holding
    ``self.state().html()``), ``widget`` (all three in a ``VBox``). Without a widget frontend the
    notebook shows :meth:`static_text`: a table at a few gallery sizes, the same on every run.
    """

    def __init__(self, measured: Sequence[MeasuredFMR], *, initial_threshold: float, initial_size: float,
                 static_sizes: Sequence[float]) -> None:
        import ipywidgets as w  # optional and heavy: only a live widget needs it

        self.measured = {round(m.threshold, 6): m for m in measured}
        if not self.measured:
            raise ValueError("gallery_explorer needs at least one MeasuredFMR")
        key = round(float(initial_threshold), 6)
        if key not in self.measured:
            raise ValueError(f"initial threshold {initial_threshold} is not one of the measured thresholds "
                             f"{sorted(self.measured)}")
        if not 1 <= initial_size <= MAX_GALLERY:
            raise ValueError(f"initial gallery size {initial_size} is outside 1 to {MAX_GALLERY:.0e}")
        self.static_sizes = tuple(float(n) for n in static_sizes)
        style = {"description_width": "12em"}
        self.gallery_size = w.FloatLogSlider(value=float(initial_size), base=10, min=0.0,
                                             max=math.log10(MAX_GALLERY), step=0.05,
                                             description="gallery size N", readout_format=",.0f",
                                             continuous_update=True, style=style, layout=w.Layout(width="44em"))
        self.threshold = w.Dropdown(options=[(f"{t:.2f}", t) for t in sorted(self.measured)], value=key,
                                    description="threshold T", style=style)
        self.panel = w.HTML()
        self.widget = w.VBox([self.gallery_size, self.threshold, self.panel])
        self.gallery_size.observe(self.show_state, names="value")
        self.threshold.observe(self.show_state, names="value")
        self.show_state()

    def state(self) -> GalleryState:
        """What the panel shows now: :func:`gallery_state` at the controls' values."""
        return gallery_state(self.measured[self.threshold.value], self.gallery_size.value)

    def static_text(self) -> str:
        """A table of the explorer's outputs at a few gallery sizes, for the initial threshold."""
        fmr = self.measured[self.threshold.value]
        rows = []
        for n in self.static_sizes:
            f = gallery_state(fmr, n).fields()
            rows.append({"gallery size N": f["gallery-size"], "expected false candidates": f["expected"],
                         "its band": f["expected-band"], "P(at least one)": f["p-any"],
                         "band of P": f["p-any-band"]})
        return "\n".join([
            "Gallery-size explorer (interactive in JupyterLab: move the slider, pick a threshold).",
            f"Threshold {fmr.threshold:.2f}: FMR {_rate(fmr.fmr)} ({fmr.false_matches:,} of {fmr.nonmated_count:,} "
            f"non-mated pairs); band {_rate(fmr.low)} to {_rate(fmr.high)}:",
            f"  {fmr.interval}.",
            _text.table(rows),
        ])


def gallery_explorer(measured: Sequence[MeasuredFMR], *, initial_threshold: float | None = None,
                     initial_size: float = 1e6,
                     static_sizes: Sequence[float] = (100, 1e4, 1e6, 3e7, 3e9)) -> GalleryExplorer:
    """The gallery-size explorer on measured FMRs (make it the last expression of a cell).

    ``measured`` holds one :class:`MeasuredFMR` per threshold (e.g. from
    :meth:`MeasuredFMR.from_photos`); the dropdown offers those thresholds, starting at
    ``initial_threshold`` (default: the largest). Everything shown is :func:`gallery_state`.

    >>> ex = gallery_explorer([MeasuredFMR(0.6, metrics.Rate(1, 100), 0.001, 0.05, "x")], initial_size=10)
    >>> ex.gallery_size.value = 1000
    >>> ex.state().fields()["expected"]
    '10'
    """
    measured = tuple(measured)
    if not measured:
        raise ValueError("gallery_explorer needs at least one MeasuredFMR")
    t = max(m.threshold for m in measured) if initial_threshold is None else initial_threshold
    return GalleryExplorer(measured, initial_threshold=t, initial_size=initial_size, static_sizes=static_sizes)
