"""Tests of facecourse.embeddings on hand-made points whose answers are worked out in the comments."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from facecourse import embeddings
from facecourse.embeddings import (
    UNKNOWN,
    compare_variant,
    distances_to_people,
    fit_pca,
    matches_by_group,
    nearest_identity,
)


def test_doctests() -> None:
    result = doctest.testmod(embeddings)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- PCA


def test_pca_points_on_a_line_keep_all_variance() -> None:
    # (0,0,0), (1,2,2), (2,4,4): all on the line through 0 with direction (1,2,2)/3.
    # One component holds everything: ratio 1.0; the direction is (1/3, 2/3, 2/3) with the
    # largest coordinate positive; coordinates along it are -3, 0, 3 (|(1,2,2)| = 3).
    p = fit_pca([[0, 0, 0], [1, 2, 2], [2, 4, 4]], n_components=1)
    assert p.explained_variance_ratio.tolist() == pytest.approx([1.0])
    assert p.components[0].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert p.transform([[0, 0, 0], [1, 2, 2], [2, 4, 4]])[:, 0].tolist() == pytest.approx([-3, 0, 3])
    # Variance along it: (9 + 0 + 9) / (3 - 1) = 9.
    assert p.explained_variance.tolist() == pytest.approx([9.0])


def test_pca_rectangle_of_points() -> None:
    # Four corners (±2, ±1): variance 16/3 along x, 4/3 along y (sum of squares / (n-1) = 3).
    # Ratios 0.8 and 0.2; first direction is x, second y.
    pts = [[2, 1], [2, -1], [-2, 1], [-2, -1]]
    p = fit_pca(pts, n_components=2)
    assert p.explained_variance.tolist() == pytest.approx([16 / 3, 4 / 3])
    assert p.explained_variance_ratio.tolist() == pytest.approx([0.8, 0.2])
    assert np.allclose(np.abs(p.components), [[1, 0], [0, 1]])
    assert p.total_variance == pytest.approx(20 / 3)
    # A 2-D picture of 2-D points keeps every distance.
    xy = p.transform(pts)
    assert np.linalg.norm(xy[0] - xy[3]) == pytest.approx(math.hypot(4, 2))


def test_pca_signs_are_fixed_and_rows_orthonormal() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)) * [5, 4, 3, 2, 1, 0.5]
    p = fit_pca(x, 3)
    q = fit_pca(-x, 3)  # mirrored cloud: same directions, same (fixed) signs
    assert np.allclose(p.components, q.components)
    assert np.allclose(p.components @ p.components.T, np.eye(3))
    biggest = np.abs(p.components).argmax(axis=1)
    assert np.all(p.components[np.arange(3), biggest] > 0)
    assert np.all(np.diff(p.explained_variance) <= 0)
    # The ratios over all 6 components sum to 1.
    assert fit_pca(x, 6).explained_variance_ratio.sum() == pytest.approx(1.0)


def test_pca_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        fit_pca([[1, 2]])
    with pytest.raises(ValueError, match="n_components"):
        fit_pca([[0, 0], [1, 1]], n_components=3)
    with pytest.raises(ValueError, match="NaN"):
        fit_pca([[0.0, np.nan], [1.0, 1.0]])
    with pytest.raises(ValueError, match="numbers each"):
        fit_pca([[0, 0], [1, 1]]).transform([[1, 2, 3]])


# --------------------------------------------------------------------------- nearest identity


GALLERY = [[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]
IDS = ["ann", "bob", "cy"]


def test_nearest_identity_three_points() -> None:
    # probe (0.9, 0.1): to ann sqrt(0.82) = 0.906, to bob sqrt(0.02) = 0.141, to cy sqrt(0.81 + 8.41) = 3.036
    # probe (0, 2.5): to cy 0.5 -> cy
    # probe (5, 5): to ann sqrt(50) = 7.071, bob sqrt(16 + 25) = 6.403, cy sqrt(25 + 4) = 5.385:
    #   nearest is cy, but 5.385 > 0.6 -> unknown
    r = nearest_identity([[0.9, 0.1], [0.0, 2.5], [5.0, 5.0]], GALLERY, IDS, threshold=0.6)
    assert r.ids.tolist() == ["bob", "cy", UNKNOWN]
    assert r.nearest_ids.tolist() == ["bob", "cy", "cy"]
    assert r.distances.tolist() == pytest.approx([math.sqrt(0.02), 0.5, math.sqrt(29)])
    assert r.indices.tolist() == [1, 2, 2]
    assert r.known.tolist() == [True, True, False]


def test_nearest_identity_threshold_is_inclusive_and_ties_go_to_the_first_row() -> None:
    # (3, 4) is exactly 5 from the origin: at threshold 5 it is a match (<=), just below it is not.
    assert nearest_identity([3.0, 4.0], [[0.0, 0.0]], ["ann"], threshold=5.0).ids.tolist() == ["ann"]
    assert nearest_identity([3.0, 4.0], [[0.0, 0.0]], ["ann"], threshold=4.999).ids.tolist() == [UNKNOWN]
    # (0.5, 0) is 0.5 from ann and from bob: the earlier row (ann) wins.
    assert nearest_identity([0.5, 0.0], GALLERY, IDS).ids.tolist() == ["ann"]


def test_nearest_identity_several_photos_per_person_3d() -> None:
    # ann has two photos; the probe (0, 0, 0.8) is 0.2 from ann's second photo.
    r = nearest_identity([0.0, 0.0, 0.8], [[0, 0, 0], [0, 0, 1], [2, 0, 0]], ["ann", "ann", "bob"])
    assert (r.ids.tolist(), r.indices.tolist()) == (["ann"], [1])
    assert r.distances[0] == pytest.approx(0.2)


def test_nearest_identity_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    gallery = rng.standard_normal((300, 16))
    ids = np.array([f"p{i // 3}" for i in range(300)])
    probes = gallery[::7] + 0.05 * rng.standard_normal((len(gallery[::7]), 16))
    r = nearest_identity(probes, gallery, ids, threshold=1.0)
    for k, p in enumerate(probes):  # slow reference: one norm per gallery row
        d = np.array([np.linalg.norm(p - g) for g in gallery])
        assert r.indices[k] == int(np.argmin(d))
        assert r.distances[k] == pytest.approx(d.min())
        assert r.ids[k] == (ids[np.argmin(d)] if d.min() <= 1.0 else UNKNOWN)


def test_nearest_identity_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="numbers each"):
        nearest_identity([1.0, 2.0, 3.0], GALLERY, IDS)
    with pytest.raises(ValueError, match="one label per faceprint"):
        nearest_identity([1.0, 2.0], GALLERY, ["ann", "bob"])
    with pytest.raises(ValueError, match="threshold"):
        nearest_identity([1.0, 2.0], GALLERY, IDS, threshold=-1)
    with pytest.raises(ValueError, match="empty"):
        nearest_identity([1.0, 2.0], np.empty((0, 2)), [])


# --------------------------------------------------------------------------- composites vs people


def test_distances_to_people_takes_each_persons_closest_photo() -> None:
    # query (0, 0); ann's photos at distance 5 and 1, bob's at 2, cy's at 10.
    gallery = [[3.0, 4.0], [2.0, 0.0], [0.0, 1.0], [10.0, 0.0]]
    r = distances_to_people([[0.0, 0.0], [10.0, 0.0]], ["q0", "q1"], gallery, ["ann", "bob", "ann", "cy"])
    assert r.person_ids.tolist() == ["ann", "bob", "cy"]
    # q1 = (10, 0): ann's photos at sqrt(49 + 16) = 8.062 and sqrt(100 + 1) = 10.05; bob 8; cy 0.
    assert np.allclose(r.distances, [[1.0, 2.0, 10.0], [math.sqrt(65), 8.0, 0.0]])
    assert r.closest_photo.tolist() == [[2, 1, 3], [0, 1, 3]]
    assert r.count_within(2.5).tolist() == [2, 1]  # q0: ann (1) and bob (2); q1: cy
    # Inclusive: a person exactly at the threshold counts. The points' mean is 0, so every distance
    # here is exact in binary (3-4-5), whatever the order of additions (CONTRIBUTING.md).
    edge = distances_to_people([[0.0, 0.0]], ["q"], [[3.0, 4.0], [-3.0, -4.0]], ["ann", "bob"])
    assert edge.distances.tolist() == [[5.0, 5.0]] and edge.count_within(5.0).tolist() == [2]
    assert edge.count_within(np.nextafter(5.0, 0)).tolist() == [0]
    people, dist = r.nearest()
    assert people.tolist() == ["ann", "cy"] and dist.tolist() == pytest.approx([1.0, 0.0])


def test_matches_by_group_counts_people_not_photos() -> None:
    # ann has two photos within 0.6 but is one person; bob (group B) is at 0.3; cy (A) at 2.
    r = distances_to_people([[0.0]], ["avg"], [[0.1], [0.2], [0.3], [2.0]], ["ann", "ann", "bob", "cy"])
    row = matches_by_group(r, {"ann": "A", "bob": "B", "cy": "A"}, threshold=0.6)[0]
    assert row["people <= 0.6"] == "2"
    assert row["within by group"] == "A 1, B 1"
    assert (row["nearest person"], row["distance"]) == ("ann", "0.100")
    with pytest.raises(ValueError, match="no group given"):
        matches_by_group(r, {"ann": "A"})


# --------------------------------------------------------------------------- variants


def test_compare_variant_shift_and_flips() -> None:
    # Photos a0 (0,0), a1 (0.7,0) of person a; b0 (3,0) of b. The variant moves a1 to (0.5,0)
    # and b0 to (3,1).  Shifts: 0, 0.2, 1.  Pair (a0,a1): 0.7 -> 0.5, flips at 0.6.
    # Pair (a0,b0): 3 -> sqrt(10) = 3.162; pair (a1,b0): 2.3 -> sqrt(6.25 + 1) = 2.693.
    c = compare_variant([[0.0, 0.0], [0.7, 0.0], [3.0, 0.0]], [[0.0, 0.0], [0.5, 0.0], [3.0, 1.0]], ["a", "a", "b"])
    assert c.shift.tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert c.pairs.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert c.mated.tolist() == [True, False, False]
    assert c.default_distances.tolist() == pytest.approx([0.7, 3.0, 2.3])
    assert c.variant_distances.tolist() == pytest.approx([0.5, math.sqrt(10), math.sqrt(7.25)])
    assert c.flips(0.6).tolist() == [True, False, False]
    assert c.flips(0.4).tolist() == [False, False, False]
    # Triangle inequality: no pair moves further than the sum of its two shifts.
    i, j = c.pairs.T
    assert np.all(np.abs(c.change) <= c.shift[i] + c.shift[j] + 1e-12)


def test_compare_variant_needs_the_same_photos() -> None:
    with pytest.raises(ValueError, match="same photos"):
        compare_variant([[0, 0], [1, 1]], [[0, 0]], ["a", "b"])
    with pytest.raises(ValueError, match="at least 2"):
        compare_variant([[0, 0]], [[0, 0]], ["a"])


# --------------------------------------------------------------------------- reproducible jitter


def test_jittered_faceprints_are_reproducible(isolated) -> None:
    """The same photo gets the same jittered faceprint whatever was encoded before it.

    Uses a private cache; two jitters keep it to a second or two.
    """
    import face_recognition.api as fr

    from facecourse import faceprints
    from facecourse.dataset import load_photo
    from facecourse.manifest import load_manifest

    m = load_manifest()
    entry = m["london-001-neutral"]
    params = faceprints.EncodingParams(num_jitters=2)
    first = faceprints.encode_entries([entry], params=params, manifest=m).embeddings[0]
    faceprints.cache_path(entry.sha256, params=params).unlink()
    # Advance the shared encoder's random generator, as a previous jittered encoding would.
    record = faceprints.encode_entry(entry, manifest=m)
    image = np.ascontiguousarray(load_photo(entry, manifest=m))
    shape = fr.pose_predictor_5_point(image, fr._css_to_rect(record.box))
    fr.face_encoder.compute_face_descriptor(image, shape, 2)
    again = faceprints.encode_entries([entry], params=params, manifest=m).embeddings[0]
    assert np.array_equal(first, again)
    assert 0 < np.linalg.norm(first - record.encoding) < 0.3  # jitter moves it, but not far
