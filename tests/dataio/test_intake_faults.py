"""`taian intake` against poisoned lines: every line lands or is rejected with its line
number and reason, and the run goes on; repeats and conflicts are counted apart; only a
database that cannot be used stops the run (and a re-run carries on)."""
from __future__ import annotations

import io
import json
import sqlite3
import tracemalloc

import pytest

from taian_tui import store as store_mod
from taian_tui.dataio import intake
from taian_tui.store import Store

NOW = "2026-10-10T12:00:00+08:00"           # the server's clock in these tests (TAIAN_NOW)
TYPES = "appeal.submitted, appeal.evaluated, project.applied, project.progress"


@pytest.fixture(autouse=True)
def server_clock(monkeypatch):
    monkeypatch.setenv("TAIAN_NOW", NOW)


def ensure_hash_column(path) -> None:
    """What the proposed migration 0010_intake_event_hash does (a no-op once it has run)."""
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(intake_events)")]
        if "content_hash" not in cols:
            conn.execute("ALTER TABLE intake_events ADD COLUMN content_hash TEXT NOT NULL DEFAULT ''")
            conn.commit()
    finally:
        conn.close()


@pytest.fixture
def hdb(db_path):
    """The test city's database, with intake_events.content_hash."""
    ensure_hash_column(db_path)
    return db_path


@pytest.fixture
def hstore(hdb):
    s = Store(hdb)
    yield s
    s.close()


def line(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def appeal_ev(uscc, eid, ref, at="2026-09-29T10:00:00+08:00", **fields):
    a = {"ref": ref, "enterprise_uscc": uscc, "project_ref": None, "category": "土地",
         "county": "岱岳区", "title": "用地指标落实", "body": "请协调"}
    a.update(fields)
    return {"event_id": eid, "type": "appeal.submitted", "at": at, "appeal": a}


def project_ev(uscc, eid, ref, investment=12000, **fields):
    p = {"ref": ref, "enterprise_uscc": uscc, "name": "年产10万吨新材料项目", "county": "岱岳区",
         "category": "市重点建设项目", "investment_wan": investment}
    p.update(fields)
    return {"event_id": eid, "type": "project.applied", "at": "2026-09-29T11:00:00+08:00", "project": p}


def progress_ev(eid, ref, percent, invested=0, at="2026-10-09T09:00:00+08:00", **fields):
    return {"event_id": eid, "type": "project.progress", "at": at, "project_ref": ref,
            "percent": percent, "invested_wan": invested, **fields}


def poisoned(u) -> tuple[list[bytes], dict[int, tuple[str | None, str]]]:
    """Every poisoned case between good lines: (the lines, {line: (shown event_id, reason)})."""
    long_id = "x" * 201
    lines: list[bytes] = [
        # 1 good
        line(appeal_ev(u, "g1", "A-2026-0501")),
        # 2 a lone surrogate from a \ud800 JSON escape
        line(appeal_ev(u, "b2", "A-2026-0502", title="TITLE")).replace(b"TITLE", b"\\ud800"),
        # 3 good (the project line 8 reports on: order matters)
        line(project_ev(u, "g3", "P-0501", planned_start="2026-10-01", planned_finish="20271231")),
        # 4 nested 100,000 deep
        b'{"event_id":"b4","type":"appeal.submitted","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        # 5 a time at the end of the calendar
        line(appeal_ev(u, "b5", "A-2026-0505", at="9999-12-31T23:00:00+08:00")),
        # 6, 7 NaN and 1e999
        line(project_ev(u, "b6", "P-0506", investment=0)).replace(b'"investment_wan": 0', b'"investment_wan": NaN'),
        line(project_ev(u, "b7", "P-0507", investment=0)).replace(b'"investment_wan": 0', b'"investment_wan": 1e999'),
        # 8 good
        line(progress_ev("g8", "P-0501", 45, 5400, date="2026-10-09", note="主体封顶")),
        # 9 an event_id of 201 characters
        line(appeal_ev(u, long_id, "A-2026-0509")),
        # 10, 11 not UTF-8: a stray byte, and a surrogate encoded in UTF-8 bytes
        b'{"event_id":"b10","t":"\xff"}',
        b'{"event_id":"b11","t":"\xed\xa0\x80"}',
        # 12, 13 absurd numbers
        line(progress_ev("b12", "P-0001", 101)),
        line(project_ev(u, "b13", "P-0513", investment=1e9)),
        # 14 before 2000
        line(appeal_ev(u, "b14", "A-2026-0514", at="1999-12-31T23:59:59+08:00")),
        # 15 a title over the operation's 200 characters
        line(appeal_ev(u, "b15", "A-2026-0515", title="题" * 201)),
        # 16 unknown type, 17 missing field
        line({"event_id": "b16", "type": "appeal.deleted", "at": "2026-09-29T10:00:00+08:00"}),
        line({"event_id": "b17", "type": "appeal.submitted", "at": "2026-09-29T10:00:00+08:00",
              "appeal": {"ref": "A-2026-0517", "enterprise_uscc": u, "category": "土地", "county": "岱岳区"}}),
        # 18 a control character in the event_id
        line(appeal_ev(u, "b18\u0007", "A-2026-0518")),
        # 19 one second past the skew, 20 (good) exactly at it
        line(appeal_ev(u, "b19", "A-2026-0519", at="2026-10-10T12:10:01+08:00")),
        line(appeal_ev(u, "g20", "A-2026-0520", at="2026-10-10T12:10:00+08:00")),
        # 21 -Infinity, 22 an integer of 50 digits, 23 a key twice
        line(progress_ev("b21", "P-0001", 10, 0)).replace(b'"invested_wan": 0', b'"invested_wan": -Infinity'),
        line(progress_ev("b22", "P-0001", 10, 0)).replace(b'"percent": 10', b'"percent": ' + b"1" * 50),
        b'{"event_id":"b23","event_id":"b23bis","type":"project.progress"}',
        # 24 "NaN" as a string, 25 a progress date at the end of the calendar, 26 year 1
        line(project_ev(u, "b24", "P-0524", investment="NaN")),
        line(progress_ev("b25", "P-0001", 10, 0, date="9999-12-31")),
        line(project_ev(u, "b26", "P-0526", planned_start="0001-01-01")),
        # 27 a comment over 4000 characters, 28 a time past the year 9999 in Shanghai
        line({"event_id": "b27", "type": "appeal.evaluated", "at": "2026-10-08T10:00:00+08:00",
              "appeal_ref": "A-2026-0501", "rating": "满意", "comment": "评" * 4001}),
        line(appeal_ev(u, "b28", "A-2026-0528", at="9999-12-31T23:00:00-08:00")),
        # 29 good: at the bounds (percent 100, 1e8 万元, an event_id of exactly 200 characters)
        line(progress_ev("e" * 200, "P-0001", 100, 1e8, note="调增投资（超过总投资须说明）")),
        # 30 not an object
        b"[1, 2, 3]",
    ]
    reasons = {
        2: ("b2", "field appeal.title holds a lone surrogate (\\ud800): not valid Unicode text"),
        4: (None, "JSON nested too deep (more than 16 levels)"),
        5: ("b5", "at '9999-12-31T23:00:00+08:00' is in the future (more than 10 minutes after the "
                  "server's clock, 2026-10-10T12:00:00+08:00)"),
        6: ("b6", "field project.investment_wan must be a finite number, not NaN "
                  "(NaN, Infinity and overflowing numbers are refused)"),
        7: ("b7", "field project.investment_wan must be a finite number, not 1e999 "
                  "(NaN, Infinity and overflowing numbers are refused)"),
        9: ("x" * 40 + "…", "event_id is too long: 201 characters (at most 200)"),
        10: (None, "not UTF-8 text (invalid start byte at byte 23)"),
        11: (None, "not UTF-8 text (invalid continuation byte at byte 23)"),
        12: ("b12", "field percent is out of range: 101 (from 0 to 100)"),
        13: ("b13", "field project.investment_wan is out of range: 1000000000 (from 0 to 100000000)"),
        14: ("b14", "at '1999-12-31T23:59:59+08:00' is before 2000-01-01T00:00:00+08:00"),
        15: ("b15", "field appeal.title is too long: 201 characters (at most 200)"),
        16: ("b16", f"unknown event type 'appeal.deleted': one of {TYPES}"),
        17: ("b17", "missing field appeal.title"),
        18: ("b18\u0007", "event_id holds a character that is not printable (U+0007)"),
        19: ("b19", "at '2026-10-10T12:10:01+08:00' is in the future (more than 10 minutes after the "
                    "server's clock, 2026-10-10T12:00:00+08:00)"),
        21: ("b21", "field invested_wan must be a finite number, not -Infinity "
                    "(NaN, Infinity and overflowing numbers are refused)"),
        22: ("b22", "field percent must be a number of at most 30 digits, not one of 50 digits"),
        23: (None, "key 'event_id' appears twice in one object"),
        24: ("b24", "field project.investment_wan must be a number, not 'NaN'"),
        25: ("b25", "field date 9999-12-31 is after the server's date (2026-10-10)"),
        26: ("b26", "field project.planned_start 0001-01-01 is before 2000-01-01"),
        27: ("b27", "field comment is too long: 4001 characters (at most 4000)"),
        28: ("b28", "at '9999-12-31T23:00:00-08:00' is out of range (from 2000-01-01T00:00:00+08:00 "
                    "to the server's clock)"),
        30: (None, "an event is a JSON object"),
    }
    return lines, reasons


GOOD = 5        # lines 1, 3, 8, 20, 29
BAD = 25


def write(tmp_path, lines, name="events.jsonl"):
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def stderr_of(path, reasons, kind_of=None) -> str:
    out = []
    for n, (eid, reason) in sorted(reasons.items()):
        shown = f" [{eid}]".replace("\u0007", "\\x07") if eid else ""
        out.append(f"{path}:{n}:{shown} {reason}\n")
    return "".join(out)


def test_every_poisoned_line_is_rejected_and_the_good_lines_land(run_cli, hdb, city, tmp_path):
    lines, reasons = poisoned(city.uscc)
    assert len(lines) == GOOD + BAD == 30 and len(reasons) == BAD
    path = write(tmp_path, lines)
    code, out, err = run_cli("intake", path, "--db", hdb)
    assert code == 1
    assert err == stderr_of(path, reasons)
    assert out == (f"intake {path}: 30 events read; applied 5 (appeal.submitted 2, project.applied 1, "
                   "project.progress 2), repeats skipped 0, conflicts 0, rejected 25\n")
    with Store(hdb) as s:
        a = s.appeal("A-2026-0501")
        assert (a.state, a.unit_code, a.submitted_at, a.title) == ("assigned", "zrzy", "2026-09-29T10:00:00+08:00",
                                                                   "用地指标落实")
        b = s.appeal("A-2026-0520")
        assert (b.state, b.submitted_at) == ("assigned", "2026-10-10T12:10:00+08:00")
        p = s.project("P-0501")
        assert (p.percent, p.invested_wan, p.investment_wan, p.planned_start, p.planned_finish) == (
            45, 5400, 12000, "2026-10-01", "2027-12-31")
        p1 = s.project("P-0001")
        assert (p1.percent, p1.invested_wan) == (100, 1e8)
        assert [tuple(r) for r in s.all("SELECT event_id, type, at FROM intake_events ORDER BY rowid")] == [
            ("g1", "appeal.submitted", "2026-09-29T10:00:00+08:00"),
            ("g3", "project.applied", "2026-09-29T11:00:00+08:00"),
            ("g8", "project.progress", "2026-10-09T09:00:00+08:00"),
            ("g20", "appeal.submitted", "2026-10-10T12:10:00+08:00"),
            ("e" * 200, "project.progress", "2026-10-09T09:00:00+08:00"),
        ]
        # nothing of a rejected line was written: no appeal or project of theirs, no stray row
        assert s.scalar("SELECT COUNT(*) FROM appeals") == 2
        assert s.scalar("SELECT COUNT(*) FROM projects") == 2
        assert s.scalar("SELECT COUNT(*) FROM progress_reports") == 2
        assert [r[0] for r in s.all("SELECT percent FROM progress_reports ORDER BY id")] == [45, 100]
        # no lone surrogate, NaN or infinity got anywhere
        assert s.scalar("SELECT COUNT(*) FROM projects WHERE investment_wan != investment_wan "
                        "OR investment_wan > 1e8 OR invested_wan > 1e8") == 0

    # the same file again: nothing new, the good lines are repeats, the bad ones rejected again
    code, out, err2 = run_cli("intake", path, "--db", hdb, "--json")
    assert code == 1 and err2 == ""
    doc = json.loads(out)
    assert {k: doc[k] for k in ("lines", "applied", "repeats", "conflicts", "rejected", "by_type", "exit_code")} == {
        "lines": 30, "applied": 0, "repeats": 5, "conflicts": 0, "rejected": 25, "by_type": {}, "exit_code": 1}
    assert [(e["line"], e["event_id"], e["kind"], e["reason"]) for e in doc["errors"]] == [
        (n, eid, "rejected", reason) for n, (eid, reason) in sorted(reasons.items())]
    with Store(hdb) as s:
        assert s.scalar("SELECT COUNT(*) FROM intake_events") == 5
        assert s.scalar("SELECT COUNT(*) FROM appeals") == 2


def test_a_reused_event_id_with_other_content_is_a_conflict(run_cli, hdb, city, tmp_path):
    u = city.uscc
    first = [line(appeal_ev(u, "g1", "A-2026-0601")), line(project_ev(u, "g2", "P-0601"))]
    path = write(tmp_path, first, "first.jsonl")
    assert run_cli("intake", path, "--db", hdb)[0] == 0
    # the same events re-sent with keys in another order, other spacing, 12000.0 for 12000:
    # the same content, so repeats; g1 with another title and g2 with another investment:
    # conflicts; g3 is new
    same_g1 = json.dumps(dict(reversed(list(appeal_ev(u, "g1", "A-2026-0601").items()))),
                         ensure_ascii=False, indent=None, separators=(" , ", " : ")).encode()
    same_g2 = line(project_ev(u, "g2", "P-0601", investment=12000.0))
    second = [same_g1, line(appeal_ev(u, "g1", "A-2026-0601", title="另一个标题")), same_g2,
              line(project_ev(u, "g2", "P-0601", investment=13000)), line(appeal_ev(u, "g3", "A-2026-0603"))]
    path2 = write(tmp_path, second, "second.jsonl")
    with Store(hdb) as s:
        before_appeal = s.appeal("A-2026-0601")
        processed = s.scalar("SELECT processed_at FROM intake_events WHERE event_id = 'g1'")
    assert processed == NOW
    code, out, err = run_cli("intake", path2, "--db", hdb)
    assert code == 1
    assert err == (
        f"{path2}:2: [g1] conflict: event_id 'g1' was applied on {NOW} (appeal.submitted at "
        "2026-09-29T10:00:00+08:00) with different content; nothing written\n"
        f"{path2}:4: [g2] conflict: event_id 'g2' was applied on {NOW} (project.applied at "
        "2026-09-29T11:00:00+08:00) with different content; nothing written\n")
    assert out == (f"intake {path2}: 5 events read; applied 1 (appeal.submitted 1), repeats skipped 2, "
                   "conflicts 2, rejected 0\n")
    code, out, _ = run_cli("intake", path2, "--db", hdb, "--json")
    doc = json.loads(out)
    assert (doc["applied"], doc["repeats"], doc["conflicts"], doc["rejected"], doc["exit_code"]) == (0, 3, 2, 0, 1)
    assert [(e["line"], e["event_id"], e["kind"]) for e in doc["errors"]] == [(2, "g1", "conflict"),
                                                                              (4, "g2", "conflict")]
    with Store(hdb) as s:
        assert s.appeal("A-2026-0601") == before_appeal
        assert s.project("P-0601").investment_wan == 12000
        assert s.scalar("SELECT COUNT(*) FROM intake_events") == 3
        assert s.scalar("SELECT content_hash FROM intake_events WHERE event_id = 'g1'") == \
            intake.event_hash(appeal_ev(u, "g1", "A-2026-0601"))


def test_a_row_stored_without_a_hash_is_compared_by_type_and_time(hstore, city):
    """An event applied before hashes were kept (content_hash empty): a reused event_id is a
    conflict when its type or time differ, a repeat otherwise (nothing else can be told)."""
    r = intake.run_intake_lines(hstore, [json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701"))])
    assert (r.applied, r.exit_code) == (1, 0)
    with hstore.transaction():
        hstore.conn.execute("UPDATE intake_events SET content_hash = '' WHERE event_id = 'g1'")
    r = intake.run_intake_lines(hstore, [
        json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701", title="另一个标题")),       # cannot tell
        json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701", at="2026-09-30T10:00:00+08:00")),
        json.dumps(progress_ev("g1", "P-0001", 10))])
    assert (r.applied, r.repeats, r.conflicts, r.rejected) == (0, 1, 2, 0)
    assert [(e.line, e.kind) for e in r.errors] == [(2, "conflict"), (3, "conflict")]


def test_without_the_hash_column_type_and_time_are_compared(db_path, city):
    """A database without intake_events.content_hash (before migration 0010): events land
    and are remembered; a reused event_id is told apart by type and time only."""
    conn = sqlite3.connect(db_path)
    if "content_hash" in [r[1] for r in conn.execute("PRAGMA table_info(intake_events)")]:
        conn.execute("ALTER TABLE intake_events DROP COLUMN content_hash")
        conn.commit()
    conn.close()
    with Store(db_path) as s:
        if intake.has_hash_column(s):
            pytest.skip("the store adds the column back on opening")
        r = intake.run_intake_lines(s, [json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701"))])
        assert (r.applied, r.exit_code) == (1, 0)
        r = intake.run_intake_lines(s, [
            json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701", title="另一个标题")),
            json.dumps(appeal_ev(city.uscc, "g1", "A-2026-0701", at="2026-09-30T10:00:00+08:00"))])
        assert (r.applied, r.repeats, r.conflicts, r.rejected) == (0, 1, 1, 0)
        assert r.errors[0].line == 2 and r.errors[0].reason == (
            f"conflict: event_id 'g1' was applied on {NOW} (appeal.submitted at 2026-09-29T10:00:00+08:00) "
            "with different content; nothing written")


def test_nesting_is_bounded_at_16_levels(hstore, city):
    def nested(eid, levels):      # the event object is level 1
        return ('{"event_id":"%s","type":"project.progress","at":"2026-10-09T09:00:00+08:00",'
                '"project_ref":"P-0001","percent":20,"x":%s%s}') % (eid, "[" * (levels - 1), "]" * (levels - 1))
    r = intake.run_intake_lines(hstore, [nested("d16", 16), nested("d17", 17),
                                         '{"event_id":"s","t":"[[[[[[[[[[[[[[[[[[[[[[[[[["}',
                                         '{"event_id":"d0","x":' + "{" * 100_000 + "}" * 100_000 + "}"])
    assert (r.applied, r.rejected) == (1, 3)
    assert [(e.line, e.reason) for e in r.errors] == [
        (2, "JSON nested too deep (more than 16 levels)"),
        (3, "missing field type"),                           # brackets inside a string do not count
        (4, "JSON nested too deep (more than 16 levels)")]


def test_a_10_mb_line_is_rejected_for_its_length_without_being_read_whole(hstore, city):
    big = b'{"event_id":"big","x":"' + b"a" * (10 * 1024 * 1024) + b'"}'
    data = (line(appeal_ev(city.uscc, "g1", "A-2026-0801")) + b"\n" + big + b"\r\n"
            + line(appeal_ev(city.uscc, "g3", "A-2026-0803")) + b"\n")
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        r = intake.run_intake(hstore, stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (r.lines, r.applied, r.rejected) == (3, 2, 1)
    assert [(e.line, e.event_id, e.reason) for e in r.errors] == [
        (2, None, f"line too long: {len(big)} bytes (at most 1048576)")]
    assert len(big) == 10485785
    assert peak < 4 * 1024 * 1024           # at most a couple of 1 MiB reads, never 10 MB
    assert hstore.appeal("A-2026-0803").state == "assigned"


def test_a_line_of_exactly_the_limit_is_read(hstore, city):
    ev = progress_ev("lim", "P-0001", 20, note="")
    text = line(ev)
    pad = intake.MAX_LINE_BYTES - len(text)
    exact = text[:-1] + b" " * pad + b"}"
    assert len(exact) == intake.MAX_LINE_BYTES
    r = intake.run_intake(hstore, io.BytesIO(exact + b"\n" + exact + b" \n"))
    assert (r.applied, r.rejected) == (1, 1)
    assert r.errors[0].reason == "line too long: 1048577 bytes (at most 1048576)"


def test_an_unexpected_failure_is_that_lines_rejection_and_leaves_nothing(hstore, city, monkeypatch, dump):
    real = intake.operations.report_progress

    def explode(store, who, ref, *a, **kw):
        real(store, who, ref, *a, **kw)          # writes the report and the audit row...
        if ref == "P-0001":
            raise ZeroDivisionError("division by zero")   # ...then fails
        return None

    monkeypatch.setattr(intake.operations, "report_progress", explode)
    before = dump()
    r = intake.run_intake_lines(hstore, [json.dumps(progress_ev("u1", "P-0001", 20))])
    assert (r.applied, r.rejected) == (0, 1)
    assert r.errors[0].reason == "could not be applied: ZeroDivisionError: division by zero"
    assert dump() == before                    # the line's own transaction was rolled back
    assert not hstore.conn.in_transaction
    r = intake.run_intake_lines(hstore, [json.dumps(progress_ev("u1", "P-0001", 20)),
                                         json.dumps(appeal_ev(city.uscc, "u2", "A-2026-0902"))])
    assert (r.applied, r.rejected, [e.line for e in r.errors]) == (1, 1, [1])


def test_a_constraint_failure_is_that_lines_rejection(hstore, city, monkeypatch):
    def broken(store, who, **kw):
        store.conn.execute("INSERT INTO appeals(ref) VALUES ('x')")
    monkeypatch.setattr(intake.operations, "submit_appeal", broken)
    r = intake.run_intake_lines(hstore, [json.dumps(appeal_ev(city.uscc, "c1", "A-2026-0911")),
                                         json.dumps(progress_ev("c2", "P-0001", 20))])
    assert (r.applied, r.rejected) == (1, 1)
    assert r.errors[0].reason.startswith("could not be stored: NOT NULL constraint failed: appeals.")


class LockingStream(io.BytesIO):
    """Hands out lines; before line ``at`` another connection takes the write lock and
    keeps it (another process busy with the database)."""

    def __init__(self, data: bytes, path, at: int) -> None:
        super().__init__(data)
        self.path, self.at, self.n, self.holder = path, at, 0, None

    def readline(self, size=-1):
        raw = super().readline(size)
        if raw:
            self.n += 1
            if self.n == self.at:
                self.holder = sqlite3.connect(self.path, isolation_level=None)
                self.holder.execute("BEGIN IMMEDIATE")
        return raw

    def release(self):
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()


def three_lines(u) -> bytes:
    return b"".join(line(x) + b"\n" for x in (appeal_ev(u, "k1", "A-2026-1001"), project_ev(u, "k2", "P-1002"),
                                             progress_ev("k3", "P-1002", 30, 100)))


def test_a_locked_database_stops_the_run_and_a_rerun_carries_on(run_cli, hdb, city, monkeypatch):
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 100)
    data = three_lines(city.uscc)
    stream = LockingStream(data, hdb, at=2)

    class Stdin:
        buffer = stream

    monkeypatch.setattr("sys.stdin", Stdin())
    try:
        code, out, err = run_cli("intake", "-", "--db", hdb)
    finally:
        stream.release()
    assert (code, out) == (1, "")
    assert err == ("error: the database stayed locked by another writer (an import, a backup, a sweep?) for "
                   "a minute (intake stopped at line 2 of stdin; the 1 applied before it are kept: run it again "
                   "to continue)\n")
    with Store(hdb) as s:
        assert [r[0] for r in s.all("SELECT event_id FROM intake_events")] == ["k1"]
    code, out, err = run_cli("intake", "-", "--db", hdb, stdin=data.decode())
    assert (code, err) == (0, "")
    assert out == ("intake stdin: 3 events read; applied 2 (project.applied 1, project.progress 1), "
                   "repeats skipped 1, conflicts 0, rejected 0\n")
    with Store(hdb) as s:
        assert s.project("P-1002").percent == 30


def test_a_disk_error_stops_the_run(hstore, city):
    class Conn:
        def __init__(self, c):
            self.c = c

        def execute(self, sql, *a):
            if sql.startswith("INSERT INTO intake_events") and a and a[0][0] == "k2":
                raise sqlite3.OperationalError("disk I/O error")
            return self.c.execute(sql, *a)

        def __getattr__(self, n):
            return getattr(self.c, n)

    orig = hstore.conn
    hstore.conn = Conn(orig)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            intake.run_intake(hstore, io.BytesIO(three_lines(city.uscc)), source="feed.jsonl")
    finally:
        hstore.conn = orig
    assert str(caught.value) == ("disk I/O error (intake stopped at line 2 of feed.jsonl; the 1 applied "
                                 "before it are kept: run it again to continue)")
    assert not hstore.conn.in_transaction
    assert hstore.scalar("SELECT COUNT(*) FROM projects WHERE ref = 'P-1002'") == 0
    r = intake.run_intake(hstore, io.BytesIO(three_lines(city.uscc)))
    assert (r.applied, r.repeats, r.rejected) == (2, 1, 0)


def test_a_real_process_over_stdin(taian_process, hdb, city):
    u = city.uscc
    lines = [line(appeal_ev(u, "p1", "A-2026-1101")),
             line(appeal_ev(u, "p2", "A-2026-1102", title="TITLE")).replace(b"TITLE", b"\\ud800"),
             b'{"event_id":"p3","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
             line(project_ev(u, "p4", "P-1104", investment=0)).replace(b'"investment_wan": 0', b'"investment_wan": NaN'),
             line(appeal_ev(u, "p5", "A-2026-1105", at="9999-12-31T23:00:00+08:00")),
             line(project_ev(u, "p6", "P-1106"))]
    data = (b"\n".join(lines) + b"\n").decode("utf-8")
    proc = taian_process("intake", "-", "--db", hdb, env={**__import__("os").environ, "TAIAN_NOW": NOW},
                         stdin=__import__("subprocess").PIPE)
    out, err = proc.communicate(data, timeout=120)
    assert proc.returncode == 1
    assert err == ("stdin:2: [p2] field appeal.title holds a lone surrogate (\\ud800): not valid Unicode text\n"
                   "stdin:3: JSON nested too deep (more than 16 levels)\n"
                   "stdin:4: [p4] field project.investment_wan must be a finite number, not NaN "
                   "(NaN, Infinity and overflowing numbers are refused)\n"
                   "stdin:5: [p5] at '9999-12-31T23:00:00+08:00' is in the future (more than 10 minutes "
                   "after the server's clock, 2026-10-10T12:00:00+08:00)\n")
    assert out == ("intake stdin: 6 events read; applied 2 (appeal.submitted 1, project.applied 1), "
                   "repeats skipped 0, conflicts 0, rejected 4\n")
    proc = taian_process("intake", "-", "--db", hdb, "--json",
                         env={**__import__("os").environ, "TAIAN_NOW": NOW}, stdin=__import__("subprocess").PIPE)
    out, err = proc.communicate(data, timeout=120)
    doc = json.loads(out)
    assert (proc.returncode, err) == (1, "")
    assert (doc["applied"], doc["repeats"], doc["conflicts"], doc["rejected"]) == (0, 2, 0, 4)
    with Store(hdb) as s:
        assert [r[0] for r in s.all("SELECT event_id FROM intake_events ORDER BY rowid")] == ["p1", "p6"]
