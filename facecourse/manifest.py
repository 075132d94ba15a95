"""The image manifest: provenance, licence and consent for every file the course may use.

``sample_images/manifest.csv`` is committed; the images are not. Each row says where a
file comes from (the pinned upstream commit), its SHA-256, its licence, whom to credit,
and on what basis the person in it agreed to its use. The course refuses any image that
has no row, whose bytes do not match the row's hash, whose row lacks a licence or a
consent basis, or whose person has withdrawn consent (``sample_images/revocations.csv``).

>>> m = load_manifest()
>>> len(m.photos(set="london_neutral"))
102
>>> m["london-001-neutral"].licence
'CC-BY-4.0'
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import config
from .errors import ConsentRevokedError, IntegrityError, ManifestError, NotInManifestError

#: The upstream repository and commit every file is pinned to.
UPSTREAM_REPO = "debruine/webmorphR.stim"
UPSTREAM_COMMIT = "fa8b78fda2d659bb74ce62fcd99c4407551d2a77"
UPSTREAM_BASE_URL = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/"

MANIFEST_COLUMNS = [
    "file_id",
    "person_id",
    "set",
    "kind",
    "path",
    "upstream_path",
    "sha256",
    "licence",
    "attribution",
    "consent_basis",
    "age",
    "gender",
    "ethnicity",
    "session",
]
#: Columns that must be filled in on every row; a row without them is rejected on load.
REQUIRED = ("file_id", "set", "kind", "path", "upstream_path", "sha256", "licence", "attribution", "consent_basis")
#: Licences the course accepts (SPDX identifiers) and where to read them.
LICENCES = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}
#: The kinds of file the manifest lists (its ``kind`` column).
FILE_KINDS = ("photo", "landmarks", "metadata")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ManifestEntry:
    """One file the course may use, with its provenance."""

    file_id: str
    person_id: str
    set: str
    kind: str
    path: str
    upstream_path: str
    sha256: str
    licence: str
    attribution: str
    consent_basis: str
    age: int | None
    gender: str
    ethnicity: str
    session: str

    @property
    def upstream_url(self) -> str:
        """The pinned address the file is downloaded from."""
        return UPSTREAM_BASE_URL + self.upstream_path

    @property
    def licence_url(self) -> str:
        return LICENCES[self.licence]

    def credit(self) -> str:
        """A one-line credit, as CC BY 4.0 asks for (author, source, licence)."""
        return f"{self.attribution}. Licence: {self.licence} ({self.licence_url})."


@dataclass(frozen=True)
class Revocation:
    """A person who withdrew consent, and when."""

    person_id: str
    date: str
    note: str


class Manifest:
    """The validated manifest, with consent withdrawals applied.

    Index it by ``file_id``; iterate it for every entry that may still be used.
    """

    def __init__(self, entries: Iterable[ManifestEntry], revocations: Iterable[Revocation] = ()) -> None:
        self._all = tuple(entries)
        self.revocations = tuple(revocations)
        self.revoked_people = frozenset(r.person_id for r in self.revocations)
        self._by_id = {e.file_id: e for e in self._all}
        self._by_sha = {e.sha256: e for e in self._all}

    def __len__(self) -> int:
        return len(self.entries())

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(self.entries())

    def __getitem__(self, file_id: str) -> ManifestEntry:
        try:
            entry = self._by_id[file_id]
        except KeyError:
            raise NotInManifestError(
                f"'{file_id}' is not in the manifest ({config.manifest_path()}). The course only uses "
                "images listed there, with a licence and a consent basis. For your own consenting "
                "photos use the my_images/ folder (see my_images/README.md)."
            ) from None
        self._check_not_revoked(entry)
        return entry

    def _check_not_revoked(self, entry: ManifestEntry) -> None:
        if entry.person_id and entry.person_id in self.revoked_people:
            raise ConsentRevokedError(
                f"'{entry.file_id}' shows {entry.person_id}, who has withdrawn consent "
                f"(listed in {config.revocations_path().name}). The course no longer uses their "
                "images, faceprints or search results."
            )

    def entries(self, *, include_revoked: bool = False) -> list[ManifestEntry]:
        """Every entry, without those of people who withdrew consent (unless asked)."""
        return [e for e in self._all if include_revoked or e.person_id not in self.revoked_people]

    def photos(self, set: str | Iterable[str] | None = None) -> list[ManifestEntry]:
        """The photos (optionally of one set or several), consent withdrawals applied."""
        sets = {set} if isinstance(set, str) else (None if set is None else frozenset(set))
        unknown = (sets or frozenset()) - self.sets()
        if unknown:
            raise ManifestError(f"No set called {sorted(unknown)}; the manifest has {sorted(self.sets())}.")
        return [e for e in self.entries() if e.kind == "photo" and (sets is None or e.set in sets)]

    def sets(self) -> frozenset[str]:
        return frozenset(e.set for e in self._all)

    def landmarks_for(self, photo: ManifestEntry) -> ManifestEntry | None:
        """The hand-placed WebMorph template (.tem) that belongs to a photo, if there is one."""
        tem = self._by_id.get(photo.file_id + "-landmarks")
        if tem is not None:
            self._check_not_revoked(tem)
        return tem

    def entry_for_bytes(self, data: bytes, name: str = "this file") -> ManifestEntry:
        """Find the entry whose SHA-256 matches ``data``, or refuse the file."""
        digest = hashlib.sha256(data).hexdigest()
        entry = self._by_sha.get(digest)
        if entry is None:
            raise NotInManifestError(
                f"{name} (SHA-256 {digest[:12]}...) is not in the manifest, so the course will not use "
                "it: every image needs a row with its source, licence and consent basis. For your own "
                "consenting photos use the my_images/ folder (see my_images/README.md)."
            )
        self._check_not_revoked(entry)
        return entry


def verify_bytes(entry: ManifestEntry, data: bytes, where: Path | str) -> None:
    """Raise :class:`IntegrityError` unless ``data`` has the entry's SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise IntegrityError(
            f"{where} does not match its manifest entry '{entry.file_id}': SHA-256 is "
            f"{digest[:12]}..., expected {entry.sha256[:12]}.... The file is damaged or was "
            "replaced. Delete it and run facecourse.dataset.fetch() to download it again."
        )


def _row_error(path: Path, line: int, message: str) -> ManifestError:
    return ManifestError(f"{path}, line {line}: {message}. Fix that row (see sample_images/README.md).")


def _parse_entry(row: dict[str, str], path: Path, line: int) -> ManifestEntry:
    missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
    if missing:
        raise _row_error(path, line, f"'{row.get('file_id') or '?'}' has no {', '.join(missing)}; "
                         "the course refuses an image without a licence, attribution and consent basis")
    if not _SHA256.match(row["sha256"]):
        raise _row_error(path, line, f"'{row['file_id']}' has a malformed sha256 '{row['sha256']}'")
    if row["licence"] not in LICENCES:
        raise _row_error(path, line, f"'{row['file_id']}' has licence '{row['licence']}', which the course "
                         f"does not accept (accepted: {', '.join(LICENCES)})")
    if row["kind"] not in FILE_KINDS:
        raise _row_error(path, line, f"'{row['file_id']}' has kind '{row['kind']}' (expected one of {FILE_KINDS})")
    if row["kind"] != "metadata" and not row["person_id"].strip():
        raise _row_error(path, line, f"'{row['file_id']}' has no person_id")
    rel = Path(row["path"])
    if rel.is_absolute() or ".." in rel.parts:
        raise _row_error(path, line, f"'{row['file_id']}' has an unsafe path '{row['path']}'")
    age = row.get("age", "").strip()
    if age and not age.isdigit():
        raise _row_error(path, line, f"'{row['file_id']}' has age '{age}'; leave it empty when unknown")
    return ManifestEntry(
        **{c: row.get(c, "").strip() for c in MANIFEST_COLUMNS if c != "age"},
        age=int(age) if age else None,
    )


def _data_lines(fh: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(fh, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def load_revocations(path: Path | None = None) -> list[Revocation]:
    """Read the consent-withdrawal list (``person_id,date,note``); a missing file means none."""
    path = path or config.revocations_path()
    if not path.exists():
        return []
    numbered = list(_data_lines(path.open(newline="", encoding="utf-8")))
    rows = list(csv.DictReader(line for _, line in numbered))
    out = []
    for (line, _), row in zip(numbered[1:], rows, strict=False):
        pid = (row.get("person_id") or "").strip()
        if not pid:
            raise _row_error(path, line, "a withdrawal row has no person_id")
        out.append(Revocation(pid, (row.get("date") or "").strip(), (row.get("note") or "").strip()))
    return out


def load_manifest(path: Path | None = None, revocations: Path | None = None) -> Manifest:
    """Read and validate the manifest; raise :class:`ManifestError` on the first bad row."""
    path = path or config.manifest_path()
    if not path.exists():
        raise ManifestError(f"The manifest {path} is missing. It is part of the repository: restore it with "
                            "`git checkout -- sample_images/manifest.csv`.")
    with path.open(newline="", encoding="utf-8") as fh:
        numbered = list(_data_lines(fh))
    if not numbered:
        raise ManifestError(f"The manifest {path} is empty.")
    header = next(csv.reader([numbered[0][1]]))
    absent = [c for c in MANIFEST_COLUMNS if c not in header]
    if absent:
        raise _row_error(path, numbered[0][0], f"the header lacks the column(s) {', '.join(absent)}")
    entries: list[ManifestEntry] = []
    seen_ids: set[str] = set()
    seen_paths: set[str] = set()
    for (line, _), row in zip(numbered[1:], csv.DictReader(text for _, text in numbered), strict=False):
        entry = _parse_entry(row, path, line)
        for seen, value, what in ((seen_ids, entry.file_id, "file_id"), (seen_paths, entry.path, "path")):
            if value in seen:
                raise _row_error(path, line, f"duplicate {what} '{value}'")
            seen.add(value)
        entries.append(entry)
    return Manifest(entries, load_revocations(revocations))

