"""Your face, your rights: access, erasure and opt-out in a face search index.

A small Clearview-style face search index over the course's consenting photos, built so that
the rights of the people in it can be exercised *and checked*:

* **Provenance.** Every entry carries where its photo came from (the manifest's pinned
  ``upstream_url``), when the index collected it, its licence, whom to credit and the consent
  basis - the kind of record Clearview's answers to access requests revealed ("when it was
  uploaded, where it was found", as the 2020 article puts it).
* **Access** (GDPR Art. 15, CCPA §§1798.110, 1798.115): :func:`subject_access_report` finds every entry that
  matches a photo and lists it with its provenance, the purposes, the retention period and the
  searches that returned it (the recipients), as text and as a dict.
* **Erasure** (GDPR Art. 17, CCPA §1798.105): :func:`erase_subject` removes a person from every
  derived file the course wrote - index rows (zeroed in memory), the saved index files
  (rewritten), cached faceprints and saved search results (through
  :func:`facecourse.privacy.purge_images`) - and :func:`verify_erasure` proves it: a new photo of
  the person finds nothing, and no file under the cache holds their faceprints, image hashes or
  entry ids (:func:`find_residual_copies` scans the bytes).
* **Consent withdrawal** (GDPR Art. 7(3)): :func:`withdraw_consent` records it and deletes
  every copy the course made of the person's data, the instructor's class cache included.
* **Opt-out.** A list of faceprints that :meth:`FaceIndex.enrol` refuses to enrol again. To block
  a face you must keep a faceprint of it: the opt-out list is itself a biometric database.
* **Audit log**: every enrolment, search, erasure and opt-out is logged (who, when, why, how
  many results and which entries) in the hash-chained log of :mod:`facecourse.audit`, which
  also verifies and summarises it.

Design decisions (the lesson discusses each):

1. **The log stores nothing about the probe.** Not the faceprint (data minimisation) and not a
   hash of it either: a faceprint is a deterministic function of the photo, so anyone holding a
   photo could test whether it was searched. The searcher's case reference (``purpose``) points
   to the case file, where the probe image belongs.
2. **The log names entries only by pseudonyms.** Each entry gets a random token when it is
   enrolled; the table from token to entry lives only in the index's ``entries.json``. Erasing
   the entry deletes its row of that table, so the log lines that mention it stay unchanged (the
   hash chain still verifies) but can no longer be linked to anyone (*crypto-shredding*). A
   salted hash of the entry id would not do: the salt must survive for everyone else, and entry
   ids can be guessed.
3. **Files written with** :func:`facecourse.privacy.write_derived`, so the course's general
   erasure (``purge_images`` / :func:`withdraw_consent`) finds them too: the index files list their
   photos' hashes in a ``.sources`` sidecar, saved results list the hashes of the entries they
   show. ``erase_subject`` rewrites the index *first* (so the new sidecar no longer lists the
   person), then purges. The opt-out list records its request tokens, not photo hashes, so that
   erasing a person does not delete the very list that keeps them out.

Everything lives in ``config.cache_dir()/indexes/<name>/``. Times come from an injectable clock
(:class:`facecourse.audit.StepClock` in tests and notebooks); random tokens from an injectable
``seed`` (for reproducible notebooks only).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from . import _checks, classcache, config, privacy
from ._files import write_atomic
from .audit import AuditLog, Clock, iso, parse_time, utc_now
from .errors import CourseError, NotInManifestError
from .faceprints import (
    DEFAULT_PARAMS,
    EncodingParams,
    cache_path,
    encode_array,
    encode_checked_entries,
    encode_entries,
    encode_entry,
    require_face,
    save_record,
)
from .manifest import Manifest, ManifestEntry, load_manifest
from .metrics import DEFAULT_THRESHOLD, pairwise_distances
from .my_images import refuse_bystanders
from .search import BruteForceIndex

__all__ = [
    "AccessReport",
    "EnrolmentReport",
    "ErasureCheck",
    "ErasureReport",
    "FaceIndex",
    "Match",
    "Provenance",
    "Sandbox",
    "Traces",
    "erase_subject",
    "find_residual_copies",
    "short_path",
    "subject_access_report",
    "traces_of",
    "verify_erasure",
    "withdraw_consent",
]

DIM = 128
#: The right to know is Cal. Civ. Code §1798.110 (§1798.115 for personal information sold or shared)
#: since the CPRA renumbering, operative 2023-01-01; §1798.100 is now the notice-at-collection duty.
LAW_ACCESS = "GDPR Art. 15; CCPA (Cal. Civ. Code) §§1798.110, 1798.115"
LAW_ERASURE = "GDPR Art. 17; CCPA (Cal. Civ. Code) §1798.105"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Provenance:
    """Where an index entry comes from, and on what basis it is held."""

    entry_id: str  # the manifest's file_id
    person_id: str
    sha256: str  # of the source photo
    source_url: str  # the pinned address it was fetched from (Clearview: "where it was found")
    collected: str  # when this index collected it (ISO 8601, UTC)
    licence: str
    attribution: str
    consent_basis: str

    @classmethod
    def from_entry(cls, entry: ManifestEntry, collected: str) -> Provenance:
        return cls(entry.file_id, entry.person_id, entry.sha256, entry.upstream_url, collected,
                   entry.licence, entry.attribution, entry.consent_basis)


@dataclass(frozen=True)
class Match:
    """One search result: an entry within the threshold, its distance and rank (1 = nearest)."""

    rank: int
    distance: float
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "distance": round(self.distance, 6), **dataclasses.asdict(self.provenance)}


@dataclass(frozen=True)
class _Entry:
    id: int  # integer id in the search index
    token: str  # random pseudonym used in the audit log; erased with the entry
    provenance: Provenance


@dataclass
class EnrolmentReport:
    """What :meth:`FaceIndex.enrol` did with each photo."""

    enrolled: list[str] = field(default_factory=list)
    already_enrolled: list[str] = field(default_factory=list)
    blocked_by_opt_out: list[tuple[str, float]] = field(default_factory=list)  # (entry id, distance)
    not_acquired: list[tuple[str, str]] = field(default_factory=list)  # (entry id, why)
    screened_and_deleted: list[str] = field(default_factory=list)  # cache files purged after blocking

    def __str__(self) -> str:
        lines = [f"Enrolled {len(self.enrolled)} photo(s); {len(self.already_enrolled)} already enrolled; "
                 f"{len(self.not_acquired)} without a detectable face; "
                 f"{len(self.blocked_by_opt_out)} blocked by the opt-out list."]
        for entry_id, distance in self.blocked_by_opt_out:
            lines.append(f"  blocked {entry_id}: distance {distance:.3f} to an opted-out faceprint")
        if self.screened_and_deleted:
            lines.append(f"  the faceprints computed to screen the blocked photos were deleted again "
                         f"({len(self.screened_and_deleted)} cache file(s))")
        return "\n".join(lines)


# --------------------------------------------------------------------------- file helpers


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _remove_derived(path: Path) -> None:
    for p in (path, path.with_name(path.name + privacy.SOURCES_SUFFIX)):
        if p.exists():
            p.unlink()


def index_folder(name: str) -> Path:
    """Where the index ``name`` is kept: ``<cache>/indexes/<name>/``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"Index names use lower-case letters, digits, '-' and '_' (e.g. 'lesson06'); got {name!r}.")
    return config.cache_dir() / "indexes" / name


def _check_text(value: Any, what: str, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Say {what} (a non-empty string, e.g. {example!r}): the audit log records it.")
    return value.strip()


# --------------------------------------------------------------------------- the index


class FaceIndex:
    """A face search index over consenting manifest photos, with provenance and an audit log.

    Create one with :meth:`create`, reopen it with :meth:`load`. Enrol photos with
    :meth:`enrol`, search with :meth:`search` (every search needs a ``user`` and a
    ``purpose`` and is logged). Changes are saved immediately.

    Args (of :meth:`create`):
        name: folder name under ``<cache>/indexes/``.
        controller: who is responsible for the index (shown in access reports).
        purposes: what the index is for (shown in access reports, GDPR Art. 15(1)(a)).
        retention_days: how long an entry is kept after collection (Art. 15(1)(d)).
        threshold: default match threshold (Euclidean distance; lower = more similar).
        opt_out_threshold: distance at or below which a photo is refused as opted out.
        clock: a callable returning the current time (default: the real UTC clock).
        seed: makes the random audit pseudonyms reproducible - for notebooks and tests only.
    """

    def __init__(self, name: str, meta: dict[str, Any], *, clock: Clock | None = None,
                 seed: int | None = None) -> None:
        self.name = name
        self.folder = index_folder(name)
        self.controller: str = meta["controller"]
        self.purposes: tuple[str, ...] = tuple(meta["purposes"])
        self.retention_days: int = int(meta["retention_days"])
        self.threshold: float = float(meta["threshold"])
        self.opt_out_threshold: float = float(meta["opt_out_threshold"])
        self.created: str = meta["created"]
        self.params = EncodingParams(**meta["params"])
        self._meta = meta
        self.clock: Clock = clock or utc_now
        # seeded: a fresh stream per (seed, state) so a reloaded index never repeats a token
        state = [int(meta["next_id"]), len(AuditLog(self.folder))]
        self._random: Callable[[int], bytes] = (np.random.default_rng([int(seed), *state]).bytes
                                                if seed is not None else secrets.token_bytes)
        self._search = BruteForceIndex(DIM, dtype=np.float32)
        self._faceprints = np.empty((0, DIM), dtype=np.float32)  # row-aligned with _entries, for saving
        self._entries: list[_Entry] = []
        self._optout = np.empty((0, DIM), dtype=np.float32)
        self._optout_records: list[dict[str, str]] = []
        self.log = AuditLog(self.folder)

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def create(cls, name: str, *, controller: str = "Face course demonstration index (a teaching index, "
               "not a real service)", purposes: Sequence[str] = ("teaching: demonstrating face search and "
                                                                  "data-subject rights",),
               retention_days: int = 365, threshold: float = DEFAULT_THRESHOLD,
               opt_out_threshold: float = DEFAULT_THRESHOLD, params: EncodingParams = DEFAULT_PARAMS,
               clock: Clock | None = None, seed: int | None = None, overwrite: bool = False) -> FaceIndex:
        """Start a new, empty index in ``<cache>/indexes/<name>/``."""
        folder = index_folder(name)
        if folder.exists():
            if not overwrite:
                raise CourseError(f"An index called '{name}' already exists in {folder}. Open it with "
                                  f"FaceIndex.load('{name}'), or pass overwrite=True to start again.")
            shutil.rmtree(folder)
        if int(retention_days) < 1:
            raise ValueError(f"retention_days must be at least 1, got {retention_days!r}.")
        if not purposes or not all(isinstance(p, str) and p.strip() for p in purposes):
            raise ValueError("Give at least one purpose (GDPR Art. 5(1)(b): purposes are fixed before collection).")
        index = cls(name, {
            "controller": _check_text(controller, "who the controller is", "Acme Face Search Ltd"),
            "purposes": list(purposes), "retention_days": int(retention_days),
            "threshold": _checks.threshold(threshold),
            "opt_out_threshold": _checks.threshold(opt_out_threshold, name="opt_out_threshold"),
            "created": "", "params": dataclasses.asdict(params), "next_id": 0,
        }, clock=clock, seed=seed)
        index.created = index._meta["created"] = iso(index.clock())
        index.save()
        return index

    @classmethod
    def load(cls, name: str, *, clock: Clock | None = None, seed: int | None = None) -> FaceIndex:
        """Reopen a saved index."""
        folder = index_folder(name)
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            raise CourseError(f"No index called '{name}' in {folder.parent}; "
                              f"create it with FaceIndex.create('{name}').")
        index = cls(name, json.loads(meta_path.read_text()), clock=clock, seed=seed)
        gallery, entries = folder / "gallery.npy", folder / "entries.json"
        if not (gallery.exists() and entries.exists()):
            raise CourseError(
                f"The index '{name}' has lost its gallery.npy or entries.json: a consent withdrawal "
                "(rights.withdraw_consent / privacy.purge_images) deletes every file derived from that person's "
                "photos. Build the index again with FaceIndex.create(..., overwrite=True) and enrol().")
        faceprints = np.load(gallery, allow_pickle=False)
        rows = json.loads(entries.read_text())
        if faceprints.shape != (len(rows), DIM):
            raise CourseError(f"{gallery} holds {faceprints.shape[0]} faceprints but {entries} lists "
                              f"{len(rows)} entries: the index is damaged; rebuild it.")
        index._entries = [_Entry(r["id"], r["token"], Provenance(**r["provenance"])) for r in rows]
        index._faceprints = np.ascontiguousarray(faceprints, dtype=np.float32)
        index._search.add(index._faceprints, ids=[e.id for e in index._entries])
        optout = folder / "optout.npz"
        if optout.exists():
            with np.load(optout, allow_pickle=False) as z:
                index._optout = np.ascontiguousarray(z["faceprints"], dtype=np.float32)
                index._optout_records = json.loads(str(z["records"]))
        return index

    def save(self) -> list[str]:
        """Write the index files; return their names. Called after every change."""
        sources = [e.provenance.sha256 for e in self._entries]
        rows = [{"id": e.id, "token": e.token, "provenance": dataclasses.asdict(e.provenance)} for e in self._entries]
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / "meta.json", (json.dumps(self._meta, indent=1, sort_keys=True) + "\n").encode())
        privacy.write_derived(self.folder / "gallery.npy", _npy_bytes(self._faceprints), sources)
        privacy.write_derived(self.folder / "entries.json",
                              (json.dumps(rows, indent=1, sort_keys=True) + "\n").encode(), sources)
        written = ["meta.json", "gallery.npy", "entries.json"]
        if self._optout_records:
            buffer = io.BytesIO()
            np.savez(buffer, faceprints=self._optout, records=np.array(json.dumps(self._optout_records)))
            privacy.write_derived(self.optout_path, buffer.getvalue(),
                                  [f"optout:{r['token']}" for r in self._optout_records])
            written.append(self.optout_path.name)
        else:
            _remove_derived(self.optout_path)
        return written

    @property
    def optout_path(self) -> Path:
        """The opt-out list: faceprints kept so that those faces are never enrolled again."""
        return self.folder / "optout.npz"

    # ----------------------------------------------------------------- views

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return (f"FaceIndex('{self.name}': {len(self)} entries, {len(self._optout_records)} opted out, "
                f"{len(self.log)} audit line(s))")

    @property
    def entries(self) -> list[Provenance]:
        """Provenance of every entry, in index order."""
        return [e.provenance for e in self._entries]

    @property
    def opt_outs(self) -> list[dict[str, str]]:
        """The opt-out requests on file (token, date, reference) - without their faceprints."""
        return [dict(r) for r in self._optout_records]

    # ----------------------------------------------------------------- enrolment

    def enrol(self, entries: Iterable[ManifestEntry | str], *, manifest: Manifest | None = None,
              user: str = "index-builder", workers: int | None = None) -> EnrolmentReport:
        """Add manifest photos to the index, with their provenance.

        Refuses the whole batch (before computing anything) if one photo is not in the manifest,
        differs from its manifest row, or shows a person who withdrew consent. A photo whose
        faceprint is within ``opt_out_threshold`` of an opted-out faceprint is not enrolled, and
        the faceprint computed to screen it is deleted from the cache again.
        """
        user = _check_text(user, "who enrols", "index-builder")  # validate everything before changing anything
        manifest = load_manifest() if manifest is None else manifest
        checked: list[ManifestEntry] = []
        for item in entries:  # validate the request first: nothing is computed for a refused batch
            file_id = item if isinstance(item, str) else getattr(item, "file_id", None)
            if not isinstance(file_id, str):
                raise TypeError(f"enrol() takes manifest entries or file ids, got {type(item).__name__}.")
            current = manifest[file_id]  # NotInManifestError / ConsentRevokedError
            if not isinstance(item, str) and item != current:
                raise NotInManifestError(f"'{file_id}' differs from its manifest row (hash, source or consent "
                                         "basis changed): the index only takes photos exactly as listed.")
            if current.kind != "photo":
                raise CourseError(f"'{file_id}' is a {current.kind} file, not a photo.")
            checked.append(current)
        report = EnrolmentReport()
        known = {e.provenance.entry_id for e in self._entries}
        todo: list[ManifestEntry] = []
        for entry in checked:
            if entry.file_id in known:
                report.already_enrolled.append(entry.file_id)
            else:
                known.add(entry.file_id)
                todo.append(entry)
        # checked above (consent, hash, kind), against the same manifest: not checked again
        encoded = encode_checked_entries(todo, params=self.params, manifest=manifest, workers=workers)
        report.not_acquired = [(e.file_id, why) for e, why in encoded.failures]
        got = encoded.acquired_entries()
        x = encoded.embeddings.astype(np.float32)
        blocked = np.zeros(len(got), dtype=bool)
        if len(got) and len(self._optout):
            d = pairwise_distances(x, self._optout).min(axis=1)
            blocked = d <= self.opt_out_threshold
            report.blocked_by_opt_out = [(e.file_id, float(v)) for e, v, b in zip(got, d, blocked, strict=True) if b]
            if blocked.any():  # screening needed their faceprint; do not keep it
                purge = privacy.purge_images(e.sha256 for e, b in zip(got, blocked, strict=True) if b)
                report.screened_and_deleted = purge.deleted
        keep = [e for e, b in zip(got, blocked, strict=True) if not b]
        if keep:
            collected = iso(self.clock())
            first = int(self._meta["next_id"])
            new = [_Entry(first + i, self._random(16).hex(), Provenance.from_entry(e, collected))
                   for i, e in enumerate(keep)]
            self._meta["next_id"] = first + len(new)
            rows = x[~blocked]
            self._search.add(rows, ids=[e.id for e in new])
            self._faceprints = np.concatenate([self._faceprints, rows])
            self._entries.extend(new)
            report.enrolled = [e.file_id for e in keep]
        self.save()
        self.log.append([{"kind": "enrol", "time": iso(self.clock()), "user": user, "purpose": "enrolment",
                          "n_enrolled": len(report.enrolled), "n_blocked": len(report.blocked_by_opt_out)}])
        return report

    # ----------------------------------------------------------------- search

    def _as_probe(self, photo_or_faceprint: Any, *, manifest: Manifest | None = None) -> np.ndarray:
        return _as_faceprint(photo_or_faceprint, self.params, manifest=manifest)

    def _match(self, probes: np.ndarray, threshold: float, k: int | None) -> list[list[Match]]:
        """Candidates within ``threshold`` for each probe row, nearest first (no logging)."""
        if not len(self):
            return [[] for _ in range(len(probes))]
        k = len(self) if k is None else min(int(k), len(self))
        result = self._search.search(probes, k=k)
        by_id = {e.id: e.provenance for e in self._entries}
        out = []
        for dist, ids in zip(result.distances, result.ids, strict=True):
            ok = dist <= threshold
            near = zip(dist[ok], ids[ok], strict=True)
            out.append([Match(r + 1, float(d), by_id[int(i)]) for r, (d, i) in enumerate(near)])
        return out

    def search(self, probe: Any, *, user: str, purpose: str, threshold: float | None = None,
               k: int | None = 10, manifest: Manifest | None = None) -> list[Match]:
        """Search one photo or faceprint; every entry within ``threshold`` among the ``k`` nearest.

        ``user`` says who searches (``"organisation/person"``), ``purpose`` why (a case reference).
        The search is logged; the probe is not (see the module notes). ``manifest`` is read only
        when the probe is a manifest photo (loaded then if not given).
        """
        return self.search_batch(self._as_probe(probe, manifest=manifest)[None, :], users=user, purposes=purpose,
                                 threshold=threshold, k=k)[0]

    def search_batch(self, probes: np.ndarray, *, users: str | Sequence[str], purposes: str | Sequence[str],
                     threshold: float | None = None, k: int | None = 10, kind: str = "search") -> list[list[Match]]:
        """Search many faceprints (rows of ``probes``) at once; one audit line per probe."""
        probes = np.asarray(probes, dtype=np.float64)
        if probes.ndim != 2 or probes.shape[1] != DIM:
            raise ValueError(f"probes must be an (n, {DIM}) array of faceprints, got shape {probes.shape}.")
        n = len(probes)
        users = [users] * n if isinstance(users, str) else list(users)
        purposes = [purposes] * n if isinstance(purposes, str) else list(purposes)
        if len(users) != n or len(purposes) != n:
            raise ValueError(f"give one user and one purpose per probe ({n}), or one for all.")
        users = [_check_text(u, "who searches", "city-police/officer-12") for u in users]
        purposes = [_check_text(p, "why (a case reference)", "CASE-2026-0042") for p in purposes]
        t = _checks.threshold(self.threshold if threshold is None else threshold)
        results = self._match(probes.astype(np.float32), t, k)
        tokens = {e.provenance.entry_id: e.token for e in self._entries}
        self.log.append([{"kind": kind, "time": iso(self.clock()), "user": u, "purpose": p, "threshold": t,
                          "k": k, "n_results": len(r), "results": [tokens[m.provenance.entry_id] for m in r]}
                         for u, p, r in zip(users, purposes, results, strict=True)])
        return results

    def save_results(self, matches: Sequence[Match], name: str) -> Path:
        """Save a list of matches (e.g. an investigator's case file) as ``results/<name>.json``.

        Written with :func:`privacy.write_derived`, listing the matched photos' hashes, so that
        erasing any of those people deletes the file.
        """
        path = self.folder / "results" / f"{index_folder(name).name}.json"
        data = json.dumps([m.as_dict() for m in matches], indent=1, sort_keys=True) + "\n"
        return privacy.write_derived(path, data.encode(), [m.provenance.sha256 for m in matches])

    # ----------------------------------------------------------------- removal

    def _remove(self, remove: Sequence[_Entry], hashes: Iterable[str], *, kind: str, user: str,
                purpose: str) -> ErasureReport:
        user = _check_text(user, "who erases", "dpo")  # before anything is removed
        ids = np.array([e.id for e in remove], dtype=np.int64)
        drop = np.isin(np.array([e.id for e in self._entries], dtype=np.int64), ids)
        self._search.remove_ids(ids)  # zeroes the rows in the search index's buffer
        self._faceprints[drop] = 0  # and in ours, before compacting
        self._faceprints = np.ascontiguousarray(self._faceprints[~drop])
        self._entries = [e for e, d in zip(self._entries, drop, strict=True) if not d]
        rewritten = self.save()  # rewrite first: the new sidecars no longer list the person
        purged = privacy.purge_images(set(hashes))  # then every other file derived from their photos
        seq = self.log.append([{"kind": kind, "time": iso(self.clock()), "user": user, "purpose": purpose,
                                "n_removed": len(remove), "erased": sorted(e.token for e in remove)}])[0]
        return ErasureReport(self.name, [e.provenance for e in remove], sorted(purged.deleted), rewritten, seq)

    def opt_out(self, photo_or_faceprint: Any, *, reference: str, user: str = "dpo",
                manifest: Manifest | None = None) -> str:
        """Keep a faceprint so that this face is never enrolled again; return the request's token.

        The paradox: to recognise a face you must keep a faceprint of it. The list stores
        float32 faceprints, a random token, the date and the request reference - no name.
        """
        reference = _check_text(reference, "the request reference", "OPTOUT-1")  # validate first, then change
        user = _check_text(user, "who records the opt-out", "dpo")
        faceprint = self._as_probe(photo_or_faceprint, manifest=manifest).astype(np.float32)
        token = self._random(8).hex()
        self._optout = np.concatenate([self._optout, faceprint[None, :]])
        self._optout_records.append({"token": token, "date": iso(self.clock()), "reference": reference})
        self.save()
        self.log.append([{"kind": "opt_out", "time": iso(self.clock()), "user": user,
                          "purpose": f"opt-out request {reference}", "n_opted_out": 1}])
        return token

    def remove_opt_out(self, token: str, *, user: str = "dpo") -> None:
        """Delete one opt-out faceprint (its owner may ask for that too)."""
        user = _check_text(user, "who removes the opt-out", "dpo")
        keep = np.array([r["token"] != token for r in self._optout_records], dtype=bool)
        if keep.all():
            raise CourseError(f"No opt-out with token '{token}'; see index.opt_outs.")
        self._optout[~keep] = 0
        self._optout = np.ascontiguousarray(self._optout[keep])
        self._optout_records = [r for r, k in zip(self._optout_records, keep, strict=True) if k]
        self.save()
        self.log.append([{"kind": "opt_out_removed", "time": iso(self.clock()), "user": user,
                          "purpose": "opt-out withdrawn", "n_opted_out": -1}])

    def apply_retention(self, *, user: str = "retention-job") -> ErasureReport:
        """Erase every entry collected more than ``retention_days`` ago (by the index's clock)."""
        now = parse_time(iso(self.clock()))
        limit = timedelta(days=self.retention_days)
        old = [e for e in self._entries if now - parse_time(e.provenance.collected) > limit]
        return self._remove(old, [e.provenance.sha256 for e in old], kind="retention", user=user,
                            purpose=f"retention limit: {self.retention_days} days")


def _as_faceprint(x: Any, params: EncodingParams, *, manifest: Manifest | None = None) -> np.ndarray:
    """A 128-d float64 faceprint from a manifest photo, an image array or a faceprint.

    A manifest photo is checked against ``manifest`` (consent, hash) once, by the encoder.

    An image array that shows more than one face is refused (:class:`~facecourse.errors.MultipleFacesError`): only a
    manifest photo carries the promise of one consenting person, so only there is the largest kept.
    """
    if isinstance(x, ManifestEntry):
        return np.asarray(require_face(encode_entry(x, params=params, manifest=manifest)).encoding, dtype=np.float64)
    arr = np.asarray(x)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):  # an image: no manifest row promises one consenting person
        image = np.ascontiguousarray(arr[..., :3])
        single = dataclasses.replace(params, on_multiple="error")
        refuse_bystanders(image, params=single, name="the photo", own_photo=False)  # before any faceprint is computed
        return np.asarray(require_face(encode_array(image, params=single)).encoding)
    arr = arr.astype(np.float64).reshape(-1) if arr.size == DIM else arr
    if arr.shape != (DIM,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"Expected a photo (a manifest entry or an image array) or a {DIM}-number faceprint; "
                         f"got an array of shape {np.shape(x)}.")
    return arr


# --------------------------------------------------------------------------- erasure


@dataclass
class ErasureReport:
    """What an erasure removed, rewrote and deleted (paths relative to the cache)."""

    index: str
    removed: list[Provenance]
    deleted: list[str]
    rewritten: list[str]
    log_seq: int

    def __str__(self) -> str:
        ids = ", ".join(p.entry_id for p in self.removed) or "none"
        lines = [f"Removed {len(self.removed)} entr{'y' if len(self.removed) == 1 else 'ies'} from index "
                 f"'{self.index}' ({ids}); rows zeroed in memory before compaction.",
                 f"Rewrote the index files: {', '.join(self.rewritten)}.",
                 f"Deleted {len(self.deleted)} derived file(s):"]
        lines += [f"  {short_path(p)}" for p in self.deleted]
        lines.append(f"Logged as audit line {self.log_seq} (a count and the erased pseudonyms; no ids).")
        return "\n".join(lines)


def erase_subject(index: FaceIndex, subject: str | ManifestEntry | np.ndarray, *, reference: str,
                  user: str = "dpo", threshold: float | None = None,
                  manifest: Manifest | None = None) -> ErasureReport:
    """Erase a person from the index and from every file the course derived from their photos.

    ``subject`` is a person id (``"london-017"``: every entry of that person, and the cached
    faceprints of all their manifest photos) or a photo / faceprint (every entry within
    ``threshold`` of it - only what the photo matches: a false non-match survives, a false match
    erases a stranger, so review the entries listed in the report).
    Steps: remove the rows (zeroed), rewrite the saved index, purge the faceprint cache and any
    saved results via :func:`privacy.purge_images`, log the erasure (count + pseudonyms).
    """
    reference = _check_text(reference, "the request reference", "ERASE-2026-001")
    user = _check_text(user, "who erases", "dpo")
    if isinstance(subject, str):
        manifest = load_manifest() if manifest is None else manifest
        remove = [e for e in index._entries if e.provenance.person_id == subject]
        hashes = {e.sha256 for e in manifest.entries(include_revoked=True) if e.person_id == subject}
        if not hashes and not remove:
            raise CourseError(f"No person '{subject}' in the manifest or in index '{index.name}'; "
                              "person ids look like 'london-007'.")
    else:
        probe = index._as_probe(subject, manifest=manifest)
        t = _checks.threshold(index.threshold if threshold is None else threshold)
        matched = {m.provenance.entry_id for m in index._match(probe[None, :].astype(np.float32), t, None)[0]}
        remove = [e for e in index._entries if e.provenance.entry_id in matched]
        hashes = {e.provenance.sha256 for e in remove}
        if isinstance(subject, ManifestEntry):
            hashes.add(subject.sha256)  # the request's own photo was encoded (and cached) to answer it
    hashes |= {e.provenance.sha256 for e in remove}
    return index._remove(remove, hashes, kind="erasure", user=user,
                         purpose=f"erasure request {reference} ({LAW_ERASURE})")


@dataclass(frozen=True)
class Traces:
    """What identifies a person's data inside files: faceprints, photo hashes, entry ids."""

    faceprints: np.ndarray  # (n, 128)
    hashes: tuple[str, ...]
    ids: tuple[str, ...]

    def patterns(self) -> list[bytes]:
        """Byte patterns to scan for: each faceprint as float64 and as float32, each hash and id."""
        out = []
        for row in np.asarray(self.faceprints, dtype=np.float64).reshape(-1, DIM):
            out += [row.tobytes(), row.astype(np.float32).tobytes()]
        return out + [h.encode() for h in self.hashes] + [i.encode() for i in self.ids]


def traces_of(person_id: str, *, params: EncodingParams = DEFAULT_PARAMS,
              manifest: Manifest | None = None) -> Traces:
    """The traces of a person's manifest photos (compute this *before* erasing: it reads the cache)."""
    manifest = load_manifest() if manifest is None else manifest
    photos = [e for e in manifest.photos() if e.person_id == person_id]
    if not photos:
        raise CourseError(f"No photos of '{person_id}' the course may use; person ids look like 'london-007'.")
    encoded = encode_entries(photos, params=params, manifest=manifest, workers=1)
    return Traces(encoded.embeddings, tuple(e.sha256 for e in photos), tuple(e.file_id for e in photos))


def _files(roots: Iterable[Path]) -> list[Path]:
    return sorted(p for root in roots if Path(root).exists() for p in Path(root).rglob("*") if p.is_file())


def find_residual_copies(patterns: Iterable[bytes], roots: Iterable[Path | str]) -> list[Path]:
    """Every file under ``roots`` whose name or bytes contain one of ``patterns``.

    A byte scan finds *exact* copies only: a faceprint rounded, re-encoded as float16 or
    transformed would escape it. That is why the course also names and tags derived files
    (see :mod:`facecourse.privacy`); the scan checks that the rules were followed.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.bin").write_bytes(b"xx" + np.float32([1.5, 2.5]).tobytes())
    >>> _ = (d / "b.bin").write_bytes(b"nothing here")
    >>> [p.name for p in find_residual_copies([np.float32([1.5, 2.5]).tobytes()], [d])]
    ['a.bin']
    """
    wanted = [bytes(p) for p in patterns if p]
    found = []
    for path in _files(Path(r) for r in roots):
        name = path.name.encode()
        data = path.read_bytes()
        if any(p in name or p in data for p in wanted):
            found.append(path)
    return found


_PARAMS_DIR = re.compile(r"(faceprints/)[0-9a-f]{16}/")
_LONG_HEX = re.compile(r"([0-9a-f]{12})[0-9a-f]{52}")


def short_path(path: str) -> str:
    """A cache path for people to read: parameter folder and long hashes abbreviated.

    >>> short_path("faceprints/ee8720ac4083092f/" + "ab" * 32 + ".npz")
    'faceprints/<params>/abababababab....npz'
    """
    return _LONG_HEX.sub(r"\1...", _PARAMS_DIR.sub(r"\1<params>/", path))


def _relative(path: Path) -> str:
    root = config.cache_dir()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ErasureCheck:
    """Result of :func:`verify_erasure`."""

    probes: int
    threshold: float
    matches: tuple[Match, ...]
    scanned: tuple[str, ...]
    residues: tuple[str, ...]
    kept: tuple[str, ...]  # residues in files kept on purpose (the opt-out list)

    @property
    def ok(self) -> bool:
        return not self.matches and not self.residues

    def __str__(self) -> str:
        lines = [f"Search with {self.probes} new photo(s) of the person: {len(self.matches)} entr"
                 f"{'y' if len(self.matches) == 1 else 'ies'} within distance {self.threshold:.2f}."]
        lines += [f"  still found: {m.provenance.entry_id} at {m.distance:.3f}" for m in self.matches]
        lines.append(f"Scanned {len(self.scanned)} file(s) under the course cache for the person's faceprints "
                     f"(float64 and float32 bytes), photo hashes and entry ids: {len(self.residues)} hold them.")
        lines += [f"  RESIDUE: {short_path(p)}" for p in self.residues]
        if self.kept:
            lines.append(f"Kept on purpose and holding the person's data: {len(self.kept)} file(s):")
            lines += [f"  {short_path(p)}" for p in self.kept]
        lines.append("Erasure verified." if self.ok else "Erasure NOT verified.")
        return "\n".join(lines)


def verify_erasure(index: FaceIndex, new_photos: Any, traces: Traces, *, reference: str, user: str = "dpo",
                   threshold: float | None = None, roots: Sequence[Path | str] | None = None,
                   allowed: Iterable[Path | str] = (), manifest: Manifest | None = None) -> ErasureCheck:
    """Prove an erasure: new photos find nothing, and no file holds the person's traces.

    ``new_photos``: photos or faceprints of the person *not* used for the erasure (e.g. the
    smiling photo after erasing by the neutral one), as a list or an (n, 128) array - computed
    before the erasure, since the erasure deletes their cached faceprints too. The check
    searches (logged, kind ``erasure_check``) and scans every file under ``roots`` (default: the
    course cache). Files in ``allowed`` (e.g. ``index.optout_path``) are reported as kept on
    purpose rather than as residues.
    """
    reference = _check_text(reference, "the request reference", "ERASE-2026-001")
    items = list(new_photos) if isinstance(new_photos, (list, tuple)) else [new_photos]
    if len(items) == 1 and isinstance(items[0], np.ndarray) and items[0].ndim == 2:
        items = list(items[0])
    if manifest is None and any(isinstance(p, ManifestEntry) for p in items):
        manifest = load_manifest()  # once for all the photos
    probes = np.vstack([index._as_probe(p, manifest=manifest) for p in items])
    t = _checks.threshold(index.threshold if threshold is None else threshold)
    results = index.search_batch(probes, users=user, purposes=f"erasure check {reference}", threshold=t,
                                 k=None, kind="erasure_check")
    folders = [config.cache_dir()] if roots is None else [Path(r) for r in roots]
    scanned = _files(folders)
    keep = {Path(p).resolve() for p in allowed}
    hits = find_residual_copies(traces.patterns(), folders)
    residues = tuple(_relative(p) for p in hits if p.resolve() not in keep)
    kept = tuple(_relative(p) for p in hits if p.resolve() in keep)
    return ErasureCheck(len(probes), t, tuple(m for r in results for m in r),
                        tuple(_relative(p) for p in scanned), residues, kept)


# --------------------------------------------------------------------------- access


@dataclass
class AccessReport:
    """A subject access report: every matching entry with its provenance and its disclosures."""

    controller: str
    index: str
    reference: str
    answered: str
    threshold: float
    purposes: tuple[str, ...]
    retention_days: int
    matches: list[Match]
    faceprints: dict[str, list[float]]  # entry id -> the stored faceprint (a copy, Art. 15(3))
    disclosures: dict[str, list[dict[str, str]]]  # entry id -> searches that returned it

    def kept_until(self, match: Match) -> str:
        return (parse_time(match.provenance.collected) + timedelta(days=self.retention_days)).date().isoformat()

    def recipients(self) -> list[str]:
        return sorted({d["recipient"] for ds in self.disclosures.values() for d in ds})

    def as_dict(self) -> dict[str, Any]:
        return {
            "law": LAW_ACCESS, "controller": self.controller, "index": self.index, "reference": self.reference,
            "answered": self.answered, "threshold": self.threshold, "confirmation": bool(self.matches),
            "purposes": list(self.purposes), "retention_days": self.retention_days,
            "recipients": self.recipients(),
            "entries": [{**m.as_dict(), "kept_until": self.kept_until(m),
                         "faceprint": self.faceprints[m.provenance.entry_id],
                         "disclosed_in": self.disclosures[m.provenance.entry_id]} for m in self.matches],
        }

    def __str__(self) -> str:
        n = len(self.matches)
        lines = [
            f"SUBJECT ACCESS REPORT ({LAW_ACCESS})",
            f"Controller: {self.controller}",
            f"Index: '{self.index}'   Request: {self.reference}   Answered: {self.answered}",
            f"How we searched: your photo was turned into a faceprint and compared with every entry; entries "
            f"within distance {self.threshold:.2f} are listed. That faceprint was used only to answer this "
            "request and was not stored.",
            "",
            f"1. Do we hold data about you? {'Yes' if n else 'No'}: {n} "
            f"{'entry matches' if n == 1 else 'entries match'} your photo.",
        ]
        for m in self.matches:
            p = m.provenance
            fp = self.faceprints[p.entry_id]
            lines += [
                f"   [{m.rank}] entry {p.entry_id} (distance {m.distance:.3f})",
                f"       data held: the photo's address below and a faceprint of {len(fp)} numbers "
                f"(first three: {', '.join(f'{v:.3f}' for v in fp[:3])} ...)",
                f"       source: {p.source_url}",
                f"       collected: {p.collected}   kept until: {self.kept_until(m)}",
                f"       licence: {p.licence}; credit: {p.attribution}",
                f"       basis: {p.consent_basis}",
            ]
            shown = self.disclosures[p.entry_id]
            lines.append(f"       returned by {len(shown)} search(es):" if shown
                         else "       returned by no search so far.")
            lines += [f"         {d['time']}  {d['recipient']:<20} purpose: {d['purpose']}" for d in shown]
        lines += [
            "2. Purposes: " + "; ".join(self.purposes),
            "3. Recipients: " + (", ".join(self.recipients()) or "none so far"),
            f"4. Retention: {self.retention_days} days after collection, then erased.",
            "5. Your rights: erasure (GDPR Art. 17; CCPA §1798.105), objection (Art. 21), and a complaint "
            "to a supervisory authority (Art. 77).",
            "Caution: a match is a similarity, not an identity. An entry close to the threshold may show "
            "someone else; it must be checked before it is disclosed (Art. 15(4)).",
        ]
        return "\n".join(lines)


def subject_access_report(index: FaceIndex, photo_or_faceprint: Any, *, threshold: float | None = None,
                          reference: str = "SAR", user: str = "dpo",
                          manifest: Manifest | None = None) -> AccessReport:
    """Answer "is my face in your system?" for the person in a photo (GDPR Art. 15, CCPA §1798.110).

    Every entry within ``threshold`` of the photo's faceprint, with its provenance, the stored
    faceprint (a copy), the purposes, the retention period, and the earlier searches that returned
    it (date, organisation, purpose: the recipients). Individual staff are not named, only
    their organisation (the part of ``user`` before ``/``), following CJEU C-579/21.
    Answering is itself a search of the person's face: it is logged as ``access_request``.
    """
    reference = _check_text(reference, "the request reference", "SAR-2026-001")
    t = _checks.threshold(index.threshold if threshold is None else threshold)
    previous = index.log.records()  # before this request is logged
    probe = index._as_probe(photo_or_faceprint, manifest=manifest)
    matches = index.search_batch(probe[None, :], users=user, purposes=f"access request {reference}", threshold=t,
                                 k=None, kind="access_request")[0]
    tokens = {e.provenance.entry_id: e.token for e in index._entries}
    rows = {e.provenance.entry_id: i for i, e in enumerate(index._entries)}
    disclosures: dict[str, list[dict[str, str]]] = {}
    faceprints: dict[str, list[float]] = {}
    for m in matches:
        entry_id = m.provenance.entry_id
        token = tokens[entry_id]
        disclosures[entry_id] = [{"time": r["time"], "recipient": r["user"].split("/")[0], "purpose": r["purpose"]}
                                 for r in previous if r.get("kind") == "search" and token in r.get("results", ())]
        faceprints[entry_id] = [float(v) for v in index._faceprints[rows[entry_id]]]
    return AccessReport(index.controller, index.name, reference, iso(index.clock()), t, index.purposes,
                        index.retention_days, matches, faceprints, disclosures)


# --------------------------------------------------------------------------- consent withdrawal


def withdraw_consent(person_id: str, *, note: str = "", when: str | None = None,
                     manifest: Manifest | None = None) -> privacy.PurgeReport:
    """Record that ``person_id`` withdrew consent, and delete all that was derived from them.

    In this order: the withdrawal is recorded (:func:`facecourse.privacy.record_withdrawal`, so no
    function returns the person again); every file the course derived from their photos is
    deleted (:func:`facecourse.privacy.purge_images`: cached faceprints, search indexes, saved
    results); so are their files in the instructor's class cache when one is set and writable
    (:func:`facecourse.classcache.purge`; the report says so when it is not); and finally their
    downloaded photos (:func:`facecourse.privacy.delete_photos`). ``python -m facecourse withdraw``
    runs this.
    """
    entries = privacy.record_withdrawal(person_id, note=note, when=when, manifest=manifest)
    hashes = [e.sha256 for e in entries]
    report = privacy.purge_images(hashes)
    shared = classcache.purge(hashes, person_id)
    if shared.deleted:
        report.notes.append(f"Deleted {len(shared.deleted)} file(s) from the class cache {shared.folder}.")
    if shared.problem:
        report.notes.append(shared.problem)
    report.deleted += privacy.delete_photos(entries)
    return report


# --------------------------------------------------------------------------- sandbox


class Sandbox:
    """A throw-away course cache, so a lesson can demonstrate erasure without deleting shared files.

    Copies the cached faceprints of ``entries`` (computed first if needed) into a temporary
    folder and points ``FACECOURSE_CACHE_DIR`` at it until :meth:`close`. Everything the lesson
    then writes and erases happens there; the course's real cache is untouched.
    """

    def __init__(self, entries: Sequence[ManifestEntry], *, params: EncodingParams = DEFAULT_PARAMS,
                 manifest: Manifest | None = None) -> None:
        # from the real cache, the class cache (FACECOURSE_CLASS_CACHE; not copied into the real
        # cache, so the files may not be there) or computed
        encoded = encode_entries(entries, params=params, manifest=manifest)  # loads the manifest once if not given
        self._previous = os.environ.get("FACECOURSE_CACHE_DIR")
        self.path = Path(tempfile.mkdtemp(prefix="facecourse-sandbox-"))
        os.environ["FACECOURSE_CACHE_DIR"] = str(self.path)
        for entry, record in zip(encoded.entries, encoded.records, strict=True):
            save_record(cache_path(entry.sha256, params=params), record)  # same layout, now under the sandbox
        self.copied = len(encoded.records)

    def close(self) -> None:
        """Delete the sandbox and point the course back at its real cache."""
        if self._previous is None:
            os.environ.pop("FACECOURSE_CACHE_DIR", None)
        else:
            os.environ["FACECOURSE_CACHE_DIR"] = self._previous
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

