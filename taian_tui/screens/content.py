"""The policy editor (政策编辑) of the editor role and the admin.

* ``ContentScreen``: the content items a page at a time, filtered by kind, level, state and a
  search; publish, unpublish, archive, and choose the day's 每日一听 (daily listen) pick.
* ``EditorScreen``: title, kind, level, tags, source unit and a Markdown body in a
  ``TextArea`` beside its live rendered preview (``Markdown``). Ctrl+S saves (a new item as a
  draft), Ctrl+O saves and publishes a draft.

Nothing typed is lost: the form is autosaved (``operations.autosave_content_form``) a moment
after each change and every few seconds while it differs from what was saved; reopening the
item (or a new form) after a crash or a failed save offers to restore it
(``autosaved_content_form``); a successful save discards it (``discard_content_autosave``).
Leaving with unsaved changes asks first (Esc here; Ctrl+Q for the whole console).
"""
from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static, TextArea

from taian_tui.dataio import listen as listen_audio
from taian_tui.read import content as content_reads
from taian_tui.read import changes
from taian_tui.domain import timeutil, operations
from taian_tui.console.app import InConsole
from taian_tui.console.messages import (ActionSaved, Autosaved, AutosaveFound, ContentLoaded, ContentSaved,
                                        ListenProgressed, WorkFailed)
from taian_tui.console.strings import code_label, error_text, get_lang, labelled, t
from taian_tui.console.workers import Job, run_in_store, write_before_exit
from taian_tui.domain.models import CONTENT_KINDS, CONTENT_LEVELS, CONTENT_STATES
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.console.widgets import (KeysFooter, DetailPane, HeaderBar, cell, fit_columns, full_time, localise_bindings,
                       plain, set_columns, short_date, visible)
from taian_tui.screens.common import ChoiceScreen
from taian_tui.screens.forms import ActionForm, _label
from taian_tui.screens.paged import ListTable, PagedListScreen

FIELDS = ("title", "kind", "level", "tags", "source_unit", "body")
AUTOSAVE_DELAY = 1.0       # seconds after a change
AUTOSAVE_EVERY = 5.0       # seconds, while the form differs from what was autosaved
PREVIEW_DELAY = 0.25

STATE_STYLE = {"draft": "bold yellow", "published": "green", "archived": "dim"}


def item_key(item_id: int | None) -> str:
    """The autosave slot of a form: the content id, or ``new``."""
    return "new" if item_id is None else str(item_id)


def _fields_of(item: dict | None) -> dict[str, str]:
    """What the form holds for ``item``: a published item's pending revision when it has one."""
    if not item:
        return {"title": "", "kind": "policy", "level": "市", "tags": "", "source_unit": "",
                "body": ""}
    source = item.get("revision_draft") or item
    return {k: str(source.get(k) or "") for k in FIELDS}


# -- the editor --------------------------------------------------------------------------------------
class EditorScreen(InConsole, Screen):
    """One content item's form with a live Markdown preview."""

    HELP_KEY = "help.editor"
    TITLE_KEY = "editor.title"

    BINDINGS = [
        Binding("ctrl+s", "save", "k.save", id="editor.save", priority=True),
        # a published item: the same key saves a draft revision (the published text stays)
        Binding("ctrl+s", "save_revision", "k.save_revision", id="editor.save_revision", priority=True),
        Binding("ctrl+o", "publish", "k.save_publish", id="editor.publish", priority=True),
        Binding("ctrl+t", "toggle_preview", "k.preview", id="editor.preview", priority=True),
        Binding("escape", "leave", "k.leave", id="editor.leave"),
    ]

    DEFAULT_CSS = """
    EditorScreen #meta1, EditorScreen #meta2 { height: 1; padding: 0 1; }
    EditorScreen .meta-label { width: auto; padding: 0 1 0 0; }
    EditorScreen #title { width: 1fr; }
    EditorScreen #kind { width: 14; margin-right: 1; }
    EditorScreen #level { width: 10; margin-right: 1; }
    EditorScreen #tags { width: 1fr; margin-right: 1; }
    EditorScreen #source_unit { width: 1fr; }
    EditorScreen #panes { height: 1fr; }
    EditorScreen #body { width: 1fr; height: 1fr; border: round $primary 50%; }
    EditorScreen #body:focus { border: round $primary; }
    EditorScreen #preview-pane { width: 1fr; height: 1fr; border: round $secondary 50%;
                                 border-title-color: $text-muted; }
    EditorScreen #preview-pane.-hidden { display: none; }
    EditorScreen #preview { padding: 0 1; }
    EditorScreen #editor-status { height: 1; background: $panel; padding: 0 1; }
    EditorScreen #editor-status.-error { background: $error-muted; color: $text-error; }
    """

    def __init__(self, item: dict | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        localise_bindings(self)
        self.item = dict(item) if item else None
        self.baseline = _fields_of(self.item)        # what is stored
        self.autosaved = dict(self.baseline)         # what the autosave slot holds
        self.autosave_ready = False                  # not before the restore question is settled
        self.saving = False
        self.last_error: str | None = None
        self.autosaved_at: str | None = None
        self._seq = 0
        self._written_seq = 0
        self._lock = threading.Lock()
        self._autosave_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._leave_after_save = False

    @property
    def item_id(self) -> int | None:
        return self.item["id"] if self.item else None

    @property
    def revising(self) -> bool:
        """A published item: what is saved is a draft revision, published as a separate step."""
        return bool(self.item) and self.item["state"] == "published"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return not self.revising
        if action in ("save_revision",):
            return self.revising
        if action == "publish":
            return not self.revising
        return True

    def action_save_revision(self) -> None:
        self.action_save()

    @property
    def key(self) -> str:
        return item_key(self.item_id)

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        f = self.baseline
        yield HeaderBar()
        with Horizontal(id="meta1"):
            yield Static(t("editor.f.title"), classes="meta-label", markup=False)
            yield Input(f["title"], id="title", compact=True, placeholder=t("editor.ph.title"))
        with Horizontal(id="meta2"):
            yield Select([(code_label("content_kind", k), k) for k in CONTENT_KINDS], value=f["kind"],
                         allow_blank=False, compact=True, id="kind")
            yield Select([(code_label("content_level", lv), lv) for lv in CONTENT_LEVELS], value=f["level"],
                         allow_blank=False, compact=True, id="level")
            yield Static(t("editor.f.tags"), classes="meta-label", markup=False)
            yield Input(f["tags"], id="tags", compact=True, placeholder=t("editor.ph.tags"))
            yield Static(t("editor.f.source"), classes="meta-label", markup=False)
            yield Input(f["source_unit"], id="source_unit", compact=True)
        with Horizontal(id="panes"):
            body = TextArea(f["body"], id="body", soft_wrap=True)
            body.border_title = t("editor.body")
            yield body
            with VerticalScroll(id="preview-pane") as pane:
                pane.border_title = t("editor.preview")
                pane.can_focus = False
                from textual.widgets import Markdown
                yield Markdown(visible(f["body"], multiline=True), id="preview", open_links=False)
        yield Static(id="editor-status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        (self.query_one("#title", Input) if not self.item else self.query_one("#body", TextArea)).focus()
        self.update_status()
        self.set_interval(AUTOSAVE_EVERY, self._autosave_tick)
        self._look_for_autosave()

    # -- the fields -----------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        out = {}
        for name in FIELDS:
            widget = self.query_one(f"#{name}")
            if isinstance(widget, TextArea):
                out[name] = widget.text
            elif isinstance(widget, Select):
                out[name] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                out[name] = widget.value
        return out

    def set_values(self, values: dict) -> None:
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for name in FIELDS:
                if name not in values:
                    continue
                widget = self.query_one(f"#{name}")
                value = str(values[name] or "")
                if isinstance(widget, TextArea):
                    widget.load_text(value)
                elif isinstance(widget, Select):
                    if value in (CONTENT_KINDS if name == "kind" else CONTENT_LEVELS):
                        widget.value = value
                else:
                    widget.value = value
        self._update_preview()
        self._changed()

    def has_unsaved_changes(self) -> bool:
        try:
            return self.values() != self.baseline
        except Exception:
            return False

    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        if isinstance(event, TextArea.Changed):
            if self._preview_timer is not None:
                self._preview_timer.stop()
            self._preview_timer = self.set_timer(PREVIEW_DELAY, self._update_preview)
        self._changed()

    def _changed(self) -> None:
        self.last_error = None
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_DELAY, self.autosave_now)
        self.update_status()

    def _update_preview(self) -> None:
        self._preview_timer = None
        self.query_one("#preview").update(visible(self.query_one("#body", TextArea).text, multiline=True))

    def update_status(self) -> None:
        status = self.query_one("#editor-status", Static)
        status.set_class(bool(self.last_error), "-error")
        if self.last_error:
            status.update(plain(t("editor.save_failed", msg=self.last_error)))
            return
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        if self.item:
            state = self.item["state"]
            text.append(f"#{self.item['id']} ", style="bold")
            text.append(code_label("content_state", state), style=STATE_STYLE.get(state, ""))
            if self.revising:
                text.append(" · ")
                text.append(t("editor.revision_pending") if self.item.get("revision_draft")
                            else t("editor.revision_hint"), style="bold cyan")
        else:
            text.append(t("editor.new"), style="bold")
        if self.saving:
            text.append(" · " + t("form.saving"))
        elif self.has_unsaved_changes():
            text.append(" · ")
            text.append(t("editor.unsaved"), style="bold yellow")
        elif self.item:
            text.append(" · " + t("editor.saved"))      # (a new item, nothing typed: nothing saved)
        if self.autosaved_at and self.has_unsaved_changes():
            text.append(" · " + t("editor.autosaved", at=self.autosaved_at[11:19]), style="dim")
        status.update(text)

    # -- autosave -------------------------------------------------------------------------------
    def _autosave_tick(self) -> None:
        if self.autosave_ready and not self.saving and self.values() != self.autosaved:
            self.autosave_now()

    def autosave_now(self) -> None:
        """Keep what is typed now in the autosave slot (in a worker; writes never reorder)."""
        self._autosave_timer = None
        if not self.autosave_ready or not self.is_mounted:
            return
        values = self.values()
        if values == self.autosaved:
            return
        self._seq += 1
        self._autosave(self._seq, self.key, values, discard=values == self.baseline)

    def _autosave(self, seq: int, key: str, values: dict | None, discard: bool = False) -> None:
        """Write (or, with ``discard``, delete) the autosave ``seq``, unless a later one was
        already written: the lock and the sequence keep the writes in order."""
        def write(job: Job) -> Autosaved | None:
            at = timeutil.iso()
            error = ""
            with self._lock:
                if seq <= self._written_seq:
                    return None
                try:
                    if discard:
                        operations.discard_content_autosave(job.store, job.username, key)
                    else:
                        operations.autosave_content_form(job.store, job.username, key, values)
                    self._written_seq = seq
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
            return None if values is None else Autosaved(seq, values, at, error)
        if values is None:
            # a discard as the editor closes: a worker of the app (the editor's own would be
            # cancelled with it, before its thread had run, and the autosave kept)
            run_in_store(self.app, "editor-autosave-drop", write, exclusive=False)
        else:
            self.run_in_store("editor-autosave", write, exclusive=False)

    def on_autosaved(self, message: Autosaved) -> None:
        if message.error:
            self.app.notify(t("editor.autosave_failed", msg=message.error), severity="warning",
                            markup=False)
            return
        if message.seq >= self._written_seq:
            self.autosaved = dict(message.values)
            self.autosaved_at = None if message.values == self.baseline else message.at
            self.update_status()

    def flush_autosave(self) -> None:
        """Write the autosave now, on the calling thread (before the console quits)."""
        if not self.autosave_ready or not self.has_unsaved_changes():
            return
        values, key = self.values(), self.key
        with self._lock:
            if write_before_exit(self.console, lambda store, user: operations.autosave_content_form(
                    store, user, key, values)):
                self._seq += 1
                self._written_seq = max(self._written_seq, self._seq)
                self.autosaved = values

    def _look_for_autosave(self) -> None:
        self.run_in_store("editor-restore", lambda job: AutosaveFound(
            operations.autosaved_content_form(job.store, job.username, self.key)))

    def on_autosave_found(self, message: AutosaveFound) -> None:
        found = message.found
        if not found:
            self.autosave_ready = True
            return
        fields, saved_at = found
        fields = {k: str(fields.get(k, self.baseline[k]) or "") for k in FIELDS}
        if fields == self.baseline:
            self.autosave_ready = True
            self._discard_autosave()
            return
        text = Text(t("editor.restore.text", at=full_time(saved_at)) + "\n\n", end="")
        text.append(t("editor.f.title") + " ", style="bold")
        text.append_text(plain(fields.get("title") or "—"))
        first = next((line for line in fields.get("body", "").splitlines() if line.strip()), "")
        if first:
            text.append("\n")
            text.append_text(plain(first, "italic"))

        def answered(answer: str | None) -> None:
            if answer == "restore":
                self.set_values(fields)
                self.autosaved = dict(fields)
                self.autosaved_at = saved_at
                self.app.notify(t("editor.restored"), markup=False)
            else:
                self._discard_autosave()
            self.autosave_ready = True
            self.update_status()

        self.app.push_screen(ChoiceScreen(t("editor.restore.title"), text,
                                          [("restore", t("editor.restore.yes"), "primary"),
                                           ("discard", t("editor.restore.no"), "default")]),
                             answered)

    def _discard_autosave(self) -> None:
        """Delete this form's autosave (the user chose to throw it away)."""
        self._seq += 1
        self.autosaved = dict(self.baseline)
        self.autosaved_at = None
        self._autosave(self._seq, self.key, None, discard=True)

    # -- saving ---------------------------------------------------------------------------------
    def check(self, values: dict) -> tuple[str, str] | None:
        if not values["title"].strip():
            return t("err.required", field=t("editor.f.title")), "title"
        return None

    def action_save(self, publish: bool = False) -> None:
        self.after_typed(lambda: self._save_as_shown(publish))

    def _save_as_shown(self, publish: bool = False) -> None:
        if self.saving or not self.is_attached:
            return
        values = self.values()
        problem = self.check(values)
        if problem is not None:
            message, field = problem
            self.last_error = message
            self.update_status()
            self.query_one(f"#{field}").focus()
            return
        self.saving = True
        self.last_error = None
        self.update_status()
        self._seq += 1
        self._save(values, publish, self._seq, self.key)

    def action_publish(self) -> None:
        if self.item and self.item["state"] != "draft":
            if self.item["state"] == "published":
                self.action_save()
            else:
                self.last_error = t("editor.archived")
                self.update_status()
            return
        self.action_save(publish=True)

    def _save(self, values: dict, publish: bool, seq: int, old_key: str) -> None:
        def save(job: Job) -> ContentSaved:
            user = job.username
            fields = {k: values[k] for k in FIELDS}
            if self.item_id is None:
                cid = operations.draft_content(job.store, user, **fields).id
            elif self.revising:
                cid = self.item_id
                operations.save_content_revision(job.store, user, cid, **fields)
            else:
                cid = operations.update_content(job.store, user, self.item_id, **fields).id
            item = content_reads.content_item(job.store, cid)
            # the typed text is stored: its autosave is no longer needed
            with self._lock:
                operations.discard_content_autosave(job.store, user, old_key)
                self._written_seq = max(self._written_seq, seq)
            if publish and item["state"] == "draft":
                try:
                    operations.publish_content(job.store, user, cid)
                except DomainError as exc:         # saved, but not published: the item exists now
                    return ContentSaved(item, False, error_text(exc))
                item = content_reads.content_item(job.store, cid)
            return ContentSaved(item, publish)
        self.run_in_store("editor-save", save)

    def on_content_saved(self, message: ContentSaved) -> None:
        if message.error:
            self._save_failed(message.error, message.item)
            return
        self.saving = False
        self.item = message.item
        saved = _fields_of(self.item)
        self.baseline = saved
        self.autosaved = dict(saved)
        self.autosaved_at = None
        current = self.values()
        if current != saved:
            # the store normalised something (trimmed spaces...): show what was stored
            self.set_values(saved)
        done = ("editor.done_published" if message.published else
                "editor.done_revision" if self.revising and self.item.get("revision_draft") else
                "editor.done_saved")
        self.app.notify(t(done, title=visible(self.item["title"])), markup=False)
        self.update_status()
        # a draft published here is a published item now: Ctrl+S saves a revision, Ctrl+O is
        # not offered (the footer showed 保存并发布, and the key did nothing)
        self.refresh_bindings()
        self.console.data_changed()
        if self._leave_after_save:
            self.dismiss(True)

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.task == "editor-save":
            message.stop()
            self._save_failed(message.text, None)
        elif message.task == "editor-restore":
            message.stop()
            self.autosave_ready = True          # no autosave could be read: carry on without

    def _save_failed(self, error: str, item: dict | None) -> None:
        self.saving = False
        self._leave_after_save = False
        if item is not None:
            # saved, but the publish was refused: the item exists now
            self.item = item
            self.baseline = _fields_of(self.item)
            self.console.data_changed()
        self.last_error = error
        self.update_status()
        # keep what was typed in the autosave slot too
        self.autosaved = {}
        self.autosave_now()

    # -- leaving --------------------------------------------------------------------------------
    def action_leave(self) -> None:
        if self.saving:
            return
        if not self.has_unsaved_changes():
            self._discard_if_stale()
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "save":
                self._leave_after_save = True
                self._save_as_shown()       # (an answer of a dialog: no key waits behind it)
                if not self.saving:
                    self._leave_after_save = False
            elif answer == "discard":
                self._discard_autosave()
                self.dismiss(False)

        # 取消 (stay) has the focus: Enter on a reflex keeps the form open and saves nothing
        save = t("editor.leave.save_revision") if self.revising else t("editor.leave.save")
        self.app.push_screen(ChoiceScreen(t("editor.leave.title"), t("editor.leave.text"),
                                          [("save", save, "primary"),
                                           ("discard", t("editor.leave.discard"), "error"),
                                           ("stay", t("editor.leave.stay"), "default")], default="stay"),
                             answered)

    def _discard_if_stale(self) -> None:
        if self.autosave_ready and self.autosaved != self.baseline:
            self._discard_autosave()

    def action_toggle_preview(self) -> None:
        pane = self.query_one("#preview-pane")
        pane.set_class(not pane.has_class("-hidden"), "-hidden")

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = [(t("k.save_revision" if self.revising else "k.save"), "",
                                             self.action_save)]
        if not self.item or self.item["state"] == "draft":
            cmds.append((t("k.save_publish"), "", self.action_publish))
        cmds.append((t("k.preview"), "", self.action_toggle_preview))
        cmds.append((t("k.leave"), "", self.action_leave))
        return cmds


# -- the content list --------------------------------------------------------------------------------
def render_content(item: dict) -> Text:
    """The item's header: number, state, title, fields, times, its 每日一听 days and its
    pending revision (the body is shown below it as Markdown, ``ContentDetail``)."""
    out = Text(end="")
    out.append(f"#{item['id']} ", style="bold")
    out.append(f" {code_label('content_state', item['state'])} ", style=f"reverse {STATE_STYLE.get(item['state'], '')}")
    out.append("  ")
    out.append_text(plain(item["title"], "bold"))
    out.append("\n")
    parts = [(t("editor.f.kind"), code_label("content_kind", item["kind"])),
             (t("editor.f.level"), code_label("content_level", item["level"])),
             (t("editor.f.tags"), item.get("tags") or "—"),
             (t("editor.f.source"), item.get("source_unit") or "—")]
    for i, (label, value) in enumerate(parts):
        if i:
            out.append(" · ")
        out.append(labelled(label, ""), style="bold")
        out.append_text(plain(value))
    out.append("\n")
    out.append(t("editor.updated", at=full_time(item["updated_at"]),
                 by=visible(item.get("created_by_name") or item["created_by"])),
               style="dim")
    if item.get("published_at"):
        out.append(" · " + t("editor.published_at", at=full_time(item["published_at"])), style="dim")
    if item.get("listen_days"):
        out.append("\n♪ ", style="bold magenta")
        out.append(labelled(t("content.listen_days"), "、".join(item["listen_days"])))
    revision = item.get("revision_draft")
    if revision:
        out.append("\n")
        out.append(t("content.revision_of", by=visible(revision["saved_by"]), at=full_time(revision["saved_at"])),
                   style="bold cyan")
        out.append(" ")
        out.append_text(plain(revision["title"]))
    return out


class ContentDetail(DetailPane):
    """The selected item: its header, then its body rendered as Markdown: Rich's renderable
    in one widget (Textual's ``Markdown`` widget mounted a widget per block, after the page,
    and laid the screen out again for each batch: a third of the editor's first visit)."""

    def compose(self) -> ComposeResult:
        yield Static(t("content.detail_empty"), id="detail-body", markup=False)
        yield Static("", id="detail-md", markup=False)

    _shown_body: str | None = None

    def show_item(self, item: dict) -> None:
        self.query_one("#detail-body", Static).update(render_content(item))
        self._show_body(visible(item.get("body") or t("detail.none"), multiline=True))

    def show_text(self, text: str) -> None:
        super().show_text(text)
        self._show_body("")

    def _show_body(self, body: str) -> None:
        # the same body again (a live refresh, a re-read after an action): not re-rendered
        if body != self._shown_body:
            self._shown_body = body
            from rich.markdown import Markdown as RichMarkdown     # (imported by the detail's read)
            self.query_one("#detail-md", Static).update(RichMarkdown(body, hyperlinks=False) if body else "")


def _seconds(value: float | None) -> str:
    whole = int(round(value or 0))
    return f"{whole // 60}:{whole % 60:02d}"


class ContentScreen(PagedListScreen):
    """政策编辑: the content items, paged, with their actions."""

    READS = changes.CONTENT

    HELP_KEY = "help.content"
    TITLE_KEY = "content.title"
    EMPTY_KEY = "content.empty"
    DETAIL_EMPTY_KEY = "content.detail_empty"

    BINDINGS = [
        Binding("n", "new", "k.new", id="content.new"),
        Binding("e", "edit", "k.edit", id="content.edit"),
        Binding("p", "publish", "k.publish", id="content.publish"),
        Binding("u", "unpublish", "k.unpublish", id="content.unpublish"),
        Binding("x", "archive", "k.archive", id="content.archive"),
        Binding("l", "listen", "k.listen", id="content.listen"),
        Binding("b", "build_listen", "k.build_listen", id="content.build_listen"),
        Binding("slash", "search", "k.search", id="content.search", show=False),
        Binding("d", "toggle_detail", "k.detail", id="content.detail", show=False),
        Binding("c", "clear_filters", "k.clear", id="content.clear", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="content.refresh", show=False),
        Binding("escape", "focus_table", "k.back", id="content.back", show=False),
    ]

    DEFAULT_CSS = """
    ContentScreen #listenbar { height: 1; background: $panel; padding: 0 1; }
    ContentScreen #filters { height: 1; }
    ContentScreen #filters Select { width: 14; margin-right: 1; }
    ContentScreen #filters Input { width: 1fr; min-width: 12; }
    ContentScreen #table { height: 1fr; }
    ContentScreen #detail { height: 40%; }
    ContentScreen #detail.-hidden { display: none; }
    ContentScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._search_timer: Timer | None = None
        self._told_autosaves = False

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static(id="listenbar", markup=False)
        with Horizontal(id="filters"):
            yield Select([(t("cf.all_kinds"), "all")] + [(code_label("content_kind", k), k) for k in CONTENT_KINDS],
                         value="all", allow_blank=False, compact=True, id="cf-kind")
            yield Select([(t("cf.all_levels"), "all")] + [(code_label("content_level", lv), lv) for lv in CONTENT_LEVELS],
                         value="all", allow_blank=False, compact=True, id="cf-level")
            yield Select([(t("cf.all_states"), "all")] + [(code_label("content_state", s), s) for s in CONTENT_STATES],
                         value="all", allow_blank=False, compact=True, id="cf-state")
            yield Input(placeholder=t("cf.search"), id="cf-search", compact=True)
        yield ListTable(id="table")
        yield ContentDetail(id="detail")
        yield Static(t("status.loading"), id="status", markup=False)
        yield KeysFooter(compact=True)

    # -- filter ---------------------------------------------------------------------------------
    def _select(self, id_: str) -> str | None:
        try:
            value = self.query_one(f"#{id_}", Select).value
        except Exception:
            return None
        return None if value in (Select.NULL, "all") else str(value)

    def current_filter(self) -> content_reads.ContentFilter:
        try:
            text = self.query_one("#cf-search", Input).value.strip()
        except Exception:
            text = ""
        return content_reads.ContentFilter(kind=self._select("cf-kind"), level=self._select("cf-level"),
                                      state=self._select("cf-state"), text=text or None)

    @on(Select.Changed)
    def _filter_select(self, event: Select.Changed) -> None:
        self.filter_chosen(event)

    @on(Input.Changed, "#cf-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.3, self.filter_changed)

    @on(Input.Submitted, "#cf-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.filter_changed()
        self.table.focus()

    def action_search(self) -> None:
        self.query_one("#cf-search", Input).focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed, Input.Changed):
            for id_ in ("cf-kind", "cf-level", "cf-state"):
                self.query_one(f"#{id_}", Select).value = "all"
            self.query_one("#cf-search", Input).value = ""
        self.filter_changed()

    # -- reading --------------------------------------------------------------------------------
    def fetch(self, store: Store, act: Any, flt: Any, limit: int, offset: int) -> list:
        return content_reads.list_content(store, act.username, flt, limit=limit, offset=offset)

    def count(self, store: Store, act: Any, flt: Any) -> int:
        return content_reads.count_content(store, flt)

    def fetch_extra(self, store: Store, act: Any, flt: Any) -> Any:
        return content_reads.upcoming_listens(store, limit=4), content_reads.autosaves(store, act.username)

    def fetch_detail(self, store: Store, act: Any, key: str) -> Any:
        # Markdown (markdown-it, Pygments: 3 MB) is imported by the first detail read, in its
        # thread, not with the module: a console whose user never opens the content list
        # (its warm-up imports this module) does not hold it
        import rich.markdown  # noqa: F401
        return content_reads.content_item(store, int(key))

    def row_key(self, row: content_reads.ContentRow) -> str:
        return str(row.id)

    def show_detail(self, detail: Any) -> None:
        self.query_one("#detail", ContentDetail).show_item(detail)

    def show_detail_text(self, text: str) -> None:
        self.query_one("#detail", DetailPane).show_text(text)

    def _listen_bar(self, picks: list, saves: list, title_chars: int) -> Text:
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        text.append(t("content.listen_days") + " ", style="bold")
        if not picks:
            text.append(t("content.listen_none_ahead"), style="bold yellow")
        for i, pick in enumerate(picks):
            if i:
                text.append(" · ")
            text.append(pick.date[5:] + " ", style="bold")
            text.append_text(plain(f"#{pick.content_id}" + (" " if title_chars else "")))
            if title_chars:
                text.append_text(plain(pick.title[:title_chars] + ("…" if len(pick.title) > title_chars else "")))
            if pick.built:
                text.append(f" ♪{_seconds(pick.audio_seconds)}", style="bold magenta")
            else:
                text.append(" (" + t("content.listen_unbuilt") + ")", style="yellow")
        if saves:
            text.append("  │  ")
            text.append(t("content.autosaves", n=len(saves)), style="bold yellow")
        return text

    def extra_loaded(self, extra: Any) -> None:
        picks, saves = extra
        # every day picked on the line: the titles shorter, then none, before anything is cut
        # (at 80 columns a second day's pick was cut away after a dangling "·")
        room = self.app.size.width - 2
        for title_chars in (18, 10, 6, 0):
            text = self._listen_bar(picks, saves, title_chars)
            if text.cell_len <= room:
                break
        self.query_one("#listenbar", Static).update(text)
        if not self._told_autosaves:
            # once, when the list first opens (not while the user is in the editor)
            self._told_autosaves = True
            if saves and self.app.screen is self:
                self.app.notify(t("content.autosaves_hint", n=len(saves)), markup=False, timeout=8)

    def fill_table(self, table: DataTable, rows: list) -> None:
        zh = get_lang() == "zh"
        specs = [("mark", "ccol.mark", 3), ("id", "ccol.id", 4),
                 ("state", "ccol.state", 6 if zh else 9), ("kind", "ccol.kind", 8 if zh else 11),
                 ("level", "ccol.level", 4 if zh else 10), ("title", "ccol.title", -5),
                 ("tags", "ccol.tags", -2), ("source", "ccol.source", -2),
                 ("updated", "ccol.updated", 5)]
        if any(len(short_date(r.updated_at)) > 5 for r in rows):
            specs[-1] = ("updated", "ccol.updated", 10)
        cols = fit_columns(max(self.app.size.width, 60) - 2, specs,
                           drop=("source", "tags", "id", "level"))
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        for r in rows:
            mark = Text(end="")
            if r.listen_today:
                mark.append("♪", style="bold magenta")
            if r.autosaved:
                mark.append("✎", style="bold yellow")
            if r.revision_pending:
                mark.append("↻", style="bold cyan")
            values = {
                "mark": mark,
                "id": Text(str(r.id), justify="right", end=""),
                "state": Text(code_label("content_state", r.state), style=STATE_STYLE.get(r.state, ""), end=""),
                "kind": cell(code_label("content_kind", r.kind), w.get("kind")),
                "level": cell(code_label("content_level", r.level), w.get("level")),
                "title": cell(r.title, w["title"]),
                "tags": cell(r.tags, w.get("tags")),
                "source": cell(r.source_unit, w.get("source")),
                "updated": cell(short_date(r.updated_at), w["updated"]),
            }
            table.add_row(*(values[k] for k, _, _ in cols), key=str(r.id))

    # -- actions --------------------------------------------------------------------------------
    STATES_FOR = {"publish": ("draft",), "unpublish": ("published",),
                  "archive": ("draft", "published"), "listen": ("published",),
                  "edit": ("draft", "published")}

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        row = self.current_row()
        if action not in self.STATES_FOR or row is None or action == "edit":
            return None
        allowed = "、".join(code_label("content_state", st) for st in self.STATES_FOR[action]) if get_lang() == "zh" \
            else ", ".join(code_label("content_state", st) for st in self.STATES_FOR[action])
        return t("content.why_not", action=t(f"k.{action}"), state=code_label("content_state", row.state),
                 allowed=allowed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.STATES_FOR:
            row = self.current_row()
            if row is None:
                return None
            if action == "publish" and row.state == "published" and row.revision_pending:
                return True                  # p publishes the pending revision
            return True if row.state in self.STATES_FOR[action] else None
        return True

    def row_chosen(self) -> None:
        if self.check_action("edit", ()):
            self.action_edit()

    def action_new(self) -> None:
        self.app.push_screen(EditorScreen(None), self.form_closed)

    def action_edit(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.run_in_store("content-open", lambda job: ContentLoaded(
            "edit", content_reads.content_item(job.store, row.id)))

    def on_content_loaded(self, message: ContentLoaded) -> None:
        item = message.item
        if message.purpose != "edit":
            # publish, publish a revision, unpublish, archive: the form says what it changes
            op = message.purpose
            if op == "publish" and item["state"] == "published":
                op = "publish_revision"
            self.app.push_screen(ContentActionForm(f"#{item['id']}", op=op, cid=item["id"], subject=item["title"],
                                                   item=item), self.form_closed)
            return
        if item["state"] == "archived":
            self.app.notify(t("editor.archived"), markup=False)
            return
        self.app.push_screen(EditorScreen(item), self.form_closed)

    def _transition(self, op: str) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        self.run_in_store("content-open", lambda job: ContentLoaded(
            op, content_reads.content_item(job.store, row.id)))

    def action_publish(self) -> None:
        self._transition("publish")

    def action_unpublish(self) -> None:
        self._transition("unpublish")

    def action_archive(self) -> None:
        self._transition("archive")

    def action_listen(self) -> None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
            return
        picks = self.extra[0] if isinstance(self.extra, tuple) else []
        self.app.push_screen(DailyListenForm(f"#{row.id}", cid=row.id, subject=row.title, picks=picks),
                             self.form_closed)

    def action_build_listen(self) -> None:
        picks = self.extra[0] if isinstance(self.extra, tuple) else []
        self.app.push_screen(ListenBuildForm("", picks=picks), self.form_closed)

    def form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()
            self.reload_detail()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = [(t("k.new"), t("cmd.new_content"), self.action_new)]
        for action, key in (("edit", "k.edit"), ("publish", "k.publish"), ("unpublish", "k.unpublish"),
                            ("archive", "k.archive"), ("listen", "k.listen")):
            if self.check_action(action, ()):
                cmds.append((f"{t(key)} #{self.current_key()}", "", getattr(self, f"action_{action}")))
        for state in CONTENT_STATES:
            cmds.append((t("cmd.filter_content_state", label=code_label("content_state", state)), "",
                         lambda s=state: setattr(self.query_one("#cf-state", Select), "value", s)))
        for kind in CONTENT_KINDS:
            cmds.append((t("cmd.filter_content_kind", label=code_label("content_kind", kind)), "",
                         lambda k=kind: setattr(self.query_one("#cf-kind", Select), "value", k)))
        cmds.append((t("form.build.title"), "", self.action_build_listen))
        cmds.append((t("k.search"), "", self.action_search))
        cmds.append((t("k.clear"), "", self.action_clear_filters))
        cmds.append((t("k.detail"), "", self.action_toggle_detail))
        return cmds


class ContentActionForm(ActionForm):
    """Publish, publish the pending revision, unpublish or archive one item (a confirmation
    that says what changes: the revision's fields, the 每日一听 days that are cleared)."""

    def __init__(self, ref: str, *, op: str, cid: int, item: dict | None = None, **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.op = op
        self.cid = cid
        self.item = item or {}

    @property
    def picked_days(self) -> list[str]:
        return list(self.item.get("listen_days") or []) if self.op in ("unpublish", "archive") else []

    def title_text(self) -> str:
        return t(f"form.content_{self.op}.title", ref=visible(self.ref))

    def intro(self) -> Text | None:
        text = Text(t(f"form.content_{self.op}.text"), end="")
        revision = self.item.get("revision_draft")
        if self.op == "publish_revision" and revision:
            changed = [t(f"editor.f.{'source' if k == 'source_unit' else k}") if k != "body" else t("editor.body")
                       for k in FIELDS if str(revision.get(k) or "") != str(self.item.get(k) or "")]
            text.append("\n")
            text.append(t("form.content_publish_revision.changes", fields="、".join(changed)), style="bold")
            if revision["title"] != self.item.get("title"):
                text.append("\n")
                text.append_text(plain(f"{self.item.get('title')} → {revision['title']}"))
        if self.picked_days:
            text.append("\n")
            text.append(t("form.content.picked", days="、".join(self.picked_days)), style="bold yellow")
        return text

    def confirm_label(self) -> str:
        picked = "_picked" if self.picked_days else ""
        return t(f"form.content.confirm_{self.op}{picked}")

    def done_text(self) -> str:
        return t(f"done.content_{self.op}", ref=visible(self.ref))

    def perform(self, store: Store, username: str, values: dict) -> None:
        clear = bool(self.picked_days)
        if self.op == "publish":
            operations.publish_content(store, username, self.cid)
        elif self.op == "publish_revision":
            operations.publish_content_revision(store, username, self.cid)
        elif self.op == "unpublish":
            operations.unpublish_content(store, username, self.cid, clear_picks=clear)
        else:
            operations.archive_content(store, username, self.cid, clear_picks=clear)


class _DayForm(ActionForm):
    """A form of one day (``#day``), typed as an office types it (``timeutil.parse_day``)."""

    def first_day(self) -> str:
        return timeutil.iso()[:10]

    def fields(self) -> ComposeResult:
        yield _label("field.listen_day")
        yield Input(self.first_day(), id="day", max_length=12)

    def collect(self) -> dict:
        typed = self.query_one("#day", Input).value
        try:
            return {"day": timeutil.parse_day(typed).isoformat()}
        except ValueError:
            return {"day": typed.strip()}

    def check(self, values: dict):
        try:
            timeutil.parse_day(values["day"])
        except ValueError:
            return t("err.day"), "day"
        return None


class DailyListenForm(_DayForm):
    """每日一听: make a published item the pick of a day (today by default)."""

    TITLE_KEY = "form.listen.title"
    DONE_KEY = "done.listen"

    def __init__(self, ref: str, *, cid: int, picks: list[content_reads.DailyListen] | None = None,
                 **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.cid = cid
        self.picks = picks or []         # the picks of today and after, as the list read them
        self.day = ""

    def intro(self) -> Text | None:
        text = Text(t("form.listen.text", latest=operations.daily_listen_latest()) + "\n", end="")
        text.append(t("content.listen_days") + " ", style="bold")
        if not self.picks:
            text.append(t("content.listen_none_ahead"))
        for pick in self.picks:
            text.append("\n" + pick.date + " ")
            text.append_text(plain(f"#{pick.content_id} {pick.title}"))
        return text

    def confirm_label(self) -> str:
        return t("form.listen.confirm")

    def perform(self, store: Store, username: str, values: dict) -> None:
        self.day = values["day"]
        operations.pick_daily_listen(store, username, values["day"], self.cid)

    def done_text(self) -> str:
        return t("done.listen", ref=visible(self.ref), day=self.day)


class ListenBuildForm(_DayForm):
    """Build a day's 每日一听 as sound (``dataio.listen.build``, as ``taian listen build``
    does) in a worker, the sentences read so far on the status line; the file goes to
    ``listen/`` beside the database. The day offered is the first pick from today on whose
    sound is not built yet (else today)."""

    TITLE_KEY = "form.build.title"
    INTRO_KEY = "form.build.text"

    def __init__(self, ref: str, *, picks: list[content_reads.DailyListen] | None = None, **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.picks = picks or []
        self.built: listen_audio.Built | None = None

    def title_text(self) -> str:
        return t(self.TITLE_KEY)

    def confirm_label(self) -> str:
        return t("form.build.confirm")

    def first_day(self) -> str:
        return next((p.date for p in self.picks if not p.built), timeutil.iso()[:10])

    def _save(self, values: dict) -> None:
        day = values["day"]

        def build(job: Job) -> ActionSaved:
            pick, item = content_reads.listen_to_build(job.store, day)
            self.built = listen_audio.build(job.store, job.username, pick, item,
                                            listen_audio.default_folder(job.store.path),
                                            progress=lambda done, total: job.post(ListenProgressed(done, total)))
            return ActionSaved()
        self.run_in_store("form-save", build)

    def on_listen_progressed(self, message: ListenProgressed) -> None:
        message.stop()
        self._set_status(t("form.build.progress", done=message.done, total=message.total))

    def done_text(self) -> str:
        b = self.built
        if b is None:
            return ""
        if b.unchanged:
            return t("done.build_unchanged", day=b.day, path=str(b.path))
        return t("done.build", day=b.day, path=str(b.path), seconds=_seconds(b.seconds), size=f"{b.size / 1024:.0f} KB")
