"""Working days left to a deadline, as the inbox's column and the detail show them: a
deadline that has passed is overdue (at most -1), also on the weekend after a Friday's
deadline, when no working day has passed since (it used to read 0: "due today")."""
from __future__ import annotations

import pytest

from taian_tui.read import appeals

FRIDAY_DEADLINE = "2026-12-04T23:59:59+08:00"     # Fri 2026-12-04, a working day
MONDAY_DEADLINE = "2026-12-07T23:59:59+08:00"


@pytest.mark.parametrize(("deadline", "at", "left"), [
    (FRIDAY_DEADLINE, "2026-12-04T10:00:00+08:00", 0),     # Friday morning: due today
    (FRIDAY_DEADLINE, "2026-12-05T01:16:00+08:00", -1),    # Saturday: overdue, not "today"
    (FRIDAY_DEADLINE, "2026-12-06T18:00:00+08:00", -1),    # Sunday
    (FRIDAY_DEADLINE, "2026-12-07T09:00:00+08:00", -1),    # Monday: one working day past
    (FRIDAY_DEADLINE, "2026-12-08T09:00:00+08:00", -2),    # Tuesday
    (MONDAY_DEADLINE, "2026-12-05T01:16:00+08:00", 1),     # Saturday, due Monday: one left
    (MONDAY_DEADLINE, "2026-12-03T09:00:00+08:00", 2),     # Thursday: Friday and Monday
])
def test_days_left(store, deadline, at, left):
    assert appeals.working_days_left(store, deadline, at) == left
    assert appeals.days_left(store.calendar(), appeals.timeutil.local_date(at), deadline, at) == left
