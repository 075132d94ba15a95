"""The bibliography and the glossary: every citation resolves, every source says who, when and where.

Lessons, exercises (source and release), README.md, INSTRUCTORS.md and docs/*.md cite sources as
``[text](../docs/sources.md#KEY)`` and define words as ``[word](../docs/glossary.md#KEY)``
(``sources.md#KEY`` from inside ``docs/``). A key with no ``<a id="KEY"></a>`` anchor is a broken
citation: a student who clicks it lands at the top of the page, and a reviewer cannot check the claim.
The checks are plain functions so that ``test_checks_catch_*`` can show they fail on bad input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT

SOURCES = ROOT / "docs" / "sources.md"
GLOSSARY = ROOT / "docs" / "glossary.md"

#: A link into one of the two pages: ``sources.md#key`` or ``glossary.md#key``, with any path before it.
LINK = re.compile(r"(?<![\w.-])(?:[\w./-]*/)?(sources|glossary)\.md#([^\s)\]\"'>]*)")
ANCHOR = re.compile(r'<a id="([^"]*)"></a>')
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
#: Inline code and fenced blocks: where the pages explain the link format (`sources.md#KEY`).
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
KEY_FORMAT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
FIELDS = ("By", "Date", "Where", "Supports")
ISO_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?\b")
#: Citing the course authors' private notes instead of a source students can open.
PRIVATE_NOTES = re.compile(r"facts\.md|fact[ -]sheet", re.IGNORECASE)


def citing_files() -> list[Path]:
    """Every file whose links must resolve."""
    files = [*sorted((ROOT / "lessons").glob("*.ipynb")),
             *sorted((ROOT / "exercises" / "source").glob("*.ipynb")),
             *sorted((ROOT / "exercises" / "release").glob("*.ipynb")),
             ROOT / "README.md", ROOT / "INSTRUCTORS.md",
             *sorted((ROOT / "docs").glob("*.md"))]
    return [f for f in files if f.is_file()]


def text_of(path: Path) -> str:
    """A markdown file's text, or a notebook's cell sources and text outputs joined."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    parts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def prose(markdown: str) -> str:
    """``markdown`` without HTML comments and code spans (examples of the format, not links)."""
    return CODE.sub("", COMMENT.sub("", markdown))


def anchors(markdown: str) -> list[str]:
    """The anchor keys of a page, in order, ignoring the template and the format examples."""
    return ANCHOR.findall(prose(markdown))


def links(text: str) -> list[tuple[str, str]]:
    """(page, key) of every link into sources.md or glossary.md."""
    return LINK.findall(prose(text))


def broken_links(text: str, known: dict[str, set[str]]) -> list[str]:
    """``page#key`` for every link in ``text`` whose key is not an anchor of that page."""
    return [f"{page}.md#{key}" for page, key in links(text) if key not in known[page]]


def entry_problems(markdown: str) -> list[str]:
    """What is missing or malformed in each bibliography entry (an anchor and the lines up to the next)."""
    body = prose(markdown)
    problems = []
    starts = list(ANCHOR.finditer(body))
    for k, m in enumerate(starts):
        key = m.group(1)
        end = starts[k + 1].start() if k + 1 < len(starts) else len(body)
        entry = body[m.end():end].split("\n## ")[0]  # an entry ends at the next section heading
        if not KEY_FORMAT.fullmatch(key):
            problems.append(f"{key!r}: keys are lower-case letters, digits and single hyphens")
        if not re.search(r"^### \S", entry, re.MULTILINE):
            problems.append(f"{key}: no '### Title' line after the anchor")
        for field in FIELDS:
            value = re.search(rf"^- \*\*{field}:\*\*[ \t]*(.*)$", entry, re.MULTILINE)
            if value is None or not value.group(1).strip():
                problems.append(f"{key}: no '- **{field}:** ...' line")
            elif field == "Date" and not ISO_DATE.match(value.group(1).strip()):
                problems.append(f"{key}: Date must start with an ISO date (YYYY, YYYY-MM or YYYY-MM-DD), "
                                f"got {value.group(1).strip()!r}")
    return problems


def duplicates(keys: list[str]) -> list[str]:
    return sorted({k for k in keys if keys.count(k) > 1})


def known_keys() -> dict[str, set[str]]:
    return {"sources": set(anchors(SOURCES.read_text(encoding="utf-8"))),
            "glossary": set(anchors(GLOSSARY.read_text(encoding="utf-8")))}


# --- the checks on the repository ---------------------------------------------------------------

def test_every_citation_and_glossary_link_resolves() -> None:
    known = known_keys()
    broken = {str(f.relative_to(ROOT)): b for f in citing_files() if (b := broken_links(text_of(f), known))}
    assert broken == {}, (
        f"Links to keys that docs/sources.md or docs/glossary.md does not define: {broken}. "
        "Add the entry (an <a id=\"KEY\"></a> line, a ### title and the fields) or fix the key.")


def test_every_source_has_who_when_where() -> None:
    problems = entry_problems(SOURCES.read_text(encoding="utf-8"))
    assert problems == [], "docs/sources.md entries need By, Date (ISO), Where and Supports: " + "; ".join(problems)


def test_no_key_is_defined_twice() -> None:
    for page in (SOURCES, GLOSSARY):
        dup = duplicates(anchors(page.read_text(encoding="utf-8")))
        assert dup == [], f"{page.relative_to(ROOT)} defines these anchors more than once: {dup}; merge the entries."


def test_the_bibliography_is_cited() -> None:
    """Guards the test itself: if the link pattern stopped matching, every check above would pass vacuously."""
    cited = {key for f in citing_files() for page, key in links(text_of(f)) if page == "sources"}
    assert {"gdpr", "bipa"} <= cited, f"expected the lessons to cite at least gdpr and bipa; found {sorted(cited)}"


def test_no_teaching_material_cites_private_notes() -> None:
    """Students cannot open the authors' fact notes: cite the original source through docs/sources.md."""
    files = [*sorted((ROOT / "lessons").glob("*.ipynb")), *sorted((ROOT / "exercises").glob("*/*.ipynb")),
             ROOT / "INSTRUCTORS.md", ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = {str(f.relative_to(ROOT)): sorted(set(PRIVATE_NOTES.findall(text_of(f))))
             for f in files if f.is_file() and PRIVATE_NOTES.search(text_of(f))}
    assert found == {}, f"These files cite 'facts.md' or a 'fact sheet' that students cannot open: {found}"


# --- the checks fail on bad input ---------------------------------------------------------------

def test_checks_catch_a_broken_key() -> None:
    known = {"sources": {"gdpr"}, "glossary": {"faceprint"}}
    text = ("See [Art 9](../docs/sources.md#gdpr), [BIPA](../docs/sources.md#bipa-typo), "
            "a [faceprint](../docs/glossary.md#faceprint) and [FMR](glossary.md#fmr).")
    assert broken_links(text, known) == ["sources.md#bipa-typo", "glossary.md#fmr"]
    assert broken_links("[x](../docs/sources.md#)", known) == ["sources.md#"]  # an empty key is broken too


def test_checks_catch_an_incomplete_entry() -> None:
    page = ('<!-- <a id="template"></a> -->\n## Courts\n\n<a id="ok"></a>\n### A case\n- **By:** a court\n'
            "- **Date:** 2019-01-25\n- **Where:** 2019 IL 1\n- **Supports:** a point.\n\n"
            '<a id="Bad_Key"></a>\n### Another\n- **By:** someone\n- **Date:** January 2019\n'
            "- **Supports:** a point.\n")
    assert anchors(page) == ["ok", "Bad_Key"]  # the commented-out template is not an entry
    assert anchors('Format: `<a id="KEY"></a>`') == [] and links("link as `sources.md#KEY`") == []
    problems = entry_problems(page)
    assert any("Bad_Key" in p and "lower-case" in p for p in problems)
    assert any("Date must start with an ISO date" in p for p in problems)
    assert any("no '- **Where:**" in p for p in problems)
    assert not any(p.startswith("ok:") for p in problems)
    assert duplicates(["a", "b", "a"]) == ["a"]
    assert PRIVATE_NOTES.search("see the course fact sheet") and PRIVATE_NOTES.search("(facts.md, G)")
