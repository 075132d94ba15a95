#!/usr/bin/env python3
"""Wall time of the course's whole test suite, cold and warm, and what dominates it.

    python benchmarks/bench_suite.py                 # cold, then warm (reusing the cold run's cache)
    python benchmarks/bench_suite.py --mode warm     # warm only (fills a cache first, untimed)
    python benchmarks/bench_suite.py --via-course    # literally `python3 tools/course.py test ...`

What runs is the README's test command, ``python3 tools/course.py test``, which (once ``.venv`` is
set up) is ``<venv python> -m pytest`` from the repository root with ``FACECOURSE_PROGRESS=0``:
unit tests, then every lesson and exercise solution under nbval (see pyproject.toml). This script
runs that same pytest command with the current interpreter (or ``--python``), adding only
``--durations=25`` (the slowest 25 test phases, printed by pytest) and ``--junitxml`` (the time of
every test, from which the time per file, i.e. per notebook, is summed).

* **cold**: ``FACECOURSE_CACHE_DIR`` points at a new, empty folder, so every faceprint and every
  degraded copy is computed from the photos (the photos themselves are already downloaded, or
  come from the offline mirror: downloading is not what is measured);
* **warm**: the same command again with the cache the cold run filled.

Targets (CONTRIBUTING.md): cold < 10 min, warm < 3 min on 2 cores. The suite loads both cores for
minutes: do not run it more often than needed on a shared machine.

Writes ``benchmarks/results/suite.csv`` (one row per run), ``suite_files.csv`` (time per test file
or notebook, cold and warm) and ``suite_slowest.csv`` (pytest's 25 slowest phases per run), and
prints a summary. The cache made by the cold run is described (files per parameter set) because
it shows which notebooks encode with which settings.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, ensure_mirror, fmt_seconds, load_average, load_text, machine_info, section, write_csv

TARGETS = {"cold": 600.0, "warm": 180.0}
SUMMARY_RE = re.compile(r"=+ (.*?(?:passed|failed|error|skipped).*?) in ([\d.]+)s")
DURATION_RE = re.compile(r"^\s*([\d.]+)s\s+(setup|call|teardown)\s+(.+)$")


def default_python() -> str:
    venv = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return str(venv) if venv.exists() else sys.executable


def pytest_command(args: argparse.Namespace, junit: Path) -> list[str]:
    extra = ["--durations=25", f"--junitxml={junit}", "-o", "junit_family=xunit1", *args.pytest_args]
    if args.via_course:
        return [sys.executable, str(ROOT / "tools" / "course.py"), "test", *extra]
    return [args.python, "-m", "pytest", *extra]


def run_suite(mode: str, args: argparse.Namespace, cache: Path, work: Path) -> dict[str, Any]:
    junit = work / f"junit-{mode}.xml"
    log = work / f"pytest-{mode}.log"
    env = dict(os.environ, FACECOURSE_CACHE_DIR=str(cache), FACECOURSE_PROGRESS="0")
    cmd = pytest_command(args, junit)
    section(f"test suite, {mode} cache ({cache})")
    print("  $ " + " ".join(cmd), flush=True)
    load_start = load_average()
    print(f"  load average at start: {load_text(load_start)}", flush=True)
    start = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - start
    load_end = load_average()
    text = log.read_text(errors="replace")
    summary = SUMMARY_RE.findall(text)
    summary_text = summary[-1][0] if summary else "(no pytest summary line)"
    print(f"  wall time {fmt_seconds(wall)}; exit code {proc.returncode}; {summary_text}")
    print(f"  load average at end: {load_text(load_end)}")
    if args.keep_logs:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, args.out.with_name(f"suite_{mode}.log"))
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)",
                                                summary_text)}
    return {
        "mode": mode,
        "wall_s": wall,
        "target_s": TARGETS[mode],
        "target_met": wall < TARGETS[mode],
        "exit_code": proc.returncode,
        "passed": counts.get("passed", 0),
        "failed": counts.get("failed", 0),
        "errors": counts.get("errors", counts.get("error", 0)),
        "skipped": counts.get("skipped", 0),
        "load_start_1min": load_start[0],
        "load_end_1min": load_end[0],
        "load_start_5min": load_start[1],
        "load_end_5min": load_end[1],
        "pytest_summary": summary_text,
        "command": " ".join(cmd[1:]) if not args.via_course else " ".join(cmd),
        "_junit": junit,
        "_log": text,
    }


def per_file_times(junit: Path) -> dict[str, dict[str, float]]:
    """Seconds per test file (a notebook is one file; nbval makes one test per cell)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "tests": 0, "failed": 0})
    if not junit.exists():
        return {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("file") or case.get("classname", "?").replace(".", "/")
        row = out[name]
        row["seconds"] += float(case.get("time") or 0.0)
        row["tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            row["failed"] += 1
    return dict(out)


def slowest(log: str) -> list[tuple[float, str, str]]:
    rows = []
    in_block = False
    for line in log.splitlines():
        if "slowest" in line and "durations" in line:
            in_block = True
            continue
        if in_block:
            m = DURATION_RE.match(line)
            if m:
                rows.append((float(m.group(1)), m.group(2), m.group(3).strip()))
            elif rows and (line.startswith("=") or not line.strip()):
                break
    return rows


def describe_cache(cache: Path) -> list[dict[str, Any]]:
    """Files per cache folder (parameter set) and per changed-copy variant, named when known.

    Cache files are ``<image sha256>[--<sha256 of the variant name>[:16]].npz``; the variant names of
    the course's degradations are hashed here to name them (e.g. ``blur:4@512``).
    """
    names = _known_param_keys()
    variant_names = _known_variants()
    rows = []
    for area in sorted(p for p in cache.rglob("*") if p.is_dir()):
        files = [f for f in area.iterdir() if f.is_file() and f.suffix == ".npz"]
        if not files:
            continue
        by_variant: dict[str, set[str]] = defaultdict(set)
        for f in files:
            sha, _, variant = f.stem.partition("--")
            by_variant[variant].add(sha)
        for variant, shas in sorted(by_variant.items(), key=lambda kv: (kv[0] != "", kv[0])):
            rows.append({
                "folder": str(area.relative_to(cache)),
                "params": names.get(area.name, ""),
                "variant": "(the photo itself)" if not variant else variant_names.get(variant, variant),
                "files": len(shas),
            })
    return rows


def _known_variants() -> dict[str, str]:
    """Hashed variant keys (as in faceprints.cache_path) of the course's degradations, at 512 px and full size."""
    out: dict[str, str] = {}
    try:
        from facecourse import degrade
    except Exception:  # noqa: BLE001 - labels are a nicety
        return out
    candidates: list[Any] = []
    for side in (512, None):
        candidates += degrade.conditions_with_low_light(base_side=side)  # the standard ones plus low light
    for c in candidates:
        out[hashlib.sha256(c.variant.encode()).hexdigest()[:16]] = c.variant
    return out


def _known_param_keys() -> dict[str, str]:
    """Cache keys of the parameter sets the lessons are likely to use, to label the cache folders."""
    try:
        from facecourse.faceprints import EncodingParams
    except Exception:  # noqa: BLE001 - labels are a nicety
        return {}
    candidates = {
        "default (HOG on 512 px, upsample 0, 1 jitter, 5-point)": EncodingParams(),
        "full-size detection": EncodingParams(detect_max_side=None),
        "HOG upsample 1": EncodingParams(upsample=1),
        "full-size, upsample 1 (face_recognition's defaults)": EncodingParams(detect_max_side=None, upsample=1),
        "CNN on 512 px": EncodingParams(detector="cnn"),
        "CNN full size": EncodingParams(detector="cnn", detect_max_side=None),
        "68-point landmarks": EncodingParams(landmark_model="large"),
        "num_jitters=10": EncodingParams(num_jitters=10),
        "num_jitters=100": EncodingParams(num_jitters=100),
        "on_multiple=error": EncodingParams(on_multiple="error"),
        "on_multiple=all": EncodingParams(on_multiple="all"),
    }
    for side in (256, 320, 384, 640, 800, 1024):
        candidates[f"HOG on {side} px"] = EncodingParams(detect_max_side=side)
    return {p.key(): label for label, p in candidates.items()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["cold", "warm", "both"], default="both",
                    help="cold (empty cache), warm (cache already filled), or both in turn (default)")
    ap.add_argument("--python", default=default_python(),
                    help="interpreter whose pytest runs (default: .venv's if present, else this one)")
    ap.add_argument("--via-course", action="store_true",
                    help="run `python3 tools/course.py test` itself (needs an up-to-date .venv)")
    ap.add_argument("--keep-logs", action="store_true", help="copy pytest's output to results/suite_<mode>.log")
    ap.add_argument("--out", type=Path, default=RESULTS / "suite.csv")
    ap.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_mirror()
    info = machine_info()
    section("machine")
    for k, v in info.items():
        print(f"  {k}: {v}")
    work = Path(tempfile.mkdtemp(prefix="facecourse-suite-"))
    cache = work / "cache"
    cache.mkdir()
    runs = []
    try:
        modes = ["cold", "warm"] if args.mode == "both" else [args.mode]
        if modes == ["warm"]:
            section("filling the cache first (untimed)")
            fill = run_suite("cold", args, cache, work)
            print(f"  (filled in {fmt_seconds(fill['wall_s'])})")
        cache_rows: list[dict[str, Any]] = []
        for mode in modes:
            runs.append(run_suite(mode, args, cache, work))
            if mode == "cold":
                cache_rows = describe_cache(cache)
        files: dict[str, dict[str, Any]] = defaultdict(dict)
        slow_rows = []
        for run in runs:
            for name, row in per_file_times(run["_junit"]).items():
                files[name][f"{run['mode']}_s"] = row["seconds"]
                files[name]["tests"] = row["tests"]
                files[name][f"{run['mode']}_failed"] = row["failed"]
            for sec, phase, nodeid in slowest(run["_log"]):
                slow_rows.append({"mode": run["mode"], "seconds": sec, "phase": phase, "test": nodeid})
        first = runs[0]["mode"]
        file_rows = sorted(({"file": k, **v} for k, v in files.items()),
                           key=lambda r: -r.get(f"{first}_s", 0.0))
        out = args.out
        write_csv([{k: v for k, v in r.items() if not k.startswith("_")} | {"date": info["date"]}
                   | {f"machine: {k}": v for k, v in info.items()} for r in runs], out)
        write_csv(file_rows, out.with_name("suite_files.csv"))
        write_csv(slow_rows, out.with_name("suite_slowest.csv"))
        if cache_rows:
            write_csv(cache_rows, out.with_name("suite_cache.csv"))

        section("summary")
        for run in runs:
            verdict = "met" if run["target_met"] else "NOT met"
            print(f"  {run['mode']:<5} {fmt_seconds(run['wall_s']):>9}  (target < {fmt_seconds(run['target_s'])}: "
                  f"{verdict}); {run['pytest_summary']}; load {run['load_start_1min']:.1f} -> "
                  f"{run['load_end_1min']:.1f}")
        if len(runs) == 2:
            print(f"  cold / warm = {runs[0]['wall_s'] / runs[1]['wall_s']:.2f}×")
        print("\n  slowest files (seconds, by the first run's time):")
        cols = [f"{r['mode']}_s" for r in runs]
        print("    " + "".join(f"{c:>10}" for c in cols) + "  file")
        for row in file_rows[:20]:
            print("    " + "".join(f"{row.get(c, 0.0):>10.1f}" for c in cols) + f"  {row['file']}")
        total_nb = {c: sum(r.get(c, 0.0) for r in file_rows if r["file"].endswith(".ipynb")) for c in cols}
        total_py = {c: sum(r.get(c, 0.0) for r in file_rows if not r["file"].endswith(".ipynb")) for c in cols}
        print("    " + "".join(f"{total_nb[c]:>10.1f}" for c in cols) + "  (all notebooks)")
        print("    " + "".join(f"{total_py[c]:>10.1f}" for c in cols) + "  (all unit-test files)")
        if cache_rows:
            print("\n  what the cold run cached (parameter set, variant: photos):")
            by_folder: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in cache_rows:
                by_folder[f"{row['folder']} ({row['params'] or 'other parameters'})"].append(row)
            for folder, rows in by_folder.items():
                total = sum(r["files"] for r in rows)
                print(f"    {folder}: {total} files")
                print("      " + ", ".join(f"{r['variant']}: {r['files']}" for r in rows))
        print(f"\n  wrote {out}, {out.with_name('suite_files.csv').name}, {out.with_name('suite_slowest.csv').name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["exit_code"] in (0, 1) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
