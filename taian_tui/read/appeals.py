"""Read-side queries shared by the CLI and the console: appeal lists paged from SQLite
with the viewer's scope applied, one appeal's full record and timeline, header counts.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

from taian_tui.domain import escalation, search, timeutil
from taian_tui.domain import labels, rules
from taian_tui.domain.models import CATEGORIES, category_code
from taian_tui.domain.rules import APPEAL_STATES, OPEN_STATES
from taian_tui.store import Store
from taian_tui.domain.refusals import ValidationError
from taian_tui.domain.actors import Actor, appeal_scope_sql, appeal_scope_units


@dataclass(frozen=True)
class AppealFilter:
    states: tuple[str, ...] = ()
    category: str | None = None
    card: str | None = None          # blue | yellow | red | "any" | "none"
    unit: str | None = None          # unit code
    due_today: bool = False
    overdue: bool = False
    text: str | None = None
    sort: str = "deadline"           # deadline | submitted | ref
    submitted_from: str | None = None    # submitted at or after this time (a stored time)
    submitted_until: str | None = None   # submitted at or before this time
    turns: str | None = None         # blue | yellow | red: the card the sweep at the start of the
                                     # next working day would give it, and one now would not


@dataclass
class AppealRow:
    id: int
    ref: str
    card: str
    category: str
    enterprise: str
    title: str
    unit_code: str | None
    unit: str
    arrived_at: str | None
    deadline: str | None
    state: str
    pending_extension: bool = False
    open_order: bool = False
    days_left: int | None = None
    return_until: str | None = None
    answered_at: str | None = None
    order_due: str | None = None          # the open supervision order's due time
    order_overdue: bool = False           # ... and it has passed
    deadline_estimated: bool = False      # counted Monday-Friday (a year without holiday data)

    def facts(self) -> rules.AppealFacts:
        """What ``rules`` needs to know to offer an action on this row (it is in the
        viewer's scope, being on their list)."""
        return rules.AppealFacts(ref=self.ref, state=self.state, unit_code=self.unit_code,
                                 arrived_at=self.arrived_at, deadline=self.deadline,
                                 return_until=self.return_until,
                                 pending_extension=bool(self.pending_extension),
                                 open_order=bool(self.open_order), red_card=self.card == "red")


@dataclass
class HeaderCounts:
    open: int
    due_today: int
    carded: int


_SORTS = {
    "deadline": "a.due_sort, a.id",  # due_sort: the deadline, or '9999' (last) without one
    "submitted": "a.submitted_at DESC, a.id DESC",
    "ref": "a.ref",
}


def appeal_where(store: Store, act: Actor, f: AppealFilter, at: str) -> tuple[str, list[Any]]:
    """The SQL condition on ``appeals a`` (and its parameters) that selects the appeals ``f``
    selects in ``act``'s scope as of ``at``: the one definition of the appeal list's filters
    (``list_appeals``, ``count_appeals``, the exports of ``read.exports``). A bad filter is a
    ValidationError."""
    scope, params = appeal_scope_sql(store, act, "a")
    scope_params = list(params)
    clauses = [scope]
    if f.states:
        bad = [x for x in f.states if x not in APPEAL_STATES]
        if bad:
            raise ValidationError.of("unknown_state", value=bad[0], choices=APPEAL_STATES)
    # due today and overdue are of open appeals: one condition on the state, the states asked
    # for that are open, so that the partial index of open appeals alone counts them (the
    # inbox's 待办 with due today: 170 ms -> a few on a million appeals)
    wanted = set(f.states or APPEAL_STATES)
    if f.due_today or f.overdue:
        wanted &= set(OPEN_STATES)
    if f.states or f.due_today or f.overdue:
        # literal (validated) values, so that SQLite can use the partial index of open appeals
        # (in APPEAL_STATES order, as the partial index is written: 'assigned','accepted')
        states = [x for x in APPEAL_STATES if x in wanted]
        clauses.append(f"a.state IN ({','.join(repr(x) for x in states)})" if states else "0")
    if f.category:
        try:
            clauses.append("a.category = ?")
            params.append(category_code(f.category))
        except ValueError:
            raise ValidationError.of("unknown_category", value=f.category,
                                     choices=tuple(CATEGORIES)) from None
    if f.card:
        if f.card == "any":
            clauses.append("a.card != ''")  # as written in the partial indexes of carded appeals
        elif f.card == "none":
            clauses.append("a.card = ''")
        elif f.card in ("blue", "yellow", "red"):
            clauses.append("a.card = ?")
            params.append(f.card)
        else:
            raise ValidationError.of("card_choice", value=f.card)
    if f.unit:
        code = store.unit(f.unit).code
        clauses.append("a.unit_code = ?")
        params.append(code)
    day = timeutil.local_date(at)
    # due_sort is the deadline (or '9999'): a range on it is a range on the sort index
    if f.due_today:
        bounds = [timeutil.start_of_day(day), timeutil.end_of_day(day)]
        clauses.append("a.due_sort BETWEEN ? AND ?")
        params += bounds
        if f.unit or appeal_scope_units(act):
            # one unit's: the same range on the deadline lets SQLite count in the unit's index
            # (unit, state, deadline) instead of checking the city's due-today rows one by
            # one (70 ms -> 0.5 ms on a million appeals); city-wide, due_sort's own index
            # counts without reading a row, and the extra clause would make it read them
            clauses.append("a.deadline BETWEEN ? AND ?")
            params += bounds
    if f.overdue:
        clauses.append("a.due_sort < ?")
        params.append(at)
    if f.turns:
        if f.turns not in ("blue", "yellow", "red"):
            raise ValidationError.of("card_choice", value=f.turns)
        # the forecast's own appeals (escalation.turning_sql: the sweep's rule ahead of the
        # clock), read in the viewer's scope: a unit's liaison reads their unit's rows only
        ahead, ahead_params = escalation.turning_sql(store, f.turns, at, scope=scope,
                                                     scope_params=scope_params)
        clauses.append(f"a.id IN ({ahead})")
        params += ahead_params
    if f.submitted_from:
        clauses.append("a.submitted_at >= ?")
        params.append(timeutil.iso(f.submitted_from))
    if f.submitted_until:
        clauses.append("a.submitted_at <= ?")
        params.append(timeutil.iso(f.submitted_until))
    if f.text:
        # (the state condition above still decides: the index's words only narrow the matches)
        refs, expr = _text_match(f, at, wanted)
        # "+a.id": the matches are a filter on the walk in deadline order, not the driver
        # (driving from 200k matches of a common word and sorting them costs ~6x more)
        words = "+a.id IN (SELECT rowid FROM appeal_search WHERE appeal_search MATCH ?)"
        found = "+a.id IN (SELECT id FROM appeals WHERE ref IN ({}))".format(",".join("?" * len(refs)))
        if refs and expr:
            clauses.append(f"({found} OR {words})")
            params += [*refs, expr]
        elif refs:
            clauses.append(found)
            params += refs
        elif expr:
            clauses.append(words)
            params.append(expr)
    return " AND ".join(clauses), params


def _text_match(f: AppealFilter, at: str, states: Iterable[str]) -> tuple[list[str], str | None]:
    """The refs a search's text may mean (``search.ref_candidates``) and the search index's
    expression of its words (``None``: nothing but a ref, or no word), narrowed by the index's
    words of ``states`` when they are some of the states only."""
    refs, only_ref = search.ref_candidates(f.text, int(at[:4]))
    expr = None if only_ref else search.match_expression(f.text)
    states = set(states)
    if expr and states and states != set(APPEAL_STATES):
        expr = search.in_states(expr, [x for x in APPEAL_STATES if x in states])
    return refs, expr


class AmbiguousRef(ValueError):
    """A bare number that several years' appeals have (``refs``: theirs)."""

    def __init__(self, typed: str, refs: list[str]) -> None:
        super().__init__(typed)
        self.refs = refs


def resolve_ref(store: Store, typed: str) -> str:
    """The stored ref of the appeal ``typed`` names: a ref in any case (``a-2026-0001``,
    `` A-2026-0001 ``), without its letter (``2026-0001``, ``2026-1``), or a bare number
    (``1``: the appeal of that number among the years the console's search looks at,
    ``search.ref_candidates``; :class:`AmbiguousRef` when several years have one); ``typed``
    itself when none does (the caller's lookup then says so)."""
    text = (typed or "").strip()
    if store.scalar("SELECT 1 FROM appeals WHERE ref = ?", (text,)):
        return text
    if store.scalar("SELECT 1 FROM appeals WHERE ref = ?", (text.upper(),)):
        return text.upper()
    rows = store.all("SELECT ref FROM appeals WHERE ref = ? COLLATE NOCASE LIMIT 2", (text,))
    if len(rows) == 1:
        return rows[0][0]
    candidates, _ = search.ref_candidates(text, int(timeutil.iso()[:4]))
    found = [r for r in candidates if store.scalar("SELECT 1 FROM appeals WHERE ref = ?", (r,))]
    if len(found) > 1:
        raise AmbiguousRef(text, found)
    return found[0] if found else text


def count_appeals(store: Store, act: Actor, f: AppealFilter = AppealFilter(),
                  at: str | None = None) -> int:
    at = timeutil.iso(at)
    fast = _search_count(store, act, f, at)
    if fast is not None:
        return fast
    where, params = appeal_where(store, act, f, at)
    return store.scalar(f"SELECT COUNT(*) FROM appeals a WHERE {where}", params)


def _search_count(store: Store, act: Actor, f: AppealFilter, at: str) -> int | None:
    """The count of a city-wide search of words, among all appeals or those in some states
    (the inbox's 待办), and nothing else, from the search index alone: every appeal has its
    row there, with the word of its state (``search.STATE_WORDS``). ``None`` for any other
    filter (the count then walks the appeals)."""
    if not f.text or appeal_scope_sql(store, act, "a") != ("1", []):
        return None
    if dataclasses.replace(f, text=None, states=(), sort=AppealFilter.sort) != AppealFilter():
        return None
    if any(x not in APPEAL_STATES for x in f.states):
        return None                                 # (appeal_where says what is wrong)
    refs, expr = _text_match(f, at, f.states)
    if refs or not expr:
        return None
    return store.scalar("SELECT COUNT(*) FROM appeal_search WHERE appeal_search MATCH ?", (expr,))


def list_appeals(store: Store, act: Actor, f: AppealFilter = AppealFilter(), *,
                 limit: int = 50, offset: int = 0, at: str | None = None) -> list[AppealRow]:
    """One page of appeals, as the viewer may see them."""
    at = timeutil.iso(at)
    where, params = appeal_where(store, act, f, at)
    order = _SORTS.get(f.sort)
    if order is None:
        raise ValidationError.of("sort_choice", choices=tuple(_SORTS))
    # The page's ids first (an index-only walk in sort order), then their rows: joining and
    # sorting whole rows before the LIMIT costs ten times more on a million appeals.
    rows = store.all(
        "SELECT a.id, a.ref, a.card, a.category, COALESCE(e.name, a.enterprise_uscc) AS enterprise, "
        "a.title, a.unit_code, COALESCE(u.name, '') AS unit, a.arrived_at, a.deadline, a.state, "
        "EXISTS (SELECT 1 FROM extensions x WHERE x.appeal_id = a.id AND x.state = 'pending') "
        "AS pending_extension, "
        "(SELECT MIN(o.due_at) FROM supervision_orders o WHERE o.appeal_id = a.id AND o.state = 'open') "
        "AS order_due, a.answered_at, a.deadline_estimated "
        f"FROM (SELECT a.id FROM appeals a WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) p "
        "JOIN appeals a ON a.id = p.id "
        "LEFT JOIN enterprises e ON e.uscc = a.enterprise_uscc "
        f"LEFT JOIN units u ON u.code = a.unit_code ORDER BY {order}", [*params, limit, offset])
    cal = store.calendar()
    today = timeutil.local_date(at)
    out = []
    for r in rows:
        row = AppealRow(**dict(r))
        row.open_order = row.order_due is not None
        row.order_overdue = row.open_order and row.order_due < at
        if row.deadline and row.state in OPEN_STATES:
            row.days_left = days_left(cal, today, row.deadline, at)
            row.return_until = rules.return_until(cal, row.arrived_at)
        out.append(row)
    return out


def header_counts(store: Store, act: Actor, at: str | None = None) -> HeaderCounts:
    at = timeutil.iso(at)
    return HeaderCounts(
        open=count_appeals(store, act, AppealFilter(states=OPEN_STATES), at),
        due_today=count_appeals(store, act, AppealFilter(due_today=True), at),
        carded=count_appeals(store, act, AppealFilter(states=OPEN_STATES, card="any"), at),
    )


def timeline(store: Store, ref: str) -> list[dict]:
    """Who did what, when, from the audit trail, with the cards raised (in time order)."""
    appeal = store.appeal(ref)
    items: list[dict] = []
    for row in store.audit_rows("appeal", ref):
        items.append({"at": row.at, "actor": row.actor, "action": row.action,
                      "before": json.loads(row.before), "after": json.loads(row.after)})
    for ev in store.card_events(appeal.id):
        items.append({"at": ev.applied_at, "actor": "system:escalate", "action": f"card.{ev.card}",
                      "before": {"card": ev.previous},
                      "after": {"card": ev.card, "threshold_at": ev.threshold_at}})
    items.sort(key=lambda i: (i["at"], 0 if i["action"].startswith("card.") else 1))
    # the sweep's own audit row duplicates the card events for a single appeal
    return [i for i in items if i["action"] != "escalate"]


def appeal_record(store: Store, ref: str) -> dict:
    """``taian appeal show --json``: ref, state, card, unit, deadline, history, and the rest."""
    a = store.appeal(ref)
    unit = store.unit(a.unit_code).name if a.unit_code else None
    ent = store.one("SELECT name FROM enterprises WHERE uscc = ?", (a.enterprise_uscc,))
    orders = store.orders(a.id)
    return {
        "ref": a.ref,
        "state": a.state,
        "card": a.card or None,
        "unit": a.unit_code,
        "unit_name": unit,
        "deadline": a.deadline,
        "deadline_estimated": bool(a.deadline_estimated),
        "category": a.category,
        "category_label": labels.label("category", a.category),
        "county": a.county,
        "enterprise_uscc": a.enterprise_uscc,
        "enterprise": ent["name"] if ent else None,
        "project_ref": a.project_ref,
        "title": a.title,
        "body": a.body,
        "submitted_at": a.submitted_at,
        "arrived_at": a.arrived_at,
        "answered_at": a.answered_at,
        "reply": a.reply or None,
        "rating": a.rating,
        "supervision_orders": [{"id": o.id, "origin": o.origin, "opened_at": o.opened_at,
                                "due_at": o.due_at, "state": o.state} for o in orders],
        "extensions": [{"id": x.id, "days": x.days, "state": x.state, "reason": x.reason,
                        "requested_at": x.requested_at, "new_deadline": x.new_deadline}
                       for x in store.extensions(a.id)],
        "cards": [{"card": e.card, "previous": e.previous or None, "threshold_at": e.threshold_at,
                   "applied_at": e.applied_at, "taken_up_at": e.taken_up_at}
                  for e in store.card_events(a.id)],
        "history": timeline(store, ref),
    }


def days_left(cal: Any, today: _dt.date, deadline: str, at: str) -> int:
    """Working days from ``today`` to the deadline's day (0: due today); once the deadline
    has passed, at most -1 (overdue), also on a weekend after a Friday's deadline, when no
    working day has passed since."""
    n = cal.working_days_between(today, timeutil.local_date(deadline))
    return min(n, -1) if deadline < at else n


def working_days_left(store: Store, deadline: str | None, at: str | None = None) -> int | None:
    if not deadline:
        return None
    at = timeutil.iso(at)
    return days_left(store.calendar(), timeutil.local_date(at), deadline, at)
