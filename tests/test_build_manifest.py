"""tools/build_manifest.py: the committed manifest is exactly what it builds from the mirror,
and files it does not know are skipped and reported, never mislabelled or fatal."""

from __future__ import annotations

import csv
import hashlib
import types
from pathlib import Path

import pytest

from conftest import ROOT, load_script
from facecourse.manifest import load_manifest


def _tool() -> types.ModuleType:
    return load_script(ROOT / "tools" / "build_manifest.py")


def test_rebuilding_from_the_mirror_gives_the_committed_manifest(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "manifest.csv"
    _tool().main(mirror, out)
    assert out.read_bytes() == (ROOT / "sample_images" / "manifest.csv").read_bytes()


def _fake_mirror(folder: Path, files: dict[str, bytes]) -> Path:
    sums = []
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  ./{rel}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return folder


def test_nested_paths_and_unknown_files_are_skipped_and_reported(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    mirror = _fake_mirror(tmp_path / "mirror", {
        "london_info.csv": b"face_id,face_age,face_gender,face_eth\n001,24,female,white\n",
        "neutral_front/001_03.jpg": b"photo",
        "neutral_front/001_03.tem": b"template",
        "neutral_front/thumbs/001_03.jpg": b"a nested copy",  # nested: used to crash (ValueError)
        "neutral_front/notes.txt": b"not a photo",  # used to be labelled as landmarks
        "lisa/lisa1.png": b"a png photo",  # used to be labelled as landmarks
        "README.md": b"top level",  # used to crash
    })
    out = tmp_path / "manifest.csv"
    _tool().main(mirror, out)
    rows = {r["path"]: r for r in csv.DictReader(line for line in out.open() if not line.startswith("#"))}
    assert sorted(rows) == ["lisa/lisa1.png", "london_info.csv", "neutral_front/001_03.jpg",
                            "neutral_front/001_03.tem"]
    assert {p: rows[p]["kind"] for p in rows} == {"lisa/lisa1.png": "photo", "london_info.csv": "metadata",
                                                  "neutral_front/001_03.jpg": "photo",
                                                  "neutral_front/001_03.tem": "landmarks"}
    assert rows["neutral_front/001_03.jpg"]["age"] == "24"
    assert rows["neutral_front/001_03.tem"]["file_id"] == "london-001-neutral-landmarks"
    printed = capsys.readouterr().out
    for skipped in ("neutral_front/thumbs/001_03.jpg", "neutral_front/notes.txt", "README.md"):
        assert skipped in printed
    assert "skipped 3 file(s)" in printed


def test_the_rebuilt_manifest_loads(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "manifest.csv"
    _tool().main(mirror, out)
    m = load_manifest(out, tmp_path / "no-revocations.csv")
    assert {e.kind for e in m} == {"photo", "landmarks", "metadata"}
    assert all(e.path.endswith(".tem") for e in m if e.kind == "landmarks")


def test_the_london_consent_is_quoted_whole_as_the_mirror_publishes_it(mirror: Path) -> None:
    """The consent field is what an access report shows a data subject: never cut short."""
    readme = " ".join((mirror / "README.md").read_text(encoding="utf-8").split())
    published = readme.split('for their images to be "', 1)[1].split('."', 1)[0]
    assert published.endswith("(e.g., in scientific journals, news media or presentations)")
    assert f"images may be used {published.removeprefix('used ')} (London" in _tool().LONDON_CONSENT
