#!/usr/bin/env python3
"""All-pairs distances and FMR/FNMR at every threshold, from the course's 222 photos to 50,000 faceprints.

    python benchmarks/bench_error_curves.py           # 222 real, 1k, 10k (50 million pairs), 50k synthetic
    python benchmarks/bench_error_curves.py --quick   # 222 real, 1k, histogram on 5k (under a minute)

Sizes (N faceprints, N(N-1)/2 pairs): the course's real faceprints (all photos in which a face was
found; cached), then **SYNTHETIC** faceprints (``facecourse.synthetic``, fitted to the London Set's
mated and non-mated distances; 4 samples per synthetic identity) at 1,000, 10,000 and 50,000.
Timings and memory do not depend on where the vectors come from; the error rates of synthetic
vectors mean nothing and are not reported.

Steps, each case and step in a **fresh process**. Memory is reported twice: the peak resident
memory during the step above the resident memory before it (Linux: the kernel's peak counter
VmHWM is reset first; elsewhere ``ru_maxrss``), and ``tracemalloc``'s peak of allocated bytes
(which sees numpy's arrays) during one more, untimed run of the step:

* ``scores_library`` - ``metrics.mated_and_nonmated``: the full N x N matrix, then the upper
  triangle (with the index of every pair). Up to 10k.
* ``scores_chunked`` - the same distances, a block of rows at a time (``metrics.pairwise_distances``
  on rows ``i:i+1024`` against ``i:``), written into preallocated mated / non-mated arrays: memory
  is the result plus one block. Up to 10k (at 50k the 1.25 billion distances alone need 10 GB).
* ``curves`` - on the same scores, interleaved, median of repeats:
  ``metrics.error_rate_curves(mated, nonmated)`` vs ``sklearn.metrics.roc_curve(labels, -distance,
  drop_intermediate=False)``. The benchmark **asserts** that both give the same thresholds and the
  same false-match and false-non-match counts (hence FMR and FNMR) at every one of them.
  Target: error_rate_curves at least as fast, numbers identical.
* ``histogram`` - ``metrics.error_counts_histogram(..., chunk_size=512)``: counts in 2,001 bins
  of width 0.001, never holding all distances: the way to 50k (1.25 billion pairs). At 10k and
  below it is checked against the exact curves at every bin edge.

Writes ``benchmarks/results/error_curves.csv`` (and ``error_curves_blas.csv`` for the optional
OpenBLAS side measurement).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS,
    dump_json,
    ensure_mirror,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    interleaved,
    load_average,
    load_text,
    machine_info,
    rss_peak_delta,
    run_isolated,
    section,
    traced_peak,
    write_csv,
)

TAG = "RESULT "
SAMPLES_PER_IDENTITY = 4
EDGES = np.round(np.linspace(0.0, 2.0, 2001), 3)  # 0.000, 0.001, ..., 2.000
CHUNK_ROWS = 1024
HIST_CHUNK = 512
EXACT_MAX = 10_000  # above this, all distances do not fit comfortably: histogram only


# --------------------------------------------------------------------------- data


def fit_generator() -> dict[str, float]:
    """Fit the SYNTHETIC generator to the London Set's mated / non-mated distances (cached faceprints)."""
    from facecourse import faceprints, metrics
    from facecourse.synthetic import SyntheticFaceprints

    real = faceprints.encode_set(["london_neutral", "london_smiling"])
    s = metrics.mated_and_nonmated(real.embeddings, real.person_ids)
    gen = SyntheticFaceprints().fit(s.mated, s.nonmated)
    assert gen.between_sd is not None and gen.within_sd is not None  # set by fit()
    return {"between_sd": gen.between_sd, "within_sd": gen.within_sd, "within_scale_sd": gen.within_scale_sd}


def load_case(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(faceprints, identity labels) of a case."""
    if case["kind"] == "real":
        from facecourse import faceprints

        real = faceprints.encode_set()
        return np.ascontiguousarray(real.embeddings, dtype=np.float64), real.person_ids
    from facecourse.synthetic import SyntheticFaceprints

    gen = SyntheticFaceprints(**case["gen"])
    g = gen.generate_gallery(case["n"] // SAMPLES_PER_IDENTITY, samples_per_identity=SAMPLES_PER_IDENTITY,
                             seed=0, dtype=np.float64)
    return np.ascontiguousarray(g.embeddings), g.identity_ids


# --------------------------------------------------------------------------- the steps


def scores_chunked(x: np.ndarray, ids: np.ndarray, chunk: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Mated and non-mated distances of all pairs i < j, a block of rows at a time.

    Memory: the two result arrays (8 bytes per pair) plus one ``chunk x N`` block and its masks.
    """
    from facecourse.metrics import pairwise_distances

    n = len(x)
    _, counts = np.unique(ids, return_counts=True)
    n_mated = int((counts * (counts - 1) // 2).sum())
    mated = np.empty(n_mated)
    nonmated = np.empty(n * (n - 1) // 2 - n_mated)
    im = inm = 0
    cols = np.arange(n)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        block = pairwise_distances(x[start:stop], x[start:])
        upper = cols[None, : n - start] > np.arange(stop - start)[:, None]  # j > i: each pair once
        same = ids[start:stop, None] == ids[None, start:]
        m = block[upper & same]
        nm = block[upper & ~same]
        mated[im:im + m.size] = m
        nonmated[inm:inm + nm.size] = nm
        im += m.size
        inm += nm.size
        del block, upper, same, m, nm
    assert im == n_mated and inm == nonmated.size
    return mated, nonmated


def scores_library(x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from facecourse.metrics import mated_and_nonmated

    s = mated_and_nonmated(x, ids)
    return s.mated, s.nonmated


def curves_course(m: np.ndarray, nm: np.ndarray) -> Any:
    from facecourse.metrics import error_rate_curves

    return error_rate_curves(m, nm)


def curves_sklearn(labels: np.ndarray, scores: np.ndarray) -> Any:
    from sklearn.metrics import roc_curve

    return roc_curve(labels, scores, drop_intermediate=False)


def check_equal(course: Any, sk: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Assert that both curves hold the same thresholds and the same FMR / FNMR counts at each.

    sklearn scores are ``-distance`` (higher = more alike) and its rule is ``score >= t``, i.e.
    ``distance <= -t``: the course's rule. Its first threshold is +inf (nothing matches), the
    course's is -inf. Counts are recovered exactly from its rates (fps = fpr * n_nonmated, an integer).
    """
    fpr, tpr, thr = sk
    n_m, n_nm = course.mated_count, course.nonmated_count
    sk_thresholds = -thr  # distances, increasing; first one -inf
    fps = np.rint(fpr * n_nm).astype(np.int64)
    tps = np.rint(tpr * n_m).astype(np.int64)
    same_thresholds = len(sk_thresholds) == len(course.thresholds) and bool(
        np.array_equal(sk_thresholds, course.thresholds))
    same_fm = bool(np.array_equal(fps, course.false_matches))
    same_fnm = bool(np.array_equal(n_m - tps, course.false_non_matches))
    fmr_diff = float(np.max(np.abs(fpr - course.fmr)))
    fnmr_diff = float(np.max(np.abs((1 - tpr) - course.fnmr)))
    assert same_thresholds, "roc_curve and error_rate_curves disagree on the thresholds"
    assert same_fm and same_fnm, "roc_curve and error_rate_curves disagree on the counts"
    assert fmr_diff == 0.0, f"FMR differs by {fmr_diff}"
    assert fnmr_diff < 1e-12, f"FNMR differs by {fnmr_diff}"
    return {"thresholds_compared": len(thr), "identical_thresholds": same_thresholds,
            "identical_counts": same_fm and same_fnm, "max_abs_fmr_diff": fmr_diff, "max_abs_fnmr_diff": fnmr_diff}


def histogram(x: np.ndarray, ids: np.ndarray) -> Any:
    from facecourse.metrics import error_counts_histogram

    return error_counts_histogram(x, ids, EDGES, chunk_size=HIST_CHUNK)


def run_step(case: dict[str, Any], step: str, repeats: int) -> dict[str, Any]:
    """Run one step of one case in this (fresh) process and return its row."""
    x, ids = load_case(case)
    n = len(x)
    row: dict[str, Any] = {"case": case["name"], "kind": case["kind"], "n": n, "pairs": n * (n - 1) // 2,
                           "step": step}
    if step in ("scores_chunked", "scores_library"):
        fn = scores_chunked if step == "scores_chunked" else scores_library
        fn(x[:50], ids[:50])  # warm-up: imports, first calls
        gc.collect()
        with rss_peak_delta() as rss:
            t = interleaved({step: lambda: fn(x, ids)}, repeats, verbose=False)
        row["rss_delta_bytes"], row["rss_method"] = rss["delta"], rss["method"]
        del t.results[step]
        gc.collect()
        with traced_peak() as mem:
            m, nm = fn(x, ids)
        row.update(seconds=t.median(step), runs=" ".join(f"{v:.3f}" for v in t.runs[step]),
                   traced_peak_bytes=mem["peak"], result_bytes=m.nbytes + nm.nbytes,
                   mated=int(m.size), nonmated=int(nm.size))
        return row
    if step == "curves":
        m, nm = scores_chunked(x, ids)
        labels = np.concatenate([np.ones(m.size, dtype=np.int8), np.zeros(nm.size, dtype=np.int8)])
        scores = -np.concatenate([m, nm])
        del x
        curves_course(m[:10], nm[:10])  # warm-up: imports (sklearn's takes seconds), first calls
        curves_sklearn(labels[::max(1, labels.size // 100)], scores[::max(1, labels.size // 100)])
        gc.collect()
        t = interleaved({"error_rate_curves": lambda: curves_course(m, nm),
                         "sklearn_roc_curve": lambda: curves_sklearn(labels, scores)}, repeats, verbose=False,
                        measure_rss=True)
        row["rss_delta_bytes"], row["sklearn_rss_delta_bytes"] = t.rss["error_rate_curves"], t.rss["sklearn_roc_curve"]
        row.update(check_equal(t.results["error_rate_curves"], t.results["sklearn_roc_curve"]))
        t.results.clear()
        gc.collect()
        with traced_peak() as mem_c:
            curves_course(m, nm)
        gc.collect()
        with traced_peak() as mem_s:
            curves_sklearn(labels, scores)
        row.update(seconds=t.median("error_rate_curves"), sklearn_seconds=t.median("sklearn_roc_curve"),
                   sklearn_over_course=t.ratio("sklearn_roc_curve", "error_rate_curves"),
                   runs=" ".join(f"{v:.3f}" for v in t.runs["error_rate_curves"]),
                   sklearn_runs=" ".join(f"{v:.3f}" for v in t.runs["sklearn_roc_curve"]),
                   traced_peak_bytes=mem_c["peak"], sklearn_traced_peak_bytes=mem_s["peak"],
                   mated=int(m.size), nonmated=int(nm.size))
        return row
    if step == "histogram":
        histogram(x[:50], ids[:50])  # warm-up
        gc.collect()
        with rss_peak_delta() as rss:
            t = interleaved({step: lambda: histogram(x, ids)}, repeats, verbose=False)
        row["rss_delta_bytes"], row["rss_method"] = rss["delta"], rss["method"]
        h = t.results[step]
        gc.collect()
        with traced_peak() as mem:
            histogram(x, ids)
        row.update(seconds=t.median(step), runs=" ".join(f"{v:.3f}" for v in t.runs[step]),
                   traced_peak_bytes=mem["peak"], mated=h.mated_total, nonmated=h.nonmated_total,
                   bins=len(EDGES) + 1, chunk_rows=HIST_CHUNK)
        if n <= EXACT_MAX:
            from facecourse.metrics import curves_from_histogram, error_rates_at_thresholds

            m, nm = scores_library(x, ids) if n <= 2_000 else scores_chunked(x, ids)
            exact = error_rates_at_thresholds(m, nm, EDGES)
            approx = curves_from_histogram(h)
            fm_diff = np.abs(approx.false_matches[1:] - exact.false_matches)
            fnm_diff = np.abs(approx.false_non_matches[1:] - exact.false_non_matches)
            row["edges_checked"] = len(EDGES)
            row["max_count_diff_vs_exact"] = int(max(fm_diff.max(), fnm_diff.max()))
            row["edges_with_a_difference"] = int(((fm_diff > 0) | (fnm_diff > 0)).sum())
        return row
    raise ValueError(f"unknown step {step}")


# --------------------------------------------------------------------------- orchestration


def cases_for(args: argparse.Namespace, gen: dict[str, float]) -> list[dict[str, Any]]:
    cases = [{"name": "real-222", "kind": "real", "n": 222}]
    sizes = [1_000, 5_000] if args.quick else [1_000, 10_000, 50_000]
    if args.max_n:
        sizes = [s for s in sizes if s <= args.max_n]
    for n in sizes:
        cases.append({"name": f"synthetic-{n // 1000}k", "kind": "synthetic", "n": n, "gen": gen})
    return cases


def steps_for(case: dict[str, Any], quick: bool) -> list[str]:
    n = case["n"]
    if quick and n > 1_000:
        return ["histogram"]
    if n > EXACT_MAX:
        return ["histogram"]
    return ["scores_library", "scores_chunked", "curves", "histogram"]


def blas_side_measurement(gen: dict[str, float], repeats: int) -> list[dict[str, Any]]:
    """scores_chunked at 10k with OPENBLAS_CORETYPE as set vs unset (this command only), interleaved."""
    case = {"name": "synthetic-10k", "kind": "synthetic", "n": 10_000, "gen": gen}
    current = os.environ.get("OPENBLAS_CORETYPE")
    rows = []
    for r in range(repeats):
        for setting in (["as set", "unset"] if r % 2 == 0 else ["unset", "as set"]):
            env = {"OPENBLAS_CORETYPE": current} if setting == "as set" and current else {}
            unset = ["OPENBLAS_CORETYPE"] if setting == "unset" else []
            got = run_isolated(Path(__file__), ["--worker", dump_json({"case": case, "step": "scores_chunked",
                                                                       "repeats": 1})],
                               env=env, unset=unset, tag=TAG)[0]
            rows.append({"setting": f"OPENBLAS_CORETYPE {setting}" + (f" ({current})" if setting == "as set" else ""),
                         "seconds": got["seconds"], "round": r + 1})
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="222 real, 1k, and a 5k histogram; 1 repeat")
    ap.add_argument("--repeat", type=int, default=3, help="timings per step, median kept (default 3)")
    ap.add_argument("--max-n", type=int, default=None, help="skip synthetic sizes above this")
    ap.add_argument("--blas-side", action="store_true",
                    help="also time the 10k distances with OPENBLAS_CORETYPE unset (in that subprocess only)")
    ap.add_argument("--out-dir", type=Path, default=RESULTS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    ensure_mirror()
    if args.worker:
        job = json.loads(args.worker)
        print(TAG + dump_json(run_step(job["case"], job["step"], job["repeats"])), flush=True)
        return {}
    info = machine_info()
    load_start = load_average()
    section(f"error-rate curves; load average at start {load_text(load_start)}")
    gen = fit_generator()
    print(f"  SYNTHETIC generator fitted to the London Set: {gen}")
    rows: list[dict[str, Any]] = []
    for case in cases_for(args, gen):
        for step in steps_for(case, args.quick):
            repeats = 1 if case["n"] > EXACT_MAX else args.repeat
            t0 = time.perf_counter()
            row = run_isolated(Path(__file__), ["--worker", dump_json({"case": case, "step": step,
                                                                       "repeats": repeats})], tag=TAG)[0]
            row["load_1min"] = load_average()[0]
            rows.append(row)
            extra = ""
            if step == "curves":
                extra = (f"; sklearn roc_curve {fmt_seconds(row['sklearn_seconds'])} "
                         f"({fmt_ratio(row['sklearn_over_course'])} the time; identical thresholds and counts at "
                         f"{row['thresholds_compared']:,} thresholds: {row['identical_counts']})")
            if "max_count_diff_vs_exact" in row:
                extra = (f"; vs exact curves at {row['edges_checked']} edges: "
                         f"max count difference {row['max_count_diff_vs_exact']}")
            print(f"  {row['case']:<14} {step:<15} {row['pairs']:>14,} pairs  {fmt_seconds(row['seconds']):>9}  "
                  f"peak {fmt_bytes(row['traced_peak_bytes']):>10} traced, {fmt_bytes(row['rss_delta_bytes']):>10} RSS"
                  f"{extra}  [{fmt_seconds(time.perf_counter() - t0)} with set-up]", flush=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, args.out_dir / "error_curves.csv")
    out: dict[str, Any] = {"rows": rows, "machine": info, "load_start": load_start}
    if args.blas_side:
        section("side measurement: the 10k distances with OPENBLAS_CORETYPE as set vs unset")
        brows = blas_side_measurement(gen, max(2, args.repeat))
        write_csv(brows, args.out_dir / "error_curves_blas.csv")
        for s in sorted({r["setting"] for r in brows}):
            vals = [r["seconds"] for r in brows if r["setting"] == s]
            print(f"  {s:<40} median {fmt_seconds(float(np.median(vals)))} over {len(vals)} runs")
        out["blas"] = brows
    load_end = load_average()
    out["load_end"] = load_end
    write_csv([{"benchmark": "error_curves", "date": info["date"], "load_start_1min": load_start[0],
                "load_end_1min": load_end[0], "argv": " ".join(argv if argv is not None else sys.argv[1:]),
                **{f"machine: {k}": v for k, v in info.items()}}],
              args.out_dir / "error_curves_run.csv")
    print(f"\nload average at end: {load_text(load_end)}")
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)
