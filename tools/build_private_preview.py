#!/usr/bin/env python3
"""PRIVATE preview WITH FACES: execute the lessons and render them to HTML in preview-private/.

    python tools/build_private_preview.py                     # every lessons/*.ipynb -> preview-private/
    python tools/build_private_preview.py lessons/03_verification.ipynb --out /tmp/preview

Not the course web site. The public site, with no face in it, is built by tools/build_book.py
from the committed notebooks without executing them; this preview executes every notebook, so
it shows every figure, photos included, and must never be published.

For previewing the course without Jupyter (a projector with no kernel, a reviewer, a student
without an install). Each notebook is executed from scratch in a fresh kernel (with the
course's environment: FACECOURSE_IMAGE_MIRROR, FACECOURSE_CACHE_DIR ... as set in your shell)
and converted with nbconvert; figures are embedded in the pages. Run it with the course's
Python (`.venv/bin/python tools/build_private_preview.py`), so the kernel is the course's.

Interactive widgets (the threshold explorer, the deployment simulator) cannot work without a
kernel, so the site shows their static text instead: the numbers at a few fixed settings. (A
plain `jupyter nbconvert --execute --to html` would embed a dead copy of the widget that
loads its code from the internet and whose numbers do not follow its sliders.)

THE PREVIEW CONTAINS FACES. The figures show photos of the Face Research Lab participants, so
preview-private/ is git-ignored: never commit it, and do not publish it. A published copy could not honour
a consent withdrawal (sample_images/revocations.csv), and the course's rule is that photos are
fetched and verified, never redistributed by us. Delete the folder when you are done.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTICE = ("Private preview built on this machine by tools/build_private_preview.py. It contains photos of consenting "
          "research participants (Face Research Lab London Set, CC BY 4.0; see sample_images/README.md): "
          "do not commit, publish or share this folder; delete it when done.")


def drop_widget_views(nb) -> int:
    """Replace every live-widget output by its static text; return how many were replaced.

    The course's widgets put their static text in ``text/plain`` beside the widget view, so removing
    the view (and the notebook's saved widget state) makes every converter show that text.
    """
    replaced = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                replaced += 1
    nb.metadata.pop("widgets", None)
    return replaced


def render(path: Path, out_dir: Path, timeout: int = 900) -> tuple[Path, str, float]:
    """Execute one notebook and write it as HTML into ``out_dir``; return (page, title, seconds)."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    start = time.monotonic()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    drop_widget_views(nb)
    title = _title(nb, path)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb, resources={"metadata": {"name": title}})
    banner = f'<p style="background:#fff3cd;padding:0.5em 1em;margin:0">{html.escape(NOTICE)}</p>'
    body = body.replace("<main>", f"<main>{banner}", 1)
    page = out_dir / f"{path.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page, title, time.monotonic() - start


def _title(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def write_index(out_dir: Path, pages: list[tuple[Path, str]]) -> Path:
    items = "\n".join(f'<li><a href="{html.escape(p.name)}">{html.escape(t)}</a> '
                      f"<small>({html.escape(p.stem)})</small></li>" for p, t in pages)
    index = out_dir / "index.html"
    index.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Face recognition and privacy: "
        "the Clearview AI case (preview)</title></head><body style='font-family:sans-serif;max-width:50em;"
        "margin:2em auto'><h1>Face recognition and privacy: the Clearview AI case</h1>"
        f"<p style='background:#fff3cd;padding:0.5em 1em'>{html.escape(NOTICE)}</p>"
        f"<ol>{items}</ol></body></html>\n", encoding="utf-8")
    return index


def build(notebooks: list[Path], out_dir: Path, timeout: int = 900) -> list[Path]:
    """Render ``notebooks`` into ``out_dir`` with an index; return the pages written."""
    os.environ["FACECOURSE_PROGRESS"] = "0"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ".gitignore").write_text("# contains faces: never commit (see tools/build_private_preview.py)\n*\n")
    pages = []
    for nb_path in notebooks:
        print(f"[site] {nb_path.relative_to(ROOT) if nb_path.is_relative_to(ROOT) else nb_path} ...", flush=True)
        page, title, seconds = render(nb_path, out_dir, timeout)
        print(f"[site]   -> {page} ({seconds:.0f} s)", flush=True)
        pages.append((page, title))
    index = write_index(out_dir, pages)
    print(f"[site] open {index}")
    return [p for p, _ in pages]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lessons/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "preview-private",
                        help="output folder (default: preview-private/)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default: 900)")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "lessons").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"[site] no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not notebooks:
        print("[site] no lessons found in lessons/", file=sys.stderr)
        return 2
    build(notebooks, args.out.resolve(), args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
