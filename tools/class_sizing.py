#!/usr/bin/env python3
"""How many nodes, cores and how much memory a class needs on Zero to JupyterHub.

    python3 tools/class_sizing.py                    # the table in docs/classroom.md
    python3 tools/class_sizing.py --share 1.0        # every student presses "Run All" at once

Derived from measurements, with every assumption printed:
  * per lesson, the kernel's CPU time and peak resident memory on one core, for a student's
    first run on a hub with the class cache (benchmarks/results/lessons.csv, condition "class",
    written by benchmarks/bench_lessons.py);
  * the memory a student's Jupyter server holds besides the kernel (--server-mib; measured by
    tools/hub_check.py: the student's processes after login, before any kernel starts);
  * the per-student requests (guarantees) of deploy/z2jh/config.yaml: Kubernetes places pods by
    their requests, so requests decide how many students fit on a node.
Assumed, not measured (change them with the options): the node type (--node-cpus, --node-gib),
the share of a node the system keeps for itself (--reserve), the share of the class that starts
the heaviest lesson within the same --window seconds (--share).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "benchmarks" / "results" / "lessons.csv"
VALUES = ROOT / "deploy" / "z2jh" / "config.yaml"


def quantity_bytes(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    for suffix in ("Ki", "Mi", "Gi", "K", "M", "G"):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * units[suffix]
    return float(value)


def lesson_costs(path: Path = LESSONS) -> dict[str, tuple[float, float]]:
    """Per lesson: (kernel CPU seconds, kernel peak RSS in MiB) for a first run with the class cache."""
    costs = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["condition"] == "class" and row["status"] == "ok":
                costs[row["lesson"]] = (float(row["kernel_cpu_seconds"]), float(row["kernel_peak_rss_mib"]))
    if not costs:
        raise SystemExit(f"no 'class' rows in {path}: run benchmarks/bench_lessons.py first")
    return costs


def measured_server_mib(path: Path = ROOT / "benchmarks" / "results" / "hub.csv") -> float | None:
    """A student's Jupyter server without kernels, as tools/hub_check.py --measure recorded it."""
    if not path.exists():
        return None
    with path.open(newline="") as fh:
        values = [float(r["server_mib"]) for r in csv.DictReader(fh) if r.get("server_mib")]
    return max(values) if values else None


def requests_per_student(path: Path = VALUES) -> tuple[float, float, float]:
    import yaml

    single = yaml.safe_load(path.read_text())["singleuser"]
    return (float(single["cpu"]["guarantee"]), quantity_bytes(single["memory"]["guarantee"]) / 2**20,
            quantity_bytes(single["memory"]["limit"]) / 2**20)


def plan(students: int, *, costs, server_mib, cpu_request, mem_request_mib, node_cpus, node_gib, reserve,
         share, window) -> dict[str, float]:
    cpu_s, peak_mib = max(c for c, _ in costs.values()), max(m for _, m in costs.values())
    usable_cpus, usable_mib = node_cpus * (1 - reserve), node_gib * 1024 * (1 - reserve)
    per_node = int(min(usable_cpus // cpu_request, usable_mib // mem_request_mib))
    nodes = math.ceil(students / per_node)
    # the busiest minute: `share` of the class runs the heaviest lesson's first run in `window` s
    busy_cores = share * students * cpu_s / window
    finish = share * students * cpu_s / (nodes * usable_cpus)     # s until the last of them is done
    worst_mib = per_node * (server_mib + peak_mib)                 # every student on a node at the peak
    return {"students": students, "per_node": per_node, "nodes": nodes, "cores": nodes * node_cpus,
            "memory_gib": nodes * node_gib, "busy_cores": busy_cores, "finish_s": max(finish, cpu_s),
            "worst_node_gib": worst_mib / 1024, "node_gib": usable_mib / 1024}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, nargs="+", default=[30, 100, 500])
    p.add_argument("--server-mib", type=float, default=None,
                   help="a student's Jupyter server without kernels (default: benchmarks/results/hub.csv, "
                        "written by tools/hub_check.py --measure)")
    p.add_argument("--node-cpus", type=int, default=8)
    p.add_argument("--node-gib", type=float, default=32)
    p.add_argument("--reserve", type=float, default=0.10, help="share of a node kept by Kubernetes and the system")
    p.add_argument("--share", type=float, default=0.5, help="share of the class starting the heaviest lesson at once")
    p.add_argument("--window", type=float, default=60.0, help="... within this many seconds")
    a = p.parse_args(argv)
    costs = lesson_costs()
    if a.server_mib is None:
        a.server_mib = measured_server_mib()
        if a.server_mib is None:
            raise SystemExit("no benchmarks/results/hub.csv: run tools/hub_check.py --measure, or pass --server-mib")
    cpu_request, mem_request, mem_limit = requests_per_student()
    heaviest_cpu = max(costs, key=lambda k: costs[k][0])
    heaviest_mem = max(costs, key=lambda k: costs[k][1])
    print(f"Measured (benchmarks/results/lessons.csv, first run with the class cache, one core): heaviest CPU "
          f"{heaviest_cpu} {costs[heaviest_cpu][0]:.0f} s; heaviest memory {heaviest_mem} "
          f"{costs[heaviest_mem][1]:.0f} MiB; a student's server {a.server_mib:.0f} MiB besides its kernel.")
    print(f"Per student (deploy/z2jh/config.yaml): request {cpu_request} CPU and {mem_request:.0f} MiB, "
          f"limit {mem_limit:.0f} MiB. Node: {a.node_cpus} vCPU, {a.node_gib:g} GiB, {a.reserve:.0%} kept by the "
          f"system. Busiest minute: {a.share:.0%} of the class starts {heaviest_cpu} within {a.window:.0f} s.")
    print()
    print("| students | students per node | nodes | vCPU in all | memory in all (GiB) | busiest minute: cores busy "
          "| busiest minute: last run done after (s) | a full node at the memory peak (GiB of usable) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in a.students:
        r = plan(n, costs=costs, server_mib=a.server_mib, cpu_request=cpu_request, mem_request_mib=mem_request,
                 node_cpus=a.node_cpus, node_gib=a.node_gib, reserve=a.reserve, share=a.share, window=a.window)
        print(f"| {n} | {r['per_node']} | {r['nodes']} | {r['cores']} | {r['memory_gib']:.0f} | "
              f"{r['busy_cores']:.1f} | {r['finish_s']:.0f} | {r['worst_node_gib']:.1f} of {r['node_gib']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
