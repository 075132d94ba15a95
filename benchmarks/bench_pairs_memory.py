#!/usr/bin/env python3
"""Peak memory of all-pairs comparison at 10,000 faceprints: before and after ``mated_and_nonmated`` worked in blocks.

    python benchmarks/bench_pairs_memory.py            # n = 1,000 and 10,000 (about a minute and ~5 GB free memory)
    python benchmarks/bench_pairs_memory.py --quick    # n = 1,000 and 3,000

Each (variant, n) runs in a **fresh process** (``common.run_isolated``), so one case's peak cannot
hide another's. Memory is reported as the peak resident memory during the call above the
resident memory before it (Linux: the kernel's peak counter VmHWM is reset first), and as
``tracemalloc``'s peak (numpy's allocations, exactly) in a second, untimed call.

* ``before``: the algorithm ``metrics.mated_and_nonmated`` used until December 2026, written out
  here: the whole ``n x n`` distance matrix (``metrics.pairwise_distances``), then
  ``np.triu_indices`` and fancy indexing for the upper triangle.
* ``after``: ``metrics.mated_and_nonmated`` as it is now (blocks of about a million distances
  written straight into the result arrays).

Both return the same four arrays (distances of mated and non-mated pairs and the pairs' indices);
the script checks that the pairs are identical and the distances agree within 1e-12 (the blocks'
matrix products have other shapes, so the last bits may differ; see the function's docstring).
The result itself takes 24 bytes a pair (1.2 GB at 10,000); the rest is temporary memory.
The faceprints are SYNTHETIC (random, 4 per identity): memory and time do not depend on them.
Writes ``benchmarks/results/pairs_memory.csv`` (full mode only).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, fmt_bytes, load_text, rss_peak_delta, run_isolated, traced_peak, write_csv

TAG = "RESULT "


def make_case(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    x = rng.normal(0, 0.09, size=(n, 128))
    ids = np.arange(n) // 4  # 4 samples per synthetic identity
    return x, ids


def before(x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pre-block algorithm, as it was in facecourse/metrics.py."""
    from facecourse.metrics import pairwise_distances

    distances = pairwise_distances(x)
    i, j = np.triu_indices(len(x), k=1)
    scores, mated = distances[i, j], ids[i] == ids[j]
    pairs = np.column_stack([i, j])
    return scores[mated], scores[~mated], pairs[mated], pairs[~mated]


def after(x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
    from facecourse.metrics import mated_and_nonmated

    s = mated_and_nonmated(x, ids)
    return s.mated, s.nonmated, s.mated_pairs, s.nonmated_pairs


def child(variant: str, n: int) -> None:
    x, ids = make_case(n)
    fn = before if variant == "before" else after
    fn(x[:50], ids[:50])  # imports and first calls outside the measurement
    gc.collect()
    with rss_peak_delta() as rss:
        t0 = time.perf_counter()
        out = fn(x, ids)
        seconds = time.perf_counter() - t0
    result = sum(a.nbytes for a in out)
    digest = {"pairs": int(out[2].shape[0] + out[3].shape[0])}
    if variant == "after" and n <= 3000:  # check against the old algorithm (small sizes: both fit easily)
        old = before(x, ids)
        assert all(np.array_equal(a, b) for a, b in zip(out[2:], old[2:], strict=True)), "different pairs"
        assert max(float(np.abs(a - b).max(initial=0)) for a, b in zip(out[:2], old[:2], strict=True)) < 1e-12
        digest["checked_against_before"] = True
    del out
    gc.collect()
    with traced_peak() as mem:
        out = fn(x, ids)
    del out
    print(TAG + json.dumps({"variant": variant, "n": n, **digest, "seconds": round(seconds, 3),
                            "rss_peak_above_start_bytes": rss["delta"], "rss_method": rss["method"],
                            "traced_peak_bytes": mem["peak"], "result_bytes": result}), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 1,000 and 3,000 only; nothing written")
    ap.add_argument("--child", nargs=2, metavar=("VARIANT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    sizes = [1000, 3000] if args.quick else [1000, 10_000]
    start_load = load_text()
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for variant in ("after", "before"):
            rows += run_isolated(Path(__file__), ["--child", variant, str(n)], tag=TAG)
    end_load = load_text()
    print(f"load average at start {start_load}; at end {end_load}")
    print(f"{'n':>7} {'variant':<8} {'time':>8} {'peak RSS above start':>21} {'tracemalloc peak':>17} "
          f"{'result':>10} {'peak / result':>13}")
    for r in rows:
        print(f"{r['n']:>7,} {r['variant']:<8} {r['seconds']:>7.2f}s {fmt_bytes(r['rss_peak_above_start_bytes']):>21} "
              f"{fmt_bytes(r['traced_peak_bytes']):>17} {fmt_bytes(r['result_bytes']):>10} "
              f"{r['traced_peak_bytes'] / r['result_bytes']:>12.2f}x")
    if not args.quick:
        for r in rows:
            r["load_start"], r["load_end"] = start_load, end_load
        print("wrote", write_csv(rows, RESULTS / "pairs_memory.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
