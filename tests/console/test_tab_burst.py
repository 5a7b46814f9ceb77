"""Keys typed straight after Tab (a fast typist, a paste, tmux send-keys) land in the field Tab
moves to: the app forwarded them to the field that had the focus when they arrived, before
Tab, waiting in that field's queue, had moved it (an extension's reason typed after its days
stayed empty, the letters dropped by the days field)."""
from __future__ import annotations

from textual import events
from textual.widgets import Input, TextArea

from taian_tui.console.app import TaianApp
from taian_tui.screens.forms import ExtendForm

SIZE = (120, 36)


async def test_text_typed_right_after_tab_lands_in_the_next_field(settle, tui_db):
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = ExtendForm("A-2026-0006", subject="施工许可", state="accepted")
        app.push_screen(form)
        await settle(pilot)
        assert app.focused is form.query_one("#days", Input)
        for key, ch in [("7", "7"), ("tab", None), *((c, c) for c in "需要现场踏勘abc")]:
            app.post_message(events.Key(key, ch))
        await settle(pilot)
        await settle(pilot)
        assert form.query_one("#days", Input).value == "7"
        assert form.query_one("#reason", TextArea).text == "需要现场踏勘abc"
        # and back: shift+tab, then a digit, at once: the digit reaches the days field, whose
        # text is selected when the focus comes back (Textual's Input): it replaces the 7
        for key, ch in [("shift+tab", None), ("5", "5")]:
            app.post_message(events.Key(key, ch))
        await settle(pilot)
        await settle(pilot)
        assert form.query_one("#days", Input).value == "5"
        assert form.query_one("#reason", TextArea).text == "需要现场踏勘abc"
