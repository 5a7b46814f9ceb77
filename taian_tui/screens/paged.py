"""A screen of one paged list (a ``DataTable`` filled a page at a time from SQLite) with a
detail pane under it: the base of the appeal inbox, the project board, the instruction
lists and the content list. The subclass says how to read a page (``fetch``), count
(``count``), fill the table (``fill_table``) and read one row's detail (``fetch_detail``);
this class runs the reads in worker threads, each on its own ``Store``, and keeps the
cursor, the page and the status line. The page is painted as soon as its rows are read;
the count (on a million appeals the slower query) and the figures of ``fetch_extra``
follow in a second message. Reloads on the app's ``data_changed`` (live poll or a saved
form); an open form on top is never refreshed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from taian_tui.console.strings import error_text, t
from taian_tui.store import Store
from taian_tui.console.widgets import localise_bindings, plain
from taian_tui.screens.common import LiveScreen

PAGE_SIZE = 50


@dataclass(frozen=True)
class Request:
    generation: int
    filter: Any
    page: int
    keep_key: str | None = None
    keep_index: int | None = None
    cursor: str | None = None          # "first" | "last" | None


class ListTable(DataTable):
    """The page of rows; PgUp/PgDn read the previous/next page, and moving past the first
    or last row does too."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="list.next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="list.prev_page", show=False),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        localise_bindings(self)

    def action_next_page(self) -> None:
        self.screen.next_page()

    def action_prev_page(self) -> None:
        self.screen.prev_page()

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

    EMPTY_KEY: ClassVar[str] = "list.empty"
    DETAIL_EMPTY_KEY: ClassVar[str] = "list.detail_empty"

    class PageLoaded(Message):
        """A page of rows was read."""

        def __init__(self, request: Request, rows: list) -> None:
            super().__init__()
            self.request = request
            self.rows = rows

    class TotalCounted(Message):
        """The rows matching the filter were counted (and the figures that go with them read)."""

        def __init__(self, request: Request, total: int, extra: Any) -> None:
            super().__init__()
            self.request = request
            self.total = total
            self.extra = extra

    class DetailLoaded(Message):
        """One row's detail was read (or the read failed: ``detail`` is then a message)."""

        def __init__(self, key: str, detail: Any) -> None:
            super().__init__()
            self.key = key
            self.detail = detail

    class LoadFailed(Message):
        """A read failed."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.page = 0
        self.total: int | None = None
        self.rows: list = []
        self.extra: Any = None
        self.generation = 0
        self.loaded_generation = 0      # the last request whose rows are on screen
        self.counted_generation = 0     # the last request whose total is on screen
        self._counted_filter: Any = None
        self.detail_key: str | None = None
        self.detail_visible: bool | None = None
        self._last_request: Request | None = None

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
        self._apply_detail_visibility()
        self.table.focus()
        self.reload()

    def on_resize(self) -> None:
        if self.rows:
            self._fill(self.rows, keep_key=self.current_key())

    def refresh_data(self) -> None:
        self.reload(keep=True)            # stay on the same row

    def reload(self, *, keep: bool = False, cursor: str | None = None) -> None:
        self.stale = False
        self.generation += 1
        table = self.table
        keep_key = self.current_key() if keep else None
        keep_index = table.cursor_row if keep and table.row_count else None
        request = Request(self.generation, self.current_filter(), self.page, keep_key, keep_index,
                          cursor)
        self._last_request = request
        if not keep:
            self.set_status(t("status.loading"))
        self._load_page(request)

    def filter_changed(self) -> None:
        """A filter changed: back to the first page (unless nothing really changed)."""
        if self._last_request is not None and self.current_filter() == self._last_request.filter:
            return
        self.page = 0
        self.reload()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="paged-list")
    def _load_page(self, request: Request) -> None:
        worker = get_current_worker()
        try:
            with Store(self.app.db_path, migrate=False) as store:
                act = self.app.session_actor(store)
                rows = self.fetch(store, act, request.filter, PAGE_SIZE, request.page * PAGE_SIZE)
                if worker.is_cancelled:
                    return
                self.post_message(self.PageLoaded(request, rows))
                total = self.count(store, act, request.filter)
                extra = self.fetch_extra(store, act, request.filter)
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(t("err.load", msg=error_text(exc))))
            return
        if not worker.is_cancelled:
            self.post_message(self.TotalCounted(request, total, extra))

    def on_paged_list_screen_page_loaded(self, message: "PagedListScreen.PageLoaded") -> None:
        request = message.request
        if request.generation != self.generation:
            return
        if not message.rows and request.page > 0:
            # the page emptied under us (rows handled elsewhere): back one page
            self.page = max(0, request.page - 1)
            self.reload(cursor="last")
            return
        self.rows = message.rows
        if request.filter != self._counted_filter:
            self.total = None           # another filter's count: not this one's
        self.loaded_generation = request.generation
        self._fill(message.rows, keep_key=request.keep_key, keep_index=request.keep_index,
                   cursor=request.cursor)
        self.set_status(self.status_text())
        key = self.current_key()
        if key is None:
            self.detail_key = None
            self.show_detail_text(t(self.DETAIL_EMPTY_KEY))
        else:
            self._load_detail(key, force=True)
        self.refresh_bindings()
        self.page_shown(request)

    def on_paged_list_screen_total_counted(self, message: "PagedListScreen.TotalCounted") -> None:
        request = message.request
        if request.generation != self.generation:
            return
        self.total = message.total
        self.extra = message.extra
        self._counted_filter = request.filter
        self.counted_generation = request.generation
        self.extra_loaded(message.extra)
        self.set_status(self.status_text())
        self.refresh_bindings()
        self.total_shown(request)

    def on_paged_list_screen_load_failed(self, message: "PagedListScreen.LoadFailed") -> None:
        self.set_status(message.message)

    def _fill(self, rows: list, *, keep_key: str | None = None, keep_index: int | None = None,
              cursor: str | None = None) -> None:
        table = self.table
        with self.prevent(DataTable.RowHighlighted):
            self.fill_table(table, rows)
        if not rows:
            return
        keys = [self.row_key(r) for r in rows]
        index = 0
        if keep_key and keep_key in keys:
            index = keys.index(keep_key)
        elif cursor == "last":
            index = len(rows) - 1
        elif keep_index is not None and cursor is None:
            index = min(keep_index, len(rows) - 1)
        table.move_cursor(row=index, animate=False)

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
        if self.has_next_page():
            self.page += 1
            self.reload(cursor=cursor)

    def prev_page(self, cursor: str | None = "first") -> None:
        if self.page > 0:
            self.page -= 1
            self.reload(cursor=cursor)

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
    def _apply_detail_visibility(self) -> None:
        try:
            self.query_one("#detail").set_class(not self.detail_visible, "-hidden")
        except Exception:
            pass

    def action_toggle_detail(self) -> None:
        self.detail_visible = not self.detail_visible
        self._apply_detail_visibility()
        if self.detail_visible and self.detail_key:
            self._read_detail(self.detail_key)

    def _load_detail(self, key: str, *, force: bool = False) -> None:
        if key == self.detail_key and not force:
            return
        self.detail_key = key
        if self.detail_visible:
            self._read_detail(key)

    def reload_detail(self) -> None:
        if self.detail_key:
            self._read_detail(self.detail_key)

    @work(thread=True, exclusive=True, group="paged-detail")
    def _read_detail(self, key: str) -> None:
        worker = get_current_worker()
        try:
            with Store(self.app.db_path, migrate=False) as store:
                detail = self.fetch_detail(store, self.app.session_actor(store), key)
        except Exception as exc:
            detail = t("err.load", msg=error_text(exc))
        if not worker.is_cancelled:
            self.post_message(self.DetailLoaded(key, detail))

    def on_paged_list_screen_detail_loaded(self, message: "PagedListScreen.DetailLoaded") -> None:
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
            self.app.data_changed()
