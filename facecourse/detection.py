"""Finding faces, and measuring when it fails: detection rates, landmarks, low light.

Lesson 01 uses this module to answer three questions about the first step of the pipeline.

1. **How often does detection fail?** A *failure to acquire* (FTA) is an image in which the
   system finds no face it can encode. :func:`detection_table` turns the faceprints of many
   (degraded) copies of the photos into one :class:`DetectionRate` row per condition: counts,
   the FTA and its Wilson 95 % interval (:func:`facecourse.metrics.wilson_interval`).
   :func:`count_by_condition` is the vectorised counting underneath.
2. **What does a camera in the dark do?** :class:`LowLight` is a degradation that
   :func:`facecourse.faceprints.encode_variants` accepts: less light *and* the sensor noise
   that comes with it (``degrade.darken`` models a noise-free sensor, which no camera is).
3. **Where does dlib put the landmarks, compared with a human?** The London Set ships
   hand-placed WebMorph templates (``.tem`` files, read by :func:`parse_tem` /
   :func:`load_template`). :data:`LANDMARK_PAIRS` says which of the 189 template points
   correspond to which of dlib's 68 points, and :func:`landmark_errors` measures the distance
   between them, in pixels and as a share of the inter-ocular distance.

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

import hashlib
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from .errors import CourseError, FaceDetectionError
from .manifest import Manifest, ManifestEntry, load_manifest
from .metrics import wilson_interval

__all__ = [
    "INTER_OCULAR_POINTS",
    "LANDMARK_PAIRS",
    "LOW_LIGHT_LEVELS",
    "PANELS",
    "DetectionRate",
    "DetectorRun",
    "LandmarkErrorSummary",
    "LandmarkErrors",
    "LandmarkPair",
    "LowLight",
    "Placement",
    "Template",
    "TemplateError",
    "box_iou",
    "conditions_with_low_light",
    "correspondence_check",
    "count_by_condition",
    "detection_table",
    "landmark_errors",
    "load_template",
    "load_templates",
    "misplaced_detections",
    "nearest_reference_points",
    "paired_points",
    "parse_tem",
    "plot_detection_rates",
    "plot_landmark_errors",
    "run_detector",
]

Box = tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition's order


class TemplateError(CourseError, ValueError):
    """A WebMorph template (.tem) could not be read; the message says where and why."""


# ---------------------------------------------------------------------------------------------
# Detection rates and failure to acquire
# ---------------------------------------------------------------------------------------------


def _percent(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


@dataclass(frozen=True)
class DetectionRate:
    """How many images of one condition had a face detected and encoded, with the FTA's interval.

    The *failure to acquire* rate is ``FTA = (total - detected) / total``; its interval is the
    Wilson score interval of that proportion (``confidence`` = 0.95 by default), which treats the
    images as independent trials (they are: one photo per person).

    >>> row = DetectionRate("blur:8@512", "blur", 8, "blur sigma in pixels", detected=3, total=4)
    >>> row.failures, row.fta, row.rate
    (1, 0.25, 0.75)
    >>> [round(v, 4) for v in row.fta_ci]
    [0.0456, 0.6994]
    """

    condition: str
    kind: str
    level: float
    unit: str
    detected: int
    total: int
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 <= self.detected <= self.total:
            raise ValueError(f"{self.condition}: need 0 <= detected <= total, got {self.detected} of {self.total}")

    @property
    def failures(self) -> int:
        """Images in which no face was acquired."""
        return self.total - self.detected

    @property
    def fta(self) -> float:
        """Failure-to-acquire rate (nan when there are no images)."""
        return self.failures / self.total if self.total else math.nan

    @property
    def rate(self) -> float:
        """Detection rate, ``1 - FTA``."""
        return self.detected / self.total if self.total else math.nan

    @property
    def fta_ci(self) -> tuple[float, float]:
        """Wilson interval of the FTA."""
        lo, hi = wilson_interval(self.failures, self.total, self.confidence)
        return float(lo), float(hi)

    @property
    def rate_ci(self) -> tuple[float, float]:
        """Wilson interval of the detection rate (the FTA's interval, mirrored)."""
        lo, hi = self.fta_ci
        return 1.0 - hi, 1.0 - lo

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`facecourse.metrics.format_table`."""
        lo, hi = self.fta_ci
        return {
            "condition": self.kind,
            "level": f"{self.level:g}",
            "unit": self.unit,
            "detected": f"{self.detected}/{self.total}",
            "FTA": _percent(self.fta),
            f"{100 * self.confidence:g}% CI": "n/a" if math.isnan(lo) else f"{_percent(lo)}-{_percent(hi)}",
        }


def count_by_condition(conditions: ArrayLike, detected: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count detections per condition: ``(labels, detected counts, totals)``.

    ``conditions[i]`` names the condition of image ``i`` and ``detected[i]`` says whether a face
    was found in it (booleans, or 0/1). Labels come back in the order they first appear. One
    ``np.unique`` and two ``np.bincount`` calls, no Python loop over images.

    >>> labels, hits, totals = count_by_condition(["a", "b", "a", "a"], [True, False, True, False])
    >>> labels.tolist(), hits.tolist(), totals.tolist()
    (['a', 'b'], [2, 0], [3, 1])
    """
    labels = np.asarray(conditions)
    ok = np.asarray(detected)
    if labels.ndim != 1 or ok.ndim != 1 or len(labels) != len(ok):
        raise ValueError(f"conditions and detected must be two 1-D lists of the same length (one entry per "
                         f"image), got shapes {labels.shape} and {ok.shape}")
    if ok.dtype != np.bool_:
        if ok.size and not np.all(np.isin(ok, (0, 1))):
            raise ValueError("detected must hold True/False (or 1/0) for each image")
        ok = ok.astype(bool)
    if labels.size == 0:
        return labels, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    unique, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first, kind="stable")  # first-seen order, not alphabetical
    totals = np.bincount(inverse, minlength=unique.size)
    hits = np.bincount(inverse, weights=ok, minlength=unique.size).astype(np.int64)
    return unique[order], hits[order], totals[order]


def _describe_transform(transform: Any) -> tuple[str, str, float, str]:
    """(variant, kind, level, unit) of a Degradation, a LowLight, or anything with a ``variant``."""
    variant = str(transform.variant)
    kind = str(getattr(transform, "kind", variant.split(":")[0]))
    level = float(getattr(transform, "level", math.nan))
    unit = str(getattr(transform, "unit", ""))
    return variant, kind, level, unit


def detection_table(results: Mapping[str, Any], transforms: Sequence[Any], *,
                    confidence: float = 0.95) -> list[DetectionRate]:
    """One :class:`DetectionRate` per transform, from the output of ``faceprints.encode_variants``.

    ``results`` maps each transform's ``variant`` to an :class:`~facecourse.faceprints.EncodingSet`;
    an image counts as detected when its record has a faceprint (``record.acquired``). Rows come in
    the order of ``transforms``.
    """
    rows = []
    for transform in transforms:
        variant, kind, level, unit = _describe_transform(transform)
        if variant not in results:
            raise KeyError(f"No results for condition '{variant}': pass the same transforms to "
                           "faceprints.encode_variants and to detection_table.")
        records = results[variant].records
        detected = int(np.count_nonzero([r.acquired for r in records]))
        rows.append(DetectionRate(variant, kind, level, unit, detected, len(records), confidence))
    return rows


def box_iou(a: ArrayLike, b: ArrayLike) -> np.ndarray | float:
    """Intersection over union of boxes ``(top, right, bottom, left)``; broadcasts over leading axes.

    1 means the same box, 0 no overlap. Detectors are usually compared at IoU >= 0.5.

    >>> box_iou((0, 10, 10, 0), (0, 10, 10, 5))   # right half of a 10x10 box
    0.5
    >>> box_iou((0, 10, 10, 0), (20, 30, 30, 20))
    0.0
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape[-1:] != (4,) or y.shape[-1:] != (4,):
        raise ValueError("boxes must have 4 numbers (top, right, bottom, left) in their last axis")
    top = np.maximum(x[..., 0], y[..., 0])
    right = np.minimum(x[..., 1], y[..., 1])
    bottom = np.minimum(x[..., 2], y[..., 2])
    left = np.maximum(x[..., 3], y[..., 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)

    def area(z: np.ndarray) -> np.ndarray:
        return np.clip(z[..., 1] - z[..., 3], 0, None) * np.clip(z[..., 2] - z[..., 0], 0, None)

    union = area(x) + area(y) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return float(iou) if iou.ndim == 0 else iou


def _boxes_array(records: Sequence[Any]) -> np.ndarray:
    """(n, 4) float boxes of face records, NaN rows where no face was found."""
    out = np.full((len(records), 4), np.nan)
    for i, record in enumerate(records):
        if record.box is not None:
            out[i] = record.box
    return out


@dataclass(frozen=True)
class Placement:
    """Where one condition's detections fell: how many there were, and which photos' boxes missed the face."""

    condition: str
    detections: int
    misplaced: tuple[int, ...]  # indices (in input order) of detections away from the baseline face box
    iou: tuple[float, ...]  # their IoU with the baseline box


def misplaced_detections(results: Mapping[str, Any], transforms: Sequence[Any], baseline: Any, *,
                         min_iou: float = 0.5) -> list[Placement]:
    """Check that each detection is on the face, not somewhere else in the picture.

    A degraded copy can make a detector "find" a face where there is none, or in part of one. For
    every transform, each detected box is compared with the box found in the same photo under
    ``baseline`` (the undegraded copy at the same size, e.g. ``Degradation("none", 0)``). A
    detection is *misplaced* when it overlaps the baseline box with IoU below ``min_iou``; photos
    where the baseline found no face are not judged (nothing to compare with). Boxes must be in
    the same pixel frame: all the conditions of ``conditions_with_low_light`` work at 512 px.
    """
    base_variant = _describe_transform(baseline)[0]
    if base_variant not in results:
        raise KeyError(f"No results for the baseline '{base_variant}': include it in the transforms "
                       "passed to faceprints.encode_variants.")
    base_records = results[base_variant].records
    base_boxes = _boxes_array(base_records)
    base_sizes = [r.image_size for r in base_records]
    out = []
    for transform in transforms:
        variant = _describe_transform(transform)[0]
        records = results[variant].records
        if len(records) != len(base_records):
            raise ValueError(f"'{variant}' has {len(records)} images but the baseline has {len(base_records)}")
        if any(r.box is not None and r.image_size != size for r, size in zip(records, base_sizes)):
            raise ValueError(f"'{variant}' was computed at another image size than the baseline; "
                             "compare conditions made at the same base_side")
        boxes = _boxes_array(records)
        found = ~np.isnan(boxes[:, 0])
        judged = found & ~np.isnan(base_boxes[:, 0])
        iou = np.ones(len(records))
        if judged.any():
            iou[judged] = box_iou(boxes[judged], base_boxes[judged])
        bad = np.flatnonzero(judged & (iou < min_iou))
        out.append(Placement(variant, int(found.sum()), tuple(int(i) for i in bad),
                             tuple(float(v) for v in iou[bad])))
    return out


@dataclass(frozen=True)
class DetectorRun:
    """The faces one detector found in one image, and how long it took (best of ``repeat`` runs)."""

    name: str
    model: str
    boxes: tuple[Box, ...]
    seconds: float
    image_size: tuple[int, int]  # (height, width)


def run_detector(image: np.ndarray, model: str = "hog", *, upsample: int = 0, repeat: int = 1,
                 name: str = "image", clock: Callable[[], float] = time.perf_counter) -> DetectorRun:
    """Detect faces with ``model`` ("hog" or "cnn") and time it; no face gives ``boxes=()``.

    Timing is wall-clock (``clock``), the best of ``repeat`` runs; it depends on the machine and
    on what else runs on it, so print it, never test it.
    """
    from .images import find_faces

    if int(repeat) < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat!r}")
    best, boxes = math.inf, ()
    for _ in range(int(repeat)):
        start = clock()
        try:
            found = tuple(find_faces(image, model=model, upsample=upsample, on_multiple="all", name=name))
        except FaceDetectionError:
            found = ()
        best = min(best, clock() - start)
        boxes = found
    return DetectorRun(name, model, boxes, best, (int(image.shape[0]), int(image.shape[1])))


# ---------------------------------------------------------------------------------------------
# Low light: fewer photons, and the noise that comes with them
# ---------------------------------------------------------------------------------------------

#: The light levels lesson 01 uses: the same as ``degrade.darken``'s, for a like-for-like comparison.
LOW_LIGHT_LEVELS: tuple[float, ...] = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)


@dataclass(frozen=True)
class LowLight:
    """A photo taken with ``level`` times the light, by a camera with a real (noisy) sensor.

    ``degrade.darken`` scales the light on a perfect sensor: the picture gets darker but every
    edge survives, and a gradient-based detector such as HOG, which normalises contrast, hardly
    notices. A real sensor counts photons, and photon counts are random (Poisson "shot" noise:
    a pixel that expects *N* photons gets *N* ± √N), plus a little electronic *read noise*. A
    camera then amplifies the signal to restore the brightness (auto-ISO), up to ``max_gain``,
    which amplifies the noise with it. So less light means a noisier picture, and below
    ``1 / max_gain`` of the light also a darker one. The steps:

    1. shrink to ``base_side`` pixels (as ``degrade.Degradation`` does), undo the gamma (linear light);
    2. expected electrons per pixel and channel = linear value × ``white_electrons`` × ``level``;
    3. draw Poisson counts, add Gaussian read noise (``read_noise`` electrons rms);
    4. multiply by ``min(1 / level, max_gain)``, re-apply the gamma, round to 8 bits.

    ``white_electrons`` (1000) and ``read_noise`` (3) are **assumed round figures** of the right
    order for a small camera sensor, not measurements of any camera; change them to see how much
    the conclusion depends on them. Channels are noised independently (a real colour sensor's
    demosaicing correlates neighbouring pixels).

    Deterministic: the random generator is seeded from the SHA-256 of the shrunk image's pixels
    and of :attr:`variant`, so a photo always gets the same noise, whatever else runs before.
    The class is defined at module level and frozen, so it pickles into worker processes.
    Cached results are keyed by :attr:`variant`: if you change the algorithm in :meth:`apply`,
    change :attr:`variant` too (e.g. add a version suffix), or stale results will be served.

    >>> LowLight(0.1).variant
    'lowlight:0.1@512/e1000/r3/g16'
    >>> img = np.full((8, 8, 3), 128, dtype=np.uint8)
    >>> out = LowLight(0.1, base_side=None).apply(img)
    >>> out.shape, out.dtype, bool(np.array_equal(out, LowLight(0.1, base_side=None).apply(img)))
    ((8, 8, 3), dtype('uint8'), True)
    """

    level: float
    base_side: int | None = 512
    white_electrons: float = 1000.0
    read_noise: float = 3.0
    max_gain: float = 16.0

    kind: ClassVar[str] = "lowlight"
    unit: ClassVar[str] = "share of the light"

    def __post_init__(self) -> None:
        if not 0 < float(self.level) <= 1:
            raise ValueError(f"LowLight level is the share of the light, between 0 (exclusive) and 1; "
                             f"got {self.level!r}")
        if self.white_electrons <= 0 or self.read_noise < 0 or self.max_gain < 1:
            raise ValueError("LowLight needs white_electrons > 0, read_noise >= 0 and max_gain >= 1")

    @property
    def variant(self) -> str:
        """A short name that identifies this condition completely (part of the cache key)."""
        return (f"{self.kind}:{self.level:g}@{self.base_side or 'full'}"
                f"/e{self.white_electrons:g}/r{self.read_noise:g}/g{self.max_gain:g}")

    def describe(self) -> str:
        """Human-readable, e.g. ``'lowlight (share of the light = 0.1)'``."""
        return f"{self.kind} ({self.unit} = {self.level:g})"

    @property
    def gain(self) -> float:
        """How much the camera amplifies the signal at this light level."""
        return min(1.0 / float(self.level), float(self.max_gain))

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Return the low-light copy of ``image`` (uint8 RGB), a new C-contiguous array."""
        from .degrade import working_copy

        return self.apply_working(working_copy(image, self.base_side))

    def apply_working(self, image: np.ndarray) -> np.ndarray:
        """The low-light copy of an image already shrunk to ``base_side``."""
        image = np.ascontiguousarray(image, dtype=np.uint8)
        digest = hashlib.sha256(image.tobytes() + repr(image.shape).encode() + self.variant.encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        linear = (image.astype(np.float64) / 255.0) ** 2.2
        expected = linear * (self.white_electrons * float(self.level))
        electrons = rng.poisson(expected).astype(np.float64)
        if self.read_noise > 0:
            electrons += rng.normal(0.0, self.read_noise, size=electrons.shape)
        out = np.clip(electrons * (self.gain / self.white_electrons), 0.0, 1.0) ** (1 / 2.2)
        return np.ascontiguousarray(np.round(out * 255.0).astype(np.uint8))


def conditions_with_low_light(levels: Sequence[float] = LOW_LIGHT_LEVELS, *,
                              base_side: int | None = 512) -> list[Any]:
    """``degrade.conditions()`` (the baseline and six kinds at six levels) plus :class:`LowLight` levels."""
    from .degrade import conditions

    return [*conditions(base_side=base_side), *(LowLight(float(level), base_side) for level in levels)]


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
    from .dataset import read_bytes

    manifest = load_manifest() if manifest is None else manifest
    tem = manifest.landmarks_for(manifest[photo.file_id])
    if tem is None:
        raise TemplateError(f"'{photo.file_id}' has no hand-placed template in the manifest (only the "
                            "London Set, the composites and the lisa/zoom photos do).")
    return parse_tem(read_bytes(tem, manifest=manifest), name=tem.path)


def load_templates(photos: Sequence[ManifestEntry], *, manifest: Manifest | None = None) -> np.ndarray:
    """The templates' points of many photos as one ``(n_photos, n_points, 2)`` array."""
    manifest = load_manifest() if manifest is None else manifest
    templates = [load_template(p, manifest=manifest) for p in photos]
    sizes = sorted({len(t) for t in templates})
    if len(sizes) > 1:
        raise TemplateError(f"These photos use templates of different sizes ({sizes} points); compare "
                            "photos of one set at a time (e.g. manifest.photos('london_neutral')).")
    return np.stack([t.points for t in templates]) if templates else np.empty((0, 0, 2))


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


def paired_points(dlib68: ArrayLike, reference: ArrayLike,
                  pairs: Sequence[LandmarkPair] = LANDMARK_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """Both locations of every paired landmark: two ``(n_photos, len(pairs), 2)`` arrays (dlib, template).

    A pair's location is the mean of its points (one matrix product per scheme, no loop over photos).

    >>> d, r = paired_points([[[0, 0], [2, 0]]], [[[0, 2], [4, 2]]], [LandmarkPair("mid", (0, 1), (0, 1))])
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


def correspondence_check(dlib68: ArrayLike, reference: ArrayLike,
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
        conf = f"{100 * self.confidence:g}% CI"
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

    def summary(self, confidence: float = 0.95) -> list[LandmarkErrorSummary]:
        """Per landmark: the mean error over photos and a normal-approximation interval of the mean
        (mean ± z·sd/√n; photos are independent, one per person; fine for n in the tens or more)."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
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


def landmark_errors(dlib68: ArrayLike, reference: ArrayLike, pairs: Sequence[LandmarkPair] = LANDMARK_PAIRS,
                    *, inter_ocular_points: tuple[int, int] = INTER_OCULAR_POINTS) -> LandmarkErrors:
    """Per photo and landmark, how far dlib's point is from the hand-placed one.

    ``dlib68`` is ``(n_photos, 68, 2)`` (``FaceRecord.landmarks68`` stacked), ``reference`` is
    ``(n_photos, n_template_points, 2)`` (:func:`load_templates`), both in the same pixel
    coordinates (the full-size photo). Errors are also divided by the distance between the two
    template points ``inter_ocular_points`` (the hand-placed pupils): landmark errors are usually
    reported as a share of an inter-ocular distance, so that big and small faces compare.

    >>> dlib = np.zeros((1, 68, 2)); dlib[0, 8] = (3, 4)          # dlib's chin at (3, 4)
    >>> ref = np.zeros((1, 189, 2)); ref[0, 1] = (100, 0)         # pupils 100 px apart
    >>> e = landmark_errors(dlib, ref, [LandmarkPair("chin", (8,), (129,))])
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


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

#: Which panel of :func:`plot_detection_rates` each kind of condition goes in (darken and low
#: light share one, so that a clean and a noisy sensor can be compared at the same light level).
PANELS: dict[str, str] = {
    "resolution": "Resolution", "blur": "Blur", "darken": "Light", "lowlight": "Light",
    "jpeg": "JPEG compression", "rotate": "In-plane rotation", "occlude": "Lower face covered",
}
_SERIES_LABELS = {"darken": "darker, noise-free sensor", "lowlight": "low light, noisy sensor"}
_LOG_KINDS = {"resolution", "darken", "lowlight", "jpeg"}


def ci_label(confidences: Iterable[float], what: str = "CI") -> str:
    """How a plot names its intervals: one level for all rows, or every level when they differ.

    >>> ci_label([0.95, 0.95]), ci_label([0.9, 0.95], "Wilson CI")
    ('95% CI', 'Wilson CI (90%, 95%)')
    """
    levels = [f"{100 * c:g}%" for c in sorted({float(c) for c in confidences})]
    return f"{levels[0]} {what}" if len(levels) == 1 else f"{what} ({', '.join(levels)})"


def plot_detection_rates(rows: Sequence[DetectionRate], *, title: str, baseline_kind: str = "none") -> Any:
    """Detection rate against degradation level, one panel per kind, with each row's Wilson interval.

    The error bars are the rows' own Wilson intervals (``DetectionRate.confidence``, 95 % by
    default); the legend's title names the level(s).

    The x-axis of every panel runs from mild (left) to severe (right): axes whose smaller values
    are worse (resolution, light, JPEG quality) are reversed, and levels spanning a factor of 10
    or more are on a log scale. The baseline (``baseline_kind``) is drawn as a dashed line with
    its interval as a band. Returns the matplotlib figure; show it with ``plots.show(fig, alt)``.
    """
    import matplotlib.pyplot as plt

    from .degrade import KINDS
    from .plots import COLOURS

    base = [r for r in rows if r.kind == baseline_kind]
    panels: dict[str, dict[str, list[DetectionRate]]] = {}
    for r in rows:
        if r.kind == baseline_kind:
            continue
        if r.kind not in PANELS:
            raise ValueError(f"No panel for condition kind '{r.kind}'; known kinds: {sorted(PANELS)}")
        panels.setdefault(PANELS[r.kind], {}).setdefault(r.kind, []).append(r)
    ncols = 3
    nrows = max(1, -(-len(panels) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.5 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (panel, series) in zip(axes.flat, panels.items()):
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
        if first in KINDS and KINDS[first][3]:
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


def plot_landmark_errors(summary: Sequence[LandmarkErrorSummary], *, title: str) -> Any:
    """Horizontal bars of the mean landmark error with error bars, in pixels and in % IOD.

    The error bars are each summary row's interval of the mean (its ``confidence``, 95 % by
    default, named in the axis labels).
    """
    import matplotlib.pyplot as plt

    from .plots import COLOURS

    if not summary:
        raise ValueError("summary is empty: pass LandmarkErrors.summary()")
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
        err = np.array([[m - lo, hi - m] for m, (lo, hi) in zip(v, cis)]).T
        ax.barh(y, v, xerr=err, color=colour, capsize=3)
        ax.set_xlabel(f"{label}\nbars: {ci_label(s.confidence for s in summary)} of the mean")
        ax.set_xlim(left=0)
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_ylabel("landmark")
    fig.suptitle(title)
    return fig
