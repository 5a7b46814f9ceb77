"""The red/yellow/blue card sweep (DOMAIN.md, "Cards"), set-based in SQL.

Thresholds, for an appeal still unanswered on a unit's clock:
  blue   at ``blue_at`` (start of Day N, "due today");
  yellow after ``deadline``: a supervision order opens, due at the end of the 5th
         working day after the deadline day;
  red    after the open supervision order's ``due_at``.
Each is applied at most once (a card event's id is ``appeal_id * 4 + rank``), in order,
recording both when the threshold passed and when it was applied; cards are never lowered.
The whole sweep is one ``BEGIN IMMEDIATE`` transaction: a concurrent sweep waits for it and
then finds nothing left to do; a killed sweep leaves the file as it was.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from taian_tui.domain import timeutil
from taian_tui.domain.text import clip
from taian_tui.domain.clock import SUPERVISION_DAYS
from taian_tui.store import Store

SYSTEM_ACTOR = "system:escalate"


@dataclass
class Raised:
    ref: str
    card: str
    previous: str
    threshold_at: str

    def as_dict(self) -> dict:
        # no card before: null, as `appeal list --json` gives an appeal without a card
        return {"ref": self.ref, "card": self.card, "previous": self.previous or None,
                "threshold_at": self.threshold_at}


@dataclass
class SweepResult:
    at: str
    dry_run: bool
    raised: dict[str, int] = field(default_factory=lambda: {"blue": 0, "yellow": 0, "red": 0})
    notifications_queued: int = 0
    appeals: list[Raised] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "dry_run": self.dry_run,
            "raised": dict(self.raised),
            "notifications_queued": self.notifications_queued,
            "appeals": [r.as_dict() for r in self.appeals],
            "warnings": list(self.warnings),
        }


class _DryRun(Exception):
    pass


# card -> (rank in the event id, the card before it, the threshold), over temp.sweep_c
_STEPS = {
    "blue": (1, "previous", "blue_at"),
    "yellow": (2, "CASE WHEN blue THEN 'blue' ELSE previous END", "deadline"),
    "red": (3, "CASE WHEN yellow THEN 'yellow' WHEN blue THEN 'blue' ELSE previous END", "red_at"),
}


def register_rule_functions(store: Store, warnings: list[str] | None = None) -> None:
    """Give ``store``'s connection the rule's SQL function ``taian_order_due(deadline)``: the
    due time of the supervision order a yellow card opens (the end of the 5th working day
    after the deadline day, by the store's calendar as it is now), computed once per distinct
    deadline. A year without calendar data adds its warning to ``warnings``."""
    cal = store.calendar()

    @functools.lru_cache(maxsize=None)
    def order_due(deadline: str) -> str:
        due, warns = cal.supervision_due(deadline)
        if warnings is not None:
            for w in warns:
                if w not in warnings:
                    warnings.append(w)
        return due
    store.conn.create_function("taian_order_due", 1, order_due, deterministic=True)


def _rule_sql(source: str, at: str = ":at", sfx: str = "") -> str:
    """The card rule, as SQL: ``source`` yields an appeal's ``previous`` card, ``blue_at``,
    ``deadline``, ``order_due`` and ``order_origin`` (its open supervision order's due time and
    origin, if any), beside whatever else it carries (``_SOURCE_COLUMNS``); this adds what a
    sweep at ``at`` (an SQL parameter) does to it:

      blue{sfx}     no card yet and Day N has begun (``blue_at <= at``);
      yellow{sfx}   no card or blue, past the deadline (``deadline < at``), and no open order
                    that already has the appeal with the supervision office (a yellow card's
                    or a dispute review's; a supervisor's manual order does not excuse it);
      new_due{sfx}  the supervision order that yellow card opens (none if one is open): due at
                    the end of the 5th working day after the deadline day (``taian_order_due``);
      red{sfx}      the open (or newly opened) order's due time has passed;
      red_at{sfx}   that due time; final{sfx}: the card the appeal ends with.

    The sweep applies it once (``sfx`` empty); the forecast evaluates it at several times on
    the same rows (one ``sfx`` each), which is why it is one definition."""
    due = f"COALESCE(order_due, new_due{sfx})"
    return (f"SELECT *, {due} < {at} AS red{sfx}, {due} AS red_at{sfx}, "
            f"CASE WHEN {due} < {at} THEN 'red' WHEN yellow{sfx} THEN 'yellow' "
            f"WHEN blue{sfx} THEN 'blue' ELSE previous END AS final{sfx} FROM ("
            f"SELECT *, CASE WHEN yellow{sfx} AND order_due IS NULL THEN taian_order_due(deadline) END "
            f"AS new_due{sfx} FROM ("
            f"SELECT *, previous = '' AND blue_at <= {at} AS blue{sfx}, previous IN ('', 'blue') "
            f"AND deadline < {at} AND (order_origin IS NULL OR order_origin = 'manual') AS yellow{sfx} "
            f"FROM ({source})))")


#: What the rule reads of an appeal on a unit's clock (``_rule_sql``'s source columns).
_SOURCE_COLUMNS = ("a.id, a.ref, a.unit_code, a.card AS previous, a.blue_at, a.deadline, "
                   "o.due_at AS order_due, o.origin AS order_origin")


def _candidates_sql(only: str = "") -> str:
    """The sweep's candidates at ``:at``: open appeals whose Day N has begun (blue and yellow),
    or whose open supervision order is overdue (red), and not yet red."""
    return ("SELECT " + _SOURCE_COLUMNS + " "
            "FROM appeals a LEFT JOIN supervision_orders o ON o.appeal_id = a.id AND o.state = 'open' "
            "WHERE a.state IN ('assigned','accepted') AND a.blue_at <= :at AND a.card != 'red' "
            "AND (a.card = '' "
            "     OR (a.card = 'blue' AND a.deadline < :at AND (o.id IS NULL OR o.origin = 'manual')) "
            "     OR (o.id IS NOT NULL AND o.due_at < :at))" + only + " "
            "UNION ALL "
            "SELECT a.id, a.ref, a.unit_code, a.card, a.blue_at, a.deadline, o.due_at, o.origin "
            "FROM supervision_orders o JOIN appeals a ON a.id = o.appeal_id "
            "WHERE o.state = 'open' AND o.due_at < :at AND a.blue_at > :at AND a.card != 'red' "
            "AND a.state IN ('assigned','accepted')" + only)


_PREFIX = "【泰安重大项目督导】"
_REFS_SHOWN = 3


def _sms_text(card: str, n: int, refs: list[str], title: str, due: str | None,
              order_overdue: bool = False) -> str:
    """One SMS per recipient per card colour per sweep: a unit with 40 appeals due today
    gets one reminder naming the count and some refs, not 40 messages. ``order_overdue``
    (yellow): the orders the card opened are overdue already (a late sweep raised red on
    every appeal of the group too)."""
    if n == 1:
        subject = f"诉求{refs[0]}《{clip(title, 20)}》"
    else:
        subject = f"{n}件诉求（{'、'.join(refs[:_REFS_SHOWN])}{'等' if n > len(refs[:_REFS_SHOWN]) else ''}）"
    if card == "blue":
        return f"{_PREFIX}蓝牌提醒：你单位{subject}今天到期，请于24时前答复。"
    if card == "yellow":
        if order_overdue:
            return f"{_PREFIX}黄牌：你单位{subject}已超期未答复，督办亦已逾期，已推送市纪委监委。"
        limit = f"，督办期限{due[:10]}" if due else ""
        return f"{_PREFIX}黄牌：你单位{subject}已超期未答复，已推送市委市政府督查室督办{limit}。"
    return f"{_PREFIX}红牌：{subject}督办逾期仍未答复，已推送市纪委监委。"


#: Given the finished result (counts, SMS, warnings) and the raised appeals one at a time.
RaisedSink = Callable[[SweepResult, Iterator[Raised]], None]


def sweep(store: Store, at: str | None = None, *, dry_run: bool = False,
          appeal_id: int | None = None, notify: bool | tuple[str, ...] = True,
          applied_at: str | None = None, actor: str = SYSTEM_ACTOR,
          collect: bool | RaisedSink = True) -> SweepResult:
    """Apply every card threshold passed by ``at``. ``appeal_id`` restricts the sweep to one
    appeal (used when a late reply first records the cards it had earned). ``collect=True``
    lists the raised appeals in ``result.appeals``; ``False`` leaves it empty (counts only);
    a function is given the result and the raised appeals as an iterator read from the
    database, so that a million of them are never held at once (``taian escalate --json``
    streams them): after the commit, or before the rollback of a dry run.

    One pass: the candidates (open appeals whose Day N has begun, or whose open supervision
    order is overdue) are gathered once into a temp table with the steps that apply to each;
    then the card history, the yellow cards' supervision orders, each appeal's final card
    and the SMS are written set-wise, all in one transaction."""
    at = timeutil.iso(at)
    applied_at = applied_at or (timeutil.iso() if appeal_id is None else at)
    result = SweepResult(at=at, dry_run=dry_run)
    only = " AND a.id = :only" if appeal_id is not None else ""
    params = {"at": at, "applied": applied_at, "only": appeal_id, "actor": actor}
    # The sweep inserts history rows and orders only for appeals it has just read inside its
    # own write transaction, so the per-row foreign-key lookups (one random read of the
    # appeals table per row) prove nothing; on a whole-file sweep they are a third of the
    # cost. They are switched off for this connection while the sweep runs (the pragma only
    # works outside a transaction, so a sweep nested in another operation keeps them).
    fk_off = not store.in_transaction and appeal_id is None
    if fk_off:
        store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with store.transaction():
            c = store.conn
            outbox_before = store.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox")
            # (the temp table lives until the next sweep on this connection or its close)
            c.execute("DROP TABLE IF EXISTS temp.sweep_c")
            c.execute("CREATE TEMP TABLE sweep_c (id INTEGER PRIMARY KEY, ref TEXT, unit_code TEXT, "
                      "previous TEXT, blue_at TEXT, deadline TEXT, order_due TEXT, order_origin TEXT, "
                      "blue INT, yellow INT, new_due TEXT, red INT, red_at TEXT, final TEXT)")
            # Day N begun (blue_at <= at) covers blue and yellow; an overdue open order, red.
            # An open order from a yellow card or a dispute review already has the appeal with
            # the supervision office: no further yellow. A supervisor's manual order does not
            # excuse the unit's own deadline: yellow is still raised, without a second order.
            # A yellow card's order is due at the end of the 5th working day after the deadline
            # day: the store's calendar, as an SQL function, computed once per distinct deadline
            register_rule_functions(store, result.warnings)
            c.execute("INSERT INTO temp.sweep_c(id, ref, unit_code, previous, blue_at, deadline, order_due, "
                      "order_origin, blue, yellow, new_due, red, red_at, final) "
                      + _rule_sql(_candidates_sql(only)), params)
            c.execute("DELETE FROM temp.sweep_c WHERE final = previous")
            counts = c.execute("SELECT COALESCE(SUM(blue), 0), COALESCE(SUM(yellow), 0), "
                               "COALESCE(SUM(red), 0) FROM temp.sweep_c").fetchone()
            result.raised = {"blue": counts[0], "yellow": counts[1], "red": counts[2]}
            if any(counts):
                for card in ("blue", "yellow", "red"):
                    c.execute(f"UPDATE appeals SET card = '{card}' WHERE id IN "
                              f"(SELECT id FROM temp.sweep_c WHERE final = '{card}')")
                # one ordered insert: the event ids ascend, so the B-tree is appended to
                c.execute("INSERT INTO card_events(id, appeal_id, card, previous, threshold_at, applied_at) "
                          "SELECT * FROM (" + " UNION ALL ".join(
                              f"SELECT id * 4 + {rank}, id, '{card}', {previous}, {threshold}, :applied "
                              f"FROM temp.sweep_c WHERE {card}"
                              for card, (rank, previous, threshold) in _STEPS.items()) + ") ORDER BY 1",
                          params)
                c.execute("INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at, note) "
                          "SELECT id, 'yellow', deadline, :actor, new_due, '黄牌自动督办' "
                          "FROM temp.sweep_c WHERE yellow AND new_due IS NOT NULL", params)
                # (``notify``: every card's SMS, none, or those of the cards named)
                for card in ("blue", "yellow", "red") if notify is True else (notify or ()):
                    _queue_sms(store, card, applied_at)
            result.notifications_queued = store.scalar(
                "SELECT COUNT(*) FROM outbox WHERE id > ?", (outbox_before,))
            if appeal_id is None:
                est = store.all("SELECT substr(deadline, 1, 4) AS year, COUNT(*) AS n FROM appeals "
                                "WHERE deadline_estimated = 1 AND state IN ('assigned','accepted') "
                                "GROUP BY year ORDER BY year")
                if est:
                    n = sum(r["n"] for r in est)
                    result.warnings.append(
                        f"{n} open appeal{'s have' if n != 1 else ' has a'} deadline{'s' if n != 1 else ''} "
                        "counted Monday-Friday: "
                        f"no holiday data for {', '.join(r['year'] for r in est)} "
                        "(add it with `taian calendar import FILE`)")
                # the open supervision orders due in a year without data (their 5 working days
                # counted Monday-Friday) of appeals not yet red: red follows their due time (unless the run's own
                # counting already said so of that year)
                cal = store.calendar()
                later = [(int(r["year"]), r["n"]) for r in store.all(
                    "SELECT substr(o.due_at, 1, 4) AS year, COUNT(*) AS n FROM supervision_orders o "
                    "JOIN appeals a ON a.id = o.appeal_id WHERE o.state = 'open' AND a.card != 'red' "
                    f"AND a.{_OPEN} GROUP BY year ORDER BY year")
                    if not cal.has_year(int(r["year"]))
                    and cal.missing_year_warning(int(r["year"])) not in result.warnings]
                if later:
                    n = sum(k for _, k in later)
                    result.warnings.append(
                        f"{n} open supervision order{'s are' if n != 1 else ' is'} due in "
                        f"{', '.join(str(y) for y, _ in later)}, counted Monday-Friday: no holiday data "
                        "(add it with `taian calendar import FILE`)")
            # a run of the whole sweep is recorded even when it raised nothing (the trail shows
            # that cron ran on a quiet day); an appeal's own (before its reply) when it raised
            if any(counts) or appeal_id is None:
                store.audit(actor, "escalate", "sweep" if appeal_id is None else "appeal",
                            at if appeal_id is None else store.appeal_by_id(appeal_id).ref,
                            None,
                            {"at": at, "raised": result.raised, "card_events_applied_at": applied_at,
                             "notifications_queued": result.notifications_queued},
                            at=applied_at)
            if dry_run:
                _hand_over(store, result, collect)   # (the rollback takes the temp table)
                raise _DryRun()
        if not dry_run:
            _hand_over(store, result, collect)       # outside the write lock
    except _DryRun:
        pass
    finally:
        if fk_off:
            store.conn.execute("PRAGMA foreign_keys = ON")
    return result


def _hand_over(store: Store, result: SweepResult, collect: bool | RaisedSink) -> None:
    if collect is False:
        return
    sink: RaisedSink = (lambda r, raised: r.appeals.extend(raised)) if collect is True else collect
    sink(result, _raised(store))


def _raised(store: Store) -> Iterator[Raised]:
    """The appeals of the last sweep on this connection (its temp table), in the order the
    cards were applied: every blue, then every yellow, then every red; read as iterated."""
    for card, (_, previous, threshold) in _STEPS.items():
        for r in store.conn.execute(f"SELECT ref, {previous}, {threshold} FROM temp.sweep_c "
                                    f"WHERE {card} ORDER BY {threshold}, id"):
            yield Raised(r[0], card, r[1], r[2])


def _queue_sms(store: Store, card: str, applied_at: str) -> None:
    """Queue the SMS of one card colour: blue to the unit's liaisons; yellow to the liaisons
    and the unit head; red to the supervisors. Each SMS is keyed by what it is about: the
    group of appeals that took this card (per unit; all units for red), named by its first
    appeal's id. An appeal takes each card once, ever, so two groups never share an appeal:
    two sweeps, even in the same second, never drop each other's SMS, and nothing is queued
    twice for one group.

    What a late sweep raises at once is said once, as it stands: an appeal that also turns
    yellow in this sweep is past its deadline, so its liaisons get the yellow SMS and no blue
    reminder saying it is due today; a yellow SMS names the orders' due date only of the
    appeals not already red by it (for a group all red too, it says the order is overdue)."""
    c = store.conn
    group = "unit_code" if card != "red" else "NULL"
    which = "blue AND NOT yellow" if card == "blue" else card
    # an appeal's supervision order: the one its yellow card opens, or a supervisor's manual
    # order already open (it does not spare the yellow card, and its due time is the red one)
    due = "COALESCE(new_due, order_due)"
    groups = c.execute(
        f"SELECT {group}, COUNT(*), MIN(CASE WHEN NOT red THEN {due} END), MIN(id), "
        f"MIN(red AND {due} IS NOT NULL) FROM temp.sweep_c WHERE {which} "
        f"GROUP BY {group}").fetchall()
    if not groups:
        return
    # the first refs of each group (in ref order): one sorted pass, not one query per group
    first: dict[str | None, list[str]] = {}
    for unit, ref in c.execute(
            f"SELECT grp, ref FROM (SELECT {group} AS grp, ref, row_number() OVER "
            f"(PARTITION BY {group} ORDER BY ref) AS n FROM temp.sweep_c WHERE {which}) "
            f"WHERE n <= {_REFS_SHOWN} ORDER BY grp, ref"):
        first.setdefault(unit, []).append(ref)
    texts: dict[str | None, str] = {}
    about: dict[str | None, str] = {}
    for unit, n, due, first_id, all_overdue in groups:
        refs = first[unit]
        title = store.scalar("SELECT title FROM appeals WHERE ref = ?", (refs[0],)) if n == 1 else ""
        texts[unit] = _sms_text(card, n, refs, title or "", due, order_overdue=bool(all_overdue))
        about[unit] = f"appeals:{unit or 'all'}:{first_id}"
    rows = []
    reason = f"card.{card}"
    if card in ("blue", "yellow"):
        liaisons: dict[str, list[tuple[str, str]]] = {}
        for r in c.execute("SELECT unit_code, username, mobile FROM users WHERE role = 'liaison' "
                           "AND active = 1 AND mobile != ''"):
            liaisons.setdefault(r[0], []).append((r[1], r[2]))
        heads = {r[0]: r[1] for r in c.execute("SELECT code, head_mobile FROM units WHERE head_mobile != ''")}
        for unit, text in texts.items():
            for username, mobile in liaisons.get(unit, []):
                rows.append((username, mobile, text, reason, about[unit], applied_at, applied_at))
            if card == "yellow" and unit in heads:
                rows.append((f"head:{unit}", heads[unit], text, reason, about[unit], applied_at, applied_at))
    else:
        text = texts[None]
        for r in c.execute("SELECT username, mobile FROM users WHERE role = 'supervisor' AND active = 1 "
                           "AND mobile != ''"):
            rows.append((r[0], r[1], text, reason, about[None], applied_at, applied_at))
    c.executemany("INSERT OR IGNORE INTO outbox(recipient, phone, text, reason, entity, created_at, "
                  "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


# -- the forecast: the sweep ahead of the clock ------------------------------------------------------
#: The forecast's horizons, in working days: the next working day, and the next five.
FORECAST_DAYS = (1, 5)
FORECAST_KEYS = {1: "next_working_day", 5: "five_working_days"}
#: How far back (in working days before today) a deadline can lie whose yellow card, not yet
#: applied, opens a supervision order still due ahead: 5 (the order's working days), and one
#: day's slack. Only those appeals can turn red ahead through an order not yet opened.
_ORDER_LOOKBACK_DAYS = SUPERVISION_DAYS + 1
_OPEN = "state IN ('assigned','accepted')"   # as the partial indexes of open appeals are written
_PARAM = re.compile(r":([a-z_][a-z0-9_]*)")


@dataclass
class CardCounts:
    blue: int = 0
    yellow: int = 0
    red: int = 0

    @property
    def total(self) -> int:
        return self.blue + self.yellow + self.red

    def get(self, card: str) -> int:
        return getattr(self, card)

    def as_dict(self) -> dict[str, int]:
        return {"blue": self.blue, "yellow": self.yellow, "red": self.red}


@dataclass
class Horizon:
    """Up to the start of the ``working_days``-th working day after today (``day``): what a
    sweep run then would raise that a sweep run now would not."""

    working_days: int
    day: str               # YYYY-MM-DD, a working day
    sweep_at: str          # its first instant: the sweep imagined then
    total: CardCounts = field(default_factory=CardCounts)

    @property
    def key(self) -> str:
        return FORECAST_KEYS.get(self.working_days, f"{self.working_days}_working_days")


@dataclass
class UnitForecast:
    unit: str
    name: str
    counts: list[CardCounts]     # one per horizon, in the forecast's order

    def severity(self, i: int) -> tuple[int, int, int]:
        c = self.counts[i]
        return (c.red, c.yellow, c.blue)


@dataclass
class Forecast:
    """The cards ahead, per horizon and per unit (the units with any card ahead only)."""

    at: str
    horizons: list[Horizon]
    units: list[UnitForecast]
    warnings: list[str] = field(default_factory=list)

    def units_for(self, i: int) -> list[UnitForecast]:
        """The units with a card ahead within horizon ``i``, worst first (red, then yellow,
        then blue; then by unit code)."""
        rows = [u for u in self.units if u.counts[i].total]
        return sorted(rows, key=lambda u: (tuple(-n for n in u.severity(i)), u.unit))

    def as_dict(self) -> dict:
        """The ``forecast`` object of ``taian stats --json``."""
        return {
            "at": self.at,
            "horizons": [
                {"key": h.key, "working_days": h.working_days, "day": h.day, "sweep_at": h.sweep_at,
                 "total": h.total.as_dict(),
                 "units": [{"unit": u.unit, "name": u.name, **u.counts[i].as_dict()}
                           for u in self.units_for(i)]}
                for i, h in enumerate(self.horizons)],
            "warnings": list(self.warnings),
        }


def _horizons(store: Store, at: str, days: tuple[int, ...], warnings: list[str]) -> list[Horizon]:
    cal = store.calendar()
    today = timeutil.local_date(at)
    out = []
    for k in days:
        day, warns = cal.add_working_days(today, k)
        for w in warns:
            if w not in warnings:
                warnings.append(w)
        out.append(Horizon(k, day.isoformat(), timeutil.start_of_day(day)))
    return out


def _working_days_back(store: Store, day: _dt.date, k: int) -> _dt.date:
    """The k-th working day before ``day`` (``day`` itself never counts; at most a year back,
    whatever a calendar file says)."""
    cal = store.calendar()
    count, limit = 0, day - _dt.timedelta(days=366)
    while count < k and day > limit:
        day -= _dt.timedelta(days=1)
        if cal.is_workday(day):
            count += 1
    return day


_CARDS = ("blue", "yellow", "red")
#: Below this many open supervision orders, the appeals ahead that have one are read from the
#: orders (each order's appeal looked up) instead of probing the orders for every appeal of
#: the window a second time: a city has hundreds of open orders, a window tens of thousands
#: of appeals (on a million appeals without orders, 60 of the forecast's 160 ms).
FEW_OPEN_ORDERS = 10_000


def _ahead_sql(store: Store, at: str, horizons: list[Horizon], *, scope: str = "1",
               scope_params: tuple | list = (), cards: tuple[str, ...] = _CARDS,
               grouped: bool = False) -> tuple[str, dict]:
    """SQL of the open appeals (in ``scope``, an SQL condition on ``appeals a`` with ``?``
    parameters) that a sweep at some horizon's ``sweep_at`` would give one of ``cards`` and a
    sweep at ``at`` would not: for horizon i and each card, a column ``{card}_{i}`` (1: that
    card is raised by then, 0: not), beside ``id, unit_code``; ``grouped``: one row per unit
    and distinct rule input, ``unit_code, n`` (how many appeals) instead of ``id``. It is
    the sweep's own rule (``_rule_sql``), evaluated at ``at`` and at each horizon on the same
    rows (every threshold only ever passes as time goes on: a card raised at a horizon and
    not now is one whose threshold falls in (at, horizon]).

    The rows read are bounded by that window, each part from an index: the open appeals
    whose Day N begins in it (blue; ``appeals_open_blue``), those whose deadline falls in it
    (yellow, and red through the order a yellow card opens; ``appeals_open_deadline``, or a
    unit's ``appeals_unit_state``), the blue ones whose deadline fell in the last few working
    days (red: a yellow card not yet applied opens an order that may fall due in the window;
    ``appeals_carded``), and the open supervision orders due in it (red; ``orders_open_due``).
    Never the appeals the sweep has carded to the end, however many there are."""
    until = max(h.sweep_at for h in horizons)
    params: dict = {"at": at, "until": until}
    for i, p in enumerate(scope_params):
        scope = scope.replace("?", f":scope{i}", 1)
        params[f"scope{i}"] = p
    # each part: (its own condition on a, the index it reads), or None for the orders' part;
    # disjoint from the ones before
    # city-wide: the open appeals' own indexes, which hold what the rule reads (without
    # statistics the planner takes the state-and-deadline index and looks up every row); a
    # scope of one unit reads that unit's index
    by: dict[str, str] = {}
    if scope == "1":
        by = {"blue": " INDEXED BY appeals_open_blue", "deadline": " INDEXED BY appeals_open_deadline"}
    # grouped: each part counted in its index's order (no sort of a quarter of a million rows)
    order_of = {"blue": "a.blue_at, a.deadline, a.unit_code, a.card",
                "deadline": "a.deadline, a.blue_at, a.unit_code, a.card"}
    parts: list[tuple[str, str] | None] = []
    if "blue" in cards:
        parts.append(("a.blue_at > :at AND a.blue_at <= :until", "blue"))         # Day N begins ahead
    if "yellow" in cards or "red" in cards:
        recent = "at"
        if "red" in cards:
            today = timeutil.local_date(at)
            params["lo"] = timeutil.start_of_day(_working_days_back(store, today, _ORDER_LOOKBACK_DAYS))
            # appeals without a card whose deadline passed recently (a sweep has not run since)
            # are read too, only if there are any: two counts in the indexes say so
            open_n = store.scalar(f"SELECT COUNT(*) FROM appeals WHERE {_OPEN} AND deadline >= ? "
                                  "AND deadline < ?", (params["lo"], at))
            carded_n = store.scalar(f"SELECT COUNT(*) FROM appeals WHERE {_OPEN} AND card IN "
                                    "('blue','yellow','red') AND card != '' AND deadline >= ? AND deadline < ?",
                                    (params["lo"], at))
            recent = "lo" if open_n > carded_n else "at"
        parts.append((f"a.deadline >= :{recent} AND a.deadline < :until", "deadline"))  # the deadline falls ahead
        if "red" in cards:
            if recent == "at":                                               # (recent, blue)
                parts.append(("a.card = 'blue' AND a.card != '' AND a.deadline >= :lo AND a.deadline < :at",
                              "carded"))
            parts.append(None)                                               # open orders due ahead
    columns = _SOURCE_COLUMNS.replace("a.id, a.ref, ", "") if grouped else _SOURCE_COLUMNS
    # an appeal part in two: those without an open order (nearly all) counted from the open
    # appeals' indexes alone (``appeals_open_blue``, ``appeals_open_deadline`` hold what the rule
    # reads, in an order that needs no sort), and those with one joined to it (or, when open
    # orders are few, read from them); each appeal probes the orders' index once. The same
    # rows as one LEFT JOIN, which looked up every appeal's row and sorted them all (on a
    # million appeals, 1 s of the forecast's 1.1 s)
    no_order = columns.replace("o.due_at AS order_due, o.origin AS order_origin",
                               "NULL AS order_due, NULL AS order_origin")
    has_order = "FROM supervision_orders o WHERE o.appeal_id = a.id AND o.state = 'open'"
    few = store.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM supervision_orders WHERE state = 'open' "
                       "LIMIT ?)", (FEW_OPEN_ORDERS,)) < FEW_OPEN_ORDERS
    # grouped: one row per unit and distinct rule input, with how many appeals (the rule reads
    # only these: it is evaluated once per combination, not per appeal; a combination counted
    # in two parts is two rows, which the sums add up)
    count = ", COUNT(*) AS n" if grouped else ""
    inputs = "a.unit_code, a.card, a.blue_at, a.deadline"
    selects = []
    for k, part in enumerate(parts):
        before = "".join(f" AND NOT IFNULL({c[0]}, 0)" for c in parts[:k] if c is not None)
        if part is None:
            # (CROSS JOIN: from the orders due in the window, whatever the planner guesses)
            selects.append(f"SELECT {columns}{count} FROM supervision_orders o CROSS JOIN appeals a "
                           f"WHERE a.id = o.appeal_id AND o.state = 'open' AND o.due_at >= :at "
                           f"AND o.due_at < :until AND a.{_OPEN}{before} AND a.card != 'red' AND {scope}"
                           + (f" GROUP BY {inputs}, o.due_at, o.origin" if grouped else ""))
        else:
            cond, kind = part
            index = by.get(kind, "")
            selects.append(f"SELECT {no_order}{count} FROM appeals a{index} WHERE a.{_OPEN} AND {cond}"
                           f"{before} AND a.card != 'red' AND {scope} AND NOT EXISTS (SELECT 1 {has_order})"
                           + (f" GROUP BY {order_of.get(kind, inputs)}" if grouped else ""))
            # (the same rows from the open orders when they are few: see FEW_OPEN_ORDERS)
            joined = (f"supervision_orders o CROSS JOIN appeals a ON a.id = o.appeal_id" if few else
                      f"appeals a{index} JOIN supervision_orders o ON o.appeal_id = a.id")
            selects.append(f"SELECT {columns}{count} FROM {joined} WHERE o.state = 'open' AND a.{_OPEN} "
                           f"AND {cond}{before} AND a.card != 'red' AND {scope}"
                           + (f" GROUP BY {inputs}, o.due_at, o.origin" if grouped else ""))
    source = " UNION ALL ".join(selects)
    key = "n" if grouped else "id"
    sql = _rule_sql(source, ":at", "_now")
    for i, h in enumerate(horizons):
        params[f"h{i}"] = h.sweep_at
        sql = _rule_sql(sql, f":h{i}", f"_h{i}")
    cols = ", ".join(f"IFNULL({card}_h{i}, 0) > IFNULL({card}_now, 0) AS {card}_{i}"
                     for i in range(len(horizons)) for card in cards)
    return f"SELECT {key}, unit_code, {cols} FROM ({sql})", params


def positional(sql: str, params: dict) -> tuple[str, list]:
    """``sql`` with its ``:name`` parameters as ``?`` and their values in order (to embed it
    in a query written with ``?``)."""
    values: list = []

    def one(m: re.Match) -> str:
        values.append(params[m.group(1)])
        return "?"
    return _PARAM.sub(one, sql), values


def forecast(store: Store, at: str | None = None, *, days: tuple[int, ...] = FORECAST_DAYS,
             scope: str = "1", scope_params: tuple | list = ()) -> Forecast:
    """The cards ahead: for each horizon (the start of the 1st and the 5th working day after
    today), how many appeals a sweep run then would turn blue, yellow and red, per unit,
    beyond what a sweep run at ``at`` (default: now) would: ``sweep(store, horizon,
    dry_run=True).raised`` minus ``sweep(store, at, dry_run=True).raised``, by the sweep's
    own rule, read-only (a read-only file too) and without the sweep's write lock. Cards
    already earned and not yet applied (a sweep has not run since their threshold) are not
    ahead: ``taian escalate --dry-run`` shows them. Assumes nothing is answered meanwhile,
    and a pending extension is not approved. ``scope``: an SQL condition on ``appeals a``
    (``actors.appeal_scope_sql``)."""
    at = timeutil.iso(at)
    warnings: list[str] = []
    horizons = _horizons(store, at, tuple(days), warnings)
    register_rule_functions(store, warnings)
    sql, params = _ahead_sql(store, at, horizons, scope=scope, scope_params=scope_params, grouped=True)
    sums = ", ".join(f"TOTAL(n * {card}_{i})" for i in range(len(horizons)) for card in _CARDS)
    units: list[UnitForecast] = []
    for row in store.all(f"SELECT r.unit_code, COALESCE(u.name, r.unit_code, ''), {sums} FROM ({sql}) r "
                         "LEFT JOIN units u ON u.code = r.unit_code GROUP BY r.unit_code", params):
        n = [int(x) for x in tuple(row)[2:]]
        counts = [CardCounts(*n[3 * i:3 * i + 3]) for i in range(len(horizons))]
        if any(c.total for c in counts):
            units.append(UnitForecast(row[0] or "", row[1], counts))
    for i, h in enumerate(horizons):
        h.total = CardCounts(*(sum(u.counts[i].get(card) for u in units) for card in ("blue", "yellow", "red")))
    units.sort(key=lambda u: (tuple(-n for i in range(len(horizons)) for n in u.severity(i)), u.unit))
    return Forecast(at, horizons, units, warnings)


def turning_sql(store: Store, card: str, at: str | None = None, *, days: int = 1, scope: str = "1",
                scope_params: tuple | list = ()) -> tuple[str, list]:
    """``SELECT id`` of the open appeals (in ``scope``) that the sweep at the start of the
    ``days``-th working day after today would give ``card`` and a sweep at ``at`` would not
    (the forecast's appeals, one card), with ``?`` parameters: for ``appeals.id IN (...)``."""
    if card not in _CARDS:
        raise ValueError(card)
    at = timeutil.iso(at)
    horizons = _horizons(store, at, (days,), [])
    register_rule_functions(store)
    sql, params = _ahead_sql(store, at, horizons, scope=scope, scope_params=scope_params, cards=(card,))
    return positional(f"SELECT id FROM ({sql}) WHERE {card}_0", params)
