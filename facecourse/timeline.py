"""The Clearview AI story as dated, sourced events.

Each event has a date, what happened (in the course's own words), its source, and the date
the course last checked it (``as_of``). Lesson 00 shows the events the 2020 article reports;
lesson 07 adds what regulators and courts did afterwards. A test checks that no row lacks a
date or a source.
"""

from __future__ import annotations

from dataclasses import dataclass

ARTICLE = ('"Is Clearview AI the end of citizens\' privacy?", blog article, 23 April 2020 '
           "(English machine translation from Greek)")


@dataclass(frozen=True)
class Event:
    date: str  # ISO 8601; "2020-01" when only the month is known
    what: str
    source: str
    as_of: str = "2026-11-26"
    period: str = "article"  # "article": reported in the 2020 article; "after": later outcomes


ARTICLE_EVENTS: tuple[Event, ...] = (
    Event("2019-12", "A Florida news item on a shoplifting arrest mentions, in passing, that the sheriff's "
          "office is testing a face recognition program called Clearview AI.", ARTICLE),
    Event("2020-01-18", "The New York Times (Kashmir Hill) reveals a start-up that has collected about 3 billion "
          "photos from the open web and sells face search to police.", ARTICLE),
    Event("2020-01-22", "Twitter asks Clearview to stop collecting photos and data from its platform; Australia's "
          "privacy commissioner opens an inquiry.", ARTICLE),
    Event("2020-01-23", "US Senator Ed Markey asks Clearview for its list of law-enforcement clients and whether "
          "it sells to private persons; the company answers that it is a 'public photo search engine'.",
          ARTICLE),
    Event("2020-01-24", "New Jersey's Attorney General bars the state's police from using the app; a first class "
          "action is filed in Illinois under the Biometric Information Privacy Act (BIPA).", ARTICLE),
    Event("2020-01-28", "Members of the European Parliament ask the Commission whether EU authorities use the app "
          "and whether it is lawful under EU data protection law.", ARTICLE),
    Event("2020-02-05", "BuzzFeed publishes Clearview sales material with a map of planned expansion to at least "
          "22 countries, nine of them in the EU; Google/YouTube, Venmo and LinkedIn send cease-and-desist "
          "letters (CBS report); the founder invokes the First Amendment.", ARTICLE),
    Event("2020-02-12", "The European Commission says it is in contact with the national data protection "
          "authorities and that such technologies do not operate in a legal vacuum (Euractiv).", ARTICLE),
    Event("2020-02-26", "The Daily Beast reports that an intruder obtained Clearview's entire client list, the "
          "number of accounts per client and the number of searches.", ARTICLE),
    Event("2020-02-27", "BuzzFeed reports from the leaked list: more than 2,200 police forces, public bodies and "
          "private companies in 27 countries; the NYPD ran about 11,000 searches from 30 accounts.", ARTICLE),
    Event("2020-03-05", "The New York Times reports a billionaire using the app in a Manhattan restaurant to "
          "identify his daughter's date: private use, despite the company's denials.", ARTICLE),
    Event("2020-03-06", "Sweden's data protection authority becomes the first EU regulator to announce an "
          "investigation of the app's use by Swedish authorities.", ARTICLE),
    Event("2020-03-10", "Vermont's Attorney General sues Clearview under consumer protection and data-broker law.",
          ARTICLE),
    Event("2020-04-16", "TechCrunch reports that a security firm reached Clearview's files, including the source "
          "code of its app.", ARTICLE),
)


def events(period: str | None = None) -> list[Event]:
    """All known events in date order (optionally only ``"article"`` or ``"after"``)."""
    rows = [e for e in ARTICLE_EVENTS + AFTER_EVENTS if period is None or e.period == period]
    return sorted(rows, key=lambda e: e.date)


def as_table(rows: list[Event]) -> str:
    """A plain-text table for a notebook: date, event, and a numbered source note for each row."""
    sources: list[str] = []
    lines = []
    for e in rows:
        if e.source not in sources:
            sources.append(e.source)
        lines.append(f"{e.date:<11} {e.what} [{sources.index(e.source) + 1}]")
    checked = sorted({e.as_of for e in rows})
    lines.append("")
    lines += [f"[{i}] {s}" for i, s in enumerate(sources, start=1)]
    lines.append(f"(sources checked as of {', '.join(checked)})")
    return "\n".join(lines)


#: Outcomes after the article (2020-2025); filled in for lesson 07 from the course's fact sheet.
AFTER_EVENTS: tuple[Event, ...] = ()
