"""metrics.mated_and_nonmated computes all pairs in blocks: same pairs, same distances, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from facecourse import metrics
from facecourse.metrics import mated_and_nonmated


def reference(x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pre-block algorithm, written out: every pair i < j in row order, direct differences."""
    i, j = np.triu_indices(len(x), k=1)
    d = np.linalg.norm(x[i] - x[j], axis=1)
    same = ids[i] == ids[j]
    pairs = np.column_stack([i, j])
    return d[same], d[~same], pairs[same], pairs[~same]


def test_exact_small_case_in_every_block_size() -> None:
    # Small integers, and 4 points whose mean (3, 3) is exact: every intermediate number is exact,
    # so the result is exact whatever the blocks (one row per block or all at once).
    x = [[0, 0], [3, 4], [6, 8], [3, 0]]
    ids = ["a", "a", "b", "b"]
    # pairs in order: (0,1) 5 mated, (0,2) 10, (0,3) 3, (1,2) 5, (1,3) 4 non-mated, (2,3) sqrt(73) mated
    for block_size in (1, 4, 5, 1 << 20):
        s = mated_and_nonmated(x, ids, block_size=block_size)
        assert s.mated.tolist() == [5.0, np.sqrt(73.0)]
        assert s.nonmated.tolist() == [10.0, 3.0, 5.0, 4.0]
        assert s.mated_pairs.tolist() == [[0, 1], [2, 3]]
        assert s.nonmated_pairs.tolist() == [[0, 2], [0, 3], [1, 2], [1, 3]]
        assert s.mated_pairs.dtype == s.nonmated_pairs.dtype == np.int64


@pytest.mark.parametrize("block_size", [1, 300 * 7, 300 * 300 - 1, 1 << 20])
def test_random_faceprints_match_the_reference(block_size: int) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0, 0.1, size=(300, 128))
    ids = rng.integers(0, 80, size=300).astype(str)
    s = mated_and_nonmated(x, ids, block_size=block_size)
    m, nm, mp, nmp = reference(x, ids)
    # which pairs, in which order, and which are mated: exactly the same
    assert np.array_equal(s.mated_pairs, mp) and np.array_equal(s.nonmated_pairs, nmp)
    # the distances come from another float path (x·y expansion vs direct differences): a tolerance.
    # Faceprint distances are about 0.2-1.2; float64 rounding in 128-term sums is near 1e-15.
    np.testing.assert_allclose(s.mated, m, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.nonmated, nm, rtol=0, atol=1e-12)


def test_one_block_is_bit_identical_to_pairwise_distances() -> None:
    """Up to 1,024 samples (the course's 222) the same operations run: equality is exact."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 0.1, size=(222, 128))
    ids = rng.integers(0, 100, size=222)
    s = mated_and_nonmated(x, ids)
    d = metrics.pairwise_distances(x)
    assert np.array_equal(s.mated, d[s.mated_pairs[:, 0], s.mated_pairs[:, 1]])
    assert np.array_equal(s.nonmated, d[s.nonmated_pairs[:, 0], s.nonmated_pairs[:, 1]])


def test_several_blocks_agree_with_one_block() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(0, 0.1, size=(500, 128))
    ids = rng.integers(0, 120, size=500)
    one, many = mated_and_nonmated(x, ids), mated_and_nonmated(x, ids, block_size=5000)
    assert np.array_equal(one.nonmated_pairs, many.nonmated_pairs)
    np.testing.assert_allclose(many.nonmated, one.nonmated, rtol=0, atol=1e-12)  # other matrix shapes: last bits


def test_memory_is_the_result_plus_one_block() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.normal(0, 0.1, size=(n, 128))
    ids = rng.integers(0, 500, size=n)
    tracemalloc.start()
    try:
        s = mated_and_nonmated(x, ids, block_size=1 << 16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = s.mated.nbytes + s.nonmated.nbytes + s.mated_pairs.nbytes + s.nonmated_pairs.nbytes
    assert result == 24 * n * (n - 1) // 2
    # one block of 2**16 distances needs about 40 bytes each (2.6 MB); the n x n matrix alone would be 32 MB
    assert peak - result < 6 * 2**20, f"temporary memory {peak - result:,} bytes"


def test_bad_block_size_and_too_few_samples() -> None:
    with pytest.raises(ValueError, match="block_size"):
        mated_and_nonmated([[0.0], [1.0]], ["a", "b"], block_size=0)
    with pytest.raises(ValueError, match="at least 2"):
        mated_and_nonmated([[0.0]], ["a"])
