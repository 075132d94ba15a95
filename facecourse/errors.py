"""Exceptions of the course's helper package.

Every error says what is wrong, which file it concerns, and what to do about it,
so that a student never has to read a traceback from deep inside dlib or PIL.
All of them derive from :class:`CourseError`, so a notebook can catch them in one place.
"""

from __future__ import annotations


class CourseError(Exception):
    """Base class for every error the course raises on purpose."""


class ManifestError(CourseError):
    """The image manifest is malformed, or an image is not allowed by it."""


class NotInManifestError(ManifestError):
    """An image has no manifest entry, so the course refuses to use it."""


class IntegrityError(ManifestError):
    """A file's SHA-256 differs from the one recorded in the manifest."""


class ConsentRevokedError(ManifestError):
    """The person in the image has withdrawn consent; the course no longer uses their data."""


class DownloadError(CourseError):
    """An image could not be fetched from upstream or from the configured mirror."""


class ImageLoadError(CourseError):
    """A file could not be read as a photo (corrupt, empty, not an image, too large...)."""


class FaceDetectionError(CourseError):
    """Face detection did not give exactly what the caller asked for."""


class NoFaceError(FaceDetectionError):
    """No face was found in an image."""


class MultipleFacesError(FaceDetectionError):
    """Several faces were found where exactly one was expected."""
