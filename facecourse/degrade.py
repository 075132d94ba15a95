"""Degraded copies of a photo: what a CCTV still, a phone snapshot or a dark street does to a portrait.

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

:class:`LowLight` is the one degradation with noise: less light *and* the sensor noise that comes
with it (:func:`darken` models a noise-free sensor, which no camera is).
:func:`conditions_with_low_light` is the full list lesson 01 measures.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from PIL import Image, ImageFilter

from .images import downscale


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


def jpeg(image: np.ndarray, quality: float) -> np.ndarray:
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
    start = round(face_bottom - fraction * (face_bottom - face_top))
    out[start:face_bottom] = 128
    return np.ascontiguousarray(out)


def none(image: np.ndarray, level: float = 0) -> np.ndarray:
    """No change (the baseline at the same working size)."""
    return np.ascontiguousarray(image)


class DegradationKind(NamedTuple):
    """One kind of degradation: how to apply it, what its level measures, and the lessons' levels."""

    function: Callable[[np.ndarray, float], np.ndarray]
    unit: str  # what the level measures, e.g. "blur sigma in pixels"
    levels: tuple[float, ...]  # the levels the lessons use, mildest first
    smaller_is_worse: bool  # True when a *smaller* level is the more severe one (resolution, light, JPEG)


#: Every kind of degradation by name (``Degradation.kind``).
DEGRADATIONS: dict[str, DegradationKind] = {
    "none": DegradationKind(none, "no change", (0,), False),
    "resolution": DegradationKind(resolution, "face width in pixels", (80, 48, 32, 24, 16, 12), True),
    "blur": DegradationKind(blur, "blur sigma in pixels", (2, 4, 8, 12, 16, 24), False),
    "darken": DegradationKind(darken, "share of the light", (0.5, 0.2, 0.1, 0.05, 0.02, 0.01), True),
    "jpeg": DegradationKind(jpeg, "JPEG quality", (50, 20, 10, 5, 2, 1), True),
    "rotate": DegradationKind(rotate, "in-plane rotation in degrees", (10, 20, 30, 45, 60, 90), False),
    "occlude": DegradationKind(occlude, "share of the face covered from below",
                               (0.2, 0.35, 0.5, 0.65, 0.8, 0.95), False),
}


@dataclass(frozen=True)
class Degradation:
    """One condition: a kind of degradation at one level."""

    kind: str
    level: float
    base_side: int | None = 512

    def __post_init__(self) -> None:
        if self.kind not in DEGRADATIONS:
            raise ValueError(f"Unknown degradation '{self.kind}'; choose one of {sorted(DEGRADATIONS)}.")

    @property
    def variant(self) -> str:
        """A short name that identifies this condition completely (used in cache keys)."""
        return f"{self.kind}:{self.level:g}@{self.base_side or 'full'}"

    @property
    def unit(self) -> str:
        return DEGRADATIONS[self.kind].unit

    def describe(self) -> str:
        """Human-readable, e.g. ``'blur (blur sigma in pixels = 4)'``."""
        return f"{self.kind} ({self.unit} = {self.level:g})"

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Shrink to ``base_side`` (if set), then degrade."""
        return self.apply_working(working_copy(image, self.base_side))

    def apply_working(self, image: np.ndarray) -> np.ndarray:
        """Degrade an image already shrunk to ``base_side`` (see :func:`working_copy`)."""
        return DEGRADATIONS[self.kind].function(image, self.level)


def working_copy(image: np.ndarray, base_side: int | None) -> np.ndarray:
    """The copy every degradation starts from: ``image`` shrunk to ``base_side`` (or as it is).

    Batch code computes it once per photo and calls each transform's ``apply_working``.
    """
    if base_side is None:
        return np.ascontiguousarray(image)
    return downscale(image, base_side)[0]


def conditions(kinds: Sequence[str] | None = None, *, base_side: int | None = 512) -> list[Degradation]:
    """The baseline plus every (kind, level) the lessons use, mildest first within each kind."""
    kinds = [k for k in (kinds or DEGRADATIONS) if k != "none"]
    return [Degradation("none", 0, base_side)] + [
        Degradation(k, level, base_side) for k in kinds for level in DEGRADATIONS[k].levels]


# ---------------------------------------------------------------------------------------------
# Low light: fewer photons, and the noise that comes with them
# ---------------------------------------------------------------------------------------------

#: The light levels lesson 01 uses: the same as :func:`darken`'s, for a like-for-like comparison.
LOW_LIGHT_LEVELS: tuple[float, ...] = DEGRADATIONS["darken"].levels


@dataclass(frozen=True)
class LowLight:
    """A photo taken with ``level`` times the light, by a camera with a real (noisy) sensor.

    :func:`darken` scales the light on a perfect sensor: the picture gets darker but every
    edge survives, and a gradient-based detector such as HOG, which normalises contrast, hardly
    notices. A real sensor counts photons, and photon counts are random (Poisson "shot" noise:
    a pixel that expects *N* photons gets *N* ± √N), plus a little electronic *read noise*. A
    camera then amplifies the signal to restore the brightness (auto-ISO), up to ``max_gain``,
    which amplifies the noise with it. So less light means a noisier picture, and below
    ``1 / max_gain`` of the light also a darker one. The steps:

    1. shrink to ``base_side`` pixels (as :class:`Degradation` does), undo the gamma (linear light);
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
                              base_side: int | None = 512) -> list[Degradation | LowLight]:
    """:func:`conditions` (the baseline and six kinds at six levels) plus :class:`LowLight` levels."""
    return [*conditions(base_side=base_side), *(LowLight(float(level), base_side) for level in levels)]
