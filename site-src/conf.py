"""Sphinx configuration of the public course site (built by tools/build_book.py, never by hand).

The site is rendered from the committed notebooks WITHOUT executing them (nb_execution_mode
"off"), so only what is committed can appear: text outputs and the face-free SVG charts that
tools/notebooks.py kept. tools/build_book.py stages the sources next to this file, refuses any
image output it cannot verify, builds with warnings as errors, then checks every image for
faces and every internal link.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "Face recognition and privacy: the Clearview AI case"
author = "the course authors"
copyright = "the course authors; lesson text CC BY 4.0, code MIT"  # the name Sphinx reads (it shadows the builtin)
language = "en"

extensions = ["myst_nb", "facecourse_site"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "requirements.txt", "README.md"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# --- notebooks: never executed here; the committed outputs are what the site shows
nb_execution_mode = "off"
nb_output_stderr = "show"
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# Notebooks often go from "#" straight to "###"; that is a style matter, not a broken page.
suppress_warnings = ["myst.header"]

# --- HTML: no source copies, no external fonts or scripts
html_theme = "furo"
html_title = "Face recognition and privacy"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {"navigation_with_keys": True}
