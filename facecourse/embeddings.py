"""Looking inside faceprints: projections, nearest identities, averaged faces, encoder settings.

A faceprint is a point in 128-dimensional space. This module holds the small tools lesson 02
uses to look at those points and compare them; everything is numpy, vectorised over pairs and
gallery rows (no Python loop over them), and works on any dimension, so the tests can use
hand-made 2-D and 3-D points with answers worked out on paper.

* :func:`fit_pca` / :class:`PCA` - principal component analysis by singular value
  decomposition (no scikit-learn): the best flat 2-D picture of a cloud of faceprints, and
  how much of its spread that picture keeps (``explained_variance_ratio``);
* :func:`nearest_identity` - for each probe faceprint, the closest gallery entry and its
  distance, or :data:`UNKNOWN` when nothing is within the threshold (the rule of
  ``face_recognition.compare_faces`` applied to a whole gallery);
* :func:`distances_to_people` - the distance from each query faceprint (e.g. a composite,
  averaged face) to the *closest photo of each person* in a gallery, and
  :func:`matches_by_group` - how many people fall within the threshold, by group label;
* :func:`compare_variant` - how far faceprints computed with other encoder settings (jitter,
  landmark model) move from the default ones, and which match decisions that flips.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from .metrics import DEFAULT_THRESHOLD, pairwise_distances

__all__ = [
    "UNKNOWN",
    "PCA",
    "fit_pca",
    "Identification",
    "nearest_identity",
    "PeopleDistances",
    "distances_to_people",
    "matches_by_group",
    "VariantComparison",
    "compare_variant",
]

#: What :func:`nearest_identity` answers when no gallery entry is within the threshold.
UNKNOWN = "unknown"


# --------------------------------------------------------------------------- checking inputs


def _as_points(x: ArrayLike, name: str, *, allow_single: bool = False) -> np.ndarray:
    arr = _checks.faceprints(name, x, allow_single=allow_single)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has rows of length 0: a faceprint needs at least one number")
    return arr


def _same_width(a: np.ndarray, b: np.ndarray, what_a: str, what_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{what_a} have {a.shape[1]} numbers each but {what_b} have {b.shape[1]}: "
                         "faceprints from different models (or a transposed array) cannot be compared")


# --------------------------------------------------------------------------- PCA


@dataclass(frozen=True, eq=False)
class PCA:
    """A fitted principal component analysis (see :func:`fit_pca`).

    Attributes:
        mean: ``(d,)`` the mean of the fitted points; projections are centred on it.
        components: ``(k, d)`` orthonormal directions, most spread first. Each row's sign is
            fixed so that its largest-magnitude coordinate is positive (SVD signs are arbitrary;
            this makes the picture the same on every machine).
        explained_variance: ``(k,)`` the variance of the points along each component
            (sample variance, divided by ``n - 1``).
        explained_variance_ratio: ``(k,)`` each component's share of the *total* variance of the
            points over all ``d`` dimensions: the part of the spread the picture keeps.
        total_variance: the total variance over all ``d`` dimensions.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    total_variance: float

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, x: ArrayLike) -> np.ndarray:
        """Coordinates of the points ``x`` (one per row) along the components: ``(n, k)``."""
        pts = _as_points(x, "x", allow_single=True)
        _same_width(pts, self.components, "the points", "the fitted components")
        return (pts - self.mean) @ self.components.T

    def __repr__(self) -> str:
        kept = float(self.explained_variance_ratio.sum())
        return f"PCA({self.n_components} of {self.components.shape[1]} dimensions, keeps {kept:.1%} of the variance)"


def fit_pca(x: ArrayLike, n_components: int = 2) -> PCA:
    """Fit a principal component analysis to the rows of ``x`` with one SVD.

    The centred points ``X - mean`` factor as ``U S Vᵀ``; the rows of ``Vᵀ`` are the directions
    of greatest spread and ``S² / (n - 1)`` the variance along each. The first ``n_components``
    rows give the best flat ``n_components``-dimensional picture of the cloud (least squared
    distance from the points to their projections).

    >>> p = fit_pca([[0, 0], [1, 1], [2, 2], [3, 3]], n_components=1)
    >>> p.explained_variance_ratio.round(6).tolist()  # all points on one line: it keeps everything
    [1.0]
    >>> p.transform([[3, 3]]).round(4).tolist()  # 1.5 * sqrt(2) from the mean (1.5, 1.5)
    [[2.1213]]
    """
    pts = _as_points(x, "x")
    n, d = pts.shape
    if n < 2:
        raise ValueError(f"fit_pca needs at least 2 points to measure a spread, got {n}")
    if isinstance(n_components, bool) or int(n_components) != n_components or not 1 <= n_components <= min(n, d):
        raise ValueError(f"n_components must be a whole number from 1 to min(points, dimensions) = "
                         f"{min(n, d)}, got {n_components!r}")
    k = int(n_components)
    mean = pts.mean(axis=0)
    centred = pts - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:k].copy()
    # Fix the arbitrary sign of each direction: largest-magnitude coordinate positive.
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(k), biggest])
    signs[signs == 0] = 1.0
    components *= signs[:, None]
    variance = s**2 / (n - 1)
    total = float(variance.sum())
    ratio = variance[:k] / total if total > 0 else np.full(k, np.nan)
    return PCA(mean, components, variance[:k], ratio, total)


# --------------------------------------------------------------------------- nearest identity


@dataclass(frozen=True, eq=False)
class Identification:
    """The answer of :func:`nearest_identity` for a batch of probes (one entry per probe).

    Attributes:
        ids: the decided identity: the nearest gallery id when its distance is at or below the
            threshold, else :data:`UNKNOWN`.
        nearest_ids: the nearest gallery id whatever its distance.
        distances: the distance to that nearest gallery entry.
        indices: its row in the gallery.
        threshold: the threshold used.
    """

    ids: np.ndarray
    nearest_ids: np.ndarray
    distances: np.ndarray
    indices: np.ndarray
    threshold: float

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def known(self) -> np.ndarray:
        """True for the probes that got a name (nearest distance within the threshold)."""
        return self.ids != UNKNOWN


def nearest_identity(probes: ArrayLike, gallery: ArrayLike, gallery_ids: ArrayLike,
                     threshold: float = DEFAULT_THRESHOLD) -> Identification:
    """Name each probe after its nearest gallery faceprint, or :data:`UNKNOWN` if none is close enough.

    One distance matrix (probes × gallery) and one ``argmin`` per row: no loop over the gallery.
    A probe is named when its nearest distance is ``<= threshold``, the rule of
    ``face_recognition.compare_faces`` (which calls the threshold ``tolerance``). On a tie the
    earlier gallery row wins. ``probes`` may be a single faceprint (1-D) or one per row; the
    answer always has one entry per probe.
    This is the one-candidate, string-id version lesson 02 needs; for candidate lists (top-k),
    integer subject ids and galleries of millions, use :mod:`facecourse.search`.

    >>> gallery = [[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]
    >>> r = nearest_identity([[0.9, 0.1], [5.0, 5.0]], gallery, ["ann", "bob", "cy"], threshold=0.6)
    >>> r.ids.tolist(), r.nearest_ids.tolist(), r.distances.round(3).tolist()
    (['bob', 'unknown'], ['bob', 'cy'], [0.141, 5.385])
    """
    p = _as_points(probes, "probes", allow_single=True)
    g = _as_points(gallery, "gallery")
    ids = _checks.labels("gallery_ids", gallery_ids, len(g))
    t = _checks.threshold(threshold)
    if len(g) == 0:
        raise ValueError("the gallery is empty: enrol at least one faceprint before searching it")
    _same_width(p, g, "the probes", "the gallery faceprints")
    dist = pairwise_distances(p, g)
    idx = np.argmin(dist, axis=1)  # first minimum on ties
    best = dist[np.arange(len(p)), idx]
    nearest = ids[idx].astype(object)
    decided = np.where(best <= t, nearest, UNKNOWN).astype(object)
    return Identification(decided, nearest, best, idx, t)


# --------------------------------------------------------------------------- composites vs people


@dataclass(frozen=True, eq=False)
class PeopleDistances:
    """Distance from each query faceprint to the closest photo of each person of a gallery.

    Attributes:
        query_ids: ``(q,)`` a name for each query (e.g. the composite's file id).
        person_ids: ``(p,)`` the gallery's people, sorted.
        distances: ``(q, p)``; ``distances[i, j]`` is the smallest distance between query ``i``
            and any photo of person ``j`` (what a search of the gallery would see).
        closest_photo: ``(q, p)`` the gallery row of that closest photo.
    """

    query_ids: np.ndarray
    person_ids: np.ndarray
    distances: np.ndarray
    closest_photo: np.ndarray

    def within(self, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
        """``(q, p)`` True where the person has a photo within ``threshold`` of the query."""
        return self.distances <= _checks.threshold(threshold)

    def count_within(self, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
        """``(q,)`` how many people have a photo within ``threshold`` of each query."""
        return self.within(threshold).sum(axis=1)

    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """For each query: the nearest person (first in sorted order on a tie) and the distance."""
        j = np.argmin(self.distances, axis=1)
        return self.person_ids[j], self.distances[np.arange(len(j)), j]


def distances_to_people(queries: ArrayLike, query_ids: ArrayLike, gallery: ArrayLike,
                        gallery_person_ids: ArrayLike) -> PeopleDistances:
    """For every query, the distance to each gallery person's closest photo.

    A person with several photos is "as close as their closest photo", as in a search that
    returns people rather than photos. Vectorised: one distance matrix, then a per-person
    minimum with :func:`numpy.minimum.reduceat` over the photos sorted by person.

    >>> r = distances_to_people([[0.0, 0.0]], ["avg"], [[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]], ["b", "a", "b"])
    >>> r.person_ids.tolist(), r.distances.tolist(), r.closest_photo.tolist()
    (['a', 'b'], [[1.0, 2.0]], [[1, 2]])
    """
    q = _as_points(queries, "queries", allow_single=True)
    g = _as_points(gallery, "gallery")
    qids = _checks.labels("query_ids", query_ids, len(q))
    pids = _checks.labels("gallery_person_ids", gallery_person_ids, len(g))
    if len(g) == 0:
        raise ValueError("the gallery is empty")
    _same_width(q, g, "the queries", "the gallery faceprints")
    dist = pairwise_distances(q, g)
    order = np.argsort(pids, kind="stable")
    people, starts = np.unique(pids[order], return_index=True)
    sorted_dist = dist[:, order]
    per_person = np.minimum.reduceat(sorted_dist, starts, axis=1)
    # Which photo gave the minimum: the first column in each person's block equal to it.
    block = np.repeat(np.arange(len(people)), np.diff(np.append(starts, len(pids))))
    is_min = sorted_dist == per_person[:, block]
    col = np.arange(len(pids))
    first = np.where(is_min, col[None, :], len(pids))
    first_col = np.minimum.reduceat(first, starts, axis=1)
    return PeopleDistances(qids, people, per_person, order[first_col])


def matches_by_group(result: PeopleDistances, groups: Mapping[Any, str],
                     threshold: float = DEFAULT_THRESHOLD) -> list[dict[str, str]]:
    """One table row per query: nearest person, and the people within ``threshold`` by group.

    ``groups`` maps each person id to a group label (e.g. ``"female/black"``). The row gives the
    nearest person and distance, how many people are within the threshold, and how they split
    by group (largest first, then alphabetical). Print with :func:`facecourse.metrics.format_table`.

    >>> r = distances_to_people([[0.0]], ["avg"], [[0.1], [0.5], [0.9]], ["p1", "p2", "p3"])
    >>> matches_by_group(r, {"p1": "A", "p2": "B", "p3": "A"}, threshold=0.6)[0]["within by group"]
    'A 1, B 1'
    """
    t = _checks.threshold(threshold)
    missing = [p for p in result.person_ids.tolist() if p not in groups]
    if missing:
        raise ValueError(f"groups: no group given for person(s) {missing[:5]}")
    labels = np.array([str(groups[p]) for p in result.person_ids.tolist()], dtype=object)
    within = result.within(t)
    nearest_person, nearest_dist = result.nearest()
    rows = []
    for i, query in enumerate(result.query_ids.tolist()):  # one row per query: a loop over a table, not pairs
        counts = Counter(labels[within[i]].tolist())
        split = ", ".join(f"{g} {n}" for g, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append({
            "query": str(query),
            "nearest person": str(nearest_person[i]),
            "distance": f"{nearest_dist[i]:.3f}",
            f"people <= {t:g}": str(int(within[i].sum())),
            "within by group": split or "-",
        })
    return rows


# --------------------------------------------------------------------------- encoder settings


@dataclass(frozen=True, eq=False)
class VariantComparison:
    """Faceprints of the same photos computed two ways (default and a variant), compared.

    Attributes:
        shift: ``(n,)`` distance between a photo's variant faceprint and its default one.
        pairs: ``(m, 2)`` every pair ``i < j`` of photos.
        mated: ``(m,)`` True when the two photos show the same person.
        default_distances, variant_distances: ``(m,)`` each pair's distance under each setting.
    """

    shift: np.ndarray
    pairs: np.ndarray
    mated: np.ndarray
    default_distances: np.ndarray
    variant_distances: np.ndarray

    @property
    def change(self) -> np.ndarray:
        """``(m,)`` how much each pair's distance moved: variant minus default."""
        return self.variant_distances - self.default_distances

    def flips(self, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
        """``(m,)`` True for the pairs whose match decision (distance <= threshold) differs."""
        t = _checks.threshold(threshold)
        return (self.default_distances <= t) != (self.variant_distances <= t)


def compare_variant(default: ArrayLike, variant: ArrayLike, subject_ids: ArrayLike) -> VariantComparison:
    """Compare faceprints of the same photos made with two encoder settings.

    Row ``i`` of ``default`` and of ``variant`` must be the same photo. By the triangle
    inequality a pair's distance can move by at most the sum of its two photos' shifts, so
    ``shift`` bounds how far any decision can be pushed.

    >>> c = compare_variant([[0.0], [1.0], [5.0]], [[0.0], [0.5], [5.0]], ["a", "a", "b"])
    >>> c.shift.tolist(), c.default_distances.tolist(), c.variant_distances.tolist()
    ([0.0, 0.5, 0.0], [1.0, 5.0, 4.0], [0.5, 5.0, 4.5])
    >>> c.flips(threshold=0.6).tolist()  # pair (0, 1): 1.0 was no match, 0.5 is a match
    [True, False, False]
    """
    a = _as_points(default, "default")
    b = _as_points(variant, "variant")
    if a.shape != b.shape:
        raise ValueError(f"default and variant must hold the same photos in the same order: shapes "
                         f"{a.shape} and {b.shape} differ")
    ids = _checks.labels("subject_ids", subject_ids, len(a))
    if len(a) < 2:
        raise ValueError("compare_variant needs at least 2 photos to form a pair")
    shift = np.linalg.norm(b - a, axis=1)
    i, j = np.triu_indices(len(a), k=1)
    da = pairwise_distances(a)[i, j]
    db = pairwise_distances(b)[i, j]
    return VariantComparison(shift, np.column_stack([i, j]), ids[i] == ids[j], da, db)
