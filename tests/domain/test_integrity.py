"""``taian audit verify``: a wiped trail, business rows changed outside the store, anchors
of the head (a rebuilt chain), and the principal on every audit row."""
from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest

from taian_tui.domain import escalation, integrity
from taian_tui.domain import operations as wf
from taian_tui.store import GENESIS_HASH, Principal, audit_hash, principal, set_principal

SWEEP_1019 = "2026-10-13T07:00:00+08:00"     # A-0001 (arrived 09-29): blue and yellow
LATER = "2026-10-21T07:00:00+08:00"          # red too (the order was due 10-19)


def raw(path):
    """The file opened by another tool (the sqlite3 shell): no store, no rules."""
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture
def history(store, make_appeal):
    """All four arrived Tue 09-29 (due 10-12). A-0001 accepted, never answered: blue and
    yellow (its order due 10-19) at the 10-13 sweep, red at the 10-21 one. A-0002 answered.
    A-0003 accepted, with a supervisor's order (opened 10-09, due 10-30): blue and yellow at
    10-13, no second order. A-0004 disputed, the unit at fault (reviewed 10-09: order due
    10-15 = 10-10 make-up Sat, 12, 13, 14, 15): blue (10-15) and red at the 10-21 sweep."""
    a1 = make_appeal("accepted")
    a2 = make_appeal("answered")
    a3 = make_appeal("accepted")
    a4 = make_appeal("disputed")
    wf.open_supervision_order(store, "ducha1", a3.ref, "2026-10-30T23:59:59+08:00", "请加快办理",
                              at="2026-10-09T09:00:00+08:00")
    wf.review_dispute(store, "ducha1", a4.ref, True, "答复未解决问题", at="2026-10-09T10:00:00+08:00")
    # as cron runs them: each applied at its own time
    assert escalation.sweep(store, SWEEP_1019, applied_at=SWEEP_1019).raised == {"blue": 2, "yellow": 2, "red": 0}
    assert escalation.sweep(store, LATER, applied_at=LATER).raised == {"blue": 1, "yellow": 0, "red": 2}
    return a1, a2, a3, a4


def problems(store, anchors=None):
    return integrity.verify(store, anchors).problems


def test_a_clean_history_verifies(store, history):
    result = integrity.verify(store)
    assert result.problems == []
    assert result.rows == store.scalar("SELECT COUNT(*) FROM audit")


def test_a_wiped_trail_is_reported(store, db_path, history):
    conn = raw(db_path)
    conn.execute("DELETE FROM audit")
    conn.execute("DELETE FROM audit_head")
    conn.close()
    found = problems(store)
    assert found[0] == "the audit trail was wiped: no audit rows, but 60 units, 9 users, 1 enterprises, " \
                       "1 projects, 4 appeals"


def test_an_appeal_state_changed_in_sqlite_is_reported(store, db_path, history):
    a1 = history[0]
    conn = raw(db_path)
    conn.execute("UPDATE appeals SET state = 'closed' WHERE ref = ?", (a1.ref,))
    conn.close()
    assert problems(store) == [f"appeal {a1.ref}: its state 'closed' is not the one its history records "
                               "('accepted'): changed outside the store"]


def test_a_reply_changed_in_sqlite_is_reported(store, db_path, history):
    a2 = history[1]
    conn = raw(db_path)
    conn.execute("UPDATE appeals SET reply = '已解决' WHERE ref = ?", (a2.ref,))
    conn.close()
    assert problems(store) == [f"appeal {a2.ref}: its reply '已解决' is not the one its history records "
                               "('已协调解决'): changed outside the store"]


def test_an_appeal_inserted_in_sqlite_is_reported(store, db_path, history, city):
    conn = raw(db_path)
    conn.execute("INSERT INTO appeals(ref, enterprise_uscc, category, county, title, body, state, unit_code, "
                 "submitted_at) VALUES ('X-1', ?, 'land', '岱岳区', 't', 'b', 'closed', 'zrzy', ?)",
                 (city.uscc, city.setup_at))
    conn.close()
    assert problems(store) == ["appeal X-1 has no history: it was written outside the store"]


def test_a_red_card_deleted_in_sqlite_is_reported(store, db_path, history):
    a1 = history[0]
    conn = raw(db_path)
    conn.execute("DELETE FROM card_events WHERE appeal_id = ? AND card = 'red'", (a1.id,))
    conn.close()
    assert problems(store) == [
        f"appeal {a1.ref}: card 'red' but its card history ends at 'yellow': changed outside the store",
        "the sweep applied at 2026-10-21T07:00:00+08:00 raised blue 1, yellow 0, red 2, but the card history "
        "holds blue 1, yellow 0, red 1: changed outside the store"]


def test_a_card_lowered_in_sqlite_is_reported(store, db_path, history):
    a1 = history[0]
    conn = raw(db_path)
    conn.execute("UPDATE appeals SET card = 'blue' WHERE ref = ?", (a1.ref,))
    conn.close()
    assert problems(store) == [f"appeal {a1.ref}: card 'blue' but its card history ends at 'red': "
                               "changed outside the store"]


def test_order_due_times_changed_in_sqlite_are_reported(store, db_path, history):
    a1, _, a3, a4 = history
    orders = {r["appeal_id"]: r["id"] for r in store.all("SELECT id, appeal_id FROM supervision_orders")}
    assert [orders[a.id] for a in (a3, a4, a1)] == [1, 2, 3]
    conn = raw(db_path)
    conn.execute("UPDATE supervision_orders SET due_at = '2099-12-31T23:59:59+08:00'")
    conn.close()
    assert problems(store) == [
        f"supervision order 1 of appeal {a3.ref}: due 2099-12-31T23:59:59+08:00, but its history says due "
        "2026-10-30T23:59:59+08:00: changed outside the store",
        f"supervision order 2 of appeal {a4.ref}: due 2099-12-31T23:59:59+08:00, a due time no review of "
        f"{a4.ref} recorded: changed outside the store",
        f"supervision order 3 of appeal {a1.ref}: due 2099-12-31T23:59:59+08:00, but a yellow card's order "
        "opened 2026-10-12T23:59:59+08:00 is due 2026-10-19T23:59:59+08:00: changed outside the store"]


def test_a_supervisors_note_changed_in_sqlite_is_reported(store, db_path, history):
    a3 = history[2]
    conn = raw(db_path)
    conn.execute("UPDATE supervision_orders SET note = '无需办理' WHERE origin = 'manual'")
    conn.close()
    assert problems(store) == [f"supervision order 1 of appeal {a3.ref}: its note '无需办理' is not the one "
                               "its history records ('请加快办理'): changed outside the store"]


def test_a_reassignment_marks_the_closed_orders_note_and_still_verifies(store, make_appeal):
    # no card yet (arrived 09-29, Day 5 begins 10-12): the supervisor's order ends with its unit
    a = make_appeal("accepted")
    wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-30T23:59:59+08:00", "请加快办理",
                              at="2026-10-09T09:00:00+08:00")
    wf.assign_appeal(store, "admin", a.ref, "sthj", note="属环保职责", at="2026-10-10T09:00:00+08:00")
    assert tuple(store.one("SELECT state, note FROM supervision_orders WHERE origin = 'manual'")) == (
        "closed", "请加快办理（已改派）")
    assert problems(store) == []


def test_a_reassignment_carries_a_yellow_appeals_order_over_and_still_verifies(store, history):
    """A-0003 is yellow with the supervisor's order: it stays open, due 5 working days after
    sthj's own deadline (arrived Wed 10-14: 10-15, 16, 19, 20, 21; then 10-22, 23, 26, 27, 28)."""
    a3 = history[2]
    wf.assign_appeal(store, "admin", a3.ref, "sthj", note="属环保职责", at="2026-10-14T09:00:00+08:00")
    assert tuple(store.one("SELECT state, due_at, note FROM supervision_orders WHERE origin = 'manual'")) == (
        "open", "2026-10-28T23:59:59+08:00", "请加快办理（改派后继续督办）")
    assert problems(store) == []


def test_a_calendar_file_after_a_yellow_cards_order_still_verifies(store, db_path, history):
    """A-0001's order was opened at its deadline 10-12 and is due 10-19 (10-13, 14, 15, 16,
    19). A calendar file made 10-14 a holiday afterwards: on today's calendar it would be due
    10-20, but an order keeps its due time; the check counts on the calendar as it was
    before that file, and a due time neither calendar gives is still reported."""
    a1 = history[0]
    order = store.orders(store.appeal(a1.ref).id)[0]
    assert (order.origin, order.due_at) == ("yellow", "2026-10-19T23:59:59+08:00")
    wf.import_calendar_rows(store, "admin", [("2026-10-14", "holiday")], source="fix.csv",
                            at="2026-10-22T09:00:00+08:00")
    assert store.calendar().supervision_due(order.opened_at)[0] == "2026-10-20T23:59:59+08:00"
    assert problems(store) == []
    conn = raw(db_path)
    conn.execute("UPDATE supervision_orders SET due_at = '2026-10-21T23:59:59+08:00' WHERE id = ?", (order.id,))
    conn.close()
    assert problems(store) == [
        f"supervision order {order.id} of appeal {a1.ref}: due 2026-10-21T23:59:59+08:00, but a yellow "
        "card's order opened 2026-10-12T23:59:59+08:00 is due 2026-10-20T23:59:59+08:00: changed outside "
        "the store"]


# -- anchors ---------------------------------------------------------------------------------------------
def _rebuild_from(db_path, row_id: int, new_after: str) -> None:
    """What someone hiding a change would do: edit a row, then recompute every hash after it
    and the head, so that the chain verifies again."""
    conn = raw(db_path)
    conn.row_factory = sqlite3.Row
    conn.execute("UPDATE audit SET after = ? WHERE id = ?", (new_after, row_id))
    prev = conn.execute("SELECT hash FROM audit WHERE id = ?", (row_id - 1,)).fetchone()
    prev_hash = prev["hash"] if prev else GENESIS_HASH
    for r in conn.execute("SELECT * FROM audit WHERE id >= ? ORDER BY id", (row_id,)).fetchall():
        digest = audit_hash(prev_hash, r["id"], r["at"], r["actor"], r["action"], r["entity"],
                            r["entity_id"], r["before"], r["after"], r["os_user"], r["key_fingerprint"],
                            r["client"])
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev_hash, digest, r["id"]))
        prev_hash = digest
        last = r["id"]
    conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ?", (last, prev_hash))
    conn.close()


def test_an_anchor_catches_a_rebuilt_chain(store, db_path, history, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    old = os.umask(0o022)
    try:
        record = integrity.anchor(store, anchors)
    finally:
        os.umask(old)
    assert oct(anchors.stat().st_mode & 0o777) == "0o600"
    head = store.one("SELECT last_id, last_hash FROM audit_head")
    assert (record["id"], record["hash"]) == (head["last_id"], head["last_hash"])
    assert json.loads(anchors.read_text()) == record
    assert problems(store, anchors) == []
    _rebuild_from(db_path, 30, '{"name":"伪造"}')
    assert store.verify_audit().ok                      # the chain alone no longer tells
    assert problems(store, anchors) == [
        f"the chain no longer holds the head anchored at {record['at']} (row {record['id']} has another "
        "hash): the trail was rebuilt or cut"]


# -- the principal ---------------------------------------------------------------------------------------
def test_every_audit_row_names_the_os_account_and_an_ssh_client(store, make_appeal, monkeypatch):
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    assert principal().os_user == me
    a = make_appeal("accepted")
    row = store.one("SELECT * FROM audit WHERE entity_id = ? AND action = 'accept'", (a.ref,))
    assert (row["actor"], row["os_user"], row["key_fingerprint"], row["client"]) == ("zrzy1", me, "", "")
    saved = principal()
    try:
        set_principal(Principal(os_user="taian", key_fingerprint="SHA256:abc", client="10.0.0.7:50022"))
        wf.reply_appeal(store, "zrzy1", a.ref, "已办理", at="2026-09-30T10:00:00+08:00")
    finally:
        set_principal(saved)
    row = store.one("SELECT * FROM audit WHERE entity_id = ? AND action = 'reply'", (a.ref,))
    assert (row["os_user"], row["key_fingerprint"], row["client"]) == ("taian", "SHA256:abc", "10.0.0.7:50022")
    assert store.verify_audit().ok


def test_a_changed_principal_breaks_the_chain(store, db_path, make_appeal):
    a = make_appeal("accepted")
    row_id = store.scalar("SELECT id FROM audit WHERE entity_id = ? AND action = 'accept'", (a.ref,))
    conn = raw(db_path)
    conn.execute("UPDATE audit SET os_user = 'someone-else' WHERE id = ?", (row_id,))
    conn.close()
    check = store.verify_audit()
    assert (check.ok, check.bad_id) == (False, row_id)


def test_the_environment_gives_the_principal(monkeypatch):
    from taian_tui import store as store_mod

    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.10 51234 192.0.2.1 22")
    monkeypatch.setenv("SUDO_USER", "alice")
    got = store_mod._principal_from_environment()
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    assert got == Principal(os_user=f"{me} (sudo by alice)", key_fingerprint="", client="192.0.2.10:51234")


def test_a_clock_set_by_hand_is_on_the_audit_row(store, make_appeal, monkeypatch):
    """TAIAN_NOW (demos, tests, an operator's shell) backdates an action: its audit row says
    the clock was set and when it was really written, so that it never reads as an honest
    one; the chain holds (the words are part of the hash)."""
    import datetime as dt
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    a = make_appeal("accepted")
    monkeypatch.setenv("TAIAN_NOW", "2026-09-30T10:00:00+08:00")
    before = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    wf.reply_appeal(store, "zrzy1", a.ref, "已办理")
    after = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    row = store.one("SELECT * FROM audit WHERE entity_id = ? AND action = 'reply'", (a.ref,))
    assert row["at"] == "2026-09-30T10:00:00+08:00"
    m = re.fullmatch(re.escape(me) + r" \(clock set to 2026-09-30T10:00:00\+08:00; written (\S+)\)", row["os_user"])
    assert m and before <= dt.datetime.fromisoformat(m.group(1)) <= after
    monkeypatch.delenv("TAIAN_NOW")
    wf.return_appeal(store, "zrzy1", make_appeal("assigned").ref, "不属于本单位", at="2026-09-30T11:00:00+08:00")
    assert store.scalar("SELECT os_user FROM audit ORDER BY id DESC LIMIT 1") == me
    assert store.verify_audit().ok
