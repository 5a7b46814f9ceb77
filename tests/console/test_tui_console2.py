"""The console, part 2, driven through Textual's Pilot at fixed terminal sizes on the small
city of test_tui_fixtures.py (``board_db``: projects, instructions, content): the project
board and the admin's library review, progress reports (and their refusal for another
unit's project), leader instructions from the SMS outbox to the reply, the policy editor
(publishing, unsaved-changes protection, autosave restored after a crash), the dashboard,
and the navigation each role is allowed."""
from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input, Markdown, Select, TextArea

from taian_tui.read import projects as project_reads
from taian_tui.domain import actors
from taian_tui.domain import operations as wf
from taian_tui.console.app import TaianApp
from taian_tui.screens.common import ChoiceScreen
from taian_tui.screens.dashboard import DashboardScreen
from taian_tui.screens.content import ContentActionForm, ContentScreen, DailyListenForm, EditorScreen
from taian_tui.screens.escalation import BoardScreen, RedCardScreen
from taian_tui.screens.inbox import InboxScreen
from taian_tui.screens.instructions import (AcknowledgeForm, InstructionForm, InstructionReplyForm,
                                            InstructionsScreen)
from taian_tui.screens.projects import ProgressForm, ProjectBoardScreen, ReviewProjectForm


SIZE = (120, 36)
SMALL = (80, 24)


def app_for(db, user, **kw) -> TaianApp:
    return TaianApp(db, username=user, poll=False, **kw)


def keys(screen) -> list[str]:
    return [screen.row_key(r) for r in screen.rows]


@pytest.fixture
def open_projects(settle):
    async def open_projects(pilot, tab: str | None = None) -> ProjectBoardScreen:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ProjectBoardScreen)
        if tab:
            screen.action_tab(tab)
            await settle(pilot)
        return screen
    return open_projects


def detail_text(screen) -> str:
    return str(screen.query_one("#detail-body").render())


# -- the project board -----------------------------------------------------------------------------
async def test_a_projects_number_finds_it_whatever_the_tab(open_projects, screen_text, settle, board_db):
    """On 待审核 (P-0001 only), p-0002 (市重点) is found, the status saying the tab and the
    filters were set aside; cleared, the tab's own list again."""
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot)
        assert screen.tab == "applied" and keys(screen) == ["P-0001"]
        search = screen.query_one("#pf-search", Input)
        search.value = "p-0002"
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert keys(screen) == ["P-0002"]
        assert "搜索“P-0002”（按编号查找，不限筛选）" in screen_text(app)
        search.value = "P2"                            # the same project, another way: the same
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert keys(screen) == ["P-0002"] and "搜索“P-0002”（按编号查找，不限筛选）" in screen_text(app)
        search.value = ""
        await pilot.press("slash", "enter")
        await settle(pilot)
        assert keys(screen) == ["P-0001"]


async def test_board_tabs_by_library_grouped_by_stage_with_progress_and_appeals(open_projects, screen_text, settle, board_db):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot)
        assert screen.tab == "applied" and keys(screen) == ["P-0001"]
        text = screen_text(app)
        assert "1 待审核 1" in text and "2 市重点 3" in text and "3 省重点 1" in text
        assert "4 未入库 1" in text and "0 全部 6" in text
        await pilot.press("0")
        await settle(pilot)
        # by stage (前期, 在建, 竣工, 投产), the largest investment first
        assert keys(screen) == ["P-0001", "P-0004", "P-0005", "P-0003", "P-0002", "P-0006"]
        text = screen_text(app)
        assert "前期 3 · 在建 2 · 竣工 0 · 投产 1" in text
        assert "32.00亿" in text and "62%" in text and "100%" in text and "███" in text   # (two decimals: P-0004 and P-0005 are under 1亿)
        row = screen.query_one("#table", DataTable).get_row("P-0003")
        assert row[-1].plain == "1"                    # A-2026-0001 is open and about P-0003
        assert "省重点" in text and "province" not in text   # labels, not codes
        # filters: county, visualised, search
        await pilot.press("3")
        await settle(pilot)
        assert keys(screen) == ["P-0003"]
        await pilot.press("0")
        screen.query_one("#pf-county", Select).value = "岱岳区"
        await settle(pilot)
        assert keys(screen) == ["P-0001", "P-0005", "P-0003"]
        screen.query_one("#pf-visual", Select).value = "yes"
        await settle(pilot)
        assert keys(screen) == ["P-0003"]
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("slash", *"智能制造", "enter")
        await settle(pilot)
        assert keys(screen) == ["P-0002"]


async def test_detail_shows_enterprise_timeline_appeals_and_instructions(open_projects, board_db):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "province")
        assert screen.current_key() == "P-0003"
        text = detail_text(screen)
        for part in ("岱岳区新能源储能电站", "省重点", "在建", "泰安示范新材料有限公司", "统一社会信用代码",
                     "进度填报（1）", "2026-10-12", "储能舱安装", "关联诉求（1）", "A-2026-0001",
                     "用地指标落实", "领导批示（2）", "请加快储能舱安装", "请会同岱岳区现场办公", "已组织三班倒施工", "已答复"):
            assert part in text, part


async def test_hostile_project_name_shows_literally(open_projects, screen_text, select_key, board_db):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "city")
        await select_key(pilot, "P-0005")
        cell = screen.query_one("#table", DataTable).get_row("P-0005")[2].plain
        assert cell.startswith("[b]高危[/b]") and "\x1b" not in cell
        text = detail_text(screen)
        assert "[b]高危[/b] 项目 \\x1b[31m红" in text
        assert "\x1b" not in screen_text(app)


async def test_admin_reviews_library_applications(open_projects, screen_text, settle, board_db, store):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot)
        assert screen.current_key() == "P-0001"
        assert screen.check_action("review", ()) is True
        await pilot.press("v")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ReviewProjectForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请选择审核结论"
        form.query_one("#decision", Select).value = "rejected"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "不予入库须写明理由"
        assert store.project("P-0001").library == "applied"
        form.query_one("#decision", Select).value = "province"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert store.project("P-0001").library == "province"
        assert keys(screen) == []                       # the applied tab is empty now
        text = screen_text(app)
        assert "1 待审核 0" in text and "3 省重点 2" in text
        audit = store.one("SELECT * FROM audit WHERE action = 'project.review' AND entity_id = 'P-0001'")
        assert audit["actor"] == "admin"
        # a decided project cannot be reviewed again: the key is greyed
        await pilot.press("3")
        await settle(pilot)
        assert screen.check_action("review", ()) is None


async def test_only_the_admin_reviews(open_projects, settle, board_db):
    app = app_for(board_db, "shizhang")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "applied")
        assert screen.check_action("review", ()) is False
        assert screen.check_action("progress", ()) is False
        assert screen.check_action("instruct", ()) is True
        await pilot.press("v")
        await settle(pilot)
        assert app.screen is screen


async def test_liaison_reports_progress_on_a_project_of_their_unit(open_projects, screen_text, open_form, settle, board_db, store):
    app = app_for(board_db, "daiyue1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "all")
        # scope: the projects of 岱岳区 only
        assert keys(screen) == ["P-0001", "P-0005", "P-0003"]
        form = await open_form(pilot, "P-0003", "p")
        assert isinstance(form, ProgressForm)
        assert "责任单位：岱岳区" in screen_text(app) and "该项目由" not in screen_text(app)
        form.query_one("#percent", Input).value = "120"
        form.query_one("#invested", Input).value = "230000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "进度须为 0–100 的数字"
        form.query_one("#percent", Input).value = "75"
        form.query_one("#note", TextArea).insert("储能舱全部吊装到位")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        p = store.project("P-0003")
        assert p.percent == 75 and p.invested_wan == 230000
        report = store.one("SELECT * FROM progress_reports WHERE project_ref = 'P-0003' "
                           "ORDER BY id DESC LIMIT 1")
        assert report["reported_by"] == "daiyue1" and report["date"] == "2026-10-20"
        assert report["note"] == "储能舱全部吊装到位"
        await settle(pilot)
        assert "75%" in screen_text(app)
        text = detail_text(screen)
        assert "进度填报（2）" in text and "储能舱全部吊装到位" in text


async def test_the_library_reviews_button_says_what_it_does(open_projects, open_form, settle, board_db):
    from textual.widgets import Button

    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await open_projects(pilot)
        form = await open_form(pilot, "P-0001", "v")
        assert str(form.query_one("#save", Button).label) == "提交审核"
        for value, words in (("city", "列入市重点"), ("province", "列入省重点"), ("rejected", "不予入库")):
            form.query_one("#decision", Select).value = value
            await settle(pilot)
            assert (str(form.query_one("#save", Button).label), str(form.query_one("#form-status").render())) == (
                words, f"Ctrl+S {words} · Esc 取消")


async def test_the_progress_form_speaks_the_fields_unit(open_projects, open_form, settle, board_db):
    """P-0003: 32亿 in all (320,000 万元), 62 % and 190,000 万元 reported: the form's figures
    are in 万元, the unit its field is typed in and its refusals use (not 亿 beside 万元)."""
    app = app_for(board_db, "daiyue1")
    async with app.run_test(size=SIZE) as pilot:
        await open_projects(pilot, "all")
        form = await open_form(pilot, "P-0003", "p")
        assert isinstance(form, ProgressForm)
        assert form.intro().plain == (
            "责任单位：岱岳区 · 当前进度 62% · 已完成投资 190,000 万元\n"
            "总投资 320,000 万元；完成投资超过总投资、或进度与投资低于当前的 62% / 190,000 万元 时，"
            "须在进展情况中写明原因")


async def test_an_absurd_investment_is_refused_as_typed(open_projects, open_form, settle, board_db, store):
    app = app_for(board_db, "daiyue1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "all")
        form = await open_form(pilot, "P-0003", "p")
        assert isinstance(form, ProgressForm)
        form.query_one("#invested", Input).value = "999999999999"
        form.query_one("#note", TextArea).insert("核对")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.last_error == ("未能保存：已完成投资（万元）须为 0 至 100,000,000 之间的有限数值，"
                                   "不能是“999999999999”")


async def test_progress_on_another_units_project_is_refused_and_the_input_kept(open_projects, screen_text, settle, board_db, store):
    app = app_for(board_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "all")
        # zrzy1 sees P-0003 because its unit handles an appeal about it, but the project is 岱岳区's:
        # the key is shown greyed, not offered
        assert keys(screen) == ["P-0003"]
        assert screen.check_action("progress", ()) is None
        await pilot.press("p")
        await settle(pilot)
        assert app.screen is screen
        assert [n.message for n in app._notifications] == ["填报进度：规则：联络员只能填报本单位项目的进度；项目 P-0003 属于岱岳区，zrzy1（市自然资源和规划局）不能填报"]   # the greyed key says why
        # a form opened before the project moved to another unit: the store refuses on save
        row = screen.current_row()
        app.push_screen(ProgressForm(row.ref, subject=row.name, unit=row.unit, percent=row.percent,
                                     invested=row.invested_wan, stage=row.stage, own_unit=False))
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProgressForm)
        assert "该项目由岱岳区负责" in screen_text(app)      # said before anything is typed
        form.query_one("#percent", Input).value = "80"
        form.query_one("#invested", Input).value = "250000"
        form.query_one("#note", TextArea).insert("用地指标已落实")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form, "the form stays open"
        assert "联络员只能填报本单位项目的进度" in form.last_error
        assert "联络员只能填报本单位项目的进度" in screen_text(app)
        assert form.query_one("#percent", Input).value == "80"
        assert form.query_one("#invested", Input).value == "250000"
        assert form.query_one("#note", TextArea).text == "用地指标已落实"
        assert store.project("P-0003").percent == 62
        assert store.scalar("SELECT COUNT(*) FROM progress_reports WHERE reported_by = 'zrzy1'") == 0


# -- leader instructions --------------------------------------------------------------------------------
async def test_a_greyed_instruction_key_says_why(settle, board_db):
    """The supervision office's list of all instructions: the mayor's to zrzy1 about
    A-2026-0001 is not ducha1's to acknowledge or answer: the keys are greyed, and pressed
    they say so (the store's own refusal)."""
    app = app_for(board_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        row = screen.current_row()
        assert row is not None and row.target_user != "ducha1"
        assert screen.check_action("acknowledge", ()) is None and screen.check_action("reply", ()) is None
        await pilot.press("a")
        await pilot.press("r")
        await settle(pilot)
        assert [n.message for n in app._notifications][-2:] == [
            f"签收：规则：批示 #{row.id} 是写给 {row.target_user} 的，只有其本人可以签收",
            f"答复：规则：批示 #{row.id} 是写给 {row.target_user} 的，只有其本人可以答复"]


async def test_a_recipient_chosen_in_the_list_sends_the_focus_to_the_instruction(open_projects, open_form,
                                                                                  settle, board_db):
    from textual.widgets import OptionList

    app = app_for(board_db, "shizhang")
    async with app.run_test(size=SIZE) as pilot:
        await open_projects(pilot, "city")
        form = await open_form(pilot, "P-0002", "i")
        form.query_one("#target-list", OptionList).focus()
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert form.target is not None and form.target.username == form.matches[0].username
        assert app.focused is form.query_one("#text")


async def test_instruction_reaches_the_outbox_and_is_acknowledged_and_answered(open_projects, screen_text, open_form, settle, board_db, store):
    app = app_for(board_db, "shizhang")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "city")
        form = await open_form(pilot, "P-0002", "i")
        assert isinstance(form, InstructionForm)
        # the people of the unit holding the project (泰山区: nobody in this city) come first;
        # typing narrows the list, Enter takes the highlighted person
        assert form.matches and not any(r.relevant for r in form.matches)
        assert form.matches[0].role == "liaison"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.last_error == "请选择办理人"
        assert app.focused is form.query_one("#target-search")
        await pilot.press(*"平台管理")
        await pilot.pause(0.3)
        await settle(pilot)
        assert [r.username for r in form.matches] == ["admin"]
        await pilot.press("enter")
        await settle(pilot)
        assert form.target.username == "admin"
        assert "办理人： 平台管理员 admin" in screen_text(app)
        assert app.focused is form.query_one("#text")
        form.query_one("#text", TextArea).insert("请协调供电公司，月底前完成双回路接入。")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    ins = store.one("SELECT * FROM instructions WHERE project_ref = 'P-0002'")
    assert ins["leader"] == "shizhang" and ins["target_user"] == "admin"
    sms = store.one("SELECT * FROM outbox WHERE entity = ?", (f"instruction:{ins['id']}",))
    assert sms["recipient"] == "admin" and sms["phone"] == "13800000001"
    assert sms["reason"] == "instruction" and sms["status"] == "queued"
    assert "请协调供电公司" in sms["text"]

    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InstructionsScreen)
        assert keys(screen) == [str(ins["id"])]
        assert "待签收" in screen_text(app) and "泰山区智能制造产业园" in screen_text(app)
        assert screen.check_action("reply", ()) is True
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AcknowledgeForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT acknowledged_at FROM instructions WHERE id = ?", (ins["id"],))[0]
        assert "已签收" in screen_text(app)
        assert screen.check_action("acknowledge", ()) is None
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InstructionReplyForm)
        form.query_one("#reply", TextArea).insert("已与供电公司对接，25日完成接入。")
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = store.one("SELECT * FROM instructions WHERE id = ?", (ins["id"],))
        assert row["reply"] == "已与供电公司对接，25日完成接入。" and row["replied_at"]
        assert keys(screen) == []                      # the open list no longer holds it
        await pilot.press("s")
        await settle(pilot)
        assert keys(screen) == [str(ins["id"])]        # answered

    app = app_for(board_db, "shizhang")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert screen.view == "issued"
        # open: only the one to zrzy1 is still waiting
        assert [r.target_user for r in screen.rows] == ["zrzy1"]
        screen.set_state("answered")
        await settle(pilot)
        assert [r.target_user for r in screen.rows] == ["admin", "daiyue1"]
        assert "已答复" in screen_text(app)
        assert "25日完成接入" in detail_text(screen)
        assert screen.check_action("reply", ()) is False


async def test_leader_instructs_on_an_appeal_from_the_inbox(screen_text, settle, board_db, store):
    app = app_for(board_db, "daiyue-lead")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        table = screen.query_one("#table", DataTable)
        table.move_cursor(row=[r.ref for r in screen.rows].index("A-2026-0007"))
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InstructionForm) and form.appeal_ref == "A-2026-0007"
        # the people of the unit holding the appeal come first, marked ★
        assert form.matches[0].username == "zrzy1" and form.matches[0].relevant
        assert "★ 自然资源联络员 zrzy1" in screen_text(app)
        target_list = form.query_one("#target-list")
        await pilot.press("down")                       # Up/Down in the search field move the choice
        assert target_list.highlighted == 1
        await pilot.press("up")
        assert target_list.highlighted == 0
        await pilot.press("enter")                      # the highlighted (first) one
        await settle(pilot)
        assert form.target.username == "zrzy1"
        form.query_one("#text", TextArea).insert("请本周内答复企业。")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    row = store.one("SELECT * FROM instructions WHERE appeal_ref = 'A-2026-0007'")
    assert row["leader"] == "daiyue-lead" and row["target_user"] == "zrzy1"
    assert store.one("SELECT 1 FROM outbox WHERE entity = ?", (f"instruction:{row['id']}",))


async def test_only_the_instructed_user_answers(screen_text, settle, board_db):
    app = app_for(board_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert [r.leader for r in screen.rows] == ["shizhang"]
        assert screen.check_action("acknowledge", ()) is True
        text = screen_text(app)
        assert "请会同岱岳区现场办公" in text and "用地指标落实" in text


# -- the policy editor ------------------------------------------------------------------------------------
@pytest.fixture
def open_editor(select_key, settle):
    async def open_editor(pilot, cid: int | None, *, restore_offered: bool = False) -> EditorScreen:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ContentScreen)
        if cid is None:
            await pilot.press("n")
        else:
            await select_key(pilot, str(cid))
            await pilot.press("e")
        await settle(pilot)
        if restore_offered:
            assert isinstance(pilot.app.screen, ChoiceScreen)
            editor = pilot.app.screen_stack[-2]
        else:
            editor = pilot.app.screen
        assert isinstance(editor, EditorScreen)
        return editor
    return open_editor


async def test_editor_lists_content_and_publishes_a_new_item(open_editor, screen_text, settle, board_db, store):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContentScreen)
        assert keys(screen) == ["4", "2", "1", "3"]
        text = screen_text(app)
        assert "每日一听 10-20 #1 泰安市支持重大项目建设若干措施 (未生成音频)" in text
        assert "草稿" in text and "已发布" in text and "已归档" in text and "draft" not in text
        screen.query_one("#cf-state", Select).value = "draft"
        await settle(pilot)
        assert keys(screen) == ["2"]
        await pilot.press("c")
        await settle(pilot)
        editor = await open_editor(pilot, None)
        editor.query_one("#title", Input).value = "泰安市数字经济扶持办法"
        editor.query_one("#kind", Select).value = "policy"
        editor.query_one("#level", Select).value = "市"
        editor.query_one("#tags", Input).value = "数字经济,惠企"
        editor.query_one("#body", TextArea).insert("## 扶持对象\n\n- 规上企业\n- **专精特新**企业")
        await pilot.pause(0.4)
        await settle(pilot)
        preview = editor.query_one("#preview", Markdown)
        assert "扶持对象" in preview.source
        rendered = screen_text(app)
        assert "• 规上企业" in rendered and "专精特新企业" in rendered
        assert editor.has_unsaved_changes()
        await pilot.press("ctrl+o")
        await settle(pilot)
        item = store.one("SELECT * FROM content WHERE title = '泰安市数字经济扶持办法'")
        assert item["state"] == "published" and item["tags"] == "数字经济,惠企"
        assert item["body"] == "## 扶持对象\n\n- 规上企业\n- **专精特新**企业"
        assert not editor.has_unsaved_changes()
        assert store.scalar("SELECT COUNT(*) FROM editor_autosave") == 0
        assert "已发布" in screen_text(app)
        # published now: the footer offers a revision's save, not 保存并发布 (the key did nothing)
        from textual.widgets._footer import FooterKey
        shown = {k.key: k.description for k in editor.query(FooterKey)}
        assert ("ctrl+o" not in shown, shown.get("ctrl+s")) == (True, "存为修订稿")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert keys(screen)[0] == str(item["id"])


async def test_publish_unpublish_archive_and_daily_listen_from_the_list(open_form, screen_text, select_key, settle, board_db, store):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await select_key(pilot, "2")                    # the draft
        assert screen.check_action("unpublish", ()) is None
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ContentActionForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT state FROM content WHERE id = 2")[0] == "published"
        form = await open_form(pilot, "2", "l")
        assert isinstance(form, DailyListenForm)
        assert form.query_one("#day", Input).value == "2026-10-20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT content_id FROM daily_listen WHERE date = '2026-10-20'")[0] == 2
        assert "每日一听 10-20 #2 山东省关于要素保障的通知（征求意见稿… (未生成音频)" in screen_text(app)
        await select_key(pilot, "4")
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT state FROM content WHERE id = 4")[0] == "draft"
        await select_key(pilot, "4")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT state FROM content WHERE id = 4")[0] == "archived"
        await select_key(pilot, "4")
        assert screen.check_action("edit", ()) is None


async def test_editor_preview_renders_markdown_and_user_text_literally(hostile, open_editor, screen_text, settle, board_db):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, 2)
        await settle(pilot)
        assert editor.query_one("#body", TextArea).text == hostile.MARKDOWN_BODY
        text = screen_text(app)
        assert "• 用地优先保障" in text and "咨询电话 0538-1234567" in text
        assert "原样显示 [red]不是标记[/red]" in text


async def test_leaving_the_editor_with_unsaved_changes_asks_first(open_editor, screen_text, settle, board_db, store):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, 2)
        await pilot.press("escape")                     # nothing typed: leaves at once
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        editor = await open_editor(pilot, 2)
        editor.query_one("#title", Input).value = "山东省关于要素保障的通知（修订稿）"
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "离开前要保存吗" in screen_text(app)
        await pilot.press("escape")                     # keep editing
        await settle(pilot)
        assert app.screen is editor
        assert editor.query_one("#title", Input).value == "山东省关于要素保障的通知（修订稿）"
        # quitting the console asks too
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.is_running
        assert "未保存的修改" in screen_text(app)
        await pilot.press("enter")                      # the default answer keeps editing
        await settle(pilot)
        assert app.screen is editor and app.is_running
        # leave and save
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#choice-save")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        assert store.one("SELECT title FROM content WHERE id = 2")[0] == "山东省关于要素保障的通知（修订稿）"
        # leave and throw the changes away
        editor = await open_editor(pilot, 2)
        editor.query_one("#body", TextArea).insert("不要的字")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#choice-discard")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        assert "不要的字" not in store.one("SELECT body FROM content WHERE id = 2")[0]
        assert store.scalar("SELECT COUNT(*) FROM editor_autosave") == 0


async def test_autosave_restores_what_was_typed_after_a_crash(open_editor, screen_text, settle, board_db, store):
    typed_title = "关于开展重大项目“百日攻坚”行动的通知"
    typed_body = "## 目标\n\n- 开工率 90%\n- 已写了半天的内容"
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, None)
        editor.query_one("#title", Input).value = typed_title
        editor.query_one("#body", TextArea).insert(typed_body)
        for _ in range(50):                             # the autosave follows a change within ~1 s
            await pilot.pause(0.1)
            await settle(pilot)
            if "已自动保存" in screen_text(app):
                break
        assert "已自动保存" in screen_text(app)
        # ... and the console dies here: no save, no question asked
    saved = wf.autosaved_content_form(store, "bianji", "new")
    assert saved is not None and saved[0]["title"] == typed_title and saved[0]["body"] == typed_body
    assert store.scalar("SELECT COUNT(*) FROM content WHERE title = ?", (typed_title,)) == 0

    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1 份未保存的编辑可恢复" in screen_text(app)
        editor = await open_editor(pilot, None, restore_offered=True)
        assert "恢复未保存的编辑" in screen_text(app) and typed_title in screen_text(app)
        await pilot.press("enter")                      # 恢复 (the first button)
        await settle(pilot)
        assert app.screen is editor
        assert editor.query_one("#title", Input).value == typed_title
        assert editor.query_one("#body", TextArea).text == typed_body
        assert editor.has_unsaved_changes()
        await pilot.press("ctrl+s")
        await settle(pilot)
        item = store.one("SELECT * FROM content WHERE title = ?", (typed_title,))
        assert item["state"] == "draft" and item["body"] == typed_body
        assert store.scalar("SELECT COUNT(*) FROM editor_autosave") == 0


async def test_the_daily_listen_bar_shows_every_day_picked_at_80_columns(settle, board_db, store):
    """Two days picked (#1 on 10-20, #4 on 10-21): at 80 columns the titles are shortened
    so that both days are on the line, not the second cut away after a dangling "·"."""
    from textual.widgets import Static

    wf.pick_daily_listen(store, "bianji", "2026-10-21", 4, at="2026-10-20T09:00:00+08:00")
    app = app_for(board_db, "bianji")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = str(app.screen.query_one("#listenbar", Static).render())
        assert bar.startswith("每日一听 10-20 #1 ") and " · 10-21 #4 " in bar
        assert bar.endswith(" (未生成音频)") and cell_len(bar) <= 78


async def test_a_failed_save_keeps_the_text_and_the_autosave(open_editor, screen_text, settle, board_db, store):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, 2)
        body = editor.query_one("#body", TextArea)
        body.insert("补充：第三条。")
        typed = body.text
        wf.archive_content(store, "bianji", 2)         # meanwhile someone archived it
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is editor
        assert "已归档" in editor.last_error
        assert "未能保存（输入内容已保留）" in screen_text(app)
        assert body.text == typed
        await pilot.pause(0.2)
        await settle(pilot)
        saved = wf.autosaved_content_form(store, "bianji", 2)
        assert saved is not None and saved[0]["body"] == typed


async def test_declining_the_restore_discards_the_autosave(hostile, open_editor, settle, board_db, store):
    wf.autosave_content_form(store, "bianji", 2, {"title": "旧的草稿", "kind": "policy", "level": "省",
                                                  "tags": "", "source_unit": "", "body": "旧的正文"})
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = next(r for r in app.screen.rows if r.id == 2)
        assert row.autosaved
        editor = await open_editor(pilot, 2, restore_offered=True)
        await pilot.click("#choice-discard")
        await settle(pilot)
        assert editor.query_one("#body", TextArea).text == hostile.MARKDOWN_BODY
        assert wf.autosaved_content_form(store, "bianji", 2) is None


# -- the dashboard ------------------------------------------------------------------------------------------
async def test_dashboard_draws_every_chart_and_changes_month(screen_text, settle, board_db):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.month == "2026-10"
        text = screen_text(app)
        for part in ("项目与投资 · 按县区", "项目与投资 · 按阶段", "诉求 · 按类别", "挂牌 · 按颜色",
                     "岱岳区", "在建", "土地", "蓝牌", "2026-10 截至 2026-10-20"):
            assert part in text, part
        assert "█" in text
        figures = screen.figures
        assert [c.projects for c in figures.projects_by_county if c.county == "岱岳区"] == [2]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.month == "2026-09"
        assert "2026-09 全月" in screen_text(app)
        assert screen.check_action("month", (-1,)) is True
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.month == "2026-10"
        assert screen.check_action("month", (-1,)) is None   # no month after this one


async def test_dashboard_is_readable_at_80x24_in_chinese_and_english(screen_text, settle, board_db):
    for lang in ("zh", "en"):
        app = app_for(board_db, "admin", lang=lang)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await pilot.press("f8")
            await settle(pilot)
            lines = screen_text(app).splitlines()
            assert len(lines) == 24
            from rich.cells import cell_len
            assert all(cell_len(line) <= 80 for line in lines)
            screen = app.screen
            chart = screen.query_one("#chart-rank")
            chart.scroll_visible(animate=False)
            await settle(pilot)
            text = screen_text(app)
            assert ("三率排名" in text) if lang == "zh" else ("ranking" in text)


# -- navigation by role -------------------------------------------------------------------------------------
SCREENS = {"inbox": InboxScreen, "board": BoardScreen, "redcards": RedCardScreen,
           "projects": ProjectBoardScreen, "instructions": InstructionsScreen,
           "editor": ContentScreen, "dashboard": DashboardScreen}
FKEYS = {"inbox": "f2", "board": "f3", "redcards": "f4", "projects": "f5", "instructions": "f6",
         "editor": "f7", "dashboard": "f8"}


@pytest.mark.parametrize("user, modes", [
    ("bianji", ("editor", "dashboard")),
    ("jiwei1", ("redcards",)),
    ("shizhang", ("inbox", "board", "projects", "instructions", "dashboard")),
    ("zrzy1", ("inbox", "projects", "instructions")),
    ("ducha1", ("board", "inbox", "projects", "instructions", "dashboard")),
    ("admin", ("inbox", "board", "redcards", "projects", "instructions", "editor", "dashboard")),
])
async def test_navigation_is_restricted_by_role(settle, board_db, user, modes):
    app = app_for(board_db, user)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.modes_available == modes
        assert isinstance(app.screen, SCREENS[modes[0]])
        for mode, key in FKEYS.items():
            before = app.screen
            await pilot.press(key)
            await settle(pilot)
            if mode in modes:
                assert isinstance(app.screen, SCREENS[mode]), (user, mode)
            else:
                assert app.screen is before, (user, mode)
        # the palette offers the same screens, no others
        labels = [c.title for c in app.get_system_commands(app.screen)]
        from taian_tui.console.strings import t
        for mode in SCREENS:
            offered = t(f"cmd.goto_{mode}") in labels
            assert offered == (mode in modes and mode != app.current_mode), (user, mode)


async def test_palette_opens_a_screen(settle, board_db):
    app = app_for(board_db, "bianji")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"数据看板")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


def test_every_role_has_a_home_screen_and_the_modes_table_makes_the_keys():
    from taian_tui.console.modes import MODES, modes_of
    from taian_tui.domain.models import ROLES

    homes = {role: [m.name for m in MODES if role in m.home_of] for role in ROLES}
    assert homes == {"admin": ["inbox"], "liaison": ["inbox"], "leader": ["inbox"],
                     "supervisor": ["board"], "discipline": ["redcards"], "editor": ["editor"]}
    assert modes_of("supervisor") == ("board", "inbox", "projects", "instructions", "dashboard")
    assert modes_of("liaison") == ("inbox", "projects", "instructions")
    assert modes_of("discipline") == ("redcards",)
    assert modes_of("editor") == ("editor", "dashboard")
    # a county's leader (scope unit): the dashboard is the city's figures, not theirs
    assert modes_of("leader") == ("inbox", "board", "projects", "instructions", "dashboard")
    assert modes_of("leader", "unit") == ("inbox", "board", "projects", "instructions")
    keys = {b.key: b.action for b in TaianApp.BINDINGS if b.id and b.id.startswith("app.")}
    assert [keys[m.key] for m in MODES] == [f"goto('{m.name}')" for m in MODES]


def test_every_new_binding_has_an_id():
    from taian_tui.screens import common, content, dashboard, instructions, paged, projects

    classes = [projects.ProjectBoardScreen, instructions.InstructionsScreen, content.ContentScreen,
               content.EditorScreen, dashboard.DashboardScreen, paged.ListTable, common.ChoiceScreen,
               instructions.InstructionForm]
    for cls in classes:
        for binding in cls.BINDINGS:
            assert binding.id, (cls.__name__, binding.key)


def test_listings_scope(board_db, store):
    admin, zrzy1, lead = (actors.actor(store, u) for u in ("admin", "zrzy1", "daiyue-lead"))
    assert project_reads.count_projects(store, admin) == 6
    assert [p.ref for p in project_reads.list_projects(store, zrzy1)] == ["P-0003"]
    assert {p.ref for p in project_reads.list_projects(store, lead)} == {"P-0001", "P-0003", "P-0005"}
    assert project_reads.count_projects(store, actors.actor(store, "bianji")) == 0
    with pytest.raises(wf.PermissionDenied):
        project_reads.project_detail(store, zrzy1, "P-0002")
    page1 = project_reads.list_projects(store, admin, limit=4, offset=0)
    page2 = project_reads.list_projects(store, admin, limit=4, offset=4)
    assert len(page1) == 4 and len(page2) == 2 and not {p.ref for p in page1} & {p.ref for p in page2}
    assert project_reads.list_projects(store, admin, project_reads.ProjectFilter(text="100%_")) == []


async def test_admin_toggles_the_visualised_mark_with_m(open_projects, settle, board_db, store):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "all")
        ref = keys(screen)[0]
        before = store.project(ref).visualised
        await pilot.press("m")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert store.project(ref).visualised == (not before)
        assert store.audit_rows("project", ref)[-1].action == "project.visualise"
        assert screen.current_row().visualised == (not before)     # the row repainted from the store
        await pilot.press("m")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert store.project(ref).visualised == before


async def test_only_the_admin_sets_the_visualised_mark(open_projects, settle, board_db, store):
    app = app_for(board_db, "daiyue1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_projects(pilot, "all")
        ref = keys(screen)[0]
        before = store.project(ref).visualised
        assert screen.check_action("visualise", ()) is False
        await pilot.press("m")
        await settle(pilot)
        await app.workers.wait_for_complete()
        assert store.project(ref).visualised == before
