"""The public site's own checks (tools/build_book.py) fail when they should.

The full build runs in .ci/run (Sphinx is in site-src/requirements.txt); these tests feed the
staging and checking functions small hand-made inputs: a notebook output that is a PNG, links to
solutions, a page with a broken link, a missing anchor, an image without alt text, and a chart
whose pixels hold a face.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import nbformat
import pytest

from conftest import ROOT

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from facecourse import plots

sys.path.insert(0, str(ROOT / "tools"))
import build_book

sys.path.remove(str(ROOT / "tools"))


def test_staging_refuses_an_image_output_it_cannot_verify() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plots.show(fig, alt)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                                 "text/plain": "Figure: a photo"})]
    nb.cells = [cell]
    with pytest.raises(build_book.BuildError, match=r"may show a face.*notebooks\.py strip"):
        build_book.check_notebook_images(nb, "lessons/99_test.ipynb")


def test_links_to_solutions_and_other_repository_files_leave_the_site() -> None:
    pages = {"lessons/03_verification.ipynb", "docs/glossary.md"}
    text = ("[FMR](../docs/glossary.md#fmr), [solution](../exercises/source/03_error_rates.ipynb), "
            "[code](../facecourse/metrics.py)")
    plain = build_book.rewrite_links(text, "lessons/03_verification.ipynb", pages, None)
    assert plain.startswith("[FMR](../docs/glossary.md#fmr)")
    assert "solution (in the repository: `exercises/source/03_error_rates.ipynb`)" in plain
    linked = build_book.rewrite_links(text, "lessons/03_verification.ipynb", pages, "https://github.com/o/r")
    assert "[solution](https://github.com/o/r/blob/main/exercises/source/03_error_rates.ipynb)" in linked
    with pytest.raises(build_book.BuildError, match="does not exist"):
        build_book.rewrite_links("[gone](../nowhere.md)", "lessons/03_verification.ipynb", pages, None)
    assert all(not f.startswith("exercises/source") for f in build_book.source_files())


def _site(tmp_path: Path, body: str, svg: str | None = None) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "glossary.html").write_text('<html><body><a id="fmr"></a>FMR</body></html>')
    if svg is not None:
        (tmp_path / "_images").mkdir()
        (tmp_path / "_images" / "chart.svg").write_text(svg)
    (tmp_path / "index.html").write_text(f"<html><body><article>{body}</article></body></html>")
    return tmp_path


def test_the_site_check_passes_a_good_page(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    svg = plots.render_svg(fig, "a rising line")
    plt.close(fig)
    site = _site(tmp_path, '<a href="docs/glossary.html#fmr">FMR</a><img src="_images/chart.svg" alt="a rising line">'
                 '<a href="https://example.org/">out</a>', svg)
    report = build_book.check_site(site)
    assert report.problems == []
    assert (report.pages, report.figures, report.image_files, report.external_links) == (2, 1, 1, 1)


def test_the_site_check_finds_broken_links_missing_anchors_and_missing_alt_text(tmp_path: Path) -> None:
    site = _site(tmp_path, '<a href="docs/glossary.html#fnmr">FNMR</a><a href="lessons/99.html">gone</a>'
                 '<img src="docs/nothing.svg">')
    problems = "\n".join(build_book.check_site(site).problems)
    assert "no id 'fnmr' in glossary.html" in problems
    assert "'lessons/99.html' points to a missing file" in problems
    assert "has no alt text" in problems and "'docs/nothing.svg' points to a missing file" in problems


def test_the_site_check_finds_a_face_in_a_chart(tmp_path: Path, images_ready: Path) -> None:
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError) as err:  # CI installs site-src/requirements.txt: there it must work
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"CairoSVG not usable ({err}): "
                                                               "pip install -r site-src/requirements.txt")
    from facecourse.dataset import load_photo
    from facecourse.manifest import load_manifest

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(load_photo(load_manifest()["london-002-neutral"]))  # forced into SVG, bypassing plots.show
    svg = plots.render_svg(fig, "a photo that must never be published")
    plt.close(fig)
    site = _site(tmp_path, '<img src="_images/chart.svg" alt="a photo that must never be published">', svg)
    assert any("the face detector finds" in p for p in build_book.check_site(site).problems)
