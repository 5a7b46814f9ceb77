"""The list's table draws its one-line text cells by a path of its own (``ListTable._render_cell``,
a quarter of DataTable's time): it must draw every cell exactly as DataTable's own path does,
with the cursor on it or not, focused or not, for the hostile texts of the fixture city
(markup, an escape sequence, a bell, an emoji, right-to-left override), cut Chinese titles
with their ellipsis, empty cells, the coloured card cells, and texts Rich justifies or cuts
in other ways."""
from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable

from taian_tui.console.app import TaianApp
from taian_tui.console.widgets import cell
from taian_tui.screens.paged import ListTable

SIZE = (120, 36)


def _both(table: ListTable, row: int, column: int, width: int, *, cursor: bool, hover: bool = False):
    base = table.rich_style
    table._cell_render_cache.clear()
    datatable_path = DataTable._render_cell
    calls = []
    DataTable._render_cell = lambda *a, **k: calls.append(a) or datatable_path(*a, **k)
    try:
        ours = ListTable._render_cell(table, row, column, base, width, cursor, hover)
    finally:
        DataTable._render_cell = datatable_path
    assert calls == [], "a one-line text cell went DataTable's way"
    table._cell_render_cache.clear()
    theirs = DataTable._render_cell(table, row, column, base, width, cursor, hover)
    return ours, theirs


def _all_cells_agree(table: ListTable) -> int:
    widths = [c.get_render_width(table) for c in table.ordered_columns]
    compared = 0
    for row in range(table.row_count):
        for column, width in enumerate(widths):
            for cursor in (False, True):
                ours, theirs = _both(table, row, column, width, cursor=cursor, hover=row == 1)
                assert ours == theirs, (row, column, cursor)
                compared += 1
    return compared


async def test_every_cell_of_the_inbox_is_drawn_as_datatable_draws_it(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#table", ListTable)
        # the admin's 待办: the fixture city's appeals but the disputed A-2026-0002, in the
        # inbox's ten columns (card, ref, category, enterprise, title, unit, arrived, deadline,
        # days, state), cursor on and off
        assert table.row_count == 6 and len(table.ordered_columns) == 10
        assert _all_cells_agree(table) == 6 * 10 * 2
        table.blur()                                  # the cursor's colours without the focus
        await settle(pilot)
        assert _all_cells_agree(table) == 6 * 10 * 2


async def test_texts_rich_justifies_cuts_or_leaves_empty_are_drawn_alike(settle, tui_db):
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#table", ListTable)
        texts = [
            Text("", end=""), cell(""), cell("右对齐", 10),
            Text("1,234.5 万元", justify="right", end=""), Text("居中", justify="center", end=""),
            Text("剪掉不加省略号的很长很长很长的标题文字", overflow="crop", end=""),
            Text("折行的很长很长很长很长很长的标题", overflow="fold", no_wrap=False, end=""),
            Text("tab\tstop", end=""), Text("半角 and 全角 mixed ５０％", style="bold red", end=""),
            cell("[/b] 标记 [red]x[/red] \x1b[2J\x07 🚧", 12, "italic"),
        ]
        table.clear()
        table.add_row(*texts, key="r1")
        table.add_row(*texts[::-1], key="r2")
        await settle(pilot)
        assert _all_cells_agree(table) == 2 * 10 * 2


async def test_a_new_page_keeps_the_columns_and_measures_no_cell(monkeypatch, settle, tui_db):
    """Another page of the same list keeps its columns (the same ``Column`` objects: adding them
    again emptied DataTable's header caches) and sizes the table without measuring its cells
    (every column's width is set, every row one line); the size is DataTable's own."""
    import textual.widgets._data_table as data_table

    measured = []
    real_measure = data_table.measure
    monkeypatch.setattr(data_table, "measure", lambda *a, **k: measured.append(1) or real_measure(*a, **k))
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", ListTable)
        columns = list(table.ordered_columns)
        # the first page measured its ten column headers (as adding a column does), no cell
        assert len(columns) == 10 and len(measured) == 10
        screen.reload(keep=True)                       # the same page read again
        await settle(pilot)
        assert table.row_count == 6 and list(table.ordered_columns) == columns
        assert len(measured) == 10
        ours = table.virtual_size
        DataTable._update_dimensions(table, list(table.rows))      # DataTable's own way
        assert table.virtual_size == ours
        assert len(measured) == 10 + 6 * 10            # (which measures each cell)


@pytest.mark.heavy
@pytest.mark.parametrize("size", [SIZE, (160, 100)])
async def test_the_render_caches_hold_twice_the_screen_and_no_more(settle, demo_db, size):
    # a day of cursor moves must not fill DataTable's caches of 10,000 cells and 1,000 rows
    # (a cursor move re-keys every row and line shown): room for twice what the table shows
    # (400 cells and 40 rows at least), which a redraw of the unchanged screen finds whole
    app = TaianApp(demo_db, username="admin", poll=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#table", ListTable)
        shown = table.size.height
        assert len(table.ordered_columns) == 10
        cells, rows = max(400, 2 * shown * 10), max(40, 2 * shown)
        if size == SIZE:
            assert (shown, cells, rows) == (17, 400, 40)
        else:
            assert shown > 40 and (cells, rows) == (20 * shown, 2 * shown)
        caches = (table._row_render_cache, table._row_renderable_cache, table._line_cache)
        assert table._cell_render_cache.maxsize == cells
        assert [c.maxsize for c in caches] == [rows] * 3
        if size != SIZE:
            return
        table.focus()
        for _ in range(30):                          # each re-keys the 17 rows and lines shown
            await pilot.press("down")
        await settle(pilot)
        assert (app.screen.page, table.cursor_row) == (0, 30)
        assert len(table._cell_render_cache) <= cells
        assert all(len(c) <= rows for c in caches)
        misses = table._cell_render_cache.misses
        table.refresh()
        await settle(pilot)
        assert table._cell_render_cache.misses == misses
