"""The escalation board (督办看板) of the supervision office, and the red-card leads
(红牌线索) of the discipline commission.

Board: blue, yellow and red columns side by side, with counts; each item shows its unit,
days overdue and the supervision order's due time. Views 2 and 3 list the pending
extension requests and the 不满意 (disputed) appeals awaiting review. Every list is read
a page (LIMIT/OFFSET) at a time in a worker thread with its own Store.

The cards ahead (``board.board_forecast``: the sweep's rule ahead of the clock): a strip under
the view bar sums, in the viewer's scope, the blue, yellow and red cards the sweep at the
start of the next working day, and of the 5th, would raise if nothing is answered; it is
also the tab of view 4 (``4 预警``), which lists them per unit, worst first, the detail pane
showing whom to call at the highlighted unit. The forecast is read in a worker of its own
beside the columns' (one read at a time; the refreshes asked for meanwhile make one read,
after a pause of ``AHEAD_PAUSE`` times the last read's duration), so the columns never wait
for it.
"""
from __future__ import annotations

import string
import time
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, OptionList, Static
from textual.widgets.option_list import Option

from taian_tui.read import board, exports
from taian_tui.read.appeals import AppealFilter
from taian_tui.read.detail import appeal_detail
from taian_tui.read import changes
from taian_tui.console.strings import code_label, error_text, labelled, t
from taian_tui.domain.models import CARDS
from taian_tui.console.messages import BoardLoaded, DetailLoaded, RedCardsLoaded, WorkFailed
from taian_tui.console.workers import Job
from taian_tui.domain import rules, timeutil
from taian_tui.console.widgets import (CARD_FG, KeysFooter, DetailPane, HeaderBar, cell, cut, fit_columns,
                       localise_bindings, plain, set_columns, short_date, visible)
from taian_tui.domain.escalation import CardCounts, Forecast, UnitForecast
from taian_tui.screens.common import LiveScreen, toggle_zoom
from taian_tui.screens.exporting import ExportsList
from taian_tui.screens.forms import DecideExtensionForm, OrderForm, ReviewDisputeForm, TakeUpForm

PAGE_SIZE = 50


def _due_text(value: str) -> str:
    """A due time as ``MM-DD`` when it is the end of the day, else ``MM-DD HH:MM``."""
    return short_date(value, with_time=not value[11:19] == "23:59:59")


class CardList(OptionList):
    """One column of the board; PgUp/PgDn read the previous/next page of that column."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="board.next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="board.prev_page", show=False),
        # the first and last card of the whole column, not only of the page on screen
        Binding("home", "edge(False)", "k.first_row", id="board.first_row", show=False),
        Binding("end", "edge(True)", "k.last_row", id="board.last_row", show=False),
    ]

    def __init__(self, card: str, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.card = card

    def highlighted_id(self) -> str | None:
        """The ref of the card under the cursor (``None``: none, or a note line)."""
        if self.highlighted is None or not self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).id

    @staticmethod
    def landing(refs: list[str], keep: str | None) -> int:
        """Where the cursor lands in a column refilled with ``refs``: on the card it was on,
        if still there, else on the first."""
        return refs.index(keep) if keep in refs else 0

    def action_edge(self, last: bool) -> None:
        self.screen.list_edge(self.card, last)

    def action_next_page(self) -> None:
        self.screen.column_page(self.card, +1)

    def action_prev_page(self) -> None:
        self.screen.column_page(self.card, -1)


class PagedTable(DataTable):
    """A table of one view; PgUp/PgDn read the previous/next page."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="board.table_next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="board.table_prev_page", show=False),
        # the first and last row of the whole list, not only of the page on screen
        Binding("home", "edge(False)", "k.first_row", id="board.table_first_row", show=False),
        Binding("end", "edge(True)", "k.last_row", id="board.table_last_row", show=False),
    ]

    def __init__(self, view: str, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        localise_bindings(self)
        self.view = view

    def action_edge(self, last: bool) -> None:
        self.screen.list_edge(self.view, last)

    def action_next_page(self) -> None:
        self.screen.view_page(self.view, +1)

    def action_prev_page(self) -> None:
        self.screen.view_page(self.view, -1)


@dataclass
class BoardData:
    generation: int
    columns: dict[str, board.BoardColumn] = field(default_factory=dict)
    extensions: list[board.PendingExtension] = field(default_factory=list)
    extensions_total: int = 0
    disputes: list[board.DisputedAppeal] = field(default_factory=list)
    disputes_total: int = 0
    #: the detail of the appeal the cursor will land on (ref, detail), read with the columns
    detail: tuple[str, Any] | None = None


@dataclass
class AheadLoaded(Message):
    """The cards ahead were read (``board.board_forecast``)."""

    generation: int
    forecast: Forecast
    seconds: float = 0.0     # how long the read took


@dataclass
class ContactsLoaded(Message):
    """Whom to call at a unit of the cards ahead (``board.unit_contacts``)."""

    code: str
    contacts: board.UnitContacts


def ahead_counts(counts: CardCounts) -> Text:
    """``蓝0 黄4 红0``: each card's count in its colour (dim when none)."""
    out = Text(end="", no_wrap=True)
    for i, card in enumerate(CARDS):
        if i:
            out.append(" ")
        n = counts.get(card)
        out.append(t(f"ahead.{card}", n=n), style=CARD_FG[card] if n else "dim")
    return out


def styled(key: str, **parts: Text | str) -> Text:
    """The string ``key`` with each ``{name}`` replaced by ``parts[name]`` (a ``Text`` keeps
    its styles): the catalogue's words around styled pieces, never parsed as markup."""
    out = Text(end="", no_wrap=True, overflow="ellipsis")
    for literal, name, _spec, _conv in string.Formatter().parse(t(key)):
        out.append(literal)
        if name is not None:
            piece = parts.get(name, "")
            out.append_text(piece if isinstance(piece, Text) else plain(piece))
    return out


class _DetailMixin:
    """Loads the selected appeal into the screen's DetailPane in a worker; ``z`` shows it over
    the whole screen (and back); Home/End land on the first/last row of a whole list
    (``land``, then ``apply_landing`` once its page is filled)."""

    detail_ref: str | None = None

    def action_zoom_detail(self) -> None:
        toggle_zoom(self, self.detail_ref, self._read_detail)

    @staticmethod
    def land_in(widget: Any, last: bool) -> None:
        """The cursor of a board column (its last card, not a note line) or of a table on its
        first or last row."""
        if isinstance(widget, OptionList):
            ids = [i for i in range(widget.option_count) if widget.get_option_at_index(i).id]
            if ids:
                widget.highlighted = ids[-1] if last else ids[0]
        elif widget.row_count:
            widget.move_cursor(row=widget.row_count - 1 if last else 0, animate=False)

    def show_detail_of(self, ref: str | None, *, force: bool = False) -> None:
        if ref is None:
            self.detail_ref = None
            self.query_one("#detail", DetailPane).show_text(t("detail.empty"))
            return
        if ref == self.detail_ref and not force:
            return
        self.detail_ref = ref
        self._read_detail(ref)

    def _read_detail(self, ref: str) -> None:
        self.run_in_store("board-detail",
                          lambda job: DetailLoaded(ref, appeal_detail(job.store, job.actor, ref)))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        if message.key != self.detail_ref:
            return
        self.query_one("#detail", DetailPane).show_detail(message.detail)

    def detail_failed(self, message: WorkFailed) -> bool:
        """Show a failed detail read in the pane (``True`` when it was one)."""
        if message.task != "board-detail":
            return False
        message.stop()
        self.query_one("#detail", DetailPane).show_text(t("err.load", msg=message.text))
        return True

    def watch_detail_visible(self, visible: bool | None) -> None:
        try:
            self.query_one("#detail").set_class(not visible, "-hidden")
        except Exception:
            pass


class BoardScreen(ExportsList, _DetailMixin, LiveScreen):
    """督办看板: cards, extension requests, disputes."""

    READS = changes.APPEALS

    HELP_KEY = "help.board"
    TITLE_KEY = "board.title"
    VIEWS = ("cards", "extensions", "disputes", "ahead")
    EXPORT_NAME = "board"
    EXPORT_COMMAND = "cmd.export.board"

    BINDINGS = [
        Binding("1", "view('cards')", "k.tab_cards", id="board.view_cards"),
        Binding("2", "view('extensions')", "k.tab_ext", id="board.view_extensions"),
        Binding("3", "view('disputes')", "k.tab_disputes", id="board.view_disputes"),
        Binding("4", "view('ahead')", "k.tab_ahead", id="board.view_ahead"),
        Binding("o", "order", "k.order", id="board.order"),
        Binding("y", "decide(True)", "k.approve", id="board.approve"),
        Binding("n", "decide(False)", "k.reject", id="board.reject"),
        Binding("v", "review", "k.review", id="board.review"),
        Binding("left", "column(-1)", "k.prev_col", id="board.prev_col", show=False),
        Binding("right", "column(1)", "k.next_col", id="board.next_col", show=False),
        Binding("d", "toggle_detail", "k.detail", id="board.detail"),
        Binding("z", "zoom_detail", "k.zoom", id="board.zoom", show=False),
        Binding("x", "export", "k.export", id="board.export", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="board.refresh", show=False),
    ]

    DEFAULT_CSS = """
    BoardScreen #viewbar { height: 1; padding: 0 1; background: $panel; }
    BoardScreen #viewbar { text-wrap: nowrap; text-overflow: ellipsis; }  /* an export's path: cut, never wrapped away */
    BoardScreen #ahead { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    BoardScreen #views { height: 1fr; }
    BoardScreen #columns { height: 1fr; }
    BoardScreen .column { width: 1fr; height: 1fr; }
    BoardScreen .column-title { height: 1; padding: 0 1; text-style: bold; }
    BoardScreen .column-title.-blue { background: $primary 40%; }
    BoardScreen .column-title.-yellow { background: $warning 40%; }
    BoardScreen .column-title.-red { background: $error 50%; }
    BoardScreen CardList, BoardScreen CardList:focus { height: 1fr; border: none; padding: 0; }
    BoardScreen CardList:focus { background-tint: $foreground 5%; }
    BoardScreen CardList { scrollbar-size-vertical: 1; }
    BoardScreen PagedTable { height: 1fr; }
    BoardScreen #detail { height: 45%; }
    BoardScreen #detail.-hidden { display: none; }
    BoardScreen.-zoomed #viewbar, BoardScreen.-zoomed #ahead, BoardScreen.-zoomed #views { display: none; }
    BoardScreen.-zoomed #detail { height: 1fr; }
    """

    #: Which view is shown: the card columns, the extension requests or the disputes.
    view: var[str] = var("cards", init=False)
    detail_visible: var[bool | None] = var(None, init=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.offsets = {"blue": 0, "yellow": 0, "red": 0, "extensions": 0, "disputes": 0}
        self.board: BoardData | None = None
        self.generation = 0
        self.forecast: Forecast | None = None
        self._ahead_running = False     # a forecast read is in flight
        self._ahead_again = False       # ... and another was asked for meanwhile
        self._ahead_timer: Timer | None = None
        self._ahead_cost = 0.0          # seconds the last read took
        self._ahead_ended = 0.0         # when it ended (monotonic)
        self._contacts_code: str | None = None
        self._land: dict[str, bool] = {}   # list -> to its last row (True) or first, once filled

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static(id="viewbar", markup=False)
        yield Static(styled("ahead.loading", tab=self._ahead_tab()), id="ahead", markup=False)
        with ContentSwitcher(initial="view-cards", id="views"):
            with Horizontal(id="view-cards"):
                for card in CARDS:
                    with Vertical(classes="column"):
                        yield Static(code_label('card', card), classes=f"column-title -{card}",
                                     id=f"title-{card}", markup=False)
                        yield CardList(card, id=f"col-{card}")
            yield PagedTable("extensions", id="view-extensions")
            yield PagedTable("disputes", id="view-disputes")
            yield PagedTable("ahead", id="view-ahead")
        yield DetailPane(id="detail")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        if self.detail_visible is None:
            self.detail_visible = self.app.size.height >= 30
        self._update_viewbar()
        self.query_one("#col-blue", CardList).focus()
        self.reload()

    def on_resize(self) -> None:
        if self.board is not None:
            width = self._col_width()
            for card, column in self.board.columns.items():
                self._fill_column(card, column, width)
            self._fill_extensions(self.board)
            self._fill_disputes(self.board)
        if self.forecast is not None:
            self._show_ahead(self.forecast)

    # -- loading ------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.stale = False
        self.generation += 1
        self._load(self.generation, dict(self.offsets), self._col_width())
        self._load_ahead()

    def _col_width(self) -> int:
        return max(20, self.app.size.width // 3 - 3)

    def _load(self, generation: int, offsets: dict[str, int], width: int) -> None:
        # the column whose cursor the detail follows, and the appeal under it: the columns keep
        # it when it is still there, else take their first (``_fill_column``); its detail is
        # read in the same job, so the columns and the detail come in one frame
        follow: tuple[str, str | None] | None = None
        if self.view == "cards":
            lst = self._cursor_list()
            follow = (lst.card, lst.highlighted_id())

        def read(job: Job) -> BoardLoaded | None:
            data = BoardData(generation)
            for card in CARDS:
                data.columns[card] = board.board_column(job.store, job.actor, card, limit=PAGE_SIZE,
                                                        offset=offsets[card])
                if job.cancelled:
                    return None
            data.extensions, data.extensions_total = board.pending_extensions(
                job.store, job.actor, limit=PAGE_SIZE, offset=offsets["extensions"])
            data.disputes, data.disputes_total = board.disputed_appeals(
                job.store, job.actor, limit=PAGE_SIZE, offset=offsets["disputes"])
            if follow is not None:
                ids = [item.ref for item in data.columns[follow[0]].items]
                ref = ids[CardList.landing(ids, follow[1])] if ids else None
                if ref is not None:
                    try:
                        data.detail = (ref, appeal_detail(job.store, job.actor, ref))
                    except Exception:       # (read again on its own, which shows what failed)
                        data.detail = None
            return BoardLoaded(data)
        self.run_in_store("board-load", read)

    #: A refresh of the cards ahead waits until this many times the last read's duration has
    #: passed since it ended: a forecast that reads many appeals (a city where hundreds of
    #: thousands turn within the week) takes at most a fifth of a core, however often the
    #: file changes; ctrl+r reads at once.
    AHEAD_PAUSE = 4

    def _load_ahead(self, *, now: bool = False) -> None:
        """Read the cards ahead in a worker, one read at a time (a refresh asked for meanwhile
        runs once, after it)."""
        if self._ahead_running:
            self._ahead_again = True
            return
        if self._ahead_timer is not None:
            if not now:
                return                      # the read already planned will see this change too
            self._ahead_timer.stop()
            self._ahead_timer = None
        wait = self.AHEAD_PAUSE * self._ahead_cost - (time.monotonic() - self._ahead_ended)
        if wait > 0.05 and not now:
            self._ahead_timer = self.set_timer(wait, self._ahead_timer_fired)
            return
        self._ahead_running, self._ahead_again = True, False
        if self.forecast is None and self.app.prefetched_ahead(self._ahead_prefetched):
            return                          # (read at the console's start: ``_ahead_prefetched``)
        generation = self.generation

        def read(job: Job) -> AheadLoaded:
            started = time.perf_counter()
            forecast = board.board_forecast(job.store, job.actor)
            return AheadLoaded(generation, forecast, time.perf_counter() - started)
        self.run_in_store("board-ahead", read)

    def _ahead_prefetched(self, forecast: Forecast | None, seconds: float, stale: bool) -> None:
        """The cards ahead the console read at its start (``TaianApp.prefetched_ahead``):
        shown as if this screen had read them; read again when they are stale (as after a
        refresh), or now when there were none."""
        if forecast is None:
            self._ahead_running = False
            self._load_ahead(now=True)
            return
        self._ahead_again = self._ahead_again or stale
        self.on_ahead_loaded(AheadLoaded(self.generation, forecast, seconds))

    def _ahead_timer_fired(self) -> None:
        self._ahead_timer = None
        self._load_ahead(now=True)          # (the pause is over)

    def _ahead_done(self, cost: float = 0.0) -> None:
        self._ahead_running = False
        self._ahead_cost, self._ahead_ended = cost, time.monotonic()
        if self._ahead_again:
            self._load_ahead()

    def on_ahead_loaded(self, message: AheadLoaded) -> None:
        self._ahead_done(message.seconds)
        self.forecast = message.forecast
        self._show_ahead(message.forecast)

    def on_work_failed(self, message: WorkFailed) -> None:
        if self.detail_failed(message):
            return
        if message.task == "board-load":
            message.stop()
            self.query_one("#viewbar", Static).update(plain(t("err.load", msg=message.text)))
        elif message.task == "board-ahead":
            message.stop()
            self._ahead_done()
            self.query_one("#ahead", Static).update(plain(t("err.load", msg=message.text)))
        elif message.task == "board-contacts":
            message.stop()
            self.query_one("#detail", DetailPane).show_text(t("err.load", msg=message.text))

    # -- the cards ahead ----------------------------------------------------------------------------
    def _ahead_tab(self) -> Text:
        """``4 预警``: the strip is view 4's tab (highlighted when it is shown)."""
        return Text(f" 4 {t('k.tab_ahead')} ", style="reverse bold" if self.view == "ahead" else "bold", end="")

    def _update_strip(self) -> None:
        strip = self.query_one("#ahead", Static)
        if self.forecast is None:
            strip.update(styled("ahead.loading", tab=self._ahead_tab()))
        else:
            strip.update(self._strip_text(self.forecast))

    def _strip_text(self, f: Forecast) -> Text:
        """The strip: the next working day's and the five days' totals, the long form when it
        fits the terminal, else the short one."""
        first, five = f.horizons[0], f.horizons[-1]
        parts = {"tab": self._ahead_tab(), "d1": short_date(first.sweep_at), "c1": ahead_counts(first.total),
                 "d5": short_date(five.sweep_at), "c5": ahead_counts(five.total)}
        text = styled("ahead.strip", **parts)
        if text.cell_len > self.app.size.width - 2:
            text = styled("ahead.strip_short", **parts)
        return text

    def _show_ahead(self, f: Forecast) -> None:
        self._update_strip()
        table = self.query_one("#view-ahead", PagedTable)
        keep = self._table_ref(table)
        first, five = f.horizons[0], f.horizons[-1]
        heads = [t("ahead.col.next", day=short_date(first.sweep_at)),
                 t("ahead.col.five", day=short_date(five.sweep_at))]
        counts = [[ahead_counts(u.counts[i]) for i in (0, len(f.horizons) - 1)] for u in f.units]
        widths = [max([plain(h).cell_len] + [c[k].cell_len for c in counts]) for k, h in enumerate(heads)]
        unit_w = max(10, self.app.size.width - 2 - 2 - sum(widths) - 2 * 3)
        table.clear(columns=True)
        table.add_column(cell(t("ahead.col.unit"), unit_w), width=unit_w, key="unit")
        for key, head, width in zip(("next", "five"), heads, widths):
            table.add_column(cell(head, width), width=width, key=key)
        if not f.units:
            table.add_row(cell(t("ahead.empty"), unit_w, "dim"), Text(""), Text(""), key="")
        for u, (c1, c5) in zip(f.units, counts):
            table.add_row(cell(u.name, unit_w), c1, c5, key=u.unit)
        self._restore_table(table, keep, [u.unit for u in f.units])
        if self.view == "ahead":
            self._show_contacts(self.selected_unit(), force=True)

    def selected_unit(self) -> UnitForecast | None:
        if self.forecast is None:
            return None
        key = self._table_ref(self.query_one("#view-ahead", PagedTable))
        return next((u for u in self.forecast.units if u.unit == key), None)

    def _show_contacts(self, unit: UnitForecast | None, *, force: bool = False) -> None:
        """Whom to call at the highlighted unit, read in a worker, under its cards ahead."""
        pane = self.query_one("#detail", DetailPane)
        if unit is None:
            self._contacts_code = None
            pane.show_text(t("ahead.note"))
            return
        if unit.unit == self._contacts_code and not force:
            return
        self._contacts_code = unit.unit
        code = unit.unit
        self.run_in_store("board-contacts",
                          lambda job: ContactsLoaded(code, board.unit_contacts(job.store, job.actor, code)))

    def on_contacts_loaded(self, message: ContactsLoaded) -> None:
        unit = self.selected_unit()
        if self.view != "ahead" or unit is None or unit.unit != message.code:
            return
        c = message.contacts
        text = styled("ahead.detail.unit", unit=unit.name, c1=ahead_counts(unit.counts[0]),
                      c5=ahead_counts(unit.counts[-1]))
        text.no_wrap = False
        for person in c.contacts:
            key = "ahead.detail.liaison" if person.role == "liaison" else "ahead.detail.head"
            text.append("\n")
            text.append_text(styled(key, name=person.name, mobile=person.mobile))
        if not c.contacts:
            text.append("\n" + t("ahead.detail.none"), style="dim")
        text.append("\n" + t("ahead.note"), style="dim")
        self.query_one("#detail", DetailPane).query_one("#detail-body", Static).update(text)

    def on_board_loaded(self, message: BoardLoaded) -> None:
        board = message.data
        if board.generation != self.generation:
            return
        # a page that emptied under us: step back
        for card, column in board.columns.items():
            if not column.items and column.offset > 0:
                self.offsets[card] = max(0, column.offset - PAGE_SIZE)
                self.reload()
                return
        self.board = board
        width = self._col_width()
        for card, column in board.columns.items():
            title = self.query_one(f"#title-{card}", Static)
            title_text = t("board.col", card=code_label("card", card), n=column.total)
            pages = max(1, -(-column.total // PAGE_SIZE))
            if pages > 1:
                title_text += "  " + t("board.page", page=column.offset // PAGE_SIZE + 1, pages=pages)
            title.update(plain(title_text))
            self._fill_column(card, column, width)
        self._fill_extensions(board)
        self._fill_disputes(board)
        self._apply_landing()
        self._update_viewbar()
        if self.view != "ahead":
            ref = self.selected_ref()
            if board.detail is not None and board.detail[0] == ref:
                self.detail_ref = ref
                self.query_one("#detail", DetailPane).show_detail(board.detail[1])
            else:
                self.show_detail_of(ref, force=True)
        self.refresh_bindings()

    @staticmethod
    def _key_line(item: board.BoardItem, *, short: bool) -> Text:
        """The order's due time, the days overdue or left, or that no order is open."""
        sfx = "_short" if short else ""
        line = Text(end="")
        if item.order_due:
            line.append(t("board.order_due" + sfx, due=_due_text(item.order_due)), style="bold")
            line.append(" · ")
        n = item.days_left
        if n is not None and n < 0:
            line.append(t("board.overdue" + sfx, n=-n), style="bold")
        elif n == 0:
            line.append(t("board.due_today"))
        elif n is not None:
            line.append(t("board.days_left" + sfx, n=n))
        if not item.order_due:
            line.append(" · ")
            line.append(t("board.no_order" + sfx), style="dim")
        return line

    def _item_prompt(self, item: board.BoardItem, width: int, short: bool | None = None) -> Text:
        """Three lines: ref and unit; title; the order's due time and the days overdue."""
        line1 = Text(end="")
        line1.append(visible(item.ref), style="bold")
        line1.append(" ")
        line1.append_text(plain(item.unit or "—"))
        line2 = plain(item.title, "italic")
        # the key date first (the order's due time); in a narrow column (80 columns: 23 cells)
        # the short words, so that no word is cut ("超期3工 …")
        line3 = self._key_line(item, short=False)
        if short or (short is None and line3.cell_len > width):
            line3 = self._key_line(item, short=True)
        out = Text(end="", no_wrap=True, overflow="ellipsis")
        for i, line in enumerate((line1, line2, line3)):
            line = cut(line, width)
            if i:
                out.append("\n")
            out.append_text(line)
        return out

    def _fill_column(self, card: str, column: board.BoardColumn, width: int) -> None:
        lst = self.query_one(f"#col-{card}", CardList)
        keep = lst.highlighted_id()
        with self.prevent(OptionList.OptionHighlighted):
            lst.clear_options()
            if not column.items:
                lst.add_option(Option(Text(t("board.empty"), style="dim"), disabled=True))
            else:
                # one wording down a column: the short one if any item needs it
                short = any(self._key_line(item, short=False).cell_len > width for item in column.items)
                lst.add_options([Option(self._item_prompt(item, width, short), id=item.ref)
                                 for item in column.items])
                rest = column.total - column.offset - len(column.items)
                if rest > 0:
                    lst.add_option(Option(Text(t("board.more", n=rest), style="dim"), disabled=True))
                lst.highlighted = CardList.landing([item.ref for item in column.items], keep)

    def _fill_extensions(self, board: BoardData) -> None:
        table = self.query_one("#view-extensions", PagedTable)
        keep = self._table_ref(table)
        cols = fit_columns(self.app.size.width, [
            ("ref", "ext.col.ref", 11), ("unit", "ext.col.unit", 16), ("days", "ext.col.days", 4),
            ("reason", "ext.col.reason", -1), ("requested", "ext.col.requested", 11),
            ("deadline", "ext.col.deadline", 11)], drop=("requested",))
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        for x in board.extensions:
            values = {"ref": cell(x.ref, w["ref"]), "unit": cell(x.unit, w["unit"]),
                      "days": Text(str(x.days), justify="right"), "reason": cell(x.reason, w["reason"]),
                      "requested": cell(short_date(x.requested_at, with_time=True), w.get("requested")),
                      "deadline": cell(_due_text(x.deadline) if x.deadline else "", w["deadline"])}
            table.add_row(*(values[k] for k, _, _ in cols), key=f"{x.id}")
        self._restore_table(table, keep, [f"{x.id}" for x in board.extensions])

    def _fill_disputes(self, board: BoardData) -> None:
        table = self.query_one("#view-disputes", PagedTable)
        keep = self._table_ref(table)
        cols = fit_columns(self.app.size.width, [
            ("ref", "dis.col.ref", 11), ("unit", "dis.col.unit", 16), ("title", "dis.col.title", -3),
            ("comment", "dis.col.comment", -2), ("evaluated", "dis.col.evaluated", 11)],
            drop=("evaluated",))
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        for d in board.disputes:
            values = {"ref": cell(d.ref, w["ref"]), "unit": cell(d.unit, w["unit"]),
                      "title": cell(d.title, w["title"]), "comment": cell(d.rating_comment, w["comment"]),
                      "evaluated": cell(short_date(d.evaluated_at, with_time=True), w.get("evaluated"))}
            table.add_row(*(values[k] for k, _, _ in cols), key=d.ref)
        self._restore_table(table, keep, [d.ref for d in board.disputes])

    @staticmethod
    def _table_ref(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None

    @staticmethod
    def _restore_table(table: DataTable, keep: str | None, keys: list[str]) -> None:
        if keys:
            table.move_cursor(row=keys.index(keep) if keep in keys else 0, animate=False)

    def _update_viewbar(self) -> None:
        b = self.board
        labels = {
            "cards": t("tab.cards"),
            "extensions": t("tab.extensions", n=b.extensions_total if b else "…"),
            "disputes": t("tab.disputes", n=b.disputes_total if b else "…"),
        }
        text = Text(end="")
        for i, view in enumerate(labels, 1):     # (view 4's tab is the strip of the cards ahead)
            style = "reverse bold" if view == self.view else ""
            text.append(f" {i} {labels[view]} ", style=style)
            text.append("  ")
        if self.export_note:
            text.append_text(plain(f"│  {self.export_note}"))
        self.query_one("#viewbar", Static).update(text)

    # -- selection ----------------------------------------------------------------------------------
    def _cursor_list(self) -> CardList:
        """The column the cursor (and the detail) follow: the last one focused, else blue."""
        return getattr(self, "_last_list", None) or self.query_one("#col-blue", CardList)

    def selected_item(self) -> Any:
        """The board item, extension or disputed appeal under the cursor of the active view."""
        if self.board is None:
            return None
        if self.view == "cards":
            focused = self.focused
            lst = focused if isinstance(focused, CardList) else self._cursor_list()
            ref = lst.highlighted_id()
            if ref is None:
                return None
            return next((item for item in self.board.columns[lst.card].items if item.ref == ref), None)
        table = self.query_one(f"#view-{self.view}", PagedTable)
        key = self._table_ref(table)
        if key is None:
            return None
        if self.view == "extensions":
            return next((x for x in self.board.extensions if f"{x.id}" == key), None)
        if self.view == "ahead":
            return self.selected_unit()
        return next((d for d in self.board.disputes if d.ref == key), None)

    def selected_ref(self) -> str | None:
        item = self.selected_item()
        return getattr(item, "ref", None)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if isinstance(event.option_list, CardList):
            self._last_list = event.option_list
        if event.option.id:
            self.show_detail_of(event.option.id)
        self.refresh_bindings()

    def on_descendant_focus(self, event: Any) -> None:
        if isinstance(event.widget, CardList):
            self._last_list = event.widget
            self.show_detail_of(self.selected_ref())
            self.refresh_bindings()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "view-ahead":
            self._show_contacts(self.selected_unit())
            return
        self.show_detail_of(self.selected_ref())
        self.refresh_bindings()

    # -- navigation ---------------------------------------------------------------------------------
    def action_view(self, view: str) -> None:
        self.view = view

    def watch_view(self, view: str) -> None:
        self.query_one("#views", ContentSwitcher).current = f"view-{view}"
        if view == "cards":
            self._cursor_list().focus()
        else:
            self.query_one(f"#view-{view}", PagedTable).focus()
        self._update_viewbar()
        self._update_strip()
        if view == "ahead":
            self.detail_ref = None
            self._show_contacts(self.selected_unit(), force=True)
        else:
            self._contacts_code = None
            self.show_detail_of(self.selected_ref(), force=True)
        self.refresh_bindings()

    def action_column(self, step: int) -> None:
        if self.view != "cards":
            return
        current = getattr(self, "_last_list", None)
        index = CARDS.index(current.card) if current else 0
        index = (index + step) % len(CARDS)
        self.query_one(f"#col-{CARDS[index]}", CardList).focus()

    def column_page(self, card: str, step: int) -> None:
        column = self.board.columns.get(card) if self.board else None
        if column is None:
            return
        new = self.offsets[card] + step * PAGE_SIZE
        if 0 <= new < max(column.total, 1):
            self.offsets[card] = new
            self.reload()

    def list_edge(self, name: str, last: bool) -> None:
        """Home/End in a card column or a view's table: its first or last row of the whole
        list (the first or last page read, then the cursor put there)."""
        if self.board is None:
            return
        totals = {card: column.total for card, column in self.board.columns.items()}
        totals.update(extensions=self.board.extensions_total, disputes=self.board.disputes_total)
        if name not in totals:                          # (the cards ahead: one page)
            self.land_in(self._list_widget(name), last)
            return
        offset = (max(totals[name] - 1, 0) // PAGE_SIZE) * PAGE_SIZE if last else 0
        self._land[name] = last
        if offset != self.offsets[name]:
            self.offsets[name] = offset
            self.reload()
        else:
            self._apply_landing()

    def _list_widget(self, name: str) -> Any:
        return self.query_one(f"#col-{name}" if name in CARDS else f"#view-{name}")

    def _apply_landing(self) -> None:
        land, self._land = self._land, {}
        for name, last in land.items():
            self.land_in(self._list_widget(name), last)

    def view_page(self, view: str, step: int) -> None:
        if self.board is None or view == "ahead":     # (every unit on one page)
            return
        total = self.board.extensions_total if view == "extensions" else self.board.disputes_total
        new = self.offsets[view] + step * PAGE_SIZE
        if 0 <= new < max(total, 1):
            self.offsets[view] = new
            self.reload()

    def action_toggle_detail(self) -> None:
        self.detail_visible = not self.detail_visible

    def action_reload(self) -> None:
        self.reload()
        self._load_ahead(now=True)      # asked for: not held back by the pause between reads

    # -- export ---------------------------------------------------------------------------------------
    #: What the board's export holds: its card columns, every page of them (the appeals on a
    #: unit's clock holding a card), as the appeals list (``read.exports.appeals_table``).
    EXPORT_FILTER = AppealFilter(states=rules.OPEN_STATES, card="any")

    def export_builder(self):
        return lambda store, act: exports.appeals_table(store, act, self.EXPORT_FILTER)

    def export_note_changed(self) -> None:
        self._update_viewbar()

    # -- actions ------------------------------------------------------------------------------------
    #: The view of each action key.
    ACTION_VIEWS = {"order": "cards", "decide": "extensions", "review": "disputes"}

    def _rule(self, action: str, parameters: tuple[object, ...], item: Any) -> str:
        """The rule (``rules.ACTIONS``) behind an action key, for the selected item."""
        if action == "order":
            return "edit_order" if getattr(item, "order_id", None) else "open_order"
        if action == "decide":
            return "approve_extension" if (parameters[0] if parameters else True) else "reject_extension"
        return "review"

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        act, item = self.console.actor, self.selected_item()
        if action not in self.ACTION_VIEWS or act is None or item is None:
            return None
        rule = self._rule(action, parameters, item)
        refused = rules.refusal(rule, act, item.facts(), at=timeutil.iso(), role_checked=True)
        return None if refused is None else error_text(refused)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.ACTION_VIEWS:
            act = self.console.actor
            if act is None or self.view != self.ACTION_VIEWS[action]:
                return False
            item = self.selected_item()
            rule = self._rule(action, parameters, item)
            if rules.role_refusal(rule, act) is not None:
                return False
            if item is None:
                return None
            if rule == "edit_order":
                return True
            return True if rules.allowed(rule, act, item.facts(), at=timeutil.iso()) else None
        if action == "column":
            return self.view == "cards"
        return True

    def _form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()

    def action_order(self) -> None:
        item = self.selected_item()
        if not isinstance(item, board.BoardItem):
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(OrderForm(item.ref, subject=item.title, state=item.state,
                                       order_id=item.order_id, due_at=item.order_due,
                                       note=item.order_note or ""),
                             self._form_closed)

    def action_decide(self, approve: bool) -> None:
        item = self.selected_item()
        if not isinstance(item, board.PendingExtension):
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(DecideExtensionForm(item.ref, subject=item.title, extension_id=item.id,
                                                 days=item.days, reason=item.reason, approve=approve),
                             self._form_closed)

    def action_review(self) -> None:
        item = self.selected_item()
        if not isinstance(item, board.DisputedAppeal):
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(ReviewDisputeForm(item.ref, subject=item.title, state="disputed",
                                               rating=item.rating, comment=item.rating_comment),
                             self._form_closed)

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = [
            (t("tab.cards"), "", lambda: self.action_view("cards")),
            (t("tab.extensions", n=self.board.extensions_total if self.board else "…"), "",
             lambda: self.action_view("extensions")),
            (t("tab.disputes", n=self.board.disputes_total if self.board else "…"), "",
             lambda: self.action_view("disputes")),
            (t("tab.ahead"), "", lambda: self.action_view("ahead")),
            (t("k.detail"), "", self.action_toggle_detail),
            (t("k.refresh"), "", self.action_reload),
            self.export_palette_command(),
        ]
        ref = self.selected_ref() or ""
        if self.check_action("order", ()):
            cmds.append((f"{t('k.order')} {ref}", "", self.action_order))
        if self.check_action("decide", ()):
            cmds.append((f"{t('k.approve')} {ref}", "", lambda: self.action_decide(True)))
            cmds.append((f"{t('k.reject')} {ref}", "", lambda: self.action_decide(False)))
        if self.check_action("review", ()):
            cmds.append((f"{t('k.review')} {ref}", "", self.action_review))
        return cmds


class RedCardScreen(ExportsList, _DetailMixin, LiveScreen):
    """红牌线索: every red-carded appeal with its whole history; record take-up."""

    READS = changes.APPEALS

    HELP_KEY = "help.redcards"
    TITLE_KEY = "red.title"
    EXPORT_NAME = "red-cards"
    EXPORT_COMMAND = "cmd.export.red"

    BINDINGS = [
        Binding("u", "take_up", "k.take_up", id="red.take_up"),
        Binding("d", "toggle_detail", "k.detail", id="red.detail"),
        Binding("z", "zoom_detail", "k.zoom", id="red.zoom", show=False),
        Binding("x", "export", "k.export", id="red.export", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="red.refresh", show=False),
    ]

    DEFAULT_CSS = """
    RedCardScreen #red-title { height: 1; padding: 0 1; background: $error 50%; text-style: bold; }
    RedCardScreen #red-table { height: 1fr; }
    RedCardScreen #detail { height: 55%; }
    RedCardScreen #detail.-hidden { display: none; }
    RedCardScreen.-zoomed #red-title, RedCardScreen.-zoomed #red-table { display: none; }
    RedCardScreen.-zoomed #detail { height: 1fr; }
    RedCardScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    RedCardScreen #status { text-wrap: nowrap; text-overflow: ellipsis; }  /* an export's path: cut, never wrapped away */
    """

    detail_visible: var[bool | None] = var(True, init=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.row_offset = 0
        self.rows: list[board.RedCard] = []
        self.total = 0
        self.generation = 0
        self._land: bool | None = None     # Home/End: to the last row (True) or first, once filled

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static(t("red.title"), id="red-title", markup=False)
        yield PagedTable("red", id="red-table")
        yield DetailPane(id="detail")
        yield Static(t("status.loading"), id="status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#red-table", DataTable)
        table.focus()
        self.reload()

    def reload(self) -> None:
        self.stale = False
        self.generation += 1
        self._load(self.generation, self.row_offset)

    def _load(self, generation: int, offset: int) -> None:
        def read(job: Job) -> RedCardsLoaded:
            rows, total = board.red_cards(job.store, job.actor, limit=PAGE_SIZE, offset=offset)
            return RedCardsLoaded(generation, rows, total)
        self.run_in_store("red-load", read)

    def on_work_failed(self, message: WorkFailed) -> None:
        if self.detail_failed(message):
            return
        if message.task == "red-load":
            message.stop()
            self.query_one("#status", Static).update(plain(t("err.load", msg=message.text)))

    def on_red_cards_loaded(self, message: RedCardsLoaded) -> None:
        if message.generation != self.generation:
            return
        if not message.rows and self.row_offset > 0:
            self.row_offset = max(0, self.row_offset - PAGE_SIZE)
            self.reload()
            return
        table = self.query_one("#red-table", DataTable)
        keep = self.selected_ref()
        self.rows, self.total = message.rows, message.total
        from taian_tui.console.strings import get_lang

        narrow = get_lang() == "zh"
        cols = fit_columns(self.app.size.width, [
            ("ref", "red.col.ref", 11), ("unit", "red.col.unit", 14), ("title", "red.col.title", -1),
            ("red_at", "red.col.red_at", 11), ("order_due", "red.col.order_due", 11),
            ("state", "red.col.state", 6 if narrow else 9), ("taken", "red.col.taken", 6 if narrow else 9)],
            drop=("order_due", "state"))
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        for r in message.rows:
            taken = Text(t("red.taken"), style="green", end="") if r.taken_up_at else \
                Text(t("red.not_taken"), style="bold red", end="")
            values = {"ref": cell(r.ref, w["ref"]), "unit": cell(r.unit, w["unit"]),
                      "title": cell(r.title, w["title"]),
                      "red_at": cell(short_date(r.threshold_at, with_time=True), w["red_at"]),
                      "order_due": cell(_due_text(r.order_due) if r.order_due else "",
                                        w.get("order_due")),
                      "state": cell(code_label("state", r.state), w.get("state")), "taken": taken}
            table.add_row(*(values[k] for k, _, _ in cols), key=r.ref)
        refs = [r.ref for r in message.rows]
        if refs:
            table.move_cursor(row=refs.index(keep) if keep in refs else 0, animate=False)
        if self._land is not None:
            self.land_in(table, self._land)
            self._land = None
        self._status_text = t("red.status", total=self.total, page=self.row_offset // PAGE_SIZE + 1,
                              pages=max(1, -(-self.total // PAGE_SIZE)))
        self.export_note_changed()
        self.show_detail_of(self.selected_ref(), force=True)
        self.refresh_bindings()

    def selected(self) -> board.RedCard | None:
        table = self.query_one("#red-table", DataTable)
        if not table.row_count or not self.rows:
            return None
        index = table.cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def selected_ref(self) -> str | None:
        row = self.selected()
        return row.ref if row else None

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail_of(self.selected_ref())
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "take_up":
            act = self.console.actor
            if act is None or rules.role_refusal("take_up", act) is not None:
                return False
            row = self.selected()
            if row is None:
                return None
            return True if rules.allowed("take_up", act, row.facts(), at=timeutil.iso()) else None
        return True

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        act, row = self.console.actor, self.selected()
        if action != "take_up" or act is None or row is None:
            return None
        refused = rules.refusal("take_up", act, row.facts(), at=timeutil.iso(), role_checked=True)
        return None if refused is None else labelled(t("k.take_up"), error_text(refused))

    # -- export ---------------------------------------------------------------------------------------
    _status_text = ""

    def export_builder(self):
        """Every red card in the viewer's scope, not yet taken up first (this screen's order):
        ``read.exports.red_cards_table``."""
        return lambda store, act: exports.red_cards_table(store, act)

    def export_note_changed(self) -> None:
        self.query_one("#status", Static).update(plain(self.with_export_note(self._status_text)))

    def action_take_up(self) -> None:
        row = self.selected()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(TakeUpForm(row.ref, subject=row.title, state=row.state), self._form_closed)

    def _form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()

    def list_edge(self, name: str, last: bool) -> None:
        """Home/End: the first or last red card of the whole list."""
        offset = (max(self.total - 1, 0) // PAGE_SIZE) * PAGE_SIZE if last else 0
        if offset != self.row_offset:
            self._land = last
            self.row_offset = offset
            self.reload()
        else:
            self.land_in(self.query_one("#red-table", DataTable), last)

    def view_page(self, view: str, step: int) -> None:
        new = self.row_offset + step * PAGE_SIZE
        if 0 <= new < max(self.total, 1):
            self.row_offset = new
            self.reload()

    def action_toggle_detail(self) -> None:
        self.detail_visible = not self.detail_visible

    def action_reload(self) -> None:
        self.reload()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = [(t("k.detail"), "", self.action_toggle_detail),
                                            (t("k.refresh"), "", self.action_reload),
                                            self.export_palette_command()]
        if self.check_action("take_up", ()):
            cmds.insert(0, (f"{t('k.take_up')} {self.selected_ref()}", "", self.action_take_up))
        return cmds
