"""The appeal inbox: one page (50 rows) of the viewer's appeals at a time, read from SQLite
with LIMIT/OFFSET in a worker thread; filters, full-text search, a detail pane, and the
liaison's and admin's actions (each a key opening a modal form).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Select, Static
from textual.worker import get_current_worker

from .. import queries
from ..i18n import card_label, category_label, state_label, t, error_text
from ..models import APPEAL_STATES, CARDS, CATEGORIES
from ..queries import AppealFilter, AppealRow
from ..store import Store
from .paged import ListTable
from ..widgets import (DetailPane, HeaderBar, card_cell, cell, localise_bindings, plain,
                       short_date)
from . import data
from .forms import AcceptForm, ExtendForm, ReassignForm, ReplyForm, ReturnForm

PAGE_SIZE = 50

#: States each role works on by default ("待办").
TODO_STATES = {
    "liaison": ("assigned", "accepted"),
    "admin": ("submitted", "returned", "assigned", "accepted"),
}
DEFAULT_TODO = ("assigned", "accepted")

#: Who may do what, and from which states (the store checks again; this only greys keys).
ACTIONS = {
    "accept": (("liaison", "admin"), ("assigned",)),
    "reply": (("liaison", "admin"), ("accepted",)),
    "return_appeal": (("liaison",), ("assigned", "accepted")),
    "extend": (("liaison",), ("assigned", "accepted")),
    "reassign": (("admin",), ("submitted", "returned", "assigned", "accepted")),
    "instruct": (("leader",), APPEAL_STATES),
}
SORTS = ("deadline", "submitted", "ref")


@dataclass(frozen=True)
class PageRequest:
    generation: int
    filter: AppealFilter
    page: int
    keep_ref: str | None = None
    keep_index: int | None = None
    cursor: str | None = None          # "first" | "last" | None


class AppealTable(ListTable):
    """The page of appeals (the paged table of every list screen, with the inbox's own
    binding ids)."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="inbox.next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="inbox.prev_page", show=False),
    ]


class InboxScreen(Screen):
    """诉求收件箱."""

    HELP_KEY = "help.inbox"
    TITLE_KEY = "inbox.title"

    BINDINGS = [
        Binding("a", "accept", "k.accept", id="inbox.accept"),
        Binding("r", "reply", "k.reply", id="inbox.reply"),
        Binding("b", "return_appeal", "k.return", id="inbox.return"),
        Binding("e", "extend", "k.extend", id="inbox.extend"),
        Binding("g", "reassign", "k.reassign", id="inbox.reassign"),
        Binding("i", "instruct", "k.instruct", id="inbox.instruct"),
        Binding("slash", "search", "k.search", id="inbox.search"),
        Binding("t", "due_today", "k.due_today", id="inbox.due_today"),
        Binding("o", "overdue", "k.overdue", id="inbox.overdue", show=False),
        Binding("d", "toggle_detail", "k.detail", id="inbox.detail"),
        Binding("f", "filter", "k.filter", id="inbox.filter", show=False),
        Binding("c", "clear_filters", "k.clear", id="inbox.clear", show=False),
        Binding("s", "cycle_sort", "k.sort", id="inbox.sort", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="inbox.refresh", show=False),
        Binding("escape", "focus_table", "k.back", id="inbox.back", show=False),
    ]

    DEFAULT_CSS = """
    InboxScreen #filters { height: 1; margin: 0 0 0 0; }
    InboxScreen #filters Select { width: 16; margin-right: 1; }
    InboxScreen #filters.-zh Select { width: 11; }
    InboxScreen #filters #f-unit { width: 18; }
    InboxScreen #filters.-zh #f-unit { width: 16; }
    InboxScreen #filters Input { width: 1fr; min-width: 12; }
    InboxScreen #table { height: 1fr; }
    InboxScreen #detail { height: 45%; }
    InboxScreen #detail.-hidden { display: none; }
    InboxScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    class PageLoaded(Message):
        """A page of rows was read."""

        def __init__(self, request: PageRequest, rows: list[AppealRow]) -> None:
            super().__init__()
            self.request = request
            self.rows = rows

    class TotalCounted(Message):
        """The number of rows matching the filter was counted."""

        def __init__(self, request: PageRequest, total: int) -> None:
            super().__init__()
            self.request = request
            self.total = total

    class DetailLoaded(Message):
        """One appeal's detail was read."""

        def __init__(self, ref: str, detail: Any) -> None:
            super().__init__()
            self.ref = ref
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
        self.rows: list[AppealRow] = []
        self.generation = 0
        self.busy = False
        self.stale = False
        self.detail_ref: str | None = None
        self.detail_visible: bool | None = None
        self.sort = "deadline"
        self._search_timer: Timer | None = None
        self._focus_table_after_load = False
        self._units: list[tuple[str, str]] = []
        self._last_request: PageRequest | None = None
        self.loaded_generation = 0      # the last request whose rows are on screen
        self.counted_generation = 0     # the last request whose total is on screen

    # -- layout ------------------------------------------------------------------------------------
    @property
    def role(self) -> str:
        return self.app.user.role

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        self._units = data.visible_units(self.app.store, self.app.actor)
        from ..i18n import get_lang

        with Horizontal(id="filters", classes=f"-{get_lang()}"):
            yield Select([(t("filter.todo"), "todo"), (t("filter.all_states"), "all")]
                         + [(state_label(s), s) for s in APPEAL_STATES],
                         value="todo", allow_blank=False, compact=True, id="f-state")
            yield Select([(t("filter.all_categories"), "all")]
                         + [(category_label(c), c) for c in CATEGORIES],
                         value="all", allow_blank=False, compact=True, id="f-category")
            yield Select([(t("filter.all_cards"), "all"), (t("filter.any_card"), "any"),
                          (t("filter.no_card"), "none")] + [(card_label(c), c) for c in CARDS],
                         value="all", allow_blank=False, compact=True, id="f-card")
            if self._units:
                yield Select([(t("filter.all_units"), "all")]
                             + [(plain(name), code) for code, name in self._units],
                             value="all", allow_blank=False, compact=True, id="f-unit")
            yield Select([(t("filter.all_due"), "all"), (t("filter.due_today"), "today"),
                          (t("filter.overdue"), "overdue")],
                         value="all", allow_blank=False, compact=True, id="f-due")
            yield Input(placeholder=t("search.placeholder"), id="f-search", compact=True)
        yield AppealTable(id="table")
        yield DetailPane(id="detail")
        yield Static(t("status.loading"), id="status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.app.register_live(self)
        self.query_one("#table", AppealTable).focus()
        if self.detail_visible is None:
            self.detail_visible = self.app.size.height >= 30
        self.query_one("#detail").set_class(not self.detail_visible, "-hidden")
        self.reload()

    def on_unmount(self) -> None:
        self.app.unregister_live(self)

    def on_screen_resume(self) -> None:
        if self.stale:
            self.reload(keep=True)

    def on_resize(self) -> None:
        if self.rows:
            self._fill_table(self.rows, keep_ref=self.current_ref())

    # -- the filter ---------------------------------------------------------------------------------
    def _select(self, id_: str) -> Any:
        try:
            value = self.query_one(f"#{id_}", Select).value
        except Exception:
            return None
        return None if value is Select.NULL else value

    def current_filter(self) -> AppealFilter:
        state = self._select("f-state") or "todo"
        if state == "todo":
            states = TODO_STATES.get(self.role, DEFAULT_TODO)
        elif state == "all":
            states = ()
        else:
            states = (state,)
        category = self._select("f-category")
        card = self._select("f-card")
        unit = self._select("f-unit")
        due = self._select("f-due")
        text = self.query_one("#f-search", Input).value.strip() if self.is_mounted else ""
        return AppealFilter(states=states,
                            category=None if category in (None, "all") else category,
                            card=None if card in (None, "all") else card,
                            unit=None if unit in (None, "all") else unit,
                            due_today=due == "today", overdue=due == "overdue",
                            text=text or None, sort=self.sort)

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._last_request is not None and self.current_filter() == self._last_request.filter:
            return  # e.g. the initial value being set while mounting
        self.page = 0
        self.reload()
        self.refresh_bindings()

    @on(Input.Changed, "#f-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.3, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        if self._last_request is not None and self.current_filter() == self._last_request.filter:
            return
        self.page = 0
        self.reload()

    @on(Input.Submitted, "#f-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        self.page = 0
        # the results first, then the focus: moving focus repaints the footer and the table
        # (about 130 ms on a busy screen), which should not delay the new page
        self._focus_table_after_load = True
        self.reload()

    # -- loading ------------------------------------------------------------------------------------
    def reload(self, *, keep: bool = False, cursor: str | None = None) -> None:
        """Read the current page again (``keep``: stay on the same appeal)."""
        self.stale = False
        self.generation += 1
        table = self.query_one("#table", AppealTable)
        keep_ref = self.current_ref() if keep else None
        keep_index = table.cursor_row if keep and table.row_count else None
        request = PageRequest(self.generation, self.current_filter(), self.page, keep_ref,
                              keep_index, cursor)
        self._last_request = request
        self.busy = True
        if not keep:
            self._set_status(t("status.loading"))
        self._load_page(request)

    def data_changed(self) -> None:
        """The database file changed (live poll or an action): refresh what is shown."""
        if self in self.app.screen_stack:
            self.reload(keep=True)
        else:
            self.stale = True

    @work(thread=True, exclusive=True, group="inbox-page")
    def _load_page(self, request: PageRequest) -> None:
        worker = get_current_worker()
        try:
            with Store(self.app.db_path, migrate=False) as store:
                act = self.app.session_actor(store)
                rows = queries.list_appeals(store, act, request.filter, limit=PAGE_SIZE,
                                            offset=request.page * PAGE_SIZE)
                if worker.is_cancelled:
                    return
                self.post_message(self.PageLoaded(request, rows))
                total = queries.count_appeals(store, act, request.filter)
                if not worker.is_cancelled:
                    self.post_message(self.TotalCounted(request, total))
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(t("err.load", msg=error_text(exc))))

    def on_inbox_screen_page_loaded(self, message: "InboxScreen.PageLoaded") -> None:
        request = message.request
        if request.generation != self.generation:
            return
        if not message.rows and request.page > 0:
            # The page emptied under us (rows answered elsewhere): go back one page.
            self.page = max(0, request.page - 1)
            self.reload(cursor="last")
            return
        self.rows = message.rows
        self.loaded_generation = request.generation
        self._fill_table(message.rows, keep_ref=request.keep_ref, keep_index=request.keep_index,
                         cursor=request.cursor)
        self._update_status()
        ref = self.current_ref()
        if ref is None:
            self.detail_ref = None
            self.query_one("#detail", DetailPane).show_text(t("detail.empty"))
        else:
            self._load_detail(ref)
        self.refresh_bindings()
        if self._focus_table_after_load:
            self._focus_table_after_load = False
            table = self.query_one("#table", AppealTable)
            self.call_after_refresh(table.focus)

    def on_inbox_screen_total_counted(self, message: "InboxScreen.TotalCounted") -> None:
        if message.request.generation != self.generation:
            return
        self.total = message.total
        self.counted_generation = message.request.generation
        self.busy = False
        self._update_status()

    def on_inbox_screen_load_failed(self, message: "InboxScreen.LoadFailed") -> None:
        self.busy = False
        self._set_status(message.message)

    # -- the table ----------------------------------------------------------------------------------
    COLUMNS = (("card", "col.card"), ("ref", "col.ref"), ("category", "col.category"),
               ("enterprise", "col.enterprise"), ("title", "col.title"), ("unit", "col.unit"),
               ("arrived", "col.arrived"), ("deadline", "col.deadline"), ("days", "col.days_left"),
               ("state", "col.state"))

    def _columns(self) -> list[tuple[str, str, int]]:
        """(key, label key, width) of the columns that fit the terminal: the unit column only
        for viewers of several units, the arrival date only from 100 columns on."""
        from ..i18n import get_lang

        width = max(self.app.size.width, 60) - 2  # the vertical scrollbar
        fixed = {"card": 2, "ref": 11, "category": 4, "arrived": 5, "deadline": 5,
                 "days": 5, "state": 6}
        if get_lang() == "en":
            fixed.update(category=11, days=5, state=9, arrived=7, deadline=5)
        if self.rows:
            fixed["ref"] = min(max(11, *(len(r.ref) for r in self.rows)), 16)
            dates = [short_date(v) for r in self.rows for v in (r.arrived_at, r.deadline)]
            if any(len(d) > 5 for d in dates):
                fixed["arrived"] = fixed["deadline"] = 10
        keys = [k for k, _ in self.COLUMNS]
        if not self._units:
            keys.remove("unit")
        if width < 100:
            keys.remove("arrived")
        weights = {"enterprise": 3, "title": 5, "unit": 2}
        # On a narrow terminal drop what matters least until the rest fits.
        for drop in (None, "category", "unit", "enterprise"):
            if drop in keys:
                keys.remove(drop)
            flexible = [k for k in ("enterprise", "title", "unit") if k in keys]
            used = sum(fixed[k] for k in keys if k in fixed) + 2 * len(keys)
            free = width - used
            if free >= 10 * len(flexible):
                break
        free = max(free, 10 * len(flexible))
        total_weight = sum(weights[k] for k in flexible)
        widths = dict(fixed)
        for k in flexible:
            widths[k] = max(8, free * weights[k] // total_weight)
        widths["title"] += free - sum(widths[k] for k in flexible)
        labels = dict(self.COLUMNS)
        return [(k, labels[k], widths[k]) for k in keys]

    def _fill_table(self, rows: list[AppealRow], *, keep_ref: str | None = None,
                    keep_index: int | None = None, cursor: str | None = None) -> None:
        table = self.query_one("#table", AppealTable)
        columns = self._columns()
        table.clear(columns=True)
        for key, label, width in columns:
            table.add_column(cell(t(label), width), width=width, key=key)
        for r in rows:
            values = {
                "card": lambda w: card_cell(r.card),
                "ref": lambda w: cell(r.ref, w),
                "category": lambda w: cell(category_label(r.category), w),
                "enterprise": lambda w: cell(r.enterprise, w),
                "title": lambda w: cell(r.title, w),
                "unit": lambda w: cell(r.unit or "—", w),
                "arrived": lambda w: cell(short_date(r.arrived_at), w),
                "deadline": lambda w: cell(short_date(r.deadline), w),
                "days": lambda w: self._days_cell(r, w),
                "state": lambda w: cell(state_label(r.state), w),
            }
            table.add_row(*(values[key](width) for key, _, width in columns), key=r.ref)
        if not rows:
            return
        index = 0
        refs = [r.ref for r in rows]
        if keep_ref and keep_ref in refs:
            index = refs.index(keep_ref)
        elif cursor == "last":
            index = len(rows) - 1
        elif cursor == "first":
            index = 0
        elif keep_index is not None:
            index = min(keep_index, len(rows) - 1)
        table.move_cursor(row=index, animate=False)

    @staticmethod
    def _days_cell(row: AppealRow, width: int) -> Text:
        n = row.days_left
        if n is None:
            return cell("", width)
        if n < 0:
            return Text(t("days.overdue", n=-n), style="bold red", justify="right", end="")
        if n == 0:
            return Text(t("days.today"), style="bold yellow", justify="right", end="")
        return Text(t("days.left", n=n), justify="right", end="")

    def _update_status(self) -> None:
        first = self.page * PAGE_SIZE + 1
        last = self.page * PAGE_SIZE + len(self.rows)
        sort = t(f"sort.{self.sort}")
        f = self._last_request.filter if self._last_request else None
        if self.total == 0 or (not self.rows and self.total is not None):
            text = t("status.empty")
        elif self.total is None:
            text = t("status.page_nototal", page=self.page + 1, first=first, last=last, sort=sort)
        else:
            pages = max(1, -(-self.total // PAGE_SIZE))
            text = t("status.page", page=self.page + 1, pages=pages, first=first, last=last,
                     total=self.total, sort=sort)
        if f is not None and f.text:
            text += " · " + t("status.search", text=f.text)
        self._set_status(text)

    def _set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(plain(text))

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

    def current_row(self) -> AppealRow | None:
        table = self.query_one("#table", AppealTable)
        if not table.row_count or not self.rows:
            return None
        index = table.cursor_row
        if 0 <= index < len(self.rows):
            return self.rows[index]
        return None

    def current_ref(self) -> str | None:
        row = self.current_row()
        return row.ref if row else None

    @on(DataTable.RowHighlighted, "#table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        ref = event.row_key.value if event.row_key is not None else None
        if ref and ref != self.detail_ref:
            self._load_detail(ref)
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if not self.detail_visible:
            self.action_toggle_detail()

    # -- the detail pane ---------------------------------------------------------------------------
    def _load_detail(self, ref: str) -> None:
        self.detail_ref = ref
        if self.detail_visible:
            self._read_detail(ref)

    @work(thread=True, exclusive=True, group="inbox-detail")
    def _read_detail(self, ref: str) -> None:
        worker = get_current_worker()
        try:
            with Store(self.app.db_path, migrate=False) as store:
                detail = data.appeal_detail(store, self.app.session_actor(store), ref)
        except Exception as exc:
            detail = t("err.load", msg=error_text(exc))
        if not worker.is_cancelled:
            self.post_message(self.DetailLoaded(ref, detail))

    def on_inbox_screen_detail_loaded(self, message: "InboxScreen.DetailLoaded") -> None:
        if message.ref != self.detail_ref:
            return
        pane = self.query_one("#detail", DetailPane)
        if isinstance(message.detail, str):
            pane.show_text(message.detail)
        else:
            pane.show_detail(message.detail)

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rule = ACTIONS.get(action)
        if rule is None:
            return True
        roles, states = rule
        if self.app.user is None or self.role not in roles:
            return False
        row = self.current_row()
        if row is None or row.state not in states:
            return None
        return True

    def _open_form(self, form_cls: type, **kw: Any) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        form = form_cls(row.ref, subject=row.title, state=row.state, **kw)
        self.app.push_screen(form, self._form_closed)

    def _form_closed(self, saved: bool | None) -> None:
        if saved:
            self.app.data_changed()

    def action_accept(self) -> None:
        self._open_form(AcceptForm)

    def action_reply(self) -> None:
        self._open_form(ReplyForm)

    def action_return_appeal(self) -> None:
        self._open_form(ReturnForm)

    def action_extend(self) -> None:
        self._open_form(ExtendForm)

    def action_reassign(self) -> None:
        row = self.current_row()
        units = data.handling_units(self.app.store)
        self._open_form(ReassignForm, units=units, current_unit=row.unit_code if row else None)

    def action_instruct(self) -> None:
        """A leader's instruction (领导批示) on the selected appeal, to a named user."""
        from .instructions import InstructionForm

        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(InstructionForm(row.ref, subject=row.title, state=row.state,
                                             appeal_ref=row.ref), self._form_closed)

    def action_search(self) -> None:
        self.query_one("#f-search", Input).focus()

    def action_filter(self) -> None:
        self.query_one("#f-state", Select).focus()

    def action_focus_table(self) -> None:
        self.query_one("#table", AppealTable).focus()

    def _set_select(self, id_: str, value: str) -> None:
        try:
            select = self.query_one(f"#{id_}", Select)
        except Exception:
            return
        select.value = value

    def action_due_today(self) -> None:
        self._set_select("f-due", "all" if self._select("f-due") == "today" else "today")

    def action_overdue(self) -> None:
        self._set_select("f-due", "all" if self._select("f-due") == "overdue" else "overdue")

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed, Input.Changed):
            self._set_select("f-state", "todo")
            for id_ in ("f-category", "f-card", "f-unit", "f-due"):
                self._set_select(id_, "all")
            self.query_one("#f-search", Input).value = ""
        self.page = 0
        self.reload()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.page = 0
        self.reload()

    def set_sort(self, sort: str) -> None:
        self.sort = sort
        self.page = 0
        self.reload()

    def action_reload(self) -> None:
        self.reload(keep=True)

    def action_toggle_detail(self) -> None:
        self.detail_visible = not self.detail_visible
        self.query_one("#detail").set_class(not self.detail_visible, "-hidden")
        if self.detail_visible and self.detail_ref:
            self._read_detail(self.detail_ref)

    # -- command palette --------------------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = []
        for action, key in (("accept", "k.accept"), ("reply", "k.reply"),
                            ("return_appeal", "k.return"), ("extend", "k.extend"),
                            ("reassign", "k.reassign"), ("instruct", "k.instruct")):
            if self.check_action(action, ()):
                ref = self.current_ref() or ""
                cmds.append((f"{t(key)} {ref}", "", getattr(self, f"action_{action}")))
        cmds.append((t("k.search"), "", self.action_search))
        cmds.append((t("k.due_today"), "", self.action_due_today))
        cmds.append((t("k.overdue"), "", self.action_overdue))
        cmds.append((t("k.clear"), "", self.action_clear_filters))
        cmds.append((t("k.detail"), "", self.action_toggle_detail))
        cmds.append((t("k.refresh"), "", self.action_reload))
        for state in ("todo", "all", *APPEAL_STATES):
            label = t("filter.todo") if state == "todo" else (
                t("filter.all_states") if state == "all" else state_label(state))
            cmds.append((t("cmd.filter_state", label=label), "",
                         lambda s=state: self._set_select("f-state", s)))
        for code in CATEGORIES:
            cmds.append((t("cmd.filter_category", label=category_label(code)), "",
                         lambda c=code: self._set_select("f-category", c)))
        for code in CARDS:
            cmds.append((t("cmd.filter_card", label=card_label(code)), "",
                         lambda c=code: self._set_select("f-card", c)))
        for sort in SORTS:
            cmds.append((t("cmd.sort", label=t(f"sort.{sort}")), "", lambda s=sort: self.set_sort(s)))
        return cmds
