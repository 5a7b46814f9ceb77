"""The red/yellow/blue card sweep (DOMAIN.md "Cards"), ``escalation.sweep``.

Reference appeal (land/岱岳区 -> zrzy), reached the unit Tue 2026-09-29 10:00:
blue from 2026-10-12 00:00:00, deadline 2026-10-12 23:59:59, yellow order due
2026-10-19 23:59:59 (10-13, 14, 15, 16, 19), red from 2026-10-20 00:00:00.
"""
from __future__ import annotations

import pytest

from taian_tui.domain import escalation
from taian_tui.domain import operations as wf

BLUE = "2026-10-12T00:00:00+08:00"
DEADLINE = "2026-10-12T23:59:59+08:00"
AFTER_DEADLINE = "2026-10-13T00:00:00+08:00"
ORDER_DUE = "2026-10-19T23:59:59+08:00"
AFTER_DUE = "2026-10-20T00:00:00+08:00"
P = "【泰安重大项目督导】"


@pytest.fixture
def sweep(store, monkeypatch):
    """sweep(at, **kw): run the sweep as if the clock read ``at`` (applied_at = at)."""

    def _sweep(at, **kw):
        monkeypatch.setenv("TAIAN_NOW", at)
        try:
            return escalation.sweep(store, at, **kw)
        finally:
            monkeypatch.delenv("TAIAN_NOW")
    return _sweep


def events(store, ref):
    a = store.appeal(ref)
    return [(e.card, e.previous, e.threshold_at, e.applied_at) for e in store.card_events(a.id)]


def outbox(store, *reasons):
    """(recipient, phone, reason) of every queued SMS (of the given reasons), in order."""
    return [(r["recipient"], r["phone"], r["reason"])
            for r in store.all("SELECT * FROM outbox ORDER BY id")
            if not reasons or r["reason"] in reasons]


def texts(store, reason):
    """The texts queued for ``reason``, in order."""
    return [t for (t,) in store.all("SELECT text FROM outbox WHERE reason = ? ORDER BY id", (reason,))]


def counts(store):
    return {t: store.scalar(f"SELECT COUNT(*) FROM {t}")
            for t in ("card_events", "outbox", "supervision_orders", "audit")}


# -- blue ---------------------------------------------------------------------------------------
def test_no_card_before_day_five(store, make_appeal, sweep):
    a = make_appeal("accepted")
    r = sweep("2026-10-11T23:59:59+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert r.appeals == [] and r.notifications_queued == 0
    assert store.appeal(a.ref).card == ""
    assert outbox(store) == []


def test_blue_at_the_start_of_day_five(store, make_appeal, sweep):
    a = make_appeal("accepted")
    r = sweep(BLUE)
    assert r.raised == {"blue": 1, "yellow": 0, "red": 0}
    assert [(x.ref, x.card, x.previous, x.threshold_at) for x in r.appeals] == [(a.ref, "blue", "", BLUE)]
    assert store.appeal(a.ref).card == "blue"
    assert events(store, a.ref) == [("blue", "", BLUE, BLUE)]
    assert store.orders(a.id) == []
    assert r.notifications_queued == 1
    assert outbox(store) == [("zrzy1", "13800000002", "card.blue")]
    assert texts(store, "card.blue") == [
        f"{P}蓝牌提醒：你单位诉求A-2026-0001《用地指标落实》今天到期，请于24时前答复。"]


def test_blue_also_for_an_appeal_not_yet_accepted(store, make_appeal, sweep):
    a = make_appeal("assigned")
    assert sweep(BLUE).raised["blue"] == 1
    assert store.appeal(a.ref).card == "blue"


# -- yellow -------------------------------------------------------------------------------------
def test_no_yellow_at_the_deadline_itself(store, make_appeal, sweep):
    a = make_appeal("accepted")
    r = sweep(DEADLINE)
    assert r.raised == {"blue": 1, "yellow": 0, "red": 0}
    assert store.appeal(a.ref).card == "blue"
    assert store.orders(a.id) == []


def test_yellow_just_after_the_deadline(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(BLUE)
    r = sweep(AFTER_DEADLINE)
    assert r.raised == {"blue": 0, "yellow": 1, "red": 0}
    assert r.notifications_queued == 2
    assert store.appeal(a.ref).card == "yellow"
    assert events(store, a.ref)[1] == ("yellow", "blue", DEADLINE, AFTER_DEADLINE)
    orders = store.orders(a.id)
    assert len(orders) == 1
    o = orders[0]
    assert (o.origin, o.state, o.opened_by, o.due_at) == ("yellow", "open", "system:escalate", ORDER_DUE)
    # Yellow: liaisons and the unit head.
    assert outbox(store, "card.yellow") == [
        ("zrzy1", "13800000002", "card.yellow"),
        ("head:zrzy", "13905381013", "card.yellow"),
    ]
    yellow = f"{P}黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，已推送市委市政府督查室督办，督办期限2026-10-19。"
    assert [tuple(x) for x in store.all(
        "SELECT recipient, text FROM outbox WHERE reason = 'card.yellow' ORDER BY id")] == [
        ("zrzy1", yellow), ("head:zrzy", yellow)]


# -- red ----------------------------------------------------------------------------------------
def test_red_after_the_orders_due_time(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(BLUE)
    sweep(AFTER_DEADLINE)
    assert sweep(ORDER_DUE).raised == {"blue": 0, "yellow": 0, "red": 0}
    r = sweep(AFTER_DUE)
    assert r.raised == {"blue": 0, "yellow": 0, "red": 1}
    assert r.notifications_queued == 1
    assert store.appeal(a.ref).card == "red"
    assert events(store, a.ref)[-1] == ("red", "yellow", ORDER_DUE, AFTER_DUE)
    assert outbox(store) == [
        ("zrzy1", "13800000002", "card.blue"),
        ("zrzy1", "13800000002", "card.yellow"),
        ("head:zrzy", "13905381013", "card.yellow"),
        ("ducha1", "13800000007", "card.red"),
    ]
    assert texts(store, "card.red") == [
        f"{P}红牌：诉求A-2026-0001《用地指标落实》督办逾期仍未答复，已推送市纪委监委。"]


def test_red_follows_an_edited_order_due_time(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)
    order = store.open_order(a.id)
    wf.edit_supervision_order(store, "ducha1", order.id, due_at="2026-10-23T23:59:59+08:00",
                              at="2026-10-14T09:00:00+08:00")
    assert sweep(AFTER_DUE).raised["red"] == 0
    assert sweep("2026-10-24T00:00:00+08:00").raised["red"] == 1
    assert events(store, a.ref)[-1][2] == "2026-10-23T23:59:59+08:00"


# -- idempotence and catch-up ---------------------------------------------------------------------
def test_catch_up_applies_every_passed_threshold_in_order(store, make_appeal, sweep):
    a = make_appeal("accepted")
    late = "2026-11-10T09:00:00+08:00"
    r = sweep(late)
    assert r.at == late and r.dry_run is False
    assert r.raised == {"blue": 1, "yellow": 1, "red": 1}
    assert [(x.card, x.previous, x.threshold_at) for x in r.appeals] == [
        ("blue", "", BLUE), ("yellow", "blue", DEADLINE), ("red", "yellow", ORDER_DUE)]
    # threshold_at = when each threshold really passed; applied_at = when the sweep ran.
    assert events(store, a.ref) == [
        ("blue", "", BLUE, late), ("yellow", "blue", DEADLINE, late), ("red", "yellow", ORDER_DUE, late)]
    ids = [e.id for e in store.card_events(a.id)]
    assert a.id == 1
    assert ids == [a.id * 4 + 1, a.id * 4 + 2, a.id * 4 + 3] == [5, 6, 7]
    assert store.appeal(a.ref).card == "red"
    assert store.orders(a.id)[0].due_at == ORDER_DUE
    # what a late sweep raises at once is said once, as it stands: no blue reminder "due
    # today" for an appeal weeks past its deadline (its liaison gets the yellow SMS), and the
    # yellow SMS says the order is overdue already (not "督办期限2026-10-19" on 11-10)
    assert sorted(outbox(store)) == sorted([
        ("zrzy1", "13800000002", "card.yellow"),
        ("head:zrzy", "13905381013", "card.yellow"),
        ("ducha1", "13800000007", "card.red"),
    ])
    assert r.notifications_queued == 3
    assert texts(store, "card.yellow") == [
        f"{P}黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，督办亦已逾期，已推送市纪委监委。"] * 2
    sweep_rows = store.audit_rows("sweep", late)
    assert len(sweep_rows) == 1
    assert (sweep_rows[0].actor, sweep_rows[0].action, sweep_rows[0].at) == \
        ("system:escalate", "escalate", late)
    d = r.as_dict()
    assert d["raised"] == {"blue": 1, "yellow": 1, "red": 1}
    assert [x["card"] for x in d["appeals"]] == ["blue", "yellow", "red"]


def test_second_sweep_raises_nothing_and_queues_nothing(store, make_appeal, sweep):
    make_appeal("accepted")
    make_appeal("assigned", category="环评")
    first = sweep("2026-11-10T09:00:00+08:00")
    assert first.raised == {"blue": 2, "yellow": 2, "red": 2}
    before = counts(store)
    for at in ("2026-11-10T09:00:00+08:00", "2026-11-11T09:00:00+08:00", "2027-03-01T09:00:00+08:00"):
        again = sweep(at)
        assert again.raised == {"blue": 0, "yellow": 0, "red": 0}
        assert again.appeals == [] and again.notifications_queued == 0
    # nothing but the three runs' own audit rows
    assert counts(store) == {**before, "audit": before["audit"] + 3}


def test_step_by_step_equals_catch_up(store, make_appeal, sweep):
    a = make_appeal("accepted")
    for at in (BLUE, AFTER_DEADLINE, AFTER_DUE, AFTER_DUE):
        sweep(at)
    assert [(c, p, t) for c, p, t, _ in events(store, a.ref)] == [
        ("blue", "", BLUE), ("yellow", "blue", DEADLINE), ("red", "yellow", ORDER_DUE)]
    assert len(outbox(store, "card.blue")) == 1
    assert len(outbox(store, "card.yellow")) == 2
    assert len(store.orders(a.id)) == 1
    assert outbox(store) == [
        ("zrzy1", "13800000002", "card.blue"),
        ("zrzy1", "13800000002", "card.yellow"),
        ("head:zrzy", "13905381013", "card.yellow"),
        ("ducha1", "13800000007", "card.red"),
    ]


def test_dry_run_changes_nothing(store, make_appeal, sweep, dump):
    make_appeal("accepted")
    before = dump()
    r = sweep("2026-11-10T09:00:00+08:00", dry_run=True)
    assert r.dry_run is True
    assert r.raised == {"blue": 1, "yellow": 1, "red": 1}
    # (raised at once: yellow to the liaison and the unit head, red to the supervisor; no
    # blue reminder for an appeal past its deadline)
    assert r.notifications_queued == 3
    assert dump() == before
    assert not store.conn.in_transaction
    real = sweep("2026-11-10T09:00:00+08:00")
    assert real.raised == r.raised


def test_nothing_for_dispatch_queue_answered_or_closed_appeals(store, make_appeal, sweep):
    refs = [make_appeal(state, **kw).ref for state, kw in [
        ("submitted", dict(category="能耗", county="泰山区")), ("answered", {}), ("closed", {}),
        ("disputed", {}), ("returned", {})]]
    r = sweep("2026-12-01T09:00:00+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert all(store.appeal(ref).card == "" for ref in refs)
    assert outbox(store) == []


# -- things that move or stop the clock -----------------------------------------------------------
def test_approved_extension_moves_blue_and_yellow(store, make_appeal, sweep):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "现场踏勘", at="2026-10-09T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, True, at="2026-10-09T10:00:00+08:00")
    assert sweep(AFTER_DEADLINE).raised == {"blue": 0, "yellow": 0, "red": 0}
    assert sweep("2026-10-14T23:59:59+08:00").raised["blue"] == 0
    assert sweep("2026-10-15T00:00:00+08:00").raised == {"blue": 1, "yellow": 0, "red": 0}
    assert sweep("2026-10-15T23:59:59+08:00").raised["yellow"] == 0
    assert sweep("2026-10-16T00:00:00+08:00").raised["yellow"] == 1
    ev = events(store, a.ref)
    assert [(c, t) for c, _, t, _ in ev] == [("blue", "2026-10-15T00:00:00+08:00"),
                                            ("yellow", "2026-10-15T23:59:59+08:00")]
    # The order is due 5 working days after the new deadline day: 10-16, 19, 20, 21, 22.
    assert store.open_order(a.id).due_at == "2026-10-22T23:59:59+08:00"


def test_extension_after_blue_keeps_blue_and_moves_yellow(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(BLUE)
    ext = wf.request_extension(store, "zrzy1", a.ref, 2, "理由", at="2026-10-12T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, True, at="2026-10-12T10:00:00+08:00")
    assert sweep(AFTER_DEADLINE).raised == {"blue": 0, "yellow": 0, "red": 0}
    assert store.appeal(a.ref).card == "blue"
    assert sweep("2026-10-15T00:00:00+08:00").raised["yellow"] == 1


def test_rejected_extension_moves_nothing(store, make_appeal, sweep):
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 3, "理由", at="2026-10-09T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, False, note="理由不充分", at="2026-10-09T10:00:00+08:00")
    assert sweep(AFTER_DEADLINE).raised == {"blue": 1, "yellow": 1, "red": 0}


def test_a_reply_stops_the_clock(store, make_appeal, sweep):
    a = make_appeal("accepted")
    wf.reply_appeal(store, "zrzy1", a.ref, "已答复", at="2026-10-09T09:00:00+08:00")
    r = sweep("2026-12-01T09:00:00+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert store.appeal(a.ref).card == ""
    assert events(store, a.ref) == []


def test_a_reply_after_yellow_stops_red_and_keeps_the_history(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)
    wf.reply_appeal(store, "zrzy1", a.ref, "已答复", at="2026-10-14T09:00:00+08:00")
    assert store.open_order(a.id) is None
    assert sweep(AFTER_DUE).raised == {"blue": 0, "yellow": 0, "red": 0}
    b = store.appeal(a.ref)
    assert b.state == "answered" and b.card == "yellow"
    assert [e[0] for e in events(store, a.ref)] == ["blue", "yellow"]
    wf.evaluate_appeal(store, "system:intake", a.ref, "满意", at="2026-10-15T09:00:00+08:00")
    assert store.appeal(a.ref).card == "yellow"


def test_cards_are_never_lowered_by_a_reassignment(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)
    before_events = events(store, a.ref)
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-14T09:00:00+08:00")
    assert b.card == "yellow"
    assert b.deadline == "2026-10-21T23:59:59+08:00"
    assert events(store, a.ref) == before_events
    # The new unit's blue threshold does not raise blue again (never raised twice).
    r = sweep("2026-10-21T00:00:00+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert store.appeal(a.ref).card == "yellow"
    assert [e[0] for e in events(store, a.ref)] == ["blue", "yellow"]


def test_a_returned_appeal_keeps_its_card(store, make_appeal, sweep):
    a = make_appeal("accepted", at="2026-10-13T10:00:00+08:00")  # Day 5 = 10-20
    sweep("2026-10-20T00:00:00+08:00")
    assert store.appeal(a.ref).card == "blue"
    # The return window (2 working days) has long closed by then; reassign instead.
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-20T09:00:00+08:00")
    assert b.card == "blue"


def test_reassigned_unit_is_not_red_carded_before_its_own_deadline(store, make_appeal, sweep):
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)                      # yellow for zrzy, order due 10-19
    wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-14T09:00:00+08:00")
    r = sweep(AFTER_DUE)                       # sthj's own deadline is 10-21 23:59:59
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert store.appeal(a.ref).card == "yellow"


def test_a_reassigned_yellow_appeal_stays_under_its_order_and_turns_red_with_the_new_unit(
        store, make_appeal, sweep):
    """A yellow card is raised once: reassigned, the appeal keeps its order, due 5 working
    days after the new unit's own deadline (sthj, from Wed 10-14: 10-15, 16, 19, 20, 21;
    then 10-22, 23, 26, 27, 28), and turns red when that passes unanswered."""
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)                      # yellow for zrzy, order due 10-19
    order = store.open_order(a.id)
    wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-14T09:00:00+08:00")
    kept = store.open_order(a.id)
    assert (kept.id, kept.origin, kept.due_at) == (order.id, "yellow", "2026-10-28T23:59:59+08:00")
    assert sweep("2026-10-28T23:59:59+08:00").raised == {"blue": 0, "yellow": 0, "red": 0}
    assert sweep("2026-10-29T00:00:00+08:00").raised == {"blue": 0, "yellow": 0, "red": 1}
    assert [(c, t) for c, _, t, _ in events(store, a.ref)] == [
        ("blue", "2026-10-12T00:00:00+08:00"), ("yellow", "2026-10-12T23:59:59+08:00"),
        ("red", "2026-10-28T23:59:59+08:00")]


def test_a_reassignment_first_records_the_cards_earned_and_not_yet_applied(store, make_appeal, sweep):
    """Past its deadline (10-12) with no sweep since: the reassignment records blue and
    yellow at their thresholds (as a late reply does), so the card cannot be dodged; the
    yellow card's order (due 10-19) goes on with sthj, due 10-28."""
    a = make_appeal("accepted")
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-14T09:00:00+08:00")
    assert (b.card, b.unit_code, b.deadline) == ("yellow", "sthj", "2026-10-21T23:59:59+08:00")
    assert [(c, t) for c, _, t, _ in events(store, a.ref)] == [
        ("blue", "2026-10-12T00:00:00+08:00"), ("yellow", "2026-10-12T23:59:59+08:00")]
    assert store.open_order(a.id).due_at == "2026-10-28T23:59:59+08:00"
    assert sweep("2026-10-29T00:00:00+08:00").raised == {"blue": 0, "yellow": 0, "red": 1}


def test_a_red_card_recorded_by_a_reassignment_tells_the_supervision_office(store, make_appeal, sweep):
    """Yellow at the 10-13 sweep (order due 10-19); no sweep since; reassigned on 10-21: the
    red card earned at 10-19 23:59:59 is recorded first and the supervision office gets its
    SMS, as from a sweep (a blue or yellow SMS would say what is no longer so: none)."""
    a = make_appeal("accepted")
    sweep(AFTER_DEADLINE)
    before = len(outbox(store))
    b = wf.assign_appeal(store, "admin", a.ref, "sthj", at="2026-10-21T09:00:00+08:00")
    assert b.card == "red"
    assert [(c, t) for c, _, t, _ in events(store, a.ref)][-1] == ("red", "2026-10-19T23:59:59+08:00")
    new = store.all("SELECT recipient, reason, text FROM outbox ORDER BY id")[before:]
    assert [(r["recipient"], r["reason"]) for r in new] == [("ducha1", "card.red")]
    assert new[0]["text"] == ("【泰安重大项目督导】红牌：诉求A-2026-0001《用地指标落实》督办逾期仍未答复，"
                              "已推送市纪委监委。")


def test_an_approval_on_day_5_before_the_sweep_keeps_the_blue_card_earned(store, make_appeal, sweep):
    """Day 5 began at 10-12 00:00; approved at 08:00, before the morning's sweep: the blue
    card is recorded at its threshold; the new deadline (2 working days: 10-13, 10-14) does
    not raise it again, and yellow follows that deadline."""
    a = make_appeal("accepted")
    ext = wf.request_extension(store, "zrzy1", a.ref, 2, "理由", at="2026-10-09T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, True, at="2026-10-12T08:00:00+08:00")
    assert [(c, t) for c, _, t, _ in events(store, a.ref)] == [("blue", "2026-10-12T00:00:00+08:00")]
    assert store.appeal(a.ref).deadline == "2026-10-14T23:59:59+08:00"
    assert sweep("2026-10-14T00:00:00+08:00").raised == {"blue": 0, "yellow": 0, "red": 0}
    assert sweep("2026-10-15T00:00:00+08:00").raised == {"blue": 0, "yellow": 1, "red": 0}


def test_manual_order_does_not_suppress_blue_and_yellow(store, make_appeal, sweep):
    a = make_appeal("accepted")
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-11-05T23:59:59+08:00", "领导关注",
                                  at="2026-10-09T09:00:00+08:00")
    r = sweep(AFTER_DEADLINE)
    assert r.raised == {"blue": 1, "yellow": 1, "red": 0}
    assert store.appeal(a.ref).card == "yellow"
    assert [(x.id, x.origin, x.due_at) for x in store.orders(a.id)] == [
        (o.id, "manual", "2026-11-05T23:59:59+08:00")]


def test_the_yellow_sms_of_an_appeal_under_a_manual_order_names_that_order(store, make_appeal, sweep):
    """A supervisor's order (opened 10-09, due Wed 10-14) does not spare the yellow card: at
    10-13 the yellow SMS names its due date; in a catch-up sweep on 10-16, when the order's due
    time has passed too, it says the order is overdue (as for a yellow card's own order)."""
    head = "【泰安重大项目督导】黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，"
    a = make_appeal("accepted")
    wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-14T23:59:59+08:00", "领导关注",
                              at="2026-10-09T09:00:00+08:00")
    sweep("2026-10-13T00:00:00+08:00")
    assert {r["text"] for r in store.all("SELECT text FROM outbox WHERE reason = 'card.yellow'")} == {
        head + "已推送市委市政府督查室督办，督办期限2026-10-14。"}
    b = make_appeal("accepted", ref="A-2026-0002")
    wf.open_supervision_order(store, "ducha1", b.ref, "2026-10-14T23:59:59+08:00", "领导关注",
                              at="2026-10-09T09:00:00+08:00")
    assert sweep("2026-10-16T00:00:00+08:00").raised == {"blue": 1, "yellow": 1, "red": 2}
    texts = [r["text"] for r in store.all("SELECT text FROM outbox WHERE reason = 'card.yellow' "
                                         "AND created_at = '2026-10-16T00:00:00+08:00'")]
    assert set(texts) == {head.replace("A-2026-0001", "A-2026-0002") + "督办亦已逾期，已推送市纪委监委。"}


def test_dispute_order_goes_red_after_its_due_time(store, make_appeal, sweep):
    a = make_appeal("disputed")
    wf.review_dispute(store, "ducha1", a.ref, True, "单位责任", at="2026-10-09T10:00:00+08:00")
    due = "2026-10-15T23:59:59+08:00"
    assert sweep(due).raised == {"blue": 1, "yellow": 0, "red": 0}
    r = sweep("2026-10-16T00:00:00+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 1}
    # the order's due day begins with a blue reminder (start of that day), then red
    assert events(store, a.ref) == [
        ("blue", "", "2026-10-15T00:00:00+08:00", due),
        ("red", "blue", due, "2026-10-16T00:00:00+08:00")]
    assert outbox(store) == [("zrzy1", "13800000002", "card.blue"), ("ducha1", "13800000007", "card.red")]


# -- notifications --------------------------------------------------------------------------------
def test_sms_recipients(store, make_appeal, sweep):
    wf.upsert_user(store, "admin", "zrzy2", "第二联络员", "liaison", unit_code="zrzy", mobile="13800000012")
    wf.upsert_user(store, "admin", "zrzy3", "无手机联络员", "liaison", unit_code="zrzy", mobile="")
    wf.upsert_user(store, "admin", "zrzy4", "停用联络员", "liaison", unit_code="zrzy", mobile="13800000014")
    store.conn.execute("UPDATE users SET active = 0 WHERE username = 'zrzy4'")
    wf.upsert_user(store, "admin", "ducha2", "督查员二", "supervisor", unit_code="dcs", mobile="13800000017")
    make_appeal("accepted")
    make_appeal("accepted", category="环评")  # sthj's appeal: its blue/yellow SMS go to sthj only
    # blue on Day 5 (3 liaisons), then the rest at once: yellow (3 liaisons and 2 unit heads)
    # and red (2 supervisors)
    assert sweep(BLUE).notifications_queued == 3
    r = sweep("2026-11-10T09:00:00+08:00")
    assert r.notifications_queued == 7
    got = sorted((r["reason"], r["recipient"], r["phone"])
                 for r in store.all("SELECT recipient, phone, reason FROM outbox"))
    assert got == sorted([
        ("card.blue", "zrzy1", "13800000002"), ("card.blue", "zrzy2", "13800000012"),
        ("card.blue", "sthj1", "13800000003"),
        ("card.yellow", "zrzy1", "13800000002"), ("card.yellow", "zrzy2", "13800000012"),
        ("card.yellow", "head:zrzy", "13905381013"),
        ("card.yellow", "sthj1", "13800000003"), ("card.yellow", "head:sthj", "13905381014"),
        ("card.red", "ducha1", "13800000007"), ("card.red", "ducha2", "13800000017"),
    ])
    assert all(r["status"] == "queued" and r["attempts"] == 0
               for r in store.all("SELECT status, attempts FROM outbox"))
    # Each liaison's text names only their own unit's appeal.
    zrzy_text = store.scalar("SELECT text FROM outbox WHERE recipient = 'zrzy1' AND reason = 'card.blue'")
    sthj_text = store.scalar("SELECT text FROM outbox WHERE recipient = 'sthj1' AND reason = 'card.blue'")
    assert "A-2026-0001" in zrzy_text and "A-2026-0002" not in zrzy_text
    assert "A-2026-0002" in sthj_text and "A-2026-0001" not in sthj_text
    assert zrzy_text == f"{P}蓝牌提醒：你单位诉求A-2026-0001《用地指标落实》今天到期，请于24时前答复。"
    assert sthj_text == f"{P}蓝牌提醒：你单位诉求A-2026-0002《用地指标落实》今天到期，请于24时前答复。"
    # The supervisors' red SMS names both appeals, whatever their unit.
    red = f"{P}红牌：2件诉求（A-2026-0001、A-2026-0002）督办逾期仍未答复，已推送市纪委监委。"
    assert texts(store, "card.red") == [red, red]


def test_supervisors_get_an_sms_only_for_a_red_card(store, make_appeal, sweep):
    make_appeal("accepted")
    sweep(BLUE)
    sweep(AFTER_DEADLINE)
    assert outbox(store, "card.red") == []
    assert [x[2] for x in outbox(store)] == ["card.blue", "card.yellow", "card.yellow"]
    assert not any("0件" in t for (t,) in store.all("SELECT text FROM outbox"))
    assert [t for (t,) in store.all("SELECT text FROM outbox ORDER BY id")] == [
        f"{P}蓝牌提醒：你单位诉求A-2026-0001《用地指标落实》今天到期，请于24时前答复。",
        f"{P}黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，已推送市委市政府督查室督办，督办期限2026-10-19。",
        f"{P}黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，已推送市委市政府督查室督办，督办期限2026-10-19。",
    ]


def test_notifications_queued_counts_the_rows_added(store, make_appeal, sweep):
    make_appeal("accepted")
    r1 = sweep(BLUE)
    r2 = sweep(AFTER_DEADLINE)
    r3 = sweep(AFTER_DUE)
    assert r1.notifications_queued + r2.notifications_queued + r3.notifications_queued == \
        store.scalar("SELECT COUNT(*) FROM outbox")
    assert (r1.notifications_queued, r2.notifications_queued, r3.notifications_queued) == (1, 2, 1)
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 4


def test_no_sms_when_notify_false(store, make_appeal, sweep):
    make_appeal("accepted")
    r = sweep("2026-11-10T09:00:00+08:00", notify=False)
    assert r.raised == {"blue": 1, "yellow": 1, "red": 1}
    assert outbox(store) == []


def test_grouped_sms_names_three_refs_and_deng(store, submit, sweep):
    [submit(at="2026-09-29T10:00:00+08:00") for _ in range(5)]
    r = sweep(BLUE)
    assert r.raised == {"blue": 5, "yellow": 0, "red": 0}
    assert r.notifications_queued == 1
    assert texts(store, "card.blue") == [
        f"{P}蓝牌提醒：你单位5件诉求（A-2026-0001、A-2026-0002、A-2026-0003等）今天到期，请于24时前答复。"]


def test_grouped_sms_exactly_three_has_no_deng(store, submit, sweep):
    [submit(at="2026-09-29T10:00:00+08:00") for _ in range(3)]
    sweep(BLUE)
    assert texts(store, "card.blue") == [
        f"{P}蓝牌提醒：你单位3件诉求（A-2026-0001、A-2026-0002、A-2026-0003）今天到期，请于24时前答复。"]


def test_grouped_yellow_and_red_with_four_appeals(store, submit, sweep):
    [submit(at="2026-09-29T10:00:00+08:00") for _ in range(4)]
    sweep(AFTER_DEADLINE)
    assert texts(store, "card.yellow") == [
        f"{P}黄牌：你单位4件诉求（A-2026-0001、A-2026-0002、A-2026-0003等）已超期未答复，"
        "已推送市委市政府督查室督办，督办期限2026-10-19。"] * 2
    sweep(AFTER_DUE)
    assert texts(store, "card.red") == [
        f"{P}红牌：4件诉求（A-2026-0001、A-2026-0002、A-2026-0003等）督办逾期仍未答复，已推送市纪委监委。"]


# -- years without calendar data ------------------------------------------------------------------
def test_sweep_warns_about_estimated_deadlines(store, submit, sweep):
    submit("A-EST", at="2026-12-28T10:00:00+08:00")  # deadline 2027-01-04, counted Mon-Fri
    r = sweep("2026-12-29T09:00:00+08:00")
    assert r.raised == {"blue": 0, "yellow": 0, "red": 0}
    assert r.warnings == ["1 open appeal has a deadline counted Monday-Friday: no holiday data for 2027 "
                          "(add it with `taian calendar import FILE`)"]


def test_yellow_with_an_order_due_in_a_year_without_data(store, submit, sweep):
    a = submit("A-Y", at="2026-12-18T10:00:00+08:00")  # deadline Fri 12-25
    assert a.deadline == "2026-12-25T23:59:59+08:00"
    r = sweep("2026-12-26T09:00:00+08:00")
    assert r.raised == {"blue": 1, "yellow": 1, "red": 0}
    # 12-28, 29, 30, 31, then 2027-01-01 counted as a working day (no data).
    assert store.open_order(a.id).due_at == "2027-01-01T23:59:59+08:00"
    assert r.warnings == ["no holiday data for 2027: working days in 2027 counted Monday-Friday "
                          "(add them with `taian calendar import FILE`)"]


def test_many_appeals_in_one_sweep(store, submit, sweep):
    arrivals = ["2026-09-21", "2026-09-23", "2026-09-24", "2026-10-08"]
    refs = [submit(at=f"{d}T10:00:00+08:00").ref for d in arrivals]
    assert [store.appeal(r).deadline[:10] for r in refs] == \
        ["2026-09-29", "2026-10-08", "2026-10-09", "2026-10-14"]
    r = sweep("2026-10-09T12:00:00+08:00")
    cards = [store.appeal(ref).card for ref in refs]
    assert cards == ["yellow", "yellow", "blue", ""]
    assert r.raised == {"blue": 3, "yellow": 2, "red": 0}
    assert len(r.appeals) == 5
    # Each liaison is told all of it once, as it stands (0001 and 0002 are past their
    # deadline: the yellow SMS, no blue "due today"; 0003 is due today), and no SMS is lost
    # or doubled by a re-run.
    assert r.notifications_queued == 3
    n = store.scalar("SELECT COUNT(*) FROM outbox")
    assert outbox(store) == [
        ("zrzy1", "13800000002", "card.blue"),
        ("zrzy1", "13800000002", "card.yellow"),
        ("head:zrzy", "13905381013", "card.yellow"),
    ]
    assert texts(store, "card.blue") == [
        f"{P}蓝牌提醒：你单位诉求A-2026-0003《用地指标落实》今天到期，请于24时前答复。"]
    yellow = (f"{P}黄牌：你单位2件诉求（A-2026-0001、A-2026-0002）已超期未答复，"
              "已推送市委市政府督查室督办，督办期限2026-10-12。")
    assert texts(store, "card.yellow") == [yellow, yellow]
    # orders: 5 working days after 09-29 (09-30, 10-08, 09, 10, 12) and after 10-08 (10-09, 10, 12, 13, 14)
    assert [o.due_at for ref in refs[:2] for o in store.orders(store.appeal(ref).id)] == [
        "2026-10-12T23:59:59+08:00", "2026-10-14T23:59:59+08:00"]
    assert sweep("2026-10-09T12:00:00+08:00").notifications_queued == 0
    assert store.scalar("SELECT COUNT(*) FROM outbox") == n


def test_two_concurrent_sweeps_apply_each_card_once(store, db_path, make_appeal, monkeypatch):
    import threading

    from taian_tui.store import Store

    make_appeal("accepted")
    make_appeal("accepted", category="环评")
    monkeypatch.setenv("TAIAN_NOW", "2026-11-10T09:00:00+08:00")
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            with Store(db_path) as s:
                barrier.wait()
                results.append(escalation.sweep(s))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # (both appeals past their order's due time: no blue reminder) yellow: zrzy1, head:zrzy,
    # sthj1, head:sthj; red: ducha1 (one grouped text)
    assert sorted(r.notifications_queued for r in results) == [0, 5]
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 5
    total = {c: sum(r.raised[c] for r in results) for c in ("blue", "yellow", "red")}
    assert total == {"blue": 2, "yellow": 2, "red": 2}
    assert store.scalar("SELECT COUNT(*) FROM card_events") == 6
    assert store.scalar("SELECT COUNT(*) FROM supervision_orders") == 2
    assert store.verify_audit().ok


# -- make-up working days and holidays (the official 2026 calendar) --------------------------------
def test_arrival_on_a_make_up_saturday_blue_and_yellow(store, submit, sweep):
    a = submit(at="2026-02-14T10:00:00+08:00")            # Sat, make-up workday
    assert (a.arrived_at, a.blue_at, a.deadline) == (
        "2026-02-14T10:00:00+08:00", "2026-02-28T00:00:00+08:00", "2026-02-28T23:59:59+08:00")
    assert sweep("2026-02-27T23:59:59+08:00").raised == {"blue": 0, "yellow": 0, "red": 0}
    assert sweep("2026-02-28T00:00:00+08:00").raised == {"blue": 1, "yellow": 0, "red": 0}
    assert sweep("2026-03-01T00:00:00+08:00").raised == {"blue": 0, "yellow": 1, "red": 0}
    # order: 5th working day after Sat 02-28: 03-02, 03-03, 03-04, 03-05, 03-06
    assert store.open_order(a.id).due_at == "2026-03-06T23:59:59+08:00"


def test_blue_and_yellow_when_day_five_is_a_make_up_saturday(store, submit, sweep):
    a = submit(at="2026-09-28T10:00:00+08:00")            # Day 5 = Sat 10-10
    assert (a.blue_at, a.deadline) == ("2026-10-10T00:00:00+08:00", "2026-10-10T23:59:59+08:00")
    assert sweep("2026-10-09T23:59:59+08:00").raised == {"blue": 0, "yellow": 0, "red": 0}
    r = sweep("2026-10-10T00:00:00+08:00")                # Saturday 00:00: blue
    assert r.raised == {"blue": 1, "yellow": 0, "red": 0}
    assert sweep("2026-10-10T23:59:59+08:00").raised == {"blue": 0, "yellow": 0, "red": 0}
    r = sweep("2026-10-11T00:00:00+08:00")                # Sunday 00:00: yellow
    assert r.raised == {"blue": 0, "yellow": 1, "red": 0}
    # order: 5th working day after Sat 10-10: 10-12, 10-13, 10-14, 10-15, 10-16
    order = store.open_order(a.id)
    assert (order.origin, order.opened_at, order.due_at) == (
        "yellow", "2026-10-10T23:59:59+08:00", "2026-10-16T23:59:59+08:00")
    assert sweep("2026-10-16T23:59:59+08:00").raised["red"] == 0
    assert sweep("2026-10-17T00:00:00+08:00").raised == {"blue": 0, "yellow": 0, "red": 1}
    assert events(store, a.ref) == [
        ("blue", "", "2026-10-10T00:00:00+08:00", "2026-10-10T00:00:00+08:00"),
        ("yellow", "blue", "2026-10-10T23:59:59+08:00", "2026-10-11T00:00:00+08:00"),
        ("red", "yellow", "2026-10-16T23:59:59+08:00", "2026-10-17T00:00:00+08:00")]


def test_supervision_order_spanning_national_day(store, submit, sweep):
    # Arrived Tue 09-22: Day 1..5 = 09-23, 09-24, (09-25..27 Mid-Autumn) 09-28, 09-29, 09-30.
    a = submit(at="2026-09-22T10:00:00+08:00")
    assert (a.blue_at, a.deadline) == ("2026-09-30T00:00:00+08:00", "2026-09-30T23:59:59+08:00")
    r = sweep("2026-10-01T00:00:00+08:00")                # National Day: blue and yellow at once
    assert r.raised == {"blue": 1, "yellow": 1, "red": 0}
    # order: 10-01..07 off; 10-08, 10-09, Sat 10-10 (make-up), 10-12, 10-13
    assert store.open_order(a.id).due_at == "2026-10-13T23:59:59+08:00"
    assert store.scalar("SELECT text FROM outbox WHERE recipient = 'head:zrzy'") == (
        f"{P}黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，"
        "已推送市委市政府督查室督办，督办期限2026-10-13。")
    assert sweep("2026-10-13T23:59:59+08:00").raised["red"] == 0
    assert sweep("2026-10-14T00:00:00+08:00").raised == {"blue": 0, "yellow": 0, "red": 1}
    assert [e[:3] for e in events(store, a.ref)] == [
        ("blue", "", "2026-09-30T00:00:00+08:00"),
        ("yellow", "blue", "2026-09-30T23:59:59+08:00"),
        ("red", "yellow", "2026-10-13T23:59:59+08:00")]


def test_two_sweeps_in_the_same_second_keep_each_others_sms(store, submit):
    """The outbox de-duplicates on what an SMS is about (the appeals that took the card),
    not on when the sweep ran: of two sweeps applied in the same second with different --at,
    the second one's blue SMS to the same liaison is queued too (it used to be dropped)."""
    a = submit(at="2026-09-29T10:00:00+08:00")         # due 10-12: blue 10-12 00:00, yellow after
    b = submit(at="2026-09-30T10:00:00+08:00")         # 10-08, 09, 10 (make-up Sat), 12, 13: blue 10-13
    same = "2026-10-13T07:00:00+08:00"
    first = escalation.sweep(store, "2026-10-12T07:00:00+08:00", applied_at=same)
    second = escalation.sweep(store, "2026-10-13T06:00:00+08:00", applied_at=same)
    assert (first.raised, first.notifications_queued) == ({"blue": 1, "yellow": 0, "red": 0}, 1)
    assert (second.raised, second.notifications_queued) == ({"blue": 1, "yellow": 1, "red": 0}, 3)
    P = "【泰安重大项目督导】"
    yellow = P + (f"黄牌：你单位诉求{a.ref}《用地指标落实》已超期未答复，已推送市委市政府督查室督办，"
                  "督办期限2026-10-19。")
    assert [tuple(r) for r in store.all("SELECT recipient, reason, entity, text FROM outbox ORDER BY id")] == [
        ("zrzy1", "card.blue", f"appeals:zrzy:{a.id}",
         P + f"蓝牌提醒：你单位诉求{a.ref}《用地指标落实》今天到期，请于24时前答复。"),
        ("zrzy1", "card.blue", f"appeals:zrzy:{b.id}",
         P + f"蓝牌提醒：你单位诉求{b.ref}《用地指标落实》今天到期，请于24时前答复。"),
        ("zrzy1", "card.yellow", f"appeals:zrzy:{a.id}", yellow),
        ("head:zrzy", "card.yellow", f"appeals:zrzy:{a.id}", yellow)]
