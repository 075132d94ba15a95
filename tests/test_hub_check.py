"""The output comparison of tools/hub_check.py (the real-JupyterHub check in .ci/run).

The hub check itself needs root, npm and a few minutes, so it runs in .ci/run, not here; these
tests make sure the part that decides pass or fail can fail.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, load_script

hub_check = load_script(ROOT / "tools" / "hub_check.py")


def notebook(tmp_path: Path) -> Path:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# title"},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(1 + 1)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}]},
        {"cell_type": "code", "metadata": {"tags": ["nbval-ignore-output"]}, "execution_count": 2,
         "source": "import time; time.time()",
         "outputs": [{"output_type": "execute_result", "execution_count": 2, "metadata": {},
                      "data": {"text/plain": "1700000000.0"}}]},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "source": "object()",
         "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                      "data": {"text/plain": "<object object at 0x7f00deadbeef>", "image/svg+xml": "<svg/>"}}]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_matching_outputs_pass(tmp_path):
    nb = notebook(tmp_path)
    got = [["2\n"], ["1800000000.0"], ["<object object at 0x55aa00>"]]   # timing ignored, address sanitised
    assert hub_check.compare("s1", nb, got) == []


def test_a_changed_output_fails(tmp_path):
    nb = notebook(tmp_path)
    problems = hub_check.compare("s1", nb, [["3\n"], ["0"], ["<object object at 0x1>"]])
    assert len(problems) == 1 and "code cell 0" in problems[0] and "'3'" in problems[0]


def test_a_missing_output_fails(tmp_path):
    nb = notebook(tmp_path)
    assert len(hub_check.compare("s1", nb, [[], ["0"], ["<object object at 0x1>"]])) == 1


def test_marker_comment_is_ignored_like_nbval(tmp_path):
    path = tmp_path / "nb.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "# NBVAL_IGNORE_OUTPUT\nprint(5)",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "5\n"}]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert hub_check.expected_outputs(path) == [None]
