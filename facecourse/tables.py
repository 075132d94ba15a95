"""Tables the lessons print, laid out here so a lesson cell shows only the line that carries the idea.

Each function takes measured values (never computes an error rate of its own except through
:mod:`facecourse.metrics` and :mod:`facecourse.deployment`) and returns the table as text, in the
course's plain layout (``_text.table``, which notebooks call as :func:`facecourse.metrics.format_table`).
Helpers of several lessons append their functions here, each with a unit test in ``tests/test_tables.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _text, deployment, metrics, simulator

__all__ = ["false_candidate_table", "independence_table", "access_answers_table", "measured_rates_table",
           "fmr_sweep_table", "stadium_table", "verification_table",
           "ProbeOutcome", "probe_outcome", "probe_outcomes", "degraded_probe_table",
           "fta_by_set_table"]


# ---------------------------------------------------------------------------------------------
# Lesson 04: one-to-many search
# ---------------------------------------------------------------------------------------------


def false_candidate_table(rates: Mapping[float, metrics.ErrorRates], sizes: Mapping[str, float]) -> str:
    """What each measured FMR implies for a non-mated search of N people, one row per threshold.

    Columns: the FMR used, the gallery size at which P(at least one false candidate) reaches
    50 %, that chance at N = 1,000, and the expected false candidates per search (FMR × N) at each
    of ``sizes`` (column title -> N). Where no false match was observed the upper end of the FMR's
    95 % interval is used and every number derived from it is marked "≤" (or "≥" for the size).

    >>> r = metrics.ErrorRates.from_counts(0.6, 10, 1000, 0, 10)   # FMR 1 %
    >>> false_candidate_table({0.6: r}, {"N = 1e6": 1e6}).splitlines()[2].split()
    ['0.60', '1.000%', '69', '100.0%', '10,000']
    """
    rows = []
    for t, r in rates.items():
        observed = r.false_matches > 0
        f, mark = (r.fmr, "") if observed else (float(r.fmr_ci[1]), "≤ ")
        n50 = np.log1p(-0.5) / np.log1p(-f)
        p1000 = float(deployment.probability_of_false_candidate(f, 1000))  # one FMR: a number
        row = {"T": f"{t:.2f}", "FMR used": f"{mark}{_text.percent(f, 3, tiny=False)}",
               "N for P = 50%": f"{'' if observed else '≥ '}{n50:,.0f}",
               "P at N = 1,000": f"{mark}{_text.percent(p1000, 1, tiny=False)}"}
        for title, n in sizes.items():
            row[title] = f"{mark}{deployment.expected_false_candidates(f, n):,.0f}"
        rows.append(row)
    return _text.table(rows)


def independence_table(cross: np.ndarray, fpir_curves: Mapping[float, object], sizes: Sequence[int]) -> str:
    """Measured FPIR on random real galleries against ``1 − (1 − FMR)^N`` at the same FMR.

    ``cross[i, j]`` is the distance between probe i and gallery photo j, with ``nan`` where the
    two are the same person (never in each other's gallery); the FMR is the share of the other
    entries at or below the threshold. ``fpir_curves`` maps a threshold to the result of
    :func:`facecourse.extrapolation.fpir_by_gallery_size` (``.fpir[N - 1]`` is the FPIR at gallery size N).

    >>> class Curve: fpir = np.array([0.5, 0.7])
    >>> cross = np.array([[np.nan, 0.4, 0.8], [0.4, np.nan, 0.9], [0.8, 0.9, np.nan]])
    >>> independence_table(cross, {0.5: Curve()}, [2]).splitlines()[2].split()   # FMR 2/6; 1 - (2/3)^2
    ['0.50', '2', '33.333%', '70.0%', '55.6%']
    """
    offdiag = cross[~np.isnan(cross)]
    rows = []
    for t, curve in fpir_curves.items():
        fmr = float(np.mean(offdiag <= t))
        for n in sizes:
            rows.append({"T": f"{t:.2f}", "N": n, "FMR (probe vs gallery)": _text.percent(fmr, 3, tiny=False),
                         "FPIR measured": _text.percent(curve.fpir[n - 1], 1, tiny=False),  # type: ignore[attr-defined]
                         "1 - (1 - FMR)^N": _text.percent(float(deployment.probability_of_false_candidate(fmr, n)),
                                                          1, tiny=False)})
    return _text.table(rows)


# ---------------------------------------------------------------------------------------------
# Lesson 06 (access requests) and lesson 07 (policy lab)
# ---------------------------------------------------------------------------------------------


def access_answers_table(own: ArrayLike, nearest_stranger: ArrayLike, stranger_count_at: Callable[[float], int],
                         thresholds: Sequence[float]) -> str:
    """Lesson 06: how complete and how safe photo-based access answers are, threshold by threshold.

    ``own[i]`` is the distance from requester i's new photo to their own gallery entry,
    ``nearest_stranger[i]`` to the nearest entry of anybody else; ``stranger_count_at(t)`` counts
    stranger entries within ``t`` over all requests. Each share is "k of n (rate; Wilson 95 % CI)".

    >>> print(access_answers_table([0.1, 0.5], [0.45, 0.7], lambda t: int(t >= 0.45), [0.4, 0.5]))
    threshold                      complete answers   answers that disclose a stranger  stranger entries
    ---------  ------------------------------------  ---------------------------------  ----------------
    0.40          1 of 2 (50.0%; 95% CI 9.5%-90.5%)   0 of 2 (0.0%; 95% CI 0.0%-65.8%)                 0
    0.50       2 of 2 (100.0%; 95% CI 34.2%-100.0%)  1 of 2 (50.0%; 95% CI 9.5%-90.5%)                 1
    """
    own_d = np.asarray(own, dtype=np.float64)
    near = np.asarray(nearest_stranger, dtype=np.float64)
    if own_d.shape != near.shape or own_d.ndim != 1 or own_d.size == 0:
        raise ValueError("own and nearest_stranger must be 1-D arrays of the same non-zero length "
                         "(one distance per access request).")
    n = own_d.size

    def share(k: int) -> str:
        r = metrics.Rate(k, n)
        return (f"{_text.count(k, n)} ({_text.percent(r.value, 1, tiny=False)}; "
                f"{_text.confidence_label(r.confidence)} CI {_text.interval(r.ci, 1, tiny=False)})")

    rows = [{"threshold": f"{t:.2f}",
             "complete answers": share(int((own_d <= t).sum())),
             "answers that disclose a stranger": share(int((near <= t).sum())),
             "stranger entries": f"{stranger_count_at(t)}"} for t in thresholds]
    return _text.table(rows)


def measured_rates_table(measured: simulator.MeasuredRates, thresholds: Sequence[float]) -> str:
    """Lesson 07: FMR and FNIR with counts and Wilson intervals at each threshold.

    ``measured`` is a :class:`facecourse.simulator.MeasuredRates`.

    >>> from facecourse.simulator import MeasuredRates
    >>> m = MeasuredRates.from_scores([0.3, 0.5, 0.7, 0.9], [0.2, 0.4, float("inf")])
    >>> print(measured_rates_table(m, [0.5]))
    threshold  FMR  false matches    FMR 95% CI  FNIR  missed mates    FNIR 95% CI
    ---------  ---  -------------  ------------  ----  ------------  -------------
    0.50       0.5          2 / 4  0.15 to 0.85  0.33         1 / 3  0.061 to 0.79
    """
    rows = []
    for t in thresholds:
        fmr, fnir = measured.fmr_at(t), measured.fnir_at(t)
        rows.append({"threshold": f"{t:.2f}", "FMR": f"{fmr.value:.2g}",
                     "false matches": f"{fmr.count:,} / {fmr.total:,}",
                     "FMR 95% CI": f"{fmr.ci[0]:.2g} to {fmr.ci[1]:.2g}",
                     "FNIR": f"{fnir.value:.2g}", "missed mates": f"{fnir.count} / {fnir.total}",
                     "FNIR 95% CI": f"{fnir.ci[0]:.2g} to {fnir.ci[1]:.2g}"})
    return _text.table(rows)


def fmr_sweep_table(settings: Mapping[str, Any], fmrs: Sequence[float], *, fnir: float,
                    measured_first: bool = True) -> str:
    """Lesson 07, scenario (a): what a deployment yields at lower and lower FMRs.

    ``settings`` are simulator settings (gallery size, searches a day, prevalence, reviewer rates);
    the first FMR is labelled "measured" when ``measured_first``, the others "assumed".

    >>> s = dict(gallery_size=1_000, searches_per_day=10, prevalence=0.5, human_review=False)
    >>> print(fmr_sweep_table(s, [1e-3, 1e-5], fnir=0.0))
    FMR               false candidates per search  false leads/day after review  true leads/day    PPV
    ----------------  ---------------------------  ----------------------------  --------------  -----
    0.001 (measured)                            1                            10               5  33.3%
    1e-05 (assumed)                          0.01                           0.1               5    98%
    """
    f = np.asarray(fmrs, dtype=np.float64)
    review = bool(settings.get("human_review", False))
    out = deployment.simulate_deployment(
        gallery_size=settings["gallery_size"], fmr=f, fnir=fnir, searches_per_day=settings["searches_per_day"],
        prevalence=settings["prevalence"], human_review=review,
        reviewer_false_accept=settings.get("reviewer_false_accept", 0.0) if review else 0.0,
        reviewer_false_reject=settings.get("reviewer_false_reject", 0.0) if review else 0.0)
    true_leads = np.broadcast_to(out.true_leads_per_day, f.shape)
    rows = [{"FMR": f"{x:.3g}" + (" (measured)" if i == 0 and measured_first else " (assumed)"),
             "false candidates per search": f"{x * settings['gallery_size']:,.3g}",
             "false leads/day after review": f"{fl:,.3g}", "true leads/day": f"{tl:.3g}",
             "PPV": f"{100 * p:.3g}%"}
            for i, (x, fl, tl, p) in enumerate(zip(f, np.asarray(out.false_candidates_per_day), true_leads,
                                                   np.asarray(out.ppv), strict=True))]
    return _text.table(rows)


def stadium_table(measured: simulator.MeasuredRates, settings: Mapping[str, Any],
                  thresholds: Sequence[float]) -> str:
    """Lesson 07, scenario (b): alerts, innocent people flagged and leads after review, per threshold.

    >>> from facecourse.simulator import MeasuredRates
    >>> m = MeasuredRates.from_scores([0.3, 0.5, 0.7, 0.9], [0.2, 0.4, 0.45])
    >>> s = dict(gallery_size=10, searches_per_day=100, prevalence=0.1, human_review=True,
    ...          reviewer_false_accept=0.1, reviewer_false_reject=0.0)
    >>> print(stadium_table(m, s, [0.4]))
    threshold   FMR  alerts to check/day  innocent entrants flagged/day  false leads/day after review  true leads/day  PPV after review
    ---------  ----  -------------------  -----------------------------  ----------------------------  --------------  ----------------
    0.40       0.25                  254                             94                          24.8            6.67             21.2%
    """  # noqa: E501 - the example prints the table exactly as lesson 07 shows it, one row per line
    rows = []
    for t in thresholds:
        raw = simulator.simulator_state(measured=measured,
                                        **{**settings, "threshold": t, "human_review": False}).outcome
        reviewed = simulator.simulator_state(measured=measured, **{**settings, "threshold": t})
        o = reviewed.outcome
        rows.append({"threshold": f"{t:.2f}", "FMR": f"{o.fmr:.2g}",
                     "alerts to check/day": f"{raw.true_leads_per_day + raw.false_candidates_per_day:,.0f}",
                     "innocent entrants flagged/day": f"{raw.searches_with_false_lead_per_day:,.0f}",
                     "false leads/day after review": f"{o.false_candidates_per_day:,.1f}",
                     "true leads/day": f"{o.true_leads_per_day:.2f}",
                     "PPV after review": reviewed.fields()["ppv"]})
    return _text.table(rows)


def verification_table(measured: simulator.MeasuredRates, settings: Mapping[str, Any],
                       thresholds: Sequence[float]) -> str:
    """Lesson 07, scenario (c): impostors accepted a year and genuine customers refused a day.

    Where no false match was measured the FMR is not 0: the table says "0 measured" and gives the
    upper end of the Wilson interval ("up to"), as it does for refusals.

    >>> from facecourse.simulator import MeasuredRates
    >>> m = MeasuredRates.from_scores([0.5, 0.7, 0.9, 1.1], [0.2, 0.4, 0.6])
    >>> s = dict(gallery_size=1, searches_per_day=1_000, prevalence=0.9, human_review=False)
    >>> print(verification_table(m, s, [0.3, 0.6]))
    threshold  false matches      impostors accepted/year  missed mates  genuine customers refused/day
    ---------  -------------  ---------------------------  ------------  -----------------------------
    0.30               0 / 4  0 measured (up to 17,881.0)         2 / 3                600 (up to 845)
    0.60               1 / 4     9,125.0 (up to 25,526.6)         0 / 3                  0 (up to 505)
    """
    n = measured.nonmated_count
    genuine = settings["searches_per_day"] * settings["prevalence"]
    impostors = settings["searches_per_day"] - genuine
    rows = []
    for t in thresholds:
        fm = measured.fmr_at(t).count
        upper = metrics.wilson_interval(fm, n)[1]
        r = measured.fnir_at(t)
        accepted = f"{impostors * fm / n * 365:,.1f}" if fm else "0 measured"
        rows.append({"threshold": f"{t:.2f}", "false matches": f"{fm} / {n:,}",
                     "impostors accepted/year": accepted + f" (up to {impostors * upper * 365:,.1f})",
                     "missed mates": f"{r.count} / {r.total}",
                     "genuine customers refused/day": f"{genuine * r.value:,.0f} (up to {genuine * r.ci[1]:,.0f})"})
    return _text.table(rows)


# ---------------------------------------------------------------------------------------------
# Lesson 03: verification with degraded probes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeOutcome:
    """Counts for one probe condition at one threshold: attempts, failures to acquire, errors.

    ``condition`` is whatever describes the condition (a ``degrade.Degradation`` or a
    ``degrade.LowLight``: anything with a ``variant``); ``scores`` holds the distances of the
    completed comparisons (``None`` when no face was found in any probe).
    """

    condition: Any
    attempts: int
    fta: int
    false_non_matches: int
    false_matches: int
    nonmated: int
    scores: metrics.ComparisonScores | None

    @property
    def completed(self) -> int:
        """Mated attempts that produced a comparison: attempts minus failures to acquire."""
        return self.attempts - self.fta


def probe_outcome(condition: Any, attempts: int, probe_embeddings: ArrayLike, probe_ids: ArrayLike,
                  ref_embeddings: ArrayLike, ref_ids: ArrayLike, threshold: float) -> ProbeOutcome:
    """Compare every acquired probe with every reference and count the errors at ``threshold``.

    ``attempts`` is the number of probe photos tried; those without a faceprint (fewer rows in
    ``probe_embeddings`` than attempts) are the failures to acquire. A pair matches when its
    distance is ``<= threshold``.

    >>> o = probe_outcome("demo", 3, [[0.0], [1.0]], ["a", "b"], [[0.1], [1.8], [0.5]], ["a", "b", "c"], 0.6)
    >>> o.fta, o.completed, o.false_non_matches, o.false_matches, o.nonmated
    (1, 2, 1, 2, 4)
    """
    ids = np.asarray(probe_ids)
    fta = int(attempts) - len(ids)
    if fta < 0:
        raise ValueError(f"probe_outcome: {len(ids)} acquired probes but only {attempts} attempts; "
                         "attempts counts every probe photo tried, with or without a face found.")
    if len(ids) == 0:
        return ProbeOutcome(condition, int(attempts), fta, 0, 0, 0, None)
    cmp = metrics.cross_comparisons(probe_embeddings, ids, ref_embeddings, ref_ids)
    return ProbeOutcome(condition, int(attempts), fta, int(np.count_nonzero(cmp.mated > threshold)),
                        int(np.count_nonzero(cmp.nonmated <= threshold)), int(cmp.nonmated.size), cmp)


def probe_outcomes(variants: Mapping[str, Any], conditions: Sequence[Any], references: Any,
                   threshold: float) -> list[ProbeOutcome]:
    """:func:`probe_outcome` for each condition: ``variants[c.variant]`` holds the probes' faceprints
    (a ``faceprints.EncodingSet``, failures kept), ``references`` the enrolled faceprints."""
    return [probe_outcome(c, len(variants[c.variant]), variants[c.variant].embeddings,
                          variants[c.variant].person_ids, references.embeddings, references.person_ids, threshold)
            for c in conditions]


def _rate_ci(k: int, n: int) -> str:
    """``" 12.5% (2.2%-47.1%)"``: the rate k/n and its Wilson 95 % interval; "n/a" when n = 0."""
    if n == 0:
        return "n/a"
    r = metrics.Rate(k, n)
    return f"{_text.percent(r.value, 1, tiny=False):>6} ({_text.interval(r.ci, 1, tiny=False)})"


def degraded_probe_table(outcomes: Sequence[ProbeOutcome]) -> str:
    """Lesson 03: per condition, failures to acquire, FNMR over completed comparisons, the false
    reject rate including failures to acquire (FRR = (FNM + FTA) / attempts), and the FMR.

    >>> from types import SimpleNamespace
    >>> o = ProbeOutcome(SimpleNamespace(variant="blur:8@512"), 8, 2, 1, 3, 300, None)
    >>> print(degraded_probe_table([o]))
    condition    FTA  FNM / completed  FNMR (completed only)         FRR incl. FTA  FM / non-mated    FMR
    ---------  -----  ---------------  ---------------------  --------------------  --------------  -----
    blur:8     2 / 8            1 / 6     16.7% (3.0%-56.4%)   37.5% (13.7%-69.4%)         3 / 300  1.00%
    """
    return _text.table([{
        "condition": str(o.condition.variant).split("@")[0],
        "FTA": f"{o.fta} / {o.attempts}",
        "FNM / completed": f"{o.false_non_matches} / {o.completed}",
        "FNMR (completed only)": _rate_ci(o.false_non_matches, o.completed),
        "FRR incl. FTA": _rate_ci(o.false_non_matches + o.fta, o.attempts),
        "FM / non-mated": f"{o.false_matches} / {o.nonmated:,}",
        "FMR": _text.percent(o.false_matches / o.nonmated, 2, tiny=False) if o.nonmated else "n/a",
    } for o in outcomes])


# ---------------------------------------------------------------------------------------------
# Lesson 01: failure to acquire on the photos as published
# ---------------------------------------------------------------------------------------------


def fta_by_set_table(sets: Sequence[str], acquired: Sequence[bool], *, confidence: float = 0.95) -> str:
    """Faces detected and FTA with its Wilson interval, one row per image set, then all together.

    ``sets[i]`` names the set of photo ``i`` and ``acquired[i]`` says whether a face was detected
    and encoded in it (``record.acquired`` of ``faceprints.encode_set``).

    >>> print(fta_by_set_table(["a", "a", "b"], [True, False, True]))
    set  detected    FTA      95% CI
    ---  --------  -----  ----------
    a         1/2  50.0%  9.5%-90.5%
    b         1/1   0.0%  0.0%-79.3%
    all       2/3  33.3%  6.1%-79.2%
    """
    if len(sets) != len(acquired):
        raise ValueError(f"sets has {len(sets)} entries but acquired has {len(acquired)}: give one of each per photo")
    if not len(sets):
        raise ValueError("No photos: pass the entries and records of faceprints.encode_set().")
    counts: dict[str, list[int]] = {}  # set -> [detected, photos], in the order the sets first appear
    for name, ok in zip(sets, acquired, strict=True):
        c = counts.setdefault(str(name), [0, 0])
        c[0] += bool(ok)
        c[1] += 1
    counts["all"] = [sum(c[0] for c in counts.values()), len(sets)]
    ci = f"{_text.confidence_label(confidence)} CI"
    rows = []
    for name, (detected, total) in counts.items():
        fta = metrics.Rate(total - detected, total, confidence, name="FTA")
        rows.append({"set": name, "detected": f"{detected}/{total}", "FTA": _text.percent(fta.value, 1, tiny=False),
                     ci: _text.interval(fta.ci, 1, tiny=False)})
    return _text.table(rows)
