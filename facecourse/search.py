"""1:N identification: search a probe faceprint against a gallery of enrolled faceprints.

Vocabulary (ISO/IEC 19795-1, NIST FRTE 1:N):

* **gallery** - the enrolled faceprints (one row per enrolled sample), each with the
  identifier of the subject it belongs to (several rows may share one subject);
* **probe** / **search** - a faceprint searched against the whole gallery;
* **candidate list** - the ``k`` gallery entries closest to the probe, ranked by distance;
* **mated search** - the probe's subject is enrolled; **non-mated search** - it is not;
* **FNIR** (false negative identification rate) - share of mated searches whose mate is
  *not* returned at rank <= R with distance <= T;
* **FPIR** (false positive identification rate) - share of non-mated searches returning
  at least one candidate with distance <= T;
* **FMR** (false match rate) - share of single non-mated 1:1 comparisons with distance <= T.

Scores are Euclidean distances between 128-d embeddings (dlib / face_recognition):
*lower is more similar*, and a candidate counts when ``distance <= threshold``
(face_recognition's default tolerance is 0.6).

Two interchangeable indexes:

* :class:`BruteForceIndex` - exact, numpy only; the distance matrix is a matrix product
  with precomputed squared norms, done in probe chunks to bound memory;
* :class:`FaissIndex` - the same interface over faiss: exact (``"flat"``) or approximate
  (``"hnsw"``, ``"ivf"``, ``"ivfpq"``), to show how identification scales to millions.

Subject identifiers are non-negative integers (map names to integers with
``np.unique(names, return_inverse=True)``); :data:`MISSING_ID` (-1) marks an empty slot
of a candidate list (gallery smaller than ``k``, or an approximate index that found
fewer than ``k`` entries), with distance ``inf``.

Erasure: ``remove_ids`` really drops the rows - they can never be returned again and the
index shrinks - and overwrites the removed faceprints with zeros where the index keeps
them in a numpy/flat buffer.  It cannot reach copies elsewhere (backups, logs, other
indexes, freed memory pages of the allocator): erasure is an organisational process,
not one method call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import _checks
from .metrics import Rate

__all__ = [
    "MISSING_ID",
    "SearchResult",
    "GalleryIndex",
    "BruteForceIndex",
    "FaissIndex",
    "FaissKind",
    "rank_k_identification_rate",
    "fnir",
    "fpir",
    "recall_at_k",
]

MISSING_ID: int = -1
"""Identifier (and gallery index) of an empty candidate slot; its distance is ``inf``."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class SearchResult:
    """Candidate lists of a batch of searches, ranked by ascending distance.

    Attributes:
        distances: ``(n_probes, k)`` Euclidean distances, ascending along each row
            (``inf`` for an empty slot).
        indices: ``(n_probes, k)`` row positions in the gallery *at search time*
            (``-1`` for an empty slot); they shift after ``remove_ids``.
        ids: ``(n_probes, k)`` subject identifiers of the candidates (``-1`` if empty).

    >>> r = BruteForceIndex(2).add([[0, 0], [3, 4]], ids=[7, 8]).search([[0, 0]], k=2)
    >>> r.ids.tolist(), r.distances.tolist()
    ([[7, 8]], [[0.0, 5.0]])
    """

    distances: NDArray[np.float64]
    indices: NDArray[np.int64]
    ids: NDArray[np.int64]

    @property
    def k(self) -> int:
        """Length of each candidate list."""
        return int(self.distances.shape[1])

    def __len__(self) -> int:
        return int(self.distances.shape[0])


class GalleryIndex(Protocol):
    """What every gallery index of the course offers (for type hints)."""

    @property
    def dim(self) -> int: ...

    @property
    def ids(self) -> NDArray[np.int64]: ...

    @property
    def memory_bytes(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, embeddings: ArrayLike, ids: ArrayLike | None = None) -> Any: ...

    def remove_ids(self, ids: ArrayLike) -> int: ...

    def search(self, probes: ArrayLike, k: int) -> SearchResult: ...


# --------------------------------------------------------------------------- helpers


def _as_matrix(x: ArrayLike, dim: int, dtype: DTypeLike, what: str) -> NDArray[Any]:
    """One ``dim``-d faceprint per row (a single 1-D faceprint becomes one row), C-contiguous."""
    return np.ascontiguousarray(_checks.faceprints(what, x, dtype=dtype, allow_single=True, dim=dim))


def _as_ids(ids: ArrayLike, n: int) -> NDArray[np.int64]:
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"ids must be a 1-d array with one id per row ({n}), got {arr.shape}.")
    if n and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            "ids must be integers; map subject names to integers with "
            "np.unique(names, return_inverse=True)."
        )
    arr = arr.astype(np.int64, copy=True)
    if n and arr.min() < 0:
        raise ValueError(f"ids must be >= 0 ({MISSING_ID} marks an empty candidate slot).")
    return arr


def _check_k(k: int) -> int:
    return _checks.positive_int("k", k, what="length of the candidate list")


def _empty_result(n_probes: int, k: int) -> SearchResult:
    return SearchResult(
        distances=np.full((n_probes, k), np.inf),
        indices=np.full((n_probes, k), MISSING_ID, dtype=np.int64),
        ids=np.full((n_probes, k), MISSING_ID, dtype=np.int64),
    )


# --------------------------------------------------------------------------- brute force


class _Gallery:
    """What both indexes share: the embedding dimension and one subject id per gallery row."""

    _dim: int
    _ids: NDArray[np.int64]
    _next_auto_id: int

    def _new_ids(self, ids: ArrayLike | None, n: int) -> NDArray[np.int64]:
        """The subject ids for ``n`` new rows: as given, or new consecutive integers."""
        if ids is None:
            return np.arange(self._next_auto_id, self._next_auto_id + n, dtype=np.int64)
        return _as_ids(ids, n)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self._dim

    @property
    def ids(self) -> NDArray[np.int64]:
        """Subject identifier of each gallery row (read-only view)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        return int(self._ids.shape[0])


class BruteForceIndex(_Gallery):
    """Exact 1:N search with numpy: every probe is compared with every gallery row.

    ``||p - g||^2 = ||p||^2 + ||g||^2 - 2 p.g``: the squared norms of the gallery are
    computed once at enrolment, so ranking is one matrix product per chunk of probes.
    Probes are processed in chunks so that the ``(chunk, N)`` score block stays below
    ``max_block_bytes``; the ``k`` best of each row are picked with ``np.argpartition``
    (linear time), their distances recomputed directly in float64 (the expansion
    cancels badly for near-duplicates), and only those ``k`` are sorted (ties broken by
    gallery row).  Near-ties at the k-th place may be resolved either way.

    Args:
        dim: embedding dimension (128 for dlib).
        dtype: storage and compute type of the gallery; float32 halves memory.
        max_block_bytes: memory budget of one score block.

    >>> index = BruteForceIndex(dim=2).add([[0, 0], [1, 0], [5, 5]], ids=[10, 11, 12])
    >>> index.search([[0.9, 0.0]], k=2).ids.tolist()
    [[11, 10]]
    """

    def __init__(
        self,
        dim: int = 128,
        *,
        dtype: DTypeLike = np.float32,
        max_block_bytes: int = 128 * 2**20,
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}.")
        self._dim = int(dim)
        self._dtype = np.dtype(dtype)
        if self._dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type, got {self._dtype}.")
        self.max_block_bytes = int(max_block_bytes)
        self._gallery: NDArray[Any] = np.empty((0, self._dim), dtype=self._dtype)
        self._sq_norms: NDArray[Any] = np.empty(0, dtype=self._dtype)
        self._ids: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._next_auto_id = 0


    @property
    def dtype(self) -> np.dtype[Any]:
        """Storage type of the gallery matrix."""
        return self._dtype


    @property
    def memory_bytes(self) -> int:
        """Bytes held by the gallery matrix, its squared norms and its ids.

        >>> BruteForceIndex(4).add(np.zeros((10, 4))).memory_bytes  # 10*4*4 + 10*4 + 10*8
        280
        """
        return int(self._gallery.nbytes + self._sq_norms.nbytes + self._ids.nbytes)

    def add(self, embeddings: ArrayLike, ids: ArrayLike | None = None) -> BruteForceIndex:
        """Enrol faceprints (rows of ``embeddings``) under subject ``ids``; returns ``self``.

        Without ``ids`` each row gets a new consecutive integer id.

        >>> len(BruteForceIndex(2).add([[0, 0], [1, 1]]).add([[2, 2]], ids=[0]))
        3
        """
        x = _as_matrix(embeddings, self._dim, self._dtype, "embeddings")
        n = x.shape[0]
        new_ids = self._new_ids(ids, n)
        if n == 0:
            return self
        self._next_auto_id = max(self._next_auto_id, int(new_ids.max()) + 1)
        sq = np.einsum("ij,ij->i", x, x, dtype=np.float64).astype(self._dtype)
        self._gallery = np.concatenate([self._gallery, x]) if len(self) else x
        self._sq_norms = np.concatenate([self._sq_norms, sq])
        self._ids = np.concatenate([self._ids, new_ids])
        return self

    def remove_ids(self, ids: ArrayLike) -> int:
        """Drop every gallery row whose subject id is in ``ids``; returns how many rows.

        The removed rows are overwritten with zeros before the arrays are compacted, so
        the old buffer no longer holds them either; memory shrinks accordingly.

        >>> index = BruteForceIndex(2).add([[0, 0], [1, 1], [2, 2]], ids=[5, 6, 5])
        >>> index.remove_ids([5]), index.ids.tolist()
        (2, [6])
        """
        drop = np.isin(self._ids, np.asarray(ids, dtype=np.int64).ravel())
        n_drop = int(drop.sum())
        if n_drop == 0:
            return 0
        self._gallery[drop] = 0  # scrub before releasing the old buffer
        keep = ~drop
        self._gallery = np.ascontiguousarray(self._gallery[keep])
        self._sq_norms = self._sq_norms[keep]
        self._ids = self._ids[keep]
        return n_drop

    def search(self, probes: ArrayLike, k: int = 1) -> SearchResult:
        """Return the ``k`` nearest gallery rows of each probe, nearest first.

        Slots beyond the gallery size are filled with id/index ``-1`` and distance ``inf``.

        >>> index = BruteForceIndex(2).add([[0, 0], [0, 1], [0, 3]], ids=[1, 2, 3])
        >>> r = index.search([[0, 0.9], [0, 2.5]], k=2)
        >>> r.ids.tolist(), np.round(r.distances, 2).tolist()
        ([[2, 1], [3, 2]], [[0.1, 0.9], [0.5, 1.5]])
        """
        k = _check_k(k)
        p = _as_matrix(probes, self._dim, self._dtype, "probes")
        n_probes, n_gallery = p.shape[0], len(self)
        result = _empty_result(n_probes, k)
        if n_gallery == 0 or n_probes == 0:
            return result
        kk = min(k, n_gallery)
        chunk = max(1, self.max_block_bytes // (n_gallery * self._dtype.itemsize))
        for start in range(0, n_probes, chunk):
            stop = min(start + chunk, n_probes)
            # ||g||^2 - 2 p.g ranks the gallery like ||p - g||^2 (||p||^2 is constant per row)
            scores = p[start:stop] @ self._gallery.T
            scores *= -2
            scores += self._sq_norms
            if kk < n_gallery:
                cand = np.argpartition(scores, kk - 1, axis=1)[:, :kk]
            else:
                cand = np.broadcast_to(np.arange(n_gallery), scores.shape).copy()
            dist = self._exact_distances(p[start:stop], cand)
            order = np.lexsort((cand, dist), axis=1)  # by distance, ties by gallery row
            cand = np.take_along_axis(cand, order, axis=1)
            result.distances[start:stop, :kk] = np.take_along_axis(dist, order, axis=1)
            result.indices[start:stop, :kk] = cand
            result.ids[start:stop, :kk] = self._ids[cand]
        return result

    def _exact_distances(self, p: NDArray[Any], cand: NDArray[np.intp]) -> NDArray[np.float64]:
        """``||p_i - g_cand[i, j]||`` in float64 for the few selected candidates.

        The expansion used for ranking loses precision for near-identical vectors
        (cancellation); recomputing the k kept distances directly costs k*d per probe.
        """
        n, kk = cand.shape
        out = np.empty((n, kk))
        rows = max(1, self.max_block_bytes // (kk * self._dim * 24))
        for a in range(0, n, rows):
            diff = self._gallery[cand[a : a + rows]].astype(np.float64)
            diff -= p[a : a + rows, None, :]
            out[a : a + rows] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        return out


# --------------------------------------------------------------------------- faiss


@contextmanager
def _omp_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set faiss' OpenMP thread count (process-wide) when asked to."""
    if n_threads is None:
        yield
        return
    import faiss

    old = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(int(n_threads))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(old)


def _import_faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss is in requirements.txt
        raise ImportError(
            "FaissIndex needs the faiss-cpu package: "
            "python -m pip install -r requirements.txt (from the repository root)."
        ) from exc
    return faiss


def _flat_vectors(faiss: Any, flat_index: Any, n: int, dim: int) -> NDArray[np.float32]:
    """Writable numpy view onto the vectors stored inside a faiss IndexFlat."""
    flat = faiss.downcast_index(flat_index)
    return faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(n, dim)


FaissKind = Literal["flat", "hnsw", "ivf", "ivfpq"]


class FaissIndex(_Gallery):
    """1:N search over faiss, with the interface of :class:`BruteForceIndex`.

    Kinds:

    * ``"flat"`` - ``IndexIDMap2(IndexFlatL2)``: exact, same answers as brute force;
    * ``"hnsw"`` - ``IndexHNSWFlat`` (graph, ``hnsw_m`` links per node, ``ef_search``
      breadth of the search: higher = better recall, slower);
    * ``"ivf"`` - ``IndexIVFFlat``: k-means into ``nlist`` cells, visits ``nprobe``;
    * ``"ivfpq"`` - ``IndexIVFPQ``: as ivf, vectors compressed to ``pq_m`` bytes.

    faiss stores float32 and returns *squared* L2 distances; they are converted to
    Euclidean distances here.  IVF k-means (and PQ training) use ``seed``, so training is
    reproducible.  HNSW insertion runs in parallel and its graph may differ slightly from
    run to run unless ``num_threads=1``.  ``num_threads``, if given, sets faiss' OpenMP
    thread count during this index's calls (it is process-wide) and restores it after.

    Approximate kinds may return fewer than ``k`` candidates; empty slots are ``-1``/``inf``.
    An IVF index is trained on the first batch passed to :meth:`add` unless
    :meth:`train` was called (rule of thumb: ``nlist`` about ``4*sqrt(N)``, and at
    least ``39*nlist`` training vectors).

    Removal: ``"flat"`` and IVF kinds remove in place (``remove_ids``); HNSW cannot delete
    graph nodes, so it is rebuilt from the remaining vectors (slow for big galleries).
    Flat and HNSW storage of removed vectors is overwritten with zeros first; the
    compressed IVF lists are not scrubbed.

    >>> index = FaissIndex(dim=2).add([[0, 0], [1, 0], [5, 5]], ids=[10, 11, 12])
    >>> index.search([[0.9, 0.0]], k=2).ids.tolist()
    [[11, 10]]
    """

    def __init__(
        self,
        dim: int = 128,
        kind: FaissKind = "flat",
        *,
        hnsw_m: int = 32,
        ef_construction: int = 40,
        ef_search: int = 64,
        nlist: int = 256,
        nprobe: int = 16,
        pq_m: int = 16,
        pq_bits: int = 8,
        seed: int = 0,
        num_threads: int | None = None,
    ) -> None:
        if kind not in ("flat", "hnsw", "ivf", "ivfpq"):
            raise ValueError(f"kind must be 'flat', 'hnsw', 'ivf' or 'ivfpq', got {kind!r}.")
        if kind == "ivfpq" and dim % pq_m:
            raise ValueError(f"pq_m ({pq_m}) must divide dim ({dim}) for kind='ivfpq'.")
        self._faiss = _import_faiss()
        self._dim = int(dim)
        self.kind: FaissKind = kind
        self.hnsw_m = int(hnsw_m)
        self.ef_construction = int(ef_construction)
        self._ef_search = int(ef_search)
        self.nlist = int(nlist)
        self._nprobe = int(nprobe)
        self.pq_m = int(pq_m)
        self.pq_bits = int(pq_bits)
        self.seed = int(seed)
        self.num_threads = num_threads
        # _keys: the int64 label faiss holds for each row (ascending); _ids: subject ids.
        self._keys: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._ids: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._next_key = 0
        self._next_auto_id = 0
        self._index = self._new_index()

    def _new_index(self) -> Any:
        faiss, d = self._faiss, self._dim
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatL2(d))
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.hnsw_m)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self._ef_search
            return index
        quantizer = faiss.IndexFlatL2(d)
        if self.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, d, self.nlist, faiss.METRIC_L2)
        else:
            index = faiss.IndexIVFPQ(quantizer, d, self.nlist, self.pq_m, self.pq_bits)
            index.pq.cp.seed = self.seed
        index.cp.seed = self.seed
        index.nprobe = self._nprobe
        return index



    @property
    def ef_search(self) -> int:
        """HNSW search breadth (``efSearch``); higher means better recall, slower search."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = int(value)
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self._ef_search

    @property
    def nprobe(self) -> int:
        """Number of IVF cells visited per search."""
        return self._nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._nprobe = int(value)
        if self.kind in ("ivf", "ivfpq"):
            self._index.nprobe = self._nprobe

    @property
    def is_trained(self) -> bool:
        """Whether the index can take vectors (only IVF kinds need training)."""
        return bool(self._index.is_trained)

    @property
    def memory_bytes(self) -> int:
        """Approximate bytes held by the index: vectors/codes, links, id maps, centroids.

        Allocator overhead and unused vector capacity are not counted.

        >>> FaissIndex(4).add(np.zeros((10, 4))).memory_bytes  # 10*(4*4 + 8 + 16) + 10*(8+8)
        560
        """
        index, n, d = self._index, self._index.ntotal, self._dim
        own = self._keys.nbytes + self._ids.nbytes
        if self.kind == "flat":
            # vectors + id_map (8 bytes) + reverse hash map (>= 16 bytes per entry)
            return int(n * (d * 4 + 8 + 16) + own)
        if self.kind == "hnsw":
            hnsw = index.hnsw
            links = hnsw.neighbors.size() * 4 + hnsw.levels.size() * 4 + hnsw.offsets.size() * 8
            return int(n * d * 4 + links + own)
        total = n * (index.code_size + 8) + self.nlist * d * 4
        if self.kind == "ivfpq":
            total += index.pq.M * index.pq.ksub * index.pq.dsub * 4
            total += index.precomputed_table.size() * 4
        return int(total + own)

    def train(self, embeddings: ArrayLike) -> FaissIndex:
        """Train an IVF index (k-means with ``seed``) on ``embeddings``; returns ``self``.

        >>> sample = np.random.default_rng(0).random((100, 2))
        >>> FaissIndex(2, "ivf", nlist=2).train(sample).is_trained
        True
        """
        if self.kind in ("flat", "hnsw"):
            return self
        x = _as_matrix(embeddings, self._dim, np.float32, "embeddings")
        if x.shape[0] < self.nlist:
            raise ValueError(
                f"training an IVF index with nlist={self.nlist} needs at least {self.nlist} "
                f"vectors (better {39 * self.nlist}), got {x.shape[0]}; lower nlist."
            )
        with _omp_threads(self.num_threads):
            self._index.train(x)
        return self

    def add(self, embeddings: ArrayLike, ids: ArrayLike | None = None) -> FaissIndex:
        """Enrol faceprints under subject ``ids`` (default: new consecutive ids); returns ``self``.

        >>> len(FaissIndex(2).add([[0, 0], [1, 1]]).add([[2, 2]], ids=[0]))
        3
        """
        x = _as_matrix(embeddings, self._dim, np.float32, "embeddings")
        n = x.shape[0]
        new_ids = self._new_ids(ids, n)
        if n == 0:
            return self
        if not self._index.is_trained:
            self.train(x)
        keys = np.arange(self._next_key, self._next_key + n, dtype=np.int64)
        with _omp_threads(self.num_threads):
            if self.kind == "hnsw":
                self._index.add(x)  # HNSW labels are row positions (== keys, see remove_ids)
            else:
                self._index.add_with_ids(x, keys)
        self._next_key += n
        self._next_auto_id = max(self._next_auto_id, int(new_ids.max()) + 1)
        self._keys = np.concatenate([self._keys, keys])
        self._ids = np.concatenate([self._ids, new_ids])
        return self

    def remove_ids(self, ids: ArrayLike) -> int:
        """Drop every gallery row whose subject id is in ``ids``; returns how many rows.

        >>> index = FaissIndex(2).add([[0, 0], [1, 1], [2, 2]], ids=[5, 6, 5])
        >>> index.remove_ids([5]), index.ids.tolist()
        (2, [6])
        """
        faiss = self._faiss
        drop = np.isin(self._ids, np.asarray(ids, dtype=np.int64).ravel())
        n_drop = int(drop.sum())
        if n_drop == 0:
            return 0
        keep = ~drop
        n, d = len(self), self._dim
        if self.kind == "hnsw":
            stored = _flat_vectors(faiss, self._index.storage, n, d)
            kept = stored[keep].copy()
            stored[:] = 0  # scrub the old storage before it is freed
            self._index = self._new_index()
            self._keys = np.arange(kept.shape[0], dtype=np.int64)
            self._next_key = kept.shape[0]
            if kept.shape[0]:
                with _omp_threads(self.num_threads):
                    self._index.add(kept)
        else:
            if self.kind == "flat":
                _flat_vectors(faiss, self._index.index, n, d)[drop] = 0
            removed = self._index.remove_ids(self._keys[drop])
            if removed != n_drop:  # pragma: no cover - would be a faiss bug
                raise RuntimeError(f"faiss removed {removed} rows instead of {n_drop}.")
            self._keys = self._keys[keep]
        self._ids = self._ids[keep]
        return n_drop

    def search(self, probes: ArrayLike, k: int = 1) -> SearchResult:
        """Return the ``k`` nearest gallery rows of each probe (Euclidean), nearest first.

        >>> index = FaissIndex(2).add([[0, 0], [0, 1], [0, 3]], ids=[1, 2, 3])
        >>> r = index.search([[0, 0.9], [0, 2.5]], k=2)
        >>> r.ids.tolist(), np.round(r.distances, 2).tolist()
        ([[2, 1], [3, 2]], [[0.1, 0.9], [0.5, 1.5]])
        """
        k = _check_k(k)
        p = _as_matrix(probes, self._dim, np.float32, "probes")
        if len(self) == 0 or p.shape[0] == 0:
            return _empty_result(p.shape[0], k)
        with _omp_threads(self.num_threads):
            sq, labels = self._index.search(p, k)
        found = labels >= 0
        rows = np.searchsorted(self._keys, labels)
        rows = np.where(found, rows, MISSING_ID).astype(np.int64)
        distances = np.where(found, np.sqrt(np.maximum(sq.astype(np.float64), 0.0)), np.inf)
        ids = np.where(found, self._ids[np.where(found, rows, 0)], MISSING_ID).astype(np.int64)
        return SearchResult(distances=distances, indices=rows, ids=ids)


# --------------------------------------------------------------------------- metrics


def _rate(name: str, count: int, total: int) -> Rate:
    """``count`` of ``total`` searches as a :class:`facecourse.metrics.Rate` (Wilson 95 % interval)."""
    if total <= 0:
        raise ValueError(f"{name}: no searches to compute a rate from (total={total}).")
    return Rate(count, total, name=name)


def _candidate_arrays(
    search_ids: ArrayLike, true_ids: ArrayLike, rank: int
) -> tuple[NDArray[Any], NDArray[Any]]:
    ids = np.asarray(search_ids)
    if ids.ndim == 1:
        ids = ids[:, None]
    truth = np.asarray(true_ids).ravel()
    if ids.ndim != 2 or ids.shape[0] != truth.shape[0]:
        raise ValueError(
            f"need one candidate list per true id: got {ids.shape[0]} lists "
            f"and {truth.shape[0]} true ids."
        )
    rank = _checks.positive_int("rank", rank, what="how far down the candidate list a mate counts")
    if rank > ids.shape[1]:
        raise ValueError(f"rank {rank} is longer than the candidate lists ({ids.shape[1]}).")
    return ids, truth


def _mate_found(
    search_ids: ArrayLike,
    true_ids: ArrayLike,
    rank: int,
    distances: ArrayLike | None,
    threshold: float | None,
) -> NDArray[np.bool_]:
    ids, truth = _candidate_arrays(search_ids, true_ids, rank)
    hit = ids[:, :rank] == truth[:, None]
    if threshold is not None:
        if distances is None:
            raise ValueError("a threshold needs the candidates' distances too.")
        dist = np.asarray(distances, dtype=np.float64)
        if dist.ndim == 1:
            dist = dist[:, None]
        if dist.shape != ids.shape:
            raise ValueError(f"distances {dist.shape} and ids {ids.shape} differ in shape.")
        hit &= dist[:, :rank] <= threshold
    return hit.any(axis=1)


def rank_k_identification_rate(
    result_ids: ArrayLike,
    true_ids: ArrayLike,
    *,
    k: int = 1,
    distances: ArrayLike | None = None,
    threshold: float | None = None,
) -> Rate:
    """Rank-k identification rate (cumulative match characteristic at rank k).

    Share of *mated* searches whose true subject id appears among the first ``k``
    candidates (and, if ``threshold`` is given, with distance <= threshold; it then
    equals ``1 - FNIR(T, R=k)``).  Pass mated searches only.

    >>> rank_k_identification_rate([[3, 1], [2, 5]], [1, 9], k=2).value  # 1 in 2 mates found
    0.5
    """
    found = _mate_found(result_ids, true_ids, k, distances, threshold)
    return _rate(f"rank-{k} identification rate", int(found.sum()), found.size)


def fnir(
    search_distances: ArrayLike,
    search_ids: ArrayLike,
    true_ids: ArrayLike,
    threshold: float,
    *,
    rank: int = 1,
) -> Rate:
    """False negative identification rate FNIR(T, R) over *mated* searches.

    Proportion of mated searches (the probe's subject is enrolled) in which no candidate
    at rank <= ``rank`` carries the true id with distance <= ``threshold``: the mate
    was either ranked too low or too far.

    >>> fnir([[0.3, 0.7], [0.65, 0.8]], [[1, 2], [3, 4]], [1, 3], threshold=0.6).value
    0.5
    """
    threshold = _checks.threshold(threshold)
    found = _mate_found(search_ids, true_ids, rank, search_distances, threshold)
    misses = int((~found).sum())
    return _rate(f"FNIR(T={threshold:g}, R={rank})", misses, found.size)


def fpir(search_distances: ArrayLike, threshold: float) -> Rate:
    """False positive identification rate FPIR(T) over *non-mated* searches.

    Proportion of non-mated searches (the probe's subject is not enrolled) that return
    at least one candidate with distance <= ``threshold`` (NIST FRTE form).

    >>> fpir([[0.5, 0.9], [0.7, 0.8], [0.2, 0.3]], threshold=0.6).value  # 2 of 3 searches
    0.6666666666666666
    """
    threshold = _checks.threshold(threshold)
    dist = np.asarray(search_distances, dtype=np.float64)
    if dist.ndim == 1:
        dist = dist[:, None]
    alarms = (dist <= threshold).any(axis=1)
    return _rate(f"FPIR(T={threshold:g})", int(alarms.sum()), alarms.size)


def recall_at_k(approx_ids: ArrayLike, exact_ids: ArrayLike, k: int) -> float:
    """Share of the exact k nearest neighbours that the approximate index also returns.

    Pooled over probes: found neighbours / exact neighbours (``n_probes * k`` unless the
    gallery holds fewer than k rows).  Compare *gallery row indices*
    (``SearchResult.indices``), which are unique, rather than subject ids.  Empty slots
    (-1) never count as found.

    >>> recall_at_k([[0, 1, 9], [4, 5, 6]], [[0, 1, 2], [4, 5, 6]], k=3)  # (2/3 + 3/3) / 2
    0.8333333333333334
    """
    k = _check_k(k)
    a = np.asarray(approx_ids)[:, :k]
    e = np.asarray(exact_ids)[:, :k]
    if a.shape != e.shape or a.shape[1] != k:
        raise ValueError(
            f"need two (n, >= {k}) arrays of equal row count, got {a.shape} and {e.shape}."
        )
    real = e != MISSING_ID  # an exact list is shorter than k only if the gallery is
    if not real.any():
        raise ValueError("the exact candidate lists are empty: nothing to recall.")
    found = (e[:, :, None] == a[:, None, :]).any(axis=2) & real
    return float(found.sum() / real.sum())
