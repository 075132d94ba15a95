"""Progress bars for long steps (downloads, encoding), off when FACECOURSE_PROGRESS=0."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from . import config

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, unit: str = "it", total: int | None = None) -> Iterator[T]:
    """Wrap ``items`` in a tqdm progress bar (a widget in JupyterLab, text in a terminal).

    No bar when bars are off, or when there is nothing to do (``total`` 0, or an empty list):
    a bar for zero items would only print "0it" into a notebook whose outputs are compared.
    """
    size = total if total is not None else (len(items) if isinstance(items, Sized) else None)
    if not config.progress_enabled() or size == 0:
        yield from items
        return
    from tqdm.auto import tqdm  # only when a bar is shown: tqdm is not needed otherwise

    yield from tqdm(items, desc=desc, unit=unit, total=total, leave=False)
