"""pytest set-up that must apply to every test run, whichever files are selected.

Loaded through ``-p facecourse.pytest_plugin`` in pyproject.toml's ``addopts``, so it also
applies when only one notebook is tested (``pytest lessons/03_verification.ipynb``), where
``tests/conftest.py`` would not be loaded:

- progress bars off (``FACECOURSE_PROGRESS=0``): nbval compares outputs, and a progress bar
  is output that differs between a cold and a warm cache;
- no network: ``tests/offline/sitecustomize.py`` is put on ``PYTHONPATH``, so every process the
  tests start (each notebook kernel included) may connect only to loopback addresses, and this
  process gets the same guard.
"""

from __future__ import annotations

import os
import runpy
from typing import Any

from .config import REPO_ROOT

OFFLINE = REPO_ROOT / "tests" / "offline"


def pytest_configure(config: object) -> None:
    os.environ.setdefault("FACECOURSE_PROGRESS", "0")
    if (OFFLINE / "sitecustomize.py").exists() and os.environ.get("FACECOURSE_OFFLINE_GUARD") != "1":
        os.environ["FACECOURSE_OFFLINE_GUARD"] = "1"
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(OFFLINE), os.environ.get("PYTHONPATH")]))
        runpy.run_path(str(OFFLINE / "sitecustomize.py"))


def pytest_collectstart(collector: Any) -> None:  # any collector; nbval's notebooks have skip_compare
    """nbval: skip ``image/svg+xml`` as it skips PNG and JPEG.

    nbval 0.11 compares an SVG output's text byte for byte (it skips only ``image/png`` and
    ``image/jpeg``). The face-free charts of ``facecourse.plots.show`` are identical on every run
    of one machine (tests/test_figures.py checks that), but their path coordinates are printed
    floats that another CPU or library build may round differently in the last digit; the
    numbers a chart shows are compared through the cells' text outputs instead.
    """
    skip = getattr(collector, "skip_compare", None)
    if isinstance(skip, tuple) and "image/svg+xml" not in skip:
        collector.skip_compare = (*skip, "image/svg+xml")
