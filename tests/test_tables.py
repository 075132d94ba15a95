"""Tests of facecourse.tables, on hand-made numbers whose answers are worked out in comments."""

from __future__ import annotations

import doctest

import numpy as np

from facecourse import metrics, tables


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
