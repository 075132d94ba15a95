"""Tests of facecourse.group_explorer: the pure state function, its markup, and the live widget.

Hand-made 1-D "faceprints", one photo per person (distance = absolute difference):

    group X: a 0.0, b 0.3, c 0.45          pairs a-b 0.30, a-c 0.45, b-c 0.15   (3 people, 3 pairs)
    group Y: d 5.0, e 5.2                  pair  d-e 0.20                        (2 people, 1 pair)
    group Z: f 9.0                         one person: no within-group pair, left out

At threshold 0.25: X has 1 false match of 3 (b-c), FMR 33.33%; Y 1 of 1 (100%).
At threshold 0.1:  X 0 of 3, so no bootstrap interval: rule of three over 3 person pairs = 3/3 -> 100%;
                   Y 0 of 1 -> also capped at 100%.
At threshold 0.5:  X 3 of 3 (100%), Y 1 of 1.
"""

from __future__ import annotations

import doctest
import html
import json
import re

import pytest

from facecourse import demographics as dg
from facecourse import group_explorer as gx
from facecourse import metrics
from facecourse.group_explorer import group_explorer, group_rates_state, slug

EMB = [[0.0], [0.3], [0.45], [5.0], [5.2], [9.0]]
IDS = ["a", "b", "c", "d", "e", "f"]
GROUPS = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y", "f": "Z"}


def test_hand_worked_counts() -> None:
    f = group_rates_state(EMB, IDS, GROUPS, 0.25, n_boot=200).fields()
    assert f["threshold"] == "0.250"
    assert (f["x-counts"], f["x-fmr"], f["x-people"]) == ("1 of 3 photo pairs", "33.33%", "3 people, 3 person pairs")
    assert (f["y-counts"], f["y-fmr"]) == ("1 of 1 photo pairs", "100.00%")
    assert not any(k.startswith("z-") for k in f), "a group of one has no within-group pair"
    f05 = group_rates_state(EMB, IDS, GROUPS, 0.5, n_boot=200).fields()
    assert f05["x-counts"] == "3 of 3 photo pairs"


def test_zero_errors_give_the_rule_of_three_not_a_zero_interval() -> None:
    f = group_rates_state(EMB, IDS, GROUPS, 0.1, n_boot=200).fields()
    assert f["x-counts"] == "0 of 3 photo pairs"
    assert f["x-bootstrap"] == "none seen; below about 100.00% (rule of three)"
    big = {f"p{k}": "G" for k in range(30)}  # 30 people far apart: 435 person pairs, no false match
    f30 = group_rates_state([[10.0 * k] for k in range(30)], list(big), big, 0.5, n_boot=50).fields()
    assert f30["g-bootstrap"] == "none seen; below about 0.69% (rule of three)"  # 3 / 435 = 0.69 %


def test_state_is_exactly_the_lessons_table() -> None:
    s = group_rates_state(EMB, IDS, GROUPS, 0.25, n_boot=300, seed=3)
    rows = dg.within_group_intervals(EMB, IDS, GROUPS, 0.25, n_boot=300, seed=3)
    assert [r.as_row() for r in s.rows] == [r.as_row() for r in rows]
    x = s.rows[0]
    boot = metrics.fmr_bootstrap_by_subject([[0.0], [0.3], [0.45]], ["a", "b", "c"], 0.25, n_boot=300, seed=3)
    assert (x.group, x.bootstrap) == ("X", (boot.lo, boot.hi))


def test_html_carries_every_field() -> None:
    s = group_rates_state(EMB, IDS, GROUPS, 0.25, n_boot=100)
    page = s.html()
    shown = {k: html.unescape(v) for k, v in re.findall(r'data-testid="([a-z0-9-]+)">([^<]*)<', page)}
    assert shown == s.fields()
    found = re.search(r'data-settings="([^"]*)"', page)
    assert found is not None
    assert json.loads(html.unescape(found.group(1))) == {"threshold": 0.25}
    assert "100 replicates" in page


def test_slug_and_bad_input() -> None:
    assert slug("east_asian") == "east-asian" and slug("East Asian/White") == "east-asian-white"
    with pytest.raises(ValueError, match="threshold"):
        group_rates_state(EMB, IDS, GROUPS, float("nan"))
    with pytest.raises(ValueError, match="two or more people"):
        group_rates_state([[0.0], [1.0]], ["a", "b"], {"a": "P", "b": "Q"}, 0.5)


def test_widget_follows_the_slider_and_caches() -> None:
    pytest.importorskip("ipywidgets")
    ex = group_explorer(EMB, IDS, GROUPS, initial=0.25, slider_range=(0.05, 0.6), n_boot=100,
                        static_thresholds=(0.1, 0.25))
    assert ex.panel.value == group_rates_state(EMB, IDS, GROUPS, 0.25, n_boot=100).html()
    ex.slider.value = 0.5
    assert ex.panel.value == group_rates_state(EMB, IDS, GROUPS, 0.5, n_boot=100).html()
    assert ex.state(0.5) is ex.state(0.5)  # computed once per threshold
    text = repr(ex)
    assert "interactive in JupyterLab" in text and "threshold 0.100" in text and "threshold 0.250" in text
    assert ex._repr_mimebundle_()["text/plain"] == ex.static_text()
    with pytest.raises(ValueError, match="outside the slider's range"):
        group_explorer(EMB, IDS, GROUPS, initial=0.9)


def test_doctests() -> None:
    assert doctest.testmod(gx).failed == 0
