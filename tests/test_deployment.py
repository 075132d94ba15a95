"""Tests of facecourse.deployment: the deployment simulator, checked against hand computations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from facecourse.deployment import (
    DeploymentOutcome,
    expected_false_candidates,
    fmr_at_threshold,
    probability_of_false_candidate,
    simulate_deployment,
    summarise,
)

BASE: dict[str, Any] = dict(
    gallery_size=1_000_000, fmr=1e-5, fnir=0.05, searches_per_day=1000, prevalence=0.1
)


def test_city_scale_example_without_review() -> None:
    o = simulate_deployment(**BASE)
    # enrolled searches E = 1000 * 0.1 = 100/day, non-enrolled U = 900/day
    # true leads = 100 * (1 - 0.05) = 95/day; per year 95 * 365 = 34,675
    assert o.true_leads_per_day == pytest.approx(95.0)
    assert o.true_leads_per_year == pytest.approx(34_675.0)
    # false candidates = 100 * 1e-5 * 999,999 + 900 * 1e-5 * 1,000,000
    #                  = 100 * 9.99999 + 900 * 10 = 999.999 + 9,000
    #                  = 9,999.999/day; per year 9,999.999 * 365 = 3,649,999.635
    assert o.false_candidates_per_day == pytest.approx(9_999.999, abs=1e-9)
    assert o.false_candidates_per_year == pytest.approx(3_649_999.635, abs=1e-6)
    # searches with >= 1 false candidate:
    #   enrolled:     1 - (1 - 1e-5)^999,999   = 1 - exp(-10.0000400) = 1 - 4.53981e-5
    #   non-enrolled: 1 - (1 - 1e-5)^1,000,000 = 1 - exp(-10.0000500) = 1 - 4.53977e-5
    #   100 * (1 - 4.53981e-5) + 900 * (1 - 4.53977e-5) = 1000 - 0.0453977 = 999.954602
    assert o.searches_with_false_lead_per_day == pytest.approx(999.954602, abs=1e-5)
    # PPV = 95 / (95 + 9,999.999) = 95 / 10,094.999 = 0.0094106
    assert o.ppv == pytest.approx(95 / (95 + 9_999.999))
    assert o.ppv == pytest.approx(0.0094106, abs=1e-7)


def test_city_scale_example_with_review() -> None:
    o = simulate_deployment(
        **BASE, human_review=True, reviewer_false_accept=0.01, reviewer_false_reject=0.1
    )
    # true leads = 100 * 0.95 * (1 - 0.1) = 85.5/day
    assert o.true_leads_per_day == pytest.approx(85.5)
    # false leads = 9,999.999 * 0.01 = 99.99999/day
    assert o.false_candidates_per_day == pytest.approx(99.99999)
    # per comparison a confirmed false lead has probability 0.01 * 1e-5 = 1e-7:
    #   enrolled:     1 - (1 - 1e-7)^999,999   = 1 - exp(-0.09999991) = 0.09516250
    #   non-enrolled: 1 - (1 - 1e-7)^1,000,000 = 1 - exp(-0.10000001) = 0.09516259
    #   100 * 0.09516250 + 900 * 0.09516259 = 9.516250 + 85.646327 = 95.162577
    assert o.searches_with_false_lead_per_day == pytest.approx(95.162577, abs=2e-6)
    # PPV = 85.5 / (85.5 + 99.99999) = 0.460916
    assert o.ppv == pytest.approx(0.460916, abs=1e-6)
    assert o.human_review is True


def test_tiny_case_by_hand() -> None:
    # N = 3, FMR = 0.5, 2 searches/day, half enrolled, FNIR 0 -> E = 1, U = 1
    o = simulate_deployment(gallery_size=3, fmr=0.5, fnir=0.0, searches_per_day=2, prevalence=0.5)
    assert o.true_leads_per_day == 1.0  # 1 * (1 - 0)
    assert o.false_candidates_per_day == 2.5  # 1 * 0.5 * 2 + 1 * 0.5 * 3
    assert o.searches_with_false_lead_per_day == 1.625  # (1 - 0.5^2) + (1 - 0.5^3)
    assert o.ppv == pytest.approx(1 / 3.5)  # 1 / (1 + 2.5)
    assert o.searches_with_false_lead_per_year == 1.625 * 365


def test_reviewer_rates_ignored_without_review() -> None:
    plain = simulate_deployment(**BASE)
    ignored = simulate_deployment(**BASE, reviewer_false_accept=0.01, reviewer_false_reject=0.5)
    assert ignored.true_leads_per_day == plain.true_leads_per_day
    assert ignored.false_candidates_per_day == plain.false_candidates_per_day
    # review with a reviewer who confirms everything changes nothing but the true leads
    rubber_stamp = simulate_deployment(**BASE, human_review=True, reviewer_false_accept=1.0)
    assert rubber_stamp.false_candidates_per_day == pytest.approx(plain.false_candidates_per_day)
    assert rubber_stamp.true_leads_per_day == pytest.approx(plain.true_leads_per_day)


def test_broadcast_sweep_matches_scalar_calls() -> None:
    sizes = np.array([1e3, 1e5, 1e7])
    sweep = simulate_deployment(**{**BASE, "gallery_size": sizes})
    assert isinstance(sweep.false_candidates_per_day, np.ndarray)
    false_candidates, ppv = np.asarray(sweep.false_candidates_per_day), np.asarray(sweep.ppv)
    for i, n in enumerate(sizes):
        one = simulate_deployment(**{**BASE, "gallery_size": n})
        assert false_candidates[i] == pytest.approx(one.false_candidates_per_day)
        assert ppv[i] == pytest.approx(one.ppv)
    # false candidates grow linearly with N, so PPV falls as the gallery grows
    assert np.all(np.diff(ppv) < 0)


def test_no_searches_gives_undefined_ppv() -> None:
    o = simulate_deployment(**{**BASE, "searches_per_day": 0})
    assert o.true_leads_per_day == 0 and o.false_candidates_per_day == 0
    assert math.isnan(o.ppv)
    assert "undefined" in summarise(o)


def test_validation() -> None:
    with pytest.raises(ValueError, match="fmr"):
        simulate_deployment(**{**BASE, "fmr": 1.5})
    with pytest.raises(ValueError, match="prevalence"):
        simulate_deployment(**{**BASE, "prevalence": -0.1})
    with pytest.raises(ValueError, match="gallery_size"):
        simulate_deployment(**{**BASE, "gallery_size": 0})


def test_fmr_at_threshold() -> None:
    thresholds = [0.4, 0.5, 0.6]
    fmrs = [1e-6, 1e-4, 3e-4]
    # at a measured point, and a quarter of the way from 0.5 to 0.6: 1e-4 + 0.25 * 2e-4 = 1.5e-4
    assert fmr_at_threshold(0.5, thresholds, fmrs) == pytest.approx(1e-4)
    assert fmr_at_threshold(0.525, thresholds, fmrs) == pytest.approx(1.5e-4)
    np.testing.assert_allclose(fmr_at_threshold([0.4, 0.6], thresholds, fmrs), [1e-6, 3e-4])
    with pytest.raises(ValueError, match="outside"):
        fmr_at_threshold(0.65, thresholds, fmrs)
    with pytest.raises(ValueError, match="ascending"):
        fmr_at_threshold(0.5, [0.6, 0.5, 0.4], fmrs)


def test_summarise_is_readable() -> None:
    text = summarise(simulate_deployment(**BASE))
    lines = text.splitlines()
    assert lines[0].startswith("Gallery of 1,000,000 faceprints; 1,000 searches/day")
    assert "human review: no" in lines[1]
    assert "95.0 per day" in lines[2] and "34,675 per year" in lines[2]
    assert "10,000 per day" in lines[3]  # 9,999.999 rounded
    assert lines[-1] == "Share of leads that are true (PPV): 0.94%"
    reviewed = summarise(
        simulate_deployment(**BASE, human_review=True, reviewer_false_accept=0.01)
    )
    assert "human review: yes" in reviewed
    with pytest.raises(ValueError, match="array"):
        summarise(simulate_deployment(**{**BASE, "gallery_size": [10, 100]}))


def test_outcome_is_frozen() -> None:
    o = simulate_deployment(**BASE)
    assert isinstance(o, DeploymentOutcome)
    with pytest.raises(AttributeError):
        o.ppv = 1.0  # type: ignore[misc]
    assert o.as_dict()["true_leads_per_day"] == o.true_leads_per_day


def test_daugman_figures() -> None:
    # Daugman: P1 = 0.001 per comparison -> P_N = 1 - 0.999^N
    #   N = 200   -> 1 - e^(-0.2001) = 0.1814 (18.1 %)
    #   N = 2000  -> 1 - e^(-2.001)  = 0.8648 (86 %)
    #   N = 10000 -> 1 - e^(-10.005) = 0.999955 (99.995 %)
    p = np.asarray(probability_of_false_candidate(0.001, np.array([200, 2000, 10_000])))
    np.testing.assert_allclose(p, [0.1814, 0.8648, 0.99995], atol=5e-5)
    assert round(100 * p[0], 1) == 18.1 and round(100 * p[1]) == 86
    assert round(100 * p[2], 3) == 99.995
    assert isinstance(probability_of_false_candidate(0.001, 200), float)
    # stable for tiny FMR: 1 - (1 - 1e-15)^10 is 1e-14 to 10 digits (the naive form loses it)
    assert probability_of_false_candidate(1e-15, 10) == pytest.approx(1e-14, rel=1e-10, abs=0)
    assert probability_of_false_candidate(1.0, 0) == 0.0
    assert probability_of_false_candidate(1.0, 5) == 1.0
    with pytest.raises(ValueError):
        probability_of_false_candidate(1.5, 10)


def test_expected_false_candidates() -> None:
    assert expected_false_candidates(1e-5, 1_000_000) == pytest.approx(10.0)  # 1e-5 * 1e6
    np.testing.assert_allclose(expected_false_candidates([1e-3, 1e-4], 2000), [2.0, 0.2])
