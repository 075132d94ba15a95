"""Finding faces, and measuring when it fails: face detection, failure-to-acquire rates, box overlap.

Lesson 01 uses this module to answer two questions about the first step of the pipeline.

1. **Where are the faces?** :func:`find_faces` runs dlib's detector (through
   ``face_recognition``) on an image from :func:`facecourse.images.load_rgb` and explains what to
   try when it finds none; :func:`run_detector` times it, :func:`box_iou` and
   :func:`misplaced_detections` check that a box is on the face.
2. **How often does detection fail?** A *failure to acquire* (FTA) is an image in which the
   system finds no face it can encode. :func:`detection_table` turns the faceprints of many
   (degraded, :mod:`facecourse.degrade`) copies of the photos into one :class:`DetectionRate` row
   per condition: counts, the FTA and its Wilson 95 % interval
   (:func:`facecourse.metrics.wilson_interval`). :func:`count_by_condition` is the vectorised
   counting underneath.

Where dlib puts the landmarks, compared with a human, is :mod:`facecourse.landmarks`; the figures
of both are in :mod:`facecourse.plots`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _text
from .errors import CourseError, FaceDetectionError, MultipleFacesError, NoFaceError
from .images import check_image_array, is_count
from .metrics import Rate

__all__ = [
    "HOG_MIN_FACE_PX",
    "DetectionRate",
    "DetectorRun",
    "Placement",
    "box_iou",
    "count_by_condition",
    "detection_table",
    "find_faces",
    "misplaced_detections",
    "run_detector",
]

Box = tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition's order

#: Smallest face (in pixels) that dlib's HOG detector finds without upsampling.
HOG_MIN_FACE_PX = 80

#: Below this shorter side (pixels) a face is very likely smaller than ``HOG_MIN_FACE_PX``.
SMALL_IMAGE_SIDE = 300


# ---------------------------------------------------------------------------------------------
# Finding faces
# ---------------------------------------------------------------------------------------------


def _face_recognition() -> Any:
    """Import face_recognition lazily (1-2 s, loads four models), with a clear error if broken."""
    try:
        import face_recognition
    except (ImportError, NameError, SystemExit) as err:
        # face_recognition_models needs pkg_resources; when that import fails, face_recognition
        # prints a hint and calls quit(): SystemExit in a script, NameError in a Jupyter kernel.
        # A CourseError, not a FaceDetectionError: a broken install says nothing about the image,
        # and callers that record "no face" results must not record this as one.
        raise CourseError(
            "The face_recognition package could not be imported, so faces cannot be detected. "
            "Reinstall the course's environment from the repository root with "
            "'python -m pip install -r requirements.txt' (it pins setuptools<80.9, which "
            "face_recognition_models needs), then restart the kernel."
        ) from err
    return face_recognition


def _area(box: Box) -> int:
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def _no_face_message(label: str, height: int, width: int, model: str, upsample: int) -> str:
    shorter = min(height, width)
    msg = (f"No face found in {label} ({width}x{height} pixels) with model='{model}', "
           f"upsample={upsample}.")
    if model == "hog" and upsample == 0:
        if shorter < SMALL_IMAGE_SIDE:
            msg += (f" The image is small (shorter side {shorter} px), so a face in it is probably "
                    f"smaller than about {HOG_MIN_FACE_PX}x{HOG_MIN_FACE_PX} px, the smallest face "
                    "the HOG detector finds without upsampling.")
        else:
            msg += (f" Without upsampling the HOG detector misses faces smaller than about "
                    f"{HOG_MIN_FACE_PX}x{HOG_MIN_FACE_PX} px.")
        msg += (" If the face is small, try find_faces(..., upsample=1) (about 4x slower; "
                "upsample=2 finds even smaller faces), or use a larger, higher-resolution image "
                "(if you downscaled it, downscale less).")
    elif model == "hog":
        msg += (" Upsampling did not help: try model='cnn', which finds turned, small or dimly lit "
                "faces more reliably but is much slower (seconds per image on a CPU)")
        msg += ", or a larger, higher-resolution image." if shorter < SMALL_IMAGE_SIDE else "."
    else:
        msg += " Even the CNN detector found nothing: check that the image really shows a face."
    msg += (" Also check that the photo is upright (load_rgb applies the EXIF orientation) and "
            "that the face is visible: roughly frontal, not covered, not too dark.")
    return msg


def find_faces(image: np.ndarray, *, model: str = "hog", upsample: int = 0,
               on_multiple: str = "error", name: str | None = None) -> list[Box]:
    """Detect faces with ``face_recognition.face_locations``; boxes are (top, right, bottom, left).

    Args:
        image: a uint8 RGB array of shape (H, W, 3), e.g. from :func:`facecourse.images.load_rgb`. It is passed on as
            ``np.ascontiguousarray(image)``, because dlib gives wrong results on numpy views.
        model: "hog" (fast, CPU) or "cnn" (more accurate, seconds per image on a CPU).
        upsample: how many times to double the image before detecting. Without upsampling the HOG
            detector finds faces from about 80x80 px; each step finds faces half as big, ~4x slower.
        on_multiple: what to do when several faces are found: "error" raises
            :class:`MultipleFacesError`; "largest" returns only the largest box; "all" returns
            every box, largest first.
        name: how error messages refer to the image (default "the image").

    Returns:
        A non-empty list of boxes of Python ints, largest area first.

    Raises:
        NoFaceError: no face was found (whatever ``on_multiple``); the message suggests what to try.
        MultipleFacesError: several faces were found and ``on_multiple="error"``.
        ImageLoadError: ``image`` is not a uint8 (H, W, 3) array; the message says how to
            convert it.
        CourseError (the base class, deliberately not FaceDetectionError): face_recognition could
            not be imported, or dlib failed (e.g. out of memory); neither is a verdict on the image.
        ValueError: an invalid ``model``, ``upsample`` or ``on_multiple``.
    """
    if model not in ("hog", "cnn"):
        raise ValueError(f"model must be 'hog' or 'cnn', not {model!r}.")
    if not is_count(upsample) or upsample < 0:
        raise ValueError(f"upsample must be a whole number >= 0 (usually 0, 1 or 2), not "
                         f"{upsample!r}.")
    if on_multiple not in ("error", "largest", "all"):
        raise ValueError(f"on_multiple must be 'error', 'largest' or 'all', not {on_multiple!r}.")
    label = f"'{name}'" if name is not None else "the image"
    image = check_image_array(image, label, "find_faces", rgb_only=True)
    face_recognition = _face_recognition()
    height, width = image.shape[:2]
    try:
        raw = face_recognition.face_locations(
            np.ascontiguousarray(image), number_of_times_to_upsample=int(upsample), model=model)
    except (RuntimeError, TypeError, ValueError, MemoryError) as err:
        # Not a FaceDetectionError either: a crash (e.g. out of memory) is no verdict on the image.
        raise CourseError(
            f"Face detection failed inside dlib for {label} ({width}x{height} pixels, "
            f"model='{model}', upsample={upsample}): {err}. If the image is large or upsampled, "
            "downscale it first (downscale(image, 1024)) or use a smaller upsample."
        ) from err
    boxes: list[Box] = [tuple(int(v) for v in box) for box in raw]  # type: ignore[misc]
    boxes.sort(key=lambda b: (-_area(b), b[0], b[3]))  # largest first; ties: top, then left
    if not boxes:
        raise NoFaceError(_no_face_message(label, height, width, model, int(upsample)))
    if len(boxes) == 1 or on_multiple == "all":
        return boxes
    if on_multiple == "largest":
        return boxes[:1]
    shown = ", ".join(str(b) for b in boxes[:5]) + (", ..." if len(boxes) > 5 else "")
    raise MultipleFacesError(
        f"Found {len(boxes)} faces in {label} where exactly one was expected (boxes as (top, "
        f"right, bottom, left), largest first: {shown}). To choose, pass on_multiple='largest' to "
        "keep only the largest face, or on_multiple='all' to get every face, largest first."
    )


@dataclass(frozen=True)
class DetectorRun:
    """The faces one detector found in one image, and how long it took (best of ``repeat`` runs)."""

    name: str
    model: str
    boxes: tuple[Box, ...]
    seconds: float
    image_size: tuple[int, int]  # (height, width)


def run_detector(image: np.ndarray, *, model: str = "hog", upsample: int = 0, repeat: int = 1,
                 name: str = "image", clock: Callable[[], float] = time.perf_counter) -> DetectorRun:
    """Detect faces with ``model`` ("hog" or "cnn") and time it; no face gives ``boxes=()``.

    Timing is wall-clock (``clock``), the best of ``repeat`` runs; it depends on the machine and
    on what else runs on it, so print it, never test it.
    """
    repeat = _checks.positive_int("repeat", repeat, what="how many timed runs")
    best = math.inf
    boxes: tuple[Box, ...] = ()
    for _ in range(repeat):
        start = clock()
        try:
            found = tuple(find_faces(image, model=model, upsample=upsample, on_multiple="all", name=name))
        except FaceDetectionError:
            found = ()
        best = min(best, clock() - start)
        boxes = found
    return DetectorRun(name, model, boxes, best, (int(image.shape[0]), int(image.shape[1])))



# ---------------------------------------------------------------------------------------------
# Detection rates and failure to acquire
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionRate:
    """How many images of one condition had a face detected and encoded, with the FTA's interval.

    The *failure to acquire* rate is ``FTA = (total - detected) / total``; its interval is the
    Wilson score interval of that proportion (``confidence`` = 0.95 by default), which treats the
    images as independent trials (they are: one photo per person). The counts are the package's
    one rate type, :class:`facecourse.metrics.Rate`: :attr:`detections` and :attr:`failed`; the
    condition (``kind`` at ``level``, in ``unit``) is what this row adds.

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
        _checks.confidence(self.confidence)

    @property
    def detections(self) -> Rate:
        """Images with a face detected, out of all, as a :class:`~facecourse.metrics.Rate`."""
        return Rate(self.detected, self.total, self.confidence, name=self.condition)

    @property
    def failed(self) -> Rate:
        """Failures to acquire, out of all images, as a :class:`~facecourse.metrics.Rate` (its value is the FTA)."""
        return Rate(self.failures, self.total, self.confidence, name=self.condition)

    @property
    def failures(self) -> int:
        """Images in which no face was acquired."""
        return self.total - self.detected

    @property
    def fta(self) -> float:
        """Failure-to-acquire rate (nan when there are no images)."""
        return self.failed.value

    @property
    def rate(self) -> float:
        """Detection rate, ``1 - FTA``."""
        return self.detections.value

    @property
    def fta_ci(self) -> tuple[float, float]:
        """Wilson interval of the FTA."""
        return self.failed.ci

    @property
    def rate_ci(self) -> tuple[float, float]:
        """Wilson interval of the detection rate (the FTA's interval, mirrored)."""
        lo, hi = self.fta_ci
        return 1.0 - hi, 1.0 - lo

    def as_row(self) -> dict[str, str]:
        """The cells of a table row, for :func:`facecourse.metrics.format_table`."""
        return {
            "condition": self.kind,
            "level": f"{self.level:g}",
            "unit": self.unit,
            "detected": f"{self.detected}/{self.total}",
            "FTA": _text.percent(self.fta, 1, tiny=False),
            f"{_text.confidence_label(self.confidence)} CI": _text.interval(self.fta_ci, 1, tiny=False),
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
        if any(r.box is not None and r.image_size != size for r, size in zip(records, base_sizes, strict=True)):
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
