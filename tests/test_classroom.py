"""The classroom path (docs/classroom.md): Binder, a shared JupyterHub, the static preview site.

What can be checked on one machine without a hub:

* the Binder configuration installs the course's own pinned environment, from the repository
  root as repo2docker runs pip, with dlib from the prebuilt wheel (pip's dry-run resolution);
* a simulated two-student hub: one shared read-only image folder, and per-student caches and
  photo folders set with ``~`` paths, stay apart; forgetting one student's photos does not
  touch the other's; a consent withdrawal reaches every student's cache;
* every environment variable the guide names exists in facecourse/config.py, and its example
  links point at files that exist;
* where no widget frontend runs (nbconvert, the preview site), the widgets show static text.
(That the shared folder is read without writing is tested in test_dataset.py.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, git_files
from facecourse.manifest import load_manifest

GUIDE = ROOT / "docs" / "classroom.md"
BINDER = ROOT / "binder"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file (comments and blanks dropped)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# Binder (repo2docker)
# ---------------------------------------------------------------------------------------------


def test_binder_installs_exactly_the_course_requirements() -> None:
    """binder/requirements.txt only points at ../requirements.txt, so the two cannot drift apart.

    pip resolves a nested ``-r`` relative to the file that names it: binder/../requirements.txt.
    """
    assert requirement_lines(BINDER / "requirements.txt") == ["-r ../requirements.txt"]
    assert (BINDER / "requirements.txt").parent.joinpath("../requirements.txt").resolve() == ROOT / "requirements.txt"


def test_local_paths_in_the_requirements_resolve_from_the_repository_root() -> None:
    """repo2docker runs pip from the repository root; pip resolves local paths from its working
    directory (not from the requirements file), so these must exist relative to the root."""
    local = [line.removeprefix("-e ").strip() for line in requirement_lines(ROOT / "requirements.txt")
             if line.startswith(("./", "-e ", "../"))]
    assert "./tools/dlib-shim" in local and "." in local, local
    for path in local:
        assert (ROOT / path / "pyproject.toml").is_file(), f"{path} is not a project relative to the repository root"
    shim = (ROOT / "tools" / "dlib-shim" / "pyproject.toml").read_text()
    assert re.search(r'^name = "dlib"$', shim, re.MULTILINE), "the shim must be named dlib to satisfy face_recognition"
    pinned = [line for line in requirement_lines(ROOT / "requirements.txt") if line.startswith("dlib-bin==")]
    assert len(pinned) == 1 and f'"{pinned[0]}"' in shim, "the shim and requirements.txt must pin the same dlib-bin"


def test_pip_resolves_those_local_paths_from_its_working_directory() -> None:
    """Why the root matters (docs/classroom.md): run from binder/, the same file cannot find the shim.
    pip stops while reading the file, before it touches the network or writes anything."""
    env = {k: v for k, v in os.environ.items() if k != "FACECOURSE_OFFLINE_GUARD"}
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
                             "--disable-pip-version-check", "-r", "requirements.txt"],
                            cwd=BINDER, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0 and "./tools/dlib-shim" in result.stderr and "does not exist" in result.stderr, \
        result.stderr[-2000:]


def test_binder_python_is_one_the_prebuilt_dlib_wheel_supports() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match and 10 <= int(match.group(1)) <= 14, \
        f"binder/runtime.txt says {runtime!r}; dlib-bin has wheels for 3.10-3.14"


def test_binder_does_not_bake_the_photos_into_the_image() -> None:
    """The lessons fetch photos on first use; an image holding them could not honour a withdrawal."""
    for script in ("postBuild", "start"):
        path = BINDER / script
        if path.exists():
            assert "fetch" not in path.read_text(), f"binder/{script} must not download the photos"


def _repo_copy(dest: Path) -> Path:
    """The repository's files (tracked, and new files not git-ignored) as repo2docker sees them."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True)
    for name in sorted({f for f in out.stdout.decode().split("\0") if f}):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


_NETWORK_ERRORS = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
                   "Failed to establish a new connection", "ConnectTimeoutError")


def test_binder_build_resolves_with_dlib_from_the_prebuilt_wheel(tmp_path: Path) -> None:
    """What repo2docker runs, from a copy of the repository root, as a pip dry run (nothing installed).

    ``--no-deps`` keeps it to the listed requirements (about 20 s instead of a minute): what is
    Binder-specific is that the nested file and its local paths resolve from the root, and that
    dlib is the local shim. The full dependency tree is the one `tools/course.py setup` installs
    (with `pip check`) in CI. Needs the package index, as the real build does: offline, outside
    CI, the test is skipped; in CI (CI=true) it must run.
    """
    repo = _repo_copy(tmp_path / "repo")  # pip writes build metadata into local projects: not into ours
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "FACECOURSE_OFFLINE_GUARD"}  # pip needs the index
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
         "--disable-pip-version-check", "--quiet", "--report", str(report), "-r", "binder/requirements.txt"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        if os.environ.get("CI") != "true" and any(s in result.stderr for s in _NETWORK_ERRORS):
            pytest.skip("the package index is unreachable (offline); CI runs this test")
        pytest.fail(f"pip could not resolve binder/requirements.txt:\n{result.stderr[-4000:]}")
    installs = {i["metadata"]["name"].lower().replace("_", "-"): i for i in json.loads(report.read_text())["install"]}
    # dlib comes from the local metadata-only shim, which requires the prebuilt wheel
    assert installs["dlib"]["download_info"]["url"] == (repo / "tools" / "dlib-shim").as_uri()
    assert [r.split("==")[0] for r in installs["dlib"]["metadata"]["requires_dist"]] == ["dlib-bin"]
    assert installs["dlib-bin"]["download_info"]["url"].endswith(".whl")
    assert installs["facecourse"]["download_info"]["url"] == repo.as_uri()
    # Nothing listed is built from source except two local projects and one pure-Python data package.
    built = sorted(name for name, i in installs.items() if not i["download_info"]["url"].endswith(".whl"))
    assert built == ["dlib", "face-recognition-models", "facecourse"], built


# ---------------------------------------------------------------------------------------------
# A shared JupyterHub, simulated with two students
# ---------------------------------------------------------------------------------------------

STUDENT_SCRIPT = r"""
import json, sys
from facecourse import config, faceprints, manifest, my_images
m = manifest.load_manifest()
record = faceprints.encode_entry(m[sys.argv[1]])          # a course photo, from the shared folder
own = [my_images.encode(p.name) for p in my_images.list_photos()]  # the student's own photos, if any
print(json.dumps({"cache": str(config.cache_dir()), "my_images": str(config.my_images_dir()),
                  "images": str(config.image_dir()), "own": len(own)}))
"""


def _hub_env(home: Path, shared: Path) -> dict[str, str]:
    """The environment docs/classroom.md tells a hub to give every student's server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACECOURSE_") or k == "FACECOURSE_OFFLINE_GUARD"}
    env.update({
        "HOME": str(home),
        "FACECOURSE_IMAGE_DIR": str(shared),
        "FACECOURSE_CACHE_DIR": "~/.facecourse-cache",
        "FACECOURSE_MY_IMAGES": "~/my_images",
        "FACECOURSE_PROGRESS": "0",
    })
    return env  # no FACECOURSE_IMAGE_MIRROR: a student's server never downloads


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, *args], env=env, cwd=env["HOME"], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def shared_images(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list]:
    """What the instructor does once: fetch (here: two photos) into one folder every student reads."""
    from facecourse import dataset

    shared = tmp_path / "srv" / "facecourse-images"
    monkeypatch.setenv("FACECOURSE_IMAGE_MIRROR", str(mirror))
    monkeypatch.setenv("FACECOURSE_IMAGE_DIR", str(shared))
    m = load_manifest()
    entries = m.photos("london_neutral")[:2]
    dataset.fetch(entries, manifest=m)
    return shared, entries


def test_two_students_share_the_images_but_not_their_caches_or_photos(tmp_path: Path, shared_images) -> None:
    shared, entries = shared_images
    alice, bob = tmp_path / "home" / "alice", tmp_path / "home" / "bob"
    for home in (alice, bob):
        home.mkdir(parents=True)
    # Alice puts a photo of "herself" in her my_images (a stand-in: a course photo, copied in tmp).
    (alice / "my_images").mkdir()
    shutil.copyfile(shared / entries[1].path, alice / "my_images" / "me.jpg")
    before = _snapshot(shared)

    seen = {}
    for name, home in (("alice", alice), ("bob", bob)):
        seen[name] = json.loads(_run(["-c", STUDENT_SCRIPT, entries[0].file_id], _hub_env(home, shared)))

    for name, home in (("alice", alice), ("bob", bob)):
        assert seen[name]["cache"] == str(home / ".facecourse-cache")  # "~" is each student's home
        assert seen[name]["my_images"] == str(home / "my_images")
        assert seen[name]["images"] == str(shared)
    assert (seen["alice"]["own"], seen["bob"]["own"]) == (1, 0)
    # each computed and cached the course photo's faceprint in their own cache ...
    for home in (alice, bob):
        assert any(entries[0].sha256 in p.name for p in (home / ".facecourse-cache").rglob("*.npz"))
    # ... Alice's own photo left traces only in Alice's cache, and nothing was written to the shared folder
    assert list((alice / ".facecourse-cache" / "my_images").rglob("*.npz"))
    assert not (bob / ".facecourse-cache" / "my_images").exists()
    assert _snapshot(shared) == before

    # A cache seeded with a copy of another cache's faceprints/ is used as it is (docs: warming caches)
    carol = tmp_path / "home" / "carol"
    (carol / ".facecourse-cache").mkdir(parents=True)
    shutil.copytree(alice / ".facecourse-cache" / "faceprints", carol / ".facecourse-cache" / "faceprints")
    seeded = _snapshot(carol / ".facecourse-cache")
    _run(["-c", STUDENT_SCRIPT, entries[0].file_id], _hub_env(carol, shared))
    assert _snapshot(carol / ".facecourse-cache") == seeded  # nothing recomputed, nothing added

    # Alice forgets her photos: her derived files go, Bob's cache is untouched
    bob_cache = _snapshot(bob / ".facecourse-cache")
    out = _run(["-m", "facecourse", "forget-my-images"], _hub_env(alice, shared))
    assert "Deleted 1 file(s)" in out and str(alice / ".facecourse-cache" / "my_images") in out
    assert not (alice / ".facecourse-cache" / "my_images").exists()
    assert _snapshot(bob / ".facecourse-cache") == bob_cache


def test_a_withdrawal_reaches_every_students_cache(tmp_path: Path, shared_images) -> None:
    """docs/classroom.md: record the withdrawal once, then purge each home's cache in a loop."""
    shared, entries = shared_images
    course = tmp_path / "course"  # a copy of the course's committed lists, so the real ones stay as they are
    (course / "sample_images").mkdir(parents=True)
    shutil.copyfile(ROOT / "sample_images" / "manifest.csv", course / "sample_images" / "manifest.csv")
    if (ROOT / "sample_images" / "revocations.csv").exists():
        shutil.copyfile(ROOT / "sample_images" / "revocations.csv", course / "sample_images" / "revocations.csv")
    homes = [tmp_path / "home" / n for n in ("alice", "bob")]
    for home in homes:
        home.mkdir(parents=True)
        env = {**_hub_env(home, shared), "FACECOURSE_ROOT": str(course)}
        _run(["-c", STUDENT_SCRIPT, entries[0].file_id], env)
        assert any(entries[0].sha256 in p.name for p in home.rglob("*.npz"))

    person = entries[0].person_id
    for home in homes:  # the loop of the guide: `withdraw` once per student cache
        env = {**_hub_env(home, shared), "FACECOURSE_ROOT": str(course)}
        _run(["-m", "facecourse", "withdraw", person, "test"], env)
    for home in homes:
        assert not any(entries[0].sha256 in p.name for p in home.rglob("*")), home
    recorded = (course / "sample_images" / "revocations.csv").read_text().splitlines()
    assert sum(line.startswith(f"{person},") for line in recorded) == 1  # recorded once, not once per student


# ---------------------------------------------------------------------------------------------
# The guide itself
# ---------------------------------------------------------------------------------------------


def test_every_variable_in_the_guide_exists_in_config() -> None:
    guide = GUIDE.read_text()
    named = set(re.findall(r"\bFACECOURSE_[A-Z_]+\b", guide))
    config_source = (ROOT / "facecourse" / "config.py").read_text()
    known = set(re.findall(r'"(FACECOURSE_[A-Z_]+)"', config_source))
    assert named, "the guide names no FACECOURSE_ variable"
    assert named <= known, f"the guide names variables that facecourse/config.py does not read: {sorted(named - known)}"
    # the hub recipe needs these four
    assert {"FACECOURSE_IMAGE_DIR", "FACECOURSE_CACHE_DIR", "FACECOURSE_MY_IMAGES", "FACECOURSE_IMAGE_MIRROR"} <= named


def _example_links(guide: str, marker: str) -> list[str]:
    return [u for u in re.findall(r"https://[^\s`<>)\"']+", guide) if marker in u]


def test_the_guides_launch_links_open_files_that_exist() -> None:
    guide = GUIDE.read_text()
    binder = _example_links(guide, "mybinder.org/v2/gh/")
    # the worked example (a real-looking host), not the pattern with HUB / REPO_URL placeholders
    puller = [u for u in _example_links(guide, "/hub/user-redirect/git-pull?")
              if "." in urllib.parse.urlsplit(u).netloc]
    assert binder and puller, "the guide must give a Binder link and an nbgitpuller link"
    for url in binder:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        path = query["urlpath"][0].removeprefix("lab/tree/")
        assert (ROOT / path).is_file(), f"{url}: {path} does not exist"
    for url in puller:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        repo_url = query["repo"][0]
        assert repo_url.startswith("https://"), url
        clone_dir = repo_url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        path = query["urlpath"][0].removeprefix("lab/tree/")
        assert path.startswith(f"{clone_dir}/"), f"{url}: nbgitpuller clones into ~/{clone_dir}/"
        assert (ROOT / path.removeprefix(f"{clone_dir}/")).is_file(), f"{url}: {path} does not exist"
        assert query.get("branch") == ["main"], url


def test_generated_and_private_folders_are_git_ignored() -> None:
    probes = ["site/index.html", "preview-private/index.html", "public-site/index.html", "test-artifacts/browser/x.png"]
    result = subprocess.run(["git", "check-ignore", *probes], cwd=ROOT, capture_output=True, text=True, check=False)
    assert sorted(result.stdout.split()) == sorted(probes)


# ---------------------------------------------------------------------------------------------
# Widgets where no widget frontend runs
# ---------------------------------------------------------------------------------------------


def test_committed_widget_outputs_carry_their_static_text() -> None:
    """nbconvert shows a widget only with saved widget state; without it, it shows text/plain.
    So every widget output must carry static text, and no notebook may carry widget state."""
    found = 0
    notebooks = sorted({*(f for f in git_files() if f.endswith(".ipynb")),
                        *(p.relative_to(ROOT).as_posix() for d in ("lessons", "exercises")
                          for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)})
    for name in notebooks:
        nb = nbformat.read(ROOT / name, as_version=4)
        assert "widgets" not in nb.metadata, f"{name} carries saved widget state (tools/notebooks.py strips it)"
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if WIDGET_VIEW in data:
                    found += 1
                    text = data.get("text/plain", "")
                    assert "interactive in JupyterLab" in text, f"{name} cell {i}: widget output without static text"
    assert found, "no notebook shows a widget: lessons 03 and 07 should"


def test_the_preview_site_shows_widgets_as_static_text(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_private_preview as build_site
    finally:
        sys.path.remove(str(ROOT / "tools"))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Widget preview"),
                nbformat.v4.new_code_cell("from facecourse.widgets import threshold_explorer\n"
                                          "threshold_explorer([0.312, 0.427], [0.383, 0.662], initial=0.6)")]
    source = tmp_path / "widget_preview.ipynb"
    nbformat.write(nb, source)
    pages = build_site.build([source], tmp_path / "site")
    page = pages[0].read_text()
    assert "Threshold explorer (interactive in JupyterLab" in page  # the static text, not a dead widget
    assert WIDGET_VIEW not in page and "widget-state+json" not in page and "unpkg.com" not in page
    assert "do not commit" in page and "do not commit" in (tmp_path / "site" / "index.html").read_text()
    assert (tmp_path / "site" / ".gitignore").read_text().splitlines()[-1] == "*"
