"""Tests of facecourse.tables, on hand-made numbers whose answers are worked out in comments."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from facecourse import metrics, simulator, tables


def _cells(table: str, row: int) -> list[str]:
    return table.splitlines()[row].split()


# ----------------------------------------------------------------------------- lesson 04


def test_false_candidate_table_measured_and_unobserved() -> None:
    # FMR 10/1000 = 1 %: P = 50 % at N = log(0.5)/log(0.99) = 68.97 -> "69"; P(1000) = 1 - 0.99**1000 -> 100.0 %;
    # FMR x 1e6 = 10,000. FMR 0/1000: Wilson upper end 0.0038268 -> "≤ 0.383%"; N50 = log(.5)/log(1-.0038268) = 180.8;
    # P(1000) = 1 - exp(1000 log(1 - .0038268)) = 1 - exp(-3.834) = 0.9784; x 1e6 = 3,827.
    measured = metrics.ErrorRates.from_counts(0.6, 10, 1000, 0, 10)
    unseen = metrics.ErrorRates.from_counts(0.45, 0, 1000, 0, 10)
    table = tables.false_candidate_table({0.6: measured, 0.45: unseen}, {"N = 1e6": 1e6})
    assert _cells(table, 2) == ["0.60", "1.000%", "69", "100.0%", "10,000"]
    assert _cells(table, 3) == ["0.45", "≤", "0.383%", "≥", "181", "≤", "97.8%", "≤", "3,827"]


def test_independence_table() -> None:
    # Three people; cross distances off the diagonal: 0.4, 0.8, 0.4, 0.9, 0.8, 0.9 -> 2 of 6 <= 0.5 (33.333 %).
    # Formula at N = 2: 1 - (1 - 1/3)^2 = 5/9 = 55.6 %; the measured curve is given (70 % at N = 2).
    class Curve:
        fpir = np.array([0.5, 0.7])

    cross = np.array([[np.nan, 0.4, 0.8], [0.4, np.nan, 0.9], [0.8, 0.9, np.nan]])
    table = tables.independence_table(cross, {0.5: Curve()}, [1, 2])
    assert _cells(table, 2) == ["0.50", "1", "33.333%", "50.0%", "33.3%"]
    assert _cells(table, 3) == ["0.50", "2", "33.333%", "70.0%", "55.6%"]


def test_doctests() -> None:
    assert doctest.testmod(tables).failed == 0


# ----------------------------------------------------------------------------- lessons 06 and 07


def test_access_answers_table_counts_shares_and_strangers() -> None:
    # Three requests: own distances 0.1, 0.3, 0.55 and nearest strangers 0.5, 0.7, 0.45.
    # At 0.5: complete 2 of 3 (0.1, 0.3), disclosing 2 of 3 (0.5, 0.45); the stranger count is passed through.
    table = tables.access_answers_table([0.1, 0.3, 0.55], [0.5, 0.7, 0.45], lambda t: 7, [0.5])
    row = table.splitlines()[2]
    assert row.startswith("0.50") and row.count("2 of 3 (66.7%") == 2 and row.endswith(" 7")
    with pytest.raises(ValueError, match="same non-zero length"):
        tables.access_answers_table([0.1], [0.2, 0.3], lambda t: 0, [0.5])


def _hand_made() -> simulator.MeasuredRates:
    # Non-mated distances 0.3, 0.5, 0.7, 0.9 (n = 4); mated searches find their mate at 0.2, 0.4, 0.45.
    return simulator.MeasuredRates.from_scores([0.3, 0.5, 0.7, 0.9], [0.2, 0.4, 0.45])


def test_measured_rates_table() -> None:
    # At 0.5: 0.3 and 0.5 are false matches -> 2 / 4 = 0.5; all three mates within 0.5 -> FNIR 0 / 3.
    assert _cells(tables.measured_rates_table(_hand_made(), [0.5]), 2)[:6] == ["0.50", "0.5", "2", "/", "4", "0.15"]
    assert "0 / 3" in tables.measured_rates_table(_hand_made(), [0.5])


def test_fmr_sweep_table_labels_and_arithmetic() -> None:
    # N = 1,000, 10 searches a day, half enrolled (E = U = 5), no review:
    # false leads = FMR (5 x 999 + 5 x 1000) = FMR x 9,995 -> 9.995 at 1e-3 ("10"); true leads 5.
    table = tables.fmr_sweep_table(dict(gallery_size=1_000, searches_per_day=10, prevalence=0.5), [1e-3, 1e-5],
                                   fnir=0.0)
    assert _cells(table, 2) == ["0.001", "(measured)", "1", "10", "5", "33.3%"]
    assert _cells(table, 3)[:2] == ["1e-05", "(assumed)"]
    # with review a = 0.1 the false leads fall tenfold (0.9995 -> "1") and r = 0.5 halves the true ones (2.5)
    reviewed = tables.fmr_sweep_table(dict(gallery_size=1_000, searches_per_day=10, prevalence=0.5, human_review=True,
                                           reviewer_false_accept=0.1, reviewer_false_reject=0.5), [1e-3], fnir=0.0)
    assert _cells(reviewed, 2)[2:5] == ["1", "1", "2.5"]


def test_stadium_table_by_hand() -> None:
    # Threshold 0.4: FMR 1/4. S = 100, p = 0.1 -> E = 10, U = 90, N = 10. Raw false candidates
    # 0.25 x (10 x 9 + 90 x 10) = 247.5; FNIR 1/3 (0.45 missed) -> true 6.67; alerts 254.2 -> "254".
    # Innocent flagged: 10 (1 - .75^9) + 90 (1 - .75^10) = 9.25 + 84.93 = 94.2 -> "94"; after review x 0.1 = 24.75.
    s = dict(gallery_size=10, searches_per_day=100, prevalence=0.1, human_review=True,
             reviewer_false_accept=0.1, reviewer_false_reject=0.0)
    assert _cells(tables.stadium_table(_hand_made(), s, [0.4]), 2) == ["0.40", "0.25", "254", "94", "24.8", "6.67",
                                                                        "21.2%"]


def test_verification_table_never_prints_an_unmeasured_zero_as_zero() -> None:
    # 1,000 attempts a day, 90 % genuine: 900 genuine, 100 impostors. Non-mated 0.5, 0.7, 0.9, 1.1.
    # At 0.3 no false match: "0 measured", up to the Wilson upper end for 0/4 (3.8416 / 7.8416 = 0.4899)
    # x 100 x 365 = 17,881.0. Mates 0.2, 0.4, 0.6: two missed at 0.3 -> 600 refused a day.
    m = simulator.MeasuredRates.from_scores([0.5, 0.7, 0.9, 1.1], [0.2, 0.4, 0.6])
    table = tables.verification_table(m, dict(gallery_size=1, searches_per_day=1_000, prevalence=0.9), [0.3, 0.6])
    assert "0 measured (up to 17,881.0)" in table.splitlines()[2]
    assert _cells(table, 2)[-4:] == ["600", "(up", "to", "845)"]
    assert _cells(table, 3)[4] == "9,125.0"  # 100 x 1/4 x 365


# ----------------------------------------------------------------------------- lesson 03


def test_probe_outcome_counts_by_hand() -> None:
    # Three probe photos tried, two acquired: a at 0.0 and b at 1.0 (1-D faceprints). References a 0.1, b 1.8, c 0.5.
    # Mated: a-a 0.1 (match), b-b 0.8 (> 0.6: a false non-match). Non-mated: a-b 1.8, a-c 0.5 (false match),
    # b-a 0.9, b-c 0.5 (false match) -> 2 of 4. One failure to acquire, two completed comparisons.
    o = tables.probe_outcome("demo", 3, [[0.0], [1.0]], ["a", "b"], [[0.1], [1.8], [0.5]], ["a", "b", "c"], 0.6)
    assert (o.attempts, o.fta, o.completed) == (3, 1, 2)
    assert (o.false_non_matches, o.false_matches, o.nonmated) == (1, 2, 4)
    assert o.scores is not None and sorted(o.scores.mated.round(3).tolist()) == [0.1, 0.8]
    # a pair exactly at the threshold matches (distance <= threshold): b-b at 0.75 with threshold 0.75.
    # Values with few binary digits (mean 0.71875), so the distance is exactly 0.75 on any CPU.
    edge = ("demo", 2, [[0.0], [1.0]], ["a", "b"], [[0.125], [1.75]], ["a", "b"])
    assert tables.probe_outcome(*edge, 0.75).false_non_matches == 0
    assert tables.probe_outcome(*edge, np.nextafter(0.75, 0)).false_non_matches == 1


def test_probe_outcome_with_no_face_found_and_bad_counts() -> None:
    none = tables.probe_outcome("dark", 4, np.empty((0, 1)), [], [[0.0]], ["a"], 0.6)
    assert (none.fta, none.completed, none.nonmated, none.scores) == (4, 0, 0, None)
    with pytest.raises(ValueError, match="attempts"):
        tables.probe_outcome("demo", 1, [[0.0], [1.0]], ["a", "b"], [[0.1]], ["a"], 0.6)


def test_degraded_probe_table_rates_and_empty_conditions() -> None:
    from types import SimpleNamespace

    # 8 attempts, 2 FTA, 1 FNM of 6 completed -> FNMR 16.7 %; FRR (1 + 2) / 8 = 37.5 %; FMR 3 / 300 = 1.00 %.
    seen = tables.ProbeOutcome(SimpleNamespace(variant="lowlight:0.02@512/e1000/r3/g16"), 8, 2, 1, 3, 300, None)
    # every probe failed: no comparison at all, so FNMR and FMR are "n/a" but the FRR is 100 %
    blind = tables.ProbeOutcome(SimpleNamespace(variant="blur:16@512"), 5, 5, 0, 0, 0, None)
    table = tables.degraded_probe_table([seen, blind])
    assert _cells(table, 2)[:8] == ["lowlight:0.02", "2", "/", "8", "1", "/", "6", "16.7%"]
    assert "37.5%" in table.splitlines()[2] and table.splitlines()[2].endswith("1.00%")
    assert _cells(table, 3)[7] == "n/a" and "100.0%" in table.splitlines()[3] and table.splitlines()[3].endswith("n/a")


def test_fta_by_set_table_by_hand() -> None:
    # Set "a": 1 of 2 detected -> FTA 50 %; Wilson (z = 1.96): centre 0.5, half-width
    # 1.96 / 5.8415 * sqrt(0.5 + 0.9604) = 0.4055 -> 9.5 %-90.5 %. Set "b": 0 failures of 1 ->
    # 0 %-79.3 % (centre = half-width = 1.9208 / 4.8416 = 0.3967). Sets keep their first-seen order.
    table = tables.fta_by_set_table(["b", "a", "a"], [True, True, False])
    rows = [line.split() for line in table.splitlines()[2:]]
    assert rows == [["b", "1/1", "0.0%", "0.0%-79.3%"], ["a", "1/2", "50.0%", "9.5%-90.5%"],
                    ["all", "2/3", "33.3%", "6.1%-79.2%"]]


def test_fta_by_set_table_refuses_mismatched_or_empty_input() -> None:
    with pytest.raises(ValueError, match="one of each per photo"):
        tables.fta_by_set_table(["a", "b"], [True])
    with pytest.raises(ValueError, match="No photos"):
        tables.fta_by_set_table([], [])
