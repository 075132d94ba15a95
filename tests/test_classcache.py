"""The class cache: read before computing, verified by its hash index, reached by consent withdrawal.

Each test builds a small class cache (a few photos and one degraded copy) from the real photos,
then plays a student whose own cache is empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import ManifestCounter
from facecourse import classcache, classcache_build, config, faceprints, rights
from facecourse.__main__ import main
from facecourse.classcache import ClassCacheWarning
from facecourse.classcache_build import Job
from facecourse.degrade import Degradation
from facecourse.errors import ConsentRevokedError
from facecourse.faceprints import DEFAULT_PARAMS, EncodingParams
from facecourse.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
PERSON = "london-003"
BLUR = Degradation("blur", 4)


@pytest.fixture
def course(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private image folder, an empty student cache and a private list of withdrawals."""
    revocations = isolated / "revocations.csv"
    revocations.write_text("person_id,date,note\n")
    monkeypatch.setattr(config, "revocations_path", lambda: revocations)
    monkeypatch.delenv("FACECOURSE_CLASS_CACHE", raising=False)
    classcache._WARNED.clear()
    return isolated


def small_jobs() -> list[Job]:
    m = load_manifest()
    people = {PERSON, "london-001", "london-002"}
    photos = tuple(e for e in m.photos(["london_neutral", "london_smiling"]) if e.person_id in people)
    return [Job("photos", "test", photos, DEFAULT_PARAMS),
            Job("blurred", "test", photos[:2], DEFAULT_PARAMS, (BLUR,))]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """One class cache built by the 'instructor' for the whole module (each test gets a copy)."""
    folder = tmp_path_factory.mktemp("class") / "class-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACECOURSE_IMAGE_MIRROR", str(mirror))
        mp.setenv("FACECOURSE_IMAGE_DIR", str(folder.parent / "images"))
        mp.delenv("FACECOURSE_CLASS_CACHE", raising=False)
        jobs = small_jobs()
        index = classcache_build.build(folder, jobs=jobs, workers=1)
    assert len(index["files"]) == sum(j.files for j in jobs) == 8  # 6 photos, 2 blurred copies
    return folder


@pytest.fixture
def class_cache(course: Path, built: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Job]]:
    """A copy of the class cache, offered to the 'student' through FACECOURSE_CLASS_CACHE."""
    folder = course / "class-cache"
    shutil.copytree(built, folder)
    monkeypatch.setenv("FACECOURSE_CLASS_CACHE", str(folder))
    return folder, small_jobs()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every faceprint the student's kernel computes itself (by name)."""
    calls: list[str] = []
    real = faceprints.encode_array

    def spy(image, *, params=DEFAULT_PARAMS, **kw):
        calls.append(kw.get("name", "?"))
        return real(image, params=params, **kw)

    monkeypatch.setattr(faceprints, "encode_array", spy)
    return calls


def student_files() -> list[Path]:
    return sorted(p for p in config.cache_dir().rglob("*.npz")) if config.cache_dir().exists() else []


def class_state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def tamper(path: Path, **changes: np.ndarray) -> None:
    """Rewrite a cache file as a valid .npz with some arrays replaced (what a forger would do)."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    os.chmod(path, 0o644)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def test_students_read_the_class_cache_and_write_only_their_own(class_cache, computed) -> None:
    folder, jobs = class_cache
    before = class_state(folder)
    with _no_class_cache_warnings():
        got = faceprints.encode_entries(jobs[0].entries, workers=1)
        blurred = faceprints.encode_variants(jobs[1].entries, [BLUR], workers=1)
    assert computed == []  # nothing computed: every faceprint came from the class cache
    assert student_files() == []  # and nothing copied into the student's cache
    assert class_state(folder) == before  # the class cache is only read
    for entry, record in zip(got.entries, got.records, strict=True):
        with np.load(folder / faceprints.cache_relpath(entry.sha256)) as z:
            assert record.encoding is not None, f"{entry.file_id}: no faceprint ({record.error})"
            assert np.array_equal(record.encoding, z["encoding"])  # the same stored bytes, not recomputed
    assert len(blurred[BLUR.variant].records) == 2
    # the build made every file read-only for everyone
    assert all(not (p.stat().st_mode & 0o222) for p in folder.rglob("*") if p.is_file())


def test_the_class_cache_checks_consent_against_the_callers_manifest(class_cache, computed,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    manifest_counter: ManifestCounter) -> None:
    """Before: with a class cache set, its consent check read the manifest itself (a second read per
    call chain, until the files changed); now it uses the manifest the encoder was given."""
    folder, jobs = class_cache
    before = class_state(folder)
    made, checked = manifest_counter.reads, manifest_counter.checked
    photos, blurred = jobs[0].entries, jobs[1].entries
    for call, expected in (
        (lambda: faceprints.encode_entries(photos, workers=1), photos),
        (lambda: faceprints.encode_variants(blurred, [BLUR], workers=1), blurred),
        (lambda: faceprints.encode_entry(photos[0]), photos[:1]),
    ):
        monkeypatch.setattr(classcache, "_CONSENT", {})  # no answer kept from an earlier read
        made.clear()
        checked.clear()
        with _no_class_cache_warnings():
            call()
        assert len(made) == 1, f"the manifest was read {len(made)} times in one call"
        assert sorted(checked) == sorted(e.file_id for e in expected)
    assert computed == []  # every faceprint still came from the class cache
    assert student_files() == []
    assert class_state(folder) == before


def test_a_tampered_file_is_ignored_with_a_warning_and_recomputed(class_cache, computed) -> None:
    folder, jobs = class_cache
    victim = jobs[0].entries[0]
    path = folder / faceprints.cache_relpath(victim.sha256)
    with np.load(path) as z:
        honest = z["encoding"].copy()
    other = folder / faceprints.cache_relpath(jobs[0].entries[-1].sha256)
    with np.load(other) as z:
        forged = z["encoding"].copy()  # someone else's faceprint: a plausible forgery
    tamper(path, encoding=forged)

    with pytest.warns(ClassCacheWarning, match="does not match the SHA-256"):
        record = faceprints.encode_entry(victim)
    assert computed == [victim.path]  # recomputed locally, only this one
    assert record.encoding is not None, f"{victim.file_id}: no faceprint ({record.error})"
    assert not np.array_equal(record.encoding, forged)
    assert np.allclose(record.encoding, honest, atol=1e-6)  # same photo, same computation (tolerance: other process)
    assert faceprints.cache_path(victim.sha256).exists()  # into the student's own cache
    assert main(["check-class-cache", str(folder)]) == 1  # the instructor's check finds it too


def test_a_file_missing_from_the_index_is_ignored(class_cache, computed) -> None:
    folder, jobs = class_cache
    victim = jobs[0].entries[1]
    index_path = folder / classcache.INDEX_NAME
    data = json.loads(index_path.read_text())
    del data["files"][faceprints.cache_relpath(victim.sha256)]
    os.chmod(index_path, 0o644)
    index_path.write_text(json.dumps(data))
    with pytest.warns(ClassCacheWarning, match="not in its hash index"):
        faceprints.encode_entry(victim)
    assert computed == [victim.path]


def test_a_stale_class_cache_is_ignored_with_a_warning(class_cache, computed, monkeypatch) -> None:
    """Built with another dlib: every key differs, nothing is used, the kernel says why."""
    import dlib

    folder, jobs = class_cache
    version = dlib.__version__
    monkeypatch.setattr(dlib, "__version__", version + "-other")
    assert DEFAULT_PARAMS.key() not in json.loads((folder / classcache.INDEX_NAME).read_text())["keys"]
    with pytest.warns(ClassCacheWarning, match="stale"):
        faceprints.encode_entries(jobs[0].entries[:2], workers=1)
    assert len(computed) == 2
    # parameters the class cache was never built for are a quiet miss (no warning): just computed
    classcache._WARNED.clear()
    monkeypatch.setattr(dlib, "__version__", version)
    with _no_class_cache_warnings():
        faceprints.encode_entry(jobs[0].entries[0], params=EncodingParams(upsample=1))


def _served(entry) -> bytes | None:
    """The bytes the class cache serves for a photo's default faceprint, or None (refused or missing)."""
    return classcache.lookup(faceprints.cache_relpath(entry.sha256), entry.sha256, params=DEFAULT_PARAMS,
                             load=lambda f: f.read())


def test_students_refuse_a_withdrawn_persons_files_from_a_stale_class_cache(class_cache, computed) -> None:
    """The class cache still holds the person (not purged), but the student's copy knows of the withdrawal."""
    folder, jobs = class_cache
    theirs = [e for e in jobs[0].entries if e.person_id == PERSON]
    assert theirs
    with config.revocations_path().open("a") as fh:
        fh.write(f"{PERSON},2026-12-07,test\n")
    assert all((folder / faceprints.cache_relpath(e.sha256)).exists() for e in theirs)  # stale: still there

    with pytest.warns(ClassCacheWarning, match="withdrew consent"):
        assert _served(theirs[0]) is None
    with pytest.raises(ConsentRevokedError):
        faceprints.encode_entry(theirs[0])
    # encode_set encodes manifest.photos(...), which leaves the person out:
    assert PERSON not in {e.person_id for e in load_manifest().photos("london_neutral")}
    assert computed == []


def test_withdrawal_purges_the_class_cache_when_writable(class_cache, computed) -> None:
    folder, jobs = class_cache
    theirs = {e.sha256 for e in jobs[0].entries if e.person_id == PERSON}
    report = rights.withdraw_consent(PERSON, note="test")

    assert not any(h in p.name for p in folder.rglob("*.npz") for h in theirs)
    assert any("class cache" in n for n in report.notes)
    index = json.loads((folder / classcache.INDEX_NAME).read_text())
    assert PERSON in index["withdrawn"]
    assert all(info["person_id"] != PERSON for info in index["files"].values())
    assert classcache.status(folder)["bad"] == []  # what is left still verifies
    # a student whose own copy of revocations.csv is older still refuses: the index records the withdrawal
    config.revocations_path().write_text("person_id,date,note\n")
    entry = next(e for e in jobs[0].entries if e.person_id == PERSON)
    assert _served(entry) is None
    # others are still served from the class cache
    other = next(e for e in jobs[0].entries if e.person_id != PERSON)
    assert _served(other) is not None


def test_withdrawal_says_so_when_the_class_cache_is_read_only(class_cache, monkeypatch) -> None:
    folder, _ = class_cache
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == folder and mode == os.W_OK
                        else real_access(p, mode, **kw))  # root ignores chmod: pretend the mount is read-only
    report = rights.withdraw_consent(PERSON)
    assert any("not writable" in n for n in report.notes), str(report)
    assert "not writable" in str(report)


def test_rebuild_keeps_verified_files_and_replaces_bad_ones(class_cache, computed, monkeypatch) -> None:
    folder, jobs = class_cache
    tamper(folder / faceprints.cache_relpath(jobs[0].entries[0].sha256), encoding=np.zeros(128))
    monkeypatch.delenv("FACECOURSE_CLASS_CACHE")
    index = classcache_build.build(folder, jobs=jobs, workers=1)
    assert computed == [jobs[0].entries[0].path]  # only the damaged file was recomputed
    assert classcache.status(folder)["bad"] == [] and len(index["files"]) == 8


def test_command_line(course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = small_jobs()[:1]
    jobs = [Job(j.name, j.used_by, j.entries[:2], j.params) for j in jobs]
    monkeypatch.setattr(classcache_build, "course_jobs", lambda *, manifest=None: jobs)
    folder = course / "cli-cache"
    assert main(["build-class-cache", str(folder), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 faceprint files" in out and f"FACECOURSE_CLASS_CACHE={folder}" in out
    assert main(["check-class-cache", str(folder)]) == 0
    assert main(["build-class-cache", str(folder), "--workers", "two"]) == 2


def test_course_jobs_cover_every_parameter_set_the_notebooks_use() -> None:
    """Every ``EncodingParams(...)`` written in a lesson or exercise is one the class cache builds."""
    built = {job.params.key() for job in classcache_build.course_jobs()}
    used = {DEFAULT_PARAMS.key()}
    notebooks = sorted((ROOT / "lessons").glob("*.ipynb")) + sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for args in re.findall(r"EncodingParams\(([^()]*)\)", cell.source):
                    used.add(eval(f"EncodingParams({args})", {"EncodingParams": EncodingParams}).key())
    assert used <= built, "a notebook encodes with parameters the class cache does not build: update course_jobs"


@contextlib.contextmanager
def _no_class_cache_warnings() -> Iterator[None]:
    """Inside the block, a ClassCacheWarning is raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassCacheWarning)
        yield


def test_lesson_06s_sandbox_works_from_the_class_cache(class_cache, computed) -> None:
    """rights.Sandbox copies faceprints into a throw-away cache: they may be in the class cache only."""
    _, jobs = class_cache
    box = rights.Sandbox(list(jobs[0].entries))
    try:
        assert box.copied == len(jobs[0].entries) and computed == []
        assert all(faceprints.cache_path(e.sha256).exists() for e in jobs[0].entries)  # now under the sandbox
    finally:
        box.close()
    assert student_files() == []  # the student's real cache is still empty
