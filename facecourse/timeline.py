"""The Clearview AI story as dated, sourced events.

Each event has a date, what happened (in the course's own words), its source, and the date
the course last checked it (``as_of``). Lesson 00 shows the events the 2020 article reports;
lesson 07 adds what regulators and courts did afterwards. Events whose outcome could still
change are marked ``open``: the instructor guide's re-check list names every one of them (a
test checks this). A test checks that no row lacks a date or a source. The full references
are in ``docs/sources.md``; items that only secondary sources report say "reported by".
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
    open: bool = False  # True: the matter was still pending at the last check and may change


#: The date of the course's latest re-check of the rows it touched (rows keep their own ``as_of``).
LAST_CHECK = "2026-12-07"


ARTICLE_EVENTS: tuple[Event, ...] = (
    Event("2019-12", "A Florida news item on a shoplifting arrest mentions, in passing, that the sheriff's "
          "office is testing a face recognition program called Clearview AI.", ARTICLE),
    Event("2020-01-18", "The New York Times (Kashmir Hill) reveals a start-up that has collected about 3 billion "
          "photos from the open web and sells face search to police.", ARTICLE),
    Event("2020-01-22", "Twitter asks Clearview to stop collecting photos and data from its platform; Australia's "
          "privacy commissioner opens an inquiry.", ARTICLE),
    Event("2020-01-23", "US Senator Ed Markey asks Clearview for its list of law-enforcement clients and whether "
          "it sells to private persons; eight days later the company answers that it is a 'public photo "
          "search engine'.",
          ARTICLE),
    Event("2020-01-24", "New Jersey's Attorney General bars the state's police from using the app; a first class "
          "action is filed in Illinois under the Biometric Information Privacy Act (BIPA).", ARTICLE),
    Event("2020-01-28", "Members of the European Parliament ask the Commission whether EU authorities use the app "
          "and whether it is lawful under EU data protection law.", ARTICLE),
    Event("2020-02-05", "BuzzFeed publishes Clearview sales material with a map of planned expansion to at least "
          "22 countries, nine of them in the EU; Google/YouTube, Venmo and LinkedIn send cease-and-desist "
          "letters (first reported by CBS News); the founder invokes the First "
          "Amendment.", ARTICLE),
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


# Sources of the later events (short forms; lesson 07 prints them as numbered notes).
AI_ACT = "Regulation (EU) 2024/1689 (Artificial Intelligence Act), Arts 5 and 113"
ACLU_SETTLEMENT = ("ACLU v. Clearview AI, Cook County Circuit Court no. 2020CH04353: settlement reported by the "
                   "Chicago Sun-Times, 2022-05-09, and the GW Law ETI blog (blogs.gwu.edu/law-eti/?p=2183)")
OAIC_STATEMENT = "OAIC, statement on Clearview AI (oaic.gov.au/newsroom/statement-on-clearview-ai)"
UK_UT = ("Information Commissioner v Clearview AI Inc [2025] UKUT 319 (AAC), which recounts the First-tier "
         "Tribunal ruling of 2023-10-17; A&O Shearman commentary")
UK_ICO_FINE = "ICO fine and enforcement notice, as summarised by Simmons & Simmons and AWO (awo.agency)"
CNIL = "CNIL sanctions against Clearview AI, reported by lediligent.com (2023-05-10) and next.ink (2023-05-15)"

#: Outcomes after the article (2020-2026), each from the source named in the row (full references in
#: docs/sources.md); items no source the course could check confirms are left out. Amounts are those
#: the sources give. Rows added or re-checked in December 2026 carry ``as_of=LAST_CHECK``.
AFTER_EVENTS: tuple[Event, ...] = (
    Event("2020-05-28", "The ACLU sues Clearview in the Circuit Court of Cook County, Illinois, under BIPA "
          "(ACLU v. Clearview AI, no. 2020CH04353).",
          "ACLU v. Clearview AI, complaint, Cook County Circuit Court no. 2020CH04353 (filed 2020-05-28)",
          period="after"),
    Event("2020-09-11", "Vermont's Attorney General reports that the court has largely refused to dismiss the "
          "State's suit, rejecting Clearview's First Amendment, Section 230, vagueness and standing arguments. "
          "What became of the case later is not established in the course's sources (as of 2026-11).",
          "Vermont Attorney General, 2020-09-11 (ago.vermont.gov); docket 226-3-20 Cncv", period="after",
          open=True),
    Event("2021-01-27", "Hamburg's data protection authority, on a complaint by Matthias Marx supported by noyb, "
          "holds that the GDPR applies to Clearview and requires it to delete his biometric profile (the "
          "hash values computed from his face, not the photos): the first decision against Clearview in the "
          "EU. noyb described the step as preliminary, taken before a formal order.",
          "noyb.eu, 2021-01-28 (noyb.eu/en/clearview-ai-deemed-illegal-eu); EPIC, 2021-01-28",
          as_of=LAST_CHECK, period="after"),
    Event("2021-02-03", "Canada's federal privacy commissioner and those of Alberta, Quebec and British Columbia "
          "find that Clearview's collection is mass surveillance and illegal; Clearview had already left "
          "the Canadian market in 2020.",
          "Joint findings of the OPC and the Alberta, Quebec and BC commissioners; Toronto Star, 2021-02-03",
          period="after"),
    Event("2021-02-11", "Sweden's regulator (IMY) fines the Police Authority SEK 2.5 million for officers' "
          "unauthorised use of Clearview: unlawful biometric processing under the Criminal Data Act, no "
          "impact assessment; it orders training, telling the people searched, and deletion.",
          "IMY decision DI-2020-2719 (imy.se/en/news/police-unlawfully-used-facial-recognition-app/)",
          period="after"),
    Event("2021-06-10", "Canada's federal Privacy Commissioner, alone and under the federal public-sector law "
          "(the Privacy Act), finds that the RCMP broke that Act by collecting personal information from "
          "Clearview, whose own collection was unlawful; special report to Parliament.",
          "Office of the Privacy Commissioner of Canada, statement and special report, 2021-06-10 "
          "(priv.gc.ca/en/opc-news/speeches/2021/s-d_20210610/); Toronto Star, 2021-06-10",
          as_of=LAST_CHECK, period="after"),
    Event("2021-10-14", "Australia's Information Commissioner determines that Clearview collected sensitive "
          "information without consent and by unfair means, among other breaches, and orders it to stop "
          "and to destroy Australians' images and faceprints (published 2021-11-03).",
          "OAIC determination [2021] AICmr 54; " + OAIC_STATEMENT, period="after"),
    Event("2021-11", "The UK Information Commissioner announces a provisional intent to fine Clearview about "
          "GBP 17 million.", UK_ICO_FINE, period="after"),
    Event("2022-02-10", "Italy's Garante fines Clearview EUR 20 million, bans processing of data on people in "
          "Italy, orders deletion and the appointment of an EU representative (announced 2022-03-09).",
          "Garante order no. 50 of 2022-02-10 (gpdp.it, doc. web 9751362)", period="after"),
    Event("2022-05-09", "Settlement of the ACLU's BIPA suit (consent order 2022-05-11): a permanent US-wide ban "
          "on selling the faceprint database to most private entities, no sales to any Illinois entity, "
          "police included, for five years, an opt-out for Illinois residents.",
          ACLU_SETTLEMENT, period="after"),
    Event("2022-05-23", "The UK Information Commissioner fines Clearview GBP 7,552,800 and orders it to stop "
          "using and to delete UK residents' data.", UK_ICO_FINE, period="after"),
    Event("2022-07-13", "Greece's data protection authority, on a complaint by Homo Digitalis, fines Clearview "
          "EUR 20 million for breaches including GDPR Arts 5, 6, 9, 15 and 27, with a ban and deletion.",
          "Hellenic DPA decision 35/2022 (gdprhub.eu)", period="after"),
    Event("2022-10-17", "France's CNIL fines Clearview EUR 20 million and orders it to comply within two months, "
          "with a penalty of EUR 100,000 for each day of delay after that.", CNIL, period="after"),
    Event("2023-05-08", "Australia's Administrative Appeals Tribunal upholds the finding that Clearview collected "
          "sensitive information without consent (APP 3.3) and breached APP 1.2.",
          "Clearview AI Inc and Australian Information Commissioner [2023] AATA 1069", period="after"),
    Event("2023-05-10", "The CNIL sets the overdue penalty at EUR 5.2 million for failing to comply between "
          "2022-12-19 and 2023-02-09.", CNIL, period="after"),
    Event("2023-05-10", "Austria's regulator (DSB) finds Clearview's processing unlawful and orders deletion and "
          "an EU representative, but imposes no fine and no general ban (announced by noyb).",
          "noyb.eu, 2023-05-10", period="after"),
    Event("2023-08", "Clearview withdraws its further appeal against the Australian tribunal's decision.",
          OAIC_STATEMENT, period="after"),
    Event("2023-10-17", "UK First-tier Tribunal: the ICO had no jurisdiction, because Clearview's clients were "
          "foreign state bodies (UK GDPR Art. 2(2)(a)).", UK_UT, period="after"),
    Event("2024-06-28", "Detroit settles Robert Williams's wrongful-arrest suit (not a Clearview case): no arrest "
          "on a face recognition result alone, independent evidence before a lineup, training, and an audit "
          "of the warrants based on face recognition since 2017.",
          "Michigan Public, 2024-06-28; University of Michigan Law School (michigan.law.umich.edu)",
          period="after"),
    Event("2024-08-01", "The EU AI Act enters into force.", AI_ACT, period="after"),
    Event("2024-08-02", "Illinois amends BIPA: repeated collection from the same person by the same method is one "
          "violation, not one per scan.", "Illinois Public Act 103-0769 (ilga.gov)", period="after"),
    Event("2024-08-21", "The OAIC says it will take no further action against Clearview.", OAIC_STATEMENT,
          period="after"),
    Event("2024-09-03", "The Dutch regulator (AP) fines Clearview EUR 30.5 million, with orders backed by penalty "
          "payments of up to just over EUR 5 million; Clearview did not object, so the decision is final. The "
          "AP says Dutch organisations may not use Clearview and that it is examining whether the directors "
          "are personally liable (as of the announcement).",
          "Autoriteit Persoonsgegevens decision (avgtekst.nl/document/1-besluit-boete-clearview-ai); NOS, 2024-09",
          period="after", open=True),
    Event("2024-12-18", "British Columbia's Supreme Court upholds the BC commissioner's order to stop offering "
          "the service in BC and to delete data collected there without consent: BC's private-sector privacy "
          "law reaches a foreign company with a real and substantial connection to the province.",
          "Clearview AI Inc. v. Information and Privacy Commissioner for British Columbia, 2024 BCSC 2311; "
          "summaries by Dentons (dentonsdata.com) and McMillan LLP, 2025-01-08", as_of=LAST_CHECK,
          period="after"),
    Event("2025-01-28", "Austria's Federal Administrative Court tells the DSB to reconsider a ban on Clearview's "
          "processing.", "BVwG W108 2274731-1/11E (gdprhub.eu)", period="after", open=True),
    Event("2025-02-02", "The AI Act's prohibitions apply: among them, building face databases by untargeted "
          "scraping (Art. 5(1)(e)) and, save three narrow exceptions, real-time remote biometric "
          "identification in public spaces for law enforcement (Art. 5(1)(h)).", AI_ACT, period="after"),
    Event("2025-02", "Clearview's co-founder Hoan Ton-That steps down as chief executive and stays on the board; "
          "an early investor, Hal Lambert, and co-founder Richard Schwartz become co-CEOs.",
          "reported by TechCrunch (first reported by Forbes), 2025-02", as_of=LAST_CHECK, period="after"),
    Event("2025-03-20", "A US federal court approves the class-action settlement: class members get a 23 % "
          "equity stake in Clearview (estimated at USD 51.75 million), no injunction; 22 states and DC had "
          "objected.", "In re Clearview AI Consumer Privacy Litigation (N.D. Ill.); Bloomberg Law; "
          "biometricupdate.com, 2025-03-21", period="after"),
    Event("2025-05-08", "Alberta's Court of King's Bench upholds the Alberta commissioner's order against "
          "Clearview, but strikes down part of the Alberta regulation defining \"publicly available\" "
          "information as an unjustified limit on freedom of expression (Charter s. 2(b)): the strongest "
          "judicial support so far for the 'public data' side of the scraping debate.",
          "Clearview AI Inc v Alberta (Information and Privacy Commissioner), 2025 ABKB 287; summaries by "
          "Miller Thomson, Dentons (2025-05-15) and BLG (2025-06)", as_of=LAST_CHECK, period="after"),
    Event("2025-04", "Italy's EUR 20 million fine is reported still unpaid; the course's sources give no later "
          "status (as of 2026-12).", "biometricupdate.com, April 2025", as_of=LAST_CHECK, period="after",
          open=True),
    Event("2025-10-07", "UK Upper Tribunal: the ICO does have jurisdiction; the case goes back to the First-tier "
          "Tribunal to hear Clearview's appeal on the merits. No later ruling is in the course's sources "
          "(as of 2026-12).", UK_UT, as_of=LAST_CHECK, period="after", open=True),
    Event("2025-10-28", "noyb files a criminal complaint against Clearview and its managers with Austrian public "
          "prosecutors, seeking their personal liability under Austria's Data Protection Act (the criminal "
          "penalties GDPR Art. 84 allows); whether prosecutors open a case is not in the course's sources "
          "(as of 2026-12).",
          "reported by CyberInsider and Notebookcheck, 2025-10-28, and Courthouse News (via Platform Economy "
          "Insights, 2025-11-01)", as_of=LAST_CHECK, period="after", open=True),
    Event("2026-02-18", "British Columbia's Court of Appeal dismisses Clearview's appeal: the province's "
          "private-sector privacy law applies to it, and reading the 'publicly available' exception narrowly "
          "is reasonable; the commissioner's order to stop and to delete stands.",
          "Clearview AI Inc. v. British Columbia (Information and Privacy Commissioner), 2026 BCCA 67 "
          "(bccourts.ca); Mondaq summary, 2026", as_of=LAST_CHECK,
          period="after"),
    Event("2026-06", "The EU adopts the Digital Omnibus on AI, agreed on 2026-05-07 (as reported: Parliament "
          "2026-06-16, Council 2026-06-29): the AI Act's high-risk duties for remote biometric identification, "
          "among them two-person verification (Art 14(5)) and authorisation of retrospective police searches "
          "(Art 26(10)), apply from 2027-12-02 instead of 2026-08-02; the bans of Art 5 are unchanged. Its "
          "Official Journal reference is not confirmed in the course's sources (as of 2026-12).",
          "reported by Sidley Austin, Data Matters, 2026-06-22, and DLA Piper, 2026-07-02; Council of the EU "
          "press release on the agreement, 2026-05-07", as_of=LAST_CHECK, period="after", open=True),
)
