"""Consent withdrawal and deletion: reaching every copy the course made.

The course keeps every file it derives from a photo under one folder (``config.cache_dir()``)
and follows two rules that make deletion complete and checkable:

1. a file derived from one image carries that image's SHA-256 in its name
   (e.g. ``faceprints/<params>/<sha256>.npz``);
2. a file derived from many images (a search index, a table of results) is written through
   :func:`write_derived`, which records the images' hashes in a sidecar ``<name>.sources``.

:func:`purge_images` deletes both kinds for a set of image hashes; :func:`record_withdrawal`
records a withdrawal in ``sample_images/revocations.csv`` (so no function returns the person
again) and :func:`delete_photos` deletes their downloaded photos. A withdrawal is carried out by
:func:`facecourse.rights.withdraw_consent` (``python -m facecourse withdraw PERSON_ID``), which
does all three and purges the instructor's class cache too (:func:`facecourse.classcache.purge`):
this module is the sources layer and knows nothing about faceprints or class caches.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import config
from ._files import write_atomic
from .dataset import local_path
from .errors import ManifestError
from .manifest import Manifest, ManifestEntry, load_manifest

SOURCES_SUFFIX = ".sources"


def write_derived(path: Path, data: bytes, source_hashes: Iterable[str]) -> Path:
    """Write a file derived from several images, recording which ones (for later erasure)."""
    path = Path(path)
    if config.cache_dir() not in path.resolve().parents:
        raise ValueError(f"{path} is outside the course cache {config.cache_dir()}; derived files live there.")
    path.parent.mkdir(parents=True, exist_ok=True)
    sources = path.with_name(path.name + SOURCES_SUFFIX)
    # the sidecar first: a file on disk is always listed by one, so a purge always finds it
    write_atomic(sources, ("\n".join(sorted(set(source_hashes))) + "\n").encode())
    return write_atomic(path, data)


@dataclass
class PurgeReport:
    """What a purge deleted (paths relative to the cache folder)."""

    deleted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be done, and how to do it

    def __str__(self) -> str:
        text = ("Nothing derived from these images was found in the course cache." if not self.deleted
                else f"Deleted {len(self.deleted)} derived file(s) from {config.cache_dir()}.")
        return "\n".join([text, *self.notes])


def purge_images(hashes: Iterable[str]) -> PurgeReport:
    """Delete every cached file derived from images with these SHA-256 hashes."""
    wanted = {h for h in hashes if h}
    report = PurgeReport()
    root = config.cache_dir()
    if not wanted or not root.exists():
        return report
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith(SOURCES_SUFFIX):
            if wanted & set(path.read_text().split()):
                target = path.with_name(path.name[: -len(SOURCES_SUFFIX)])
                for p in (target, path):
                    if p.exists():
                        p.unlink()
                        report.deleted.append(p.relative_to(root).as_posix())
            continue
        if any(h in path.name for h in wanted) and path.exists():
            path.unlink()
            report.deleted.append(path.relative_to(root).as_posix())
    return report


def record_withdrawal(person_id: str, *, note: str = "", when: str | None = None,
                      manifest: Manifest | None = None) -> list[ManifestEntry]:
    """Record in ``revocations.csv`` that ``person_id`` withdrew consent; return all their manifest rows.

    Recorded once (a second withdrawal of the same person adds no line). The rows include the
    already revoked ones, so that everything derived from any of their photos can be purged.
    """
    manifest = load_manifest() if manifest is None else manifest
    entries = [e for e in manifest.entries(include_revoked=True) if e.person_id == person_id]
    if not entries:
        raise ManifestError(f"No person '{person_id}' in the manifest; person ids look like 'london-007'.")
    path = config.revocations_path()
    if person_id not in manifest.revoked_people:
        new = not path.exists()
        with path.open("a", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            if new:
                writer.writerow(["person_id", "date", "note"])
            writer.writerow([person_id, when or date.today().isoformat(), note])
    return entries


def delete_photos(entries: Iterable[ManifestEntry]) -> list[str]:
    """Delete the downloaded photos of these manifest rows from the image folder (if it is writable)."""
    deleted = []
    for entry in entries:
        photo = local_path(entry)
        if photo.exists() and os.access(photo.parent, os.W_OK):
            photo.unlink()
            deleted.append(str(photo))
    return deleted


def forget_my_images() -> str:
    """Delete everything the course derived from the student's own photos in ``my_images/``."""
    folder = config.cache_dir() / "my_images"
    count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return (f"Deleted {count} file(s) derived from your photos ({folder}). Your photos themselves are "
            f"still in {config.my_images_dir()}: delete them when you no longer need them.")
