"""Lesson 01's damage explorer in a real browser: JupyterLab in headless Chromium.

As in ``test_widgets_in_jupyterlab.py``: a notebook is copied into the temporary folder of a real
JupyterLab server (fixtures of ``conftest.py``), every cell is run through the menu, and the
widget is moved as a person moves it: the kind of damage is chosen in the drop-down, the level
slider is dragged with the mouse and stepped with the arrow keys. After each move every value the
panel displays must equal what the pure function ``damage_state`` computes in this test process
for the kind and level the controls show.

Run with ``python -m pytest -m browser tests/browser/test_damage_explorer_in_jupyterlab.py``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from facecourse.damage_explorer import FIELD_IDS, damage_state
from facecourse.detection import DetectionRate

from .conftest import ROOT, JupyterLab, LabPage, drag_handle, press_handle, widget_box, write_notebook

pytestmark = pytest.mark.browser

_PANEL = "[data-testid=damage-explorer]"


def explorer_box(lab_page: LabPage) -> Any:
    return widget_box(lab_page, _PANEL)


def shown(box: Any) -> dict[str, str]:
    texts = box.locator(f"{_PANEL} [data-testid]").evaluate_all(
        "els => els.map(e => [e.getAttribute('data-testid'), e.textContent])")
    return dict(texts)


def readout(box: Any) -> str:
    return box.locator(".widget-readout").inner_text().strip()


def settle(box: Any, timeout_s: float = 30) -> tuple[str, str]:
    """Wait until the controls and the panel (recomputed in the kernel) show the same kind and level.

    After a move the kernel answers asynchronously: a new kind also sends new slider options back
    to the browser, so the readout and the panel may lag one another for a moment.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        kind = box.locator(".widget-dropdown select").input_value()
        level = readout(box)
        panel = (box.locator(f"{_PANEL} [data-testid=kind]").inner_text(),
                 box.locator(f"{_PANEL} [data-testid=level]").inner_text())
        if panel == (kind, level):
            return kind, level
        if time.monotonic() > deadline:
            pytest.fail(f"controls show {kind!r} at {level!r} but the panel shows {panel!r} after {timeout_s} s")
        time.sleep(0.25)


def choose_kind(box: Any, kind: str) -> None:
    box.locator(".widget-dropdown select").select_option(kind)


def check(lab_page: LabPage, box: Any, rows: list[DetectionRate], step: str) -> dict[str, str]:
    """The panel after a move equals the pure function at the kind and level the controls show."""
    time.sleep(0.5)  # let the browser send the move before reading the controls back
    kind, level = settle(box)
    seen = shown(box)
    assert set(seen) == set(FIELD_IDS), step
    assert seen == damage_state(rows, kind, float(level)).fields(), step
    lab_page.screenshot(f"damage-{step}", locator=box)
    return seen


# ---------------------------------------------------------------------------------------------
# 1. A generated notebook with hand-made counts
# ---------------------------------------------------------------------------------------------

HAND_MADE = [
    ("none", "none", 0, "no change", 10, 10),
    ("blur:2", "blur", 2, "blur sigma in pixels", 9, 10),
    ("blur:8", "blur", 8, "blur sigma in pixels", 2, 10),
    ("blur:16", "blur", 16, "blur sigma in pixels", 0, 10),
    ("rotate:15", "rotate", 15, "in-plane rotation in degrees", 10, 10),
    ("rotate:30", "rotate", 30, "in-plane rotation in degrees", 8, 10),
    ("rotate:60", "rotate", 60, "in-plane rotation in degrees", 1, 10),
]


def generated_notebook(path: Path) -> Path:
    return write_notebook(
        path, "Damage explorer on hand-made counts (browser test)",
        "from facecourse.damage_explorer import damage_explorer\n"
        "from facecourse.detection import DetectionRate\n\n"
        f"rows = [DetectionRate(*r) for r in {HAND_MADE!r}]",
        "damage_explorer(rows)")


def test_damage_explorer_on_hand_made_counts(lab: JupyterLab, lab_page: LabPage, tmp_path: Path) -> None:
    rows = [DetectionRate(*r) for r in HAND_MADE]
    lab_page.open_notebook(lab.add_notebook(generated_notebook(tmp_path / "damage_hand_made.ipynb")))
    lab_page.run_all_cells(timeout_s=120)
    box = explorer_box(lab_page)

    first = check(lab_page, box, rows, "initial")
    assert (first["kind"], first["level"], first["detected"]) == ("blur", "2", "9")
    assert first["compared"] == "not distinguishable from undamaged (the intervals overlap)"

    press_handle(box, "ArrowRight", 1)  # blur 2 -> 8
    seen = check(lab_page, box, rows, "keys")
    # Worked by hand (Wilson, z = 1.96): 2 of 10 -> 5.7 %-51.0 %, below the baseline's 72.2 %-100 %.
    assert (seen["level"], seen["detected"], seen["rate-ci"]) == ("8", "2", "5.7%-51.0%")
    assert seen["compared"] == "fewer than undamaged (the intervals do not overlap)"

    choose_kind(box, "rotate")  # the slider jumps to the new kind's mildest level
    seen = check(lab_page, box, rows, "kind")
    assert (seen["kind"], seen["level"], seen["detected"]) == ("rotate", "15", "10")

    drag_handle(lab_page, box, 400)  # far right: the most severe level
    seen = check(lab_page, box, rows, "drag")
    assert (seen["level"], seen["detected"]) == ("60", "1")


# ---------------------------------------------------------------------------------------------
# 2. Lesson 01: the explorer on the lesson's cached detection results
# ---------------------------------------------------------------------------------------------

LESSON_01 = ROOT / "lessons" / "01_finding_faces.ipynb"


def lesson_table() -> list[DetectionRate]:
    """The lesson's table, recomputed here (keep in step with lessons/01_finding_faces.ipynb)."""
    from facecourse import degrade, detection, faceprints, manifest

    london = manifest.load_manifest().photos("london_neutral")
    n_people = 51
    people = london[:: max(1, len(london) // n_people)][:n_people]
    conditions = degrade.conditions_with_low_light()
    return detection.detection_table(faceprints.encode_variants(people, conditions), conditions)


def rows_levels(rows: list[DetectionRate], kind: str) -> list[float]:
    return [float(r.level) for r in rows if r.kind == kind]


def test_lesson_01_damage_explorer(lab: JupyterLab, lab_page: LabPage) -> None:
    if not LESSON_01.exists():
        pytest.fail(f"{LESSON_01.relative_to(ROOT)} is missing: the browser test opens it in JupyterLab.")
    rows = lesson_table()
    lab_page.open_notebook(lab.add_notebook(LESSON_01))  # a temporary copy
    lab_page.run_all_cells(timeout_s=600)
    box = explorer_box(lab_page)

    seen = check(lab_page, box, rows, "lesson-initial")
    assert (seen["kind"], seen["level"]) == ("blur", "2")
    press_handle(box, "ArrowRight", 3)  # blur 2 -> 4 -> 8 -> 12
    seen = check(lab_page, box, rows, "lesson-keys")
    assert seen["level"] == "12"
    choose_kind(box, "lowlight")
    seen = check(lab_page, box, rows, "lesson-kind")
    assert seen["kind"] == "lowlight" and seen["level"] == f"{rows_levels(rows, 'lowlight')[0]:g}"
    drag_handle(lab_page, box, 400)
    seen = check(lab_page, box, rows, "lesson-drag")
    # The most severe low light loses more faces than the undamaged copies: the lesson's finding.
    assert int(seen["detected"]) < int(seen["baseline-detected"])
