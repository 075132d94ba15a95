"""Deployment simulator of the policy lab: what a 1:N face search system produces per day.

Pure, hand-checkable formulas.  Inputs, in the field's words:

* ``gallery_size`` N - enrolled faceprints (one per person assumed);
* ``fmr`` - false match rate of *one* non-mated comparison at the chosen threshold
  (from a measured FMR curve: :func:`fmr_at_threshold`);
* ``fnir`` - false negative identification rate of enrolled (mated) searches at that
  threshold (true-match rate TMR = 1 - FNIR);
* ``searches_per_day`` S and ``prevalence`` p - share of searched people who are
  actually enrolled;
* ``human_review`` with the reviewer's false-accept rate (probability of confirming a
  false candidate) and false-reject rate (probability of rejecting the true one).

Formulas (E = S p enrolled searches/day, U = S (1 - p) non-enrolled searches/day;
a = reviewer false-accept rate and r = reviewer false-reject rate with review, else
a = 1 and r = 0)::

    true leads/day              = E (1 - FNIR) (1 - r)
    false candidates/day        = [E FMR (N - 1) + U FMR N] a
    searches with false lead/day = E P(N - 1) + U P(N),  P(M) = 1 - (1 - a FMR)^M
    per year                    = per day * 365
    PPV (share of leads true)   = true leads / (true leads + false candidates)

Assumptions - state them with any number the simulator gives:

* comparisons are independent, each non-mated one a false match with the same
  probability FMR (real false matches cluster on look-alikes, relatives and
  low-quality images, and FMR differs across demographic groups);
* FMR and FNIR are those measured on data like the deployment's, at the same
  threshold; FNIR does not depend on N (true for a pure threshold; with a fixed-length
  candidate list the mate can be pushed out of the list as N grows);
* a mated search has N - 1 non-mated comparisons, a non-mated search N;
* with review, each candidate is judged on its own: a false one is confirmed with
  probability a, the true one rejected with probability r, independently - so a
  confirmed false lead per comparison has probability ``a * FMR``;
* every search is of a different person, and every day is alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .search import probability_of_false_candidate

__all__ = ["DeploymentOutcome", "simulate_deployment", "fmr_at_threshold", "summarise"]

DAYS_PER_YEAR = 365

Number = float | NDArray[np.float64]


def _out(x: Any) -> Number:
    arr = np.asarray(x, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


@dataclass(frozen=True, eq=False)
class DeploymentOutcome:
    """Expected yield of a deployment (inputs repeated for reporting).

    All outputs are expectations (averages over many days), floats - or arrays when an
    input was an array (e.g. a sweep over gallery sizes).
    """

    gallery_size: Number
    fmr: Number
    fnir: Number
    searches_per_day: Number
    prevalence: Number
    human_review: bool
    reviewer_false_accept: Number
    reviewer_false_reject: Number
    true_leads_per_day: Number
    false_candidates_per_day: Number
    searches_with_false_lead_per_day: Number
    true_leads_per_year: Number
    false_candidates_per_year: Number
    searches_with_false_lead_per_year: Number
    ppv: Number

    def as_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (e.g. to build a table)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_prob(name: str, value: NDArray[np.float64]) -> None:
    if np.any((value < 0) | (value > 1)) or not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}.")


def simulate_deployment(
    *,
    gallery_size: ArrayLike,
    fmr: ArrayLike,
    fnir: ArrayLike,
    searches_per_day: ArrayLike,
    prevalence: ArrayLike,
    human_review: bool = False,
    reviewer_false_accept: ArrayLike = 0.0,
    reviewer_false_reject: ArrayLike = 0.0,
    days_per_year: int = DAYS_PER_YEAR,
) -> DeploymentOutcome:
    """Expected true leads, false leads and PPV of a 1:N search deployment per day and year.

    See the module docstring for every formula and assumption.  Without
    ``human_review`` the reviewer rates are ignored (every candidate becomes a lead).
    Inputs broadcast, so one call can sweep a parameter.

    Example (hand-checked): N = 10^6, FMR = 10^-5, 1,000 searches/day, 10% enrolled,
    FNIR = 0.05, no review: true leads = 1000 * 0.1 * 0.95 = 95/day, and false
    candidates = 100 * 10^-5 * 999,999 + 900 * 10^-5 * 10^6 = 999.999 + 9,000/day,
    PPV = 95 / (95 + 9,999.999) = 0.00941.

    >>> o = simulate_deployment(gallery_size=1_000_000, fmr=1e-5, fnir=0.05,
    ...                         searches_per_day=1000, prevalence=0.1)
    >>> round(o.true_leads_per_day, 6), round(o.false_candidates_per_day, 6), round(o.ppv, 5)
    (95.0, 9999.999, 0.00941)
    """
    n = np.asarray(gallery_size, dtype=np.float64)
    p_fm = np.asarray(fmr, dtype=np.float64)
    p_fn = np.asarray(fnir, dtype=np.float64)
    s = np.asarray(searches_per_day, dtype=np.float64)
    prev = np.asarray(prevalence, dtype=np.float64)
    fa = np.asarray(reviewer_false_accept, dtype=np.float64)
    fr = np.asarray(reviewer_false_reject, dtype=np.float64)
    if np.any(n < 1) or np.any(s < 0):
        raise ValueError("gallery_size must be >= 1 and searches_per_day >= 0.")
    for name, value in [
        ("fmr", p_fm),
        ("fnir", p_fn),
        ("prevalence", prev),
        ("reviewer_false_accept", fa),
        ("reviewer_false_reject", fr),
    ]:
        _check_prob(name, value)

    accept = fa if human_review else np.float64(1.0)  # a: a false candidate becomes a lead
    reject = fr if human_review else np.float64(0.0)  # r: the true candidate is dropped
    enrolled = s * prev  # E: mated searches per day
    not_enrolled = s * (1.0 - prev)  # U: non-mated searches per day

    true_leads = enrolled * (1.0 - p_fn) * (1.0 - reject)
    lead_fmr = accept * p_fm  # probability that one non-mated comparison ends as a lead
    false_candidates = enrolled * lead_fmr * (n - 1) + not_enrolled * lead_fmr * n
    searches_false = enrolled * np.asarray(
        probability_of_false_candidate(lead_fmr, n - 1)
    ) + not_enrolled * np.asarray(probability_of_false_candidate(lead_fmr, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        ppv = true_leads / (true_leads + false_candidates)  # 0/0 -> nan: no leads at all

    return DeploymentOutcome(
        gallery_size=_out(n),
        fmr=_out(p_fm),
        fnir=_out(p_fn),
        searches_per_day=_out(s),
        prevalence=_out(prev),
        human_review=bool(human_review),
        reviewer_false_accept=_out(fa),
        reviewer_false_reject=_out(fr),
        true_leads_per_day=_out(true_leads),
        false_candidates_per_day=_out(false_candidates),
        searches_with_false_lead_per_day=_out(searches_false),
        true_leads_per_year=_out(true_leads * days_per_year),
        false_candidates_per_year=_out(false_candidates * days_per_year),
        searches_with_false_lead_per_year=_out(searches_false * days_per_year),
        ppv=_out(ppv),
    )


def fmr_at_threshold(
    threshold: ArrayLike, thresholds: ArrayLike, fmr_values: ArrayLike
) -> float | NDArray[np.float64]:
    """FMR at ``threshold``, linearly interpolated on a measured FMR curve.

    ``thresholds`` ascending distances and ``fmr_values`` the measured FMR at each
    (non-decreasing: a looser distance threshold accepts more impostors).  No
    extrapolation: outside the measured range the function refuses.  A measured FMR of
    0 from n comparisons only says "below about 3/n" (rule of three): do not feed a 0
    into the simulator as if it were exact.

    >>> round(fmr_at_threshold(0.55, [0.5, 0.6], [1e-4, 3e-4]), 10)  # halfway: (1e-4 + 3e-4) / 2
    0.0002
    """
    t = np.asarray(thresholds, dtype=np.float64)
    f = np.asarray(fmr_values, dtype=np.float64)
    x = np.asarray(threshold, dtype=np.float64)
    if t.ndim != 1 or t.shape != f.shape or t.size < 2:
        raise ValueError("thresholds and fmr_values must be 1-d arrays of equal length >= 2.")
    if np.any(np.diff(t) <= 0) or np.any(np.diff(f) < 0):
        raise ValueError("thresholds must be strictly ascending and fmr_values non-decreasing.")
    _check_prob("fmr_values", f)
    if np.any((x < t[0]) | (x > t[-1])):
        raise ValueError(
            f"threshold outside the measured range [{t[0]:g}, {t[-1]:g}]: measure the "
            "FMR there instead of extrapolating."
        )
    return _out(np.interp(x, t, f))


def _fmt(value: Number) -> str:
    x = float(value)
    if not math.isfinite(x):
        return "undefined"
    if x == 0 or abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:.3g}"


def summarise(outcome: DeploymentOutcome) -> str:
    """Readable lines for one (scalar) outcome.

    >>> o = simulate_deployment(gallery_size=1_000_000, fmr=1e-5, fnir=0.05,
    ...                         searches_per_day=1000, prevalence=0.1)
    >>> print(summarise(o).splitlines()[2])
    True leads:                       95.0 per day     34,675 per year
    """
    o = outcome
    for name, value in o.as_dict().items():
        if np.ndim(value) != 0:
            raise ValueError(f"summarise() takes one scenario; {name} is an array - loop over it.")
    if o.human_review:
        review = (
            f"human review: yes (reviewer confirms a false candidate with probability "
            f"{o.reviewer_false_accept:g}, rejects the true one with probability "
            f"{o.reviewer_false_reject:g})"
        )
    else:
        review = "human review: no (every candidate is a lead)"
    ppv = "undefined (no leads)" if not math.isfinite(o.ppv) else f"{o.ppv:.2%}"
    lines = [
        f"Gallery of {o.gallery_size:,.0f} faceprints; {o.searches_per_day:,.0f} searches/day, "
        f"{o.prevalence:.1%} of searched people enrolled",
        f"FMR per comparison {o.fmr:g}; FNIR {o.fnir:g}; {review}",
        f"True leads:                 {_fmt(o.true_leads_per_day):>10} per day "
        f"{_fmt(o.true_leads_per_year):>10} per year",
        f"False leads (candidates):   {_fmt(o.false_candidates_per_day):>10} per day "
        f"{_fmt(o.false_candidates_per_year):>10} per year",
        f"Searches with a false lead: {_fmt(o.searches_with_false_lead_per_day):>10} per day "
        f"{_fmt(o.searches_with_false_lead_per_year):>10} per year",
        f"Share of leads that are true (PPV): {ppv}",
    ]
    return "\n".join(lines)
