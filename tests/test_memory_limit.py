"""Every lesson and exercise solution runs in a kernel limited to 1 GiB of memory; more fails.

How the limit is applied, and why a cgroup rather than ``ulimit -v``: ``tests/memlimit_kernel.py``.

* ``test_a_hungry_cell_fails_under_the_limit`` (always runs, a few seconds): a temporary notebook
  that allocates 1.5 GiB dies; the same notebook allocating 256 MiB passes.
* ``test_notebook_fits_in_1_gib`` (one per lesson and exercise solution, minutes: run by
  ``.ci/run`` after the main test command, with ``FACECOURSE_MEMLIMIT_NOTEBOOKS=1``) executes
  each notebook (an in-memory copy; the file is not touched) under the limit. With
  ``FACECOURSE_MEMLIMIT_REPORT=FILE`` it appends each notebook's peaks there as JSON lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from memlimit_kernel import GIB, Limit, limited_kernelspec, memory_limit, run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "lessons").glob("*.ipynb")) + sorted((ROOT / "exercises" / "source").glob("*.ipynb"))
RUN_ALL = os.environ.get("FACECOURSE_MEMLIMIT_NOTEBOOKS", "") == "1"


@pytest.fixture
def limit() -> Iterator[Limit]:
    """A fresh cgroup per test, so that its peak counter is this notebook's alone."""
    with memory_limit(GIB) as lim:
        yield lim


@pytest.fixture
def kernel(limit: Limit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(tmp_path), os.environ.get("JUPYTER_PATH", "")]))
    with limited_kernelspec(limit, tmp_path) as name:
        yield name


def allocating(tmp_path: Path, mib: int) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                nbformat.v4.new_code_cell(f"block = np.ones({mib} * 2**20 // 8)  # {mib} MiB, every page touched\n"
                                          "print(block.nbytes // 2**20, 'MiB')")]
    path = tmp_path / f"alloc_{mib}.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_hungry_cell_fails_under_the_limit(kernel: str, limit: Limit, tmp_path: Path) -> None:
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    peaks = run_notebook(allocating(tmp_path, 256), kernel, timeout=120)  # the control: fits
    assert peaks["VmHWM"] > 256 * 2**20  # the pages were really used
    kills = limit.oom_kills()
    with pytest.raises((DeadKernelError, CellExecutionError)) as err:  # killed (cgroup) or MemoryError (rlimit)
        run_notebook(allocating(tmp_path, 1536), kernel, timeout=120)
    if limit.folder is not None:
        assert isinstance(err.value, DeadKernelError)
        assert (limit.oom_kills() or 0) > (kills or 0), "the kernel died, but not from the memory limit"
    else:
        assert "MemoryError" in str(err.value)


@pytest.mark.skipif(not RUN_ALL, reason="minutes: run by .ci/run (set FACECOURSE_MEMLIMIT_NOTEBOOKS=1)")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_notebook_fits_in_1_gib(notebook: Path, kernel: str, limit: Limit) -> None:
    peaks = run_notebook(notebook, kernel)  # raises if a cell fails or the kernel is killed at the limit
    report = os.environ.get("FACECOURSE_MEMLIMIT_REPORT")
    if report:
        with open(report, "a") as fh:
            fh.write(json.dumps({"notebook": notebook.relative_to(ROOT).as_posix(), "method": limit.method,
                                 "limit": limit.limit, "kernel_peak_rss": peaks.get("VmHWM"),
                                 "kernel_peak_virtual": peaks.get("VmPeak"),
                                 "cgroup_peak": limit.peak()}) + "\n")
    assert peaks.get("VmHWM", 0) < limit.limit
