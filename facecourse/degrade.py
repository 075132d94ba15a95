"""Degraded copies of a photo: what a CCTV still or a phone snapshot does to a studio portrait.

The course's photos are well-lit, frontal, 1350-pixel studio portraits, which flatters any
face recogniser. Lessons 01 and 03 degrade them on purpose, one condition at a time, to see
when detection fails (failure to acquire) and when a faceprint stops matching (false
non-match). Every degradation is deterministic (no randomness), returns a new C-contiguous
uint8 RGB array, and has a short ``variant`` string that names it completely, used as part of
the cache key and in figure captions ("what was changed", as CC BY 4.0 asks).

>>> import numpy as np
>>> img = np.zeros((100, 100, 3), dtype=np.uint8)
>>> Degradation("blur", 2.0).variant
'blur:2@512'
>>> Degradation("resolution", 48).apply(img).shape
(100, 100, 3)

Degradations work on a copy first shrunk to ``base_side`` pixels (512 by default; the
London Set faces are then about 180 px wide), because that is about the size a face has in a
good surveillance still, and because it keeps the lessons fast. The undegraded baseline at the
same size is ``Degradation("none", 0)``, so every comparison is like with like.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))


def _array(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def resolution(image: np.ndarray, face_width_px: float, *, face_fraction: float = 0.35) -> np.ndarray:
    """Simulate a distant, low-resolution camera: shrink so the face is ``face_width_px`` wide, then
    scale back up to the original size (as a CCTV frame is enlarged for viewing).

    ``face_fraction`` is the share of the image width the face takes in the original
    (about 0.35 for the London Set portraits).
    """
    height, width = image.shape[:2]
    scale = min(1.0, face_width_px / (face_fraction * width))
    small = _pil(image).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                               Image.Resampling.BILINEAR)
    return _array(small.resize((width, height), Image.Resampling.BILINEAR))


def blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma_px`` pixels (focus or motion blur)."""
    return _array(_pil(image).filter(ImageFilter.GaussianBlur(radius=sigma_px)))


def darken(image: np.ndarray, brightness: float) -> np.ndarray:
    """Scale every pixel by ``brightness`` (0.1 = a tenth of the light), with a camera's gamma."""
    linear = (image.astype(np.float64) / 255.0) ** 2.2 * brightness
    return np.ascontiguousarray(np.clip(np.round(linear ** (1 / 2.2) * 255.0), 0, 255).astype(np.uint8))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode as JPEG at ``quality`` (1-95): the blocky compression of messaging apps and CCTV."""
    buffer = io.BytesIO()
    _pil(image).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    return _array(Image.open(buffer))


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate in the image plane (head tilt) by ``degrees``, filling corners with grey."""
    return _array(_pil(image).rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128)))


def occlude(image: np.ndarray, fraction: float) -> np.ndarray:
    """Cover the lower ``fraction`` of the face region with a grey band (a mask or scarf).

    The face region is taken as the central 40-80 % of the image height, which is where the
    London Set faces are; 0.5 covers from the nose down.
    """
    out = image.copy()
    height = image.shape[0]
    face_top, face_bottom = int(0.40 * height), int(0.80 * height)
    start = int(round(face_bottom - fraction * (face_bottom - face_top)))
    out[start:face_bottom] = 128
    return np.ascontiguousarray(out)


def none(image: np.ndarray, level: float = 0) -> np.ndarray:
    """No change (the baseline at the same working size)."""
    return np.ascontiguousarray(image)


#: Every kind of degradation: name -> (function, unit of its level, levels used in the lessons,
#: whether a *smaller* level is *worse*).
KINDS: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], str, tuple[float, ...], bool]] = {
    "none": (none, "no change", (0,), False),
    "resolution": (resolution, "face width in pixels", (80, 48, 32, 24, 16, 12), True),
    "blur": (blur, "blur sigma in pixels", (2, 4, 8, 12, 16, 24), False),
    "darken": (darken, "share of the light", (0.5, 0.2, 0.1, 0.05, 0.02, 0.01), True),
    "jpeg": (jpeg, "JPEG quality", (50, 20, 10, 5, 2, 1), True),
    "rotate": (rotate, "in-plane rotation in degrees", (10, 20, 30, 45, 60, 90), False),
    "occlude": (occlude, "share of the face covered from below", (0.2, 0.35, 0.5, 0.65, 0.8, 0.95), False),
}


@dataclass(frozen=True)
class Degradation:
    """One condition: a kind of degradation at one level."""

    kind: str
    level: float
    base_side: int | None = 512

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown degradation '{self.kind}'; choose one of {sorted(KINDS)}.")

    @property
    def variant(self) -> str:
        """A short name that identifies this condition completely (used in cache keys)."""
        return f"{self.kind}:{self.level:g}@{self.base_side or 'full'}"

    @property
    def unit(self) -> str:
        return KINDS[self.kind][1]

    def describe(self) -> str:
        """Human-readable, e.g. ``'blur (blur sigma in pixels = 4)'``."""
        return f"{self.kind} ({self.unit} = {self.level:g})"

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Shrink to ``base_side`` (if set), then degrade."""
        return self.apply_working(working_copy(image, self.base_side))

    def apply_working(self, image: np.ndarray) -> np.ndarray:
        """Degrade an image already shrunk to ``base_side`` (see :func:`working_copy`)."""
        return KINDS[self.kind][0](image, self.level)


def working_copy(image: np.ndarray, base_side: int | None) -> np.ndarray:
    """The copy every degradation starts from: ``image`` shrunk to ``base_side`` (or as it is).

    Batch code computes it once per photo and calls each transform's ``apply_working``.
    """
    if base_side is None:
        return np.ascontiguousarray(image)
    from .images import downscale

    return downscale(image, base_side)[0]


def conditions(kinds: Sequence[str] | None = None, *, base_side: int | None = 512) -> list[Degradation]:
    """The baseline plus every (kind, level) the lessons use, mildest first within each kind."""
    kinds = [k for k in (kinds or KINDS) if k != "none"]
    return [Degradation("none", 0, base_side)] + [
        Degradation(k, level, base_side) for k in kinds for level in KINDS[k][2]]
