"""The lessons' widgets, used as an instructor uses them: in JupyterLab, in a real browser.

Each test copies a notebook into a temporary folder served by a real JupyterLab server, opens it
in headless Chromium, runs every cell through the menu (Run → Run All Cells), moves a slider
with the mouse and with the keyboard, and checks that every number the widget displays is what
the helper library's pure function computes — in this test process, on the same data — for the
value the slider shows. Screenshots go to ``test-artifacts/browser/`` (git-ignored).

Run them with ``python -m pytest -m browser tests/browser`` after ``bash tools/install_browser.sh``.
Without Chromium or Playwright they fail (they never skip).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from facecourse.widgets import FIELD_IDS, explorer_state

from .conftest import _ACTIVE_PANEL, ROOT, JupyterLab, LabPage, drag_handle, write_notebook

pytestmark = pytest.mark.browser

_EXPLORER = "[data-testid=threshold-explorer]"


# ---------------------------------------------------------------------------------------------
# Reading and moving the threshold explorer
# ---------------------------------------------------------------------------------------------


def explorer_widget(lab_page: LabPage, index: int = 0) -> Any:
    """The explorer's widget box (slider + panel); the index-th one if a notebook has several."""
    page = lab_page.page
    # Only in the notebook on screen: JupyterLab restores the tabs of earlier tests (hidden panels).
    box = page.locator(f"{_ACTIVE_PANEL} .widget-vbox", has=page.locator(_EXPLORER)).nth(index)
    box.scroll_into_view_if_needed()
    return box


def displayed_fields(box: Any) -> dict[str, str]:
    """The text of every ``data-testid`` element of the explorer, as a browser shows it."""
    texts = box.locator(f"{_EXPLORER} [data-testid]").evaluate_all(
        "els => els.map(e => [e.getAttribute('data-testid'), e.textContent])")
    return dict(texts)


def slider_value(box: Any) -> str:
    return box.locator(".widget-readout").inner_text().strip()


def wait_for_threshold(box: Any, text: str) -> None:
    """Wait until the panel (recomputed in the kernel) shows the threshold ``text``."""
    from playwright.sync_api import expect

    expect(box.locator(f"{_EXPLORER} [data-testid=threshold]")).to_have_text(text, timeout=30_000)


def press_to(box: Any, target: float, step: float) -> None:
    """Move the slider to ``target`` with the arrow keys (the handle is keyboard-accessible)."""
    handle = box.locator(".noUi-handle")
    handle.focus()
    presses = round((target - float(slider_value(box))) / step)
    key = "ArrowRight" if presses > 0 else "ArrowLeft"
    for _ in range(abs(presses)):
        handle.press(key)


def check_explorer_moves(lab_page: LabPage, box: Any, expected_at: Any, *, initial: float, step: float,
                         drag_px: float, key_target: float, page_shot: bool = True) -> dict[str, dict[str, str]]:
    """Shown numbers at the initial value, after a mouse drag, and after arrow keys; all checked.

    ``expected_at(t)`` is the explorer's pure state function's ``fields()`` at threshold ``t``.
    Returns what was shown at each step (for the test's own extra checks). Screenshots show the
    widget only; ``page_shot`` adds one of the whole page (off for lessons, whose figures may
    show faces: test-artifacts/ is git-ignored, but there is no need to keep more copies).
    """
    seen: dict[str, dict[str, str]] = {}
    wait_for_threshold(box, f"{initial:.3f}")
    assert slider_value(box) == f"{initial:.3f}"
    seen["initial"] = displayed_fields(box)
    assert seen["initial"] == expected_at(initial)
    lab_page.screenshot("explorer-initial", locator=box)

    drag_handle(lab_page, box, drag_px)
    readout = slider_value(box)
    assert readout != f"{initial:.3f}", "dragging the handle did not move the slider"
    wait_for_threshold(box, readout)
    seen["dragged"] = displayed_fields(box)
    assert seen["dragged"] == expected_at(float(readout))
    lab_page.screenshot("explorer-after-drag", locator=box)

    press_to(box, key_target, step)
    wait_for_threshold(box, f"{key_target:.3f}")
    assert slider_value(box) == f"{key_target:.3f}"
    seen["keys"] = displayed_fields(box)
    assert seen["keys"] == expected_at(key_target)
    lab_page.screenshot("explorer-after-keys", locator=box)
    if page_shot:
        lab_page.screenshot("page-after-keys")
    return seen


# ---------------------------------------------------------------------------------------------
# 1. A generated notebook: the widget itself, independent of any lesson's content
# ---------------------------------------------------------------------------------------------

# Hand-made distances (third decimals off the slider's 0.005 grid, so no score sits exactly on
# a threshold the slider can reach). At the initial threshold 0.6:
#   false matches     = non-mated <= 0.6: 0.383, 0.521, 0.587      -> 3 of 8
#   false non-matches = mated > 0.6:      0.633                    -> 1 of 5
# At 0.5 (reached with the arrow keys): false matches 0.383 -> 1 of 8; false non-matches
#   0.571, 0.633 -> 2 of 5; the non-mated 0.587 and 0.521 are no longer false matches and the
#   mated 0.571 becomes a false non-match, compared with the reference 0.6.
MATED = [0.312, 0.427, 0.488, 0.571, 0.633]
NONMATED = [0.383, 0.521, 0.587, 0.662, 0.718, 0.744, 0.823, 0.901]
MATED_LABELS = [f"m{k}" for k in range(len(MATED))]
NONMATED_LABELS = [f"n{k}" for k in range(len(NONMATED))]
INITIAL, STEP = 0.6, 0.005


def generated_notebook(path: Path) -> Path:
    return write_notebook(
        path, "Threshold explorer on hand-made scores (browser test)",
        "from facecourse.widgets import threshold_explorer\n\n"
        f"mated = {MATED!r}\nnonmated = {NONMATED!r}\n"
        f"mated_labels = {MATED_LABELS!r}\nnonmated_labels = {NONMATED_LABELS!r}",
        "explorer = threshold_explorer(mated, nonmated, mated_labels=mated_labels, nonmated_labels=nonmated_labels,\n"
        f"                              initial={INITIAL}, step={STEP}, slider_range=(0.3, 0.95))\n"
        "explorer")


def test_threshold_explorer_on_hand_made_scores(lab: JupyterLab, lab_page: LabPage, tmp_path: Path) -> None:
    name = lab.add_notebook(generated_notebook(tmp_path / "explorer_hand_made.ipynb"))
    lab_page.open_notebook(name)
    lab_page.run_all_cells(timeout_s=120)
    box = explorer_widget(lab_page)

    def expected_at(t: float) -> dict[str, str]:
        return explorer_state(MATED, NONMATED, t, reference_threshold=INITIAL, mated_labels=MATED_LABELS,
                              nonmated_labels=NONMATED_LABELS).fields()

    seen = check_explorer_moves(lab_page, box, expected_at, initial=INITIAL, step=STEP,
                                drag_px=80, key_target=0.5)
    # The hand-worked numbers above, so that a wrong pure function cannot pass by agreeing with itself.
    assert (seen["initial"]["false-matches"], seen["initial"]["false-non-matches"]) == ("3", "1")
    assert (seen["keys"]["false-matches"], seen["keys"]["false-non-matches"]) == ("1", "2")
    assert seen["keys"]["no-longer-false-matches"] == "n2 (0.587), n1 (0.521)"
    assert seen["keys"]["became-false-non-matches"] == "m3 (0.571)"
    assert set(seen["keys"]) == set(FIELD_IDS)


# ---------------------------------------------------------------------------------------------
# 2. Lesson 03: the threshold explorer on the London Set pairs
# ---------------------------------------------------------------------------------------------

LESSON_03 = ROOT / "lessons" / "03_verification.ipynb"


def lesson_copy(lab: JupyterLab, path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: the browser test opens it in JupyterLab.")
    return lab.add_notebook(path)  # a temporary copy: JupyterLab's autosave never touches the lesson


def test_lesson_03_threshold_explorer(lab: JupyterLab, lab_page: LabPage) -> None:
    lab_page.open_notebook(lesson_copy(lab, LESSON_03))
    lab_page.run_all_cells(timeout_s=360)
    box = explorer_widget(lab_page)

    # The same data as the lesson's explorer cell (keep in step with lessons/03_verification.ipynb):
    # every London photo compared with every other, labelled by file ids, reference 0.6.
    from facecourse import faceprints, metrics

    london = faceprints.encode_set(["london_neutral", "london_smiling"])
    scores = metrics.mated_and_nonmated(london.embeddings, london.person_ids)
    m_labels, nm_labels = london.file_ids[scores.mated_pairs], london.file_ids[scores.nonmated_pairs]

    def expected_at(t: float) -> dict[str, str]:
        return explorer_state(scores.mated, scores.nonmated, t, reference_threshold=metrics.DEFAULT_THRESHOLD,
                              mated_labels=m_labels, nonmated_labels=nm_labels).fields()

    seen = check_explorer_moves(lab_page, box, expected_at, initial=metrics.DEFAULT_THRESHOLD, step=0.005,
                                drag_px=-40, key_target=0.5, page_shot=False)
    # Lowering the threshold can only remove false matches and add false non-matches.
    assert int(seen["keys"]["false-matches"].replace(",", "")) <= int(seen["initial"]["false-matches"].replace(",", ""))
    assert int(seen["keys"]["false-non-matches"]) >= int(seen["initial"]["false-non-matches"])


# ---------------------------------------------------------------------------------------------
# 3. Lesson 07: the deployment simulator
# ---------------------------------------------------------------------------------------------

LESSON_07 = ROOT / "lessons" / "07_policy_lab.ipynb"
_SIMULATOR = "[data-testid=deployment-simulator]"


def simulator_widget(lab_page: LabPage) -> Any:
    page = lab_page.page
    box = page.locator(f"{_ACTIVE_PANEL} .widget-vbox", has=page.locator(_SIMULATOR)).first
    box.scroll_into_view_if_needed()
    return box


def control(box: Any, label: str) -> Any:
    """The slider whose description is ``label``."""
    label_text = box.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$"))
    return box.locator(".widget-slider", has=label_text)


def simulator_display(box: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings the panel says it shows (its data-settings JSON) and the text of every value."""
    import json

    panel = box.locator(_SIMULATOR)
    settings = json.loads(panel.get_attribute("data-settings"))
    texts = panel.locator("[data-testid]").evaluate_all(
        "els => els.map(e => [e.getAttribute('data-testid'), e.textContent])")
    return settings, dict(texts)


def test_lesson_07_deployment_simulator(lab: JupyterLab, lab_page: LabPage) -> None:
    from playwright.sync_api import expect

    from facecourse import faceprints
    from facecourse.simulator import DEFAULT_SETTINGS, MeasuredRates, simulator_state

    lab_page.open_notebook(lesson_copy(lab, LESSON_07))
    lab_page.run_all_cells(timeout_s=360)
    box = simulator_widget(lab_page)
    # the same measurement the lesson passes to the simulator
    measured = MeasuredRates.from_faceprints(faceprints.encode_set("london_neutral"),
                                             faceprints.encode_set("london_smiling"))

    def check(step: str) -> dict[str, str]:
        settings, shown = simulator_display(box)
        assert shown == simulator_state(measured=measured, **settings).fields(), step
        lab_page.screenshot(f"simulator-{step}", locator=box.locator(_SIMULATOR))
        return shown

    threshold = control(box, "threshold (distance)")
    expect(threshold.locator(".widget-readout")).to_have_text(f"{DEFAULT_SETTINGS['threshold']:.3f}")
    before = check("initial")
    assert before["threshold"] == f"{DEFAULT_SETTINGS['threshold']:.3f}"
    lab_page.screenshot("simulator-controls-initial", locator=box)

    # Lower the threshold by 0.05 with the keyboard: fewer false leads, more missed people.
    target = DEFAULT_SETTINGS["threshold"] - 0.05
    handle = threshold.locator(".noUi-handle")
    handle.focus()
    for _ in range(10):
        handle.press("ArrowLeft")
    expect(threshold.locator(".widget-readout")).to_have_text(f"{target:.3f}")
    expect(box.locator(f"{_SIMULATOR} [data-testid=threshold]")).to_have_text(f"{target:.3f}", timeout=30_000)
    after = check("after-threshold")
    assert after["false-leads-per-day"] != before["false-leads-per-day"]

    # Move the gallery size (a log slider) down with the mouse: the panel follows it too.
    gallery = control(box, "gallery size (faceprints)")
    old = gallery.locator(".widget-readout").inner_text()
    handle = gallery.locator(".noUi-handle")
    b = handle.bounding_box()
    mouse = lab_page.page.mouse
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    mouse.down()
    mouse.move(b["x"] - 60, b["y"] + b["height"] / 2, steps=8)
    mouse.up()
    expect(gallery.locator(".widget-readout")).not_to_have_text(old)
    readout = gallery.locator(".widget-readout").inner_text()
    # The drag sends several values on the way (continuous updates): wait for the last one.
    expect(box.locator(f"{_SIMULATOR} [data-testid=gallery-size]")).to_have_text(readout, timeout=30_000)
    settings, _ = simulator_display(box)
    assert f"{settings['gallery_size']:,}" == readout
    assert settings["threshold"] == pytest.approx(target)  # the earlier move is kept
    check("after-gallery")
    lab_page.screenshot("simulator-controls-after", locator=box)
