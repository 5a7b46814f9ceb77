"""The appeal inbox: one page (50 rows) of the viewer's appeals at a time, read from SQLite
with LIMIT/OFFSET in a worker thread (``PagedListScreen``); filters, full-text search, a
detail pane, and the liaison's and admin's actions (each a key opening a modal form).

The due filter also offers 即将转黄 (``w``): the appeals the sweep at the start of the next
working day would turn yellow if they are still unanswered (``AppealFilter.turns``, the
forecast's own appeals): a liaison's list of what must be answered today.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static

from taian_tui.read import appeals, exports
from taian_tui.read.detail import appeal_detail
from taian_tui.console.strings import error_text, get_lang, code_label, labelled, t
from taian_tui.domain import rules, search, timeutil
from taian_tui.domain.actors import appeal_scope_units
from taian_tui.domain.models import CARDS, CATEGORIES
from taian_tui.domain.rules import APPEAL_STATES
from taian_tui.read.appeals import AppealFilter, AppealRow
from taian_tui.read import changes
from taian_tui.store import Store
from taian_tui.console.widgets import (KeysFooter, DetailPane, HeaderBar, card_cell, cell, plain,
                                      set_columns, short_date)
from taian_tui.screens.exporting import ExportsList
from taian_tui.screens.forms import AcceptForm, ExtendForm, ReassignForm, ReplyForm, ReturnForm
from taian_tui.screens.paged import PAGE_SIZE, ListTable, PagedListScreen, Request

#: States each role works on by default ("待办"): the liaison, those on the unit's clock; the
#: admin, those an appeal can be (re)assigned from.
TODO_STATES = {
    "liaison": rules.OPEN_STATES,
    "admin": rules.ACTIONS["assign"].sources,
}
DEFAULT_TODO = rules.OPEN_STATES

#: The rule (``rules.ACTIONS``) behind each action key: the key is offered exactly when the
#: store would take the action on the highlighted row.
KEY_RULES = {
    "accept": "accept",
    "reply": "reply",
    "return_appeal": "return",
    "extend": "request_extension",
    "reassign": "assign",
    "instruct": "instruct",
}
#: The words of each key of KEY_RULES (its footer label).
KEY_WORDS = {
    "accept": "k.accept",
    "reply": "k.reply",
    "return_appeal": "k.return",
    "extend": "k.extend",
    "reassign": "k.reassign",
    "instruct": "k.instruct",
}
SORTS = ("deadline", "submitted", "ref")


class AppealTable(ListTable):
    """The page of appeals (the paged table of every list screen, with the inbox's own
    binding ids)."""

    BINDINGS = [
        Binding("pagedown", "next_page", "k.next_page", id="inbox.next_page", show=False),
        Binding("pageup", "prev_page", "k.prev_page", id="inbox.prev_page", show=False),
    ]


class InboxScreen(ExportsList, PagedListScreen):
    """诉求收件箱."""

    READS = changes.APPEALS

    def reads_units(self) -> frozenset[str] | None:
        return appeal_scope_units(self.console.actor)

    HELP_KEY = "help.inbox"
    TITLE_KEY = "inbox.title"
    EMPTY_KEY = "status.empty"
    DETAIL_EMPTY_KEY = "detail.empty"
    EXPORT_NAME = "appeals"
    EXPORT_COMMAND = "cmd.export.appeals"

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
        Binding("w", "turns_yellow", "k.turns_yellow", id="inbox.turns_yellow", show=False),
        Binding("d", "toggle_detail", "k.detail", id="inbox.detail"),
        Binding("f", "filter", "k.filter", id="inbox.filter", show=False),
        Binding("c", "clear_filters", "k.clear", id="inbox.clear", show=False),
        Binding("s", "cycle_sort", "k.sort", id="inbox.sort", show=False),
        Binding("x", "export", "k.export", id="inbox.export", show=False),
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
    /* under 100 columns the English labels' selects are narrower, so the search box stays on
       screen (80 columns: 4 x 13 + 14 + 12) */
    InboxScreen #filters.-en.-narrow Select { width: 13; margin-right: 0; }
    InboxScreen #filters.-en.-narrow #f-unit { width: 14; }
    InboxScreen #table { height: 1fr; }
    InboxScreen #detail { height: 45%; }
    InboxScreen #why { height: 1; background: $boost; padding: 0 1; }
    InboxScreen #why.-empty { display: none; }
    InboxScreen #detail.-hidden { display: none; }
    InboxScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    InboxScreen #status { text-wrap: nowrap; text-overflow: ellipsis; }  /* an export's path: cut, never wrapped away */
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.sort = "deadline"
        self._search_timer: Timer | None = None
        self._units: list[tuple[str, str]] = []

    # -- layout ------------------------------------------------------------------------------------
    @property
    def role(self) -> str:
        return self.console.user.role

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        self._units = list(self.console.session.filter_units)
        narrow = " -narrow" if self.app.size.width < 100 else ""
        with Horizontal(id="filters", classes=f"-{get_lang()}{narrow}"):
            # (a unit's liaison never has an appeal not yet dispatched: no 待分派 to choose)
            states = [s for s in APPEAL_STATES if not (s == "submitted" and self.role == "liaison")]
            yield Select([(t("filter.todo"), "todo"), (t("filter.all_states"), "all")]
                         + [(code_label("state", s), s) for s in states],
                         value="todo", allow_blank=False, compact=True, id="f-state")
            yield Select([(t("filter.all_categories"), "all")]
                         + [(code_label("category", c), c) for c in CATEGORIES],
                         value="all", allow_blank=False, compact=True, id="f-category")
            yield Select([(t("filter.all_cards"), "all"), (t("filter.any_card"), "any"),
                          (t("filter.no_card"), "none")] + [(code_label("card", c), c) for c in CARDS],
                         value="all", allow_blank=False, compact=True, id="f-card")
            if self._units:
                yield Select([(t("filter.all_units"), "all")]
                             + [(plain(name), code) for code, name in self._units],
                             value="all", allow_blank=False, compact=True, id="f-unit")
            yield Select([(t("filter.all_due"), "all"), (t("filter.due_today"), "today"),
                          (t("filter.overdue"), "overdue"), (t("filter.turns_yellow"), "turns_yellow")],
                         value="all", allow_blank=False, compact=True, id="f-due")
            yield Input(placeholder=t("search.placeholder"), id="f-search", compact=True)
        yield AppealTable(id="table")
        yield DetailPane(id="detail")
        yield Static("", id="why", markup=False)
        yield Static(t("status.loading"), id="status", markup=False)
        yield KeysFooter(compact=True)

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
        if self.by_number(text):
            # a ref or a number names an appeal: found whatever the state and the other
            # filters say (under 待办, an answered appeal's ref found nothing)
            return AppealFilter(text=text, sort=self.sort)
        return AppealFilter(states=states,
                            category=None if category in (None, "all") else category,
                            card=None if card in (None, "all") else card,
                            unit=None if unit in (None, "all") else unit,
                            due_today=due == "today", overdue=due == "overdue",
                            turns="yellow" if due == "turns_yellow" else None,
                            text=text or None, sort=self.sort)

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        self.filter_chosen(event)   # nothing happens when the filter is the same (a Select mounting)

    @on(Input.Changed, "#f-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.3, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        self.filter_changed()

    @on(Input.Submitted, "#f-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        self.page = 0
        self.reload()
        self.focus_table_after_page()

    @on(DataTable.RowHighlighted, "#table")
    def _why_of_the_row(self, event: DataTable.RowHighlighted) -> None:
        # (the base class's handler reads the detail; the reasons are shown even without it)
        self.show_why(self.current_row())

    def page_shown(self, request: Request) -> None:
        self.show_why(self.current_row())

    # -- reading ------------------------------------------------------------------------------------
    def fetch(self, store: Store, act: Any, flt: AppealFilter, limit: int, offset: int) -> list:
        return appeals.list_appeals(store, act, flt, limit=limit, offset=offset)

    def count(self, store: Store, act: Any, flt: AppealFilter) -> int:
        return appeals.count_appeals(store, act, flt)

    def row_key(self, row: AppealRow) -> str:
        return row.ref

    def fetch_detail(self, store: Store, act: Any, key: str) -> Any:
        return appeal_detail(store, act, key)

    def show_detail(self, detail: Any) -> None:
        self.query_one("#detail", DetailPane).show_detail(detail)
        self.show_why(self.current_row())

    def show_detail_text(self, text: str) -> None:
        self.query_one("#detail", DetailPane).show_text(text)
        self.show_why(None)

    def why_not(self, row: AppealRow | None, *, only: str | None = None) -> list[tuple[str, str]]:
        """(key's words, the rule's refusal) of each of this role's keys that the highlighted
        appeal refuses: the greyed keys, and why (the rule table's own refusal). The line
        under the list leaves out the keys plainly not for the row's state; ``only`` (an
        action: its greyed key was pressed) gives that key's reason, whatever it is."""
        act = self.console.actor
        if row is None or act is None:
            return []
        names = {row.unit_code: row.unit, act.unit_code: self.console.unit_name}
        out = []
        for action, rule in KEY_RULES.items():
            if only is not None and action != only:
                continue
            sources = rules.ACTIONS[rule].sources
            if rules.role_refusal(rule, act) is not None or (only is None and sources and row.state not in sources):
                continue                 # not this role's key, or plainly not for this state
            refused = rules.refusal(rule, act, row.facts(), at=timeutil.iso(), role_checked=True,
                                    unit_name=lambda code: names.get(code) or code)
            if refused is not None:
                out.append((t(KEY_WORDS[action]), error_text(refused)))
        return out

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        why = self.why_not(self.current_row(), only=action)
        return labelled(why[0][0], why[0][1]) if why else None

    def show_why(self, row: AppealRow | None) -> None:
        why = self.why_not(row)
        line = self.query_one("#why", Static)
        line.set_class(not why, "-empty")
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        for i, (key, reason) in enumerate(why):
            text.append("；" if i else t("why.prefix"), style="dim")
            text.append(key, style="bold")
            text.append(" " + reason, style="dim")
        line.update(text)

    def on_resize(self) -> None:
        # (PagedListScreen's own on_resize refills the table: Textual calls both)
        self.query_one("#filters").set_class(self.app.size.width < 100, "-narrow")

    # -- the table ----------------------------------------------------------------------------------
    COLUMNS = (("card", "col.card"), ("ref", "col.ref"), ("category", "col.category"),
               ("enterprise", "col.enterprise"), ("title", "col.title"), ("unit", "col.unit"),
               ("arrived", "col.arrived"), ("deadline", "col.deadline"), ("days", "col.days_left"),
               ("state", "col.state"))

    def _columns(self) -> list[tuple[str, str, int]]:
        """(key, label key, width) of the columns that fit the terminal: the unit column for
        every viewer but a liaison (whose appeals are their unit's), the arrival date only
        from 100 columns on."""
        width = max(self.app.size.width, 60) - 2  # the vertical scrollbar
        fixed = {"card": 2, "ref": 11, "category": 4, "arrived": 5, "deadline": 5,
                 "days": 5, "state": 6}
        if get_lang() == "en":
            fixed.update(category=11, days=5, state=9, arrived=7, deadline=5)
        if self.rows:
            fixed["ref"] = min(max(11, *(len(r.ref) for r in self.rows)), 16)
            fixed["state"] = min(max(fixed["state"], *(self._state_cell(r, 40).cell_len for r in self.rows)), 16)
            dates = [short_date(v) for r in self.rows for v in (r.arrived_at, r.deadline)]
            if any(len(d) > 5 for d in dates):
                fixed["arrived"] = fixed["deadline"] = 10
        keys = [k for k, _ in self.COLUMNS]
        if self.role == "liaison":
            keys.remove("unit")          # one unit's appeals (a county's leader sees several)
        if width < 100:
            keys.remove("arrived")
        weights = {"enterprise": 3, "title": 5, "unit": 2}
        # On a narrow terminal drop what matters least until the rest fits (the unit before the
        # enterprise: whom the supervision office calls)
        for drop in (None, "category", "enterprise", "unit"):
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

    def fill_table(self, table: DataTable, rows: list[AppealRow]) -> None:
        columns = self._columns()
        set_columns(table, columns)
        for r in rows:
            values = {
                "card": lambda w: card_cell(r.card),
                "ref": lambda w: cell(r.ref, w),
                "category": lambda w: cell(code_label("category", r.category), w),
                "enterprise": lambda w: cell(r.enterprise, w),
                "title": lambda w: cell(r.title, w),
                "unit": lambda w: cell(r.unit or "—", w),
                "arrived": lambda w: cell(short_date(r.arrived_at), w),
                "deadline": lambda w: cell(short_date(r.deadline), w),
                "days": lambda w: self._days_cell(r, w),
                "state": lambda w: self._state_cell(r, w),
            }
            table.add_row(*(values[key](width) for key, _, width in columns), key=r.ref)

    @staticmethod
    def _state_cell(row: AppealRow, width: int) -> Text:
        """The state, and what else decides what to do with the row: a pending extension
        (延), an open supervision order (督, or 督超 once its due time passed), the reply's date."""
        text = Text(code_label("state", row.state), end="", no_wrap=True, overflow="ellipsis")
        if row.pending_extension:
            text.append(" " + t("mark.extension"), style="bold cyan")
        if row.order_overdue:
            text.append(" " + t("mark.order_overdue"), style="bold red")
        elif row.open_order:
            text.append(" " + t("mark.order"), style="yellow")
        if row.answered_at and row.state in ("answered", "disputed", "closed"):
            text.append(" " + short_date(row.answered_at), style="dim")
        text.truncate(width, overflow="ellipsis")
        return text

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

    @staticmethod
    def by_number(text: str | None) -> bool:
        """Whether a search is by an appeal's ref or number (``search.ref_candidates``)."""
        return bool(text) and bool(search.ref_candidates(text, timeutil.local_date(timeutil.iso()).year)[0])

    def status_text(self) -> str:
        first = self.page * PAGE_SIZE + 1
        last = self.page * PAGE_SIZE + len(self.rows)
        sort = t(f"sort.{self.sort}")
        f = self._last_request.filter if self._last_request else None
        if not self.rows:
            text = t(self.EMPTY_KEY)
        elif self.total is None:
            text = t("status.page_nototal", page=self.page + 1, first=first, last=last, sort=sort)
        else:
            pages = max(1, -(-self.total // PAGE_SIZE))
            text = t("status.page", page=self.page + 1, pages=pages, first=first, last=last,
                     total=self.total, sort=sort)
        if f is not None and f.text:
            text += " · " + t("status.search", text=f.text)
            if self.by_number(f.text):
                text += t("status.by_number")
        if f is not None and f.turns == "yellow" and self.rows:
            text += " · " + t("status.turns_yellow")
        return self.with_export_note(text)

    # -- export ---------------------------------------------------------------------------------------
    def export_builder(self):
        """The appeals of the filter set on the screen (its states, category, card, unit, due
        day, search words and sort), in the viewer's scope: ``read.exports.appeals_table``."""
        flt = self.current_filter()
        return lambda store, act: exports.appeals_table(store, act, flt)

    def export_note_changed(self) -> None:
        self.set_status(self.status_text() if self.loaded_generation else self.export_note)

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rule = KEY_RULES.get(action)
        if rule is None:
            return True
        act = self.console.actor
        if act is None or rules.role_refusal(rule, act) is not None:
            return False                  # not this role's key: hidden
        row = self.current_row()
        if row is None:
            return None
        return True if rules.allowed(rule, act, row.facts(), at=timeutil.iso()) else None

    def _open_form(self, form_cls: type, **kw: Any) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        form = form_cls(row.ref, subject=row.title, state=row.state, **kw)
        self.app.push_screen(form, self.form_closed)

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
        units = list(self.console.session.handling_units)
        self._open_form(ReassignForm, units=units, current_unit=row.unit_code if row else None)

    def action_instruct(self) -> None:
        """A leader's instruction (领导批示) on the selected appeal, to a named user."""
        from taian_tui.screens.instructions import InstructionForm

        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(InstructionForm(row.ref, subject=row.title, state=row.state,
                                             appeal_ref=row.ref), self.form_closed)

    def action_search(self) -> None:
        self.query_one("#f-search", Input).focus()

    def action_filter(self) -> None:
        self.query_one("#f-state", Select).focus()

    def action_focus_table(self) -> None:
        self.table.focus()

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

    def action_turns_yellow(self) -> None:
        """即将转黄: what the next working day's sweep would turn yellow (again: all)."""
        self._set_select("f-due", "all" if self._select("f-due") == "turns_yellow" else "turns_yellow")

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


    # -- command palette --------------------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = []
        for action, key in (("accept", "k.accept"), ("reply", "k.reply"),
                            ("return_appeal", "k.return"), ("extend", "k.extend"),
                            ("reassign", "k.reassign"), ("instruct", "k.instruct")):
            if self.check_action(action, ()):
                ref = self.current_key() or ""
                cmds.append((f"{t(key)} {ref}", "", getattr(self, f"action_{action}")))
        cmds.append((t("k.search"), "", self.action_search))
        cmds.append((t("k.due_today"), "", self.action_due_today))
        cmds.append((t("k.overdue"), "", self.action_overdue))
        cmds.append((t("k.turns_yellow"), "", self.action_turns_yellow))
        cmds.append((t("k.clear"), "", self.action_clear_filters))
        cmds.append((t("k.detail"), "", self.action_toggle_detail))
        cmds.append((t("k.refresh"), "", self.action_reload))
        cmds.append(self.export_palette_command())
        for state in ("todo", "all", *APPEAL_STATES):
            label = t("filter.todo") if state == "todo" else (
                t("filter.all_states") if state == "all" else code_label("state", state))
            cmds.append((t("cmd.filter_state", label=label), "",
                         lambda s=state: self._set_select("f-state", s)))
        for code in CATEGORIES:
            cmds.append((t("cmd.filter_category", label=code_label("category", code)), "",
                         lambda c=code: self._set_select("f-category", c)))
        for code in CARDS:
            cmds.append((t("cmd.filter_card", label=code_label("card", code)), "",
                         lambda c=code: self._set_select("f-card", c)))
        for sort in SORTS:
            cmds.append((t("cmd.sort", label=t(f"sort.{sort}")), "", lambda s=sort: self.set_sort(s)))
        return cmds
