"""The escalation board of the supervision office: the unanswered appeals of each card
colour, pending extension requests, 不满意 evaluations to review, and the red-card leads.
The viewer's scope is applied through ``actors.appeal_scope_sql``; every list is paged
with LIMIT/OFFSET and counted.
"""
from __future__ import annotations

from dataclasses import dataclass

from taian_tui.domain import escalation, timeutil
from taian_tui.domain import rules
from taian_tui.store import Store
from taian_tui.domain.actors import Actor, appeal_scope_sql, unit_name
from taian_tui.domain.models import CARDS
from taian_tui.read import directory
from taian_tui.read.appeals import working_days_left
from taian_tui.read.directory import Contact
from taian_tui.domain.refusals import ValidationError




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
    order_note: str | None = None
    days_left: int | None = None   # working days to the deadline (0: today; negative: overdue)

    def facts(self) -> rules.AppealFacts:
        return rules.AppealFacts(ref=self.ref, state=self.state, unit_code=None, deadline=self.deadline,
                                 open_order=self.order_id is not None, red_card=self.card == "red")


@dataclass
class BoardColumn:
    card: str
    items: list[BoardItem]
    total: int
    offset: int


def _page(store: Store, cls: type, select: str, base: str, order: str, params: list,
          limit: int, offset: int, count_sql: str | None = None) -> tuple[list, int]:
    """A page of ``cls`` (``SELECT {select} {base} ORDER BY {order}``) and the count of all
    (``SELECT COUNT(*) {base}``, or ``count_sql``, without parameters, where a cheaper query
    counts the same rows)."""
    total = store.scalar(count_sql) if count_sql else store.scalar(f"SELECT COUNT(*) {base}", params)
    rows = store.all(f"SELECT {select} {base} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset])
    return [cls(**dict(r)) for r in rows], total


def board_column(store: Store, act: Actor, card: str, *, limit: int, offset: int = 0,
                 at: str | None = None) -> BoardColumn:
    """Unanswered appeals (on a unit's clock) holding ``card``, by deadline."""
    at = timeutil.iso(at)
    if card not in CARDS:
        raise ValidationError.of("card_choice", value=card)
    scope, params = appeal_scope_sql(store, act, "a")
    # the card as a literal beside "card != ''" (as the partial index of carded appeals is
    # written): the count and the page's ids are then read from that index alone, and only
    # the page's rows are joined (a million appeals: 1.6 s a column -> a few ms)
    where = (f"WHERE {scope} AND a.card = '{card}' AND a.card != '' "
             f"AND a.state IN {rules.OPEN_STATES_SQL}")
    total = store.scalar(f"SELECT COUNT(*) FROM appeals a {where}", params)
    order = "a.deadline, a.id"
    items = [BoardItem(**dict(r)) for r in store.all(
        "SELECT a.id, a.ref, a.title, a.state, a.card, COALESCE(u.name, '') AS unit, a.deadline, "
        "o.id AS order_id, o.due_at AS order_due, o.note AS order_note "
        f"FROM (SELECT a.id FROM appeals a {where} ORDER BY {order} LIMIT ? OFFSET ?) p "
        "JOIN appeals a ON a.id = p.id LEFT JOIN units u ON u.code = a.unit_code "
        "LEFT JOIN supervision_orders o ON o.id = (SELECT MAX(x.id) FROM supervision_orders x "
        "WHERE x.appeal_id = a.id AND x.state = 'open') "
        f"ORDER BY {order}", [*params, limit, offset])]
    for item in items:
        item.days_left = working_days_left(store, item.deadline, at)
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
    state: str = ""

    def facts(self) -> rules.AppealFacts:
        return rules.AppealFacts(ref=self.ref, state=self.state, unit_code=None, deadline=self.deadline,
                                 pending_extension=True)


def pending_extensions(store: Store, act: Actor, *, limit: int, offset: int = 0
                       ) -> tuple[list[PendingExtension], int]:
    scope, params = appeal_scope_sql(store, act, "a")
    return _page(store, PendingExtension,
                 "x.id, a.ref, a.title, COALESCE(u.name, '') AS unit, x.days, x.reason, x.requested_at, "
                 "x.requested_by, a.deadline, a.state",
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

    def facts(self) -> rules.AppealFacts:
        return rules.AppealFacts(ref=self.ref, state="disputed", unit_code=None)


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

    def facts(self) -> rules.AppealFacts:
        return rules.AppealFacts(ref=self.ref, state=self.state, unit_code=None, red_card=True,
                                 red_taken_up_by=self.taken_up_by)


def red_cards(store: Store, act: Actor, *, limit: int, offset: int = 0
              ) -> tuple[list[RedCard], int]:
    """Every appeal that was given a red card (also those answered since), those not yet
    taken up first."""
    scope, params = appeal_scope_sql(store, act, "a")
    # the page walks the red events' index (``card_events_red``) in its order (named: the
    # planner would take the events by colour and time and sort them); city-wide, the
    # count is that index's (every event's appeal exists: a foreign key), not a join per card
    return _page(store, RedCard,
                 "a.id, a.ref, a.title, a.state, COALESCE(u.name, '') AS unit, e.threshold_at, "
                 "e.applied_at, e.taken_up_by, e.taken_up_at, "
                 # the order whose due time passing raised the red card (its threshold), not
                 # a later one (a dispute review's, after the card)
                 "(SELECT o.due_at FROM supervision_orders o WHERE o.appeal_id = a.id "
                 " AND o.due_at <= e.threshold_at ORDER BY o.id DESC LIMIT 1) AS order_due",
                 f"FROM card_events e INDEXED BY card_events_red JOIN appeals a ON a.id = e.appeal_id "
                 f"LEFT JOIN units u ON u.code = a.unit_code WHERE e.card = 'red' AND {scope}",
                 "e.taken_up_at IS NOT NULL, e.threshold_at, e.appeal_id", params, limit, offset,
                 count_sql="SELECT COUNT(*) FROM card_events INDEXED BY card_events_red WHERE card = 'red'"
                 if scope == "1" else None)


# -- the forecast strip and view ------------------------------------------------------------------
def board_forecast(store: Store, act: Actor, at: str | None = None) -> escalation.Forecast:
    """The cards ahead in the viewer's scope (``escalation.forecast``): per unit, how many
    appeals the sweep at the start of the next working day, and of the 5th, would turn blue,
    yellow and red, beyond what it would raise now."""
    scope, params = appeal_scope_sql(store, act, "a")
    return escalation.forecast(store, at, scope=scope, scope_params=params)


@dataclass
class UnitContacts:
    code: str
    name: str
    contacts: list[Contact]


def unit_contacts(store: Store, act: Actor, code: str) -> UnitContacts:
    """Whom to call at a unit about the cards ahead: its active liaisons and its head, with
    their mobile numbers (for the viewers of the board: the supervision office, leaders, the
    admin; a liaison sees their own unit's)."""
    name = unit_name(store, code) or code
    if act.role not in ("admin", "supervisor", "leader") and act.unit_code != code:
        return UnitContacts(code, name, [])
    return UnitContacts(code, name, directory.unit_contacts(store, code))
