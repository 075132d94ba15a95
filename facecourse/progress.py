"""Progress bars for long steps (downloads, encoding), off when FACECOURSE_PROGRESS=0."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from . import config

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, unit: str = "it", total: int | None = None) -> Iterator[T]:
    """Wrap ``items`` in a tqdm progress bar (a widget in JupyterLab, text in a terminal)."""
    if not config.progress_enabled():
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=desc, unit=unit, total=total, leave=False)
