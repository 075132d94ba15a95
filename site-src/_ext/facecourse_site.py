"""Sphinx extension of the course site: alt text of notebook figures, and the pages' HTML anchors.

Anchors: the glossary and the sources mark each entry with an HTML anchor, ``<a id="KEY"></a>``,
and the lessons link to ``../docs/glossary.md#KEY``. MyST resolves ``#KEY`` only against
headings and labels, so this extension registers each ``<a id>`` of a page as one of its anchors
(a link to a KEY that no page defines still fails the build).

MyST-NB 1.4 takes only ``width`` and ``height`` from an image output's metadata. The course's
``plots.show`` puts the figure's one-line description in ``metadata["image/svg+xml"]["alt"]``;
this extension copies it onto the ``<img>``, and warns (a build error under ``-W``) about any
notebook image without one.
"""

from __future__ import annotations

import re
from typing import Any

from myst_nb.core.render import NbElementRenderer

_original_render_image = NbElementRenderer.render_image


def _render_image_with_alt(self: NbElementRenderer, data: Any) -> list[Any]:
    nodes = _original_render_image(self, data)
    alt = (data.output_metadata.get(data.mime_type) or {}).get("alt")
    if not alt:
        self.logger.warning(f"notebook image output ({data.mime_type}) has no alt text in its metadata",
                            subtype="image", line=data.line)
    for node in nodes:
        if alt and not node.get("alt"):
            node["alt"] = alt
    return nodes


_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")


def _register_html_anchors(app: Any, doctree: Any) -> None:
    from docutils import nodes

    env = app.env
    slugs = env.metadata[env.docname].setdefault("myst_slugs", {})
    for node in doctree.findall(nodes.raw):
        if node.get("format") == "html":
            for key in _ANCHOR.findall(node.astext()):
                slugs.setdefault(key, (node.line or 0, key, key))


def setup(app: Any) -> dict[str, Any]:
    NbElementRenderer.render_image = _render_image_with_alt
    app.connect("doctree-read", _register_html_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
