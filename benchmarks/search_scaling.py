#!/usr/bin/env python3
"""1:N search on SYNTHETIC faceprints: speed, memory and recall from 10^4 to 10^6 (or 10^7).

    python benchmarks/search_scaling.py                        # 10^4, 10^5, 10^6: ~5-8 min on 2 cores
    python benchmarks/search_scaling.py --max-size 10000000    # adds 10^7 if memory allows (~5-10 min, 11 GB more)
    python benchmarks/search_scaling.py --quick                # 10^3, 10^4, few probes: a smoke test
    python benchmarks/search_scaling.py --help                 # every option

What it measures, for each gallery size N, on one batch of probes (half of them new
samples of enrolled identities, half of identities never enrolled):

* ``numpy_f64`` / ``numpy_f32`` - exact brute force, :class:`facecourse.search.BruteForceIndex`:
  one matrix product per block of probes with the gallery's squared norms precomputed,
  in float64 (as face_recognition returns faceprints) and float32;
* ``face_distance_loop`` - the way face_recognition's examples search: a Python loop over
  probes, each calling ``face_recognition.face_distance(gallery, probe)`` (float64), on at
  most 100 probes;
* ``faiss_flat`` - exact search with faiss ``IndexFlatL2``;
* ``faiss_hnsw`` - approximate: a graph (HNSW, M=32, efConstruction=40, efSearch=128);
* ``faiss_ivfpq`` - approximate and compressed: k-means into ``nlist`` ~ sqrt(N) cells,
  16-byte product-quantisation codes, ``nprobe`` = 16 cells visited.

Each method has a largest gallery size (``--cap METHOD=N``; defaults in ``DEFAULT_CAPS``):
beyond 10^6 only ``numpy_f32`` (the curve lesson 04 extrapolates) and ``faiss_ivfpq`` run by
default, since the others would only repeat, at great cost, what 10^6 already shows.

For each: the build time; the search time of the batch, repeated (best and median);
queries per second and the ratio to ``numpy_f32`` at the same N (ratios are what to
compare on a shared, noisy machine: the methods run back to back in one process);
bytes per faceprint, both as accounted by the index and as measured (growth of the
process's resident memory while building; peak extra memory while searching, from
``/proc/self/status`` with the peak reset through ``/proc/self/clear_refs``); recall@k of
each method against the exact float32 top-k; and the share of mated probes whose mate
is ranked first.

Each gallery size runs in a fresh child process, so memory measurements do not mix, with
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` and faiss' thread count set to ``--threads``.

The faceprints are SYNTHETIC (:mod:`facecourse.synthetic`): random vectors whose mated and
non-mated distance means match those measured on the course's 204 London Set photos
(which must be available: the course fetches them on first use).  Timings and memory do
not depend on the distribution much; recall of the approximate indexes does (isotropic
128-d Gaussians have no cluster structure, the worst case for them), and false-match
rates from synthetic data must not be used at all.

Writes the CSV given by ``--out`` and a Markdown report beside it (same name, ``.md``)
with the machine, the table, and the fitted growth curve ``time per query ≈ a·N^b`` that
lesson 04 uses for its extrapolation.  Importable: ``main(argv) -> int``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "search_scaling.csv"
METHODS = ("numpy_f32", "numpy_f64", "face_distance_loop", "faiss_flat", "faiss_hnsw", "faiss_ivfpq")
EXACT = {"numpy_f32", "numpy_f64", "face_distance_loop", "faiss_flat"}
COLUMNS = [
    "gallery_size", "method", "exact", "storage", "params", "threads", "n_probes", "k", "repeats",
    "build_s", "best_s", "median_s", "queries_per_s", "ms_per_query", "comparisons_per_s",
    "ratio_vs_numpy_f32", "index_bytes_per_faceprint", "rss_bytes_per_faceprint",
    "search_peak_extra_mb", "recall_at_k", "mated_rank1",
]
LOOP_PROBES = 100
#: Largest gallery each method runs at unless --cap says otherwise.
DEFAULT_CAPS = {"numpy_f32": 10**8, "numpy_f64": 10**6, "face_distance_loop": 10**5,
                "faiss_flat": 10**6, "faiss_hnsw": 10**6, "faiss_ivfpq": 10**8}
RESULT_TAG = "RESULT "
#: (bytes per faceprint held by the method's index, beyond the shared float32 gallery)
_MEMORY_PER_PRINT = {"numpy_f32": 524, "numpy_f64": 1040, "face_distance_loop": 1024,
                     "faiss_flat": 540, "faiss_hnsw": 820, "faiss_ivfpq": 60}


# --------------------------------------------------------------------------- memory probes


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int | None:
    """Current resident memory of this process (Linux), else None."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb * 1024


def peak_rss_bytes() -> int | None:
    """Peak resident memory since the last :func:`reset_peak_rss` (Linux), else None."""
    kb = _status_kb("VmHWM")
    return None if kb is None else kb * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def mem_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- machine


def machine_info(threads: int) -> dict[str, str]:
    """What the numbers depend on: CPU, cores, RAM, library versions, BLAS, thread settings."""
    import faiss
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    total = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
    except OSError:
        pass
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:  # noqa: BLE001 - numpy < 1.25 or an unusual build
        pass
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
        blas += " (threadpoolctl: " + ", ".join(
            f"{p.get('internal_api')} {p.get('version')} {p.get('num_threads')} threads" for p in pools) + ")"
    except ImportError:
        pass
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    try:
        from importlib.metadata import version

        import face_recognition  # noqa: F401

        fr = version("face_recognition")
    except Exception:  # noqa: BLE001
        fr = "not installed"
    return {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "logical cores": str(os.cpu_count()),
        "RAM": f"{total / 1e9:.1f} GB" if total else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": getattr(faiss, "__version__", "unknown"),
        "face_recognition": fr,
        "BLAS": blas,
        "threads used": f"{threads} (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and faiss.omp_set_num_threads; "
                        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')}, "
                        f"MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_', '131072')})",
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "load average at start (1/5/15 min)": load,
    }


# --------------------------------------------------------------------------- the generator


def fit_generator() -> dict[str, float]:
    """Fit the SYNTHETIC generator to the mated/non-mated distances of the 204 London photos."""
    from facecourse import faceprints, metrics
    from facecourse.synthetic import SyntheticFaceprints

    try:
        real = faceprints.encode_set(["london_neutral", "london_smiling"])
    except Exception as exc:
        raise SystemExit(
            "The benchmark fits its synthetic faceprints to the course's London Set photos, "
            f"which could not be loaded ({exc}). Run `python -m facecourse fetch` (or set "
            "FACECOURSE_IMAGE_MIRROR to an offline copy) and try again."
        ) from exc
    scores = metrics.mated_and_nonmated(real.embeddings, real.person_ids)
    gen = SyntheticFaceprints().fit(scores.mated, scores.nonmated)
    assert gen.between_sd is not None and gen.within_sd is not None  # set by fit()
    return {"between_sd": gen.between_sd, "within_sd": gen.within_sd,
            "within_scale_sd": gen.within_scale_sd, "n_mated": int(scores.mated.size),
            "n_nonmated": int(scores.nonmated.size), **gen.targets}


def ivf_nlist(n: int) -> int:
    """Power of two nearest sqrt(N), at least 16 (faiss' rule of thumb: nlist ~ sqrt(N) .. 16 sqrt(N))."""
    return max(16, 2 ** round(math.log2(math.sqrt(n))))


# --------------------------------------------------------------------------- one size (child)


def run_size(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Measure every method at one gallery size, in this process. Returns the CSV rows."""
    import faiss
    import numpy as np

    from facecourse.extrapolation import Timing, time_best_of
    from facecourse.search import BruteForceIndex, FaissIndex, SearchResult, recall_at_k
    from facecourse.synthetic import SyntheticFaceprints

    threads, n, k, repeat = cfg["threads"], cfg["size"], cfg["k"], cfg["repeat"]
    faiss.omp_set_num_threads(threads)
    gen = SyntheticFaceprints(between_sd=cfg["gen"]["between_sd"], within_sd=cfg["gen"]["within_sd"],
                              within_scale_sd=cfg["gen"]["within_scale_sd"])
    t0 = time.perf_counter()
    gallery = gen.generate_gallery(n, seed=cfg["seed"])
    n_mated = min(cfg["probes"] // 2, n)
    probes = gen.generate_probes(n_mated, cfg["probes"] - n_mated, n_enrolled=n, seed=cfg["seed"], probe_seed=1)
    _log(f"N={n:,}: SYNTHETIC gallery and {len(probes.mated)} probes generated in "
         f"{time.perf_counter() - t0:.1f} s")
    x, ids, p = gallery.embeddings, gallery.identity_ids, probes.embeddings
    mated = probes.mated
    budget = (mem_available_bytes() or 8 * 2**30) * 0.6
    block = cfg["block_mb"] * 2**20
    rows: list[dict[str, Any]] = []
    exact: SearchResult | _Loop | None = None

    for method in cfg["methods"]:
        if n > cfg["caps"][method]:
            continue
        if method == "faiss_ivfpq" and n < 10_000:
            _log(f"N={n:,}: skipping faiss_ivfpq: its 8-bit codebooks need about 10,000 training vectors")
            continue
        if method == "face_distance_loop":
            import face_recognition  # load dlib's models now, before memory is measured
        if _MEMORY_PER_PRINT[method] * n > budget:
            _log(f"N={n:,}: skipping {method}: it needs about {_MEMORY_PER_PRINT[method] * n / 1e9:.1f} GB "
                 f"and only {budget / 1e9:.1f} GB may be used")
            continue
        gc.collect()
        reset_peak_rss()
        rss0 = rss_bytes()
        n_q = p.shape[0]
        t0 = time.perf_counter()
        index: BruteForceIndex | FaissIndex | np.ndarray  # what _warm_up touches; the loop's is the gallery
        search: Callable[[], SearchResult | _Loop]  # one batch of searches, the call that is timed
        if method in ("numpy_f32", "numpy_f64"):
            dtype = np.float32 if method == "numpy_f32" else np.float64
            index = BruteForceIndex(x.shape[1], dtype=dtype, max_block_bytes=block)
            index.add(x.astype(dtype, copy=True), ids)  # the index owns its copy: measurable
            storage, params, accounted = np.dtype(dtype).name, f"block {cfg['block_mb']} MB", index.memory_bytes
            search = partial(index.search, p, k)
        elif method == "face_distance_loop":
            import face_recognition

            g64 = x.astype(np.float64)
            n_q = min(LOOP_PROBES, p.shape[0])
            storage, params, accounted = "float64", "Python loop over probes", g64.nbytes + ids.nbytes

            def loop_search(g64: np.ndarray = g64, n_q: int = n_q) -> _Loop:
                out_i = np.empty((n_q, min(k, n)), dtype=np.int64)
                out_d = np.empty((n_q, min(k, n)))
                for q in range(n_q):
                    d = face_recognition.face_distance(g64, p[q].astype(np.float64))
                    part = np.argpartition(d, min(k, n) - 1)[: min(k, n)]
                    order = np.lexsort((part, d[part]))
                    out_i[q], out_d[q] = part[order], d[part[order]]
                return _Loop(out_d, out_i, ids[out_i])

            search = loop_search
            index = g64
        else:
            kind = method.removeprefix("faiss_")
            if kind == "hnsw":
                index = FaissIndex(x.shape[1], "hnsw", hnsw_m=32, ef_construction=40, ef_search=128,
                                   num_threads=threads)
                params = "M=32 efConstruction=40 efSearch=128"
            elif kind == "ivfpq":
                nlist = ivf_nlist(n)
                index = FaissIndex(x.shape[1], "ivfpq", nlist=nlist, nprobe=16, pq_m=16, pq_bits=8,
                                   seed=cfg["seed"], num_threads=threads)
                n_train = min(n, max(50 * nlist, 10_000))
                index.train(x[:n_train])
                params = f"nlist={nlist} nprobe=16 m=16x8bit (trained on {n_train:,})"
            else:
                index = FaissIndex(x.shape[1], "flat", num_threads=threads)
                params = "IndexFlatL2"
            index.add(x, ids)
            storage, accounted = ("PQ 16 B" if kind == "ivfpq" else "float32"), index.memory_bytes
            search = partial(index.search, p, k)
        build_s = time.perf_counter() - t0
        rss1 = rss_bytes()
        _warm_up(method, index, p, k)
        reset_peak_rss()
        timing: Timing[SearchResult | _Loop] = time_best_of(search, repeat=repeat)
        peak = peak_rss_bytes()
        result = timing.result
        if method == "numpy_f32":
            exact = result
        recall = math.nan
        if exact is not None:
            recall = recall_at_k(result.indices, exact.indices[: result.indices.shape[0]], min(k, n))
        m = mated[: result.ids.shape[0]]
        rank1 = float(np.mean(result.ids[m, 0] == probes.identity_ids[: m.size][m])) if m.any() else math.nan
        rows.append({
            "gallery_size": n, "method": method, "exact": method in EXACT, "storage": storage,
            "params": params, "threads": threads, "n_probes": n_q, "k": min(k, n), "repeats": repeat,
            "build_s": build_s, "best_s": timing.best, "median_s": timing.median,
            "queries_per_s": n_q / timing.best, "ms_per_query": 1e3 * timing.best / n_q,
            "comparisons_per_s": (n * n_q / timing.best) if method in EXACT else None,
            "index_bytes_per_faceprint": accounted / n,
            "rss_bytes_per_faceprint": None if rss0 is None or rss1 is None else max(0, rss1 - rss0) / n,
            "search_peak_extra_mb": None if peak is None or rss1 is None else max(0, peak - rss1) / 1e6,
            "recall_at_k": recall, "mated_rank1": rank1,
        })
        _log(f"N={n:,}: {method:<19} {n_q / timing.best:>10,.1f} queries/s  (build {build_s:.1f} s)")
        del index, search, result, timing
        gc.collect()
    return rows


def _warm_up(method: str, index: Any, p: Any, k: int) -> None:
    """One small untimed search: starts BLAS/OpenMP threads and touches the code paths."""
    if method != "face_distance_loop":
        index.search(p[:20], k)


class _Loop:
    """Minimal SearchResult stand-in for the face_distance loop."""

    def __init__(self, distances: Any, indices: Any, ids: Any) -> None:
        self.distances, self.indices, self.ids = distances, indices, ids


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- parent


def _run_child(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(cfg["threads"])
    # Shared machine: OpenMP threads that spin while waiting make everything far slower when
    # the cores are busy with other work (measured: faiss training 3x slower); sleep instead.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # glibc: allocate every array above 128 kB with mmap and give it back on free, so that
    # resident-memory growth measures each index (not memory recycled from the previous one).
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)],
                          env=env, stdout=subprocess.PIPE, text=True, check=False)
    rows = [json.loads(line[len(RESULT_TAG):]) for line in proc.stdout.splitlines()
            if line.startswith(RESULT_TAG)]
    if proc.returncode != 0:
        _log(f"N={cfg['size']:,}: the measuring process failed (exit code {proc.returncode}); "
             f"keeping the {len(rows)} rows it finished.")
    return rows


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """``ratio_vs_numpy_f32`` = queries/s of the row / queries/s of numpy_f32 at the same size."""
    ref = {r["gallery_size"]: r["queries_per_s"] for r in rows if r["method"] == "numpy_f32"}
    for r in rows:
        base = ref.get(r["gallery_size"])
        r["ratio_vs_numpy_f32"] = r["queries_per_s"] / base if base else None


def _fmt(value: Any, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """The printed/Markdown table: one line per (size, method)."""
    head = ["N", "method", "build s", "queries/s", "ms/query", "x numpy_f32", "B/print (index)",
            "B/print (RSS)", "search peak MB", "recall@k", "mate rank 1"]
    lines = []
    for r in rows:
        lines.append([f"{r['gallery_size']:,}", r["method"], _fmt(r["build_s"], ".2f"),
                      _fmt(r["queries_per_s"], ",.1f"), _fmt(r["ms_per_query"], ".3g"),
                      _fmt(r["ratio_vs_numpy_f32"], ".2f"), _fmt(r["index_bytes_per_faceprint"], ".0f"),
                      _fmt(r["rss_bytes_per_faceprint"], ".0f"), _fmt(r["search_peak_extra_mb"], ".0f"),
                      _fmt(r["recall_at_k"], ".3f"), _fmt(r["mated_rank1"], ".3f")])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in
                              enumerate(zip(line, widths, strict=True))) + " |" for line in lines]
    return "\n".join(out)


def growth_fits(rows: list[dict[str, Any]]) -> list[str]:
    """Fitted ms/query ≈ a·N^b for every method measured at three sizes or more."""
    from facecourse.extrapolation import fit_power_law

    out = []
    for method in METHODS:
        pts = sorted((r["gallery_size"], r["ms_per_query"]) for r in rows if r["method"] == method)
        if len(pts) >= 3:
            fit = fit_power_law([s for s, _ in pts], [t for _, t in pts], x_name="N", y_name="ms/query")
            out.append(f"{method}: {fit}")
        if method == "numpy_f32" and len(pts) >= 2:  # the model lesson 04 extrapolates
            lin = fit_power_law([s for s, _ in pts[-2:]], [t for _, t in pts[-2:]], exponent=1,
                                x_name="N", y_name="ms/query")
            out.append(f"{method}, linear model on the two largest sizes: {lin}")
    return out


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: _csv_value(r.get(c)) for c in COLUMNS})
    tmp.replace(path)


def _csv_value(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def write_report(path: Path, rows: list[dict[str, Any]], machine: dict[str, str], gen: dict[str, float],
                 args: argparse.Namespace, elapsed: float, fits: list[str]) -> None:
    from facecourse.synthetic import SYNTHETIC_NOTICE

    argv = " ".join(args.argv_used) or "(defaults)"
    try:
        load_end = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load_end = "n/a"
    text = f"""# 1:N search scaling benchmark (`benchmarks/search_scaling.py`)

Generated by `python benchmarks/search_scaling.py {argv}` on {machine['date']}
(total {elapsed / 60:.1f} min). Re-run it to refresh this file and
`{path.with_suffix('.csv').name}`; lesson 04 reads the CSV.

**{SYNTHETIC_NOTICE}** Fitted to the {gen['n_mated']} mated and {gen['n_nonmated']:,} non-mated
distances of the course's 204 London Set photos (mated mean {gen['mated_mean']:.3f}, non-mated mean
{gen['nonmated_mean']:.3f}). Timings and memory hardly depend on the distribution; recall of the
approximate indexes does (isotropic 128-d data has no cluster structure, their worst case); false-match
rates from these vectors mean nothing (see `facecourse/synthetic.py`).

## Machine

""" + "\n".join(f"- **{k}:** {v}" for k, v in machine.items()) + f"""
- **load average at end:** {load_end}

The machine is shared and its load varies: compare methods through the ratio column (same size,
same process, back to back) rather than across runs. `OPENBLAS_CORETYPE` pins OpenBLAS's kernel
(here it may select an older instruction set than the CPU has, slowing numpy's matrix products);
the benchmark leaves it as it finds it.

## Run

- gallery sizes: {', '.join(f'{s:,}' for s in sorted({r['gallery_size'] for r in rows}))}; one enrolled
  faceprint per synthetic identity; probes: {args.probes} per batch (half mated, half never enrolled),
  k = {args.k}; {args.repeat} repeats per timing (best kept, median in the CSV);
- largest N per method: {', '.join(f'{m} {c:,}' for m, c in args.caps.items() if m in args.methods)};
  `face_distance_loop` on {LOOP_PROBES} probes; brute-force probe blocks of {args.block_mb} MB;
- memory: "index" = bytes the index accounts for, per faceprint; "RSS" = growth of resident memory
  while building it (each size in a fresh process); "search peak" = extra resident memory at the peak
  of a search (score blocks, heaps);
- recall@k: share of the exact float32 top-k that the method also returns; "mate rank 1": share of
  mated probes whose enrolled identity comes first.

## Results

{table(rows)}

## Growth curve (fitted on log-log axes, `facecourse.extrapolation.fit_power_law`)

""" + "\n".join(f"- {f}" for f in fits) + """

Lesson 04 refits `numpy_f32` from the CSV and extrapolates its linear model (time ∝ N, fitted on
the two largest sizes: an exhaustive scan's cost is linear once overheads are paid) to 3×10⁹
faceprints, printing what that assumes (a linear scan, one machine like this one, a gallery that
fits in memory - which it would not: see the lesson's memory table). The free power laws above
show how noisy timings on a shared machine bend a curve fitted on three or four sizes.
"""
    path.write_text(text)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-size", type=int, default=1_000_000,
                    help="largest gallery; sizes are the powers of ten from --min-size up to it (default 10^6)")
    ap.add_argument("--min-size", type=int, default=10_000, help="smallest gallery (default 10^4)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"CSV to write (default {DEFAULT_OUT.relative_to(ROOT)}); the Markdown report goes beside it")
    ap.add_argument("--probes", type=int, default=500, help="probes per search batch (default 500)")
    ap.add_argument("--k", type=int, default=10, help="candidate-list length (default 10)")
    ap.add_argument("--repeat", type=int, default=3, help="timings per measurement; the best is kept (default 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="BLAS/OpenMP/faiss threads (default: all logical cores)")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {', '.join(METHODS)}")
    ap.add_argument("--cap", action="append", default=[], metavar="METHOD=N",
                    help="largest gallery for one method (repeatable); defaults: "
                    + ", ".join(f"{m}={c:.0e}" for m, c in DEFAULT_CAPS.items()))
    ap.add_argument("--block-mb", type=int, default=512, help="memory per brute-force score block (MB)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic population")
    ap.add_argument("--quick", action="store_true", help="smoke test: 10^3 and 10^4, 50 probes, 1 repeat")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.argv_used = list(argv)
    if args.quick:
        args.min_size, args.max_size, args.probes, args.repeat = 1_000, 10_000, 50, 1
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    if "numpy_f32" not in methods:
        methods.insert(0, "numpy_f32")  # the exact reference for recall and ratios
    args.methods = [m for m in METHODS if m in methods]
    args.caps = dict(DEFAULT_CAPS)
    for item in args.cap:
        method, _, size = item.partition("=")
        if method not in METHODS or not size.replace("e", "").replace(".", "").isdigit():
            ap.error(f"--cap takes METHOD=N with METHOD one of {', '.join(METHODS)}, got {item!r}")
        args.caps[method] = int(float(size))
    if args.min_size < 100 or args.max_size < args.min_size:
        ap.error("need 100 <= --min-size <= --max-size")
    if args.probes < 2 or args.k < 1 or args.repeat < 1 or args.threads < 1:
        ap.error("--probes must be >= 2 and --k, --repeat, --threads >= 1")
    return args


def sizes_for(args: argparse.Namespace) -> list[int]:
    sizes, n = [], args.min_size
    while n <= args.max_size:
        sizes.append(n)
        n *= 10
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and the growth curve; write the CSV and the report."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.worker:
        for row in run_size(json.loads(args.worker)):
            print(RESULT_TAG + json.dumps(row), flush=True)
        return 0

    from facecourse.synthetic import SYNTHETIC_NOTICE

    start = time.perf_counter()
    print(SYNTHETIC_NOTICE)
    machine = machine_info(args.threads)
    gen = fit_generator()
    print(f"generator fitted to {gen['n_mated']} mated / {gen['n_nonmated']:,} non-mated real distances: "
          f"between_sd={gen['between_sd']:.5f} within_sd={gen['within_sd']:.5f} tau={gen['within_scale_sd']:.4f}")
    print(f"threads: {args.threads}; probes per batch: {args.probes}; k = {args.k}; repeats: {args.repeat}")
    rows: list[dict[str, Any]] = []
    for n in sizes_for(args):
        cfg = {"size": n, "k": args.k, "repeat": args.repeat, "threads": args.threads, "probes": args.probes,
               "methods": args.methods, "caps": args.caps,
               "block_mb": args.block_mb, "seed": args.seed, "gen": gen}
        need = n * 512 * 2.2  # gallery, the float32 index's own copy, blocks
        avail = mem_available_bytes()
        if avail is not None and need > 0.8 * avail:
            print(f"N={n:,}: skipped, needs about {need / 1e9:.1f} GB and {avail / 1e9:.1f} GB are available")
            continue
        rows += _run_child(cfg)
    if not rows:
        print("nothing was measured")
        return 1
    add_ratios(rows)
    fits = growth_fits(rows)
    elapsed = time.perf_counter() - start
    print()
    print(table(rows))
    print()
    print("time per query, fitted on log-log axes:")
    for f in fits:
        print("  " + f)
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    write_csv(rows, out)
    write_report(out.with_suffix(".md"), rows, machine, gen, args, elapsed, fits)
    print(f"\nwrote {out} and {out.with_suffix('.md')} ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
