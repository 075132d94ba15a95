"""Run notebooks in a Jupyter kernel under a real memory limit (used by tests/test_memory_limit.py).

Two ways to limit a kernel's memory, tried in this order:

1. **A memory cgroup** (v2 ``memory.max`` or v1 ``memory.limit_in_bytes``): the kernel (Linux)
   counts the pages the process really uses and kills it (out of memory) above the limit. That is
   exactly what a JupyterHub pod's ``mem_limit`` does (Kubernetes and Docker use the same cgroup
   limit), so a lesson that passes here passes on a 1 GiB pod. Needs permission to create a
   cgroup (root in CI, or a delegated cgroup).
2. **An address-space limit** (``RLIMIT_AS``, what ``ulimit -v`` sets): needs no privilege, but it
   counts *virtual* memory, which numpy's OpenBLAS (a buffer per thread), dlib and Python's
   allocator reserve generously without using. It is stricter than a pod's limit by that
   reservation: a lesson can fail under it while fitting easily in 1 GiB of real memory. Used only
   when no cgroup can be made, and reported as such.

The limit is applied by a kernel-launch wrapper: a temporary kernelspec whose command is
``python tests/memlimit_kernel.py --cgroup DIR -- python -m ipykernel_launcher -f {connection_file}``;
the wrapper joins the cgroup (or sets the rlimit) and ``exec``s the kernel, so the limit covers the
kernel and everything it starts (encoding worker processes included).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

GIB = 2**30
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Limit:
    method: str  # "cgroup v2", "cgroup v1" or "RLIMIT_AS"
    limit: int
    folder: Path | None = None  # the cgroup's folder

    def wrapper_args(self) -> list[str]:
        if self.folder is not None:
            return ["--cgroup", str(self.folder)]
        return ["--rlimit-as", str(self.limit)]

    def peak(self) -> int | None:
        """The cgroup's peak memory use (pages the kernel charged, page cache included), if known."""
        if self.folder is None:
            return None
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            try:
                return int((self.folder / name).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return None

    def oom_kills(self) -> int | None:
        if self.folder is None:
            return None
        for name in ("memory.events", "memory.oom_control"):
            try:
                for line in (self.folder / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
            except (OSError, ValueError):
                continue
        return None


def _own_cgroup(hierarchy_test) -> str | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            hier, controllers, rel = line.split(":", 2)
            if hierarchy_test(hier, controllers.split(",")):
                return rel.strip().lstrip("/")
    except (OSError, ValueError):
        pass
    return None


def _make_v2(limit: int) -> Path | None:
    controllers = CGROUP_ROOT / "cgroup.controllers"  # present when the root is a cgroup v2 mount
    if not controllers.exists() or "memory" not in controllers.read_text().split():
        return None
    rel = _own_cgroup(lambda h, c: h == "0")
    for parent in filter(None, [CGROUP_ROOT / rel if rel else None, CGROUP_ROOT]):
        folder = parent / f"facecourse-kernel-{uuid.uuid4().hex[:8]}"
        try:
            if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
                (parent / "cgroup.subtree_control").write_text("+memory")
            folder.mkdir()
            (folder / "memory.max").write_text(str(limit))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
            return folder
        except OSError:
            _remove(folder)
    return None


def _make_v1(limit: int) -> Path | None:
    mount = CGROUP_ROOT / "memory"
    if not (mount / "memory.limit_in_bytes").exists():
        return None
    rel = _own_cgroup(lambda h, c: "memory" in c)
    for parent in filter(None, [mount / rel if rel else None, mount]):
        folder = parent / f"facecourse-kernel-{uuid.uuid4().hex[:8]}"
        try:
            folder.mkdir()
            (folder / "memory.limit_in_bytes").write_text(str(limit))
            if (folder / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit either
                (folder / "memory.memsw.limit_in_bytes").write_text(str(limit))
            if (folder / "memory.limit_in_bytes").read_text().strip() != str(limit):
                raise OSError("limit not accepted")
            return folder
        except OSError:
            _remove(folder)
    return None


def _remove(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()  # a cgroup folder is removed with rmdir once no process is in it


@contextmanager
def memory_limit(limit: int = GIB, *, allow_rlimit: bool = True) -> Iterator[Limit]:
    """A memory limit for kernels: a fresh cgroup when possible (removed afterwards), else RLIMIT_AS."""
    folder = None
    method = "RLIMIT_AS"
    if sys.platform.startswith("linux"):
        try:
            folder = _make_v2(limit)
            method = "cgroup v2"
        except OSError:
            folder = None
        if folder is None:
            folder, method = _make_v1(limit), "cgroup v1"
    if folder is None:
        if not allow_rlimit:
            raise RuntimeError("cannot create a memory cgroup here (needs root or a delegated cgroup)")
        method = "RLIMIT_AS"
    try:
        yield Limit(method, limit, folder)
    finally:
        if folder is not None:
            _remove(folder)


@contextmanager
def limited_kernelspec(limit: Limit, workdir: Path) -> Iterator[str]:
    """A kernelspec (in ``workdir``) that starts this Python's ipykernel under ``limit``; yields its name.

    The caller must put ``workdir`` first in ``JUPYTER_PATH`` (e.g. ``monkeypatch.setenv``).
    """
    name = "facecourse-memlimit"
    spec = workdir / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(Path(__file__).resolve()), *limit.wrapper_args(), "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": f"Python ({limit.method} "
                                                  f"{limit.limit / GIB:g} GiB)", "language": "python"}))
    yield name


STATUS_CELL = ("import json as _j\n"
               "print('MEMSTATUS ' + _j.dumps({l.split(':')[0]: int(l.split()[1]) * 1024 for l in "
               "open('/proc/self/status') if l.startswith(('VmPeak', 'VmHWM'))}))")


def run_notebook(path: Path, kernel_name: str, *, timeout: int = 900) -> dict[str, int]:
    """Execute a copy of the notebook at ``path`` (in memory; the file is not changed) in that kernel.

    Raises nbclient's errors when a cell fails or the kernel dies (killed at the memory limit).
    Returns the kernel's own peak virtual (``VmPeak``) and resident (``VmHWM``) memory in bytes,
    printed by one extra cell appended to the copy.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(STATUS_CELL))
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for output in nb.cells[-1].get("outputs", []):
        text = output.get("text", "")
        if "MEMSTATUS " in text:
            return json.loads(text.split("MEMSTATUS ", 1)[1])
    return {}


def _wrapper(argv: list[str]) -> None:
    """``--cgroup DIR -- cmd...`` or ``--rlimit-as BYTES -- cmd...``: apply the limit, then exec cmd."""
    if len(argv) < 4 or argv[2] != "--":
        sys.exit("usage: memlimit_kernel.py (--cgroup DIR | --rlimit-as BYTES) -- COMMAND...")
    how, value, cmd = argv[0], argv[1], argv[3:]
    if how == "--cgroup":
        (Path(value) / "cgroup.procs").write_text(str(os.getpid()))
    elif how == "--rlimit-as":
        resource.setrlimit(resource.RLIMIT_AS, (int(value), int(value)))
    else:
        sys.exit(f"unknown limit {how}")
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    _wrapper(sys.argv[1:])
