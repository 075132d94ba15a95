"""Building the class cache: every faceprint the lessons and exercises need, computed once for a class.

The instructor runs, once::

    python -m facecourse build-class-cache /srv/facecourse-class-cache

which calls :func:`build`: it computes every faceprint of :func:`course_jobs` (the lessons' and
exercises' ``encode_*`` calls) into the folder, writes the hash index last, and makes every file
read-only. How students' kernels read it, and why they can trust it, is :mod:`facecourse.classcache`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import degrade, faceprints
from ._files import write_atomic
from .classcache import FORMAT, faceprint_files, read_index, sha256_of, write_index
from .errors import CourseError
from .faceprints import DEFAULT_PARAMS, EncodingParams
from .manifest import Manifest, ManifestEntry, load_manifest
from .progress import progress

# --------------------------------------------------------------------------- what the course needs


@dataclass(frozen=True)
class Job:
    """One batch of faceprints a lesson or exercise computes: photos x parameters x changed copies."""

    name: str
    used_by: str
    entries: tuple[ManifestEntry, ...]
    params: Any  # faceprints.EncodingParams
    transforms: tuple[Any, ...] = ()  # faceprints.Transform; empty: the photos as published

    @property
    def files(self) -> int:
        return len(self.entries) * max(1, len(self.transforms))

    def variants(self) -> list[str]:
        return [t.variant for t in self.transforms] or [""]


def course_jobs(*, manifest: Manifest | None = None) -> list[Job]:
    """Every ``encode_set`` / ``encode_entries`` / ``encode_variants`` call of the lessons and exercises.

    Found by reading the notebooks (their default settings); keep it in step with them. The
    benchmark ``benchmarks/bench_lessons.py`` counts the faceprints each lesson still computes
    with the class cache in place, which shows when this list has fallen behind.
    """
    m = load_manifest() if manifest is None else manifest
    london = m.photos(["london_neutral", "london_smiling"])
    neutral = m.photos("london_neutral")
    n_people = 51  # lessons 01 and 03: N_PEOPLE = 51, every second participant
    people = neutral[:: max(1, len(neutral) // n_people)][:n_people]
    conditions = degrade.conditions_with_low_light()
    assert {c.variant for c in degrade.conditions()} <= {c.variant for c in conditions}
    return [
        Job("every photo as published", "lessons 00-06, exercises 02-05", tuple(m.photos()), DEFAULT_PARAMS),
        Job("London photos, 68-point landmark model", "lesson 02", tuple(london),
            EncodingParams(landmark_model="large")),
        # lesson 02 draws 10 people at random for this; computing all London photos keeps the
        # class cache right whatever the draw (about 1 s per photo, once).
        Job("London photos, num_jitters=10", "lesson 02", tuple(london), EncodingParams(num_jitters=10)),
        Job(f"{len(people)} neutral photos x {len(conditions)} degradations", "lessons 01 and 03, exercise 01",
            tuple(people), DEFAULT_PARAMS, tuple(conditions)),
    ]


# --------------------------------------------------------------------------- building


def build(folder: Path | str, *, manifest: Manifest | None = None, jobs: Sequence[Job] | None = None,
          workers: int | None = None, seeds: Sequence[Path | str] = ()) -> dict[str, Any]:
    """Compute every faceprint of ``jobs`` (default: :func:`course_jobs`) into ``folder``, then index it.

    Files already in ``folder`` whose hash matches the old index are kept (a rebuild after a
    library upgrade or a new lesson computes only what changed); files no job produces are
    deleted. The index is written last and atomically, so a kernel never sees half a build.
    ``seeds`` are course caches you trust (e.g. your own ``.facecourse-cache`` after running the
    lessons): a faceprint file found there under the same key and name is the same computation,
    and is copied instead of recomputed. Returns the index.
    """
    root = Path(folder).expanduser().resolve()
    m = load_manifest() if manifest is None else manifest
    jobs = list(course_jobs(manifest=m) if jobs is None else jobs)
    root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.W_OK):
        raise CourseError(f"Cannot write to {root}: build the class cache as the user who owns that folder.")
    old = read_index(root) or {}
    saved = {k: os.environ.get(k) for k in ("FACECOURSE_CACHE_DIR", "FACECOURSE_CLASS_CACHE")}
    os.environ["FACECOURSE_CACHE_DIR"] = str(root)  # the computing functions write where the cache is
    os.environ.pop("FACECOURSE_CLASS_CACHE", None)  # never read another class cache while building
    try:
        _drop_unverified(root, old)
        _copy_seeds(root, jobs, [Path(s).expanduser().resolve() for s in seeds])
        for job in progress(jobs, desc="Building the class cache", unit="step"):
            if job.transforms:
                faceprints.encode_variants(job.entries, job.transforms, params=job.params, workers=workers,
                                            manifest=m)
            else:
                faceprints.encode_entries(job.entries, params=job.params, workers=workers, manifest=m)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    files: dict[str, dict[str, Any]] = {}
    wanted = [(job, e, v) for job in jobs for e in job.entries for v in job.variants()]
    for job, entry, variant in progress(wanted, desc="Hashing the class cache", unit="file"):
        rel = faceprints.cache_relpath(entry.sha256, params=job.params, variant=variant)
        path = root / rel
        if not path.exists():
            raise CourseError(f"The build did not produce {rel}; the class cache is incomplete. Run it again.")
        files[rel] = {"sha256": sha256_of(path.read_bytes()), "key": job.params.key(), "variant": variant,
                      "image_sha256": entry.sha256, "file_id": entry.file_id, "person_id": entry.person_id}
    keys = {job.params.key(): job.params.describe() for job in jobs}
    index = {
        "format": FORMAT,
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keys": keys,
        "jobs": [{"name": j.name, "used_by": j.used_by, "key": j.params.key(), "files": j.files} for j in jobs],
        "withdrawn": sorted(m.revoked_people),
        "files": dict(sorted(files.items())),
    }
    _remove_strays(root, set(files))
    write_index(root, index)
    _make_read_only(root)
    return index


def _copy_seeds(root: Path, jobs: Sequence[Job], seeds: Sequence[Path]) -> None:
    if not seeds:
        return
    wanted = [faceprints.cache_relpath(e.sha256, params=job.params, variant=v) for job in jobs for e in job.entries
              for v in job.variants()]
    for rel in progress(wanted, desc="Copying from the seed caches", unit="file"):
        target = root / rel
        if target.exists():
            continue
        for seed in seeds:
            source = seed / rel
            if source.is_file() and faceprints.load_record(source, "", "") is not None:  # readable: copy it
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(target, source.read_bytes())
                break


def _drop_unverified(root: Path, old: dict[str, Any]) -> None:
    """Before a rebuild: delete faceprint files the old index does not vouch for (they are recomputed)."""
    listed = old.get("files", {})
    for path in faceprint_files(root):
        rel = path.relative_to(root).as_posix()
        info = listed.get(rel)
        if info is None or sha256_of(path.read_bytes()) != info.get("sha256"):
            path.unlink()


def _remove_strays(root: Path, keep: set[str]) -> None:
    for path in faceprint_files(root):
        if path.relative_to(root).as_posix() not in keep:
            path.unlink()
    for folder in sorted((p for p in (root / "faceprints").rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _make_read_only(root: Path) -> None:
    """Files read-only for everyone; folders writable by their owner only (who may purge or rebuild)."""
    for path in [root, *root.rglob("*")]:
        mode = 0o755 if path.is_dir() else 0o444
        with contextlib.suppress(OSError):
            os.chmod(path, mode)
