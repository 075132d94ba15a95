"""Tables the lessons print, laid out here so a lesson cell shows only the line that carries the idea.

Each function takes measured values (never computes an error rate of its own except through
:mod:`facecourse.metrics` and :mod:`facecourse.search`) and returns the table as text, in the
course's plain layout (:func:`facecourse.metrics.format_table`). Helpers of several lessons append
their functions here, each with a unit test in ``tests/test_tables.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import metrics, search

__all__ = ["false_candidate_table", "independence_table"]


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
        row = {"T": f"{t:.2f}", "FMR used": f"{mark}{f:.3%}",
               "N for P = 50%": f"{'' if observed else '≥ '}{n50:,.0f}",
               "P at N = 1,000": f"{mark}{search.probability_of_false_candidate(f, 1000):.1%}"}
        for title, n in sizes.items():
            row[title] = f"{mark}{search.expected_false_candidates(f, n):,.0f}"
        rows.append(row)
    return metrics.format_table(rows)


def independence_table(cross: np.ndarray, fpir_curves: Mapping[float, object], sizes: Sequence[int]) -> str:
    """Measured FPIR on random real galleries against ``1 − (1 − FMR)^N`` at the same FMR.

    ``cross[i, j]`` is the distance between probe i and gallery photo j, with ``nan`` where the
    two are the same person (never in each other's gallery); the FMR is the share of the other
    entries at or below the threshold. ``fpir_curves`` maps a threshold to the result of
    :func:`facecourse.scale.fpir_by_gallery_size` (``.fpir[N - 1]`` is the FPIR at gallery size N).

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
            rows.append({"T": f"{t:.2f}", "N": n, "FMR (probe vs gallery)": f"{fmr:.3%}",
                         "FPIR measured": f"{curve.fpir[n - 1]:.1%}",  # type: ignore[attr-defined]
                         "1 - (1 - FMR)^N": f"{search.probability_of_false_candidate(fmr, n):.1%}"})
    return metrics.format_table(rows)
