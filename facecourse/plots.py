"""Plotting conventions of the course: readable, colour-blind-safe, and described in words.

Every figure goes through :func:`show`, which displays it with a one-line text alternative.
The text alternative is what a screen reader, a terminal, and the notebook tests see; the
picture itself is never stored in a committed notebook (it may show a face).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: Okabe & Ito's colour-blind-safe palette.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MATED_COLOUR, NONMATED_COLOUR = COLOURS[0], COLOURS[3]

plt.rcParams.update({
    "figure.dpi": 100,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.prop_cycle": matplotlib.cycler(color=COLOURS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.constrained_layout.use": True,
})


def show(fig: matplotlib.figure.Figure, alt: str) -> None:
    """Display ``fig`` in the notebook with ``alt`` as its text alternative, then close it.

    In JupyterLab the picture is shown with the alt text as its ``alt`` attribute; without a
    picture-capable frontend (tests, terminals) only ``Figure: <alt>`` appears.
    """
    if not alt or len(alt) < 15:
        raise ValueError("Give every figure a one-line description of what it shows (alt text).")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
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
    png = base64.b64encode(buffer.getvalue()).decode()
    display({"image/png": png, "text/plain": f"Figure: {alt}"}, raw=True,
            metadata={"image/png": {"alt": alt}})


def image_grid(images: Sequence[np.ndarray], captions: Sequence[str], *, ncols: int = 4,
               size: float = 2.2, title: str | None = None) -> matplotlib.figure.Figure:
    """A grid of images with a caption under each (e.g. a contact sheet with attributions)."""
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image)
        ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def draw_face(ax: matplotlib.axes.Axes, image: np.ndarray, box: Sequence[int] | None = None,
              landmarks: np.ndarray | None = None, *, label: str | None = None) -> None:
    """Show ``image`` with a detection box (top, right, bottom, left) and landmark points."""
    ax.imshow(image)
    ax.axis("off")
    if box is not None:
        top, right, bottom, left = box
        ax.add_patch(matplotlib.patches.Rectangle((left, top), right - left, bottom - top, fill=False,
                                                  edgecolor=COLOURS[1], linewidth=2))
    if landmarks is not None and len(landmarks):
        ax.scatter(landmarks[:, 0], landmarks[:, 1], s=6, c=COLOURS[5], edgecolors="none")
    if label:
        ax.set_title(label, fontsize=9)
