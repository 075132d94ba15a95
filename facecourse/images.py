"""The one safe way the course turns a file into an image that face_recognition can use.

Loading and shrinking, with errors that say what is wrong, which file, and what to do; finding the
faces is the next step, :func:`facecourse.detection.find_faces`::

    from facecourse.images import load_rgb, downscale
    from facecourse.detection import find_faces

    image = load_rgb("photos/001_03.jpg")     # upright, C-contiguous uint8 RGB, (H, W, 3)
    small, scale = downscale(image, 512)       # faster detection
    boxes = find_faces(small)                  # [(top, right, bottom, left)], largest first
    top, right, bottom, left = (round(v / scale) for v in boxes[0])   # back to full size

What :func:`load_rgb` guarantees, and why:

* **Upright.** The EXIF *Orientation* tag that phones and cameras write is applied
  (``PIL.ImageOps.exif_transpose``). ``face_recognition.load_image_file`` ignores it, so a portrait
  photo taken with a phone reaches the detector lying on its side and no face is found.
* **Exactly what face_recognition needs:** a C-contiguous ``uint8`` array of shape
  ``(height, width, 3)`` in RGB order. dlib silently gives wrong results on numpy views
  (for example ``img[:, ::-1]``), so every array returned here is a fresh contiguous copy.
* **Complete or nothing.** A truncated file (an interrupted download) raises
  :class:`~facecourse.errors.ImageLoadError` instead of loading with grey rows. Note that
  *importing face_recognition switches Pillow to lenient loading for the whole session*
  (``face_recognition/api.py`` sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True``), so this module
  forces strict decoding while it decodes, and restores the previous setting afterwards.
* **Size checked before decoding.** The width and height declared in the file's header are
  compared with ``max_pixels`` before a single pixel is decoded, so a tiny file that claims to be
  30000x30000 pixels (a "decompression bomb") cannot exhaust the memory. Pillow's own global limit
  (``PIL.Image.MAX_IMAGE_PIXELS``) is neither relied on nor modified.
* **Colour modes converted correctly:** 16-bit images are *scaled* to 8 bits (Pillow's own
  ``convert("L")`` clips them, turning most of the picture white); grayscale, palette, CMYK and
  YCbCr images become RGB; **transparent pixels (RGBA, LA, PA, palette or grayscale with a
  transparent colour) are composited onto a white background**.
* **One frame.** Of an animated GIF, a multi-page TIFF or an animated PNG/WebP, only the first frame
  is used, and an :class:`ImageLoadWarning` says so. (The extra frames of an MPO file, the JPEG
  variant some cameras write, are previews or depth maps: its first frame is the photo, silently.)

Supported formats: JPEG (and MPO), PNG, GIF, BMP, TIFF, WebP, plus AVIF when this Pillow build has
it. Anything else (PDF, SVG, HEIC, a web page saved as ``.jpg``...) is refused with a message that
names what the file really is and how to convert it.
"""

from __future__ import annotations

import io
import math
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Union

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError, features

from .errors import ImageLoadError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_FORMATS",
    "ImageLoadWarning",
    "check_image_array",
    "describe_image",
    "downscale",
    "is_count",
    "load_rgb",
]

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

#: Default for ``load_rgb(max_pixels=...)``: 40 megapixels, more than any phone photo
#: (a 48 MP sensor saves 12 MP by default), about 120 MB once decoded to RGB.
DEFAULT_MAX_PIXELS = 40_000_000

# ("MPO", the multi-picture JPEG some cameras write, is opened by the JPEG plugin.)
_BASE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
_HAS_AVIF = bool(features.check("avif"))
#: Pillow format names that :func:`load_rgb` accepts; everything else is refused.
SUPPORTED_FORMATS: tuple[str, ...] = _BASE_FORMATS + (("AVIF",) if _HAS_AVIF else ())
_SUPPORTED_TEXT = "JPEG, PNG, GIF, BMP, TIFF, WebP" + (", AVIF" if _HAS_AVIF else "")

_IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".avif",
    ".heic", ".heif", ".mpo",
}
_HEAD_BYTES = 4096  # how much of the file is sniffed to say what a non-image file really is

# Magic numbers of the supported formats: used only to word the error for a damaged header.
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1",
                b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}

_ORIENTATION_TEXT = {
    1: "upright (no change needed)",
    2: "mirrored left-right",
    3: "upside down (rotated 180 degrees)",
    4: "mirrored top-bottom",
    5: "mirrored and rotated 90 degrees",
    6: "stored rotated: turn 90 degrees clockwise to display",
    7: "mirrored and rotated 270 degrees",
    8: "stored rotated: turn 90 degrees counter-clockwise to display",
}


class ImageLoadWarning(UserWarning):
    """An image was loaded, but not all of it was used (extra frames) or trusted (bad EXIF).

    A separate category so that a notebook can silence or escalate exactly these warnings,
    e.g. ``warnings.simplefilter("error", ImageLoadWarning)``.
    """


# --------------------------------------------------------------------------------------------
# Opening a file: path or bytes -> binary stream, with clear errors for what is not a file
# --------------------------------------------------------------------------------------------

def _label_for(source: object, name: str | None) -> str:
    """How the messages refer to the image: the name or path in quotes, or 'the image data'."""
    if name is not None:
        return f"'{name}'"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"the image data ({len(source):,} bytes)" if len(source) else "the image data"
    if isinstance(source, (str, os.PathLike)):
        return f"'{os.fspath(source)}'"
    return "the image"


@contextmanager
def _open_stream(source: ImageSource, label: str) -> Iterator[tuple[IO[bytes], bytes, int]]:
    """Yield (stream, first bytes, total size) for a path or for bytes; raise ImageLoadError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ImageLoadError(
                f"Cannot load {label}: it is empty (0 bytes). The file was probably not "
                "downloaded or read completely; read it again."
            )
        yield io.BytesIO(data), data[:_HEAD_BYTES], len(data)
        return
    if not isinstance(source, (str, os.PathLike)):
        extra = ""
        if isinstance(source, np.ndarray):
            extra = (" This is already an image array: pass it to find_faces() or downscale() "
                     "directly.")
        elif isinstance(source, Image.Image):
            extra = " For a PIL image use np.array(img.convert('RGB')) instead."
        raise TypeError(
            "load_rgb() expects a file path (str or pathlib.Path) or the file's content as bytes, "
            f"not {type(source).__name__}.{extra}"
        )

    path = Path(os.fspath(source))
    if path.is_dir():  # checked first: on Windows, opening a folder raises PermissionError
        raise ImageLoadError(
            f"Cannot load {label}: it is a folder, not an image file. Pass the path of one image "
            "inside it, e.g. sorted(Path(folder).glob('*.jpg'))[0], or loop over them."
        )
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the with-block below
    except FileNotFoundError as err:
        if os.fspath(source).startswith(("http://", "https://")):  # Path() would mangle the '//'
            advice = ("This is a web address: load_rgb reads local files only. Download the image "
                      "first, then pass the downloaded file's path.")
        else:
            advice = ("Check the spelling and the folder; a relative path is resolved from the "
                      f"current working directory, which is {os.getcwd()}.")
        raise ImageLoadError(f"Cannot load {label}: the file does not exist. {advice}") from err
    except PermissionError as err:
        raise ImageLoadError(
            f"Cannot load {label}: permission denied. Check the file's permissions, or copy it to "
            "a folder you can read."
        ) from err
    except OSError as err:
        raise ImageLoadError(
            f"Cannot load {label}: the file could not be opened ({err.strerror or err}). Check "
            "that the disk or network share is available and try again."
        ) from err

    with stream:
        head = stream.read(_HEAD_BYTES)
        if not head:
            raise ImageLoadError(
                f"Cannot load {label}: the file is empty (0 bytes). It was probably not downloaded "
                "or copied completely; download or copy it again."
            )
        try:
            size = os.fstat(stream.fileno()).st_size
        except OSError:
            size = len(head)
        stream.seek(0)
        yield stream, head, size


def _suffix_note(label: str) -> str:
    """', despite its .jpg extension' when the name promises an image that the content is not."""
    suffix = Path(label.strip("'")).suffix.lower()
    return f", despite its {suffix} extension" if suffix in _IMAGE_SUFFIXES else ""


def _diagnose_unidentified(stream: IO[bytes], head: bytes, label: str) -> str:
    """Word the error for a file that Pillow could not identify as a supported image."""
    supported = f" Supported formats: {_SUPPORTED_TEXT}."
    note = _suffix_note(label)

    if head.startswith(b"%PDF"):
        return (f"Cannot load {label}: it is a PDF document, not a photo{note}; this course does "
                "not read PDF. Export the page or the picture in it as PNG or JPEG (e.g. with "
                f"your PDF viewer's export, or: pdftoppm -png -r 150 file.pdf page).{supported}")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return (f"Cannot load {label}: it is a HEIC/HEIF photo (the iPhone's default format), "
                    "which this course cannot read. Convert it to JPEG first: export it as JPEG "
                    "(Photos, Preview or any image editor), or on the iPhone choose Settings > "
                    f"Camera > Formats > Most Compatible for future photos.{supported}")
        if brand in _AVIF_BRANDS and not _HAS_AVIF:
            return (f"Cannot load {label}: it is an AVIF image, which this installation of Pillow "
                    f"cannot read. Convert it to PNG or JPEG first.{supported}")
        if brand not in _AVIF_BRANDS:
            return (f"Cannot load {label}: it is a video or other MP4/QuickTime file (brand "
                    f"{brand.decode('ascii', 'replace')!r}), not a photo{note}. Use a still image: "
                    f"take a screenshot or export a frame as PNG or JPEG.{supported}")

    text = _as_text(head)
    if text is not None:
        start = text.lstrip("\ufeff \t\r\n")
        lower = start.lower()
        if lower.startswith("version https://git-lfs"):
            return (f"Cannot load {label}: it is a Git LFS pointer (a small text file that stands "
                    "for the real image), not the image itself: the repository was cloned without "
                    "Git LFS. Run 'git lfs install' and 'git lfs pull' in the repository, then try "
                    "again.")
        if "<svg" in lower and lower.startswith(("<svg", "<?xml", "<!doctype svg", "<!--")):
            return (f"Cannot load {label}: it is an SVG vector drawing, not a photo{note}; this "
                    "course reads raster images only. Use a photo, or render the drawing to PNG "
                    f"(e.g. in Inkscape or a web browser).{supported}")
        html_start = ("<!doctype html", "<html", "<head", "<!--")
        if lower.startswith(html_start) or "<html" in lower[:1024]:
            return (f"Cannot load {label}: it is an HTML web page, not an image{note}. The "
                    "download probably saved a web page (an error or login page, or the page "
                    "around the picture) instead of the picture: open the image itself in the "
                    "browser, save it with 'Save image as...', or check the download URL.")
        first_line = start.splitlines()[0] if start.strip() else ""
        snippet = first_line[:60] + ("..." if len(first_line) > 60 else "")
        return (f"Cannot load {label}: it is a text file, not an image{note} (it starts with "
                f"{snippet!r}). Check that you saved or downloaded the picture itself, not a page, "
                f"a list of links or an error message.{supported}")

    fmt = _sniff_supported(head)
    if fmt is not None:
        return _damaged_header_message(label, fmt, None)

    other = _identify_any_format(stream)
    if other is not None:
        return (f"Cannot load {label}: it is an image in {other} format, which this course does "
                f"not read. Convert it to PNG or JPEG first (any image editor can).{supported}")
    return (f"Cannot load {label}: it is not an image in any supported format, or it is damaged "
            f"(its first bytes are {head[:8].hex(' ')}). If it opens in an image viewer, save it "
            f"again as PNG or JPEG; otherwise get a fresh copy.{supported}")


def _sniff_supported(head: bytes) -> str | None:
    """The supported format whose magic number the file starts with, if any."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def _damaged_header_message(label: str, fmt: str | None, err: BaseException | None) -> str:
    detail = f" ({err})" if err is not None and str(err) else ""
    start = f"it starts like a {fmt} file, but its header" if fmt else "its header"
    return (f"Cannot load {label}: {start} is damaged and cannot be read{detail}. Get a fresh copy "
            "of the file (download or copy it again), or, if it opens in an image viewer, save it "
            "again as PNG or JPEG.")


def _as_text(head: bytes) -> str | None:
    """The decoded start of the file if it looks like text, else None."""
    sample = head[:1024]
    if b"\x00" in sample:
        return None
    try:
        return sample.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start >= len(sample) - 3:  # a multi-byte character cut by the sample's end
            return sample[: err.start].decode("utf-8")
        return None


def _identify_any_format(stream: IO[bytes]) -> str | None:
    """Name a format Pillow knows but the course does not accept (PSD, ICO, EPS...), header only."""
    try:
        stream.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(stream) as other:
                return other.format
    except Exception:  # noqa: BLE001 - only used to word an error message
        return None


def _open_without_bomb_check(stream: IO[bytes]) -> ImageFile.ImageFile | None:
    """Read the header of a supported image whose declared size trips Pillow's global limit.

    ``Image.open`` raises DecompressionBombError above ``2 * Image.MAX_IMAGE_PIXELS`` before we can
    read the declared size. Here each plugin's factory (``Image.OPEN``, Pillow's plugin registry)
    parses just the header, exactly as ``Image.open`` does, minus that global check. ``load_rgb``
    then applies its own ``max_pixels`` limit. Returns None if no plugin accepts the file.
    """
    Image.init()
    stream.seek(0)
    prefix = stream.read(16)
    for fmt in SUPPORTED_FORMATS:
        entry = Image.OPEN.get(fmt)
        if entry is None:
            continue
        factory, accept = entry
        try:
            accepted = (not accept) or accept(prefix)
            if isinstance(accepted, str) or not accepted:
                continue
            stream.seek(0)
            return factory(stream, "")
        except Exception:  # noqa: BLE001 - same as Image.open: try the next plugin
            continue
    return None


def _open_header(stream: IO[bytes], head: bytes, label: str) -> ImageFile.ImageFile:
    """Identify the image and read its header, without decoding any pixel."""
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS; load_rgb checks max_pixels itself right after.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(stream, formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError as err:
        image = _open_without_bomb_check(stream)
        if image is None:
            raise ImageLoadError(
                f"Cannot load {label}: its header declares more than "
                f"{2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels, far too many to decode safely (a "
                "file this large may be a 'decompression bomb'). Downscale it before loading, e.g. "
                "with ImageMagick: magick <file> -resize 4000x4000 smaller.jpg"
            ) from err
        return image
    except UnidentifiedImageError as err:
        raise ImageLoadError(_diagnose_unidentified(stream, head, label)) from err
    except Exception as err:  # a plugin choking on a damaged header
        raise ImageLoadError(_damaged_header_message(label, _sniff_supported(head), err)) from err


def _memory_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:,.0f} MB"


def _too_large_message(label: str, width: int, height: int, max_pixels: int,
                       file_bytes: int) -> str:
    pixels = width * height
    side = min(4000, math.isqrt(max_pixels))
    return (
        f"Cannot load {label}: its header declares {width}x{height} pixels "
        f"({pixels / 1e6:,.1f} megapixels, in a file of {file_bytes:,} bytes), more than the limit "
        f"of max_pixels={max_pixels:,}. Decoding it would need about {_memory_text(pixels * 3)} of "
        "memory; a small file declaring a huge size is a 'decompression bomb', made to exhaust "
        f"memory. Downscale it before loading, e.g. with ImageMagick: magick <file> -resize "
        f"{side}x{side} smaller.jpg (face detection needs no more); or, only if you trust the file "
        f"and have the memory, raise the limit: load_rgb(..., max_pixels={pixels})."
    )


_STRICT_LOCK = threading.RLock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Decode with Pillow's truncation check on, whatever the session's setting.

    ``import face_recognition`` sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` globally, which
    makes Pillow fill the missing part of a truncated file with grey instead of failing. The setting
    is restored on exit, so code outside this module keeps whatever behaviour it had.
    """
    with _STRICT_LOCK:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode_error(label: str, fmt: str, err: BaseException) -> ImageLoadError:
    text = str(err)
    if isinstance(err, EOFError) or "truncated" in text.lower():
        return ImageLoadError(
            f"Cannot load {label}: the {fmt} file is truncated (its image data ends early), "
            "probably because a download or copy was interrupted. Download or copy it again. "
            "(The readable part is not used: the missing rows would be filled with grey and "
            "silently spoil face detection.)"
        )
    if isinstance(err, MemoryError):
        return ImageLoadError(
            f"Cannot load {label}: there is not enough memory to decode it. Downscale the file "
            "before loading (e.g. with ImageMagick: magick <file> -resize 4000x4000 smaller.jpg), "
            "or close other notebooks to free memory."
        )
    return ImageLoadError(
        f"Cannot load {label}: the {fmt} image data is damaged and cannot be decoded ({text}). "
        "Get a fresh copy of the file, or open it in an image editor and save it again as PNG or "
        "JPEG."
    )


# --------------------------------------------------------------------------------------------
# Colour modes -> 8-bit RGB
# --------------------------------------------------------------------------------------------

def _sixteen_bit_to_rgb(image: Image.Image, label: str) -> np.ndarray:
    """Scale 16-bit grayscale (modes I;16*, and I holding 0..65535) to 8-bit RGB."""
    values = np.asarray(image)
    if values.size and (values.min() < 0 or values.max() > 65535):
        raise ImageLoadError(
            f"Cannot load {label}: it holds 32-bit integer pixel values (mode {image.mode}, range "
            f"{int(values.min())}..{int(values.max())}), not a photo's 8- or 16-bit values, so "
            "there is no safe way to turn it into a photo. Export it as an 8-bit PNG or JPEG first."
        )
    # round(v * 255 / 65535) == round(v / 257): 0 -> 0, 65535 -> 255, proportional in between.
    gray = ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


def _to_rgb_array(image: Image.Image, label: str) -> np.ndarray:
    """Convert a loaded, upright image of any mode to a (H, W, 3) uint8 RGB array."""
    mode = image.mode
    if mode == "I" or mode.startswith("I;16"):
        return _sixteen_bit_to_rgb(image, label)
    if mode == "F":
        raise ImageLoadError(
            f"Cannot load {label}: it holds floating-point pixel values (mode F, e.g. a scientific "
            "TIFF), not a photo. Export it as an 8-bit PNG or JPEG first."
        )
    try:
        has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
        if has_alpha:
            # Documented behaviour: transparent pixels become white.
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            rgb = Image.alpha_composite(white, rgba).convert("RGB")
        elif mode == "RGB":
            rgb = image
        else:  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX...
            rgb = image.convert("RGB")
    except (ValueError, OSError) as err:
        raise ImageLoadError(
            f"Cannot load {label}: its colour mode {mode} cannot be converted to RGB. Open it in "
            "an image editor and save it again as an ordinary RGB PNG or JPEG."
        ) from err
    return np.array(rgb, dtype=np.uint8)


def _orientation_from_header(image: Image.Image) -> int | None:
    """The EXIF Orientation tag (1-8) if the already-read header holds it, else None."""
    try:
        if image.format == "TIFF":
            exif = image.getexif()  # TIFF tags are part of the header
        elif "exif" in image.info:
            exif = Image.Exif()
            exif.load(image.info["exif"])
        else:  # e.g. a PNG whose eXIf chunk follows the pixel data: not read without decoding
            return None
        value = exif.get(ExifTags.Base.Orientation)
        return int(value) if value is not None else None
    except Exception:  # noqa: BLE001 - damaged EXIF: diagnostics only
        return None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def is_count(value: object) -> bool:
    """True for a whole number (a Python or numpy int), False for bools, floats and the rest."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def load_rgb(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS,
             name: str | None = None) -> np.ndarray:
    """Load a photo as an upright, C-contiguous ``uint8`` RGB array of shape (H, W, 3).

    Args:
        source: a file path (``str`` or ``pathlib.Path``) or the file's content as ``bytes``.
        max_pixels: refuse images whose header declares more pixels than this (checked before
            any decoding; default 40 million).
        name: how error messages refer to the image (default: the path, or "the image data").

    Returns:
        A new, writeable array that owns its data; EXIF orientation applied; 16-bit images scaled
        to 8 bits; transparent pixels composited onto white; first frame only of an animation
        (with an :class:`ImageLoadWarning`).

    Raises:
        ImageLoadError: the file is missing, a folder, empty, truncated, damaged, not an image, in
            an unsupported format, or larger than ``max_pixels``. The message says which file, what
            is wrong and what to do; the original exception is chained as ``__cause__``.
        TypeError: ``source`` is neither a path nor bytes.
        ValueError: ``max_pixels`` is not a positive integer.
    """
    if not is_count(max_pixels) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, not {max_pixels!r}.")
    label = _label_for(source, name)
    frames_note = None
    with _open_stream(source, label) as (stream, head, file_bytes), _strict_decoding():
        image = _open_header(stream, head, label)
        with image:
            fmt = image.format or "image"
            width, height = image.size
            if width * height > max_pixels:
                raise ImageLoadError(
                    _too_large_message(label, width, height, max_pixels, file_bytes))
            try:
                n_frames = getattr(image, "n_frames", 1)
                image.load()  # full decode now: a truncated file fails here, not later
            except Exception as err:  # OSError, EOFError, SyntaxError, zlib...
                raise _decode_error(label, fmt, err) from err
            if n_frames > 1 and fmt != "MPO":
                kind = "an animation" if fmt in ("GIF", "PNG", "WEBP", "AVIF") else "several pages"
                frames_note = (
                    f"{label} has {n_frames} frames ({kind}); only the first frame is used. To use "
                    "another one, save that frame as a separate PNG or JPEG."
                )
            try:
                upright = ImageOps.exif_transpose(image)
            except Exception as err:  # noqa: BLE001 - damaged EXIF must not stop the load
                upright = image
                warnings.warn(ImageLoadWarning(
                    f"{label}: its EXIF metadata is damaged ({err}), so its orientation tag was "
                    "ignored and the photo may be sideways or upside down. Look at it (e.g. "
                    "plt.imshow) before detecting faces; re-saving it in an image editor fixes it."
                ), stacklevel=2)
            array = _to_rgb_array(upright, label)
    if frames_note is not None:
        warnings.warn(ImageLoadWarning(frames_note), stacklevel=2)
    return np.ascontiguousarray(array, dtype=np.uint8)


def describe_image(source: ImageSource, *, name: str | None = None) -> dict[str, Any]:
    """Report what a file declares in its header, without decoding the pixels (for diagnostics).

    Works even for files that :func:`load_rgb` would refuse as too large. Returns a dict with keys
    ``name``, ``format``, ``width``, ``height``, ``size`` ((width, height) as declared, before any
    EXIF rotation), ``megapixels``, ``mode`` (Pillow's colour mode, e.g. "RGB", "L", "I;16",
    "CMYK"), ``exif_orientation`` (1-8, or None when the header has no such tag),
    ``orientation`` (that tag in words) and ``file_bytes``.

    Raises:
        ImageLoadError: as :func:`load_rgb`, for files that are missing, empty, not images or in an
            unsupported format.
    """
    label = _label_for(source, name)
    with _open_stream(source, label) as (stream, head, file_bytes):
        image = _open_header(stream, head, label)
        with image:
            width, height = image.size
            orientation = _orientation_from_header(image)
            if orientation is None:
                in_words = "no orientation tag (treated as upright)"
            else:
                in_words = _ORIENTATION_TEXT.get(
                    orientation, f"invalid orientation tag {orientation} (ignored)")
            return {
                "name": label.strip("'"),
                "format": image.format,
                "width": width,
                "height": height,
                "size": (width, height),
                "megapixels": round(width * height / 1e6, 2),
                "mode": image.mode,
                "exif_orientation": orientation,
                "orientation": in_words,
                "file_bytes": file_bytes,
            }


def check_image_array(image: object, label: str, func: str, *, rgb_only: bool) -> np.ndarray:
    """Validate an image array for ``func`` (``downscale``, ``detection.find_faces``); raise
    ImageLoadError with the fix for the usual mistakes. Returns ``image`` unchanged."""
    wanted = ("a numpy array of dtype uint8 and shape (height, width, 3), RGB order"
              if rgb_only else
              "a numpy array of dtype uint8 and shape (height, width), (height, width, 3) or "
              "(height, width, 4)")
    intro = f"{func}() needs an 8-bit image, {wanted}; {label} is "
    load_hint = " Load photos with load_rgb(path), which always returns the right format."
    if not isinstance(image, np.ndarray):
        if isinstance(image, Image.Image):
            fix = " Convert it with np.array(img.convert('RGB'))."
        elif isinstance(image, (str, os.PathLike, bytes)):
            fix = " Pass the image, not its file name: image = load_rgb(path)."
        else:
            fix = ""
        raise ImageLoadError(f"{intro}of type {type(image).__name__}, not a numpy array.{fix}"
                             f"{load_hint}")
    shape = tuple(image.shape)
    channels_ok = (image.ndim == 3 and shape[2] == 3) or (
        not rgb_only and (image.ndim == 2 or (image.ndim == 3 and shape[2] == 4)))
    if not channels_ok:
        if image.ndim == 2:
            fix = " It is grayscale: make it RGB with np.stack([image] * 3, axis=-1)."
        elif image.ndim == 3 and shape[2] == 4:
            fix = " It has an alpha channel (RGBA): keep the colours with image[:, :, :3]."
        elif image.ndim == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
            fix = (" It looks channels-first (C, H, W): use np.transpose(image, (1, 2, 0)).")
        else:
            fix = ""
        raise ImageLoadError(f"{intro}an array of shape {shape}.{fix}{load_hint}")
    if image.dtype != np.uint8:
        if image.dtype.kind == "f":
            fix = (" For floats in 0..1 use (image * 255).round().astype(np.uint8); for floats in "
                   "0..255 use image.round().astype(np.uint8).")
        elif image.dtype.kind in "ui":
            fix = (" For 16-bit values use ((image.astype(np.uint32) + 128) // 257)"
                   ".astype(np.uint8); for values already in 0..255 use image.astype(np.uint8).")
        elif image.dtype == np.bool_:
            fix = " For a mask use image.astype(np.uint8) * 255."
        else:
            fix = ""
        raise ImageLoadError(f"{intro}an array of dtype {image.dtype}.{fix}{load_hint}")
    if 0 in shape[:2]:
        raise ImageLoadError(f"{intro}empty (shape {shape}).{load_hint}")
    return image


def downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink an image so that its longer side is at most ``max_side`` pixels (never enlarge).

    Uses Pillow's Lanczos filter after an integer-factor ``reduce`` pre-step (``reducing_gap=3``),
    which is fast and visually indistinguishable from a pure Lanczos resize. Face detection time
    grows with the pixel count, so ``downscale(image, 512)`` makes HOG detection several times
    faster on a phone photo.

    Returns:
        ``(small, scale)``: a new C-contiguous uint8 array (always a copy, also when no shrinking
        was needed) and the factor applied, ``scale = new_size / old_size`` (1.0 if unchanged).
        A box found in ``small`` maps back to the original as ``[round(v / scale) for v in box]``
        (accurate to about one pixel, as sizes are rounded to whole pixels).
    """
    image = check_image_array(image, "the image", "downscale", rgb_only=False)
    if not is_count(max_side) or max_side < 1:
        raise ValueError(f"max_side must be a positive integer, not {max_side!r}.")
    height, width = image.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return np.array(image, dtype=np.uint8, order="C", copy=True), 1.0
    scale = max_side / longest
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(np.ascontiguousarray(image)).resize(
        new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.ascontiguousarray(np.array(small, dtype=np.uint8)), scale
