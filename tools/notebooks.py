#!/usr/bin/env python3
"""Keep the committed notebooks clean, re-run and in step.

    python tools/notebooks.py execute lessons/01_finding_faces.ipynb ...   # re-run in place, then strip
    python tools/notebooks.py strip   NOTEBOOK ...                          # drop image outputs only
    python tools/notebooks.py release                                       # exercises/source -> release
    python tools/notebooks.py check                                         # exit 1 if anything is stale

Why: nbval (the notebook test) compares the text outputs stored in each notebook with a fresh
run, so the committed notebooks must carry the text outputs of a clean run. They must never
carry images: a face drawn in an output is a copy of a photo. `execute` re-runs a notebook
with progress bars off (FACECOURSE_PROGRESS=0, as the tests do) and removes every image/*
output, keeping the figure's one-line alt text. Student versions of the exercises are
generated from the solution sources by `release`, never edited by hand (nbgrader's rules:
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
    """Remove image/* data from every output; return how many were removed."""
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                for key in [k for k in data if k.startswith("image/")]:
                    del data[key]
                    removed += 1
                out.get("metadata", {}).clear()
                if not data:
                    continue
            kept.append(out)
        cell["outputs"] = kept
    tidy_metadata(nb)
    return removed


def tidy_metadata(nb: nbformat.NotebookNode) -> None:
    """Drop per-run and editor-only metadata, so diffs show only real changes."""
    for cell in nb.cells:
        for key in ("execution", "lines_to_next_cell", "collapsed", "scrolled"):
            cell.get("metadata", {}).pop(key, None)
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("widgets", None)


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
            print(f"{p.relative_to(ROOT)}: removed {n} image output(s)")
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
