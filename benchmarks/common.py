"""Shared helpers of the course's benchmarks: timing, memory, the machine, result files.

The machine the course is tested on is small (2 cores) and often shared, so a single
timing means little. Every benchmark here therefore:

* runs the variants it compares **interleaved** (A B C, then B C A, then C A B ...), so that a
  burst of load from another user hits every variant alike;
* keeps every repeat and reports the **median** (and the spread), never the best or the mean;
* states its result as a **ratio** between variants measured in the same run (a ratio is far
  more stable than the absolute time on a loaded machine);
* prints the **load average** at the start and at the end, so a reader can tell a quiet run
  from a busy one.

Memory is measured two ways: :func:`traced_peak` (``tracemalloc``, which sees numpy's array
allocations, exactly and per step) and :func:`run_isolated` (a fresh subprocess per case whose
peak resident memory, ``ru_maxrss``, is reported as a delta over the interpreter's baseline).
"""

from __future__ import annotations

import csv
import datetime as _dt
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_MIRROR = ROOT.parent / "shared" / "datasets" / "face-research-lab"

__all__ = [
    "ROOT", "RESULTS", "Timings", "interleaved", "traced_peak", "maxrss_bytes", "rss_peak_delta", "run_isolated",
    "load_average", "load_text", "machine_info", "machine_markdown", "write_csv", "fmt_ratio",
    "fmt_bytes", "fmt_seconds", "median", "ensure_mirror", "section",
]


# --------------------------------------------------------------------------- set-up


def ensure_mirror() -> None:
    """Use the offline image mirror next to the repository when none is configured (no network)."""
    if not os.environ.get("FACECOURSE_IMAGE_MIRROR") and (DEFAULT_MIRROR / "SHA256SUMS").exists():
        os.environ["FACECOURSE_IMAGE_MIRROR"] = str(DEFAULT_MIRROR)
    os.environ.setdefault("FACECOURSE_PROGRESS", "0")


def section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


# --------------------------------------------------------------------------- timing


def median(values: Iterable[float]) -> float:
    vals = list(values)
    return statistics.median(vals) if vals else float("nan")


@dataclass
class Timings:
    """Every repeat of every variant, in seconds, in the order they ran."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # the last return value of each variant
    rss: dict[str, int] = field(default_factory=dict)  # largest resident-memory peak delta per variant

    def median(self, name: str) -> float:
        return median(self.runs[name])

    def spread(self, name: str) -> tuple[float, float]:
        vals = self.runs[name]
        return (min(vals), max(vals))

    def ratio(self, name: str, reference: str) -> float:
        """median(name) / median(reference): above 1 means ``name`` is slower."""
        return self.median(name) / self.median(reference)


def interleaved(variants: Mapping[str, Callable[[], Any]], repeats: int, *,
                setup: Callable[[str], None] | None = None, verbose: bool = True,
                measure_rss: bool = False) -> Timings:
    """Time each variant ``repeats`` times, rotating the order each round (A B C, B C A, ...).

    ``setup(name)``, if given, runs before each timed call and is not timed (e.g. to empty a
    cache). The garbage collector runs before each call, also untimed. With ``measure_rss``, each
    call's peak resident memory above its start (:func:`rss_peak_delta`) is recorded too (the
    largest per variant, in ``Timings.rss``); the previous result is released first so that it
    does not count. Returns all timings.
    """
    names = list(variants)
    out = Timings({n: [] for n in names})
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            if setup is not None:
                setup(name)
            if measure_rss:
                out.results.pop(name, None)
            gc.collect()
            with rss_peak_delta() if measure_rss else _nothing() as rss:
                start = time.perf_counter()
                out.results[name] = variants[name]()
                elapsed = time.perf_counter() - start
            if measure_rss:
                out.rss[name] = max(out.rss.get(name, 0), rss["delta"])
            out.runs[name].append(elapsed)
            if verbose:
                print(f"  round {r + 1}/{repeats}  {name:<28} {fmt_seconds(elapsed)}", flush=True)
    return out


# --------------------------------------------------------------------------- memory


@contextmanager
def _nothing() -> Iterator[dict[str, int]]:
    yield {"delta": 0}


@contextmanager
def traced_peak() -> Iterator[dict[str, int]]:
    """Peak bytes allocated through Python's allocators (numpy arrays included) inside the block.

    Usage: ``with traced_peak() as mem: ...``; then ``mem["peak"]`` holds the peak above what was
    allocated when the block started. tracemalloc slows pure-Python code, so never time inside it.
    """
    box: dict[str, int] = {"peak": 0}
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        yield box
    finally:
        _, peak = tracemalloc.get_traced_memory()
        box["peak"] = max(0, peak - base)
        if not was_tracing:
            tracemalloc.stop()


def _status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@contextmanager
def rss_peak_delta() -> Iterator[dict[str, int]]:
    """Peak resident memory of this process inside the block, above the resident memory at its start.

    On Linux the kernel's peak counter (VmHWM) is reset first (``/proc/self/clear_refs``), so the
    peak is the block's own even if the process used more before; elsewhere ``ru_maxrss`` is used,
    which only sees a peak higher than any earlier one (run one case per process: :func:`run_isolated`).
    ``box["method"]`` says which was used.
    """
    box: dict[str, Any] = {"delta": 0, "method": "ru_maxrss"}
    base = _status_bytes("VmRSS")
    reset = False
    if base is not None:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            reset = True
        except OSError:
            pass
    start_max = maxrss_bytes()
    try:
        yield box
    finally:
        peak = _status_bytes("VmHWM") if reset else None
        if reset and peak is not None and base is not None:
            box["delta"], box["method"] = max(0, peak - base), "VmHWM reset"
        else:
            box["delta"] = max(0, maxrss_bytes() - start_max)


def maxrss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kB; macOS bytes)."""
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(value) if sys.platform == "darwin" else int(value) * 1024


def run_isolated(module_file: Path, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 unset: Sequence[str] = (), tag: str = "RESULT ") -> list[dict[str, Any]]:
    """Run ``python module_file argv`` in a fresh process; return the JSON rows it prints after ``tag``.

    One case per process makes ``ru_maxrss`` (the peak resident memory) mean something: it can
    only grow, so two cases in one process would hide each other. Other output is passed through.
    ``env`` adds or overrides variables and ``unset`` removes some, in the child only.
    """
    full_env = dict(os.environ)
    if env is not None:
        full_env.update(env)
    for name in unset:
        full_env.pop(name, None)
    proc = subprocess.run([sys.executable, str(module_file), *argv], cwd=ROOT, env=full_env,
                          stdout=subprocess.PIPE, text=True, check=False)
    rows = []
    for line in proc.stdout.splitlines():
        if line.startswith(tag):
            rows.append(json.loads(line[len(tag):]))
        else:
            print(line, flush=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{module_file.name} {' '.join(argv)} failed with exit code {proc.returncode}")
    return rows


# --------------------------------------------------------------------------- the machine


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def load_text(load: tuple[float, float, float] | None = None) -> str:
    one, five, fifteen = load if load is not None else load_average()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min; {os.cpu_count()} logical cores)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_text() -> str:
    try:
        with open("/proc/meminfo") as fh:
            info = {ln.split(":")[0]: int(ln.split()[1]) * 1024 for ln in fh if ln.split()[1:2]}
        return f"{info['MemTotal'] / 2**30:.1f} GiB total, {info['MemAvailable'] / 2**30:.1f} GiB available"
    except (OSError, KeyError, ValueError):
        return "unknown"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _blas_text() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed (pip install -r benchmarks/requirements.txt)"
    import numpy  # noqa: F401 - loads the BLAS so that threadpoolctl can see it

    with suppress(ImportError):
        import faiss  # noqa: F401 - loads its OpenMP runtime, so that it is listed too

    pools = threadpool_info()
    if not pools:
        return "no thread pool found"
    return "; ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')}, "
        f"{p.get('num_threads')} threads, {Path(str(p.get('filepath', ''))).name})" for p in pools)


def machine_info() -> dict[str, str]:
    """What the numbers depend on: date, CPU, cores, RAM, library versions, BLAS and its threads."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    return {
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {affinity} usable by this process",
        "RAM": _ram_text(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "numpy": _version("numpy"),
        "dlib": f"{_version('dlib-bin')} (dlib-bin wheel)" if _version("dlib-bin") != "not installed"
                else _version("dlib"),
        "face_recognition": _version("face_recognition"),
        "faiss-cpu": _version("faiss-cpu"),
        "scikit-learn": _version("scikit-learn"),
        "BLAS (threadpoolctl)": _blas_text(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "OMP/OPENBLAS_NUM_THREADS": f"{os.environ.get('OMP_NUM_THREADS', '(not set)')} / "
                                    f"{os.environ.get('OPENBLAS_NUM_THREADS', '(not set)')}",
    }


def machine_markdown(info: Mapping[str, str]) -> str:
    return "\n".join(f"- **{k}:** {v}" for k, v in info.items())


# --------------------------------------------------------------------------- output


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Write rows (dicts; the union of their keys, in first-seen order) as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    tmp.replace(path)
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×"


def fmt_seconds(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def fmt_bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def dump_json(obj: Any) -> str:
    return json.dumps(obj, default=float)
