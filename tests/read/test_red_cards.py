"""The red cards' list (``board.red_cards``): every appeal given a red card, those not yet
taken up first, then by when the card was earned, then by appeal; its count; in each
viewer's scope; read from the red events' own index.

The appeals (2026 calendar: 10-01..07 off, Sat 10-10 a make-up working day; conftest's
DOMAIN example: reached its unit Tue 09-29 -> due 10-12, its order due 10-19 23:59:59):

  ref          unit  arrived    order due             red earned
  A-2026-0001  zrzy  Tue 09-29  10-19 23:59:59        once 10-19 ends (taken up 10-26)
  A-2026-0002  zrzy  Thu 10-08  10-21 23:59:59        once 10-21 ends
  A-2026-0003  sthj  Tue 09-29  10-19 23:59:59        once 10-19 ends (as 0001)
  A-2026-0004  zrzy  Tue 09-29  answered 09-30: none

One sweep on Fri 10-23 09:00 raises them all (blue, yellow, red) at once.
"""
from __future__ import annotations

from taian_tui.domain import operations as wf
from taian_tui.domain.actors import actor
from taian_tui.domain.escalation import sweep
from taian_tui.read import board

SWEEP_AT = "2026-10-23T09:00:00+08:00"


def _city(store, make_appeal):
    make_appeal("accepted")                                                  # 0001
    make_appeal("accepted", at="2026-10-08T10:00:00+08:00")                  # 0002
    make_appeal("accepted", category="环评", county="岱岳区")                 # 0003 (sthj)
    make_appeal("answered")                                                  # 0004
    raised = sweep(store, SWEEP_AT).raised
    assert raised == {"blue": 3, "yellow": 3, "red": 3}
    wf.take_up_red_card(store, "jiwei1", "A-2026-0001", "已立案", at="2026-10-26T10:00:00+08:00")


def _refs(store, who, **kw):
    rows, total = board.red_cards(store, actor(store, who), limit=kw.get("limit", 50),
                                  offset=kw.get("offset", 0))
    return [r.ref for r in rows], total


def test_not_taken_up_first_then_by_when_earned_then_by_appeal(store, make_appeal):
    _city(store, make_appeal)
    assert _refs(store, "admin") == (["A-2026-0003", "A-2026-0002", "A-2026-0001"], 3)
    assert _refs(store, "ducha1") == (["A-2026-0003", "A-2026-0002", "A-2026-0001"], 3)
    assert _refs(store, "admin", limit=1, offset=1) == (["A-2026-0002"], 3)
    rows, _ = board.red_cards(store, actor(store, "admin"), limit=50)
    assert [(r.taken_up_by, r.order_due) for r in rows] == [
        (None, "2026-10-19T23:59:59+08:00"), (None, "2026-10-21T23:59:59+08:00"),
        ("jiwei1", "2026-10-19T23:59:59+08:00")]


def test_each_viewer_counts_their_own_scope(store, make_appeal):
    _city(store, make_appeal)
    assert _refs(store, "zrzy1") == (["A-2026-0002", "A-2026-0001"], 2)
    assert _refs(store, "sthj1") == (["A-2026-0003"], 1)
    assert _refs(store, "daiyue1") == ([], 0)
    assert _refs(store, "jiwei1") == (["A-2026-0003", "A-2026-0002", "A-2026-0001"], 3)


def test_city_wide_the_page_and_count_read_the_red_events_index(store, make_appeal):
    """The page walks ``card_events_red`` in its order (no sort of the card events) and the
    city-wide count is that index's alone (no join per card)."""
    _city(store, make_appeal)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        board.red_cards(store, actor(store, "admin"), limit=50)
    finally:
        store.conn.set_trace_callback(None)
    reads = [s for s in statements if "card_events" in s]
    assert len(reads) == 2, reads
    plans = [[r[3] for r in store.all("EXPLAIN QUERY PLAN " + s)] for s in reads]
    count, page = plans if "COUNT(*)" in reads[0] else plans[::-1]
    assert count == ["SCAN card_events USING COVERING INDEX card_events_red"]
    assert page[0] == "SCAN e USING INDEX card_events_red", page
    assert not any("TEMP B-TREE" in line for line in page), page


def test_the_due_time_shown_is_the_order_that_raised_the_card(store, make_appeal):
    # after its red card A-2026-0002 is answered, found 不满意, and the supervisor's review
    # opens a second order (due five working days after Thu 10-29: Thu 11-05 23:59:59); the
    # red card still shows the order whose passing raised it (10-21), not the later one
    _city(store, make_appeal)
    wf.reply_appeal(store, "zrzy1", "A-2026-0002", "已办理", at="2026-10-27T10:00:00+08:00")
    wf.evaluate_appeal(store, "system:intake", "A-2026-0002", "不满意", "没解决", at="2026-10-28T10:00:00+08:00")
    wf.review_dispute(store, "ducha1", "A-2026-0002", True, "答复未解决问题", at="2026-10-29T10:00:00+08:00")
    assert store.scalar("SELECT MAX(due_at) FROM supervision_orders o JOIN appeals a ON a.id = o.appeal_id "
                        "WHERE a.ref = 'A-2026-0002'") == "2026-11-05T23:59:59+08:00"
    rows, _ = board.red_cards(store, actor(store, "admin"), limit=50)
    assert [(r.ref, r.order_due) for r in rows] == [
        ("A-2026-0003", "2026-10-19T23:59:59+08:00"), ("A-2026-0002", "2026-10-21T23:59:59+08:00"),
        ("A-2026-0001", "2026-10-19T23:59:59+08:00")]
