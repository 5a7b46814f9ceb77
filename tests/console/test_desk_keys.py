"""Keys behave as people expect (issue 13, point 5), at a fixed size: Home/End go to the
first and last row of the whole list (not only of the page); after a filter is chosen the
focus is back on the list; the arrows move between a dialog's buttons; the buttons say what
they do."""
from __future__ import annotations

import threading

import pytest

from textual.widgets import Button, DataTable, Select

from taian_tui.console.app import TaianApp
from taian_tui.screens.forms import AcceptForm
from taian_tui.screens.inbox import InboxScreen

SIZE = (120, 36)
PAGE = 50


async def test_home_and_end_go_to_the_ends_of_the_whole_list(settle, demo_db):
    app = TaianApp(demo_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        await settle(pilot)
        total = screen.total
        assert total > 2 * PAGE
        first = screen.row_key(screen.rows[0])
        await pilot.press("end")
        await settle(pilot)
        last_page = (total - 1) // PAGE
        assert screen.page == last_page
        table = screen.query_one("#table", DataTable)
        assert table.cursor_row == total - last_page * PAGE - 1
        assert screen.current_key() == screen.row_key(screen.rows[-1])
        await pilot.press("home")
        await settle(pilot)
        assert (screen.page, table.cursor_row, screen.current_key()) == (0, 0, first)
        await pilot.press("down", "down", "end")             # on one page: its last row
        await settle(pilot)
        await pilot.press("home")
        await settle(pilot)
        assert (screen.page, table.cursor_row) == (0, 0)


async def test_after_choosing_a_filter_the_focus_is_back_on_the_list(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        select = screen.query(Select).first()
        before = select.value
        select.focus()
        await pilot.press("enter")                  # open the choices
        await settle(pilot)
        await pilot.press("down", "enter")          # take the next one
        await settle(pilot)
        assert select.value != before
        assert app.focused is screen.query_one("#table", DataTable)


async def test_arrows_move_between_the_buttons_of_a_dialog(settle, tui_db):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        keys = [screen.row_key(r) for r in screen.rows]
        table.move_cursor(row=keys.index("A-2026-0003"))      # assigned: it can be accepted
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AcceptForm)
        save, cancel = form.query_one("#save", Button), form.query_one("#cancel", Button)
        assert (str(save.label), str(cancel.label)) == ("签收", "取消")
        assert app.focused is save
        await pilot.press("right")
        assert app.focused is cancel
        await pilot.press("right")
        assert app.focused is save
        await pilot.press("left")
        assert app.focused is cancel
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen


async def test_a_greyed_key_says_why(settle, tui_db):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        keys = [screen.row_key(r) for r in screen.rows]
        screen.query_one("#table", DataTable).move_cursor(row=keys.index("A-2026-0006"))   # accepted 10-13
        await settle(pilot)
        assert screen.check_action("return_appeal", ()) is None                         # greyed
        why = screen.query_one("#why")
        assert str(why.render()) == ("不可用：退回 规则：诉求只能在交办后 2 个工作日内退回；A-2026-0006 于 "
                                     "2026-10-13 交办，退回期限已于 2026-10-15 届满")
        table = screen.query_one("#table", DataTable)
        table.move_cursor(row=keys.index("A-2026-0007"))                       # arrived Fri 10-16: all offered
        await settle(pilot)
        assert why.has_class("-empty")


async def test_pressing_a_greyed_key_says_why(settle, tui_db):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        keys = [screen.row_key(r) for r in screen.rows]
        screen.query_one("#table", DataTable).move_cursor(row=keys.index("A-2026-0006"))   # accepted 10-13
        await settle(pilot)
        assert screen.check_action("return_appeal", ()) is None and screen.check_action("accept", ()) is None
        await pilot.press("b")                                   # 退回, past its window
        await pilot.press("a")                                   # 签收: accepted already (not on the line)
        await settle(pilot)
        assert app.screen is screen                              # no form opened
        assert [n.message for n in app._notifications] == [
            "退回：规则：诉求只能在交办后 2 个工作日内退回；A-2026-0006 于 2026-10-13 交办，退回期限已于 2026-10-15 届满",
            "签收：诉求 A-2026-0006 当前为已签收状态，不能签收；只有处于已交办状态的诉求才能签收"]


async def test_z_shows_the_detail_over_the_whole_screen_and_pages_through_it(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=(80, 24)) as pilot:          # small: the detail starts hidden
        await settle(pilot)
        screen = app.screen
        detail = screen.query_one("#detail")
        table = screen.query_one("#table", DataTable)
        assert screen.detail_visible is False
        await pilot.press("z")
        await settle(pilot)
        assert screen.has_class("-zoomed") and app.focused is detail
        assert (table.display, detail.region.height) == (False, 24 - 1 - 1 - 1)   # header, status, footer
        assert detail.max_scroll_y > 0                         # the record is longer than a screen
        await pilot.press("pagedown")
        await settle(pilot)
        assert detail.scroll_y > 0
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.has_class("-zoomed") and app.focused is table


async def test_the_row_shows_extension_order_and_reply_and_the_reason_without_the_detail(settle, tui_db,
                                                                                         make_appeal):
    make_appeal("answered", ref="A-2026-0090", title="已答复的诉求")        # replied 09-30
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        states = {r.ref: str(screen._state_cell(r, 16)) for r in screen.rows}
        assert (states["A-2026-0001"], states["A-2026-0004"], states["A-2026-0003"]) == \
            ("已签收 督超", "已签收 延", "已交办")          # order due 10-19 passed; extension asked
        screen.query_one("#f-state", Select).value = "all"
        await settle(pilot)
        states = {r.ref: str(screen._state_cell(r, 16)) for r in screen.rows}
        assert states["A-2026-0090"] == "已答复 09-30"
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=(80, 24)) as pilot:          # the detail is hidden at 80x24
        await settle(pilot)
        screen = app.screen
        assert screen.current_key() == "A-2026-0001" and screen.detail_visible is False
        assert str(screen.query_one("#why").render()).startswith("不可用：退回 规则：诉求只能在交办后 2 个工作日内退回")


async def test_the_boards_key_date_is_readable_at_80x24(settle, screen_text, tui_db):
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # A-2026-0001 (red): its order was due 10-19, 6 working days past the deadline; the
        # column (23 cells) takes the short words, whole (it read "督办至10-19 · 超期6 …")
        assert "督至10-19 · 超6工作日" in screen_text(app)


def hold_page_reads(screen) -> threading.Event:
    """The screen's page reads wait (in their worker threads) until the returned event is set."""
    gate = threading.Event()
    fetch = screen.fetch

    def held_fetch(*args, **kw):
        gate.wait(10)
        return fetch(*args, **kw)
    screen.fetch = held_fetch
    return gate


async def test_the_focus_goes_back_to_the_list_even_when_a_refresh_overtakes_the_filters_page(settle, tui_db):
    # the table takes the focus with the filter's page; a live refresh that starts before that
    # page is read (its page replaces the filter's) must not leave the focus on the select
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        select = screen.query(Select).first()
        select.focus()
        await pilot.press("enter")
        await settle(pilot)
        gate = hold_page_reads(screen)              # until the refresh is asked
        await pilot.press("down", "enter")
        await pilot.pause()
        generation = screen.generation
        screen.refresh_data()                       # overtakes the filter's request
        assert screen.generation == generation + 1
        gate.set()
        await settle(pilot)
        await pilot.pause(0.3)
        assert app.focused is screen.query_one("#table", DataTable)


async def test_a_count_read_before_its_page_is_shown_after_it(settle, tui_db):
    # the count runs beside the page: when it comes first it waits, and the page, then its
    # count, are shown as when they come in order
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.total == 6                    # the admin's 待办 of the fixture city
        shown = []
        page_shown, total_shown = screen.page_shown, screen.total_shown
        screen.page_shown = lambda request: (shown.append(("page", screen.total)), page_shown(request))
        screen.total_shown = lambda request: (shown.append(("total", screen.total)), total_shown(request))
        gate = hold_page_reads(screen)
        # due today (Tue 10-20): A-0003, A-0005 and A-0006 (the fixture's docstring), and
        # A-0004, which arrived on 10-13 as they did (Day 5: 10-20; its extension is pending)
        await pilot.press("t")
        for _ in range(50):                         # the count is read while the page waits
            await pilot.pause(0.02)
            if screen._early_total is not None:
                break
        assert screen._early_total is not None and screen._early_total.total == 4
        assert shown == [] and screen.total == 6
        gate.set()
        await settle(pilot)
        assert shown == [("page", None), ("total", 4)]
        assert screen.total == 4 and [r.ref for r in screen.rows] == [
            "A-2026-0003", "A-2026-0004", "A-2026-0005", "A-2026-0006"]


async def test_a_select_lists_key_and_the_palettes_no_match_are_in_chinese(settle, tui_db):
    from textual.command import CommandList
    from textual.widgets._footer import FooterKey

    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        select = screen.query_one("#f-category", Select)
        select.focus()
        await pilot.press("enter")                             # its list open
        await settle(pilot)
        assert select.expanded
        keys = {k.key: k.description for k in screen.query(FooterKey)}
        assert keys["escape"] == "关闭列表"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"qqqq")
        await pilot.pause(0.8)                                 # Textual waits 0.5 s to say it
        await settle(pilot)
        options = app.screen.query_one(CommandList)
        assert [str(options.get_option_at_index(i).prompt.renderable) for i in range(options.option_count)] \
            == ["没有匹配的命令"]


async def test_pagedown_on_a_list_of_one_page_goes_to_its_last_row(settle, tui_db):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        n = len(screen.rows)
        assert 1 < n < PAGE and not screen.has_next_page() and table.cursor_row == 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert (screen.page, table.cursor_row) == (0, n - 1)
        await pilot.press("pageup")
        await settle(pilot)
        assert (screen.page, table.cursor_row) == (0, 0)


async def test_the_screens_keys_follow_the_width_after_a_resize(settle, tui_db):
    from textual.widgets._footer import FooterKey

    def fkeys(app):
        return [k.key for k in app.screen.query(FooterKey) if k.key.startswith("f") and k.key[1:].isdigit()]

    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=(80, 24)) as pilot:            # narrow: no function keys shown
        await settle(pilot)
        assert fkeys(app) == []
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert fkeys(app) == ["f2", "f3", "f4", "f5", "f6", "f7", "f8"]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert fkeys(app) == []


async def test_the_help_explains_the_one_character_columns_and_marks(settle, tui_db):
    from textual.widgets import Static

    from taian_tui.screens.common import HelpScreen

    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        legend = [line for line in text.splitlines() if line.startswith("列与标记：")]
        assert legend == ["列与标记：牌 = 挂牌（蓝、黄、红）；剩余 = 距答复期限的工作日（今天 = 今日到期，超N = "
                          "已超期 N 个工作日）；状态后的 延 = 延期申请待审批，督 = 有未结督办单，督超 = 督办单已逾期，"
                          "日期 = 答复日期。按下灰色的键会显示不可用的原因。"]


async def test_a_countys_leader_sees_which_unit_has_each_appeal(settle, tui_db):
    # 岱岳区's head sees the appeals of 岱岳区 whatever unit has them (zrzy's and sthj's too):
    # the unit column is shown, as for the city's viewers; a liaison's list has none
    for user, shown in (("daiyue-lead", True), ("zrzy1", False)):
        app = TaianApp(tui_db, username=user, poll=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#table", DataTable)
            assert ("承办单位" in [str(c.label) for c in table.columns.values()]) is shown, user


@pytest.mark.parametrize("user, lang, size, key, dropped", [
    ("bianji", "en", (80, 24), "f7", ["question_mark"]),         # the editor's own keys stay
    ("admin", "zh", (120, 40), "f5", ["f8"]),                      # an F-key goes first
])
async def test_the_footers_keys_fit_beside_the_palettes_key(settle, board_db, user, lang, size, key, dropped):
    """Keys that do not fit are left out (F-keys first, then ? help, then the last ones)
    rather than drawn under the palette's key (which left a stray character after it)."""
    from textual.widgets._footer import FooterKey

    from taian_tui.console.app import TaianApp
    from taian_tui.console.widgets import KeysFooter

    app = TaianApp(board_db, username=user, poll=False, lang=lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        await pilot.pause(0.1)
        footer = app.screen.query_one(KeysFooter)
        keys = [w for w in footer.query(FooterKey) if not w.has_class("-command-palette")]
        palette = next(w for w in footer.query(FooterKey) if w.has_class("-command-palette"))
        assert [w.key for w in keys if not w.display] == dropped
        assert max(w.region.right for w in keys if w.display) <= palette.region.x
