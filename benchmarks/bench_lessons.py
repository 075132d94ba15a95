#!/usr/bin/env python3
"""Per lesson, on one core: wall time and peak memory cold, cold with the class cache, and warm.

    python -m facecourse build-class-cache /tmp/class-cache          # once (see docs/classroom.md)
    taskset -c 0 python benchmarks/bench_lessons.py --class-cache /tmp/class-cache
    taskset -c 0 python benchmarks/bench_lessons.py --class-cache DIR --lessons 03 --conditions class,warm

Each run executes a **copy** of a lesson (in memory, with nbclient; the committed notebook is not
touched) in a fresh process and a fresh kernel, pinned to one core (start the script under
``taskset -c 0``: the kernel inherits the affinity, and ``faceprints.default_workers`` then starts
one worker). What a student's first run on a one-core hub pod looks like:

* ``cold``: an empty cache of their own, no class cache (every faceprint computed);
* ``class``: an empty cache of their own, ``FACECOURSE_CLASS_CACHE`` set (what a class cache saves);
* ``warm``: their own cache already holding every faceprint (a copy of the class cache's files,
  which are the same files a cold run writes), no class cache: a second run.

Reported per run: wall time from starting the kernel to the last cell; the CPU time the kernel and
its worker processes used (user + system: what the run costs on an idle core, whatever the load
of a shared machine made the wall time); the kernel's peak resident
memory (``VmHWM``, printed by one extra cell appended to the copy) and its peak virtual memory
(``VmPeak``), the notebook client's own peak (``ru_maxrss``), how many faceprint files the run wrote
into the student's cache (with the class cache this should be 0: otherwise the class cache misses
something a lesson computes), and the load average before and after (the machine is shared: a
loaded machine makes every time longer). Results are appended to ``--out`` after every run
(default ``benchmarks/results/lessons.csv``), so an interrupted run keeps what it measured;
``--table`` prints the Markdown table from that file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, ensure_mirror, load_average

TAG = "RESULT "
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
STATUS_CELL = ("import json as _j, resource as _r\n"
               "_cpu = sum(getattr(_r.getrusage(w), f) for w in (_r.RUSAGE_SELF, _r.RUSAGE_CHILDREN) "
               "for f in ('ru_utime', 'ru_stime'))\n"
               "print('MEMSTATUS ' + _j.dumps({'cpu': _cpu, **{l.split(':')[0]: int(l.split()[1]) * 1024 for l in "
               "open('/proc/self/status') if l.startswith(('VmPeak', 'VmHWM'))}}))")
FIELDS = ["lesson", "condition", "seconds", "kernel_cpu_seconds", "kernel_peak_rss_mib", "kernel_peak_virtual_mib",
          "client_peak_rss_mib", "faceprints_written", "cpus", "load_before", "load_after", "status", "when"]


def child(notebook: Path) -> None:
    """Execute one lesson copy here and print one result row (runs in a fresh process)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(STATUS_CELL))
    client = NotebookClient(nb, kernel_name="python3", timeout=3600,
                            resources={"metadata": {"path": str(notebook.parent)}})
    status = "ok"
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as err:  # noqa: BLE001 - any failure is reported in the table, not hidden
        status = f"failed: {type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''}"
    seconds = time.perf_counter() - t0
    peaks: dict[str, int] = {}
    for output in nb.cells[-1].get("outputs", []):
        if "MEMSTATUS " in output.get("text", ""):
            peaks = json.loads(output["text"].split("MEMSTATUS ", 1)[1])
    print(TAG + json.dumps({"seconds": round(seconds, 1), "status": status,
                            "kernel_cpu_seconds": round(peaks.get("cpu", float("nan")), 1),
                            "kernel_peak_rss_mib": round(peaks.get("VmHWM", 0) / 2**20),
                            "kernel_peak_virtual_mib": round(peaks.get("VmPeak", 0) / 2**20),
                            "client_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
          flush=True)


def count_faceprints(cache: Path) -> int:
    folder = cache / "faceprints"
    return sum(1 for _ in folder.rglob("*.npz")) if folder.exists() else 0


def run(notebook: Path, condition: str, class_cache: Path, work: Path) -> dict[str, Any]:
    cache = work / f"{notebook.stem}-{condition}"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    env = dict(os.environ, FACECOURSE_CACHE_DIR=str(cache), FACECOURSE_PROGRESS="0")
    env.pop("FACECOURSE_CLASS_CACHE", None)
    if condition == "class":
        env["FACECOURSE_CLASS_CACHE"] = str(class_cache)
    elif condition == "warm":
        shutil.copytree(class_cache / "faceprints", cache / "faceprints")
        for p in (cache / "faceprints").rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)  # a student's own files are writable
    before_files = count_faceprints(cache)
    load_before = " ".join(f"{x:.2f}" for x in load_average())
    proc = subprocess.run([sys.executable, __file__, "--child", str(notebook)], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, text=True, check=False)
    load_after = " ".join(f"{x:.2f}" for x in load_average())
    row: dict[str, Any] = next((json.loads(line[len(TAG):]) for line in proc.stdout.splitlines()
                                if line.startswith(TAG)), {"status": f"child exited {proc.returncode}"})
    row.update(lesson=notebook.stem, condition=condition, faceprints_written=count_faceprints(cache) - before_files,
               cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
               load_before=load_before, load_after=load_after, when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    shutil.rmtree(cache, ignore_errors=True)
    return row


def table(path: Path) -> str:
    """Markdown: one row per lesson, the latest measurement of each condition."""
    latest: dict[tuple[str, str], dict[str, str]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            latest[row["lesson"], row["condition"]] = row
    lessons = sorted({k[0] for k in latest})

    def cell(lesson: str, cond: str) -> str:
        r = latest.get((lesson, cond))
        if r is None:
            return "not measured"
        text = (f"{float(r['seconds']):.0f} s ({float(r['kernel_cpu_seconds']):.0f} s CPU), "
                f"{r['kernel_peak_rss_mib']} MiB")
        if cond == "class" and r["faceprints_written"] not in ("0", ""):
            text += f" ({r['faceprints_written']} computed)"
        if r["status"] != "ok":
            text += f" **{r['status']}**"
        return text + f" [load {r['load_before'].split()[0]}]"

    lines = ["| lesson | cold, no class cache | cold, with the class cache | warm |", "|---|---|---|---|"]
    lines += [f"| {ls} | {cell(ls, 'cold')} | {cell(ls, 'class')} | {cell(ls, 'warm')} |" for ls in lessons]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--class-cache", type=Path, help="a class cache built by `python -m facecourse build-class-cache`")
    ap.add_argument("--lessons", default="", help="comma-separated lesson numbers (default: all)")
    ap.add_argument("--conditions", default="warm,class,cold", help="any of warm,class,cold, in this order")
    ap.add_argument("--out", type=Path, default=RESULTS / "lessons.csv")
    ap.add_argument("--table", action="store_true", help="print the Markdown table of --out and stop")
    ap.add_argument("--write-md", type=Path, help="with --table: also write it, with the machine and the legend, here")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.table:
        text = table(args.out)
        print(text)
        if args.write_md:
            from common import machine_info, machine_markdown

            args.write_md.write_text(
                "# Lessons on one core: cold, with the class cache, warm\n\n"
                "Written by `benchmarks/bench_lessons.py --table --write-md` from `lessons.csv` (the latest run of "
                "each lesson and condition). Each cell: wall time of a fresh kernel running the whole lesson, pinned "
                "to one core; in brackets the CPU time the kernel used (what the run costs on an idle core); the "
                "kernel's peak resident memory (VmHWM); `[load x]` the 1-minute load average when "
                "the run started (this machine has 2 cores shared with other users: a load above 2 means the run "
                "waited for the CPU, and its time is longer than on an idle core). '(n computed)' with the class "
                "cache: faceprints the lesson still computed itself.\n\n" + text + "\n\n## Machine\n\n"
                + machine_markdown(machine_info()) + "\n")
            print("wrote", args.write_md)
        return 0
    if args.class_cache is None or not (args.class_cache / "index.json").exists():
        ap.error("--class-cache must name a built class cache (it has an index.json)")
    ensure_mirror()
    wanted = {s.zfill(2) for s in args.lessons.split(",") if s}
    lessons = [nb for nb in LESSONS if not wanted or nb.stem[:2] in wanted]
    conditions = [c for c in args.conditions.split(",") if c]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new = not args.out.exists()
    with tempfile.TemporaryDirectory(prefix="bench-lessons-") as tmp:
        for condition in conditions:  # all lessons in one condition, then the next (cold last: the longest)
            for nb in lessons:
                row = run(nb, condition, args.class_cache.resolve(), Path(tmp))
                print(f"{row['lesson']:<32} {condition:<6} {row.get('seconds', float('nan')):>7} s  kernel "
                      f"{row.get('kernel_peak_rss_mib', '?')} MiB  wrote {row['faceprints_written']}  "
                      f"load {row['load_before']}  {row['status']}", flush=True)
                with args.out.open("a", newline="") as fh:
                    writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
                    if new:
                        writer.writeheader()
                        new = False
                    writer.writerow(row)
    print(table(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
