"""Extensions, dispute review, supervision orders, red-card take-up and leader
instructions: happy paths with their audit rows, and every refusal changing nothing."""
from __future__ import annotations

import json

import pytest

from taian_tui.domain import escalation
from taian_tui.domain import actors
from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import InvalidTransition, NotFound, PermissionDenied, ValidationError

T_REQ = "2026-10-09T09:00:00+08:00"
T_DECIDE = "2026-10-09T15:00:00+08:00"


def audit_of(store, entity, ref):
    rows = store.audit_rows(entity, ref)
    assert rows
    r = rows[-1]
    return r, json.loads(r.before), json.loads(r.after)


# -- extensions -------------------------------------------------------------------------------
def test_request_extension(store, make_appeal, city):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "需要现场踏勘", at=T_REQ)
    assert ext.state == "pending"
    assert ext.days == 3
    assert ext.requested_by == "zrzy1"
    assert ext.requested_at == T_REQ
    assert ext.old_deadline == city.deadline
    assert ext.new_deadline is None
    assert store.extensions(a.id) == [ext]
    assert store.appeal(a.ref).deadline == city.deadline  # nothing moves before approval
    row, before, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("zrzy1", "extension.request")
    assert before == {}
    assert after == {"extension": ext.id, "days": 3, "reason": "需要现场踏勘"}


@pytest.mark.parametrize("state", ["assigned", "accepted"])
def test_approved_extension_moves_the_deadline_by_working_days(store, make_appeal, state, city):
    a = make_appeal(state)
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "需要现场踏勘", at=T_REQ)
    done = wf.decide_extension(store, "ducha1", ext.id, True, note="同意", at=T_DECIDE)
    # 3 working days after Mon 10-12: 10-13, 10-14, 10-15.
    assert done.state == "approved"
    assert done.decided_by == "ducha1" and done.decided_at == T_DECIDE
    assert done.decision_note == "同意"
    assert done.new_deadline == "2026-10-15T23:59:59+08:00"
    b = store.appeal(a.ref)
    assert b.deadline == "2026-10-15T23:59:59+08:00"
    assert b.blue_at == "2026-10-15T00:00:00+08:00"
    assert b.state == state
    row, before, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "extension.approve")
    assert before["deadline"] == city.deadline
    assert after["deadline"] == "2026-10-15T23:59:59+08:00"
    assert after["extension"] == ext.id and after["days"] == 3


def test_extension_over_a_weekend(store, make_appeal):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 5, "理由", at=T_REQ)
    wf.decide_extension(store, "ducha1", ext.id, True, at=T_DECIDE)
    # 10-13, 14, 15, 16, (17/18 weekend), 19.
    assert store.appeal(a.ref).deadline == "2026-10-19T23:59:59+08:00"


def test_rejected_extension_leaves_the_deadline(store, make_appeal, city):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "需要现场踏勘", at=T_REQ)
    done = wf.decide_extension(store, "ducha1", ext.id, False, note="理由不充分", at=T_DECIDE)
    assert done.state == "rejected"
    assert done.new_deadline is None
    assert store.appeal(a.ref).deadline == city.deadline
    row, _, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "extension.reject")
    assert after == {"extension": ext.id, "note": "理由不充分"}
    # After a decision a new request may be made.
    again = wf.request_extension(store, "zrzy1", a.ref, 2, "再次申请", at="2026-10-10T09:00:00+08:00")
    assert again.state == "pending"


def test_extension_crossing_into_2027_is_estimated(store, submit):
    a = submit(at="2026-12-17T10:00:00+08:00")  # deadline Thu 12-24
    assert a.deadline == "2026-12-24T23:59:59+08:00" and a.deadline_estimated == 0
    ext = wf.request_extension(store, "zrzy1", a.ref, 10, "跨年", at="2026-12-20T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, True, at="2026-12-21T09:00:00+08:00")
    b = store.appeal(a.ref)
    # 12-25, 28, 29, 30, 31, then Mon-Fri in 2027: 01-01, 04, 05, 06, 07.
    assert b.deadline == "2027-01-07T23:59:59+08:00"
    assert b.deadline_estimated == 1


def test_only_one_pending_extension(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    with unchanged(), pytest.raises(InvalidTransition, match="already has an extension request waiting"):
        wf.request_extension(store, "zrzy1", a.ref, 2, "理由二", at=T_DECIDE)


def test_no_extension_after_the_deadline(store, make_appeal, unchanged, city):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(InvalidTransition, match="before the deadline"):
        wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at="2026-10-13T00:00:00+08:00")
    # The last second is still in time.
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=city.deadline)
    assert ext.state == "pending"


@pytest.mark.parametrize("days, match", [(0, "between 1 and 20"), (21, "between 1 and 20"),
                                         ("abc", "whole number")])
def test_extension_days_validated(store, make_appeal, unchanged, days, match):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match=match):
        wf.request_extension(store, "zrzy1", a.ref, days, "理由", at=T_REQ)


def test_extension_reason_required(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match="reason is required"):
        wf.request_extension(store, "zrzy1", a.ref, 3, "", at=T_REQ)


@pytest.mark.parametrize("who", ["admin", "ducha1", "shizhang"])
def test_extension_request_is_for_liaisons(store, make_appeal, unchanged, who):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(PermissionDenied, match=r"only liaison may request extensions"):
        wf.request_extension(store, who, a.ref, 3, "理由", at=T_REQ)


def test_extension_request_wrong_unit(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(PermissionDenied, match="市生态环境局.*市自然资源和规划局"):
        wf.request_extension(store, "sthj1", a.ref, 3, "理由", at=T_REQ)


@pytest.mark.parametrize("state", ["answered", "closed", "returned"])
def test_extension_request_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"it is {state}"):
        wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at="2026-10-09T09:00:00+08:00")


@pytest.mark.parametrize("who", ["admin", "zrzy1", "shizhang", "jiwei1"])
def test_extension_decision_is_for_the_supervisor(store, make_appeal, unchanged, who):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    with unchanged(), pytest.raises(PermissionDenied, match=r"only supervisor may approve or reject"):
        wf.decide_extension(store, who, ext.id, True, at=T_DECIDE)


def test_extension_decided_once(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    wf.decide_extension(store, "ducha1", ext.id, True, at=T_DECIDE)
    with unchanged(), pytest.raises(InvalidTransition, match="already approved"):
        wf.decide_extension(store, "ducha1", ext.id, False, note="理由不充分", at=T_DECIDE)
    with unchanged(), pytest.raises(NotFound):
        wf.decide_extension(store, "ducha1", 999, True, at=T_DECIDE)


def test_a_reply_or_a_return_settles_the_pending_extension(store, make_appeal, unchanged):
    """No deadline of the unit is left to move: the request ends with the reply (or the
    return), rejected with what happened, by whoever did it, in the same write."""
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    wf.reply_appeal(store, "zrzy1", a.ref, "已答复", at="2026-10-09T10:00:00+08:00")
    done = store.extensions(a.id)[0]
    assert (done.state, done.decided_by, done.decided_at, done.decision_note) == (
        "rejected", "zrzy1", "2026-10-09T10:00:00+08:00", "已答复")
    row, _, after = audit_of(store, "appeal", a.ref)
    assert (row.action, after["extensions_rejected"]) == ("reply", [ext.id])
    with unchanged(), pytest.raises(InvalidTransition, match="already rejected"):
        wf.decide_extension(store, "ducha1", ext.id, True, at=T_DECIDE)
    with unchanged(), pytest.raises(InvalidTransition, match="already rejected"):
        wf.decide_extension(store, "ducha1", ext.id, False, note="已答复，无需延期", at=T_DECIDE)
    # a return (within 2 working days of arrival: 09-29 -> 09-30, 10-08)
    b = make_appeal("accepted")
    ext_b = wf.request_extension(store, "zrzy1", b.ref, 2, "理由", at="2026-09-30T09:00:00+08:00")
    wf.return_appeal(store, "zrzy1", b.ref, "不属本单位职责", at="2026-09-30T10:00:00+08:00")
    done = store.extensions(b.id)[0]
    assert (done.id, done.state, done.decided_by, done.decision_note) == (ext_b.id, "rejected", "zrzy1", "已退回")


def test_an_extension_is_not_approved_after_the_deadline_it_moves(store, make_appeal, unchanged, city):
    """Asked in time (Fri 10-09, due Mon 10-12), decided too late (Tue 10-13): the yellow card
    is judged at the deadline, so only a rejection remains (the approve key is greyed with
    the same reason)."""
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    with unchanged(), pytest.raises(InvalidTransition) as refused:
        wf.decide_extension(store, "ducha1", ext.id, True, at="2026-10-13T09:00:00+08:00")
    assert str(refused.value) == (
        f"rule: an extension is approved before the deadline it moves; {a.ref} was due "
        f"{city.deadline} and its card is judged at that time: reject the request with a reason (the "
        "supervision order the yellow card opens can be given another due time)")
    # the last second of the deadline is still in time
    assert wf.decide_extension(store, "ducha1", ext.id, True, at=city.deadline).state == "approved"


# -- dispute review ---------------------------------------------------------------------------
def test_dispute_unit_at_fault(store, make_appeal):
    a = make_appeal("disputed")
    at = "2026-10-09T10:00:00+08:00"
    b = wf.review_dispute(store, "ducha1", a.ref, True, "答复未解决问题", at=at)
    due = "2026-10-15T23:59:59+08:00"  # 10-10 (make-up), 12, 13, 14, 15
    assert b.state == "accepted"
    assert b.answered_at is None
    assert b.deadline == due
    assert b.blue_at == "2026-10-15T00:00:00+08:00"
    orders = store.orders(a.id)
    assert len(orders) == 1
    o = orders[0]
    assert (o.origin, o.state, o.opened_by, o.opened_at, o.due_at, o.note) == \
        ("dispute", "open", "ducha1", at, due, "答复未解决问题")
    row, before, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "dispute.at_fault")
    assert before["state"] == "disputed" and after["state"] == "accepted"
    assert after["order_due"] == due
    # The unit answers again; the order closes.
    c = wf.reply_appeal(store, "zrzy1", a.ref, "重新答复", at="2026-10-12T10:00:00+08:00")
    assert c.state == "answered"
    assert store.open_order(a.id) is None


def test_dispute_not_at_fault(store, make_appeal):
    a = make_appeal("disputed")
    at = "2026-10-09T10:00:00+08:00"
    b = wf.review_dispute(store, "ducha1", a.ref, False, "企业诉求超出政策范围", at=at)
    assert b.state == "closed"
    assert b.closed_at == at
    assert b.close_note == "企业诉求超出政策范围"
    assert store.orders(a.id) == []
    row, before, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "dispute.not_at_fault")
    assert after["close_note"] == "企业诉求超出政策范围"


def test_dispute_note_required(store, make_appeal, unchanged):
    a = make_appeal("disputed")
    with unchanged(), pytest.raises(ValidationError, match="note is required"):
        wf.review_dispute(store, "ducha1", a.ref, False, "  ")


@pytest.mark.parametrize("who", ["admin", "zrzy1", "shizhang", "jiwei1"])
def test_dispute_review_is_for_the_supervisor(store, make_appeal, unchanged, who):
    a = make_appeal("disputed")
    with unchanged(), pytest.raises(PermissionDenied, match="review 不满意 evaluations"):
        wf.review_dispute(store, who, a.ref, True, "意见")


@pytest.mark.parametrize("state", ["accepted", "answered", "closed"])
def test_dispute_review_wrong_state(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"cannot review appeal .*it is {state}"):
        wf.review_dispute(store, "ducha1", a.ref, True, "意见")


# -- supervision orders -----------------------------------------------------------------------
def test_open_and_edit_supervision_order(store, make_appeal):
    a = make_appeal("accepted")
    at = "2026-10-08T09:00:00+08:00"
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20T23:59:59+08:00", "市领导关注",
                                  at=at)
    assert (o.appeal_id, o.origin, o.state, o.opened_by, o.opened_at, o.due_at, o.note) == \
        (a.id, "manual", "open", "ducha1", at, "2026-10-20T23:59:59+08:00", "市领导关注")
    assert store.open_order(a.id) == o
    row, _, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "order.open")
    assert after == {"order": o.id, "due_at": "2026-10-20T23:59:59+08:00", "note": "市领导关注"}

    e = wf.edit_supervision_order(store, "ducha1", o.id, due_at="2026-10-22T23:59:59+08:00",
                                  note="延后两天", at="2026-10-09T09:00:00+08:00")
    assert e.due_at == "2026-10-22T23:59:59+08:00" and e.note == "延后两天"
    row, before, after = audit_of(store, "appeal", a.ref)
    assert (row.actor, row.action) == ("ducha1", "order.edit")
    assert before == {"order": o.id, "due_at": "2026-10-20T23:59:59+08:00", "note": "市领导关注"}
    assert after == {"order": o.id, "due_at": "2026-10-22T23:59:59+08:00", "note": "延后两天"}


def test_order_due_must_be_in_the_future(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match="due time must be in the future"):
        wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-01T00:00:00+08:00", "请加快办理",
                                  at="2026-10-08T09:00:00+08:00")


def test_only_one_open_order(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "请加快办理", at="2026-10-08T09:00:00+08:00")
    with unchanged(), pytest.raises(InvalidTransition, match="already has an open supervision order"):
        wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-25", "再督办", at="2026-10-08T10:00:00+08:00")


@pytest.mark.parametrize("state", ["answered", "closed", "returned", "disputed"])
def test_order_on_a_closed_or_answered_appeal_refused(store, make_appeal, unchanged, state):
    a = make_appeal(state)
    with unchanged(), pytest.raises(InvalidTransition, match=f"it is {state}"):
        wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "请加快办理", at="2026-10-08T09:00:00+08:00")


@pytest.mark.parametrize("who", ["admin", "zrzy1", "shizhang", "jiwei1"])
def test_orders_are_for_the_supervisor(store, make_appeal, unchanged, who):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(PermissionDenied, match="only supervisor may open supervision orders"):
        wf.open_supervision_order(store, who, a.ref, "2026-10-20", "请加快办理", at="2026-10-08T09:00:00+08:00")
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "请加快办理", at="2026-10-08T09:00:00+08:00")
    with unchanged(), pytest.raises(PermissionDenied, match="only supervisor may edit supervision orders"):
        wf.edit_supervision_order(store, who, o.id, note="x")


def test_edit_closed_or_missing_order_refused(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "请加快办理", at="2026-10-08T09:00:00+08:00")
    wf.reply_appeal(store, "zrzy1", a.ref, "答复", at="2026-10-09T09:00:00+08:00")
    with unchanged(), pytest.raises(InvalidTransition, match=f"supervision order {o.id} is closed"):
        wf.edit_supervision_order(store, "ducha1", o.id, note="x")
    with unchanged(), pytest.raises(NotFound):
        wf.edit_supervision_order(store, "ducha1", 4242, note="x")


# -- red cards --------------------------------------------------------------------------------
@pytest.fixture
def red_appeal(store, make_appeal, monkeypatch):
    a = make_appeal("accepted")
    monkeypatch.setenv("TAIAN_NOW", "2026-10-21T08:00:00+08:00")
    escalation.sweep(store)
    monkeypatch.delenv("TAIAN_NOW")
    assert store.appeal(a.ref).card == "red"
    return store.appeal(a.ref)


def test_take_up_red_card(store, red_appeal):
    at = "2026-10-21T10:00:00+08:00"
    wf.take_up_red_card(store, "jiwei1", red_appeal.ref, "已立案核查", at=at)
    red = [e for e in store.card_events(red_appeal.id) if e.card == "red"][0]
    assert (red.taken_up_by, red.taken_up_at, red.taken_up_note) == ("jiwei1", at, "已立案核查")
    row, before, after = audit_of(store, "appeal", red_appeal.ref)
    assert (row.actor, row.action) == ("jiwei1", "red.take_up")
    assert after == {"note": "已立案核查"}


def test_take_up_red_card_only_once(store, red_appeal, unchanged):
    wf.take_up_red_card(store, "jiwei1", red_appeal.ref, "已立案", at="2026-10-21T10:00:00+08:00")
    with unchanged(), pytest.raises(InvalidTransition, match="already taken up by jiwei1"):
        wf.take_up_red_card(store, "jiwei1", red_appeal.ref, "again")


@pytest.mark.parametrize("who", ["admin", "ducha1", "shizhang", "zrzy1"])
def test_take_up_is_for_discipline_only(store, red_appeal, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="only discipline may take up red cards"):
        wf.take_up_red_card(store, who, red_appeal.ref)


def test_take_up_needs_a_red_card(store, make_appeal, unchanged, monkeypatch):
    a = make_appeal("accepted")
    monkeypatch.setenv("TAIAN_NOW", "2026-10-13T08:00:00+08:00")
    escalation.sweep(store)  # yellow only
    assert store.appeal(a.ref).card == "yellow"
    with unchanged(), pytest.raises(InvalidTransition, match="has no red card"):
        wf.take_up_red_card(store, "jiwei1", a.ref)


def test_discipline_sees_only_red_appeals(store, red_appeal, make_appeal):
    other = make_appeal("accepted")
    jiwei = actors.actor(store, "jiwei1")
    assert actors.can_see_appeal(store, jiwei, store.appeal(red_appeal.ref)) is True
    assert actors.can_see_appeal(store, jiwei, store.appeal(other.ref)) is False


# -- leader instructions ----------------------------------------------------------------------
T_INS = "2026-10-08T09:00:00+08:00"


def outbox(store):
    return [dict(r) for r in store.all("SELECT * FROM outbox ORDER BY id")]


def test_issue_instruction_on_an_appeal_queues_sms(store, make_appeal):
    a = make_appeal("accepted")
    ins = wf.issue_instruction(store, "shizhang", "zrzy1", "请尽快协调解决", appeal_ref=a.ref, at=T_INS)
    assert (ins.leader, ins.target_user, ins.appeal_ref, ins.project_ref, ins.text, ins.created_at) == \
        ("shizhang", "zrzy1", a.ref, None, "请尽快协调解决", T_INS)
    assert ins.acknowledged_at is None and ins.replied_at is None
    sms = outbox(store)
    assert len(sms) == 1
    assert sms[0]["recipient"] == "zrzy1"
    assert sms[0]["phone"] == "13800000002"
    assert sms[0]["reason"] == "instruction"
    assert sms[0]["entity"] == f"instruction:{ins.id}"
    assert sms[0]["status"] == "queued"
    assert sms[0]["text"] == ("【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示："
                              "请尽快协调解决，请登录平台查看办理。")
    assert (sms[0]["attempts"], sms[0]["created_at"], sms[0]["next_attempt_at"]) == (0, T_INS, T_INS)
    row, _, after = audit_of(store, "instruction", ins.id)
    assert (row.actor, row.action) == ("shizhang", "instruction.issue")
    assert after["target"] == "zrzy1" and after["appeal_ref"] == a.ref


def test_the_instruction_sms_never_puts_its_comma_after_a_full_stop(store, city, make_appeal):
    # the SMS goes on after the instruction's words (…：{words}，请登录…): the full stop it
    # was typed with goes, and words longer than 60 characters are cut to 59 and an ellipsis
    a = make_appeal("accepted")
    wf.issue_instruction(store, "shizhang", "zrzy1", "请尽快协调解决，办理结果及时报我。", appeal_ref=a.ref, at=T_INS)
    long_text = "甲" * 58 + "。乙丙"                                     # 61 characters
    wf.issue_instruction(store, "shizhang", "zrzy1", long_text, appeal_ref=a.ref, at=T_INS)
    assert [r["text"] for r in outbox(store)] == [
        "【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示：请尽快协调解决，办理结果及时报我，"
        "请登录平台查看办理。",
        "【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示：" + "甲" * 58 + "…，请登录平台查看办理。"]


def test_a_pasted_instructions_invisible_end_or_full_width_stop_does_not_leave_a_stop_before_the_comma(
        store, city, make_appeal):
    # text pasted from WeChat or Word ends with a zero-width space; a full-width "．" is a stop too
    a = make_appeal("accepted")
    wf.issue_instruction(store, "shizhang", "zrzy1", "请办理。\u200b", appeal_ref=a.ref, at=T_INS)
    wf.issue_instruction(store, "shizhang", "zrzy1", "请核实．", appeal_ref=a.ref, at=T_INS)
    head = "【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示："
    assert [r["text"] for r in outbox(store)] == [head + "请办理，请登录平台查看办理。",
                                                  head + "请核实，请登录平台查看办理。"]


def test_county_leader_may_instruct_within_scope(store, city):
    ins = wf.issue_instruction(store, "daiyue-lead", "daiyue1", "加快推进", project_ref=city.project_ref,
                               at=T_INS)
    assert ins.project_ref == city.project_ref
    assert [(r["recipient"], r["phone"], r["reason"], r["entity"], r["text"]) for r in outbox(store)] == [
        ("daiyue1", "13800000004", "instruction", f"instruction:{ins.id}",
         "【泰安重大项目督导】岱岳区区长对项目《年产5万吨新材料项目》作出批示：加快推进，请登录平台查看办理。")]


def test_county_leader_outside_scope_refused(store, city, make_appeal, unchanged):
    wf.apply_project(store, "system:intake", ref="P-TS", enterprise_uscc=city.uscc, name="泰山区项目",
                     county="泰山区", category="其他", investment_wan=800, at=T_INS)
    with unchanged(), pytest.raises(PermissionDenied, match="may instruct only on projects of 岱岳区"):
        wf.issue_instruction(store, "daiyue-lead", "admin", "推进", project_ref="P-TS", at=T_INS)
    a = make_appeal("submitted", category="能耗", county="泰山区")
    with unchanged(), pytest.raises(PermissionDenied, match="outside their scope"):
        wf.issue_instruction(store, "daiyue-lead", "admin", "推进", appeal_ref=a.ref, at=T_INS)
    # The city leader may.
    ins = wf.issue_instruction(store, "shizhang", "admin", "推进", project_ref="P-TS", at=T_INS)
    assert ins.id == 1
    assert (ins.leader, ins.target_user, ins.project_ref, ins.appeal_ref) == ("shizhang", "admin", "P-TS", None)
    assert [(r["recipient"], r["phone"]) for r in outbox(store)] == [("admin", "13800000001")]


@pytest.mark.parametrize("who", ["admin", "ducha1", "zrzy1", "system:intake"])
def test_instructions_are_for_leaders(store, city, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="issue instructions"):
        wf.issue_instruction(store, who, "daiyue1", "推进", project_ref=city.project_ref, at=T_INS)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(), ValidationError, "exactly one project or one appeal"),
    (dict(project_ref="P-0001", appeal_ref="A-X"), ValidationError, "exactly one"),
    (dict(project_ref="P-NOPE"), NotFound, "no such project"),
    (dict(appeal_ref="A-NOPE"), NotFound, "no such appeal"),
])
def test_instruction_subject_validated(store, unchanged, kwargs, exc, match):
    with unchanged(), pytest.raises(exc, match=match):
        wf.issue_instruction(store, "shizhang", "daiyue1", "推进", at=T_INS, **kwargs)


def test_instruction_target_and_text_validated(store, city, unchanged):
    with unchanged(), pytest.raises(NotFound, match="no such user"):
        wf.issue_instruction(store, "shizhang", "ghost", "推进", project_ref=city.project_ref)
    with unchanged(), pytest.raises(ValidationError, match="instruction is required"):
        wf.issue_instruction(store, "shizhang", "daiyue1", "  ", project_ref=city.project_ref)


@pytest.fixture
def instruction(store, city):
    return wf.issue_instruction(store, "shizhang", "daiyue1", "加快推进", project_ref=city.project_ref,
                                at=T_INS)


def test_acknowledge_and_reply_instruction(store, instruction):
    ack = wf.acknowledge_instruction(store, "daiyue1", instruction.id, at="2026-10-08T10:00:00+08:00")
    assert ack.acknowledged_at == "2026-10-08T10:00:00+08:00"
    row, _, after = audit_of(store, "instruction", instruction.id)
    assert (row.actor, row.action) == ("daiyue1", "instruction.acknowledge")
    rep = wf.reply_instruction(store, "daiyue1", instruction.id, "已部署推进", at="2026-10-09T10:00:00+08:00")
    assert rep.reply == "已部署推进"
    assert rep.replied_at == "2026-10-09T10:00:00+08:00"
    assert rep.acknowledged_at == "2026-10-08T10:00:00+08:00"
    row, _, after = audit_of(store, "instruction", instruction.id)
    assert (row.actor, row.action) == ("daiyue1", "instruction.reply")
    assert after == {"reply": "已部署推进"}


def test_reply_without_acknowledging_first_acknowledges(store, instruction):
    rep = wf.reply_instruction(store, "daiyue1", instruction.id, "已办", at="2026-10-09T10:00:00+08:00")
    assert rep.acknowledged_at == "2026-10-09T10:00:00+08:00"


@pytest.mark.parametrize("who", ["shizhang", "zrzy1", "admin"])
def test_only_the_target_acknowledges_or_replies(store, instruction, unchanged, who):
    with unchanged(), pytest.raises(PermissionDenied, match="only daiyue1, to whom instruction"):
        wf.acknowledge_instruction(store, who, instruction.id)
    with unchanged(), pytest.raises(PermissionDenied, match="only daiyue1"):
        wf.reply_instruction(store, who, instruction.id, "答复")


def test_instruction_acknowledged_and_replied_once(store, instruction, unchanged):
    wf.acknowledge_instruction(store, "daiyue1", instruction.id, at="2026-10-08T10:00:00+08:00")
    with unchanged(), pytest.raises(InvalidTransition, match="already acknowledged"):
        wf.acknowledge_instruction(store, "daiyue1", instruction.id)
    wf.reply_instruction(store, "daiyue1", instruction.id, "已办", at="2026-10-09T10:00:00+08:00")
    with unchanged(), pytest.raises(InvalidTransition, match="already answered"):
        wf.reply_instruction(store, "daiyue1", instruction.id, "再答")
    with unchanged(), pytest.raises(ValidationError, match="reply is required"):
        wf.reply_instruction(store, "daiyue1", instruction.id, "")
    with unchanged(), pytest.raises(NotFound):
        wf.acknowledge_instruction(store, "daiyue1", 999)


def test_titles_in_an_sms_are_clipped_with_an_ellipsis():
    from taian_tui.domain.text import clip

    # 20 at most, the last one the ellipsis; a Latin word or number is not split unless that
    # would leave less than half
    assert clip("新泰联兴食品有限公司租赁集体土地手续如何完善", 20) == "新泰联兴食品有限公司租赁集体土地手续如…"
    assert clip("年产5万吨新材料项目", 20) == "年产5万吨新材料项目"
    assert clip("关于ABC公司Expansion2026的用地问题", 20) == "关于ABC公司Expansion202…"   # 7 < 10: split
    assert clip("关于泰安市岱岳区某某大型新能源项目ABCDEFGHIJ的问题", 20) == "关于泰安市岱岳区某某大型新能源项目…"
    assert clip("一二三四五六七八九十一二三四五六七八九十", 20) == "一二三四五六七八九十一二三四五六七八九十"


def test_a_rejection_says_why(store, make_appeal, unchanged):
    """Rejecting an extension needs its reason (the unit keeps its deadline and is told why):
    the store's rule, for the console and the command line alike; an approval's note stays
    optional."""
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at=T_REQ)
    for note in ("", "  \n\t"):
        with unchanged(), pytest.raises(ValidationError) as refused:
            wf.decide_extension(store, "ducha1", ext.id, False, note=note, at=T_DECIDE)
        assert (str(refused.value), refused.value.localized("zh")) == ("note is required", "说明不能为空")
    assert wf.decide_extension(store, "ducha1", ext.id, True, at=T_DECIDE).state == "approved"


def test_an_instruction_goes_to_those_who_act_on_it_only(store, make_appeal, unchanged):
    """The store's rule, as the console's picker lists them (rules.INSTRUCTION_TARGET_ROLES): not
    to the discipline commission, an editor, nor the leader writing it."""
    a = make_appeal("accepted")
    refused = {}
    for target in ("jiwei1", "bianji", "shizhang"):
        with unchanged(), pytest.raises(ValidationError) as exc:
            wf.issue_instruction(store, "shizhang", target, "请关注", appeal_ref=a.ref, at=T_INS)
        refused[target] = exc.value.localized("zh")
    assert refused == {
        "jiwei1": "批示不能发给“jiwei1”（纪委监委）：批示只发给另一位在岗的联络员或管理员或督查室或领导",
        "bianji": "批示不能发给“bianji”（编辑）：批示只发给另一位在岗的联络员或管理员或督查室或领导",
        "shizhang": "批示不能发给“shizhang”（领导）：批示只发给另一位在岗的联络员或管理员或督查室或领导"}
    assert wf.issue_instruction(store, "shizhang", "ducha1", "请督办", appeal_ref=a.ref, at=T_INS).target_user == "ducha1"
