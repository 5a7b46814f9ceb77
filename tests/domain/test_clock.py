"""The working-day clock (DOMAIN.md "The clock") and the calendar table behind it."""
from __future__ import annotations

import datetime as dt

import pytest

from taian_tui.domain import clock, timeutil
from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import PermissionDenied

D = dt.date
W2027 = ("no holiday data for 2027: working days in 2027 counted Monday-Friday "
         "(add them with `taian calendar import FILE`)")


@pytest.fixture
def cal(store):
    return store.calendar()


def test_seeded_calendar_covers_2004_to_2026_only(cal):
    assert min(cal.years) == 2004
    assert max(cal.years) == 2026
    assert not cal.has_year(2027)


def test_domain_example_deadline(cal):
    d = cal.deadline("2026-09-29T10:00:00+08:00")
    assert d.deadline == "2026-10-12T23:59:59+08:00"
    assert d.blue_at == "2026-10-12T00:00:00+08:00"
    assert d.arrived_at == "2026-09-29T10:00:00+08:00"
    assert d.estimated is False
    assert d.warnings == ()


def test_domain_example_days_one_to_five(cal):
    start = D(2026, 9, 29)
    days = [cal.add_working_days(start, k)[0] for k in range(1, 6)]
    assert days == [D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12)]


def test_make_up_saturday_counts_ordinary_weekend_does_not(cal):
    assert D(2026, 10, 10).weekday() == 5
    assert cal.is_workday(D(2026, 10, 10)) is True      # 调休 make-up Saturday
    assert cal.is_workday(D(2026, 10, 17)) is False     # ordinary Saturday
    assert cal.is_workday(D(2026, 10, 11)) is False     # Sunday
    assert cal.is_workday(D(2026, 10, 1)) is False      # National Day
    assert cal.is_workday(D(2026, 10, 7)) is False
    assert cal.is_workday(D(2026, 10, 8)) is True


def test_spring_festival_2026(cal):
    # Holiday Sun 02-15 .. Mon 02-23; make-up Saturdays 02-14 and 02-28.
    for day in range(15, 24):
        assert cal.is_workday(D(2026, 2, day)) is False, day
    assert cal.is_workday(D(2026, 2, 14)) is True
    assert cal.is_workday(D(2026, 2, 28)) is True
    # Arrived Thu 02-12: Day 1 = Fri 02-13, Day 2 = Sat 02-14 (make-up), Day 3..5 = 02-24..26.
    d = cal.deadline("2026-02-12T15:00:00+08:00")
    assert d.deadline == "2026-02-26T23:59:59+08:00"
    assert d.blue_at == "2026-02-26T00:00:00+08:00"
    assert d.estimated is False


def test_arrival_day_itself_never_counts(cal):
    # Arriving in the first second of a working day: that day still is not Day 1.
    d = cal.deadline("2026-10-12T00:00:01+08:00")
    assert d.deadline == "2026-10-19T23:59:59+08:00"
    late = cal.deadline("2026-10-12T23:59:59+08:00")
    assert late.deadline == d.deadline


def test_mid_autumn_2026(cal):
    # Fri 2026-09-25 is the Mid-Autumn holiday; Sun 09-20 is a make-up working day.
    assert cal.is_workday(D(2026, 9, 25)) is False
    assert cal.is_workday(D(2026, 9, 20)) is True
    d = cal.deadline("2026-09-24T10:00:00+08:00")
    # Day 1..5 = 09-28, 09-29, 09-30, 10-08, 10-09.
    assert d.deadline == "2026-10-09T23:59:59+08:00"


def test_arrival_on_a_holiday(cal):
    # Arrived during the National Day holiday: Day 1..5 = 10-08, 10-09, 10-10 (make-up),
    # 10-12, 10-13.
    d = cal.deadline("2026-10-03T12:00:00+08:00")
    assert d.deadline == "2026-10-13T23:59:59+08:00"


def test_arrival_is_taken_in_shanghai_time(cal):
    # 2026-09-28T16:30Z is 2026-09-29 00:30 in Shanghai: the DOMAIN example again.
    d = cal.deadline("2026-09-28T16:30:00Z")
    assert d.arrived_at == "2026-09-29T00:30:00+08:00"
    assert d.deadline == "2026-10-12T23:59:59+08:00"


def test_response_days_setting(store):
    cal = store.calendar()
    assert store.response_days() == 5
    d3 = cal.deadline("2026-09-29T10:00:00+08:00", 3)
    assert d3.deadline == "2026-10-09T23:59:59+08:00"


def test_deadline_crossing_into_a_year_without_data(cal):
    # Mon 2026-12-28: Day 1..3 = 12-29..31, Day 4 = Fri 2027-01-01, Day 5 = Mon 2027-01-04.
    d = cal.deadline("2026-12-28T10:00:00+08:00")
    assert d.deadline == "2027-01-04T23:59:59+08:00"
    assert d.blue_at == "2027-01-04T00:00:00+08:00"
    assert d.estimated is True
    assert d.warnings == (W2027,)


def test_far_future_year_counts_monday_to_friday(cal):
    d = cal.deadline("2030-06-07T10:00:00+08:00")  # a Friday
    # Day 1..5 = Mon 06-10 .. Fri 06-14 (Monday-Friday, no data for 2030)
    assert d.deadline == "2030-06-14T23:59:59+08:00"
    assert d.blue_at == "2030-06-14T00:00:00+08:00"
    assert d.estimated is True
    assert d.warnings == (W2027.replace("2027", "2030"),)


def test_submit_appeal_with_deadline_in_2027_does_not_raise(store, submit):
    a = submit(at="2026-12-28T10:00:00+08:00")
    assert a.state == "assigned"
    assert a.deadline == "2027-01-04T23:59:59+08:00"
    assert a.deadline_estimated == 1


def test_supervision_due_and_extend(cal):
    due, warns = cal.supervision_due("2026-10-12T23:59:59+08:00")
    assert due == "2026-10-19T23:59:59+08:00"
    assert warns == ()
    new, warns = cal.extend("2026-10-12T23:59:59+08:00", 3)
    assert new == "2026-10-15T23:59:59+08:00"
    assert warns == ()
    new, warns = cal.extend("2026-12-30T23:59:59+08:00", 2)
    assert new == "2027-01-01T23:59:59+08:00"
    assert warns == (W2027,)


def test_2026_make_up_workdays(cal):
    makeups = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]
    assert [d.weekday() for d in makeups] == [6, 5, 5, 5, 6, 5]          # Sun, Sat, Sat, Sat, Sun, Sat
    assert all(cal.is_workday(d) for d in makeups)
    assert [d for d in (D(2026, 1, 1) + dt.timedelta(n) for n in range(365))
            if d.weekday() >= 5 and cal.is_workday(d)] == makeups


def test_arrival_on_a_make_up_saturday_and_day_five_on_another(cal):
    # Arrived Sat 02-14 (make-up workday, not counted: the arrival day never counts);
    # 02-15..02-23 Spring Festival; Day 1..5 = Tue 02-24, 02-25, 02-26, 02-27, Sat 02-28 (make-up).
    start = D(2026, 2, 14)
    assert [cal.add_working_days(start, k)[0] for k in range(1, 6)] == [
        D(2026, 2, 24), D(2026, 2, 25), D(2026, 2, 26), D(2026, 2, 27), D(2026, 2, 28)]
    d = cal.deadline("2026-02-14T10:00:00+08:00")
    assert (d.arrived_at, d.blue_at, d.deadline, d.estimated, d.warnings) == (
        "2026-02-14T10:00:00+08:00", "2026-02-28T00:00:00+08:00", "2026-02-28T23:59:59+08:00", False, ())


def test_arrival_on_a_make_up_sunday(cal):
    # Arrived Sun 09-20 (make-up): Day 1..5 = Mon 09-21, 09-22, 09-23, 09-24, (09-25..27 Mid-Autumn) Mon 09-28.
    start = D(2026, 9, 20)
    assert [cal.add_working_days(start, k)[0] for k in range(1, 6)] == [
        D(2026, 9, 21), D(2026, 9, 22), D(2026, 9, 23), D(2026, 9, 24), D(2026, 9, 28)]
    d = cal.deadline("2026-09-20T15:00:00+08:00")
    assert (d.blue_at, d.deadline) == ("2026-09-28T00:00:00+08:00", "2026-09-28T23:59:59+08:00")
    # Arrived Sat 10-10 (make-up): Day 1..5 = Mon 10-12 .. Fri 10-16.
    d = cal.deadline("2026-10-10T09:00:00+08:00")
    assert (d.blue_at, d.deadline) == ("2026-10-16T00:00:00+08:00", "2026-10-16T23:59:59+08:00")


def test_day_five_on_a_make_up_saturday(cal):
    # Arrived Mon 09-28: Day 1..5 = 09-29, 09-30, (10-01..07 National Day) 10-08, 10-09, Sat 10-10.
    start = D(2026, 9, 28)
    assert [cal.add_working_days(start, k)[0] for k in range(1, 6)] == [
        D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)]
    d = cal.deadline("2026-09-28T10:00:00+08:00")
    assert (d.blue_at, d.deadline) == ("2026-10-10T00:00:00+08:00", "2026-10-10T23:59:59+08:00")
    # Arrived Wed 04-29: Day 1..5 = Thu 04-30, (05-01..05 Labour Day) 05-06, 05-07, 05-08, Sat 05-09.
    start = D(2026, 4, 29)
    assert [cal.add_working_days(start, k)[0] for k in range(1, 6)] == [
        D(2026, 4, 30), D(2026, 5, 6), D(2026, 5, 7), D(2026, 5, 8), D(2026, 5, 9)]
    d = cal.deadline("2026-04-29T10:00:00+08:00")
    assert (d.blue_at, d.deadline) == ("2026-05-09T00:00:00+08:00", "2026-05-09T23:59:59+08:00")


def test_supervision_due_spans_a_holiday(cal):
    # Deadline Wed 09-30: 10-01..07 off; 10-08, 10-09, Sat 10-10 (make-up), 10-12, 10-13.
    assert cal.supervision_due("2026-09-30T23:59:59+08:00") == ("2026-10-13T23:59:59+08:00", ())
    # Deadline Fri 02-13: Sat 02-14 (make-up), 02-15..23 off, 02-24, 02-25, 02-26, 02-27.
    assert cal.supervision_due("2026-02-13T23:59:59+08:00") == ("2026-02-27T23:59:59+08:00", ())
    # Deadline Thu 04-30: 05-01..05 off, 05-06, 05-07, 05-08, Sat 05-09 (make-up), (Sun 05-10) Mon 05-11.
    assert cal.supervision_due("2026-04-30T23:59:59+08:00") == ("2026-05-11T23:59:59+08:00", ())


def test_add_working_days_rejects_zero(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 10, 12), 0)


def test_working_days_between(cal):
    assert cal.working_days_between(D(2026, 9, 29), D(2026, 10, 12)) == 5
    assert cal.working_days_between(D(2026, 10, 12), D(2026, 9, 29)) == -5
    assert cal.working_days_between(D(2026, 10, 12), D(2026, 10, 12)) == 0
    # (start, end]: the start day is not counted, the end day is.
    assert cal.working_days_between(D(2026, 10, 9), D(2026, 10, 10)) == 1
    assert cal.working_days_between(D(2026, 10, 10), D(2026, 10, 11)) == 0
    # The whole National Day week: nothing between 09-30 and 10-07.
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 7)) == 0


def test_import_2027_moves_estimated_deadlines(store, submit):
    estimated = submit("A-EST", at="2026-12-28T10:00:00+08:00")
    exact = submit("A-EXACT", at="2026-09-29T10:00:00+08:00")
    assert estimated.deadline_estimated == 1
    # a year's arrangement (at least its 11 statutory holidays; the others after January)
    rest = [(f"2027-02-{d:02d}", "holiday") for d in range(8, 15)] + [
        ("2027-04-05", "holiday"), ("2027-05-03", "holiday"), ("2027-10-01", "holiday")]
    result = wf.import_calendar_rows(store, "admin", [("2027-01-01", "holiday"),
                                                      ("2027-02-20", "workday"), *rest],
                                     source="test.csv", at="2026-12-28T12:00:00+08:00")
    assert result == {"rows": 12, "years": [2027], "deadlines_moved": 1, "partial_years": []}
    cal = store.calendar()
    assert cal.has_year(2027)
    assert cal.is_workday(D(2027, 1, 1)) is False
    assert cal.is_workday(D(2027, 2, 20)) is True
    d = cal.deadline("2026-12-28T10:00:00+08:00")
    assert d.estimated is False and d.warnings == ()
    assert d.deadline == "2027-01-05T23:59:59+08:00"
    moved = store.appeal("A-EST")
    assert moved.deadline == "2027-01-05T23:59:59+08:00"
    assert moved.blue_at == "2027-01-05T00:00:00+08:00"
    assert moved.deadline_estimated == 0
    assert store.appeal("A-EXACT") == exact
    rows = store.audit_rows("calendar", "test.csv")
    assert len(rows) == 1 and rows[0].actor == "admin" and rows[0].action == "calendar.import"


def test_a_few_days_of_a_year_without_data_do_not_make_it_known(store, submit):
    """One 2027 holiday (fewer than the 11 statutory ones): the day is used, but 2027 stays
    counted Monday-Friday elsewhere and the deadline stays estimated. From Mon 12-28: 12-29,
    30, 31, (01-01 holiday), 01-04, 01-05."""
    a = submit("A-EST", at="2026-12-28T10:00:00+08:00")
    assert (a.deadline, a.deadline_estimated) == ("2027-01-04T23:59:59+08:00", 1)
    result = wf.import_calendar_rows(store, "admin", [("2027-01-01", "holiday")], source="one.csv",
                                     at="2026-12-28T12:00:00+08:00")
    assert result == {"rows": 1, "years": [2027], "deadlines_moved": 1, "partial_years": [2027]}
    cal = store.calendar()
    assert not cal.has_year(2027) and cal.is_workday(D(2027, 1, 1)) is False
    moved = store.appeal("A-EST")
    assert (moved.deadline, moved.deadline_estimated) == ("2027-01-05T23:59:59+08:00", 1)


def test_import_calendar_is_admin_only(store, unchanged):
    with unchanged(), pytest.raises(PermissionDenied, match="only admin may import calendars"):
        wf.import_calendar_rows(store, "zrzy1", [("2027-01-01", "holiday")], source="x.csv")


def test_calendar_cache_follows_the_table(store):
    first = store.calendar()
    assert store.calendar() is first  # cached while nothing changed
    wf.import_calendar_rows(store, "system:import", [("2027-10-01", "holiday")], source="y.csv",
                            at="2026-12-01T00:00:00+08:00")
    second = store.calendar()
    assert second is not first
    assert second.is_workday(D(2027, 10, 1)) is False


def test_timeutil_iso_format():
    assert timeutil.iso("2026-10-12") == "2026-10-12T00:00:00+08:00"
    assert timeutil.iso("2026-10-12T15:59:59Z") == "2026-10-12T23:59:59+08:00"
    assert timeutil.iso("2026-10-12T08:00:00") == "2026-10-12T08:00:00+08:00"
    with pytest.raises(ValueError):
        timeutil.iso("not a time")


def test_taian_now_overrides_the_clock(monkeypatch):
    monkeypatch.setenv("TAIAN_NOW", "2026-10-12T09:30:00+08:00")
    assert timeutil.iso() == "2026-10-12T09:30:00+08:00"


def test_default_response_days_constant():
    assert clock.DEFAULT_RESPONSE_DAYS == 5
    assert clock.SUPERVISION_DAYS == 5


def test_iso_and_local_date_of_stored_times_and_of_others():
    # a stored time comes back as it is, without pendulum (the fast path)
    assert timeutil.iso("2026-10-12T23:59:59+08:00") == "2026-10-12T23:59:59+08:00"
    assert timeutil.local_date("2026-10-12T23:59:59+08:00") == dt.date(2026, 10, 12)
    # another offset is converted: 16:00 UTC is midnight in Shanghai, the next day
    assert timeutil.iso("2026-10-12T16:00:00+00:00") == "2026-10-13T00:00:00+08:00"
    assert timeutil.local_date("2026-10-12T16:00:00+00:00") == dt.date(2026, 10, 13)
    # China kept summer time until 1991: on 1988-06-01 Shanghai was at +09:00
    assert timeutil.iso("1988-06-01T10:00:00+08:00") == "1988-06-01T11:00:00+09:00"
    # a day that does not exist is refused, in the stored form too
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        timeutil.iso("2026-02-30T10:00:00+08:00")
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        timeutil.local_date("2026-02-30T10:00:00+08:00")
