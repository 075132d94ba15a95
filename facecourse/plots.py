"""Plotting conventions of the course: readable, colour-blind-safe, and described in words.

Every figure goes through :func:`show`, which displays it with a one-line text alternative.
The text alternative is what a screen reader, a terminal, and the notebook tests see.

Faces never enter a committed notebook; charts may. :func:`show` decides from the figure's own
artists (:func:`photo_artists`) whether it draws pixels of a photo:

* **face-bearing** (any raster image that is not declared data, anything drawn by
  :func:`draw_face` or :func:`image_grid`): shown live as PNG, exactly as before; the strip step
  (``tools/notebooks.py``) removes every PNG/JPEG output, keeping the alt text.
* **face-free** (lines, bars, text, and raster images of numbers made by :func:`heatmap` or
  thinner than :data:`THIN_DATA_LIMIT` values): shown as deterministic SVG (fixed
  ``svg.hashsalt``, no date, ids derived from content) with the alt text in its ``<title>`` and
  in the output metadata, plus a marker ``{"facecourse": {"face_free": true, "svg_sha256": ...}}``.

The strip step keeps an SVG only if :func:`face_free_output_problems` finds nothing wrong: the
marker's digest matches the bytes, and the SVG itself has no script, no external reference, and
no raster image except ones :func:`show` labelled as data (``id="facecourse-data-image-N"``). The
tests add a last check on pixels: dlib's HOG detector (upsample 1) on every committed SVG rendered
to pixels (:func:`faces_in_picture`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.rcsetup import cycler  # the object matplotlib.cycler names, but typed

from . import _text

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: Okabe & Ito's colour-blind-safe palette.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MATED_COLOUR, NONMATED_COLOUR = COLOURS[0], COLOURS[3]

plt.rcParams.update({
    "figure.dpi": 100,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.prop_cycle": cycler(color=COLOURS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.constrained_layout.use": True,
})


#: MIME type of the charts that may be committed.
SVG_MIME = "image/svg+xml"
#: Key of the face-free marker in a display output's metadata (written by :func:`show`).
MARKER_KEY = "facecourse"
#: Version of the marking rule; a marker with another version is not trusted.
MARKER_RULE = 1
#: A 2-D array with fewer rows or columns than this is too thin to hold a recognisable face
#: (dlib's HOG detector scans an 80 x 80 window, so it needs a face about 40 pixels wide even
#: after one upsampling): such an image (a 3 x 128 strip of faceprint values) is data, not a photo.
#: Anything larger is a photo unless drawn with :func:`heatmap`.
THIN_DATA_LIMIT = 16
#: rcParams that make matplotlib's SVG identical byte for byte on every run.
SVG_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "facecourse-figures", "svg.fonttype": "path", "svg.image_inline": True}
#: A collection with more points than this is rasterised in the SVG, at this resolution.
MAX_VECTOR_POINTS = 5000
SVG_RASTER_DPI = 150
_DATA_IMAGE_ID = "facecourse-data-image-{}"
_SVG_IMAGE_ID = re.compile(r'(<image\b[^>]*?\sid=")[^"]*"')
_DATA_IMAGE_ID_RE = re.compile(r"facecourse-data-image-\d+")
_FORBIDDEN_SVG_TAGS = {"script", "foreignObject", "iframe", "object", "embed", "audio", "video", "canvas"}


def _root_figure(fig: Any) -> Any:
    while getattr(fig, "figure", None) is not None and fig.figure is not fig:
        fig = fig.figure
    return fig


def _mark_photo(artist: Any, how: str) -> None:
    """Remember that ``artist`` (and its figure) draws a photo, whatever happens to it later."""
    artist._facecourse_photo = how
    figure = _root_figure(artist.figure if hasattr(artist, "figure") else artist)
    if figure is not None:
        figure._facecourse_photo = how


def _is_data_image(image: Any) -> bool:
    """True for a raster image of numbers: declared by :func:`heatmap`, or a thin 2-D array."""
    if getattr(image, "_facecourse_photo", None):
        return False
    if getattr(image, "_facecourse_data", False):
        return True
    array = image.get_array() if hasattr(image, "get_array") else None
    if array is None:
        return False
    shape = np.shape(array)
    return len(shape) == 2 and min(shape) < THIN_DATA_LIMIT


def photo_artists(fig: matplotlib.figure.Figure) -> list[str]:
    """Why ``fig`` may draw pixels of a photo: one line per reason; empty if it is face-free.

    Every raster artist counts (``AxesImage`` from ``imshow``, ``FigureImage`` from ``figimage``,
    ``BboxImage``/``OffsetImage`` in annotations and legends, ``NonUniformImage``, ``PcolorImage``),
    unless it is data (see :func:`heatmap` and :data:`THIN_DATA_LIMIT`); so does anything drawn by
    :func:`draw_face` or :func:`image_grid`, even if its image was later removed.
    """
    from matplotlib.image import _ImageBase

    reasons = []
    marker = getattr(fig, "_facecourse_photo", None)
    if marker:
        reasons.append(f"drawn with facecourse.plots.{marker}")
    for artist in fig.findobj(include_self=False):
        if isinstance(artist, _ImageBase) and not _is_data_image(artist):
            array = artist.get_array()
            shape = np.shape(array) if array is not None else "?"
            reasons.append(f"{type(artist).__name__} of shape {shape} (a raster image that is not declared "
                           "data: use facecourse.plots.heatmap for a matrix of numbers)")
    return reasons


def heatmap(ax: matplotlib.axes.Axes, values: Any, **imshow_kwargs: Any) -> matplotlib.image.AxesImage:
    """Draw a 2-D array of *numbers* (a matrix, a confusion table) with ``imshow``, declared as data.

    :func:`show` commits such a figure as SVG. It is for numbers only: a photo, a face crop or any
    array of pixels must go through :func:`draw_face` or :func:`image_grid` instead.
    """
    array = np.asarray(values)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"heatmap() draws a 2-D array of numbers; got an array of shape {array.shape} and "
                         f"dtype {array.dtype}. A photo (3-D: height x width x colour) goes through "
                         "plots.draw_face or plots.image_grid, whose figures are never committed.")
    image = ax.imshow(array, **imshow_kwargs)
    # Our own marker on matplotlib's artist, read back with getattr() by _is_data_image.
    image._facecourse_data = True  # type: ignore[attr-defined]
    return image


def _drawn_points(artist: Any) -> int:
    paths = artist.get_paths() if hasattr(artist, "get_paths") else []
    vertices = sum(len(path.vertices) for path in paths)
    offsets = artist.get_offsets() if hasattr(artist, "get_offsets") else []
    return max(vertices, len(offsets))


def render_svg(fig: matplotlib.figure.Figure, alt: str) -> str:
    """``fig`` as SVG text, identical on every run: fixed hash salt, no date, alt text as ``<title>``.

    For a figure without photos only (:func:`show` checks that first). Collections with more
    than :data:`MAX_VECTOR_POINTS` points (an interval band over 20,000 thresholds) are
    rasterised at :data:`SVG_RASTER_DPI`, so a chart stays well under a megabyte. Every raster
    ``<image>`` in the result (data images, rasterised bands, a colorbar's solids) gets the id
    ``facecourse-data-image-N``: the label the strip step looks for.
    """
    from matplotlib.collections import Collection

    for artist in fig.findobj(include_self=False):
        if isinstance(artist, Collection) and _drawn_points(artist) > MAX_VECTOR_POINTS:
            artist.set_rasterized(True)
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight", dpi=SVG_RASTER_DPI, metadata={"Date": None})
    svg = buffer.getvalue()
    counter = iter(range(1_000_000))
    svg, labelled = _SVG_IMAGE_ID.subn(lambda m: f'{m.group(1)}{_DATA_IMAGE_ID.format(next(counter))}"', svg)
    if labelled != svg.count("<image "):
        raise RuntimeError("matplotlib wrote an <image> without an id; facecourse.plots cannot label it")
    tag_end = svg.index(">", svg.index("<svg")) + 1
    title = f'\n <title>{html.escape(alt, quote=False)}</title>'
    return svg[:tag_end] + title + svg[tag_end:]


def svg_digest(svg: str) -> str:
    return hashlib.sha256(svg.encode("utf-8")).hexdigest()


def face_free_marker(svg: str) -> dict[str, Any]:
    """The output metadata entry :func:`show` writes beside a face-free SVG."""
    return {"face_free": True, "rule": MARKER_RULE, "svg_sha256": svg_digest(svg)}


def svg_problems(svg: str) -> list[str]:
    """What makes ``svg`` unfit to commit; empty if it may be committed.

    It must parse as one ``<svg>`` document without entities, scripts, embedded HTML or external
    references, and every ``<image>`` in it must be a data image labelled by :func:`render_svg`.
    """
    import xml.etree.ElementTree as ET

    if "<!ENTITY" in svg:
        return ["declares XML entities"]
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as err:
        return [f"is not well-formed XML ({err})"]
    if root.tag.rsplit("}", 1)[-1] != "svg":
        return [f"root element is <{root.tag}>, not <svg>"]
    problems = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in _FORBIDDEN_SVG_TAGS:
            problems.append(f"contains <{tag}>")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            if local.startswith("on"):
                problems.append(f"<{tag}> has an event handler {local}")
            if (local == "href" and not value.startswith("#")
                    and not (tag == "image" and value.startswith("data:image/png;base64,"))):
                problems.append(f"<{tag}> refers to {value[:40]!r}")
            if re.search(r"url\(\s*(?!#)", value):
                problems.append(f"<{tag}> {local} refers outside the document")
        if tag == "image" and not _DATA_IMAGE_ID_RE.fullmatch(element.get("id", "")):
            problems.append(f"has a raster <image id={element.get('id')!r}> that is not a labelled data image")
        if tag == "style" and re.search(r"url\(\s*(?!#)|@import", element.text or ""):
            problems.append("a <style> refers outside the document")
    return problems


def face_free_output_problems(output: dict[str, Any]) -> list[str]:
    """Why the ``image/svg+xml`` of one notebook output may not be committed; empty if it may.

    The marker written by :func:`show` is trusted only if it is the current rule and its digest
    matches the SVG's bytes, and the SVG itself passes :func:`svg_problems`.
    """
    data = output.get("data", {})
    svg = data.get(SVG_MIME)
    if svg is None:
        return ["has no image/svg+xml"]
    if isinstance(svg, list):
        svg = "".join(svg)
    marker = (output.get("metadata") or {}).get(MARKER_KEY) or {}
    problems = []
    if marker.get("face_free") is not True or marker.get("rule") != MARKER_RULE:
        problems.append("has no face-free marker from facecourse.plots.show (current rule)")
    elif marker.get("svg_sha256") != svg_digest(svg):
        problems.append("its face-free marker does not match its bytes (edited after plots.show?)")
    if not ((output.get("metadata") or {}).get(SVG_MIME) or {}).get("alt"):
        problems.append("has no alt text")
    return problems + svg_problems(svg)


def faces_in_picture(data: bytes | str, mime: str = SVG_MIME, *, upsample: int = 1) -> int:
    """How many faces dlib's HOG detector finds in a picture (SVG rendered to pixels, PNG, JPEG).

    SVG is rendered with CairoSVG at 2x on white (``pip install -r site-src/requirements.txt``).
    """
    import face_recognition
    from PIL import Image

    if mime == SVG_MIME:
        try:
            import cairosvg
        except ImportError as err:
            raise RuntimeError("Rendering SVG to pixels needs CairoSVG: "
                               "`.venv/bin/python -m pip install -r site-src/requirements.txt`.") from err
        text = data.encode("utf-8") if isinstance(data, str) else data
        raw: bytes = cairosvg.svg2png(bytestring=text, scale=2, background_color="white")
    elif isinstance(data, str):
        raw = base64.b64decode(data)
    else:
        raw = data
    with Image.open(io.BytesIO(raw)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, "white")
            image = Image.alpha_composite(background, image)
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    return len(face_recognition.face_locations(pixels, number_of_times_to_upsample=upsample, model="hog"))


def show(fig: matplotlib.figure.Figure, alt: str) -> None:
    """Display ``fig`` in the notebook with ``alt`` as its text alternative, then close it.

    A face-free figure (see :func:`photo_artists`) is displayed as deterministic SVG with a
    face-free marker, and may be committed. A figure that draws a photo is displayed as PNG,
    which the strip step always removes from committed notebooks. Without a picture-capable
    frontend (tests, terminals) only ``Figure: <alt>`` appears.
    """
    if not alt or len(alt) < 15:
        raise ValueError("Give every figure a one-line description of what it shows (alt text).")
    photos = photo_artists(fig)
    try:
        if photos:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", bbox_inches="tight")
            payload = {"image/png": base64.b64encode(buffer.getvalue()).decode()}
            metadata = {"image/png": {"alt": alt}, MARKER_KEY: {"face_free": False}}
        else:
            svg = render_svg(fig, alt)
            payload = {SVG_MIME: svg}
            metadata = {SVG_MIME: {"alt": alt}, MARKER_KEY: face_free_marker(svg)}
    finally:
        plt.close(fig)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display on
        print(f"Figure: {alt}")
        return
    if get_ipython() is None:
        print(f"Figure: {alt}")
        return
    display({**payload, "text/plain": f"Figure: {alt}"}, raw=True, metadata=metadata)


def image_grid(images: Sequence[np.ndarray], captions: Sequence[str], *, ncols: int = 4,
               size: float = 2.2, title: str | None = None) -> matplotlib.figure.Figure:
    """A grid of images with a caption under each (e.g. a contact sheet with attributions)."""
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (image, caption) in enumerate(zip(images, captions, strict=True)):  # one caption per image
        ax = axes.flat[k]  # the last row may have empty cells
        _mark_photo(ax.imshow(image), "image_grid")
        ax.set_title(caption, fontsize=8)
    _mark_photo(fig, "image_grid")
    if title:
        fig.suptitle(title)
    return fig


def draw_face(ax: matplotlib.axes.Axes, image: np.ndarray, box: Sequence[int] | None = None,
              landmarks: np.ndarray | None = None, *, label: str | None = None) -> None:
    """Show ``image`` with a detection box (top, right, bottom, left) and landmark points.

    The figure is marked as drawing a photo: :func:`show` never lets it into a committed notebook.
    """
    _mark_photo(ax.imshow(image), "draw_face")
    ax.axis("off")
    if box is not None:
        top, right, bottom, left = box
        ax.add_patch(matplotlib.patches.Rectangle((left, top), right - left, bottom - top, fill=False,
                                                  edgecolor=COLOURS[1], linewidth=2))
    if landmarks is not None and len(landmarks):
        ax.scatter(landmarks[:, 0], landmarks[:, 1], s=6, c=COLOURS[5], edgecolors="none")
    if label:
        ax.set_title(label, fontsize=9)


# ---------------------------------------------------------------------------------------------
# Detection figures (lesson 01): face-detection rates under damage, landmark errors
# ---------------------------------------------------------------------------------------------

#: Which panel of :func:`plot_detection_rates` each kind of condition goes in (darken and low
#: light share one, so that a clean and a noisy sensor can be compared at the same light level).
DETECTION_PANELS: dict[str, str] = {
    "resolution": "Resolution", "blur": "Blur", "darken": "Light", "lowlight": "Light",
    "jpeg": "JPEG compression", "rotate": "In-plane rotation", "occlude": "Lower face covered",
}
_SERIES_LABELS = {"darken": "darker, noise-free sensor", "lowlight": "low light, noisy sensor"}
_LOG_KINDS = {"resolution", "darken", "lowlight", "jpeg"}
#: Kinds whose *smaller* level is the more severe one, so their axis is reversed: the kinds with
#: ``smaller_is_worse`` in ``degrade.DEGRADATIONS`` (a test keeps the two in step; display code
#: does not import the image pipeline).
_SMALLER_IS_WORSE = frozenset({"resolution", "darken", "jpeg"})


def ci_label(confidences: Iterable[float], what: str = "CI") -> str:
    """How a plot names its intervals: one level for all rows, or every level when they differ.

    >>> ci_label([0.95, 0.95]), ci_label([0.9, 0.95], "Wilson CI")
    ('95% CI', 'Wilson CI (90%, 95%)')
    """
    levels = [_text.confidence_label(c) for c in sorted({float(c) for c in confidences})]
    return f"{levels[0]} {what}" if len(levels) == 1 else f"{what} ({', '.join(levels)})"


def plot_detection_rates(rows: Sequence[Any], *, title: str, baseline_kind: str = "none") -> Any:
    """Detection rate against degradation level, one panel per kind, with each row's Wilson interval.

    ``rows`` are the ``DetectionRate`` rows of ``detection.detection_table`` (anything with ``kind``,
    ``level``, ``unit``, ``detected``, ``total``, ``rate``, ``rate_ci`` and ``confidence``).

    The error bars are the rows' own Wilson intervals (``DetectionRate.confidence``, 95 % by
    default); the legend's title names the level(s).

    The x-axis of every panel runs from mild (left) to severe (right): axes whose smaller values
    are worse (resolution, light, JPEG quality) are reversed, and levels spanning a factor of 10
    or more are on a log scale. The baseline (``baseline_kind``) is drawn as a dashed line with
    its interval as a band. Returns the matplotlib figure; show it with ``plots.show(fig, alt)``.
    """
    base = [r for r in rows if r.kind == baseline_kind]
    panels: dict[str, dict[str, list[Any]]] = {}
    for r in rows:
        if r.kind == baseline_kind:
            continue
        if r.kind not in DETECTION_PANELS:
            raise ValueError(f"No panel for condition kind '{r.kind}'; known kinds: {sorted(DETECTION_PANELS)}")
        panels.setdefault(DETECTION_PANELS[r.kind], {}).setdefault(r.kind, []).append(r)
    ncols = 3
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.5 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (panel, series) in zip(axes.flat, panels.items(), strict=False):  # more axes than panels
        if base:
            b = base[0]
            ax.axhline(100 * b.rate, color=COLOURS[7], linestyle="--", linewidth=1,
                       label=f"undegraded ({b.detected}/{b.total})")
            ax.axhspan(100 * b.rate_ci[0], 100 * b.rate_ci[1], color=COLOURS[7], alpha=0.08, linewidth=0)
        for k, (kind, items) in enumerate(series.items()):
            items = sorted(items, key=lambda r: r.level)
            x = np.array([r.level for r in items])
            y = np.array([100 * r.rate for r in items])
            lo = np.array([100 * r.rate_ci[0] for r in items])
            hi = np.array([100 * r.rate_ci[1] for r in items])
            ax.errorbar(x, y, yerr=[y - lo, hi - y], marker="o", markersize=4, capsize=3,
                        color=COLOURS[k if len(series) > 1 else 0], label=_SERIES_LABELS.get(kind, kind))
        first = next(iter(series))
        levels = sorted({r.level for items in series.values() for r in items})
        if first in _LOG_KINDS:
            ax.set_xscale("log")
            ax.minorticks_off()
        ax.set_xticks(levels, [f"{v:g}" for v in levels], fontsize=8)
        if first in _SMALLER_IS_WORSE:
            ax.invert_xaxis()
        unit = series[first][0].unit
        ax.set_xlabel(f"{unit}\n(more severe to the right)", fontsize=9)
        ax.set_ylabel("faces detected (%)")
        ax.set_ylim(-3, 103)
        ax.set_title(panel)
        ax.legend(fontsize=7, loc="lower left", title=f"bars: {ci_label((r.confidence for r in rows), 'Wilson CI')}",
                  title_fontsize=7)
    fig.suptitle(title)
    return fig


def plot_landmark_errors(summary: Sequence[Any], *, title: str) -> Any:
    """Horizontal bars of the mean landmark error with error bars, in pixels and in % IOD.

    ``summary`` is ``landmarks.LandmarkErrors.summary()`` (rows with ``name``, ``mean_px``,
    ``ci_px``, ``mean_iod``, ``ci_iod`` and ``confidence``).

    The error bars are each summary row's interval of the mean (its ``confidence``, 95 % by
    default, named in the axis labels).
    """
    if not summary:
        raise ValueError("summary is empty: pass landmarks.LandmarkErrors.summary()")
    names = [s.name for s in summary]
    y = np.arange(len(names))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.35 * len(names) + 1.6), sharey=True)
    for ax, values, cis, colour, label in (
        (left, [s.mean_px for s in summary], [s.ci_px for s in summary], COLOURS[0],
         "mean distance to the hand-placed point (pixels, 1350 px photos)"),
        (right, [100 * s.mean_iod for s in summary], [(100 * a, 100 * b) for a, b in (s.ci_iod for s in summary)],
         COLOURS[1], "mean distance (% of the inter-ocular distance)"),
    ):
        v = np.array(values)
        err = np.array([[m - lo, hi - m] for m, (lo, hi) in zip(v, cis, strict=True)]).T
        ax.barh(y, v, xerr=err, color=colour, capsize=3)
        ax.set_xlabel(f"{label}\nbars: {ci_label(s.confidence for s in summary)} of the mean")
        ax.set_xlim(left=0)
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_ylabel("landmark")
    fig.suptitle(title)
    return fig
