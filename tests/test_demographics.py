"""Tests of facecourse.demographics: hand-worked examples, slow brute-force references, bad input."""

from __future__ import annotations

import doctest
import math
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from facecourse import demographics as dg
from facecourse import errorplots, metrics

# ---------------------------------------------------------------------------------------------
# The hand-made example used below: 1-D "faceprints", so every distance is |x_i - x_j|.
#
#   sample  0     1     2     3     4     5     6     7
#   person  a     a     b     c     d     e     f     g
#   x       0.0   0.1   0.3   1.0   5.0   5.2   5.9   20.0
#   group   X     X     X     X     Y     Y     Y     Z (a group of one)
#
# Within X (people a, b, c; a has two photos): non-mated pairs (0,2)=0.3 (1,2)=0.2 (0,3)=1.0
#   (1,3)=0.9 (2,3)=0.7 -> 5 pairs. At threshold 0.5: 0.3 and 0.2 are false matches -> 2 of 5.
#   The mated pair (0,1)=0.1 is never a false match.
# Within Y (d, e, f): (4,5)=0.2 (4,6)=0.9 (5,6)=0.7 -> at 0.5 one false match of 3.
# Z has one person: no within-group pair.
# ---------------------------------------------------------------------------------------------
X = np.array([[0.0], [0.1], [0.3], [1.0], [5.0], [5.2], [5.9], [20.0]])
IDS = np.array(["a", "a", "b", "c", "d", "e", "f", "g"])
GROUPS = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y", "f": "Y", "g": "Z"}


def entry(person, ethnicity="white", gender="female", age=20, file_id="f"):
    return SimpleNamespace(person_id=person, ethnicity=ethnicity, gender=gender, age=age, file_id=file_id)


# --------------------------------------------------------------------------- age bands and labels


def test_age_bands_from_ages_cut_at_thirds() -> None:
    # 9 ages; method="lower" quantiles at 1/3 and 2/3 sit at sorted positions 2.67 -> 2 (age 20)
    # and 5.33 -> 5 (age 23): bands 18-20, 21-23, 24-50.
    bands = dg.AgeBands.from_ages([23, 18, 19, 50, 20, 21, 22, 30, 40, None], n_bands=3)
    assert bands.labels() == ["18-20", "21-23", "24-50"]
    assert [bands.label(a) for a in (18, 20, 21, 23, 24, 50, None)] == \
        ["18-20", "18-20", "21-23", "21-23", "24-50", "24-50", dg.NOT_REPORTED]


def test_age_bands_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="too few distinct ages"):
        dg.AgeBands.from_ages([20, 20, 20, 20, 21], n_bands=3)
    with pytest.raises(ValueError, match="at least 2"):
        dg.AgeBands.from_ages([20, 30], n_bands=1)
    with pytest.raises(ValueError, match="cannot make"):
        dg.AgeBands.from_ages([20, None], n_bands=2)
    with pytest.raises(ValueError, match="lowest"):
        dg.AgeBands(upper=(30, 25), lowest=18, highest=50)
    with pytest.raises(ValueError, match="outside"):
        dg.AgeBands((25,), 18, 50).label(60)


def test_labels_by_person_one_label_per_person() -> None:
    entries = [entry("p1"), entry("p1"), entry("p2", ethnicity="", gender="male", age=None)]
    assert dg.labels_by_person(entries, "ethnicity") == {"p1": "white", "p2": dg.NOT_REPORTED}
    assert dg.labels_by_person(entries, "gender") == {"p1": "female", "p2": "male"}
    bands = dg.AgeBands((19,), 18, 30)
    assert dg.labels_by_person(entries, "age", age_bands=bands) == {"p1": "20-30", "p2": dg.NOT_REPORTED}


def test_labels_by_person_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="two different ethnicity labels"):
        dg.labels_by_person([entry("p1"), entry("p1", ethnicity="black")], "ethnicity")
    with pytest.raises(ValueError, match="attribute must be one of"):
        dg.labels_by_person([entry("p1")], "height")
    with pytest.raises(ValueError, match="need bands"):
        dg.labels_by_person([entry("p1")], "age")
    with pytest.raises(ValueError, match="no person_id"):
        dg.labels_by_person([entry("")], "gender")


def test_group_sizes_and_crosstab() -> None:
    assert dg.group_sizes(GROUPS) == {"X": 3, "Y": 3, "Z": 1}  # ties broken by name
    # p1, p2 in X (f, m); p3 in Y (f)
    table = dg.crosstab({"p1": "X", "p2": "X", "p3": "Y"}, {"p1": "f", "p2": "m", "p3": "f"}, row_title="g")
    assert table.splitlines()[2:] == ["X  1  1    2", "Y  1  0    1"]
    with pytest.raises(ValueError, match="only one of the two labels"):
        dg.crosstab({"p1": "X"}, {"p2": "f"})


# --------------------------------------------------------------------------- within-group distances


def test_within_group_scores_hand_example() -> None:
    s = dg.within_group_scores(X, IDS, GROUPS)
    assert list(s) == ["X", "Y"]  # Z, a group of one, is left out
    assert s["X"].nonmated_pairs.tolist() == [[0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    np.testing.assert_allclose(s["X"].nonmated, [0.3, 1.0, 0.2, 0.9, 0.7], atol=1e-9)
    np.testing.assert_allclose(s["X"].mated, [0.1], atol=1e-9)
    assert s["Y"].nonmated_pairs.tolist() == [[4, 5], [4, 6], [5, 6]]  # indices of the full set


def test_within_group_scores_exclusions() -> None:
    groups = dict(GROUPS, d=dg.NOT_REPORTED, e=dg.NOT_REPORTED, f=dg.NOT_REPORTED)
    assert list(dg.within_group_scores(X, IDS, groups)) == ["X"]
    assert list(dg.within_group_scores(X, IDS, groups, exclude=())) == ["X", dg.NOT_REPORTED]
    assert list(dg.within_group_scores(X, IDS, GROUPS, min_people=4)) == []
    with pytest.raises(ValueError, match="at least 2"):
        dg.within_group_scores(X, IDS, GROUPS, min_people=1)


def test_within_group_fmr_curves() -> None:
    curves = dg.within_group_fmr_curves(dg.within_group_scores(X, IDS, GROUPS), [0.25, 0.5, 0.95])
    # X: distances 0.2 0.3 0.7 0.9 1.0 -> 1/5, 2/5, 4/5; Y: 0.2 0.7 0.9 -> 1/3, 1/3, 3/3
    np.testing.assert_allclose(curves["X"], [0.2, 0.4, 0.8])
    np.testing.assert_allclose(curves["Y"], [1 / 3, 1 / 3, 1.0])


def test_groups_given_per_sample_or_by_mapping_agree() -> None:
    per_sample = [GROUPS[p] for p in IDS]
    a = dg.within_group_intervals(X, IDS, GROUPS, 0.5, n_boot=50)
    b = dg.within_group_intervals(X, IDS, per_sample, 0.5, n_boot=50)
    assert a == b
    with pytest.raises(ValueError, match="different groups"):
        dg.within_group_intervals(X, IDS, ["X", "Y"] + per_sample[2:], 0.5)
    with pytest.raises(ValueError, match="no group given"):
        dg.within_group_intervals(X, IDS, {"a": "X"}, 0.5)
    with pytest.raises(ValueError, match="one label per faceprint"):
        dg.within_group_intervals(X, IDS[:3], GROUPS, 0.5)


# --------------------------------------------------------------------------- intervals per group


def test_within_group_intervals_counts_and_bootstrap() -> None:
    rows = dg.within_group_intervals(X, IDS, GROUPS, 0.5, n_boot=300, seed=7)
    assert [(r.group, r.people, r.person_pairs, r.false_matches, r.nonmated_count) for r in rows] == \
        [("X", 3, 3, 2, 5), ("Y", 3, 3, 1, 3)]
    assert rows[0].fmr == pytest.approx(0.4)
    assert rows[0].fmr_ci == pytest.approx(metrics.wilson_interval(2, 5))
    # The bootstrap is exactly fmr_bootstrap_by_subject on the group's own photos, same seed.
    members = np.isin(IDS, ["a", "b", "c"])
    ref = metrics.fmr_bootstrap_by_subject(X[members], IDS[members], 0.5, n_boot=300, seed=7)
    assert rows[0].bootstrap == (ref.lo, ref.hi)
    assert rows[0].width_ratio == pytest.approx((ref.hi - ref.lo) / (rows[0].fmr_ci[1] - rows[0].fmr_ci[0]))


def test_within_group_intervals_order_and_zero_errors() -> None:
    rows = dg.within_group_intervals(X, IDS, GROUPS, 0.05, n_boot=50, order=["Y", "X"])
    assert [r.group for r in rows] == ["Y", "X"]
    assert all(r.false_matches == 0 for r in rows)
    # No false match: the bootstrap cannot see one either, and the table says so.
    assert rows[0].bootstrap == (0.0, 0.0)
    assert math.isnan(rows[0].width_ratio)
    assert rows[0].as_row()["95% CI, people (bootstrap)"] == "n/a (0 errors)"
    table = metrics.format_table(rows)
    assert "person pairs" in table.splitlines()[0]


# --------------------------------------------------------------------------- difference of two groups


def slow_group_replicates(x, ids, threshold, n_boot, seed):
    """Bootstrap FMR of one group, one replicate and one pair of copies at a time."""
    subjects = np.unique(ids)
    draws = np.random.default_rng(seed).integers(0, subjects.size, size=(n_boot, subjects.size))
    out = []
    for draw in draws:
        fm = pairs = 0
        for c1 in range(len(draw)):
            for c2 in range(c1 + 1, len(draw)):
                s, t = subjects[draw[c1]], subjects[draw[c2]]
                if s == t:
                    continue  # two copies of one person are not a non-mated pair
                for i in np.flatnonzero(ids == s):
                    for j in np.flatnonzero(ids == t):
                        pairs += 1
                        fm += abs(x[i, 0] - x[j, 0]) <= threshold
        out.append(fm / pairs if pairs else math.nan)
    return np.array(out)


def test_fmr_difference_bootstrap_matches_slow_reference() -> None:
    d = dg.fmr_difference_bootstrap(X, IDS, GROUPS, "X", "Y", 0.5, n_boot=60, seed=3)
    seeds = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(3).spawn(2)]
    in_x, in_y = np.isin(IDS, ["a", "b", "c"]), np.isin(IDS, ["d", "e", "f"])
    rx = slow_group_replicates(X[in_x], IDS[in_x], 0.5, 60, seeds[0])
    ry = slow_group_replicates(X[in_y], IDS[in_y], 0.5, 60, seeds[1])
    ok = ~np.isnan(rx) & ~np.isnan(ry)
    np.testing.assert_allclose(d.difference_replicates, (rx - ry)[ok])
    lo, hi = np.quantile((rx - ry)[ok], [0.025, 0.975])
    assert d.difference_ci == pytest.approx((lo, hi))
    assert d.fmr_a == pytest.approx(0.4) and d.fmr_b == pytest.approx(1 / 3)
    assert d.difference == pytest.approx(0.4 - 1 / 3)
    assert d.ratio == pytest.approx(1.2)
    assert d.share_a_not_higher == pytest.approx(np.mean((rx - ry)[ok] <= 0))
    assert d.replicates_used == ok.sum()


def test_fmr_difference_bootstrap_hand_example() -> None:
    # X: two people 0.1 apart (FMR 1 at 0.5); Y: two people 2 apart (FMR 0). Every defined
    # replicate gives 1 - 0 = 1; replicates drawing one person twice are undefined and dropped.
    d = dg.fmr_difference_bootstrap([[0.0], [0.1], [5.0], [7.0]], ["a", "b", "c", "d"],
                                    {"a": "X", "b": "X", "c": "Y", "d": "Y"}, "X", "Y", 0.5, n_boot=400)
    assert d.difference_ci == (1.0, 1.0)
    assert d.share_a_not_higher == 0.0
    assert math.isinf(d.ratio) and d.ratio_ci == (math.inf, math.inf)
    assert 0 < d.replicates_used < 400  # about a quarter of the replicates are defined
    assert d.as_row()["A / B"] == "unbounded"


def test_fmr_difference_bootstrap_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="fewer than 2 people"):
        dg.fmr_difference_bootstrap(X, IDS, GROUPS, "X", "Z", 0.5)
    with pytest.raises(ValueError, match="fewer than 2 people"):
        dg.fmr_difference_bootstrap(X, IDS, GROUPS, "X", "nobody", 0.5)
    with pytest.raises(ValueError, match="two different groups"):
        dg.fmr_difference_bootstrap(X, IDS, GROUPS, "X", "X", 0.5)
    with pytest.raises(ValueError, match="confidence"):
        dg.fmr_difference_bootstrap(X, IDS, GROUPS, "X", "Y", 0.5, confidence=95)


# --------------------------------------------------------------------------- who is in the false matches


def test_false_match_people_hand_example() -> None:
    rows = dg.false_match_people(X, IDS, GROUPS, 0.5)
    # X: false matches (0,2) a-b and (1,2) a-b: 2 false matches, people a and b, each in both.
    # Y: (4,5) d-e: 1 false match, people d and e.
    x_row, y_row = rows
    assert (x_row.group, x_row.people, x_row.false_matches, x_row.people_involved) == ("X", 3, 2, 2)
    assert (x_row.top_person, x_row.top_person_false_matches, x_row.top_person_share) == ("a", 2, 1.0)
    assert (y_row.false_matches, y_row.people_involved, y_row.top_person) == (1, 2, "d")
    none = dg.false_match_people(X, IDS, GROUPS, 0.01)[0]
    assert none.false_matches == 0 and none.top_person == "" and math.isnan(none.top_person_share)


# --------------------------------------------------------------------------- figures and doctests


def test_figures_are_labelled() -> None:
    import matplotlib.pyplot as plt

    grid = np.linspace(0.1, 1.0, 10)
    curves = dg.within_group_fmr_curves(dg.within_group_scores(X, IDS, GROUPS), grid)
    fig = errorplots.plot_fmr_by_threshold(curves, grid, {"t": 0.5}, "X above Y", overall=np.full(grid.size, 0.3))
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "X above Y"
    assert ax.get_yscale() == "log"
    plt.close(fig)
    fig = errorplots.plot_interval_comparison(dg.within_group_intervals(X, IDS, GROUPS, 0.5, n_boot=50), "wide")
    assert "%" in fig.axes[0].get_xlabel() and fig.axes[0].get_title() == "wide"
    plt.close(fig)
    with pytest.raises(ValueError, match="no rows"):
        errorplots.plot_interval_comparison([], "nothing")


def test_doctests() -> None:
    result = doctest.testmod(dg, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_counts_agree_with_threshold_for_fmr_by_group_at_its_own_thresholds() -> None:
    # A threshold from threshold_for_fmr_by_group is an observed distance; the counts here must
    # use the same distances (computed within the group), or that one pair could flip.
    rng = np.random.default_rng(11)
    emb = rng.normal(size=(60, 8))
    people = np.repeat([f"p{k:02d}" for k in range(30)], 2)
    groups = {f"p{k:02d}": "ABC"[k % 3] for k in range(30)}
    for target in (0.01, 0.05, 0.2):
        for t in metrics.threshold_for_fmr_by_group(emb, people, groups, target):
            row = next(r for r in dg.within_group_intervals(emb, people, groups, t.threshold, n_boot=20)
                       if r.group == t.group)
            assert (row.false_matches, row.nonmated_count) == (t.false_matches, t.nonmated_count)


def _figure_texts(fig) -> list[str]:
    """Every piece of text on a figure: legends, tick labels, axis labels, titles."""
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def test_interval_plot_labels_each_rows_own_confidence() -> None:
    import dataclasses

    import matplotlib.pyplot as plt

    rows = dg.within_group_intervals(X, IDS, GROUPS, 0.5, n_boot=50, confidence=0.9)
    fig = errorplots.plot_interval_comparison(rows, "90 % intervals")
    texts = _figure_texts(fig)
    plt.close(fig)
    assert "90% CI over photo pairs (Wilson)" in texts and "90% CI over people (bootstrap)" in texts
    assert not any("95%" in t for t in texts)
    at_95 = dataclasses.replace(rows[1].false_match, confidence=0.95)
    mixed = [rows[0], dataclasses.replace(rows[1], false_match=at_95)]  # mixed levels must not share one label
    fig = errorplots.plot_interval_comparison(mixed, "mixed")
    texts = _figure_texts(fig)
    plt.close(fig)
    assert not any(t.startswith(("90% CI over", "95% CI over")) for t in texts)
    assert any(t.startswith(mixed[0].group) and "90% CI" in t for t in texts)
    assert any(t.startswith(mixed[1].group) and "95% CI" in t for t in texts)
