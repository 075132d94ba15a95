"""Lesson 04's gallery-size explorer in a real browser: JupyterLab + headless Chromium.

A generated notebook builds the explorer exactly as lesson 04 does (the FMR of every non-mated
London Set photo pair at four thresholds, with people-level bootstrap intervals), runs through
Run → Run All Cells, and the test then moves the gallery-size slider with the mouse and the
keyboard and picks another threshold. After each move every displayed value must equal
:func:`facecourse.gallery_explorer.gallery_state` computed in this test process for the settings
the panel says it shows (its ``data-settings``), and the settings must follow the controls.

Run with ``python -m pytest -m browser tests/browser/test_gallery_explorer_in_jupyterlab.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from facecourse.gallery_explorer import FIELD_IDS, MeasuredFMR, gallery_state

from .conftest import JupyterLab, LabPage, widget_box, write_notebook

pytestmark = pytest.mark.browser

_EXPLORER = "[data-testid=gallery-explorer]"
THRESHOLDS = (0.45, 0.50, 0.55, 0.6)
LESSON_CALL = ("gallery_explorer.gallery_explorer(MEASURED, initial_threshold=0.6, initial_size=1e6)")


def generated_notebook(path: Path) -> Path:
    return write_notebook(
        path, "Gallery-size explorer on the London Set (browser test)",
        "from facecourse import faceprints, gallery_explorer\n\n"
        "london = faceprints.encode_set(['london_neutral', 'london_smiling'])\n"
        f"MEASURED = gallery_explorer.MeasuredFMR.from_photos(london.embeddings, london.person_ids, {THRESHOLDS!r})",
        LESSON_CALL)


def shown(box: Any) -> tuple[dict[str, Any], dict[str, str]]:
    panel = box.locator(_EXPLORER)
    settings = json.loads(panel.get_attribute("data-settings"))
    texts = panel.locator("[data-testid]").evaluate_all(
        "els => els.map(e => [e.getAttribute('data-testid'), e.textContent])")
    return settings, dict(texts)


def test_gallery_explorer_moves_in_jupyterlab(lab: JupyterLab, lab_page: LabPage, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from facecourse import faceprints

    london = faceprints.encode_set(["london_neutral", "london_smiling"])
    measured = {m.threshold: m for m in MeasuredFMR.from_photos(london.embeddings, london.person_ids, THRESHOLDS)}

    name = lab.add_notebook(generated_notebook(tmp_path / "gallery_explorer.ipynb"))
    lab_page.open_notebook(name)
    lab_page.run_all_cells(timeout_s=180)
    box = widget_box(lab_page, _EXPLORER)
    size_readout = box.locator(".widget-slider .widget-readout")

    def check(step: str) -> dict[str, str]:
        settings, fields = shown(box)
        expected = gallery_state(measured[settings["threshold"]], settings["gallery_size"]).fields()
        assert fields == expected, step
        assert set(fields) == set(FIELD_IDS)
        assert fields["gallery-size"] == size_readout.inner_text().strip(), "the panel follows the slider"
        lab_page.screenshot(f"gallery-{step}", locator=box)
        return fields

    expect(box.locator(f"{_EXPLORER} [data-testid=gallery-size]")).to_have_text("1,000,000", timeout=30_000)
    first = check("initial")
    # Hand check of the shown numbers: 173 of 20,604 pairs at 0.6; FMR x 1e6 = 8,396 -> "8,400" (3 digits).
    assert (first["false-matches"], first["comparisons"], first["expected"]) == ("173", "20,604", "8,400")

    # Drag the log slider's handle to the left: a smaller gallery, fewer false candidates.
    handle = box.locator(".noUi-handle")
    b = handle.bounding_box()
    mouse = lab_page.page.mouse
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    mouse.down()
    mouse.move(b["x"] - 120, b["y"] + b["height"] / 2, steps=8)
    mouse.up()
    expect(size_readout).not_to_have_text("1,000,000")
    expect(box.locator(f"{_EXPLORER} [data-testid=gallery-size]")).to_have_text(size_readout.inner_text().strip(),
                                                                              timeout=30_000)
    dragged = check("after-drag")
    assert float(dragged["gallery-size"].replace(",", "")) < 1e6

    # Three arrow-key presses: each multiplies N by 10^0.05.
    before = shown(box)[0]["gallery_size"]
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    expect(box.locator(f"{_EXPLORER} [data-testid=gallery-size]")).not_to_have_text(dragged["gallery-size"],
                                                                                  timeout=30_000)
    expect(box.locator(f"{_EXPLORER} [data-testid=gallery-size]")).to_have_text(size_readout.inner_text().strip(),
                                                                              timeout=30_000)
    after_keys = shown(box)[0]["gallery_size"]
    assert after_keys == pytest.approx(before * 10 ** 0.15, rel=1e-6)
    check("after-keys")

    # Pick the strictest threshold: no false match observed there, so the point value is 0.
    box.locator("select").select_option(label="0.45")
    expect(box.locator(f"{_EXPLORER} [data-testid=threshold]")).to_have_text("0.45", timeout=30_000)
    strict = check("threshold-045")
    assert (strict["false-matches"], strict["expected"]) == ("0", "0")
    assert strict["expected-band"].startswith("0 to ")
