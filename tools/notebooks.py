#!/usr/bin/env python3
"""Keep the committed notebooks clean, re-run and in step.

    python tools/notebooks.py execute lessons/01_finding_faces.ipynb ...   # re-run in place, then strip
    python tools/notebooks.py strip   NOTEBOOK ...                          # drop image outputs only
    python tools/notebooks.py release                                       # exercises/source -> release
    python tools/notebooks.py check                                         # exit 1 if anything is stale

Why: nbval (the notebook test) compares the text outputs stored in each notebook with a fresh
run, so the committed notebooks must carry the text outputs of a clean run. They must never
carry a face: a face drawn in an output is a copy of a photo. `execute` re-runs a notebook
with progress bars off (FACECOURSE_PROGRESS=0, as the tests do) and removes every image output
that may draw a face, keeping the figure's one-line alt text; the only images kept are the
face-free charts that facecourse.plots.show emitted as deterministic SVG and marked, once the
mark is verified (see strip_images). Every notebook written gets the python3 kernelspec. Student versions of the
exercises are generated from the solution sources by `release`, never edited by hand (nbgrader's rules:
a solution region becomes `raise NotImplementedError()`, a written answer "YOUR ANSWER HERE",
hidden tests are removed, outputs cleared).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "source"
RELEASE = ROOT / "exercises" / "release"

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
ANSWER_STUB = "YOUR ANSWER HERE"
_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.S | re.M)
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n.*?^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)", re.S | re.M)


def strip_images(nb: nbformat.NotebookNode) -> int:
    """Remove every image output that may show a face; return how many were removed.

    Kept: only ``image/svg+xml`` charts that :func:`facecourse.plots.show` marked face-free and
    that pass :func:`facecourse.plots.face_free_output_problems` here (the marker's digest matches
    the bytes; no script, external reference or unlabelled raster image in the SVG). Removed:
    everything else under ``image/`` (PNG, JPEG ..., i.e. every figure that draws a photo, and any
    SVG whose marker cannot be verified). The ``text/plain`` "Figure: <alt>" line always stays.
    """
    from facecourse.plots import SVG_MIME, face_free_output_problems

    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept: list[nbformat.NotebookNode] = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                images = [k for k in data if k.startswith("image/")]
                keep_svg = SVG_MIME in images and not face_free_output_problems(out)
                dropped = [k for k in images if not (keep_svg and k == SVG_MIME)]
                for key in dropped:
                    del data[key]
                    removed += 1
                if dropped and not keep_svg:
                    out.get("metadata", {}).clear()
                if not data:
                    continue
            if (kept and out.get("output_type") == "stream" and kept[-1].get("output_type") == "stream"
                    and kept[-1].get("name") == out.get("name")):
                # One print split into two messages by the kernel's timing: store it as one, as
                # nbval compares it, so a re-run does not show a diff that is not a change.
                kept[-1]["text"] = "".join(kept[-1]["text"]) + "".join(out["text"])
                continue
            kept.append(out)
        cell["outputs"] = kept
    tidy_metadata(nb)
    return removed


def kept_charts(nb: nbformat.NotebookNode) -> int:
    """How many face-free SVG charts ``nb`` carries."""
    return sum(1 for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
               if "image/svg+xml" in out.get("data", {}))


#: The kernel every course notebook runs on (what JupyterLab writes for the default Python kernel).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def tidy_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop per-run and editor-only metadata, so diffs show only real changes; name the kernel."""
    for cell in nb.cells:
        for key in ("execution", "lines_to_next_cell", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)


def execute(path: Path, timeout: int = 1800) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["FACECOURSE_PROGRESS"] = "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    strip_images(nb)
    nbformat.write(nb, path)


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release copy of an exercise: solutions and hidden tests removed, outputs cleared."""
    out = nbformat.from_dict(nb)
    for cell in out.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code":
            cell.source = _SOLUTION.sub(lambda m: "".join(m.group(1) + line + "\n" for line in
                                                          CODE_STUB.splitlines()), cell.source)
            cell.source = _HIDDEN.sub("", cell.source).rstrip("\n")
            cell.outputs = []
            cell.execution_count = None
        elif meta.get("solution"):
            cell.source = _SOLUTION.sub(ANSWER_STUB + "\n", cell.source).rstrip("\n")
        cell.get("metadata", {}).pop("execution", None)
    tidy_metadata(out)
    return out


def release_paths() -> list[tuple[Path, Path]]:
    return [(src, RELEASE / src.name) for src in sorted(SOURCE.glob("*.ipynb"))]


def release() -> None:
    RELEASE.mkdir(parents=True, exist_ok=True)
    for src, dst in release_paths():
        nbformat.write(student_version(nbformat.read(src, as_version=4)), dst)
        print(f"wrote {dst.relative_to(ROOT)}")


def stale() -> list[str]:
    problems = []
    for src, dst in release_paths():
        want = nbformat.writes(student_version(nbformat.read(src, as_version=4)))
        if not dst.exists() or nbformat.writes(nbformat.read(dst, as_version=4)) != want:
            problems.append(f"{dst.relative_to(ROOT)} is not the generated student version of "
                            f"{src.relative_to(ROOT)}: run `python tools/notebooks.py release`")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, paths = argv[0], [Path(p).resolve() for p in argv[1:]]
    if command == "execute":
        for p in paths:
            print(f"executing {p.relative_to(ROOT)} ...", flush=True)
            execute(p)
    elif command == "strip":
        for p in paths:
            nb = nbformat.read(p, as_version=4)
            n = strip_images(nb)
            nbformat.write(nb, p)
            print(f"{p.relative_to(ROOT)}: removed {n} image output(s), kept {kept_charts(nb)} "
                  "face-free chart(s)")
    elif command == "release":
        release()
    elif command == "check":
        problems = stale()
        print("\n".join(problems) or "student versions are up to date")
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
