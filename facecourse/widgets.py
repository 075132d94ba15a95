"""Interactive widgets for the lessons, each backed by one pure function that says what it shows.

:func:`threshold_explorer` puts a slider on the decision threshold of a verification system and
shows, live, the false match rate (FMR) and false non-match rate (FNMR) with their counts and
95 % intervals, and which example pairs change outcome compared with a reference threshold (by
default face_recognition's 0.6). Pairs are named by their file ids only: never images.

Everything the widget displays comes from :func:`explorer_state`, a pure function of the scores
and the threshold. The same function gives the static text that a notebook shows when no widget
frontend is running (nbval, nbconvert, a terminal), and it is what the tests call. So the numbers
on screen, in the committed notebook and in the tests cannot disagree.

Without JupyterLab nothing needs a browser:

>>> ex = threshold_explorer([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8], initial=0.45, reference_threshold=0.45)
>>> ex.slider.value = 0.55
>>> ex.state().fields()["fnmr"]
'0.00%'
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike

from . import _text, metrics

__all__ = ["ExplorerState", "FlippedPairs", "ThresholdExplorer", "explorer_state", "threshold_explorer"]

#: The ``data-testid`` of every element of the explorer's HTML whose text a test may read, in
#: display order. ``ExplorerState.fields()`` gives the exact text of each.
FIELD_IDS = (
    "threshold",
    "reference",
    "fmr",
    "fmr-ci",
    "false-matches",
    "nonmated-count",
    "fnmr",
    "fnmr-ci",
    "false-non-matches",
    "mated-count",
    "became-false-matches-count",
    "became-false-matches",
    "no-longer-false-matches-count",
    "no-longer-false-matches",
    "became-false-non-matches-count",
    "became-false-non-matches",
    "no-longer-false-non-matches-count",
    "no-longer-false-non-matches",
)

#: What is shown for a list of pairs that is empty.
NONE_TEXT = "none"


@dataclass(frozen=True)
class FlippedPairs:
    """Pairs whose decision differs between the reference threshold and the current one.

    ``count`` is how many there are; ``listed`` holds the first ``max_listed`` of them, closest to
    the reference threshold first, each as ``"<label> (<distance>)"``.
    """

    count: int
    listed: tuple[str, ...]

    def text(self) -> str:
        """The pairs as one line: the listed ones, then "... and N more" if some were left out."""
        if self.count == 0:
            return NONE_TEXT
        more = self.count - len(self.listed)
        return ", ".join(self.listed) + (f", ... and {more:,} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# What every course widget shares: a pure state, its markup, and the widget around it
# ---------------------------------------------------------------------------------------------


class WidgetState:
    """What a course widget shows at one setting; every widget's state class builds on it.

    ``fields()`` gives the exact text of every displayed value, keyed by its ``data-testid``;
    ``text()`` (also ``str(state)``) and ``html()`` lay out those same strings, so the live panel,
    the static text of a headless notebook and the tests cannot disagree.
    """

    def fields(self) -> dict[str, str]:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text()


def field_tags(fields: Mapping[str, str]) -> Callable[..., str]:
    """``el(key, tag="span")``: the value ``fields[key]``, HTML-escaped, in ``<tag data-testid="key">``.

    >>> el = field_tags({"fmr": "1 < 2"})
    >>> el("fmr"), el("fmr", "b")
    ('<span data-testid="fmr">1 &lt; 2</span>', '<b data-testid="fmr">1 &lt; 2</b>')
    """
    escaped = {k: html.escape(v) for k, v in fields.items()}

    def el(key: str, tag: str = "span") -> str:
        return f'<{tag} data-testid="{key}">{escaped[key]}</{tag}>'

    return el


def data_settings(settings: Mapping[str, Any]) -> str:
    """The ``data-settings`` attribute: the JSON of the settings a panel was computed from.

    >>> data_settings({"threshold": 0.5})
    'data-settings="{&quot;threshold&quot;: 0.5}"'
    """
    return f'data-settings="{html.escape(json.dumps(dict(settings), sort_keys=True), quote=True)}"'


@dataclass(frozen=True)
class ExplorerState(WidgetState):
    """What the threshold explorer shows at one threshold (see :func:`explorer_state`)."""

    threshold: float
    reference_threshold: float
    rates: metrics.ErrorRates
    became_false_matches: FlippedPairs  # non-mated, reference < d <= threshold
    no_longer_false_matches: FlippedPairs  # non-mated, threshold < d <= reference
    became_false_non_matches: FlippedPairs  # mated, threshold < d <= reference
    no_longer_false_non_matches: FlippedPairs  # mated, reference < d <= threshold

    def fields(self) -> dict[str, str]:
        """The exact text of every displayed element, keyed by its ``data-testid`` (see FIELD_IDS)."""
        r = self.rates
        row = r.as_row()
        conf = _text.confidence_label(r.confidence)
        flips = {
            "became-false-matches": self.became_false_matches,
            "no-longer-false-matches": self.no_longer_false_matches,
            "became-false-non-matches": self.became_false_non_matches,
            "no-longer-false-non-matches": self.no_longer_false_non_matches,
        }
        out = {
            "threshold": f"{self.threshold:.3f}",
            "reference": f"{self.reference_threshold:.3f}",
            "fmr": row["FMR"],
            "fmr-ci": row[f"FMR {conf} CI"],
            "false-matches": f"{r.false_matches:,}",
            "nonmated-count": f"{r.nonmated_count:,}",
            "fnmr": row["FNMR"],
            "fnmr-ci": row[f"FNMR {conf} CI"],
            "false-non-matches": f"{r.false_non_matches:,}",
            "mated-count": f"{r.mated_count:,}",
        }
        for key, pairs in flips.items():
            out[f"{key}-count"] = f"{pairs.count:,}"
            out[key] = pairs.text()
        return {k: out[k] for k in FIELD_IDS}

    def text(self) -> str:
        """The state as plain text (what ``print(state)`` shows)."""
        f = self.fields()
        conf = _text.confidence_label(self.rates.confidence)
        lines = [
            f"threshold {f['threshold']} (a pair is declared a match when its distance <= threshold)",
            f"  FMR  {f['fmr']} ({f['false-matches']} of {f['nonmated-count']} non-mated pairs; "
            f"{conf} CI {f['fmr-ci']})",
            f"  FNMR {f['fnmr']} ({f['false-non-matches']} of {f['mated-count']} mated pairs; "
            f"{conf} CI {f['fnmr-ci']})",
        ]
        if self.threshold == self.reference_threshold:
            lines.append(f"  at the reference threshold {f['reference']}: no pair changes outcome")
        else:
            lines.append(f"  compared with the reference threshold {f['reference']}:")
            for key, what in _FLIP_SENTENCES:
                if not _irrelevant(key, self.threshold > self.reference_threshold):
                    lines.append(f"    {what}: {f[f'{key}-count']} - {f[key]}")
        return "\n".join(lines)

    def html(self) -> str:
        """The state as HTML; every number sits in an element with a ``data-testid`` attribute."""
        el = field_tags(self.fields())
        conf = _text.confidence_label(self.rates.confidence)
        rows = (
            f"<tr><th>FMR (false match rate)</th><td>{el('fmr', 'b')}</td>"
            f"<td>{el('false-matches')} of {el('nonmated-count')} non-mated pairs</td>"
            f"<td>{conf} CI {el('fmr-ci')}</td></tr>"
            f"<tr><th>FNMR (false non-match rate)</th><td>{el('fnmr', 'b')}</td>"
            f"<td>{el('false-non-matches')} of {el('mated-count')} mated pairs</td>"
            f"<td>{conf} CI {el('fnmr-ci')}</td></tr>"
        )
        flips = "".join(
            f"<li>{what}: {el(f'{key}-count')} &mdash; {el(key)}</li>" for key, what in _FLIP_SENTENCES
        )
        return (
            '<div class="facecourse-threshold-explorer" data-testid="threshold-explorer">'
            f"<p>Threshold {el('threshold', 'b')}: a pair is declared a match when its distance is at "
            "most the threshold.</p>"
            f'<table style="border-collapse: separate; border-spacing: 12px 2px">{rows}</table>'
            f"<p>Compared with the reference threshold {el('reference')}:</p><ul>{flips}</ul>"
            "<p><small>Intervals are Wilson intervals over comparisons, which treat pairs as independent; "
            "they are too narrow when the same people appear in many pairs.</small></p></div>"
        )


_FLIP_SENTENCES = (
    ("became-false-matches", "non-mated pairs that become false matches"),
    ("no-longer-false-matches", "non-mated pairs that are no longer false matches"),
    ("became-false-non-matches", "mated pairs that become false non-matches"),
    ("no-longer-false-non-matches", "mated pairs that are no longer false non-matches"),
)


def _irrelevant(key: str, raised: bool) -> bool:
    """Raising the threshold can only add matches; lowering it can only remove them."""
    adds_matches = key in ("became-false-matches", "no-longer-false-non-matches")
    return adds_matches != raised


def explorer_state(
    mated: ArrayLike,
    nonmated: ArrayLike,
    threshold: float,
    *,
    reference_threshold: float = metrics.DEFAULT_THRESHOLD,
    mated_labels: Sequence[str] | ArrayLike | None = None,
    nonmated_labels: Sequence[str] | ArrayLike | None = None,
    max_listed: int = 5,
    confidence: float = 0.95,
) -> ExplorerState:
    """FMR and FNMR at ``threshold``, and the pairs whose outcome differs at ``reference_threshold``.

    A comparison is a match when ``distance <= threshold``. Compared with the reference
    threshold ``ref``:

    * raising the threshold (``threshold > ref``) turns the non-mated pairs with
      ``ref < d <= threshold`` into false matches, and the mated pairs in the same range
      stop being false non-matches;
    * lowering it turns the mated pairs with ``threshold < d <= ref`` into false
      non-matches, and the non-mated pairs in that range stop being false matches.

    Labels name the pairs: one string per pair, or an ``(n, 2)`` array of the two file ids
    (shown as ``"a vs b"``; only the listed pairs are formatted). Without labels a pair is called
    ``"mated #k"`` / ``"non-mated #k"`` after its position. At most ``max_listed`` pairs of each
    kind are listed, closest to the reference first (by the distance rounded to the 3 decimals shown,
    then by label); ``count`` says how many there are.

    Example (mated 0.1, 0.3, 0.5; non-mated 0.2, 0.4, 0.6, 0.8). At 0.45: false matches 0.2 and
    0.4 (FMR 2/4), false non-match 0.5 (FNMR 1/3). Raising to 0.65 adds the non-mated 0.6 as a
    false match and clears the mated 0.5:

    >>> s = explorer_state([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8], 0.65, reference_threshold=0.45)
    >>> s.rates.false_matches, s.rates.false_non_matches
    (3, 0)
    >>> s.became_false_matches, s.no_longer_false_non_matches.listed
    (FlippedPairs(count=1, listed=('non-mated #2 (0.600)',)), ('mated #2 (0.500)',))
    """
    m = _scores(mated, "mated")
    nm = _scores(nonmated, "nonmated")
    t = _number(threshold, "threshold")
    ref = _number(reference_threshold, "reference_threshold")
    if int(max_listed) < 0:
        raise ValueError(f"max_listed must be 0 or more, got {max_listed!r}")
    m_labels = _labels(mated_labels, m.size, "mated_labels")
    nm_labels = _labels(nonmated_labels, nm.size, "nonmated_labels")
    rates = metrics.error_rates_at(m, nm, t, confidence=confidence)
    lo, hi = min(t, ref), max(t, ref)
    raised = t > ref

    def flipped(scores: np.ndarray, labels: Any, kind: str, when: bool) -> FlippedPairs:
        if not when:
            return FlippedPairs(0, ())
        idx = np.flatnonzero((scores > lo) & (scores <= hi))
        if idx.size == 0:
            return FlippedPairs(0, ())
        names = _names(labels, idx, kind)
        # Closest to the reference first (ascending distance when raised, descending when lowered),
        # by the distance as displayed (3 decimals), then by label: a stable order that does not
        # depend on the last bits of a floating-point distance.
        shown = np.round(scores[idx], 3)
        key = shown if raised else -shown
        order = np.lexsort((names, key))[: int(max_listed)]
        return FlippedPairs(int(idx.size), tuple(f"{names[k]} ({scores[idx[k]]:.3f})" for k in order))

    return ExplorerState(
        threshold=t,
        reference_threshold=ref,
        rates=rates,
        became_false_matches=flipped(nm, nm_labels, "non-mated", raised),
        no_longer_false_matches=flipped(nm, nm_labels, "non-mated", not raised),
        became_false_non_matches=flipped(m, m_labels, "mated", not raised),
        no_longer_false_non_matches=flipped(m, m_labels, "mated", raised),
    )


def _scores(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of distances, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite distances")
    return arr


def _number(value: float, name: str) -> float:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return x


def _labels(labels: Sequence[str] | ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim == 1 and len(arr) == n:
        return arr.astype(str)
    if arr.ndim == 2 and arr.shape == (n, 2):
        return arr.astype(str)
    raise ValueError(f"{name} must give one label per pair (a list of {n} strings) or the two file ids of "
                     f"each pair (an array of shape ({n}, 2)); got shape {arr.shape}")


def _names(labels: np.ndarray | None, idx: np.ndarray, kind: str) -> np.ndarray:
    """The display names of the pairs ``idx`` (vectorised; only these pairs are formatted)."""
    if labels is None:
        return np.char.add(f"{kind} #", idx.astype(str))
    chosen = labels[idx]
    if chosen.ndim == 2:
        return np.char.add(np.char.add(chosen[:, 0], " vs "), chosen[:, 1])
    return chosen


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------


class HeadlessFallback:
    """Mixin for course widgets: live in JupyterLab, readable text everywhere else.

    The displayed bundle carries the ipywidgets view *and* ``static_text()`` as its
    ``text/plain``: JupyterLab renders the widget, while nbval, nbconvert and terminals (which
    have no widget frontend) show the text, which is deterministic and so compared by nbval.
    Subclasses provide ``self.widget`` (the whole box), ``self.panel`` (an ``ipywidgets.HTML``),
    ``state()`` (a :class:`WidgetState` at the controls' values) and ``static_text()``; a control
    observed with :meth:`show_state` keeps the panel at ``state().html()``.
    """

    widget: Any
    panel: Any

    def state(self) -> WidgetState:
        raise NotImplementedError

    def static_text(self) -> str:
        raise NotImplementedError

    def show_state(self, change: Mapping[str, Any] | None = None) -> None:
        """Put ``self.state().html()`` in the panel (an observer for the controls' ``value``)."""
        self.panel.value = self.state().html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self.static_text()
        return bundle

    def __repr__(self) -> str:
        return self.static_text()


def threshold_slider(initial: float, slider_range: tuple[float, float], *, step: float) -> Any:
    """The course's threshold slider (an ``ipywidgets.FloatSlider``, 3 decimals, live updates).

    Refuses a range that is not ``(low, high)`` with ``low < high``, a step that is not positive,
    and a starting value outside the range.
    """
    import ipywidgets  # optional and heavy: only a live widget needs it

    lo, hi = (float(v) for v in slider_range)
    if not lo < hi:
        raise ValueError(f"slider_range must be (low, high) with low < high, got {slider_range!r}")
    if not step > 0:
        raise ValueError(f"step must be positive, got {step!r}")
    if not lo <= initial <= hi:
        raise ValueError(f"initial threshold {initial} is outside the slider's range {lo}-{hi}")
    return ipywidgets.FloatSlider(
        value=float(initial), min=lo, max=hi, step=float(step), description="threshold", readout_format=".3f",
        continuous_update=True, style={"description_width": "initial"}, layout=ipywidgets.Layout(width="32em"))


class _ExplorerOptions(TypedDict):
    """The keyword arguments a live explorer passes to :func:`explorer_state` on every slider move."""

    reference_threshold: float
    mated_labels: np.ndarray | None
    nonmated_labels: np.ndarray | None
    max_listed: int
    confidence: float


class ThresholdExplorer(HeadlessFallback):
    """A threshold slider with live error rates; build it with :func:`threshold_explorer`.

    Attributes: ``slider`` (an ``ipywidgets.FloatSlider``), ``panel`` (an ``ipywidgets.HTML``
    whose ``value`` is ``self.state().html()``), ``widget`` (the two in a ``VBox``).

    **What a test can read.** The HTML has one element per displayed value, each with a
    ``data-testid`` attribute (see ``FIELD_IDS``: ``threshold``, ``fmr``, ``fmr-ci``,
    ``false-matches``, ``nonmated-count``, ``fnmr``, ``fnmr-ci``, ``false-non-matches``,
    ``mated-count``, ``reference``, and for each kind of changed pair ``<kind>-count`` and
    ``<kind>`` with kinds ``became-false-matches``, ``no-longer-false-matches``,
    ``became-false-non-matches``, ``no-longer-false-non-matches``). The text content of the
    element ``[data-testid=K]`` is exactly ``explorer.state(t).fields()[K]`` for the slider value
    ``t`` (equivalently ``explorer_state(mated, nonmated, t, reference_threshold=..., ...)``). The whole
    display sits in ``div[data-testid=threshold-explorer]``.

    **Without a widget frontend** (nbval, nbconvert, a terminal) the notebook shows
    :meth:`static_text`: the rates at a few thresholds and the changed pairs at the initial
    one. It contains no widget model id, so it is the same on every run.
    """

    def __init__(self, mated: ArrayLike, nonmated: ArrayLike, *, initial: float, reference_threshold: float,
                 mated_labels: Any, nonmated_labels: Any, max_listed: int, confidence: float,
                 static_thresholds: Sequence[float], slider_range: tuple[float, float], step: float) -> None:
        import ipywidgets  # optional and heavy: only a live widget needs it

        self._mated = _scores(mated, "mated")
        self._nonmated = _scores(nonmated, "nonmated")
        self._options = _ExplorerOptions(
            reference_threshold=reference_threshold,
            mated_labels=_labels(mated_labels, self._mated.size, "mated_labels"),
            nonmated_labels=_labels(nonmated_labels, self._nonmated.size, "nonmated_labels"),
            max_listed=max_listed, confidence=confidence)
        self.static_thresholds = tuple(sorted({float(t) for t in static_thresholds} | {float(initial)}))
        self.slider = threshold_slider(initial, slider_range, step=step)
        self.panel = ipywidgets.HTML(value=self.state().html())
        self.widget = ipywidgets.VBox([self.slider, self.panel])
        self.slider.observe(self.show_state, names="value")

    def state(self, threshold: float | None = None) -> ExplorerState:
        """What the explorer shows at ``threshold`` (default: the slider's current value)."""
        t = self.slider.value if threshold is None else threshold
        return explorer_state(self._mated, self._nonmated, t, **self._options)

    def static_text(self) -> str:
        """The text shown where widgets cannot be: rates at a few thresholds, changes at the initial one."""
        rows = [self.state(t).rates for t in self.static_thresholds]
        return "\n".join([
            "Threshold explorer (interactive in JupyterLab: move the slider). Rates at a few thresholds:",
            _text.table(rows),
            "",
            str(self.state(self.slider.value)),
        ])



def threshold_explorer(
    mated: ArrayLike,
    nonmated: ArrayLike,
    *,
    mated_labels: Sequence[str] | ArrayLike | None = None,
    nonmated_labels: Sequence[str] | ArrayLike | None = None,
    initial: float = metrics.DEFAULT_THRESHOLD,
    reference_threshold: float = metrics.DEFAULT_THRESHOLD,
    static_thresholds: Sequence[float] = (0.4, 0.5, 0.6, 0.7),
    slider_range: tuple[float, float] | None = None,
    step: float = 0.005,
    max_listed: int = 5,
    confidence: float = 0.95,
) -> ThresholdExplorer:
    """A slider on the threshold, with live FMR, FNMR, counts, intervals and the pairs that flip.

    ``mated`` and ``nonmated`` are the distances of the mated and non-mated comparisons; the
    labels name their pairs (a string per pair, or an ``(n, 2)`` array of file ids, e.g.
    ``file_ids[scores.mated_pairs]``). Pairs that change outcome are listed against
    ``reference_threshold`` (face_recognition's default unless given). The slider starts at
    ``initial`` and runs over ``slider_range`` (default: the range of the scores, rounded out to
    0.05) in steps of ``step``.

    Display the returned object (make it the last expression of a cell). Everything it shows is
    :func:`explorer_state` at the slider's value; see :class:`ThresholdExplorer` for the markup a
    browser test can read, and the static text shown when no widget frontend is running.
    """
    m, nm = _scores(mated, "mated"), _scores(nonmated, "nonmated")
    if slider_range is None:
        scores = np.concatenate([m, nm])
        slider_range = (math.floor(scores.min() * 20) / 20, math.ceil(scores.max() * 20) / 20)
    return ThresholdExplorer(m, nm, initial=float(initial), reference_threshold=float(reference_threshold),
                             mated_labels=mated_labels, nonmated_labels=nonmated_labels,
                             max_listed=max_listed, confidence=confidence, static_thresholds=static_thresholds,
                             slider_range=slider_range, step=float(step))
