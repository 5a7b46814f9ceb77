"""Appeal operations: submit, assign, accept, reply, return, evaluate.

Each operation: the happy path (state, fields, one audit row with actor/action/before/after)
and its refusals (wrong role, wrong unit, wrong state, invalid input), each of which must
leave every table exactly as it was.
"""
from __future__ import annotations

import json

import pytest

from taian_tui.domain import actors
from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import InvalidTransition, NotFound, PermissionDenied, ValidationError

T_ACCEPT = "2026-09-29T11:00:00+08:00"
T_REPLY = "2026-09-30T10:00:00+08:00"


def last_audit(store, ref):
    rows = store.audit_rows("appeal", ref)
    assert rows, f"no audit row for {ref}"
    row = rows[-1]
    return row, json.loads(row.before), json.loads(row.after)


# -- submit -----------------------------------------------------------------------------------
def test_submit_routed_by_rule(store, submit, city):
    a = submit("A-1")
    assert a.state == "assigned"
    assert a.unit_code == "zrzy"
    assert a.category == "land"
    assert a.county == "岱岳区"
    assert a.submitted_at == city.arrived
    assert a.arrived_at == city.arrived
    assert a.blue_at == city.blue_at
    assert a.deadline == city.deadline
    assert a.deadline_estimated == 0
    assert a.card == ""
    rows = store.audit_rows("appeal", "A-1")
    assert len(rows) == 1
    row = rows[0]
    assert (row.actor, row.action, row.at) == ("system:intake", "submit", city.arrived)
    assert json.loads(row.before) == {}
    after = json.loads(row.after)
    assert after["state"] == "assigned"
    assert after["unit_code"] == "zrzy"
    assert after["routed"] == "rule"
    assert after["deadline"] == city.deadline


def test_submit_without_rule_lands_in_dispatch_queue(store, submit):
    a = submit("A-2", category="能耗", county="泰山区")
    assert a.state == "submitted"
    assert a.unit_code is None
    assert a.category == "energy"
    assert a.deadline is None and a.blue_at is None and a.arrived_at is None
    _, before, after = last_audit(store, "A-2")
    assert before == {}
    assert after["routed"] == "dispatch queue"
    assert after["unit_code"] is None


@pytest.mark.parametrize("spelling, code, unit", [
    ("土地", "land", "zrzy"), ("land", "land", "zrzy"), ("LAND", "land", "zrzy"),
    ("环评", "environment", "sthj"), ("environment", "environment", "sthj"),
    ("其他", "other", "daiyue"), ("other", "other", "daiyue"),
])
def test_submit_accepts_either_category_spelling(submit, spelling, code, unit):
    a = submit(category=spelling)
    assert a.category == code
    assert a.unit_code == unit


def test_admin_may_submit_too(submit):
    a = submit("A-ADM", who="admin")
    assert a.state == "assigned"


def test_submit_links_the_project(submit, city):
    a = submit("A-P", project_ref=city.project_ref)
    assert a.project_ref == city.project_ref


def test_submit_cleans_title(submit):
    a = submit("A-C", title="\x1b[31m用地\x1b[0m指标\x07  ")
    assert a.title == "用地指标"


@pytest.mark.parametrize("who, match", [
    ("zrzy1", r"rule: only admin may submit appeals; zrzy1 \(liaison\) may not"),
    ("ducha1", r"only admin may submit appeals"),
    ("system:escalate", r"rule: submit appeals is not done by system:escalate"),
    ("nobody", r"unknown user 'nobody'"),
])
def test_submit_wrong_actor(submit, unchanged, who, match):
    with unchanged(), pytest.raises(PermissionDenied, match=match):
        submit("A-X", who=who)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(county="北京市"), ValidationError, "unknown county '北京市'"),
    (dict(category="水电"), ValidationError, "unknown category '水电'"),
    (dict(title="   "), ValidationError, "title is required"),
    (dict(title="长" * 201), ValidationError, "title is too long"),
    (dict(enterprise_uscc="91370900MA3C99999X"), NotFound, "no such enterprise"),
    (dict(project_ref="P-NOPE"), NotFound, "no such project"),
])
def test_submit_invalid_input(submit, unchanged, kwargs, exc, match):
    with unchanged(), pytest.raises(exc, match=match):
        submit("A-BAD", **kwargs)


def test_submit_duplicate_ref(submit, unchanged):
    submit("A-DUP")
    with unchanged(), pytest.raises(ValidationError, match="appeal A-DUP already exists"):
        submit("A-DUP", category="环评")


# -- assign -----------------------------------------------------------------------------------
def test_assign_from_dispatch_queue_starts_the_clock(store, submit):
    submit("A-Q", category="能耗", county="泰山区")
    a = wf.assign_appeal(store, "admin", "A-Q", "gdgs", note="供电配套", at="2026-10-09T09:00:00+08:00")
    assert a.state == "assigned"
    assert a.unit_code == "gdgs"
    assert a.arrived_at == "2026-10-09T09:00:00+08:00"
    # Day 1..5 after Fri 10-09: 10-10 (make-up Sat), 10-12, 10-13, 10-14, 10-15.
    assert a.deadline == "2026-10-15T23:59:59+08:00"
    assert a.blue_at == "2026-10-15T00:00:00+08:00"
    assert store.appeal("A-Q") == a
    row, before, after = last_audit(store, "A-Q")
    assert (row.actor, row.action) == ("admin", "assign")
    assert before["state"] == "submitted" and before["unit_code"] is None
    assert after["state"] == "assigned" and after["unit_code"] == "gdgs"
    assert after["note"] == "供电配套"


def test_assign_accepts_a_unit_name(store, submit):
    submit("A-Q", category="能耗", county="泰山区")
    a = wf.assign_appeal(store, "admin", "A-Q", "国网泰安供电公司", at="2026-10-09T09:00:00+08:00")
    assert a.unit_code == "gdgs"


def test_reassign_restarts_the_clock(store, make_appeal):
    a = make_appeal("accepted")
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-09T09:00:00+08:00")
    assert b.state == "assigned"
    assert b.unit_code == "sthj"
    assert b.accepted_at is None
    assert b.arrived_at == "2026-10-09T09:00:00+08:00"
    assert b.deadline == "2026-10-15T23:59:59+08:00"
    assert b.submitted_at == a.submitted_at
    row, before, after = last_audit(store, a.ref)
    assert (row.actor, row.action) == ("admin", "reassign")
    assert before["unit_code"] == "zrzy" and after["unit_code"] == "sthj"
    assert before["deadline"] == a.deadline


def test_reassign_after_return(store, make_appeal):
    a = make_appeal("returned")
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-09T09:00:00+08:00")
    assert b.state == "assigned" and b.unit_code == "sthj"
    assert b.deadline == "2026-10-15T23:59:59+08:00"


@pytest.mark.parametrize("who", ["zrzy1", "ducha1", "shizhang", "bianji", "system:intake"])
def test_assign_is_admin_only(store, make_appeal, unchanged, who):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(PermissionDenied, match="assign or reassign appeals"):
        wf.assign_appeal(store, who, a.ref, "sthj", at="2026-10-09T09:00:00+08:00")


@pytest.mark.parametrize("state", ["answered", "closed", "disputed"])
def test_assign_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"it is {state}"):
        wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-09T09:00:00+08:00")


def test_assign_to_same_unit_refused(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(InvalidTransition, match="already with 市自然资源和规划局"):
        wf.assign_appeal(store, "admin", a.ref, "zrzy", at="2026-10-09T09:00:00+08:00")


@pytest.mark.parametrize("unit, exc", [("dcs", ValidationError), ("jwjw", ValidationError),
                                       ("nowhere", NotFound)])
def test_assign_to_a_unit_that_does_not_handle_appeals(store, make_appeal, unchanged, unit, exc):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(exc):
        wf.assign_appeal(store, "admin", a.ref, unit, at="2026-10-09T09:00:00+08:00")


def test_assign_unknown_appeal(store, unchanged):
    with unchanged(), pytest.raises(NotFound, match="no such appeal"):
        wf.assign_appeal(store, "admin", "A-NONE", "sthj")


# -- accept -----------------------------------------------------------------------------------
def test_accept(store, make_appeal):
    a = make_appeal("assigned")
    b = wf.accept_appeal(store, "zrzy1", a.ref, at=T_ACCEPT)
    assert b.state == "accepted"
    assert b.accepted_at == T_ACCEPT
    assert b.deadline == a.deadline  # accepting does not move the clock
    row, before, after = last_audit(store, a.ref)
    assert (row.actor, row.action, row.at) == ("zrzy1", "accept", T_ACCEPT)
    assert before == {"state": "assigned", "accepted_at": None}
    assert after == {"state": "accepted", "accepted_at": T_ACCEPT}


def test_admin_may_accept(store, make_appeal):
    a = make_appeal("assigned")
    assert wf.accept_appeal(store, "admin", a.ref, at=T_ACCEPT).state == "accepted"


def test_accept_wrong_unit_names_both_units(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(PermissionDenied) as exc:
        wf.accept_appeal(store, "sthj1", a.ref, at=T_ACCEPT)
    msg = str(exc.value)
    assert "rule:" in msg
    assert "市生态环境局" in msg and "市自然资源和规划局" in msg
    assert a.ref in msg


@pytest.mark.parametrize("who", ["shizhang", "daiyue-lead", "ducha1", "jiwei1", "bianji"])
def test_accept_wrong_role(store, make_appeal, unchanged, who):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(PermissionDenied, match=r"only liaison or admin may accept"):
        wf.accept_appeal(store, who, a.ref, at=T_ACCEPT)


@pytest.mark.parametrize("state", ["accepted", "answered", "closed", "returned", "disputed"])
def test_accept_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"cannot accept appeal {a.ref}: it is {state}"):
        wf.accept_appeal(store, "admin", a.ref, at="2026-10-08T12:00:00+08:00")


def test_accept_dispatch_queue_appeal(store, make_appeal, unchanged):
    a = make_appeal("submitted", category="能耗", county="泰山区")
    with unchanged(), pytest.raises(PermissionDenied, match=r"\(no unit\)"):
        wf.accept_appeal(store, "zrzy1", a.ref, at=T_ACCEPT)
    with unchanged(), pytest.raises(InvalidTransition, match="it is submitted"):
        wf.accept_appeal(store, "admin", a.ref, at=T_ACCEPT)


def test_deactivated_liaison_refused(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    store.conn.execute("UPDATE users SET active = 0 WHERE username = 'zrzy1'")
    with unchanged(), pytest.raises(PermissionDenied, match="deactivated"):
        wf.accept_appeal(store, "zrzy1", a.ref, at=T_ACCEPT)


# -- reply ------------------------------------------------------------------------------------
def test_reply(store, make_appeal, audit_count):
    a = make_appeal("accepted")
    n = audit_count()
    b = wf.reply_appeal(store, "zrzy1", a.ref, "  已协调落实用地指标\r\n请查收  ", at=T_REPLY)
    assert b.state == "answered"
    assert b.answered_at == T_REPLY
    assert b.reply == "已协调落实用地指标\n请查收"
    assert b.card == ""
    assert store.card_events(b.id) == []
    assert audit_count() == n + 1
    row, before, after = last_audit(store, a.ref)
    assert (row.actor, row.action) == ("zrzy1", "reply")
    assert before["state"] == "accepted" and after["state"] == "answered"
    assert after["reply"] == "已协调落实用地指标\n请查收"


def test_reply_needs_acceptance_first(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(InvalidTransition, match="cannot reply to appeal .*: it is assigned"):
        wf.reply_appeal(store, "zrzy1", a.ref, "答复", at=T_REPLY)


@pytest.mark.parametrize("state", ["answered", "closed", "returned", "disputed"])
def test_reply_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"it is {state}"):
        wf.reply_appeal(store, "admin", a.ref, "答复", at="2026-10-08T12:00:00+08:00")


def test_reply_wrong_unit_names_both_units(store, make_appeal, unchanged):
    a = make_appeal("accepted", category="环评")
    assert a.unit_code == "sthj"
    with unchanged(), pytest.raises(PermissionDenied) as exc:
        wf.reply_appeal(store, "zrzy1", a.ref, "答复", at=T_REPLY)
    msg = str(exc.value)
    assert "市自然资源和规划局" in msg and "市生态环境局" in msg
    assert "own unit" in msg


@pytest.mark.parametrize("who", ["shizhang", "ducha1", "system:intake"])
def test_reply_wrong_role(store, make_appeal, unchanged, who):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(PermissionDenied, match="reply to"):
        wf.reply_appeal(store, who, a.ref, "答复", at=T_REPLY)


def test_reply_text_required(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match="reply is required"):
        wf.reply_appeal(store, "zrzy1", a.ref, " \x1b[2J ", at=T_REPLY)


def test_reply_closes_open_supervision_orders(store, make_appeal):
    a = make_appeal("accepted")
    order = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-30T23:59:59+08:00", "尽快办理",
                                      at="2026-10-08T09:00:00+08:00")
    wf.reply_appeal(store, "zrzy1", a.ref, "已办理", at="2026-10-09T09:00:00+08:00")
    orders = store.orders(a.id)
    assert [(o.id, o.state, o.closed_at) for o in orders] == \
        [(order.id, "closed", "2026-10-09T09:00:00+08:00")]
    assert store.open_order(a.id) is None


def test_late_reply_without_sweep_records_the_cards_it_earned(store, make_appeal, city, audit_count):
    a = make_appeal("accepted")
    n = audit_count()
    at = "2026-10-14T09:00:00+08:00"
    b = wf.reply_appeal(store, "zrzy1", a.ref, "迟到的答复", at=at)
    assert b.state == "answered"
    # answered already: the cards it earned are recorded, nobody is reminded by SMS
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 0
    assert b.card == "yellow"
    events = store.card_events(a.id)
    assert [(e.card, e.previous, e.threshold_at, e.applied_at) for e in events] == [
        ("blue", "", city.blue_at, at),
        ("yellow", "blue", city.deadline, at),
    ]
    orders = store.orders(a.id)
    assert len(orders) == 1
    assert orders[0].origin == "yellow"
    assert orders[0].due_at == city.order_due
    assert orders[0].state == "closed" and orders[0].closed_at == at
    # Documented: the sweep it runs first writes its own audit row, then the reply.
    assert audit_count() == n + 2
    actions = [r.action for r in store.audit_rows("appeal", a.ref)][-2:]
    assert actions == ["escalate", "reply"]


def test_reply_exactly_at_the_deadline_is_in_time(store, make_appeal, city):
    a = make_appeal("accepted")
    b = wf.reply_appeal(store, "zrzy1", a.ref, "踩点答复", at=city.deadline)
    assert b.card == "blue"  # it was due today, but not late
    assert [e.card for e in store.card_events(a.id)] == ["blue"]
    assert store.orders(a.id) == []


def test_reply_after_the_supervision_order_was_due_records_red(store, make_appeal, city):
    a = make_appeal("accepted")
    b = wf.reply_appeal(store, "zrzy1", a.ref, "很晚的答复", at="2026-10-21T09:00:00+08:00")
    assert b.card == "red"
    events = store.card_events(a.id)
    assert [(e.card, e.threshold_at) for e in events] == [
        ("blue", city.blue_at), ("yellow", city.deadline), ("red", city.order_due)]


# -- return -----------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["assigned", "accepted"])
def test_return_within_two_working_days(store, make_appeal, state, city):
    a = make_appeal(state)
    # Arrived Tue 09-29: Day 1 = 09-30, Day 2 = 10-08 (after the National Day holiday).
    at = "2026-10-08T23:59:59+08:00"
    b = wf.return_appeal(store, "zrzy1", a.ref, "  不属于本单位职责 ", at=at)
    assert b.state == "returned"
    assert b.returned_at == at
    assert b.return_reason == "不属于本单位职责"
    assert b.deadline is None and b.blue_at is None and b.accepted_at is None
    assert b.unit_code == "zrzy"
    row, before, after = last_audit(store, a.ref)
    assert (row.actor, row.action) == ("zrzy1", "return")
    assert before["state"] == state and after["state"] == "returned"
    assert before["deadline"] == city.deadline and after["deadline"] is None


def test_return_after_the_window_refused(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(InvalidTransition, match=r"within 2 working days.*2026-10-08"):
        wf.return_appeal(store, "zrzy1", a.ref, "不属于本单位", at="2026-10-09T00:00:00+08:00")


def test_return_reason_required(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(ValidationError, match="reason is required"):
        wf.return_appeal(store, "zrzy1", a.ref, "   ", at="2026-09-30T09:00:00+08:00")


@pytest.mark.parametrize("who", ["admin", "ducha1", "shizhang"])
def test_return_is_for_liaisons_only(store, make_appeal, unchanged, who):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(PermissionDenied, match=r"only liaison may return"):
        wf.return_appeal(store, who, a.ref, "不属于", at="2026-09-30T09:00:00+08:00")


def test_return_wrong_unit(store, make_appeal, unchanged):
    a = make_appeal("assigned")
    with unchanged(), pytest.raises(PermissionDenied, match="市生态环境局.*市自然资源和规划局"):
        wf.return_appeal(store, "sthj1", a.ref, "不属于", at="2026-09-30T09:00:00+08:00")


@pytest.mark.parametrize("state", ["answered", "closed", "returned"])
def test_return_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"it is {state}"):
        wf.return_appeal(store, "zrzy1", a.ref, "不属于", at="2026-09-30T12:00:00+08:00")


# -- evaluate ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rating, state", [("满意", "closed"), ("基本满意", "closed"),
                                           ("不满意", "disputed")])
def test_evaluate(store, make_appeal, rating, state):
    a = make_appeal("answered")
    at = "2026-10-08T10:00:00+08:00"
    b = wf.evaluate_appeal(store, "system:intake", a.ref, rating, "评价内容", at=at)
    assert b.state == state
    assert b.rating == rating
    assert b.rating_comment == "评价内容"
    assert b.evaluated_at == at
    assert b.closed_at == (at if state == "closed" else None)
    row, before, after = last_audit(store, a.ref)
    assert (row.actor, row.action) == ("system:intake", "evaluate")
    assert before["state"] == "answered" and after["state"] == state
    assert after["rating"] == rating


def test_evaluate_bad_rating(store, make_appeal, unchanged):
    a = make_appeal("answered")
    with unchanged(), pytest.raises(ValidationError, match="rating must be one of"):
        wf.evaluate_appeal(store, "system:intake", a.ref, "很好")


@pytest.mark.parametrize("state", ["assigned", "accepted", "closed", "disputed"])
def test_evaluate_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"cannot evaluate appeal .*it is {state}"):
        wf.evaluate_appeal(store, "system:intake", a.ref, "满意", at="2026-10-09T10:00:00+08:00")


@pytest.mark.parametrize("who", ["zrzy1", "ducha1"])
def test_evaluate_wrong_role(store, make_appeal, unchanged, who):
    a = make_appeal("answered")
    with unchanged(), pytest.raises(PermissionDenied, match="record evaluations"):
        wf.evaluate_appeal(store, who, a.ref, "满意")


# -- visibility -------------------------------------------------------------------------------
def test_scope_of_who_sees_an_appeal(store, make_appeal):
    a = make_appeal("accepted")
    see = {u: actors.can_see_appeal(store, actors.actor(store, u), a)
           for u in ("admin", "zrzy1", "sthj1", "shizhang", "daiyue-lead", "ducha1", "jiwei1", "bianji")}
    assert see == {"admin": True, "zrzy1": True, "sthj1": False, "shizhang": True,
                   "daiyue-lead": True, "ducha1": True, "jiwei1": False, "bianji": False}


def test_only_the_known_system_actors_exist(store, submit, unchanged):
    from taian_tui.domain.actors import SYSTEM_ACTORS
    from taian_tui.domain.refusals import PermissionDenied

    assert SYSTEM_ACTORS == ("system:intake", "system:import", "system:escalate", "system:notify",
                             "system:operator")
    with unchanged(), pytest.raises(PermissionDenied) as exc:
        submit(who="system:root")
    assert str(exc.value) == "unknown user 'system:root': sign in as an existing user"
