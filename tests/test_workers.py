"""Encoding workers follow the CPUs the process may really use (affinity, container CPU quota)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facecourse import faceprints
from facecourse.faceprints import available_cpus


def fake_v2(tmp_path: Path, cgroup: str, limits: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree: ``limits`` maps a folder (relative to the root) to its cpu.max line."""
    root = tmp_path / "cgroup"
    for folder, line in limits.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "cpu.max").write_text(line + "\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{cgroup}\n")
    return root, proc


def fake_v1(tmp_path: Path, cgroup: str, folder: str, quota: int, period: int = 100000) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    d = root / "cpu,cpuacct" / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (d / "cpu.cfs_period_us").write_text(f"{period}\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"4:memory:/x\n3:cpu,cpuacct:{cgroup}\n0::/\n")
    return root, proc


def test_affinity_alone(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    assert available_cpus(affinity={0}, cgroup_root=tmp_path, proc_cgroup=missing) == 1
    assert available_cpus(affinity=range(6), cgroup_root=tmp_path, proc_cgroup=missing) == 6


def test_cgroup_v2_quota_of_a_pod_on_a_big_node(tmp_path: Path) -> None:
    # a pod limited to 1 CPU on a 64-core node: the limit sits on the pod's folder, a parent
    root, proc = fake_v2(tmp_path, "/kubepods/pod1/ctr", {"kubepods/pod1/ctr": "max 100000",
                                                           "kubepods/pod1": "100000 100000"})
    assert available_cpus(affinity=range(64), cgroup_root=root, proc_cgroup=proc) == 1


@pytest.mark.parametrize(("line", "expected"), [("150000 100000", 1),  # 1.5 CPUs: rounded down
                                                 ("250000 100000", 2), ("50000 100000", 1),  # never below 1
                                                 ("max 100000", 8), ("800000 100000", 8)])
def test_cgroup_v2_quota_values(tmp_path: Path, line: str, expected: int) -> None:
    root, proc = fake_v2(tmp_path, "/", {".": line})  # inside a container: the root is its own cgroup
    assert available_cpus(affinity=range(8), cgroup_root=root, proc_cgroup=proc) == expected


def test_affinity_tighter_than_quota(tmp_path: Path) -> None:
    root, proc = fake_v2(tmp_path, "/", {".": "400000 100000"})
    assert available_cpus(affinity={3}, cgroup_root=root, proc_cgroup=proc) == 1


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    root, proc = fake_v1(tmp_path, "/docker/abc", "docker/abc", 200000)
    assert available_cpus(affinity=range(16), cgroup_root=root, proc_cgroup=proc) == 2


def test_cgroup_v1_no_quota_and_namespaced_path(tmp_path: Path) -> None:
    root, proc = fake_v1(tmp_path, "/docker/abc", "docker/abc", -1)  # -1: no quota
    assert available_cpus(affinity=range(4), cgroup_root=root, proc_cgroup=proc) == 4
    # the path named in /proc/self/cgroup does not exist under the mount (a container's own view):
    root2, proc2 = fake_v1(tmp_path / "ns", "/not/here", ".", 100000)
    assert available_cpus(affinity=range(4), cgroup_root=root2, proc_cgroup=proc2) == 1


def test_unreadable_quota_files_are_ignored(tmp_path: Path) -> None:
    root, proc = fake_v2(tmp_path, "/", {".": "garbage"})
    assert available_cpus(affinity=range(3), cgroup_root=root, proc_cgroup=proc) == 3


def test_default_workers_uses_available_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faceprints, "available_cpus", lambda: 1)
    assert faceprints.default_workers() == 1
    monkeypatch.setattr(faceprints, "available_cpus", lambda: 64)
    assert faceprints.default_workers() == 4  # at most 4: each worker loads dlib's models


@pytest.mark.skipif(shutil.which("taskset") is None or not hasattr(__import__("os"), "sched_getaffinity"),
                    reason="needs Linux's taskset")
def test_pinned_to_one_core_starts_one_worker() -> None:
    code = "from facecourse.faceprints import default_workers; print(default_workers())"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "1"
