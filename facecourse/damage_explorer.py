"""Lesson 01's damage explorer: choose a kind of damage and a level, see how many faces were still found.

The lesson damages every selected photo in several ways at several levels and counts, per
condition, how many faces the detector still finds (``detection.detection_table``, from the
cached results of ``faceprints.encode_variants``). This widget puts that table under two
controls, a drop-down for the *kind* of damage and a slider for its *level*, and shows the count
``k of n`` detected, the detection rate, its Wilson interval, the undamaged baseline, and whether
the two intervals overlap.

Everything it displays comes from :func:`damage_state`, a pure function of the table rows and
the chosen kind and level. The same function gives the static text shown where no widget
frontend runs (nbval, nbconvert, a terminal), and it is what the tests call, so the numbers on
screen, in the committed notebook and in the tests cannot disagree. No image is ever shown.

>>> from facecourse.detection import DetectionRate
>>> rows = [DetectionRate("none", "none", 0, "no change", 10, 10),
...         DetectionRate("blur:2", "blur", 2, "blur sigma in pixels", 9, 10),
...         DetectionRate("blur:8", "blur", 8, "blur sigma in pixels", 2, 10)]
>>> s = damage_state(rows, "blur", 8)
>>> s.fields()["detected"], s.fields()["total"], s.fields()["rate"], s.fields()["rate-ci"]
('2', '10', '20.0%', '5.7%-51.0%')
>>> s.fields()["compared"]
'fewer than undamaged (the intervals do not overlap)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from . import _text, metrics
from .widgets import HeadlessFallback, WidgetState, field_tags

__all__ = ["FIELD_IDS", "DamageExplorer", "DamageState", "damage_explorer", "damage_levels", "damage_state"]

#: The kind of the undamaged baseline row in ``detection.detection_table``.
BASELINE_KIND = "none"

#: ``data-testid`` of every element of the explorer's HTML whose text a test may read, in display
#: order; ``DamageState.fields()`` gives the exact text of each.
FIELD_IDS = ("kind", "level", "unit", "detected", "total", "rate", "rate-ci",
             "baseline-detected", "baseline-total", "baseline-rate-ci", "compared")

_OVERLAP = "not distinguishable from undamaged (the intervals overlap)"
_FEWER = "fewer than undamaged (the intervals do not overlap)"
_MORE = "more than undamaged (the intervals do not overlap)"
_NO_BASELINE = "no undamaged baseline in the table"


class ConditionCount(Protocol):
    """One row of ``detection.detection_table`` (a ``detection.DetectionRate``): a kind and level
    of damage, and how many of its images still had a face detected."""

    @property
    def kind(self) -> str: ...

    @property
    def level(self) -> float: ...

    @property
    def unit(self) -> str: ...

    @property
    def detected(self) -> int: ...

    @property
    def total(self) -> int: ...


def _level_text(level: float) -> str:
    return f"{level:g}"


@dataclass(frozen=True)
class DamageState(WidgetState):
    """What the explorer shows for one kind and level of damage."""

    kind: str
    level: float
    unit: str
    detected: int
    total: int
    confidence: float
    baseline_detected: int | None
    baseline_total: int | None

    @property
    def detection(self) -> metrics.Rate:
        """Faces detected of images tried, with its Wilson interval."""
        return metrics.Rate(self.detected, self.total, self.confidence, name="detected")

    @property
    def baseline(self) -> metrics.Rate | None:
        """The same for the undamaged copies (``None`` without a baseline row)."""
        if self.baseline_total is None or self.baseline_detected is None:
            return None
        return metrics.Rate(self.baseline_detected, self.baseline_total, self.confidence, name="detected")

    @property
    def rate(self) -> float:
        return self.detection.value

    @property
    def rate_ci(self) -> tuple[float, float]:
        return self.detection.ci

    @property
    def baseline_ci(self) -> tuple[float, float] | None:
        base = self.baseline
        return None if base is None else base.ci

    def compared(self) -> str:
        """Whether the detection rate's interval lies wholly below or above the baseline's."""
        base = self.baseline_ci
        if base is None:
            return _NO_BASELINE
        lo, hi = self.rate_ci
        if hi < base[0]:
            return _FEWER
        if lo > base[1]:
            return _MORE
        return _OVERLAP

    def fields(self) -> dict[str, str]:
        """The exact text of every displayed element, keyed by its ``data-testid`` (see FIELD_IDS)."""
        lo, hi = self.rate_ci
        base = self.baseline_ci
        return {
            "kind": self.kind,
            "level": _level_text(self.level),
            "unit": self.unit,
            "detected": str(self.detected),
            "total": str(self.total),
            "rate": _text.percent(self.rate, 1, tiny=False),  # 20.0%, as lesson 01's detection table
            "rate-ci": _text.interval((lo, hi), 1, tiny=False),
            "baseline-detected": "n/a" if self.baseline_detected is None else str(self.baseline_detected),
            "baseline-total": "n/a" if self.baseline_total is None else str(self.baseline_total),
            "baseline-rate-ci": "n/a" if base is None else _text.interval(base, 1, tiny=False),
            "compared": self.compared(),
        }

    def text(self) -> str:
        """The state as one line of text (what ``print(state)`` shows)."""
        f = self.fields()
        conf = _text.confidence_label(self.confidence)
        return (f"{f['kind']} at {f['level']} ({f['unit']}): {f['detected']} of {f['total']} faces detected "
                f"({f['rate']}, {conf} CI {f['rate-ci']}); undamaged {f['baseline-detected']} of "
                f"{f['baseline-total']} ({conf} CI {f['baseline-rate-ci']}): {f['compared']}")

    def html(self) -> str:
        """The state as HTML; every value sits in an element with a ``data-testid`` attribute."""
        el = field_tags(self.fields())
        conf = _text.confidence_label(self.confidence)
        return (
            '<div data-testid="damage-explorer" style="font-family: sans-serif; line-height: 1.6">'
            f"<div><b>{el('kind')}</b> at level {el('level', 'b')} ({el('unit')})</div>"
            f"<div>faces detected: {el('detected', 'b')} of {el('total')} = {el('rate', 'b')} "
            f"({conf} Wilson interval {el('rate-ci')})</div>"
            f"<div>undamaged copies: {el('baseline-detected')} of {el('baseline-total')} "
            f"({conf} interval {el('baseline-rate-ci')})</div>"
            f"<div>compared: {el('compared', 'i')}</div>"
            "</div>"
        )


def damage_levels(rows: Sequence[ConditionCount]) -> dict[str, list[float]]:
    """The kinds of damage in ``rows`` (baseline excluded), each with its levels in table order."""
    out: dict[str, list[float]] = {}
    for r in rows:
        if r.kind != BASELINE_KIND:
            out.setdefault(r.kind, []).append(float(r.level))
    return out


def damage_state(rows: Sequence[ConditionCount], kind: str, level: float, *, confidence: float = 0.95) -> DamageState:
    """What the explorer shows for ``kind`` at ``level``: a pure function of the table rows.

    ``rows`` are ``detection.DetectionRate`` rows as ``detection.detection_table`` returns them
    (anything with ``kind``, ``level``, ``unit``, ``detected`` and ``total``);
    the row of kind ``"none"`` (the undamaged copies), if present, is the baseline.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("No detection results: pass the rows of detection.detection_table(results, conditions).")
    levels = damage_levels(rows)
    if kind not in levels:
        raise ValueError(f"Unknown kind of damage {kind!r}; the table has: {', '.join(levels) or 'none'}.")
    match = [r for r in rows
             if r.kind == kind and math.isclose(float(r.level), float(level), rel_tol=1e-9, abs_tol=1e-12)]
    if not match:
        raise ValueError(f"{kind!r} has no level {level!r}; its levels are: "
                         f"{', '.join(_level_text(v) for v in levels[kind])}.")
    row = match[0]
    base = next((r for r in rows if r.kind == BASELINE_KIND), None)
    return DamageState(kind=row.kind, level=float(row.level), unit=row.unit, detected=int(row.detected),
                       total=int(row.total), confidence=confidence,
                       baseline_detected=None if base is None else int(base.detected),
                       baseline_total=None if base is None else int(base.total))


class DamageExplorer(HeadlessFallback):
    """A drop-down for the kind of damage and a slider for its level, with live counts and intervals.

    Attributes: ``kind`` (an ``ipywidgets.Dropdown``), ``level`` (an ``ipywidgets.SelectionSlider``
    whose options are the kind's levels as text, mildest first), ``panel`` (an ``ipywidgets.HTML``
    whose value is ``self.state().html()``) and ``widget`` (all three in a ``VBox``). The display
    sits in ``div[data-testid=damage-explorer]``; the text of ``[data-testid=K]`` is exactly
    ``damage_state(rows, kind, level).fields()[K]``.
    """

    def __init__(self, rows: Sequence[ConditionCount], kind: str, level: float, confidence: float) -> None:
        import ipywidgets  # optional and heavy: only a live widget needs it

        self._rows = list(rows)
        self._confidence = confidence
        self._levels = damage_levels(self._rows)
        first = damage_state(self._rows, kind, level, confidence=confidence)  # validates kind and level
        self.kind = ipywidgets.Dropdown(options=list(self._levels), value=first.kind, description="damage",
                                        style={"description_width": "initial"})
        self.level = ipywidgets.SelectionSlider(
            options=self._options(first.kind), value=_level_text(first.level), description="level",
            continuous_update=True, style={"description_width": "initial"}, layout=ipywidgets.Layout(width="32em"))
        self.panel = ipywidgets.HTML(value=first.html())
        self.widget = ipywidgets.VBox([self.kind, self.level, self.panel])
        self._switching = False
        self.kind.observe(self._kind_changed, names="value")
        self.level.observe(self._level_changed, names="value")

    def _options(self, kind: str) -> list[str]:
        return [_level_text(v) for v in self._levels[kind]]

    def state(self) -> DamageState:
        """What the explorer shows now (the pure function at the controls' values)."""
        return damage_state(self._rows, self.kind.value, float(self.level.value), confidence=self._confidence)

    def _kind_changed(self, change: dict[str, Any]) -> None:
        self._switching = True  # new options fire a value change for a level the old kind may lack
        try:
            options = self._options(change["new"])
            self.level.options = options
            self.level.value = options[0]
        finally:
            self._switching = False
        self.show_state()

    def _level_changed(self, change: dict[str, Any]) -> None:
        if not self._switching:
            self.show_state()

    def static_text(self) -> str:
        """Shown where widgets cannot be: every kind's levels with k/n detected, then the initial choice."""
        lines = ["Damage explorer (interactive in JupyterLab: choose the damage, move the level). "
                 "Faces detected, k/n, per level (mildest first):"]
        width = max(len(k) for k in self._levels)
        units = {kind: next(r.unit for r in self._rows if r.kind == kind) for kind in self._levels}
        uwidth = max(len(u) for u in units.values()) + 2
        for kind, levels in self._levels.items():
            cells = []
            for v in levels:
                s = damage_state(self._rows, kind, v, confidence=self._confidence)
                cells.append(f"{_level_text(v)}: {s.detected}/{s.total}")
            lines.append(f"  {kind:<{width}}  {'(' + units[kind] + ')':<{uwidth}}  " + ", ".join(cells))
        lines += ["", "Shown first: " + str(self.state())]
        return "\n".join(lines)


def damage_explorer(rows: Sequence[ConditionCount], *, kind: str | None = None, level: float | None = None,
                    confidence: float = 0.95) -> DamageExplorer:
    """The damage explorer on ``rows`` (from ``detection.detection_table``), starting at ``kind``/``level``.

    By default it starts at the first kind of damage in the table, at its mildest level. Display
    the returned object (make it the last expression of a cell).
    """
    levels = damage_levels(rows)
    if not levels:
        raise ValueError("The table has no damaged conditions: pass detection.detection_table(results, conditions).")
    kind = next(iter(levels)) if kind is None else kind
    if kind not in levels:
        raise ValueError(f"Unknown kind of damage {kind!r}; the table has: {', '.join(levels)}.")
    level = levels[kind][0] if level is None else level
    return DamageExplorer(rows, kind, level, confidence)
