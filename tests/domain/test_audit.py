"""The tamper-evident audit trail: every change writes one chained row; verify_audit()
names the first row whose content, link or position is wrong."""
from __future__ import annotations

import json
import sqlite3

import pytest

from taian_tui.domain import escalation
from taian_tui.domain import operations as wf
from taian_tui.store import GENESIS_HASH, Store, audit_hash

T = "2026-10-09T09:00:00+08:00"


def raw(db_path):
    """A plain sqlite3 connection, as someone tampering with the file would use."""
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    return conn


def ids(store):
    return [r[0] for r in store.all("SELECT id FROM audit ORDER BY id")]


# -- a good trail -------------------------------------------------------------------------------
def test_fresh_trail_verifies(store):
    n = store.scalar("SELECT COUNT(*) FROM audit")
    # 60 units + 9 users + 3 routing rules + 1 project.
    assert n == 73
    check = store.verify_audit()
    assert check.ok is True
    assert check.rows == 73
    assert check.bad_id is None


def test_empty_trail_verifies(tmp_path):
    with Store(tmp_path / "empty.db") as s:
        check = s.verify_audit()
        assert (check.ok, check.rows) == (True, 0)


def test_rows_are_chained(store):
    rows = store.all("SELECT * FROM audit ORDER BY id")
    prev = GENESIS_HASH
    for r in rows:
        assert r["prev_hash"] == prev
        assert r["hash"] == audit_hash(prev, r["id"], r["at"], r["actor"], r["action"], r["entity"],
                                       r["entity_id"], r["before"], r["after"], r["os_user"],
                                       r["key_fingerprint"], r["client"])
        prev = r["hash"]
    head = store.one("SELECT * FROM audit_head")
    assert (head["last_id"], head["last_hash"]) == (rows[-1]["id"], rows[-1]["hash"])
    assert ids(store) == list(range(1, len(rows) + 1))


def test_trail_verifies_after_a_working_day(store, make_appeal, monkeypatch):
    for state in ("closed", "disputed", "accepted", "returned"):
        make_appeal(state)
    monkeypatch.setenv("TAIAN_NOW", "2026-11-10T09:00:00+08:00")
    escalation.sweep(store)
    check = store.verify_audit()
    assert check.ok, check.reason
    assert check.rows == store.scalar("SELECT COUNT(*) FROM audit")


def test_audit_row_contents(store, make_appeal):
    a = make_appeal("answered")
    wf.evaluate_appeal(store, "system:intake", a.ref, "不满意", "问题没有解决", at=T)
    row = store.audit_rows("appeal", a.ref)[-1]
    assert (row.at, row.actor, row.action, row.entity, row.entity_id) == \
        (T, "system:intake", "evaluate", "appeal", a.ref)
    assert "不满意" in row.after  # stored readable, not \\u-escaped
    after = json.loads(row.after)
    assert after["state"] == "disputed" and after["rating_comment"] == "问题没有解决"
    assert json.loads(row.before)["state"] == "answered"


def test_audit_outside_a_transaction_is_refused(store):
    n = store.scalar("SELECT COUNT(*) FROM audit")
    with pytest.raises(RuntimeError, match="outside a transaction"):
        store.audit("admin", "x", "thing", 1)
    assert store.scalar("SELECT COUNT(*) FROM audit") == n


def test_rolled_back_change_leaves_no_audit_row(store):
    n = store.scalar("SELECT COUNT(*) FROM audit")
    head = tuple(store.one("SELECT last_id, last_hash FROM audit_head"))
    with pytest.raises(ZeroDivisionError):
        with store.transaction():
            store.audit("admin", "x", "thing", 1, None, {"a": 1})
            1 / 0
    assert store.scalar("SELECT COUNT(*) FROM audit") == n
    assert tuple(store.one("SELECT last_id, last_hash FROM audit_head")) == head
    assert store.verify_audit().ok
    # The next row continues the chain where it was.
    with store.transaction():
        new_id = store.audit("admin", "y", "thing", 2)
    assert new_id == n + 1
    assert store.verify_audit().ok


# -- tampering --------------------------------------------------------------------------------------
def test_edited_after_is_named(store, db_path, make_appeal):
    a = make_appeal("answered")
    target = store.audit_rows("appeal", a.ref)[-2].id  # the accept row, with the reply after it
    total = store.scalar("SELECT COUNT(*) FROM audit")
    conn = raw(db_path)
    conn.execute("UPDATE audit SET after = ? WHERE id = ?",
                 (json.dumps({"state": "answered", "reply": "改过的答复"}, ensure_ascii=False), target))
    conn.close()
    check = store.verify_audit()
    assert check.ok is False
    assert check.bad_id == target
    assert f"audit row {target}" in check.reason and "altered" in check.reason
    assert target < total  # not just the last one: there are rows after it


@pytest.mark.parametrize("column, value", [("actor", "admin"), ("at", "2026-01-01T00:00:00+08:00"),
                                           ("before", '{"name":"x"}'), ("entity_id", "A-OTHER"),
                                           ("action", "noop")])
def test_any_edited_field_is_named(store, db_path, column, value):
    conn = raw(db_path)
    conn.execute(f"UPDATE audit SET {column} = ? WHERE id = 40", (value,))
    conn.close()
    check = store.verify_audit()
    assert (check.ok, check.bad_id) == (False, 40)


def test_edit_with_recomputed_hash_breaks_the_next_link(store, db_path):
    r = store.one("SELECT * FROM audit WHERE id = 40")
    new_after = '{"name":"伪造"}'
    digest = audit_hash(r["prev_hash"], 40, r["at"], r["actor"], r["action"], r["entity"],
                        r["entity_id"], r["before"], new_after, r["os_user"], r["key_fingerprint"],
                        r["client"])
    conn = raw(db_path)
    conn.execute("UPDATE audit SET after = ?, hash = ? WHERE id = 40", (new_after, digest))
    conn.close()
    check = store.verify_audit()
    assert check.ok is False
    assert check.bad_id == 41
    assert "does not link" in check.reason


def test_deleted_middle_row_is_named(store, db_path):
    conn = raw(db_path)
    conn.execute("DELETE FROM audit WHERE id = 30")
    conn.close()
    check = store.verify_audit()
    assert check.ok is False
    assert check.bad_id == 30
    assert "audit row 30 is missing" in check.reason


def test_deleted_first_row_is_named(store, db_path):
    conn = raw(db_path)
    conn.execute("DELETE FROM audit WHERE id = 1")
    conn.close()
    check = store.verify_audit()
    assert (check.ok, check.bad_id) == (False, 1)


def test_deleted_last_row_is_detected(store, db_path, make_appeal):
    make_appeal("accepted")
    last = max(ids(store))
    conn = raw(db_path)
    conn.execute("DELETE FROM audit WHERE id = ?", (last,))
    conn.close()
    check = store.verify_audit()
    assert check.ok is False
    assert check.bad_id == last
    assert f"audit row {last}" in check.reason


def test_deleting_every_row_is_detected(store, db_path):
    conn = raw(db_path)
    conn.execute("DELETE FROM audit")
    conn.close()
    check = store.verify_audit()
    assert (check.ok, check.bad_id) == (False, 1)


def test_deleted_head_is_detected(store, db_path):
    conn = raw(db_path)
    conn.execute("DELETE FROM audit_head")
    conn.close()
    check = store.verify_audit()
    assert check.ok is False
    assert "head" in check.reason


def _append_forged_row(store, db_path):
    last = store.one("SELECT * FROM audit ORDER BY id DESC LIMIT 1")
    new_id = last["id"] + 1
    digest = audit_hash(last["hash"], new_id, T, "admin", "forged", "appeal", "A-X", "{}", "{}")
    conn = raw(db_path)
    conn.execute("INSERT INTO audit(id, at, actor, action, entity, entity_id, before, after, prev_hash, hash)"
                 " VALUES (?, ?, 'admin', 'forged', 'appeal', 'A-X', '{}', '{}', ?, ?)",
                 (new_id, T, last["hash"], digest))
    conn.close()
    return new_id


def test_row_appended_behind_the_heads_back_is_detected(store, db_path):
    _append_forged_row(store, db_path)
    assert store.verify_audit().ok is False


def test_row_appended_behind_the_heads_back_is_named(store, db_path):
    forged = _append_forged_row(store, db_path)
    check = store.verify_audit()
    assert check.bad_id == forged


# -- one audit row per change -----------------------------------------------------------------------
def _ops():
    """(name, setup(store, make_appeal, city) -> op callable, expected new audit rows)."""

    def submit(store, mk, city):
        return lambda: wf.submit_appeal(store, "system:intake", ref="A-NEW", enterprise_uscc=city.uscc,
                                        category="land", county="岱岳区", title="t", at=T)

    def assign(store, mk, city):
        a = mk("submitted", category="能耗", county="泰山区")
        return lambda: wf.assign_appeal(store, "admin", a.ref, "gxj", at=T)

    def accept(store, mk, city):
        a = mk("assigned")
        return lambda: wf.accept_appeal(store, "zrzy1", a.ref, at=T)

    def reply(store, mk, city):
        a = mk("accepted")
        return lambda: wf.reply_appeal(store, "zrzy1", a.ref, "答复", at=T)

    def reply_late(store, mk, city):
        a = mk("accepted")
        return lambda: wf.reply_appeal(store, "zrzy1", a.ref, "答复", at="2026-10-14T09:00:00+08:00")

    def return_(store, mk, city):
        a = mk("assigned")
        return lambda: wf.return_appeal(store, "zrzy1", a.ref, "不属于", at="2026-09-30T09:00:00+08:00")

    def request_ext(store, mk, city):
        a = mk("accepted")
        return lambda: wf.request_extension(store, "zrzy1", a.ref, 2, "理由", at=T)

    def approve_ext(store, mk, city):
        a = mk("accepted")
        e = wf.request_extension(store, "zrzy1", a.ref, 2, "理由", at=T)
        return lambda: wf.decide_extension(store, "ducha1", e.id, True, at=T)

    def reject_ext(store, mk, city):
        a = mk("accepted")
        e = wf.request_extension(store, "zrzy1", a.ref, 2, "理由", at=T)
        return lambda: wf.decide_extension(store, "ducha1", e.id, False, note="理由不充分", at=T)

    def evaluate(store, mk, city):
        a = mk("answered")
        return lambda: wf.evaluate_appeal(store, "system:intake", a.ref, "满意", at=T)

    def dispute_fault(store, mk, city):
        a = mk("disputed")
        return lambda: wf.review_dispute(store, "ducha1", a.ref, True, "意见", at=T)

    def dispute_ok(store, mk, city):
        a = mk("disputed")
        return lambda: wf.review_dispute(store, "ducha1", a.ref, False, "意见", at=T)

    def open_order(store, mk, city):
        a = mk("accepted")
        return lambda: wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-30", "请加快办理", at=T)

    def edit_order(store, mk, city):
        a = mk("accepted")
        o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-30", "请加快办理", at=T)
        return lambda: wf.edit_supervision_order(store, "ducha1", o.id, note="n", at=T)

    def take_up(store, mk, city):
        a = mk("accepted")
        escalation.sweep(store, "2026-11-10T09:00:00+08:00")
        return lambda: wf.take_up_red_card(store, "jiwei1", a.ref, at=T)

    def instruct(store, mk, city):
        return lambda: wf.issue_instruction(store, "shizhang", "daiyue1", "推进", project_ref=city.project_ref, at=T)

    def acknowledge(store, mk, city):
        i = wf.issue_instruction(store, "shizhang", "daiyue1", "推进", project_ref=city.project_ref, at=T)
        return lambda: wf.acknowledge_instruction(store, "daiyue1", i.id, at=T)

    def reply_ins(store, mk, city):
        i = wf.issue_instruction(store, "shizhang", "daiyue1", "推进", project_ref=city.project_ref, at=T)
        return lambda: wf.reply_instruction(store, "daiyue1", i.id, "已办", at=T)

    def apply_project(store, mk, city):
        return lambda: wf.apply_project(store, "admin", ref="P-9", enterprise_uscc=city.uscc, name="n",
                                        county="泰山区", category="其他", investment_wan=1, at=T)

    def review_project(store, mk, city):
        return lambda: wf.review_project(store, "admin", city.project_ref, "city", at=T)

    def visualise(store, mk, city):
        return lambda: wf.set_project_visualised(store, "admin", city.project_ref, True, at=T)

    def visualise_unchanged(store, mk, city):
        return lambda: wf.set_project_visualised(store, "admin", city.project_ref, False, at=T)

    def progress(store, mk, city):
        return lambda: wf.report_progress(store, "daiyue1", city.project_ref, 10, 1, at=T)

    def draft(store, mk, city):
        return lambda: wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)

    def edit_content(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        return lambda: wf.update_content(store, "bianji", c.id, title="t2", at=T)

    def edit_content_same(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        return lambda: wf.update_content(store, "bianji", c.id, title="t", at=T)

    def publish(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        return lambda: wf.publish_content(store, "bianji", c.id, at=T)

    def unpublish(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        wf.publish_content(store, "bianji", c.id, at=T)
        return lambda: wf.unpublish_content(store, "bianji", c.id, at=T)

    def archive(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        return lambda: wf.archive_content(store, "bianji", c.id, at=T)

    def daily(store, mk, city):
        c = wf.draft_content(store, "bianji", kind="news", level="市", title="t", at=T)
        wf.publish_content(store, "bianji", c.id, at=T)
        return lambda: wf.pick_daily_listen(store, "bianji", "2026-10-09", c.id, at=T)

    def add_unit(store, mk, city):
        return lambda: wf.add_unit(store, "admin", "u1", "新单位", "department", at=T)

    def user_insert(store, mk, city):
        return lambda: wf.upsert_user(store, "admin", "u9", "新人", "editor", at=T)

    def user_unchanged(store, mk, city):
        return lambda: wf.upsert_user(store, "admin", "bianji", "编辑", "editor", unit_code="fgw",
                                      mobile="13800000009", at=T)

    def routing(store, mk, city):
        return lambda: wf.set_routing_rule(store, "admin", "energy", "泰山区", "gxj", at=T)

    def calendar(store, mk, city):
        return lambda: wf.import_calendar_rows(store, "admin", [("2027-01-01", "holiday")], source="c", at=T)

    def sweep_raising(store, mk, city):
        mk("accepted")
        return lambda: escalation.sweep(store, "2026-11-10T09:00:00+08:00")

    def sweep_idle(store, mk, city):
        mk("answered")
        return lambda: escalation.sweep(store, "2026-11-10T09:00:00+08:00")

    def sweep_dry(store, mk, city):
        mk("accepted")
        return lambda: escalation.sweep(store, "2026-11-10T09:00:00+08:00", dry_run=True)

    return [
        ("submit", submit, 1), ("assign", assign, 1), ("accept", accept, 1), ("reply", reply, 1),
        # documented: a late reply first records the cards it earned (one 'escalate' row).
        ("reply_late", reply_late, 2),
        ("return", return_, 1), ("request_extension", request_ext, 1),
        ("approve_extension", approve_ext, 1), ("reject_extension", reject_ext, 1),
        ("evaluate", evaluate, 1), ("dispute_at_fault", dispute_fault, 1),
        ("dispute_not_at_fault", dispute_ok, 1), ("open_order", open_order, 1),
        ("edit_order", edit_order, 1), ("take_up_red", take_up, 1), ("instruction", instruct, 1),
        ("acknowledge", acknowledge, 1), ("reply_instruction", reply_ins, 1),
        ("apply_project", apply_project, 1), ("review_project", review_project, 1),
        ("visualise", visualise, 1),
        # documented: setting the mark a project already has writes nothing.
        ("visualise_unchanged", visualise_unchanged, 0),
        ("progress", progress, 1), ("draft", draft, 1), ("edit_content", edit_content, 1),
        # documented: an edit that changes nothing writes nothing.
        ("edit_content_unchanged", edit_content_same, 0),
        ("publish", publish, 1), ("unpublish", unpublish, 1), ("archive", archive, 1),
        ("daily_listen", daily, 1), ("add_unit", add_unit, 1), ("upsert_user", user_insert, 1),
        ("upsert_user_unchanged", user_unchanged, 0), ("routing", routing, 1),
        ("calendar_import", calendar, 1),
        # documented: one row per run of the sweep, also a quiet one (cron ran that day); none
        # for a dry run (rolled back).
        ("sweep", sweep_raising, 1), ("sweep_idle", sweep_idle, 1), ("sweep_dry_run", sweep_dry, 0),
    ]


@pytest.mark.parametrize("name, setup, expected", _ops(), ids=[o[0] for o in _ops()])
def test_each_write_adds_its_audit_rows(store, make_appeal, city, name, setup, expected):
    op = setup(store, make_appeal, city)
    n = store.scalar("SELECT COUNT(*) FROM audit")
    op()
    assert store.scalar("SELECT COUNT(*) FROM audit") == n + expected
    check = store.verify_audit()
    assert check.ok, check.reason
