"""The hash-chained audit log and the clock of facecourse.audit, on hand-made records.

(How a face search index writes the log - what it records and what it never records - is tested
in tests/test_rights.py, on real faceprints.)
"""

from __future__ import annotations

import doctest
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from facecourse import audit
from facecourse.audit import GENESIS, AuditLog, StepClock, iso


def test_doctests() -> None:
    result = doctest.testmod(audit)
    assert result.attempted > 0 and result.failed == 0


def test_the_clock_steps_and_can_jump() -> None:
    clock = StepClock(datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1))), step=timedelta(minutes=5))
    assert [iso(clock()), iso(clock())] == ["2026-01-01T09:00:00Z", "2026-01-01T09:05:00Z"]
    clock.advance(timedelta(days=366))
    assert iso(clock.peek()) == iso(clock()) == "2027-01-02T09:10:00Z"
    assert iso(datetime(2026, 1, 1, 9)) == "2026-01-01T09:00:00Z"  # naive = UTC


def _searches(n: int) -> list[dict[str, object]]:
    return [{"kind": "search", "time": f"2026-11-26T09:0{i}:00Z", "user": f"pd/officer-{i}",
             "purpose": f"CASE-2026-{i}", "n_results": 1, "results": [f"t{i}"]} for i in range(n)]


def test_lines_carry_their_number_and_the_hash_of_the_line_before(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "index")
    assert log.head() == GENESIS and len(log) == 0 and audit.read_audit_log(tmp_path / "index") == []
    assert log.append(_searches(2)) == [0, 1]
    assert log.append([]) == []
    first, second = audit.read_audit_log(log.folder)
    assert (first["seq"], first["prev"], second["seq"]) == (0, GENESIS, 1)
    assert second["prev"] != GENESIS and len(log) == 2
    with pytest.raises(ValueError, match="'seq' is set by the log itself"):
        log.append([{"kind": "search", "seq": 7}])


def test_audit_log_chain_detects_edits_deletions_and_truncation(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "index")
    log.append(_searches(5))

    class Index:  # anything with a folder will do, as a FaceIndex does
        folder = log.folder

    good = audit.verify_audit_log(Index())
    assert good.ok and good.lines == 5 and good.head == log.head()
    assert str(good).startswith("Audit log verifies: 5 line(s)")

    def tampered(change) -> audit.AuditCheck:
        copy = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(log.folder, copy)
        lines = (copy / "audit.jsonl").read_text().splitlines(keepends=True)
        change(copy, lines)
        return audit.verify_audit_log(copy, expected_head=good.head)

    def write(copy, lines):
        (copy / "audit.jsonl").write_text("".join(lines))

    edited = tampered(lambda c, ls: write(c, ls[:2] + [ls[2].replace("officer-2", "officer-9")] + ls[3:]))
    assert not edited.ok and any("line 2 was edited" in p for p in edited.problems)
    assert "FAILS verification" in str(edited)
    deleted = tampered(lambda c, ls: write(c, ls[:2] + ls[3:]))
    assert not deleted.ok and any("deleted or inserted" in p for p in deleted.problems)
    truncated = tampered(lambda c, ls: write(c, ls[:-1]))
    assert not truncated.ok and any("lines were removed (at the end" in p for p in truncated.problems)
    assert not tampered(lambda c, ls: (c / "audit.head").write_text("{}")).ok
    not_json = tampered(lambda c, ls: write(c, ls[:1] + ["not json\n"] + ls[2:]))
    assert any("line 1 is not a JSON record" in p for p in not_json.problems)
    # rewriting the whole log consistently (chain and head) is caught only by a head kept elsewhere
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    fake = AuditLog(rebuilt)
    fake.append([{k: v for k, v in r.items() if k not in ("seq", "prev")} | {"user": "nobody"}
                 for r in audit.read_audit_log(log.folder)])
    assert audit.verify_audit_log(rebuilt).ok
    assert not audit.verify_audit_log(rebuilt, expected_head=good.head).ok
    # and the log refuses to append when it no longer matches its head
    lines = log.path.read_text().splitlines(keepends=True)
    log.path.write_text("".join(lines[:-1]))
    with pytest.raises(audit.AuditLogError, match="edited or truncated"):
        log.append(_searches(1))


def test_audit_summary_on_hand_made_records() -> None:
    def rec(time, user, purpose, results):
        return {"kind": "search", "time": time, "user": user, "purpose": purpose,
                "n_results": len(results), "results": results}

    # 2026-11-23 is a Monday, 2026-11-28 a Saturday.
    records = [
        rec("2026-11-23T09:00:00Z", "pd/a", "CASE-2026-1", ["t1"]),       # in hours, with case
        rec("2026-11-23T22:30:00Z", "pd/b", "CASE-2026-2", ["t2"]),       # outside hours (22:30)
        rec("2026-11-24T23:00:00Z", "pd/b", "CASE-2026-2", ["t2"]),       # outside hours
        rec("2026-11-28T12:00:00Z", "pd/b", "personal", ["t2", "t3"]),    # weekend, no case ref
        rec("2026-11-24T10:00:00Z", "shop/c", "testing", []),             # no case ref
        {"kind": "erasure", "time": "2026-11-25T10:00:00Z", "user": "dpo", "purpose": "x"},  # not a search
    ]
    s = audit.audit_summary(records)
    assert s.searches == 5
    # pd/b: 3 searches, 4 results, 3 outside hours, 1 without case ref
    assert s.by_user == [("pd/b", 3, 4, 3, 1), ("pd/a", 1, 1, 0, 0), ("shop/c", 1, 0, 0, 1)]
    assert s.by_organisation == [("pd", 4), ("shop", 1)]
    assert s.by_purpose_kind == [("case reference", 3), ("other: personal", 1), ("other: testing", 1)]
    assert s.outside_hours == [("pd/b", 3)]
    assert s.repeated == [("pd/b", "t2", 3)]  # t2 came back to pd/b three times
    assert "pd/b got entry t2 3 times" in str(s)
