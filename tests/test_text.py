"""The shared number formatting: one way to print a rate, an interval, a count, a table."""

import math

from facecourse import _text


def test_percent_keeps_two_significant_digits_for_tiny_rates() -> None:
    assert _text.percent(0.0091) == "0.91%"
    assert _text.percent(0.001) == "0.10%"
    assert _text.percent(2.1e-5) == "0.0021%"
    assert _text.percent(1e-6) == "0.00010%"
    assert _text.percent(0.0) == "0.00%"
    assert _text.percent(1.0) == "100.00%"
    assert _text.percent(math.nan) == "n/a" and _text.percent(None) == "n/a"


def test_percent_other_precisions() -> None:
    assert _text.percent(0.25, 1, tiny=False) == "25.0%"
    assert _text.percent(1e-5, 1, tiny=False) == "0.0%"
    assert _text.percent(0.456, 0, tiny=False) == "46%"
    assert _text.percent(0.1234, 3) == "12.340%"


def test_interval_and_labels() -> None:
    assert _text.interval((0.0069, 0.0121)) == "0.69%-1.21%"
    assert _text.interval((math.nan, math.nan)) == "n/a"
    assert _text.interval((0.25, 0.5), 1, tiny=False) == "25.0%-50.0%"
    assert _text.confidence_label(0.95) == "95%" and _text.confidence_label(0.9) == "90%"
    assert _text.count(47, 5151) == "47 of 5,151"


def test_rate_text() -> None:
    line = _text.rate_text("FNMR", 0.02, 3, 150, "mated pairs", (0.0068, 0.0571), 0.95)
    assert line == "FNMR 2.00% (3 of 150 mated pairs; 95% CI 0.68%-5.71%)"


class _Row:
    def as_row(self) -> dict[str, str]:
        return {"name": "x", "value": "1"}


def test_table() -> None:
    assert _text.table([]) == "(no rows)"
    assert _text.table([_Row(), {"name": "longer", "value": "22"}]).splitlines() == [
        "name    value", "------  -----", "x           1", "longer     22"]
