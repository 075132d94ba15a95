"""How often is a face recogniser wrong? Error rates measured the way evaluators do it.

Vocabulary (ISO/IEC 2382-37 and ISO/IEC 19795-1)
-------------------------------------------------
* A **comparison** puts two face samples side by side and gives a **score**. Here the score is
  the Euclidean **distance** between two 128-number faceprints: *lower means more alike*.
* A **mated** comparison compares two samples of the *same* person; a **non-mated** comparison
  compares samples of two *different* people. (Older papers and many libraries say "genuine"
  and "impostor"; the standards have dropped those words, and so does this module.)
* The system declares a **match** when ``distance <= threshold``. That is the rule of
  ``face_recognition.compare_faces(known, candidate, tolerance=0.6)``.
* **FMR** (false match rate) at threshold *t*: the share of non-mated comparisons declared a
  match, ``FMR(t) = #(non-mated distances <= t) / #(non-mated)``.
* **FNMR** (false non-match rate): the share of mated comparisons declared a non-match,
  ``FNMR(t) = #(mated distances > t) / #(mated)``.

Raising the threshold trades one error for the other: FMR goes up, FNMR goes down. FMR and FNMR
are *comparison-level* rates of the algorithm. The false accept / false reject rates of a whole
system (FAR/FRR) also count the photos it failed to process; do not mix up the two.

How much to trust a measured rate
---------------------------------
A rate is a count divided by a count, so it comes with an uncertainty:

* :func:`wilson_interval` gives a confidence interval that treats every comparison as an
  independent trial. With *n* non-mated pairs and no false match, FMR is *not* shown to be 0:
  the upper end of the 95 % interval is about 3/n.
* The comparisons are **not** independent: the same person appears in many pairs. The honest
  interval resamples *people*, not pairs: see :func:`bootstrap_by_subject` and
  :func:`fmr_bootstrap_by_subject`.

What is in here
---------------
* distances: :func:`pairwise_distances`, :func:`mated_and_nonmated`, :func:`cross_comparisons`;
* rates at one threshold: :func:`error_rates_at` (an :class:`ErrorRates` that prints itself);
* rates at every threshold: :func:`error_rate_curves`, :func:`error_rates_at_thresholds`,
  :func:`equal_error_rate`, :func:`threshold_for_fmr`, :func:`fnmr_at_fmr`, :func:`det_points`;
* sets too large to keep every distance: :func:`error_counts_histogram`,
  :func:`curves_from_histogram`;
* uncertainty: :func:`wilson_interval`, :func:`bootstrap_by_subject`,
  :func:`fmr_bootstrap_by_subject`;
* differences between groups of people: :func:`group_error_rates`,
  :func:`threshold_for_fmr_by_group`, :func:`format_table`.

Everything is vectorised with numpy: the rates at all thresholds come from one sort per score
set and :func:`numpy.searchsorted`, never from a Python loop over pairs or thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _checks, _text
from ._text import table as format_table  # the public name: notebooks print every table with it

__all__ = [
    "DEFAULT_THRESHOLD",
    "BootstrapResult",
    "ComparisonScores",
    "DETPoints",
    "ErrorCurves",
    "ErrorRates",
    "FalseMatchFields",
    "GroupFMR",
    "GroupThreshold",
    "HistogramCounts",
    "Rate",
    "bootstrap_by_subject",
    "cross_comparisons",
    "curves_from_histogram",
    "det_points",
    "equal_error_rate",
    "error_counts_histogram",
    "error_rate_curves",
    "error_rates_at",
    "error_rates_at_thresholds",
    "fmr_bootstrap_by_subject",
    "fnmr_at_fmr",
    "format_table",
    "group_error_rates",
    "mated_and_nonmated",
    "pairwise_distances",
    "probit",
    "threshold_for_fmr",
    "threshold_for_fmr_by_group",
    "wilson_interval",
]


DEFAULT_THRESHOLD = 0.6
"""The course's match threshold: a comparison is a match when ``distance <= 0.6``.

It is face_recognition's default, which that library calls ``tolerance``
(``face_recognition.compare_faces(known, candidate, tolerance=0.6)``); this package says
*threshold* everywhere, as the standards do.
"""


# ---------------------------------------------------------------------------------------------
# Confidence interval of a proportion
# ---------------------------------------------------------------------------------------------


@overload
def wilson_interval(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]: ...
@overload
def wilson_interval(
    k: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray | float, np.ndarray | float]: ...
def wilson_interval(
    k: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Wilson score interval for the proportion ``k / n`` (k errors out of n trials).

    Unlike the textbook ``p ± z·sqrt(p(1-p)/n)``, the Wilson interval never leaves [0, 1] and
    does not collapse to a single point when ``k = 0``: with 0 errors in 10 trials, the true
    rate could still be as high as 28 % (95 % confidence).

    The formula, with z the standard normal quantile for ``confidence`` (1.96 for 95 %)::

        centre     = (k + z²/2) / (n + z²)
        half_width = z / (n + z²) * sqrt(k * (n - k) / n + z²/4)
        (low, high) = (centre - half_width, centre + half_width)

    (the same as the textbook ``(p + z²/(2n) ± z·sqrt(p(1-p)/n + z²/(4n²))) / (1 + z²/n)`` with
    ``p = k/n``). For k = 0 the low end is exactly 0 and for k = n the high end exactly 1;
    in floating point the formula can miss them by about 1e-16 (0.9999999999999999 for 10 of
    10), so this function sets those two ends exactly. Compare the other ends with a tolerance.

    ``k`` and ``n`` may be numbers or arrays (broadcast against each other). Two numbers give
    two floats; arrays give two arrays. **n = 0 gives (nan, nan)**: with no trials there is no
    estimate, and nan (printed "n/a") says so more plainly than (0, 1) would.

    >>> lo, hi = wilson_interval(5, 10)
    >>> print(f"{lo:.4f} {hi:.4f}")
    0.2366 0.7634
    >>> lo, hi = wilson_interval([0, 10], [10, 10])
    >>> lo.round(4).tolist(), hi.round(4).tolist()
    ([0.0, 0.7225], [0.2775, 1.0])
    """
    _checks.confidence(confidence)
    k_arr = np.asarray(k, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    if np.any(np.isnan(k_arr)) or np.any(np.isnan(n_arr)):
        raise ValueError("wilson_interval: k and n must be numbers, not NaN")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError(f"wilson_interval: need 0 <= k <= n, got k={k!r}, n={n!r}")

    z = _normal_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):  # n = 0 gives nan, on purpose
        centre = (k_arr + z * z / 2) / (n_arr + z * z)
        half_width = z / (n_arr + z * z) * np.sqrt(k_arr * (n_arr - k_arr) / n_arr + z * z / 4)
    lo = np.clip(centre - half_width, 0.0, 1.0)
    hi = np.clip(centre + half_width, 0.0, 1.0)
    # Mathematically lo = 0 when k = 0 and hi = 1 when k = n; make it exact despite rounding.
    lo = np.where((k_arr == 0) & (n_arr > 0), 0.0, lo)
    hi = np.where((k_arr == n_arr) & (n_arr > 0), 1.0, hi)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def _normal_quantile(confidence: float) -> float:
    """z such that a standard normal lies within ±z with probability ``confidence`` (1.96 for 95 %)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Rate:
    """``count`` events (errors, or successes) out of ``total`` trials, as a rate with its interval.

    The one rate-with-interval type of the package: ``value`` is ``count / total`` (nan when
    ``total`` is 0), ``ci`` its Wilson interval (:func:`wilson_interval`) at ``confidence``.
    ``str(rate)`` is the compact form (a proportion to four decimals, as lesson 04 prints FNIR
    and FPIR); :meth:`text` is the sentence with percentages that :class:`ErrorRates` prints.

    >>> r = Rate(2, 100, name="FPIR")
    >>> r.value, [round(v, 4) for v in r.ci]
    (0.02, [0.0055, 0.07])
    >>> print(r)
    FPIR = 0.0200 (2/100; 95% CI 0.0055-0.0700)
    >>> print(r.text("searches"))
    FPIR 2.00% (2 of 100 searches; 95% CI 0.55%-7.00%)
    """

    count: int
    total: int
    confidence: float = 0.95
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", int(self.count))
        object.__setattr__(self, "total", int(self.total))
        if not 0 <= self.count <= self.total:
            raise ValueError(f"{self.name or 'rate'}: need 0 <= count <= total, got {self.count} of {self.total}")
        _checks.confidence(self.confidence)

    @property
    def value(self) -> float:
        """``count / total``; nan when there were no trials."""
        return self.count / self.total if self.total else math.nan

    @property
    def ci(self) -> tuple[float, float]:
        """The Wilson interval of ``value`` at ``confidence`` ((nan, nan) when there were no trials)."""
        lo, hi = wilson_interval(self.count, self.total, self.confidence)
        return float(lo), float(hi)

    def text(self, what: str) -> str:
        """One line with percentages: ``"FMR 0.91% (47 of 5,151 non-mated pairs; 95% CI 0.69%-1.21%)"``."""
        return _text.rate_text(self.name, self.value, self.count, self.total, what, self.ci, self.confidence)

    def __str__(self) -> str:
        lo, hi = self.ci
        return (f"{self.name} = {self.value:.4f} ({self.count}/{self.total}; "
                f"{_text.confidence_label(self.confidence)} CI {lo:.4f}-{hi:.4f})")


# ---------------------------------------------------------------------------------------------
# Distances and comparisons
# ---------------------------------------------------------------------------------------------


def pairwise_distances(
    a: ArrayLike,
    b: ArrayLike | None = None,
    *,
    chunk_size: int = 4096,
    dtype: DTypeLike = np.float64,
) -> np.ndarray:
    """Euclidean distance between every row of ``a`` and every row of ``b`` (``b=None``: ``a`` itself).

    Returns a ``(len(a), len(b))`` array with ``out[i, j] = ||a[i] - b[j]||``. Instead of
    subtracting every pair of rows (a loop, or a huge 3-D array), it uses
    ``||x - y||² = ||x||² + ||y||² - 2 x·y``, where all the dot products ``x·y`` come from one
    matrix product. Rounding can make a tiny squared distance come out slightly negative, so it is
    clipped to 0 before the square root.

    Both sets are first shifted by their common mean. Distances do not change when every point
    moves by the same vector, but shorter vectors lose less precision in the subtraction above.
    In float64 the result agrees with ``np.linalg.norm(a[i] - b[j])`` to about 1e-7 or better;
    ``dtype=np.float32`` halves the memory and is accurate to about 1e-3.

    ``chunk_size`` rows of ``a`` are processed at a time, which bounds the temporary memory; the
    result itself still needs ``len(a) * len(b)`` numbers. With ``b=None`` the diagonal (each
    sample against itself) is exactly 0.

    >>> pairwise_distances([[0, 0], [3, 4]]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    >>> pairwise_distances([[0, 0]], [[1, 0], [0, 2]]).tolist()
    [[1.0, 2.0]]
    """
    chunk_size = _checks.positive_int("chunk_size", chunk_size, what="a number of rows")
    x = _checks.faceprints("a", a, dtype=dtype)
    y = x if b is None else _checks.faceprints("b", b, dtype=dtype)
    if y.shape[1] != x.shape[1]:
        raise ValueError(
            f"pairwise_distances: a has {x.shape[1]} numbers per row but b has {y.shape[1]}; "
            "faceprints from different models cannot be compared"
        )
    total = len(x) + (0 if b is None else len(y))
    if total:
        centre = (x.sum(axis=0) + (0 if b is None else y.sum(axis=0))) / total
        x = x - centre
        y = x if b is None else y - centre
    x_sq = _squared_norms(x)
    y_sq = x_sq if b is None else _squared_norms(y)

    out = np.empty((len(x), len(y)), dtype=x.dtype)
    for start in range(0, len(x), chunk_size):
        stop = start + chunk_size
        out[start:stop] = _distance_block(x[start:stop], x_sq[start:stop], y, y_sq)
    if b is None:
        np.fill_diagonal(out, 0.0)
    return out


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _distance_block(x: np.ndarray, x_sq: np.ndarray, y: np.ndarray, y_sq: np.ndarray) -> np.ndarray:
    """Distances between the rows of x and of y, given their squared norms (one matrix product)."""
    block = x @ y.T  # x·y for every pair; the operations below reuse this array to save memory
    block *= -2.0
    block += x_sq[:, None]
    block += y_sq[None, :]  # now ||x||² + ||y||² - 2 x·y = ||x - y||²
    np.maximum(block, 0.0, out=block)
    return np.sqrt(block, out=block)


def _upper_triangle_blocks(x: np.ndarray, chunk_size: int):
    """Distances of all pairs i < j of the rows of x, a block of rows at a time.

    Yields ``(start, stop, block)`` where ``block[r, q]`` is the distance between samples
    ``start + r`` and ``start + q``, for rows ``start:stop`` against columns ``start:``. Only the
    entries with ``q > r`` are pairs i < j: the caller must ignore the others (the first
    ``stop - start`` columns hold the diagonal and pairs already seen). Memory: one block of
    ``chunk_size × len(x)`` numbers.
    """
    if len(x):
        x = x - x.mean(axis=0)  # same shift as pairwise_distances(x)
    sq = _squared_norms(x)
    for start in range(0, len(x), chunk_size):
        stop = min(start + chunk_size, len(x))
        yield start, stop, _distance_block(x[start:stop], sq[start:stop], x[start:], sq[start:])


@dataclass(frozen=True, eq=False)
class ComparisonScores:
    """The distances of the mated and of the non-mated comparisons, and which samples made them.

    ``mated_pairs[k] = (i, j)`` are the indices of the two samples behind ``mated[k]``; likewise
    for ``nonmated_pairs``. (For :func:`cross_comparisons` a pair is ``(probe index, reference
    index)``.)
    """

    mated: np.ndarray
    nonmated: np.ndarray
    mated_pairs: np.ndarray
    nonmated_pairs: np.ndarray

    def __repr__(self) -> str:
        return f"ComparisonScores({len(self.mated):,} mated, {len(self.nonmated):,} non-mated)"


def mated_and_nonmated(embeddings: ArrayLike, subject_ids: ArrayLike, *,
                       block_size: int = 1 << 20) -> ComparisonScores:
    """Compare every sample with every other one, once, and split the distances by mated-ness.

    ``embeddings`` has one faceprint per row and ``subject_ids[i]`` says whose face row ``i`` is.
    All ``n(n-1)/2`` unordered pairs ``i < j`` are compared: a sample is never compared with
    itself (that distance is 0 and would count as a perfect mated match), and no pair is counted
    twice. A pair is mated when both samples have the same subject id. The pairs come in the
    order ``(0, 1), (0, 2), ... (1, 2), ...`` (row by row of the upper triangle).

    The distances are computed a block of rows at a time (about ``block_size`` distances per
    block, each needing some 40 bytes of temporary memory: 40 MB by default), straight into the
    four result arrays: memory is the result (24 bytes a pair: the distance and its two indices;
    1.2 GB for 10,000 faceprints) plus one block, never the whole ``n × n`` matrix. Beyond some
    10,000 samples use :func:`error_counts_histogram`, which keeps only counts.

    The distances are those of :func:`pairwise_distances` (same centring, same formula). When all
    rows fit in one block (up to 1,024 samples by default) they are computed by the very same
    operations, hence bit for bit identical; with several blocks the matrix products have other
    shapes, and the linear-algebra library may add up the 128 products in another order (a
    difference in the last bits, far below 1e-12).

    >>> s = mated_and_nonmated([[0.0], [0.1], [1.0]], ["ann", "ann", "bob"])
    >>> s
    ComparisonScores(1 mated, 2 non-mated)
    >>> s.mated.round(2).tolist(), s.nonmated_pairs.tolist()
    ([0.1], [[0, 2], [1, 2]])
    """
    if int(block_size) < 1:
        raise ValueError(f"mated_and_nonmated: block_size must be a positive number of distances, got {block_size!r}")
    x = _checks.faceprints("embeddings", embeddings)
    n = len(x)
    ids = _checks.labels("subject_ids", subject_ids, n)
    if n < 2:
        raise ValueError(f"mated_and_nonmated: need at least 2 faceprints to compare, got {n}")
    x = x - x.sum(axis=0) / n  # the centring of pairwise_distances(x)
    sq = _squared_norms(x)
    _, per_subject = np.unique(ids, return_counts=True)
    n_mated = int((per_subject * (per_subject - 1) // 2).sum())
    n_nonmated = n * (n - 1) // 2 - n_mated
    out = ComparisonScores(mated=np.empty(n_mated, dtype=x.dtype), nonmated=np.empty(n_nonmated, dtype=x.dtype),
                           mated_pairs=np.empty((n_mated, 2), dtype=np.int64),
                           nonmated_pairs=np.empty((n_nonmated, 2), dtype=np.int64))
    filled = {True: 0, False: 0}
    rows = max(1, min(n, int(block_size) // n))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        block = _distance_block(x[start:stop], sq[start:stop], x[start:], sq[start:])  # rows start:stop, columns start:
        upper = np.arange(n - start)[None, :] > np.arange(stop - start)[:, None]  # column > row: pairs i < j
        same = ids[start:stop, None] == ids[None, start:]
        for is_mated, scores, pairs in ((True, out.mated, out.mated_pairs), (False, out.nonmated, out.nonmated_pairs)):
            r, q = np.nonzero(upper & (same if is_mated else ~same))  # row-major: the order of the pairs
            k, at = len(r), filled[is_mated]
            scores[at:at + k] = block[r, q]
            pairs[at:at + k, 0] = r + start
            pairs[at:at + k, 1] = q + start
            filled[is_mated] = at + k
            del r, q
        del block, upper, same
    assert filled[True] == n_mated and filled[False] == n_nonmated
    return out


def cross_comparisons(
    probe_emb: ArrayLike, probe_ids: ArrayLike, ref_emb: ArrayLike, ref_ids: ArrayLike
) -> ComparisonScores:
    """Compare every probe with every reference (e.g. new photos against an enrolled gallery).

    The pairs are ``(probe index, reference index)``; a pair is mated when the probe and the
    reference have the same subject id. The two sets should hold *different* photos: a photo
    compared with itself would be a free perfect match.

    >>> s = cross_comparisons([[0.0], [5.0]], ["ann", "bob"], [[1.0]], ["ann"])
    >>> s.mated.tolist(), s.nonmated.tolist(), s.nonmated_pairs.tolist()
    ([1.0], [4.0], [[1, 0]])
    """
    probes = _checks.faceprints("probe_emb", probe_emb)
    refs = _checks.faceprints("ref_emb", ref_emb)
    p_ids = _checks.labels("probe_ids", probe_ids, len(probes))
    r_ids = _checks.labels("ref_ids", ref_ids, len(refs))
    if len(probes) == 0 or len(refs) == 0:
        raise ValueError("cross_comparisons: the probe and the reference sets must not be empty")
    distances = pairwise_distances(probes, refs)
    # Row-major order of the distance matrix: probe 0 against every reference, then probe 1...
    i = np.repeat(np.arange(len(probes)), len(refs))
    j = np.tile(np.arange(len(refs)), len(probes))
    return _split_by_subject(distances.ravel(), i, j, p_ids[i] == r_ids[j])


def _split_by_subject(scores: np.ndarray, i: np.ndarray, j: np.ndarray, mated: np.ndarray) -> ComparisonScores:
    pairs = np.column_stack([i, j])
    return ComparisonScores(
        mated=scores[mated], nonmated=scores[~mated], mated_pairs=pairs[mated], nonmated_pairs=pairs[~mated]
    )


# ---------------------------------------------------------------------------------------------
# Error rates at one threshold
# ---------------------------------------------------------------------------------------------


class FalseMatchFields:
    """The FMR's usual names, read from a ``false_match`` :class:`Rate` (a mixin for result types).

    ``false_matches`` and ``nonmated_count`` are the counts, ``fmr`` their ratio, ``fmr_ci`` its
    Wilson interval and ``confidence`` that interval's level; :class:`ErrorRates`,
    :class:`GroupFMR`, :class:`facecourse.demographics.GroupInterval` and
    :class:`facecourse.gallery_explorer.MeasuredFMR` all answer to them.

    >>> GroupFMR("all", "", "", Rate(1, 4)).fmr, GroupFMR("all", "", "", Rate(1, 4)).nonmated_count
    (0.25, 4)
    """

    false_match: Rate

    @property
    def false_matches(self) -> int:
        return self.false_match.count

    @property
    def nonmated_count(self) -> int:
        return self.false_match.total

    @property
    def fmr(self) -> float:
        return self.false_match.value

    @property
    def fmr_ci(self) -> tuple[float, float]:
        return self.false_match.ci

    @property
    def confidence(self) -> float:
        return self.false_match.confidence


@dataclass(frozen=True)
class ErrorRates(FalseMatchFields):
    """FMR and FNMR at one threshold: two :class:`Rate` objects, with the counts behind them.

    ``print(rates)`` shows something like::

        threshold 0.6
          FMR 0.91% (47 of 5,151 non-mated pairs; 95% CI 0.69%-1.21%)
          FNMR 2.00% (3 of 150 mated pairs; 95% CI 0.68%-5.71%)

    The intervals treat every comparison as independent, which they are not (the same people
    appear in many pairs): read them as a lower bound on the uncertainty; see
    :func:`fmr_bootstrap_by_subject` for an honest one.
    """

    threshold: float
    false_match: Rate
    false_non_match: Rate

    @classmethod
    def from_counts(
        cls,
        threshold: float,
        false_matches: int,
        nonmated_count: int,
        false_non_matches: int,
        mated_count: int,
        *,
        confidence: float = 0.95,
    ) -> ErrorRates:
        """Build the rates and their intervals from the four counts.

        >>> ErrorRates.from_counts(0.6, 1, 4, 0, 2).fmr
        0.25
        """
        return cls(float(threshold), Rate(false_matches, nonmated_count, confidence, "FMR"),
                   Rate(false_non_matches, mated_count, confidence, "FNMR"))

    @property
    def fnmr(self) -> float:
        return self.false_non_match.value

    @property
    def false_non_matches(self) -> int:
        return self.false_non_match.count

    @property
    def mated_count(self) -> int:
        return self.false_non_match.total

    @property
    def fnmr_ci(self) -> tuple[float, float]:
        return self.false_non_match.ci

    def fmr_text(self) -> str:
        """One line about the FMR.

        >>> print(error_rates_at([0.1], [0.2, 0.9], 0.5).fmr_text())
        FMR 50.00% (1 of 2 non-mated pairs; 95% CI 9.45%-90.55%)
        """
        return self.false_match.text("non-mated pairs")

    def fnmr_text(self) -> str:
        """One line about the FNMR.

        >>> print(error_rates_at([0.1, 0.3], [0.9], 0.2).fnmr_text())
        FNMR 50.00% (1 of 2 mated pairs; 95% CI 9.45%-90.55%)
        """
        return self.false_non_match.text("mated pairs")

    def summary(self) -> str:
        """Threshold, FMR and FNMR, on three lines (this is also what ``print`` shows)."""
        return f"threshold {self.threshold:.6g}\n  {self.fmr_text()}\n  {self.fnmr_text()}"

    def __str__(self) -> str:
        return self.summary()

    def as_row(self) -> dict[str, str]:
        """The rates as the cells of a table row, for :func:`format_table`."""
        conf = _text.confidence_label(self.confidence)
        return {
            "threshold": f"{self.threshold:.6g}",
            "FMR": _text.percent(self.fmr),
            f"FMR {conf} CI": _text.interval(self.fmr_ci),
            "false matches": f"{self.false_matches:,} / {self.nonmated_count:,}",
            "FNMR": _text.percent(self.fnmr),
            f"FNMR {conf} CI": _text.interval(self.fnmr_ci),
            "false non-matches": f"{self.false_non_matches:,} / {self.mated_count:,}",
        }


def error_rates_at(
    mated: ArrayLike, nonmated: ArrayLike, threshold: float, *, confidence: float = 0.95
) -> ErrorRates:
    """FMR and FNMR when a comparison is a match if ``distance <= threshold``.

    Example (mated = 0.1, 0.3, 0.5; non-mated = 0.2, 0.4, 0.6, 0.8; threshold 0.45): the non-mated
    0.2 and 0.4 are false matches (FMR = 2/4) and the mated 0.5 is a false non-match (FNMR = 1/3).

    >>> r = error_rates_at([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8], threshold=0.45)
    >>> r.fmr, r.false_matches, r.fnmr, r.false_non_matches
    (0.5, 2, 0.3333333333333333, 1)
    >>> print(r)
    threshold 0.45
      FMR 50.00% (2 of 4 non-mated pairs; 95% CI 15.00%-85.00%)
      FNMR 33.33% (1 of 3 mated pairs; 95% CI 6.15%-79.23%)

    For many thresholds at once use :func:`error_rate_curves` or :func:`error_rates_at_thresholds`.
    """
    m, nm = _two_score_sets(mated, nonmated)
    t = _checks.curve_threshold(threshold)
    return ErrorRates.from_counts(
        t,
        false_matches=int(np.count_nonzero(nm <= t)),
        nonmated_count=nm.size,
        false_non_matches=int(np.count_nonzero(m > t)),
        mated_count=m.size,
        confidence=confidence,
    )


# ---------------------------------------------------------------------------------------------
# Error rates at every threshold
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ErrorCurves:
    """FMR and FNMR tabulated at increasing thresholds.

    ``fmr[k]`` and ``fnmr[k]`` are the rates when matching at ``distance <= thresholds[k]``;
    ``false_matches[k]`` and ``false_non_matches[k]`` are the counts behind them.

    ``complete`` is True when ``thresholds`` holds every distinct score (as made by
    :func:`error_rate_curves`): both rates are step functions that only change at a score, so the
    table then gives the exact rates at *any* threshold. It is False for curves tabulated at
    chosen thresholds only (:func:`error_rates_at_thresholds`, :func:`curves_from_histogram`).
    """

    thresholds: np.ndarray
    fmr: np.ndarray
    fnmr: np.ndarray
    false_matches: np.ndarray
    false_non_matches: np.ndarray
    mated_count: int
    nonmated_count: int
    complete: bool = True

    def __len__(self) -> int:
        return len(self.thresholds)

    def __repr__(self) -> str:
        kind = "every score" if self.complete else "chosen thresholds"
        return (f"ErrorCurves({len(self):,} thresholds ({kind}); {self.mated_count:,} mated, "
                f"{self.nonmated_count:,} non-mated)")

    def at(self, threshold: float, *, confidence: float = 0.95) -> ErrorRates:
        """The rates at one threshold, read from the table.

        For a ``complete`` curve this is exact at any threshold. Otherwise the rates are those of
        the largest tabulated threshold not above ``threshold`` (a threshold within 1e-9,
        relatively, of a tabulated one counts as that one, so 0.6 finds a bin edge stored as
        0.6000000000000001), and the returned ``threshold`` says which one was used.

        >>> c = error_rate_curves([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8])
        >>> r = c.at(0.45)
        >>> r.false_matches, r.false_non_matches
        (2, 1)
        """
        t = _checks.curve_threshold(threshold)
        k = int(np.searchsorted(self.thresholds, t, side="right")) - 1
        if not self.complete:
            if k + 1 < len(self) and math.isclose(self.thresholds[k + 1], t, rel_tol=1e-9, abs_tol=1e-12):
                k += 1
            if k < 0:
                raise ValueError(f"threshold {t} is below the smallest tabulated one ({self.thresholds[0]})")
            t = float(self.thresholds[k])
        return ErrorRates.from_counts(t, self.false_matches[k], self.nonmated_count,
                                      self.false_non_matches[k], self.mated_count, confidence=confidence)

    def fmr_ci(self, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wilson interval of the FMR at every tabulated threshold (two arrays)."""
        return wilson_interval(self.false_matches, self.nonmated_count, confidence)  # type: ignore[return-value]

    def fnmr_ci(self, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wilson interval of the FNMR at every tabulated threshold (two arrays)."""
        return wilson_interval(self.false_non_matches, self.mated_count, confidence)  # type: ignore[return-value]


def _curves_from_counts(thresholds: np.ndarray, false_matches: np.ndarray, false_non_matches: np.ndarray,
                        mated_count: int, nonmated_count: int, complete: bool) -> ErrorCurves:
    return ErrorCurves(
        thresholds=thresholds,
        fmr=false_matches / nonmated_count,
        fnmr=false_non_matches / mated_count,
        false_matches=false_matches,
        false_non_matches=false_non_matches,
        mated_count=int(mated_count),
        nonmated_count=int(nonmated_count),
        complete=complete,
    )


def error_rate_curves(mated: ArrayLike, nonmated: ArrayLike) -> ErrorCurves:
    """FMR and FNMR at every threshold where either can change.

    The thresholds are ``-inf`` (nothing matches: FMR = 0, FNMR = 1) followed by every distinct
    score of either set, in increasing order. Each set is sorted once; then
    ``np.searchsorted(sorted_scores, thresholds, side="right")`` counts, for all thresholds at
    once, the scores ``<= threshold``.

    >>> c = error_rate_curves([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8])
    >>> c.thresholds.tolist()
    [-inf, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
    >>> c.false_matches.tolist(), c.false_non_matches.tolist()
    ([0, 0, 1, 1, 2, 2, 3, 4], [3, 2, 2, 1, 1, 0, 0, 0])
    """
    m, nm = _two_score_sets(mated, nonmated)
    thresholds = np.concatenate([[-np.inf], np.union1d(m, nm)])  # union1d: sorted distinct scores
    return _rates_at(np.sort(m), np.sort(nm), thresholds, complete=True)


def error_rates_at_thresholds(mated: ArrayLike, nonmated: ArrayLike, thresholds: ArrayLike) -> ErrorCurves:
    """FMR and FNMR at the given thresholds (the vectorised version of :func:`error_rates_at`).

    The thresholds are sorted and duplicates removed, so that the result is a curve like the one
    of :func:`error_rate_curves` (with ``complete=False``).

    >>> c = error_rates_at_thresholds([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8], [0.7, 0.45])
    >>> c.thresholds.tolist(), c.fmr.tolist(), c.fnmr.tolist()
    ([0.45, 0.7], [0.5, 0.75], [0.3333333333333333, 0.0])
    """
    m, nm = _two_score_sets(mated, nonmated)
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or np.any(np.isnan(t)):
        raise ValueError("error_rates_at_thresholds: thresholds must be a non-empty 1-D list of numbers")
    return _rates_at(np.sort(m), np.sort(nm), np.unique(t), complete=False)


def _rates_at(m_sorted: np.ndarray, nm_sorted: np.ndarray, thresholds: np.ndarray, complete: bool) -> ErrorCurves:
    false_matches = np.searchsorted(nm_sorted, thresholds, side="right")  # non-mated <= t
    false_non_matches = m_sorted.size - np.searchsorted(m_sorted, thresholds, side="right")  # mated > t
    return _curves_from_counts(thresholds, false_matches, false_non_matches, m_sorted.size, nm_sorted.size,
                               complete)


def equal_error_rate(mated: ArrayLike, nonmated: ArrayLike) -> tuple[float, float]:
    """The equal error rate (EER) and a threshold for it: where FMR = FNMR.

    Measured rates are step functions, so FMR and FNMR rarely take *exactly* the same value. The
    definition used here:

    * **the curves meet** (FMR = FNMR at some tabulated threshold): the EER is that common value,
      and the threshold is the middle of the range of thresholds where they are equal. For
      perfectly separated sets (every mated distance below every non-mated one) this gives
      EER = 0 and the midpoint of the gap between the two sets.
    * **they cross between two steps**: at threshold ``t0`` FMR < FNMR, at the next tabulated
      threshold ``t1`` FMR > FNMR. Draw the two operating points (FMR, FNMR) and join them with a
      straight line, as a DET or ROC plot does: the EER is where that line crosses the diagonal
      FMR = FNMR, i.e. at the fraction ``a = (FNMR0 - FMR0) / ((FNMR0 - FMR0) + (FMR1 - FNMR1))``
      of the way from the first point to the second. The threshold is ``t0 + a (t1 - t0)`` (or
      ``t1`` if ``t0`` is -inf). The rates actually obtained at that threshold are the step
      values: check them with ``error_rates_at``.

    (Other tools report (FMR + FNMR) / 2 at the threshold minimising |FMR - FNMR|; both agree
    when the curves meet, and otherwise differ by less than one step of the curves.)

    >>> equal_error_rate([0.1, 0.2, 0.3, 0.4], [0.35, 0.5, 0.6, 0.7])  # meet at 0.35: 1/4 each
    (0.25, 0.375)
    >>> equal_error_rate([0.1, 0.2], [0.6, 0.8])  # separated: EER 0, middle of the gap
    (0.0, 0.4)
    """
    c = error_rate_curves(mated, nonmated)
    # Sign of FMR - FNMR, compared exactly with integers (fm/N - fnm/M = (fm*M - fnm*N) / (N*M)).
    # It rises from -1 (at -inf: FMR 0, FNMR 1) to +1 (at the largest score: FMR 1, FNMR 0).
    gap = (c.false_matches.astype(np.int64) * c.mated_count
           - c.false_non_matches.astype(np.int64) * c.nonmated_count)
    j = int(np.argmax(gap >= 0))  # first threshold where FMR has caught up with FNMR
    if gap[j] == 0:
        last_equal = int(np.searchsorted(gap, 0, side="right")) - 1  # gap never decreases
        threshold = (c.thresholds[j] + c.thresholds[last_equal + 1]) / 2  # gap[-1] > 0, so it exists
        return float(c.fmr[j]), float(threshold)
    i = j - 1  # FMR < FNMR at i, FMR > FNMR at j
    below, above = c.fnmr[i] - c.fmr[i], c.fmr[j] - c.fnmr[j]
    a = below / (below + above)
    eer = c.fmr[i] + a * (c.fmr[j] - c.fmr[i])
    t0, t1 = c.thresholds[i], c.thresholds[j]
    threshold = t1 if np.isinf(t0) else t0 + a * (t1 - t0)
    return float(eer), float(threshold)


def threshold_for_fmr(nonmated: ArrayLike, target_fmr: float, *, midpoint: bool = False) -> float:
    """The largest threshold, among the observed non-mated distances, whose FMR is <= ``target_fmr``.

    Any threshold from the returned score up to (but excluding) the next larger non-mated score
    has the same FMR on these data; this function returns the observed score, the cautious end:
    on new data a higher threshold would only let more non-mated pairs through.

    If even the smallest non-mated score gives too high an FMR (in particular when
    ``target_fmr < 1/n`` with n non-mated pairs), it returns the largest number *below* the
    smallest non-mated score (``np.nextafter``), where the measured FMR is 0. Beware: with n
    non-mated pairs an FMR under 1/n cannot be measured; 0 false matches only shows FMR < ~3/n
    (95 % confidence).

    >>> threshold_for_fmr([0.2, 0.4, 0.6, 0.8], 0.5)   # 0.4 lets 2 of 4 through
    0.4
    >>> threshold_for_fmr([0.2, 0.4, 0.6, 0.8], 0.49)  # only 0.2 (1 of 4) stays under 49 %
    0.2
    >>> threshold_for_fmr([0.2, 0.4, 0.6, 0.8], 0.1) < 0.2
    True

    ``midpoint=True`` returns instead the point halfway to the next larger observed score (same
    FMR on these data). Use it when the pairs will be counted again from distances computed
    another way (per group, in a bootstrap, by a student's own code): a pair that sits exactly
    on the threshold can fall on either side once its distance is computed along another
    floating-point path (another BLAS kernel, another summation order), and the counts would
    then differ between two machines (CONTRIBUTING.md, "Numbers that hold on every CPU").

    >>> threshold_for_fmr([0.25, 0.5, 0.75, 1.0], 0.5, midpoint=True)   # halfway from 0.5 to 0.75
    0.625
    >>> threshold_for_fmr([0.25, 0.5], 1.0, midpoint=True)   # no larger score: the largest, plus its gap below
    0.625
    """
    nm = _checks.scores("nonmated", nonmated)
    _require_scores(nm, "non-mated")
    target = float(target_fmr)
    if not 0 <= target <= 1:
        raise ValueError(f"target_fmr must be between 0 and 1, got {target_fmr!r}")
    values = np.unique(nm)  # sorted distinct scores: the candidate thresholds
    fmr_at_values = np.searchsorted(np.sort(nm), values, side="right") / nm.size
    allowed = np.count_nonzero(fmr_at_values <= target)  # FMR increases, so these come first
    if allowed == 0:
        if midpoint:  # below the smallest score by half the gap above it: no pair near the threshold
            gap = values[1] - values[0] if values.size > 1 else 1.0
            return float(values[0] - gap / 2)
        return float(np.nextafter(values[0], -np.inf))
    if not midpoint:
        return float(values[allowed - 1])
    if allowed < values.size:
        return float((values[allowed - 1] + values[allowed]) / 2)
    gap = values[-1] - values[-2] if values.size > 1 else 1.0
    return float(values[-1] + gap / 2)


def fnmr_at_fmr(mated: ArrayLike, nonmated: ArrayLike, target_fmr: float, *,
                confidence: float = 0.95) -> ErrorRates:
    """The operating point NIST reports: set the threshold for an FMR target, then measure FNMR.

    E.g. "FNMR at FMR = 1e-3". The threshold comes from :func:`threshold_for_fmr`; the FMR
    obtained can be below the target (the curve moves in steps of 1/n).

    >>> r = fnmr_at_fmr([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8], 0.25)
    >>> r.threshold, r.fmr, r.false_non_matches
    (0.2, 0.25, 2)
    """
    m, nm = _two_score_sets(mated, nonmated)
    return error_rates_at(m, nm, threshold_for_fmr(nm, target_fmr), confidence=confidence)


# ---------------------------------------------------------------------------------------------
# DET plots
# ---------------------------------------------------------------------------------------------


class DETPoints(NamedTuple):
    """Points of a DET plot: normal deviates of FMR (x) and FNMR (y), and their thresholds."""

    fmr_deviate: np.ndarray
    fnmr_deviate: np.ndarray
    thresholds: np.ndarray


def det_points(curves: ErrorCurves) -> DETPoints:
    """Coordinates of a DET (detection error trade-off) plot.

    A DET plot draws FNMR against FMR with both axes on a *probit* scale: each rate p is
    replaced by the normal deviate ``probit(p)`` (the z with P(Z <= z) = p). On that scale the
    curve of two normal score distributions is a straight line, and the small rates that matter
    (0.1 %, 0.01 %) get as much room as the large ones. Label the axes with the rates:
    ``ticks = [1e-4, 1e-3, 0.01, 0.1, 0.5]; plt.xticks(probit(ticks), ticks)``.

    Points where FMR or FNMR is exactly 0 or 1 are dropped: their deviate is -inf or +inf, which
    no plot can show (and "0 errors" is no measurement of a small rate anyway).

    >>> c = error_rate_curves([0.1, 0.3, 0.5], [0.2, 0.4, 0.6, 0.8])
    >>> d = det_points(c)
    >>> d.thresholds.tolist(), d.fmr_deviate.round(3).tolist()
    ([0.2, 0.3, 0.4], [-0.674, -0.674, 0.0])
    """
    keep = (curves.fmr > 0) & (curves.fmr < 1) & (curves.fnmr > 0) & (curves.fnmr < 1)
    # 1-D in, 1-D out: probit returns a float only for a single number.
    return DETPoints(np.asarray(probit(curves.fmr[keep])), np.asarray(probit(curves.fnmr[keep])),
                     curves.thresholds[keep])


def probit(p: ArrayLike) -> np.ndarray | float:
    """The standard normal quantile of every ``p`` in (0, 1), vectorised.

    It gives the same numbers as ``statistics.NormalDist().inv_cdf(p)`` (to about 1e-15) because
    it is the same algorithm, Wichura's AS241 (Applied Statistics 37, 1988), written with numpy
    so that a million rates take milliseconds instead of a Python loop.

    >>> float(probit(0.5)), round(float(probit(0.975)), 6)
    (0.0, 1.959964)
    """
    p_arr = np.asarray(p, dtype=np.float64)
    if np.any(~((p_arr > 0) & (p_arr < 1))):
        raise ValueError("probit: every p must be strictly between 0 and 1")
    q = p_arr - 0.5
    x = np.empty_like(p_arr)

    central = np.abs(q) <= 0.425  # 0.075 <= p <= 0.925
    qc = q[central]
    r = 0.180625 - qc * qc
    x[central] = qc * _horner(_AS241_A, r) / _horner(_AS241_B, r)

    tail = ~central
    r = np.sqrt(-np.log(np.minimum(p_arr[tail], 1.0 - p_arr[tail])))
    near = r <= 5.0
    x_tail = np.where(near, _horner(_AS241_C, r - 1.6) / _horner(_AS241_D, r - 1.6),
                      _horner(_AS241_E, r - 5.0) / _horner(_AS241_F, r - 5.0))
    x[tail] = np.where(q[tail] < 0, -x_tail, x_tail)
    return float(x) if x.ndim == 0 else x


def _horner(coefficients: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    """Polynomial with the given coefficients (highest power first) evaluated at r."""
    acc: Any = coefficients[0]
    for c in coefficients[1:]:
        acc = acc * r + c
    return acc


# AS241 coefficients (highest power first), as in CPython's statistics module.
_AS241_A = (2.50908_09287_30122_6727e+3, 3.34305_75583_58812_8105e+4, 6.72657_70927_00870_0853e+4,
            4.59219_53931_54987_1457e+4, 1.37316_93765_50946_1125e+4, 1.97159_09503_06551_4427e+3,
            1.33141_66789_17843_7745e+2, 3.38713_28727_96366_6080e+0)
_AS241_B = (5.22649_52788_52854_5610e+3, 2.87290_85735_72194_2674e+4, 3.93078_95800_09271_0610e+4,
            2.12137_94301_58659_5867e+4, 5.39419_60214_24751_1077e+3, 6.87187_00749_20579_0830e+2,
            4.23133_30701_60091_1252e+1, 1.0)
_AS241_C = (7.74545_01427_83414_07640e-4, 2.27238_44989_26918_45833e-2, 2.41780_72517_74506_11770e-1,
            1.27045_82524_52368_38258e+0, 3.64784_83247_63204_60504e+0, 5.76949_72214_60691_40550e+0,
            4.63033_78461_56545_29590e+0, 1.42343_71107_49683_57734e+0)
_AS241_D = (1.05075_00716_44416_84324e-9, 5.47593_80849_95344_94600e-4, 1.51986_66563_61645_71966e-2,
            1.48103_97642_74800_74590e-1, 6.89767_33498_51000_04550e-1, 1.67638_48301_83803_84940e+0,
            2.05319_16266_37758_82187e+0, 1.0)
_AS241_E = (2.01033_43992_92288_13265e-7, 2.71155_55687_43487_57815e-5, 1.24266_09473_88078_43860e-3,
            2.65321_89526_57612_30930e-2, 2.96560_57182_85048_91230e-1, 1.78482_65399_17291_33580e+0,
            5.46378_49111_64114_36990e+0, 6.65790_46435_01103_77720e+0)
_AS241_F = (2.04426_31033_89939_78564e-15, 1.42151_17583_16445_88870e-7, 1.84631_83175_10054_68180e-5,
            7.86869_13114_56132_59100e-4, 1.48753_61290_85061_48525e-2, 1.36929_88092_27358_05310e-1,
            5.99832_20655_58879_37690e-1, 1.0)


# ---------------------------------------------------------------------------------------------
# Large sets: histograms instead of every distance
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HistogramCounts:
    """How many mated and non-mated distances fall in each bin.

    With ``E = len(bin_edges)`` edges there are ``E + 1`` counts, so that no distance is lost:

    * ``counts[0]``: distances ``<= bin_edges[0]``;
    * ``counts[k]`` for 1 <= k < E: ``bin_edges[k-1] < distance <= bin_edges[k]``;
    * ``counts[E]``: distances ``> bin_edges[-1]``.

    The bins include their *upper* edge, unlike ``np.histogram``, to follow the decision rule
    "match if distance <= threshold": the number of false matches at ``bin_edges[k]`` is then
    exactly ``nonmated_counts[:k + 1].sum()``.
    """

    bin_edges: np.ndarray
    mated_counts: np.ndarray
    nonmated_counts: np.ndarray

    @property
    def mated_total(self) -> int:
        return int(self.mated_counts.sum())

    @property
    def nonmated_total(self) -> int:
        return int(self.nonmated_counts.sum())

    def __repr__(self) -> str:
        return (f"HistogramCounts({len(self.bin_edges)} edges; {self.mated_total:,} mated, "
                f"{self.nonmated_total:,} non-mated)")


def error_counts_histogram(
    embeddings: ArrayLike, subject_ids: ArrayLike, bin_edges: ArrayLike, *, chunk_size: int = 2048
) -> HistogramCounts:
    """Histogram of all mated and non-mated distances, for sets too large to keep every distance.

    50,000 faceprints make 1.25 billion pairs: 10 GB of distances. Instead, the pairs ``i < j``
    are computed ``chunk_size`` rows at a time, each distance is put in its bin
    (``np.searchsorted`` on the edges) and only the counts are kept (``np.bincount``). Memory is
    about 25 bytes × ``chunk_size`` × ``len(embeddings)``: 2.5 GB for 50,000 faceprints with the
    default chunk size (which takes about a minute), 0.6 GB with ``chunk_size=512``.
    See :class:`HistogramCounts` for the bins, and :func:`curves_from_histogram` for the error rates.

    >>> h = error_counts_histogram([[0.0], [0.1], [1.0]], ["ann", "ann", "bob"], [0.5, 0.95])
    >>> h.mated_counts.tolist(), h.nonmated_counts.tolist()
    ([1, 0, 0], [0, 1, 1])
    """
    chunk_size = _checks.positive_int("chunk_size", chunk_size, what="a number of rows")
    x = _checks.faceprints("embeddings", embeddings)
    ids = _checks.labels("subject_ids", subject_ids, len(x))
    edges = _as_bin_edges(bin_edges)
    if len(x) < 2:
        raise ValueError(f"error_counts_histogram: need at least 2 faceprints to compare, got {len(x)}")
    n_bins = len(edges) + 1
    # One bincount does both sets: codes 0..n_bins-1 are non-mated, n_bins..2*n_bins-1 mated, and
    # 2*n_bins is a discard bin for the entries of a block that are not pairs i < j.
    counts = np.zeros(2 * n_bins + 1, dtype=np.int64)
    for start, stop, block in _upper_triangle_blocks(x, chunk_size):
        codes = np.searchsorted(edges, block, side="left")  # edges[k-1] < d <= edges[k] gives k
        del block
        codes[ids[start:stop, None] == ids[None, start:]] += n_bins
        rows = stop - start
        codes[:, :rows][np.tri(rows, dtype=bool)] = 2 * n_bins  # j <= i: not a new pair
        counts += np.bincount(codes.ravel(), minlength=2 * n_bins + 1)
    return HistogramCounts(bin_edges=edges, mated_counts=counts[n_bins:2 * n_bins],
                           nonmated_counts=counts[:n_bins])


def curves_from_histogram(hist: HistogramCounts) -> ErrorCurves:
    """FMR and FNMR at every bin edge of a :class:`HistogramCounts` (plus -inf, as in the exact curves).

    A distance is only known to lie somewhere in its bin, so the rates are exact at the edges
    and unknown in between: the curve has ``complete=False``, and ``curves.at(t)`` uses the
    largest edge not above ``t``.

    >>> h = error_counts_histogram([[0.0], [0.1], [1.0]], ["ann", "ann", "bob"], [0.5, 0.95])
    >>> c = curves_from_histogram(h)
    >>> c.thresholds.tolist(), c.fmr.tolist(), c.fnmr.tolist()
    ([-inf, 0.5, 0.95], [0.0, 0.0, 0.5], [1.0, 0.0, 0.0])
    """
    m_total, nm_total = hist.mated_total, hist.nonmated_total
    if m_total == 0 or nm_total == 0:
        raise ValueError("curves_from_histogram: the histogram needs both mated and non-mated distances")
    e = len(hist.bin_edges)
    thresholds = np.concatenate([[-np.inf], hist.bin_edges])
    # Cumulative counts: the k-th one is the number of distances <= bin_edges[k].
    false_matches = np.concatenate([[0], np.cumsum(hist.nonmated_counts)[:e]])
    false_non_matches = m_total - np.concatenate([[0], np.cumsum(hist.mated_counts)[:e]])
    return _curves_from_counts(thresholds, false_matches, false_non_matches, m_total, nm_total, complete=False)


# ---------------------------------------------------------------------------------------------
# People-level uncertainty: the bootstrap over subjects
# ---------------------------------------------------------------------------------------------


class BootstrapResult(NamedTuple):
    """A statistic on all subjects, its bootstrap percentile interval, and every replicate."""

    estimate: float
    lo: float
    hi: float
    replicates: np.ndarray


def bootstrap_by_subject(
    statistic: Callable[[np.ndarray], float],
    subject_ids: ArrayLike,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Confidence interval of a statistic by resampling *people* (a cluster bootstrap).

    Why not just a Wilson interval over pairs? It assumes every comparison is an independent
    trial, but they are not: 100 people with 5 photos each give 123,750 non-mated pairs, yet
    every person is in 2,475 of them. If one person happens to look like many others, all their
    pairs err together, and a different set of 100 volunteers would have given a different FMR
    far more often than 123,750 independent trials suggest. The Wilson interval is then too
    narrow. The unit that was sampled is the person, so that is what to resample.

    Each replicate draws as many subjects as there are, *with replacement* (some twice, some not
    at all) and calls ``statistic(drawn)`` with the drawn subject ids, repeats included. The
    statistic must then use every copy of a drawn subject (see :func:`fmr_bootstrap_by_subject`).
    The interval is the central ``confidence`` share of the replicates (percentile method);
    replicates where the statistic is nan (e.g. undefined for the draw) are left out of it but
    kept in ``replicates``.

    Returns ``(estimate, lo, hi, replicates)``, where ``estimate = statistic(all subjects, once)``.

    >>> heights = {"ann": 160.0, "bob": 180.0, "cy": 170.0}
    >>> res = bootstrap_by_subject(lambda drawn: float(np.mean([heights[s] for s in drawn])),
    ...                            list(heights), n_boot=200)
    >>> res.estimate, 160 <= res.lo <= res.hi <= 180, len(res.replicates)
    (170.0, True, 200)
    """
    _checks.confidence(confidence)
    subjects = np.unique(np.asarray(subject_ids))
    if subjects.size == 0:
        raise ValueError("bootstrap_by_subject: no subjects")
    draws = _draw_subjects(subjects.size, n_boot, seed)
    replicates = np.array([statistic(subjects[d]) for d in draws], dtype=np.float64)
    lo, hi = _percentile_interval(replicates, confidence)
    return BootstrapResult(float(statistic(subjects)), lo, hi, replicates)


def _draw_subjects(n_subjects: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_subjects) indices of subjects drawn with replacement: one row per replicate."""
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot!r}")
    return np.random.default_rng(seed).integers(0, n_subjects, size=(int(n_boot), n_subjects))


def _percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    defined = replicates[~np.isnan(replicates)]
    if defined.size == 0:
        return math.nan, math.nan
    alpha = 1 - confidence
    lo, hi = np.quantile(defined, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def fmr_bootstrap_by_subject(
    embeddings: ArrayLike,
    subject_ids: ArrayLike,
    threshold: float,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    chunk_size: int = 2048,
) -> BootstrapResult:
    """FMR at ``threshold`` with a people-level bootstrap interval (see :func:`bootstrap_by_subject`).

    In a replicate, a subject drawn twice brings all their photos twice. Two copies of the same
    person are still the same person, so they are never compared as a non-mated pair: a pair
    counts only if the two *original* subjects differ.

    Computing the distances again for every replicate would be slow, and is not needed:

    * ``C[s, t]`` = number of false matches (distance <= threshold) between the photos of
      subject s and those of subject t; ``C[s, s] = 0`` (same person: not a non-mated pair).
    * ``P[s, t]`` = number of non-mated pairs between them, ``n_s × n_t`` (``P[s, s] = 0``).

    If a replicate draws subject s ``w[s]`` times, every copy of s is compared with every copy of
    t, so those two contribute ``w[s] w[t] C[s, t]`` false matches, and summing over s and t,
    ``FMR = (w @ C @ w) / (w @ P @ w)``. (Both sums count each pair twice, as (s, t) and (t, s);
    that cancels in the ratio.) All replicates at once are one matrix product.

    Replicates that drew a single person over and over have no non-mated pair: their FMR is nan.

    >>> emb = [[0.0], [0.1], [0.3], [2.0], [2.2]]
    >>> res = fmr_bootstrap_by_subject(emb, ["a", "a", "b", "c", "c"], 0.5, n_boot=100)
    >>> res.estimate  # 2 of the 8 non-mated pairs are closer than 0.5: (0, 0.3) and (0.1, 0.3)
    0.25
    """
    _checks.confidence(confidence)
    x = _checks.faceprints("embeddings", embeddings)
    ids = _checks.labels("subject_ids", subject_ids, len(x))
    t = _checks.curve_threshold(threshold)
    chunk_size = _checks.positive_int("chunk_size", chunk_size, what="a number of rows")
    subjects, subject_index = np.unique(ids, return_inverse=True)
    if subjects.size < 2:
        raise ValueError("fmr_bootstrap_by_subject: need at least 2 subjects to make non-mated pairs")
    false_match_counts = _subject_false_matches(x, subject_index, subjects.size, t, chunk_size).astype(np.float64)
    pair_counts = _subject_pair_counts(subject_index, subjects.size).astype(np.float64)

    w = _multiplicities(_draw_subjects(subjects.size, n_boot, seed), subjects.size)
    # Row b of w is the multiplicity vector of replicate b; ((w @ C) * w).sum(1) is w_b @ C @ w_b for every b.
    false_matches = ((w @ false_match_counts) * w).sum(axis=1)
    pairs = ((w @ pair_counts) * w).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = np.where(pairs > 0, false_matches / pairs, np.nan)
    lo, hi = _percentile_interval(replicates, confidence)
    return BootstrapResult(float(false_match_counts.sum() / pair_counts.sum()), lo, hi, replicates)


def _multiplicities(draws: np.ndarray, n_subjects: int) -> np.ndarray:
    """w[b, s] = how many times replicate b drew subject s (a bincount of every row at once)."""
    n_boot = len(draws)
    offset = np.arange(n_boot)[:, None] * n_subjects  # give each replicate its own range of codes
    counts = np.bincount((draws + offset).ravel(), minlength=n_boot * n_subjects)
    return counts.reshape(n_boot, n_subjects).astype(np.float64)


def _subject_false_matches(x: np.ndarray, subject_index: np.ndarray, n_subjects: int,
                           threshold: float, chunk_size: int) -> np.ndarray:
    """C[s, t]: false matches (distance <= threshold) between the samples of s and t; 0 on the diagonal."""
    upper = np.zeros((n_subjects, n_subjects), dtype=np.int64)
    for start, stop, block in _upper_triangle_blocks(x, chunk_size):
        hit = block <= threshold
        rows = stop - start
        hit[:, :rows][np.tri(rows, dtype=bool)] = False  # keep only pairs j > i
        hit &= subject_index[start:stop, None] != subject_index[None, start:]  # non-mated only
        r, q = np.nonzero(hit)
        np.add.at(upper, (subject_index[start + r], subject_index[start + q]), 1)
    return upper + upper.T  # each unordered pair counted as (s, t) and as (t, s)


def _subject_pair_counts(subject_index: np.ndarray, n_subjects: int) -> np.ndarray:
    """P[s, t] = n_s × n_t non-mated pairs between subjects s != t; 0 on the diagonal."""
    n = np.bincount(subject_index, minlength=n_subjects).astype(np.int64)
    pairs = np.outer(n, n)
    np.fill_diagonal(pairs, 0)
    return pairs


# ---------------------------------------------------------------------------------------------
# Groups of people
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFMR(FalseMatchFields):
    """FMR among the non-mated pairs of one kind: within a group, across two groups, or overall.

    ``kind`` is "within" (both people in ``group_a``, which equals ``group_b``), "across" (one in
    each group) or "all" (every non-mated pair). ``false_match`` is the :class:`Rate` (false
    matches of non-mated pairs, with its Wilson interval); ``false_matches``, ``nonmated_count``,
    ``fmr``, ``fmr_ci`` and ``confidence`` read it, as in :class:`ErrorRates`.
    """

    kind: str
    group_a: str
    group_b: str
    false_match: Rate

    @property
    def label(self) -> str:
        if self.kind == "within":
            return f"within {self.group_a}"
        if self.kind == "across":
            return f"{self.group_a} vs {self.group_b}"
        return "all pairs"

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`format_table`."""
        return {
            "non-mated pairs": self.label,
            "count": f"{self.nonmated_count:,}",
            "false matches": f"{self.false_matches:,}",
            "FMR": _text.percent(self.fmr),
            f"{_text.confidence_label(self.confidence)} CI": _text.interval(self.fmr_ci),
        }


def group_error_rates(
    embeddings: ArrayLike,
    subject_ids: ArrayLike,
    groups: Mapping[Any, Any] | ArrayLike,
    threshold: float,
    *,
    confidence: float = 0.95,
    chunk_size: int = 2048,
) -> list[GroupFMR]:
    """FMR within each group of people and across every two groups, at one threshold.

    ``groups`` gives each subject's group (e.g. a self-reported category): either a mapping
    ``{subject id: group}``, or one label per sample, like ``subject_ids`` (all samples of a
    subject must then carry the same label). The rows come in this order: one "within" row per
    group (both people in the group), one "across" row per two groups, and an "all" row.

    Differences between the within-group FMRs are the "demographic differentials" that NIST
    measured (NIST IR 8280): at one global threshold, some groups get many more false matches.
    The Wilson intervals here assume independent pairs and are too narrow (see
    :func:`bootstrap_by_subject`); with few people per group, take differences with caution.

    >>> emb = [[0.0], [1.0], [10.0], [10.5]]
    >>> rows = group_error_rates(emb, [1, 2, 3, 4], {1: "A", 2: "A", 3: "B", 4: "B"}, threshold=2.0)
    >>> [(r.label, r.false_matches, r.nonmated_count) for r in rows]
    [('within A', 1, 1), ('within B', 1, 1), ('A vs B', 0, 4), ('all pairs', 2, 6)]
    """
    _checks.confidence(confidence)
    chunk_size = _checks.positive_int("chunk_size", chunk_size, what="a number of rows")
    x = _checks.faceprints("embeddings", embeddings)
    ids = _checks.labels("subject_ids", subject_ids, len(x))
    t = _checks.curve_threshold(threshold)
    subjects, subject_index = np.unique(ids, return_inverse=True)
    group_names, group_of_subject = _groups_of_subjects(subjects, subject_index, groups, len(x))

    # Subject-by-subject counts, then summed over the subjects of each group:
    # in_groups = H.T @ C @ H, with H[s, g] = 1 when subject s is in group g.
    h = np.zeros((subjects.size, group_names.size))
    h[np.arange(subjects.size), group_of_subject] = 1.0
    c = h.T @ _subject_false_matches(x, subject_index, subjects.size, t, chunk_size) @ h
    p = h.T @ _subject_pair_counts(subject_index, subjects.size) @ h

    def row(kind: str, a: str, b: str, false_matches: float, pairs: float) -> GroupFMR:
        fm, n = round(float(false_matches)), round(float(pairs))  # round() of a Python float is an int
        return GroupFMR(kind, a, b, Rate(fm, n, confidence, "FMR"))

    names = [str(g) for g in group_names.tolist()]
    # C and P count every pair twice, as (s, t) and (t, s): within a group both land in the
    # diagonal entry; across groups g and h one lands in [g, h] and the other in [h, g].
    rows = [row("within", g, g, c[k, k] / 2, p[k, k] / 2) for k, g in enumerate(names)]
    rows += [row("across", names[k], names[m], c[k, m], p[k, m])
             for k in range(len(names)) for m in range(k + 1, len(names))]
    rows.append(row("all", "all", "all", c.sum() / 2, p.sum() / 2))
    return rows


def _groups_of_subjects(subjects: np.ndarray, subject_index: np.ndarray,
                        groups: Mapping[Any, Any] | ArrayLike, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted group names, group index of every subject), checking that the groups make sense."""
    if isinstance(groups, Mapping):
        missing = [s for s in subjects.tolist() if s not in groups]
        if missing:
            raise ValueError(f"groups: no group given for subject(s) {missing[:5]}")
        per_subject = np.asarray([groups[s] for s in subjects.tolist()])
    else:
        per_sample = _checks.labels("groups", groups, n_samples)
        _, first_sample = np.unique(subject_index, return_index=True)  # first sample of each subject
        per_subject = per_sample[first_sample]
        mixed = per_sample != per_subject[subject_index]
        if np.any(mixed):
            bad = subjects[subject_index[mixed]][:5].tolist()
            raise ValueError(f"groups: subject(s) {bad} have samples in different groups; "
                             "a person belongs to one group")
    names, group_of_subject = np.unique(per_subject, return_inverse=True)
    return names, group_of_subject


@dataclass(frozen=True)
class GroupThreshold:
    """The threshold that gives one group a target FMR among its own non-mated pairs."""

    group: str
    target_fmr: float
    threshold: float
    false_matches: int
    nonmated_count: int
    fmr: float

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`format_table`."""
        return {
            "group": self.group,
            "threshold": "n/a" if math.isnan(self.threshold) else f"{self.threshold:.4f}",
            "non-mated pairs": f"{self.nonmated_count:,}",
            "false matches": f"{self.false_matches:,}",
            "FMR": _text.percent(self.fmr),
        }


def threshold_for_fmr_by_group(
    embeddings: ArrayLike,
    subject_ids: ArrayLike,
    groups: Mapping[Any, Any] | ArrayLike,
    target_fmr: float,
) -> list[GroupThreshold]:
    """For each group, the threshold that gives ``target_fmr`` within that group.

    Uses :func:`threshold_for_fmr` on the non-mated pairs whose two people are both in the
    group. If these thresholds differ, one global threshold cannot give every group the same
    FMR. A group with fewer than two people has no non-mated pair: its threshold is nan.

    >>> emb = [[0.0], [1.0], [10.0], [10.5], [12.5]]
    >>> rows = threshold_for_fmr_by_group(emb, [1, 2, 3, 4, 5], {1: "A", 2: "A", 3: "B", 4: "B", 5: "B"}, 0.34)
    >>> [(r.group, r.threshold, r.false_matches, r.nonmated_count) for r in rows]
    [('A', 0.9999999999999999, 0, 1), ('B', 0.5, 1, 3)]
    """
    x = _checks.faceprints("embeddings", embeddings)
    ids = _checks.labels("subject_ids", subject_ids, len(x))
    subjects, subject_index = np.unique(ids, return_inverse=True)
    names, group_of_subject = _groups_of_subjects(subjects, subject_index, groups, len(x))
    group_of_sample = group_of_subject[subject_index]
    rows = []
    for k, name in enumerate(names.tolist()):
        members = group_of_sample == k
        nonmated = np.empty(0)
        if np.unique(ids[members]).size >= 2:
            nonmated = mated_and_nonmated(x[members], ids[members]).nonmated
        if nonmated.size == 0:
            rows.append(GroupThreshold(str(name), float(target_fmr), math.nan, 0, 0, math.nan))
            continue
        t = threshold_for_fmr(nonmated, target_fmr)
        fm = int(np.count_nonzero(nonmated <= t))
        rows.append(GroupThreshold(str(name), float(target_fmr), t, fm, nonmated.size, fm / nonmated.size))
    return rows


# ---------------------------------------------------------------------------------------------
# Checking the inputs (clear messages instead of numpy errors deep inside)
# ---------------------------------------------------------------------------------------------


def _require_scores(arr: np.ndarray, kind: str) -> None:
    if arr.size == 0:
        hint = ("each subject needs at least two samples" if kind == "mated"
                else "at least two different subjects are needed")
        raise ValueError(f"no {kind} comparisons, so no {kind} error rate can be measured ({hint})")


def _two_score_sets(mated: ArrayLike, nonmated: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    m = _checks.scores("mated", mated)
    nm = _checks.scores("nonmated", nonmated)
    _require_scores(m, "mated")
    _require_scores(nm, "non-mated")
    return m, nm


def _as_bin_edges(edges: ArrayLike) -> np.ndarray:
    arr = np.asarray(edges, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise ValueError("bin_edges must be a non-empty 1-D list of finite, strictly increasing numbers")
    return arr
