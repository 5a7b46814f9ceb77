"""Nothing absurd is saved (issue 13, point 2): each such field has a range the store
enforces.

* a supervision order set by hand is due after now and within ``MAX_ORDER_DAYS`` (20)
  working days, and says what is required (its note);
* completed investment above the project's total, or progress that goes back, needs a
  stated reason; a report is not dated after today;
* dates are accepted as a Chinese office types them."""
from __future__ import annotations

import pytest

from taian_tui.domain import operations as wf
from taian_tui.domain import timeutil
from taian_tui.domain.refusals import ValidationError

T = "2026-10-09T09:00:00+08:00"           # a Friday; 10-10 (Sat) is a working day in 2026
# 20 working days after Fri 10-09: 10-10 (调休), 10-12..16, 10-19..23, 10-26..30, 11-02..05
LATEST = "2026-11-05T23:59:59+08:00"


def test_an_order_due_in_2099_is_refused(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match="the order's due day 2099-12-31 is too far: at most "
                                                            "20 working days from today, by 2026-11-05"):
        wf.open_supervision_order(store, "ducha1", a.ref, "2099-12-31", "请加快办理", at=T)
    assert wf.order_due_latest(store, T) == LATEST
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026年11月5日", "请加快办理", at=T)
    assert o.due_at == LATEST
    with unchanged(), pytest.raises(ValidationError, match="too far"):
        wf.edit_supervision_order(store, "ducha1", o.id, due_at="2026/11/06", at=T)
    e = wf.edit_supervision_order(store, "ducha1", o.id, due_at="2026/10/30", at=T)
    assert e.due_at == "2026-10-30T23:59:59+08:00"


def test_an_order_says_what_is_required(store, make_appeal, unchanged):
    a = make_appeal("accepted")
    with unchanged(), pytest.raises(ValidationError, match="^note is required$"):
        wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "  \n ", at=T)
    o = wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-20", "请加快办理", at=T)
    with unchanged(), pytest.raises(ValidationError, match="^note is required$"):
        wf.edit_supervision_order(store, "ducha1", o.id, note="", at=T)


def test_investment_above_the_total_needs_a_reason(store, city, unchanged):
    ref = city.project_ref                              # total investment 12,000 万元
    with unchanged(), pytest.raises(ValidationError, match=r"completed investment 99,999,999 万元 is above "
                                                            r"P-0001's total investment 12,000 万元: say why"):
        wf.report_progress(store, "daiyue1", ref, 50, 99999999, at=T)
    p = wf.report_progress(store, "daiyue1", ref, 95, 12600, "追加投资600万元，已报批", at=T)
    assert (p.percent, p.invested_wan) == (95, 12600)


def test_progress_going_back_needs_a_reason(store, city, unchanged):
    ref = city.project_ref
    wf.report_progress(store, "daiyue1", ref, 60, 7000, date="2026-10-08", at=T)
    with unchanged(), pytest.raises(ValidationError, match=r"progress on P-0001 goes back \(60% / 7,000 万元 "
                                                            r"before, 30% / 7,000 万元 now\): say why"):
        wf.report_progress(store, "daiyue1", ref, 30, 7000, at=T)
    # history filled in before the latest report does not go back
    wf.report_progress(store, "daiyue1", ref, 20, 2000, date="2026/09/30", at=T)
    p = wf.report_progress(store, "daiyue1", ref, 55, 7000, "核减：重新测算工程量", at=T)
    assert p.percent == 55


def test_a_stage_going_back_needs_a_reason_and_history_never_moves_it(store, city, unchanged):
    ref = city.project_ref
    assert store.project(ref).stage == "前期"
    # forward needs no reason
    assert wf.report_progress(store, "daiyue1", ref, 60, 7000, date="2026-10-08", stage="在建",
                              at=T).stage == "在建"
    # a report dated before the latest one fills in history: the current stage stays
    p = wf.report_progress(store, "daiyue1", ref, 10, 1000, date="2026-01-02", stage="前期", at=T)
    assert (p.stage, p.percent, p.invested_wan) == ("在建", 60, 7000)
    # the latest report: a stage going back needs its reason
    with unchanged(), pytest.raises(ValidationError) as refused:
        wf.report_progress(store, "daiyue1", ref, 60, 7000, stage="前期", at=T)
    assert (str(refused.value), refused.value.localized("zh")) == (
        "P-0001 goes back from 在建 to 前期: say why in the note",
        "项目 P-0001 的阶段由在建退回前期：请在说明中写明原因")
    assert wf.report_progress(store, "daiyue1", ref, 60, 7000, stage="竣工", at=T).stage == "竣工"
    p = wf.report_progress(store, "daiyue1", ref, 60, 7000, "规划调整，重新报批", stage="前期", at=T)
    assert p.stage == "前期"


def test_a_report_is_not_dated_after_today(store, city, unchanged):
    with unchanged(), pytest.raises(ValidationError, match="a progress report's date 2026-10-10 is after "
                                                            r"today \(2026-10-09\)"):
        wf.report_progress(store, "daiyue1", city.project_ref, 10, 100, date="2026年10月10日", at=T)


@pytest.mark.parametrize("typed", ["2026-12-10", "2026/12/10", "2026年12月10日", "2026.12.10", " 2026/12/10 "])
def test_days_as_an_office_types_them(typed):
    assert timeutil.parse_day(typed).isoformat() == "2026-12-10"


@pytest.mark.parametrize("typed", ["12/10", "2026-13-01", "2026年2月30日", "明天", ""])
def test_what_is_not_a_day(typed):
    with pytest.raises(ValueError):
        timeutil.parse_day(typed)
