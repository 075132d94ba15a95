"""One check per kind of input: each returns the cleaned value or raises a ValueError that says how to fix it.

Every module of the package checks its inputs with these functions, so that one kind of input
follows one rule and gets one message wherever it is passed::

    threshold = _checks.threshold(threshold)
    x = _checks.faceprints("embeddings", embeddings)

The messages name the argument, say what was expected and what came instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = [
    "confidence",
    "curve_threshold",
    "faceprints",
    "labels",
    "positive_int",
    "probability",
    "scores",
    "threshold",
]


def threshold(value: Any, *, name: str = "threshold") -> float:
    """A matcher's threshold: one finite distance >= 0 (match when ``distance <= threshold``).

    >>> threshold(0.6)
    0.6
    >>> threshold(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: threshold must be one finite number >= 0, a distance (face_recognition's default tolerance ...
    """
    t = _one_number(value, name, "")
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"{name} must be one finite number >= 0, a distance (face_recognition's default "
                         f"tolerance is 0.6); got {value!r}")
    return t


def curve_threshold(value: Any, *, name: str = "threshold") -> float:
    """A point on an error-rate curve: one number, not NaN; -inf (nothing matches), +inf and
    negative values are allowed, as the ends of a curve.

    >>> curve_threshold(float("-inf"))
    -inf
    """
    t = _one_number(value, name, " (for many, use error_rates_at_thresholds)")
    if math.isnan(t):
        raise ValueError(f"{name} is NaN")
    return t


def _one_number(value: Any, name: str, hint: str) -> float:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number{hint}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def confidence(value: Any) -> float:
    """A confidence level strictly between 0 and 1.

    >>> confidence(0.95)
    0.95
    >>> confidence(95)
    Traceback (most recent call last):
    ...
    ValueError: confidence must be between 0 and 1 (e.g. 0.95), got 95
    """
    if np.ndim(value) != 0 or not 0 < float(value) < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {value!r}")
    return float(value)


def probability(name: str, value: ArrayLike) -> np.ndarray:
    """Probabilities in [0, 1] (a number or an array); returns a float64 array (0-d for a number).

    >>> probability("fmr", 0.5).tolist()
    0.5
    >>> probability("fmr", [0.1, 2])
    Traceback (most recent call last):
    ...
    ValueError: fmr must be a probability in [0, 1], got [0.1, 2].
    """
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!s}.")
    return arr


def scores(name: str, value: ArrayLike) -> np.ndarray:
    """A 1-D list of finite distances (comparison scores); returns a float64 array.

    >>> scores("mated", [0.1, 0.2]).tolist()
    [0.1, 0.2]
    """
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list of distances, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite distances")
    return arr


def faceprints(name: str, value: ArrayLike, *, dtype: DTypeLike = np.float64, allow_single: bool = False,
               dim: int | None = None) -> np.ndarray:
    """Faceprints, one per row: a 2-D array of finite numbers (any width unless ``dim`` is given).

    ``allow_single=True`` turns one faceprint (1-D) into one row. Failed encodings (NaN rows)
    are refused: drop them first.

    >>> faceprints("probes", [1.0, 2.0], allow_single=True).shape
    (1, 2)
    >>> faceprints("gallery", [1.0, 2.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: gallery must be a 2-D array with one faceprint per row, got shape (2,) (a single faceprint f ...
    """
    arr = np.asarray(value, dtype=dtype)
    if allow_single and arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        hint = "" if allow_single else " (a single faceprint f can be passed as [f])"
        raise ValueError(f"{name} must be a 2-D array with one faceprint per row, got shape {arr.shape}{hint}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} numbers per row (one {dim}-d faceprint per row), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values: drop the failed encodings first "
                         "(EncodingSet.embeddings keeps only the acquired faces)")
    return arr


def labels(name: str, value: ArrayLike, n: int) -> np.ndarray:
    """One label (subject id, group...) per faceprint: a 1-D array of length ``n``.

    >>> labels("subject_ids", ["ann", "bob"], 2).tolist()
    ['ann', 'bob']
    >>> labels("subject_ids", ["ann"], 2)
    Traceback (most recent call last):
    ...
    ValueError: subject_ids must give one label per faceprint: expected 2, got shape (1,)
    """
    arr = np.asarray(value)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must give one label per faceprint: expected {n}, got shape {arr.shape}")
    return arr


def positive_int(name: str, value: Any, *, what: str = "") -> int:
    """A whole number >= 1 (``True``/``False`` refused); ``what`` says what it counts.

    >>> positive_int("k", 3)
    3
    >>> positive_int("k", 0, what="the length of the candidate list")
    Traceback (most recent call last):
    ...
    ValueError: k (the length of the candidate list) must be a positive integer, got 0
    """
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1
    if not ok:
        label = f"{name} ({what})" if what else name
        raise ValueError(f"{label} must be a positive integer, got {value!r}")
    return int(value)
