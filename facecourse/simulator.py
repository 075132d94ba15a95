"""The deployment simulator of lesson 07: sliders in, expected leads and errors out.

The simulator asks what a face search deployment produces, per day and per year: true leads,
false leads, searches that throw up at least one false lead, enrolled people it misses, and the
share of leads that are true (PPV). The arithmetic is :func:`facecourse.deployment.simulate_deployment`;
this module only wires settings to it, and takes the error rates from real measurements.

Where the rates come from
-------------------------
:meth:`MeasuredRates.from_faceprints` measures them on faceprints the caller has computed; lesson
07 passes the course's consenting photos, set up exactly as lesson 04 sets up a search: the 102
**neutral** London Set faceprints are the gallery (one per person), the **smiling** photos are the
probes (``faceprints.encode_set("london_neutral")`` and ``("london_smiling")``). This module
loads nothing itself: it only computes with the numbers it is given.

* **FMR** at a threshold: the share of *non-mated* probe-vs-gallery comparisons (a smiling photo
  of one person against the neutral photo of another) at or below it, with its count and Wilson
  95 % interval (:func:`facecourse.metrics.error_rate_curves`).
* **FNIR** at a threshold: the share of *mated* searches (the probe's person is enrolled) whose
  mate is not returned within the threshold, the candidate list holding every gallery entry
  (:func:`facecourse.search.fnir`, rank R = gallery size: a pure threshold, which is what
  :mod:`facecourse.deployment` assumes).

With n non-mated comparisons and none below a threshold, the FMR there is not 0: it is only
known to be below about 3/n. The simulator refuses such a threshold rather than feed 0 into
the formulas; pass ``fmr=...`` to *assume* a rate instead (and say where it comes from).

One function decides what is shown
----------------------------------
:func:`simulator_state` is a pure function of the settings (and of the measured rates). Its
result's :meth:`SimulatorState.fields` gives the exact text of every displayed value;
:meth:`~SimulatorState.text` and :meth:`~SimulatorState.html` lay the same strings out. The
widget, the static text shown where no widget can run (nbval, nbconvert, a terminal), the unit
tests and a browser test all go through it, so they cannot disagree.

**Markup a test can read.** The widget's panel (``DeploymentSimulator.panel``, an
``ipywidgets.HTML``) holds ``SimulatorState.html()``: a ``div[data-testid="deployment-simulator"]``
whose ``data-settings`` attribute is the JSON of the settings it was computed from (the keyword
arguments of :func:`simulator_state`), and inside it one element per value,
``[data-testid=K]`` for every K in :data:`FIELD_IDS` (e.g. ``false-leads-per-day``,
``false-leads-per-year``, ``true-leads-per-day``, ``ppv``). The text content of each is exactly
``simulator_state(**json.loads(data_settings)).fields()[K]``. If the settings are invalid the
panel holds ``[data-testid="simulator-error"]`` with the reason instead.

>>> m = MeasuredRates.from_scores(nonmated=[0.3, 0.5, 0.7, 0.9], mate_distances=[0.2, 0.4])
>>> s = simulator_state(gallery_size=1000, threshold=0.6, searches_per_day=10, prevalence=0.5,
...                     measured=m)
>>> s.fields()["fmr"], s.fields()["false-leads-per-day"]   # FMR 2/4; 5*0.5*999 + 5*0.5*1000
('0.5', '4,998')
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from . import _text, deployment, metrics, search
from .widgets import HeadlessFallback, WidgetState, data_settings, field_tags

__all__ = [
    "DEFAULT_SETTINGS",
    "FIELD_IDS",
    "SCENARIOS",
    "DeploymentSimulator",
    "MeasuredRates",
    "Scenario",
    "SimulatorState",
    "deployment_simulator",
    "simulator_state",
]

#: Largest gallery the slider offers: about 3 billion, the number of photos Clearview claimed in
#: January 2020 (the article). A dated claim, not its current size: it claimed more than 10 billion by
#: 2022 (Garante press release, 2022-03-09).
MAX_GALLERY = 3_000_000_000

#: Settings the simulator starts from (the keyword arguments of :func:`simulator_state`). The
#: reviewer rates are *assumptions*, used only when ``human_review`` is switched on.
DEFAULT_SETTINGS: dict[str, Any] = dict(
    gallery_size=1_000_000,
    threshold=metrics.DEFAULT_THRESHOLD,
    searches_per_day=1_000,
    prevalence=0.1,
    human_review=False,
    reviewer_false_accept=0.1,
    reviewer_false_reject=0.05,
    fmr=None,
    fnir=None,
)

#: The ``data-testid`` of every displayed value, in display order (see the module docstring).
FIELD_IDS = (
    "mode",
    "gallery-size",
    "threshold",
    "fmr",
    "fmr-basis",
    "fnir",
    "fnir-basis",
    "searches-per-day",
    "prevalence",
    "enrolled-searches-per-day",
    "human-review",
    "reviewer-false-accept",
    "reviewer-false-reject",
    "true-leads-per-day",
    "true-leads-per-year",
    "false-leads-per-day",
    "false-leads-per-year",
    "false-leads-per-day-range",
    "searches-with-false-lead-per-day",
    "searches-with-false-lead-per-year",
    "false-lead-probability-per-search",
    "missed-per-day",
    "missed-per-day-range",
    "ppv",
)

_SETTING_NAMES = tuple(DEFAULT_SETTINGS)
_SINGLE = ("false-lead-probability-per-search", "ppv")  # shown without "per day"


@dataclass(frozen=True)
class Scenario:
    """A named deployment for students to judge: its settings and what they assume."""

    key: str
    title: str
    settings: Mapping[str, Any]
    assumptions: str


#: The three deployments of lesson 07. Every setting is an *assumption about the deployment*,
#: not a measurement; the error rates come from the :class:`MeasuredRates` at the threshold.
SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario(
            "a", "(a) police search of a scraped web gallery (Clearview-style)",
            dict(gallery_size=MAX_GALLERY, threshold=0.5, searches_per_day=30, prevalence=0.5,
                 human_review=True, reviewer_false_accept=0.1, reviewer_false_reject=0.05),
            "one force's investigators run 30 searches a day against 3 billion scraped faces (the size "
            "Clearview claimed in January 2020; its later claims were larger); half of "
            "the people they search for have a photo in the gallery; an officer reviews every candidate, "
            "wrongly confirming 1 false candidate in 10 and wrongly rejecting 1 true one in 20",
        ),
        Scenario(
            "b", "(b) live scanning of every stadium entrant against a police watch-list",
            dict(gallery_size=1_000, threshold=0.5, searches_per_day=50_000, prevalence=0.0001,
                 human_review=True, reviewer_false_accept=0.1, reviewer_false_reject=0.05),
            "a watch-list of 1,000 people; 50,000 entrants on a match day, 1 in 10,000 of them on the "
            "list; an officer checks every alert with the same error rates as in (a)",
        ),
        Scenario(
            "c", "(c) a bank checks a customer's selfie against their own ID photo (1:1)",
            dict(gallery_size=1, threshold=0.5, searches_per_day=10_000, prevalence=0.999,
                 human_review=False),
            "10,000 log-ins or account openings a day, each compared with one photo (the claimed "
            "identity's); 999 in 1,000 attempts are by the genuine customer, 1 in 1,000 by an impostor; "
            "no human in the loop",
        ),
    )
}


# ---------------------------------------------------------------------------------------------
# Measured rates
# ---------------------------------------------------------------------------------------------


class Faceprints(Protocol):
    """Faceprints of a set of photos, one row per photo where a face was found, and whose they are
    (e.g. a ``faceprints.EncodingSet``)."""

    @property
    def embeddings(self) -> np.ndarray: ...

    @property
    def person_ids(self) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class MeasuredRates:
    """The measured error rates the simulator reads at a threshold.

    ``curves`` holds the FMR (and FNMR) of single probe-vs-gallery comparisons at every
    threshold and ``nonmated`` the sorted non-mated distances behind it; ``search_distances`` /
    ``search_ids`` are the candidate lists of the mated searches (every gallery entry, nearest
    first) and ``true_ids`` the probe's subject in each.
    """

    curves: metrics.ErrorCurves
    nonmated: np.ndarray
    search_distances: np.ndarray
    search_ids: np.ndarray
    true_ids: np.ndarray
    description: str

    @classmethod
    def from_scores(cls, nonmated: ArrayLike, mate_distances: ArrayLike,
                    description: str = "hand-made scores") -> MeasuredRates:
        """Rates from plain lists: non-mated comparison distances, and the distance of the mate
        in each mated search (``inf`` when the mate is not returned at all).

        >>> m = MeasuredRates.from_scores([0.3, 0.5, 0.7, 0.9], [0.2, 0.4, float("inf")])
        >>> m.fmr_at(0.6).count, m.fnir_at(0.3).count   # 0.3 and 0.5; 0.4 and inf missed
        (2, 2)
        """
        nm = np.asarray(nonmated, dtype=np.float64)
        mates = np.asarray(mate_distances, dtype=np.float64)
        if nm.ndim != 1 or nm.size == 0 or not np.all(np.isfinite(nm)):
            raise ValueError("nonmated must be a non-empty 1-D list of finite distances.")
        if mates.ndim != 1 or mates.size == 0 or np.any(np.isnan(mates)) or np.any(mates < 0):
            raise ValueError("mate_distances must be a non-empty 1-D list of distances >= 0 "
                             "(inf for a mate that is not returned).")
        finite = mates[np.isfinite(mates)]
        # (the curves' FNMR is not used: FNIR comes from the search arrays below)
        curves = metrics.error_rate_curves(finite if finite.size else [np.finfo(np.float64).max], nm)
        ids = np.where(np.isfinite(mates), 0, search.MISSING_ID)[:, None]
        return cls(curves, np.sort(nm), mates[:, None], ids, np.zeros(mates.size, dtype=np.int64), description)

    @classmethod
    def from_faceprints(cls, gallery: Faceprints, probes: Faceprints, *, source: str = "London Set",
                        gallery_label: str = "neutral", probe_label: str = "smiling") -> MeasuredRates:
        """FMR and FNIR measured on a search: ``gallery`` enrolled, every photo of ``probes`` searched.

        Non-mated comparisons are every probe against every gallery entry of another person
        (:func:`facecourse.metrics.cross_comparisons`); each probe whose person is enrolled is a
        mated search over the whole gallery (:class:`facecourse.search.BruteForceIndex`). The
        labels only word the ``description``; the defaults describe lesson 07's set-up, which
        passes ``faceprints.encode_set("london_neutral")`` and ``faceprints.encode_set("london_smiling")``.

        >>> from types import SimpleNamespace as Set
        >>> g = Set(embeddings=np.array([[0.0], [1.0]]), person_ids=np.array(["a", "b"]))
        >>> p = Set(embeddings=np.array([[0.1], [0.8]]), person_ids=np.array(["a", "b"]))
        >>> m = MeasuredRates.from_faceprints(g, p, source="toy", gallery_label="two", probe_label="near")
        >>> m.nonmated.round(1).tolist(), m.fnir_at(0.15).count
        ([0.8, 0.9], 1)
        >>> m.description.split(": ")[1]
        '2 non-mated comparisons for the FMR, 2 mated searches for the FNIR'
        """
        g_emb, p_emb = np.asarray(gallery.embeddings, dtype=np.float64), np.asarray(probes.embeddings, dtype=np.float64)
        g_names, p_names = np.asarray(gallery.person_ids), np.asarray(probes.person_ids)
        if len(g_names) < 2 or len(p_names) < 1:
            raise ValueError(f"Not enough {source} faceprints to measure error rates: run "
                             "`python -m facecourse fetch` and check for failures to acquire.")
        _names, codes = np.unique(np.concatenate([g_names, p_names]), return_inverse=True)
        g_ids, p_ids = codes[: len(g_names)], codes[len(g_names):]

        scores = metrics.cross_comparisons(p_emb, p_names, g_emb, g_names)
        curves = metrics.error_rate_curves(scores.mated, scores.nonmated)

        index = search.BruteForceIndex(dim=g_emb.shape[1], dtype=np.float64)
        index.add(g_emb, ids=g_ids)
        enrolled = np.isin(p_ids, g_ids)  # mated searches: the probe's person is in the gallery
        result = index.search(p_emb[enrolled], k=len(index))
        description = (f"{source}, {len(index)} {gallery_label} faceprints as the gallery and "
                       f"{int(enrolled.sum())} {probe_label} probes of enrolled people: "
                       f"{curves.nonmated_count:,} non-mated comparisons for the FMR, "
                       f"{int(enrolled.sum())} mated searches for the FNIR")
        return cls(curves, np.sort(scores.nonmated), result.distances, result.ids, p_ids[enrolled], description)

    @property
    def nonmated_count(self) -> int:
        """How many non-mated comparisons the FMR is measured on."""
        return self.curves.nonmated_count

    @property
    def mated_searches(self) -> int:
        """How many mated searches the FNIR is measured on."""
        return len(self.true_ids)

    @property
    def smallest_nonmated(self) -> float:
        """The smallest non-mated distance: below it no false match was measured at all."""
        return float(self.nonmated[0])

    def fmr_at(self, threshold: float) -> metrics.Rate:
        """FMR of single probe-vs-gallery comparisons at ``threshold``: false matches of all non-mated."""
        return self.curves.at(threshold).false_match

    def fnir_at(self, threshold: float) -> metrics.Rate:
        """FNIR(T, R = every candidate) of the mated searches at ``threshold``."""
        return search.fnir(self.search_distances, self.search_ids, self.true_ids, threshold,
                           rank=self.search_distances.shape[1])

    def __repr__(self) -> str:
        return f"MeasuredRates({self.description})"


# ---------------------------------------------------------------------------------------------
# The state: one pure function of the settings
# ---------------------------------------------------------------------------------------------


def _count(x: float) -> str:
    """An expected count, readable: 12,345 / 123 / 12.3 / 1.23 / 0.0123 / 1.2e-06; nan -> 'undefined'."""
    if not math.isfinite(x):
        return "undefined"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:.3g}"


def _prob(x: float) -> str:
    """A probability as a plain number with 3 significant digits (0.00833, 9.71e-05)."""
    return "undefined" if not math.isfinite(x) else ("0" if x == 0 else f"{x:.3g}")


def _ci(rate: metrics.Rate) -> str:
    """A measured rate's interval in the simulator's words: "95% CI 0.000158 to 0.000462"."""
    lo, hi = rate.ci
    return f"{_text.confidence_label(rate.confidence)} CI {_prob(lo)} to {_prob(hi)}"


def _percent(x: float) -> str:
    if not math.isfinite(x):
        return "undefined (no leads)"
    if x == 0:
        return "0%"
    return f"{100 * x:.6g}%" if x > 0.999 else f"{100 * x:.3g}%"  # 99.9992%, not a rounded 100%


@dataclass(frozen=True, eq=False)
class SimulatorState(WidgetState):
    """Everything the simulator shows for one set of settings (build it with :func:`simulator_state`).

    ``outcome`` is the point estimate from :func:`facecourse.deployment.simulate_deployment`;
    ``false_leads_range`` and ``missed_range`` redo it at the ends of the 95 % intervals of the
    measured FMR and FNIR (``None`` for an assumed rate).
    """

    settings: dict[str, Any]
    outcome: deployment.DeploymentOutcome
    fmr_measured: metrics.Rate | None
    fnir_measured: metrics.Rate | None
    false_leads_range: tuple[float, float] | None
    missed_range: tuple[float, float] | None
    missed_per_day: float
    false_lead_probability: float

    @property
    def one_to_one(self) -> bool:
        """True for verification against a single enrolled photo (gallery size 1)."""
        return self.settings["gallery_size"] == 1

    def fields(self) -> dict[str, str]:
        """The exact text of every displayed value, keyed by its ``data-testid`` (see FIELD_IDS)."""
        o, s = self.outcome, self.settings
        if self.fmr_measured is not None:
            r = self.fmr_measured
            fmr_basis = (f"measured: {_text.count(r.count, r.total)} non-mated comparisons at threshold "
                         f"{s['threshold']:.3f} ({_ci(r)})")
        else:
            fmr_basis = "assumed (not measured here)"
        if self.fnir_measured is not None:
            e = self.fnir_measured
            fnir_basis = (f"measured: {e.count:,} of {e.total:,} mated searches missed at threshold "
                          f"{s['threshold']:.3f} ({_ci(e)})")
        else:
            fnir_basis = "assumed (not measured here)"
        uses_threshold = self.fmr_measured is not None or self.fnir_measured is not None
        review = bool(s["human_review"])

        def rng(pair: tuple[float, float] | None) -> str:
            return "n/a (rate assumed)" if pair is None else f"{_count(pair[0])} to {_count(pair[1])}"

        # One deployment, so every DeploymentOutcome field is a number here (float() for the type checker).
        out = {
            "mode": "1:1 verification" if self.one_to_one else "1:N search",
            "gallery-size": f"{s['gallery_size']:,}",
            "threshold": f"{s['threshold']:.3f}" if uses_threshold else "not used (rates assumed)",
            "fmr": _prob(float(o.fmr)),
            "fmr-basis": fmr_basis,
            "fnir": _prob(float(o.fnir)),
            "fnir-basis": fnir_basis,
            "searches-per-day": _count(float(o.searches_per_day)),
            "prevalence": _prob(float(o.prevalence)),
            "enrolled-searches-per-day": _count(float(o.searches_per_day * o.prevalence)),
            "human-review": "yes" if review else "no",
            "reviewer-false-accept": _prob(float(o.reviewer_false_accept)) if review else "n/a",
            "reviewer-false-reject": _prob(float(o.reviewer_false_reject)) if review else "n/a",
            "true-leads-per-day": _count(float(o.true_leads_per_day)),
            "true-leads-per-year": _count(float(o.true_leads_per_year)),
            "false-leads-per-day": _count(float(o.false_candidates_per_day)),
            "false-leads-per-year": _count(float(o.false_candidates_per_year)),
            "false-leads-per-day-range": rng(self.false_leads_range),
            "searches-with-false-lead-per-day": _count(float(o.searches_with_false_lead_per_day)),
            "searches-with-false-lead-per-year": _count(float(o.searches_with_false_lead_per_year)),
            "false-lead-probability-per-search": _prob(self.false_lead_probability),
            "missed-per-day": _count(self.missed_per_day),
            "missed-per-day-range": rng(self.missed_range),
            "ppv": _percent(float(o.ppv)),
        }
        return {k: out[k] for k in FIELD_IDS}

    def _labels(self) -> dict[str, str]:
        if self.one_to_one:
            return {
                "true-leads-per-day": "Genuine attempts accepted",
                "false-leads-per-day": "Impostors accepted",
                "searches-with-false-lead-per-day": "Attempts ending in a false accept",
                "missed-per-day": "Genuine customers wrongly refused",
                "false-lead-probability-per-search": "Chance an impostor attempt is accepted",
                "ppv": "Share of acceptances that are genuine",
                "enrolled-searches-per-day": "Genuine attempts",
            }
        return {
            "true-leads-per-day": "True leads",
            "false-leads-per-day": "False leads (false candidates passed on)",
            "searches-with-false-lead-per-day": "Searches with at least one false lead",
            "missed-per-day": "Enrolled people searched for but missed",
            "false-lead-probability-per-search": "Chance a search for someone not enrolled gives a false lead",
            "ppv": "Share of leads that are true (PPV)",
            "enrolled-searches-per-day": "Searches for enrolled people",
        }

    def text(self) -> str:
        """The state as plain text (what ``print(state)`` shows)."""
        f, lab = self.fields(), self._labels()
        review = (f"yes (confirms a false candidate with probability {f['reviewer-false-accept']}, "
                  f"rejects a true one with probability {f['reviewer-false-reject']}; assumed)"
                  if self.settings["human_review"] else "no (every candidate is passed on)")
        def line(key: str, per_year: str | None = None, note: str = "") -> str:
            value = f"{f[key]} per day" if key not in _SINGLE else f[key]
            year = f", {f[per_year]} per year" if per_year else ""
            return f"  {lab[key] + ':':<62}{value}{year}{note}"

        lines = [
            f"{f['mode']}: gallery of {f['gallery-size']}; {f['searches-per-day']} searches/day, "
            f"share enrolled {f['prevalence']} ({f['enrolled-searches-per-day']}/day); threshold {f['threshold']}",
            f"  FMR  {f['fmr']:<10} {f['fmr-basis']}",
            f"  FNIR {f['fnir']:<10} {f['fnir-basis']}",
            f"  human review: {review}",
            line("true-leads-per-day", "true-leads-per-year"),
            line("false-leads-per-day", "false-leads-per-year",
                 f" (FMR 95% CI: {f['false-leads-per-day-range']} per day)"),
            line("searches-with-false-lead-per-day", "searches-with-false-lead-per-year"),
            line("missed-per-day", None, f" (FNIR 95% CI: {f['missed-per-day-range']} per day)"),
            line("false-lead-probability-per-search"),
            line("ppv"),
        ]
        return "\n".join(lines)

    def html(self) -> str:
        """The state as HTML: each value in an element with its ``data-testid`` (module docstring)."""
        el, lab = field_tags(self.fields()), self._labels()

        def row(key: str, per_year: str | None = None, note: str = "") -> str:
            year = f"<td>{el(per_year)} per year</td>" if per_year else "<td></td>"
            return (f"<tr><th style='text-align:left'>{html.escape(lab[key])}</th>"
                    f"<td style='text-align:right'>{el(key, 'b')} per day</td>{year}<td>{note}</td></tr>")

        review = (f"{el('human-review')}; the reviewer confirms a false candidate with probability "
                  f"{el('reviewer-false-accept')} and rejects a true one with probability "
                  f"{el('reviewer-false-reject')} (assumed, not measured)")
        return (
            f'<div class="facecourse-deployment-simulator" data-testid="deployment-simulator" '
            f'{data_settings(self.settings)}>'
            f"<p>{el('mode', 'b')}: gallery of {el('gallery-size')} faceprints; {el('searches-per-day')} "
            f"searches a day, share of searched people enrolled {el('prevalence')} "
            f"({el('enrolled-searches-per-day')} a day); threshold {el('threshold')}.</p>"
            f"<p>FMR {el('fmr', 'b')} &mdash; {el('fmr-basis')}<br>"
            f"FNIR {el('fnir', 'b')} &mdash; {el('fnir-basis')}<br>"
            f"Human review: {review}</p>"
            '<table style="border-collapse: collapse">'
            + row("true-leads-per-day", "true-leads-per-year")
            + row("false-leads-per-day", "false-leads-per-year",
                  f"FMR 95% CI: {el('false-leads-per-day-range')} per day")
            + row("searches-with-false-lead-per-day", "searches-with-false-lead-per-year")
            + row("missed-per-day", None, f"FNIR 95% CI: {el('missed-per-day-range')} per day")
            + f"<tr><th style='text-align:left'>{html.escape(lab['false-lead-probability-per-search'])}</th>"
            f"<td style='text-align:right'>{el('false-lead-probability-per-search', 'b')}</td><td></td><td></td></tr>"
            + f"<tr><th style='text-align:left'>{html.escape(lab['ppv'])}</th>"
            f"<td style='text-align:right'>{el('ppv', 'b')}</td><td></td><td></td></tr>"
            "</table><p><small>Expected values under the assumptions of facecourse.deployment "
            "(independent comparisons, one FMR for everyone, every day alike). Rates measured on "
            "studio photos of 102 consenting adults; a real deployment's photos are harder.</small></p></div>"
        )


def _normalise(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Check the settings and put them in the form the state records (JSON-able)."""
    unknown = sorted(set(settings) - set(_SETTING_NAMES))
    if unknown:
        raise TypeError(f"unknown simulator setting(s) {unknown}; the settings are {list(_SETTING_NAMES)}")
    s = {**DEFAULT_SETTINGS, **settings}
    g = float(s["gallery_size"])
    if not math.isfinite(g) or g < 0.5:
        raise ValueError(f"gallery_size must be at least 1 (one enrolled faceprint), got {s['gallery_size']!r}")
    out: dict[str, Any] = {"gallery_size": round(g)}  # round() of a float is an int
    for name in ("threshold", "searches_per_day", "prevalence", "reviewer_false_accept", "reviewer_false_reject"):
        value = float(s[name])
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {s[name]!r}")
        out[name] = value
    if out["searches_per_day"] < 0:
        raise ValueError(f"searches_per_day must be 0 or more, got {out['searches_per_day']!r}")
    out["human_review"] = bool(s["human_review"])
    for name in ("fmr", "fnir"):
        out[name] = None if s[name] is None else float(s[name])
    return out


def simulator_state(*, measured: MeasuredRates | None = None, **settings: Any) -> SimulatorState:
    """What the simulator shows for ``settings`` (any of :data:`DEFAULT_SETTINGS`' keys).

    The settings map onto :func:`facecourse.deployment.simulate_deployment` like this:

    * ``gallery_size`` -> ``gallery_size``, rounded to a whole number of faceprints (>= 1; 1 is a
      1:1 verification: the probe is compared with the one photo of the claimed identity);
    * ``fmr`` -> ``fmr`` if given (an *assumed* rate), else the FMR measured at ``threshold``;
    * ``fnir`` -> ``fnir`` if given (assumed), else the FNIR measured at ``threshold``;
    * ``searches_per_day``, ``prevalence``, ``human_review``, ``reviewer_false_accept``,
      ``reviewer_false_reject`` -> the same arguments, unchanged.

    ``measured`` is needed unless both rates are assumed. A threshold where the data show no false
    match at all is refused (the FMR there is unknown, not 0); so is a rate outside [0, 1].
    Besides the outcome the state holds the enrolled people missed per day
    (``searches_per_day * prevalence - true leads``), the chance that a search for someone not
    enrolled returns a false lead (``1 - (1 - a FMR)^N``), and the false leads and misses at the
    ends of the measured rates' 95 % intervals.
    """
    s = _normalise(settings)
    t = s["threshold"]
    fmr_measured = fnir_measured = None
    if (s["fmr"] is None or s["fnir"] is None) and measured is None:
        raise TypeError("simulator_state needs measured=MeasuredRates(...) unless both fmr and fnir are assumed "
                        "(e.g. MeasuredRates.from_faceprints(gallery, probes)).")
    if s["fmr"] is None:
        assert measured is not None
        fmr_measured = measured.fmr_at(t)
        if fmr_measured.count == 0:
            raise ValueError(
                f"At threshold {t:.3f} the measured data show no false match (0 of "
                f"{fmr_measured.total:,} non-mated comparisons), so the FMR there is only known to "
                f"be below about {3 / fmr_measured.total:.1g}, not 0. Use a threshold of at least "
                f"{measured.smallest_nonmated:.4f}, or pass fmr=... to assume a rate (and say where it comes from).")
        fmr = fmr_measured.value
    else:
        fmr = s["fmr"]
    if s["fnir"] is None:
        assert measured is not None
        fnir_measured = measured.fnir_at(t)
        fnir = fnir_measured.value
    else:
        fnir = s["fnir"]

    common = dict(gallery_size=s["gallery_size"], searches_per_day=s["searches_per_day"],
                  prevalence=s["prevalence"], human_review=s["human_review"],
                  reviewer_false_accept=s["reviewer_false_accept"],
                  reviewer_false_reject=s["reviewer_false_reject"])
    outcome = deployment.simulate_deployment(fmr=fmr, fnir=fnir, **common)
    enrolled = s["searches_per_day"] * s["prevalence"]
    missed = max(0.0, enrolled - float(outcome.true_leads_per_day))
    accept = s["reviewer_false_accept"] if s["human_review"] else 1.0
    p_false = float(deployment.probability_of_false_candidate(accept * fmr, s["gallery_size"]))

    false_range = missed_range = None
    if fmr_measured is not None:
        ends = deployment.simulate_deployment(fmr=np.asarray(fmr_measured.ci), fnir=fnir, **common)
        lo, hi = np.asarray(ends.false_candidates_per_day, dtype=float)
        false_range = (float(lo), float(hi))
    if fnir_measured is not None:
        ends = deployment.simulate_deployment(fmr=fmr, fnir=np.asarray(fnir_measured.ci),
                                          **common)
        lo, hi = enrolled - np.asarray(ends.true_leads_per_day, dtype=float)  # high FNIR -> more missed
        missed_range = (max(0.0, float(lo)), max(0.0, float(hi)))
    return SimulatorState(s, outcome, fmr_measured, fnir_measured, false_range, missed_range, missed, p_false)


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------


class DeploymentSimulator(HeadlessFallback):
    """Sliders for every setting and a live panel; build it with :func:`deployment_simulator`.

    Controls (``ipywidgets``; set their ``.value`` from Python and the panel follows):
    ``scenario`` (Dropdown: loads a preset), ``gallery_size`` (FloatLogSlider, 1 to 3x10^9),
    ``rates`` (ToggleButtons: ``"measured"`` at the threshold or ``"assumed"``), ``threshold``
    (FloatSlider), ``fmr`` (FloatLogSlider) and ``fnir`` (FloatSlider) for assumed rates,
    ``searches_per_day`` (FloatLogSlider), ``prevalence`` (FloatLogSlider), ``human_review``
    (Checkbox), ``reviewer_false_accept`` and ``reviewer_false_reject`` (FloatSlider).
    ``panel`` is the ``ipywidgets.HTML`` showing ``self.state().html()``; ``widget`` is the whole
    box. :meth:`settings` gives the current settings as keyword arguments of
    :func:`simulator_state`. See the module docstring for the ``data-testid`` markup.

    **Without a widget frontend** (nbval, nbconvert, a terminal) the notebook shows
    :meth:`static_text`: the outcome at the default settings and for :data:`SCENARIOS`. It holds
    no widget model id, so it is the same on every run.
    """

    def __init__(self, measured: MeasuredRates, *, initial: Mapping[str, Any] | None = None,
                 threshold_max: float = 0.7, threshold_step: float = 0.005) -> None:
        import ipywidgets as w  # optional and heavy: only a live widget needs it

        self.measured = measured
        init = _normalise(initial or {})
        # The strictest threshold on the slider's grid that still has a measured false match.
        t_min = math.ceil(measured.smallest_nonmated / threshold_step - 1e-9) * threshold_step
        t_min = round(t_min, 6)
        if not t_min < threshold_max:
            raise ValueError(f"threshold_max {threshold_max} must exceed the strictest measurable threshold {t_min}")
        self.threshold_min = t_min
        style = {"description_width": "18em"}  # wide enough for the longest label, never cut
        layout = w.Layout(width="50em")

        def log_slider(desc: str, value: float, lo: float, hi: float, fmt: str, step: float = 0.01) -> Any:
            return w.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step, description=desc,
                                    readout_format=fmt, style=style, layout=layout, continuous_update=True)

        def slider(desc: str, value: float, lo: float, hi: float, step: float, fmt: str) -> Any:
            return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, style=style, layout=layout, continuous_update=True)

        options = [("default settings", "default")] + [(sc.title, key) for key, sc in SCENARIOS.items()]
        self.scenario = w.Dropdown(options=options, value="default", description="load a scenario",
                                   style=style, layout=layout)
        self.gallery_size = log_slider("gallery size (faceprints)", init["gallery_size"], 0.0,
                                       math.log10(MAX_GALLERY), ",.0f")
        self.rates = w.ToggleButtons(options=[("measured at the threshold", "measured"), ("assumed", "assumed")],
                                     value="assumed" if init["fmr"] is not None else "measured",
                                     description="error rates", style={**style, "button_width": "auto"})
        self.threshold = slider("threshold (distance)", min(max(init["threshold"], t_min), threshold_max),
                                t_min, threshold_max, threshold_step, ".3f")
        self.fmr = log_slider("assumed FMR", init["fmr"] if init["fmr"] is not None else 1e-6, -12.0, -1.0,
                              ".1e", step=0.1)
        self.fnir = slider("assumed FNIR", init["fnir"] if init["fnir"] is not None else 0.01,
                           0.0, 0.5, 0.005, ".3f")
        self.searches_per_day = log_slider("searches per day", init["searches_per_day"] or 1.0, 0.0, 7.0, ",.0f")
        self.prevalence = log_slider("share of searched people enrolled", init["prevalence"] or 1e-7, -7.0, 0.0,
                                     ".2e")
        self.human_review = w.Checkbox(value=init["human_review"], description="human review of every candidate",
                                       style=style, layout=w.Layout(width="50em"))
        self.reviewer_false_accept = slider("reviewer false-accept rate", init["reviewer_false_accept"],
                                            0.0, 1.0, 0.01, ".2f")
        self.reviewer_false_reject = slider("reviewer false-reject rate", init["reviewer_false_reject"],
                                            0.0, 1.0, 0.01, ".2f")
        self.panel = w.HTML()
        self._controls = [self.gallery_size, self.rates, self.threshold, self.fmr, self.fnir,
                          self.searches_per_day, self.prevalence, self.human_review,
                          self.reviewer_false_accept, self.reviewer_false_reject]
        self.widget = w.VBox([self.scenario, *self._controls, self.panel])
        self._loading = False
        for control in self._controls:
            control.observe(self._update, names="value")
        self.scenario.observe(self._load_scenario, names="value")
        self._update()

    def settings(self) -> dict[str, Any]:
        """The current control values as keyword arguments of :func:`simulator_state`."""
        assumed = self.rates.value == "assumed"
        return dict(
            gallery_size=self.gallery_size.value,
            threshold=self.threshold.value,
            searches_per_day=self.searches_per_day.value,
            prevalence=self.prevalence.value,
            human_review=self.human_review.value,
            reviewer_false_accept=self.reviewer_false_accept.value,
            reviewer_false_reject=self.reviewer_false_reject.value,
            fmr=self.fmr.value if assumed else None,
            fnir=self.fnir.value if assumed else None,
        )

    def state(self) -> SimulatorState:
        """What the panel shows now: ``simulator_state(**self.settings())`` on the measured rates."""
        return simulator_state(measured=self.measured, **self.settings())

    def load(self, **settings: Any) -> None:
        """Set the controls to ``settings`` (missing ones take DEFAULT_SETTINGS) and update once."""
        s = _normalise(settings)
        self._loading = True
        try:
            self.gallery_size.value = s["gallery_size"]
            self.threshold.value = min(max(s["threshold"], self.threshold.min), self.threshold.max)
            self.rates.value = "assumed" if s["fmr"] is not None else "measured"
            if s["fmr"] is not None:
                self.fmr.value = s["fmr"]
            if s["fnir"] is not None:
                self.fnir.value = s["fnir"]
            self.searches_per_day.value = s["searches_per_day"]
            self.prevalence.value = s["prevalence"]
            self.human_review.value = s["human_review"]
            self.reviewer_false_accept.value = s["reviewer_false_accept"]
            self.reviewer_false_reject.value = s["reviewer_false_reject"]
        finally:
            self._loading = False
        self._update()

    def _load_scenario(self, change: dict[str, Any]) -> None:
        key = change["new"]
        self.load(**(DEFAULT_SETTINGS if key == "default" else SCENARIOS[key].settings))

    def _update(self, change: dict[str, Any] | None = None) -> None:
        if self._loading:
            return
        assumed = self.rates.value == "assumed"
        self.fmr.disabled = self.fnir.disabled = not assumed
        self.threshold.disabled = assumed
        self.reviewer_false_accept.disabled = self.reviewer_false_reject.disabled = not self.human_review.value
        try:
            self.panel.value = self.state().html()
        except ValueError as err:
            self.panel.value = (f'<div class="facecourse-deployment-simulator" data-testid="deployment-simulator">'
                                f'<p data-testid="simulator-error">{html.escape(str(err))}</p></div>')

    def static_text(self) -> str:
        """The text shown where widgets cannot run: the default settings and the three scenarios."""
        parts = [
            "Deployment simulator (interactive in JupyterLab: move the sliders). Without a widget display,",
            "here are its outputs for the default settings and the lesson's three scenarios.",
            f"Error rates measured on: {self.measured.description}.",
            "",
            "Default settings",
            simulator_state(measured=self.measured).text(),
        ]
        for sc in SCENARIOS.values():
            parts += ["", sc.title, textwrap.fill(f"(assumed: {sc.assumptions})", width=100,
                                                  initial_indent="  ", subsequent_indent="   "),
                      simulator_state(measured=self.measured, **sc.settings).text()]
        return "\n".join(parts)



def deployment_simulator(measured: MeasuredRates, *,
                         initial: Mapping[str, Any] | None = None) -> DeploymentSimulator:
    """The deployment simulator widget on ``measured`` rates (:meth:`MeasuredRates.from_faceprints`).

    Make it the last expression of a cell to display it. ``initial`` overrides
    :data:`DEFAULT_SETTINGS` for the starting position of the controls.

    >>> sim = deployment_simulator(MeasuredRates.from_scores([0.3, 0.5, 0.7, 0.9], [0.2, 0.4]))
    >>> sim.gallery_size.value = 10
    >>> 'data-testid="gallery-size">10<' in sim.panel.value
    True
    """
    return DeploymentSimulator(measured, initial=initial)
