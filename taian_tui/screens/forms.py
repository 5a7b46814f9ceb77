"""Modal forms for the domain actions. Each form validates what was typed before it saves;
the save runs in a worker thread on its own ``Store`` and calls one ``operations`` function as
the signed-in user. A refusal (``DomainError``) is shown inside the form, whose fields keep
what the user typed; nothing is lost on failure. A form is never refreshed by the live poll.

Nothing typed is lost: a form with text fields keeps a draft (``operations.keep_form_draft``,
the editor's table; key ``form:FORM:REF``) a second after each change; reopening the form on
the same appeal or project restores it (and says so); a save drops it. Esc with unsaved text
asks (keep the draft, throw it away, or 取消: stay, the default); Ctrl+Q asks too and keeps
the drafts of the forms left open.
"""
from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static, TextArea

from taian_tui.domain import operations, rules, timeutil
from taian_tui.console.app import InConsole
from taian_tui.console.messages import ActionSaved, DraftFound, FormFactsRead, OrderRangeRead, WorkFailed
from taian_tui.console.strings import code_label, t
from taian_tui.console.workers import Job, run_in_store, write_before_exit
from taian_tui.store import Store
from taian_tui.console.widgets import localise_bindings, plain, visible

MAX_DAYS = rules.MAX_EXTENSION_DAYS
MAX_ORDER_DAYS = rules.MAX_ORDER_DAYS


def _label(key: str, **kw: Any) -> Static:
    return Static(t(key, **kw), classes="field-label", markup=False)


class ActionForm(InConsole, ModalScreen[bool]):
    """Base of the action forms: title, the appeal it is about, fields, error line, buttons."""

    DEFAULT_CSS = """
    ActionForm { align: center middle; }
    ActionForm > #form {
        width: 90%; max-width: 96; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ActionForm .form-title { text-style: bold; color: $text-primary; }
    ActionForm .form-subject { color: $text-muted; }
    ActionForm .field-label { margin-top: 1; }
    ActionForm TextArea { height: 7; }
    ActionForm #form-error { color: $text-error; background: $error-muted; display: none; margin-top: 1; }
    ActionForm #form-error.-shown { display: block; }
    ActionForm #form-status { color: $text-muted; height: 1; margin-top: 1; }
    ActionForm .form-hint { color: $text-muted; }
    ActionForm #form-facts { margin-top: 1; }
    ActionForm #form-facts.-empty { display: none; }
    ActionForm .buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ActionForm .buttons Button { margin-left: 2; }
    ActionForm.-small TextArea { height: 4; }
    ActionForm.-small .field-label { margin-top: 0; }
    ActionForm.-small #form-status { margin-top: 0; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "k.cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "k.save", id="form.save", priority=True),
        # between the buttons (the text fields keep their own left and right)
        Binding("left", "button_step(-1)", show=False, id="form.button_left"),
        Binding("right", "button_step(1)", show=False, id="form.button_right"),
    ]

    TITLE_KEY: ClassVar[str] = ""
    DONE_KEY: ClassVar[str] = ""
    INTRO_KEY: ClassVar[str] = ""
    CONFIRM_KEY: ClassVar[str] = ""         # the confirm button's words (else 保存)

    def __init__(self, ref: str, *, subject: str = "", state: str | None = None,
                 **kw: Any) -> None:
        super().__init__()
        localise_bindings(self)
        self.ref = ref
        self.subject = subject
        self.state = state
        self.saving = False
        self.last_error: str | None = None
        self.initial: dict | None = None     # what the fields held when the form opened
        self.drafted: dict | None = None     # what the draft on disk holds
        self._draft_timer: Any = None
        self._draft_lock = threading.Lock()
        self._draft_seq = 0
        self._draft_written = 0

    # -- to override --------------------------------------------------------------------------
    def title_text(self) -> str:
        return t(self.TITLE_KEY, ref=visible(self.ref))

    def intro(self) -> Text | None:
        return Text(t(self.INTRO_KEY), end="") if self.INTRO_KEY else None

    def fields(self) -> ComposeResult:
        yield from ()

    def collect(self) -> dict:
        return {}

    def check(self, values: dict) -> tuple[str, str | None] | None:
        """``None`` when the values are fine, else ``(message, id of the field to focus)``."""
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        raise NotImplementedError

    def done_text(self) -> str:
        return t(self.DONE_KEY, ref=visible(self.ref))

    def confirm_label(self) -> str:
        """The confirm button's words: what it does (a form that only saves says 保存)."""
        return t(self.CONFIRM_KEY or "k.save")

    def confirm_changed(self) -> None:
        """The choice made so far changed what the confirm button does: its words, and the
        hint's, follow (an extension's decision: 批准延期 or 驳回延期)."""
        if self.is_mounted and not self.saving:
            self.query_one("#save", Button).label = self.confirm_label()
            self._set_status(t("form.hint", confirm=self.confirm_label()))
            # an error was about the choice made before (批准 refused; now 驳回): it goes
            self.last_error = None
            self.query_one("#form-error", Static).remove_class("-shown")

    def facts(self, store: Store, username: str) -> Text | None:
        """What the decision needs that the caller did not hand over, read in a worker when
        the form opens (the reply under review, the deadline an extension would give …)."""
        return None

    # -- the form ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(plain(self.title_text()), classes="form-title")
            subject = Text(end="")
            if self.subject:
                subject.append_text(plain(self.subject))
            if self.state:
                if subject:
                    subject.append("  ·  ")
                subject.append(t("form.state_now", state=code_label("state", self.state)))
            if subject:
                yield Static(subject, classes="form-subject")
            intro = self.intro()
            if intro is not None:
                yield Static(intro, classes="form-intro")
            yield Static("", id="form-facts", classes="-empty")
            yield from self.fields()
            yield Static("", id="form-error", markup=False)
            yield Static(t("form.hint", confirm=self.confirm_label()), id="form-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label(), id="save", variant="primary")
                yield Button(t("k.cancel"), id="cancel")

    def on_mount(self) -> None:
        if self.app.size.height < 30:
            self.add_class("-small")
        for widget in self.query("Input, TextArea, Select"):
            widget.focus()
            break
        else:
            self.query_one("#save", Button).focus()
        if type(self).facts is not ActionForm.facts:
            self.run_in_store("form-facts", lambda job: FormFactsRead(self.facts(job.store, job.username)))
        if self.keeps_drafts:
            self.initial = self.collect()
            key = self.draft_key
            self.run_in_store("form-draft-read", lambda job: DraftFound(
                operations.form_draft(job.store, job.username, key)))

    # -- drafts -----------------------------------------------------------------------------------
    @property
    def keeps_drafts(self) -> bool:
        """A form with something to type keeps a draft of it."""
        return bool(self.query("#form Input, #form TextArea"))

    @property
    def draft_key(self) -> str:
        return f"form:{type(self).__name__}:{self.ref}"

    def has_unsaved_changes(self) -> bool:
        if self.initial is None or self.saving or not self.is_mounted:
            return False
        try:
            return self.collect() != self.initial
        except Exception:
            return False

    def restore(self, values: dict) -> None:
        """Put a draft's values back into the fields of the same ids."""
        for name, value in values.items():
            try:
                widget = self.query_one(f"#{name}")
            except Exception:
                continue
            if isinstance(widget, TextArea):
                widget.load_text(str(value or ""))
                widget.move_cursor(widget.document.end)     # typing goes on after the draft
            elif isinstance(widget, Input):
                widget.value = str(value or "")
            elif isinstance(widget, Select) and value is not None:
                try:
                    widget.value = value
                except Exception:
                    pass

    def on_form_facts_read(self, message: FormFactsRead) -> None:
        message.stop()
        if message.text is not None:
            facts = self.query_one("#form-facts", Static)
            facts.update(message.text)
            facts.remove_class("-empty")

    def on_draft_found(self, message: DraftFound) -> None:
        message.stop()
        if not message.found:
            return
        values, saved_at = message.found
        if values == self.initial:
            return
        self.restore(values)
        self.drafted = dict(values)
        self._set_status(t("form.draft_restored", at=saved_at[5:16].replace("T", " ")))

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    def _typed(self, event: Any) -> None:
        if self.initial is None:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(1.0, self.keep_draft)

    def keep_draft(self) -> None:
        """Write what is typed now as the form's draft (in a worker; writes never reorder);
        nothing typed (or all of it taken back): no draft."""
        self._draft_timer = None
        if self.initial is None or self.saving or not self.is_mounted:
            return
        values = self.collect()
        if values == self.drafted:
            return
        self._draft_seq += 1
        seq, key, empty = self._draft_seq, self.draft_key, values == self.initial

        def write(job: Job) -> None:
            with self._draft_lock:
                if seq <= self._draft_written:
                    return None
                if empty:
                    operations.discard_form_draft(job.store, job.username, key)
                else:
                    operations.keep_form_draft(job.store, job.username, key, values)
                self._draft_written = seq
            self.drafted = None if empty else values
            return None
        self.run_in_store("form-draft", write, exclusive=False)

    def flush_autosave(self) -> None:
        """Keep the draft now, on the calling thread (the console is quitting)."""
        if not self.has_unsaved_changes():
            return
        values, key = self.collect(), self.draft_key
        with self._draft_lock:
            if write_before_exit(self.console, lambda store, user: operations.keep_form_draft(
                    store, user, key, values)):
                self._draft_seq += 1
                self._draft_written = self._draft_seq

    def _drop_draft(self, store: Store, username: str) -> None:
        with self._draft_lock:
            self._draft_seq += 1
            self._draft_written = self._draft_seq
            operations.discard_form_draft(store, username, self.draft_key)

    @on(Button.Pressed, "#save")
    def _pressed_save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _pressed_cancel(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.saving:
            return
        if not self.has_unsaved_changes():
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "keep":
                self.flush_autosave()
                self.dismiss(False)
            elif answer == "discard":
                # a worker of the app, not of this form: the form's own would be cancelled with
                # it as it closes, before its thread had run, and the draft kept (seen under load)
                run_in_store(self.app, "form-draft-drop", lambda job: self._drop_draft(job.store, job.username),
                             exclusive=False)
                self.dismiss(False)

        from taian_tui.screens.common import ChoiceScreen

        self.app.push_screen(ChoiceScreen(t("form.leave.title"), t("form.leave.text"),
                                          [("keep", t("form.leave.keep"), "primary"),
                                           ("discard", t("form.leave.discard"), "error"),
                                           ("stay", t("k.cancel"), "default")], default="stay"),
                             answered)

    def action_button_step(self, step: int) -> None:
        from taian_tui.screens.common import step_button_focus

        step_button_focus(self, step)

    def show_error(self, message: str) -> None:
        self.last_error = message
        error = self.query_one("#form-error", Static)
        error.update(plain(message, multiline=True))
        error.add_class("-shown")
        error.scroll_visible()

    def _set_status(self, text: str) -> None:
        self.query_one("#form-status", Static).update(plain(text))

    def action_save(self) -> None:
        self.after_typed(self._save_as_shown)

    def _save_as_shown(self) -> None:
        if self.saving or not self.is_attached:
            return
        values = self.collect()
        problem = self.check(values)
        if problem is not None:
            message, field = problem
            self.show_error(message)
            if field:
                try:
                    self.query_one(f"#{field}").focus()
                except Exception:
                    pass
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._set_status(t("form.saving"))
        self._save(values)

    def _save(self, values: dict) -> None:
        def save(job: Job) -> ActionSaved:
            self.perform(job.store, job.username, values)
            if self.initial is not None:
                self._drop_draft(job.store, job.username)     # stored: its draft is not needed
            return ActionSaved()
        self.run_in_store("form-save", save)

    def on_action_saved(self, message: ActionSaved) -> None:
        message.stop()
        self.saving = False
        self.app.notify(self.done_text(), markup=False)
        self.dismiss(True)

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.task != "form-save":
            return
        message.stop()
        self.saving = False
        self.query_one("#save", Button).disabled = False
        self._set_status(t("form.hint", confirm=self.confirm_label()))
        self.show_error(t("form.refused", msg=message.text))


# -- liaison actions ----------------------------------------------------------------------------
class AcceptForm(ActionForm):
    CONFIRM_KEY = "confirm.accept"
    TITLE_KEY = "form.accept.title"
    DONE_KEY = "done.accept"
    INTRO_KEY = "form.accept.text"

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.accept_appeal(store, username, self.ref)


class ReplyForm(ActionForm):
    CONFIRM_KEY = "confirm.reply"
    TITLE_KEY = "form.reply.title"
    DONE_KEY = "done.reply"

    def fields(self) -> ComposeResult:
        yield _label("field.reply")
        yield TextArea(id="reply", soft_wrap=True)

    def collect(self) -> dict:
        return {"reply": self.query_one("#reply", TextArea).text}

    def check(self, values: dict):
        if not values["reply"].strip():
            return t("err.required", field=t("field.reply")), "reply"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.reply_appeal(store, username, self.ref, values["reply"])


class ReturnForm(ActionForm):
    CONFIRM_KEY = "confirm.return"
    TITLE_KEY = "form.return.title"
    DONE_KEY = "done.return"
    INTRO_KEY = "form.return.text"

    def fields(self) -> ComposeResult:
        yield _label("field.reason")
        yield TextArea(id="reason", soft_wrap=True)

    def facts(self, store: Store, username: str) -> Text | None:
        appeal = store.appeal(self.ref)
        until = rules.return_until(store.calendar(), appeal.arrived_at)
        if until is None:
            return None
        return Text(t("facts.return_until", until=until[:10], days=rules.RETURN_WINDOW_DAYS), end="")

    def collect(self) -> dict:
        return {"reason": self.query_one("#reason", TextArea).text}

    def check(self, values: dict):
        if not values["reason"].strip():
            return t("err.required", field=t("field.reason")), "reason"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.return_appeal(store, username, self.ref, values["reason"])


def _parse_days(text: str, lo: int, hi: int) -> int | None:
    text = text.strip()
    if not re.fullmatch(r"\d{1,3}", text):
        return None
    n = int(text)
    return n if lo <= n <= hi else None


class ExtendForm(ActionForm):
    CONFIRM_KEY = "confirm.extend"
    TITLE_KEY = "form.extend.title"
    DONE_KEY = "done.extend"

    def fields(self) -> ComposeResult:
        yield _label("field.days")
        # the range as the placeholder (a number there read as a value already given); a minus
        # sign is kept, to be refused, not dropped (-3 became a request for 3 days)
        yield Input(id="days", placeholder=f"1–{MAX_DAYS}", restrict=r"-?\d*", max_length=3)
        yield _label("field.reason")
        yield TextArea(id="reason", soft_wrap=True)

    def collect(self) -> dict:
        return {"days": self.query_one("#days", Input).value,
                "reason": self.query_one("#reason", TextArea).text}

    def check(self, values: dict):
        if _parse_days(values["days"], 1, MAX_DAYS) is None:
            return t("err.days", lo=1, hi=MAX_DAYS), "days"
        if not values["reason"].strip():
            return t("err.required", field=t("field.reason")), "reason"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.request_extension(store, username, self.ref, int(values["days"]), values["reason"])


# -- admin -----------------------------------------------------------------------------------------
class ReassignForm(ActionForm):
    CONFIRM_KEY = "confirm.reassign"
    TITLE_KEY = "form.reassign.title"
    DONE_KEY = "done.reassign"

    def __init__(self, ref: str, *, units: list[tuple[str, str]], current_unit: str | None = None,
                 **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.units = units
        self.current_unit = current_unit

    @property
    def first(self) -> bool:
        """A first dispatch (分派: an appeal never with a unit), not a reassignment (改派)."""
        return self.state == "submitted"

    def title_text(self) -> str:
        return t("form.assign.title" if self.first else self.TITLE_KEY, ref=visible(self.ref))

    def confirm_label(self) -> str:
        return t("confirm.assign" if self.first else self.CONFIRM_KEY)

    def done_text(self) -> str:
        return t("done.assign" if self.first else self.DONE_KEY, ref=visible(self.ref))

    def fields(self) -> ComposeResult:
        yield _label("field.unit")
        options = [(plain(name), code) for code, name in self.units if code != self.current_unit]
        yield Select(options, id="unit", prompt=t("opt.choose"))
        yield _label("field.note_optional")
        yield Input(id="note")

    def collect(self) -> dict:
        value = self.query_one("#unit", Select).value
        return {"unit": None if value is Select.NULL else value,
                "note": self.query_one("#note", Input).value}

    def check(self, values: dict):
        if not values["unit"]:
            return t("err.choose", field=t("field.unit")), "unit"
        return None

    def facts(self, store: Store, username: str) -> Text | None:
        appeal = store.appeal(self.ref)
        if not appeal.return_reason:
            return None
        text = Text(t("facts.return_reason", at=(appeal.returned_at or "")[:16].replace("T", " ")) + " ",
                    style="bold", end="")
        text.append_text(plain(appeal.return_reason, multiline=True))
        return text

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.assign_appeal(store, username, self.ref, values["unit"], note=values["note"])


# -- supervisor ------------------------------------------------------------------------------------
_TIME = re.compile(r"(.*?)[ T](\d{1,2}):(\d{2})\s*")


def parse_due(text: str) -> str | None:
    """A day as an office types it (``timeutil.parse_day``: the end of that day), or that day
    and ``HH:MM``, as ISO; None if invalid."""
    text = (text or "").strip()
    m = _TIME.fullmatch(text)
    try:
        if m is None:
            return timeutil.end_of_day(timeutil.parse_day(text))
        day = timeutil.parse_day(m.group(1))
        hour, minute = int(m.group(2)), int(m.group(3))
        if (hour, minute) == (23, 59):
            # the end of the day, as a day alone gives it and as a due time shows (an order's
            # note edited under its unchanged due time kept 23:59:59, not 23:59:00)
            return timeutil.end_of_day(day)
        return timeutil.iso(f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00")
    except ValueError:
        return None


class OrderForm(ActionForm):
    """Open a supervision order on an appeal, or edit the open one (``order_id``)."""

    DONE_KEY = "done.order_open"

    def __init__(self, ref: str, *, order_id: int | None = None, due_at: str | None = None,
                 note: str = "", **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.order_id = order_id
        self.due_at = due_at
        self.note = note
        self.latest: str | None = None          # the latest due time the store takes (read on mount)

    def on_mount(self) -> None:
        # (ActionForm's on_mount runs too: Textual calls the handler of every class)
        def read(job: Job) -> OrderRangeRead:
            latest, warnings = operations.order_due_range(job.store)
            return OrderRangeRead(latest, estimated=bool(warnings))
        self.run_in_store("order-range", read)

    def on_order_range_read(self, message: OrderRangeRead) -> None:
        message.stop()
        self.latest = message.latest
        self.query_one("#due-range", Static).update(
            t("form.order.range", days=MAX_ORDER_DAYS, latest=message.latest[:10])
            + (t("detail.deadline_estimated") if message.estimated else ""))

    def title_text(self) -> str:
        if self.order_id:
            return t("form.order_edit.title", id=self.order_id, ref=visible(self.ref))
        return t("form.order_open.title", ref=visible(self.ref))

    def done_text(self) -> str:
        return t("done.order_edit" if self.order_id else "done.order_open", ref=visible(self.ref))

    def confirm_label(self) -> str:
        return t("confirm.order_edit" if self.order_id else "confirm.order_open")

    def fields(self) -> ComposeResult:
        yield _label("field.due")
        yield Static(t("form.order.range_words", days=MAX_ORDER_DAYS), id="due-range", classes="form-hint",
                     markup=False)
        due = timeutil.parse(self.due_at).format("YYYY-MM-DD HH:mm") if self.due_at else ""
        yield Input(due, id="due", placeholder="YYYY-MM-DD")
        yield _label("field.order_note")
        yield TextArea(self.note or "", id="note", soft_wrap=True)

    def collect(self) -> dict:
        return {"due": self.query_one("#due", Input).value,
                "note": self.query_one("#note", TextArea).text}

    def check(self, values: dict):
        due = parse_due(values["due"])
        if due is None:
            return t("err.date"), "due"
        if due <= timeutil.iso():
            return t("err.future"), "due"
        if self.latest is not None and due > self.latest:
            return t("err.order_far", days=MAX_ORDER_DAYS, latest=self.latest[:10]), "due"
        if not values["note"].strip():
            return t("err.required", field=t("field.order_note")), "note"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        due = parse_due(values["due"])
        if self.order_id:
            operations.edit_supervision_order(store, username, self.order_id, due_at=due,
                                            note=values["note"])
        else:
            operations.open_supervision_order(store, username, self.ref, due, values["note"])


class DecideExtensionForm(ActionForm):
    CONFIRM_KEY = "confirm.decide"
    TITLE_KEY = "form.decide.title"

    def __init__(self, ref: str, *, extension_id: int, days: int, reason: str,
                 approve: bool | None = None, **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.extension_id = extension_id
        self.days = days
        self.reason = reason
        self.approve = approve

    def title_text(self) -> str:
        return t("form.decide.title", id=self.extension_id, ref=visible(self.ref))

    def intro(self) -> Text | None:
        text = Text(t("form.decide.text", days=self.days) + " ", end="")
        text.append_text(plain(self.reason, multiline=True))
        return text

    def facts(self, store: Store, username: str) -> Text | None:
        appeal = store.appeal(self.ref)
        if not appeal.deadline:
            return None
        new, warnings = store.calendar().extend(appeal.deadline, self.days)
        return Text(t("facts.extension", old=appeal.deadline[:10], days=self.days, new=new[:10])
                    + (t("detail.deadline_estimated") if warnings or appeal.deadline_estimated else ""), end="")

    def done_text(self) -> str:
        approved = self._last_values.get("decision") == "approve" if hasattr(self, "_last_values") else True
        return t("done.approve" if approved else "done.reject", ref=visible(self.ref))

    def confirm_label(self) -> str:
        try:
            value = self.query_one("#decision", Select).value
        except Exception:
            value = "approve" if self.approve else "reject" if self.approve is False else None
        return t({"approve": "confirm.approve", "reject": "confirm.reject"}.get(value, self.CONFIRM_KEY))

    @on(Select.Changed, "#decision")
    def _decision_chosen(self, event: Select.Changed) -> None:
        self.confirm_changed()
        # the note: optional for an approval, required for a rejection (the store's rule)
        self.query_one("#note-label", Static).update(t(self._note_label(event.value)))

    @staticmethod
    def _note_label(decision: Any) -> str:
        return "field.note_reject" if decision == "reject" else "field.note_optional"

    def fields(self) -> ComposeResult:
        yield _label("field.decision")
        value = Select.NULL if self.approve is None else ("approve" if self.approve else "reject")
        yield Select([(t("opt.approve"), "approve"), (t("opt.reject"), "reject")], id="decision",
                     prompt=t("opt.choose"), value=value)
        yield Static(t(self._note_label(value)), classes="field-label", markup=False, id="note-label")
        yield Input(id="note")

    def collect(self) -> dict:
        value = self.query_one("#decision", Select).value
        values = {"decision": None if value is Select.NULL else value,
                  "note": self.query_one("#note", Input).value}
        self._last_values = values
        return values

    def check(self, values: dict):
        if not values["decision"]:
            return t("err.choose", field=t("field.decision")), "decision"
        if values["decision"] == "reject" and not values["note"].strip():
            return t("err.required", field=t("field.reject_reason")), "note"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.decide_extension(store, username, self.extension_id, values["decision"] == "approve",
                                  note=values["note"])


class ReviewDisputeForm(ActionForm):
    CONFIRM_KEY = "confirm.review"
    TITLE_KEY = "form.review.title"
    DONE_KEY = "done.review"

    def __init__(self, ref: str, *, rating: str | None = None, comment: str = "", **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.rating = rating
        self.comment = comment

    def intro(self) -> Text | None:
        from taian_tui.console.strings import code_label

        # the reply and the comment follow, read when the form opens (``facts``)
        return Text(t("form.review.text", rating=code_label("rating", self.rating or "")), end="")

    def facts(self, store: Store, username: str) -> Text | None:
        appeal = store.appeal(self.ref)
        # the calendar (an object in memory) for the order's due time, shown as the days change
        self._calendar = store.calendar()
        text = Text(t("facts.reply", at=(appeal.answered_at or "")[:16].replace("T", " ")) + "\n",
                    style="bold", end="")
        text.append_text(plain(appeal.reply or "—", multiline=True))
        text.append("\n")
        text.append(t("facts.evaluation", rating=code_label("rating", appeal.rating or "")) + " ", style="bold")
        text.append_text(plain(appeal.rating_comment or "—", multiline=True))
        return text

    def fields(self) -> ComposeResult:
        yield _label("field.fault")
        yield Select([(t("opt.at_fault"), "at_fault"), (t("opt.not_at_fault"), "not_at_fault")],
                     id="fault", prompt=t("opt.choose"))
        # the order's days: only for "unit at fault" (no order otherwise: hidden, out of the
        # Tab order)
        yield Static(t("field.order_days", hi=MAX_DAYS), classes="field-label -order", markup=False)
        yield Input("5", id="days", restrict=r"-?\d*", max_length=3, classes="-order")
        yield Static("", id="order-due", classes="form-hint", markup=False)
        yield _label("field.opinion")
        yield TextArea(id="note", soft_wrap=True)

    _calendar: Any = None

    def on_form_facts_read(self, message: FormFactsRead) -> None:
        super().on_form_facts_read(message)
        self._show_due()

    def confirm_label(self) -> str:
        try:
            value = self.query_one("#fault", Select).value
        except Exception:
            value = None
        return t({"at_fault": "confirm.order_open", "not_at_fault": "confirm.close_review"}.get(
            value, self.CONFIRM_KEY))

    @on(Input.Changed, "#days")
    @on(Select.Changed, "#fault")
    def _show_due(self, event: Any = None) -> None:
        """The supervision order a "unit at fault" opens: due at the end of the days' last
        working day from now (as ``operations.review_dispute`` counts them)."""
        if isinstance(event, Select.Changed):
            self.confirm_changed()
        line = self.query_one("#order-due", Static)
        fault = self.query_one("#fault", Select).value
        for widget in self.query(".-order"):
            widget.display = fault != "not_at_fault"
        days = _parse_days(self.query_one("#days", Input).value, 1, MAX_DAYS)
        if self._calendar is None or fault != "at_fault" or days is None:
            line.update("")
            return
        due, warnings = self._calendar.extend(timeutil.iso(), days)
        line.update(t("form.review.due", due=due[:10]) + (t("detail.deadline_estimated") if warnings else ""))

    def collect(self) -> dict:
        value = self.query_one("#fault", Select).value
        return {"fault": None if value is Select.NULL else value,
                "days": self.query_one("#days", Input).value,
                "note": self.query_one("#note", TextArea).text}

    def check(self, values: dict):
        if not values["fault"]:
            return t("err.choose", field=t("field.fault")), "fault"
        if values["fault"] == "at_fault" and _parse_days(values["days"], 1, MAX_DAYS) is None:
            return t("err.days", lo=1, hi=MAX_DAYS), "days"
        if not values["note"].strip():
            return t("err.required", field=t("field.opinion")), "note"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        at_fault = values["fault"] == "at_fault"
        days = int(values["days"]) if at_fault else 5
        operations.review_dispute(store, username, self.ref, at_fault, values["note"], days=days)


# -- discipline ------------------------------------------------------------------------------------
class TakeUpForm(ActionForm):
    CONFIRM_KEY = "confirm.take_up"
    TITLE_KEY = "form.takeup.title"
    DONE_KEY = "done.take_up"

    def fields(self) -> ComposeResult:
        yield _label("field.note_optional")
        yield TextArea(id="note", soft_wrap=True)

    def collect(self) -> dict:
        return {"note": self.query_one("#note", TextArea).text}

    def perform(self, store: Store, username: str, values: dict) -> None:
        operations.take_up_red_card(store, username, self.ref, values["note"])
