"""Offered with what the decision needs (issue 13, point 3): the 不满意 review shows the
unit's reply and the enterprise's comment, the extension decision the deadline it would give,
the reassignment the return reason; read by the form when it opens. The small city of
tests/console/conftest.py: A-2026-0002 disputed (replied "已协调解决" 09-30 10:00, rated 不满意
"没解决"); A-2026-0004 accepted, due 2026-10-20 (arrived 10-13), 5 working days asked."""
from __future__ import annotations

from taian_tui.console.app import TaianApp
from taian_tui.screens.forms import DecideExtensionForm, ReassignForm, ReviewDisputeForm

SIZE = (120, 36)


async def facts_of(app, pilot, settle, form) -> str:
    await settle(pilot)
    app.push_screen(form)
    await settle(pilot)
    return str(form.query_one("#form-facts").render())


async def test_the_review_shows_the_reply_and_the_comment(settle, tui_db):
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = ReviewDisputeForm("A-2026-0002", subject="不动产权证办理", state="disputed", rating="不满意",
                                 comment="没解决")
        assert await facts_of(app, pilot, settle, form) == (
            "单位答复（2026-09-30 10:00）：\n已协调解决\n企业评价：不满意；意见： 没解决")


async def test_the_extension_decision_shows_the_deadline_it_gives(settle, tui_db, store):
    ext = store.one("SELECT id, days FROM extensions WHERE state = 'pending'")
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = DecideExtensionForm("A-2026-0004", subject="环评批复办理进度", extension_id=ext["id"],
                                   days=ext["days"], reason="需补充专家论证")
        # 5 working days after Tue 10-20: 10-21, 22, 23, 26, 27
        assert await facts_of(app, pilot, settle, form) == "现答复期限 2026-10-20；批准延期 5 个工作日后为 2026-10-27"


async def test_the_extension_decision_says_when_the_new_deadline_is_estimated(settle, tui_db, store,
                                                                              make_appeal, monkeypatch):
    """Arrived Mon 12-21: due Mon 12-28; 5 more working days: 12-29, 30, 31, 2027-01-01 and
    01-04, 2027 counted Monday-Friday (no holiday data): the form says so."""
    from taian_tui.domain import operations as wf

    a = make_appeal("accepted", ref="A-2026-0200", at="2026-12-21T10:00:00+08:00")
    ext = wf.request_extension(store, "zrzy1", a.ref, 5, "跨年", at="2026-12-22T09:00:00+08:00")
    monkeypatch.setenv("TAIAN_NOW", "2026-12-22T10:00:00+08:00")
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = DecideExtensionForm(a.ref, subject="用地指标落实", extension_id=ext.id, days=5, reason="跨年")
        assert await facts_of(app, pilot, settle, form) == (
            "现答复期限 2026-12-28；批准延期 5 个工作日后为 2027-01-04（无该年节假日数据，按周一至周五估算）")


async def test_the_reassignment_shows_the_return_reason(settle, tui_db, make_appeal):
    a = make_appeal("returned", ref="A-2026-0100", title="排水许可")       # returned 09-30 09:00
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = ReassignForm(a.ref, units=[("sthj", "市生态环境局")], current_unit=None)
        assert await facts_of(app, pilot, settle, form) == "退回理由（2026-09-30 09:00）： 不属于本单位职责"


def test_a_due_time_typed_as_an_office_types_it():
    from taian_tui.screens.forms import parse_due

    # a day alone and 23:59 are the end of that day (an order's due time shows as 23:59: kept
    # as it was when only the note is edited); another time is that minute
    assert parse_due("2026-12-20 23:59") == "2026-12-20T23:59:59+08:00"
    assert parse_due("2026/12/20") == "2026-12-20T23:59:59+08:00"
    assert parse_due("2026年12月20日") == "2026-12-20T23:59:59+08:00"
    assert parse_due("2026-12-20 17:30") == "2026-12-20T17:30:00+08:00"
    assert parse_due("2026-12-20 24:00") is None


def test_money_in_one_unit_per_view():
    from taian_tui.console.widgets import money, money_unit

    # a column's unit is its largest amount's: 亿 from 10,000 万 on, else 万
    unit = money_unit(85_000, 900, 0)
    assert unit == "亿"
    assert [money(v, unit) for v in (85_000, 42_000, 900, 0)] == ["8.5亿", "4.2亿", "0.09亿", "0亿"]
    unit = money_unit(900, 8_650)
    assert unit == "万" and [money(v, unit) for v in (900, 8_650)] == ["900万", "8,650万"]
    assert money(12_345) == "1.2亿" and money(860) == "860万"          # alone: its own unit
    # one precision down a column in 亿: two decimals when one of them is under 1亿
    from taian_tui.console.widgets import money_decimals

    column = (192_340, 80_000, 40_000, 36_000, 7_000)
    unit = money_unit(*column)
    places = money_decimals(unit, *column)
    assert places == 2 and [money(v, unit, places) for v in column] == [
        "19.23亿", "8.00亿", "4.00亿", "3.60亿", "0.70亿"]
    assert money_decimals("亿", 192_340, 80_000) == 1 and money(80_000, "亿", 1) == "8.0亿"
    assert money_decimals("万", 900, 8_650) is None


def test_chinese_wraps_at_any_character_not_only_at_the_spaces_around_numbers_and_keys():
    """Every line full to the width (20 cells: 10 characters), the spaces around "50" and
    "/" no longer the only places to break: before, "每页 50" ended a half-empty line and
    "个，按阶段…" began the next."""
    import textual.content
    from rich.console import Console
    from rich.text import Text

    text = "每页 50 个，按阶段分组。按 / 搜索名称、编号或企业。"
    console = Console(width=20, file=open("/dev/null", "w"))
    assert [str(line) for line in Text(text).wrap(console, 20)] == [
        "每页 50 个，按阶段分", "组。按 / 搜索名称、", "编号或企业。"]
    assert textual.content.divide_line(text, 20) == [12, 23]          # 组 and 编 begin lines
    assert textual.content.divide_line("no chinese here at all", 10) == [11, 19]   # (Rich's own)


def test_wrapped_chinese_lines_never_begin_with_a_closing_mark():
    import textual.content
    from rich.console import Console
    from rich.text import Text

    import taian_tui.console.app  # noqa: F401  (the console's wrapping: console.styles.chinese_line_breaks)

    text = "一二三四五。六七八九十，一二三四（五六七八九十"

    def lines(offsets):
        return [text[i:j] for i, j in zip([0, *offsets], [*offsets, len(text)])]

    # 10 cells hold five characters: "。" would begin the 2nd line, so 五 goes down with it;
    # "（" would end the 4th at 8 cells, so it goes down too
    assert lines(textual.content.divide_line(text, 10)) == ["一二三四", "五。六七八", "九十，一二", "三四（五六", "七八九十"]
    assert lines(textual.content.divide_line(text, 8)) == ["一二三四", "五。六七", "八九十，", "一二三四", "（五六七", "八九十"]
    console = Console(width=10, file=open("/dev/null", "w"))
    assert [str(line) for line in Text(text).wrap(console, 10)] == ["一二三四", "五。六七八", "九十，一二", "三四（五六", "七八九十"]


async def test_the_extension_decisions_button_says_what_it_does(settle, tui_db, store):
    from textual.widgets import Button, Select

    ext = store.one("SELECT id, days FROM extensions WHERE state = 'pending'")
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = DecideExtensionForm("A-2026-0004", subject="环评批复办理进度", extension_id=ext["id"],
                                   days=ext["days"], reason="需补充专家论证")
        app.push_screen(form)
        await settle(pilot)

        def shown():
            return str(form.query_one("#save", Button).label), str(form.query_one("#form-status").render())

        assert shown() == ("提交决定", "Ctrl+S 提交决定 · Esc 取消")
        form.query_one("#decision", Select).value = "approve"
        await settle(pilot)
        assert shown() == ("批准延期", "Ctrl+S 批准延期 · Esc 取消")
        form.query_one("#decision", Select).value = "reject"
        await settle(pilot)
        assert shown() == ("驳回延期", "Ctrl+S 驳回延期 · Esc 取消")
        # an error about one choice goes when another is made
        form.show_error("未能保存：规则：延期须在期限届满前批准")
        form.query_one("#decision", Select).value = "approve"
        await settle(pilot)
        assert form.last_error is None and not form.query_one("#form-error").has_class("-shown")


async def test_the_reviews_button_says_what_it_does(settle, tui_db):
    from textual.widgets import Button, Select

    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = ReviewDisputeForm("A-2026-0002", subject="不动产权证办理", state="disputed", rating="不满意",
                                 comment="没解决")
        await facts_of(app, pilot, settle, form)

        def shown():
            return str(form.query_one("#save", Button).label), str(form.query_one("#form-status").render())

        assert shown() == ("提交复核", "Ctrl+S 提交复核 · Esc 取消")
        form.query_one("#fault", Select).value = "at_fault"
        await settle(pilot)
        assert shown() == ("开督办单", "Ctrl+S 开督办单 · Esc 取消")
        form.query_one("#fault", Select).value = "not_at_fault"
        await settle(pilot)
        assert shown() == ("办结", "Ctrl+S 办结 · Esc 取消")


def test_a_recipient_is_one_line_with_the_phone_before_the_unit():
    from taian_tui.read.instructions import Recipient
    from taian_tui.screens.instructions import InstructionForm

    r = Recipient("zrzy1", "自然资源联络员", "liaison", "市自然资源和规划局", True, "13800000002")
    prompt = InstructionForm._prompt(r)
    assert prompt.plain == "★ 自然资源联络员 zrzy1 · 短信发至 13800000002 · 联络员 · 市自然资源和规划局"
    assert prompt.no_wrap
    none = InstructionForm._prompt(Recipient("x1", "某人", "leader", "", False, ""), mark=False)
    assert none.plain == "某人 x1 · 无手机号，短信无法送达 · 领导"


async def test_the_review_shows_the_orders_due_date_as_the_days_change(settle, tui_db, monkeypatch):
    from textual.widgets import Input, Select

    monkeypatch.setenv("TAIAN_NOW", "2026-10-20T10:00:00+08:00")          # a Tuesday
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = ReviewDisputeForm("A-2026-0002", subject="不动产权证办理", state="disputed", rating="不满意",
                                 comment="没解决")
        await facts_of(app, pilot, settle, form)
        due = form.query_one("#order-due")
        assert str(due.render()) == ""                                     # no decision yet
        form.query_one("#fault", Select).value = "at_fault"
        await settle(pilot)
        # 5 working days after Tue 10-20: 21, 22, 23, 26, 27
        assert str(due.render()) == "认定单位责任时开督办单，期限至 2026-10-27"
        form.query_one("#days", Input).value = "1"
        await settle(pilot)
        assert str(due.render()) == "认定单位责任时开督办单，期限至 2026-10-21"
        form.query_one("#days", Input).value = "-3"
        await settle(pilot)
        assert str(due.render()) == ""


async def test_the_orders_days_are_hidden_when_the_unit_is_not_at_fault(settle, tui_db):
    """单位无责 opens no order: its days field is hidden (out of the Tab order), and comes back
    for 单位有责."""
    from textual.widgets import Input, Select

    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        form = ReviewDisputeForm("A-2026-0002", subject="不动产权证办理", state="disputed", rating="不满意",
                                 comment="没解决")
        await facts_of(app, pilot, settle, form)
        days = form.query_one("#days", Input)
        assert days.display is True                                         # no decision yet
        form.query_one("#fault", Select).value = "not_at_fault"
        await settle(pilot)
        assert [w.display for w in form.query(".-order")] == [False, False]
        assert days not in form.focus_chain
        form.query_one("#fault", Select).value = "at_fault"
        await settle(pilot)
        assert [w.display for w in form.query(".-order")] == [True, True] and days in form.focus_chain


async def test_a_save_under_another_writer_says_so_in_words_and_keeps_the_text(settle, tui_db, monkeypatch):
    """An import holds the write lock: the reply waits the console's busy time (15 s; here
    0.1 s), then the form says what happened (not "OperationalError") and keeps the text."""
    import sqlite3

    from textual.widgets import TextArea

    from taian_tui.console import workers
    from taian_tui.screens.forms import ReplyForm

    monkeypatch.setattr(workers, "BUSY_MS", 100)
    assert workers.BUSY_MS == 100
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = ReplyForm("A-2026-0006", subject="施工许可", state="accepted")
        app.push_screen(form)
        await settle(pilot)
        form.query_one("#reply", TextArea).insert("已协调解决")
        holder = sqlite3.connect(tui_db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("ctrl+s")
            await settle(pilot)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert app.screen is form
        assert form.last_error == ("未能保存：数据库正被另一程序写入（导入、挂牌扫描或备份），等候超时："
                                   "所填内容仍在，请稍后再试")
        assert form.query_one("#reply", TextArea).text == "已协调解决"


async def test_a_first_dispatch_is_called_so_not_a_reassignment(settle, tui_db):
    from textual.widgets import Button

    from taian_tui.screens.forms import ReassignForm

    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for state, words in (("submitted", ("分派诉求 A-2026-0100", "分派", "已分派 A-2026-0100")),
                             ("returned", ("改派诉求 A-2026-0100", "改派", "已改派 A-2026-0100"))):
            form = ReassignForm("A-2026-0100", units=[("sthj", "市生态环境局")], current_unit=None, state=state)
            app.push_screen(form)
            await settle(pilot)
            assert (form.title_text(), str(form.query_one("#save", Button).label), form.done_text()) == words
            form.dismiss(False)
            await settle(pilot)
