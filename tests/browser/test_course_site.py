"""The public course site (tools/build_book.py), opened as a reader opens it: in headless Chromium.

The site is served from a loopback HTTP server; the test opens the landing page, lesson 03 (which
has charts) and the glossary, and checks that every figure is loaded and has the alt text that
``plots.show`` stored in the notebook, that a lesson's glossary link lands on its entry, and that
no page asks for anything outside the site (no fonts, scripts or images from the internet).

Site: ``$FACECOURSE_SITE_DIR`` if set, else ``public-site/`` as .ci/run builds it; when neither
exists the test builds one into a temporary folder first (``tools/build_book.py --no-check``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser

LESSON_WITH_CHARTS = "lessons/03_verification"


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("FACECOURSE_SITE_DIR")
    site = Path(given) if given else ROOT / "public-site"
    if (site / "index.html").is_file():
        return site
    if given:
        pytest.fail(f"FACECOURSE_SITE_DIR={given} holds no built site (no index.html)")
    site = tmp_path_factory.mktemp("public-site")
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--no-check", "--out", str(site)],
                   cwd=ROOT, check=True)
    return site


@pytest.fixture(scope="module")
def site_url(site_dir: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Any, site_url: str) -> Iterator[Any]:
    tab = browser.new_page()
    tab.requests_outside = []
    tab.on("request", lambda r: r.url.startswith((site_url, "data:")) or tab.requests_outside.append(r.url))
    try:
        yield tab
    finally:
        tab.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}.png"), full_page=False)


def figures(page: Any) -> list[dict[str, Any]]:
    """Every <img> of the page's article, with what the browser made of it."""
    return page.locator("article img").evaluate_all(
        "els => els.map(e => ({src: e.getAttribute('src'), alt: e.getAttribute('alt'), "
        "loaded: e.complete && e.naturalWidth > 0, width: e.getBoundingClientRect().width}))")


def notebook_alts(name: str) -> list[str]:
    nb = json.loads((ROOT / f"{name}.ipynb").read_text())
    return [out["metadata"]["image/svg+xml"]["alt"] for cell in nb["cells"] for out in cell.get("outputs", [])
            if "image/svg+xml" in out.get("data", {})]


def test_landing_page_explains_consent_and_links_every_part(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/index.html")
    assert "Face recognition and privacy" in page.title()
    body = page.locator("article").inner_text()
    assert "Why this site shows no face" in body and "withdrawn" in body
    for part in ("lessons/00_course_map.html", "exercises/release/", "docs/glossary.html", "docs/sources.html",
                 "INSTRUCTORS.html", "run-it-yourself.html"):
        assert page.locator(f"article a[href*='{part}']").count() >= 1, f"the landing page has no link to {part}"
    assert page.locator("a[href*='exercises/source']").count() == 0
    assert all(f["alt"] for f in figures(page))
    shot(page, "landing")
    assert page.requests_outside == [], f"the page fetched from outside the site: {page.requests_outside}"


def test_a_lesson_shows_its_charts_with_their_alt_text(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/{LESSON_WITH_CHARTS}.html")
    page.wait_for_load_state("load")
    shown = figures(page)
    charts = [f for f in shown if "_images/" in (f["src"] or "")]
    expected = notebook_alts(LESSON_WITH_CHARTS)
    assert expected, f"{LESSON_WITH_CHARTS}.ipynb carries no face-free chart: re-execute it (tools/notebooks.py)"
    assert [f["alt"] for f in charts] == expected
    for f in shown:
        assert f["alt"] and f["alt"].strip(), f"an image without alt text: {f['src']}"
        assert f["loaded"] and f["width"] > 100, f"an image the browser did not draw: {f}"
    first = page.locator("article img[src*='_images/']").first
    first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    first.screenshot(path=str(ARTIFACTS / "site-lesson-chart.png"))
    shot(page, "lesson")
    assert page.requests_outside == [], f"the page fetched from outside the site: {page.requests_outside}"


def test_the_glossary_opens_at_the_entry_a_lesson_links_to(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/{LESSON_WITH_CHARTS}.html")
    link = page.locator("article a[href*='glossary.html#']").first
    assert link.count() == 1, "the lesson links to no glossary entry"
    key = link.get_attribute("href").split("#", 1)[1]
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_url(f"**/docs/glossary.html#{key}")
    target = page.locator(f"[id='{key}']")  # the entry's <a id>, and its heading's id when the slug is the same
    assert target.count() >= 1, f"the glossary has no anchor {key!r}"
    page.wait_for_load_state("load")
    page.wait_for_function("""key => { const r = document.getElementById(key).getBoundingClientRect();
                                       return r.top >= 0 && r.top < window.innerHeight; }""", arg=key, timeout=10_000)
    assert page.locator("article h1").first.inner_text().strip().startswith("Glossary")
    assert all(f["alt"] for f in figures(page))
    shot(page, "glossary")
    assert page.requests_outside == [], f"the page fetched from outside the site: {page.requests_outside}"
