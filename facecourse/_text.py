"""One way to print a number: rates as percentages, intervals, counts, and aligned text tables.

Every module that prints a rate uses these, so the same rate reads the same everywhere. Where
two printed outputs used different precisions, the caller passes ``digits=`` (and ``tiny=``)
explicitly so that nothing already printed changes.

>>> percent(0.0091), percent(2.1e-5), percent(float("nan"))
('0.91%', '0.0021%', 'n/a')
>>> interval((0.0069, 0.0121)), count(47, 5151)
('0.69%-1.21%', '47 of 5,151')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["confidence_label", "count", "interval", "percent", "rate_text", "table"]


def percent(x: float | None, digits: int = 2, *, tiny: bool = True) -> str:
    """A rate as a percentage with ``digits`` decimals; nan (or None) -> ``"n/a"``.

    With ``tiny=True`` (the default) a rate under 0.1 % keeps two significant digits instead
    of rounding to zero ("0.0021%"; the ``#`` keeps a trailing zero: "0.010%"); 0 stays
    "0.00%". ``tiny=False`` is the plain fixed-point form ("0.0%").

    >>> percent(0.5), percent(0.001), percent(0.0001), percent(0.0)
    ('50.00%', '0.10%', '0.010%', '0.00%')
    >>> percent(0.25, 1, tiny=False), percent(0.5, 0, tiny=False), percent(1e-5, 1, tiny=False)
    ('25.0%', '50%', '0.0%')
    """
    if x is None or math.isnan(x):
        return "n/a"
    pct = 100 * x
    if tiny and not (pct == 0 or pct >= 0.1):
        return f"{pct:#.2g}%"
    return f"{pct:.{digits}f}%"


def interval(ci: tuple[float, float], digits: int = 2, *, tiny: bool = True) -> str:
    """An interval of rates, ``"0.69%-1.21%"``; ``"n/a"`` when its low end is nan.

    >>> interval((0.0, 0.2775)), interval((float("nan"), float("nan")))
    ('0.00%-27.75%', 'n/a')
    """
    lo, hi = ci
    if math.isnan(lo):
        return "n/a"
    return f"{percent(lo, digits, tiny=tiny)}-{percent(hi, digits, tiny=tiny)}"


def confidence_label(confidence: float) -> str:
    """A confidence level as people say it: 0.95 -> ``"95%"``, 0.9 -> ``"90%"``.

    >>> confidence_label(0.95), confidence_label(0.999)
    ('95%', '99.9%')
    """
    return f"{100 * confidence:g}%"


def count(k: int, n: int) -> str:
    """``k`` of ``n`` with thousands separators: ``"47 of 5,151"``."""
    return f"{int(k):,} of {int(n):,}"


def rate_text(name: str, rate: float, k: int, n: int, what: str, ci: tuple[float, float],
              confidence: float) -> str:
    """One line about a rate: its value, the counts behind it and its interval.

    >>> rate_text("FMR", 0.5, 1, 2, "non-mated pairs", (0.0945, 0.9055), 0.95)
    'FMR 50.00% (1 of 2 non-mated pairs; 95% CI 9.45%-90.55%)'
    """
    return (f"{name} {percent(rate)} ({count(k, n)} {what}; "
            f"{confidence_label(confidence)} CI {interval(ci)})")


def table(rows: Sequence[Any]) -> str:
    """Render rows as an aligned text table (no pandas needed): ``print(table(rows))``.

    A row is a mapping {column: value} or any object with an ``as_row()`` method (the
    package's rate and result types). The columns are those of the first row; the first
    column is left-aligned, the others right-aligned. Notebooks call it as
    :func:`facecourse.metrics.format_table`.

    >>> print(table([{"group": "A", "FMR": "1.00%"}, {"group": "B", "FMR": "12.50%"}]))
    group     FMR
    -----  ------
    A       1.00%
    B      12.50%
    """
    cells_by_row = [dict(r.as_row()) if hasattr(r, "as_row") else dict(r) for r in rows]
    if not cells_by_row:
        return "(no rows)"
    header = list(cells_by_row[0])
    cells = [header] + [[str(row.get(col, "")) for col in header] for row in cells_by_row]
    widths = [max(len(line[c]) for line in cells) for c in range(len(header))]

    def render(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        return "  ".join([first] + [cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=True)])

    return "\n".join([render(header), render(["-" * w for w in widths]), *map(render, cells[1:])])
