"""The lists a supervisor takes to a meeting (``taian export appeals|orders|red-cards|rates``),
as tables for ``dataio.export`` to write: a sheet name, a title row (what, as of when,
filtered how, in whose scope), typed columns with Chinese headers, and rows streamed from
one read transaction (the file as of one moment, however long the export takes).

* **appeals** — ``appeals.list_appeals`` itself, page by page: the viewer's scope and the
  filters of ``taian appeal list`` (state, card, unit, category, search words), in its
  order (deadline first); ``--month``: submitted in that month (the list's own filter,
  ``AppealFilter.submitted_from``/``submitted_until``: in the query, not after it).
* **orders** (督办单) — every supervision order of the appeals those filters select, by
  opening time; ``--month``: opened in that month.
* **red cards** — the appeals that took a red card (``card_events``), those not yet taken
  up by 纪委监委 first (the red-card screen's order); ``--month``: the red threshold passed
  in that month (as ``taian stats`` counts cards raised).
* **rates** — ``stats.unit_rates``: the units' 三率 for the month, worst first (the
  dashboard's and ``taian stats``'s ranking).
* **projects** — ``projects.list_projects`` itself, page by page: the project board's
  scope, filters (library level, stage, county, category, visualised, search) and order
  (by stage, then investment), with the board's columns (the console's export; no command).

Codes are shown as their Chinese labels (``domain.labels``): 状态 已签收, not accepted.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Sequence

from taian_tui.domain import labels, timeutil
from taian_tui.domain.actors import Actor
from taian_tui.domain.models import category_code
from taian_tui.domain.rules import OPEN_STATES
from taian_tui.read import appeals, projects, stats
from taian_tui.read.appeals import AppealFilter
from taian_tui.read.projects import ProjectFilter
from taian_tui.store import Store

PAGE = 2000                 # appeals read per page of ``list_appeals``

#: ``taian export KIND``: the lists built here.
KINDS = ("appeals", "orders", "red-cards", "rates")

#: What the console names the file of each of its lists (``诉求-zrzy1-20261020-090000.xlsx``):
#: the workbook is a Chinese document (title, headers, sheet), so is its name, whatever the
#: console's language.
FILE_NAMES = {"appeals": "诉求", "board": "督办看板", "red-cards": "红牌", "projects": "重大项目",
              "rates": "三率排名"}


@dataclass
class Table:
    """What ``dataio.export.write_table`` writes: ``columns`` are (Chinese header, kind:
    text, int, wan, percent, date, datetime); ``rows`` is an iterator (consumed once)."""
    kind: str
    sheet: str
    title: str
    columns: tuple[tuple[str, str], ...]
    rows: Iterator[Sequence[Any]]


# -- the title ----------------------------------------------------------------------------------------
def shown_time(at: str) -> str:
    """``2026-11-27T09:00:00+08:00`` -> ``2026-11-27 09:00:00（北京时间）``."""
    return f"{at[:10]} {at[11:19]}（北京时间）"


def _scope(store: Store, act: Actor) -> str:
    if act.user is None:
        return "全部（操作员）"
    role = labels.label("role", act.role)
    unit = f"，{store.unit(act.unit_code).name}" if act.unit_code else ""
    return f"{act.username}（{role}{unit}）可见的"


def describe_filter(store: Store, f: AppealFilter, month: stats.Period | None, month_what: str) -> str:
    """The filters, in words: ``状态 已签收；承办单位 市自然资源和规划局``, or ``全部``."""
    parts = []
    if f.states:
        parts.append("状态 " + "、".join(labels.label("state", s) for s in f.states))
    if f.card:
        cards = {"any": "有挂牌", "none": labels.label("card", "none")}
        parts.append("挂牌 " + cards.get(f.card, labels.label("card", f.card)))
    if f.unit:
        parts.append("承办单位 " + store.unit(f.unit).name)
    if f.category:
        parts.append("类别 " + labels.label("category", category_code(f.category)))
    if f.due_today:
        parts.append("今日到期")
    if f.overdue:
        parts.append("已超期")
    if f.turns:
        parts.append("下一工作日转" + labels.label("card", f.turns))
    if f.text:
        parts.append(f"关键词 “{f.text}”")
    if f.submitted_from and f.submitted_until:
        parts.append(f"提交于 {f.submitted_from[:10]} 至 {f.submitted_until[:10]}")
    elif f.submitted_from:
        parts.append(f"提交于 {f.submitted_from[:10]} 起")
    elif f.submitted_until:
        parts.append(f"提交于 {f.submitted_until[:10]} 及以前")
    if f.sort != "deadline":
        parts.append("按" + labels.label("sort", f.sort) + "排序")
    if month is not None:
        parts.append(f"{month.month} {month_what}")
    return "；".join(parts) or "全部"


def _filtered(kind: str, sheet: str, what: str, month_what: str, columns: tuple[tuple[str, str], ...],
              store: Store, act: Actor, f: AppealFilter, month: stats.Period | None, at: str | None,
              rows: Callable[[str], Iterator[Sequence[Any]]]) -> Table:
    """A list of the appeals ``f`` selects in ``act``'s scope: a bad filter is refused here,
    before anything is written; the title says what (``what``), whose scope, which filters
    (``month_what``: what ``month`` bounds) and as of when; ``rows(at)`` are read inside one
    read transaction (opened at the first row, closed at the last or when the writer stops)."""
    at = timeutil.iso(at)
    appeals.count_appeals(store, act, f, at)
    title = (f"{what} · 范围：{_scope(store, act)} · 筛选：{describe_filter(store, f, month, month_what)}"
             f" · 数据截至 {shown_time(at)}")

    def snapshot() -> Iterator[Sequence[Any]]:
        with stats.snapshot(store):
            yield from rows(at)

    return Table(kind, sheet, title, columns, snapshot())


def _yes(flag: Any) -> str:
    return "是" if flag else ""


# -- appeals -------------------------------------------------------------------------------------------
APPEAL_COLUMNS = (
    ("编号", "text"), ("状态", "text"), ("挂牌", "text"), ("类别", "text"), ("县市区", "text"),
    ("企业", "text"), ("统一社会信用代码", "text"), ("标题", "text"), ("承办单位", "text"),
    ("提交时间", "datetime"), ("到达时间", "datetime"), ("办理期限", "datetime"), ("剩余工作日", "int"),
    ("答复时间", "datetime"), ("企业评价", "text"), ("督办中", "text"), ("延期待批", "text"),
)


def _card(card: str | None) -> str:
    return labels.label("card", card) if card else ""


def submitted_month(f: AppealFilter, month: stats.Period | None) -> AppealFilter:
    """``f`` narrowed to the appeals submitted in ``month`` (up to its as-of time), or ``f``."""
    if month is None:
        return f
    last = timeutil.end_of_day(month.last_day)
    return replace(f, submitted_from=month.start, submitted_until=min(last, month.at))


def appeals_table(store: Store, act: Actor, f: AppealFilter = AppealFilter(), *,
                  month: stats.Period | None = None, at: str | None = None) -> Table:
    """The appeals ``taian appeal list`` lists with these filters (``appeals.list_appeals``,
    page by page; with ``month``, those submitted in it: ``submitted_month``), with what a
    meeting asks of each."""
    listed = submitted_month(f, month)

    def rows(at: str) -> Iterator[tuple]:
        offset = 0
        while True:
            page = appeals.list_appeals(store, act, listed, limit=PAGE, offset=offset, at=at)
            if not page:
                return
            offset += len(page)
            more = {r["id"]: r for r in store.all(
                "SELECT id, county, enterprise_uscc, submitted_at, answered_at, rating FROM appeals "
                f"WHERE id IN ({','.join('?' * len(page))})", [r.id for r in page])}
            for r in page:
                x = more[r.id]
                yield (r.ref, labels.label("state", r.state), _card(r.card), labels.label("category", r.category),
                       x["county"], r.enterprise, x["enterprise_uscc"], r.title, r.unit, x["submitted_at"],
                       r.arrived_at, r.deadline, r.days_left if r.state in OPEN_STATES else None,
                       x["answered_at"], x["rating"] or "", _yes(r.open_order), _yes(r.pending_extension))

    return _filtered("appeals", "诉求清单", "诉求清单", "提交", APPEAL_COLUMNS, store, act, f, month, at, rows)


# -- supervision orders and red cards: the appeals of the same filters ---------------------------------
_APPEAL_JOINS = ("JOIN appeals a ON a.id = {x}.appeal_id "
                 "LEFT JOIN enterprises e ON e.uscc = a.enterprise_uscc "
                 "LEFT JOIN units u ON u.code = a.unit_code")


def _joined(store: Store, act: Actor, f: AppealFilter, at: str, select: str, table: str, where: str,
            month_column: str, month: stats.Period | None, order: str) -> Iterator[Any]:
    """Rows of ``table`` (aliased x, with any joins of its own) joined to their appeal (a),
    its enterprise (e) and unit (u),
    for the appeals that ``appeal list``'s filter and the viewer's scope select
    (``appeals.appeal_where``: the one definition)."""
    scope, params = appeals.appeal_where(store, act, f, at)
    sql = f"SELECT {select} FROM {table} {_APPEAL_JOINS.format(x='x')} WHERE {where} AND {scope}"
    if month is not None:
        sql += f" AND x.{month_column} >= ? AND x.{month_column} < ? AND x.{month_column} <= ?"
        params = [*params, month.start, month.end, month.at]
    return store.conn.execute(f"{sql} ORDER BY {order}", params)


ORDER_COLUMNS = (
    ("督办单号", "int"), ("诉求编号", "text"), ("标题", "text"), ("企业", "text"), ("县市区", "text"),
    ("类别", "text"), ("承办单位", "text"), ("督办来源", "text"), ("开单时间", "datetime"), ("开单人", "text"),
    ("督办期限", "datetime"), ("结束时间", "datetime"), ("督办说明", "text"), ("诉求状态", "text"),
    ("挂牌", "text"),
)


def orders_table(store: Store, act: Actor, f: AppealFilter = AppealFilter(), *,
                 month: stats.Period | None = None, at: str | None = None) -> Table:
    """Every supervision order (督办单) of the appeals these filters select (with ``month``:
    opened in it), by opening time; 结束时间 is empty while the order is open."""
    def rows(at: str) -> Iterator[tuple]:
        for r in _joined(store, act, f, at,
                         "x.id, a.ref, a.title, COALESCE(e.name, a.enterprise_uscc), a.county, a.category, "
                         "COALESCE(u.name, ''), x.origin, x.opened_at, x.opened_by, x.due_at, x.closed_at, "
                         "x.note, a.state, a.card",
                         "supervision_orders x", "1", "opened_at", month, "x.opened_at, x.id"):
            (oid, ref, title, ent, county, cat, unit, origin, opened, by, due, closed, note, state, card) = r
            yield (oid, ref, title, ent, county, labels.label("category", cat), unit,
                   labels.label("order_origin", origin), opened, labels.label("actor", by), due, closed, note,
                   labels.label("state", state), _card(card))

    return _filtered("orders", "督办单", "督办单清单", "开单", ORDER_COLUMNS, store, act, f, month, at, rows)


RED_CARD_COLUMNS = (
    ("诉求编号", "text"), ("标题", "text"), ("企业", "text"), ("县市区", "text"), ("类别", "text"),
    ("承办单位", "text"), ("诉求状态", "text"), ("办理期限", "datetime"), ("督办期限", "datetime"),
    ("挂红牌时间", "datetime"), ("记录时间", "datetime"), ("答复时间", "datetime"), ("接办人", "text"),
    ("接办时间", "datetime"), ("接办说明", "text"),
)


def red_cards_table(store: Store, act: Actor, f: AppealFilter = AppealFilter(), *,
                    month: stats.Period | None = None, at: str | None = None) -> Table:
    """The appeals that took a red card, of those these filters select (with ``month``: the
    red threshold passed in it), not yet taken up first, then by the time the card was
    earned (挂红牌时间: the threshold; 记录时间: when the sweep applied it)."""
    def rows(at: str) -> Iterator[list]:
        for r in _joined(store, act, f, at,
                         "a.ref, a.title, COALESCE(e.name, a.enterprise_uscc), a.county, a.category, "
                         "COALESCE(u.name, ''), a.state, a.deadline, "
                         "(SELECT o.due_at FROM supervision_orders o WHERE o.appeal_id = a.id "
                         " ORDER BY o.id DESC LIMIT 1), x.threshold_at, x.applied_at, a.answered_at, "
                         "COALESCE(t.name, x.taken_up_by), x.taken_up_at, x.taken_up_note",
                         "card_events x LEFT JOIN users t ON t.username = x.taken_up_by",
                         "x.card = 'red'", "threshold_at", month,
                         "x.taken_up_at IS NOT NULL, x.threshold_at, a.id"):
            row = list(r)
            row[4] = labels.label("category", row[4])
            row[6] = labels.label("state", row[6])
            yield row

    return _filtered("red-cards", "红牌", "红牌清单", "挂红牌", RED_CARD_COLUMNS, store, act, f, month, at, rows)


# -- the 三率 ranking ----------------------------------------------------------------------------------
RATE_COLUMNS = (
    ("排名", "int"), ("单位", "text"), ("类型", "text"),
    ("响应率", "percent"), ("按期答复", "int"), ("期限在本月", "int"),
    ("解决率", "percent"), ("未经督办办结", "int"), ("办结", "int"),
    ("满意率", "percent"), ("满意和基本满意", "int"), ("已评价", "int"),
    ("三率平均", "percent"),
)


def rates_table(store: Store, period: stats.Period) -> Table:
    """The units' 三率 for ``period``, worst first: ``stats.unit_rates``, the ranking of the
    dashboard and ``taian stats``, with each rate's numerator and denominator."""
    title = (f"{period.month} 各单位“三率”排名（最差在前） · 数据截至 {shown_time(period.at)}"
             + ("" if period.complete else "（本月至今）"))
    with stats.snapshot(store):
        ranked = stats.unit_rates(store, period)

    def rows() -> Iterator[tuple]:
        for u in ranked:
            yield (u.rank, u.name, labels.label("unit_kind", u.kind),
                   u.response.value, u.response.numerator, u.response.denominator,
                   u.resolution.value, u.resolution.numerator, u.resolution.denominator,
                   u.satisfaction.value, u.satisfaction.numerator, u.satisfaction.denominator, u.score)

    return Table("rates", f"三率排名 {period.month}", title, RATE_COLUMNS, rows())


# -- the project board -----------------------------------------------------------------------------
PROJECT_COLUMNS = (
    ("编号", "text"), ("项目名称", "text"), ("企业", "text"), ("县市区", "text"), ("类别", "text"),
    ("阶段", "text"), ("入库", "text"), ("总投资（万元）", "wan"), ("已完成投资（万元）", "wan"),
    ("进度", "percent"), ("在办诉求", "int"), ("责任单位", "text"), ("可视化", "text"),
)


def describe_project_filter(f: ProjectFilter) -> str:
    """The project board's filters, in words: ``入库 市重点；阶段 在建``, or ``全部``."""
    parts = []
    if f.library:
        parts.append("入库 " + labels.label("library", f.library))
    if f.stage:
        parts.append("阶段 " + labels.label("stage", f.stage))
    if f.county:
        parts.append("县市区 " + f.county)
    if f.category:
        parts.append("类别 " + f.category)
    if f.visualised is not None:
        parts.append("已可视化" if f.visualised else "未可视化")
    if f.text:
        parts.append(f"关键词 “{f.text}”")
    return "；".join(parts) or "全部"


def projects_table(store: Store, act: Actor, f: ProjectFilter = ProjectFilter(), *,
                   at: str | None = None) -> Table:
    """The projects the board shows with these filters (``projects.list_projects``, page by
    page, in its order: by stage, then the largest investment first), with the board's
    columns (the mark of a visualised project last, as 是), its unit and what was invested.
    A bad filter is refused here, before anything is written."""
    at = timeutil.iso(at)
    projects.count_projects(store, act, f)
    title = (f"重大项目清单 · 范围：{_scope(store, act)} · 筛选：{describe_project_filter(f)}"
             f" · 数据截至 {shown_time(at)}")

    def rows() -> Iterator[tuple]:
        with stats.snapshot(store):
            offset = 0
            while True:
                page = projects.list_projects(store, act, f, limit=PAGE, offset=offset)
                if not page:
                    return
                offset += len(page)
                for p in page:
                    yield (p.ref, p.name, p.enterprise, p.county, p.category, labels.label("stage", p.stage),
                           labels.label("library", p.library), p.investment_wan, p.invested_wan,
                           (p.percent or 0) / 100, p.open_appeals, p.unit, _yes(p.visualised))

    return Table("projects", "重大项目", title, PROJECT_COLUMNS, rows())
