"""A manifest in which everyone has withdrawn consent is still *the* manifest the caller gave.

``Manifest`` defines ``__len__``, so one whose people have all withdrawn is falsy. Every function
that takes ``manifest=`` must use it when it is given (``is None``, not ``or``), never silently
swap in the manifest on disk - that would use photos of people who withdrew.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from facecourse import audit, config, dataset, faceprints, landmarks, rights
from facecourse.errors import ConsentRevokedError, CourseError
from facecourse.manifest import Manifest, ManifestEntry, Revocation, load_manifest

PHOTO = "london-001-neutral"


@pytest.fixture
def withdrawn(isolated: Path) -> Manifest:
    """The real manifest's rows, with every person listed as having withdrawn consent."""
    disk = load_manifest()
    rows = [e for e in disk.entries(include_revoked=True) if e.person_id]  # the photos and their templates
    people = sorted({e.person_id for e in rows})
    manifest = Manifest(rows, [Revocation(p, "2026-12-01", "test: everyone withdrew") for p in people])
    assert len(manifest) == 0 and not manifest  # falsy: what `manifest or load_manifest()` got wrong
    return manifest


def _photo() -> ManifestEntry:
    return load_manifest()[PHOTO]  # the entry as the disk manifest (no withdrawals) gives it


CALLS = {
    "dataset.read_bytes": lambda m: dataset.read_bytes(_photo(), manifest=m),
    "dataset.load_photo": lambda m: dataset.load_photo(_photo(), manifest=m),
    "landmarks.load_template": lambda m: landmarks.load_template(_photo(), manifest=m),
    "landmarks.load_templates": lambda m: landmarks.load_templates([_photo()], manifest=m),
    "faceprints.encode_entry": lambda m: faceprints.encode_entry(_photo(), manifest=m),
    "faceprints.encode_entries": lambda m: faceprints.encode_entries([_photo()], workers=1, manifest=m),
    "faceprints.encode_variants": lambda m: faceprints.encode_variants([_photo()], [], workers=1, manifest=m),
    "rights.traces_of": lambda m: rights.traces_of("london-001", manifest=m),
    "rights.Sandbox": lambda m: rights.Sandbox([_photo()], manifest=m),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_an_all_withdrawn_manifest_is_used_not_replaced(withdrawn: Manifest, call: str) -> None:
    with pytest.raises((ConsentRevokedError, CourseError), match=r"withdrawn consent|may use"):
        CALLS[call](withdrawn)
    assert not list(config.cache_dir().rglob("*.npz"))  # nothing was encoded


def test_fetch_and_verify_with_an_all_withdrawn_manifest(withdrawn: Manifest) -> None:
    assert dataset.fetch(manifest=withdrawn) == []  # nobody may be fetched
    dataset.fetch([load_manifest()[PHOTO]])  # put one photo in the image folder (disk manifest)
    problems = dataset.verify_all(manifest=withdrawn)
    assert len(problems) == 1 and "withdrew consent" in problems[0]


def test_enrol_and_erase_with_an_all_withdrawn_manifest(withdrawn: Manifest) -> None:
    index = rights.FaceIndex.create("withdrawn", clock=audit.StepClock("2026-12-01T09:00:00Z"))
    with pytest.raises(ConsentRevokedError):
        index.enrol([PHOTO], manifest=withdrawn)
    assert len(index) == 0
    # erasing by person id still finds the person's photo hashes (include_revoked) in the given manifest
    report = rights.erase_subject(index, "london-001", reference="ERASE-1", manifest=withdrawn)
    assert report.removed == []
