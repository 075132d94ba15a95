"""SYNTHETIC faceprints for scaling experiments - random vectors, not faces of anyone.

Real galleries of 10^6-10^7 people cannot (and must not) be collected for a course, yet
1:N identification changes character with gallery size.  :class:`SyntheticFaceprints`
makes random 128-d "faceprints" whose mated and non-mated Euclidean distances have
the same *means* (and, for mated pairs, the same spread) as distances measured on real
dlib embeddings, so that index memory, search time and false-candidate counts can be
explored at scale.  Everything it returns is labelled synthetic
(:data:`SYNTHETIC_NOTICE`); never present it as real biometric data.

The model (all Gaussians isotropic in ``d`` dimensions)::

    centre_i = offset + between_sd * z_i              identity i   (z ~ N(0, I_d))
    s_i      = exp(tau * u_i - tau^2 / 2)             its within-person scale (E s = 1)
    x        = centre_i + within_sd * s_i * e         one sample   (e ~ N(0, I_d))
    x        = norm * x / ||x||                       optional, if ``norm`` is set

For independent x, y with per-dimension variance sigma^2, ``E||x - y||^2 = 2 d sigma^2``
and ``||x - y|| = sigma * sqrt(2) * chi_d``, whose mean is ``sigma * sqrt(2) * c_d`` with
``c_d = sqrt(2) Gamma((d+1)/2) / Gamma(d/2)`` (about ``sqrt(d - 1/2)``).  Hence, in
closed form (see :meth:`SyntheticFaceprints.fit`):

* mated distance (same i): ``sqrt(2) * within_sd * s_i * chi_d``;
* non-mated distance (i != j): about ``sqrt(2 (between_sd^2 + within_sd^2 E s^2)) * chi_d``.

Assumptions and limits - say them when you show results:

* isotropy and Gaussianity.  Real embeddings are neither: their variance is spread
  unevenly over directions and their distance distributions are skewed.  A chi
  distribution in 128-d is very narrow (coefficient of variation about 1/sqrt(2d) =
  6%), so the synthetic *non-mated* spread is narrower than the measured one, and
  **its lower tail - which decides the FMR at a strict threshold, hence false
  candidates at scale - may differ by orders of magnitude from the real one**.
  Use synthetic galleries for memory/time scaling and for the *shape* of
  ``1 - (1 - FMR)^N``; take FMR itself from real measurements.
* the within-person spread heterogeneity ``tau`` is fitted to the measured mated
  spread; identities are independent; every sample is equally good (no pose, age,
  image-quality effects).

Generation is deterministic given the seed and independent of the memory block size:
each run of :data:`_UNIT` identities (and of probe rows) draws from its own
``SeedSequence(seed, spawn_key=(stream, unit))`` - the ``spawn`` mechanism applied
directly - so the numbers depend on the unit, never on how many units a block holds.
A gallery of n identities is also a prefix of a gallery of more identities (same seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = [
    "SYNTHETIC_NOTICE",
    "SyntheticFaceprints",
    "SyntheticGallery",
    "SyntheticProbes",
    "chi_mean",
]

SYNTHETIC_NOTICE = (
    "SYNTHETIC faceprints: random vectors from an isotropic Gaussian model fitted to "
    "measured distance means; not derived from any person's face."
)

_UNIT = 256
"""Identities (or probe rows) per independent random stream; changing it changes the numbers."""

_STREAM_CENTRES, _STREAM_ENROL, _STREAM_PROBE, _STREAM_CHOICE = 0, 1, 2, 3


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))


def chi_mean(dim: int) -> float:
    """Mean of the chi distribution with ``dim`` degrees of freedom, ``E||z||`` for z ~ N(0, I).

    ``sqrt(2) * Gamma((d+1)/2) / Gamma(d/2)``, computed with log-gamma.

    >>> round(chi_mean(128), 4)  # close to sqrt(127.5) = 11.2916
    11.2916
    """
    return math.sqrt(2.0) * math.exp(math.lgamma((dim + 1) / 2) - math.lgamma(dim / 2))


class SyntheticGallery(NamedTuple):
    """SYNTHETIC enrolled faceprints: ``(embeddings, identity_ids)``, identity-major rows."""

    embeddings: NDArray[Any]
    identity_ids: NDArray[np.int64]

    @property
    def provenance(self) -> str:
        """Where the data comes from (always synthetic)."""
        return SYNTHETIC_NOTICE


class SyntheticProbes(NamedTuple):
    """SYNTHETIC probe faceprints: ``(embeddings, identity_ids, mated)``.

    ``mated[i]`` is True when probe i is a new sample of an enrolled identity.
    """

    embeddings: NDArray[Any]
    identity_ids: NDArray[np.int64]
    mated: NDArray[np.bool_]

    @property
    def provenance(self) -> str:
        """Where the data comes from (always synthetic)."""
        return SYNTHETIC_NOTICE


@dataclass(frozen=True)
class _DistanceStats:
    mean: float
    std: float
    n: int


def _stats(distances: ArrayLike, what: str) -> _DistanceStats:
    d = np.asarray(distances, dtype=np.float64).ravel()
    if d.size < 2 or not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"{what} must hold at least 2 finite, non-negative distances.")
    return _DistanceStats(float(d.mean()), float(d.std(ddof=1)), int(d.size))


class SyntheticFaceprints:
    """Generator of SYNTHETIC faceprints (see the module docstring for the model).

    Either fit it to measured distances, or give the spreads directly.

    Args:
        dim: embedding dimension.
        between_sd: per-dimension standard deviation of identity centres.
        within_sd: per-dimension standard deviation of one person's samples.
        within_scale_sd: ``tau``, log-normal spread of the within-person scale across
            identities (0 = every identity equally variable).
        norm: if set, every faceprint is scaled to this Euclidean norm (dlib-like
            embeddings have norms near 1).  A common offset of length
            ``sqrt(norm^2 - d (between_sd^2 + within_sd^2 e^{tau^2}))`` is added first, so
            points already lie near that sphere and the projection changes distances
            by well under a few percent.

    >>> gen = SyntheticFaceprints().fit([0.35, 0.45], [0.78, 0.82])  # mated, non-mated
    >>> gallery = gen.generate_gallery(1000, seed=0)
    >>> gallery.embeddings.shape, gallery.embeddings.dtype, gallery.provenance[:9]
    ((1000, 128), dtype('float32'), 'SYNTHETIC')
    """

    def __init__(
        self,
        dim: int = 128,
        *,
        between_sd: float | None = None,
        within_sd: float | None = None,
        within_scale_sd: float = 0.0,
        norm: float | None = None,
    ) -> None:
        if dim < 2:
            raise ValueError(f"dim must be >= 2, got {dim}.")
        self.dim = int(dim)
        self.between_sd = between_sd
        self.within_sd = within_sd
        self.within_scale_sd = float(within_scale_sd)
        self.norm = norm
        self.targets: dict[str, float] = {}
        if between_sd is not None and within_sd is not None:
            self._offset_norm()  # validate now

    def __repr__(self) -> str:
        return (
            f"SyntheticFaceprints(SYNTHETIC, dim={self.dim}, between_sd={self.between_sd!r}, "
            f"within_sd={self.within_sd!r}, within_scale_sd={self.within_scale_sd!r}, "
            f"norm={self.norm!r})"
        )

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        mated_distances: ArrayLike,
        nonmated_distances: ArrayLike,
        *,
        match_spread: bool = True,
    ) -> SyntheticFaceprints:
        """Choose the spreads so that synthetic distance means match the measured ones.

        Closed form, with ``c = chi_mean(d)`` and measured mean/standard deviation
        ``m_mated, s_mated, m_nonmated``:

        * ``within_sd = m_mated / (sqrt(2) c)``  (E s = 1, so the mated mean matches exactly);
        * ``exp(tau^2) = (s_mated^2 / (2 within_sd^2) + c^2) / d``  - the mated variance is
          ``2 within_sd^2 (d e^{tau^2} - c^2)``; if the measured spread is below what an
          isotropic Gaussian gives anyway, ``tau = 0`` (also when ``match_spread`` is False);
        * ``between_sd^2 = (m_nonmated / (sqrt(2) c))^2 - within_sd^2 e^{tau^2}`` - this
          treats the per-pair variance as constant (Jensen error well below 1%).

        The non-mated *spread* is not fitted (it cannot be, see the module docstring);
        ``expected_distance_moments()`` reports what the model gives.  The measured
        statistics are kept in ``targets``.

        >>> gen = SyntheticFaceprints().fit([0.4, 0.4], [0.8, 0.8], match_spread=False)
        >>> round(gen.within_sd * math.sqrt(2) * chi_mean(128), 6)  # mated mean
        0.4
        """
        mated = _stats(mated_distances, "mated_distances")
        nonmated = _stats(nonmated_distances, "nonmated_distances")
        if nonmated.mean <= mated.mean:
            raise ValueError(
                f"the non-mated mean distance ({nonmated.mean:.4g}) must exceed the mated "
                f"one ({mated.mean:.4g}); are the two arrays swapped?"
            )
        d, c = self.dim, chi_mean(self.dim)
        within = mated.mean / (math.sqrt(2.0) * c)
        exp_tau2 = (mated.std**2 / (2 * within**2) + c * c) / d if match_spread else 1.0
        tau = math.sqrt(math.log(exp_tau2)) if exp_tau2 > 1.0 else 0.0
        between2 = (nonmated.mean / (math.sqrt(2.0) * c)) ** 2 - within**2 * math.exp(tau * tau)
        if between2 <= 0:
            raise ValueError(
                "the measured mated spread is too large relative to the gap between mated "
                "and non-mated means for this model; fit with match_spread=False."
            )
        self.within_sd, self.between_sd, self.within_scale_sd = within, math.sqrt(between2), tau
        self.targets = {
            "mated_mean": mated.mean,
            "mated_std": mated.std,
            "nonmated_mean": nonmated.mean,
            "nonmated_std": nonmated.std,
        }
        self._offset_norm()
        return self

    def expected_distance_moments(self) -> dict[str, float]:
        """Model mean and standard deviation of mated and non-mated distances (before ``norm``).

        Mated values are exact; non-mated ones use the constant-variance approximation.

        >>> m = SyntheticFaceprints(between_sd=0.0, within_sd=0.1).expected_distance_moments()
        >>> round(m["mated_mean"], 4), round(m["nonmated_mean"], 4)  # 0.1*sqrt(2)*chi_mean(128)
        (1.5969, 1.5969)
        """
        w, b, tau = self._params()
        d, c = self.dim, chi_mean(self.dim)
        e_s2 = math.exp(tau * tau)
        mated_mean = math.sqrt(2.0) * w * c
        mated_sq = 2 * w * w * e_s2 * d
        nonmated_var_dim = b * b + w * w * e_s2
        nonmated_mean = math.sqrt(2.0 * nonmated_var_dim) * c
        nonmated_sq = 2 * nonmated_var_dim * d
        return {
            "mated_mean": mated_mean,
            "mated_std": math.sqrt(max(mated_sq - mated_mean**2, 0.0)),
            "nonmated_mean": nonmated_mean,
            "nonmated_std": math.sqrt(max(nonmated_sq - nonmated_mean**2, 0.0)),
        }

    def _params(self) -> tuple[float, float, float]:
        if self.within_sd is None or self.between_sd is None:
            raise ValueError(
                "the generator has no spreads yet: call fit(mated, nonmated) or pass "
                "between_sd and within_sd."
            )
        if self.within_sd < 0 or self.between_sd < 0 or self.within_scale_sd < 0:
            raise ValueError("between_sd, within_sd and within_scale_sd must be >= 0.")
        return float(self.within_sd), float(self.between_sd), self.within_scale_sd

    def _offset_norm(self) -> float:
        w, b, tau = self._params()
        if self.norm is None:
            return 0.0
        spread2 = self.dim * (b * b + w * w * math.exp(tau * tau))
        if self.norm <= 0 or self.norm**2 < spread2:
            raise ValueError(
                f"norm={self.norm} is too small for these spreads: random points already have "
                f"norm about {math.sqrt(spread2):.3g}; use norm=None or a norm above that."
            )
        return math.sqrt(self.norm**2 - spread2)

    # ------------------------------------------------------------------ generation

    def _offset(self) -> NDArray[np.float64]:
        return np.full(self.dim, self._offset_norm() / math.sqrt(self.dim))

    def _identity_unit(
        self, seed: int, unit: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Centres and within-person scales of identities [unit*_UNIT, (unit+1)*_UNIT)."""
        w, b, tau = self._params()
        rng = _rng(seed, _STREAM_CENTRES, unit)
        centres = rng.standard_normal((_UNIT, self.dim))
        centres *= b
        centres += self._offset()
        scales = np.exp(tau * rng.standard_normal(_UNIT) - tau * tau / 2) * w
        return centres, scales

    def _finish(self, block: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.norm is not None:
            block *= self.norm / np.linalg.norm(block, axis=1, keepdims=True)
        return block

    def generate_gallery(
        self,
        n_identities: int,
        *,
        samples_per_identity: int = 1,
        seed: int = 0,
        dtype: DTypeLike = np.float32,
        block_identities: int = 65_536,
        out: NDArray[Any] | None = None,
    ) -> SyntheticGallery:
        """Make SYNTHETIC enrolled faceprints of identities ``0 .. n_identities-1``.

        Rows are identity-major (``samples_per_identity`` consecutive rows per identity).
        ``seed`` fixes the synthetic population (identity centres) *and* the enrolment
        samples; use the same seed in :meth:`generate_probes`.  Blocks of
        ``block_identities`` (rounded up to a multiple of 256) are generated in float64
        and written into the preallocated result (or into ``out``, e.g. a
        ``np.lib.format.open_memmap``), so 10^7 x 128 float32 (5.1 GB) needs only the
        result plus one block.  The result does not depend on ``block_identities``.

        >>> gen = SyntheticFaceprints(between_sd=0.05, within_sd=0.02)
        >>> g = gen.generate_gallery(3, samples_per_identity=2)
        >>> g.embeddings.shape, g.identity_ids.tolist()
        ((6, 128), [0, 0, 1, 1, 2, 2])
        """
        if n_identities < 0 or samples_per_identity < 1:
            raise ValueError("need n_identities >= 0 and samples_per_identity >= 1.")
        self._params()
        spi, d = int(samples_per_identity), self.dim
        n_rows = int(n_identities) * spi
        emb = self._output(out, n_rows, dtype)
        ids = np.repeat(np.arange(n_identities, dtype=np.int64), spi)
        units_per_block = max(1, -(-int(block_identities) // _UNIT))
        n_units = -(-int(n_identities) // _UNIT)
        for first in range(0, n_units, units_per_block):
            units = range(first, min(first + units_per_block, n_units))
            block = np.empty((len(units) * _UNIT, spi, d))
            scales = np.empty(len(units) * _UNIT)
            for j, unit in enumerate(units):  # one random stream per unit of 256 identities
                rows = slice(j * _UNIT, (j + 1) * _UNIT)
                centres, scales[rows] = self._identity_unit(seed, unit)
                _rng(seed, _STREAM_ENROL, spi, unit).standard_normal(out=block[rows])
                block[rows] *= scales[rows, None, None]
                block[rows] += centres[:, None, :]
            lo = first * _UNIT
            hi = min(lo + block.shape[0], int(n_identities))
            flat = self._finish(block[: hi - lo].reshape(-1, d))
            emb[lo * spi : hi * spi] = flat
            del block, flat  # free this block before the next one is allocated
        return SyntheticGallery(emb, ids)

    def generate_samples(
        self,
        identity_ids: ArrayLike,
        *,
        seed: int = 0,
        sample_seed: int = 0,
        dtype: DTypeLike = np.float32,
        out: NDArray[Any] | None = None,
    ) -> NDArray[Any]:
        """Make one new SYNTHETIC sample per entry of ``identity_ids`` (repeats allowed).

        ``seed`` is the population seed of :meth:`generate_gallery`; ``sample_seed``
        chooses the fresh noise (row r uses stream unit ``r // 256``), which never
        coincides with the enrolment samples.  Only the units of identities asked for
        are regenerated (vectorised per unit).

        >>> gen = SyntheticFaceprints(between_sd=0.05, within_sd=0.02)
        >>> gen.generate_samples([5, 5, 10**6]).shape
        (3, 128)
        """
        ids = np.asarray(identity_ids, dtype=np.int64).ravel()
        if ids.size and ids.min() < 0:
            raise ValueError("identity ids must be >= 0.")
        self._params()
        d, n = self.dim, ids.size
        emb = self._output(out, n, dtype)
        n_row_units = -(-n // _UNIT)
        block = np.empty((n_row_units * _UNIT, d))
        for unit in range(n_row_units):  # fresh noise, one stream per 256 probe rows
            noise = block[unit * _UNIT : (unit + 1) * _UNIT]
            _rng(seed, _STREAM_PROBE, sample_seed, unit).standard_normal(out=noise)
        block = block[:n]
        id_units = ids // _UNIT
        order = np.argsort(id_units, kind="stable")
        uniq, starts = np.unique(id_units[order], return_index=True)
        bounds = np.append(starts, n)
        for unit, a, b in zip(uniq, bounds[:-1], bounds[1:], strict=True):  # one loop step per identity unit
            rows = order[a:b]
            centres, scales = self._identity_unit(seed, int(unit))
            local = ids[rows] - unit * _UNIT
            block[rows] *= scales[local, None]
            block[rows] += centres[local]
        emb[:] = self._finish(block)
        return emb

    def generate_probes(
        self,
        n_mated: int,
        n_nonmated: int,
        *,
        n_enrolled: int,
        seed: int = 0,
        probe_seed: int = 0,
        dtype: DTypeLike = np.float32,
    ) -> SyntheticProbes:
        """Make SYNTHETIC probes: mated (new samples of enrolled identities) then non-mated.

        Mated probes are new samples of ``n_mated`` distinct identities drawn at random
        from ``0 .. n_enrolled-1`` (the gallery made with the same ``seed``); non-mated
        probes are identities ``n_enrolled, n_enrolled+1, ...``, never enrolled there.

        >>> gen = SyntheticFaceprints(between_sd=0.05, within_sd=0.02)
        >>> p = gen.generate_probes(2, 1, n_enrolled=100)
        >>> p.embeddings.shape, p.mated.tolist(), int(p.identity_ids[2])
        ((3, 128), [True, True, False], 100)
        """
        if n_mated > n_enrolled or min(n_mated, n_nonmated, n_enrolled) < 0:
            raise ValueError(
                f"need 0 <= n_mated <= n_enrolled and n_nonmated >= 0, got "
                f"n_mated={n_mated}, n_nonmated={n_nonmated}, n_enrolled={n_enrolled}."
            )
        chooser = _rng(seed, _STREAM_CHOICE, probe_seed)
        mated_ids = np.sort(chooser.choice(n_enrolled, size=n_mated, replace=False))
        nonmated_ids = np.arange(n_enrolled, n_enrolled + n_nonmated, dtype=np.int64)
        ids = np.concatenate([mated_ids.astype(np.int64), nonmated_ids])
        emb = self.generate_samples(ids, seed=seed, sample_seed=probe_seed, dtype=dtype)
        mated = np.arange(ids.size) < n_mated
        return SyntheticProbes(emb, ids, mated)

    def sample_distances(
        self, n_pairs: int = 10_000, *, seed: int = 0
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Draw ``n_pairs`` mated and ``n_pairs`` non-mated SYNTHETIC distances (float64).

        Handy to check a fit: ``mated.mean()`` should match ``targets["mated_mean"]``.

        >>> gen = SyntheticFaceprints(between_sd=0.0, within_sd=0.1)
        >>> mated, nonmated = gen.sample_distances(1000)
        >>> bool(abs(mated.mean() - 1.597) < 0.02)
        True
        """
        g = self.generate_gallery(2 * n_pairs, samples_per_identity=2, seed=seed, dtype=np.float64)
        x = g.embeddings.reshape(2 * n_pairs, 2, self.dim)
        mated = np.linalg.norm(x[:n_pairs, 0] - x[:n_pairs, 1], axis=1)
        nonmated = np.linalg.norm(x[0::2, 0] - x[1::2, 0], axis=1)
        return mated, nonmated

    def _output(self, out: NDArray[Any] | None, n_rows: int, dtype: DTypeLike) -> NDArray[Any]:
        if out is None:
            return np.empty((n_rows, self.dim), dtype=dtype)
        if out.shape != (n_rows, self.dim):
            raise ValueError(f"out must have shape {(n_rows, self.dim)}, got {out.shape}.")
        return out
