"""Every example in the helper package's docstrings runs, and a wrong one fails.

``doctest.testmod`` returns ``failed == 0`` when it found nothing to run, so each module's
result is checked against the number of ``>>>`` lines in its source: an example that is not
collected (a docstring doctest cannot reach, a module nobody tests) fails here, and so does
a wrong one. Examples print only exactly representable numbers or rounded ones, so they do not
depend on the CPU (see CONTRIBUTING.md).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import sys
import types
from pathlib import Path

import pytest

import facecourse

PACKAGE = Path(facecourse.__file__).resolve().parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if not m.name.startswith("_"))
PROMPT = re.compile(r"^\s*>>>", re.M)
FLAGS = doctest.NORMALIZE_WHITESPACE


def run_examples(module: types.ModuleType) -> tuple[doctest.TestResults, int]:
    """Run a module's doctests; return the result and how many ``>>>`` lines its source has."""
    source = inspect.getsource(module)
    return doctest.testmod(module, optionflags=FLAGS, report=False), len(PROMPT.findall(source))


@pytest.mark.parametrize("name", MODULES)
def test_every_example_runs_and_is_right(name: str) -> None:
    module = importlib.import_module(f"facecourse.{name}")
    result, prompts = run_examples(module)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in facecourse.{name} are wrong"
    assert result.attempted == prompts, (f"facecourse.{name} has {prompts} '>>>' lines but doctest ran "
                                         f"{result.attempted}: some examples are never executed")


def test_examples_are_executed_across_the_package() -> None:
    """The package documents itself with examples: losing them all would go unnoticed otherwise."""
    counts = {name: run_examples(importlib.import_module(f"facecourse.{name}"))[0].attempted for name in MODULES}
    assert sum(counts.values()) >= 200, counts  # 224 in the modules below on 2026-12-07
    assert all(counts[m] > 0 for m in ("degrade", "manifest", "metrics", "deployment", "rights", "search",
                                       "simulator", "synthetic", "widgets")), counts


def test_a_wrong_example_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a module whose example prints the wrong answer is caught."""
    (tmp_path / "wrong_example.py").write_text('def double(x):\n    """\n    >>> double(2)\n    5\n    """\n'
                                               '    return 2 * x\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("wrong_example")
    try:
        result, prompts = run_examples(module)
    finally:
        sys.modules.pop("wrong_example", None)
    assert (result.attempted, result.failed, prompts) == (1, 1, 1)
