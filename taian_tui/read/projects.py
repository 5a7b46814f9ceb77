"""The project board's reads: the projects a viewer may see (``actors.project_scope_sql``),
filtered, counted by library level and stage, and one project's detail (progress reports,
appeals, instructions). Each list paged with LIMIT/OFFSET and counted separately.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taian_tui.domain.models import LIBRARY_LEVELS, PROJECT_STAGES
from taian_tui.store import Store, like_pattern
from taian_tui.domain.refusals import NotFound, PermissionDenied, ValidationError
from taian_tui.domain import rules
from taian_tui.read import directory
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
    unit: str = ""                 # the name of the unit the project is with


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
        needle = like_pattern(f.text.strip())
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
        f"a.{OPEN_APPEAL_SQL}) AS open_appeals, COALESCE(u.name, '') AS unit "
        "FROM projects p LEFT JOIN enterprises e ON e.uscc = p.enterprise_uscc "
        "LEFT JOIN units u ON u.code = p.unit_code "
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
                         users=directory.user_names(store, names),
                         can_report=rules.project_refusal(act, ref, project["unit_code"]) is None)
