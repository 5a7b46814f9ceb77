"""Read-only helpers the console screens need beyond ``queries`` (the escalation board,
pending extensions, disputes, red-card leads, one appeal's full detail). Plain SQL on the
store, the viewer's scope applied through ``workflow.appeal_scope_sql``; every list paged
with LIMIT/OFFSET. No textual here: these run inside worker threads, each on its own
``Store``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taian_tui.read import appeals as queries
from taian_tui.domain import timeutil
from taian_tui.store import NotFound, Store
from taian_tui.domain.operations import Actor, appeal_scope_sql, require_see_appeal

OPEN = "('assigned','accepted')"


@dataclass
class BoardItem:
    id: int
    ref: str
    title: str
    state: str
    card: str
    unit: str
    deadline: str | None
    order_id: int | None
    order_due: str | None
    days_overdue: int | None = None


@dataclass
class BoardColumn:
    card: str
    items: list[BoardItem]
    total: int
    offset: int


def _page(store: Store, cls: type, select: str, base: str, order: str, params: list,
          limit: int, offset: int) -> tuple[list, int]:
    """A page of ``cls`` (``SELECT {select} {base} ORDER BY {order}``) and the count of all."""
    total = store.scalar(f"SELECT COUNT(*) {base}", params)
    rows = store.all(f"SELECT {select} {base} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset])
    return [cls(**dict(r)) for r in rows], total


def _days_overdue(store: Store, deadline: str | None, at: str) -> int | None:
    if not deadline:
        return None
    today = timeutil.local_date(at)
    n = store.calendar().working_days_between(timeutil.local_date(deadline), today)
    return max(n, 0)


def board_column(store: Store, act: Actor, card: str, *, limit: int, offset: int = 0,
                 at: str | None = None) -> BoardColumn:
    """Unanswered appeals (on a unit's clock) holding ``card``, by deadline."""
    at = timeutil.iso(at)
    scope, params = appeal_scope_sql(store, act, "a")
    items, total = _page(
        store, BoardItem,
        "a.id, a.ref, a.title, a.state, a.card, COALESCE(u.name, '') AS unit, a.deadline, "
        "(SELECT o.id FROM supervision_orders o WHERE o.appeal_id = a.id AND o.state = 'open' "
        " ORDER BY o.id DESC LIMIT 1) AS order_id, "
        "(SELECT o.due_at FROM supervision_orders o WHERE o.appeal_id = a.id AND o.state = 'open' "
        " ORDER BY o.id DESC LIMIT 1) AS order_due",
        f"FROM appeals a LEFT JOIN units u ON u.code = a.unit_code "
        f"WHERE {scope} AND a.card = ? AND a.state IN {OPEN}",
        "a.deadline, a.id", [*params, card], limit, offset)
    for item in items:
        item.days_overdue = _days_overdue(store, item.deadline, at)
    return BoardColumn(card, items, total, offset)


@dataclass
class PendingExtension:
    id: int
    ref: str
    title: str
    unit: str
    days: int
    reason: str
    requested_at: str
    requested_by: str
    deadline: str | None


def pending_extensions(store: Store, act: Actor, *, limit: int, offset: int = 0
                       ) -> tuple[list[PendingExtension], int]:
    scope, params = appeal_scope_sql(store, act, "a")
    return _page(store, PendingExtension,
                 "x.id, a.ref, a.title, COALESCE(u.name, '') AS unit, x.days, x.reason, x.requested_at, "
                 "x.requested_by, a.deadline",
                 f"FROM extensions x JOIN appeals a ON a.id = x.appeal_id "
                 f"LEFT JOIN units u ON u.code = a.unit_code WHERE x.state = 'pending' AND {scope}",
                 "x.requested_at, x.id", params, limit, offset)


@dataclass
class DisputedAppeal:
    id: int
    ref: str
    title: str
    unit: str
    rating: str | None
    rating_comment: str
    evaluated_at: str | None


def disputed_appeals(store: Store, act: Actor, *, limit: int, offset: int = 0
                     ) -> tuple[list[DisputedAppeal], int]:
    scope, params = appeal_scope_sql(store, act, "a")
    return _page(store, DisputedAppeal,
                 "a.id, a.ref, a.title, COALESCE(u.name, '') AS unit, a.rating, a.rating_comment, "
                 "a.evaluated_at",
                 f"FROM appeals a LEFT JOIN units u ON u.code = a.unit_code "
                 f"WHERE a.state = 'disputed' AND {scope}",
                 "a.evaluated_at, a.id", params, limit, offset)


@dataclass
class RedCard:
    id: int
    ref: str
    title: str
    state: str
    unit: str
    threshold_at: str
    applied_at: str
    taken_up_by: str | None
    taken_up_at: str | None
    order_due: str | None


def red_cards(store: Store, act: Actor, *, limit: int, offset: int = 0
              ) -> tuple[list[RedCard], int]:
    """Every appeal that was given a red card (also those answered since), those not yet
    taken up first."""
    scope, params = appeal_scope_sql(store, act, "a")
    return _page(store, RedCard,
                 "a.id, a.ref, a.title, a.state, COALESCE(u.name, '') AS unit, e.threshold_at, "
                 "e.applied_at, e.taken_up_by, e.taken_up_at, "
                 "(SELECT o.due_at FROM supervision_orders o WHERE o.appeal_id = a.id "
                 " ORDER BY o.id DESC LIMIT 1) AS order_due",
                 f"FROM card_events e JOIN appeals a ON a.id = e.appeal_id "
                 f"LEFT JOIN units u ON u.code = a.unit_code WHERE e.card = 'red' AND {scope}",
                 "e.taken_up_at IS NOT NULL, e.threshold_at, a.id", params, limit, offset)


@dataclass
class AppealDetail:
    record: dict
    enterprise: dict | None
    project: dict | None
    orders: list[dict] = field(default_factory=list)
    extensions: list[dict] = field(default_factory=list)
    cards: list[dict] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    days_left: int | None = None


def appeal_detail(store: Store, act: Actor, ref: str, at: str | None = None) -> AppealDetail:
    """The whole appeal as the detail pane shows it (the viewer must be allowed to see it)."""
    appeal = store.appeal(ref)
    require_see_appeal(store, act, appeal)
    record = queries.appeal_record(store, ref)
    record["rating_comment"] = appeal.rating_comment
    record["return_reason"] = appeal.return_reason
    record["close_note"] = appeal.close_note
    ent = store.one("SELECT * FROM enterprises WHERE uscc = ?", (appeal.enterprise_uscc,))
    proj = None
    if appeal.project_ref:
        try:
            proj = dict(store.one("SELECT * FROM projects WHERE ref = ?", (appeal.project_ref,)))
        except TypeError:
            proj = None
    orders = [dict(r) for r in store.all(
        "SELECT * FROM supervision_orders WHERE appeal_id = ? ORDER BY id", (appeal.id,))]
    exts = [dict(r) for r in store.all(
        "SELECT * FROM extensions WHERE appeal_id = ? ORDER BY id", (appeal.id,))]
    cards = [dict(r) for r in store.all(
        "SELECT * FROM card_events WHERE appeal_id = ? ORDER BY id", (appeal.id,))]
    actors = {h["actor"] for h in record["history"]} | {c["taken_up_by"] for c in cards if c["taken_up_by"]}
    users: dict[str, str] = {}
    if actors:
        marks = ",".join("?" * len(actors))
        users = {r[0]: r[1] for r in store.all(
            f"SELECT username, name FROM users WHERE username IN ({marks})", list(actors))}
    units = {r[0]: r[1] for r in store.all("SELECT code, name FROM units")}
    days_left = None
    if appeal.state in ("assigned", "accepted") and appeal.deadline:
        days_left = queries.working_days_left(store, appeal.deadline, at)
    return AppealDetail(record=record, enterprise=dict(ent) if ent else None, project=proj,
                        orders=orders, extensions=exts, cards=cards, users=users, units=units,
                        days_left=days_left)


def handling_units(store: Store) -> list[tuple[str, str]]:
    """(code, name) of the units that handle appeals (counties, zones, departments)."""
    return [(u.code, u.name) for u in store.units(("county", "zone", "department"))]


def visible_units(store: Store, act: Actor) -> list[tuple[str, str]]:
    """The units a viewer may filter by: none for a liaison (one unit), else all handling units."""
    if act.role == "liaison":
        return []
    if act.role == "leader" and act.user and act.user.scope != "city":
        return []
    return handling_units(store)


def find_appeal_safe(store: Store, ref: str) -> Any:
    try:
        return store.appeal(ref)
    except NotFound:
        return None
