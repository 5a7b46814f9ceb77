"""The cards ahead in ``taian stats`` (``stats.dashboard(...).forecast``, the ``forecast``
object of ``--json``, two lines of the plain text), on tests/read/conftest.py's scenario.

As of Thu 2026-11-05 12:00: the next working day is Fri 11-06, the 5th is Thu 11-12
(11-06, 09, 10, 11, 12). Open appeals: Z3 (zrzy) red, nothing ahead; D2 (daiyue) blue since
11-02, due 11-02 23:59:59: its yellow card is earned (not ahead) and the order it opens is
due 11-09 23:59:59 (11-03, 04, 05, 06, 09): red by 11-12 00:00; D4 (daiyue) reached its unit
Wed 11-04: blue at 11-11 00:00, yellow after 11-11 23:59:59, both by 11-12 00:00.
Next working day: nothing. Five working days: 岱岳区 blue 1, yellow 1, red 1.
"""
from __future__ import annotations

import json

from taian_tui.read import stats

AT = "2026-11-05T12:00:00+08:00"
OCT = "2026-10"

FORECAST = {
    "at": AT,
    "horizons": [
        {"key": "next_working_day", "working_days": 1, "day": "2026-11-06",
         "sweep_at": "2026-11-06T00:00:00+08:00", "total": {"blue": 0, "yellow": 0, "red": 0},
         "units": []},
        {"key": "five_working_days", "working_days": 5, "day": "2026-11-12",
         "sweep_at": "2026-11-12T00:00:00+08:00", "total": {"blue": 1, "yellow": 1, "red": 1},
         "units": [{"unit": "daiyue", "name": "岱岳区", "blue": 1, "yellow": 1, "red": 1}]},
    ],
    "warnings": [],
}


def test_dashboard_forecast_hand_computed(scenario):
    d = stats.dashboard(scenario, OCT, AT)
    assert d.as_dict()["forecast"] == FORECAST
    # the month shown does not change what lies ahead of the as-of time
    assert stats.dashboard(scenario, "2026-11", AT).as_dict()["forecast"] == FORECAST


def test_dashboard_without_the_forecast(scenario):
    assert stats.dashboard(scenario, OCT, AT, forecast=False).as_dict()["forecast"] is None


def test_summary_lines_of_the_forecast(scenario):
    lines = stats.summary_lines(stats.dashboard(scenario, OCT, AT))
    i = lines.index("cards ahead by 2026-11-06 00:00 (next working day; if nothing is answered): "
                    "蓝牌 0, 黄牌 0, 红牌 0")
    assert lines[i + 1] == ("cards ahead by 2026-11-12 00:00 (5 working days; if nothing is answered): "
                            "蓝牌 1, 黄牌 1, 红牌 1; by unit, worst first: 岱岳区 (蓝牌 1, 黄牌 1, 红牌 1)")
    assert lines[i - 1].startswith("cards raised in 2026-10: ")


def test_cli_stats_json_has_the_forecast(run_cli, scenario, db_path):
    """(``taian stats`` opens the file read-only: the forecast writes nothing, not even a temp table)"""
    code, out, err = run_cli("stats", "--db", str(db_path), "--month", OCT, "--at", AT, "--json")
    assert code == 0, err
    assert json.loads(out)["forecast"] == FORECAST


def test_cli_stats_text_has_the_forecast(run_cli, scenario, db_path):
    code, out, err = run_cli("stats", "--db", str(db_path), "--at", AT)
    assert code == 0, err
    assert ("cards ahead by 2026-11-12 00:00 (5 working days; if nothing is answered): 蓝牌 1, 黄牌 1, "
            "红牌 1; by unit, worst first: 岱岳区 (蓝牌 1, 黄牌 1, 红牌 1)\n") in out


def test_forecast_lines_name_five_units_at_most():
    from taian_tui.domain.escalation import CardCounts, Forecast, Horizon, UnitForecast

    units = [UnitForecast(f"u{i}", f"单位{i}", [CardCounts(yellow=10 - i)]) for i in range(7)]
    f = Forecast(AT, [Horizon(1, "2026-11-06", "2026-11-06T00:00:00+08:00", CardCounts(yellow=49))], units)
    assert stats.forecast_lines(f) == [
        "cards ahead by 2026-11-06 00:00 (next working day; if nothing is answered): 蓝牌 0, 黄牌 49, 红牌 0; "
        "by unit, worst first: 单位0 (黄牌 10), 单位1 (黄牌 9), 单位2 (黄牌 8), 单位3 (黄牌 7), "
        "单位4 (黄牌 6) and 2 more"]
