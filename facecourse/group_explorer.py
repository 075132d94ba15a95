"""Lesson 05's group-rates explorer: move the threshold, watch each group's false match rate.

One global threshold, as a deployed system uses; for every self-reported group the explorer shows
the **within-group FMR** (non-mated pairs of two different people who are both in the group), its
counts, and two 95 % intervals:

* **over pairs (Wilson)**, which treats every photo pair as an independent trial: too narrow,
  because each person is in many pairs;
* **over people (bootstrap)**: the group's people are drawn with replacement ``n_boot`` times
  (:func:`facecourse.metrics.fmr_bootstrap_by_subject`), the interval is the middle 95 % of the
  replicates' FMRs. This is the honest one. Where the group has no false match at the threshold,
  every replicate is 0 too; the explorer then says so and gives the rule-of-three bound over
  person pairs (about 3 / person pairs, the cautious count) instead of a (0, 0) interval.

Every number comes from :func:`facecourse.demographics.within_group_intervals` (the function that
prints lesson 05's tables), through the pure function :func:`group_rates_state`. An update takes
a few tens of milliseconds (the bootstrap of all replicates is one matrix product per group), and
the widget keeps the states it has computed, so moving back and forth is instant.

**Markup a test can read.** ``GroupExplorer.panel`` (an ``ipywidgets.HTML``) holds
``GroupRatesState.html()``: a ``div[data-testid="group-explorer"]`` whose ``data-settings``
attribute is the JSON ``{"threshold": T}``; inside it one element ``[data-testid=K]`` for every key
K of ``GroupRatesState.fields()`` (``threshold``, then for each group slug G: ``G-fmr``,
``G-counts``, ``G-people``, ``G-wilson``, ``G-bootstrap``), whose text is exactly ``fields()[K]``.

>>> emb = [[0.0], [0.3], [5.0], [5.2], [9.0]]
>>> groups = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}
>>> s = group_rates_state(emb, ["a", "b", "c", "d", "e"], groups, 0.5, n_boot=50)
>>> s.fields()["y-counts"], s.fields()["x-fmr"]   # Y: only c-d (0.2) of its 3 pairs is <= 0.5
('1 of 3 photo pairs', '100.00%')
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike

from . import _text
from . import demographics as dg
from .widgets import HeadlessFallback, WidgetState, data_settings, field_tags, threshold_slider

__all__ = ["GroupExplorer", "GroupRatesState", "group_explorer", "group_rates_state", "slug"]


def slug(group: str) -> str:
    """The ``data-testid`` prefix of a group: lower case, runs of other characters -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(group).lower()).strip("-")


@dataclass(frozen=True)
class GroupRatesState(WidgetState):
    """What the explorer shows at one threshold (build it with :func:`group_rates_state`)."""

    threshold: float
    rows: tuple[dg.GroupInterval, ...]
    n_boot: int
    seed: int

    def fields(self) -> dict[str, str]:
        """The exact text of every displayed value, keyed by its ``data-testid``."""
        out = {"threshold": f"{self.threshold:.3f}"}
        for r in self.rows:
            g = slug(r.group)
            row = r.as_row()
            out[f"{g}-fmr"] = row["FMR"]
            out[f"{g}-counts"] = f"{_text.count(r.false_matches, r.nonmated_count)} photo pairs"
            out[f"{g}-people"] = f"{r.people} people, {r.person_pairs:,} person pairs"
            out[f"{g}-wilson"] = row["95% CI, pairs (Wilson)"]
            rule_of_three = _text.percent(min(1.0, 3 / r.person_pairs))
            out[f"{g}-bootstrap"] = (row["95% CI, people (bootstrap)"] if r.false_matches else
                                     f"none seen; below about {rule_of_three} (rule of three)")
        return out

    def text(self) -> str:
        """The state as a plain-text table."""
        f = self.fields()
        rows = [{"group": r.group, "people": f[f"{slug(r.group)}-people"],
                 "false matches": f[f"{slug(r.group)}-counts"],
                 "FMR": f[f"{slug(r.group)}-fmr"], "95% CI, pairs (Wilson)": f[f"{slug(r.group)}-wilson"],
                 "95% CI, people (bootstrap)": f[f"{slug(r.group)}-bootstrap"]} for r in self.rows]
        return f"threshold {f['threshold']}: within-group FMR\n" + _text.table(rows)

    def html(self) -> str:
        """The state as an HTML table; every value sits in an element with a ``data-testid``."""
        el = field_tags(self.fields())

        head = ("<tr><th style='text-align:left'>group</th><th>within-group FMR</th><th>false matches</th>"
                "<th>people</th><th>95% CI over people (bootstrap)</th><th>95% CI over pairs (Wilson)</th></tr>")
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(r.group)}</th><td>{el(slug(r.group) + '-fmr', 'b')}</td>"
            f"<td>{el(slug(r.group) + '-counts')}</td><td>{el(slug(r.group) + '-people')}</td>"
            f"<td>{el(slug(r.group) + '-bootstrap', 'b')}</td><td>{el(slug(r.group) + '-wilson')}</td></tr>"
            for r in self.rows)
        return (
            f'<div class="facecourse-group-explorer" data-testid="group-explorer" '
            f'{data_settings({"threshold": self.threshold})}>'
            f"<p>Threshold {el('threshold', 'b')} for everyone: a pair is a match when its distance is at most "
            "the threshold.</p>"
            f'<table style="border-collapse: separate; border-spacing: 12px 2px">{head}{body}</table>'
            f"<p><small>The interval over people resamples the group's people with replacement "
            f"({self.n_boot:,} replicates, seed {self.seed}) and keeps the middle 95 % of the replicates' FMRs; "
            "the interval over pairs treats every photo pair as independent, which they are not.</small></p></div>"
        )


def group_rates_state(embeddings: ArrayLike, subject_ids: ArrayLike, groups: Mapping[Any, Any] | ArrayLike,
                      threshold: float, *, n_boot: int = 2000, seed: int = 0,
                      order: Sequence[str] | None = None) -> GroupRatesState:
    """Each group's within-group FMR at ``threshold`` with Wilson and people-bootstrap intervals.

    Exactly :func:`facecourse.demographics.within_group_intervals` (groups of at least two
    people; "not reported" left out; rows largest group first unless ``order`` is given).
    """
    if np.ndim(threshold) != 0 or not math.isfinite(float(threshold)):
        raise ValueError(f"threshold must be a single finite number, got {threshold!r}")
    rows = dg.within_group_intervals(embeddings, subject_ids, groups, float(threshold), n_boot=n_boot,
                                     seed=seed, order=order)
    if not rows:
        raise ValueError("no group has two or more people: there is no within-group pair to compare")
    return GroupRatesState(float(threshold), tuple(rows), int(n_boot), int(seed))


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------


class _StateOptions(TypedDict):
    """The keyword arguments a live explorer passes to :func:`group_rates_state` for each threshold."""

    n_boot: int
    seed: int
    order: Sequence[str] | None


class GroupExplorer(HeadlessFallback):
    """A threshold slider over the per-group table; build it with :func:`group_explorer`.

    Attributes: ``slider`` (``ipywidgets.FloatSlider``), ``panel`` (``ipywidgets.HTML`` holding
    ``self.state().html()``), ``widget`` (both in a ``VBox``). Without a widget frontend the
    notebook shows :meth:`static_text`: the table at a few thresholds, the same on every run.
    """

    def __init__(self, embeddings: ArrayLike, subject_ids: ArrayLike, groups: Mapping[Any, Any] | ArrayLike, *,
                 initial: float, slider_range: tuple[float, float], step: float, static_thresholds: Sequence[float],
                 n_boot: int, seed: int, order: Sequence[str] | None) -> None:
        import ipywidgets as w  # optional and heavy: only a live widget needs it

        self._data = (np.asarray(embeddings, dtype=np.float64), np.asarray(subject_ids), groups)
        self._options = _StateOptions(n_boot=n_boot, seed=seed, order=order)
        self._cache: dict[float, GroupRatesState] = {}
        self.static_thresholds = tuple(float(t) for t in static_thresholds)
        self.slider = threshold_slider(initial, slider_range, step=step)
        self.panel = w.HTML(value=self.state().html())
        self.widget = w.VBox([self.slider, self.panel])
        self.slider.observe(self.show_state, names="value")

    def state(self, threshold: float | None = None) -> GroupRatesState:
        """What the explorer shows at ``threshold`` (default: the slider's value); computed once per threshold."""
        t = float(self.slider.value if threshold is None else threshold)
        key = round(t, 9)
        if key not in self._cache:
            self._cache[key] = group_rates_state(*self._data, t, **self._options)
        return self._cache[key]

    def static_text(self) -> str:
        parts = ["Group-rates explorer (interactive in JupyterLab: move the slider). The table at a few thresholds:"]
        for t in self.static_thresholds:
            parts += ["", self.state(t).text()]
        return "\n".join(parts)


def group_explorer(embeddings: ArrayLike, subject_ids: ArrayLike, groups: Mapping[Any, Any] | ArrayLike, *,
                   initial: float = 0.6, slider_range: tuple[float, float] = (0.40, 0.70), step: float = 0.005,
                   static_thresholds: Sequence[float] = (0.5, 0.6), n_boot: int = 2000, seed: int = 0,
                   order: Sequence[str] | None = None) -> GroupExplorer:
    """The group-rates explorer (make it the last expression of a cell to display it).

    Everything it shows is :func:`group_rates_state` at the slider's value.

    >>> ex = group_explorer([[0.0], [0.3], [5.0], [5.2], [9.0]], ["a", "b", "c", "d", "e"],
    ...                     {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}, initial=0.5, n_boot=50,
    ...                     slider_range=(0.1, 0.7))
    >>> ex.slider.value = 0.25
    >>> ex.state().fields()["x-counts"]
    '0 of 1 photo pairs'
    """
    return GroupExplorer(embeddings, subject_ids, groups, initial=float(initial), slider_range=slider_range, step=step,
                         static_thresholds=static_thresholds, n_boot=n_boot, seed=seed, order=order)
