"""Lesson 05's group-rates explorer in a real browser: JupyterLab + headless Chromium.

A generated notebook builds the explorer exactly as lesson 05 does (London Set faceprints,
self-reported ethnicity, 2,000 bootstrap replicates, seed 0), runs through Run → Run All Cells,
and the test moves the threshold slider with the mouse and with the arrow keys. After each move
every displayed value must equal :func:`facecourse.group_explorer.group_rates_state`, computed in
this test process for the threshold the panel says it shows, and that threshold must be the
slider's.

Run with ``python -m pytest -m browser tests/browser/test_group_explorer_in_jupyterlab.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from facecourse.group_explorer import group_rates_state

from .conftest import JupyterLab, LabPage, widget_box, write_notebook

pytestmark = pytest.mark.browser

_EXPLORER = "[data-testid=group-explorer]"
SETUP = (
    "from facecourse import demographics as dg\n"
    "from facecourse import faceprints, group_explorer\n\n"
    "photos = faceprints.encode_set(['london_neutral', 'london_smiling'])\n"
    "emb, ids = photos.embeddings, photos.person_ids\n"
    "ethnicity = dg.labels_by_person(photos.acquired_entries(), 'ethnicity')")
LESSON_CALL = ("group_explorer.group_explorer(emb, ids, ethnicity, initial=0.6, n_boot=2000, seed=0,\n"
               "                              static_thresholds=(0.50, 0.6))")


def generated_notebook(path: Path) -> Path:
    return write_notebook(path, "Group-rates explorer on the London Set (browser test)", SETUP, LESSON_CALL)


def shown(box: Any) -> tuple[float, dict[str, str]]:
    panel = box.locator(_EXPLORER)
    threshold = json.loads(panel.get_attribute("data-settings"))["threshold"]
    texts = panel.locator("[data-testid]").evaluate_all(
        "els => els.map(e => [e.getAttribute('data-testid'), e.textContent])")
    return threshold, dict(texts)


def test_group_explorer_moves_in_jupyterlab(lab: JupyterLab, lab_page: LabPage, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from facecourse import demographics as dg
    from facecourse import faceprints

    photos = faceprints.encode_set(["london_neutral", "london_smiling"])
    ethnicity = dg.labels_by_person(photos.acquired_entries(), "ethnicity")

    name = lab.add_notebook(generated_notebook(tmp_path / "group_explorer.ipynb"))
    lab_page.open_notebook(name)
    lab_page.run_all_cells(timeout_s=180)
    box = widget_box(lab_page, _EXPLORER)
    readout = box.locator(".widget-readout")
    shown_threshold = box.locator(f"{_EXPLORER} [data-testid=threshold]")

    def check(step: str) -> dict[str, str]:
        t, fields = shown(box)
        assert f"{t:.3f}" == readout.inner_text().strip(), "the panel follows the slider"
        assert fields == group_rates_state(photos.embeddings, photos.person_ids, ethnicity, t,
                                           n_boot=2000, seed=0).fields(), step
        lab_page.screenshot(f"groups-{step}", locator=box)
        return fields

    expect(shown_threshold).to_have_text("0.600", timeout=30_000)
    first = check("initial")
    # Hand check against lesson 05's table at 0.6: 94 of 312 pairs within the Black group, 30 of 9,384 within the White.
    assert (first["black-counts"], first["white-counts"]) == ("94 of 312 photo pairs", "30 of 9,384 photo pairs")

    handle = box.locator(".noUi-handle")
    b = handle.bounding_box()
    mouse = lab_page.page.mouse
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    mouse.down()
    mouse.move(b["x"] - 90, b["y"] + b["height"] / 2, steps=8)
    mouse.up()
    expect(readout).not_to_have_text("0.600")
    expect(shown_threshold).to_have_text(readout.inner_text().strip(), timeout=30_000)
    dragged = check("after-drag")
    # A stricter threshold can only remove false matches.
    assert int(dragged["black-counts"].split()[0]) <= 94

    handle.focus()
    target = round(float(readout.inner_text()) - 0.02, 3)
    for _ in range(4):
        handle.press("ArrowLeft")
    expect(readout).to_have_text(f"{target:.3f}")
    expect(shown_threshold).to_have_text(f"{target:.3f}", timeout=30_000)
    check("after-keys")
