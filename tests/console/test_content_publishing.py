"""The policy editor's publishing (issue 15), driven through Textual's Pilot at a fixed size
on the small city of tests/console/conftest.py (``board_db``: #1 published and the
每日一听 of today, 2026-10-20; #2 a draft with a Markdown body; #3 archived; #4 published):

* editing a published item saves a draft revision (the published text stays), and
  publishing the revision is a separate confirmation that names what changes;
* leaving with unsaved changes focuses 取消, not 保存;
* withdrawing today's pick says so and clears the pick only on that confirmation;
* ``b`` builds the day's sound in a worker and the bar shows ♪ and its duration;
* the detail renders the body as Markdown."""
from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from taian_tui.console.app import TaianApp
from taian_tui.screens.common import ChoiceScreen
from taian_tui.screens.content import ContentActionForm, ContentScreen, EditorScreen, ListenBuildForm

SIZE = (120, 36)


def keys(screen) -> list[str]:
    return [screen.row_key(r) for r in screen.rows]


async def test_a_published_item_is_revised_then_the_revision_published(screen_text, select_key, settle,
                                                                      board_db, store):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        list_screen = app.screen
        await select_key(pilot, "1")
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert "修改将存为修订稿，发布修订后才生效" in screen_text(app)
        footer = screen_text(app).splitlines()[-1]
        assert "^s 存为修订稿" in footer and "保存并发布" not in footer
        editor.query_one("#title", Input).value = "泰安市支持重大项目建设若干措施（2026年修订）"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert tuple(store.one("SELECT title, revision FROM content WHERE id = 1")) == \
            ("泰安市支持重大项目建设若干措施", 1)
        assert store.one("SELECT title FROM content_revisions WHERE content_id = 1")[0] == \
            "泰安市支持重大项目建设若干措施（2026年修订）"
        assert "有未发布的修订稿" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is list_screen
        await select_key(pilot, "1")
        assert "↻" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContentActionForm) and form.op == "publish_revision"
        assert str(form.query_one("#save", Button).label) == "发布修订"
        text = screen_text(app)
        assert "将改动：标题" in text
        assert "泰安市支持重大项目建设若干措施 → 泰安市支持重大项目建设若干措施（2026年修订）" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert tuple(store.one("SELECT title, revision FROM content WHERE id = 1")) == \
            ("泰安市支持重大项目建设若干措施（2026年修订）", 2)
        assert store.scalar("SELECT COUNT(*) FROM content_revisions") == 0


async def test_leaving_unsaved_changes_focuses_cancel(screen_text, select_key, settle, board_db, store):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_key(pilot, "1")
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        editor.query_one("#title", Input).value = "改了标题"
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        assert app.focused is choice.query_one("#choice-stay", Button)
        assert [str(b.label) for b in choice.query(Button)] == ["存为修订稿", "不保存", "取消"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is editor and editor.query_one("#title", Input).value == "改了标题"
        assert store.scalar("SELECT COUNT(*) FROM content_revisions") == 0


async def test_withdrawing_todays_pick_says_so_and_clears_it(screen_text, open_form, settle, board_db, store):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_form(pilot, "1", "u")
        assert isinstance(form, ContentActionForm)
        assert str(form.query_one("#save", Button).label) == "撤回并取消每日一听"
        assert "该内容是 2026-10-20 的每日一听：确认后这些天的每日一听将一并取消" in screen_text(app)
        await pilot.press("escape")                          # refused: nothing changes
        await settle(pilot)
        assert store.one("SELECT state FROM content WHERE id = 1")[0] == "published"
        assert store.scalar("SELECT COUNT(*) FROM daily_listen WHERE date = '2026-10-20'") == 1
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.one("SELECT state FROM content WHERE id = 1")[0] == "draft"
        assert store.scalar("SELECT COUNT(*) FROM daily_listen WHERE date = '2026-10-20'") == 0
        assert "每日一听 今天及以后尚未选定" in screen_text(app)


async def test_b_builds_the_days_sound_in_a_worker(screen_text, settle, board_db, store):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "每日一听 10-20 #1 泰安市支持重大项目建设若干措施 (未生成音频)" in screen_text(app)
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ListenBuildForm)
        assert form.query_one("#day", Input).value == "2026-10-20"
        assert str(form.query_one("#save", Button).label) == "生成"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        row = store.one("SELECT audio_path, audio_seconds, audio_bytes FROM daily_listen WHERE date = '2026-10-20'")
        target = board_db.parent / "listen" / "listen-2026-10-20.mp3"
        assert row["audio_path"] == str(target) and row["audio_bytes"] == target.stat().st_size
        whole = round(row["audio_seconds"])
        assert f"#1 泰安市支持重大项目建设若干措施 ♪0:{whole:02d}" in screen_text(app)
        assert store.audit_rows("daily_listen", "2026-10-20")[-1].action == "content.listen_built"


async def test_the_detail_renders_the_body_as_markdown(hostile, screen_text, select_key, settle, board_db):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=(120, 60)) as pilot:        # tall enough for the whole body
        await settle(pilot)
        await select_key(pilot, "2")
        await pilot.pause(0.2)
        await settle(pilot)
        text = screen_text(app)
        assert "• 用地优先保障" in text and "## 支持政策" not in text
        assert "原样显示 [red]不是标记[/red]" in text


async def test_a_new_item_with_nothing_typed_does_not_say_saved(settle, board_db):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert str(editor.query_one("#editor-status").render()) == "新建内容"
        editor.query_one("#title", Input).value = "新的标题"
        await settle(pilot)
        assert str(editor.query_one("#editor-status").render()) == "新建内容 · ● 未保存"


async def test_a_greyed_publishing_key_says_why(select_key, settle, board_db):
    app = TaianApp(board_db, username="bianji", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await select_key(pilot, "1")                              # published, no revision pending
        assert screen.check_action("publish", ()) is None
        await pilot.press("p")
        await settle(pilot)
        assert app.screen is screen
        assert [n.message for n in app._notifications] == [
            "发布：该内容当前为“已发布”，只有“草稿”的内容可以发布"]
