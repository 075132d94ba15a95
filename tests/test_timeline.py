"""Tests of facecourse.timeline: every event is dated, sourced, checked, and listed in order."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from facecourse import timeline
from facecourse.timeline import Event

ALL = timeline.ARTICLE_EVENTS + timeline.AFTER_EVENTS
PERIODS = {"article", "after"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_date(value: str) -> dt.date:
    """An ISO date (YYYY-MM-DD) or a month (YYYY-MM, read as its first day); anything else fails."""
    m = _MONTH.match(value)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise ValueError(f"not YYYY-MM-DD or YYYY-MM: {value!r}")
    return dt.date.fromisoformat(value)


@pytest.mark.parametrize("good, expected", [("2020-01-18", dt.date(2020, 1, 18)), ("2021-11", dt.date(2021, 11, 1))])
def test_parse_date_accepts_days_and_months(good: str, expected: dt.date) -> None:
    assert parse_date(good) == expected


@pytest.mark.parametrize("bad", ["2020-13", "2020-02-30", "2020", "20-01-01", "January 2020", ""])
def test_parse_date_rejects_the_rest(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_date(bad)


@pytest.mark.parametrize("event", ALL, ids=lambda e: f"{e.period}-{e.date}")
def test_every_event_is_dated_sourced_checked_and_in_a_known_period(event: Event) -> None:
    date = parse_date(event.date)
    checked = parse_date(event.as_of)
    assert event.what.strip() and event.source.strip(), "every event says what happened and where it is documented"
    assert event.period in PERIODS
    assert checked >= date, "an event cannot have been checked before it happened"
    assert checked <= parse_date(timeline.LAST_CHECK), "as_of cannot be in the future of the course's last check"
    assert "UNVERIFIED" not in event.what.upper(), "unverified items are never stated as events"


def test_periods_split_the_story_at_the_article() -> None:
    article_day = dt.date(2020, 4, 23)  # "Is Clearview AI the end of citizens' privacy?", 23 April 2020
    assert timeline.ARTICLE_EVENTS and timeline.AFTER_EVENTS
    assert all(e.period == "article" for e in timeline.ARTICLE_EVENTS)
    assert all(e.period == "after" for e in timeline.AFTER_EVENTS)
    assert all(parse_date(e.date) <= article_day for e in timeline.ARTICLE_EVENTS)
    last_check = parse_date(timeline.LAST_CHECK)
    assert all(article_day < parse_date(e.date) <= last_check for e in timeline.AFTER_EVENTS)


@pytest.mark.parametrize("period", [None, "article", "after"])
def test_events_come_sorted_by_date(period: str | None) -> None:
    rows = timeline.events(period)
    assert rows, "no events"
    dates = [parse_date(e.date) for e in rows]
    assert dates == sorted(dates)
    assert all(period is None or e.period == period for e in rows)
    expected = len(timeline.ARTICLE_EVENTS if period == "article" else timeline.AFTER_EVENTS if period == "after"
                   else ALL)
    assert len(rows) == expected


def test_no_duplicates() -> None:
    keys = [(e.date, e.what) for e in ALL]
    assert len(keys) == len(set(keys)), "an event is listed twice"
    texts = [e.what for e in ALL]
    assert len(texts) == len(set(texts)), "two events have the same text"


def test_table_numbers_every_source_once() -> None:
    rows = timeline.events("after")
    table = timeline.as_table(rows)
    sources = list(dict.fromkeys(e.source for e in rows))
    for i, source in enumerate(sources, start=1):
        assert f"[{i}] {source}" in table
    assert len(table.splitlines()) == len(rows) + 1 + len(sources) + 1
    checked = ", ".join(sorted({e.as_of for e in rows}))
    assert table.endswith(f"(sources checked as of {checked})")


def test_open_matters_are_on_the_instructors_recheck_list() -> None:
    """Every row marked open (could still change) is named, by its month, in the guide's re-check list."""
    guide = (Path(__file__).resolve().parents[1] / "INSTRUCTORS.md").read_text(encoding="utf-8")
    section = guide.split("## Keeping the legal material current", 1)[1].split("\n## ", 1)[0]
    open_rows = [e for e in ALL if e.open]
    assert len(open_rows) >= 5, "the pending matters (UK appeal, Italy's fine, noyb's complaint ...) are marked open"
    missing = [e for e in open_rows if e.date[:7] not in section]
    assert not missing, f"add these to the re-check list in INSTRUCTORS.md: {[(e.date, e.what[:50]) for e in missing]}"


def test_only_the_last_check_is_newer_than_the_first() -> None:
    dates = {e.as_of for e in ALL}
    assert dates <= {"2026-11-26", timeline.LAST_CHECK}
