"""The escalation board's and the red cards' lists keep the keys of every list (README: "In
every list, Home and End go to the first and last row of the whole list (not only of the
page), z shows the detail over the whole screen"). The small city of
tests/console/conftest.py; pages of one row (``PAGE_SIZE``), so that every list has pages."""
from __future__ import annotations

import pytest

from taian_tui.console.app import TaianApp
from taian_tui.domain.actors import actor
from taian_tui.read import board
from taian_tui.screens import escalation
from taian_tui.screens.escalation import BoardScreen, CardList, PagedTable, RedCardScreen

SIZE = (120, 36)


@pytest.fixture
def one_per_page(monkeypatch):
    monkeypatch.setattr(escalation, "PAGE_SIZE", 1)


async def test_home_and_end_in_a_board_column_reach_the_whole_column(one_per_page, settle, tui_db, store):
    whole = {card: [i.ref for i in board.board_column(store, actor(store, "ducha1"), card, limit=100).items]
             for card in ("blue", "yellow", "red")}
    card = max(whole, key=lambda c: len(whole[c]))
    assert len(whole[card]) >= 2
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        column = screen.query_one(f"#col-{card}", CardList)
        column.focus()
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert (screen.offsets[card], column.highlighted_id()) == (len(whole[card]) - 1, whole[card][-1])
        assert screen.detail_ref == whole[card][-1]         # the detail follows
        await pilot.press("home")
        await settle(pilot)
        assert (screen.offsets[card], column.highlighted_id()) == (0, whole[card][0])
        assert screen.detail_ref == whole[card][0]
        await pilot.press("z")                  # the detail over the whole screen, and back
        await settle(pilot)
        assert screen.query_one("#views").display is False and app.focused is screen.query_one("#detail")
        await pilot.press("z")
        await settle(pilot)
        assert screen.query_one("#views").display is True and app.focused is column


async def test_home_and_end_in_the_extension_requests(one_per_page, settle, tui_db, store, make_appeal):
    from taian_tui.domain import operations as wf

    make_appeal("accepted", ref="A-2026-0090")
    wf.request_extension(store, "zrzy1", "A-2026-0090", 3, "待会商", at="2026-10-09T11:00:00+08:00")
    whole, total = board.pending_extensions(store, actor(store, "ducha1"), limit=100)
    assert total >= 2
    app = TaianApp(tui_db, username="ducha1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await settle(pilot)
        table = screen.query_one("#view-extensions", PagedTable)
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert screen.offsets["extensions"] == total - 1
        assert screen.selected_ref() == whole[-1].ref
        await pilot.press("home")
        await settle(pilot)
        assert (screen.offsets["extensions"], screen.selected_ref()) == (0, whole[0].ref)


async def test_home_end_and_z_in_the_red_cards(one_per_page, settle, tui_db, store, make_appeal):
    rows, total = board.red_cards(store, actor(store, "jiwei1"), limit=100)
    app = TaianApp(tui_db, username="jiwei1", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RedCardScreen)
        await pilot.press("end")
        await settle(pilot)
        assert (screen.row_offset, screen.selected_ref()) == (total - 1, rows[-1].ref)
        await pilot.press("home")
        await settle(pilot)
        assert (screen.row_offset, screen.selected_ref()) == (0, rows[0].ref)
        table = screen.query_one("#red-table")
        await pilot.press("z")                  # the detail over the whole screen, focused
        await settle(pilot)
        assert screen.has_class("-zoomed") and table.display is False
        assert (table.region.height, app.focused is screen.query_one("#detail")) == (0, True)
        # every line but the header's, the status line's and the footer's
        assert screen.query_one("#detail").region.height == SIZE[1] - 3
        await pilot.press("z")                  # and back to the list
        await settle(pilot)
        assert not screen.has_class("-zoomed") and app.focused is table and table.region.height > 0
