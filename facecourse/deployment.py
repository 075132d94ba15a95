"""The deployment model: what a 1:N face search system produces per day, from FMR, FNIR and N.

Pure, hand-checkable formulas: the chance that one search returns a false candidate
(:func:`probability_of_false_candidate`, :func:`expected_false_candidates`) and the
day-by-day yield of a deployment (:func:`simulate_deployment`).  Inputs, in the field's words:

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

from . import _checks

__all__ = [
    "DeploymentOutcome",
    "expected_false_candidates",
    "fmr_at_threshold",
    "probability_of_false_candidate",
    "simulate_deployment",
    "summarise",
]

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


def probability_of_false_candidate(fmr: ArrayLike, gallery_size: ArrayLike) -> Number:
    """Probability that a non-mated search of N entries returns >= 1 false candidate.

    ``1 - (1 - FMR)^N``, assuming the N comparisons are independent, each a false match
    with probability FMR; computed as ``-expm1(N * log1p(-FMR))`` so it stays accurate
    when FMR is tiny.  Broadcasts over arrays.  (Daugman's "P_N" for 1:N search.)

    >>> round(probability_of_false_candidate(0.001, 200), 4)  # 1 - 0.999**200
    0.1814
    """
    p, n = _fmr_and_size(fmr, gallery_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(n * np.log1p(-p))
    return _out(np.where(n == 0, 0.0, out))


def expected_false_candidates(fmr: ArrayLike, gallery_size: ArrayLike) -> Number:
    """Expected number of false candidates of one non-mated search: ``FMR * N``.

    Exact by linearity of expectation (no independence needed).  Broadcasts over arrays.

    >>> expected_false_candidates(1e-5, 1_000_000)
    10.0
    """
    p, n = _fmr_and_size(fmr, gallery_size)
    return _out(p * n)


def _fmr_and_size(fmr: ArrayLike, gallery_size: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    p = np.asarray(fmr, dtype=np.float64)
    n = np.asarray(gallery_size, dtype=np.float64)
    if np.any((p < 0) | (p > 1)) or np.any(n < 0):
        raise ValueError("fmr must lie in [0, 1] and gallery_size must be >= 0.")
    return p, n


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
        _checks.probability(name, value)

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
    _checks.probability("fmr_values", f)
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
