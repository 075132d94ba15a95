"""Downloading and verifying the images: nothing unverified is ever used or kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facecourse import dataset
from facecourse.errors import DownloadError, IntegrityError
from facecourse.manifest import load_manifest


def some_entries(n: int = 3):
    m = load_manifest()
    return m, m.photos("london_neutral")[:n]


def test_fetch_from_mirror_verifies_every_file(isolated: Path) -> None:
    m, entries = some_entries()
    paths = dataset.fetch(entries, manifest=m)
    assert [p.relative_to(isolated / "images").as_posix() for p in paths] == [e.path for e in entries]
    assert dataset.verify_all(manifest=m) == []
    assert dataset.read_bytes(entries[0], manifest=m)[:2] == b"\xff\xd8"  # a JPEG


def test_tampered_local_file_is_refused_then_refetched(isolated: Path) -> None:
    m, entries = some_entries(1)
    (path,) = dataset.fetch(entries, manifest=m)
    path.write_bytes(path.read_bytes()[:-10])  # damaged after download
    with pytest.raises(IntegrityError, match="does not match its manifest entry"):
        dataset.read_bytes(entries[0], manifest=m)
    assert any("SHA-256 does not match" in p for p in dataset.verify_all(manifest=m))
    dataset.fetch(entries, manifest=m)  # fetching again repairs it
    dataset.read_bytes(entries[0], manifest=m)


def test_bad_file_from_the_source_is_never_saved(isolated: Path, mirror: Path, monkeypatch) -> None:
    fake_mirror = isolated / "fake-mirror"
    m, entries = some_entries(1)
    (fake_mirror / "neutral_front").mkdir(parents=True)
    (fake_mirror / entries[0].path).write_bytes(b"not the published photo")
    monkeypatch.setenv("FACECOURSE_IMAGE_MIRROR", str(fake_mirror))
    with pytest.raises(IntegrityError, match="refused and not saved"):
        dataset.fetch(entries, manifest=m)
    folder = isolated / "images" / "neutral_front"
    assert not folder.exists() or list(folder.iterdir()) == []  # no file, no temporary left behind


def test_interrupted_download_leaves_no_half_file(isolated: Path, monkeypatch) -> None:
    m, entries = some_entries(1)

    def dies_halfway(url: str, output_file: str, pooch: object, check_only: bool = False) -> None:
        Path(output_file).write_bytes(Path(url).read_bytes()[:1000])
        raise ConnectionResetError("connection lost")

    monkeypatch.setattr(dataset, "_copy_from_folder", dies_halfway)
    with pytest.raises(DownloadError, match="connection lost"):
        dataset.fetch(entries, manifest=m)
    folder = isolated / "images" / "neutral_front"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_no_network_and_no_mirror_says_how_to_use_a_local_copy(isolated: Path, monkeypatch) -> None:
    m, entries = some_entries(1)
    monkeypatch.setenv("FACECOURSE_IMAGE_MIRROR", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(DownloadError) as err:
        dataset.fetch(entries, manifest=m)
    assert "FACECOURSE_IMAGE_MIRROR" in str(err.value) and "local copy" in str(err.value)


def test_mirror_without_the_file_is_explained(isolated: Path, monkeypatch) -> None:
    m, entries = some_entries(1)
    monkeypatch.setenv("FACECOURSE_IMAGE_MIRROR", str(isolated / "empty"))
    with pytest.raises(DownloadError, match=r"has no neutral_front/001_03\.jpg"):
        dataset.fetch(entries, manifest=m)


def test_read_only_shared_image_folder_works(isolated: Path, mirror: Path, monkeypatch) -> None:
    """A class server keeps one verified copy in a read-only folder for every student."""
    m, entries = some_entries(2)
    shared = isolated / "shared-images"
    dataset.fetch(entries, manifest=m)
    shutil.copytree(isolated / "images", shared)
    for p in sorted(shared.rglob("*"), reverse=True):
        p.chmod(0o555 if p.is_dir() else 0o444)
    monkeypatch.setenv("FACECOURSE_IMAGE_DIR", str(shared))
    monkeypatch.delenv("FACECOURSE_IMAGE_MIRROR")
    import pooch

    def no_writes(*args, **kwargs):  # root ignores file modes, so prove no write is even tried
        raise AssertionError("fetch tried to download into the shared folder")

    monkeypatch.setattr(pooch, "retrieve", no_writes)
    try:
        assert dataset.fetch(entries, manifest=m)  # already there: nothing to write
        assert dataset.read_bytes(entries[1], manifest=m)
    finally:
        for p in shared.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        shared.chmod(0o755)


def test_unlisted_or_withdrawn_files_in_the_image_folder_are_reported(isolated: Path, tmp_path: Path) -> None:
    m, entries = some_entries(1)
    dataset.fetch(entries, manifest=m)
    (isolated / "images" / "stray.jpg").write_bytes(b"x")
    problems = dataset.verify_all(manifest=m)
    assert any("stray.jpg: not in the manifest" in p for p in problems)
