"""Leader instructions (领导批示).

* ``InstructionForm``: a leader writes an instruction about a project (project board) or an
  appeal (inbox) to a named user, chosen among the active users (those of the unit holding
  the project or appeal first); ``operations.issue_instruction`` queues the SMS at once.
* ``InstructionsScreen``: "instructions to me" for whoever was instructed (acknowledge 签收,
  reply 答复), a leader's own ("issued by me", open or answered), every instruction for the
  admin and the supervision office. Paged from SQLite like every list.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from taian_tui.read import instructions as instruction_reads
from taian_tui.domain import operations, rules
from taian_tui.console.messages import RecipientsFound
from taian_tui.console.strings import code_label, error_text, get_lang, labelled, t
from taian_tui.store import Store
from taian_tui.console.widgets import (KeysFooter, DetailPane, HeaderBar, cell, fit_columns, full_time, plain, set_columns,
                       short_date, visible)
from taian_tui.screens.forms import ActionForm, _label
from taian_tui.screens.paged import ListTable, PagedListScreen

STATUS_STYLE = {"new": "bold yellow", "acknowledged": "cyan", "answered": "green"}


# -- the leader's form -------------------------------------------------------------------------------
class InstructionForm(ActionForm):
    """领导批示 about one project or one appeal, to a named user.

    The person is chosen by typing part of a name, user name or unit: the matches (at most
    ``MATCHES``, read with LIMIT in a worker; the unit holding the project or appeal first)
    are listed, Enter or a click takes the highlighted one."""

    DONE_KEY = "done.instruct"
    CONFIRM_KEY = "confirm.instruct"
    MATCHES = 30

    BINDINGS = [
        Binding("down", "match(1)", "k.next_match", id="instruct.next_match", show=False),
        Binding("up", "match(-1)", "k.prev_match", id="instruct.prev_match", show=False),
    ]

    DEFAULT_CSS = """
    InstructionForm #target-list { height: 7; border: round $primary 40%; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    InstructionForm.-small #target-list { height: 5; }
    """

    def __init__(self, ref: str, *, project_ref: str | None = None, appeal_ref: str | None = None,
                 **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.project_ref = project_ref
        self.appeal_ref = appeal_ref
        self.matches: list[instruction_reads.Recipient] = []
        self.target: instruction_reads.Recipient | None = None
        self._generation = 0
        self._search_timer: Timer | None = None

    def title_text(self) -> str:
        key = "form.instruct.title_project" if self.project_ref else "form.instruct.title_appeal"
        return t(key, ref=visible(self.ref))

    def intro(self) -> Text | None:
        return Text(t("form.instruct.text"), end="")

    def fields(self) -> ComposeResult:
        yield _label("field.recipient")
        yield Input(id="target-search", placeholder=t("ph.recipient_search"))
        yield OptionList(id="target-list")
        yield Static(t("ins.no_target"), id="target-chosen", markup=False)
        yield _label("field.instruction")
        yield TextArea(id="text", soft_wrap=True)

    def on_mount(self) -> None:
        self._find("")

    # -- finding the person -------------------------------------------------------------------
    @on(Input.Changed, "#target-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.2, lambda: self._find(event.value))

    @on(Input.Submitted, "#target-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        lst = self.query_one("#target-list", OptionList)
        if lst.highlighted is not None and self.matches:
            self._choose(self.matches[lst.highlighted])
            self.query_one("#text", TextArea).focus()

    def _find(self, text: str) -> None:
        self._search_timer = None
        self._generation += 1
        self._read_matches(self._generation, text)

    def _read_matches(self, generation: int, text: str) -> None:
        self.run_in_store("instruction-recipients", lambda job: RecipientsFound(
            generation, instruction_reads.instruction_recipients(
                job.store, job.actor, project_ref=self.project_ref, appeal_ref=self.appeal_ref,
                text=text, limit=self.MATCHES)))

    def on_recipients_found(self, message: RecipientsFound) -> None:
        if message.generation != self._generation:
            return
        self.matches = message.matches
        lst = self.query_one("#target-list", OptionList)
        lst.clear_options()
        if not self.matches:
            lst.add_option(Option(Text(t("ins.no_match"), style="dim"), disabled=True))
            return
        lst.add_options([Option(self._prompt(r), id=r.username) for r in self.matches])
        lst.highlighted = 0

    def action_match(self, step: int) -> None:
        """Up/Down in the search field move through the matches."""
        lst = self.query_one("#target-list", OptionList)
        if self.matches:
            current = lst.highlighted if lst.highlighted is not None else -step
            lst.highlighted = max(0, min(len(self.matches) - 1, current + step))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "match":
            return self.focused is self.query_one("#target-search", Input)
        return True

    @staticmethod
    def _prompt(r: instruction_reads.Recipient, *, mark: bool = True) -> Text:
        prompt = Text(end="", no_wrap=True, overflow="ellipsis")
        if mark:
            prompt.append("★ " if r.relevant else "  ", style="bold yellow")
        prompt.append_text(plain(r.name, "bold"))
        # the phone the SMS goes to before the role and unit: one line each, cut at its end
        # on a narrow terminal (80 columns wrapped each person over two lines)
        prompt.append(f" {visible(r.username)} · ")
        prompt.append(t("ins.sms_to", mobile=visible(r.mobile)) if r.mobile else t("ins.no_mobile"),
                      style="" if r.mobile else "bold yellow")
        prompt.append(f" · {code_label('role', r.role)}")
        if r.unit:
            prompt.append(" · ")
            prompt.append_text(plain(r.unit))
        return prompt

    @on(OptionList.OptionSelected, "#target-list")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = next((r for r in self.matches if r.username == event.option.id), None)
        if chosen is not None:
            self._choose(chosen)
            self.query_one("#text", TextArea).focus()       # (what is typed next is the instruction)

    def _choose(self, recipient: instruction_reads.Recipient) -> None:
        self.target = recipient
        line = Text(t("ins.chosen") + " ", style="bold", end="")
        line.append_text(self._prompt(recipient, mark=False))
        self.query_one("#target-chosen", Static).update(line)

    # -- saving ---------------------------------------------------------------------------------
    def collect(self) -> dict:
        return {"target": self.target.username if self.target else None,
                "text": self.query_one("#text", TextArea).text}

    def check(self, values: dict):
        if not values["target"]:
            return t("err.choose", field=t("field.recipient")), "target-search"
        if not values["text"].strip():
            return t("err.required", field=t("field.instruction")), "text"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.issue_instruction(store, username, values["target"], values["text"],
                                   project_ref=self.project_ref, appeal_ref=self.appeal_ref)

    def done_text(self) -> str:
        name = self.target.name if self.target else ""
        return t("done.instruct", ref=visible(self.ref), target=visible(name))


class AcknowledgeForm(ActionForm):
    CONFIRM_KEY = "confirm.ack"
    TITLE_KEY = "form.ack.title"
    DONE_KEY = "done.ack"

    def __init__(self, ref: str, *, iid: int, text: str = "", **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.iid = iid
        self.text = text

    def intro(self) -> Text | None:
        out = Text(t("form.ack.text") + "\n\n", end="")
        out.append_text(plain(self.text, "italic", multiline=True))
        return out

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.acknowledge_instruction(store, username, self.iid)


class InstructionReplyForm(ActionForm):
    CONFIRM_KEY = "confirm.ins_reply"
    TITLE_KEY = "form.ins_reply.title"
    DONE_KEY = "done.ins_reply"

    def __init__(self, ref: str, *, iid: int, text: str = "", **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.iid = iid
        self.text = text

    def intro(self) -> Text | None:
        return plain(self.text, "italic", multiline=True)

    def fields(self) -> ComposeResult:
        yield _label("field.ins_reply")
        yield TextArea(id="reply", soft_wrap=True)

    def collect(self) -> dict:
        return {"reply": self.query_one("#reply", TextArea).text}

    def check(self, values: dict):
        if not values["reply"].strip():
            return t("err.required", field=t("field.ins_reply")), "reply"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.reply_instruction(store, username, self.iid, values["reply"])


# -- the lists -------------------------------------------------------------------------------------
def _subject(row: instruction_reads.InstructionRow) -> str:
    ref = row.project_ref or row.appeal_ref or ""
    kind = t("ins.project") if row.project_ref else t("ins.appeal")
    return f"{kind} {ref} {row.subject}"


def render_instruction(row: instruction_reads.InstructionRow) -> Text:
    out = Text(end="")
    status = row.status
    out.append(f" {code_label('instruction_status', status)} ", style=f"reverse {STATUS_STYLE[status]}")
    out.append("  ")
    out.append_text(plain(_subject(row), "bold"))
    out.append("\n")
    lines = [
        (t("ins.f.leader"), row.leader_name),
        (t("ins.f.target"), f"{row.target_name}" + (f" · {row.target_unit}" if row.target_unit else "")),
        (t("ins.f.created"), full_time(row.created_at)),
    ]
    if row.acknowledged_at:
        lines.append((t("ins.f.acknowledged"), full_time(row.acknowledged_at)))
    for label, value in lines:
        out.append(labelled(label, ""), style="bold")
        out.append_text(plain(value))
        out.append("\n")
    out.append("\n")
    out.append(f"── {t('ins.f.text')} ", style="bold")
    out.append("\n")
    out.append_text(plain(row.text, multiline=True))
    out.append("\n")
    if row.replied_at:
        out.append("\n")
        out.append(f"── {t('ins.f.reply')} · {full_time(row.replied_at)} ", style="bold")
        out.append("\n")
        out.append_text(plain(row.reply, multiline=True))
    return out


class InstructionsScreen(PagedListScreen):
    """领导批示: to me / issued by me / all, open or answered."""

    HELP_KEY = "help.instructions"
    TITLE_KEY = "ins.title"
    EMPTY_KEY = "ins.empty"
    DETAIL_EMPTY_KEY = "ins.detail_empty"

    BINDINGS = [
        Binding("a", "acknowledge", "k.acknowledge", id="ins.acknowledge"),
        Binding("r", "reply", "k.reply", id="ins.reply"),
        Binding("1", "view(0)", "k.view1", id="ins.view1", show=False),
        Binding("2", "view(1)", "k.view2", id="ins.view2", show=False),
        Binding("s", "cycle_state", "k.ins_state", id="ins.state"),
        Binding("d", "toggle_detail", "k.detail", id="ins.detail"),
        Binding("ctrl+r", "reload", "k.refresh", id="ins.refresh", show=False),
    ]

    DEFAULT_CSS = """
    InstructionsScreen #viewbar { height: 1; background: $panel; padding: 0 1; }
    InstructionsScreen #table { height: 1fr; }
    InstructionsScreen #detail { height: 45%; }
    InstructionsScreen #detail.-hidden { display: none; }
    InstructionsScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    STATES = instruction_reads.INSTRUCTION_STATES

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.views: tuple[str, ...] = ()
        self.view = "mine"
        self.state = "open"

    def compose(self) -> ComposeResult:
        self.views = instruction_reads.instruction_views(self.console.actor)
        self.view = self.views[0]
        yield HeaderBar()
        yield Static(id="viewbar", markup=False)
        yield ListTable(id="table")
        yield DetailPane(id="detail")
        yield Static(t("status.loading"), id="status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.detail_visible = True if self.app.size.height >= 24 else None
        self._update_viewbar()

    def _update_viewbar(self) -> None:
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        for i, view in enumerate(self.views, 1):
            style = "reverse bold" if view == self.view else ""
            label = t(f"ins.view.{view}")
            if view == self.view and self.total is not None:
                label += f" {self.total}"
            text.append(f" {i} {label} ", style=style)
            text.append("  ")
        text.append(" s ", style="bold")
        text.append(t(f"ins.state.{self.state}"))
        self.query_one("#viewbar", Static).update(text)

    def current_filter(self) -> instruction_reads.InstructionFilter:
        return instruction_reads.InstructionFilter(view=self.view, state=self.state)

    def fetch(self, store: Store, act: Any, flt: Any, limit: int, offset: int) -> list:
        return instruction_reads.list_instructions(store, act, flt, limit=limit, offset=offset)

    def count(self, store: Store, act: Any, flt: Any) -> int:
        return instruction_reads.count_instructions(store, act, flt)

    def fetch_detail(self, store: Store, act: Any, key: str) -> Any:
        return instruction_reads.instruction(store, act, int(key))

    def row_key(self, row: instruction_reads.InstructionRow) -> str:
        return str(row.id)

    def extra_loaded(self, extra: Any) -> None:
        pass

    def status_text(self) -> str:
        self._update_viewbar()
        return super().status_text()

    def show_detail(self, detail: Any) -> None:
        self.query_one("#detail-body", Static).update(render_instruction(detail))

    def show_detail_text(self, text: str) -> None:
        self.query_one("#detail", DetailPane).show_text(text)

    def fill_table(self, table: DataTable, rows: list) -> None:
        zh = get_lang() == "zh"
        specs = [("status", "icol.status", 6 if zh else 12), ("created", "icol.created", 5)]
        if self.view != "issued":
            specs.append(("leader", "icol.leader", 8))
        if self.view != "mine":
            specs += [("target", "icol.target", 8), ("unit", "icol.unit", -2)]
        specs += [("subject", "icol.subject", -4), ("text", "icol.text", -4)]
        if any(len(short_date(r.created_at)) > 5 for r in rows):
            specs[1] = ("created", "icol.created", 10)
        cols = fit_columns(max(self.app.size.width, 60) - 2, specs, drop=("unit", "text", "leader"))
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        for r in rows:
            values = {
                "status": lambda: Text(code_label("instruction_status", r.status), style=STATUS_STYLE[r.status],
                                       end=""),
                "created": lambda: cell(short_date(r.created_at), w["created"]),
                "leader": lambda: cell(r.leader_name, w.get("leader")),
                "target": lambda: cell(r.target_name, w.get("target")),
                "unit": lambda: cell(r.target_unit, w.get("unit")),
                "subject": lambda: cell(_subject(r), w["subject"]),
                "text": lambda: cell(r.text, w.get("text")),
            }
            table.add_row(*(values[k]() for k, _, _ in cols), key=str(r.id))

    # -- actions --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("acknowledge", "reply"):
            row = self.current_row()
            if self.view == "issued":
                return False
            if row is None:
                return None
            return None if self._refusal(action, row) is not None else True
        if action == "view":
            index = parameters[0] if parameters else 0
            return isinstance(index, int) and index < len(self.views) and len(self.views) > 1
        return True

    def action_view(self, index: int) -> None:
        if index < len(self.views) and self.views[index] != self.view:
            self.view = self.views[index]
            self.page = 0
            self.total = None
            self._update_viewbar()
            self.reload()
            self.refresh_bindings()

    def action_cycle_state(self) -> None:
        self.set_state(self.STATES[(self.STATES.index(self.state) + 1) % len(self.STATES)])

    def set_state(self, state: str) -> None:
        self.state = state
        self.page = 0
        self.total = None
        self._update_viewbar()
        self.reload()

    def _refusal(self, action: str, row: Any):
        return rules.instruction_refusal(action, self.console.username or "", row.id, row.target_user,
                                         row.acknowledged_at, row.replied_at)

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        row = self.current_row()
        if action not in ("acknowledge", "reply") or row is None or self.view == "issued":
            return None
        refused = self._refusal(action, row)
        key = "k.acknowledge" if action == "acknowledge" else "k.reply"
        return None if refused is None else labelled(t(key), error_text(refused))

    def action_acknowledge(self) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(AcknowledgeForm(_subject(row), iid=row.id, text=row.text,
                                             subject=t("ins.from", leader=visible(row.leader_name))),
                             self.form_closed)

    def action_reply(self) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.app.push_screen(InstructionReplyForm(_subject(row), iid=row.id, text=row.text,
                                                  subject=t("ins.from", leader=visible(row.leader_name))),
                             self.form_closed)

    def form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()
            self.reload_detail()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = []
        if self.check_action("acknowledge", ()):
            cmds.append((t("k.acknowledge"), "", self.action_acknowledge))
        if self.check_action("reply", ()):
            cmds.append((t("k.reply"), "", self.action_reply))
        for i, view in enumerate(self.views):
            cmds.append((t("cmd.ins_view", label=t(f"ins.view.{view}")), "",
                         lambda n=i: self.action_view(n)))
        for state in self.STATES:
            cmds.append((t("cmd.ins_state", label=t(f"ins.state.{state}")), "",
                         lambda s=state: self.set_state(s)))
        cmds.append((t("k.detail"), "", self.action_toggle_detail))
        cmds.append((t("k.refresh"), "", self.action_reload))
        return cmds
