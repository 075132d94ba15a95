"""Where dlib puts the landmarks, compared with a human: WebMorph templates and landmark errors.

Lesson 01 uses this module for the second half of its look at the first step of the pipeline.
The London Set ships hand-placed WebMorph templates (``.tem`` files, read by :func:`parse_tem` /
:func:`load_template`). :data:`LANDMARK_PAIRS` says which of the 189 template points correspond
to which of dlib's 68 points, and :func:`landmark_errors` measures the distance between them, in
pixels and as a share of the inter-ocular distance.

Left and right
--------------
Both dlib's 68-point scheme as ``face_recognition`` names it (``left_eye`` = points 36-41) and
the Face Research Lab template ("left pupil" = point 0) say *left* for the side that is on the
**left of the image**, which is the person's own right. This module does the same.

The correspondence between dlib's 68 points and the FRL 189-point template
--------------------------------------------------------------------------
The FRL template definition (webmorphR, ``inst/extdata/tem_defs/FRL.csv``, github.com/debruine/
webmorphR) names every point: 0 "left pupil", 1 "right pupil", 18/22 "outside/inside corner of
left eye", 23/27 "inside/outside corner of right eye", 54/60 "left/right side of tip of nose (most
bulbous part)", 55 "bottom-centre of nose", 87/93 "left/right corner of the mouth", 90 "centre of
top of upper lip", 106 "centre of bottom of lower lip", 129 "bottom centre of the chin". dlib's
68-point model follows the iBUG 300-W markup: 8 chin, 30 nose tip, 33 nose base, 36/39 outer/inner
corner of the left eye, 42/45 inner/outer corner of the right eye, 48/54 mouth corners, 51/57
top/bottom centre of the lips.

We checked the pairing on the data, not only on the names. For each of the 102 London Set neutral
photos we took dlib's 68 points (HOG detection at 512 px, landmarks on the full 1350 px photo:
the course's default ``EncodingParams``) and asked, for each pair, whether the paired hand-placed
location is nearer to dlib's point than every other one of the 189 hand-placed points
(:func:`correspondence_check`; lesson 01 recomputes and prints it). Photos, out of 102, in which
it is (measured 2026-11-26, dlib 20, face_recognition_models 0.3.0):

======================  ===========  ===========  =====  =====================================
landmark                dlib point   FRL point    wins   otherwise nearest (FRL name)
======================  ===========  ===========  =====  =====================================
left eye centre         mean 36-41   0            81     6 "bottom of left iris"
right eye centre        mean 42-47   1            84     14 "bottom of right iris"
left eye outer corner   36           18           100    19 "top-left of left eye"
left eye inner corner   39           22           102
right eye inner corner  42           23           102
right eye outer corner  45           27           101    33 "bottom-right of right eye"
nose tip                30           mean 54, 60  102
nose base               33           55           102
left mouth corner       48           87           102
right mouth corner      54           93           102
upper lip centre        51           90           102
lower lip centre        57           106          102
chin                    8            129          101    175 "bottom of chin dimple"
======================  ===========  ===========  =====  =====================================

Two pairs are not one point to one point:

* **nose tip**: the FRL template has no midline tip point, only the left and right sides of the
  tip (54, 60). dlib's point 30, compared with single points, is nearest to 54 in 57 photos and
  to 60 in 42 (99 of 102 in all): it sits between them, so it is paired with their midpoint.
* **eye centres**: dlib has no pupil point; the usual eye centre is the mean of the six eyelid
  points (36-41, 42-47), paired with the hand-placed pupil (0, 1). The mean of the eyelid points
  lies about 7-8 px *below* the pupil on average (the upper lid covers the top of the iris), which
  is why the bottom of the iris sometimes wins: part of that "error" is a difference of definition.

Everything here is vectorised over photos (arrays of shape ``(n_photos, n_points, 2)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _text
from .dataset import read_verified
from .errors import CourseError
from .manifest import Manifest, ManifestEntry, load_manifest

__all__ = [
    "INTER_OCULAR_POINTS",
    "LANDMARK_PAIRS",
    "LandmarkErrorSummary",
    "LandmarkErrors",
    "LandmarkPair",
    "Template",
    "TemplateError",
    "correspondence_check",
    "landmark_errors",
    "load_template",
    "load_templates",
    "nearest_reference_points",
    "paired_points",
    "parse_tem",
]


class TemplateError(CourseError, ValueError):
    """A WebMorph template (.tem) could not be read; the message says where and why."""


# ---------------------------------------------------------------------------------------------
# WebMorph templates (.tem): hand-placed landmarks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Template:
    """A WebMorph template: ``points`` is an ``(n, 2)`` array of (x, y) pixel coordinates and
    ``lines`` the point indices of each line drawn between them (may be empty)."""

    points: np.ndarray
    lines: tuple[tuple[int, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.points)


def parse_tem(text: str | bytes, *, name: str = "the template") -> Template:
    """Read a WebMorph ``.tem`` file.

    The format: the first line holds the number of points *n*; the next *n* lines hold ``x y``
    (tab- or space-separated, decimals allowed). Optionally, a line section follows: the number
    of lines, then for each line a flag (always 0 in the course's files; not interpreted), the
    number of points in it, and their indices. Blank lines, Windows line ends and a missing line
    section are accepted; anything else that does not fit raises :class:`TemplateError` saying
    which line is wrong.

    >>> t = parse_tem("2\\n10.5\\t20\\n30 40\\n1\\n0\\n2\\n0 1\\n")
    >>> t.points.tolist(), t.lines
    ([[10.5, 20.0], [30.0, 40.0]], ((0, 1),))
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise TemplateError(f"{name} is not a text file ({err}); a .tem file is plain text.") from None
    rows = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise TemplateError(f"{name} is empty; a .tem file starts with its number of points.")
    first_line, head = rows[0]
    try:
        n = int(head.split()[0])
    except ValueError:
        raise TemplateError(f"{name}, line {first_line}: expected the number of points, found {head!r}.") from None
    if n < 1:
        raise TemplateError(f"{name}, line {first_line}: the number of points must be positive, got {n}.")
    if len(rows) < 1 + n:
        raise TemplateError(f"{name} announces {n} points but has only {len(rows) - 1} more non-empty lines.")
    points = np.empty((n, 2), dtype=np.float64)
    for k, (number, line) in enumerate(rows[1:1 + n]):
        fields = line.replace(",", " ").split()
        try:
            if len(fields) != 2:
                raise ValueError
            points[k] = (float(fields[0]), float(fields[1]))
        except ValueError:
            raise TemplateError(f"{name}, line {number}: point {k} should be two numbers 'x y', "
                                f"found {line!r}.") from None
    if not np.all(np.isfinite(points)):
        raise TemplateError(f"{name}: some point coordinates are not finite numbers.")
    return Template(points, _parse_lines(rows[1 + n:], n, name))


def _parse_lines(rows: list[tuple[int, str]], n_points: int, name: str) -> tuple[tuple[int, ...], ...]:
    """The optional line section after the points (whitespace between numbers may include newlines)."""
    if not rows:
        return ()
    where = f"{name}, lines {rows[0][0]}-{rows[-1][0]} (the line section after the points)"
    try:
        tokens = [int(tok) for _, line in rows for tok in line.split()]
    except ValueError:
        raise TemplateError(f"{where}: expected whole numbers only.") from None
    n_lines, pos, lines = tokens[0], 1, []
    for _ in range(n_lines):
        if pos + 2 > len(tokens):
            break
        count = tokens[pos + 1]
        indices = tokens[pos + 2:pos + 2 + count]
        if count < 0 or len(indices) != count:
            break
        lines.append(tuple(indices))
        pos += 2 + count
    if len(lines) != n_lines or pos != len(tokens):
        raise TemplateError(f"{where}: announces {n_lines} lines but its numbers do not add up to that; "
                            "the file may be truncated or hand-edited.")
    bad = sorted({i for line in lines for i in line if not 0 <= i < n_points})
    if bad:
        raise TemplateError(f"{where}: lines refer to point(s) {bad[:5]}, but there are only {n_points} points.")
    return tuple(lines)


def load_template(photo: ManifestEntry, *, manifest: Manifest | None = None) -> Template:
    """The hand-placed template shipped with a manifest photo (verified bytes, consent checked)."""
    manifest = load_manifest() if manifest is None else manifest
    return _load_template(photo, manifest)


def load_templates(photos: Sequence[ManifestEntry], *, manifest: Manifest | None = None) -> np.ndarray:
    """The templates' points of many photos as one ``(n_photos, n_points, 2)`` array."""
    manifest = load_manifest() if manifest is None else manifest
    templates = [_load_template(p, manifest) for p in photos]
    sizes = sorted({len(t) for t in templates})
    if len(sizes) > 1:
        raise TemplateError(f"These photos use templates of different sizes ({sizes} points); compare "
                            "photos of one set at a time (e.g. manifest.photos('london_neutral')).")
    return np.stack([t.points for t in templates]) if templates else np.empty((0, 0, 2))


def _load_template(photo: ManifestEntry, manifest: Manifest) -> Template:
    """One template: its consent check (in ``manifest.landmarks_for``, once), then its verified bytes."""
    tem = manifest.landmarks_for(photo)
    if tem is None:
        raise TemplateError(f"'{photo.file_id}' has no hand-placed template in the manifest (only the "
                            "London Set, the composites and the lisa/zoom photos do).")
    return parse_tem(read_verified(tem), name=tem.path)


# ---------------------------------------------------------------------------------------------
# dlib's 68 points against the hand-placed FRL template
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandmarkPair:
    """One landmark located by both schemes: the mean of ``dlib`` points vs the mean of ``frl`` points."""

    name: str
    dlib: tuple[int, ...]
    frl: tuple[int, ...]


#: Corresponding landmarks (see the module docstring for the evidence). "left" = left in the image.
LANDMARK_PAIRS: tuple[LandmarkPair, ...] = (
    LandmarkPair("left eye centre", (36, 37, 38, 39, 40, 41), (0,)),
    LandmarkPair("right eye centre", (42, 43, 44, 45, 46, 47), (1,)),
    LandmarkPair("left eye outer corner", (36,), (18,)),
    LandmarkPair("left eye inner corner", (39,), (22,)),
    LandmarkPair("right eye inner corner", (42,), (23,)),
    LandmarkPair("right eye outer corner", (45,), (27,)),
    LandmarkPair("nose tip", (30,), (54, 60)),
    LandmarkPair("nose base", (33,), (55,)),
    LandmarkPair("left mouth corner", (48,), (87,)),
    LandmarkPair("right mouth corner", (54,), (93,)),
    LandmarkPair("upper lip centre", (51,), (90,)),
    LandmarkPair("lower lip centre", (57,), (106,)),
    LandmarkPair("chin", (8,), (129,)),
)

#: The FRL points whose distance normalises the errors: the two hand-placed pupil centres.
INTER_OCULAR_POINTS: tuple[int, int] = (0, 1)


def _as_point_sets(points: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (n_photos, n_points, 2) or (n_points, 2) of x, y; "
                         f"got {np.shape(points)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite coordinates (was a face not detected?)")
    return arr


def _averaging_matrix(groups: Sequence[Sequence[int]], n_points: int, name: str) -> np.ndarray:
    """W with W[k, i] = 1/len(group k) for i in group k, so W @ points = the groups' mean points."""
    w = np.zeros((len(groups), n_points))
    for k, group in enumerate(groups):
        if not group or min(group) < 0 or max(group) >= n_points:
            raise ValueError(f"{name}: point indices {tuple(group)} do not fit a scheme of {n_points} points")
        w[k, list(group)] = 1.0 / len(group)
    return w


def _paired_points(dlib68: np.ndarray, reference: np.ndarray,
                   pairs: Sequence[LandmarkPair]) -> tuple[np.ndarray, np.ndarray]:
    a = _averaging_matrix([p.dlib for p in pairs], dlib68.shape[1], "dlib points")
    b = _averaging_matrix([p.frl for p in pairs], reference.shape[1], "template points")
    return np.einsum("ki,nid->nkd", a, dlib68), np.einsum("ki,nid->nkd", b, reference)


def paired_points(dlib68: ArrayLike, reference: ArrayLike, *,
                  pairs: Sequence[LandmarkPair] = LANDMARK_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """Both locations of every paired landmark: two ``(n_photos, len(pairs), 2)`` arrays (dlib, template).

    A pair's location is the mean of its points (one matrix product per scheme, no loop over photos).

    >>> d, r = paired_points([[[0, 0], [2, 0]]], [[[0, 2], [4, 2]]], pairs=[LandmarkPair("mid", (0, 1), (0, 1))])
    >>> d.tolist(), r.tolist()
    ([[[1.0, 0.0]]], [[[2.0, 2.0]]])
    """
    d = _as_point_sets(dlib68, "dlib68")
    r = _as_point_sets(reference, "reference")
    _check_same_photos(d, r)
    return _paired_points(d, r, pairs)


def _check_same_photos(dlib68: np.ndarray, reference: np.ndarray) -> None:
    if dlib68.shape[0] != reference.shape[0]:
        raise ValueError(f"dlib68 has {dlib68.shape[0]} photos but reference has {reference.shape[0]}; "
                         "pass the same photos in the same order")


def nearest_reference_points(dlib68: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """For every photo and every dlib point, the index of the nearest template point: ``(n, 68)``.

    >>> nearest_reference_points([[[0, 0], [10, 0]]], [[[9, 1], [1, 1], [50, 50]]]).tolist()
    [[1, 0]]
    """
    d = _as_point_sets(dlib68, "dlib68")
    r = _as_point_sets(reference, "reference")
    _check_same_photos(d, r)
    distances = np.linalg.norm(d[:, :, None, :] - r[:, None, :, :], axis=-1)
    return distances.argmin(axis=-1)


def correspondence_check(dlib68: ArrayLike, reference: ArrayLike, *,
                         pairs: Sequence[LandmarkPair] = LANDMARK_PAIRS) -> list[dict[str, Any]]:
    """For each pair, in how many photos the paired template location is the nearest one.

    For each photo, the pair's dlib location (mean of its dlib points) is compared with every
    template point *not* in the pair and with the pair's own template location (mean of its
    template points); the pair "wins" in that photo when its own location is nearest. A pair
    that wins in (nearly) every photo is a consistent correspondence; one that wins in few is
    not. Returns one dict per pair: name, dlib, frl, ``wins``, ``photos``, and ``runner_up``, the
    template point most often nearest when the pair does not win (or None).
    """
    d = _as_point_sets(dlib68, "dlib68")
    r = _as_point_sets(reference, "reference")
    _check_same_photos(d, r)
    dl, fr = _paired_points(d, r, pairs)
    own = np.linalg.norm(dl - fr, axis=-1)  # (n, k)
    to_all = np.linalg.norm(dl[:, :, None, :] - r[:, None, :, :], axis=-1)  # (n, k, m)
    mask = _averaging_matrix([p.frl for p in pairs], r.shape[1], "template points") > 0
    others = np.where(mask[None], np.inf, to_all)
    wins = own <= others.min(axis=-1)
    nearest_other = others.argmin(axis=-1)
    rows = []
    for k, pair in enumerate(pairs):
        lost = nearest_other[~wins[:, k], k]
        runner = int(np.bincount(lost).argmax()) if lost.size else None
        rows.append({"name": pair.name, "dlib": pair.dlib, "frl": pair.frl, "wins": int(wins[:, k].sum()),
                     "photos": int(d.shape[0]), "runner_up": runner})
    return rows


@dataclass(frozen=True)
class LandmarkErrorSummary:
    """Mean error of one landmark over photos, in pixels and in % of the inter-ocular distance."""

    name: str
    photos: int
    mean_px: float
    ci_px: tuple[float, float]
    mean_iod: float
    ci_iod: tuple[float, float]
    confidence: float = 0.95

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`facecourse.metrics.format_table`."""
        conf = f"{_text.confidence_label(self.confidence)} CI"
        return {
            "landmark": self.name,
            "photos": str(self.photos),
            "mean error (px)": f"{self.mean_px:.1f}",
            f"{conf} (px)": f"{self.ci_px[0]:.1f}-{self.ci_px[1]:.1f}",
            "mean error (% IOD)": f"{100 * self.mean_iod:.2f}",
            f"{conf} (% IOD)": f"{100 * self.ci_iod[0]:.2f}-{100 * self.ci_iod[1]:.2f}",
        }


@dataclass(frozen=True, eq=False)
class LandmarkErrors:
    """Distances between dlib's and the hand-placed landmarks, photo by photo.

    ``pixels[i, k]`` is the Euclidean distance, in pixels, between the two locations of landmark
    ``names[k]`` in photo ``i``; ``inter_ocular[i]`` the hand-placed pupil-to-pupil distance.
    """

    names: tuple[str, ...]
    pixels: np.ndarray
    inter_ocular: np.ndarray

    @property
    def normalised(self) -> np.ndarray:
        """Errors as a share of each photo's inter-ocular distance (0.05 = 5 % of it)."""
        return self.pixels / self.inter_ocular[:, None]

    def summary(self, *, confidence: float = 0.95) -> list[LandmarkErrorSummary]:
        """Per landmark: the mean error over photos and a normal-approximation interval of the mean
        (mean ± z·sd/√n; photos are independent, one per person; fine for n in the tens or more)."""
        confidence = _checks.confidence(confidence)
        n = self.pixels.shape[0]
        if n < 2:
            raise ValueError("need errors from at least 2 photos for an interval")
        z = NormalDist().inv_cdf(0.5 + confidence / 2)

        def mean_ci(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            mean = x.mean(axis=0)
            half = z * x.std(axis=0, ddof=1) / math.sqrt(n)
            return mean, mean - half, mean + half

        m_px, lo_px, hi_px = mean_ci(self.pixels)
        m_iod, lo_iod, hi_iod = mean_ci(self.normalised)
        return [LandmarkErrorSummary(name, n, float(m_px[k]), (float(lo_px[k]), float(hi_px[k])),
                                     float(m_iod[k]), (float(lo_iod[k]), float(hi_iod[k])), confidence)
                for k, name in enumerate(self.names)]


def landmark_errors(dlib68: ArrayLike, reference: ArrayLike, *, pairs: Sequence[LandmarkPair] = LANDMARK_PAIRS,
                    inter_ocular_points: tuple[int, int] = INTER_OCULAR_POINTS) -> LandmarkErrors:
    """Per photo and landmark, how far dlib's point is from the hand-placed one.

    ``dlib68`` is ``(n_photos, 68, 2)`` (``FaceRecord.landmarks68`` stacked), ``reference`` is
    ``(n_photos, n_template_points, 2)`` (:func:`load_templates`), both in the same pixel
    coordinates (the full-size photo). Errors are also divided by the distance between the two
    template points ``inter_ocular_points`` (the hand-placed pupils): landmark errors are usually
    reported as a share of an inter-ocular distance, so that big and small faces compare.

    >>> dlib = np.zeros((1, 68, 2)); dlib[0, 8] = (3, 4)          # dlib's chin at (3, 4)
    >>> ref = np.zeros((1, 189, 2)); ref[0, 1] = (100, 0)         # pupils 100 px apart
    >>> e = landmark_errors(dlib, ref, pairs=[LandmarkPair("chin", (8,), (129,))])
    >>> e.pixels.tolist(), e.normalised.tolist()                  # chin: 5 px, 5 % of 100 px
    ([[5.0]], [[0.05]])
    """
    d = _as_point_sets(dlib68, "dlib68")
    r = _as_point_sets(reference, "reference")
    _check_same_photos(d, r)
    if not pairs:
        raise ValueError("pairs is empty: give at least one LandmarkPair")
    a, b = inter_ocular_points
    if not (0 <= a < r.shape[1] and 0 <= b < r.shape[1]):
        raise ValueError(f"inter_ocular_points {inter_ocular_points} are not points of a {r.shape[1]}-point template")
    iod = np.linalg.norm(r[:, a] - r[:, b], axis=-1)
    if np.any(iod <= 0):
        raise ValueError("the two inter-ocular points coincide in some photo; check the template")
    dl, fr = _paired_points(d, r, pairs)
    return LandmarkErrors(tuple(p.name for p in pairs), np.linalg.norm(dl - fr, axis=-1), iod)
