"""`taian escalate` as cron and scripts use it: JSON, dated rules, idempotence, catch-up,
dry-run, the cron environment, concurrent sweeps, a sweep beside other writers, kill -9."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from taian_tui.domain import operations as wf
from taian_tui.store import Store

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture
def escalate_json(run_cli):
    def escalate_json(db_path, at, *extra, env=None):
        # the server's clock is at (or after) --at: a real sweep never runs ahead of it
        env = {"TAIAN_NOW": at, **(env or {})}
        code, out, err = run_cli("escalate", "--db", db_path, "--at", at, "--json", *extra, env=env)
        assert code == 0, err
        return json.loads(out)
    return escalate_json


def test_json_object_follows_domain_format(escalate_json, db_path, make_appeal):
    a = make_appeal("accepted")
    doc = escalate_json(db_path, "2026-10-12T07:00:00+08:00")
    assert set(doc) == {"at", "dry_run", "raised", "notifications_queued", "appeals", "warnings",
                        "audit_head"}
    assert doc["at"] == "2026-10-12T07:00:00+08:00"
    assert doc["dry_run"] is False
    assert doc["raised"] == {"blue": 1, "yellow": 0, "red": 0}
    assert doc["appeals"] == [{"ref": a.ref, "card": "blue", "previous": None,
                               "threshold_at": "2026-10-12T00:00:00+08:00"}]
    assert doc["notifications_queued"] == 1  # zrzy1
    assert doc["warnings"] == []


def test_json_streams_one_raised_appeal_a_line_after_the_counts(run_cli, db_path, make_appeal):
    """The cron form writes the appeals as it reads them (never the whole list in memory):
    the counts and the head first, then one compact object a line, closed last."""
    a, b = make_appeal("accepted"), make_appeal("accepted")
    code, out, err = run_cli("escalate", "--db", db_path, "--at", "2026-10-13T07:00:00+08:00", "--json")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "{" and lines[1] == '  "at": "2026-10-13T07:00:00+08:00",'
    start = lines.index('  "appeals": [')
    assert lines[start + 1:] == [
        f'    {{"ref": "{a.ref}", "card": "blue", "previous": null, "threshold_at": "2026-10-12T00:00:00+08:00"}},',
        f'    {{"ref": "{b.ref}", "card": "blue", "previous": null, "threshold_at": "2026-10-12T00:00:00+08:00"}},',
        f'    {{"ref": "{a.ref}", "card": "yellow", "previous": "blue", "threshold_at": "2026-10-12T23:59:59+08:00"}},',
        f'    {{"ref": "{b.ref}", "card": "yellow", "previous": "blue", "threshold_at": "2026-10-12T23:59:59+08:00"}}',
        "  ]", "}"]
    assert json.loads(out)["raised"] == {"blue": 2, "yellow": 2, "red": 0}


def test_dated_progression_blue_yellow_red(escalate_json, run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    assert escalate_json(db_path, "2026-10-11T23:59:59+08:00")["raised"] == {"blue": 0, "yellow": 0, "red": 0}
    assert escalate_json(db_path, "2026-10-12T00:00:00+08:00")["raised"]["blue"] == 1
    assert escalate_json(db_path, "2026-10-12T23:59:59+08:00")["raised"]["yellow"] == 0
    y = escalate_json(db_path, "2026-10-13T00:00:00+08:00")
    assert y["appeals"] == [{"ref": a.ref, "card": "yellow", "previous": "blue",
                             "threshold_at": "2026-10-12T23:59:59+08:00"}]
    assert escalate_json(db_path, "2026-10-19T23:59:59+08:00")["raised"]["red"] == 0
    r = escalate_json(db_path, "2026-10-20T07:00:00+08:00")
    assert r["appeals"] == [{"ref": a.ref, "card": "red", "previous": "yellow",
                             "threshold_at": "2026-10-19T23:59:59+08:00"}]
    code, out, _ = run_cli("appeal", "show", a.ref, "--db", db_path, "--json")
    shown = json.loads(out)
    assert shown["card"] == "red" and shown["state"] == "accepted" and shown["unit"] == "zrzy"
    assert shown["deadline"] == "2026-10-12T23:59:59+08:00"
    assert [h["action"] for h in shown["history"] if h["action"].startswith("card.")] == \
        ["card.blue", "card.yellow", "card.red"]


def test_second_run_raises_nothing_and_queues_nothing(escalate_json, db_path, make_appeal):
    make_appeal("accepted")
    first = escalate_json(db_path, "2026-10-21T07:00:00+08:00")
    assert first["raised"] == {"blue": 1, "yellow": 1, "red": 1}
    for at in ("2026-10-21T07:00:00+08:00", "2026-10-22T07:00:00+08:00", "2026-12-01T07:00:00+08:00"):
        again = escalate_json(db_path, at)
        assert again["raised"] == {"blue": 0, "yellow": 0, "red": 0}
        assert again["notifications_queued"] == 0 and again["appeals"] == []


def test_catch_up_applies_every_threshold_in_order(escalate_json, db_path, make_appeal):
    """cron was down from 10-10 to 10-21: one run applies blue, yellow, red with the times
    each threshold passed."""
    a = make_appeal("accepted")
    server_now = "2026-10-21T07:00:42+08:00"      # the server's clock when the sweep ran
    doc = escalate_json(db_path, "2026-10-21T07:00:00+08:00", env={"TAIAN_NOW": server_now})
    assert [(x["card"], x["previous"], x["threshold_at"]) for x in doc["appeals"]] == [
        ("blue", None, "2026-10-12T00:00:00+08:00"),
        ("yellow", "blue", "2026-10-12T23:59:59+08:00"),
        ("red", "yellow", "2026-10-19T23:59:59+08:00"),
    ]
    with Store(db_path) as s:
        rows = s.all("SELECT e.card, e.threshold_at, e.applied_at FROM card_events e JOIN appeals a "
                     "ON a.id = e.appeal_id WHERE a.ref = ? ORDER BY e.id", (a.ref,))
        assert [tuple(r) for r in rows] == [
            ("blue", "2026-10-12T00:00:00+08:00", server_now),
            ("yellow", "2026-10-12T23:59:59+08:00", server_now),
            ("red", "2026-10-19T23:59:59+08:00", server_now)]
        order = s.one("SELECT origin, opened_at, due_at FROM supervision_orders")
        assert tuple(order) == ("yellow", "2026-10-12T23:59:59+08:00", "2026-10-19T23:59:59+08:00")


def _snapshot(path):
    c = sqlite3.connect(path)
    try:
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                         "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'appeal_search%'")]
        return {n: sorted(map(tuple, c.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names}
    finally:
        c.close()


def test_dry_run_reports_exactly_and_changes_nothing(escalate_json, run_cli, db_path, make_appeal):
    make_appeal("accepted")
    make_appeal("accepted", category="环评")
    before = _snapshot(db_path)
    dry = escalate_json(db_path, "2026-10-21T07:00:00+08:00", "--dry-run")
    assert dry["dry_run"] is True
    assert _snapshot(db_path) == before
    real = escalate_json(db_path, "2026-10-21T07:00:00+08:00")
    assert {k: dry[k] for k in ("raised", "notifications_queued", "appeals", "warnings")} == \
        {k: real[k] for k in ("raised", "notifications_queued", "appeals", "warnings")}
    assert real["raised"] == {"blue": 2, "yellow": 2, "red": 2}
    # raised at once, past the deadline: no blue reminder; yellow zrzy1, head:zrzy, sthj1,
    # head:sthj; red ducha1
    assert real["notifications_queued"] == 5
    code, out, _ = run_cli("escalate", "--db", db_path, "--at", "2026-10-21T07:00:00+08:00", "--dry-run")
    assert code == 0
    assert out == ("escalate at 2026-10-21T07:00:00+08:00: dry run: would raise blue 0, yellow 0, red 0; "
                   "SMS to queue 0\n")


def test_year_end_into_a_year_without_data_warns_and_exits_0(escalate_json, run_cli, db_path, store, submit):
    a = submit(at="2026-12-28T10:00:00+08:00")
    wf.accept_appeal(store, "zrzy1", a.ref, at="2026-12-28T11:00:00+08:00")
    assert store.appeal(a.ref).deadline == "2027-01-04T23:59:59+08:00"
    doc = escalate_json(db_path, "2027-01-05T07:00:00+08:00")
    assert doc["raised"] == {"blue": 1, "yellow": 1, "red": 0}
    assert doc["warnings"] == [
        "no holiday data for 2027: working days in 2027 counted Monday-Friday "
        "(add them with `taian calendar import FILE`)",
        "1 open appeal has a deadline counted Monday-Friday: no holiday data for 2027 "
        "(add it with `taian calendar import FILE`)"]
    code, out, err = run_cli("escalate", "--db", db_path, "--at", "2027-01-13T07:00:00+08:00",
                             env={"TAIAN_NOW": "2027-01-13T07:00:00+08:00"})
    assert code == 0, err
    assert out == ("escalate at 2027-01-13T07:00:00+08:00: raised blue 0, yellow 0, red 1; SMS queued 1\n"
                   "warning: 1 open appeal has a deadline counted Monday-Friday: no holiday data for 2027 "
                   "(add it with `taian calendar import FILE`)\n")
    # the 5 working days after 01-04 in a year without data: 01-05..01-11 (Mon-Fri)
    assert store.one("SELECT due_at FROM supervision_orders")[0] == "2027-01-11T23:59:59+08:00"


def test_reply_one_second_before_and_after_the_deadline(escalate_json, db_path, store, make_appeal):
    on_time = make_appeal("accepted")
    late = make_appeal("accepted")
    wf.reply_appeal(store, "zrzy1", on_time.ref, "已办", at="2026-10-12T23:59:58+08:00")
    wf.reply_appeal(store, "zrzy1", late.ref, "已办", at="2026-10-13T00:00:00+08:00")
    doc = escalate_json(db_path, "2026-10-13T07:00:00+08:00")
    assert doc["raised"] == {"blue": 0, "yellow": 0, "red": 0}
    # answered on Day 5 (blue since 00:00), one second before the deadline: blue, never yellow
    assert store.appeal(on_time.ref).card == "blue"
    assert store.orders(on_time.id) == []
    # the late one earned its yellow when it was answered; it stays in its history
    assert store.appeal(late.ref).card == "yellow"


def test_cron_environment_plain_text_exit_codes(taian_process, tmp_path, db_path, make_appeal):
    make_appeal("accepted")
    env = {"PATH": "/usr/bin:/bin", "TAIAN_DB": str(db_path)}
    p = taian_process("escalate", "--at", "2026-10-13T07:00:00+08:00", env=env)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "\x1b" not in out + err
    # (blue and yellow at once, the deadline passed: the yellow SMS to the liaison and the head)
    assert out == "escalate at 2026-10-13T07:00:00+08:00: raised blue 1, yellow 1, red 0; SMS queued 2\n"
    p = taian_process("escalate", "--db", str(tmp_path / "missing.db"), env=env)
    out, err = p.communicate(timeout=60)
    assert p.returncode != 0
    assert len(err.strip().splitlines()) == 1 and "does not exist" in err and "\x1b" not in err
    assert not (tmp_path / "missing.db").exists()


def test_two_sweeps_at_once_never_both_apply(taian_process, db_path, store, submit):
    for i in range(30):
        a = submit(at="2026-09-29T10:00:00+08:00")
        wf.accept_appeal(store, "zrzy1", a.ref, at="2026-09-29T11:00:00+08:00")
    store.close()
    procs = [taian_process("escalate", "--db", db_path, "--at", "2026-10-21T07:00:00+08:00", "--json")
             for _ in range(3)]
    docs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        docs.append(json.loads(out))
    totals = {c: sum(d["raised"][c] for d in docs) for c in ("blue", "yellow", "red")}
    assert totals == {"blue": 30, "yellow": 30, "red": 30}
    # one sweep applied everything (grouped: one SMS per recipient and card), the others nothing
    assert sorted(d["notifications_queued"] for d in docs) == [0, 0, 3]
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM card_events") == 90
        assert s.scalar("SELECT COUNT(*) FROM supervision_orders") == 30
        # all 30 past their deadline and their order's due day (10-19) at once: the yellow SMS
        # says so, and no blue reminder "due today" goes out
        assert s.scalar("SELECT COUNT(*) FROM outbox WHERE reason = 'card.blue'") == 0
        assert [tuple(r) for r in s.all("SELECT recipient, reason FROM outbox ORDER BY id")] == [
            ("zrzy1", "card.yellow"), ("head:zrzy", "card.yellow"), ("ducha1", "card.red")]
        assert s.scalar("SELECT text FROM outbox WHERE reason = 'card.yellow' AND recipient = 'zrzy1'") == (
            "【泰安重大项目督导】黄牌：你单位30件诉求（A-2026-0001、A-2026-0002、A-2026-0003等）"
            "已超期未答复，督办亦已逾期，已推送市纪委监委。")
        assert s.verify_audit().ok


def test_sweep_waits_for_a_writer_instead_of_failing(taian_process, db_path, make_appeal):
    """An import or the console holding the write lock for a while: the sweep waits, then
    completes; nothing is lost on either side."""
    make_appeal("accepted")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO settings(key, value) VALUES ('held', 'yes')")
    p = taian_process("escalate", "--db", db_path, "--at", "2026-10-13T07:00:00+08:00")
    time.sleep(1.5)
    assert p.poll() is None  # still waiting for the lock
    other.execute("COMMIT")
    other.close()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert err == ""
    assert out == "escalate at 2026-10-13T07:00:00+08:00: raised blue 1, yellow 1, red 0; SMS queued 2\n"
    with Store(db_path) as s:
        assert s.setting("held") == "yes"


def _consistent(path) -> tuple[int, int]:
    """Cards, history and orders agree (a sweep applied whole or not at all)."""
    c = sqlite3.connect(path)
    try:
        events = c.execute("SELECT COUNT(*) FROM card_events").fetchone()[0]
        ranks = c.execute("SELECT COALESCE(SUM(CASE card WHEN 'blue' THEN 1 WHEN 'yellow' THEN 2 "
                          "WHEN 'red' THEN 3 ELSE 0 END), 0) FROM appeals").fetchone()[0]
        yellows = c.execute("SELECT COUNT(*) FROM card_events WHERE card = 'yellow'").fetchone()[0]
        orders = c.execute("SELECT COUNT(*) FROM supervision_orders").fetchone()[0]
        assert events == ranks, (events, ranks)
        assert yellows == orders
        return events, c.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    finally:
        c.close()


def _holds_write_lock(path) -> bool:
    """True while another connection holds the write lock (the sweep is inside its transaction)."""
    c = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            return True
        raise
    finally:
        c.close()


@pytest.mark.heavy
def test_kill_9_mid_sweep_leaves_before_and_the_next_run_completes(taian_process, tmp_path):
    import gen_appeals

    path = str(tmp_path / "big.db")
    made = gen_appeals.build(path, appeals=40_000, quiet=True)
    # the generator is deterministic (seed 7): these are the thresholds no sweep has applied yet
    assert {k: made[k] for k in ("closed", "open_not_due", "blue", "yellow", "red")} == {
        "closed": 27964, "open_not_due": 4054, "blue": 3231, "yellow": 3178, "red": 1573}
    b, y, r = made["blue"], made["yellow"], made["red"]
    base_events, base_audit = _consistent(path)
    assert base_events == 0
    p = taian_process("escalate", "--db", path, "--at", gen_appeals.DEFAULT_AT)
    deadline = time.monotonic() + 60
    while not _holds_write_lock(path):          # wait until the sweep is inside its transaction
        assert p.poll() is None, "the sweep ended before it was seen holding the write lock"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    assert p.returncode == -signal.SIGKILL        # the kill landed: the process did not exit by itself
    assert _consistent(path) == (0, base_audit)   # rolled back: the file is as before
    p = taian_process("escalate", "--db", path, "--at", gen_appeals.DEFAULT_AT, "--json")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    doc = json.loads(out)
    # blue for every appeal past a threshold, yellow for those past the deadline, red for
    # those past the order's due time as well
    assert doc["raised"] == {"blue": b + y + r, "yellow": y + r, "red": r}
    assert _consistent(path) == (b + 2 * y + 3 * r, base_audit + 1)
    with Store(path) as s:
        assert s.verify_audit().ok


def test_a_real_sweep_never_runs_ahead_of_the_clock(run_cli, db_path, make_appeal, dump):
    make_appeal("accepted")
    now = "2026-10-13T07:00:00+08:00"
    before = dump()
    code, out, err = run_cli("escalate", "--db", db_path, "--at", "2026-10-20T07:00:00+08:00",
                             env={"TAIAN_NOW": now})
    assert (code, out) == (2, "")
    assert err == ("error: --at 2026-10-20T07:00:00+08:00 is after now (2026-10-13T07:00:00+08:00): a sweep "
                   "never runs ahead of the clock (add --dry-run to see what it would raise then)\n")
    assert dump() == before
    # a forecast is allowed, and lists what it would raise
    code, out, err = run_cli("escalate", "--db", db_path, "--at", "2026-10-20T07:00:00+08:00", "--dry-run",
                             "--json", env={"TAIAN_NOW": now})
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dry_run"] is True and doc["raised"] == {"blue": 1, "yellow": 1, "red": 1}
    assert [(a["ref"], a["card"]) for a in doc["appeals"]] == [
        ("A-2026-0001", "blue"), ("A-2026-0001", "yellow"), ("A-2026-0001", "red")]
    assert dump() == before


def test_the_json_carries_the_audit_head(run_cli, db_path, make_appeal, store):
    make_appeal("accepted")
    at = "2026-10-13T07:00:00+08:00"
    code, out, err = run_cli("escalate", "--db", db_path, "--at", at, "--json", env={"TAIAN_NOW": at})
    assert code == 0, err
    head = store.one("SELECT last_id, last_hash FROM audit_head")
    last = store.one("SELECT id, hash, action FROM audit ORDER BY id DESC LIMIT 1")
    assert last["action"] == "escalate"
    assert json.loads(out)["audit_head"] == {"id": last["id"], "hash": last["hash"]} == \
        {"id": head["last_id"], "hash": head["last_hash"]}


def test_two_sweeps_in_the_same_second_as_real_processes_keep_every_sms(taian_process, db_path, submit, store):
    """Two cron-like processes with the same clock (so the same applied second) and different
    --at, one after the other: the second one's blue SMS to the same liaison is queued too
    (the outbox keys an SMS by the appeals it is about, not by the second it was queued)."""
    a = submit(at="2026-09-29T10:00:00+08:00")         # blue 10-12 00:00, yellow after 10-12
    b = submit(at="2026-09-30T10:00:00+08:00")         # blue 10-13 00:00
    env = {**os.environ, "TAIAN_NOW": "2026-10-13T07:00:00+08:00"}
    for at in ("2026-10-12T07:00:00+08:00", "2026-10-13T06:00:00+08:00"):
        p = taian_process("escalate", "--db", db_path, "--at", at, env=env)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert [tuple(r) for r in store.all("SELECT recipient, reason, entity, created_at FROM outbox ORDER BY id")] == [
        ("zrzy1", "card.blue", f"appeals:zrzy:{a.id}", "2026-10-13T07:00:00+08:00"),
        ("zrzy1", "card.blue", f"appeals:zrzy:{b.id}", "2026-10-13T07:00:00+08:00"),
        ("zrzy1", "card.yellow", f"appeals:zrzy:{a.id}", "2026-10-13T07:00:00+08:00"),
        ("head:zrzy", "card.yellow", f"appeals:zrzy:{a.id}", "2026-10-13T07:00:00+08:00")]


def test_the_sweep_waits_for_another_writer_then_says_what_to_do(run_cli, db_path, make_appeal, monkeypatch):
    """Cron's sweep, with an import holding the write lock: it tries again (each try SQLite's
    busy timeout) until ``LOCK_WAIT`` has passed, then says so and what to do; nothing is
    half-written. With the lock gone meanwhile, the sweep runs."""
    import sqlite3

    from taian_tui import store as store_module
    from taian_tui.commands import escalate as escalate_cmd

    make_appeal("accepted")                         # due 10-12: blue and yellow by 10-13
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(escalate_cmd, "LOCK_WAIT", 0.3)
    monkeypatch.setattr(escalate_cmd, "LOCK_RETRY_PAUSE", 0.05)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run_cli("escalate", "--db", db_path, env={"TAIAN_NOW": "2026-10-13T07:00:00+08:00"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"waiting: {db_path} is being written by another process; trying again (")
    assert lines[-1].startswith(f"error: {db_path} stayed locked by another writer (an import, a backup?) for ")
    assert lines[-1].endswith(" s: no card was raised; run `taian escalate` again (a late sweep applies every "
                              "threshold passed since)")
    code, out, err = run_cli("escalate", "--db", db_path, env={"TAIAN_NOW": "2026-10-13T07:00:00+08:00"})
    assert (code, err) == (0, "")
    assert out.startswith("escalate at 2026-10-13T07:00:00+08:00: raised blue 1, yellow 1, red 0;")


def test_a_quiet_sweep_is_in_the_audit_trail_too(run_cli, db_path, make_appeal, store):
    """One audit row per run, also when it raises nothing (cron ran that day)."""
    make_appeal("accepted")                         # Day 5 begins 10-12
    before = store.scalar("SELECT COUNT(*) FROM audit WHERE action = 'escalate'")
    code, out, err = run_cli("escalate", "--db", db_path, env={"TAIAN_NOW": "2026-10-09T07:00:00+08:00"})
    assert (code, err) == (0, "")
    rows = store.all("SELECT actor, entity, entity_id, after FROM audit WHERE action = 'escalate' ORDER BY id")
    assert len(rows) == before + 1
    assert (rows[-1]["actor"], rows[-1]["entity"], rows[-1]["entity_id"]) == (
        "system:escalate", "sweep", "2026-10-09T07:00:00+08:00")
    assert json.loads(rows[-1]["after"])["raised"] == {"blue": 0, "yellow": 0, "red": 0}


def test_another_command_under_a_long_writer_says_what_happened(run_cli, db_path, make_appeal, monkeypatch, dump):
    import sqlite3

    from taian_tui import store as store_module

    a = make_appeal("assigned")
    before = dump()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, out, err = run_cli("appeal", "accept", a.ref, "--as", "zrzy1", "--db", db_path,
                                 env={"TAIAN_NOW": "2026-10-09T09:00:00+08:00"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (code, out) == (1, "")
    assert err == ("error: the database stayed locked by another writer (an import, a backup, a sweep?) for "
                   "a minute: nothing was changed; run the command again\n")
    assert dump() == before


def test_an_order_carried_into_a_year_without_data_says_so(run_cli, db_path, submit):
    """Arrived Thu 12-10 (zrzy): due 12-17 (12-11, 14, 15, 16, 17); yellow at the 12-18 sweep,
    its order due 12-24 (12-18, 21, 22, 23, 24). Reassigned on Wed 12-23 to sthj: due 12-30
    (12-24, 25, 28, 29, 30); the order goes on, due 5 working days after it: 12-31, then
    2027-01-01, 04, 05, 06 counted Monday-Friday (no 2027 data): the assignment and the next
    sweep say so."""
    a = submit(at="2026-12-10T10:00:00+08:00")
    code, out, err = run_cli("escalate", "--db", db_path, env={"TAIAN_NOW": "2026-12-18T07:00:00+08:00"})
    assert (code, out) == (0, "escalate at 2026-12-18T07:00:00+08:00: raised blue 1, yellow 1, red 0; "
                              "SMS queued 2\n")
    env = {"TAIAN_NOW": "2026-12-23T10:00:00+08:00"}
    code, out, err = run_cli("appeal", "assign", a.ref, "--unit", "sthj", "--as", "admin", "--db", db_path, env=env)
    assert (code, out) == (0, f"{a.ref} assigned to 市生态环境局 (sthj); due 2026-12-30T23:59:59+08:00; its "
                              "supervision order #1 now due 2027-01-06T23:59:59+08:00 (estimated)\n")
    assert err == ("warning: no holiday data for 2027: working days in 2027 counted Monday-Friday (add them "
                   "with `taian calendar import FILE`)\n")
    code, out, err = run_cli("escalate", "--db", db_path, env=env)
    assert (code, err) == (0, "")
    assert out == ("escalate at 2026-12-23T10:00:00+08:00: raised blue 0, yellow 0, red 0; SMS queued 0\n"
                   "warning: 1 open supervision order is due in 2027, counted Monday-Friday: no holiday data "
                   "(add it with `taian calendar import FILE`)\n")
