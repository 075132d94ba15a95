"""Faces never reach a committed notebook; face-free charts do, as deterministic SVG.

``facecourse.plots.show`` decides from a figure's artists whether it draws a photo; the strip
step (``tools/notebooks.py``) keeps an SVG only if it can verify the marker ``show`` wrote; and a
face detector looks at every committed chart rendered to pixels. These tests break each link of
that chain on purpose: a consenting photo drawn with a plain ``imshow``, a forged or edited
marker, a raster image smuggled into an SVG.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

from conftest import ROOT

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from facecourse import plots

sys.path.insert(0, str(ROOT / "tools"))
import notebooks

sys.path.remove(str(ROOT / "tools"))

ALT = "A test chart: two points joined by a rising line."


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What plots.show sends to the notebook frontend, as nbformat display_data outputs."""
    import IPython
    import IPython.display

    outputs: list[dict[str, Any]] = []

    def display(data: dict, raw: bool = False, metadata: dict | None = None) -> None:
        assert raw
        outputs.append({"output_type": "display_data", "data": copy.deepcopy(data),
                        "metadata": copy.deepcopy(metadata or {})})

    class Shell:  # enough of an IPython shell for plots.show and for pyplot's display hook
        class events:
            @staticmethod
            def register(*args: Any) -> None:
                pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    monkeypatch.setattr(IPython.display, "display", display)
    return outputs


def line_chart() -> matplotlib.figure.Figure:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0.2, 0.8], [0.1, 0.9], label="rising")
    ax.set_xlabel("threshold")
    ax.legend()
    return fig


def notebook_with(*outputs: dict[str, Any]) -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plots.show(fig, ALT)")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [cell]
    return nb


@pytest.fixture(scope="module")
def consenting_photo(images_ready: Path) -> np.ndarray:
    """A London Set participant's verified photo (consent for research and illustration)."""
    from facecourse.dataset import load_photo
    from facecourse.manifest import load_manifest

    return load_photo(load_manifest()["london-002-neutral"])


# ---------------------------------------------------------------------------------------------
# Deciding from the artists
# ---------------------------------------------------------------------------------------------


def test_a_chart_of_numbers_is_face_free() -> None:
    fig = line_chart()
    fig.axes[0].bar([0.3, 0.5], [0.2, 0.4])
    fig.axes[0].fill_between([0, 1], [0, 0.5], [0.2, 0.7], alpha=0.2)
    assert plots.photo_artists(fig) == []
    plt.close(fig)


@pytest.mark.parametrize("how", ["imshow", "imshow-gray", "figimage", "offsetimage", "draw_face", "image_grid"])
def test_every_way_of_drawing_pixels_counts_as_a_photo(how: str) -> None:
    pixels = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    fig, ax = plt.subplots()
    if how == "imshow":
        ax.imshow(pixels)
    elif how == "imshow-gray":  # a grey photo is a 2-D array: still a photo unless declared data
        ax.imshow(pixels[..., 0], cmap="gray")
    elif how == "figimage":
        fig.figimage(pixels)
    elif how == "offsetimage":
        ax.add_artist(AnnotationBbox(OffsetImage(pixels, zoom=0.5), (0.5, 0.5)))
    elif how == "draw_face":
        plots.draw_face(ax, pixels, (10, 50, 50, 10))
    else:
        plt.close(fig)
        fig = plots.image_grid([pixels, pixels], ["a", "b"], ncols=2)
    assert plots.photo_artists(fig), f"{how} draws pixels but was judged face-free"
    plt.close(fig)


def test_the_drawing_helpers_mark_the_figure_even_if_the_image_is_removed() -> None:
    fig, ax = plt.subplots()
    plots.draw_face(ax, np.zeros((50, 50, 3), dtype=np.uint8))
    ax.images[0].remove()
    assert plots.photo_artists(fig) == ["drawn with facecourse.plots.draw_face"]
    plt.close(fig)


def test_heatmaps_of_numbers_are_data_and_heatmap_refuses_a_photo() -> None:
    fig, ax = plt.subplots()
    plots.heatmap(ax, np.random.default_rng(2).normal(size=(40, 40)), cmap="PuOr")
    ax.imshow(np.random.default_rng(3).normal(size=(3, 128)), aspect="auto")  # too thin to hold a face
    fig.colorbar(ax.images[0], ax=ax)  # a colorbar's solids are rasterised in SVG
    assert plots.photo_artists(fig) == []
    svg = plots.render_svg(fig, "Two heat maps of random numbers with a colour bar.")
    assert svg.count("<image ") >= 2 and plots.svg_problems(svg) == []
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"2-D array of numbers.*draw_face"):
        plots.heatmap(ax, np.zeros((40, 40, 3)))
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# show -> strip
# ---------------------------------------------------------------------------------------------


def test_a_chart_is_shown_as_deterministic_marked_svg(shown: list[dict[str, Any]]) -> None:
    plots.show(line_chart(), ALT)
    (out,) = shown
    assert sorted(out["data"]) == ["image/svg+xml", "text/plain"]
    assert out["data"]["text/plain"] == f"Figure: {ALT}"
    assert out["metadata"]["image/svg+xml"] == {"alt": ALT}
    assert plots.face_free_output_problems(out) == []
    svg = out["data"]["image/svg+xml"]
    assert f"<title>{ALT}</title>" in svg and "<dc:date>" not in svg
    plots.show(line_chart(), ALT)
    assert shown[1]["data"]["image/svg+xml"] == svg  # same figure, same bytes


def test_svg_bytes_are_identical_in_separate_processes(tmp_path: Path) -> None:
    """Hash randomisation and the clock must not reach the SVG (matplotlib's ids, dates)."""
    script = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt, numpy as np\n"
              "from facecourse import plots\n"
              "fig, ax = plt.subplots(); x = np.linspace(0, 1, 9000)\n"
              "ax.fill_between(x, x**2, x, alpha=0.2); ax.plot(x, x); plots.heatmap(ax, np.eye(20))\n"
              "import sys; sys.stdout.write(plots.render_svg(fig, 'a chart to compare byte for byte'))\n")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1]
    assert 'id="facecourse-data-image-0"' in runs[0]  # the rasterised band (9,000 points) is labelled


def test_a_consenting_photo_drawn_with_imshow_is_never_committed(consenting_photo: np.ndarray,
                                                                 shown: list[dict[str, Any]]) -> None:
    """The rule that protects consent: a photo goes out as PNG only, and strip removes it."""
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(consenting_photo)  # a plain imshow, no course helper: the artist itself gives it away
    plots.show(fig, "One London Set participant's photo, drawn with a plain imshow.")
    (out,) = shown
    assert "image/svg+xml" not in out["data"] and "image/png" in out["data"]
    assert out["metadata"]["facecourse"] == {"face_free": False}
    nb = notebook_with(out)
    assert notebooks.strip_images(nb) == 1
    assert nb.cells[0].outputs[0]["data"] == {"text/plain": out["data"]["text/plain"]}
    assert nb.cells[0].outputs[0]["metadata"] == {}


def test_strip_keeps_a_verified_chart_and_drops_everything_it_cannot_verify(shown: list[dict[str, Any]]) -> None:
    plots.show(line_chart(), ALT)
    good = shown[0]
    svg = good["data"]["image/svg+xml"]
    photo = ('<image xlink:href="data:image/png;base64,iVBORw0KGgo=" id="image1a2b" x="0" y="0" '
             'width="10" height="10"/>')
    forged_photo = svg.replace("</svg>", photo + "</svg>")
    broken = {
        "no marker": {**good, "metadata": {"image/svg+xml": {"alt": ALT}}},
        "edited after show": {**good, "data": {**good["data"], "image/svg+xml": svg.replace("rising", "falling")}},
        "unlabelled raster, re-signed": {**good, "data": {**good["data"], "image/svg+xml": forged_photo},
                                         "metadata": {**good["metadata"],
                                                      "facecourse": plots.face_free_marker(forged_photo)}},
        "external reference, re-signed": {**good, "data": {**good["data"], "image/svg+xml": svg.replace(
            "</svg>", '<image xlink:href="https://example.org/face.jpg" id="facecourse-data-image-9"/></svg>')}},
        "png beside the svg": {**good, "data": {**good["data"], "image/png": "iVBORw0KGgo="}},
        "no alt text": {**good, "metadata": {"facecourse": good["metadata"]["facecourse"]}},
    }
    ext = broken["external reference, re-signed"]
    ext["metadata"] = {**good["metadata"], "facecourse": plots.face_free_marker(ext["data"]["image/svg+xml"])}
    for name, out in broken.items():
        nb = notebook_with(copy.deepcopy(good), copy.deepcopy(out))
        notebooks.strip_images(nb)
        kept = [o for o in nb.cells[0].outputs if any(k.startswith("image/") for k in o["data"])]
        if name == "png beside the svg":  # the PNG goes; the verified SVG beside it may stay
            assert [sorted(o["data"]) for o in kept] == [["image/svg+xml", "text/plain"]] * 2, name
        else:
            assert len(kept) == 1 and kept[0]["data"]["image/svg+xml"] == svg, name
        assert all(o["data"]["text/plain"] == f"Figure: {ALT}" for o in nb.cells[0].outputs), name


def test_tidy_metadata_names_the_python3_kernel() -> None:
    nb = notebook_with()
    nb.metadata.pop("kernelspec", None)
    nb.metadata["widgets"] = {"state": {}}
    notebooks.strip_images(nb)
    assert nb.metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                         "name": "python3"}
    assert "widgets" not in nb.metadata


# ---------------------------------------------------------------------------------------------
# Pixels: the face detector on every committed chart
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rasteriser() -> None:
    """CairoSVG comes with the site's requirements; CI installs them, so there it must be present."""
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError) as err:
        message = (f"CairoSVG is not usable ({err}): `.venv/bin/python -m pip install -r site-src/requirements.txt` "
                   "(and the system's libcairo2)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_the_face_check_finds_a_face_when_a_photo_is_forced_into_svg(rasteriser: None,
                                                                      consenting_photo: np.ndarray) -> None:
    """Proof that the pixel check can fail: the same photo, deliberately rendered as SVG."""
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(consenting_photo)
    ax.axis("off")
    svg = plots.render_svg(fig, "A photo forced into SVG to test the face check.")  # bypasses show's rule
    plt.close(fig)
    assert plots.faces_in_picture(svg) >= 1
    fig = line_chart()
    assert plots.faces_in_picture(plots.render_svg(fig, ALT)) == 0
    plt.close(fig)


def test_no_committed_image_shows_a_face(rasteriser: None) -> None:
    """dlib's HOG detector (upsample 1) on every committed image output rendered to pixels."""
    found = []
    for f in _git_notebooks():
        nb = json.loads((ROOT / f).read_text())
        for i, cell in enumerate(nb["cells"]):
            for out in cell.get("outputs", []):
                for mime, data in out.get("data", {}).items():
                    if mime.startswith("image/"):
                        text = "".join(data) if isinstance(data, list) else data
                        if plots.faces_in_picture(text, mime):
                            found.append(f"{f} cell {i} ({mime})")
    assert found == [], f"The face detector finds a face in committed outputs: {found}"


def _git_notebooks() -> list[str]:
    from conftest import git_files

    return [f for f in git_files() if f.endswith(".ipynb")]


def test_strip_stores_one_print_split_by_the_kernel_as_one_stream() -> None:
    """The kernel may deliver one print in two messages; stored as one, re-runs give no diff."""
    import nbformat

    nb = notebook_with(nbformat.v4.new_output("stream", name="stdout", text="a, b: 1"),
                       nbformat.v4.new_output("stream", name="stdout", text="\n"),
                       nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                       nbformat.v4.new_output("stream", name="stdout", text="c\n"))
    notebooks.strip_images(nb)
    assert [(o["name"], o["text"]) for o in nb.cells[0].outputs] == [
        ("stdout", "a, b: 1\n"), ("stderr", "warning\n"), ("stdout", "c\n")]
