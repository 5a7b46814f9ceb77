"""Typed work is never lost (issue 13, point 1): every action form keeps a draft a second
after each change, restores it when reopened on the same appeal, asks before it is thrown
away (取消 focused), and the console asks before quitting with a form open; a save drops the
draft. The small city of tests/console/conftest.py; zrzy1 is the liaison of A-2026-0001
(accepted, unanswered) and A-2026-0006 (accepted)."""
from __future__ import annotations

import json

from textual.widgets import Button, DataTable, TextArea

from taian_tui.console.app import TaianApp
from taian_tui.screens.common import ChoiceScreen
from taian_tui.screens.forms import ReplyForm
from taian_tui.screens.inbox import InboxScreen

SIZE = (120, 36)
TYPED = "经与市自然资源局会商，指标将于下月下达。\n第二段 [/b] 原样"
KEY = "form:ReplyForm:A-2026-0001"


def draft(store, key=KEY):
    row = store.one("SELECT fields FROM editor_autosave WHERE username = 'zrzy1' AND item = ?", (key,))
    return json.loads(row[0]) if row else None


async def written(pilot, settle, store, seconds: float = 10.0) -> None:
    """Until the form's draft is in the store (a second after the last key; on a busy machine
    its write may take a little longer), at most ``seconds``."""
    await pilot.pause(1.0)
    for _ in range(int(seconds / 0.1)):
        await settle(pilot)
        if draft(store) is not None:
            return
        await pilot.pause(0.1)


async def open_reply(pilot, settle, ref="A-2026-0001") -> ReplyForm:
    screen = pilot.app.screen
    keys = [screen.row_key(r) for r in screen.rows]
    screen.query_one("#table", DataTable).move_cursor(row=keys.index(ref))
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ReplyForm)
    return pilot.app.screen


async def test_a_reply_typed_is_kept_asked_about_and_restored(settle, tui_db, store):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        form.query_one("#reply", TextArea).insert(TYPED)
        await written(pilot, settle, store)                     # the draft is written a second later
        assert draft(store) == {"reply": TYPED}
        await pilot.press("escape")
        await settle(pilot)
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        assert app.focused is choice.query_one("#choice-stay", Button)
        assert [str(b.label) for b in choice.query(Button)] == ["保留草稿", "丢弃", "取消"]
        await pilot.press("enter")                              # 取消: stays in the form
        await settle(pilot)
        assert app.screen is form and form.query_one("#reply", TextArea).text == TYPED
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#choice-keep")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        form = await open_reply(pilot, settle)                  # reopened: the text is back
        await settle(pilot)
        assert form.query_one("#reply", TextArea).text == TYPED
        assert str(form.query_one("#form-status").render()).startswith("已恢复 ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert store.appeal("A-2026-0001").reply == TYPED
        assert draft(store) is None


async def test_discarding_drops_the_draft(settle, tui_db, store):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        form.query_one("#reply", TextArea).insert(TYPED)
        await written(pilot, settle, store)
        assert draft(store) == {"reply": TYPED}
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#choice-discard")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert draft(store) is None
        form = await open_reply(pilot, settle)
        assert form.query_one("#reply", TextArea).text == ""
        await pilot.press("escape")                             # nothing typed: closes at once
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)


async def test_quitting_with_a_form_open_asks_and_keeps_its_draft(settle, tui_db, store):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        form.query_one("#reply", TextArea).insert("刚打的字")
        await pilot.press("ctrl+q")                             # at once: before the timer
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.is_running
        await pilot.click("#choice-quit")
        await settle(pilot)
        assert not app.is_running
    assert draft(store) == {"reply": "刚打的字"}


async def test_the_arrows_move_between_the_leave_dialogs_buttons(settle, tui_db, store):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        form.query_one("#reply", TextArea).insert(TYPED)
        await pilot.press("escape")
        await settle(pilot)
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        keep, discard, stay = (choice.query_one(f"#choice-{a}", Button) for a in ("keep", "discard", "stay"))
        assert app.focused is stay
        await pilot.press("left")
        assert app.focused is discard
        await pilot.press("left")
        assert app.focused is keep
        await pilot.press("left")                                # round to the last
        assert app.focused is stay
        await pilot.press("right")                               # and round to the first
        assert app.focused is keep
        await pilot.press("enter")                               # 保留草稿
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert draft(store) == {"reply": TYPED}


async def test_typing_in_a_restored_draft_goes_on_after_it(settle, tui_db, store):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        form.query_one("#reply", TextArea).insert(TYPED)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.click("#choice-keep")
        await settle(pilot)
        form = await open_reply(pilot, settle)
        await settle(pilot)
        area = form.query_one("#reply", TextArea)
        assert area.text == TYPED and app.focused is area
        await pilot.press(*"追加")
        assert area.text == TYPED + "追加"


async def test_ctrl_s_right_after_a_burst_of_keys_saves_all_of_them(settle, tui_db, store):
    """A burst of keys (a paste, an input method's phrase) and Ctrl+S at once: the app takes
    Ctrl+S (a priority key) as it comes, while the keys before it may still wait in the text
    box's queue; what is saved is what the box shows once they are in, all of it (one
    character of a 不满意 review's note was stored, or "请填写答复内容" for a reply on screen)."""
    from textual import events

    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_reply(pilot, settle)
        assert app.focused is form.query_one("#reply", TextArea)
        burst = "已协调解决[/x]，本月完成"
        for ch in burst:
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("ctrl+s", None))
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert store.appeal("A-2026-0001").reply == burst
