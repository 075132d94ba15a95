"""Getting the consenting images onto this machine, verified, and reading them back.

On first use :func:`fetch` downloads every file in the manifest from the pinned upstream
commit (or from a local mirror named by ``FACECOURSE_IMAGE_MIRROR``) with `pooch`, which
writes to a temporary file, checks the SHA-256 and only then moves it into place, so an
interrupted or corrupted download never leaves a file the course could use. A file that
is present but does not match its hash is fetched again.

Every read (:func:`read_bytes`, :func:`load_photo`) checks the hash again on the bytes it
returns, so a file changed after download is refused rather than used.

Consent is checked once per image, by the function that hands the image out: :func:`read_bytes`
and :func:`load_photo` check it (``manifest[file_id]``); :func:`read_verified` and
:func:`load_verified_photo` are what they call after checking, for callers that have just checked
consent themselves (``faceprints``, ``landmarks``), so that no image is checked twice.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import config
from .errors import DownloadError, IntegrityError
from .images import load_rgb
from .manifest import Manifest, ManifestEntry, load_manifest, verify_bytes
from .progress import progress


def _mirror_source(mirror: str, entry: ManifestEntry) -> str:
    """Where a file is in a mirror: a folder laid out like the manifest's ``path`` column, or a URL."""
    if "://" in mirror and not mirror.startswith("file://"):
        return mirror.rstrip("/") + "/" + entry.path
    return str(Path(mirror.removeprefix("file://")) / entry.path)


def _copy_from_folder(url: str, output_file: str, pooch: object, check_only: bool = False) -> bool | None:
    """A pooch downloader that copies from a local folder (the offline mirror)."""
    if check_only:
        return Path(url).exists()
    shutil.copyfile(url, output_file)
    return None


def local_path(entry: ManifestEntry) -> Path:
    """Where a verified copy of ``entry`` is kept on this machine."""
    return config.image_dir() / entry.path


def _how_to_get_images() -> str:
    return (
        "Check your internet connection, or point the course at a local copy of the images: "
        "set FACECOURSE_IMAGE_MIRROR to the folder that holds them (for example "
        "`export FACECOURSE_IMAGE_MIRROR=../shared/datasets/face-research-lab`), or set "
        "FACECOURSE_IMAGE_DIR to a folder where someone already downloaded them (see README.md)."
    )


def fetch(entries: Iterable[ManifestEntry] | None = None, *, manifest: Manifest | None = None) -> list[Path]:
    """Download (or copy from the mirror) and verify every file of ``entries``.

    With no arguments, fetches everything in the manifest that consent still allows (the
    manifest is read only then). Files already present with the right hash are not fetched
    again. Returns the local paths.
    """
    import pooch  # imported here: only fetching needs it (a third-party package, not a course module)

    pooch.get_logger().setLevel("WARNING")  # one progress bar, not a line per file

    if entries is None:
        manifest = load_manifest() if manifest is None else manifest
        todo = manifest.entries()
    else:
        todo = list(entries)
    mirror = config.image_mirror()
    target = config.image_dir()
    paths = []
    for entry in progress(todo, desc="Fetching images", unit="file"):
        path = local_path(entry)
        if path.exists() and _sha256_file(path) == entry.sha256:
            paths.append(path)
            continue
        if mirror is None:
            url, downloader = entry.upstream_url, None
        else:
            url = _mirror_source(mirror, entry)
            downloader = None if "://" in url else _copy_from_folder
            if downloader is not None and not Path(url).exists():
                raise DownloadError(f"The mirror {mirror} has no {entry.path}. {_how_to_get_images()}")
        try:
            fetched = pooch.retrieve(
                url,
                known_hash=f"sha256:{entry.sha256}",
                fname=path.name,
                path=path.parent,
                downloader=downloader,
                progressbar=False,
            )
        except ValueError as err:  # pooch's hash mismatch: the temporary file is already deleted
            raise IntegrityError(
                f"{entry.path} from {url} does not match its manifest SHA-256, so it was refused and not "
                f"saved. The source may have changed; report it to the course maintainers. ({err})"
            ) from err
        except PermissionError as err:
            raise DownloadError(
                f"Cannot write to {target}: {err.strerror}. If the images are kept in a shared read-only "
                "folder, ask whoever set it up to fetch them there, or set FACECOURSE_IMAGE_DIR to a "
                "folder you can write to."
            ) from err
        except Exception as err:  # network errors come from requests, urllib3, socket...
            raise DownloadError(f"Could not download {entry.path} from {url}: {err}. {_how_to_get_images()}") from err
        paths.append(Path(fetched))
    return paths


def _sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (``hashlib.file_digest`` needs Python 3.11; the course supports 3.10)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(entry: ManifestEntry, *, manifest: Manifest | None = None, fetch_missing: bool = True) -> bytes:
    """The verified bytes of a manifest file, fetching it first if it is not here yet.

    Raises :class:`~facecourse.errors.ConsentRevokedError` if the person withdrew consent and
    :class:`~facecourse.errors.IntegrityError` if the bytes on disk do not match the manifest.
    """
    manifest = load_manifest() if manifest is None else manifest
    entry = manifest[entry.file_id]  # the consent check (and the manifest's own row, not the caller's)
    return read_verified(entry, fetch_missing=fetch_missing)


def read_verified(entry: ManifestEntry, *, fetch_missing: bool = True) -> bytes:
    """The bytes of ``entry``, fetched if missing and checked against its SHA-256; **no consent check**.

    For code that has just checked consent for this entry itself (``manifest[file_id]``, as
    :func:`read_bytes` does), so that the same image is not checked twice in one call.
    """
    path = local_path(entry)
    if not path.exists():
        if not fetch_missing:
            raise DownloadError(f"{path} is not here yet. Run facecourse.dataset.fetch() first.")
        fetch([entry])
    data = path.read_bytes()
    verify_bytes(entry, data, path)
    return data


def load_photo(entry: ManifestEntry, *, manifest: Manifest | None = None) -> np.ndarray:
    """A verified photo as a C-contiguous uint8 RGB array (EXIF orientation applied), consent checked."""
    manifest = load_manifest() if manifest is None else manifest
    return load_verified_photo(manifest[entry.file_id])  # the consent check


def load_verified_photo(entry: ManifestEntry) -> np.ndarray:
    """The photo of ``entry`` (verified bytes, decoded); **no consent check**: see :func:`read_verified`."""
    if entry.kind != "photo":
        raise ValueError(f"'{entry.file_id}' is a {entry.kind} file, not a photo.")
    return load_rgb(read_verified(entry), name=entry.path)


def verify_all(*, manifest: Manifest | None = None) -> list[str]:
    """Check every file in the image folder against the manifest; return one line per problem.

    Reports files whose hash is wrong, files that have no manifest entry, and files of people who
    withdrew consent. Missing files are not problems (they are fetched on first use).
    """
    manifest = load_manifest() if manifest is None else manifest
    root = config.image_dir()
    known = {e.path: e for e in manifest.entries(include_revoked=True)}
    problems: list[str] = []
    if not root.exists():
        return problems
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        entry = known.get(rel)
        if entry is None:
            problems.append(f"{path}: not in the manifest; the course will not use it (delete it)")
        elif entry.person_id in manifest.revoked_people:
            problems.append(f"{path}: {entry.person_id} withdrew consent; delete it "
                            f"(python -m facecourse withdraw {entry.person_id})")
        elif _sha256_file(path) != entry.sha256:
            problems.append(f"{path}: SHA-256 does not match the manifest; delete it and run fetch again")
    return problems
