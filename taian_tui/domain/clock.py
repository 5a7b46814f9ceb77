"""The working-day clock (DOMAIN.md, "The clock").

Working days follow China's official calendar, kept in the store's ``calendar`` table
(seeded from ``chinese_calendar`` for 2004-2026, extended with ``taian calendar
import``). A year with no data counts Monday-Friday; every answer computed with such a
year says so in ``warnings``, and nothing raises.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from taian_tui.domain import timeutil

DEFAULT_RESPONSE_DAYS = 5
SUPERVISION_DAYS = 5


@dataclass(frozen=True)
class Deadline:
    """When an appeal that reached a unit at ``arrived_at`` turns blue and when it is due."""

    arrived_at: str
    blue_at: str     # start of Day N
    deadline: str    # end of Day N, 23:59:59+08:00
    estimated: bool  # True when a year without calendar data was involved
    warnings: tuple[str, ...] = ()


@dataclass
class WorkCalendar:
    """Exceptions to Monday-Friday (``holiday`` / ``workday``) and the years they cover."""

    days: dict[_dt.date, str] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)

    def has_year(self, year: int) -> bool:
        return year in self.years

    def is_workday(self, day: _dt.date) -> bool:
        kind = self.days.get(day)
        if kind == "holiday":
            return False
        if kind == "workday":
            return True
        return day.weekday() < 5

    def missing_year_warning(self, year: int) -> str:
        return (f"no holiday data for {year}: working days in {year} counted Monday-Friday "
                f"(add them with `taian calendar import FILE`)")

    def add_working_days(self, start: _dt.date, k: int) -> tuple[_dt.date, tuple[str, ...]]:
        """The k-th working day after ``start`` (``start`` itself never counts)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        day = start
        count = 0
        missing: list[int] = []
        while count < k:
            day += _dt.timedelta(days=1)
            if not self.has_year(day.year) and day.year not in missing:
                missing.append(day.year)
            if self.is_workday(day):
                count += 1
        return day, tuple(self.missing_year_warning(y) for y in missing)

    def deadline(self, arrived_at: str, days: int = DEFAULT_RESPONSE_DAYS) -> Deadline:
        start = timeutil.local_date(arrived_at)
        day_n, warnings = self.add_working_days(start, days)
        return Deadline(
            arrived_at=timeutil.iso(arrived_at),
            blue_at=timeutil.start_of_day(day_n),
            deadline=timeutil.end_of_day(day_n),
            estimated=bool(warnings),
            warnings=warnings,
        )

    def extend(self, deadline: str, days: int) -> tuple[str, tuple[str, ...]]:
        """A deadline moved by ``days`` working days (end of that day)."""
        day, warnings = self.add_working_days(timeutil.local_date(deadline), days)
        return timeutil.end_of_day(day), warnings

    def supervision_due(self, deadline: str) -> tuple[str, tuple[str, ...]]:
        """A yellow card's supervision order is due at the end of the 5th working day
        after the deadline day."""
        return self.extend(deadline, SUPERVISION_DAYS)

    def working_days_between(self, start: _dt.date, end: _dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end == start:
            return 0
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        n = 0
        day = start
        while day < end:
            day += _dt.timedelta(days=1)
            if self.is_workday(day):
                n += 1
        return sign * n


def chinese_calendar_rows() -> tuple[list[tuple[str, str]], list[int]]:
    """(date, kind) rows and the covered years, from the ``chinese_calendar`` package."""
    import chinese_calendar

    rows: list[tuple[str, str]] = []
    for day in sorted(chinese_calendar.holidays):
        rows.append((day.isoformat(), "holiday"))
    for day in sorted(chinese_calendar.workdays):
        rows.append((day.isoformat(), "workday"))
    years = sorted({d.year for d in chinese_calendar.holidays} |
                   {d.year for d in chinese_calendar.workdays})
    years = list(range(years[0], years[-1] + 1))
    return rows, years
