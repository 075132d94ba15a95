"""Faces to faceprints: detection, landmarks and 128-number encodings, cached on disk.

The pipeline for one photo is the one face_recognition uses, with two changes that
make it faster without changing what it measures:

1. detect on a copy shrunk to ``detect_max_side`` pixels (HOG time grows with the number
   of pixels; the course's photos are 1350 px and the faces fill them), then map the box
   back to the full-size photo;
2. predict the landmarks once and hand the same landmarks to the encoder (face_recognition's
   ``face_landmarks`` + ``face_encodings`` would predict them twice).

The encoding is computed on the full-size photo, exactly as
``face_recognition.face_encodings(image, [box], num_jitters, model)`` would.

Results are cached in ``<cache>/faceprints/<params>/<sha256>.npz``: the key is the image's
SHA-256 plus a digest of every parameter and library version that can change the result,
so a changed image or setting is never served a stale faceprint, and re-running a notebook
costs almost nothing. Every cached file is named after the source image's hash, which is
how :func:`facecourse.privacy.purge_images` (and so
:func:`facecourse.rights.withdraw_consent`) finds and deletes them.

On a shared server a read-only **class cache** (``FACECOURSE_CLASS_CACHE``, built once by the
instructor with ``python -m facecourse build-class-cache DIR``; see :mod:`facecourse.classcache`)
is consulted after a student's own cache and before computing: a file there is used only if its
key and its SHA-256 match the class cache's hash index. Results are still written only to the
student's own cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np

from . import classcache, config
from ._files import write_atomic
from .dataset import fetch, load_verified_photo
from .degrade import working_copy
from .detection import find_faces
from .errors import FaceDetectionError
from .images import downscale
from .manifest import Manifest, ManifestEntry, load_manifest
from .progress import progress

Box = tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition's order



@dataclass(frozen=True)
class EncodingParams:
    """Everything that can change a faceprint. Part of the cache key.

    ``landmark_model="small"`` (5 points) is what ``face_recognition.face_encodings`` uses by
    default, whatever its docstring says; ``"large"`` uses the 68-point predictor.
    """

    detect_max_side: int | None = 512
    detector: str = "hog"
    upsample: int = 0
    num_jitters: int = 1
    landmark_model: str = "small"
    on_multiple: str = "largest"

    def describe(self) -> dict[str, Any]:
        """These parameters and the dlib and model versions, in clear (the class cache's index shows them)."""
        import dlib  # deferred: a heavy import
        import face_recognition_models

        return {**asdict(self), "dlib": dlib.__version__, "models": face_recognition_models.__version__}

    def key(self) -> str:
        """A short digest of these parameters and of the model versions."""
        fields = {**self.describe(), "v": 1}
        if self.num_jitters > 1:
            fields["jitter_rng"] = "fresh-encoder"  # see _encoder: earlier jittered entries were not reproducible
        blob = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


DEFAULT_PARAMS = EncodingParams()


@dataclass(frozen=True, eq=False)
class FaceRecord:
    """What the pipeline found in one image. ``error`` is set when no faceprint was made.

    Two records are equal when every field is, arrays compared by value (``np.array_equal``:
    the same numbers, not "close"). Records hold arrays, so they are not hashable.
    """

    file_id: str
    sha256: str
    box: Box | None
    landmarks68: np.ndarray | None = field(repr=False)  # (68, 2) x, y in full-size pixels
    encoding: np.ndarray | None = field(repr=False)  # (128,) float64
    image_size: tuple[int, int] = (0, 0)  # (height, width)
    error: str | None = None

    @property
    def acquired(self) -> bool:
        """True when a face was found and encoded (otherwise a failure to acquire)."""
        return self.encoding is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceRecord):
            return NotImplemented
        same = (self.file_id, self.sha256, self.box, self.image_size, self.error) == \
            (other.file_id, other.sha256, other.box, other.image_size, other.error)
        return same and all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in ((self.landmarks68, other.landmarks68), (self.encoding, other.encoding)))

    __hash__ = None  # type: ignore[assignment]  # holds mutable arrays


@dataclass
class EncodingSet:
    """Faceprints of many images, in input order, with the failures kept (never dropped)."""

    entries: list[ManifestEntry]
    records: list[FaceRecord]

    @property
    def acquired(self) -> list[int]:
        return [i for i, r in enumerate(self.records) if r.acquired]

    @property
    def failures(self) -> list[tuple[ManifestEntry, str]]:
        """Entries with no faceprint, and why: the failures to acquire (FTA)."""
        return [(e, r.error or "") for e, r in zip(self.entries, self.records, strict=True) if not r.acquired]

    @property
    def embeddings(self) -> np.ndarray:
        """(n_acquired, 128) faceprints of the images where a face was found."""
        rows = [r.encoding for r in self.records if r.encoding is not None]
        return np.vstack(rows) if rows else np.empty((0, 128))

    @property
    def person_ids(self) -> np.ndarray:
        return np.array([e.person_id for e, r in zip(self.entries, self.records, strict=True) if r.acquired])

    @property
    def file_ids(self) -> np.ndarray:
        return np.array([e.file_id for e, r in zip(self.entries, self.records, strict=True) if r.acquired])

    def acquired_entries(self) -> list[ManifestEntry]:
        return [e for e, r in zip(self.entries, self.records, strict=True) if r.acquired]

    def __len__(self) -> int:
        return len(self.records)


# --------------------------------------------------------------------------- computing


def encode_array(image: np.ndarray, *, params: EncodingParams = DEFAULT_PARAMS, name: str = "image",
                 file_id: str = "", sha256: str = "") -> FaceRecord:
    """Find one face in ``image`` and compute its landmarks and faceprint (no cache).

    Detection problems (no face, several faces with ``on_multiple="error"``) come back as a
    record with ``error`` set, not as an exception, so that a batch can count failures to acquire.
    """
    import face_recognition.api as fr  # deferred: a heavy import (dlib's four models)

    image = np.ascontiguousarray(image)
    size = (int(image.shape[0]), int(image.shape[1]))
    small, scale = (image, 1.0) if params.detect_max_side is None else downscale(image, params.detect_max_side)
    try:
        boxes = find_faces(small, model=params.detector, upsample=params.upsample,
                           on_multiple=params.on_multiple, name=name)
    except FaceDetectionError as err:
        return FaceRecord(file_id, sha256, None, None, None, size, str(err))
    top, right, bottom, left = boxes[0]
    box = _scale_box((top, right, bottom, left), 1.0 / scale, size)
    rect = fr._css_to_rect(box)
    shape68 = fr.pose_predictor_68_point(image, rect)
    landmarks = np.array([(p.x, p.y) for p in shape68.parts()], dtype=np.float64)
    shape = shape68 if params.landmark_model == "large" else fr.pose_predictor_5_point(image, rect)
    encoding = np.array(_encoder(params).compute_face_descriptor(image, shape, params.num_jitters))
    return FaceRecord(file_id, sha256, box, landmarks, encoding, size, None)


def _encoder(params: EncodingParams) -> Any:
    """The dlib encoder to use. With jitter, a freshly loaded one, so results are reproducible.

    ``num_jitters > 1`` averages the faceprints of randomly shifted, rotated and mirrored copies
    of the face; dlib draws them from a random generator stored *in the encoder object*, which
    face_recognition shares across the process. The same photo would then get a slightly
    different faceprint depending on what was encoded before it (in a worker pool: on timing).
    A fresh encoder per photo starts the generator from the same state every time. Loading it
    costs about 0.1 s, small next to the ~1 s that 10 jitters take.
    """
    import face_recognition.api as fr  # deferred: a heavy import (dlib's four models)

    if params.num_jitters <= 1:
        return fr.face_encoder
    import dlib
    import face_recognition_models

    return dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())


def _scale_box(box: Box, factor: float, size: tuple[int, int]) -> Box:
    top, right, bottom, left = (round(v * factor) for v in box)
    height, width = size
    return max(top, 0), min(right, width), min(bottom, height), max(left, 0)


# --------------------------------------------------------------------------- the cache


def cache_relpath(sha256: str, *, params: EncodingParams = DEFAULT_PARAMS, variant: str = "",
                  area: str = "faceprints") -> str:
    """The cache file's path relative to a cache folder (the same in a student's and the class cache)."""
    suffix = f"--{hashlib.sha256(variant.encode()).hexdigest()[:16]}" if variant else ""
    return f"{area}/{params.key()}/{sha256}{suffix}.npz"


def cache_path(sha256: str, *, params: EncodingParams = DEFAULT_PARAMS, variant: str = "",
               area: str = "faceprints") -> Path:
    """Where the faceprint of an image (or of a ``variant`` derived from it) is cached.

    ``area`` separates the research images (``faceprints``) from a student's own photos
    (``my_images/faceprints``), which ``forget_my_images`` deletes as a whole.
    """
    return config.cache_dir() / cache_relpath(sha256, params=params, variant=variant, area=area)


def save_record(path: Path, record: FaceRecord) -> None:
    """Write one faceprint record to ``path`` (atomically), in the cache's file format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        box=np.array(record.box if record.box else [], dtype=np.int64),
        landmarks68=record.landmarks68 if record.landmarks68 is not None else np.empty((0, 2)),
        encoding=record.encoding if record.encoding is not None else np.empty(0),
        image_size=np.array(record.image_size, dtype=np.int64),
        error=np.array(record.error or ""),
    )
    write_atomic(path, buffer.getvalue())  # atomic: a crash never leaves half a cache file


def load_record(path: Path | BinaryIO, file_id: str, sha256: str) -> FaceRecord | None:
    """Read one faceprint record written by :func:`save_record`; None if the file is damaged."""
    try:
        with np.load(path) as z:
            b = [int(v) for v in z["box"]]
            box: Box | None = None
            if b:
                top, right, bottom, left = b  # ValueError (an unreadable file) unless 4 numbers
                box = (top, right, bottom, left)
            height, width = (int(v) for v in z["image_size"])
            enc = z["encoding"]
            lm = z["landmarks68"]
            return FaceRecord(file_id, sha256, box, lm if lm.size else None, enc if enc.size else None,
                              (height, width), str(z["error"]) or None)
    except (OSError, ValueError, KeyError):
        return None  # unreadable cache file: recompute it


def lookup(sha256: str, *, params: EncodingParams = DEFAULT_PARAMS, variant: str = "", file_id: str = "",
           area: str = "faceprints", manifest: Manifest | None = None) -> FaceRecord | None:
    """The cached record for (image hash, params, variant), or None: the student's own cache first,
    then (research images only) the verified class cache. Never computes, never writes.

    ``manifest`` is the caller's manifest, handed to the class cache for its consent check (which
    otherwise reads the manifest itself, once per change of the files)."""
    path = cache_path(sha256, params=params, variant=variant, area=area)
    if path.exists():
        record = load_record(path, file_id, sha256)
        if record is not None:
            return record
    if area != "faceprints":
        return None  # a student's own photos are never looked up in a shared cache
    return classcache.lookup(cache_relpath(sha256, params=params, variant=variant), sha256, params=params,
                             load=lambda data: load_record(data, file_id, sha256), manifest=manifest)


def cached_record(sha256: str, compute: Callable[[], FaceRecord], *, params: EncodingParams = DEFAULT_PARAMS,
                  variant: str = "", file_id: str = "", area: str = "faceprints",
                  manifest: Manifest | None = None) -> FaceRecord:
    """Return the cached record for (image hash, params, variant) or compute and cache it."""
    record = lookup(sha256, params=params, variant=variant, file_id=file_id, area=area, manifest=manifest)
    if record is not None:
        return record
    record = compute()
    save_record(cache_path(sha256, params=params, variant=variant, area=area), record)
    return record


def encode_entry(entry: ManifestEntry, *, params: EncodingParams = DEFAULT_PARAMS,
                 manifest: Manifest | None = None) -> FaceRecord:
    """The faceprint of one manifest photo (verified, consent checked, cached)."""
    manifest = load_manifest() if manifest is None else manifest
    checked = manifest[entry.file_id]  # the consent check, even on a cache hit
    return cached_record(checked.sha256, lambda: _encode_photo(checked, params), params=params,
                         file_id=checked.file_id, manifest=manifest)


def _encode_photo(entry: ManifestEntry, params: EncodingParams) -> FaceRecord:
    """The faceprint of an entry whose consent the caller has just checked (``manifest[file_id]``); not cached."""
    return encode_array(load_verified_photo(entry), params=params, name=entry.path,
                        file_id=entry.file_id, sha256=entry.sha256)


def _worker(args: tuple[ManifestEntry, EncodingParams]) -> FaceRecord:
    """One photo the caller checked (consent) and looked up (a cache miss): encode it and cache the record."""
    entry, params = args
    record = _encode_photo(entry, params)
    save_record(cache_path(entry.sha256, params=params), record)
    return record


def default_workers() -> int:
    """Worker processes for encoding: one per CPU this process may really use, at most 4."""
    return max(1, min(4, available_cpus()))


def available_cpus(*, affinity: Iterable[int] | None = None, cgroup_root: Path | str = "/sys/fs/cgroup",
                   proc_cgroup: Path | str = "/proc/self/cgroup") -> int:
    """How many CPUs this process may use: its CPU affinity, capped by a container's CPU quota.

    ``os.cpu_count()`` counts the machine's CPUs. A process pinned with ``taskset`` may use fewer
    (``os.sched_getaffinity``), and a container limited to 1 CPU on a 64-core node (a JupyterHub
    pod with ``cpu_limit: 1``) gets 1 CPU's worth of time however many it sees: the quota is
    cgroup v2's ``cpu.max`` (``"100000 100000"``) or cgroup v1's ``cpu.cfs_quota_us`` /
    ``cpu.cfs_period_us``, in this process's cgroup or any parent. A fractional quota is rounded
    down (1.5 CPUs: one worker; a second would only be throttled, and each worker loads dlib's
    models), never below 1. ``affinity``, ``cgroup_root`` and ``proc_cgroup`` exist for the tests.
    """
    if affinity is not None:
        cpus = len(set(affinity))
    elif hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:  # macOS, Windows
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(Path(cgroup_root), Path(proc_cgroup))
    if quota is not None:
        cpus = min(cpus, max(1, math.floor(quota + 1e-9)))
    return max(1, cpus)


def _cgroup_cpu_quota(root: Path, proc_cgroup: Path) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup and its parents, or None."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, rel = parts
        rel = rel.strip().lstrip("/")
        if hierarchy == "0" and controllers == "":  # cgroup v2 (unified)
            limits += [q for d in _cgroup_dirs(root, rel) if (q := _read_v2_quota(d / "cpu.max")) is not None]
        elif "cpu" in controllers.split(","):  # cgroup v1
            for mount in (root / controllers, root / "cpu,cpuacct", root / "cpu"):
                if mount.is_dir():
                    limits += [q for d in _cgroup_dirs(mount, rel) if (q := _read_v1_quota(d)) is not None]
                    break
    return min(limits) if limits else None


def _cgroup_dirs(mount: Path, rel: str) -> list[Path]:
    """The cgroup's folder and its parents up to the mount point (those that exist).

    Inside a container the path in /proc/self/cgroup may not exist under the mount (the mount
    already is the container's cgroup): then only the mount point itself is read.
    """
    here = mount / rel if rel else mount
    dirs = [here, *[p for p in here.parents if mount in p.parents or p == mount]] if here != mount else [mount]
    return [d for d in dirs if d.is_dir()]


def _read_v2_quota(path: Path) -> float | None:
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _read_v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def encode_entries(entries: Sequence[ManifestEntry], *, params: EncodingParams = DEFAULT_PARAMS,
                   workers: int | None = None, manifest: Manifest | None = None) -> EncodingSet:
    """Faceprints of many photos, in order, from the cache where possible.

    Images not yet cached are encoded in ``workers`` processes (default: one per core) with
    a progress bar. Failures to acquire are kept in the result, never silently dropped.
    Consent is checked once per photo, against ``manifest`` (read once if not given).
    """
    manifest = load_manifest() if manifest is None else manifest
    checked = [manifest[e.file_id] for e in entries]  # the consent check, once per photo
    return encode_checked_entries(checked, params=params, workers=workers, manifest=manifest)


def encode_checked_entries(entries: Sequence[ManifestEntry], *, params: EncodingParams = DEFAULT_PARAMS,
                           workers: int | None = None, manifest: Manifest | None = None) -> EncodingSet:
    """:func:`encode_entries` for photos whose consent the caller has **just checked**: no check here.

    For code that has already looked every entry up in ``manifest`` (``manifest[file_id]``, which
    refuses a withdrawn person), such as :meth:`facecourse.rights.FaceIndex.enrol`, which refuses
    a whole batch before computing anything, so that no photo is checked twice in one call (as
    :func:`facecourse.dataset.load_verified_photo` is for :func:`~facecourse.dataset.load_photo`).
    Pass the entries that check returned and the same ``manifest``: the class cache, when one is
    set, checks its files against it instead of reading the manifest again.
    """
    entries = list(entries)
    records: list[FaceRecord | None] = [None] * len(entries)
    missing = []
    for i, entry in enumerate(entries):
        record = lookup(entry.sha256, params=params, file_id=entry.file_id, manifest=manifest)
        if record is None:
            missing.append(i)
        else:
            records[i] = record
    workers = default_workers() if workers is None else workers
    jobs = [(entries[i], params) for i in missing]
    if jobs and workers > 1 and len(jobs) > 4:
        fetch([entries[i] for i in missing])  # download once, before forking
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_worker, jobs, chunksize=4)
            for i, record in zip(missing, progress(results, desc="Encoding faces", unit="img", total=len(jobs)),
                                 strict=True):
                records[i] = record
    else:
        for i, job in zip(missing, progress(jobs, desc="Encoding faces", unit="img"), strict=True):
            records[i] = _worker(job)
    return EncodingSet(entries, [r for r in records if r is not None])


def encode_set(set: str | Sequence[str] | None = None, *, params: EncodingParams = DEFAULT_PARAMS,
               workers: int | None = None, manifest: Manifest | None = None) -> EncodingSet:
    """Faceprints of every photo of one set (or several, or all), consent withdrawals applied."""
    manifest = load_manifest() if manifest is None else manifest
    return encode_entries(manifest.photos(set), params=params, workers=workers, manifest=manifest)


def require_face(record: FaceRecord) -> FaceRecord:
    """Raise :class:`FaceDetectionError` (the recorded detection error) if ``record`` has no faceprint.

    Only detection problems are recorded instead of raised (see :func:`encode_array`), so
    ``except FaceDetectionError`` (or its base, ``CourseError``) catches a photo without a face.
    """
    if not record.acquired:
        raise FaceDetectionError(record.error or f"No faceprint for {record.file_id}.")
    return record


class Transform(Protocol):
    """Anything with a ``variant`` name and an ``apply(image) -> image`` (e.g. a Degradation)."""

    @property
    def variant(self) -> str: ...

    def apply(self, image: np.ndarray) -> np.ndarray: ...


def _variants_worker(args: tuple[ManifestEntry, tuple[Transform, ...], EncodingParams]) -> list[FaceRecord]:
    """The changed copies of one photo that no cache holds: computed and cached, one record per transform.

    Its consent was checked, and every copy looked up, by :func:`encode_variants`, once.
    """
    entry, transforms, params = args
    image = load_verified_photo(entry)  # load once for all transforms
    working: dict[int | None, np.ndarray] = {}  # shrunk copies, made once per size
    out = []
    for t in transforms:
        if hasattr(t, "apply_working"):
            base = getattr(t, "base_side", None)
            if base not in working:
                working[base] = working_copy(image, base)
            changed = t.apply_working(working[base])
        else:
            changed = t.apply(image)
        record = encode_array(changed, params=params, name=f"{entry.path} ({t.variant})",
                              file_id=entry.file_id, sha256=entry.sha256)
        save_record(cache_path(entry.sha256, params=params, variant=t.variant), record)
        out.append(record)
    return out


def encode_variants(entries: Sequence[ManifestEntry], transforms: Sequence[Transform], *,
                    params: EncodingParams = DEFAULT_PARAMS, workers: int | None = None,
                    manifest: Manifest | None = None) -> dict[str, EncodingSet]:
    """Faceprints of changed copies of many photos: one :class:`EncodingSet` per transform.

    Each photo is loaded once and every transform applied to it; results are cached per
    (image hash, parameters, ``transform.variant``), and computed in ``workers`` processes
    with a progress bar. Failures to acquire are kept (that is what lesson 01 measures).
    Consent is checked once per photo, against ``manifest`` (read once if not given).
    """
    manifest = load_manifest() if manifest is None else manifest
    entries = [manifest[e.file_id] for e in entries]  # the consent check, once per photo
    transforms = tuple(transforms)
    records: dict[tuple[int, str], FaceRecord] = {}  # (photo's position, variant) -> record
    todo: list[tuple[ManifestEntry, tuple[Transform, ...], EncodingParams]] = []
    todo_at: list[int] = []
    for i, e in enumerate(entries):  # every copy looked up once, here (own cache, then class cache)
        missing = []
        for t in transforms:
            record = lookup(e.sha256, params=params, variant=t.variant, file_id=e.file_id, manifest=manifest)
            if record is None:
                missing.append(t)
            else:
                records[i, t.variant] = record
        if missing:
            todo.append((e, tuple(missing), params))
            todo_at.append(i)
    workers = default_workers() if workers is None else workers
    if todo and workers > 1 and len(todo) > 2:
        fetch([job[0] for job in todo])
        with ProcessPoolExecutor(max_workers=workers) as pool:
            computed = list(progress(pool.map(_variants_worker, todo), desc="Encoding changed copies",
                                     unit="img", total=len(todo)))
    else:
        computed = list(progress(map(_variants_worker, todo), desc="Encoding changed copies",
                                 unit="img", total=len(todo)))
    for i, job, made in zip(todo_at, todo, computed, strict=True):
        for t, record in zip(job[1], made, strict=True):
            records[i, t.variant] = record
    return {t.variant: EncodingSet(list(entries), [records[i, t.variant] for i in range(len(entries))])
            for t in transforms}
