#!/usr/bin/env python3
"""Reproduce every benchmark figure of the course and print the ratios, in one command.

    python benchmarks/run_all.py                  # everything, full size (about 30-40 min on 2 idle cores)
    python benchmarks/run_all.py --quick          # smoke test of every benchmark (1-3 min); no test suite
    python benchmarks/run_all.py --only encoding,curves      # some of: encoding, curves, search, suite
    python benchmarks/run_all.py --report-only    # rebuild results/latest.md from the CSVs already there

Run from the repository root with the course's environment (``.venv/bin/python``), plus the
benchmark-only packages: ``python -m pip install -r benchmarks/requirements.txt``.

It runs, in this order (each also runs on its own, see ``--help`` of each):

1. ``bench_encoding.py``     - detect -> landmarks -> faceprint over all 222 photos: the helper
   package vs face_recognition called directly, 512 px vs 1350 px, 1 vs 2 worker processes,
   the cache warm and its invalidation;
2. ``bench_error_curves.py`` - all-pairs distances and FMR/FNMR at every threshold, 222 real
   faceprints to 50,000 synthetic ones; vs scikit-learn's ``roc_curve``; peak memory;
3. ``search_scaling.py``     - 1:N search from 10^4 to 10^6 faceprints (lesson 04's benchmark,
   maintained with lesson 04: called through its ``main(argv)``, ``--quick`` in quick mode);
4. ``bench_suite.py``        - wall time of the README's test command, cold and warm cache
   (full mode only, or ``--only suite``; it loads both cores for several minutes).

Full mode writes ``benchmarks/results/*.csv`` and ``benchmarks/results/latest.md``; quick mode
writes to a temporary folder (printed), so committed results are never replaced by smoke-test
numbers. Every benchmark prints the load average at its start and end: the machine may be
shared, which is why every comparison is a ratio measured within one run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    RESULTS,
    ensure_mirror,
    fmt_bytes,
    fmt_seconds,
    load_average,
    load_text,
    machine_info,
    machine_markdown,
    section,
)

PARTS = ("encoding", "curves", "search", "suite")


# --------------------------------------------------------------------------- running


def run_part(name: str, args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    start = time.perf_counter()
    load_start = load_average()
    section(f"{name}: starting; load average {load_text(load_start)}")
    status = "ok"
    try:
        if name == "encoding":
            import bench_encoding

            argv = ["--out-dir", str(out_dir)] + (["--quick"] if args.quick else [])
            bench_encoding.main(argv)
        elif name == "curves":
            import bench_error_curves

            argv = ["--out-dir", str(out_dir)] + (["--quick"] if args.quick else ["--blas-side"])
            bench_error_curves.main(argv)
        elif name == "search":
            script = HERE / "search_scaling.py"
            if not script.exists():
                print("  benchmarks/search_scaling.py is not in this checkout: skipped")
                status = "missing"
            else:
                import search_scaling

                argv = list(args.search_args.split()) if args.search_args else []
                if args.quick:
                    argv = ["--quick", "--out", str(out_dir / "search_scaling.csv"), *argv]
                code = search_scaling.main(argv)
                status = "ok" if code == 0 else f"exit code {code}"
        elif name == "suite":
            import bench_suite

            code = bench_suite.main(["--out", str(out_dir / "suite.csv")])
            status = "ok" if code == 0 else f"exit code {code}"
    except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' results
        traceback.print_exc()
        status = "FAILED (traceback above)"
    elapsed = time.perf_counter() - start
    load_end = load_average()
    print(f"\n[{name}] {status} in {fmt_seconds(elapsed)}; load average {load_start[0]:.2f} -> {load_end[0]:.2f}")
    return {"part": name, "status": status, "seconds": elapsed, "load_start": load_start[0], "load_end": load_end[0]}


# --------------------------------------------------------------------------- reporting


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def num(row: dict[str, str], key: str, default: float = float("nan")) -> float:
    """The number in a CSV row's column; ``default`` (nan) when the column is missing or not a number."""
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return default


def _direction(q: dict[str, str]) -> str:
    if "match_only_in_a" not in q:
        return ""
    return f"; match only in A: {q['match_only_in_a']}, only in B: {q['match_only_in_b']}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def build_report(out_dir: Path, parts: list[dict[str, Any]] | None = None) -> tuple[str, list[str], str]:
    """Markdown summary of every result CSV in ``out_dir``, the headline lines to print, and the
    short block for benchmarks/README.md (claims table and machine)."""
    lines: list[str] = []
    head: list[str] = []
    claims: list[tuple[str, str, str, str]] = []  # claim, measured, target, verdict

    enc = {r["variant"]: r for r in read_csv(out_dir / "encoding.csv")}
    ratios = read_csv(out_dir / "encoding_ratios.csv")
    quality = read_csv(out_dir / "encoding_quality.csv")
    pool = read_csv(out_dir / "encoding_pool.csv")
    cache = read_csv(out_dir / "encoding_cache.csv")
    enc_run = read_csv(out_dir / "encoding_run.csv")
    curves = read_csv(out_dir / "error_curves.csv")
    blas = read_csv(out_dir / "error_curves_blas.csv")
    curves_run = read_csv(out_dir / "error_curves_run.csv")
    suite = read_csv(out_dir / "suite.csv")
    suite_files = read_csv(out_dir / "suite_files.csv")
    suite_cache = read_csv(out_dir / "suite_cache.csv")

    # the machine as recorded by the runs themselves (the newest first), else this one
    info = machine_info()
    for rows in (enc_run, curves_run, suite):
        recorded = {k[len("machine: "):]: v for k, v in (rows[-1] if rows else {}).items()
                    if k.startswith("machine: ")}
        if recorded:
            info = recorded
            break

    def ratio(a: str, b: str) -> dict[str, str] | None:
        return next((r for r in ratios if r["variant"] == a and r["reference"] == b), None)

    # ---- claims
    r = ratio("wrapper_e2e_cold", "direct_512_e2e")
    if r:
        v = num(r, "median_per_photo_ratio")
        claims.append(("helper package overhead, end to end, same algorithm (encode_entry, cold cache, vs "
                       "load_image_file + 512-px HOG + face_encodings)",
                       f"{v:.3f}× per photo (median of {r['photos']}; totals {num(r, 'ratio_of_totals'):.3f}×)",
                       "≤ 1.05×", verdict(v <= 1.05)))
    r = ratio("wrapper_full", "direct_full")
    if r:
        v = num(r, "median_per_photo_ratio")
        claims.append(("helper package overhead on a decoded array, full-size detection (encode_array vs "
                       "face_locations + face_encodings)", f"{v:.3f}× per photo (totals "
                                                           f"{num(r, 'ratio_of_totals'):.3f}×)",
                       "≤ 1.05×", verdict(v <= 1.05)))
    r = ratio("wrapper_e2e_cold", "direct_default_e2e")
    if r and enc:
        claims.append(("course pipeline vs face_recognition with its defaults (HOG upsample 1 on 1350 px)",
                       f"{num(enc['wrapper_e2e_cold'], 'images_per_s'):.2f} vs "
                       f"{num(enc['direct_default_e2e'], 'images_per_s'):.2f} images/s: "
                       f"{num(r, 'speedup_of_variant'):.2f}× faster", "faster",
                       verdict(num(r, "speedup_of_variant") > 1)))
    r = ratio("direct_512", "direct_full")
    q = next((x for x in quality if x["pipeline_a"] == "direct_512"), None)
    if r:
        extra = ""
        if q:
            extra = (f"; faceprint of the same photo moves by {num(q, 'same_photo_distance_median'):.4f} (median; max "
                     f"{num(q, 'same_photo_distance_max'):.4f}); {q['decision_flips_at_0.6']} of "
                     f"{int(num(q, 'pairs')):,} decisions at 0.6 differ ({q['flips_mated']} mated, "
                     f"{q['flips_nonmated']} "
                     f"non-mated); false matches {q['false_matches_a']} (512 px) vs {q['false_matches_b']} (1350 px)")
        claims.append(("gain from detecting on a 512-px copy instead of 1350 px (upsample 0 both)",
                       f"{num(r, 'speedup_of_variant'):.2f}× faster{extra}",
                       "faster; decisions that change are counted", verdict(num(r, "speedup_of_variant") > 1)))
    if pool:
        w1 = next(x for x in pool if "workers=1" in x["variant"])
        w2 = next(x for x in pool if "workers=2" in x["variant"])
        sp = num(w2, "speedup_vs_workers1")
        cores = ""
        if "cores_obtained" in w2:
            cores = (f"; cores obtained (CPU s / wall s) {num(w1, 'cores_obtained'):.2f} with 1 worker, "
                     f"{num(w2, 'cores_obtained'):.2f} with 2; CPU per photo {num(w1, 'cpu_s_per_image') * 1e3:.0f} vs "
                     f"{num(w2, 'cpu_s_per_image') * 1e3:.0f} ms, so on 2 free cores about "
                     f"{2 * num(w1, 'cpu_s_per_image') / num(w2, 'cpu_s_per_image'):.2f}× (a projection, not a "
                     f"measurement)")
        claims.append(("two worker processes vs one (encode_entries, cold cache)",
                       f"{sp:.2f}× (load average {num(w2, 'load_start_1min'):.1f} → {num(w2, 'load_end_1min'):.1f} on "
                       f"{info['cores'].split()[0]} cores{cores})", "≈ 2× on 2 idle cores",
                       verdict(sp >= 1.8) + ("" if sp >= 1.8 else " (the second core was not free: see load and "
                                                                     "cores obtained)")))
    warm = next((x for x in cache if x["step"].startswith("warm")), None)
    if warm:
        claims.append(("warm cache (encode_entries of every photo again)",
                       f"{fmt_seconds(num(warm, 'seconds'))} ({num(warm, 'ms_per_image'):.2f} ms per photo; "
                       f"{num(warm, 'warm_over_cold') * 100:.2f} % of the cold time)", "near zero",
                       verdict(num(warm, "warm_over_cold") < 0.02)))
    inval = [x for x in cache if not x["step"].startswith("warm")]
    if inval:
        ok = all(x["as_expected"] == "True" for x in inval)
        claims.append(("cache invalidation: changed parameters / image bytes / dlib version recompute; "
                       "unchanged ones do not", f"{sum(x['as_expected'] == 'True' for x in inval)} of {len(inval)} "
                       "steps as expected", "all", verdict(ok)))
    for row in curves:
        if row["step"] == "curves":
            v = num(row, "sklearn_over_course")
            claims.append((f"error_rate_curves vs sklearn roc_curve, {row['case']} ({int(num(row, 'pairs')):,} pairs)",
                           f"sklearn takes {v:.2f}× the time ({fmt_seconds(num(row, 'sklearn_seconds'))} vs "
                           f"{fmt_seconds(num(row, 'seconds'))}); identical counts at "
                           f"{int(num(row, 'thresholds_compared')):,} "
                           f"thresholds: {row['identical_counts']}", "≥ 1× and identical",
                           verdict(v >= 1.0 and row["identical_counts"] == "True")))
    def case_size(case: str) -> float:
        return next(num(r, "n") for r in curves if r["case"] == case)

    for case in sorted({row["case"] for row in curves}, key=case_size):
        lib = next((r for r in curves if r["case"] == case and r["step"] == "scores_library"), None)
        chk = next((r for r in curves if r["case"] == case and r["step"] == "scores_chunked"), None)
        if lib and chk and num(lib, "n") >= 10_000:
            res = num(chk, "result_bytes")
            lib_ok = num(lib, "traced_peak_bytes") < 1.6 * res
            chk_ok = num(chk, "traced_peak_bytes") < 1.6 * res
            claims.append((f"all-pairs distances, {case} ({int(num(lib, 'pairs')):,} pairs), memory bounded",
                           f"`metrics.mated_and_nonmated`: {fmt_seconds(num(lib, 'seconds'))}, peak "
                           f"{fmt_bytes(num(lib, 'traced_peak_bytes'))} ({num(lib, 'traced_peak_bytes') / res:.1f}× "
                           f"the "
                           f"{fmt_bytes(res)} of distances); in blocks of 1,024 rows (the benchmark's "
                           f"`scores_chunked`, "
                           f"proposed for `metrics`): {fmt_seconds(num(chk, 'seconds'))}, peak "
                           f"{fmt_bytes(num(chk, 'traced_peak_bytes'))} ({num(chk, 'traced_peak_bytes') / res:.1f}×)",
                           "peak ≤ 1.6× the distances themselves",
                           verdict(lib_ok) + ("" if lib_ok else " by `mated_and_nonmated`; met in blocks" if chk_ok
                                              else "")))
    big = [row for row in curves if row["step"] == "histogram" and num(row, "n") >= 50_000]
    for row in big:
        claims.append((f"{row['case']}: FMR/FNMR histogram over {int(num(row, 'pairs')):,} pairs "
                       f"(error_counts_histogram, chunk {row.get('chunk_rows', '')})",
                       f"{fmt_seconds(num(row, 'seconds'))}, peak {fmt_bytes(num(row, 'traced_peak_bytes'))} allocated "
                       f"({fmt_bytes(num(row, 'rss_delta_bytes'))} resident)", "memory bounded (< 1 GiB)",
                       verdict(num(row, "rss_delta_bytes") < 2**30)))
    for row in suite:
        claims.append((f"test suite wall time, {row['mode']} cache ({row['pytest_summary']})",
                       f"{fmt_seconds(num(row, 'wall_s'))} (load {num(row, 'load_start_1min'):.1f} → "
                       f"{num(row, 'load_end_1min'):.1f})", f"< {fmt_seconds(num(row, 'target_s'))}",
                       verdict(row["target_met"] == "True")))

    dates = sorted({x["date"] for x in enc_run + curves_run + suite if x.get("date")})
    date = (dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}") if dates else info["date"]
    lines += [
        "# Benchmark results (latest)",
        "",
        f"Produced by `python benchmarks/run_all.py` (or the individual `bench_*.py`), summarised on "
        f"{machine_info()['date']}; measurements from {date}. Regenerate this file with "
        "`python benchmarks/run_all.py --report-only`. How to read it: `benchmarks/README.md`.",
        "",
        "## Claims and targets",
        "",
        "| claim | measured | target | |",
        "|---|---|---|---|",
        *[f"| {c} | {m} | {t} | {v} |" for c, m, t, v in claims],
        "",
        "## Machine",
        "",
        machine_markdown(info),
        "",
        "Load average (1 min) at the start and end of each benchmark run:",
        "",
    ]
    for name, rows in (("encoding", enc_run), ("error curves", curves_run)):
        for x in rows:
            what = f", parts: {x['parts']}" if x.get("parts") else ""
            lines.append(f"- {name} ({x['date']}{what}): {num(x, 'load_start_1min'):.2f} → "
                         f"{num(x, 'load_end_1min'):.2f}")
    for x in suite:
        lines.append(f"- test suite {x['mode']} ({x.get('date', '')}): {num(x, 'load_start_1min'):.2f} → "
                     f"{num(x, 'load_end_1min'):.2f}")
    if parts:
        for part in parts:
            lines.append(f"- run_all part `{part['part']}`: {part['status']}, {fmt_seconds(part['seconds'])}, load "
                         f"{part['load_start']:.2f} → {part['load_end']:.2f}")
    lines.append("")

    if enc:
        lines += ["## 1. Encoding pipeline (`bench_encoding.py`, `encoding*.csv`)", "",
                  "| variant | images/s | median ms/photo | p90 ms/photo | what |", "|---|---:|---:|---:|---|"]
        for e in enc.values():
            lines.append(f"| `{e['variant']}` | {num(e, 'images_per_s'):.2f} | {num(e, 'median_ms_per_image'):.0f} | "
                         f"{num(e, 'p90_ms_per_image'):.0f} | {e['description']} |")
        lines += ["", "| variant / reference | median per-photo ratio (p10–p90) | ratio of totals | meaning |",
                  "|---|---:|---:|---|"]
        for r in ratios:
            lines.append(f"| `{r['variant']}` / `{r['reference']}` | {num(r, 'median_per_photo_ratio'):.3f} "
                         f"({num(r, 'p10_ratio'):.2f}–{num(r, 'p90_ratio'):.2f}) | {num(r, 'ratio_of_totals'):.3f} | "
                         f"{r['meaning']} |")
    if quality:
        lines += ["", "Faceprints of the same photos from two pipelines (distances between the two faceprints of one "
                  "photo; decisions = match if distance ≤ 0.6, over every pair of photos both pipelines encoded):", "",
                  "| A vs B | photos | FTA A/B | identical | same-photo distance median / p95 / max | decisions "
                  "flipped | false matches A/B | false non-matches A/B |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for q in quality:
            lines.append(
                f"| `{q['pipeline_a']}` vs `{q['pipeline_b']}` ({q['what_differs']}) | {q['photos_both']} | "
                f"{q['fta_a']}/{q['fta_b']} | {q['identical_faceprints']} | {num(q, 'same_photo_distance_median'):.4f} "
                f"/ "
                f"{num(q, 'same_photo_distance_p95'):.4f} / {num(q, 'same_photo_distance_max'):.4f} | "
                f"{q['decision_flips_at_0.6']} of {int(num(q, 'pairs')):,} ({q['flips_mated']} mated, "
                f"{q['flips_nonmated']} non-mated{_direction(q)}) | {q['false_matches_a']}/{q['false_matches_b']} of "
                f"{int(num(q, 'nonmated_pairs')):,} | {q['false_non_matches_a']}/{q['false_non_matches_b']} of "
                f"{q['mated_pairs']} |")
    if pool:
        lines += ["", "| encode_entries, cold cache | median | images/s | speed-up | cores obtained | CPU ms/photo | "
                  "all runs (s) | load start → end |", "|---|---:|---:|---:|---:|---:|---|---|"]
        for p in pool:
            lines.append(f"| {p['variant']} ({p['photos']} photos) | {fmt_seconds(num(p, 'median_s'))} | "
                         f"{num(p, 'images_per_s'):.2f} | {num(p, 'speedup_vs_workers1'):.2f}× | "
                         f"{num(p, 'cores_obtained'):.2f} | {num(p, 'cpu_s_per_image') * 1e3:.0f} | {p['all_runs_s']} "
                         f"| "
                         f"{num(p, 'load_start_1min'):.1f} → {num(p, 'load_end_1min'):.1f} |")
    if cache:
        lines += ["", "| cache step | time | recomputed (expected) | as expected |", "|---|---:|---:|---|"]
        for c in cache:
            lines.append(f"| {c['step']} | {fmt_seconds(num(c, 'seconds'))} | {c['recomputed']} "
                         f"({c['expected_recomputed']}) | {c['as_expected']} |")
    fixes = read_csv(out_dir / "encoding_fixes.csv")
    if fixes:
        lines += ["", "Candidate fixes in files the benchmarks do not own, measured on a subset "
                  "(`encoding_fixes.csv`):", "",
                  "| fix | variant | median | ratio | check |", "|---|---|---:|---:|---|"]
        for x in fixes:
            lines.append(f"| {x['fix']} | `{x['variant']}` | {num(x, 'median_ms'):.1f} ms | "
                         f"{num(x, 'ratio_vs_reference'):.2f}× `{x['reference']}` | {x['check']} |")
    if curves:
        lines += ["", "## 2. Error-rate curves (`bench_error_curves.py`, `error_curves.csv`)", "",
                  "SYNTHETIC faceprints above 222 (facecourse.synthetic, fitted to the London Set): used for time and "
                  "memory only.", "",
                  "| case | step | pairs | median time | peak allocated (tracemalloc) | peak resident delta | notes |",
                  "|---|---|---:|---:|---:|---:|---|"]
        for c in curves:
            note = ""
            if c["step"] == "curves":
                note = (f"sklearn roc_curve {fmt_seconds(num(c, 'sklearn_seconds'))} "
                        f"({num(c, 'sklearn_over_course'):.2f}×), peak "
                        f"{fmt_bytes(num(c, 'sklearn_traced_peak_bytes'))} allocated, "
                        f"{fmt_bytes(num(c, 'sklearn_rss_delta_bytes'))} resident; "
                        f"identical at {int(num(c, 'thresholds_compared')):,} thresholds: {c['identical_counts']}")
            elif c.get("max_count_diff_vs_exact"):
                note = (f"max count difference vs exact curves at {c['edges_checked']} edges: "
                        f"{c['max_count_diff_vs_exact']}")
            lines.append(f"| {c['case']} | `{c['step']}` | {int(num(c, 'pairs')):,} | {fmt_seconds(num(c, 'seconds'))} "
                         f"| "
                         f"{fmt_bytes(num(c, 'traced_peak_bytes'))} | {fmt_bytes(num(c, 'rss_delta_bytes'))} | {note} "
                         f"|")
        if blas:
            lines += ["", "Side measurement (`--blas-side`): the 10k all-pairs distances (BLAS matrix products) "
                      "in subprocesses with `OPENBLAS_CORETYPE` as set and unset (that command only):", ""]
            for setting in sorted({b["setting"] for b in blas}):
                vals = sorted(num(b, "seconds") for b in blas if b["setting"] == setting)
                lines.append(f"- {setting}: median {fmt_seconds(vals[len(vals) // 2])} ({len(vals)} runs)")
    search_md = out_dir / "search_scaling.md"
    lines += ["", "## 3. 1:N search (`search_scaling.py`, lesson 04's benchmark)", ""]
    lines.append(f"See `{search_md.name}` (written by `search_scaling.py`)." if search_md.exists()
                 else "No `search_scaling.md` in this folder yet: run `python benchmarks/search_scaling.py`.")
    if suite:
        lines += ["", "## 4. The whole test suite (`bench_suite.py`, `suite*.csv`)", "",
                  "| run | wall time | target | result | load start → end |", "|---|---:|---:|---|---|"]
        for s in suite:
            lines.append(f"| {s['mode']} | {fmt_seconds(num(s, 'wall_s'))} | < {fmt_seconds(num(s, 'target_s'))} | "
                         f"{s['pytest_summary']} | {num(s, 'load_start_1min'):.1f} → {num(s, 'load_end_1min'):.1f} |")
        if suite_files:
            cols = [k for k in ("cold_s", "warm_s") if k in suite_files[0]]
            lines += ["", "Slowest files (sum of their tests' times; a notebook is one file):", "",
                      "| file | " + " | ".join(cols) + " | tests |", "|---|" + "---:|" * (len(cols) + 1)]
            for s in suite_files[:15]:
                times = " | ".join(f"{num(s, c, 0.0):.1f}" for c in cols)
                lines.append(f"| `{s['file']}` | {times} | {s['tests']} |")
        if suite_cache:
            groups: dict[tuple[str, str], list[dict[str, str]]] = {}
            for s in suite_cache:
                groups.setdefault((s["folder"], s["params"] or "(other)"), []).append(s)
            lines += ["", "What the cold run cached (faceprint files per parameter set; changed copies per variant):",
                      "", "| folder | parameters | files | of which |", "|---|---|---:|---|"]
            for (folder, params), rows in groups.items():
                total = sum(int(r["files"]) for r in rows)
                detail = ", ".join(f"{r['variant']}: {r['files']}" for r in rows)
                lines.append(f"| `{folder}` | {params} | {total} | {detail} |")
    lines.append("")
    for claim, measured, target, met in claims:
        head.append(f"{met.replace('**', ''):>8}  {claim}: {measured} (target {target})")
    short = "\n".join([
        f"Measured {date} (summary: [`results/latest.md`](results/latest.md), every number in `results/*.csv`). "
        f"Machine: {info['CPU']}, {info['cores']}, {info['RAM'].split(',')[0]}; Python {info['Python']}, numpy "
        f"{info['numpy']}, dlib {info['dlib']}, faiss-cpu {info['faiss-cpu']}; BLAS: {info['BLAS (threadpoolctl)']}; "
        f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}. The load average at each run's start and end is in "
        "`latest.md`: the machine was shared.",
        "",
        "| claim | measured | target | |",
        "|---|---|---|---|",
        *[f"| {c} | {m} | {t} | {v} |" for c, m, t, v in claims],
    ])
    return "\n".join(lines), head, short


def update_readme(block: str) -> bool:
    """Replace the 'Latest results' block of benchmarks/README.md (between its markers)."""
    readme = HERE / "README.md"
    text = readme.read_text()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start not in text or end not in text:
        return False
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    readme.write_text(f"{before}{start}\n{block}\n{end}{after}")
    return True


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="smoke-test sizes, results to a temporary folder, no test suite")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(PARTS)}")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out")
    ap.add_argument("--search-args", default="", help="extra arguments for search_scaling.py (quoted)")
    ap.add_argument("--out-dir", type=Path, default=None,
                    help="where CSVs and latest.md go (default: benchmarks/results, or a temporary folder with "
                         "--quick)")
    ap.add_argument("--report-only", action="store_true", help="only rebuild latest.md from the CSVs in --out-dir")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_mirror()
    out_dir = args.out_dir or (Path(tempfile.mkdtemp(prefix="facecourse-bench-quick-")) if args.quick else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts_done: list[dict[str, Any]] = []
    if not args.report_only:
        wanted = [p.strip() for p in args.only.split(",") if p.strip()] or list(PARTS)
        skip = {p.strip() for p in args.skip.split(",") if p.strip()}
        unknown = sorted((set(wanted) | skip) - set(PARTS))
        if unknown:
            print(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
            return 2
        if args.quick and "suite" in wanted and not args.only:
            wanted.remove("suite")
            print("quick mode: the test-suite benchmark is left out (run it with --only suite)")
        started = _dt.datetime.now()
        print(f"run_all: {', '.join(p for p in wanted if p not in skip)}; results in {out_dir}; "
              f"load average {load_text()}")
        for part in wanted:
            if part not in skip:
                parts_done.append(run_part(part, args, out_dir))
        print(f"\nrun_all finished in {fmt_seconds((_dt.datetime.now() - started).total_seconds())}")
    report, head, short = build_report(out_dir, parts_done)
    (out_dir / "latest.md").write_text(report)
    if out_dir.resolve() == RESULTS.resolve() and update_readme(short):
        print("updated the 'Latest results' section of benchmarks/README.md")
    section("claims and targets")
    for line in head:
        print("  " + line)
    print(f"\nwrote {out_dir / 'latest.md'}")
    return 0 if all(p["status"] in ("ok", "missing") for p in parts_done) else 1


if __name__ == "__main__":
    sys.exit(main())
