"""The cards ahead in the console: the escalation board's strip and its view 4 (per unit,
whom to call), and the inbox's 即将转黄 filter (``w``), on tests/console/conftest.py's city.

Now is Tue 2026-10-20 09:00 (TAIAN_NOW). The next working day is Wed 10-21; the 5th is Tue
10-27 (10-21, 22, 23, 26, 27). A-0003, A-0005, A-0006 (zrzy) and A-0004 (sthj; its
extension is only requested) are due today and blue: yellow at 10-21 00:00; their orders
would be due 10-27 23:59:59, not before 10-27 00:00. A-0007 (zrzy, arrived Fri 10-16) turns
blue at 10-23 00:00 and yellow after 10-23 23:59:59. A-0001 is red already, A-0002 disputed.

  next working day (10-21):   zrzy yellow 3, sthj yellow 1       = blue 0, yellow 4, red 0
  5 working days (to 10-27):  zrzy blue 1, yellow 4; sthj yellow 1 = blue 1, yellow 5, red 0
"""
from __future__ import annotations

import threading
import time

from rich.cells import cell_len
from textual.widgets import DataTable, Static

from taian_tui.console.app import TaianApp
from taian_tui.domain import operations as wf
from taian_tui.read import board
from taian_tui.screens.escalation import BoardScreen
from taian_tui.screens.inbox import InboxScreen

PLAIN = (80, 24)
WIDE = (120, 36)
STRIP_ZH = "4 预警 下一工作日（10-21）：蓝0 黄4 红0　5个工作日内（至10-27）：蓝1 黄5 红0"


def app_for(db, user, **kw) -> TaianApp:
    return TaianApp(db, username=user, poll=False, **kw)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _table_rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_board_strip_and_the_ahead_view_at_80x24(screen_text, settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=PLAIN) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        assert cell_len(STRIP_ZH) <= PLAIN[0] - 2
        assert STRIP_ZH in _lines(screen_text(app))          # whole, not cut
        # the columns are still there under it
        text = screen_text(app)
        assert "蓝牌（4）" in text and "红牌（1）" in text
        await pilot.press("4")
        await settle(pilot)
        assert screen.view == "ahead"
        table = screen.query_one("#view-ahead", DataTable)
        assert [str(c.label) for c in table.columns.values()] == [
            "单位", "下一工作日（10-21）", "5个工作日内（至10-27）"]
        assert _table_rows(table) == [["市自然资源和规划局", "蓝0 黄3 红0", "蓝1 黄4 红0"],
                                      ["市生态环境局", "蓝0 黄1 红0", "蓝0 黄1 红0"]]
        text = screen_text(app)
        assert "市自然资源和规划局" in text and "蓝1 黄4 红0" in text
        assert "4 挂牌预警" not in text and STRIP_ZH in _lines(text)    # the strip is view 4's tab
        # the other views come back
        await pilot.press("1")
        await settle(pilot)
        assert screen.view == "cards" and screen.selected_ref() == "A-2026-0003"


async def test_ahead_view_shows_whom_to_call(settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        detail = str(screen.query_one("#detail-body", Static).render())
        assert detail.splitlines() == [
            "市自然资源和规划局　下一工作日：蓝0 黄3 红0　5个工作日内：蓝1 黄4 红0",
            "联络员　自然资源联络员　13800000002",
            "单位负责人　褚文斌　13905381013",
            "如期间仍未答复，各工作日开始时的扫描将挂的牌；已到期未扫描的不计入。"]
        await pilot.press("down")
        await settle(pilot)
        detail = str(screen.query_one("#detail-body", Static).render())
        assert detail.splitlines()[:3] == ["市生态环境局　下一工作日：蓝0 黄1 红0　5个工作日内：蓝0 黄1 红0",
                                           "联络员　生态环境联络员　13800000003",
                                           "单位负责人　卫东升　13905381014"]


async def test_board_strip_in_english_long_and_short(screen_text, settle, tui_db):
    long = "4 Ahead — next working day 10-21: blue 0 yellow 4 red 0 · by 10-27: blue 1 yellow 5 red 0"
    short = "4 Ahead 10-21: blue 0 yellow 4 red 0 · 10-27: blue 1 yellow 5 red 0"
    app = app_for(tui_db, "ducha1", lang="en")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert long in _lines(screen_text(app))
    app = app_for(tui_db, "ducha1", lang="en")
    async with app.run_test(size=PLAIN) as pilot:
        await settle(pilot)
        assert cell_len(long) > PLAIN[0] - 2
        assert short in _lines(screen_text(app))
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#view-ahead", DataTable)
        assert [str(c.label) for c in table.columns.values()][1:] == [
            "Next working day (10-21)", "5 working days (to 10-27)"]
        assert _table_rows(table)[0][1:] == ["blue 0 yellow 3 red 0", "blue 1 yellow 4 red 0"]


async def test_a_leader_of_a_county_sees_the_cards_ahead_of_their_scope(screen_text, settle, tui_db, store):
    # every appeal of the fixture is 岱岳区's: the county's leader sees them all (read-only)
    app = app_for(tui_db, "daiyue-lead")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert STRIP_ZH in _lines(screen_text(app))


async def test_the_forecast_is_read_in_a_worker_one_at_a_time_and_follows_changes(
        monkeypatch, screen_text, settle, tui_db, store):
    """Never on the UI thread, one read at a time; refreshes asked for in a burst make one
    read, after a pause of 4 times the last read's duration (ctrl+r reads at once); an
    answer given in another process takes its card off the strip."""
    calls: list[str] = []
    running = [0, 0]                       # now, most at once
    real = board.board_forecast

    def slow(store_, act, at=None):
        running[0] += 1
        running[1] = max(running[1], running[0])
        calls.append(threading.current_thread().name)
        try:
            time.sleep(0.05)
            return real(store_, act, at)
        finally:
            running[0] -= 1

    monkeypatch.setattr(board, "board_forecast", slow)
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(calls) == 1 and threading.main_thread().name not in calls
        assert screen._ahead_cost >= 0.05
        screen.AHEAD_PAUSE = 1000          # (the timer is fired by hand below: no race with the clock)
        for _ in range(4):
            screen.reload()                # as the live refresh does
        await settle(pilot)
        assert len(calls) == 1 and screen._ahead_timer is not None      # held back
        screen._ahead_timer.stop()
        screen._ahead_timer_fired()
        await settle(pilot)
        assert len(calls) == 2 and screen._ahead_timer is None
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(calls) == 3
        wf.reply_appeal(store, "zrzy1", "A-2026-0006", "已答复", at="2026-10-20T09:30:00+08:00")
        app.poll_changes()
        await settle(pilot)
        assert len(calls) == 3 and screen._ahead_timer is not None
        screen._ahead_timer.stop()
        screen._ahead_timer_fired()
        await settle(pilot)
        assert len(calls) == 4 and running[1] == 1
        assert "4 预警 下一工作日（10-21）：蓝0 黄3 红0　5个工作日内（至10-27）：蓝1 黄4 红0" in _lines(screen_text(app))


async def _warmed_up(pilot, app):
    """Until the console's start is done (``_warm_up``: the board's cards ahead read)."""
    for _ in range(200):
        if app._heap_settled or (not app._ahead_prefetching and app._ahead_prefetch is not None):
            return
        await pilot.pause(0.02)
    raise AssertionError("the warm-up did not end")


async def test_the_boards_first_visit_shows_the_cards_ahead_read_at_start(
        monkeypatch, screen_text, settle, tui_db, store):
    """The admin's first screen is the inbox: the console's warm-up reads the board's cards
    ahead, and the board's first visit shows them with its columns, reading none itself; a
    commit concerning the appeals since then has them shown and read again (the next
    working day's yellow 4 -> 3 once A-2026-0006 is answered: the module's table)."""
    from taian_tui.console import app as app_module

    monkeypatch.setattr(app_module, "WARM_UP_AFTER", 0.05)
    calls: list[str] = []
    real = board.board_forecast

    def counted(store_, act, at=None):
        calls.append(threading.current_thread().name)
        return real(store_, act, at)

    monkeypatch.setattr(board, "board_forecast", counted)
    app = app_for(tui_db, "admin")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _warmed_up(pilot, app)
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert len(calls) == 1 and threading.main_thread().name not in calls
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        assert len(calls) == 1                      # none of its own
        assert STRIP_ZH in _lines(screen_text(app))
        assert app._ahead_prefetch is None          # taken, once

    # a change between the start's read and the first visit: shown, then read again
    calls.clear()
    app = app_for(tui_db, "admin")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await _warmed_up(pilot, app)
        await settle(pilot)
        assert len(calls) == 1
        wf.reply_appeal(store, "zrzy1", "A-2026-0006", "已答复", at="2026-10-20T09:30:00+08:00")
        app.poll_changes()
        await settle(pilot)
        monkeypatch.setattr(BoardScreen, "AHEAD_PAUSE", 1000)  # (the timer is fired by hand below)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert STRIP_ZH in _lines(screen_text(app))  # the start's, at once
        assert screen._ahead_timer is not None       # and a read planned (as after a refresh)
        screen._ahead_timer.stop()
        screen._ahead_timer_fired()
        await settle(pilot)
        assert len(calls) == 2
        assert "4 预警 下一工作日（10-21）：蓝0 黄3 红0　5个工作日内（至10-27）：蓝1 黄4 红0" in _lines(screen_text(app))


async def test_a_supervisors_board_is_their_first_screen_and_nothing_is_read_twice(
        monkeypatch, settle, tui_db):
    from taian_tui.console import app as app_module

    monkeypatch.setattr(app_module, "WARM_UP_AFTER", 0.05)
    calls: list[str] = []
    real = board.board_forecast

    def counted(store_, act, at=None):
        calls.append("read")
        return real(store_, act, at)

    monkeypatch.setattr(board, "board_forecast", counted)
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        for _ in range(20):
            await pilot.pause(0.02)
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert calls == ["read"] and not app._ahead_prefetching and app._ahead_prefetch is None


async def test_unit_names_show_literally_in_the_ahead_view(settle, tui_db, store):
    with store.transaction():
        store.conn.execute("UPDATE units SET name = '[bold red]自然[/] \x1b[2J资源' WHERE code = 'zrzy'")
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#view-ahead", DataTable)
        assert _table_rows(table)[0][0] == "[bold red]自然[/] \\x1b[2J资源"


async def test_liaison_lists_what_turns_yellow_by_the_next_working_day(screen_text, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=PLAIN) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        assert [r.ref for r in screen.rows] == ["A-2026-0001", "A-2026-0003", "A-2026-0005",
                                                "A-2026-0006", "A-2026-0007"]
        await pilot.press("w")
        await settle(pilot)
        assert screen.current_filter().turns == "yellow"
        assert [r.ref for r in screen.rows] == ["A-2026-0003", "A-2026-0005", "A-2026-0006"]
        assert screen.total == 3
        status = str(screen.query_one("#status", Static).render())
        assert "下一工作日开始时将挂黄牌（如仍未答复）" in status
        assert "即将转黄" in screen_text(app)             # the due filter says so
        await pilot.press("w")
        await settle(pilot)
        assert screen.current_filter().turns is None
        assert len(screen.rows) == 5


async def test_the_supervisor_filters_the_whole_city_turning_yellow(settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        screen.action_turns_yellow()
        await settle(pilot)
        assert [r.ref for r in screen.rows] == ["A-2026-0003", "A-2026-0004", "A-2026-0005", "A-2026-0006"]
