"""Access, erasure, opt-out and the index's use of the audit log (facecourse.rights), on real faceprints.

The log itself (chain, verification, summary) is tested on hand-made records in tests/test_audit.py.

The people: London Set participants 001-004 (a neutral and a smiling photo each, same session)
and Lisa DeBruine (lisa1-lisa4, CC0). With the default parameters their faceprints are
(measured once, rounded): same person 0.13-0.32 apart, different people 0.64-0.93 apart, so
at the default threshold 0.6 a search finds exactly the person's own entries.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from conftest import ManifestCounter
from facecourse import audit, config, faceprints, privacy, rights
from facecourse.audit import StepClock
from facecourse.errors import ConsentRevokedError, CourseError, NotInManifestError
from facecourse.manifest import load_manifest
from facecourse.rights import FaceIndex

LONDON = [f"london-{i:03d}" for i in range(1, 5)]
FILES = [f"{p}-{k}" for p in LONDON for k in ("neutral", "smiling")] + [f"lisa-lisa{i}" for i in range(1, 5)]
START = "2026-11-26T09:00:00Z"


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """The faceprints of FILES, computed once for this module (each test gets a copy)."""
    folder = tmp_path_factory.mktemp("rights")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACECOURSE_IMAGE_MIRROR", str(mirror))
        mp.setenv("FACECOURSE_IMAGE_DIR", str(folder / "images"))
        mp.setenv("FACECOURSE_CACHE_DIR", str(folder / "cache"))
        m = load_manifest()
        encoded = faceprints.encode_entries([m[f] for f in FILES], workers=1)
        assert not encoded.failures
    return folder / "cache"


@pytest.fixture
def course(isolated: Path, warm_cache: Path, monkeypatch: pytest.MonkeyPatch):
    """A private cache holding the warm faceprints, and an empty consent-withdrawal list."""
    shutil.copytree(warm_cache, isolated / "cache")
    revocations = isolated / "revocations.csv"
    revocations.write_text("person_id,date,note\n")
    monkeypatch.setattr(config, "revocations_path", lambda: revocations)
    return load_manifest()


def fp(m, file_id: str) -> np.ndarray:
    encoding = faceprints.encode_entry(m[file_id]).encoding
    assert encoding is not None, f"no face found in {file_id}"
    return encoding


def new_index(m, people=LONDON, kind="neutral", **kw) -> FaceIndex:
    index = FaceIndex.create("test", clock=StepClock(START, timedelta(minutes=1)), seed=0, **kw)
    index.enrol([m[f"{p}-{kind}"] for p in people])
    return index


def residues(traces: rights.Traces) -> list[str]:
    return [p.relative_to(config.cache_dir()).as_posix()
            for p in rights.find_residual_copies(traces.patterns(), [config.cache_dir()])]


def test_doctests() -> None:
    result = doctest.testmod(rights)
    assert result.attempted > 0 and result.failed == 0  # attempted: a module without examples passes too


# --------------------------------------------------------------------------- enrolment


def test_enrolment_records_provenance_from_the_manifest(course) -> None:
    m = course
    index = new_index(m)
    assert len(index) == 4
    first = index.entries[0]
    entry = m["london-001-neutral"]
    assert (first.entry_id, first.person_id, first.sha256) == (entry.file_id, entry.person_id, entry.sha256)
    assert first.source_url == entry.upstream_url and first.source_url.startswith("https://")
    assert (first.licence, first.attribution, first.consent_basis) == (entry.licence, entry.attribution,
                                                                        entry.consent_basis)
    # clock: create() reads 09:00, enrol() reads 09:01 for the collection date
    assert {p.collected for p in index.entries} == {"2026-11-26T09:01:00Z"}
    again = index.enrol([m["london-001-neutral"], m["london-001-smiling"]])
    assert again.already_enrolled == ["london-001-neutral"] and again.enrolled == ["london-001-smiling"]


def test_enrol_access_and_sandbox_read_the_manifest_once_and_check_each_photo_once(
        course, monkeypatch: pytest.MonkeyPatch, manifest_counter: ManifestCounter) -> None:
    """Before: ``enrol`` checked every photo twice (its own check, which refuses a whole batch before
    computing anything, then again in ``faceprints.encode_entries``); now the encoder takes its word."""
    m = course
    index = FaceIndex.create("test", clock=StepClock(START, timedelta(minutes=1)), seed=0)
    photos = [m[f"{p}-neutral"] for p in LONDON]
    ids = sorted(e.file_id for e in photos)
    probe = m["london-001-smiling"]
    made, checked = manifest_counter.reads, manifest_counter.checked
    for call, reads, expected in (
        (lambda: index.enrol(photos), 1, ids),
        (lambda: index.enrol([e.file_id for e in photos], manifest=m), 0, ids),  # all already enrolled
        (lambda: rights.subject_access_report(index, probe, reference="SAR-1"), 1, [probe.file_id]),
        (lambda: rights.Sandbox(photos).close(), 1, ids),
    ):
        made.clear()
        checked.clear()
        call()
        assert len(made) == reads, f"the manifest was read {len(made)} times in one call"
        assert sorted(checked) == expected
    assert len(index) == len(photos)


def test_enrolment_refuses_photos_not_in_the_manifest(course) -> None:
    m = course
    index = FaceIndex.create("test", clock=StepClock(START))
    with pytest.raises(NotInManifestError, match="not in the manifest"):
        index.enrol(["scraped-photo-123"])
    forged = dataclasses.replace(m["london-001-neutral"], sha256="0" * 64)
    with pytest.raises(NotInManifestError, match="differs from its manifest row"):
        index.enrol([m["london-002-neutral"], forged])
    assert len(index) == 0 and audit.read_audit_log(index) == []  # the whole batch was refused


def test_enrolment_refuses_people_who_withdrew_consent(course) -> None:
    m = course
    config.revocations_path().write_text("person_id,date,note\nlondon-002,2026-11-01,test\n")
    index = FaceIndex.create("test", clock=StepClock(START))
    with pytest.raises(ConsentRevokedError, match="withdrawn consent"):
        index.enrol([m["london-001-neutral"], m["london-002-neutral"]])
    assert len(index) == 0


# --------------------------------------------------------------------------- search and access


def test_search_needs_who_and_why_and_a_faceprint(course) -> None:
    index = new_index(course)
    probe = fp(course, "london-001-smiling")
    with pytest.raises(ValueError, match="who searches"):
        index.search(probe, user="", purpose="CASE-2026-1")
    with pytest.raises(ValueError, match="a case reference"):
        index.search(probe, user="pd/a", purpose="  ")
    with pytest.raises(ValueError, match="128-number faceprint"):
        index.search(probe[:64], user="pd/a", purpose="CASE-2026-1")
    found = index.search(probe, user="pd/a", purpose="CASE-2026-1")
    assert [x.provenance.entry_id for x in found] == ["london-001-neutral"]
    assert found[0].rank == 1 and found[0].distance == pytest.approx(0.27, abs=0.01)


def test_access_report_lists_exactly_the_persons_entries(course) -> None:
    m = course
    index = new_index(m, people=LONDON[:3])
    index.enrol([m[f"lisa-lisa{i}"] for i in (1, 2, 3)])
    index.search(fp(m, "london-003-smiling"), user="city-police/officer-7", purpose="CASE-2026-0042")
    index.search(fp(m, "london-001-smiling"), user="retailer/guard-2", purpose="CASE-2026-0043")

    report = rights.subject_access_report(index, m["london-003-smiling"], reference="SAR-1")
    assert [x.provenance.entry_id for x in report.matches] == ["london-003-neutral"]
    assert report.matches[0].provenance.source_url == m["london-003-neutral"].upstream_url
    shown = report.disclosures["london-003-neutral"]
    # clock readings: create 09:00; enrol 09:01 (collected) + 09:02 (log); enrol 09:03 + 09:04; search 09:05
    assert shown == [{"time": "2026-11-26T09:05:00Z", "recipient": "city-police", "purpose": "CASE-2026-0042"}]
    assert report.recipients() == ["city-police"]  # the organisation, not the officer (CJEU C-579/21)
    as_dict = report.as_dict()
    assert as_dict["confirmation"] is True and len(as_dict["entries"][0]["faceprint"]) == 128
    assert as_dict["entries"][0]["kept_until"] == "2027-11-26"  # 365 days after 2026-11-26
    text = str(report)
    assert m["london-003-neutral"].upstream_url in text and "officer-7" not in text
    assert "§§1798.110, 1798.115" in text
    assert "1798.100" not in text  # renumbered by the CPRA (2023-01-01): §1798.100 is no longer the right to know

    lisa = rights.subject_access_report(index, m["lisa-lisa4"], reference="SAR-2")
    assert sorted(x.provenance.entry_id for x in lisa.matches) == ["lisa-lisa1", "lisa-lisa2", "lisa-lisa3"]
    nobody = rights.subject_access_report(index, m["london-004-smiling"], reference="SAR-3")
    assert nobody.matches == [] and nobody.as_dict()["confirmation"] is False
    kinds = [r["kind"] for r in audit.read_audit_log(index)]
    assert kinds.count("access_request") == 3  # answering is itself a search, and is logged


def test_the_audit_log_holds_no_faceprint_no_id_and_no_photo_hash(course) -> None:
    m = course
    index = new_index(m)
    probe = fp(m, "london-003-smiling")
    index.search(probe, user="pd/a", purpose="CASE-2026-1")
    rights.subject_access_report(index, probe, reference="SAR-1")
    log = index.log.path.read_bytes() + index.log.head_path.read_bytes()
    traces = rights.traces_of("london-003")
    assert not any(p in log for p in traces.patterns())
    assert probe.tobytes() not in log and probe.astype(np.float32).tobytes() not in log
    assert b"london-" not in log


# --------------------------------------------------------------------------- erasure


def build_and_use(m) -> tuple[FaceIndex, rights.Traces, np.ndarray]:
    """An index of four people; london-003 searched for and saved in a case file."""
    index = new_index(m)
    traces = rights.traces_of("london-003")  # before erasure: it reads the cached faceprints
    new_photo = traces.faceprints[list(traces.ids).index("london-003-smiling")]
    found = index.search(new_photo, user="pd/a", purpose="CASE-2026-1")
    index.save_results(found, "case-2026-1")
    return index, traces, new_photo


def test_erasure_leaves_no_trace_and_a_new_photo_finds_nothing(course) -> None:
    m = course
    index, traces, new_photo = build_and_use(m)
    before = residues(traces)
    # 2 cached faceprints, gallery.npy, entries.json (+ its .sources), the case file (+ its .sources)
    assert any(p.startswith("faceprints/") for p in before) and "indexes/test/gallery.npy" in before
    assert "indexes/test/results/case-2026-1.json" in before and len(before) >= 7
    assert audit.verify_audit_log(index).ok

    in_memory = index._faceprints  # the array the index held before erasure
    row = [p.person_id for p in index.entries].index("london-003")
    report = rights.erase_subject(index, "london-003", reference="ERASE-1")

    assert [p.entry_id for p in report.removed] == ["london-003-neutral"]
    assert not in_memory[row].any()  # zeroed before the array was compacted
    check = rights.verify_erasure(index, new_photo, traces, reference="ERASE-1")
    assert check.ok and check.matches == () and check.residues == ()
    assert len(check.scanned) >= 8 and residues(traces) == []
    assert audit.verify_audit_log(index).ok  # the chain still verifies after erasure
    reloaded = FaceIndex.load("test")
    assert [p.person_id for p in reloaded.entries] == ["london-001", "london-002", "london-004"]
    assert [x.provenance.entry_id for x in reloaded.search(fp(m, "london-001-smiling"), user="pd/a",
                                                           purpose="CASE-2026-2")] == ["london-001-neutral"]
    assert faceprints.cache_path(m["london-001-neutral"].sha256).exists()  # others untouched


def break_steps(monkeypatch: pytest.MonkeyPatch, steps: set[str]) -> None:
    if "purge" in steps:
        monkeypatch.setattr(privacy, "purge_images", lambda hashes: privacy.PurgeReport())
    if "rewrite" in steps:
        monkeypatch.setattr(FaceIndex, "save", lambda self: [])


@pytest.mark.parametrize("broken", [{"purge"}, {"purge", "rewrite"}])
def test_the_check_catches_a_broken_erasure(course, monkeypatch: pytest.MonkeyPatch, broken: set[str]) -> None:
    """If erasure forgot a file, verify_erasure would say so: prove it by breaking the steps."""
    m = course
    index, traces, new_photo = build_and_use(m)
    break_steps(monkeypatch, broken)
    rights.erase_subject(index, "london-003", reference="ERASE-1")
    check = rights.verify_erasure(index, new_photo, traces, reference="ERASE-1")
    assert not check.ok and "NOT verified" in str(check)
    assert any(p.startswith("faceprints/") for p in check.residues)
    assert "indexes/test/results/case-2026-1.json" in check.residues
    assert ("indexes/test/gallery.npy" in check.residues) == ("rewrite" in broken)


def test_a_stale_index_file_is_still_caught_by_its_sidecar(course, monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth: if the index were not rewritten, the purge deletes its stale files,
    because their .sources sidecar still lists the person's photo (the index is lost, not leaked)."""
    index, traces, new_photo = build_and_use(course)
    break_steps(monkeypatch, {"rewrite"})
    rights.erase_subject(index, "london-003", reference="ERASE-1")
    assert rights.verify_erasure(index, new_photo, traces, reference="ERASE-1").ok
    assert not (index.folder / "gallery.npy").exists()


def test_erasure_by_photo_removes_what_the_photo_matches(course) -> None:
    m = course
    index = new_index(m)
    report = rights.erase_subject(index, fp(m, "london-002-smiling"), reference="ERASE-2")
    assert [p.entry_id for p in report.removed] == ["london-002-neutral"]
    assert not faceprints.cache_path(m["london-002-neutral"].sha256).exists()
    assert [p.person_id for p in index.entries] == ["london-001", "london-003", "london-004"]


def test_erased_entries_can_no_longer_be_linked_from_the_log(course) -> None:
    m = course
    index, _, _ = build_and_use(m)
    token = audit.read_audit_log(index)[1]["results"][0]  # line 0 is the enrolment
    assert token in (index.folder / "entries.json").read_text()
    rights.erase_subject(index, "london-003", reference="ERASE-1")
    log = audit.read_audit_log(index)
    assert log[1]["results"] == [token]  # the old line is unchanged (the chain verifies) ...
    assert log[-1]["kind"] == "erasure" and log[-1]["erased"] == [token] and log[-1]["n_removed"] == 1
    # ... but nothing maps the pseudonym to anyone any more
    assert not any(token.encode() in p.read_bytes() for p in index.folder.rglob("*")
                   if p.is_file() and p.name != "audit.jsonl")


def test_withdrawing_consent_deletes_the_index_files_too(course) -> None:
    """The course's general erasure finds the index through its .sources sidecars."""
    _, traces, _ = build_and_use(course)
    rights.withdraw_consent("london-003", note="test")
    assert residues(traces) == []
    with pytest.raises(CourseError, match="consent withdrawal"):
        FaceIndex.load("test")


def test_retention_limit_erases_old_entries(course) -> None:
    m = course
    clock = StepClock(START, timedelta(minutes=1))
    index = FaceIndex.create("test", clock=clock, retention_days=30)
    index.enrol([m["london-001-neutral"]])
    assert index.apply_retention().removed == []
    clock.advance(timedelta(days=31))
    index.enrol([m["london-002-neutral"]])
    report = index.apply_retention()
    assert [p.entry_id for p in report.removed] == ["london-001-neutral"]
    assert not faceprints.cache_path(m["london-001-neutral"].sha256).exists()


# --------------------------------------------------------------------------- audit log


def test_the_index_logs_every_search_and_refuses_to_append_to_a_broken_log(course) -> None:
    m = course
    index = new_index(m)
    for i, person in enumerate(LONDON):
        index.search(fp(m, f"{person}-smiling"), user=f"pd/officer-{i}", purpose=f"CASE-2026-{i}")
    good = audit.verify_audit_log(index)
    assert good.ok and good.lines == 5 and good.head == index.log.head()
    # the index refuses to append to a log that no longer matches its head
    lines = index.log.path.read_text().splitlines(keepends=True)
    index.log.path.write_text("".join(lines[:-1]))
    with pytest.raises(audit.AuditLogError, match="edited or truncated"):
        index.search(fp(m, "london-001-smiling"), user="pd/a", purpose="CASE-2026-9")


# --------------------------------------------------------------------------- opt-out


def test_opt_out_blocks_re_enrolment_of_another_photo(course) -> None:
    m = course
    index, traces, new_photo = build_and_use(m)
    rights.erase_subject(index, "london-003", reference="ERASE-1")
    neutral = traces.faceprints[list(traces.ids).index("london-003-neutral")]
    token = index.opt_out(neutral, reference="OPTOUT-1")

    report = index.enrol([m["london-003-smiling"], m["london-003-neutral"], m["lisa-lisa1"]])

    assert report.enrolled == ["lisa-lisa1"]
    assert [e for e, _ in report.blocked_by_opt_out] == ["london-003-smiling", "london-003-neutral"]
    assert report.blocked_by_opt_out[1][1] == pytest.approx(0.0, abs=1e-6)
    # screening computed their faceprints; they were deleted again ...
    assert not faceprints.cache_path(m["london-003-smiling"].sha256).exists()
    # ... but the opt-out list itself holds the face: the paradox
    check = rights.verify_erasure(index, new_photo, traces, reference="ERASE-1", allowed=[index.optout_path])
    assert check.ok and check.kept == ("indexes/test/optout.npz",)
    assert rights.verify_erasure(index, new_photo, traces, reference="ERASE-1").residues == check.kept
    assert json.loads(json.dumps(index.opt_outs))[0]["reference"] == "OPTOUT-1"
    # a hash list would not have blocked the new photo: its SHA-256 differs from the opted-out one
    assert m["london-003-smiling"].sha256 != m["london-003-neutral"].sha256
    index.remove_opt_out(token)
    assert not index.optout_path.exists()
    assert index.enrol([m["london-003-smiling"]]).enrolled == ["london-003-smiling"]


# --------------------------------------------------------------------------- files and lifecycle


def test_index_round_trip_and_clear_errors(course) -> None:
    m = course
    index = new_index(m)
    probe = fp(m, "london-004-smiling")
    reloaded = FaceIndex.load("test", seed=0)
    assert reloaded.entries == index.entries
    assert [x.as_dict() for x in reloaded.search(probe, user="a/b", purpose="CASE-2026-1")] == \
           [x.as_dict() for x in index.search(probe, user="a/b", purpose="CASE-2026-1")]
    reloaded.enrol([m["london-004-smiling"]])
    tokens = [r["token"] for r in json.loads((index.folder / "entries.json").read_text())]
    assert len(set(tokens)) == len(tokens) == 5  # a reloaded seeded index never repeats a pseudonym
    with pytest.raises(CourseError, match="already exists"):
        FaceIndex.create("test")
    with pytest.raises(ValueError, match="lower-case letters"):
        FaceIndex.create("../escape")
    with pytest.raises(CourseError, match="No index called 'other'"):
        FaceIndex.load("other")


def test_find_residual_copies_on_hand_made_files(tmp_path: Path) -> None:
    face = np.array([0.25, -0.5, 0.125])
    (tmp_path / "sub").mkdir()
    (tmp_path / "f64.bin").write_bytes(b"head" + face.tobytes() + b"tail")
    (tmp_path / "sub" / "f32.npy").write_bytes(b"x" + face.astype(np.float32).tobytes())
    (tmp_path / "abc123.npz").write_bytes(b"named after the photo hash")
    (tmp_path / "half.bin").write_bytes(face[:2].tobytes())  # only part of the faceprint: not a copy
    (tmp_path / "other.bin").write_bytes(np.array([0.25, -0.5, 0.126]).tobytes())
    patterns = [face.tobytes(), face.astype(np.float32).tobytes(), b"abc123"]
    found = rights.find_residual_copies(patterns, [tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["abc123.npz", "f64.bin", "sub/f32.npy"]


# --------------------------------------------------------------------------- bad input loses nothing


def _snapshot(index: FaceIndex) -> tuple[dict[str, bytes], int, int, int, int]:
    """Every file of the index (bytes), and the sizes of its in-memory state."""
    files = {p.relative_to(index.folder).as_posix(): p.read_bytes()
             for p in sorted(index.folder.rglob("*")) if p.is_file()}
    return files, len(index), len(index._faceprints), len(index._optout), len(index.opt_outs)


@pytest.mark.parametrize("bad", [{"reference": ""}, {"reference": "   "}, {"reference": "OPTOUT-1", "user": ""},
                                 {"reference": "OPTOUT-1", "user": None}])
def test_opt_out_with_bad_input_changes_nothing(course, bad) -> None:
    index = new_index(course)
    before = _snapshot(index)
    with pytest.raises(ValueError, match="non-empty string"):
        index.opt_out(fp(course, "london-001-smiling"), **bad)
    assert _snapshot(index) == before  # memory, files on disk and audit log all unchanged
    # the faceprint list and its records still line up: a later opt-out and its removal work
    token = index.opt_out(fp(course, "london-001-smiling"), reference="OPTOUT-2")
    index.remove_opt_out(token)
    assert index.opt_outs == []


@pytest.mark.parametrize("user", ["", "  ", None])
def test_enrol_with_bad_user_changes_nothing(course, user) -> None:
    m = course
    index = new_index(m, people=LONDON[:2])
    before = _snapshot(index)
    with pytest.raises(ValueError, match="who enrols"):
        index.enrol([m["london-003-neutral"]], user=user)
    assert _snapshot(index) == before


def test_erasure_and_opt_out_removal_without_a_user_change_nothing(course) -> None:
    index = new_index(course)
    token = index.opt_out(fp(course, "london-001-smiling"), reference="OPTOUT-1")
    before = _snapshot(index)
    with pytest.raises(ValueError, match="who erases"):
        rights.erase_subject(index, "london-002", reference="ERASE-1", user="")
    with pytest.raises(ValueError, match="who removes"):
        index.remove_opt_out(token, user=" ")
    assert _snapshot(index) == before


def test_a_probe_photo_with_two_faces_is_refused_not_cut_to_the_largest(course) -> None:
    """An image array carries no manifest promise of one consenting person: refuse two faces."""
    from PIL import Image

    from facecourse.dataset import load_photo
    from facecourse.errors import MultipleFacesError

    m = course
    index = new_index(m)
    left = load_photo(m["lisa-lisa1"])
    right = Image.fromarray(load_photo(m["london-001-neutral"])).resize((left.shape[0], left.shape[0]))
    two = np.ascontiguousarray(np.concatenate([left, np.asarray(right)], axis=1))
    before = _snapshot(index)
    with pytest.raises(MultipleFacesError, match="have not agreed"):
        index.search(two, user="pd/a", purpose="CASE-2026-1")
    with pytest.raises(MultipleFacesError, match="have not agreed"):
        rights.subject_access_report(index, two, reference="SAR-1")
    assert _snapshot(index) == before  # nothing searched, nothing logged
    assert [x.provenance.entry_id for x in index.search(left, user="pd/a", purpose="CASE-2026-1")] == []
