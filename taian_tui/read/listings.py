"""Read queries of the console's project board, instruction lists and policy editor.

Plain SQL on the store, each list paged with LIMIT/OFFSET and counted separately, the
viewer's scope applied here (one definition per kind of record). No textual: these run
inside the console's worker threads, each on its own ``Store``, and could serve the CLI.

Scope of the project board (DOMAIN.md: a liaison sees the projects of their own unit):

* admin, supervisor, a leader of the whole city: every project;
* a leader of a county or zone: the projects of that unit or in that county;
* a liaison: the projects of their unit, and the projects their unit has appeals about
  (read-only: ``operations.report_progress`` refuses a report on another unit's project);
* discipline and editor: none.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from taian_tui.domain import timeutil
from taian_tui.domain.models import CONTENT_KINDS, CONTENT_LEVELS, CONTENT_STATES, LIBRARY_LEVELS, PROJECT_STAGES
from taian_tui.store import Store
from taian_tui.domain.refusals import NotFound, PermissionDenied, ValidationError
from taian_tui.domain import rules
from taian_tui.domain.actors import Actor, appeal_scope_sql, project_scope_sql, unit_name

OPEN_APPEAL_SQL = "state != 'closed'"


# -- projects ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectFilter:
    library: str | None = None        # applied | city | province | rejected; None: all
    stage: str | None = None
    county: str | None = None
    category: str | None = None
    visualised: bool | None = None
    text: str | None = None


@dataclass
class ProjectRow:
    ref: str
    name: str
    enterprise: str
    county: str
    category: str
    investment_wan: float
    stage: str
    library: str
    visualised: int
    unit_code: str | None
    percent: float
    invested_wan: float
    open_appeals: int


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _project_where(store: Store, act: Actor, f: ProjectFilter, *,
                   skip: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    scope, params = project_scope_sql(store, act, "p")
    clauses = [scope]
    if f.library and "library" not in skip:
        if f.library not in LIBRARY_LEVELS:
            raise ValidationError.of("library_choice", choices=LIBRARY_LEVELS, value=f.library)
        clauses.append("p.library = ?")
        params.append(f.library)
    if f.stage and "stage" not in skip:
        clauses.append("p.stage = ?")
        params.append(f.stage)
    if f.county:
        clauses.append("p.county = ?")
        params.append(f.county)
    if f.category:
        clauses.append("p.category = ?")
        params.append(f.category)
    if f.visualised is not None:
        clauses.append("p.visualised = ?")
        params.append(1 if f.visualised else 0)
    if f.text and f.text.strip():
        needle = _like(f.text.strip())
        clauses.append("(p.ref LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR "
                       "p.enterprise_uscc IN (SELECT uscc FROM enterprises WHERE name LIKE ? ESCAPE '\\'))")
        params += [needle, needle, needle]
    return " AND ".join(clauses), params


_STAGE_ORDER = "CASE p.stage " + " ".join(
    f"WHEN '{s}' THEN {i}" for i, s in enumerate(PROJECT_STAGES)) + f" ELSE {len(PROJECT_STAGES)} END"


def list_projects(store: Store, act: Actor, f: ProjectFilter = ProjectFilter(), *,
                  limit: int = 50, offset: int = 0) -> list[ProjectRow]:
    """One page of projects, grouped by stage (前期, 在建, 竣工, 投产), the largest first."""
    where, params = _project_where(store, act, f)
    rows = store.all(
        "SELECT p.ref, p.name, COALESCE(e.name, p.enterprise_uscc) AS enterprise, p.county, "
        "p.category, p.investment_wan, p.stage, p.library, p.visualised, p.unit_code, p.percent, "
        "p.invested_wan, (SELECT COUNT(*) FROM appeals a WHERE a.project_ref = p.ref AND "
        f"a.{OPEN_APPEAL_SQL}) AS open_appeals "
        "FROM projects p LEFT JOIN enterprises e ON e.uscc = p.enterprise_uscc "
        f"WHERE {where} ORDER BY {_STAGE_ORDER}, p.investment_wan DESC, p.ref LIMIT ? OFFSET ?",
        [*params, limit, offset])
    return [ProjectRow(**dict(r)) for r in rows]


def count_projects(store: Store, act: Actor, f: ProjectFilter = ProjectFilter()) -> int:
    where, params = _project_where(store, act, f)
    return store.scalar(f"SELECT COUNT(*) FROM projects p WHERE {where}", params)


@dataclass
class ProjectCounts:
    """How many projects match the other filters, per library level and per stage (of the
    chosen library level): the board's tabs and its stage line."""

    library: dict[str, int]
    stage: dict[str, int]


def project_counts(store: Store, act: Actor, f: ProjectFilter = ProjectFilter()) -> ProjectCounts:
    where, params = _project_where(store, act, f, skip=("library", "stage"))
    lib = {r[0]: r[1] for r in store.all(
        f"SELECT p.library, COUNT(*) FROM projects p WHERE {where} GROUP BY p.library", params)}
    where2, params2 = _project_where(store, act, f, skip=("stage",))
    stage = {r[0]: r[1] for r in store.all(
        f"SELECT p.stage, COUNT(*) FROM projects p WHERE {where2} GROUP BY p.stage", params2)}
    return ProjectCounts({lv: lib.get(lv, 0) for lv in LIBRARY_LEVELS},
                         {s: stage.get(s, 0) for s in PROJECT_STAGES})


def project_counties(store: Store, act: Actor) -> list[str]:
    """The counties the viewer's projects are in (the county filter's choices)."""
    scope, params = project_scope_sql(store, act, "p")
    present = {r[0] for r in store.all(f"SELECT DISTINCT p.county FROM projects p WHERE {scope}", params)}
    ordered = [c for c in store.counties() if c in present]
    return ordered + sorted(present - set(ordered))


@dataclass
class ProjectDetail:
    project: dict
    enterprise: dict | None
    unit: str
    reports: list[dict] = field(default_factory=list)
    reports_total: int = 0
    appeals: list[dict] = field(default_factory=list)
    appeals_total: int = 0
    instructions: list[dict] = field(default_factory=list)
    instructions_total: int = 0
    users: dict[str, str] = field(default_factory=dict)
    can_report: bool = False


def project_detail(store: Store, act: Actor, ref: str, *, limit: int = 30) -> ProjectDetail:
    """One project as its detail pane shows it: the enterprise, the progress-report timeline
    (newest first), linked appeals (those the viewer may see) and instructions. The viewer
    must be allowed to see the project. Each list holds at most ``limit`` rows and its total."""
    scope, params = project_scope_sql(store, act, "p")
    row = store.one(f"SELECT p.* FROM projects p WHERE p.ref = ? AND {scope}", [ref, *params])
    if row is None:
        if store.one("SELECT 1 FROM projects WHERE ref = ?", (ref,)):
            raise PermissionDenied.of("project_out_of_scope", who=act.who(), ref=ref)
        raise NotFound.of("no_project", value=ref)
    project = dict(row)
    ent = store.one("SELECT * FROM enterprises WHERE uscc = ?", (project["enterprise_uscc"],))
    reports = [dict(r) for r in store.all(
        "SELECT * FROM progress_reports WHERE project_ref = ? ORDER BY date DESC, id DESC LIMIT ?",
        (ref, limit))]
    reports_total = store.scalar("SELECT COUNT(*) FROM progress_reports WHERE project_ref = ?", (ref,))
    ascope, aparams = appeal_scope_sql(store, act, "a")
    appeals = [dict(r) for r in store.all(
        "SELECT a.ref, a.title, a.state, a.card, a.category, a.deadline, COALESCE(u.name, '') AS unit "
        f"FROM appeals a LEFT JOIN units u ON u.code = a.unit_code WHERE a.project_ref = ? AND {ascope} "
        "ORDER BY a.state = 'closed', a.submitted_at DESC, a.id DESC LIMIT ?", [ref, *aparams, limit])]
    appeals_total = store.scalar(
        f"SELECT COUNT(*) FROM appeals a WHERE a.project_ref = ? AND {ascope}", [ref, *aparams])
    instructions = [dict(r) for r in store.all(
        "SELECT * FROM instructions WHERE project_ref = ? OR appeal_ref IN "
        "(SELECT ref FROM appeals WHERE project_ref = ?) ORDER BY created_at DESC, id DESC LIMIT ?",
        (ref, ref, limit))]
    instructions_total = store.scalar(
        "SELECT COUNT(*) FROM instructions WHERE project_ref = ? OR appeal_ref IN "
        "(SELECT ref FROM appeals WHERE project_ref = ?)", (ref, ref))
    names = {r["reported_by"] for r in reports}
    names |= {i["leader"] for i in instructions} | {i["target_user"] for i in instructions}
    return ProjectDetail(project=project, enterprise=dict(ent) if ent else None,
                         unit=unit_name(store, project["unit_code"]) or "", reports=reports,
                         reports_total=reports_total, appeals=appeals, appeals_total=appeals_total,
                         instructions=instructions, instructions_total=instructions_total,
                         users=user_names(store, names),
                         can_report=rules.project_refusal(act, ref, project["unit_code"]) is None)


def user_names(store: Store, usernames: set[str] | list[str]) -> dict[str, str]:
    names = sorted({u for u in usernames if u})
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    return {r[0]: r[1] for r in store.all(
        f"SELECT username, name FROM users WHERE username IN ({marks})", names)}


# -- instructions ------------------------------------------------------------------------------
INSTRUCTION_VIEWS = ("mine", "issued", "all")
INSTRUCTION_STATES = ("open", "answered", "all")


def instruction_views(act: Actor) -> tuple[str, ...]:
    """The lists a viewer has: instructions to them; a leader's own; everyone's for the
    admin and the supervision office."""
    if act.role == "leader":
        return ("issued", "mine")
    if act.role in ("admin", "supervisor"):
        return ("mine", "all")
    return ("mine",)


@dataclass(frozen=True)
class InstructionFilter:
    view: str = "mine"
    state: str = "open"               # open (not yet replied) | answered | all


@dataclass
class InstructionRow:
    id: int
    leader: str
    leader_name: str
    target_user: str
    target_name: str
    target_unit: str
    project_ref: str | None
    appeal_ref: str | None
    subject: str
    text: str
    created_at: str
    acknowledged_at: str | None
    reply: str
    replied_at: str | None

    @property
    def status(self) -> str:
        """``new`` (not acknowledged), ``acknowledged``, or ``answered``."""
        if self.replied_at:
            return "answered"
        return "acknowledged" if self.acknowledged_at else "new"


def _instruction_where(act: Actor, f: InstructionFilter) -> tuple[str, list[Any]]:
    if f.view not in INSTRUCTION_VIEWS:
        raise ValidationError.of("instruction_view_choice", choices=INSTRUCTION_VIEWS, value=f.view)
    if f.view not in instruction_views(act):
        raise PermissionDenied.of("instruction_view_denied", who=act.who(), view=f.view)
    clauses: list[str] = []
    params: list[Any] = []
    if f.view == "mine":
        clauses.append("i.target_user = ?")
        params.append(act.username)
    elif f.view == "issued":
        clauses.append("i.leader = ?")
        params.append(act.username)
    if f.state == "open":
        clauses.append("i.replied_at IS NULL")
    elif f.state == "answered":
        clauses.append("i.replied_at IS NOT NULL")
    elif f.state != "all":
        raise ValidationError.of("instruction_state_choice", choices=INSTRUCTION_STATES, value=f.state)
    return " AND ".join(clauses) or "1", params


_INSTRUCTION_SELECT = (
    "SELECT i.id, i.leader, COALESCE(l.name, i.leader) AS leader_name, i.target_user, "
    "COALESCE(t.name, i.target_user) AS target_name, COALESCE(u.name, '') AS target_unit, "
    "i.project_ref, i.appeal_ref, COALESCE(p.name, a.title, '') AS subject, i.text, i.created_at, "
    "i.acknowledged_at, i.reply, i.replied_at FROM instructions i "
    "LEFT JOIN users l ON l.username = i.leader LEFT JOIN users t ON t.username = i.target_user "
    "LEFT JOIN units u ON u.code = t.unit_code LEFT JOIN projects p ON p.ref = i.project_ref "
    "LEFT JOIN appeals a ON a.ref = i.appeal_ref ")


def list_instructions(store: Store, act: Actor, f: InstructionFilter = InstructionFilter(), *,
                      limit: int = 50, offset: int = 0) -> list[InstructionRow]:
    """One page of instructions: open ones oldest first (the longest waiting on top),
    otherwise newest first."""
    where, params = _instruction_where(act, f)
    order = "i.created_at, i.id" if f.state == "open" else "i.created_at DESC, i.id DESC"
    rows = store.all(f"{_INSTRUCTION_SELECT} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                     [*params, limit, offset])
    return [InstructionRow(**dict(r)) for r in rows]


def count_instructions(store: Store, act: Actor, f: InstructionFilter = InstructionFilter()) -> int:
    where, params = _instruction_where(act, f)
    return store.scalar(f"SELECT COUNT(*) FROM instructions i WHERE {where}", params)


def instruction(store: Store, act: Actor, iid: int) -> InstructionRow:
    """One instruction, if the viewer wrote it, received it, or sees every instruction."""
    row = store.one(f"{_INSTRUCTION_SELECT} WHERE i.id = ?", (iid,))
    if row is None:
        raise NotFound.of("no_instruction", id=iid)
    ins = InstructionRow(**dict(row))
    if act.username not in (ins.leader, ins.target_user) and "all" not in instruction_views(act):
        raise PermissionDenied.of("instruction_out_of_scope", who=act.who(), id=iid)
    return ins


@dataclass
class Recipient:
    username: str
    name: str
    role: str
    unit: str
    relevant: bool      # a user of the unit that holds the project or appeal


def instruction_recipients(store: Store, act: Actor, *, project_ref: str | None = None,
                           appeal_ref: str | None = None, text: str | None = None,
                           limit: int = 30) -> list[Recipient]:
    """Users an instruction may be written to (active liaisons, admins, supervisors and
    leaders, not the leader writing it), at most ``limit``: matching ``text`` (name, user name
    or unit) if given; those of the unit holding the project or appeal first."""
    unit = None
    if appeal_ref:
        unit = store.scalar("SELECT unit_code FROM appeals WHERE ref = ?", (appeal_ref,))
    elif project_ref:
        unit = store.scalar("SELECT unit_code FROM projects WHERE ref = ?", (project_ref,))
    where, params = "", []
    if text and text.strip():
        needle = _like(text.strip())
        where = ("AND (s.name LIKE ? ESCAPE '\\' OR s.username LIKE ? ESCAPE '\\' "
                 "OR u.name LIKE ? ESCAPE '\\')")
        params = [needle, needle, needle]
    rows = store.all(
        "SELECT s.username, s.name, s.role, COALESCE(u.name, '') AS unit, "
        "(s.unit_code IS NOT NULL AND s.unit_code = ?) AS relevant FROM users s "
        "LEFT JOIN units u ON u.code = s.unit_code WHERE s.active = 1 AND s.username != ? "
        f"AND s.role IN ('liaison', 'admin', 'supervisor', 'leader') {where} "
        "ORDER BY relevant DESC, s.role != 'liaison', u.rowid, s.username LIMIT ?",
        [unit, act.username, *params, limit])
    return [Recipient(r["username"], r["name"], r["role"], r["unit"], bool(r["relevant"])) for r in rows]


def open_instructions_count(store: Store, act: Actor) -> int:
    """Instructions to the viewer not yet answered (the list's tab count)."""
    return store.scalar("SELECT COUNT(*) FROM instructions WHERE target_user = ? AND replied_at IS NULL",
                        (act.username,))


# -- content -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContentFilter:
    kind: str | None = None
    level: str | None = None
    state: str | None = None
    text: str | None = None


@dataclass
class ContentRow:
    id: int
    kind: str
    level: str
    title: str
    tags: str
    source_unit: str
    state: str
    created_by: str
    updated_at: str
    published_at: str | None
    listen_today: int
    autosaved: int


def _content_where(f: ContentFilter) -> tuple[str, list[Any]]:
    clauses, params = ["1"], []
    if f.kind:
        if f.kind not in CONTENT_KINDS:
            raise ValidationError.of("content_kind_choice", choices=CONTENT_KINDS, value=f.kind)
        clauses.append("c.kind = ?")
        params.append(f.kind)
    if f.level:
        if f.level not in CONTENT_LEVELS:
            raise ValidationError.of("content_level_choice", choices=CONTENT_LEVELS, value=f.level)
        clauses.append("c.level = ?")
        params.append(f.level)
    if f.state:
        if f.state not in CONTENT_STATES:
            raise ValidationError.of("content_state_choice", choices=CONTENT_STATES, value=f.state)
        clauses.append("c.state = ?")
        params.append(f.state)
    if f.text and f.text.strip():
        needle = _like(f.text.strip())
        clauses.append("(c.title LIKE ? ESCAPE '\\' OR c.tags LIKE ? ESCAPE '\\' "
                       "OR c.source_unit LIKE ? ESCAPE '\\')")
        params += [needle, needle, needle]
    return " AND ".join(clauses), params


def list_content(store: Store, username: str, f: ContentFilter = ContentFilter(), *,
                 day: str | None = None, limit: int = 50, offset: int = 0) -> list[ContentRow]:
    """One page of content items, the most recently changed first; ``listen_today`` marks
    the daily listen of ``day`` (default today), ``autosaved`` an unsaved edit of
    ``username``'s that can be restored."""
    day = day or timeutil.iso()[:10]
    where, params = _content_where(f)
    rows = store.all(
        "SELECT c.id, c.kind, c.level, c.title, c.tags, c.source_unit, c.state, c.created_by, "
        "c.updated_at, c.published_at, "
        "EXISTS (SELECT 1 FROM daily_listen d WHERE d.date = ? AND d.content_id = c.id) AS listen_today, "
        "EXISTS (SELECT 1 FROM editor_autosave s WHERE s.username = ? AND s.item = CAST(c.id AS TEXT)) "
        "AS autosaved "
        f"FROM content c WHERE {where} ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
        [day, username, *params, limit, offset])
    return [ContentRow(**dict(r)) for r in rows]


def count_content(store: Store, f: ContentFilter = ContentFilter()) -> int:
    where, params = _content_where(f)
    return store.scalar(f"SELECT COUNT(*) FROM content c WHERE {where}", params)


def content_item(store: Store, cid: int) -> dict:
    """One content item, with ``created_by_name`` (the author's name)."""
    row = store.one("SELECT c.*, COALESCE(u.name, c.created_by) AS created_by_name FROM content c "
                    "LEFT JOIN users u ON u.username = c.created_by WHERE c.id = ?", (cid,))
    if row is None:
        raise NotFound.of("no_content", id=cid)
    return dict(row)


@dataclass
class DailyListen:
    date: str
    content_id: int
    title: str
    chosen_by: str


def daily_listen(store: Store, day: str | None = None) -> DailyListen | None:
    """The 每日一听 of ``day`` (default today), if one was chosen."""
    day = day or timeutil.iso()[:10]
    row = store.one("SELECT d.date, d.content_id, COALESCE(c.title, '') AS title, d.chosen_by "
                    "FROM daily_listen d LEFT JOIN content c ON c.id = d.content_id WHERE d.date = ?",
                    (day,))
    return DailyListen(**dict(row)) if row else None


def autosaves(store: Store, username: str) -> list[tuple[str, str, str]]:
    """(item, title typed, saved_at) of ``username``'s unsaved editor forms."""
    import json

    out = []
    for r in store.all("SELECT item, fields, saved_at FROM editor_autosave WHERE username = ? "
                       "ORDER BY saved_at DESC", (username,)):
        try:
            title = str(json.loads(r["fields"]).get("title", ""))
        except ValueError:
            title = ""
        out.append((r["item"], title, r["saved_at"]))
    return out


# -- the dashboard's months ----------------------------------------------------------------------
def dashboard_months(store: Store, at: str | None = None, *, limit: int = 36) -> list[str]:
    """``YYYY-MM`` of the months the dashboard can show, newest first: from the first appeal's
    month (at most ``limit`` months back) to the month of ``at``."""
    at = timeutil.iso(at)
    first = store.scalar("SELECT MIN(submitted_at) FROM appeals") or at
    y, m = int(at[:4]), int(at[5:7])
    fy, fm = int(first[:4]), int(first[5:7])
    out = []
    while len(out) < limit and (y, m) >= (fy, fm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out or [at[:7]]


def today() -> _dt.date:
    return timeutil.local_date(timeutil.iso())
