"""Tests of facecourse.simulator: slider values -> policy inputs -> the numbers on screen.

The formulas themselves are tested in test_deployment.py; here we check the wiring on hand-made
measurements whose answers are worked out in the comments, that every displayed string comes
from ``simulator_state``, and that the widget's panel follows its sliders in plain Python.
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from facecourse import deployment, simulator
from facecourse.simulator import FIELD_IDS, MeasuredRates, simulator_state

# Hand-made measurements: 4 non-mated distances and 4 mated searches (the last mate never returned).
#   FMR(t)  = #(non-mated <= t) / 4        FNIR(t) = #(mate distance > t) / 4
#   t = 0.60: FMR 2/4 = 0.5 (0.3, 0.5)     FNIR 1/4 = 0.25 (inf)
#   t = 0.45: FMR 1/4 = 0.25 (0.3)         FNIR 2/4 = 0.5 (0.55, inf)
#   t < 0.30: no false match measured -> refused
NONMATED = [0.3, 0.5, 0.7, 0.9]
MATES = [0.2, 0.4, 0.55, math.inf]


@pytest.fixture
def measured() -> MeasuredRates:
    return MeasuredRates.from_scores(NONMATED, MATES)


class MarkupReader(HTMLParser):
    """Collects the text of every element that has a data-testid (and the root's data-settings)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self.settings: str | None = None
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-settings") is not None:
            self.settings = a["data-settings"]
        key = a.get("data-testid")
        self._open.append(key)
        if key is not None:
            self.found.setdefault(key, []).append("")

    def handle_endtag(self, tag: str) -> None:
        self._open.pop()

    def handle_data(self, data: str) -> None:
        for key in self._open:
            if key is not None:
                self.found[key][-1] += data


def parse(markup: str) -> MarkupReader:
    p = MarkupReader()
    p.feed(markup)
    return p


# --------------------------------------------------------------------------- the pure function


def test_measured_threshold_case_by_hand(measured: MeasuredRates) -> None:
    s = simulator_state(gallery_size=1000, threshold=0.6, searches_per_day=10, prevalence=0.5,
                        measured=measured)
    o = s.outcome
    assert (o.fmr, o.fnir) == (0.5, 0.25)
    # E = 10 * 0.5 = 5 enrolled searches/day, U = 5 others
    # true leads = 5 * (1 - 0.25) = 3.75/day; 3.75 * 365 = 1,368.75/year
    assert o.true_leads_per_day == pytest.approx(3.75)
    assert o.true_leads_per_year == pytest.approx(1368.75)
    # false leads = 5 * 0.5 * 999 + 5 * 0.5 * 1000 = 2,497.5 + 2,500 = 4,997.5/day
    assert o.false_candidates_per_day == pytest.approx(4997.5)
    # PPV = 3.75 / (3.75 + 4,997.5) = 3.75 / 5,001.25
    assert o.ppv == pytest.approx(3.75 / 5001.25)
    assert s.missed_per_day == pytest.approx(1.25)  # 5 - 3.75
    f = s.fields()
    assert f["fmr"] == "0.5" and f["fnir"] == "0.25"
    assert f["true-leads-per-day"] == "3.75" and f["true-leads-per-year"] == "1,369"
    assert f["false-leads-per-day"] == "4,998"  # 4,997.5 rounds half to even
    assert f["missed-per-day"] == "1.25"
    assert f["mode"] == "1:N search" and f["human-review"] == "no"
    assert f["fmr-basis"].startswith("measured: 2 of 4 non-mated comparisons at threshold 0.600")
    assert f["fnir-basis"].startswith("measured: 1 of 4 mated searches missed")


def test_review_case_by_hand(measured: MeasuredRates) -> None:
    s = simulator_state(gallery_size=10, threshold=0.45, searches_per_day=4, prevalence=0.25,
                        human_review=True, reviewer_false_accept=0.2, reviewer_false_reject=0.1,
                        measured=measured)
    o = s.outcome
    assert (o.fmr, o.fnir) == (0.25, 0.5)
    # E = 1, U = 3. true = 1 * (1 - 0.5) * (1 - 0.1) = 0.45
    assert o.true_leads_per_day == pytest.approx(0.45)
    # a * FMR = 0.2 * 0.25 = 0.05; false = 1 * 0.05 * 9 + 3 * 0.05 * 10 = 0.45 + 1.5 = 1.95
    assert o.false_candidates_per_day == pytest.approx(1.95)
    assert o.ppv == pytest.approx(0.1875)  # 0.45 / 2.4
    # searches with a false lead = 1 * (1 - 0.95^9) + 3 * (1 - 0.95^10)
    #   0.95^9 = 0.6302494, 0.95^10 = 0.5987369
    #                            = 0.3697506 + 3 * 0.4012631 = 0.3697506 + 1.2037892 = 1.5735398
    assert o.searches_with_false_lead_per_day == pytest.approx(1.5735398, abs=1e-7)
    assert s.false_lead_probability == pytest.approx(0.4012631, abs=1e-7)  # 1 - 0.95^10
    assert s.missed_per_day == pytest.approx(0.55)  # 1 - 0.45
    f = s.fields()
    assert (f["human-review"], f["reviewer-false-accept"], f["reviewer-false-reject"]) == ("yes", "0.2", "0.1")
    assert f["ppv"] == f"{100 * o.ppv:.3g}%"  # 18.75 %, rounded to 3 significant digits


def test_one_to_one_with_assumed_rates() -> None:
    # No measurement needed when both rates are assumed.
    s = simulator_state(gallery_size=1.0000001, fmr=0.01, fnir=0.02, searches_per_day=1000,
                        prevalence=0.9, measured=None)
    o = s.outcome
    # E = 900 genuine attempts, U = 100 impostor attempts against 1 photo each
    assert o.gallery_size == 1 and s.one_to_one
    assert o.true_leads_per_day == pytest.approx(882)  # 900 * 0.98
    assert o.false_candidates_per_day == pytest.approx(1)  # 900 * 0.01 * 0 + 100 * 0.01 * 1
    assert s.missed_per_day == pytest.approx(18)  # genuine customers refused: 900 * 0.02
    f = s.fields()
    assert f["mode"] == "1:1 verification"
    assert f["threshold"] == "not used (rates assumed)"
    assert f["fmr-basis"] == f["fnir-basis"] == "assumed (not measured here)"
    assert f["false-leads-per-day-range"] == "n/a (rate assumed)"
    assert "Genuine customers wrongly refused" in s.text()


def test_slider_values_are_wired_to_the_policy_inputs(measured: MeasuredRates) -> None:
    # What a FloatLogSlider really holds: 10**6 computed in floating point, and so on.
    settings: dict[str, Any] = dict(gallery_size=10 ** 5.999999999, threshold=0.45, searches_per_day=10 ** 2.5,
                                    prevalence=10 ** -3.2, human_review=True, reviewer_false_accept=0.07,
                                    reviewer_false_reject=0.03)
    s = simulator_state(measured=measured, **settings)
    direct = deployment.simulate_deployment(gallery_size=1_000_000, fmr=0.25, fnir=0.5,
                                        searches_per_day=10 ** 2.5, prevalence=10 ** -3.2, human_review=True,
                                        reviewer_false_accept=0.07, reviewer_false_reject=0.03)
    assert s.outcome.as_dict() == direct.as_dict()
    assert s.settings["gallery_size"] == 1_000_000


def test_confidence_ranges_redo_the_formula_at_the_interval_ends(measured: MeasuredRates) -> None:
    s = simulator_state(gallery_size=100, threshold=0.6, searches_per_day=10, prevalence=0.5, measured=measured)
    assert s.fmr_measured is not None and s.false_leads_range is not None and s.fnir_measured is not None
    lo_fmr, hi_fmr = s.fmr_measured.ci  # Wilson interval of 2 of 4
    lo, hi = s.false_leads_range
    # false leads are linear in FMR: 5 * FMR * 99 + 5 * FMR * 100 = 995 * FMR
    assert lo == pytest.approx(995 * lo_fmr) and hi == pytest.approx(995 * hi_fmr)
    assert lo < s.outcome.false_candidates_per_day < hi
    # missed = 5 * FNIR; FNIR 1 of 4, Wilson interval from the search module
    e = s.fnir_measured
    assert s.missed_range == pytest.approx((5 * e.ci[0], 5 * e.ci[1]))


def test_refuses_a_threshold_without_a_measured_false_match(measured: MeasuredRates) -> None:
    with pytest.raises(ValueError, match="no false match"):
        simulator_state(threshold=0.25, measured=measured)
    # Assuming the FMR is allowed (the FNIR is still measured: 0 of 4 missed... no: 0.2 <= 0.25 found,
    # 0.4, 0.55, inf missed -> 3 of 4)
    s = simulator_state(threshold=0.25, fmr=1e-6, measured=measured)
    assert s.outcome.fnir == 0.75 and s.fields()["fmr-basis"].startswith("assumed")


@pytest.mark.parametrize("bad, error", [
    (dict(gallery_size=0), ValueError),
    (dict(gallery_size=float("nan")), ValueError),
    (dict(searches_per_day=-1), ValueError),
    (dict(prevalence=1.5), ValueError),
    (dict(fmr=2.0, fnir=0.1), ValueError),
    (dict(galery_size=10), TypeError),
])
def test_bad_settings_are_refused_clearly(measured: MeasuredRates, bad: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        simulator_state(measured=measured, **bad)


def test_html_shows_exactly_the_fields_and_its_settings_reproduce_them(measured: MeasuredRates) -> None:
    for settings in [dict(threshold=0.6), dict(threshold=0.45, human_review=True),
                     dict(gallery_size=1, fmr=1e-4, fnir=0.01)]:
        s = simulator_state(measured=measured, **settings)
        p = parse(s.html())
        fields = s.fields()
        assert set(p.found) == set(FIELD_IDS) | {"deployment-simulator"}
        for key in FIELD_IDS:
            assert p.found[key] == [fields[key]], key  # present once, with exactly this text
        again = simulator_state(measured=measured, **json.loads(p.settings or "{}"))
        assert again.fields() == fields


def test_scenarios_and_defaults_run_on_hand_made_rates(measured: MeasuredRates) -> None:
    assert set(simulator.SCENARIOS) == {"a", "b", "c"}
    assert simulator.SCENARIOS["a"].settings["gallery_size"] == simulator.MAX_GALLERY == 3_000_000_000
    assert simulator.SCENARIOS["c"].settings["gallery_size"] == 1
    for sc in simulator.SCENARIOS.values():
        assert simulator_state(measured=measured, **sc.settings).fields()["gallery-size"]


# --------------------------------------------------------------------------- the widget


def panel_fields(sim: simulator.DeploymentSimulator) -> dict[str, str]:
    p = parse(sim.panel.value)
    return {k: v[0] for k, v in p.found.items() if k in FIELD_IDS}


def test_widget_panel_follows_its_sliders(measured: MeasuredRates) -> None:
    sim = simulator.deployment_simulator(measured)
    before = sim.panel.value
    assert panel_fields(sim) == simulator_state(measured=measured, **sim.settings()).fields()

    sim.gallery_size.value = 10
    assert sim.panel.value != before
    assert panel_fields(sim)["gallery-size"] == "10"
    assert panel_fields(sim) == simulator_state(measured=measured, **sim.settings()).fields()

    sim.threshold.value = 0.45  # FMR 0.5 -> 0.25
    assert panel_fields(sim)["fmr"] == "0.25"

    sim.human_review.value = True
    sim.reviewer_false_accept.value = 0.2
    assert panel_fields(sim)["reviewer-false-accept"] == "0.2"
    assert sim.reviewer_false_reject.disabled is False

    sim.rates.value = "assumed"
    sim.fmr.value = 1e-3
    f = panel_fields(sim)
    assert f["fmr"] == "0.001" and f["fmr-basis"] == "assumed (not measured here)"
    assert sim.threshold.disabled is True
    assert f == simulator_state(measured=measured, **sim.settings()).fields()


def test_widget_loads_a_scenario(measured: MeasuredRates) -> None:
    sim = simulator.deployment_simulator(measured)
    sim.scenario.value = "c"
    assert sim.settings()["gallery_size"] == 1
    assert panel_fields(sim)["mode"] == "1:1 verification"
    assert panel_fields(sim) == simulator_state(measured=measured, **simulator.SCENARIOS["c"].settings).fields()


def test_threshold_slider_starts_where_a_false_match_is_measured(measured: MeasuredRates) -> None:
    sim = simulator.deployment_simulator(measured)
    assert sim.threshold.min == pytest.approx(0.3)  # smallest non-mated distance, on the 0.005 grid
    m2 = MeasuredRates.from_scores([0.4521, 0.8], [0.1])
    assert simulator.deployment_simulator(m2).threshold.min == pytest.approx(0.455)  # rounded up


def test_static_text_is_deterministic_and_shows_defaults_and_scenarios(measured: MeasuredRates) -> None:
    sim = simulator.deployment_simulator(measured)
    text = sim.static_text()
    assert text == simulator.deployment_simulator(measured).static_text()
    assert "Default settings" in text
    for sc in simulator.SCENARIOS.values():
        assert sc.title in text
        assert simulator_state(measured=measured, **sc.settings).text() in text
    bundle = sim._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert "model_id" not in text


# --------------------------------------------------------------------------- the real measurement


def test_rates_from_faceprints_match_a_direct_computation(images_ready: Any) -> None:
    from facecourse import faceprints

    g = faceprints.encode_set("london_neutral")
    p = faceprints.encode_set("london_smiling")
    m = MeasuredRates.from_faceprints(g, p)
    d = np.linalg.norm(p.embeddings[:, None, :] - g.embeddings[None, :, :], axis=2)  # probes x gallery
    mated = p.person_ids[:, None] == g.person_ids[None, :]
    assert m.nonmated_count == int((~mated).sum())
    assert m.mated_searches == int(mated.any(axis=1).sum())
    for t in (0.5, 0.6):
        assert m.fmr_at(t).count == int((d[~mated] <= t).sum())
        mate_d = np.where(mated, d, np.inf).min(axis=1)[mated.any(axis=1)]
        assert m.fnir_at(t).count == int((mate_d > t).sum())
    assert m.smallest_nonmated == pytest.approx(d[~mated].min())
    assert np.allclose(m.nonmated, np.sort(d[~mated]))


def test_fmr_basis_names_the_intervals_own_confidence(measured: MeasuredRates) -> None:
    import dataclasses

    s = simulator_state(gallery_size=1000, threshold=0.6, searches_per_day=10, prevalence=0.5, measured=measured)
    assert "(95% CI " in s.fields()["fmr-basis"]
    assert s.fmr_measured is not None
    at_90 = dataclasses.replace(s, fmr_measured=dataclasses.replace(s.fmr_measured, confidence=0.9))
    assert "(90% CI " in at_90.fields()["fmr-basis"] and "95%" not in at_90.fields()["fmr-basis"]
