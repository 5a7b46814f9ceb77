"""The console driven through Textual's Pilot, at fixed terminal sizes, on a small city
(tests/test_tui_fixtures.py): real flows of each role, refusals inside forms, search,
safe display of hostile titles, paging, live refresh."""
from __future__ import annotations

import json
import re

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input, Select, TextArea

from taian_tui.domain import operations as wf
from taian_tui.console.app import TaianApp
from taian_tui.screens.common import HelpScreen, SignInScreen
from taian_tui.screens.escalation import BoardScreen, CardList, RedCardScreen
from taian_tui.screens.forms import (AcceptForm, DecideExtensionForm, ExtendForm,
                                     OrderForm, ReassignForm, ReplyForm, ReviewDisputeForm,
                                     TakeUpForm)
from taian_tui.screens.inbox import PAGE_SIZE, InboxScreen


SIZE = (120, 36)


def app_for(db, user, **kw) -> TaianApp:
    return TaianApp(db, username=user, poll=False, **kw)


def refs(screen: InboxScreen) -> list[str]:
    return [r.ref for r in screen.rows]


@pytest.fixture
def select_ref(settle):
    async def select_ref(pilot, ref: str) -> None:
        screen = pilot.app.screen
        table = screen.query_one("#table", DataTable)
        index = refs(screen).index(ref)
        table.move_cursor(row=index)
        await settle(pilot)
        assert screen.current_key() == ref
    return select_ref


@pytest.fixture
def set_select(settle):
    async def set_select(pilot, selector: str, value) -> None:
        pilot.app.screen.query_one(selector, Select).value = value
        await settle(pilot)
    return set_select


# -- sign-in and the screen of each role ------------------------------------------------------------
@pytest.mark.parametrize("user, screen_cls", [
    ("zrzy1", InboxScreen), ("admin", InboxScreen), ("shizhang", InboxScreen),
    ("daiyue-lead", InboxScreen), ("ducha1", BoardScreen), ("jiwei1", RedCardScreen),
])
async def test_each_role_opens_on_its_screen(screen_text, settle, tui_db, user, screen_cls):
    app = app_for(tui_db, user)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, screen_cls)
        text = screen_text(app)
        assert app.user.name in text
        assert "2026-10-20" in text and "周二" in text


async def test_header_shows_user_unit_date_and_counts(screen_text, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = screen_text(app).splitlines()[0]
        assert "自然资源联络员" in first and "联络员" in first and "市自然资源和规划局" in first
        # open: 0001 0003 0005 0006 0007; due today: 0003 0005 0006; carded: 0001 0003 0005 0006
        assert "在办 5 · 今日到期 3 · 挂牌 4" in first


async def test_no_user_shows_sign_in_list(screen_text, settle, tui_db):
    app = TaianApp(tui_db, username=None, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        text = screen_text(app)
        assert "zrzy1" in text and "ducha1" in text
        lst = app.screen.query_one("#signin-users")
        lst.highlighted = [o.id for o in lst.options].index("ducha1")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app.username == "ducha1"


async def test_unknown_user_is_told_and_offered_the_list(screen_text, settle, tui_db):
    app = TaianApp(tui_db, username="nobody", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "nobody" in screen_text(app)


# -- the inbox -----------------------------------------------------------------------------------------
async def test_liaison_sees_only_own_unit_by_deadline(screen_text, set_select, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert refs(screen) == ["A-2026-0001", "A-2026-0003", "A-2026-0005", "A-2026-0006",
                                "A-2026-0007"]
        # all states: the disputed one too, never sthj's A-0004
        await set_select(pilot, "#f-state", "all")
        assert "A-2026-0002" in refs(screen) and "A-2026-0004" not in refs(screen)
        text = screen_text(app)
        assert "已签收" in text and "已交办" in text and "红" in text  # labels, not codes
        assert "accepted" not in text


async def test_liaison_accepts_and_replies_and_the_appeal_leaves_the_due_list(screen_text, select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("t")  # due today
        await settle(pilot)
        assert refs(screen) == ["A-2026-0003", "A-2026-0005", "A-2026-0006"]
        await select_ref(pilot, "A-2026-0003")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AcceptForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert store.appeal("A-2026-0003").state == "accepted"
        assert screen.current_key() == "A-2026-0003"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyForm)
        await pilot.press(*"已协调")
        app.screen.query_one("#reply", TextArea).insert("，指标已下达。")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        appeal = store.appeal("A-2026-0003")
        assert appeal.state == "answered"
        assert appeal.reply == "已协调，指标已下达。"
        assert refs(screen) == ["A-2026-0005", "A-2026-0006"]
        assert "今日到期 2" in screen_text(app).splitlines()[0]


async def test_empty_reply_is_caught_by_the_form(select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0001")
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ReplyForm)
        assert form.last_error == "请填写答复内容"
        assert store.appeal("A-2026-0001").state == "accepted"


async def test_refused_reply_keeps_the_text_in_the_form(screen_text, select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0001")
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        typed = "经与市自然资源局会商，指标将于下月下达。\n第二段"
        form.query_one("#reply", TextArea).insert(typed)
        # meanwhile the admin answered it elsewhere: the appeal is no longer `accepted`
        wf.reply_appeal(store, "admin", "A-2026-0001", "管理员已答复")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form, "the form stays open"
        # the store's refusal, in the console's language (Chinese by default)
        assert "诉求 A-2026-0001 当前为已答复状态，不能答复" in form.last_error
        assert form.query_one("#reply", TextArea).text == typed
        assert "不能答复" in screen_text(app)
        assert store.appeal("A-2026-0001").reply == "管理员已答复"
        await pilot.press("escape")                      # typed text: asks, and keeps the draft
        await settle(pilot)
        await pilot.click("#choice-keep")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert store.one("SELECT fields FROM editor_autosave WHERE username = 'zrzy1' "
                         "AND item = 'form:ReplyForm:A-2026-0001'")[0] == json.dumps({"reply": typed},
                                                                                   ensure_ascii=False)


async def test_return_is_offered_only_within_the_window(select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0003")  # arrived 10-13: the 2-day window closed 10-15
        inbox = app.screen
        assert inbox.check_action("return_appeal", ()) is None      # shown greyed, not offered
        await pilot.press("b")
        await settle(pilot)
        assert app.screen is inbox                                   # no form opened
        await select_ref(pilot, "A-2026-0007")  # arrived Fri 10-16: window open to Tue 10-20
        assert inbox.check_action("return_appeal", ()) is True
        assert store.appeal("A-2026-0003").state == "assigned"


async def test_refused_return_outside_the_window_shows_the_rule(monkeypatch, select_ref, settle, tui_db,
                                                                store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0007")  # arrived Fri 10-16: window open to Tue 10-20
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        # the form names the window's last day (Mon 10-19, Tue 10-20: the 2nd working day)
        assert str(form.query_one("#form-facts").render()) == "可退回至 2026-10-20 24 时（到达后 2 个工作日内）"
        form.query_one("#reason", TextArea).insert("不属于本单位职责")
        monkeypatch.setenv("TAIAN_NOW", "2026-10-21T09:00:00+08:00")  # the window closes meanwhile
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "2 个工作日内退回" in form.last_error
        assert form.query_one("#reason", TextArea).text == "不属于本单位职责"
        assert store.appeal("A-2026-0007").state == "assigned"


async def test_extension_form_validates_days_then_saves(select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0007")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ExtendForm)
        await pilot.press("0")
        form.query_one("#reason", TextArea).insert("需报省厅审批")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "天数须为 1–20 的整数"
        form.query_one("#days", Input).value = "3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
        ext = store.one("SELECT * FROM extensions WHERE requested_by = 'zrzy1'")
        assert ext["days"] == 3 and ext["state"] == "pending" and ext["reason"] == "需报省厅审批"


async def test_actions_follow_role_and_state(screen_text, select_ref, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await select_ref(pilot, "A-2026-0003")  # assigned
        assert screen.check_action("accept", ()) is True
        assert screen.check_action("reply", ()) is None       # greyed: not accepted yet
        assert screen.check_action("reassign", ()) is False   # admin only: hidden
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is screen                           # nothing opened
        footer = screen_text(app).splitlines()[-1]
        assert "签收" in footer and "改派" not in footer


async def test_admin_reassigns(select_ref, settle, tui_db, store):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0007")
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ReassignForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请选择改派至"
        form.query_one("#unit", Select).value = "sthj"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
        assert store.appeal("A-2026-0007").unit_code == "sthj"


async def test_search_finds_two_character_words(screen_text, settle, tui_db):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash")
        assert app.focused is screen.query_one("#f-search")
        await pilot.press(*"环评", "enter")
        await settle(pilot)
        assert refs(screen) == ["A-2026-0004"]
        assert app.focused is screen.query_one("#table")
        assert "搜索“环评”" in screen_text(app)
        search = screen.query_one("#f-search", Input)
        search.value = "土地"  # in A-0003's body
        await pilot.pause(0.4)
        await settle(pilot)
        assert refs(screen) == ["A-2026-0003"]


async def test_a_ref_or_a_number_finds_the_appeal_whatever_the_filters(screen_text, settle, tui_db):
    """A-2026-0002 is disputed: not in a liaison's 待办. Searched by its ref (any case) or its
    number, it is found; the status line says the filters were set aside; words still obey
    them."""
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "A-2026-0002" not in refs(screen)
        search = screen.query_one("#f-search", Input)
        for typed in ("a-2026-0002", "0002"):
            search.value = typed
            await pilot.press("slash", "enter")
            await settle(pilot)
            assert refs(screen) == ["A-2026-0002"], typed
            assert f"搜索“{typed}”（按编号查找，不限筛选）" in screen_text(app)
        assert screen.query_one("#f-state", Select).value == "todo"
        search.value = "土地"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert "A-2026-0002" not in refs(screen) and "按编号查找" not in screen_text(app)


async def test_a_supervisor_at_80_columns_in_english_keeps_the_unit_and_the_search_box(settle, tui_db):
    """80x24, English: the filter bar's selects narrow so that the search box is on screen;
    the unit column (whom to call) stays, the enterprise goes first; an overdue order's mark
    is whole ("SO late")."""
    app = TaianApp(tui_db, username="ducha1", poll=False, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        search = screen.query_one("#f-search", Input)
        assert search.region.right <= 80 and search.region.width >= 12
        table = screen.query_one("#table", DataTable)
        keys = [str(k.value) for k in table.columns]
        assert "unit" in keys and "enterprise" not in keys
        row = next(i for i in range(table.row_count) if str(table.get_row_at(i)[1]) == "A-2026-0001")
        assert str(table.get_row_at(row)[-1]) == "accepted SO late"


async def test_a_liaisons_state_filter_offers_no_state_they_never_have(settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        options = [str(label) for label, _ in app.screen.query_one("#f-state", Select)._options]
        assert options == ["待办", "全部状态", "已交办", "已签收", "已答复", "有异议", "已退回", "已办结"]


async def test_filters_by_category_card_unit(set_select, settle, tui_db):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await set_select(pilot, "#f-card", "red")
        assert refs(screen) == ["A-2026-0001"]
        await set_select(pilot, "#f-card", "all")
        await set_select(pilot, "#f-unit", "sthj")
        assert refs(screen) == ["A-2026-0004"]
        await set_select(pilot, "#f-unit", "all")
        await set_select(pilot, "#f-category", "environment")
        assert refs(screen) == ["A-2026-0004"]
        await pilot.press("c")
        await settle(pilot)
        assert len(refs(screen)) == 6


async def test_detail_shows_appeal_enterprise_project_and_timeline(select_ref, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0001")
        body = app.screen.query_one("#detail-body").render()
        text = str(body)
        for part in ("A-2026-0001", "红牌", "用地指标落实", "请协调用地指标", "泰安示范新材料有限公司",
                     "统一社会信用代码", "督办单", "黄牌自动督办", "挂牌记录", "办理过程", "提交诉求",
                     "签收", "挂红牌", "自然资源联络员"):
            assert part in text, part


async def test_hostile_titles_show_literally(hostile, screen_text, select_ref, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        titles = [table.get_row(r.ref)[4].plain for r in screen.rows]
        assert any(t.startswith("[/b] 标记 [red]x[/red]") or t.startswith("[/b] 标记") for t in titles)
        evil = table.get_row("A-2026-0006")[4].plain
        assert evil.startswith("\\x1b[2J\\x07清屏 🚧 [bold]")
        assert "\x1b" not in evil and "\x07" not in evil
        await select_ref(pilot, "A-2026-0005")
        detail = str(screen.query_one("#detail-body").render())
        assert hostile.MARKUP_TITLE in detail
        assert "[link=http://x]点我[/link] [/]" in detail
        await select_ref(pilot, "A-2026-0006")
        detail = str(screen.query_one("#detail-body").render())
        assert "\\x1b[2J\\x07清屏 🚧 [bold]施工[/bold] \\u202eevil" in detail
        assert "第一行\n第二行" in detail
        text = screen_text(app)
        assert "[red]x[/red]" in text or "[red]x[/re" in text
        assert "\x1b" not in text
        # the forms show it literally too
        await pilot.press("r")
        await settle(pilot)
        assert "\\x1b[2J" in screen_text(app)


async def test_chinese_columns_line_up(screen_text, settle, tui_db):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        header = next(i for i, line in enumerate(lines) if "编号" in line and "期限" in line)
        end = next(i for i, line in enumerate(lines) if line.startswith("────"))
        rows = [line for line in lines[header + 1:end] if re.search(r"A-2026-00\d\d", line)]
        assert len(rows) >= 5
        starts = set()
        for line in rows:
            m = re.search(r"\d\d-\d\d  +\d\d-\d\d", line)  # arrival and deadline
            assert m, line
            starts.add(cell_len(line[:m.start()]))
        assert len(starts) == 1, rows
        ref_starts = {cell_len(line[:line.index("A-2026")]) for line in rows}
        assert len(ref_starts) == 1


async def test_paging_reads_one_page_at_a_time(screen_text, settle, tui_db, store, submit):
    for i in range(8, 8 + 2 * PAGE_SIZE + 10):
        submit(f"A-2026-{i:04d}", at="2026-10-16T10:00:00+08:00", title=f"第{i}号诉求")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        assert table.row_count == PAGE_SIZE and screen.total == 115
        assert "第 1/3 页" in screen_text(app)
        first_page = refs(screen)
        await pilot.press("pagedown")
        await settle(pilot)
        assert screen.page == 1 and table.row_count == PAGE_SIZE
        assert not set(refs(screen)) & set(first_page)
        assert "第 2/3 页 · 第 51–100 条，共 115 条" in screen_text(app)
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.row_count == 15
        await pilot.press("pagedown")  # no fourth page
        await settle(pilot)
        assert screen.page == 2
        # moving up past the first row goes to the last row of the previous page
        table.move_cursor(row=0)
        await pilot.press("up")
        await settle(pilot)
        assert screen.page == 1 and table.cursor_row == PAGE_SIZE - 1


async def test_a_page_emptied_elsewhere_goes_back_a_page(screen_text, settle, tui_db, store, submit):
    for i in range(8, 8 + 2 * PAGE_SIZE + 10):
        submit(f"A-2026-{i:04d}", at="2026-10-16T10:00:00+08:00", title=f"第{i}号诉求")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        assert screen.page == 2 and len(screen.rows) == 15
        # another process answers every appeal of the last page: it leaves the to-do list
        for ref in refs(screen):
            wf.accept_appeal(store, "zrzy1", ref)
            wf.reply_appeal(store, "zrzy1", ref, "已办理")
        app.data_changed()
        await settle(pilot)
        table = screen.query_one("#table", DataTable)
        assert screen.page == 1 and screen.total == 100
        assert table.row_count == PAGE_SIZE and table.cursor_row == PAGE_SIZE - 1
        assert "第 2/2 页 · 第 51–100 条，共 100 条" in screen_text(app)


@pytest.mark.parametrize("user, key, other, screen_cls", [
    ("admin", "f2", "f3", InboxScreen), ("admin", "f3", "f2", BoardScreen), ("admin", "f5", "f2", None),
    ("admin", "f8", "f2", None), ("admin", "f4", "f2", RedCardScreen)])
async def test_every_live_screen_rereads_when_the_file_changes(settle, tui_db, user, key, other, screen_cls):
    """In the current screen stack (a modal above it too): read again at once; in another
    mode's stack: marked stale, read again when shown."""
    app = app_for(tui_db, user)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        screen = app.screen
        assert screen_cls is None or isinstance(screen, screen_cls)
        assert screen in app._live
        before = screen.generation
        app.data_changed()
        await settle(pilot)
        assert screen.generation == before + 1
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        app.data_changed()
        await settle(pilot)
        assert screen.generation == before + 2
        await pilot.press("escape", other)
        await settle(pilot)
        assert app.screen is not screen
        app.data_changed()
        await settle(pilot)
        assert screen.stale and screen.generation == before + 2
        await pilot.press(key)
        await settle(pilot)
        assert app.screen is screen and not screen.stale and screen.generation == before + 3


async def test_live_refresh_keeps_cursor_and_leaves_open_forms_alone(screen_text, select_ref, settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await select_ref(pilot, "A-2026-0007")
        # another process accepts A-0003 and replies to A-0001 (which leaves the to-do list)
        wf.accept_appeal(store, "zrzy1", "A-2026-0003")
        wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已答复")
        app.poll_changes()
        await settle(pilot)
        assert "A-2026-0001" not in refs(screen)
        assert screen.current_key() == "A-2026-0007"
        row = next(r for r in screen.rows if r.ref == "A-2026-0003")
        assert row.state == "accepted"
        assert "在办 4" in screen_text(app).splitlines()[0]
        # an open form is not touched by a refresh
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        form.query_one("#reason", TextArea).focus()
        await pilot.press(*"正在填写")
        wf.accept_appeal(store, "zrzy1", "A-2026-0005")
        app.poll_changes()
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#reason", TextArea).text == "正在填写"
        assert app.focused is form.query_one("#reason")


async def test_poll_is_cheap_when_nothing_changed(settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        generation = app.screen.generation
        app.poll_changes()
        app.poll_changes()
        await settle(pilot)
        assert app.screen.generation == generation


# -- the escalation board --------------------------------------------------------------------------
async def test_board_columns_show_counts_units_overdue_and_order_due(screen_text, settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        text = screen_text(app)
        assert "蓝牌（4）" in text and "黄牌（0）" in text and "红牌（1）" in text
        red = screen.board.columns["red"].items[0]
        assert red.ref == "A-2026-0001" and red.days_left == -6 and red.order_due.startswith("2026-10-19")
        assert "督办至10-19 · 超期6工作日" in text
        assert "市自然资源和规划局" in text
        assert "延期申请（1）" in text and "不满意复核（1）" in text


async def test_the_board_and_the_detail_under_its_cursor_come_in_one_read(monkeypatch, screen_text, settle,
                                                                         tui_db):
    """The columns and the detail of the appeal the cursor lands on are read in one job (one
    frame): no detail read of its own when the board is shown or refreshed, unless the cursor
    lands elsewhere than the job guessed."""
    from taian_tui.console import app as app_module

    tasks = []
    run = app_module.InConsole.run_in_store

    def recording(self, task, fn, **kw):
        tasks.append(task)
        return run(self, task, fn, **kw)
    monkeypatch.setattr(app_module.InConsole, "run_in_store", recording)
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # the blue column's first card (the cursor's start), its detail shown
        first = screen.board.columns["blue"].items[0].ref
        assert (screen.selected_ref(), screen.detail_ref) == (first, first)
        assert first in screen_text(app).split("─" * 20)[-1]
        assert tasks.count("board-load") == 1 and "board-detail" not in tasks
        # a refresh: the cursor stays on its card, again with no read of its own
        screen.reload()
        await settle(pilot)
        assert tasks.count("board-load") == 2 and "board-detail" not in tasks
        assert screen.detail_ref == first
        # the cursor moved by the user: the detail of the card it is on, read on its own
        await pilot.press("down")
        await settle(pilot)
        second = screen.board.columns["blue"].items[1].ref
        assert (screen.selected_ref(), screen.detail_ref, tasks.count("board-detail")) == (second, second, 1)


async def test_supervisor_turns_a_dispute_into_a_supervision_order(screen_text, settle, tui_db, store):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert screen.selected_ref() == "A-2026-0002"
        await pilot.press("v")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ReviewDisputeForm)
        form.query_one("#note", TextArea).insert("单位答复未解决实际问题")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请选择复核结论"
        form.query_one("#fault", Select).value = "at_fault"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        appeal = store.appeal("A-2026-0002")
        assert appeal.state == "accepted"
        orders = store.orders(appeal.id)
        assert [(o.origin, o.state) for o in orders] == [("dispute", "open")]
        assert appeal.deadline == orders[0].due_at
        assert "不满意复核（0）" in screen_text(app)


async def test_supervisor_approves_an_extension(screen_text, settle, tui_db, store):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DecideExtensionForm)
        assert "需补充专家论证" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        ext = store.one("SELECT * FROM extensions")
        assert ext["state"] == "approved" and ext["decided_by"] == "ducha1"
        assert store.appeal("A-2026-0004").deadline == ext["new_deadline"]


async def test_supervisor_opens_and_edits_an_order(screen_text, settle, tui_db, store):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.selected_ref() == "A-2026-0003"   # blue column, first item
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, OrderForm)
        form.query_one("#due", Input).value = "2026-10-19"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "督办期限须晚于当前时间"
        form.query_one("#due", Input).value = "2026-10-23 17:00"
        form.query_one("#note", TextArea).insert("请于周五前答复")
        await pilot.press("ctrl+s")
        await settle(pilot)
        order = store.open_order(store.appeal("A-2026-0003").id)
        assert order.origin == "manual" and order.due_at == "2026-10-23T17:00:00+08:00"
        assert "督办至10-23 17:00" in screen_text(app)
        # editing the same order
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert form.order_id == order.id
        assert form.query_one("#due", Input).value == "2026-10-23 17:00"
        form.query_one("#due", Input).value = "2026-10-26"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.open_order(store.appeal("A-2026-0003").id).due_at == "2026-10-26T23:59:59+08:00"


async def test_board_columns_move_with_arrows(settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("right", "right")
        await settle(pilot)
        assert isinstance(app.focused, CardList) and app.focused.card == "red"
        assert app.screen.selected_ref() == "A-2026-0001"
        assert "A-2026-0001" in str(app.screen.query_one("#detail-body").render())


# -- the discipline commission -----------------------------------------------------------------------
async def test_discipline_sees_only_red_cards_and_records_take_up(screen_text, settle, tui_db, store):
    app = app_for(tui_db, "jiwei1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RedCardScreen)
        assert [r.ref for r in screen.rows] == ["A-2026-0001"]
        text = screen_text(app)
        assert "A-2026-0003" not in text and "待接办" in text
        detail = str(screen.query_one("#detail-body").render())
        assert "挂蓝牌" in detail and "挂黄牌" in detail and "挂红牌" in detail
        await pilot.press("f2")  # no inbox for the discipline commission
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, TakeUpForm)
        app.screen.query_one("#note", TextArea).insert("已立案初核")
        await pilot.press("ctrl+s")
        await settle(pilot)
        ev = store.one("SELECT * FROM card_events WHERE card = 'red'")
        assert ev["taken_up_by"] == "jiwei1" and ev["taken_up_note"] == "已立案初核"
        assert "已接办" in screen_text(app)
        assert screen.check_action("take_up", ()) is None
        await pilot.press("u")                                   # greyed: it says why
        await settle(pilot)
        assert app.screen is screen
        assert [n.message for n in app._notifications][-1] == "接办：A-2026-0001 的红牌已由 jiwei1 接办"


# -- help, palette, language -------------------------------------------------------------------------
async def test_help_lists_the_screen_keys(screen_text, settle, tui_db):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "签收" in text and "答复" in text and "环评" in text
        assert "Cursor up" not in text
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)


async def test_palette_commands_follow_the_active_screen(screen_text, settle, tui_db):
    from taian_tui.console.widgets import ScreenCommands

    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board_cmds = [c[0] for c in app.screen.palette_commands()]
        assert any(c.startswith("督办单") for c in board_cmds)
        provider = ScreenCommands(app.screen)
        hits = [h async for h in provider.search("不满意")]
        assert hits and "不满意复核" in hits[0].text
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        inbox_cmds = [c[0] for c in app.screen.palette_commands()]
        assert "按状态筛选：有异议" in inbox_cmds and not any(c.startswith("督办单") for c in inbox_cmds)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"有异议")
        await pilot.pause(0.3)
        await settle(pilot)
        assert "按状态筛选：有异议" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert refs(app.screen) == ["A-2026-0002"]


async def test_english(screen_text, settle, tui_db):
    app = app_for(tui_db, "zrzy1", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Ref" in text and "Due" in text and "Enterprise" in text
        assert "accepted" in text and "已签收" not in text
        assert "open 5 · due today 3 · carded 4" in text
        assert "Accept" in text.splitlines()[-1]


def test_every_binding_has_an_id():
    from taian_tui.screens import common, escalation, forms, inbox

    classes = [TaianApp, inbox.InboxScreen, inbox.AppealTable, escalation.BoardScreen,
               escalation.RedCardScreen, escalation.CardList, escalation.PagedTable,
               forms.ActionForm, common.SignInScreen, common.HelpScreen]
    for cls in classes:
        for binding in cls.BINDINGS:
            assert binding.id, (cls.__name__, binding.key)


def test_catalogue_has_both_languages():
    from taian_tui.console import strings as i18n
    from taian_tui.domain.labels import LABELS

    # one table keyed once: every key has both languages, non-empty, with the same placeholders
    for key, (zh, en) in i18n.STRINGS.items():
        assert zh and en, key
        assert sorted(re.findall(r"\{(\w+)", zh)) == sorted(re.findall(r"\{(\w+)", en)), key
    for kind, table in LABELS.items():
        for code, pair in table.items():
            assert len(pair) == 2, (kind, code)
    i18n.set_lang("zh")
    assert i18n.code_label("state", "submitted") == "待分派"
    assert i18n.code_label("state", "assigned") == "已交办"
    assert i18n.code_label("state", "disputed") == "有异议"
    assert i18n.code_label("category", "environment") == "环评"
    assert i18n.code_label("card", "yellow") == "黄牌"
    assert i18n.code_label("role", "leader") == "领导"
    assert i18n.t("status.page", page=1, pages=2, first=1, last=50, total=60, sort="x") == \
        "第 1/2 页 · 第 1–50 条，共 60 条 · x"


def test_visible_turns_controls_into_escapes():
    from taian_tui.console.widgets import plain, visible

    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("x\ny\tz") == "x y z"
    assert visible("x\ny", multiline=True) == "x\ny"
    assert visible("\u202eabc") == "\\u202eabc"
    text = plain("[red]x[/red] [/b]")
    assert text.plain == "[red]x[/red] [/b]" and not text.spans


async def test_supervisor_closes_a_dispute_when_the_unit_was_not_at_fault(settle, tui_db, store):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        form = app.screen
        form.query_one("#fault", Select).value = "not_at_fault"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请填写复核意见"
        form.query_one("#note", TextArea).insert("企业诉求超出政策范围，单位已依规答复")
        await pilot.press("ctrl+s")
        await settle(pilot)
        appeal = store.appeal("A-2026-0002")
        assert appeal.state == "closed" and appeal.close_note == "企业诉求超出政策范围，单位已依规答复"
        assert store.orders(appeal.id) == []


async def test_rejecting_an_extension_needs_a_note(settle, tui_db, store):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert form.query_one("#decision", Select).value == "reject"
        # the note's label says it is required for a rejection (optional for an approval)
        assert str(form.query_one("#note-label").render()) == "驳回理由（必填）"
        form.query_one("#decision", Select).value = "approve"
        await settle(pilot)
        assert str(form.query_one("#note-label").render()) == "备注（可选）"
        form.query_one("#decision", Select).value = "reject"
        await settle(pilot)
        assert str(form.query_one("#note-label").render()) == "驳回理由（必填）"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请填写驳回理由"       # (the label's words, not 备注)
        form.query_one("#note", Input).value = "理由不充分"
        await pilot.press("ctrl+s")
        await settle(pilot)
        ext = store.one("SELECT * FROM extensions")
        assert ext["state"] == "rejected" and ext["decision_note"] == "理由不充分"


async def test_leader_of_a_unit_reads_only_its_scope_and_has_no_actions(settle, tui_db):
    app = app_for(tui_db, "daiyue-lead")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # scope: unit daiyue or county 岱岳区 -- every fixture appeal is in 岱岳区
        assert len(refs(screen)) == 6
        # no dashboard: its figures are the whole city's (F8 does nothing)
        assert app.modes_available == ("inbox", "board", "projects", "instructions")
        await pilot.press("f8")
        await settle(pilot)
        assert app.screen is screen
        assert not screen.query("#f-unit")
        for action in ("accept", "reply", "return_appeal", "extend", "reassign"):
            assert screen.check_action(action, ()) is False
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app.screen.check_action("order", ()) is False


async def test_footer_keys_are_not_rebuilt_when_only_their_states_change(monkeypatch, select_ref, settle,
                                                                         tui_db):
    """The footer updates a key that is only greyed or offered in place: moving between rows
    where return (b) is and is not allowed creates no footer key (each rebuild of the stock
    footer made new keys and left their watchers behind)."""
    from textual.widgets._footer import FooterKey

    from taian_tui.console.widgets import KeysFooter

    created = []
    init = FooterKey.__init__

    def counting(self, *args, **kw):
        created.append(1)
        init(self, *args, **kw)
    monkeypatch.setattr(FooterKey, "__init__", counting)
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        keys = list(footer.query(FooterKey))
        made = len(created)
        for _ in range(10):
            await select_ref(pilot, "A-2026-0003")     # the return window closed: b greyed
            assert [k._disabled for k in keys if k.key == "b"] == [True]
            await select_ref(pilot, "A-2026-0007")     # still open: b offered
            assert [k._disabled for k in keys if k.key == "b"] == [False]
            app.screen.refresh_bindings()
        await settle(pilot)
        assert len(created) == made
        assert list(footer.query(FooterKey)) == keys


async def test_a_screens_footer_shows_its_keys_from_its_first_paint(monkeypatch, settle, tui_db):
    """Each screen's footer is composed with the screen's keys and never composed again on its
    first visit: the screen's first bindings signal only updates them in place (the stock
    footer composed nothing, then everything again on that signal: a second mount, styling
    and layout of every key in every first visit)."""
    from textual.widgets._footer import FooterKey

    from taian_tui.console.modes import MODES
    from taian_tui.console.widgets import KeysFooter

    recomposed = []
    original = KeysFooter.recompose

    async def counting(self):
        recomposed.append(type(self.screen).__name__)
        await original(self)
    monkeypatch.setattr(KeysFooter, "recompose", counting)
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        visited = []
        for mode in MODES:
            if mode.name not in app.modes_available or mode.name == app.current_mode:
                continue
            await pilot.press(mode.key)
            await settle(pilot)
            visited.append(mode.name)
            footer = app.screen.query_one(KeysFooter)
            # the screen's own key is greyed and unnamed; the others carry their words
            keys = {k.key: k for k in footer.query(FooterKey)}
            assert keys[mode.key]._disabled is True and keys[mode.key].description == ""
            assert all(k.description for k in keys.values() if k.key.startswith("f") and k.key != mode.key)
        assert visited == ["board", "redcards", "projects", "instructions", "editor", "dashboard"]
        assert recomposed == []


async def test_the_timeline_names_the_unit_not_its_code(select_ref, settle, tui_db):
    # the submit's line: its deadline and the unit it went to (by its name: it read "单位 zrzy")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_ref(pilot, "A-2026-0001")
        lines = str(app.screen.query_one("#detail-body").render()).splitlines()
        submitted = [line for line in lines if "提交诉求" in line]
        assert len(submitted) == 1
        assert submitted[0].endswith("提交诉求  期限 2026-10-12 23:59；单位 市自然资源和规划局")


async def test_a_reply_in_the_timeline_is_not_named_twice(select_ref, settle, tui_db, make_appeal):
    make_appeal("answered", ref="A-2026-0091", title="已答复")            # replied 09-30 10:00: 已协调解决
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f")
        await settle(pilot)
        screen.query_one("#f-state", Select).value = "all"
        await settle(pilot)
        await select_ref(pilot, "A-2026-0091")
        lines = str(screen.query_one("#detail-body").render()).splitlines()
        assert [line for line in lines if line.startswith("2026-09-30 10:00")] == [
            "2026-09-30 10:00  自然资源联络员  答复  已协调解决"]


async def test_footer_shows_other_keys_in_its_own_widgets_when_the_focus_moves(monkeypatch, settle, tui_db):
    """The focus going to a widget with other keys (the filter bar, a filter's open list, the
    search box, back to the table) re-keys the footer in place: no footer is composed again
    (a recompose removed, mounted, styled and laid out every key between a filter chosen and
    its page), and what it shows is what a footer composed there and then shows."""
    from textual.widgets._footer import FooterKey

    from taian_tui.console.widgets import KeysFooter

    recomposed = []
    original = KeysFooter.recompose

    async def counting(self):
        recomposed.append(1)
        await original(self)

    def shown(footer):
        return [(k.key, k.key_display, k.description, k.action, k._disabled, k.has_class("-command-palette"))
                for k in footer.query(FooterKey)]

    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        monkeypatch.setattr(KeysFooter, "recompose", counting)
        table_keys = shown(footer)
        seen = []
        for key in ("f", "enter", "down", "enter", "slash", "escape"):
            await pilot.press(key)
            await settle(pilot)
            now = shown(footer)
            seen.append(now)
            assert recomposed == []
            await original(footer)          # the oracle: the same footer composed now
            await settle(pilot)
            assert shown(footer) == now, key
        # the filter's open list has keys of its own; back on the table, its keys again
        assert seen[1] != table_keys
        assert type(app.focused).__name__ == "AppealTable" and seen[-1] == table_keys


@pytest.mark.parametrize("now, shown", [
    # 20 working days after Tue 10-20: 10-21 .. 10-30 (8), 11-02 .. 11-13 (10), 11-16, 11-17
    (None, "期限须晚于现在，且在 20 个工作日内：不晚于 2026-11-17"),
    # after Thu 12-10: 12-11 .. 12-31 (15), then 2027 without holiday data, Monday-Friday:
    # 01-01, 01-04, 05, 06, 07 (DOMAIN: every command that relied on it says so)
    ("2026-12-10T09:00:00+08:00",
     "期限须晚于现在，且在 20 个工作日内：不晚于 2027-01-07（无该年节假日数据，按周一至周五估算）"),
])
async def test_the_order_forms_range_says_when_it_is_estimated(monkeypatch, settle, tui_db, now, shown):
    if now:
        monkeypatch.setenv("TAIAN_NOW", now)
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, OrderForm)
        assert str(form.query_one("#due-range").render()) == shown
        assert form.query_one("#due", Input).placeholder == "YYYY-MM-DD"
