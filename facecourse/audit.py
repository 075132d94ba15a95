"""The audit log of a face search index: who searched, when, why - hash-chained, so edits show.

One JSON object per line in ``audit.jsonl`` (kind, time, user, purpose, what came back as
pseudonymous tokens; never the probe), each carrying ``seq`` (0, 1, 2 ...) and ``prev``, the
SHA-256 of the line before it (:data:`GENESIS` for the first), and ``audit.head`` recording the
number of lines and the hash of the last one. :func:`verify_audit_log` then detects an edited,
deleted, inserted or truncated line, and :func:`audit_summary` reads the log the way an auditor
would. The log is append-only through this API; :class:`facecourse.rights.FaceIndex` writes it.

Times come from an injectable clock: :func:`utc_now` by default, :class:`StepClock` in tests and
notebooks, so that a notebook's log is the same at every run.

>>> clock = StepClock("2026-11-26T09:00:00Z", step=timedelta(minutes=5))
>>> iso(clock()), iso(clock())
('2026-11-26T09:00:00Z', '2026-11-26T09:05:00Z')
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from ._files import write_atomic
from .errors import CourseError

__all__ = [
    "GENESIS",
    "AuditCheck",
    "AuditLog",
    "AuditLogError",
    "AuditSummary",
    "Clock",
    "StepClock",
    "audit_summary",
    "iso",
    "parse_time",
    "read_audit_log",
    "utc_now",
    "verify_audit_log",
]

#: ``prev`` of the first audit line: there is no line before it.
GENESIS = "0" * 64
Clock = Callable[[], datetime]


class AuditLogError(CourseError):
    """The audit log does not verify, so the index refuses to append to it."""


# --------------------------------------------------------------------------- time


def iso(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC to the second, e.g. ``2026-11-26T09:00:00Z``.

    A naive datetime is taken to be UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as written by :func:`iso` (``Z`` or an offset), as an aware UTC datetime.

    >>> parse_time("2026-11-26T10:00:00+01:00") == parse_time("2026-11-26T09:00:00Z")
    True
    """
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def utc_now() -> datetime:
    """The real clock (the default)."""
    return datetime.now(timezone.utc)


class StepClock:
    """A deterministic clock for tests and notebooks: ``start``, then ``step`` later at each reading.

    >>> clock = StepClock("2026-01-01T00:00:00Z", step=timedelta(hours=1))
    >>> [iso(clock()) for _ in range(2)], iso(clock.peek())
    (['2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z'], '2026-01-01T02:00:00Z')
    """

    def __init__(self, start: str | datetime, step: timedelta = timedelta(minutes=1)) -> None:
        self._next = parse_time(start) if isinstance(start, str) else parse_time(iso(start))
        self.step = step

    def __call__(self) -> datetime:
        now = self._next
        self._next = now + self.step
        return now

    def peek(self) -> datetime:
        """The time the next reading will give, without advancing."""
        return self._next

    def advance(self, by: timedelta) -> None:
        """Jump forward (e.g. a year later, to show retention limits)."""
        self._next += by


# --------------------------------------------------------------------------- audit log


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditLog:
    """An append-only, hash-chained JSON-lines log (``audit.jsonl``) with a head file (``audit.head``).

    Each line is a JSON object with ``seq`` (0, 1, 2 ...) and ``prev`` (the SHA-256 of the
    previous line's bytes; :data:`GENESIS` for the first). ``audit.head`` records the number of
    lines and the hash of the last one, so that removing lines *at the end* is detected too.
    The head is only as trustworthy as the place it is kept: an auditor should keep a copy
    elsewhere (``expected_head`` of :func:`verify_audit_log`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "audit.jsonl"
        self.head_path = self.folder / "audit.head"

    def _lines(self) -> list[bytes]:
        return self.path.read_bytes().splitlines() if self.path.exists() else []

    def __len__(self) -> int:
        """The number of lines in the log."""
        return len(self._lines())

    def head(self) -> str:
        """Hash of the last line (:data:`GENESIS` when the log is empty)."""
        lines = self._lines()
        return _line_hash(lines[-1]) if lines else GENESIS

    def append(self, records: Sequence[dict[str, Any]]) -> list[int]:
        """Append records (each gets ``seq`` and ``prev``); return their sequence numbers.

        Refuses (:class:`AuditLogError`) when the log no longer matches its head file: appending
        would bury the evidence of tampering under new lines.
        """
        lines = self._lines()
        n, prev = len(lines), (_line_hash(lines[-1]) if lines else GENESIS)
        recorded = self._read_head()
        if (n or recorded) and recorded != {"lines": n, "last": prev}:
            raise AuditLogError(
                f"The audit log {self.path.name} does not match {self.head_path.name} "
                f"({n} line(s) found, head says {recorded.get('lines')}): it was edited or truncated. "
                "Run verify_audit_log() and investigate before anything is appended."
            )
        out, seqs = [], []
        for record in records:
            for key in ("seq", "prev"):
                if key in record:
                    raise ValueError(f"'{key}' is set by the log itself; remove it from the record.")
            text = _dumps({**record, "seq": n, "prev": prev})
            out.append(text + "\n")
            seqs.append(n)
            prev, n = _line_hash(text.encode()), n + 1
        if not out:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(out))
            fh.flush()
            os.fsync(fh.fileno())
        write_atomic(self.head_path, (_dumps({"lines": n, "last": prev}) + "\n").encode())
        return seqs

    def _read_head(self) -> dict[str, Any]:
        if not self.head_path.exists():
            return {}
        try:
            return json.loads(self.head_path.read_text())
        except ValueError:
            return {"lines": "unreadable"}

    def records(self) -> list[dict[str, Any]]:
        """Every line, parsed (raises :class:`AuditLogError` on a line that is not JSON)."""
        out = []
        for i, line in enumerate(self._lines()):
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AuditLogError(f"Line {i} of {self.path.name} is not valid JSON: the log was edited.") from None
        return out


@dataclass(frozen=True)
class AuditCheck:
    """Result of :func:`verify_audit_log`."""

    lines: int
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"Audit log verifies: {self.lines} line(s), hash chain intact, head {self.head[:16]}..."
        return "Audit log FAILS verification:\n" + "\n".join(f"  - {p}" for p in self.problems)


class HasFolder(Protocol):
    """Anything kept in a folder with its audit log, such as a :class:`facecourse.rights.FaceIndex`."""

    folder: Path


def _folder_of(where: HasFolder | Path | str) -> Path:
    return Path(where) if isinstance(where, (str, os.PathLike)) else Path(where.folder)


def verify_audit_log(where: HasFolder | Path | str, *, expected_head: str | None = None) -> AuditCheck:
    """Check the hash chain of an index's audit log and its head file.

    Detects an edited line (the next line's ``prev`` no longer matches, or the line is no longer
    JSON), a deleted or inserted line (``seq`` and ``prev`` break), lines removed at the end
    (the head file disagrees) and, with ``expected_head`` (a head hash an auditor kept from an
    earlier check), a log rewritten from scratch (the kept hash is no longer in the chain).
    """
    log = AuditLog(_folder_of(where))
    lines = log._lines()
    problems: list[str] = []
    prev, hashes, seq_broken = GENESIS, [], False
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            problems.append(f"line {i} is not a JSON record (edited)")
            record = {}
        if record and record.get("seq") != i and not seq_broken:
            seq_broken = True  # report the first break only: every later line is off too
            problems.append(f"line {i} carries seq {record.get('seq')}: a line was deleted or inserted before it")
        if record and record.get("prev") != prev:
            problems.append(f"line {i} does not carry the hash of line {i - 1}: line {i - 1} was edited or "
                            "removed (or this line was)")
        prev = _line_hash(line)
        hashes.append(prev)
    head = log._read_head()
    if (lines or head) and (head.get("lines") != len(lines) or head.get("last") != prev):
        problems.append(f"the head file records {head.get('lines')} line(s) ending in "
                        f"{str(head.get('last'))[:16]}..., the log has {len(lines)} ending in {prev[:16]}...: "
                        "lines were removed (at the end, if the chain above is intact) or the head file "
                        "was changed")
    if expected_head is not None and expected_head not in hashes and expected_head != GENESIS:
        problems.append(f"the head you kept ({expected_head[:16]}...) is not in the chain any more: "
                        "the log was cut short or rewritten")
    return AuditCheck(len(lines), prev, tuple(problems))


def read_audit_log(where: HasFolder | Path | str) -> list[dict[str, Any]]:
    """The audit records of an index (or of an index folder), oldest first."""
    return AuditLog(_folder_of(where)).records()


# --------------------------------------------------------------------------- auditing


@dataclass(frozen=True)
class AuditSummary:
    """What an auditor reads off an audit log (searches only)."""

    searches: int
    by_user: list[tuple[str, int, int, int, int]]  # user, searches, results, outside hours, without case ref
    by_organisation: list[tuple[str, int]]
    by_purpose_kind: list[tuple[str, int]]
    outside_hours: list[tuple[str, int]]
    repeated: list[tuple[str, str, int]]  # user, pseudonym (shortened), times returned
    office_hours: tuple[int, int]

    def __str__(self) -> str:
        start, end = self.office_hours
        lines = [f"{self.searches} searches.", "", "per user:",
                 f"  {'user':<26}{'searches':>9}{'results':>9}{'outside hours':>15}{'no case ref':>13}"]
        lines += [f"  {u:<26}{n:>9}{r:>9}{o:>15}{w:>13}" for u, n, r, o, w in self.by_user]
        lines += ["", "per organisation: " + ", ".join(f"{o} {n}" for o, n in self.by_organisation),
                  "per purpose: " + ", ".join(f"{p} {n}" for p, n in self.by_purpose_kind),
                  f"outside office hours (weekdays {start:02d}:00-{end:02d}:00 UTC): "
                  + (", ".join(f"{u} {n}" for u, n in self.outside_hours) or "none"),
                  "same (pseudonymous) entry ranked first repeatedly for one user: "
                  + ("; ".join(f"{u} got entry {t} {n} times" for u, t, n in self.repeated) or "none")]
        return "\n".join(lines)


def audit_summary(records: Iterable[dict[str, Any]], *, office_hours: tuple[int, int] = (8, 18),
                  case_pattern: str = r"^CASE-\d{4}-\d+$", min_repeats: int = 3) -> AuditSummary:
    """Summarise the ``search`` records of an audit log the way an auditor would.

    Per user: searches, results returned, searches outside office hours (before ``start``, from
    ``end`` on, or at weekends, in the log's UTC), searches whose purpose is not a case reference
    (``case_pattern``). Per organisation (``user`` up to ``/``) and per kind of purpose. And any
    user to whom the same pseudonymous entry came back *first* (rank 1) at least
    ``min_repeats`` times - a pattern worth asking about (someone looking up one person again
    and again). Only the top candidate counts: the other candidates of a search are mostly
    strangers who happen to look alike, and would bury the pattern.

    >>> recs = [{"kind": "search", "time": "2026-11-23T10:00:00Z", "user": "pd/a", "purpose": "CASE-2026-1",
    ...          "n_results": 1, "results": ["t1"]},
    ...         {"kind": "search", "time": "2026-11-28T23:00:00Z", "user": "pd/b", "purpose": "testing",
    ...          "n_results": 0, "results": []}]
    >>> s = audit_summary(recs)
    >>> s.by_user, s.outside_hours, s.by_purpose_kind
    ([('pd/a', 1, 1, 0, 0), ('pd/b', 1, 0, 1, 1)], [('pd/b', 1)], [('case reference', 1), ('other: testing', 1)])
    """
    start, end = office_hours
    case = re.compile(case_pattern)
    searches = [r for r in records if r.get("kind") == "search"]
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    orgs: Counter[str] = Counter()
    purposes: Counter[str] = Counter()
    hits: Counter[tuple[str, str]] = Counter()
    for r in searches:
        when = parse_time(r["time"])
        outside = when.weekday() >= 5 or not (start <= when.hour < end)
        has_case = bool(case.match(r["purpose"]))
        s = stats[r["user"]]
        s[0] += 1
        s[1] += int(r.get("n_results", 0))
        s[2] += int(outside)
        s[3] += int(not has_case)
        orgs[r["user"].split("/")[0]] += 1
        purposes["case reference" if has_case else f"other: {r['purpose']}"] += 1
        if r.get("results"):
            hits[(r["user"], r["results"][0])] += 1  # the entry the search ranked first
    by_user = sorted(((u, n, res, o, w) for u, (n, res, o, w) in stats.items()), key=lambda row: (-row[1], row[0]))
    return AuditSummary(
        searches=len(searches),
        by_user=by_user,
        by_organisation=sorted(orgs.items(), key=lambda kv: (-kv[1], kv[0])),
        by_purpose_kind=sorted(purposes.items(), key=lambda kv: (-kv[1], kv[0])),
        outside_hours=sorted(((u, v[2]) for u, v in stats.items() if v[2]), key=lambda kv: (-kv[1], kv[0])),
        repeated=sorted(((u, t[:8], n) for (u, t), n in hits.items() if n >= min_repeats),
                        key=lambda row: (-row[2], row[0], row[1])),
        office_hours=office_hours,
    )
