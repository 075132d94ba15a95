"""Tests of facecourse.synthetic: fitted SYNTHETIC faceprints, deterministic and streamed."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from facecourse.synthetic import SYNTHETIC_NOTICE, SyntheticFaceprints, chi_mean

# "Measured" distances shaped like dlib's: mated about 0.40 +- 0.08, non-mated 0.80 +- 0.07.
_RNG = np.random.default_rng(2024)
MATED = _RNG.normal(0.40, 0.08, 4000).clip(0.01)
NONMATED = _RNG.normal(0.80, 0.07, 4000).clip(0.01)


def _small() -> SyntheticFaceprints:
    return SyntheticFaceprints(between_sd=0.05, within_sd=0.02, within_scale_sd=0.2)


def test_chi_mean_hand_values() -> None:
    # chi with 1 dof: E|z| = sqrt(2/pi) = 0.797885; with 2 dofs: sqrt(pi/2) = 1.253314
    assert chi_mean(1) == pytest.approx(math.sqrt(2 / math.pi))
    assert chi_mean(2) == pytest.approx(math.sqrt(math.pi / 2))
    # Monte Carlo in 128-d
    z = np.random.default_rng(0).standard_normal((20_000, 128))
    assert np.linalg.norm(z, axis=1).mean() == pytest.approx(chi_mean(128), rel=2e-3)


def test_closed_form_parameters() -> None:
    gen = SyntheticFaceprints().fit([0.4, 0.4], [0.8, 0.8], match_spread=False)
    c = chi_mean(128)
    # mated mean 0.4 = sqrt(2) c within_sd; non-mated 0.8 = sqrt(2) c sqrt(between^2 + within^2)
    assert gen.within_sd == pytest.approx(0.4 / (math.sqrt(2) * c))
    assert gen.between_sd == pytest.approx(math.sqrt(3) * 0.4 / (math.sqrt(2) * c))
    assert gen.within_scale_sd == 0.0
    assert gen.targets["mated_mean"] == pytest.approx(0.4)


@pytest.mark.parametrize("norm", [None, 0.95])
def test_fit_matches_measured_means(norm: float | None) -> None:
    gen = SyntheticFaceprints(norm=norm).fit(MATED, NONMATED)
    mated, nonmated = gen.sample_distances(4000, seed=1)
    assert mated.mean() == pytest.approx(MATED.mean(), rel=0.03)
    assert nonmated.mean() == pytest.approx(NONMATED.mean(), rel=0.03)
    # the mated spread is fitted too (through the per-identity scale), roughly
    assert mated.std() == pytest.approx(MATED.std(), rel=0.15)
    assert gen.within_scale_sd > 0
    # the model's non-mated spread is narrower than the measured one (documented limit)
    assert nonmated.std() < NONMATED.std()
    if norm is not None:
        x = gen.generate_gallery(100).embeddings
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), norm, rtol=1e-5)


def test_expected_moments_agree_with_samples() -> None:
    gen = SyntheticFaceprints().fit(MATED, NONMATED)
    m = gen.expected_distance_moments()
    mated, nonmated = gen.sample_distances(4000, seed=2)
    assert m["mated_mean"] == pytest.approx(mated.mean(), rel=0.01)
    assert m["nonmated_mean"] == pytest.approx(nonmated.mean(), rel=0.01)


def test_block_size_independent() -> None:
    gen = _small()
    ref = gen.generate_gallery(1000, samples_per_identity=2, seed=5, block_identities=10**6)
    for block in (1, 256, 300, 768):  # 1 and 300 round up to whole units of 256
        g = gen.generate_gallery(1000, samples_per_identity=2, seed=5, block_identities=block)
        np.testing.assert_array_equal(g.embeddings, ref.embeddings)
        np.testing.assert_array_equal(g.identity_ids, ref.identity_ids)


def test_seed_determinism_and_prefix() -> None:
    gen = _small()
    a = gen.generate_gallery(600, seed=3).embeddings
    assert np.array_equal(a, gen.generate_gallery(600, seed=3).embeddings)
    assert not np.allclose(a, gen.generate_gallery(600, seed=4).embeddings)
    # a smaller gallery is the start of a larger one (nested galleries for scaling curves)
    np.testing.assert_array_equal(gen.generate_gallery(300, seed=3).embeddings, a[:300])
    # float32 is the float64 result rounded
    b = gen.generate_gallery(600, seed=3, dtype=np.float64).embeddings
    np.testing.assert_array_equal(a, b.astype(np.float32))


def test_gallery_layout_and_labelling() -> None:
    g = _small().generate_gallery(5, samples_per_identity=3)
    assert g.embeddings.shape == (15, 128) and g.embeddings.dtype == np.float32
    assert g.identity_ids.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    emb, ids = g  # unpacks as (embeddings, identity ids)
    assert emb is g.embeddings and ids is g.identity_ids
    assert g.provenance == SYNTHETIC_NOTICE and "SYNTHETIC" in SYNTHETIC_NOTICE
    assert "SYNTHETIC" in repr(_small())


def test_streams_into_out_without_doubling_memory() -> None:
    gen = _small()
    n = 20_000
    result_bytes = n * 128 * 4  # 10.24 MB of float32
    out = np.empty((n, 128), dtype=np.float32)
    gen.generate_gallery(10, seed=0)  # warm-up: one-off allocations of numpy's random module
    tracemalloc.start()
    g = gen.generate_gallery(n, seed=0, block_identities=1024, out=out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert g.embeddings is out
    # besides the caller's buffer: one 1024 x 128 float64 block (1 MB), ids (160 kB), small stuff
    assert peak < 0.3 * result_bytes
    np.testing.assert_array_equal(out[:500], gen.generate_gallery(500, seed=0).embeddings)
    tracemalloc.start()
    gen.generate_gallery(n, seed=0, block_identities=1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.25 * result_bytes  # the result itself plus one block, not two copies


def test_probes_mated_and_nonmated() -> None:
    gen = SyntheticFaceprints().fit(MATED, NONMATED)
    gallery = gen.generate_gallery(2000, seed=7)
    probes = gen.generate_probes(300, 200, n_enrolled=2000, seed=7, probe_seed=1)
    assert probes.embeddings.shape == (500, 128) and probes.provenance == SYNTHETIC_NOTICE
    assert probes.mated.tolist() == [True] * 300 + [False] * 200
    mated_ids = probes.identity_ids[:300]
    assert len(np.unique(mated_ids)) == 300 and mated_ids.max() < 2000
    assert probes.identity_ids[300:].tolist() == list(range(2000, 2200))
    # a mated probe is a NEW sample of its enrolled identity: mated-like distance, never 0
    d_mated = np.linalg.norm(
        probes.embeddings[:300].astype(np.float64) - gallery.embeddings[mated_ids], axis=1
    )
    assert d_mated.min() > 0.05
    assert d_mated.mean() == pytest.approx(MATED.mean(), rel=0.05)
    # non-mated probes sit at non-mated distance from every enrolled identity's sample
    diff = probes.embeddings[300:310, None, :] - gallery.embeddings[None, :50]
    d_non = np.linalg.norm(diff, axis=2)
    assert d_non.mean() == pytest.approx(NONMATED.mean(), rel=0.05)
    # deterministic, and another probe_seed gives other samples
    again = gen.generate_probes(300, 200, n_enrolled=2000, seed=7, probe_seed=1)
    np.testing.assert_array_equal(again.embeddings, probes.embeddings)
    other = gen.generate_probes(300, 200, n_enrolled=2000, seed=7, probe_seed=2)
    assert not np.allclose(other.embeddings[300:], probes.embeddings[300:])


def test_generate_samples_uses_identity_centres() -> None:
    gen = SyntheticFaceprints(between_sd=0.05, within_sd=0.0)  # no within-person noise
    gallery = gen.generate_gallery(600, seed=9, dtype=np.float64).embeddings
    ids = np.array([599, 3, 300, 3])
    samples = gen.generate_samples(ids, seed=9, dtype=np.float64)
    np.testing.assert_allclose(samples, gallery[ids])  # exactly the identity centres


def test_validation() -> None:
    with pytest.raises(ValueError, match="swapped"):
        SyntheticFaceprints().fit(NONMATED, MATED)
    with pytest.raises(ValueError, match="fit"):
        SyntheticFaceprints().generate_gallery(10)
    with pytest.raises(ValueError, match="too small"):
        SyntheticFaceprints(norm=0.1).fit(MATED, NONMATED)
    with pytest.raises(ValueError, match="n_mated"):
        _small().generate_probes(11, 0, n_enrolled=10)
    with pytest.raises(ValueError, match="shape"):
        _small().generate_gallery(10, out=np.empty((9, 128), dtype=np.float32))
