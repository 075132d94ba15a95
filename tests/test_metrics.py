"""Tests of facecourse.metrics: hand-computed answers, published values and slow brute-force references."""

from __future__ import annotations

import doctest
import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from facecourse import metrics
from facecourse.metrics import (
    ErrorRates,
    bootstrap_by_subject,
    cross_comparisons,
    curves_from_histogram,
    det_points,
    equal_error_rate,
    error_counts_histogram,
    error_rate_curves,
    error_rates_at,
    error_rates_at_thresholds,
    fmr_bootstrap_by_subject,
    fnmr_at_fmr,
    format_table,
    group_error_rates,
    mated_and_nonmated,
    pairwise_distances,
    probit,
    threshold_for_fmr,
    threshold_for_fmr_by_group,
    wilson_interval,
)

# The hand-made example used throughout:
#   mated     0.1  0.3  0.5
#   non-mated 0.2  0.4  0.6  0.8
# At t = 0.45: non-mated <= t are 0.2, 0.4 -> FMR = 2/4; mated > t is 0.5 -> FNMR = 1/3.
MATED = [0.1, 0.3, 0.5]
NONMATED = [0.2, 0.4, 0.6, 0.8]


# --------------------------------------------------------------------------- slow references


def brute_rates(mated, nonmated, t):
    """FMR, FNMR by counting one score at a time."""
    fm = sum(1 for d in nonmated if d <= t)
    fnm = sum(1 for d in mated if d > t)
    return fm, fnm


def brute_pairs(emb, ids):
    """(distance, i, j, mated) for every i < j, one pair at a time."""
    out = []
    for i in range(len(emb)):
        for j in range(i + 1, len(emb)):
            out.append((float(np.linalg.norm(emb[i] - emb[j])), i, j, ids[i] == ids[j]))
    return out


def clustered_embeddings(n_subjects=12, per_subject=(1, 4), dim=8, spread=0.35, seed=1):
    """Random faceprints: each subject a centre, each sample the centre plus noise."""
    rng = np.random.default_rng(seed)
    emb, ids = [], []
    for s in range(n_subjects):
        centre = rng.normal(size=dim)
        for _ in range(rng.integers(per_subject[0], per_subject[1] + 1)):
            emb.append(centre + spread * rng.normal(size=dim))
            ids.append(f"s{s:02d}")
    return np.array(emb), np.array(ids)


# --------------------------------------------------------------------------- Wilson interval


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        # Newcombe RG (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table I, Wilson score method (95 %).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # Textbook values: 0/10 -> upper 0.2775, 5/10 -> (0.2366, 0.7634).
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_interval_matches_published_values(k, n, lo, hi):
    got_lo, got_hi = wilson_interval(k, n)
    assert got_lo == pytest.approx(lo, abs=5e-5)
    assert got_hi == pytest.approx(hi, abs=5e-5)


def test_wilson_interval_closed_forms_and_exact_ends():
    # k = 0: lower is exactly 0 and upper is z²/(n + z²); k = n mirrors it.
    z = NormalDist().inv_cdf(0.995)
    lo, hi = wilson_interval(0, 7, confidence=0.99)
    assert lo == 0.0 and hi == pytest.approx(z * z / (7 + z * z), rel=1e-12)
    lo, hi = wilson_interval(7, 7, confidence=0.99)
    assert hi == 1.0 and lo == pytest.approx(7 / (7 + z * z), rel=1e-12)
    assert isinstance(lo, float) and isinstance(hi, float)


def test_wilson_interval_ends_are_exact_for_every_n_and_confidence():
    # k = 0 and k = n: the ends are 0 and 1 exactly, by design, for scalars and arrays. The
    # formula itself misses them by ~1e-16 for many n (0.9999999999999999 for 10 of 10), so a
    # test or an exercise comparing them with == would depend on rounding (CONTRIBUTING.md).
    n = np.arange(1, 501)
    for confidence in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        lo0, hi0 = wilson_interval(np.zeros_like(n), n, confidence)
        lon, hin = wilson_interval(n, n, confidence)
        assert np.all(lo0 == 0.0) and np.all(hin == 1.0), confidence
        assert np.all(hi0 < 1.0) and np.all(lon > 0.0)
        assert wilson_interval(0, 10, confidence)[0] == 0.0 and wilson_interval(10, 10, confidence)[1] == 1.0
    z = NormalDist().inv_cdf(0.975)
    by_hand = (10 + z * z / 2) / (10 + z * z) + z / (10 + z * z) * math.sqrt(z * z / 4)
    assert by_hand != 1.0 and abs(by_hand - 1.0) < 1e-15  # the trap this design removes


def test_wilson_interval_vectorised_agrees_with_scalar_and_n0_is_nan():
    k = np.array([0, 3, 10, 0])
    n = np.array([10, 10, 10, 0])
    lo, hi = wilson_interval(k, n)
    assert isinstance(lo, np.ndarray) and lo.shape == (4,)
    assert isinstance(hi, np.ndarray) and hi.shape == (4,)
    for i in range(3):
        assert (lo[i], hi[i]) == pytest.approx(wilson_interval(int(k[i]), int(n[i])), abs=1e-15)
    assert math.isnan(lo[3]) and math.isnan(hi[3])
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


@pytest.mark.parametrize(
    "k, n, conf", [(-1, 10, 0.95), (11, 10, 0.95), (1, 10, 1.0), (1, 10, 0.0), (float("nan"), 3, 0.9)]
)
def test_wilson_interval_rejects_bad_arguments(k, n, conf):
    with pytest.raises(ValueError):
        wilson_interval(k, n, conf)


# --------------------------------------------------------------------------- distances and pairs


def test_pairwise_distances_agree_with_linalg_norm():
    rng = np.random.default_rng(0)
    # A large common offset makes ||a||² + ||b||² - 2ab lose precision unless it is handled.
    a = rng.normal(size=(23, 128)) + 50.0
    b = rng.normal(size=(11, 128)) + 50.0
    b[3] = a[5]  # an identical pair: distance 0
    b[4] = a[6] + 1e-7 * rng.normal(size=128)  # a nearly identical pair: distance about 1e-6
    d = pairwise_distances(a, b, chunk_size=7)
    ref = np.array([[np.linalg.norm(x - y) for y in b] for x in a])
    assert d.shape == (23, 11)
    np.testing.assert_allclose(d, ref, rtol=0, atol=1e-6)
    assert d[5, 3] < 1e-6
    assert d[6, 4] == pytest.approx(ref[6, 4], rel=0.05)


def test_pairwise_distances_of_a_set_with_itself():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(15, 16))
    d = pairwise_distances(a, chunk_size=4)
    ref = np.array([[np.linalg.norm(x - y) for y in a] for x in a])
    np.testing.assert_allclose(d, ref, rtol=0, atol=1e-6)
    assert np.all(np.diag(d) == 0.0)
    np.testing.assert_allclose(d, d.T, atol=1e-12)
    assert pairwise_distances([[0, 0], [3, 4]]).tolist() == [[0.0, 5.0], [5.0, 0.0]]


def test_pairwise_distances_float32():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 128)) * 0.1
    d = pairwise_distances(a, a[:2], dtype=np.float32)
    assert d.dtype == np.float32
    ref = np.array([[np.linalg.norm(x - y) for y in a[:2]] for x in a])
    np.testing.assert_allclose(d, ref, atol=1e-3)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.zeros((3, 4)), np.zeros((2, 5))),  # different lengths of faceprints
        (np.zeros(4), None),  # 1-D
        (np.array([[0.0, np.nan]]), None),  # NaN
    ],
)
def test_pairwise_distances_rejects_bad_input(a, b):
    with pytest.raises(ValueError):
        pairwise_distances(a, b)


def test_mated_and_nonmated_hand_example():
    # ann: 0 and 0.1 (mated 0.1); bob: 1.0 -> non-mated (0,2)=1.0 and (1,2)=0.9
    s = mated_and_nonmated([[0.0], [0.1], [1.0]], ["ann", "ann", "bob"])
    assert s.mated.tolist() == pytest.approx([0.1])
    assert s.mated_pairs.tolist() == [[0, 1]]
    assert s.nonmated.tolist() == pytest.approx([1.0, 0.9])
    assert s.nonmated_pairs.tolist() == [[0, 2], [1, 2]]


def test_mated_and_nonmated_each_unordered_pair_once_never_self():
    emb, ids = clustered_embeddings(n_subjects=9, per_subject=(1, 4))
    n = len(emb)
    s = mated_and_nonmated(emb, ids)
    pairs = np.vstack([s.mated_pairs, s.nonmated_pairs])
    assert len(pairs) == n * (n - 1) // 2 == len(s.mated) + len(s.nonmated)
    assert np.all(pairs[:, 0] < pairs[:, 1])  # i < j, so never i == j
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)  # no pair twice
    assert np.all(ids[s.mated_pairs[:, 0]] == ids[s.mated_pairs[:, 1]])
    assert np.all(ids[s.nonmated_pairs[:, 0]] != ids[s.nonmated_pairs[:, 1]])
    # Same pairs and distances as a pair-by-pair loop.
    ref = brute_pairs(emb, ids)
    ref_mated = {(i, j): d for d, i, j, m in ref if m}
    ref_nonmated = {(i, j): d for d, i, j, m in ref if not m}
    assert set(map(tuple, s.mated_pairs.tolist())) == set(ref_mated)
    assert set(map(tuple, s.nonmated_pairs.tolist())) == set(ref_nonmated)
    for (i, j), d in zip(s.nonmated_pairs.tolist(), s.nonmated, strict=True):
        assert d == pytest.approx(ref_nonmated[(i, j)], abs=1e-9)
    for (i, j), d in zip(s.mated_pairs.tolist(), s.mated, strict=True):
        assert d == pytest.approx(ref_mated[(i, j)], abs=1e-9)


def test_mated_and_nonmated_rejects_bad_input():
    with pytest.raises(ValueError):
        mated_and_nonmated([[0.0]], ["a"])  # a single sample: nothing to compare
    with pytest.raises(ValueError):
        mated_and_nonmated([[0.0], [1.0]], ["a"])  # ids do not match the samples
    with pytest.raises(ValueError):
        mated_and_nonmated(np.zeros((0, 128)), [])


def test_cross_comparisons_every_probe_against_every_reference():
    rng = np.random.default_rng(3)
    probes, refs = rng.normal(size=(4, 6)), rng.normal(size=(3, 6))
    p_ids, r_ids = ["a", "b", "c", "a"], ["a", "c", "x"]
    s = cross_comparisons(probes, p_ids, refs, r_ids)
    assert len(s.mated) + len(s.nonmated) == 12
    # Mated: probe 0-ref 0, probe 2-ref 1, probe 3-ref 0.
    assert sorted(map(tuple, s.mated_pairs.tolist())) == [(0, 0), (2, 1), (3, 0)]
    all_pairs = np.vstack([s.mated_pairs, s.nonmated_pairs]).tolist()
    for (i, j), d in zip(all_pairs, np.concatenate([s.mated, s.nonmated]), strict=True):
        assert d == pytest.approx(np.linalg.norm(probes[i] - refs[j]), abs=1e-9)
    with pytest.raises(ValueError):
        cross_comparisons(probes, p_ids[:2], refs, r_ids)


# --------------------------------------------------------------------------- rates at one threshold


def test_error_rates_at_hand_example():
    r = error_rates_at(MATED, NONMATED, 0.45)
    assert (r.false_matches, r.nonmated_count, r.fmr) == (2, 4, 0.5)
    assert (r.false_non_matches, r.mated_count, r.fnmr) == (1, 3, pytest.approx(1 / 3))
    assert r.fmr_ci == pytest.approx(wilson_interval(2, 4))
    assert r.fnmr_ci == pytest.approx(wilson_interval(1, 3))


def test_error_rates_at_threshold_on_a_score_counts_it_as_a_match():
    # distance <= t is a match: at t = 0.4 the non-mated 0.4 is a false match (2/4),
    # and at t = 0.5 the mated 0.5 is a match, so FNMR = 0.
    assert error_rates_at(MATED, NONMATED, 0.4).false_matches == 2
    assert error_rates_at(MATED, NONMATED, 0.5).false_non_matches == 0
    assert error_rates_at(MATED, NONMATED, 0.49).false_non_matches == 1
    low = error_rates_at(MATED, NONMATED, -1.0)
    assert (low.fmr, low.fnmr) == (0.0, 1.0)


def test_error_rates_summary_text():
    # 47 false matches out of 5,151 non-mated pairs; 3 false non-matches out of 150 mated pairs.
    nonmated = np.r_[np.full(47, 0.3), np.full(5151 - 47, 0.9)]
    mated = np.r_[np.full(3, 0.8), np.full(147, 0.2)]
    r = error_rates_at(mated, nonmated, 0.6)
    assert r.fmr_text() == "FMR 0.91% (47 of 5,151 non-mated pairs; 95% CI 0.69%-1.21%)"
    assert r.fnmr_text() == "FNMR 2.00% (3 of 150 mated pairs; 95% CI 0.68%-5.71%)"
    assert str(r) == r.summary() == f"threshold 0.6\n  {r.fmr_text()}\n  {r.fnmr_text()}"
    tiny = ErrorRates.from_counts(0.5, 21, 1_000_000, 0, 10, confidence=0.99)
    assert tiny.fmr_text().startswith("FMR 0.0021% (21 of 1,000,000 non-mated pairs; 99% CI ")


@pytest.mark.parametrize(
    "mated, nonmated",
    [([], [0.1]), ([0.1], []), ([[0.1]], [0.2]), ([0.1, np.nan], [0.2]), ([0.1], [np.inf])],
)
def test_error_rates_at_rejects_empty_or_malformed_scores(mated, nonmated):
    with pytest.raises(ValueError):
        error_rates_at(mated, nonmated, 0.5)
    with pytest.raises(ValueError):
        error_rate_curves(mated, nonmated)


def test_error_rates_at_rejects_bad_threshold():
    with pytest.raises(ValueError):
        error_rates_at(MATED, NONMATED, float("nan"))
    with pytest.raises(ValueError):
        error_rates_at(MATED, NONMATED, [0.3, 0.4])  # type: ignore[arg-type]  # the wrong type is the test


# --------------------------------------------------------------------------- curves


def test_error_rate_curves_hand_example():
    c = error_rate_curves(MATED, NONMATED)
    assert c.thresholds.tolist() == [-np.inf, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
    # non-mated <= t:  -inf:0  0.1:0  0.2:1  0.3:1  0.4:2  0.5:2  0.6:3  0.8:4
    assert c.false_matches.tolist() == [0, 0, 1, 1, 2, 2, 3, 4]
    # mated > t:       -inf:3  0.1:2  0.2:2  0.3:1  0.4:1  0.5:0  ...
    assert c.false_non_matches.tolist() == [3, 2, 2, 1, 1, 0, 0, 0]
    assert c.fmr.tolist() == [0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 1.0]
    assert c.fnmr.tolist() == pytest.approx([1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    assert (c.mated_count, c.nonmated_count, c.complete) == (3, 4, True)


def test_error_rate_curves_agree_with_brute_force_loop_with_ties():
    rng = np.random.default_rng(4)
    mated = np.round(rng.normal(0.4, 0.1, 60), 2)  # rounding makes many ties
    nonmated = np.round(rng.normal(0.7, 0.1, 90), 2)
    c = error_rate_curves(mated, nonmated)
    distinct = sorted(set(mated.tolist()) | set(nonmated.tolist()))
    assert c.thresholds.tolist() == [-np.inf] + distinct
    for k, t in enumerate(c.thresholds):
        fm, fnm = brute_rates(mated, nonmated, t)
        assert (c.false_matches[k], c.false_non_matches[k]) == (fm, fnm)
        assert c.fmr[k] == fm / 90 and c.fnmr[k] == fnm / 60
    # Between the tabulated thresholds, at() still gives the exact rates.
    for t in rng.uniform(0.0, 1.2, 50).tolist() + [0.4, 0.7, -5.0, 5.0]:
        r = c.at(t)
        assert (r.false_matches, r.false_non_matches) == brute_rates(mated, nonmated, t)
        assert r.threshold == t
    assert np.all(np.diff(c.fmr) >= 0) and np.all(np.diff(c.fnmr) <= 0)


def test_error_rate_curves_against_sklearn_roc_curve():
    sk_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    mated = np.round(rng.normal(0.4, 0.1, 200), 3)
    nonmated = np.round(rng.normal(0.7, 0.1, 300), 3)
    # sklearn: higher score = positive. Positive = mated, score = -distance.
    y = np.r_[np.ones(200), np.zeros(300)]
    fpr, tpr, thr = sk_metrics.roc_curve(y, -np.r_[mated, nonmated], drop_intermediate=False)
    c = error_rate_curves(mated, nonmated)
    for f, tp, s in zip(fpr, tpr, thr, strict=True):
        r = c.at(-s)
        assert r.fmr == pytest.approx(f) and 1 - r.fnmr == pytest.approx(tp)


def test_error_rates_at_thresholds_matches_scalar_function():
    c = error_rates_at_thresholds(MATED, NONMATED, [0.7, 0.45, 0.45, -1.0])
    assert c.thresholds.tolist() == [-1.0, 0.45, 0.7]
    assert c.complete is False
    for k, t in enumerate(c.thresholds):
        r = error_rates_at(MATED, NONMATED, t)
        assert (c.false_matches[k], c.false_non_matches[k]) == (r.false_matches, r.false_non_matches)
    # at() on a curve with chosen thresholds uses the largest one not above t, and says so.
    r = c.at(0.69)
    assert (r.threshold, r.false_matches) == (0.45, 2)
    with pytest.raises(ValueError):
        c.at(-2.0)


def test_curve_confidence_intervals_are_wilson():
    c = error_rate_curves(MATED, NONMATED)
    lo, hi = c.fmr_ci()
    assert lo[4] == pytest.approx(wilson_interval(2, 4)[0]) and hi[4] == pytest.approx(wilson_interval(2, 4)[1])
    lo, hi = c.fnmr_ci(confidence=0.9)
    assert hi[1] == pytest.approx(wilson_interval(2, 3, 0.9)[1])


# --------------------------------------------------------------------------- EER


def test_eer_when_curves_meet_exactly():
    # mated 0.1 0.2 0.3 0.4; non-mated 0.35 0.5 0.6 0.7
    # at 0.35: FMR = 1/4 (0.35), FNMR = 1/4 (0.4) -> equal; at 0.4 FMR 1/4, FNMR 0 -> not equal.
    # EER = 0.25; thresholds 0.35 <= t < 0.4 all give it -> midpoint 0.375.
    eer, t = equal_error_rate([0.1, 0.2, 0.3, 0.4], [0.35, 0.5, 0.6, 0.7])
    assert eer == 0.25
    assert t == pytest.approx(0.375)
    r = error_rates_at([0.1, 0.2, 0.3, 0.4], [0.35, 0.5, 0.6, 0.7], t)
    assert r.fmr == r.fnmr == 0.25


def test_eer_when_curves_cross_between_steps():
    # mated 0.1 0.2 0.3; non-mated 0.2 0.4
    # t = 0.1: FMR 0,   FNMR 2/3   (FMR < FNMR)
    # t = 0.2: FMR 1/2, FNMR 1/3   (FMR > FNMR)
    # Segment (0, 2/3) -> (1/2, 1/3) meets FMR = FNMR at a = (2/3) / (2/3 + 1/6) = 0.8:
    # EER = 0 + 0.8 * 1/2 = 0.4 (check: 2/3 - 0.8 * 1/3 = 0.4); threshold 0.1 + 0.8 * 0.1 = 0.18.
    eer, t = equal_error_rate([0.1, 0.2, 0.3], [0.2, 0.4])
    assert eer == pytest.approx(0.4, abs=1e-12)
    assert t == pytest.approx(0.18, abs=1e-12)


def test_eer_crossing_at_the_smallest_score():
    # mated 0, 5; non-mated 0.  -inf: FMR 0, FNMR 1.  t = 0: FMR 1, FNMR 1/2.
    # a = (1 - 0) / ((1 - 0) + (1 - 1/2)) = 2/3 -> EER = 2/3; no finite t0, so the threshold is 0.
    eer, t = equal_error_rate([0.0, 5.0], [0.0])
    assert eer == pytest.approx(2 / 3, abs=1e-12)
    assert t == 0.0


def test_eer_perfectly_separated_sets():
    eer, t = equal_error_rate([0.1, 0.3, 0.2], [0.9, 0.7])
    assert eer == 0.0
    assert t == pytest.approx(0.5)  # middle of the gap 0.3 .. 0.7


def test_eer_lies_between_the_step_values_around_the_crossing():
    rng = np.random.default_rng(6)
    for _ in range(20):
        mated, nonmated = rng.normal(0.4, 0.15, 37), rng.normal(0.7, 0.15, 53)
        eer, t = equal_error_rate(mated, nonmated)
        c = error_rate_curves(mated, nonmated)
        gap = c.fmr - c.fnmr
        j = int(np.argmax(gap >= 0))
        # EER is within the rates of the last point with FMR < FNMR and the first with FMR >= FNMR
        lo = min(c.fmr[j - 1], c.fnmr[j], c.fmr[j], c.fnmr[j - 1])
        hi = max(c.fmr[j - 1], c.fnmr[j], c.fmr[j], c.fnmr[j - 1])
        assert lo <= eer <= hi
        assert c.thresholds[j - 1] <= t <= c.thresholds[j] or gap[j] == 0
        # ... and close to the common alternative definition.
        k = int(np.argmin(np.abs(gap)))
        assert abs(eer - (c.fmr[k] + c.fnmr[k]) / 2) <= max(1 / 37, 1 / 53)


# --------------------------------------------------------------------------- threshold for a target FMR


def test_threshold_for_fmr_hand_cases():
    nm = [0.8, 0.2, 0.6, 0.4]  # unsorted on purpose; sorted 0.2 0.4 0.6 0.8
    assert threshold_for_fmr(nm, 0.5) == 0.4  # FMR 2/4 <= 0.5; 0.6 would give 3/4
    assert threshold_for_fmr(nm, 0.49) == 0.2
    assert threshold_for_fmr(nm, 0.25) == 0.2  # exactly 1/4 is allowed (<=)
    assert threshold_for_fmr(nm, 1.0) == 0.8
    # target < 1/n: the largest number below the smallest non-mated score, where FMR = 0
    t = threshold_for_fmr(nm, 0.1)
    assert t == np.nextafter(0.2, -np.inf) and t < 0.2
    assert threshold_for_fmr(nm, 0.0) == t
    assert error_rates_at([0.1], nm, t).false_matches == 0


def test_threshold_for_fmr_with_ties_at_the_bottom():
    # 0.2 appears twice: no observed threshold gives FMR <= 1/4, so go just below 0.2.
    nm = [0.2, 0.2, 0.4, 0.6]
    assert threshold_for_fmr(nm, 0.25) == np.nextafter(0.2, -np.inf)
    assert threshold_for_fmr(nm, 0.5) == 0.2


def test_threshold_for_fmr_uses_exact_rate_comparison():
    # 0.29 * 100 = 28.999999999999996 in floating point: a floor(target * n) count would allow
    # only 28 false matches, but FMR = 29/100 <= 0.29 is allowed.
    nm = np.arange(1, 101) / 100.0
    assert threshold_for_fmr(nm, 0.29) == nm[28]


def test_threshold_for_fmr_is_the_largest_allowed_observed_score():
    rng = np.random.default_rng(7)
    nm = np.round(rng.uniform(0, 1, 200), 2)
    for target in [0.0, 0.001, 0.01, 0.05, 0.1, 0.333, 0.5, 0.99, 1.0]:
        t = threshold_for_fmr(nm, target)
        allowed = [v for v in sorted(set(nm.tolist())) if sum(nm <= v) / len(nm) <= target]
        expected = allowed[-1] if allowed else np.nextafter(nm.min(), -np.inf)
        assert t == expected


@pytest.mark.parametrize("nm, target", [([], 0.1), ([0.2], -0.1), ([0.2], 1.5)])
def test_threshold_for_fmr_rejects_bad_arguments(nm, target):
    with pytest.raises(ValueError):
        threshold_for_fmr(nm, target)


def test_fnmr_at_fmr():
    # target 1/4: threshold 0.2 (FMR 1/4); mated > 0.2 are 0.3, 0.5 -> FNMR 2/3
    r = fnmr_at_fmr(MATED, NONMATED, 0.25)
    assert (r.threshold, r.false_matches, r.false_non_matches) == (0.2, 1, 2)
    assert r.fnmr == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- DET


def test_probit_agrees_with_normaldist():
    p = np.r_[1e-300, 1e-20, 1e-9, 1e-4, 0.01, 0.074, 0.075, 0.076, np.linspace(0.001, 0.999, 997), 0.9999, 1 - 1e-12]
    got = probit(p)
    expected = np.array([NormalDist().inv_cdf(x) for x in p])
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)  # same algorithm: equal to rounding
    assert probit(0.5) == 0.0
    for bad in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError):
            probit(bad)


def test_det_points_drop_zero_and_one():
    c = error_rate_curves(MATED, NONMATED)
    # (FMR, FNMR) at -inf (0,1), 0.1 (0,2/3), 0.2 (1/4,2/3), 0.3 (1/4,1/3), 0.4 (1/2,1/3),
    # 0.5 (1/2,0) ... -> only 0.2, 0.3, 0.4 have both rates strictly between 0 and 1.
    d = det_points(c)
    assert d.thresholds.tolist() == [0.2, 0.3, 0.4]
    nd = NormalDist()
    assert d.fmr_deviate.tolist() == pytest.approx([nd.inv_cdf(0.25), nd.inv_cdf(0.25), 0.0], abs=1e-12)
    expected_y = [nd.inv_cdf(2 / 3), nd.inv_cdf(1 / 3), nd.inv_cdf(1 / 3)]
    assert d.fnmr_deviate.tolist() == pytest.approx(expected_y, abs=1e-12)


# --------------------------------------------------------------------------- histograms


def test_histogram_agrees_with_exact_curves_at_the_bin_edges():
    emb, ids = clustered_embeddings(n_subjects=15, per_subject=(1, 5), seed=8)
    n = len(emb)
    scores = mated_and_nonmated(emb, ids)
    rng = np.random.default_rng(9)
    all_d = np.r_[scores.mated, scores.nonmated]
    edges = np.sort(rng.uniform(np.quantile(all_d, 0.02), np.quantile(all_d, 0.98), 25))
    # Each distance is far from every edge, so rounding cannot move it across one.
    assert np.min(np.abs(all_d[:, None] - edges[None, :])) > 1e-9

    hist = error_counts_histogram(emb, ids, edges, chunk_size=7)  # several chunks, a ragged last one
    assert hist.mated_total == len(scores.mated) and hist.nonmated_total == len(scores.nonmated)
    assert hist.mated_total + hist.nonmated_total == n * (n - 1) // 2
    # Bin by bin, against counting with a loop over the bins.
    bounds = np.r_[-np.inf, edges, np.inf]

    def in_bin(d: np.ndarray, k: int) -> int:
        return int(np.sum((d > bounds[k]) & (d <= bounds[k + 1])))

    for k in range(len(edges) + 1):
        assert hist.mated_counts[k] == in_bin(scores.mated, k)
        assert hist.nonmated_counts[k] == in_bin(scores.nonmated, k)

    approx = curves_from_histogram(hist)
    exact = error_rate_curves(scores.mated, scores.nonmated)
    assert approx.complete is False and len(approx) == len(edges) + 1
    for e in edges:
        a, x = approx.at(e), exact.at(e)
        assert (a.false_matches, a.false_non_matches) == (x.false_matches, x.false_non_matches)
        assert (a.fmr, a.fnmr) == (x.fmr, x.fnmr)


def test_histogram_bins_include_their_upper_edge():
    # Points 0, 2, 4 (three different people): distances 2, 4, 2 (exact in floating point).
    h = error_counts_histogram([[0.0], [2.0], [4.0]], ["a", "b", "c"], [2.0, 3.0])
    # bins: <= 2 | (2, 3] | > 3
    assert h.nonmated_counts.tolist() == [2, 0, 1]
    assert h.mated_counts.tolist() == [0, 0, 0]
    with pytest.raises(ValueError):
        curves_from_histogram(h)  # no mated distances: no FNMR


def test_histogram_curve_at_a_threshold_near_an_edge():
    emb, ids = clustered_embeddings(seed=10)
    edges = np.linspace(0.0, 6.0, 61)  # edges[6] is 0.6000000000000001
    c = curves_from_histogram(error_counts_histogram(emb, ids, edges))
    assert c.at(0.6).threshold == edges[6]
    assert c.at(0.64).threshold == edges[6]


@pytest.mark.parametrize("edges", [[], [0.5, 0.5], [0.6, 0.2], [[0.1, 0.2]], [0.1, np.nan]])
def test_histogram_rejects_bad_edges(edges):
    with pytest.raises(ValueError):
        error_counts_histogram([[0.0], [1.0]], ["a", "b"], edges)


# --------------------------------------------------------------------------- bootstrap


def slow_fmr_of_draw(emb, ids, threshold):
    """The resampled data set built explicitly, then every pair of it compared with a loop."""

    def statistic(drawn):
        rows = []  # (original subject, sample index) for every copy of every drawn subject
        for s in drawn:
            rows += [(s, i) for i in np.flatnonzero(ids == s)]
        fm = total = 0
        for (s, i), (u, j) in itertools.combinations(rows, 2):
            if s != u:  # copies of one person, and samples of one person, are not non-mated
                total += 1
                fm += np.linalg.norm(emb[i] - emb[j]) <= threshold
        return fm / total if total else math.nan

    return statistic


def test_fmr_bootstrap_vectorised_equals_slow_reference():
    emb, ids = clustered_embeddings(n_subjects=6, per_subject=(1, 3), spread=0.6, seed=11)
    scores = mated_and_nonmated(emb, ids)
    threshold = float(np.quantile(scores.nonmated, 0.3))
    threshold += 1e-6 if np.min(np.abs(scores.nonmated - threshold)) < 1e-9 else 0.0
    assert np.min(np.abs(np.r_[scores.nonmated] - threshold)) > 1e-9

    fast = fmr_bootstrap_by_subject(emb, ids, threshold, n_boot=60, seed=3, chunk_size=4)
    slow = bootstrap_by_subject(slow_fmr_of_draw(emb, ids, threshold), ids, n_boot=60, seed=3)
    np.testing.assert_allclose(fast.replicates, slow.replicates, rtol=1e-12, atol=0, equal_nan=True)
    assert fast.estimate == pytest.approx(slow.estimate, abs=1e-15)
    assert (fast.lo, fast.hi) == pytest.approx((slow.lo, slow.hi), abs=1e-12)
    # The point estimate is the ordinary FMR over all non-mated pairs.
    assert fast.estimate == error_rates_at(scores.mated, scores.nonmated, threshold).fmr
    assert np.nanstd(fast.replicates) > 0  # the replicates really differ


def test_fmr_bootstrap_never_compares_copies_of_one_person():
    # Two people, far apart; each has two photos close together (mated). At threshold 1 there is
    # no false match, whatever is drawn. Comparing the copies of a person drawn twice (distance 0)
    # or a person's own photos would wrongly create false matches.
    emb = [[0.0], [0.5], [10.0], [10.5]]
    res = fmr_bootstrap_by_subject(emb, ["a", "a", "b", "b"], 1.0, n_boot=200)
    assert res.estimate == 0.0
    defined = res.replicates[~np.isnan(res.replicates)]
    assert defined.size > 0 and np.all(defined == 0.0)
    # Replicates that drew the same person twice have no non-mated pair: nan.
    assert np.isnan(res.replicates).sum() > 0


def test_bootstrap_by_subject_draws_subjects_with_replacement():
    seen = []
    value = {"a": 0.13, "b": 0.71, "c": 0.42, "d": 0.96}

    def statistic(drawn):
        seen.append(np.array(drawn))
        return float(np.mean([value[s] for s in drawn]))

    ids = ["c", "a", "b", "a", "d", "c"]
    res = bootstrap_by_subject(statistic, ids, n_boot=300, confidence=0.9, seed=5)
    assert res.estimate == pytest.approx((0.13 + 0.71 + 0.42 + 0.96) / 4)  # every subject once
    draws = seen[:-1]  # the last call is the estimate
    assert len(draws) == 300 and all(len(d) == 4 for d in draws)
    assert set(np.concatenate(draws).tolist()) == {"a", "b", "c", "d"}
    assert any(len(set(d.tolist())) < 4 for d in draws)  # with replacement: repeats happen
    assert (res.lo, res.hi) == tuple(np.quantile(res.replicates, [0.05, 0.95]))  # central 90 %
    assert np.all(res.replicates == [statistic(d) for d in draws])
    again = bootstrap_by_subject(statistic, ids, n_boot=300, confidence=0.9, seed=5)
    np.testing.assert_array_equal(res.replicates, again.replicates)
    with pytest.raises(ValueError):
        bootstrap_by_subject(statistic, ids, n_boot=0)


# --------------------------------------------------------------------------- groups


def test_group_error_rates_hand_example():
    # A: subjects 1 (x=0), 2 (x=1)   B: subjects 3 (x=10), 4 (x=10.5)    threshold 2
    # within A: one pair, d = 1 -> 1 of 1; within B: d = 0.5 -> 1 of 1; across: 4 pairs, d >= 9 -> 0 of 4.
    emb = [[0.0], [1.0], [10.0], [10.5]]
    rows = group_error_rates(emb, [1, 2, 3, 4], {1: "A", 2: "A", 3: "B", 4: "B"}, threshold=2.0)
    got = [(r.kind, r.group_a, r.group_b, r.false_matches, r.nonmated_count) for r in rows]
    assert got == [("within", "A", "A", 1, 1), ("within", "B", "B", 1, 1), ("across", "A", "B", 0, 4),
                   ("all", "all", "all", 2, 6)]
    assert rows[2].fmr == 0.0 and rows[2].fmr_ci == pytest.approx(wilson_interval(0, 4))


def test_group_error_rates_agree_with_brute_force():
    emb, ids = clustered_embeddings(n_subjects=14, per_subject=(1, 4), spread=0.8, seed=12)
    subjects = sorted(set(ids.tolist()))
    group_of = {s: ["x", "y", "z"][k % 3] for k, s in enumerate(subjects)}
    threshold = 3.0
    # the brute force computes each distance another way (last bits may differ): keep pairs off the threshold
    assert min(abs(d - threshold) for d, *_ in brute_pairs(emb, ids)) > 1e-9
    rows = group_error_rates(emb, ids, group_of, threshold, chunk_size=5)
    per_sample = group_error_rates(emb, ids, [group_of[s] for s in ids], threshold)
    counts = lambda rs: [(r.false_matches, r.nonmated_count) for r in rs]  # noqa: E731
    assert counts(rows) == counts(per_sample)

    brute: dict[tuple[str, str], list[int]] = {}
    for d, i, j, mated in brute_pairs(emb, ids):
        if mated:
            continue
        low, high = sorted((group_of[ids[i]], group_of[ids[j]]))
        key = (low, high)
        for k in (key, ("all", "all")):
            brute.setdefault(k, [0, 0])
            brute[k][0] += d <= threshold
            brute[k][1] += 1
    assert len(rows) == 3 + 3 + 1
    for r in rows:
        fm, n = brute[(r.group_a, r.group_b)]
        assert (r.false_matches, r.nonmated_count) == (fm, n)
        assert r.fmr == fm / n
    assert 0 < rows[-1].false_matches < rows[-1].nonmated_count  # the threshold is not trivial


def test_group_labels_must_be_consistent_and_complete():
    emb = [[0.0], [1.0], [2.0]]
    with pytest.raises(ValueError, match="different groups"):
        group_error_rates(emb, ["a", "a", "b"], ["X", "Y", "X"], 1.0)
    with pytest.raises(ValueError, match="no group"):
        group_error_rates(emb, ["a", "a", "b"], {"a": "X"}, 1.0)


def test_threshold_for_fmr_by_group():
    emb, ids = clustered_embeddings(n_subjects=12, per_subject=(1, 3), spread=0.8, seed=13)
    subjects = sorted(set(ids.tolist()))
    group_of = {s: "early" if k < 5 else "late" for k, s in enumerate(subjects)}
    group_of[subjects[-1]] = "alone"  # a group of one person: no non-mated pair
    rows = threshold_for_fmr_by_group(emb, ids, group_of, 0.1)
    assert [r.group for r in rows] == ["alone", "early", "late"]
    assert math.isnan(rows[0].threshold) and rows[0].nonmated_count == 0
    for r in rows[1:]:
        nonmated = [d for d, i, j, m in brute_pairs(emb, ids)
                    if not m and group_of[ids[i]] == group_of[ids[j]] == r.group]
        assert r.nonmated_count == len(nonmated)
        assert r.threshold == pytest.approx(threshold_for_fmr(nonmated, 0.1), abs=1e-9)
        assert r.fmr <= 0.1 and r.false_matches == sum(d <= r.threshold for d in nonmated)


# --------------------------------------------------------------------------- tables and doctests


def test_format_table_aligns_columns():
    rows = group_error_rates([[0.0], [1.0], [10.0], [10.5]], [1, 2, 3, 4], {1: "A", 2: "A", 3: "B", 4: "B"}, 2.0)
    text = format_table(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)
    assert len({len(line) for line in lines}) == 1  # every line padded to the same width
    assert lines[0].split("  ")[0].strip() == "non-mated pairs"
    # within A: 1 false match of 1 pair; Wilson(1, 1) = (1 / (1 + 1.96²), 1) = (20.65%, 100%)
    assert lines[2].startswith("within A") and lines[2].endswith("100.00%  20.65%-100.00%")
    assert "A vs B" in text and "all pairs" in text
    assert format_table([]) == "(no rows)"
    text = format_table([error_rates_at(MATED, NONMATED, t) for t in (0.3, 0.45)])
    assert "50.00%" in text and "2 / 4" in text


def test_docstring_examples():
    result = doctest.testmod(metrics, verbose=False)
    assert result.attempted > 40
    assert result.failed == 0


# --------------------------------------------------------------------------- keyword-only options

KEYWORD_ONLY = {  # function: the options that must be named (the data come first, positionally)
    "metrics.bootstrap_by_subject": ("n_boot", "confidence", "seed"),
    "metrics.fmr_bootstrap_by_subject": ("n_boot", "seed", "confidence", "chunk_size"),
    "metrics.group_error_rates": ("confidence", "chunk_size"),
    "metrics.error_rates_at": ("confidence",),
    "metrics.fnmr_at_fmr": ("confidence",),
    "demographics.within_group_intervals": ("n_boot", "seed", "confidence", "min_people", "exclude", "order"),
    "demographics.fmr_difference_bootstrap": ("n_boot", "seed", "confidence"),
}


@pytest.mark.parametrize("name", sorted(KEYWORD_ONLY))
def test_analysis_options_are_keyword_only(name: str) -> None:
    """``bootstrap_by_subject(f, ids, 100, 0.9, 1)`` and ``fmr_bootstrap_by_subject(x, ids, t, 100, 1, 0.9)``
    took seed and confidence in opposite orders; a positional option is now a TypeError."""
    import importlib
    import inspect

    module, func = name.split(".")
    params = inspect.signature(getattr(importlib.import_module(f"facecourse.{module}"), func)).parameters
    assert {p: params[p].kind for p in KEYWORD_ONLY[name]} == \
        dict.fromkeys(KEYWORD_ONLY[name], inspect.Parameter.KEYWORD_ONLY)


def test_swapped_seed_and_confidence_cannot_be_passed_by_position() -> None:
    emb, ids = [[0.0], [0.3], [0.45]], ["a", "b", "c"]
    with pytest.raises(TypeError):
        # meant confidence=0.9, seed=3: refused (the call mypy rejects is the one under test)
        fmr_bootstrap_by_subject(emb, ids, 0.25, 100, 0.9, 3)  # type: ignore[call-arg, arg-type]
    named = fmr_bootstrap_by_subject(emb, ids, 0.25, n_boot=100, seed=3, confidence=0.9)
    assert named.replicates.shape == (100,)


def test_threshold_for_fmr_midpoint_sits_between_observed_scores():
    """midpoint=True: same FMR as the observed threshold, and no score within half a gap of it.

    Scores are sums of powers of two, so every midpoint below is exact on any CPU.
    """
    from facecourse.metrics import threshold_for_fmr

    scores = [0.25, 0.5, 0.75, 1.0]
    assert threshold_for_fmr(scores, 0.5) == 0.5
    assert threshold_for_fmr(scores, 0.5, midpoint=True) == 0.625          # halfway to 0.75
    assert threshold_for_fmr(scores, 1.0, midpoint=True) == 1.125          # above the largest by half its gap
    assert threshold_for_fmr(scores, 0.1, midpoint=True) == 0.125          # below the smallest: FMR 0
    assert threshold_for_fmr([0.5], 0.0, midpoint=True) == 0.0
    rng = np.random.default_rng(3)
    s = rng.random(1000)
    for target in (0.001, 0.01, 0.1, 0.5):
        t, t_mid = threshold_for_fmr(s, target), threshold_for_fmr(s, target, midpoint=True)
        assert np.count_nonzero(s <= t) == np.count_nonzero(s <= t_mid)       # the same FMR on these data
        assert np.min(np.abs(s - t_mid)) > 0                                  # no score sits on it
    with pytest.raises(TypeError):
        threshold_for_fmr(s, 0.1, True)  # type: ignore[call-arg]  # keyword-only: the refused call is the test
