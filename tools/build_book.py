#!/usr/bin/env python3
"""Build the PUBLIC course site from the committed notebooks, without executing them, and check it.

    .venv/bin/python -m pip install -r site-src/requirements.txt    # once: Sphinx, MyST-NB, Furo, CairoSVG
    .venv/bin/python tools/build_book.py                             # -> public-site/index.html
    .venv/bin/python tools/build_book.py --repo-url https://github.com/ORG/REPO   # as the Pages workflow does

One command does all of it:

1. **Stage** (into build/book-src/): site-src/ (configuration, landing page, "Run it yourself"), every
   git-tracked lesson, the exercise RELEASE copies (never exercises/source), docs/glossary.md,
   docs/sources.md, docs/article.md and docs/classroom.md when present, INSTRUCTORS.md and
   sample_images/README.md. Every image output of every notebook must be a face-free SVG whose
   marker facecourse.plots verifies, or the build stops (nothing is executed, so nothing else can
   appear). Widget views are replaced by their static text. Links to repository files that are not
   pages of the site point to --repo-url (or become plain text without it).
2. **Build** with Sphinx + MyST-NB, warnings as errors (-W --keep-going -n).
3. **Check** the built site: every image file and every image embedded in a page is rendered to
   pixels and searched with dlib's HOG face detector (upsample 1); every <img> has alt text;
   every internal link and #anchor resolves. External links are counted, not fetched (CI has
   no internet).

Output: public-site/ (git-ignored: the Pages workflow builds and publishes it, see
.github/workflows/pages.yml). It contains no face. For a private preview WITH the photos (never
to be published) see tools/build_private_preview.py.
"""

from __future__ import annotations

import argparse
import base64
import html.parser
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SITE_SRC = ROOT / "site-src"
STAGING = ROOT / "build" / "book-src"
OUT = ROOT / "public-site"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Markdown pages of the site besides site-src/ (the ones that exist are staged).
PAGES = ("docs/glossary.md", "docs/sources.md", "docs/article.md", "docs/classroom.md", "INSTRUCTORS.md",
         "sample_images/README.md")
NOTEBOOK_DIRS = ("lessons", "exercises/release")
IMAGE_SUFFIXES = {".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".avif"}
_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")


def say(message: str) -> None:
    print(f"[book] {message}", flush=True)


class BuildError(Exception):
    """The site cannot be built or failed a check; the message says what and how to fix it."""


# ---------------------------------------------------------------------------------------------
# 1. Stage
# ---------------------------------------------------------------------------------------------


def tracked(pattern_dir: str, suffix: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", "--", pattern_dir], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    return sorted(f for f in out if f.endswith(suffix) and posixpath.dirname(f) == pattern_dir)


def source_files() -> list[str]:
    """Repository paths of every page of the site (besides site-src/): committed files only."""
    files = [f for d in NOTEBOOK_DIRS for f in tracked(d, ".ipynb")]
    tracked_all = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                     check=True).stdout.split())
    files += [p for p in PAGES if p in tracked_all and (ROOT / p).is_file()]
    leaked = [f for f in files if f.startswith("exercises/source")]
    if leaked:  # a guard against a future edit of NOTEBOOK_DIRS: solutions are never published
        raise BuildError(f"refusing to publish exercise solutions: {leaked}")
    return files


def rewrite_links(text: str, page: str, pages: set[str], repo_url: str | None) -> str:
    """Keep links between pages of the site; send other repository links to ``repo_url``."""

    def fix(match: re.Match[str]) -> str:
        label, target, title = match.group(1), match.group(2), match.group(3) or ""
        parsed = urllib.parse.urlsplit(target)
        if parsed.scheme or parsed.netloc or target.startswith("#") or not parsed.path:
            return match.group(0)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), urllib.parse.unquote(parsed.path)))
        if resolved in pages:
            return match.group(0)
        if resolved.startswith("..") or not (ROOT / resolved).exists():
            raise BuildError(f"{page}: the link [{label}]({target}) points to {resolved}, which does not exist")
        if repo_url:
            kind = "tree" if (ROOT / resolved).is_dir() else "blob"
            anchor = f"#{parsed.fragment}" if parsed.fragment else ""
            return f"[{label}]({repo_url.rstrip('/')}/{kind}/main/{resolved}{anchor}{title})"
        return f"{label} (in the repository: `{resolved}`)"

    return _LINK.sub(fix, text)


def check_notebook_images(nb: nbformat.NotebookNode, name: str) -> int:
    """Refuse any image output that is not a verified face-free SVG; return how many there are."""
    from facecourse.plots import SVG_MIME, face_free_output_problems

    charts = 0
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            images = [k for k in out.get("data", {}) if k.startswith("image/")]
            if not images:
                continue
            problems = face_free_output_problems(out) if images == [SVG_MIME] else [f"carries {images}"]
            if problems:
                raise BuildError(f"{name} cell {i}: an image output that may show a face ({'; '.join(problems)}). "
                                 f"Run `.venv/bin/python tools/notebooks.py strip {name}` and commit.")
            charts += 1
    return charts


def stage(staging: Path, repo_url: str | None, override: Path | None = None) -> dict[str, int]:
    """Copy the site's sources into ``staging``; ``override``: a folder laid out like the repository
    whose files replace the committed ones (to check a site built from re-executed copies)."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(SITE_SRC, staging, ignore=shutil.ignore_patterns("__pycache__", "requirements.txt"))
    files = source_files()
    pages = set(files)
    counts = {"notebooks": 0, "markdown": 0, "charts": 0}
    for name in files:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = override / name if override is not None and (override / name).is_file() else ROOT / name
        if name.endswith(".ipynb"):
            nb = nbformat.read(source, as_version=4)
            counts["charts"] += check_notebook_images(nb, name)
            for cell in nb.cells:
                if cell.cell_type == "markdown":
                    cell.source = rewrite_links(cell.source, name, pages, repo_url)
                for out in cell.get("outputs", []):
                    out.get("data", {}).pop(WIDGET_VIEW, None)
            nb.metadata.pop("widgets", None)
            nbformat.write(nb, target)
            counts["notebooks"] += 1
        else:
            target.write_text(rewrite_links(source.read_text(encoding="utf-8"), name, pages, repo_url),
                              encoding="utf-8")
            counts["markdown"] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# 2. Build
# ---------------------------------------------------------------------------------------------


def sphinx_build(staging: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    doctrees = staging.parent / "book-doctrees"
    shutil.rmtree(doctrees, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q",
           "-d", str(doctrees), str(staging), str(out)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        raise BuildError(f"Sphinx reported warnings or errors (exit {result.returncode}):\n{result.stderr}")
    if result.stderr.strip():
        raise BuildError(f"Sphinx printed warnings:\n{result.stderr}")
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and _images/ as they are


# ---------------------------------------------------------------------------------------------
# 3. Check
# ---------------------------------------------------------------------------------------------


class _PageParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag.attr, value)
        self.imgs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])  # type: ignore[arg-type]
        for key in ("href", "src", "xlink:href"):
            if a.get(key):
                self.links.append((f"{tag}.{key}", a[key]))  # type: ignore[arg-type]
        if tag == "img":
            self.imgs.append(a)


@dataclass
class Report:
    pages: int = 0
    figures: int = 0
    image_files: int = 0
    embedded_images: int = 0
    internal_links: int = 0
    external_links: int = 0
    problems: list[str] = field(default_factory=list)


def _faces(data: bytes, suffix: str) -> int:
    from facecourse.plots import SVG_MIME, faces_in_picture

    mime = SVG_MIME if suffix == ".svg" else "image/png"
    return faces_in_picture(data, mime)


def check_site(out: Path) -> Report:
    report = Report()
    parsed: dict[Path, _PageParser] = {}
    for page in sorted(out.rglob("*.html")):
        parser = _PageParser()
        parser.feed(page.read_text(encoding="utf-8"))
        parsed[page] = parser
    report.pages = len(parsed)
    # every image file of the site, whether a page shows it or the theme ships it
    for path in sorted(p for p in out.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        report.image_files += 1
        try:
            found = _faces(path.read_bytes(), path.suffix.lower())
        except Exception as err:  # noqa: BLE001 - an image we cannot read is an image we cannot clear
            report.problems.append(f"{path.relative_to(out)}: cannot be rendered for the face check ({err})")
            continue
        if found:
            report.problems.append(f"{path.relative_to(out)}: the face detector finds {found} face(s)")
    for page, parser in parsed.items():
        rel = page.relative_to(out)
        for img in parser.imgs:
            src = img.get("src") or ""
            if "_images/" in src:
                report.figures += 1
            if not (img.get("alt") or "").strip():
                report.problems.append(f"{rel}: <img src={src!r}> has no alt text")
        for where, value in parser.links:
            if value.startswith("data:"):
                if value.startswith("data:image/"):
                    report.embedded_images += 1
                    head, _, payload = value.partition(",")
                    data = base64.b64decode(payload) if ";base64" in head else urllib.parse.unquote(payload).encode()
                    if _faces(data, ".svg" if "svg" in head else ".png"):
                        report.problems.append(f"{rel}: an embedded image shows a face")
                continue
            target = urllib.parse.urlsplit(value)
            if target.scheme in ("http", "https", "mailto") or target.netloc:
                report.external_links += 1
                continue
            if target.scheme:
                report.problems.append(f"{rel}: {where}={value!r} uses an unexpected scheme")
                continue
            report.internal_links += 1
            file = page if not target.path else (page.parent / urllib.parse.unquote(target.path)).resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file() or not file.resolve().is_relative_to(out.resolve()):
                report.problems.append(f"{rel}: {where}={value!r} points to a missing file")
                continue
            if target.fragment and file.suffix == ".html":
                ids = parsed.get(file)
                if ids is None:
                    continue
                if urllib.parse.unquote(target.fragment) not in ids.ids:
                    report.problems.append(f"{rel}: {where}={value!r}: no id {target.fragment!r} in {file.name}")
    return report


# ---------------------------------------------------------------------------------------------


def build(out: Path = OUT, repo_url: str | None = None, check: bool = True, override: Path | None = None) -> Report:
    start = time.monotonic()
    counts = stage(STAGING, repo_url, override)
    say(f"staged {counts['notebooks']} notebooks ({counts['charts']} verified face-free charts) and "
        f"{counts['markdown']} markdown pages from the repository, plus site-src/")
    sphinx_build(STAGING, out)
    say(f"built {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} without warnings "
        f"({time.monotonic() - start:.0f} s)")
    report = Report()
    if check:
        report = check_site(out)
        say(f"{report.pages} pages; {report.figures} figures in pages, {report.image_files} image files, "
            f"{report.embedded_images} embedded images: all rendered to pixels and searched for faces")
        say(f"{report.internal_links} internal links and anchors checked; {report.external_links} external "
            "links counted, not fetched")
        if report.problems:
            raise BuildError("the site failed its checks:\n  " + "\n  ".join(report.problems))
        say(f"checks passed: no face, every image has alt text, every internal link resolves "
            f"({time.monotonic() - start:.0f} s in all)")
        (out / "site-report.json").write_text(json.dumps(report.__dict__, indent=1) + "\n")
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: public-site/)")
    parser.add_argument("--repo-url", default=os.environ.get("FACECOURSE_REPO_URL"),
                        help="where links to repository files should point, e.g. https://github.com/ORG/REPO "
                             "(default: $FACECOURSE_REPO_URL; without it they become plain text)")
    parser.add_argument("--no-check", action="store_true", help="build only (the checks take about a minute)")
    parser.add_argument("--override", type=Path, help="a folder laid out like the repository whose files replace "
                        "the committed ones, e.g. re-executed copies of lessons (for checking; never for publishing)")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), args.repo_url, check=not args.no_check,
              override=args.override.resolve() if args.override else None)
    except BuildError as err:
        print(f"[book] FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
