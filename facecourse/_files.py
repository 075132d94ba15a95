"""The one way the course writes a file: atomically, so a reader never sees half of it.

:func:`write_atomic` writes to a temporary file in the same folder, flushes it to disk and
renames it over the target (``os.replace``, atomic on POSIX and Windows): a kernel reading the
file at the same time, or a crash half-way, sees the old file or the new one, never a mixture.
Every file the package writes whole goes through it (faceprint cache, class cache and its index,
derived files with their ``.sources`` sidecars, the rights index, the audit log's head). The audit
log itself is the one file the package appends to, a line at a time (see :mod:`facecourse.audit`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .errors import CourseError

__all__ = ["FileWriteError", "write_atomic"]


class FileWriteError(CourseError, OSError):
    """A file could not be written (missing or read-only folder, full disk...).

    Also an ``OSError``, so code that already handled a failed write keeps doing so.
    """


def write_atomic(path: Path | str, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The folder must exist (callers create it: a missing folder is usually a wrong path, not
    something to create silently). ``mode`` (e.g. ``0o444``) is set on the file before it
    appears under its name. On any failure the temporary file is removed and the old file, if
    any, is left as it was.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", b"hello").read_bytes()
    b'hello'
    >>> sorted(p.name for p in folder.iterdir())  # no temporary file left behind
    ['a.txt']
    """
    path = Path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomic() writes bytes, got {type(data).__name__}; "
                        "encode text first (text.encode('utf-8')).")
    folder = path.parent
    if not folder.is_dir():
        raise FileWriteError(f"Cannot write {path.name}: the folder {folder} does not exist. Create it first "
                             "(Path(...).mkdir(parents=True)), or check FACECOURSE_CACHE_DIR if it points there.")
    # unique per process and thread; starts with "." so folder listings and globs skip it
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666: the umask applies, as for open()
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, PermissionError):
            raise FileWriteError(f"Cannot write {path.name}: the folder {folder} is not writable by you. Point "
                                 "FACECOURSE_CACHE_DIR at a folder you own (or fix its permissions).") from err
        if isinstance(err, OSError) and not isinstance(err, FileWriteError):
            raise FileWriteError(f"Cannot write {path}: {err.strerror or err}. Check that the disk is not full "
                                 "and the folder is writable.") from err
        raise
    return path
