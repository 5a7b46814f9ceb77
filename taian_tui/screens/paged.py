"""A screen of one paged list (a ``DataTable`` filled a page at a time from SQLite) with a
detail pane under it: the base of the appeal inbox, the project board, the instruction
lists and the content list. The subclass says how to read a page (``fetch``), count
(``count``), fill the table (``fill_table``) and read one row's detail (``fetch_detail``);
this class runs the reads in worker threads, each on its own ``Store``, and keeps the
cursor, the page and the status line. The page (with its cursor row's detail) is painted as
soon as it is read; the count (on a million appeals the slower query) and the figures of
``fetch_extra`` are read beside it, in a worker of their own, and shown after the page. Reloads on the app's ``data_changed`` (live poll or a saved
form); an open form on top is never refreshed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import var
from textual.cache import LRUCache
from textual.constants import MAX_FPS
from textual.widgets import DataTable, Static

from taian_tui.console.messages import DetailLoaded, PageLoaded, TotalCounted, WorkFailed
from taian_tui.console.strings import t
from taian_tui.console.widgets import localise_bindings, plain
from taian_tui.console.workers import Job
from taian_tui.screens.common import LiveScreen, toggle_zoom
from taian_tui.store import Store

PAGE_SIZE = 50
#: "Loading" is shown when a page takes longer than this (seconds): a page read in a few
#: milliseconds is painted at once, in one frame with its detail, without a flash of it.
LOADING_AFTER = 0.15
#: How long a page waits for its count (read beside it) before it is shown without it: the
#: two then come in one frame, instead of a frame of the page and another of its count, each a
#: full redraw of the list (on a million appeals a count from the indexes takes a few ms, but
#: its thread waits for the interpreter while the page is drawn: the count came 30-50 ms after)
COUNT_WAIT = 0.05
#: How long after a page is filled the table takes the focus (``focus_table_after_page``):
#: two of Textual's frame periods, so that the page is painted first, in its own frame
FOCUS_AFTER_PAGE = 2 / MAX_FPS
#: ListTable's render caches at least (DataTable's: 10,000 cells, 1,000 rows and lines), grown
#: to twice what the table shows (``ListTable.size_caches``)
CELL_CACHE = 400
ROW_CACHE = 40
_NULL = Style.null()
#: How Rich draws an empty cell, by (its text's style, its width): a page has many
_BLANKS: dict[tuple, list[Segment]] = {}


@dataclass(frozen=True)
class Request:
    generation: int
    filter: Any
    page: int
    keep_key: str | None = None
    keep_index: int | None = None
    cursor: str | None = None          # "first" | "last" | None
    count: bool = True                 # count again (else the count on screen still holds)


class ListTable(DataTable):
    """The page of rows; PgUp/PgDn read the previous/next page, and moving past the first
    or last row does too."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="list.next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="list.prev_page", show=False),
        # the first and last row of the whole list, not only of the page on screen
        Binding("home", "first_row", "k.first_row", id="list.first_row", show=False),
        Binding("end", "last_row", "k.last_row", id="list.last_row", show=False),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        localise_bindings(self)
        # DataTable's render caches are sized for tables of thousands of rows (10,000 cells,
        # a megabyte or more once full); a page here is 50 rows, and every cursor move adds
        # entries (the highlight is part of a row's and a line's key): sized for what the
        # table shows (``size_caches``), so that a console's memory stays flat over a day of
        # keys (benchmarks/console_memory.py: 1,000 cursor moves held 3-4 MB more with room
        # for 1,500 cells and 200 rows)
        self._cell_render_cache = LRUCache(CELL_CACHE)
        self._row_render_cache = LRUCache(ROW_CACHE)
        self._row_renderable_cache = LRUCache(ROW_CACHE)
        self._line_cache = LRUCache(ROW_CACHE)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        """A body cell of one line holding a ``Text`` (what ``widgets.cell`` makes), drawn the
        way DataTable draws it (the text in its own wrap and overflow, one space of padding
        each side, DataTable's styles around it) without Rich's general path of nested
        renderables and line splitting: a quarter of the time, and a page's table is redrawn
        on every page, filter and focus change. Any other cell: DataTable's own path. Same
        cache, same key (``tests/console/test_list_table.py`` compares the two)."""
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        row = self.rows.get(row_key) if row_key is not None else None
        if (column_index < 0 or row is None or row.height != 1 or row_index < self.fixed_rows
                or column_index < self.fixed_columns):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state)
        lines = self._cell_render_cache.get(key)
        if lines is not None:
            return lines
        text = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(text, Text) or "\n" in text.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        console = self.app.console
        pad = self.cell_padding
        inner = max(0, width - 2 * pad)
        plain_text = text.plain
        size = text.cell_len
        justify = text.justify
        if plain_text and size <= inner and justify in ("right", "center") and "\t" not in plain_text:
            # as Rich justifies a line: its trailing spaces off, padded within the text
            text = text.copy()
            text.rstrip()
            if justify == "center":
                text.pad_left((inner - text.cell_len) // 2)
                text.pad_right(inner - text.cell_len)
            else:
                text.pad_left(inner - text.cell_len)
            plain_text, size, justify = text.plain, inner, None
        if not plain_text and justify in (None, "default"):
            # an empty cell (no card, no date): as Rich draws one, which depends on its style only
            blank_key = (text.style, inner)
            line = _BLANKS.get(blank_key)
            if line is None:
                options = self.app.console_options.update_dimensions(inner, 1).update(no_wrap=True)
                line = next(iter(Segment.split_and_crop_lines(text.__rich_console__(console, options), inner,
                                                              pad=True, include_new_lines=False)), None)
                line = _BLANKS[blank_key] = line if line is not None else [Segment(" " * inner, _NULL)]
        elif plain_text and size <= inner and justify in (None, "default") and "\t" not in plain_text:
            # what fits as it is (``cell`` cuts to the column's width): its segments, padded
            if text.spans:
                line = list(text.render(console))
            else:                       # Rich draws a text's own style as a span of a joined text
                line = [Segment(plain_text, console.get_style(text.style) if text.style else None)]
            if size < inner:
                line.append(Segment(" " * (inner - size)))
        else:
            options = self.app.console_options.update_dimensions(inner, 1).update(no_wrap=True)
            line = next(iter(Segment.split_and_crop_lines(text.__rich_console__(console, options), inner,
                                                          pad=True, include_new_lines=False)), None)
            if line is None:            # nothing drawn (an empty text): a blank line, as Rich pads
                line = [Segment(" " * inner, _NULL)]
        spaces = [Segment(" " * pad, _NULL)] if pad else []
        style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        lines = [list(Segment.apply_style([*spaces, *line, *spaces], style=style, post_style=post_style))]
        self._cell_render_cache[key] = lines
        return lines

    def _update_dimensions(self, new_rows: Any) -> None:
        """The table's size once new rows are in. DataTable measures every new cell for the
        width of a column that sizes itself to its content, and renders every row whose height
        is its content's; these lists have neither (every column's width is set, every row is
        one line, no row labels): measuring a page's 500 cells was a third of a page's work
        outside drawing it. Any other table: DataTable's own way."""
        self.size_caches()              # (the columns may be new)
        columns = list(self.columns.values())
        rows = [self.rows.get(key) for key in new_rows]
        if (not columns or any(c.auto_width for c in columns)
                or any(r is not None and (r.auto_height or r.label is not None) for r in rows)):
            super()._update_dimensions(new_rows)
            return
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(sum(c.get_render_width(self) for c in columns) + self._row_label_column_width,
                                 self._total_row_height + header_height)

    def size_caches(self) -> None:
        """Room in the render caches for twice the rows and cells the table shows (a redraw
        of an unchanged screen, and of the screen after a cursor move, finds its cells
        there); they only grow (``LRUCache.grow``)."""
        shown = max(1, self.size.height)
        self._cell_render_cache.grow(2 * shown * max(1, len(self.columns)))
        for cache in (self._row_render_cache, self._row_renderable_cache, self._line_cache):
            cache.grow(2 * shown)

    def on_resize(self) -> None:
        self.size_caches()

    def action_next_page(self) -> None:
        self.screen.next_page()

    def action_prev_page(self) -> None:
        self.screen.prev_page()

    def action_first_row(self) -> None:
        self.screen.first_row()

    def action_last_row(self) -> None:
        self.screen.last_row()

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1 and self.screen.has_next_page():
            self.screen.next_page(cursor="first")
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0 and self.screen.page > 0:
            self.screen.prev_page(cursor="last")
            return
        super().action_cursor_up()


class PagedListScreen(LiveScreen):
    """Base of a paged list with a detail pane (see the module's docstring)."""

    BINDINGS = [
        # the detail over the whole screen (and back); PageUp/PageDown scroll it there
        Binding("z", "zoom_detail", "k.zoom", id="list.zoom", show=False),
    ]

    DEFAULT_CSS = """
    PagedListScreen.-zoomed #table, PagedListScreen.-zoomed #filters, PagedListScreen.-zoomed #tabs { display: none; }
    PagedListScreen.-zoomed #detail { height: 1fr; }
    """

    EMPTY_KEY: ClassVar[str] = "list.empty"
    DETAIL_EMPTY_KEY: ClassVar[str] = "list.detail_empty"

    #: The count of the rows matching the filter (``None`` while counting): the status line
    #: follows it.
    total: var[int | None] = var(None, init=False, always_update=True)
    #: Whether the detail pane is shown.
    detail_visible: var[bool | None] = var(None, init=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.page = 0
        self.rows: list = []
        self.extra: Any = None
        self.generation = 0
        self.loaded_generation = 0      # the last request whose rows are on screen
        self.counted_generation = 0     # the last request whose total is on screen
        self._counted_filter: Any = None
        self._count_stale = False       # the data changed since the count on screen
        self.detail_key: str | None = None
        self._last_request: Request | None = None
        self._focus_after_page = False  # the table takes the focus once the next page is on screen
        self._early_total: TotalCounted | None = None   # a count that came before its page
        self._waiting_page: PageLoaded | None = None    # a page waiting for its count (COUNT_WAIT)
        self._load_failed = False       # the last page asked for failed (said on the status line)
        self._filled_size: Any = None   # the terminal's size when the table was filled

    # -- to override ----------------------------------------------------------------------------
    def current_filter(self) -> Any:
        return None


    def fetch(self, store: Store, act: Any, flt: Any, limit: int, offset: int) -> list:
        raise NotImplementedError

    def count(self, store: Store, act: Any, flt: Any) -> int:
        raise NotImplementedError

    def fetch_extra(self, store: Store, act: Any, flt: Any) -> Any:
        return None

    def fill_table(self, table: DataTable, rows: list) -> None:
        raise NotImplementedError

    def row_key(self, row: Any) -> str:
        raise NotImplementedError

    def fetch_detail(self, store: Store, act: Any, key: str) -> Any:
        return None

    def show_detail(self, detail: Any) -> None:
        pass

    def show_detail_text(self, text: str) -> None:
        pass

    def extra_loaded(self, extra: Any) -> None:
        """The figures of ``fetch_extra`` arrived (tab counts...)."""

    def page_shown(self, request: Request) -> None:
        """A page was painted (after the table and the status line were updated)."""

    def total_shown(self, request: Request) -> None:
        """The count of a request was shown."""

    def status_text(self) -> str:
        if not self.rows:
            return t(self.EMPTY_KEY)
        first = self.page * PAGE_SIZE + 1
        last = self.page * PAGE_SIZE + len(self.rows)
        if self.total is None:
            return t("list.page_nototal", page=self.page + 1, first=first, last=last)
        pages = max(1, -(-self.total // PAGE_SIZE))
        return t("list.page", page=self.page + 1, pages=pages, first=first, last=last,
                 total=self.total)

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def table(self) -> DataTable:
        return self.query_one("#table", DataTable)

    def on_mount(self) -> None:
        if self.detail_visible is None:
            self.detail_visible = self.app.size.height >= 30
        else:
            self.watch_detail_visible(self.detail_visible)
        self.table.focus()
        self.reload()

    def watch_total(self, _total: int | None) -> None:
        if self.is_mounted:
            self.set_status(self.status_text())

    def watch_detail_visible(self, visible: bool | None) -> None:
        try:
            self.query_one("#detail").set_class(not visible, "-hidden")
        except Exception:
            pass

    def on_resize(self) -> None:
        # the columns are cut to the terminal's width: filled again when it changed (the
        # screen's first resize often comes after its first page)
        if self.rows and self.app.size != self._filled_size:
            self._fill(self.rows, keep_key=self.current_key())

    def refresh_data(self) -> None:
        self._count_stale = True
        self.reload(keep=True)            # stay on the same row

    def reload(self, *, keep: bool = False, cursor: str | None = None) -> None:
        self.stale = False
        self.generation += 1
        self._load_failed = False
        table = self.table
        keep_key = self.current_key() if keep else None
        keep_index = table.cursor_row if keep and table.row_count else None
        flt = self.current_filter()
        # another page of the same filter on the same data: the count on screen holds
        count = self._count_stale or flt != self._counted_filter or self.total is None
        request = Request(self.generation, flt, self.page, keep_key, keep_index, cursor, count)
        self._last_request = request
        if not keep:
            self.set_timer(LOADING_AFTER, lambda: self._show_loading(request.generation))
        self._load_page(request)

    def page_pending(self) -> bool:
        """Whether a page asked for is not on screen yet (nor failed): the footer's keys wait
        for it (``KeysFooter``), which then signals them again."""
        return self.loaded_generation < self.generation and not self._load_failed

    def _show_loading(self, generation: int) -> None:
        if generation == self.generation and self.loaded_generation < generation:
            self.set_status(t("status.loading"))

    def filter_changed(self) -> None:
        """A filter changed: back to the first page (unless nothing really changed)."""
        if self._last_request is not None and self.current_filter() == self._last_request.filter:
            return
        self.page = 0
        self.reload()
        self.refresh_bindings()

    def _load_page(self, request: Request) -> None:
        def read(job: Job) -> PageLoaded:
            rows = self.fetch(job.store, job.actor, request.filter, PAGE_SIZE, request.page * PAGE_SIZE)
            # the detail of the row the cursor will land on, read here: the page and its detail
            # are painted in one frame (a read of its own would paint a second)
            key = detail = None
            if rows and self.detail_visible:
                key = self.row_key(rows[self._cursor_index([self.row_key(r) for r in rows], request.keep_key,
                                                          request.keep_index, request.cursor)])
                try:
                    detail = self.fetch_detail(job.store, job.actor, key)
                except Exception:
                    key = None              # read again on its own, where a failure is shown
            return PageLoaded(request, rows, key, detail)

        def count(job: Job) -> TotalCounted:
            total = self.count(job.store, job.actor, request.filter)
            return TotalCounted(request, total, self.fetch_extra(job.store, job.actor, request.filter))
        self.run_in_store("paged-list", read)
        if request.count:
            # beside the page, on a connection of its own: on a million appeals the count is the
            # slower read, and it no longer waits for the page (its message waits, if it comes
            # first: see on_total_counted)
            self.run_in_store("paged-count", count)

    def on_page_loaded(self, message: PageLoaded) -> None:
        request = message.request
        if request.generation != self.generation:
            return
        if not message.rows and request.page > 0:
            # the page emptied under us (rows handled elsewhere): back one page
            self.page = max(0, request.page - 1)
            self.reload(cursor="last")
            return
        early = self._early_total
        if (request.count and self._waiting_page is not message
                and (early is None or early.request.generation != request.generation)):
            # its count is still being read: shown with it, or after COUNT_WAIT without it
            self._waiting_page = message
            self.set_timer(COUNT_WAIT, lambda: self._show_waiting_page(message))
            return
        self._waiting_page = None
        unchanged = (request.keep_key is not None and message.rows == self.rows
                     and request.page == self.page and self.loaded_generation)
        self.rows = message.rows
        if request.filter != self._counted_filter:
            self.set_reactive(PagedListScreen.total, None)   # another filter's count: not this one's
        self.loaded_generation = request.generation
        if not unchanged:           # a refresh that changed none of the rows shown redraws nothing
            self._fill(message.rows, keep_key=request.keep_key, keep_index=request.keep_index,
                       cursor=request.cursor)
            self.set_status(self.status_text())
        key = self.current_key()
        if key is None:
            self.detail_key = None
            self.show_detail_text(t(self.DETAIL_EMPTY_KEY))
        elif key == message.detail_key and self.detail_visible:
            self.detail_key = key
            self.on_detail_loaded(DetailLoaded(key, message.detail))
        else:
            self._load_detail(key, force=True)
        self.refresh_bindings()
        self.page_shown(request)
        if self._focus_after_page:
            # after the page's frame: Textual's "after refresh" runs at the next idle, before
            # it, and a focus moved repaints the whole screen (tmux then parses it twice)
            self.set_timer(FOCUS_AFTER_PAGE, self._focus_table_if_asked)
        if not request.count:
            self.counted_generation = request.generation
            self.total_shown(request)
        early, self._early_total = self._early_total, None
        if early is not None and early.request.generation == request.generation:
            self.on_total_counted(early)

    def _show_waiting_page(self, message: PageLoaded) -> None:
        if self._waiting_page is message:
            self.on_page_loaded(message)

    def on_total_counted(self, message: TotalCounted) -> None:
        request = message.request
        if request.generation != self.generation:
            return
        if self.loaded_generation < request.generation:
            self._early_total = message     # shown right after its page, as if it came after it
            waiting = self._waiting_page
            if waiting is not None and waiting.request.generation == request.generation:
                self.on_page_loaded(waiting)        # the page waited for it: both in one frame
            return
        self.extra = message.extra
        self._counted_filter = request.filter
        self._count_stale = False
        self.counted_generation = request.generation
        self.extra_loaded(message.extra)
        self.total = message.total          # the status line follows (watch_total)
        self.refresh_bindings()
        self.total_shown(request)

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.task in ("paged-list", "paged-count"):
            message.stop()
            self.set_status(t("err.load", msg=message.text))
            self._load_failed = True
            self.refresh_bindings()
        elif message.task == "paged-detail":
            message.stop()
            self.show_detail_text(t("err.load", msg=message.text))

    def _fill(self, rows: list, *, keep_key: str | None = None, keep_index: int | None = None,
              cursor: str | None = None) -> None:
        table = self.table
        self._filled_size = self.app.size
        with self.prevent(DataTable.RowHighlighted):
            self.fill_table(table, rows)
        if not rows:
            return
        index = self._cursor_index([self.row_key(r) for r in rows], keep_key, keep_index, cursor)
        table.move_cursor(row=index, animate=False)

    @staticmethod
    def _cursor_index(keys: list[str], keep_key: str | None, keep_index: int | None,
                      cursor: str | None) -> int:
        """The row the cursor lands on in a page of ``keys``: the kept row, else the last
        (``cursor="last"``), else the same place, else the first."""
        if keep_key and keep_key in keys:
            return keys.index(keep_key)
        if cursor == "last":
            return len(keys) - 1
        if keep_index is not None and cursor is None:
            return min(keep_index, len(keys) - 1)
        return 0

    def set_status(self, text: str | Text) -> None:
        try:
            status = self.query_one("#status", Static)
        except Exception:
            return
        status.update(text if isinstance(text, Text) else plain(text))

    # -- paging ---------------------------------------------------------------------------------
    def has_next_page(self) -> bool:
        if self.total is not None:
            return (self.page + 1) * PAGE_SIZE < self.total
        return len(self.rows) == PAGE_SIZE

    def next_page(self, cursor: str | None = "first") -> None:
        """PageDown: the next page; on the last one, its last row (as a list that is one
        page moves its cursor, not nothing)."""
        if self.has_next_page():
            self.page += 1
            self.reload(cursor=cursor)
        elif self.table.row_count:
            self.table.move_cursor(row=self.table.row_count - 1)

    def prev_page(self, cursor: str | None = "first") -> None:
        """PageUp: the page before; on the first one, its first row."""
        if self.page > 0:
            self.page -= 1
            self.reload(cursor=cursor)
        elif self.table.row_count:
            self.table.move_cursor(row=0)

    def first_row(self) -> None:
        """Home: the first row of the list (its first page)."""
        if self.page == 0:
            if self.table.row_count:
                self.table.move_cursor(row=0)
            return
        self.page = 0
        self.reload(cursor="first")

    def last_row(self) -> None:
        """End: the last row of the list (its last page, once the count is known)."""
        last = (self.total - 1) // PAGE_SIZE if self.total else self.page
        if last == self.page:
            if self.table.row_count:
                self.table.move_cursor(row=self.table.row_count - 1)
            return
        self.page = last
        self.reload(cursor="last")

    def filter_chosen(self, event: Any) -> None:
        """A filter chosen in a ``Select``: the list follows it, and when the user chose it
        (the select has the focus) the focus goes back to the list."""
        event.stop()
        generation = self.generation
        self.filter_changed()
        if self.app.focused is not event.select:
            return
        if self.generation == generation:
            self.table.focus()
            return
        self.focus_table_after_page()

    def focus_table_after_page(self) -> None:
        """The table takes the focus once the page just asked for is on screen (a filter
        chosen, a search sent), or after LOADING_AFTER if no page has come by then. The
        results first, then the focus: moving it restyles the table and rebuilds the footer's
        keys (a frame of its own, tens of milliseconds on a busy screen), which should not
        hold the new page back."""
        self._focus_after_page = True
        self.set_timer(LOADING_AFTER, self._focus_table_if_asked)

    def _focus_table_if_asked(self) -> None:
        if self._focus_after_page:
            self._focus_after_page = False
            self.table.focus()

    # -- selection ------------------------------------------------------------------------------
    def current_row(self) -> Any:
        try:
            table = self.table
        except Exception:
            return None
        if not table.row_count or not self.rows:
            return None
        index = table.cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def current_key(self) -> str | None:
        row = self.current_row()
        return self.row_key(row) if row is not None else None

    @on(DataTable.RowHighlighted, "#table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key is not None else None
        if key and key != self.detail_key:
            self._load_detail(key)
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.row_chosen()

    def row_chosen(self) -> None:
        """Enter on a row: show the detail pane (subclasses may open something instead)."""
        if not self.detail_visible:
            self.action_toggle_detail()

    # -- detail ---------------------------------------------------------------------------------
    def action_toggle_detail(self) -> None:
        if self.has_class("-zoomed"):
            self.action_zoom_detail()
            return
        self.detail_visible = not self.detail_visible
        if self.detail_visible and self.detail_key:
            self._read_detail(self.detail_key)

    def action_zoom_detail(self) -> None:
        toggle_zoom(self, self.detail_key, self._read_detail)

    def _load_detail(self, key: str, *, force: bool = False) -> None:
        if key == self.detail_key and not force:
            return
        self.detail_key = key
        if self.detail_visible:
            self._read_detail(key)

    def reload_detail(self) -> None:
        if self.detail_key:
            self._read_detail(self.detail_key)

    def _read_detail(self, key: str) -> None:
        self.run_in_store("paged-detail",
                          lambda job: DetailLoaded(key, self.fetch_detail(job.store, job.actor, key)))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.key != self.detail_key:
            return
        if isinstance(message.detail, str):
            self.show_detail_text(message.detail)
        else:
            self.show_detail(message.detail)

    def action_reload(self) -> None:
        self.reload(keep=True)

    def form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()
