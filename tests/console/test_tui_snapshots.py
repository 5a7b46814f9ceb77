"""SVG snapshots of the console (pytest-textual-snapshot), at fixed terminal sizes and a
fixed "now" (TAIAN_NOW, see test_tui_fixtures.py). Regenerate after a deliberate change
with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs."""
from __future__ import annotations

import pytest

from textual.widgets import DataTable, Input, TextArea

from taian_tui.domain import operations as wf
from taian_tui.console.app import TaianApp


WIDE = (120, 36)
PLAIN = (80, 24)


def _app(db, user, **kw) -> TaianApp:
    return TaianApp(db, username=user, poll=False, **kw)


def _still(app) -> None:
    """No blinking cursors in a snapshot."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False


@pytest.fixture
def _go_to(settle):
    async def _go_to(pilot, ref: str) -> None:
        screen = pilot.app.screen
        index = [r.ref for r in screen.rows].index(ref)
        screen.query_one("#table", DataTable).move_cursor(row=index)
        await settle(pilot)
    return _go_to


def test_inbox_admin_wide(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "admin"), terminal_size=WIDE, run_before=before)


def test_inbox_liaison_plain_terminal(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "zrzy1"), terminal_size=PLAIN, run_before=before)


def test_detail_pane_of_a_hostile_title(_go_to, settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await _go_to(pilot, "A-2026-0006")
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "zrzy1"), terminal_size=WIDE, run_before=before)


def test_reply_form_keeps_text_after_a_refusal(_go_to, settle, tui_db, store, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await _go_to(pilot, "A-2026-0001")
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("#reply", TextArea).insert("经会商，指标将于下月下达。")
        wf.reply_appeal(store, "admin", "A-2026-0001", "管理员已答复")
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "zrzy1"), terminal_size=WIDE, run_before=before)


def test_extension_form_plain_terminal(_go_to, settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await _go_to(pilot, "A-2026-0007")
        await pilot.press("e")
        await settle(pilot)
        pilot.app.screen.query_one("#days", Input).value = "30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "zrzy1"), terminal_size=PLAIN, run_before=before)


def test_escalation_board(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "ducha1"), terminal_size=WIDE, run_before=before)


def test_escalation_board_disputes_view(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "ducha1"), terminal_size=WIDE, run_before=before)


def test_red_cards_of_the_discipline_commission(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "jiwei1"), terminal_size=WIDE, run_before=before)


def test_inbox_in_english(settle, tui_db, snap_compare):
    async def before(pilot):
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(tui_db, "admin", lang="en"), terminal_size=WIDE, run_before=before)


# -- part 2: project board, policy editor, dashboard ------------------------------------------------
@pytest.fixture
def _goto_mode(settle):
    async def _goto_mode(pilot, key: str) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
    return _goto_mode


def test_project_board_with_detail(_goto_mode, settle, board_db, snap_compare):
    """All projects, grouped by stage, the provincial one with its timeline selected."""
    async def before(pilot):
        await _goto_mode(pilot, "f5")
        await pilot.press("0")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#table", DataTable).move_cursor(row=[r.ref for r in screen.rows].index("P-0003"))
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(board_db, "admin"), terminal_size=WIDE, run_before=before)


def test_project_board_plain_terminal(_goto_mode, settle, board_db, snap_compare):
    async def before(pilot):
        await _goto_mode(pilot, "f5")
        await pilot.press("0")
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(board_db, "daiyue1"), terminal_size=PLAIN, run_before=before)


def test_editor_with_markdown_preview(settle, board_db, snap_compare):
    """The draft with a Markdown body beside its rendered preview, one change unsaved."""
    async def before(pilot):
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#table", DataTable).move_cursor(row=[r.id for r in screen.rows].index(2))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = pilot.app.screen
        editor.query_one("#tags", Input).value = "要素保障,用地"
        await pilot.pause(0.4)
        # the autosave (due a second after the change) is taken now, so that the picture does
        # not depend on how long the steps above took
        editor.autosave_now()
        # no focus at all: whether a text cursor is drawn must not depend on timing
        editor.set_focus(None)
        await settle(pilot)
        _still(pilot.app)

    assert snap_compare(_app(board_db, "bianji"), terminal_size=WIDE, run_before=before)


def test_dashboard_wide(_goto_mode, board_db, snap_compare):
    async def before(pilot):
        await _goto_mode(pilot, "f8")
        _still(pilot.app)

    assert snap_compare(_app(board_db, "admin"), terminal_size=WIDE, run_before=before)


def test_dashboard_plain_terminal(_goto_mode, board_db, snap_compare):
    async def before(pilot):
        await _goto_mode(pilot, "f8")
        _still(pilot.app)

    assert snap_compare(_app(board_db, "bianji"), terminal_size=PLAIN, run_before=before)
