"""The manifest: every image the course may use, with provenance, licence and consent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from facecourse import config
from facecourse.errors import ConsentRevokedError, IntegrityError, ManifestError, NotInManifestError
from facecourse.manifest import MANIFEST_COLUMNS, UPSTREAM_COMMIT, load_manifest, verify_bytes


def rows_of(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_committed_manifest_lists_the_expected_sets() -> None:
    m = load_manifest()
    assert len(m.photos("london_neutral")) == 102
    assert len(m.photos("london_smiling")) == 102
    assert len(m.photos("composite")) == 10
    assert len(m.photos(["lisa", "zoom"])) == 8
    assert len(m.entries()) == 343  # photos + WebMorph templates + london_info.csv
    assert {e.licence for e in m} == {"CC-BY-4.0", "CC0-1.0"}
    assert all(e.consent_basis and e.attribution for e in m)
    assert all(UPSTREAM_COMMIT in e.upstream_url for e in m)


def test_manifest_carries_self_reported_demographics() -> None:
    m = load_manifest()
    london = m.photos("london_neutral")
    assert all(e.gender in {"female", "male"} for e in london)
    assert {e.ethnicity for e in london} >= {"white", "black", "east_asian", "west_asian"}
    assert sum(e.age is None for e in london) == 2  # two participants did not report an age
    assert m["london-001-neutral"].age == 24


def test_manifest_matches_the_mirror_checksums(mirror: Path) -> None:
    """The manifest and the published files agree, file by file."""
    if not (mirror / "SHA256SUMS").exists():
        pytest.skip("no published SHA256SUMS here (not the offline mirror); fetch() verified every file instead")
    published = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        published[name.removeprefix("./")] = digest
    m = load_manifest()
    for entry in m.entries(include_revoked=True):
        assert published[entry.path] == entry.sha256, entry.path
    # and nothing from the sets the course must not use sneaks in
    assert not [e for e in m.entries() if e.path.split("/")[0] in {"canada", "rainbow", "3dsk"}]


@pytest.mark.parametrize("column", ["licence", "consent_basis", "attribution", "sha256"])
def test_row_without_required_field_is_rejected(tmp_path: Path, column: str) -> None:
    rows = rows_of(config.manifest_path())[:5]
    rows[3][column] = ""
    path = write_manifest(tmp_path / "manifest.csv", rows)
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    message = str(err.value)
    assert "line 5" in message and column in message and rows[3]["file_id"] in message


def test_unknown_licence_and_bad_hash_are_rejected(tmp_path: Path) -> None:
    rows = rows_of(config.manifest_path())[:3]
    rows[1]["licence"] = "All rights reserved"
    with pytest.raises(ManifestError, match="does not accept"):
        load_manifest(write_manifest(tmp_path / "a.csv", rows))
    rows = rows_of(config.manifest_path())[:3]
    rows[2]["sha256"] = "abc"
    with pytest.raises(ManifestError, match="malformed sha256"):
        load_manifest(write_manifest(tmp_path / "b.csv", rows))
    rows = rows_of(config.manifest_path())[:3]
    rows[2]["file_id"] = rows[0]["file_id"]
    with pytest.raises(ManifestError, match="duplicate file_id"):
        load_manifest(write_manifest(tmp_path / "c.csv", rows))
    rows = rows_of(config.manifest_path())[:3]
    rows[0]["path"] = "../../etc/passwd"
    with pytest.raises(ManifestError, match="unsafe path"):
        load_manifest(write_manifest(tmp_path / "d.csv", rows))


def test_unknown_file_is_refused_with_advice() -> None:
    m = load_manifest()
    with pytest.raises(NotInManifestError, match="my_images"):
        m["someone-from-the-internet"]
    with pytest.raises(NotInManifestError, match=r"selfie\.jpg.*not in the manifest"):
        m.entry_for_bytes(b"\xff\xd8\xff not one of ours", name="selfie.jpg")


def test_wrong_hash_is_refused(mirror: Path) -> None:
    m = load_manifest()
    entry = m["london-001-neutral"]
    good = (mirror / entry.path).read_bytes()
    verify_bytes(entry, good, "ok.jpg")  # no error
    with pytest.raises(IntegrityError, match="does not match its manifest entry 'london-001-neutral'"):
        verify_bytes(entry, good[:-1] + b"\x00", "tampered.jpg")


def test_withdrawn_consent_hides_the_person(tmp_path: Path) -> None:
    revocations = tmp_path / "revocations.csv"
    revocations.write_text("# test\nperson_id,date,note\nlondon-007,2026-11-26,asked by email\n")
    m = load_manifest(revocations=revocations)
    assert "london-007" in m.revoked_people
    assert all(e.person_id != "london-007" for e in m.photos())
    assert len(m.photos("london_neutral")) == 101
    with pytest.raises(ConsentRevokedError, match="withdrawn consent"):
        m["london-007-neutral"]
    entry = m.entries(include_revoked=True)
    assert any(e.person_id == "london-007" for e in entry)  # still known, never served


def test_committed_revocation_list_is_valid() -> None:
    m = load_manifest()
    for r in m.revocations:
        assert any(e.person_id == r.person_id for e in m.entries(include_revoked=True)), r
