"""The dashboard's figures (taian_tui/read/stats.py, ``taian stats``) against values computed by
hand on a small city built with the workflow functions.

The scenario is tests/read/conftest.py's (its docstring has the hand-computed October
figures these tests pin).
"""
from __future__ import annotations

import datetime as _dt
import json

import pytest

from taian_tui.read import stats
from taian_tui.domain.refusals import ValidationError

AT = "2026-11-05T12:00:00+08:00"     # the scenario's as-of (tests/read/conftest.py)
OCT = "2026-10"


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


def _by_code(units):
    return {u.code: u for u in units}


def _r(rate):
    return (rate.numerator, rate.denominator, rate.rate)


# -- the period ------------------------------------------------------------------------------------
def test_period_bounds_and_cut():
    p = stats.period(OCT, AT)
    assert (p.start, p.end) == ("2026-10-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00")
    assert p.last_day == _dt.date(2026, 10, 31) and p.complete
    cur = stats.period(None, AT)
    assert cur.month == "2026-11" and cur.last_day == _dt.date(2026, 11, 5) and not cur.complete
    dec = stats.period("2026-12", "2026-12-31T23:59:59+08:00")
    assert dec.end == "2027-01-01T00:00:00+08:00"


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-10", "2026/10", "October", "", " "])
def test_bad_month_is_refused(bad):
    with pytest.raises(ValidationError, match="YYYY-MM"):
        stats.period(bad, AT)


def test_month_not_begun_is_refused():
    with pytest.raises(ValidationError, match="has not begun"):
        stats.period("2026-12", AT)


def test_default_month_is_the_current_month(monkeypatch):
    monkeypatch.setenv("TAIAN_NOW", AT)
    assert stats.period().month == "2026-11"


# -- 三率 ------------------------------------------------------------------------------------------
def test_unit_rates_october_hand_computed(scenario):
    units = _by_code(stats.unit_rates(scenario, stats.period(OCT, AT)))
    z, s, d = units["zrzy"], units["sthj"], units["daiyue"]
    # 响应率: Z1 on time, Z2 late, Z3 unanswered, Z4 on time against its extended deadline;
    # Z5 left zrzy by reassignment and counts for sthj against sthj's own deadline
    assert _r(z.response) == (2, 4, 0.5)
    assert _r(s.response) == (3, 3, 1.0)
    assert _r(d.response) == (1, 1, 1.0)           # D3 against the order's due time
    # 解决率: Z2 closed with its yellow-card order; D3 with the dispute order; Z5's yellow
    # order was zrzy's (opened before it reached sthj); S1 closed by the supervisor, no order
    assert _r(z.resolution) == (1, 2, 0.5)
    assert _r(s.resolution) == (3, 3, 1.0)
    assert _r(d.resolution) == (0, 1, 0.0)
    # 满意率: Z1 满意, Z2 基本满意; S1 不满意, S3 基本满意, Z5 满意; D3's latest is 满意
    assert _r(z.satisfaction) == (2, 2, 1.0)
    assert _r(s.satisfaction) == (2, 3, 0.6667)
    assert _r(d.satisfaction) == (1, 1, 1.0)
    assert z.score == pytest.approx(2 / 3) and d.score == pytest.approx(2 / 3)
    assert s.score == pytest.approx(8 / 9)
    others = [u for code, u in units.items() if code not in ("zrzy", "sthj", "daiyue")]
    assert len(others) == 55
    assert all(u.score is None and u.response.rate is None and u.response.denominator == 0
               for u in others)


def test_ranking_worst_first(scenario):
    ranked = stats.unit_rates(scenario, stats.period(OCT, AT))
    # daiyue and zrzy tie on the mean (2/3); daiyue's lowest rate (0) is lower than zrzy's (0.5)
    assert [u.code for u in ranked[:3]] == ["daiyue", "zrzy", "sthj"]
    assert [u.rank for u in ranked] == list(range(1, 59))
    rest = ranked[3:]
    assert all(u.score is None for u in rest)
    assert [u.name for u in rest] == sorted(u.name for u in rest)
    assert len(ranked) == 58                       # every handling unit, none of 督查室/纪委监委
    assert {u.kind for u in ranked} == {"county", "zone", "department"}


def test_city_rates(scenario):
    d = stats.dashboard(scenario, OCT, AT)
    assert {k: _r(r) for k, r in d.city_rates.items()} == {
        "response": (6, 8, 0.75), "resolution": (4, 6, 0.6667), "satisfaction": (5, 6, 0.8333)}


def test_september_and_november(scenario):
    sep = _by_code(stats.unit_rates(scenario, stats.period("2026-09", AT)))
    assert _r(sep["daiyue"].response) == (1, 1, 1.0)       # D1
    assert _r(sep["daiyue"].resolution) == (1, 1, 1.0)
    assert _r(sep["daiyue"].satisfaction) == (1, 1, 1.0)
    assert sep["zrzy"].score is None                        # its deadlines fell in October
    nov = stats.unit_rates(scenario, stats.period("2026-11", AT))
    # D2 was due 11-02 and is unanswered; D4 is due 11-11, after the as-of time: not counted
    assert nov[0].code == "daiyue" and _r(nov[0].response) == (0, 1, 0.0)
    assert nov[0].resolution.rate is None and nov[0].satisfaction.rate is None
    assert nov[0].score == 0.0 and all(u.score is None for u in nov[1:])
    later = _by_code(stats.unit_rates(scenario, stats.period("2026-11", "2026-11-12T09:00:00+08:00")))
    assert _r(later["daiyue"].response) == (0, 2, 0.0)     # D4's deadline has now passed


def test_rank_units_orders_ties_by_lowest_rate_then_name():
    R = stats.Rate
    units = [stats.UnitRates("b", "乙", "department", R(1, 2), R(1, 2), R(1, 1)),
             stats.UnitRates("a", "甲", "department", R(1, 2), R(1, 2), R(1, 1)),
             stats.UnitRates("c", "癸", "department", R(1, 1), R(0, 1), R(1, 1)),
             stats.UnitRates("d", "丁", "county"),
             stats.UnitRates("e", "戊", "department", R(0, 0), R(0, 0), R(3, 4))]
    ranked = stats.rank_units(units)
    # means: 乙 2/3, 甲 2/3, 癸 2/3 (lowest 0, though its name sorts last), 戊 3/4 (one rate
    # only), 丁 none
    assert [u.name for u in ranked] == ["癸", "乙", "甲", "戊", "丁"]
    assert [u.rank for u in ranked] == [1, 2, 3, 4, 5]
    assert ranked[-1].as_dict()["score"] is None
    assert ranked[3].as_dict()["response"] == {"numerator": 0, "denominator": 0, "rate": None}


# -- charts ------------------------------------------------------------------------------------------
def test_projects_by_county_stage_library(scenario):
    county = {c.county: (c.projects, c.investment_wan) for c in stats.projects_by_county(scenario)}
    assert county["岱岳区"] == (2, 15000.5)          # P-0001 + P-0003 (P-0004 was rejected)
    assert county["泰山区"] == (1, 5000.0)           # P-0002 (province)
    assert county["新泰市"] == (0, 0.0)              # P-0005 is still an application
    assert list(county)[:3] == ["泰山区", "岱岳区", "新泰市"] and len(county) == 10
    assert sum(p for p, _ in county.values()) == 3
    stage = [(s.stage, s.projects, s.investment_wan) for s in stats.projects_by_stage(scenario)]
    assert stage == [("前期", 2, 15000.5), ("在建", 1, 5000.0), ("竣工", 0, 0.0), ("投产", 0, 0.0)]
    lib = [(x.library, x.label, x.projects, x.investment_wan) for x in stats.projects_by_library(scenario)]
    assert lib == [("applied", "待审核", 1, 2000.0), ("city", "市重点", 2, 15000.5),
                   ("province", "省重点", 1, 5000.0), ("rejected", "未入库", 1, 8000.0)]


def test_appeals_by_category(scenario):
    cats = {c.category: (c.label, c.appeals, c.unresolved, c.in_month)
            for c in stats.appeals_by_category(scenario, stats.period(OCT, AT))}
    assert list(cats) == ["approval", "planning", "land", "energy", "environment", "infrastructure", "other"]
    assert cats["land"] == ("土地", 5, 2, 0)          # Z3 accepted, Z4 answered
    assert cats["environment"] == ("环评", 2, 0, 0)
    assert cats["other"] == ("其他", 4, 2, 1)         # D2, D4 open; D2 submitted in October
    assert cats["approval"] == ("立项", 0, 0, 0)
    nov = {c.category: c.in_month for c in stats.appeals_by_category(scenario, stats.period("2026-11", AT))}
    assert nov["other"] == 1                           # D4


def test_cards_by_colour(scenario):
    oct_cards = stats.cards_by_colour(scenario, stats.period(OCT, AT))
    # open now: Z3 red, D2 blue, D4 no card
    assert oct_cards.open == {"blue": 1, "yellow": 0, "red": 1, "none": 1}
    # thresholds passed in October: Z2, Z3, Z5 blue and yellow; Z3 red (order due 10-19)
    assert oct_cards.raised == {"blue": 3, "yellow": 3, "red": 1}
    assert stats.cards_by_colour(scenario, stats.period("2026-11", AT)).raised == \
        {"blue": 1, "yellow": 0, "red": 0}
    assert stats.cards_by_colour(scenario, stats.period("2026-09", AT)).raised == \
        {"blue": 0, "yellow": 0, "red": 0}


def test_cards_raised_in_a_period_are_counted_from_the_index_by_colour_and_time(scenario):
    """Each colour's range of the period in ``card_events_card_threshold`` (the events before
    and after it are not read); the open appeals' cards in the carded index's order."""
    statements: list[str] = []
    scenario.conn.set_trace_callback(statements.append)
    try:
        stats.cards_by_colour(scenario, stats.period(OCT, AT))
    finally:
        scenario.conn.set_trace_callback(None)
    plans = {s: [r[3] for r in scenario.all("EXPLAIN QUERY PLAN " + s)] for s in statements
             if "GROUP BY" in s}
    events = next(p for s, p in plans.items() if "card_events" in s)
    assert events == ["SEARCH card_events USING COVERING INDEX card_events_card_threshold "
                      "(card=? AND threshold_at>? AND threshold_at<?)"]
    open_cards = next(p for s, p in plans.items() if "FROM appeals" in s)
    assert not any("TEMP B-TREE" in line for line in open_cards), open_cards


def test_appeals_per_week(scenario):
    weeks = stats.appeals_per_week(scenario, _dt.date(2026, 10, 31))
    assert len(weeks) == 26
    # the last week counted to Sat 10-31 ends there (not labelled through Sun 11-01)
    assert (weeks[0].week_start, weeks[-1].week_start, weeks[-1].week_end, weeks[-2].week_end) == \
        ("2026-05-04", "2026-10-26", "2026-10-31", "2026-10-25")
    assert all(_dt.date.fromisoformat(w.week_start).weekday() == 0 for w in weeks)
    counts = {w.week_start: w.appeals for w in weeks if w.appeals}
    # D1 (Tue 09-01); the eight of Tue 09-29; D2 (Mon 10-26); D4 (11-04) is after the 31st
    assert counts == {"2026-08-31": 1, "2026-09-28": 8, "2026-10-26": 1}
    assert [w.appeals for w in weeks].count(0) == 23
    assert weeks[-1].iso_week == "2026-W44" and weeks[21].iso_week == "2026-W40"
    nov = stats.appeals_per_week(scenario, "2026-11-05T12:00:00+08:00")
    assert (nov[-1].week_start, nov[-1].week_end, nov[-1].appeals) == ("2026-11-02", "2026-11-05", 1)
    assert nov[0].week_start == "2026-05-11"
    assert stats.appeals_per_week(scenario, _dt.date(2026, 11, 3))[-1].appeals == 0


def test_week_boundary_is_monday_shanghai(store, submit):
    # Sunday 23:30 belongs to the week before; Monday 00:10 to the new one (Asia/Shanghai)
    submit("W1", at="2026-10-11T23:30:00+08:00")
    submit("W2", at="2026-10-12T00:10:00+08:00")
    submit("W3", at="2026-10-11T16:00:00+00:00")      # = Mon 00:00 +08:00, stored in +08:00
    weeks = {w.week_start: w.appeals for w in stats.appeals_per_week(store, _dt.date(2026, 10, 18))}
    assert weeks["2026-10-05"] == 1 and weeks["2026-10-12"] == 2


def test_empty_store(store):
    d = stats.dashboard(store, OCT, AT)
    assert all(u.score is None for u in d.unit_rates)
    assert sum(w.appeals for w in d.appeals_per_week) == 0 and len(d.appeals_per_week) == 26
    assert d.cards.open == {"blue": 0, "yellow": 0, "red": 0, "none": 0}
    assert all(r.rate is None for r in d.city_rates.values())
    lines = stats.summary_lines(d)
    assert lines[0] == "taian stats for 2026-10 (complete; as of 2026-11-05T12:00:00+08:00)"
    assert lines[1] == "projects in the library (市重点+省重点): 0, investment 0 万元"
    assert lines[2] == "  by county: none"
    assert lines[-2] == "三率 ranking for 2026-10, worst first (rate, numerator/denominator):"
    assert lines[-1] == "  (58 units with no appeal due, closed or evaluated in 2026-10)"


# -- the whole dashboard and the CLI ------------------------------------------------------------------
def test_dashboard_as_dict(scenario):
    data = stats.dashboard(scenario, OCT, AT).as_dict()
    assert data["month"] == OCT and data["at"] == AT
    assert data["period"]["complete"] is True and data["period"]["last_day"] == "2026-10-31"
    assert data["projects_counted"] == ["city", "province"]
    first = data["unit_rates"][0]
    assert first == {"rank": 1, "unit": "daiyue", "name": "岱岳区", "kind": "county",
                     "response": {"numerator": 1, "denominator": 1, "rate": 1.0},
                     "resolution": {"numerator": 0, "denominator": 1, "rate": 0.0},
                     "satisfaction": {"numerator": 1, "denominator": 1, "rate": 1.0},
                     "score": 0.6667}
    assert data["cards"] == {"open": {"blue": 1, "yellow": 0, "red": 1, "none": 1},
                             "raised": {"blue": 3, "yellow": 3, "red": 1}}
    json.dumps(data)


def test_cli_stats_json_equals_the_functions(run_cli, scenario, db_path):
    code, out, err = run_cli("stats", "--db", str(db_path), "--month", OCT, "--at", AT, "--json")
    assert code == 0, err
    assert json.loads(out) == stats.dashboard(scenario, OCT, AT).as_dict()


def test_cli_stats_default_month_from_now(run_cli, scenario, db_path):
    code, out, err = run_cli("stats", "--db", str(db_path), "--json", env={"TAIAN_NOW": AT})
    assert code == 0, err
    data = json.loads(out)
    assert data["month"] == "2026-11" and data["at"] == AT
    assert data == stats.dashboard(scenario, None, AT).as_dict()


def test_cli_stats_text(run_cli, scenario, db_path):
    code, out, err = run_cli("stats", "--db", str(db_path), "--month", OCT, "--at", AT)
    assert code == 0, err
    assert "taian stats for 2026-10 (complete" in out
    assert "岱岳区 2 (15,000.5 万元)" in out
    assert "1. 岱岳区  响应率 100.0% (1/1)  解决率 0.0% (0/1)  满意率 100.0% (1/1)  mean 66.7%" in out
    assert "2. 市自然资源和规划局  响应率 50.0% (2/4)" in out
    assert "(55 units with no appeal due, closed or evaluated in 2026-10)" in out
    assert "响应率 75.0% (6/8)" in out


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "10-2026", "abc"])
def test_cli_stats_bad_month_exits_2(run_cli, db_path, bad):
    code, out, err = run_cli("stats", "--db", str(db_path), "--month", bad, "--json")
    assert code == 2
    assert out == ""
    assert "--month" in err and "YYYY-MM" in err


def test_cli_stats_future_month_exits_2(run_cli, db_path):
    code, _, err = run_cli("stats", "--db", str(db_path), "--month", "2026-12", "--at", AT)
    assert code == 2 and "has not begun" in err


def test_cli_stats_missing_database(run_cli, tmp_path):
    code, _, err = run_cli("stats", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "none.db").exists()


def test_stats_writes_nothing(run_cli, scenario, db_path, dump):
    before = dump()
    code, _, err = run_cli("stats", "--db", str(db_path), "--month", OCT, "--at", AT, "--json")
    assert code == 0, err
    stats.dashboard(scenario, OCT, AT)
    assert dump() == before
    assert not scenario.conn.in_transaction


# -- the demo city: the SQL against a row-by-row recomputation of the definitions -------------------------
DEMO_TODAY = "2026-11-27T09:00:00+08:00"


@pytest.fixture(scope="module")
def demo_store(demo_db):
    from taian_tui.store import Store

    s = Store(demo_db)
    yield s
    s.close()


def _recompute(store, p: stats.Period) -> dict[str, tuple]:
    """The 三率 definitions applied appeal by appeal in Python."""
    def inside(ts):
        return ts is not None and p.start <= ts < p.end and ts <= p.at
    orders: dict[int, list[str]] = {}
    for o in store.all("SELECT appeal_id, opened_at FROM supervision_orders"):
        orders.setdefault(o["appeal_id"], []).append(o["opened_at"])
    acc: dict[str, list[int]] = {}
    for a in store.all("SELECT * FROM appeals WHERE unit_code IS NOT NULL"):
        c = acc.setdefault(a["unit_code"], [0] * 6)
        if inside(a["deadline"]):
            c[1] += 1
            c[0] += a["answered_at"] is not None and a["answered_at"] <= a["deadline"]
        if a["state"] == "closed" and inside(a["closed_at"]):
            c[3] += 1
            c[2] += not any(t >= a["arrived_at"] for t in orders.get(a["id"], []))
        if a["rating"] and inside(a["evaluated_at"]):
            c[5] += 1
            c[4] += a["rating"] in ("满意", "基本满意")
    return {k: tuple(v) for k, v in acc.items() if any(v)}


@pytest.mark.parametrize("month", ["2026-08", "2026-10", "2026-11"])
def test_demo_rates_match_a_row_by_row_recomputation(demo_store, month):
    p = stats.period(month, DEMO_TODAY)
    got = {u.code: (u.response.numerator, u.response.denominator, u.resolution.numerator,
                    u.resolution.denominator, u.satisfaction.numerator, u.satisfaction.denominator)
           for u in stats.unit_rates(demo_store, p) if u.score is not None}
    want = _recompute(demo_store, p)
    assert got == want
    assert sum(v[1] for v in got.values()) > 50       # a real test, not an empty one


def test_demo_weeks_and_cards(demo_store):
    d = stats.dashboard(demo_store, "2026-11", DEMO_TODAY)
    first = _dt.date.fromisoformat(d.appeals_per_week[0].week_start)
    n = demo_store.scalar("SELECT COUNT(*) FROM appeals WHERE submitted_at >= ? AND submitted_at <= ?",
                          (f"{first.isoformat()}T00:00:00+08:00", DEMO_TODAY))
    assert sum(w.appeals for w in d.appeals_per_week) == n
    assert d.appeals_per_week[-1].week_start == "2026-11-23"
    open_n = demo_store.scalar("SELECT COUNT(*) FROM appeals WHERE state IN ('assigned','accepted')")
    assert sum(d.cards.open.values()) == open_n
    assert sum(c.appeals for c in d.appeals_by_category) == 2000
    assert sum(x.projects for x in d.projects_by_library) == 437
    assert sum(c.projects for c in d.projects_by_county) == sum(
        x.projects for x in d.projects_by_library if x.library in ("city", "province"))
