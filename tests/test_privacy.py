"""Consent withdrawal reaches every copy the course wrote; a student's photos stay theirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecourse import config, dataset, faceprints, my_images, privacy, rights
from facecourse.degrade import Degradation
from facecourse.errors import ConsentRevokedError
from facecourse.manifest import load_manifest

PERSON = "london-003"


def leftovers(person_entries, fingerprints: list[bytes], roots: list[Path]) -> list[str]:
    """Every file under ``roots`` whose name or bytes still hold the person's data."""
    from facecourse.rights import find_residual_copies

    patterns = [e.sha256.encode() for e in person_entries] + fingerprints
    return [str(p) for p in find_residual_copies(patterns, roots)]


def person_fingerprints(records, photos: list[bytes]) -> list[bytes]:
    """Byte patterns that identify the person: faceprints (float64 and float32) and photos."""
    out = []
    for r in records:
        out += [r.encoding.astype(np.float64).tobytes(), r.encoding.astype(np.float32).tobytes()]
    return out + [p[1000:3000] for p in photos]  # a slice of each photo's bytes


@pytest.fixture
def course(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    revocations = isolated / "revocations.csv"
    revocations.write_text("person_id,date,note\n")
    monkeypatch.setattr(config, "revocations_path", lambda: revocations)
    return isolated


def build_derived_data(m) -> tuple[list, list[bytes]]:
    """Write what the lessons write: faceprints, degraded-copy faceprints, an aggregate index."""
    entries = [e for e in m.photos(["london_neutral", "london_smiling"]) if e.person_id in
               {PERSON, "london-001", "london-002", "london-004"}]
    encoded = faceprints.encode_entries(entries, workers=1)
    faceprints.encode_variants(entries[:2], [Degradation("blur", 4)], workers=1)
    assert not encoded.failures
    index = encoded.embeddings.astype(np.float32)
    privacy.write_derived(config.cache_dir() / "indexes" / "demo.npy", index.tobytes(), [e.sha256 for e in entries])
    mine = [e for e in entries if e.person_id == PERSON]
    records = [r for e, r in zip(encoded.entries, encoded.records, strict=True) if e.person_id == PERSON]
    return mine, person_fingerprints(records, [dataset.read_bytes(e, manifest=m) for e in mine])


def test_withdrawal_leaves_no_copy_of_the_person_anywhere(course: Path) -> None:
    m = load_manifest()
    mine, fingerprints = build_derived_data(m)
    roots = [config.cache_dir(), config.image_dir()]
    before = leftovers(mine, fingerprints, roots)
    assert len(before) >= 5  # the check sees the data while it is there

    report = rights.withdraw_consent(PERSON, note="test")

    assert leftovers(mine, fingerprints, roots) == []
    assert len(report.deleted) >= len(before)
    m = load_manifest()
    assert PERSON in m.revoked_people and all(e.person_id != PERSON for e in m.photos())
    with pytest.raises(ConsentRevokedError):
        faceprints.encode_entry(mine[0])
    with pytest.raises(ConsentRevokedError):
        dataset.read_bytes(mine[0])
    assert PERSON not in {e.person_id for e in m.photos("london_neutral")}  # what encode_set encodes
    # others are untouched
    assert faceprints.cache_path(m["london-001-neutral"].sha256).exists()


def test_the_check_catches_a_broken_purge(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If erasure forgot a file, the check above would fail: prove it by breaking the purge."""
    m = load_manifest()
    mine, fingerprints = build_derived_data(m)
    monkeypatch.setattr(privacy, "purge_images", lambda hashes: privacy.PurgeReport())
    rights.withdraw_consent(PERSON)
    remaining = leftovers(mine, fingerprints, [config.cache_dir()])
    assert any("faceprints" in p for p in remaining) and any("indexes" in p for p in remaining)


def test_withdrawing_an_unknown_person_is_explained(course: Path) -> None:
    with pytest.raises(Exception, match="No person 'nobody'"):
        rights.withdraw_consent("nobody")


def test_a_withdrawal_is_recorded_once_and_returns_every_photo_of_the_person(course: Path) -> None:
    first = privacy.record_withdrawal(PERSON, note="by email", when="2026-12-01")
    assert first and {e.person_id for e in first} == {PERSON}
    again = privacy.record_withdrawal(PERSON, note="again")  # already revoked: its rows still come back
    assert [e.file_id for e in again] == [e.file_id for e in first]
    assert config.revocations_path().read_text().splitlines() == ["person_id,date,note",
                                                                  f"{PERSON},2026-12-01,by email"]
    assert privacy.delete_photos([]) == []


def test_write_derived_refuses_files_outside_the_cache(course: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the course cache"):
        privacy.write_derived(tmp_path / "elsewhere.npy", b"x", ["abc"])


def test_my_images_stay_local_and_are_forgotten_on_request(course: Path, mirror: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A student's own photo: cached only under <cache>/my_images, deleted by one command."""
    folder = course / "my_images"
    folder.mkdir()
    monkeypatch.setenv("FACECOURSE_MY_IMAGES", str(folder))
    # stand-in for a student's own consenting photo: the CC0 photo of the set's author
    (folder / "me.jpg").write_bytes((mirror / "lisa" / "lisa1.jpg").read_bytes())
    assert [p.name for p in my_images.list_photos()] == ["me.jpg"]
    record = my_images.encode("me.jpg")
    assert record.acquired
    written = [p for p in config.cache_dir().rglob("*") if p.is_file()]
    assert written and all("my_images" in p.relative_to(config.cache_dir()).parts for p in written)
    message = privacy.forget_my_images()
    assert "Deleted 1 file" in message
    assert not any(p.is_file() for p in config.cache_dir().rglob("*"))
    assert (folder / "me.jpg").exists()  # the photo itself is the student's to delete
