"""Tests of facecourse.search: exact and faiss indexes, erasure, 1:N metrics."""

from __future__ import annotations

import numpy as np
import pytest

from facecourse.metrics import Rate
from facecourse.search import (
    MISSING_ID,
    BruteForceIndex,
    FaissIndex,
    FaissKind,
    SearchResult,
    fnir,
    fpir,
    rank_k_identification_rate,
    recall_at_k,
)

DIM = 128


def _random(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _slow_search(gallery: np.ndarray, probes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: one np.linalg.norm per (probe, gallery row) pair, stable argsort."""
    g = gallery.astype(np.float64)
    dists, idx = [], []
    for p in probes.astype(np.float64):
        d = np.array([np.linalg.norm(p - row) for row in g])
        order = np.argsort(d, kind="stable")[:k]
        dists.append(d[order])
        idx.append(order)
    return np.array(dists), np.array(idx)


# --------------------------------------------------------------------- brute force


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_block_bytes", [1, 2**27])  # 1 byte -> one probe per chunk
def test_brute_force_matches_slow_loop(dtype: type, max_block_bytes: int) -> None:
    gallery, probes = _random(300, 1), _random(25, 2)
    ids = np.arange(300) + 1000
    index = BruteForceIndex(DIM, dtype=dtype, max_block_bytes=max_block_bytes).add(gallery, ids)
    result = index.search(probes, k=10)
    ref_d, ref_i = _slow_search(gallery, probes, 10)
    assert result.distances.shape == (25, 10)
    np.testing.assert_array_equal(result.indices, ref_i)
    np.testing.assert_array_equal(result.ids, ref_i + 1000)
    # the k kept distances are recomputed in float64: same as the loop up to rounding
    np.testing.assert_allclose(result.distances, ref_d, rtol=1e-12, atol=1e-12)
    assert np.all(np.diff(result.distances, axis=1) >= 0)  # ascending


def test_self_match_distance_is_exactly_zero() -> None:
    # norms ~ 300: the expansion ||p||^2 + ||g||^2 - 2 p.g alone would leave ~0.1 here
    gallery = _random(50, 14) * 30
    r = BruteForceIndex(DIM).add(gallery).search(gallery, k=2)
    assert r.indices[:, 0].tolist() == list(range(50))
    assert np.all(r.distances[:, 0] == 0.0)


def test_brute_force_hand_example_and_ties() -> None:
    # gallery rows 0 and 2 are identical, both at distance 5 from the probe (3-4-5 triangle)
    index = BruteForceIndex(2, dtype=np.float64).add([[3, 4], [0, 1], [3, 4]], ids=[7, 8, 9])
    r = index.search([[0, 0]], k=3)
    assert r.ids.tolist() == [[8, 7, 9]]  # distance 1, then the tie 5, 5 broken by row order
    np.testing.assert_allclose(r.distances, [[1.0, 5.0, 5.0]])


def test_k_larger_than_gallery_is_padded() -> None:
    index = BruteForceIndex(2).add([[0, 0], [1, 0]], ids=[3, 4])
    r = index.search([[0, 0]], k=4)
    assert r.ids.tolist() == [[3, 4, MISSING_ID, MISSING_ID]]
    assert r.indices.tolist() == [[0, 1, -1, -1]]
    assert np.isinf(r.distances[0, 2:]).all()
    empty = BruteForceIndex(2).search([[0, 0]], k=2)
    assert empty.ids.tolist() == [[-1, -1]] and np.isinf(empty.distances).all()


def test_add_validates_and_auto_ids() -> None:
    index = BruteForceIndex(3).add(np.zeros((2, 3)))
    index.add(np.ones((1, 3)))
    assert index.ids.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="shape"):
        index.add(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=">= 0"):
        index.add(np.zeros((1, 3)), ids=[-1])
    with pytest.raises(ValueError, match="integers"):
        index.add(np.zeros((1, 3)), ids=["alice"])
    with pytest.raises(ValueError, match="NaN"):
        index.add(np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match="positive integer"):
        index.search(np.zeros(3), k=0)
    with pytest.raises(ValueError):
        index.ids[0] = 5  # read-only view


def test_memory_bytes_counts_gallery_norms_ids() -> None:
    index = BruteForceIndex(DIM).add(_random(100, 3))
    # 100 rows * (128 * 4 bytes + 4 bytes norm + 8 bytes id)
    assert index.memory_bytes == 100 * (128 * 4 + 4 + 8)
    assert BruteForceIndex(DIM, dtype=np.float64).add(_random(100, 3)).memory_bytes == 100 * (
        128 * 8 + 8 + 8
    )


def test_brute_force_remove_ids_really_removes_and_scrubs() -> None:
    gallery = _random(200, 4)
    ids = np.repeat(np.arange(100), 2)  # two samples per subject
    index = BruteForceIndex(DIM).add(gallery, ids)
    before = index.memory_bytes
    old_buffer = index._gallery  # the array that held the faceprints before erasure
    erased = [3, 50, 99]
    assert index.remove_ids(erased) == 6
    assert len(index) == 194
    assert index.memory_bytes == before - 6 * (128 * 4 + 4 + 8)
    assert not np.isin(index.ids, erased).any()
    # the erased faceprints themselves, searched against the whole gallery: never returned
    removed_rows = np.isin(ids, erased)
    r = index.search(gallery[removed_rows], k=len(index))
    assert not np.isin(r.ids, erased).any()
    # the old buffer no longer holds the erased faceprints
    assert np.all(old_buffer[removed_rows] == 0)
    # the remaining rows are still found exactly
    kept = gallery[~removed_rows]
    r = index.search(kept[:5], k=1)
    assert r.indices[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert np.all(r.distances[:, 0] == 0.0)
    assert index.remove_ids([12345]) == 0


# --------------------------------------------------------------------- faiss


def test_faiss_flat_equals_brute_force() -> None:
    gallery, probes = _random(2000, 5), _random(50, 6)
    ids = np.arange(2000) * 3
    exact = BruteForceIndex(DIM).add(gallery, ids).search(probes, k=10)
    flat = FaissIndex(DIM, "flat").add(gallery, ids).search(probes, k=10)
    np.testing.assert_array_equal(flat.ids, exact.ids)
    np.testing.assert_array_equal(flat.indices, exact.indices)
    np.testing.assert_allclose(flat.distances, exact.distances, atol=1e-4)
    # faiss gives squared L2: the wrapper must return Euclidean distances
    d00 = np.linalg.norm(probes[0].astype(np.float64) - gallery[flat.indices[0, 0]])
    assert flat.distances[0, 0] == pytest.approx(d00, abs=1e-4)


def test_faiss_hand_example_and_padding() -> None:
    index = FaissIndex(2).add([[3, 4], [0, 1]], ids=[7, 8])
    r = index.search([[0, 0]], k=3)
    assert r.ids.tolist() == [[8, 7, MISSING_ID]]
    np.testing.assert_allclose(r.distances[0, :2], [1.0, 5.0], atol=1e-6)
    assert np.isinf(r.distances[0, 2])
    assert FaissIndex(2).search([[0, 0]], k=1).ids.tolist() == [[-1]]


def test_hnsw_recall_at_10() -> None:
    gallery, probes = _random(20_000, 7), _random(200, 8)
    exact = BruteForceIndex(DIM).add(gallery).search(probes, k=10)
    hnsw = FaissIndex(DIM, "hnsw", hnsw_m=32, ef_search=256).add(gallery)
    assert recall_at_k(hnsw.search(probes, k=10).indices, exact.indices, 10) > 0.9
    hnsw.ef_search = 8  # a too-narrow search visibly loses neighbours
    assert recall_at_k(hnsw.search(probes, k=10).indices, exact.indices, 10) < 0.8


def test_ivf_is_seeded_and_exhaustive_probe_is_exact() -> None:
    gallery, probes = _random(3000, 9), _random(40, 10)
    exact = BruteForceIndex(DIM).add(gallery).search(probes, k=5)
    a = FaissIndex(DIM, "ivf", nlist=16, nprobe=16, seed=3).add(gallery)
    b = FaissIndex(DIM, "ivf", nlist=16, nprobe=16, seed=3).add(gallery)
    ra, rb = a.search(probes, k=5), b.search(probes, k=5)
    np.testing.assert_array_equal(ra.indices, rb.indices)  # same seed, same index
    np.testing.assert_array_equal(ra.indices, exact.indices)  # all cells visited = exact
    np.testing.assert_allclose(ra.distances, exact.distances, atol=1e-4)
    a.nprobe = b.nprobe = 1
    np.testing.assert_array_equal(a.search(probes, k=5).indices, b.search(probes, k=5).indices)
    # the seed really reaches k-means: other seeds give other cells, hence other nprobe=1 lists
    others = [FaissIndex(DIM, "ivf", nlist=16, nprobe=1, seed=s).add(gallery) for s in (4, 5)]
    assert any(
        not np.array_equal(o.search(probes, k=5).indices, a.search(probes, k=5).indices)
        for o in others
    )


def test_ivfpq_smoke_and_memory_is_compressed() -> None:
    gallery, probes = _random(3000, 11), _random(20, 12)
    pq = FaissIndex(DIM, "ivfpq", nlist=8, nprobe=8, pq_m=16, pq_bits=6).add(gallery)
    flat = FaissIndex(DIM, "flat").add(gallery)
    r = pq.search(probes, k=5)
    assert r.distances.shape == (20, 5)
    assert np.all(np.diff(r.distances, axis=1) >= -1e-6)
    assert (r.indices >= 0).all() and (r.ids == r.indices).all()
    assert pq.memory_bytes < flat.memory_bytes / 4  # 16-byte codes vs 512-byte vectors
    with pytest.raises(ValueError, match="divide"):
        FaissIndex(DIM, "ivfpq", pq_m=7)
    with pytest.raises(ValueError, match="nlist"):
        FaissIndex(DIM, "ivf", nlist=64).add(gallery[:10])


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_faiss_remove_ids_really_removes(kind: FaissKind) -> None:
    gallery = _random(1200, 13)
    ids = np.repeat(np.arange(400), 3)  # three samples per subject
    index = FaissIndex(DIM, kind, nlist=8, nprobe=8, ef_search=128).add(gallery, ids)
    before = index.memory_bytes
    erased = np.array([0, 7, 399])
    assert index.remove_ids(erased) == 9
    assert len(index) == 1191 and index._index.ntotal == 1191
    assert index.memory_bytes < before
    assert not np.isin(index.ids, erased).any()
    removed_rows = np.isin(ids, erased)
    r = index.search(gallery[removed_rows], k=50)
    assert not np.isin(r.ids, erased).any()
    # kept faceprints are still found at distance ~0 under their own subject id
    kept = gallery[~removed_rows]
    kept_ids = ids[~removed_rows]
    r = index.search(kept[::100], k=1)
    np.testing.assert_array_equal(r.ids[:, 0], kept_ids[::100])
    np.testing.assert_array_equal(r.indices[:, 0], np.arange(0, len(kept), 100))
    np.testing.assert_allclose(r.distances[:, 0], 0, atol=1e-3)
    # enrol again after the removal: new rows are searchable
    index.add(gallery[:1] + 10, ids=[1000])
    assert index.search(gallery[:1] + 10, k=1).ids.tolist() == [[1000]]


def test_num_threads_is_restored() -> None:
    import faiss

    before = faiss.omp_get_max_threads()
    FaissIndex(4, num_threads=1).add(np.eye(4)).search(np.eye(4), k=1)
    assert faiss.omp_get_max_threads() == before


# --------------------------------------------------------------------- metrics

# A tiny constructed set of 4 mated searches (true ids 1..4), candidate lists of length 2:
#   s0: ids [1, 7] d [0.30, 0.70]  mate at rank 1, 0.30 <= 0.6      -> found at R=1
#   s1: ids [7, 2] d [0.50, 0.55]  mate at rank 2, 0.55 <= 0.6      -> found only at R=2
#   s2: ids [3, 8] d [0.65, 0.90]  mate at rank 1 but 0.65 > 0.6    -> never found at T=0.6
#   s3: ids [8, 9] d [0.20, 0.40]  mate absent                      -> never found
MATED_IDS = np.array([[1, 7], [7, 2], [3, 8], [8, 9]])
MATED_D = np.array([[0.30, 0.70], [0.50, 0.55], [0.65, 0.90], [0.20, 0.40]])
TRUE_IDS = np.array([1, 2, 3, 4])


def test_fnir_on_constructed_searches() -> None:
    r1 = fnir(MATED_D, MATED_IDS, TRUE_IDS, threshold=0.6, rank=1)  # misses s1, s2, s3
    assert (r1.value, r1.count, r1.total) == (0.75, 3, 4)
    r2 = fnir(MATED_D, MATED_IDS, TRUE_IDS, threshold=0.6, rank=2)  # misses s2, s3
    assert (r2.value, r2.count, r2.total) == (0.5, 2, 4)
    loose = fnir(MATED_D, MATED_IDS, TRUE_IDS, threshold=0.7, rank=2)  # misses s3 only
    assert loose.count == 1
    # the threshold is inclusive: at T = 0.55 the mate of s1 (0.55) still counts -> misses s2, s3
    assert fnir(MATED_D, MATED_IDS, TRUE_IDS, threshold=0.55, rank=2).count == 2
    with pytest.raises(ValueError, match="rank"):
        fnir(MATED_D, MATED_IDS, TRUE_IDS, threshold=0.6, rank=3)


def test_rank_k_identification_rate() -> None:
    # rank 1, no threshold: s0 and s2 -> 2/4; rank 2: s0, s1, s2 -> 3/4
    assert rank_k_identification_rate(MATED_IDS, TRUE_IDS, k=1).value == 0.5
    assert rank_k_identification_rate(MATED_IDS, TRUE_IDS, k=2).count == 3
    # with T = 0.6 it is 1 - FNIR(T, R): rank 1 -> only s0 -> 1/4
    with_t = rank_k_identification_rate(MATED_IDS, TRUE_IDS, k=1, distances=MATED_D, threshold=0.6)
    assert with_t.value == 0.25
    assert with_t.value == 1 - fnir(MATED_D, MATED_IDS, TRUE_IDS, 0.6, rank=1).value
    with pytest.raises(ValueError, match="distances"):
        rank_k_identification_rate(MATED_IDS, TRUE_IDS, k=1, threshold=0.6)


def test_fpir_on_constructed_searches() -> None:
    # non-mated searches, threshold 0.6 inclusive:
    #   [0.59, 0.70] yes; [0.60, 0.61] yes (0.60 <= 0.6); [0.61, 0.62] no; [0.20, 0.30] yes -> 3/4
    d = np.array([[0.59, 0.70], [0.60, 0.61], [0.61, 0.62], [0.20, 0.30]])
    r = fpir(d, threshold=0.6)
    assert (r.value, r.count, r.total) == (0.75, 3, 4)
    assert fpir(d, threshold=0.1).count == 0
    # empty slots (inf) never count as candidates
    assert fpir([[np.inf, np.inf]], threshold=0.6).count == 0


def test_search_rates_are_metrics_rates_with_wilson_intervals() -> None:
    # 0/10: upper = z^2 / (n + z^2) = 3.8415 / 13.8415 = 0.2775, lower 0
    zero = fpir(np.full((10, 1), 0.9), threshold=0.6)
    assert isinstance(zero, Rate) and zero.count == 0 and zero.total == 10
    assert zero.ci[0] == 0.0 and zero.ci[1] == pytest.approx(0.2775, abs=1e-4)
    # 5/10: centre 0.5, half-width = 1.96 * sqrt(0.025 + 3.8415/400) / 1.38415 = 0.2634
    half = fpir(np.r_[np.full(5, 0.1), np.full(5, 0.9)], threshold=0.6)
    assert half.ci == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert str(fpir(np.r_[np.full(2, 0.1), np.full(98, 0.9)], threshold=0.6)) == (
        "FPIR(T=0.6) = 0.0200 (2/100; 95% CI 0.0055-0.0700)")
    with pytest.raises(ValueError, match="no searches"):
        fpir(np.empty((0, 2)), threshold=0.6)
    with pytest.raises(ValueError, match="threshold"):
        fpir([[0.5]], threshold=-0.1)


def test_recall_at_k() -> None:
    # row 0: 2 of 3 exact neighbours found; row 1: 3 of 3; -1 never counts -> (2/3 + 1) / 2
    assert recall_at_k([[0, 1, -1], [6, 5, 4]], [[0, 1, 2], [4, 5, 6]], k=3) == pytest.approx(5 / 6)
    assert recall_at_k([[9, 8]], [[1, 2]], k=2) == 0.0
    assert recall_at_k([[1, 9]], [[1, 2]], k=1) == 1.0
    # gallery of one row: the exact list is [0, -1]; finding row 0 is full recall,
    # and two empty slots do not "match" each other
    assert recall_at_k([[0, -1]], [[0, -1]], k=2) == 1.0
    assert recall_at_k([[-1, -1]], [[0, -1]], k=2) == 0.0


def test_search_result_shape_helpers() -> None:
    ints = np.zeros((3, 2), dtype=np.int64)
    r = SearchResult(np.zeros((3, 2)), ints, ints)
    assert len(r) == 3 and r.k == 2
