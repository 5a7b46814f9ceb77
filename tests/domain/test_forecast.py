"""The cards ahead (``escalation.forecast``): the sweep's own rule run ahead of the clock,
read-only, per unit, for the next working day and the next five.

Now is Thu 2026-10-15 10:00. The next working day is Fri 10-16 (the sweep imagined at
10-16 00:00); the 5th is Thu 10-22 (10-16, 19, 20, 21, 22; the sweep at 10-22 00:00).
Day 5 of an appeal that reached its unit on (2026 calendar: 10-01..07 off, Sat 10-10 a
make-up working day):

  ref  unit    arrived          Day 5  now (10-15 10:00)           ahead
  A1   zrzy    Thu 10-08        10-14  blue+yellow earned          red: its order is due 10-21 23:59:59
  A2   zrzy    Fri 10-09        10-15  blue earned                 yellow at 10-16 00:00
  A3   zrzy    Mon 10-12        10-19  -                           blue 10-19, yellow 10-20
  A4   zrzy    Tue 10-13        10-20  -                           blue 10-20, yellow 10-21
  A5   zrzy    Wed 10-14        10-21  -                           blue 10-21, yellow 10-22 00:00
  A6   zrzy    Thu 10-15 09:00  10-22  -                           blue 10-22 00:00 (yellow after)
  A7   zrzy    Sun 10-11        10-16  -                           blue 10-16 00:00, yellow 10-17
  A8   zrzy    Fri 10-09        10-15  answered: no clock          -
  S9   sthj    Fri 10-09        10-15  blue earned                 yellow at 10-16 00:00
  D11  daiyue  answered, 不满意, unit at fault 10-15 08:00, 1 day: order due 10-16 23:59:59,
               blue from 10-16 00:00; no yellow (the order has it), red at 10-17 00:00

Next working day: blue A7, D11 (2); yellow A2, S9 (2); red none.
Five working days: blue A3-A7, D11 (6); yellow A2, A3, A4, A5, A7, S9 (6); red A1, D11 (2).
The earned cards (A1 blue+yellow, A2 and S9 blue) are not ahead, whether or not a sweep
applied them yet.
"""
from __future__ import annotations

import pytest

from taian_tui.domain import escalation
from taian_tui.domain import operations as wf
from taian_tui.domain.actors import actor
from taian_tui.read import appeals, board
from taian_tui.read.appeals import AppealFilter

NOW = "2026-10-15T10:00:00+08:00"
T1 = "2026-10-16T00:00:00+08:00"
T5 = "2026-10-22T00:00:00+08:00"


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


@pytest.fixture
def week(store, submit):
    """The appeals of the module docstring (no sweep has run)."""
    for ref, day, hm in (("A1", "10-08", "10:00"), ("A2", "10-09", "10:00"), ("A3", "10-12", "10:00"),
                         ("A4", "10-13", "10:00"), ("A5", "10-14", "10:00"), ("A6", "10-15", "09:00"),
                         ("A7", "10-11", "10:00"), ("A8", "10-09", "10:00")):
        submit(ref, at=t(day, hm))
    wf.accept_appeal(store, "zrzy1", "A2", at=t("10-09", "11:00"))
    wf.accept_appeal(store, "zrzy1", "A8", at=t("10-09", "11:00"))
    wf.reply_appeal(store, "zrzy1", "A8", "已办结", at=t("10-09", "12:00"))
    submit("S9", category="环评", at=t("10-09"))
    submit("D11", category="其他", at=t("10-12"))
    wf.accept_appeal(store, "daiyue1", "D11", at=t("10-12", "11:00"))
    wf.reply_appeal(store, "daiyue1", "D11", "已答复", at=t("10-12", "12:00"))
    wf.evaluate_appeal(store, "system:intake", "D11", "不满意", "没解决", at=t("10-13"))
    d11 = wf.review_dispute(store, "ducha1", "D11", True, "请重新办理", days=1, at=t("10-15", "08:00"))
    assert (d11.blue_at, d11.deadline) == (T1, "2026-10-16T23:59:59+08:00")
    expect = {"A1": "10-14", "A2": "10-15", "A3": "10-19", "A4": "10-20", "A5": "10-21", "A6": "10-22",
              "A7": "10-16", "S9": "10-15"}
    assert {r: store.appeal(r).deadline[5:10] for r in expect} == expect
    return store


def _counts(f, i):
    return {u.unit: u.counts[i].as_dict() for u in f.units if u.counts[i].total}


def _check_week(f):
    assert [(h.working_days, h.day, h.sweep_at) for h in f.horizons] == [
        (1, "2026-10-16", T1), (5, "2026-10-22", T5)]
    assert f.horizons[0].total.as_dict() == {"blue": 2, "yellow": 2, "red": 0}
    assert f.horizons[1].total.as_dict() == {"blue": 6, "yellow": 6, "red": 2}
    assert _counts(f, 0) == {"zrzy": {"blue": 1, "yellow": 1, "red": 0},
                             "sthj": {"blue": 0, "yellow": 1, "red": 0},
                             "daiyue": {"blue": 1, "yellow": 0, "red": 0}}
    assert _counts(f, 1) == {"zrzy": {"blue": 5, "yellow": 5, "red": 1},
                             "sthj": {"blue": 0, "yellow": 1, "red": 0},
                             "daiyue": {"blue": 1, "yellow": 0, "red": 1}}


@pytest.mark.parametrize("last_sweep", [None, t("10-14", "07:00"), t("10-15", "07:00")])
def test_forecast_hand_computed_whether_or_not_the_sweep_ran(week, store, last_sweep):
    """No sweep yet (A1 earned blue and yellow unapplied), yesterday's (A1 blue, its yellow
    unapplied) or this morning's: the same cards ahead."""
    if last_sweep:
        escalation.sweep(store, last_sweep, applied_at=last_sweep)
    f = escalation.forecast(store, NOW)
    _check_week(f)
    assert f.at == NOW and f.warnings == []
    # worst first: by the next working day's red, yellow, blue, then the five days'
    assert [u.unit for u in f.units] == ["zrzy", "sthj", "daiyue"]
    assert [u.unit for u in f.units_for(1)] == ["zrzy", "daiyue", "sthj"]


def test_forecast_is_the_dry_run_ahead_minus_the_dry_run_now(week, store, dump):
    """What ``taian escalate --at T --dry-run`` would raise, less what it would raise now,
    per card (every threshold only passes as time goes on)."""
    escalation.sweep(store, t("10-14", "07:00"), applied_at=t("10-14", "07:00"))
    before = dump()
    f = escalation.forecast(store, NOW)
    assert dump() == before                                 # the forecast writes nothing
    now = escalation.sweep(store, NOW, dry_run=True, collect=False).raised
    assert now == {"blue": 2, "yellow": 1, "red": 0}       # A2 and S9 blue, A1 yellow: earned, unapplied
    for h in f.horizons:
        ahead = escalation.sweep(store, h.sweep_at, dry_run=True, collect=False).raised
        assert h.total.as_dict() == {k: ahead[k] - now[k] for k in ahead}


def test_forecast_reads_a_read_only_file(week, store, db_path):
    from taian_tui.store import Store

    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ro = Store.open_existing(db_path, read_only=True)
    try:
        _check_week(escalation.forecast(ro, NOW))
    finally:
        ro.close()


def _plan(store, at=NOW):
    horizons = escalation._horizons(store, at, escalation.FORECAST_DAYS, [])
    escalation.register_rule_functions(store)
    sql, params = escalation._ahead_sql(store, at, horizons, grouped=True)
    return [r[3] for r in store.all("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.mark.parametrize("few", [True, False], ids=["few-open-orders", "many-open-orders"])
def test_city_wide_forecast_reads_the_open_appeals_indexes_alone(week, store, monkeypatch, few):
    """The appeals whose Day N or deadline falls ahead are counted from the two indexes of
    the open appeals, which hold what the rule reads (SQLite defers the seek of the row until
    a column outside the index is read, and none is), in the index's order (no sort); each
    probes the orders' index. Those with an open order are read from the open orders when
    these are few (the week's one order, under ``FEW_OPEN_ORDERS``: each order's appeal looked
    up), else by a second walk of each index joined to the orders. The city-wide forecast
    never reads the state-and-deadline index (a row read per appeal)."""
    if not few:
        monkeypatch.setattr(escalation, "FEW_OPEN_ORDERS", 1)     # the week has one open order
    assert store.scalar("SELECT COUNT(*) FROM supervision_orders WHERE state = 'open'") == 1
    plan = _plan(store)
    for index, column in (("appeals_open_blue", "blue_at"), ("appeals_open_deadline", "deadline")):
        searches = [i for i, line in enumerate(plan) if f"INDEX {index} ({column}>" in line]
        assert len(searches) == (1 if few else 2), plan
        alone = searches[0]
        assert plan[alone + 1].startswith("CORRELATED SCALAR SUBQUERY"), plan
        assert plan[alone + 2] == "SEARCH o USING INDEX orders_appeal (appeal_id=?)", plan
        assert plan[alone + 3] == "UNION ALL", plan      # counted in the index's order: no sort
        if few:
            # then the same window's appeals with an open order, from the orders
            assert plan[alone + 4] == "SCAN o USING COVERING INDEX orders_open_due", plan
            assert plan[alone + 5] == "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)", plan
        else:
            assert plan[searches[1] + 1] == "SEARCH o USING INDEX orders_appeal (appeal_id=?)", plan
    # the open orders due in the window (from their index alone), each with its appeal
    orders = plan.index("SEARCH o USING COVERING INDEX orders_open_due (due_at>? AND due_at<?)")
    assert plan[orders + 1] == "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)", plan
    assert not any("appeals_state_deadline" in line for line in plan), plan
    _check_week(escalation.forecast(store, NOW))


def test_forecast_in_the_viewers_scope(week, store):
    zrzy = board.board_forecast(store, actor(store, "zrzy1"), NOW)
    assert [u.unit for u in zrzy.units] == ["zrzy"]
    assert [h.total.as_dict() for h in zrzy.horizons] == [{"blue": 1, "yellow": 1, "red": 0},
                                                         {"blue": 5, "yellow": 5, "red": 1}]
    # a county's leader sees the appeals of their unit and their county (all of these are 岱岳区's)
    _check_week(board.board_forecast(store, actor(store, "daiyue-lead"), NOW))
    _check_week(board.board_forecast(store, actor(store, "ducha1"), NOW))
    # the discipline commission sees red cards only: nothing of those is ahead
    assert board.board_forecast(store, actor(store, "jiwei1"), NOW).units == []


def test_turns_yellow_by_the_next_working_day_filter(week, store):
    flt = AppealFilter(states=("assigned", "accepted"), turns="yellow")
    assert [r.ref for r in appeals.list_appeals(store, actor(store, "zrzy1"), flt, at=NOW)] == ["A2"]
    assert appeals.count_appeals(store, actor(store, "zrzy1"), flt, at=NOW) == 1
    assert [r.ref for r in appeals.list_appeals(store, actor(store, "sthj1"), flt, at=NOW)] == ["S9"]
    assert [r.ref for r in appeals.list_appeals(store, actor(store, "admin"), flt, at=NOW)] == ["A2", "S9"]
    assert [r.ref for r in appeals.list_appeals(store, actor(store, "admin"), AppealFilter(turns="blue"),
                                                at=NOW)] == ["A7", "D11"]
    assert appeals.list_appeals(store, actor(store, "admin"), AppealFilter(turns="red"), at=NOW) == []
    # answered: off the clock, off the list
    wf.reply_appeal(store, "zrzy1", "A2", "已答复", at=t("10-15", "10:30"))
    assert appeals.list_appeals(store, actor(store, "zrzy1"), flt, at=t("10-15", "11:00")) == []


def test_turns_filter_refuses_a_bad_card(week, store):
    from taian_tui.domain.refusals import ValidationError

    with pytest.raises(ValidationError):
        appeals.count_appeals(store, actor(store, "admin"), AppealFilter(turns="green"), at=NOW)


def test_next_working_day_is_a_make_up_saturday_and_skips_a_weekend(store):
    f = escalation.forecast(store, t("10-09", "15:00"))            # Fri before the make-up Sat 10-10
    assert [h.day for h in f.horizons] == ["2026-10-10", "2026-10-15"]
    f = escalation.forecast(store, t("10-17", "15:00"))            # Sat: next is Mon
    assert [h.day for h in f.horizons] == ["2026-10-19", "2026-10-23"]
    assert [h.total.as_dict() for h in f.horizons] == [{"blue": 0, "yellow": 0, "red": 0}] * 2
    assert f.units == []


def test_a_friday_deadline_turns_yellow_on_saturday_counted_for_monday(store, submit):
    """On Fri 10-16 the next working day is Mon 10-19: the appeal due Fri 10-16 23:59:59
    (its yellow threshold passes on Saturday) is in the next working day's forecast; the one
    due Mon 10-19 is not (yellow on Tuesday), though it turns blue at Mon 00:00."""
    submit("F1", at=t("10-09"))          # Day 5: 10-15 (10-10, 12, 13, 14, 15)
    submit("F2", at=t("10-11"))          # Day 5: 10-16
    submit("F3", at=t("10-12"))          # Day 5: 10-19
    assert [store.appeal(r).deadline[5:10] for r in ("F1", "F2", "F3")] == ["10-15", "10-16", "10-19"]
    escalation.sweep(store, t("10-16", "07:00"), applied_at=t("10-16", "07:00"))   # F1 yellow, F2 blue
    f = escalation.forecast(store, t("10-16", "15:00"))
    assert f.horizons[0].day == "2026-10-19"
    assert f.horizons[0].total.as_dict() == {"blue": 1, "yellow": 1, "red": 0}   # F3 blue, F2 yellow
    # F1's order is due 10-22 23:59:59: red by the sweep at 10-23 00:00 (the 5th working day)
    assert f.horizons[1].day == "2026-10-23"
    assert f.horizons[1].total.as_dict() == {"blue": 1, "yellow": 2, "red": 1}
    sql, params = escalation.turning_sql(store, "yellow", t("10-16", "15:00"))
    assert [store.appeal_by_id(i).ref for (i,) in store.all(sql, params)] == ["F2"]


def test_a_year_without_calendar_data_is_said(store, submit):
    f = escalation.forecast(store, "2026-12-30T10:00:00+08:00")
    # 2027 counted Monday to Friday: 12-31, then Fri 01-01, 01-04, 01-05, 01-06
    assert [h.day for h in f.horizons] == ["2026-12-31", "2027-01-06"]
    assert f.warnings == [store.calendar().missing_year_warning(2027)]


def test_a_manual_order_does_not_excuse_the_deadline_and_goes_red_on_its_own_due_time(store, make_appeal):
    """Reached zrzy Tue 09-29: blue 10-12 00:00, due 10-12 23:59:59; a supervisor's order by
    hand due 10-13 23:59:59. On Fri 10-09 15:00: nothing by the make-up Sat 10-10; by Thu
    10-15 (10-10, 12, 13, 14, 15) blue, yellow (no second order) and red (the manual order's
    due time)."""
    a = make_appeal("accepted")
    wf.open_supervision_order(store, "ducha1", a.ref, "2026-10-13T23:59:59+08:00", "领导关注",
                              at=t("10-09", "09:00"))
    at = t("10-09", "15:00")
    f = escalation.forecast(store, at)
    assert [(h.day, h.total.as_dict()) for h in f.horizons] == [
        ("2026-10-10", {"blue": 0, "yellow": 0, "red": 0}),
        ("2026-10-15", {"blue": 1, "yellow": 1, "red": 1})]
    assert escalation.sweep(store, "2026-10-15T00:00:00+08:00", dry_run=True).raised == {
        "blue": 1, "yellow": 1, "red": 1}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_forecast_equals_the_dry_runs_per_unit_on_a_random_month(store, submit, seed):
    """Appeals arriving over five weeks, some accepted, answered, extended, under an order by
    hand, swept on most mornings (a late sweep now and then), then the forecast at three
    times of the following days: per unit and card, exactly what the sweep's dry run at
    each horizon raises beyond the dry run now."""
    import datetime as dt
    import random

    from taian_tui.domain.refusals import DomainError

    rnd = random.Random(seed)
    liaison = {"土地": "zrzy1", "环评": "sthj1", "其他": "daiyue1"}
    start = dt.datetime(2026, 9, 14, 8, 0)
    events = []
    for n in range(45):
        at = start + dt.timedelta(minutes=rnd.randrange(0, 36 * 24 * 60))
        ref, cat = f"R{seed}-{n:02d}", rnd.choice(list(liaison))
        events.append((at, "submit", ref, cat))
        if rnd.random() < 0.7:
            events.append((at + dt.timedelta(hours=1), "accept", ref, cat))
        if rnd.random() < 0.3:
            events.append((at + dt.timedelta(days=rnd.randrange(1, 12)), "reply", ref, cat))
        if rnd.random() < 0.15:
            events.append((at + dt.timedelta(days=1, hours=2), "extend", ref, cat))
        if rnd.random() < 0.15:
            events.append((at + dt.timedelta(days=2, hours=3), "order", ref, cat))
    for day in range(40):
        if rnd.random() < 0.7:
            events.append((start + dt.timedelta(days=day, hours=-1), "sweep", None, None))
    events.sort(key=lambda e: (e[0], e[1]))
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S+08:00")   # noqa: E731
    last = start
    for at, what, ref, cat in events:
        if at > dt.datetime(2026, 10, 20, 8, 0):
            continue
        last = max(last, at)
        try:
            if what == "submit":
                submit(ref, category=cat, at=iso(at))
            elif what == "accept":
                wf.accept_appeal(store, liaison[cat], ref, at=iso(at))
            elif what == "reply":
                wf.reply_appeal(store, liaison[cat], ref, "已答复", at=iso(at))
            elif what == "extend":
                ext = wf.request_extension(store, liaison[cat], ref, rnd.randrange(1, 6), "需要时间", at=iso(at))
                wf.decide_extension(store, "ducha1", ext.id, rnd.random() < 0.7, at=iso(at))
            elif what == "order":
                due = iso(at + dt.timedelta(days=rnd.randrange(2, 9)))
                wf.open_supervision_order(store, "ducha1", ref, due, "请加快办理", at=iso(at))
            else:
                escalation.sweep(store, iso(at), applied_at=iso(at))
        except DomainError:
            pass                               # (an action the rules refuse then: skipped)
    unit_of = {r["ref"]: r["unit_code"] for r in store.all("SELECT ref, unit_code FROM appeals")}

    def per_unit(at):
        out: dict[tuple[str, str], int] = {}
        for r in escalation.sweep(store, at, dry_run=True).appeals:
            key = (unit_of[r.ref], r.card)
            out[key] = out.get(key, 0) + 1
        return out

    checked = 0
    for hours in (2, 26, 75):
        now = iso(last + dt.timedelta(hours=hours))
        f = escalation.forecast(store, now)
        base = per_unit(now)
        for i, h in enumerate(f.horizons):
            ahead = per_unit(h.sweep_at)
            want = {k: n - base.get(k, 0) for k, n in ahead.items() if n - base.get(k, 0)}
            got = {(u.unit, card): u.counts[i].get(card) for u in f.units for card in ("blue", "yellow", "red")
                   if u.counts[i].get(card)}
            assert got == want, (now, h.sweep_at)
            checked += sum(want.values())
    assert checked > 0
