#!/usr/bin/env python3
"""How long and how active is each lesson? Print a markdown table, one row per lesson.

    python tools/lesson_stats.py                       # all lessons, run times read from docs/lesson_times.csv
    python tools/lesson_stats.py lessons/03_*.ipynb    # some lessons
    python tools/lesson_stats.py --measure [NB ...]    # execute the lessons, record their run times, then print
    python tools/lesson_stats.py --times FILE          # read (and with --measure write) run times elsewhere

The table is markdown so it can be pasted into INSTRUCTORS.md. It parses the lesson shape that
the lesson conventions define (see CONTRIBUTING.md and ``tests/test_lesson_shape.py``):

* **Sections** start at a markdown line ``## Title``. A section whose title starts with
  "Going deeper" is optional ("deeper"); everything else is the core path. ``## Self-check``
  holds numbered questions, each followed by ``<details><summary>Answer</summary>…</details>``.
* **Core words**: words of prose in core markdown cells, not counting the self-check section and
  not counting folded ``<details>`` blocks (answers, solutions). Link targets, HTML tags and
  comments are not words; link texts are.
* **Code lines**: non-blank source lines of code cells. **Longest core cell**: the most lines in
  one core code cell.
* **Active moments**: core markdown cells tagged ``active`` whose text starts with **Predict.**,
  **Your turn.**, **Check by hand.** or **Argue.**
* **Widgets**: code cells whose stored output is an ipywidgets view, or that call a
  ``facecourse`` function returning a widget. **Figures**: stored figure outputs (an image, or
  the ``Figure: <alt text>`` line that replaces it in committed notebooks).

**Estimated core time** (minutes) = core words / 150 + 0.5 per core code cell + 3 per active
moment + the measured execution time of the core code cells. The execution time is not guessed:
``--measure`` runs each lesson once in a fresh kernel (an in-memory copy, so the committed
notebook is untouched), times every cell from nbclient's per-cell timestamps, and writes
``docs/lesson_times.csv`` (committed). A plain run reads that file and says when and where the
times were measured; a lesson without a measurement shows "n/m" and its estimate leaves the run
time out (marked with ``+``).
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as _dt
import os
import platform
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
TIMES = ROOT / "docs" / "lesson_times.csv"

WORDS_PER_MINUTE = 150
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_ACTIVE = 3.0
# A slower reader (a student outside their home discipline, reading code and its output with care):
# shown beside the estimate so an instructor sees how sensitive it is; the budget uses the model above.
SLOW_WORDS_PER_MINUTE = 100
SLOW_MINUTES_PER_CODE_CELL = 1.0
ACTIVE_LABELS = ("**Predict.**", "**Your turn.**", "**Check by hand.**", "**Argue.**")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TIME_FIELDS = ["lesson", "core_seconds", "deeper_seconds", "total_seconds", "measured_utc", "cpus", "python"]
#: Optional column: a hash of the lesson's code cells when it was measured, to flag stale times.
CODE_FIELD = "code_sha256"

_HEADING = re.compile(r"^##[ \t]+(?!#)(.+?)\s*$", re.M)
_DETAILS = re.compile(r"<details\b.*?</details>", re.S | re.I)
_ANSWER = re.compile(r"<details>\s*<summary>\s*Answer\s*</summary>", re.I)
_QUESTION = re.compile(r"^[ \t]{0,3}\d+[.)][ \t]+\S", re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")


def count_words(markdown: str) -> int:
    """Words of prose in ``markdown``: link texts count, URLs, HTML tags and comments do not."""
    text = _COMMENT.sub(" ", markdown)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    return len(_WORD.findall(text))


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def section_kind(title: str) -> str:
    t = title.strip().lower()
    if t.startswith("going deeper"):
        return "deeper"
    if t.startswith("self-check"):
        return "selfcheck"
    if t.startswith("key points"):
        return "keypoints"
    if t.startswith("a case to start"):
        return "case"
    if t.startswith("exercise"):
        return "exercise"
    return "core"


def cell_sections(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(kind, title) of the section each cell belongs to; cells before any ``##`` are "intro"."""
    current = ("intro", "")
    out = []
    for cell in nb.cells:
        heads = _HEADING.findall(cell.source) if cell.cell_type == "markdown" else []
        if heads:
            out.append((section_kind(heads[0]), heads[0]))
            current = (section_kind(heads[-1]), heads[-1])
        else:
            out.append(current)
    return out


def _widget_factories() -> set[str]:
    """Names of facecourse classes built on HeadlessFallback and functions returning them."""
    classes: set[str] = {"HeadlessFallback"}
    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "facecourse").glob("*.py"))]
    for _ in range(3):  # subclasses of subclasses
        for src in sources:
            for name, bases in re.findall(r"^class\s+(\w+)\(([^)]*)\)", src, re.M):
                if any(b.strip().split(".")[-1] in classes for b in bases.split(",")):
                    classes.add(name)
    names = set(classes) - {"HeadlessFallback"}
    for src in sources:
        for name, ret in re.findall(r"^def\s+(\w+)\(.*?\)\s*->\s*\"?([\w.]+)\"?\s*:", src, re.M | re.S):
            if ret.split(".")[-1] in classes:
                names.add(name)
    return names


def _is_widget_cell(cell: nbformat.NotebookNode, factories: set[str]) -> bool:
    if cell.cell_type != "code":
        return False
    if any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", [])):
        return True
    return any(re.search(rf"\b{re.escape(f)}\(", cell.source) for f in factories)


def _figure_outputs(cell: nbformat.NotebookNode) -> int:
    n = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        if any(k.startswith("image/") for k in data) or text.startswith("Figure:"):
            n += 1
        elif out.get("output_type") == "stream":
            n += sum(1 for line in "".join(out.get("text", "")).splitlines() if line.startswith("Figure:"))
    return n


@dataclass
class LessonStats:
    lesson: str
    core_words: int = 0
    deeper_words: int = 0
    selfcheck_words: int = 0
    core_code_lines: int = 0
    deeper_code_lines: int = 0
    core_code_cells: int = 0
    longest_core_cell: int = 0
    longest_core_cell_index: int | None = None
    active: int = 0
    selfcheck_questions: int = 0
    selfcheck_answers: int = 0
    widgets: int = 0
    figures: int = 0
    sections: list[str] = field(default_factory=list)
    core_seconds: float | None = None
    deeper_seconds: float | None = None
    code_sha256: str = ""
    times_stale: bool = False

    def estimated_minutes(self) -> float:
        """The reading/doing model of the lesson conventions, plus measured core run time if known."""
        minutes = (self.core_words / WORDS_PER_MINUTE + MINUTES_PER_CODE_CELL * self.core_code_cells
                   + MINUTES_PER_ACTIVE * self.active)
        return minutes + (self.core_seconds or 0.0) / 60

    def slow_minutes(self) -> float:
        """The same with a slower reader: SLOW_WORDS_PER_MINUTE and SLOW_MINUTES_PER_CODE_CELL."""
        minutes = (self.core_words / SLOW_WORDS_PER_MINUTE + SLOW_MINUTES_PER_CODE_CELL * self.core_code_cells
                   + MINUTES_PER_ACTIVE * self.active)
        return minutes + (self.core_seconds or 0.0) / 60


def lesson_stats(path: Path | str, factories: set[str] | None = None) -> LessonStats:
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    factories = _widget_factories() if factories is None else factories
    s = LessonStats(lesson=path.stem, code_sha256=code_hash(nb))
    for i, (cell, (kind, _title)) in enumerate(zip(nb.cells, cell_sections(nb), strict=True)):
        if cell.cell_type == "markdown":
            for head in _HEADING.findall(cell.source):
                s.sections.append(head)
            if kind == "deeper":
                s.deeper_words += count_words(cell.source)
            elif kind == "selfcheck":
                s.selfcheck_words += count_words(cell.source)
                s.selfcheck_answers += len(_ANSWER.findall(cell.source))
                s.selfcheck_questions += len(_QUESTION.findall(_DETAILS.sub("", cell.source)))
            else:
                s.core_words += count_words(_DETAILS.sub(" ", cell.source))
                tags = cell.get("metadata", {}).get("tags", [])
                if "active" in tags and cell.source.lstrip().startswith(ACTIVE_LABELS):
                    s.active += 1
        elif cell.cell_type == "code":
            n = code_lines(cell.source)
            if kind == "deeper":
                s.deeper_code_lines += n
            else:
                s.core_code_lines += n
                s.core_code_cells += 1
                if n > s.longest_core_cell:
                    s.longest_core_cell, s.longest_core_cell_index = n, i
            s.widgets += _is_widget_cell(cell, factories)
            s.figures += _figure_outputs(cell)
    return s


# ---------------------------------------------------------------------------------------------
# Run times
# ---------------------------------------------------------------------------------------------

def code_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the lesson's code (all code cells, in order): a changed hash means stale run times."""
    import hashlib

    code = "\n\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _stamp(value: str) -> float:
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def measure(path: Path, timeout: int = 1800) -> dict[str, str]:
    """Execute an in-memory copy of the lesson in a fresh kernel; seconds spent in core/deeper cells."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    work = copy.deepcopy(nb)
    os.environ["FACECOURSE_PROGRESS"] = "0"
    client = NotebookClient(work, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    core = deeper = 0.0
    for cell, (kind, _) in zip(work.cells, cell_sections(work), strict=True):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "iopub.execute_input" not in timing:
            continue
        seconds = _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
        if kind == "deeper":
            deeper += seconds
        else:
            core += seconds
    return {"lesson": path.stem, "core_seconds": f"{core:.1f}", "deeper_seconds": f"{deeper:.1f}",
            "total_seconds": f"{total:.1f}",
            "measured_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
            "cpus": str(os.cpu_count()), "python": platform.python_version(), CODE_FIELD: code_hash(nb)}


def read_times(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = [k for k in TIME_FIELDS if rows and k not in rows[0]]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing; expected {TIME_FIELDS}. "
                         "Re-create it with `python tools/lesson_stats.py --measure`.")
    return {row["lesson"]: row for row in rows}


def write_times(path: Path, rows: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[*TIME_FIELDS, CODE_FIELD])
        w.writeheader()
        for key in sorted(rows):
            w.writerow({k: rows[key].get(k, "") for k in [*TIME_FIELDS, CODE_FIELD]})
    tmp.replace(path)  # never leave a half-written table


# ---------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------

COLUMNS = ["lesson", "core words", "deeper words", "self-check words", "code lines core/deeper",
           "longest core code cell", "active (core)", "self-check items", "widgets", "figures",
           "core run time (s)", "est. core time (min)", "slow reader (min)"]


def table(stats: Iterable[LessonStats]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for s in stats:
        run = "n/m" if s.core_seconds is None else f"{s.core_seconds:.0f}" + ("*" if s.times_stale else "")
        est = f"{s.estimated_minutes():.0f}" + ("+" if s.core_seconds is None else "")
        items = f"{s.selfcheck_questions}" + ("" if s.selfcheck_answers == s.selfcheck_questions
                                              else f" ({s.selfcheck_answers} answered)")
        longest = f"{s.longest_core_cell}" + (f" (c{s.longest_core_cell_index})"
                                              if s.longest_core_cell_index is not None else "")
        cells = [s.lesson, s.core_words, s.deeper_words, s.selfcheck_words,
                 f"{s.core_code_lines}/{s.deeper_code_lines}", longest, s.active, items,
                 s.widgets, s.figures, run, est, f"{s.slow_minutes():.0f}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="lessons (default: lessons/*.ipynb)")
    ap.add_argument("--measure", action="store_true", help="execute the lessons and record their run times")
    ap.add_argument("--times", type=Path, default=TIMES, help=f"run-time table (default {TIMES.relative_to(ROOT)})")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(LESSONS.glob("*.ipynb"))
    for p in paths:
        if not p.exists() or p.suffix != ".ipynb":
            ap.error(f"{p} is not a notebook; give paths like lessons/01_finding_faces.ipynb")
    times = read_times(args.times)
    if args.measure:
        for p in paths:
            print(f"measuring {p.name} ...", file=sys.stderr, flush=True)
            times[p.stem] = measure(p.resolve())
            write_times(args.times, times)  # after each lesson: an interrupted run keeps what it measured
    stats = []
    factories = _widget_factories()
    for p in paths:
        s = lesson_stats(p, factories)
        if p.stem in times:
            s.core_seconds = float(times[p.stem]["core_seconds"])
            s.deeper_seconds = float(times[p.stem]["deeper_seconds"])
            measured_sha = times[p.stem].get(CODE_FIELD) or ""
            s.times_stale = bool(measured_sha) and measured_sha != s.code_sha256
        stats.append(s)
    print(table(stats))
    print()
    print(f"Estimated core time = core words / {WORDS_PER_MINUTE} + {MINUTES_PER_CODE_CELL} min per core "
          f"code cell + {MINUTES_PER_ACTIVE:.0f} min per active moment + measured core run time. "
          f"Slow reader: {SLOW_WORDS_PER_MINUTE} words per minute and {SLOW_MINUTES_PER_CODE_CELL:.0f} min per "
          f"code cell, the rest the same. Neither is a classroom measurement: time a real class and compare.")
    used = [times[p.stem] for p in paths if p.stem in times]
    shown = args.times.relative_to(ROOT) if args.times.is_relative_to(ROOT) else args.times
    if used:
        when = sorted({r["measured_utc"] for r in used})
        print(f"Run times: from {shown}, measured by `python tools/lesson_stats.py --measure` "
              f"(one fresh-kernel run per lesson, warm faceprint cache) between {when[0]} and {when[-1]} "
              f"on {used[0]['cpus']} CPUs, Python {used[0]['python']}.")
    if any(s.times_stale for s in stats):
        print("* the lesson's code changed after its run time was measured: re-run with --measure.")
    if len(used) < len(paths):
        print("n/m = not measured: run `python tools/lesson_stats.py --measure`; "
              "'+' = estimate without run time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
