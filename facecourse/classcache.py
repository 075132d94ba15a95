"""Reading the class cache: faceprints computed once for a whole class, used only when verified.

On a shared server (JupyterHub) each student has their own cache (``FACECOURSE_CACHE_DIR``), and
without help every student's first run of lesson 01 computes the same thousands of faceprints
again. Instead the instructor runs, once::

    python -m facecourse build-class-cache /srv/facecourse-class-cache

(:func:`facecourse.classcache_build.build`) and every student's server gets
``FACECOURSE_CLASS_CACHE=/srv/facecourse-class-cache``, mounted read-only. A student's kernel then
looks for a faceprint in their own cache, then in the class
cache, and computes it only when neither has it. It writes only to its own cache.

The folder is laid out exactly like a student's cache (``faceprints/<key>/<image sha256>[--<variant>].npz``,
where ``<key>`` is :meth:`facecourse.faceprints.EncodingParams.key`: a digest of every parameter
and of the dlib and model versions), plus ``index.json``, written last by the build. For every
file the index records its SHA-256, its key, the parameters in clear, the variant (e.g. a blur
level), and the image and person it was derived from. A kernel uses a class-cache file only if

1. the index lists it under the key this kernel computes with (same parameters, same library and
   model versions: a class cache built with another dlib is *stale* and ignored, with a warning);
2. its bytes have the SHA-256 the index records (a damaged or *tampered* file is ignored, with a
   warning, and the faceprint is computed locally);
3. the person it was derived from has not withdrawn consent, according to the student's own copy
   of ``sample_images/revocations.csv`` *and* to the class cache's index (a stale class cache
   that still holds a withdrawn person's files is never read for them).

The hash index protects against stale, damaged and half-written files. It is not a signature: it
sits beside the files, so the folder must be writable only by the instructor (mount it read-only
for students; the build makes every file read-only).

:func:`purge` (called by ``python -m facecourse withdraw PERSON`` when ``FACECOURSE_CLASS_CACHE`` is
set and writable) deletes a withdrawn person's files and records the withdrawal in the index.

This module only reads the class cache (and purges it when someone withdraws consent): it opens
no photo and runs no dlib. Building it is :mod:`facecourse.classcache_build`.

Only faceprints are shared. Lesson 06's search index is each student's own working state (they
erase entries from it) and stays in their own cache; lesson 01's detector timings are measured
live, not cached.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import weakref
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from . import config
from ._files import write_atomic
from .errors import CourseError
from .manifest import Manifest, load_manifest
from .progress import progress

INDEX_NAME = "index.json"
FORMAT = 1

T = TypeVar("T")


class ClassCacheWarning(UserWarning):
    """A class-cache file was not used (stale, damaged or withdrawn): the kernel computes locally."""


# --------------------------------------------------------------------------- the folder and its index


def write_index(root: Path, index: dict[str, Any]) -> None:
    """Write the index atomically (a kernel reads the old index or the new one), read-only."""
    data = (json.dumps(index, indent=1, sort_keys=True) + "\n").encode("utf-8")
    write_atomic(root / INDEX_NAME, data, mode=0o444)


def read_index(root: Path) -> dict[str, Any] | None:
    """The class cache's index as written by the build, or None (missing, unreadable, other format)."""
    try:
        data = json.loads((root / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def faceprint_files(root: Path) -> list[Path]:
    """Every faceprint file under ``root`` (the index is not one)."""
    base = root / "faceprints"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def sha256_of(data: bytes) -> str:
    """The SHA-256 the index records for a file's bytes."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- reading (students' kernels)


@dataclass
class _Index:
    files: dict[str, dict[str, Any]]
    keys: dict[str, dict[str, Any]]
    withdrawn: frozenset[str]
    built: str = ""


_INDEXES: dict[Path, tuple[tuple[int, int], _Index | None]] = {}
_CONSENT: dict[tuple[Any, ...], tuple[frozenset[str], frozenset[str]]] = {}
_CONSENT_OF: weakref.WeakKeyDictionary[Manifest, tuple[frozenset[str], frozenset[str]]] = weakref.WeakKeyDictionary()
_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, ClassCacheWarning, stacklevel=4)


def _index(root: Path) -> _Index | None:
    """The parsed index of the class cache at ``root`` (re-read only when the file changes)."""
    try:
        st = (root / INDEX_NAME).stat()
    except OSError:
        _warn_once(f"noindex:{root}", f"FACECOURSE_CLASS_CACHE={root} has no {INDEX_NAME} (not a class cache built "
                   "by `python -m facecourse build-class-cache`, or a build is running): it is not used.")
        return None
    sig = (st.st_mtime_ns, st.st_size)
    memo = _INDEXES.get(root)
    if memo and memo[0] == sig:
        return memo[1]
    data = read_index(root)
    if data is None:
        _warn_once(f"badindex:{root}:{sig}", f"{root / INDEX_NAME} cannot be read as a class-cache index "
                   f"(format {FORMAT}): the class cache is not used. Rebuild it.")
        index = None
    else:
        index = _Index(files=data.get("files", {}), keys=data.get("keys", {}),
                       withdrawn=frozenset(data.get("withdrawn", [])), built=str(data.get("built", "")))
    _INDEXES[root] = (sig, index)
    return index


def _consent(manifest: Manifest | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """(people who withdrew consent, hashes of the images still usable) per the student's own manifest.

    ``manifest`` is the caller's (already read): its answer is kept as long as that object lives.
    Without one, the manifest is read here, again only when its file or the withdrawals change.
    """
    if manifest is not None:
        if manifest not in _CONSENT_OF:
            _CONSENT_OF[manifest] = _usable(manifest)
        return _CONSENT_OF[manifest]
    paths = (config.manifest_path(), config.revocations_path())
    sig: tuple[Any, ...] = tuple((str(p), *_stat_sig(p)) for p in paths)
    if sig not in _CONSENT:
        _CONSENT.clear()
        _CONSENT[sig] = _usable(load_manifest())
    return _CONSENT[sig]


def _usable(manifest: Manifest) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(manifest.revoked_people), frozenset(e.sha256 for e in manifest.entries())


def _stat_sig(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size
    except OSError:
        return (0, -1)


def lookup(rel: str, sha256: str, *, params: Any, load: Callable[[BinaryIO], T | None],
           manifest: Manifest | None = None) -> T | None:
    """A verified file from the class cache, read by ``load``, or None (then the kernel computes it).

    ``rel`` is the file's path in the cache (``faceprints.cache_relpath``), ``sha256`` the hash of
    the image it was derived from, ``params`` the ``faceprints.EncodingParams`` it was computed with
    (``key()`` and ``describe()``). ``load`` reads the verified bytes (the file is read once).
    ``manifest`` is the caller's manifest, for the consent check (read here if not given).
    Called by :func:`facecourse.faceprints.lookup` after the student's own cache missed.
    """
    root = config.class_cache_dir()
    if root is None:
        return None
    index = _index(root)
    if index is None:
        return None
    key = params.key()
    info = index.files.get(rel)
    if info is None:
        _explain_miss(root, index, rel, key, params)
        return None
    if info.get("key") != key:
        _warn_once(f"key:{root}:{rel}", f"class cache {root}: {rel} is indexed under key {info.get('key')}, "
                   f"not {key}: stale or moved, ignored; computing locally.")
        return None
    revoked, usable = _consent(manifest)
    person = str(info.get("person_id", ""))
    if person in revoked or person in index.withdrawn or sha256 not in usable or info.get("image_sha256") != sha256:
        _warn_once(f"consent:{root}:{person}", f"class cache {root} still holds files derived from photos of "
                   f"'{person}', who withdrew consent: they are not used. (Instructor: run "
                   f"`python -m facecourse withdraw {person}` with FACECOURSE_CLASS_CACHE={root}.)")
        return None
    try:
        data = (root / rel).read_bytes()
    except OSError as err:
        _warn_once(f"read:{root}:{rel}", f"class cache {root}: cannot read {rel} ({err}); computing locally.")
        return None
    if sha256_of(data) != info.get("sha256"):
        _warn_once(f"hash:{root}:{rel}", f"class cache {root}: {rel} does not match the SHA-256 in its index "
                   "(damaged or tampered with): ignored; computing locally. Instructor: rebuild the class cache.")
        return None
    record = load(io.BytesIO(data))  # the verified bytes, not a second read
    if record is None:
        _warn_once(f"load:{root}:{rel}", f"class cache {root}: {rel} matches its hash but cannot be read; "
                   "computing locally.")
    return record


def _explain_miss(root: Path, index: _Index, rel: str, key: str, params: Any) -> None:
    """A file the index does not list: say why when it is a sign of trouble (a quiet miss otherwise)."""
    if (root / rel).exists():
        _warn_once(f"unlisted:{root}:{rel}", f"class cache {root}: {rel} is not in its hash index: ignored; "
                   "computing locally.")
        return
    if key in index.keys:
        return  # built for these parameters, just not this photo or variant: compute it
    mine = asdict(params)
    for other_key, described in index.keys.items():
        if {k: described.get(k) for k in mine} == mine:  # same parameters, other library or model versions
            now = params.describe()
            _warn_once(f"stale:{root}:{key}", f"class cache {root} was built with dlib {described.get('dlib')} and "
                       f"models {described.get('models')} (key {other_key}); this kernel has dlib {now['dlib']} and "
                       f"models {now['models']} (key {key}): stale, not used; computing locally. "
                       "Instructor: rebuild it with `python -m facecourse build-class-cache`.")
            return


def status(root: Path | str | None = None, *, verify: bool = True,
           on_file: Callable[[str], None] | None = None) -> dict[str, Any]:
    """What a class cache holds and whether every file matches its index (for instructors)."""
    root = Path(root).expanduser().resolve() if root is not None else config.class_cache_dir()
    if root is None:
        raise CourseError("No class cache: give a folder or set FACECOURSE_CLASS_CACHE.")
    data = read_index(root)
    if data is None:
        raise CourseError(f"{root} has no readable {INDEX_NAME}: build it with "
                          f"`python -m facecourse build-class-cache {root}`.")
    bad = []
    if verify:
        for rel, info in progress(list(data["files"].items()), desc="Verifying the class cache", unit="file"):
            path = root / rel
            if not path.exists() or sha256_of(path.read_bytes()) != info["sha256"]:
                bad.append(rel)
            if on_file:
                on_file(rel)
    return {"folder": str(root), "built": data.get("built"), "files": len(data["files"]), "bad": bad,
            "withdrawn": data.get("withdrawn", []), "jobs": data.get("jobs", [])}


# --------------------------------------------------------------------------- consent withdrawal


@dataclass
class ClassPurge:
    """What :func:`purge` did to the class cache."""

    folder: Path | None = None
    deleted: list[str] = field(default_factory=list)
    problem: str = ""


def purge(hashes: Iterable[str], person_id: str) -> ClassPurge:
    """Delete every class-cache file derived from these images and record ``person_id`` as withdrawn.

    Does nothing when no class cache is set. When the folder is not writable (a student's
    read-only mount), says so: students' kernels refuse the person's files anyway, from their own
    revocation list, and the instructor must run the purge where the folder is writable.
    """
    root = config.class_cache_dir()
    out = ClassPurge(root)
    if root is None or not root.exists():
        return out
    wanted = {h for h in hashes if h}
    data = read_index(root)
    if not os.access(root, os.W_OK) or any(not os.access(p, os.W_OK) for p in _dirs_with(root, wanted)):
        out.problem = (f"The class cache {root} is not writable here, so nothing was deleted from it. Run "
                       f"`python -m facecourse withdraw {person_id}` as its owner with FACECOURSE_CLASS_CACHE={root}.")
        return out
    for path in faceprint_files(root):
        if any(h in path.name for h in wanted):
            path.unlink()
            out.deleted.append(str(path))
    if data is not None:
        data["files"] = {rel: info for rel, info in data["files"].items()
                         if info.get("image_sha256") not in wanted and info.get("person_id") != person_id}
        data["withdrawn"] = sorted({*data.get("withdrawn", []), person_id})
        write_index(root, data)
    return out


def _dirs_with(root: Path, hashes: set[str]) -> set[Path]:
    return {p.parent for p in faceprint_files(root) if any(h in p.name for h in hashes)}
