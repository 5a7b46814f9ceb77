"""`taian intake`: the enterprise app's JSON-lines events, applied as system:intake with
at= the event's time; repeats are no-ops; bad lines are reported and the rest lands."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from taian_tui.dataio import intake
from taian_tui.store import Store

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "import"


@pytest.fixture(autouse=True)
def server_clock(monkeypatch):
    """The server's clock after the fixtures' events (an event more than 10 minutes ahead of
    it is refused), whatever the date of the machine running the tests."""
    monkeypatch.setenv("TAIAN_NOW", "2026-11-27T09:00:00+08:00")


def run(store, lines, **kw):
    return intake.run_intake_lines(store, [json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x
                                           for x in lines], **kw)


def submitted(city, eid="e1", ref="A-2026-0101", **appeal):
    a = {"ref": ref, "enterprise_uscc": city.uscc, "project_ref": None, "category": "土地",
         "county": "岱岳区", "title": "用地指标落实", "body": "请协调"}
    a.update(appeal)
    return {"event_id": eid, "type": "appeal.submitted", "at": city.arrived, "appeal": a}


def test_fixture_events_land(store):
    with open(FIX / "intake_events.jsonl", "rb") as fh:
        r = intake.run_intake(store, fh)
    assert (r.lines, r.applied, r.repeats, r.rejected, r.exit_code) == (4, 4, 0, 0, 0)
    a = store.appeal("A-2026-0101")
    assert (a.state, a.unit_code, a.submitted_at) == ("assigned", "zrzy", "2026-09-29T10:00:00+08:00")
    assert a.deadline == "2026-10-12T23:59:59+08:00"       # routed, clock started at the event's time
    b = store.appeal("A-2026-0102")
    assert (b.state, b.category, b.project_ref) == ("submitted", "energy", "P-0101")   # no rule: dispatch queue
    p = store.project("P-0101")
    assert (p.library, p.percent, p.invested_wan, p.applied_at) == ("applied", 45, 5400, "2026-09-29T11:00:00+08:00")
    assert store.scalar("SELECT COUNT(*) FROM intake_events") == 4
    rows = store.all("SELECT actor, at FROM audit WHERE entity = 'appeal' AND entity_id = 'A-2026-0101'")
    assert [(r["actor"], r["at"]) for r in rows] == [("system:intake", "2026-09-29T10:00:00+08:00")]


def test_repeated_event_is_a_no_op(store, dump):
    with open(FIX / "intake_events.jsonl", "rb") as fh:
        intake.run_intake(store, fh)
    before = dump()
    with open(FIX / "intake_events.jsonl", "rb") as fh:
        r = intake.run_intake(store, fh)
    assert (r.applied, r.repeats, r.rejected) == (0, 4, 0)
    assert dump() == before


def test_repeat_within_one_file(store, city):
    r = run(store, [submitted(city), submitted(city)])
    assert (r.applied, r.repeats) == (1, 1)


def test_evaluation_not_satisfied_goes_to_review(store, city, make_appeal):
    a = make_appeal("answered")
    r = run(store, [{"event_id": "ev1", "type": "appeal.evaluated", "at": "2026-10-08T10:00:00+08:00",
                     "appeal_ref": a.ref, "rating": "不满意", "comment": "没解决"}])
    assert r.applied == 1
    a = store.appeal(a.ref)
    assert (a.state, a.rating, a.rating_comment, a.evaluated_at) == ("disputed", "不满意", "没解决",
                                                                     "2026-10-08T10:00:00+08:00")
    b = make_appeal("answered")
    run(store, [{"event_id": "ev2", "type": "appeal.evaluated", "at": "2026-10-08T10:00:00+08:00",
                 "appeal_ref": b.ref, "rating": "满意"}])
    assert store.appeal(b.ref).state == "closed"


def test_bad_lines_are_reported_and_the_rest_lands(store):
    with open(FIX / "intake_bad.jsonl", "rb") as fh:
        r = intake.run_intake(store, fh)
    assert (r.lines, r.applied, r.rejected, r.exit_code) == (10, 2, 8, 1)
    reasons = {e.line: e.reason for e in r.errors}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 10, 11}
    assert reasons[2].startswith("bad JSON")
    assert "unknown event type 'appeal.deleted'" in reasons[3]
    assert "no such enterprise" in reasons[4]
    assert "no such appeal" in reasons[5]
    assert "unknown category" in reasons[6]
    assert reasons[7] == "missing field appeal.title"
    assert "JSON object" in reasons[10]
    assert "ISO 8601" in reasons[11]
    assert store.appeal("A-2026-0101").state == "assigned"
    assert store.project("P-0001").percent == 30
    # a rejected line leaves no trace, not even its event_id
    assert store.scalar("SELECT COUNT(*) FROM intake_events") == 2
    assert store.scalar("SELECT COUNT(*) FROM appeals WHERE ref IN ('A-2026-0201', 'A-2026-0202', 'A-2026-0203')") == 0


def test_failed_operation_leaves_no_event_row_and_can_be_retried(store, city):
    r = run(store, [submitted(city, eid="late", ref="A-2026-0300", county="不存在区")])
    assert r.rejected == 1
    assert store.scalar("SELECT COUNT(*) FROM intake_events WHERE event_id = 'late'") == 0
    r = run(store, [submitted(city, eid="late", ref="A-2026-0300")])
    assert r.applied == 1


def test_event_row_and_operation_share_one_transaction(store, city, monkeypatch):
    # make the intake_events insert fail after the operation: the appeal must not stay
    orig = store.conn

    class Conn:
        def __init__(self, c):
            self.c = c

        def execute(self, sql, *a):
            if sql.startswith("INSERT INTO intake_events"):
                raise __import__("sqlite3").OperationalError("disk I/O error (simulated)")
            return self.c.execute(sql, *a)

        def __getattr__(self, n):
            return getattr(self.c, n)

    store.conn = Conn(orig)
    try:
        with pytest.raises(Exception, match="simulated"):
            intake.apply_event(store, "system:intake", submitted(city, eid="tx", ref="A-2026-0400"))
    finally:
        store.conn = orig
    assert store.scalar("SELECT COUNT(*) FROM appeals WHERE ref = 'A-2026-0400'") == 0
    assert not store.conn.in_transaction


def test_missing_fields_and_types(store, city):
    r = run(store, [
        {"type": "appeal.submitted", "at": city.arrived},                         # no event_id
        {"event_id": "m2", "at": city.arrived},                                   # no type
        {"event_id": "m3", "type": "appeal.evaluated", "appeal_ref": "A-1", "rating": "满意"},  # no at
        {"event_id": "m4", "type": "project.progress", "at": city.arrived, "project_ref": "P-0001",
         "percent": "lots"},
        {"event_id": "m5", "type": "appeal.submitted", "at": city.arrived, "appeal": "nope"},
    ])
    assert r.rejected == 5
    assert [e.reason for e in r.errors][:3] == ["missing field event_id", "missing field type", "missing field at"]
    assert "number" in r.errors[3].reason and "object" in r.errors[4].reason


def test_cli_intake_file_and_stdin(db_path):
    result = CliRunner().invoke(cli.app, ["intake", str(FIX / "intake_bad.jsonl"), "--db", str(db_path)])
    assert result.exit_code == 1
    assert "applied 2" in result.stdout and "rejected 8" in result.stdout
    assert "intake_bad.jsonl:3: [x3] unknown event type" in result.stderr
    data = (FIX / "intake_events.jsonl").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli.app, ["intake", "-", "--db", str(db_path)], input=data)
    # e1 also opens intake_bad.jsonl: it landed already, so here it is a repeat
    assert result.exit_code == 0 and result.stdout == (
        "intake stdin: 4 events read; applied 3 (project.applied 1, project.progress 1, appeal.submitted 1), "
        "repeats skipped 1, conflicts 0, rejected 0\n")
    result = CliRunner().invoke(cli.app, ["intake", "-", "--db", str(db_path), "--json"], input=data)
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and (out["repeats"], out["applied"], out["conflicts"], out["rejected"]) == (4, 0, 0, 0)
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM intake_events") == 2 + 3


def test_cli_intake_refuses_a_liaison(db_path, run_cli):
    code, out, err = run_cli("intake", str(FIX / "intake_events.jsonl"), "--db", str(db_path), "--as", "zrzy1")
    assert code == 2
    assert out == ""
    assert err == "refused: rule: only admin may feed the enterprise app's events (intake); zrzy1 (liaison) may not\n"
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM intake_events") == 0
