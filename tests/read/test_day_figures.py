"""The dashboard's sums per day (``appeal_day_figures``, ``appeal_category_figures``; schema
migration 0013, kept by triggers) and the figures read from them (taian_tui/read/stats.py).

The reference is a reading of every appeal, as the stats did before the sums existed: the
queries below (``reference_*``). On the demo city (2,000 appeals with every operation, built
through the domain, so through the triggers) the figures from the sums must equal the
reference for every month and for as-of times that cut a day in the middle, at midnight and
at the day's last second. The triggers' own cases are pinned by hand on the small city.
"""
from __future__ import annotations

import datetime as _dt
import shutil
import sqlite3

import pytest

from taian_tui import schema
from taian_tui.domain import integrity, timeutil
from taian_tui.read import stats
from taian_tui.store import Store

DEMO_TODAY = "2026-11-27T09:00:00+08:00"

# -- the reference: every appeal read (the stats' queries before the sums) -------------------------
_IN = "{0} >= :start AND {0} < :end AND {0} <= :at"
REFERENCE_RATES = f"""
SELECT u.code, r.resp_n, r.resp_d, r.res_n, r.res_d, r.sat_n, r.sat_d
FROM units u JOIN (
    SELECT unit_code,
           TOTAL({_IN.format('deadline')}) AS resp_d,
           TOTAL({_IN.format('deadline')} AND answered_at <= deadline) AS resp_n,
           TOTAL(state = 'closed' AND {_IN.format('closed_at')}) AS res_d,
           TOTAL(CASE WHEN state = 'closed' AND {_IN.format('closed_at')} THEN NOT EXISTS (
                     SELECT 1 FROM supervision_orders o WHERE o.appeal_id = a.id
                     AND o.opened_at >= COALESCE(a.arrived_at, '')) END) AS res_n,
           TOTAL(rating IS NOT NULL AND {_IN.format('evaluated_at')}) AS sat_d,
           TOTAL(rating IN ('满意', '基本满意') AND {_IN.format('evaluated_at')}) AS sat_n
    FROM appeals a WHERE unit_code IS NOT NULL GROUP BY unit_code) r ON r.unit_code = u.code
"""


def reference_rates(store, p: stats.Period) -> dict[str, tuple]:
    """unit -> (响应 n, d, 解决 n, d, 满意 n, d), units with a non-zero figure only."""
    return {r[0]: tuple(int(x) for x in r[1:]) for r in store.all(REFERENCE_RATES, p.params())
            if any(r[1:])}


def reference_categories(store, p: stats.Period) -> dict[str, tuple]:
    return {r[0]: (r[1], int(r[2]), int(r[3])) for r in store.all(
        "SELECT category, COUNT(*), TOTAL(state != 'closed'), "
        f"TOTAL({_IN.format('submitted_at')}) FROM appeals GROUP BY category", p.params())}


def reference_weeks(store, until: _dt.date) -> list[int]:
    first = until - _dt.timedelta(days=until.weekday()) - _dt.timedelta(weeks=stats.WEEKS - 1)
    days = {r[0]: r[1] for r in store.all(
        "SELECT substr(submitted_at, 1, 10), COUNT(*) FROM appeals GROUP BY 1")}
    return [sum(days.get((first + _dt.timedelta(days=7 * w + d)).isoformat(), 0) for d in range(7)
                if first + _dt.timedelta(days=7 * w + d) <= until) for w in range(stats.WEEKS)]


def figures_rates(units: list[stats.UnitRates]) -> dict[str, tuple]:
    return {u.code: (u.response.numerator, u.response.denominator, u.resolution.numerator,
                     u.resolution.denominator, u.satisfaction.numerator, u.satisfaction.denominator)
            for u in units if (u.response.denominator or u.resolution.denominator or u.satisfaction.denominator)}


def figures_categories(cats: list[stats.CategoryFigure]) -> dict[str, tuple]:
    return {c.category: (c.appeals, c.unresolved, c.in_month) for c in cats if c.appeals}


def table(store, name: str) -> list[tuple]:
    keys, counts = schema.FIGURE_TABLES[name]
    nonzero = " OR ".join(f"{c} != 0" for c in counts)
    return [tuple(r) for r in store.all(
        f"SELECT * FROM {name} WHERE {nonzero} ORDER BY {', '.join(keys)}")]


def figure_problems(store) -> list[str]:
    return [p for p in integrity.verify(store).problems if "dashboard sums" in p or "_figures" in p]


# -- the demo city: the sums equal a reading of every appeal ---------------------------------------
@pytest.fixture(scope="module")
def demo(demo_db):
    with Store(str(demo_db)) as s:
        yield s


def _cuts() -> list[str]:
    """As-of times in every month of the demo: the last second of a day, midnight, and the
    middle of a busy working day (events later that day are cut off); and the demo's now."""
    out = [DEMO_TODAY]
    for month in ("2026-06", "2026-08", "2026-10", "2026-11"):
        out += [f"{month}-10T23:59:59+08:00", f"{month}-16T00:00:00+08:00", f"{month}-18T10:30:00+08:00"]
    return out


@pytest.mark.parametrize("at", _cuts())
def test_month_figures_from_the_sums_equal_a_reading_of_every_appeal(demo, at):
    months = stats.dashboard_months(demo, at)
    assert months[0] == at[:7] and months[-1] == "2026-05"    # the demo's first appeals: May
    for month in months:
        p = stats.period(month, at)
        assert figures_rates(stats.unit_rates(demo, p)) == reference_rates(demo, p), month
        assert figures_categories(stats.appeals_by_category(demo, p)) == reference_categories(demo, p), month
        assert [w.appeals for w in stats.appeals_per_week(demo, p.last_day)] == \
            reference_weeks(demo, p.last_day), month


def test_the_demo_cut_in_the_middle_of_a_day_counts_only_what_came_before(demo):
    # the figures of the as-of day's part are read from the appeals: an appeal closed at
    # 10:00 is counted at 10:00 and not at 09:59:59 (the sums per day hold it for the whole day)
    closed_at = demo.scalar("SELECT closed_at FROM appeals WHERE state = 'closed' AND closed_at LIKE '2026-11-%' "
                            "ORDER BY closed_at DESC LIMIT 1")
    day = closed_at[:10]
    same_day_before = demo.scalar("SELECT COUNT(*) FROM appeals WHERE state = 'closed' AND closed_at >= ? "
                                  "AND closed_at < ?", (f"{day}T00:00:00+08:00", closed_at))
    month_before = demo.scalar("SELECT COUNT(*) FROM appeals WHERE state = 'closed' AND closed_at >= ? "
                               "AND closed_at < ?", ("2026-11-01T00:00:00+08:00", f"{day}T00:00:00+08:00"))
    same_moment = demo.scalar("SELECT COUNT(*) FROM appeals WHERE state = 'closed' AND closed_at = ?", (closed_at,))
    just_before = timeutil.iso(timeutil.parse(closed_at).subtract(seconds=1))
    closed = [sum(u.resolution.denominator for u in stats.unit_rates(demo, stats.period("2026-11", at)))
              for at in (just_before, closed_at)]
    assert closed == [month_before + same_day_before, month_before + same_day_before + same_moment]


def test_the_demo_sums_equal_the_appeals(demo):
    assert figure_problems(demo) == []


def test_the_migration_fills_the_sums_of_an_older_file_as_the_triggers_kept_them(demo_db, tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(demo_db, path)
    with Store(str(path)) as s:
        kept = {name: table(s, name) for name in schema.FIGURE_TABLES}
        assert len(kept["appeal_category_figures"]) == 7
    # the file as 0012 left it: no sums, no triggers, no indexes of 0013
    con = sqlite3.connect(path)
    objects = con.execute("SELECT type, name FROM sqlite_master WHERE sql LIKE '%figures%' "
                          "OR name IN ('appeals_submitted', 'appeals_closed', 'appeals_evaluated')").fetchall()
    assert sorted(t for t, _ in objects) == ["index"] * 3 + ["table"] * 2 + ["trigger"] * 10
    for kind, name in objects:
        if kind != "table":
            con.execute(f"DROP {kind} {name}")
    for name in schema.FIGURE_TABLES:
        con.execute(f"DROP TABLE {name}")
    con.execute("DELETE FROM _sqlite_migrations WHERE name = '0013_appeal_day_figures'")
    con.commit()
    con.close()
    with Store(str(path), migrate=False) as s:
        assert s.migrate() == ["0013_appeal_day_figures"]
        assert {name: table(s, name) for name in schema.FIGURE_TABLES} == kept


# -- the triggers, by hand on the small city -------------------------------------------------------
def _day_row(store, day: str, unit: str, category: str) -> tuple:
    return tuple(store.one("SELECT " + ", ".join(schema.FIGURE_COLUMNS) + " FROM appeal_day_figures "
                           "WHERE day = ? AND unit_code = ? AND category = ?", (day, unit, category)) or ())


def test_an_appeal_carries_its_counts_through_its_life(store, make_appeal):
    # make_appeal: submitted and arrived 09-29 10:00 at zrzy (land), accepted 09-29, answered
    # 09-30 (due 10-12 23:59:59), 满意 10-08 -> closed 10-08
    a = make_appeal("closed", ref="A-2026-0001")
    assert a.deadline == "2026-10-12T23:59:59+08:00"
    #                                      submitted due met closed clean evaluated satisfied
    assert _day_row(store, "2026-09-29", "zrzy", "land") == (1, 0, 0, 0, 0, 0, 0)
    assert _day_row(store, "2026-10-12", "zrzy", "land") == (0, 1, 1, 0, 0, 0, 0)
    assert _day_row(store, "2026-10-08", "zrzy", "land") == (0, 0, 0, 1, 1, 1, 1)
    assert table(store, "appeal_category_figures") == [("land", 1, 1)]
    # an order opened on it (by another tool: the domain opens orders on open appeals only)
    # spoils its 解决; removing the order gives it back
    with store.transaction():
        store.conn.execute("INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at) "
                           "VALUES (?, 'manual', '2026-10-09T09:00:00+08:00', 'ducha1', "
                           "'2026-10-16T23:59:59+08:00')", (a.id,))
    assert _day_row(store, "2026-10-08", "zrzy", "land") == (0, 0, 0, 1, 0, 1, 1)
    # a second order changes nothing more
    with store.transaction():
        store.conn.execute("INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at) "
                           "VALUES (?, 'manual', '2026-10-10T09:00:00+08:00', 'ducha1', "
                           "'2026-10-17T23:59:59+08:00')", (a.id,))
        first = store.scalar("SELECT MIN(id) FROM supervision_orders WHERE appeal_id = ?", (a.id,))
        store.conn.execute("DELETE FROM supervision_orders WHERE id = ?", (first,))
    assert _day_row(store, "2026-10-08", "zrzy", "land") == (0, 0, 0, 1, 0, 1, 1)
    # moved before the appeal reached zrzy, the order is no longer zrzy's
    with store.transaction():
        store.conn.execute("UPDATE supervision_orders SET opened_at = '2026-09-01T09:00:00+08:00' "
                           "WHERE appeal_id = ?", (a.id,))
    assert _day_row(store, "2026-10-08", "zrzy", "land") == (0, 0, 0, 1, 1, 1, 1)
    # an appeal deleted with SQL takes its counts with it
    with store.transaction():
        store.conn.execute("DELETE FROM supervision_orders WHERE appeal_id = ?", (a.id,))
        store.conn.execute("DELETE FROM appeal_search WHERE rowid = ?", (a.id,))
        store.conn.execute("DELETE FROM appeals WHERE id = ?", (a.id,))
    assert table(store, "appeal_day_figures") == []
    assert table(store, "appeal_category_figures") == []


def test_a_late_answer_and_a_reassignment_move_the_counts(store, make_appeal, db_path):
    from taian_tui.domain import operations as wf

    a = make_appeal("accepted", ref="A-2026-0001")          # zrzy, due 10-12
    wf.reply_appeal(store, "zrzy1", a.ref, "迟到的答复", at="2026-10-14T10:00:00+08:00")
    assert _day_row(store, "2026-10-12", "zrzy", "land") == (0, 1, 0, 0, 0, 0, 0)
    b = make_appeal("assigned", ref="A-2026-0002")          # zrzy, arrived 09-29, due 10-12
    wf.assign_appeal(store, "admin", b.ref, "sthj", note="环评事项", at="2026-10-13T10:00:00+08:00")
    b = store.appeal(b.ref)
    assert b.unit_code == "sthj" and b.deadline == "2026-10-20T23:59:59+08:00"
    # zrzy keeps only a's deadline; b's submission moves with the unit that holds it now
    assert _day_row(store, "2026-10-12", "zrzy", "land") == (0, 1, 0, 0, 0, 0, 0)
    assert _day_row(store, "2026-10-20", "sthj", "land") == (0, 1, 0, 0, 0, 0, 0)
    assert _day_row(store, "2026-09-29", "zrzy", "land") == (1, 0, 0, 0, 0, 0, 0)
    assert _day_row(store, "2026-09-29", "sthj", "land") == (1, 0, 0, 0, 0, 0, 0)
    assert figure_problems(store) == []


# -- the command line ------------------------------------------------------------------------------
def test_verify_names_a_changed_sum_and_migrate_rebuilds_it(run_cli, store, make_appeal, db_path):
    make_appeal("closed", ref="A-2026-0001")
    with store.transaction():
        store.conn.execute("UPDATE appeal_day_figures SET satisfied = 0 WHERE day = '2026-10-08'")
        store.conn.execute("UPDATE appeal_category_figures SET closed = 0")
    code, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 1
    assert err.splitlines()[-1] == "error: audit check FAILED: 4 problems (see above)"
    assert err.splitlines()[-5:-1] == [
        "appeal_day_figures (day 2026-10-08, unit_code zrzy, category land), stored: submitted 0, due 0, "
        "due_met 0, closed 1, closed_clean 1, evaluated 1, satisfied 0",
        "appeal_day_figures (day 2026-10-08, unit_code zrzy, category land), from the appeals: submitted 0, "
        "due 0, due_met 0, closed 1, closed_clean 1, evaluated 1, satisfied 1",
        "appeal_category_figures (category land), stored: appeals 1, closed 0",
        "appeal_category_figures (category land), from the appeals: appeals 1, closed 1",
    ]
    code, out, err = run_cli("migrate", "--rebuild-figures", "--db", db_path)
    assert code == 0, err
    assert out.splitlines() == ["schema is up to date", "dashboard sums rebuilt from the appeals: 4 rows"]
    code, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 0, out + err
