"""The project board (重大项目): the viewer's projects a page at a time, in tabs by library
level (待审核, 市重点, 省重点, 未入库, all) and grouped by stage, filtered by county,
category, stage, the visualised flag and a search; each row shows the investment, the
progress as a bar and a percentage, and the open appeals. The detail pane shows the
enterprise, the progress-report timeline, the linked appeals and instructions.

Actions: the admin reviews library applications (``operations.review_project``); a liaison
(or the admin) adds a progress report (``operations.report_progress``, which refuses another
unit's project); a leader writes an instruction (``operations.issue_instruction``); the admin
marks a project as visualised or takes the mark off (``operations.set_project_visualised``, ``m``).
"""
from __future__ import annotations

import re
from typing import Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static, TextArea

from taian_tui.read import exports
from taian_tui.read import projects as project_reads
from taian_tui.read import changes
from taian_tui.domain import operations, rules, search, timeutil
from taian_tui.console.strings import code_label, error_text, labelled, t
from taian_tui.domain.models import PROJECT_CATEGORIES, PROJECT_STAGES
from taian_tui.store import Store
from taian_tui.console.messages import ActionSaved
from taian_tui.console.workers import Job
from taian_tui.console.widgets import (KeysFooter, CARD_STYLES, DetailPane, HeaderBar, cell, fit_columns, hbar, money, money_decimals, money_unit, plain,
                       progress_bar, set_columns, short_date, visible)
from taian_tui.screens.exporting import ExportsList
from taian_tui.screens.forms import ActionForm, _label
from taian_tui.screens.instructions import InstructionForm
from taian_tui.screens.paged import ListTable, PagedListScreen

TABS = ("applied", "city", "province", "rejected", "all")
TAB_KEYS = {"applied": "1", "city": "2", "province": "3", "rejected": "4", "all": "0"}


def _field(out: Text, label: str, value: Any, style: str = "") -> None:
    out.append(labelled(label, ""), style="bold")
    out.append_text(value if isinstance(value, Text) else plain(value, style))


def _section(out: Text, title: str) -> None:
    out.append("\n\n")
    out.append(f"── {title} ", style="bold")
    out.append("\n")


def _rows(out: Text, title: str, rows: list, total: int, empty_key: str,
          row: Callable[[Text, Any], None]) -> None:
    """A section of rows (each drawn by ``row``), "none" when empty, "n more" past the shown."""
    _section(out, title)
    if not rows:
        out.append(t(empty_key), style="dim")
    for i, item in enumerate(rows):
        if i:
            out.append("\n")
        row(out, item)
    if total > len(rows):
        out.append("\n")
        out.append(t("projects.more", n=total - len(rows)), style="dim")


def _report_row(out: Text, r: dict, users: dict, unit: str) -> None:
    out.append(visible(r["date"]), style="bold")
    out.append("  ")
    out.append_text(hbar(r["percent"], 100, 10, "cyan", track="░", track_style="dim"))
    out.append(f"{r['percent']:4.0f}%  ")
    out.append(t("projects.report_invested", amount=money(r["invested_wan"], unit)))
    out.append("  ")
    out.append_text(plain(users.get(r["reported_by"]) or code_label("actor", r["reported_by"]), "dim"))
    if r.get("note"):
        out.append("\n    ")
        out.append_text(plain(r["note"], "italic"))


def _appeal_row(out: Text, a: dict) -> None:
    out.append(visible(a["ref"]), style="bold")
    out.append(" ")
    if a.get("card"):
        out.append(f" {code_label('card', a['card'])} ", style=CARD_STYLES.get(a["card"], ""))
        out.append(" ")
    out.append(code_label("state", a["state"]))
    out.append(" · ")
    out.append(code_label("category", a["category"]))
    out.append(" · ")
    out.append_text(plain(a["title"]))
    if a.get("unit"):
        out.append(" · ")
        out.append_text(plain(a["unit"], "dim"))


def _instruction_row(out: Text, ins: dict, users: dict) -> None:
    out.append(short_date(ins["created_at"]), style="bold")
    out.append("  ")
    out.append_text(plain(t("projects.instruction_line",
                            leader=visible(users.get(ins["leader"]) or ins["leader"]),
                            target=visible(users.get(ins["target_user"]) or ins["target_user"]))))
    status = "answered" if ins["replied_at"] else ("acknowledged" if ins["acknowledged_at"] else "new")
    out.append("  ")
    out.append(code_label("instruction_status", status), style="green" if status == "answered" else "bold yellow")
    out.append("\n    ")
    out.append_text(plain(ins["text"], "italic"))
    if ins.get("reply"):
        out.append("\n    ↳ ")
        out.append_text(plain(ins["reply"]))


def render_project(d: project_reads.ProjectDetail, width: int = 80) -> Text:
    """A project's whole detail as one literal ``Text`` (user data never parsed as markup)."""
    p = d.project
    out = Text(end="")
    out.append(visible(p["ref"]), style="bold")
    out.append("  ")
    out.append_text(plain(p["name"], "bold"))
    out.append("\n")
    out.append(f" {code_label('library', p['library'])} ", style="reverse bold")
    out.append("  ")
    out.append(code_label("stage", p["stage"]), style="bold")
    if p["visualised"]:
        out.append("  ")
        out.append(t("projects.visualised"), style="bold cyan")
    out.append("\n")
    _field(out, t("projects.f.category"), code_label("project_category", p["category"]))
    out.append(" · ")
    _field(out, t("projects.f.county"), p["county"])
    out.append(" · ")
    _field(out, t("projects.f.unit"), d.unit or "—")
    out.append("\n")
    unit = money_unit(p["investment_wan"], p["invested_wan"])       # one unit on the line
    _field(out, t("projects.f.investment"), money(p["investment_wan"], unit))
    out.append(" · ")
    _field(out, t("projects.f.invested"), money(p["invested_wan"], unit))
    if p.get("planned_start") or p.get("planned_finish"):
        out.append(" · ")
        _field(out, t("projects.f.planned"),
               t("projects.planned", start=visible(p.get("planned_start") or "?"),
                 finish=visible(p.get("planned_finish") or "?")))
    out.append("\n")
    _field(out, t("projects.f.progress"), progress_bar(p["percent"], min(36, max(15, width // 3))))
    out.append("\n")
    applied = t("projects.applied_at", at=short_date(p["applied_at"]))
    _field(out, t("projects.f.library"), f"{code_label('library', p['library'])} · {applied}")
    if p.get("library_reason"):
        out.append("\n")
        _field(out, t("projects.f.reason"), p["library_reason"])

    _section(out, t("projects.s.enterprise"))
    ent = d.enterprise
    if ent:
        out.append_text(plain(ent["name"], "bold"))
        out.append("\n")
        _field(out, t("detail.uscc"), ent["uscc"])
        if ent.get("industry"):
            out.append(" · ")
            _field(out, t("detail.industry"), ent["industry"])
        if ent.get("tags"):
            out.append("\n")
            _field(out, t("detail.tags"), ent["tags"])
        contact = " ".join(x for x in (ent.get("contact"), ent.get("phone")) if x)
        if contact:
            out.append("\n")
            _field(out, t("detail.contact"), contact)
        if ent.get("address"):
            out.append("\n")
            _field(out, t("detail.address"), ent["address"])
    else:
        out.append_text(plain(p["enterprise_uscc"]))

    _rows(out, t("projects.s.reports", n=d.reports_total), d.reports, d.reports_total, "projects.no_reports",
          lambda o, r: _report_row(o, r, d.users, unit))
    _rows(out, t("projects.s.appeals", n=d.appeals_total), d.appeals, d.appeals_total, "projects.no_appeals",
          _appeal_row)
    _rows(out, t("projects.s.instructions", n=d.instructions_total), d.instructions, d.instructions_total,
          "projects.no_instructions", lambda o, ins: _instruction_row(o, ins, d.users))
    return out


class ProjectBoardScreen(ExportsList, PagedListScreen):
    """重大项目: the board of the viewer's projects."""

    READS = changes.PROJECTS

    HELP_KEY = "help.projects"
    TITLE_KEY = "projects.title"
    EMPTY_KEY = "projects.empty"
    DETAIL_EMPTY_KEY = "projects.detail_empty"
    EXPORT_NAME = "projects"
    EXPORT_COMMAND = "cmd.export.projects"

    BINDINGS = [
        Binding("v", "review", "k.review_project", id="projects.review"),
        Binding("p", "progress", "k.progress", id="projects.progress"),
        Binding("i", "instruct", "k.instruct", id="projects.instruct"),
        Binding("m", "visualise", "k.visualise", id="projects.visualise"),
        Binding("slash", "search", "k.search", id="projects.search"),
        Binding("d", "toggle_detail", "k.detail", id="projects.detail"),
        Binding("1", "tab('applied')", "label:library:applied", id="projects.tab_applied", show=False),
        Binding("2", "tab('city')", "label:library:city", id="projects.tab_city", show=False),
        Binding("3", "tab('province')", "label:library:province", id="projects.tab_province", show=False),
        Binding("4", "tab('rejected')", "label:library:rejected", id="projects.tab_rejected", show=False),
        Binding("0", "tab('all')", "k.tab_all", id="projects.tab_all", show=False),
        Binding("f", "filter", "k.filter", id="projects.filter", show=False),
        Binding("c", "clear_filters", "k.clear", id="projects.clear", show=False),
        Binding("x", "export", "k.export", id="projects.export", show=False),
        Binding("ctrl+r", "reload", "k.refresh", id="projects.refresh", show=False),
        Binding("escape", "focus_table", "k.back", id="projects.back", show=False),
    ]

    DEFAULT_CSS = """
    ProjectBoardScreen #tabs { height: 1; background: $panel; padding: 0 1; }
    ProjectBoardScreen #filters { height: 1; }
    ProjectBoardScreen #filters Select { width: 16; margin-right: 1; }
    ProjectBoardScreen #filters #pf-county { width: 18; }
    ProjectBoardScreen #filters #pf-category { width: 20; }
    ProjectBoardScreen #filters Input { width: 1fr; min-width: 12; }
    ProjectBoardScreen #filters.-narrow Select { width: 12; }
    ProjectBoardScreen #filters.-narrow #pf-county { width: 12; }
    ProjectBoardScreen #filters.-narrow #pf-category { width: 12; }
    ProjectBoardScreen #filters.-narrow #pf-stage { width: 12; }
    ProjectBoardScreen #filters.-narrow #pf-visual { width: 13; }
    ProjectBoardScreen #table { height: 1fr; }
    ProjectBoardScreen #detail { height: 50%; }
    ProjectBoardScreen #detail.-hidden { display: none; }
    ProjectBoardScreen #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    ProjectBoardScreen #status { text-wrap: nowrap; text-overflow: ellipsis; }  /* an export's path: cut, never wrapped away */
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.tab: str | None = None
        self._counties: list[str] = []
        self._search_timer: Timer | None = None

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        if self.tab is None:
            self.tab = "applied" if self.console.user.role == "admin" else "city"
        self._counties = list(self.console.session.project_counties)
        yield HeaderBar()
        yield Static(id="tabs", markup=False)
        with Horizontal(id="filters"):
            yield Select([(t("pf.all_counties"), "all")] + [(plain(c), c) for c in self._counties],
                         value="all", allow_blank=False, compact=True, id="pf-county")
            yield Select([(t("pf.all_categories"), "all")]
                         + [(code_label("project_category", c), c) for c in PROJECT_CATEGORIES],
                         value="all", allow_blank=False, compact=True, id="pf-category")
            yield Select([(t("pf.all_stages"), "all")] + [(code_label("stage", s), s) for s in PROJECT_STAGES],
                         value="all", allow_blank=False, compact=True, id="pf-stage")
            yield Select([(t("pf.all_visual"), "all"), (t("pf.visual_yes"), "yes"),
                          (t("pf.visual_no"), "no")],
                         value="all", allow_blank=False, compact=True, id="pf-visual")
            yield Input(placeholder=t("pf.search"), id="pf-search", compact=True)
        yield ListTable(id="table")
        yield DetailPane(id="detail")
        yield Static(t("status.loading"), id="status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._update_tabs()
        self._narrow()

    def on_resize(self) -> None:
        self._narrow()

    def _narrow(self) -> None:
        self.query_one("#filters").set_class(self.app.size.width < 100, "-narrow")

    # -- the filter -----------------------------------------------------------------------------
    def _select(self, id_: str) -> Any:
        try:
            value = self.query_one(f"#{id_}", Select).value
        except Exception:
            return None
        return None if value in (Select.NULL, "all") else value

    def current_filter(self) -> project_reads.ProjectFilter:
        visual = self._select("pf-visual")
        try:
            text = self.query_one("#pf-search", Input).value.strip()
        except Exception:
            text = ""
        ref = search.project_ref(text)
        if ref is not None:
            # a project's number: found whatever the tab and the filters say
            return project_reads.ProjectFilter(text=ref)
        return project_reads.ProjectFilter(
            library=None if self.tab == "all" else self.tab, stage=self._select("pf-stage"),
            county=self._select("pf-county"), category=self._select("pf-category"),
            visualised=None if visual is None else visual == "yes", text=text or None)

    @on(Select.Changed)
    def _filter_select(self, event: Select.Changed) -> None:
        self.filter_chosen(event)

    @on(Input.Changed, "#pf-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.3, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        self.filter_changed()

    @on(Input.Submitted, "#pf-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        self.filter_changed()
        self.table.focus()

    def action_tab(self, tab: str) -> None:
        if tab == self.tab:
            return
        self.tab = tab
        self._update_tabs()
        self.page = 0
        self.reload()
        self.refresh_bindings()

    def action_search(self) -> None:
        self.query_one("#pf-search", Input).focus()

    def action_filter(self) -> None:
        self.query_one("#pf-county", Select).focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed, Input.Changed):
            for id_ in ("pf-county", "pf-category", "pf-stage", "pf-visual"):
                self.query_one(f"#{id_}", Select).value = "all"
            self.query_one("#pf-search", Input).value = ""
        self.filter_changed()

    def _update_tabs(self) -> None:
        counts = self.extra.library if isinstance(self.extra, project_reads.ProjectCounts) else {}
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        for tab in TABS:
            label = t("pf.all") if tab == "all" else code_label("library", tab)
            n = sum(counts.values()) if tab == "all" else counts.get(tab)
            style = "reverse bold" if tab == self.tab else ""
            text.append(f" {TAB_KEYS[tab]} {label}", style=style)
            text.append(f" {n if n is not None else '…'} ", style=style or "dim")
            text.append(" ")
        self.query_one("#tabs", Static).update(text)

    # -- reading --------------------------------------------------------------------------------
    def fetch(self, store: Store, act: Any, flt: project_reads.ProjectFilter, limit: int, offset: int) -> list:
        return project_reads.list_projects(store, act, flt, limit=limit, offset=offset)

    def count(self, store: Store, act: Any, flt: project_reads.ProjectFilter) -> int:
        return project_reads.count_projects(store, act, flt)

    def fetch_extra(self, store: Store, act: Any, flt: project_reads.ProjectFilter) -> Any:
        return project_reads.project_counts(store, act, flt)

    def fetch_detail(self, store: Store, act: Any, key: str) -> Any:
        return project_reads.project_detail(store, act, key)

    def row_key(self, row: project_reads.ProjectRow) -> str:
        return row.ref

    def extra_loaded(self, extra: Any) -> None:
        self._update_tabs()

    def status_text(self) -> str:
        text = super().status_text()
        if isinstance(self.extra, project_reads.ProjectCounts) and self.total:
            stages = " · ".join(f"{code_label('stage', s)} {n}" for s, n in self.extra.stage.items())
            text += "  │  " + stages
        try:
            typed = self.query_one("#pf-search", Input).value
        except Exception:
            typed = ""
        ref = search.project_ref(typed)
        if ref is not None:
            # (the ref as searched, whatever way it was typed: p-12, P0012 are one search)
            text += " · " + t("status.search", text=ref) + t("status.by_number")
        return self.with_export_note(text)

    # -- export ---------------------------------------------------------------------------------
    def export_builder(self):
        """The projects of the tab and filters set on the screen, in the viewer's scope, in the
        board's order: ``read.exports.projects_table``."""
        flt = self.current_filter()
        return lambda store, act: exports.projects_table(store, act, flt)

    def export_note_changed(self) -> None:
        self.set_status(self.status_text() if self.loaded_generation else self.export_note)

    def show_detail(self, detail: Any) -> None:
        self.query_one("#detail-body", Static).update(render_project(detail, self.app.size.width))

    def show_detail_text(self, text: str) -> None:
        self.query_one("#detail", DetailPane).show_text(text)

    # -- the table ------------------------------------------------------------------------------
    def _columns(self) -> list[tuple[str, str, int]]:
        from taian_tui.console.strings import get_lang

        zh = get_lang() == "zh"
        specs = [("vis", "pcol.vis", 2), ("ref", "pcol.ref", 6), ("name", "pcol.name", -4),
                 ("enterprise", "pcol.enterprise", -2), ("county", "pcol.county", 10),
                 ("category", "pcol.category", 10 if zh else 12),
                 ("stage", "pcol.stage", 4 if zh else 12)]
        if self.tab == "all":
            specs.append(("library", "pcol.library", 6 if zh else 9))
        specs += [("investment", "pcol.investment", 7 if zh else 8),
                  ("progress", "pcol.progress", 16 if self.app.size.width >= 100 else 12),
                  ("appeals", "pcol.appeals", 4)]
        width = max(self.app.size.width, 60) - 2
        return fit_columns(width, specs, drop=("enterprise", "category", "county", "library"))

    def fill_table(self, table: DataTable, rows: list) -> None:
        cols = self._columns()
        w = {k: width for k, _, width in cols}
        set_columns(table, cols)
        unit = money_unit(*(r.investment_wan for r in rows))     # one unit down the column
        decimals = money_decimals(unit, *(r.investment_wan for r in rows))   # and one precision
        for r in rows:
            values = {
                "vis": lambda: Text("◉", style="bold cyan", end="") if r.visualised else Text(""),
                "ref": lambda: cell(r.ref, w["ref"]),
                "name": lambda: cell(r.name, w["name"]),
                "enterprise": lambda: cell(r.enterprise, w.get("enterprise")),
                "county": lambda: cell(r.county, w.get("county")),
                "category": lambda: cell(code_label("project_category", r.category), w.get("category")),
                "stage": lambda: cell(code_label("stage", r.stage), w["stage"]),
                "library": lambda: cell(code_label("library", r.library), w.get("library")),
                "investment": lambda: Text(money(r.investment_wan, unit, decimals), justify="right", end=""),
                "progress": lambda: progress_bar(r.percent, w["progress"]),
                "appeals": lambda: (Text(str(r.open_appeals), style="bold yellow", justify="right",
                                         end="") if r.open_appeals else Text("·", style="dim",
                                                                             justify="right", end="")),
            }
            table.add_row(*(values[k]() for k, _, _ in cols), key=r.ref)

    # -- actions --------------------------------------------------------------------------------
    #: The rule (``rules.ACTIONS``) behind each action key.
    KEY_RULES = {"review": "review_project", "progress": "report_progress",
                 "visualise": "visualise_project", "instruct": "instruct"}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rule = self.KEY_RULES.get(action)
        if rule is None:
            return True
        act = self.console.actor
        if act is None or rules.role_refusal(rule, act) is not None:
            return False                      # not this role's key: hidden
        row = self.current_row()
        if row is None:
            return None
        if action == "review":
            return True if row.library == "applied" else None
        if action == "progress":
            return True if rules.project_refusal(act, row.ref, row.unit_code) is None else None
        return True

    def refusal_of(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        row, act = self.current_row(), self.console.actor
        if action != "progress" or row is None or act is None:
            return None
        names = {row.unit_code: row.unit, act.unit_code: self.console.unit_name}
        refused = rules.project_refusal(act, row.ref, row.unit_code, unit_name=lambda code: names.get(code) or code)
        return None if refused is None else labelled(t("k.progress"), error_text(refused))

    def _need_row(self) -> project_reads.ProjectRow | None:
        row = self.current_row()
        if row is None:
            self.app.notify(t("nothing_selected"), markup=False)
        return row

    def action_review(self) -> None:
        row = self._need_row()
        if row is not None:
            self.app.push_screen(ReviewProjectForm(row.ref, subject=row.name), self.form_closed)

    def action_progress(self) -> None:
        row = self._need_row()
        if row is not None:
            own = rules.project_refusal(self.console.actor, row.ref, row.unit_code) is None
            self.app.push_screen(ProgressForm(row.ref, subject=row.name, unit=row.unit,
                                              percent=row.percent, invested=row.invested_wan,
                                              total=row.investment_wan, stage=row.stage, own_unit=own),
                                 self.form_closed)

    def action_instruct(self) -> None:
        row = self._need_row()
        if row is not None:
            self.app.push_screen(InstructionForm(row.ref, subject=row.name, project_ref=row.ref),
                                 self.form_closed)

    def action_visualise(self) -> None:
        row = self._need_row()
        if row is not None:
            self._set_visualised(row.ref, not row.visualised)

    def _set_visualised(self, ref: str, on: bool) -> None:
        """Written in a worker with its own connection (a busy file waits there, not in the UI)."""
        def write(job: Job) -> ActionSaved:
            operations.set_project_visualised(job.store, job.username, ref, on)
            return ActionSaved()
        self._visualising = (ref, on)
        self.run_in_store("project-visualise", write)

    def on_action_saved(self, message: ActionSaved) -> None:
        message.stop()
        ref, on = self._visualising
        self.app.notify(t("done.visualised_on" if on else "done.visualised_off", ref=ref), markup=False)
        self.form_closed(True)

    def form_closed(self, saved: bool | None) -> None:
        if saved:
            self.console.data_changed()
            self.reload_detail()

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        cmds: list[tuple[str, str, Any]] = []
        ref = self.current_key() or ""
        for action, key in (("review", "k.review_project"), ("progress", "k.progress"),
                            ("instruct", "k.instruct"), ("visualise", "k.visualise")):
            if self.check_action(action, ()):
                cmds.append((f"{t(key)} {ref}", "", getattr(self, f"action_{action}")))
        for tab in TABS:
            label = t("pf.all") if tab == "all" else code_label("library", tab)
            cmds.append((t("cmd.projects_tab", label=label), "", lambda x=tab: self.action_tab(x)))
        for stage in PROJECT_STAGES:
            cmds.append((t("cmd.filter_stage", label=code_label("stage", stage)), "",
                         lambda s=stage: setattr(self.query_one("#pf-stage", Select), "value", s)))
        cmds.append((t("k.search"), "", self.action_search))
        cmds.append((t("k.clear"), "", self.action_clear_filters))
        cmds.append((t("k.detail"), "", self.action_toggle_detail))
        cmds.append((t("k.refresh"), "", self.action_reload))
        cmds.append(self.export_palette_command())
        return cmds


# -- forms -----------------------------------------------------------------------------------------
class ReviewProjectForm(ActionForm):
    """项目入库审核: to the city library (市重点), the province's (省重点), or rejected with a reason."""

    CONFIRM_KEY = "confirm.review_project"
    TITLE_KEY = "form.review_project.title"
    DONE_KEY = "done.review_project"
    INTRO_KEY = "form.review_project.text"

    def fields(self) -> ComposeResult:
        yield _label("field.library_decision")
        yield Select([(code_label("library", "city"), "city"), (code_label("library", "province"), "province"),
                      (t("opt.reject_project"), "rejected")], id="decision", prompt=t("opt.choose"))
        yield _label("field.library_reason")
        yield TextArea(id="reason", soft_wrap=True)

    def confirm_label(self) -> str:
        try:
            value = self.query_one("#decision", Select).value
        except Exception:
            value = None
        return t({"city": "confirm.to_city", "province": "confirm.to_province",
                  "rejected": "confirm.reject_project"}.get(value, self.CONFIRM_KEY))

    @on(Select.Changed, "#decision")
    def _decision_chosen(self, event: Select.Changed) -> None:
        self.confirm_changed()

    def collect(self) -> dict:
        value = self.query_one("#decision", Select).value
        return {"decision": None if value is Select.NULL else value,
                "reason": self.query_one("#reason", TextArea).text}

    def check(self, values: dict):
        if not values["decision"]:
            return t("err.choose", field=t("field.library_decision")), "decision"
        if values["decision"] == "rejected" and not values["reason"].strip():
            return t("err.reject_reason"), "reason"
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        self.decision = values["decision"]
        operations.review_project(store, username, self.ref, values["decision"], values["reason"])

    def done_text(self) -> str:
        return t("done.review_project", ref=visible(self.ref),
                 decision=code_label("library", getattr(self, "decision", "")))


_NUMBER = re.compile(r"\s*\d+(\.\d+)?\s*")


class ProgressForm(ActionForm):
    """填报进度: percent complete, invested so far, stage, the date and a note."""

    CONFIRM_KEY = "confirm.progress"
    TITLE_KEY = "form.progress.title"
    DONE_KEY = "done.progress"

    def __init__(self, ref: str, *, unit: str = "", percent: float = 0, invested: float = 0,
                 total: float = 0, stage: str | None = None, own_unit: bool = True, **kw: Any) -> None:
        super().__init__(ref, **kw)
        self.unit = unit
        self.own_unit = own_unit
        self.percent = percent
        self.invested = invested
        self.total = total
        self.current_stage = stage

    @staticmethod
    def in_field_unit(wan: float) -> str:
        """An amount in the unit the form's field is typed in (万元), as the store's refusal
        writes it: one unit in the form, its figures, its field and its errors."""
        return t("form.progress.wan", n=f"{float(wan or 0):,.10g}")

    def intro(self) -> Text | None:
        text = Text(t("form.progress.text", unit=visible(self.unit or "—"),
                      percent=f"{self.percent:g}", invested=self.in_field_unit(self.invested)), end="")
        # the ranges the store holds the figures to, before anything is typed
        text.append("\n")
        text.append(t("form.progress.range", total=self.in_field_unit(self.total), percent=f"{self.percent:g}",
                      invested=self.in_field_unit(self.invested)), style="dim")
        if not self.own_unit:
            # the store refuses it; say so before anything is typed
            text.append("\n")
            text.append(t("form.progress.not_own", unit=visible(self.unit or "—")), style="bold yellow")
        return text

    def fields(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield _label("field.percent")
            # the current figures as values, not placeholders: what is shown is what is saved
            yield Input(f"{self.percent:g}", id="percent", restrict=r"[0-9.]*", max_length=5, compact=True)
            yield _label("field.invested")
            yield Input(f"{self.invested:g}", id="invested", restrict=r"[0-9.]*", max_length=12, compact=True)
        with Horizontal(classes="row"):
            yield _label("field.stage")
            yield Select([(code_label("stage", s), s) for s in PROJECT_STAGES], id="stage",
                         value=self.current_stage if self.current_stage in PROJECT_STAGES else Select.NULL,
                         prompt=t("opt.choose"), compact=True)
            yield _label("field.report_date")
            yield Input(timeutil.iso()[:10], id="date", max_length=12, compact=True)
        yield _label("field.progress_note")
        yield TextArea(id="note", soft_wrap=True)

    DEFAULT_CSS = """
    ProgressForm .row { height: auto; margin-top: 1; }
    ProgressForm .row .field-label { margin-top: 0; width: auto; padding-right: 1; }
    ProgressForm .row Input { width: 14; margin-right: 2; background: $boost; }
    ProgressForm .row Select { width: 16; margin-right: 2; }
    """

    def collect(self) -> dict:
        value = self.query_one("#stage", Select).value
        return {"percent": self.query_one("#percent", Input).value,
                "invested": self.query_one("#invested", Input).value,
                "stage": None if value is Select.NULL else value,
                "date": self.query_one("#date", Input).value.strip(),
                "note": self.query_one("#note", TextArea).text}

    def check(self, values: dict):
        if not _NUMBER.fullmatch(values["percent"] or "") or not 0 <= float(values["percent"]) <= 100:
            return t("err.percent"), "percent"
        if not _NUMBER.fullmatch(values["invested"] or ""):
            return t("err.amount"), "invested"
        try:
            day = timeutil.parse_day(values["date"])
        except ValueError:
            return t("err.day"), "date"
        if day > timeutil.local_date(timeutil.iso()):
            return t("err.future_day"), "date"
        # a figure above the total, or below the latest report's, without a reason: the store
        # decides (``operations.report_progress``: a report dated before the latest one fills
        # in history and is not "going back"), and its refusal is shown here, the text kept
        return None

    def perform(self, store: Store, username: str, values: dict) -> None:
        # the figures as typed: the store reads them (and a refusal quotes them as typed,
        # not as 999999999999.0)
        operations.report_progress(store, username, self.ref, values["percent"].strip(),
                                 values["invested"].strip(), values["note"],
                                 date=timeutil.parse_day(values["date"]).isoformat(), stage=values["stage"])
