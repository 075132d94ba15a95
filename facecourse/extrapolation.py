"""From a classroom gallery to billions: growth curves, memory arithmetic, honest extrapolation.

Lesson 04 measures 1:N search on galleries it can hold (10^4 - 10^7 faceprints) and asks
what the same search costs, and how often it is wrong, at Clearview's claimed 3x10^9
photos.  Three tools, each hand-checkable:

* :func:`fit_power_law` - fit ``y = a * x^b`` by least squares on ``log10 y`` against
  ``log10 x`` (a straight line on log-log axes), or ``y = a * x`` when ``exponent=1`` is
  fixed (cost linear in the gallery size).  The result prints its parameters, its R^2 and
  the range of x it was measured on.
* :func:`extrapolate` - evaluate a fit far outside that range and return the value
  *together with the assumptions it rests on, as text* (:class:`Extrapolation`), so that a
  notebook can never print the number without them.
* :func:`memory_per_faceprint` / :func:`memory_table` - bytes per faceprint for the usual
  storage formats (float64 as face_recognition returns them, float32, float16, int8 scalar
  quantisation, product-quantisation codes) and the total for N faceprints.

Plus two small measurement helpers: :func:`time_best_of` (repeat a timing, keep best and
median) and :func:`fpir_by_gallery_size` (measured false-positive identification rate of
non-mated searches against random sub-galleries of every size, to set beside the
independence formula ``1 - (1 - FMR)^N``), and :func:`read_results_csv` (typed rows of a
benchmark CSV, without pandas).

Nothing here knows about faces: it is arithmetic on measurements.  Which measurements, and
what the extrapolation assumes about them, is the caller's to state.
"""

from __future__ import annotations

import csv
import gc
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks

__all__ = [
    "Extrapolation",
    "GallerySizeFPIR",
    "MemoryRow",
    "PowerLawFit",
    "Timing",
    "extrapolate",
    "fit_power_law",
    "format_bytes",
    "format_duration",
    "fpir_by_gallery_size",
    "memory_per_faceprint",
    "memory_table",
    "read_results_csv",
    "time_best_of",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- power-law fit


@dataclass(frozen=True)
class PowerLawFit:
    """``y = coefficient * x ** exponent``, fitted on log-log axes.

    Attributes:
        coefficient: ``a`` (the value of y at x = 1).
        exponent: ``b`` (slope on log-log axes; 1 = linear growth).
        r_squared: coefficient of determination of the straight line on ``log10 y``
            (1 = every point on the line).
        n_points: number of measurements fitted.
        x_min, x_max: range of x measured; predictions outside it are extrapolations.
        exponent_fixed: True when the exponent was imposed (e.g. 1 for "linear in N").
        x_name, y_name: what x and y are, for printing.

    >>> fit = fit_power_law([10, 100, 1000], [2, 20, 200])  # y = 0.2 x exactly
    >>> print(fit)
    y ≈ 0.2 × x^1 (log-log least squares on 3 points, x = 10 – 1000, R² = 1)
    """

    coefficient: float
    exponent: float
    r_squared: float
    n_points: int
    x_min: float
    x_max: float
    exponent_fixed: bool = False
    x_name: str = "x"
    y_name: str = "y"

    def predict(self, x: ArrayLike) -> float | NDArray[np.float64]:
        """``coefficient * x ** exponent`` (a float for a number, an array for an array).

        >>> PowerLawFit(3.0, 2.0, 1.0, 2, 1, 10).predict(4)  # 3 * 4^2
        48.0
        """
        arr = np.asarray(x, dtype=np.float64)
        if np.any(arr <= 0):
            raise ValueError("a power law is only defined for x > 0.")
        out = self.coefficient * arr**self.exponent
        return float(out) if out.ndim == 0 else out

    def __str__(self) -> str:
        if self.exponent_fixed:
            how = f"exponent fixed at {self.exponent:g}, coefficient fitted on"
        else:
            how = "log-log least squares on"
        return (
            f"{self.y_name} ≈ {self.coefficient:.4g} × {self.x_name}^{self.exponent:.3g} "
            f"({how} {self.n_points} points, {self.x_name} = {self.x_min:g} – {self.x_max:g}, "
            f"R² = {self.r_squared:.4g})"
        )


def _positive_pairs(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y need the same number of values, got {xa.size} and {ya.size}.")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite numbers (drop the failed measurements first).")
    if np.any(xa <= 0) or np.any(ya <= 0):
        raise ValueError(
            "a power law is fitted on logarithms: every x and y must be > 0 "
            "(a time or a size of 0 cannot be on log-log axes)."
        )
    return xa, ya


def fit_power_law(
    x: ArrayLike,
    y: ArrayLike,
    *,
    exponent: float | None = None,
    x_name: str = "x",
    y_name: str = "y",
) -> PowerLawFit:
    """Fit ``y = a * x^b`` as the least-squares straight line ``log10 y = log10 a + b log10 x``.

    With ``exponent`` given, only ``a`` is fitted: ``log10 a = mean(log10 y - b log10 x)``
    (``exponent=1`` is "cost linear in N", the model of an exhaustive scan).  Least squares
    on logarithms weighs every point by its *relative* error, so a size of 10^4 counts as
    much as a size of 10^7.  Needs at least two distinct x (three for a free exponent to
    have a meaningful R^2).

    >>> fit = fit_power_law([1e4, 1e5, 1e6], [3e-3, 3e-2, 3e-1], x_name="N", y_name="t")
    >>> round(fit.exponent, 12), round(fit.coefficient, 12)
    (1.0, 3e-07)
    >>> fit_power_law([1, 2, 4], [1, 4, 16], exponent=1).exponent_fixed
    True
    """
    xa, ya = _positive_pairs(x, y)
    if np.unique(xa).size < 2:
        raise ValueError("need measurements at two or more different x to fit a curve.")
    lx, ly = np.log10(xa), np.log10(ya)
    if exponent is None:
        b, log_a = np.polyfit(lx, ly, 1)
    else:
        b = float(exponent)
        log_a = float(np.mean(ly - b * lx))
    residual = ly - (log_a + b * lx)
    ss_res = float(residual @ residual)
    centred = ly - ly.mean()
    ss_tot = float(centred @ centred)
    # Every y equal (ss_tot == 0): the line is perfect if it goes through them.
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res < 1e-24 else 0.0)
    return PowerLawFit(
        coefficient=float(10.0**log_a),
        exponent=float(b),
        r_squared=float(r2),
        n_points=int(xa.size),
        x_min=float(xa.min()),
        x_max=float(xa.max()),
        exponent_fixed=exponent is not None,
        x_name=x_name,
        y_name=y_name,
    )


# --------------------------------------------------------------------------- extrapolation


@dataclass(frozen=True)
class Extrapolation:
    """A number projected far from where it was measured, with what it assumes.

    ``str()`` prints the value and, beneath it, every assumption: print them together.
    """

    quantity: str
    unit: str
    x: float
    value: float
    assumptions: tuple[str, ...]
    fit: PowerLawFit | None = None

    @property
    def factor_beyond_data(self) -> float:
        """How far beyond the largest measured x the projection goes (1 = inside the data)."""
        if self.fit is None:
            return math.nan
        return self.x / self.fit.x_max

    def __str__(self) -> str:
        head = f"{self.quantity} at {self.x:.3g}: {self.value:.4g} {self.unit}".rstrip()
        lines = [head, "  assumes:"]
        lines += [f"  - {a}" for a in self.assumptions]
        return "\n".join(lines)


def extrapolate(
    fit: PowerLawFit,
    x: float,
    *,
    quantity: str,
    unit: str = "",
    assumptions: Iterable[str] = (),
) -> Extrapolation:
    """Evaluate ``fit`` at ``x`` and attach the assumptions (the fit's own first).

    The first assumption is always that the fitted curve, measured for x in
    ``[x_min, x_max]``, continues unchanged to ``x`` (and by what factor that goes beyond
    the data); pass the domain-specific ones (hardware, independence, data) in
    ``assumptions``.

    >>> fit = fit_power_law([1e4, 1e5, 1e6], [1e-3, 1e-2, 1e-1], x_name="N", y_name="t")
    >>> e = extrapolate(fit, 3e9, quantity="time per search", unit="s",
    ...                 assumptions=["the scan is memory-bandwidth-bound"])
    >>> round(e.value, 6), e.factor_beyond_data
    (300.0, 3000.0)
    >>> print(e)  # doctest: +NORMALIZE_WHITESPACE
    time per search at 3e+09: 300 s
      assumes:
      - t ≈ 1e-07 × N^1 (fitted on N = 10000 – 1e+06) still holds at N = 3e+09, 3,000× beyond the largest measurement
      - the scan is memory-bandwidth-bound
    """
    if not (isinstance(x, (int, float, np.integer, np.floating)) and x > 0):
        raise ValueError(f"x must be a positive number, got {x!r}.")
    value = fit.predict(float(x))
    factor = float(x) / fit.x_max
    where = (
        f"{factor:,.0f}× beyond the largest measurement" if factor >= 10
        else f"{factor:.2g}× beyond the largest measurement" if factor > 1
        else "inside the measured range" if float(x) >= fit.x_min
        else f"{fit.x_min / float(x):.2g}× below the smallest measurement"
    )
    own = (
        f"{fit.y_name} ≈ {fit.coefficient:.4g} × {fit.x_name}^{fit.exponent:.3g} "
        f"(fitted on {fit.x_name} = {fit.x_min:g} – {fit.x_max:g}) still holds at "
        f"{fit.x_name} = {float(x):g}, {where}"
    )
    return Extrapolation(quantity, unit, float(x), float(value), (own, *assumptions), fit)


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class MemoryRow:
    """Bytes per faceprint for one storage format."""

    storage: str
    bytes_per_faceprint: int
    exact_distances: bool
    note: str

    def total(self, n: float, *, id_bytes: int = 0) -> float:
        """Bytes for ``n`` faceprints, each with an ``id_bytes`` identifier.

        >>> MemoryRow("float32", 512, True, "").total(1000, id_bytes=8)
        520000.0
        """
        return float(n) * (self.bytes_per_faceprint + id_bytes)


def memory_per_faceprint(dim: int = 128, *, pq_bytes: int = 16) -> list[MemoryRow]:
    """Storage of one ``dim``-number faceprint in the usual formats, largest first.

    * float64 - 8 bytes a number, what face_recognition returns;
    * float32 - 4 bytes, what faiss and this course's indexes store;
    * float16 - 2 bytes, what a GPU scan typically uses;
    * int8 - 1 byte (scalar quantisation; distances approximate);
    * PQ codes - ``pq_bytes`` bytes in all (product quantisation, e.g. faiss IVF-PQ with
      ``pq_m = pq_bytes`` sub-vectors of 8 bits; distances approximate).

    Identifiers, graph links, inverted-list overhead and allocator slack come on top.

    >>> [(r.storage, r.bytes_per_faceprint) for r in memory_per_faceprint(128)]
    [('float64', 1024), ('float32', 512), ('float16', 256), ('int8', 128), ('PQ codes (16 B)', 16)]
    """
    if dim < 1 or pq_bytes < 1:
        raise ValueError(f"dim and pq_bytes must be positive, got dim={dim}, pq_bytes={pq_bytes}.")
    return [
        MemoryRow("float64", 8 * dim, True, "as face_recognition returns them"),
        MemoryRow("float32", 4 * dim, True, "faiss / this course's indexes"),
        MemoryRow("float16", 2 * dim, True, "typical for a GPU scan (rounding ~1e-3)"),
        MemoryRow("int8", dim, False, "scalar quantisation: approximate distances"),
        MemoryRow(f"PQ codes ({pq_bytes} B)", pq_bytes, False,
                  "product quantisation: approximate distances"),
    ]


def format_bytes(n: float) -> str:
    """Decimal (SI) units with three significant figures: 1 kB = 1000 B.

    >>> format_bytes(512), format_bytes(1_536_000_000_000), format_bytes(4.8e10)
    ('512 B', '1.54 TB', '48 GB')
    """
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"a number of bytes must be finite and >= 0, got {n!r}.")
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    i = 0
    value = float(n)
    while value >= 999.5 and i < len(units) - 1:
        value /= 1000.0
        i += 1
    if i == 0:
        return f"{round(value)} B"
    return f"{value:.3g} {units[i]}"


def format_duration(seconds: float) -> str:
    """A duration in the largest sensible unit, three significant figures.

    >>> format_duration(0.0123), format_duration(45), format_duration(7200), format_duration(3 * 86400)
    ('12.3 ms', '45 s', '2 h', '3 d')
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be finite and >= 0, got {seconds!r}.")
    for limit, div, unit in ((1e-3, 1e-6, "µs"), (1.0, 1e-3, "ms"), (60.0, 1.0, "s"),
                             (3600.0, 60.0, "min"), (86400.0, 3600.0, "h")):
        if seconds < limit:
            return f"{seconds / div:.3g} {unit}"
    return f"{seconds / 86400.0:.3g} d"


def memory_table(
    n: float, dim: int = 128, *, pq_bytes: int = 16, id_bytes: int = 8
) -> list[dict[str, str]]:
    """Rows ``{storage, bytes/faceprint, for N faceprints, distances}`` for ``metrics.format_table``.

    The total adds ``id_bytes`` per faceprint for the identifier of each row.

    >>> rows = memory_table(3e9)
    >>> rows[1]["storage"], rows[1]["for 3e+09 faceprints"]  # (512 + 8) bytes * 3e9
    ('float32', '1.56 TB')
    """
    rows = []
    for r in memory_per_faceprint(dim, pq_bytes=pq_bytes):
        rows.append({
            "storage": r.storage,
            "bytes/faceprint": f"{r.bytes_per_faceprint} + {id_bytes} id",
            f"for {n:.3g} faceprints": format_bytes(r.total(n, id_bytes=id_bytes)),
            "distances": "exact" if r.exact_distances else "approximate",
        })
    return rows


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing(Generic[T]):
    """Wall-clock times of repeated runs of one call, in seconds, and its last result."""

    times: tuple[float, ...]
    result: T

    @property
    def best(self) -> float:
        """Shortest run: the least disturbed by other work on a shared machine."""
        return min(self.times)

    @property
    def median(self) -> float:
        """Median run."""
        return float(statistics.median(self.times))


def time_best_of(fn: Callable[[], T], *, repeat: int = 3) -> Timing[T]:
    """Call ``fn()`` ``repeat`` times (garbage collection run before each); time each call.

    Report :attr:`Timing.best` for "how fast can it go" and :attr:`Timing.median` for
    "what to expect"; on a shared machine the two can differ a lot.

    >>> t = time_best_of(lambda: sum(range(1000)), repeat=3)
    >>> len(t.times), t.result, t.best <= t.median
    (3, 499500, True)
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}.")
    times = []
    result: Any = None
    for _ in range(int(repeat)):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return Timing(tuple(times), result)


# --------------------------------------------------------------------------- FPIR vs gallery size


@dataclass(frozen=True)
class GallerySizeFPIR:
    """Measured FPIR of non-mated searches against random sub-galleries of each size.

    ``fpir[i]`` is the share of (search, random gallery) draws of size ``sizes[i]`` that
    return at least one candidate with distance <= ``threshold``.  The draws re-use the
    same searches and gallery entries, so they are *not* independent trials: read the
    curve as an average, not as ``n_searches * n_draws`` independent counts.
    """

    sizes: NDArray[np.int64]
    fpir: NDArray[np.float64]
    threshold: float
    n_searches: int
    n_draws: int


def fpir_by_gallery_size(
    distances: ArrayLike,
    threshold: float,
    *,
    sizes: Sequence[int] | None = None,
    n_draws: int = 200,
    seed: int = 0,
) -> GallerySizeFPIR:
    """FPIR of non-mated searches against random galleries of every size, from one distance matrix.

    ``distances[i, j]`` is the distance between search ``i`` and candidate gallery entry
    ``j``; mark with ``nan`` or ``inf`` the entries search ``i`` must never meet (its own
    person's photos: a non-mated search has no mate in the gallery).  For every draw,
    each search sees the valid entries in a fresh random order; its gallery of size N is
    the first N of them, so the nearest distance in galleries of all sizes is one running
    minimum (vectorised, no loop over sizes).  ``sizes`` defaults to 1 .. the fewest valid
    entries of any search.

    >>> d = [[0.5, 0.9], [0.9, 0.9]]  # search 0 meets a false candidate in entry 0, search 1 never
    >>> r = fpir_by_gallery_size(d, 0.6, n_draws=1000, seed=1)
    >>> r.sizes.tolist(), float(r.fpir[1])  # with both entries, search 0 always alarms: 1 of 2 searches
    ([1, 2], 0.5)
    >>> bool(abs(r.fpir[0] - 0.25) < 0.03)  # with one entry: half the draws for search 0
    True
    """
    d = np.array(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] < 1 or d.shape[1] < 1:
        raise ValueError(f"distances must be a 2-d (searches x gallery entries) array, got {d.shape}.")
    if np.any(d[np.isfinite(d)] < 0):
        raise ValueError("distances must be >= 0.")
    threshold = _checks.threshold(threshold)
    n_draws = _checks.positive_int("n_draws", n_draws, what="random galleries per size")
    valid = np.isfinite(d)
    n_valid = valid.sum(axis=1)
    max_size = int(n_valid.min())
    if max_size < 1:
        raise ValueError("every search needs at least one valid (finite) gallery distance.")
    if sizes is None:
        size_arr = np.arange(1, max_size + 1, dtype=np.int64)
    else:
        size_arr = np.asarray(sizes, dtype=np.int64).ravel()
        if size_arr.size == 0 or size_arr.min() < 1 or size_arr.max() > max_size:
            raise ValueError(
                f"sizes must lie in 1 .. {max_size} (the fewest valid gallery entries of any search)."
            )
    d = np.where(valid, d, np.inf)
    rng = np.random.default_rng(seed)
    n_search, n_entries = d.shape
    hits = np.zeros(size_arr.size, dtype=np.int64)
    # draws in blocks to bound memory (block x searches x entries float64)
    block = max(1, int(2**25 // (n_search * n_entries * 8)))
    for start in range(0, n_draws, block):
        b = min(block, n_draws - start)
        keys = rng.random((b, n_search, n_entries))
        keys[:, ~valid] = 2.0  # invalid entries go last, never inside a gallery of <= max_size
        order = np.argsort(keys, axis=2, kind="stable")
        shuffled = np.take_along_axis(np.broadcast_to(d, keys.shape), order, axis=2)
        nearest = np.minimum.accumulate(shuffled, axis=2)[:, :, size_arr - 1]
        hits += (nearest <= threshold).sum(axis=(0, 1))
    fpir = hits / float(n_draws * n_search)
    return GallerySizeFPIR(size_arr, fpir, float(threshold), int(n_search), int(n_draws))


# --------------------------------------------------------------------------- reading results


def _convert(value: str) -> Any:
    if value == "":
        return None
    if value in ("True", "False"):
        return value == "True"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def read_results_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a results CSV as dicts, numbers converted (int, then float), "" -> None.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> _ = open(f, "w").write("size,method,best_s,exact\\n10000,numpy,0.5,True\\n")
    >>> read_results_csv(f)
    [{'size': 10000, 'method': 'numpy', 'best_s': 0.5, 'exact': True}]
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"No results file at {p}. Run the benchmark that writes it "
            "(e.g. python benchmarks/search_scaling.py) from the repository root."
        )
    with p.open(newline="") as fh:
        return [{k: _convert(v) for k, v in row.items()} for row in csv.DictReader(fh)]
