"""What may and may not be committed: no photos, no copies of them, no drawn faces in notebooks."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, git_files
from facecourse.manifest import load_manifest

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif",
                  ".tem", ".npz", ".npy", ".faiss", ".pkl"}
#: Image files that may be committed: none so far. Anything added here must be synthetic or
#: licensed for it, and say so in sample_images/README.md.
ALLOWED_IMAGES: set[str] = set()


def test_no_image_or_faceprint_file_is_committed() -> None:
    offending = [f for f in git_files() if Path(f).suffix.lower() in IMAGE_SUFFIXES and f not in ALLOWED_IMAGES]
    assert offending == [], (
        f"Committed image or faceprint files: {offending}. The course downloads its photos and derives "
        "everything else at run time; remove them from git (git rm --cached FILE)."
    )


def test_no_committed_file_is_a_copy_of_a_manifest_file() -> None:
    import hashlib

    hashes = {e.sha256 for e in load_manifest().entries(include_revoked=True)}
    copies = [f for f in git_files() if (ROOT / f).is_file()
              and hashlib.sha256((ROOT / f).read_bytes()).hexdigest() in hashes]
    assert copies == [], f"{copies} are byte-for-byte copies of the dataset: remove them from git."


def committed_image_outputs() -> list[tuple[str, int, dict]]:
    """(notebook, cell index, output) for every output of a committed notebook that carries an image."""
    found = []
    for f in git_files():
        if f.endswith(".ipynb"):
            nb = json.loads((ROOT / f).read_text())
            for i, cell in enumerate(nb["cells"]):
                for out in cell.get("outputs", []):
                    if any(k.startswith("image/") for k in out.get("data", {})):
                        found.append((f, i, out))
    return found


def test_committed_notebooks_carry_only_face_free_charts() -> None:
    """A face drawn in an output cell would be a committed copy of a photo. The only images a
    committed notebook may carry are SVG charts that facecourse.plots.show marked face-free, with
    a marker that still matches their bytes and no raster image but labelled data images."""
    from facecourse.plots import SVG_MIME, face_free_output_problems

    found = []
    for f, i, out in committed_image_outputs():
        kinds = [k for k in out["data"] if k.startswith("image/")]
        problems = face_free_output_problems(out) if kinds == [SVG_MIME] else [f"carries {kinds}"]
        if problems:
            found.append(f"{f} cell {i}: {'; '.join(problems)}")
    assert found == [], f"Strip these image outputs (python tools/notebooks.py strip NOTEBOOK): {found}"


def test_gitignore_keeps_private_and_derived_files_out() -> None:
    import subprocess

    probes = ["sample_images/downloaded/neutral_front/001_03.jpg", ".facecourse-cache/faceprints/x.npz",
              "my_images/me.jpg", ".venv/bin/python"]
    result = subprocess.run(["git", "check-ignore", *probes], cwd=ROOT, capture_output=True, text=True)
    assert sorted(result.stdout.split()) == sorted(probes)
    kept = subprocess.run(["git", "check-ignore", "my_images/README.md"], cwd=ROOT, capture_output=True)
    assert kept.returncode == 1  # the folder's README is committed
