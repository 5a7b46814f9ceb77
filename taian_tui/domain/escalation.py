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

import functools
from dataclasses import dataclass, field
from typing import Callable, Iterator

from taian_tui.domain import timeutil
from taian_tui.store import Store

SYSTEM_ACTOR = "system:escalate"


@dataclass
class Raised:
    ref: str
    card: str
    previous: str
    threshold_at: str

    def as_dict(self) -> dict:
        return {"ref": self.ref, "card": self.card, "previous": self.previous,
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


_PREFIX = "【泰安重大项目督导】"
_REFS_SHOWN = 3


def _sms_text(card: str, n: int, refs: list[str], title: str, due: str | None) -> str:
    """One SMS per recipient per card colour per sweep: a unit with 40 appeals due today
    gets one reminder naming the count and some refs, not 40 messages."""
    if n == 1:
        subject = f"诉求{refs[0]}《{title[:20]}》"
    else:
        subject = f"{n}件诉求（{'、'.join(refs[:_REFS_SHOWN])}{'等' if n > len(refs[:_REFS_SHOWN]) else ''}）"
    if card == "blue":
        return f"{_PREFIX}蓝牌提醒：你单位{subject}今天到期，请于24时前答复。"
    if card == "yellow":
        limit = f"，督办期限{due[:10]}" if due else ""
        return f"{_PREFIX}黄牌：你单位{subject}已超期未答复，已推送市委市政府督查室督办{limit}。"
    return f"{_PREFIX}红牌：{subject}督办逾期仍未答复，已推送市纪委监委。"


#: Given the finished result (counts, SMS, warnings) and the raised appeals one at a time.
RaisedSink = Callable[[SweepResult, Iterator[Raised]], None]


def sweep(store: Store, at: str | None = None, *, dry_run: bool = False,
          appeal_id: int | None = None, notify: bool = True,
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
            cal = store.calendar()

            @functools.lru_cache(maxsize=None)
            def order_due(deadline: str) -> str:
                due, warns = cal.supervision_due(deadline)
                for w in warns:
                    if w not in result.warnings:
                        result.warnings.append(w)
                return due
            c.create_function("taian_order_due", 1, order_due, deterministic=True)
            c.execute(
                "INSERT INTO temp.sweep_c(id, ref, unit_code, previous, blue_at, deadline, order_due, "
                "order_origin, blue, yellow, new_due, red, red_at, final) "
                "SELECT *, COALESCE(order_due, new_due) < :at, COALESCE(order_due, new_due), "
                "CASE WHEN COALESCE(order_due, new_due) < :at THEN 'red' WHEN yellow THEN 'yellow' "
                "WHEN blue THEN 'blue' ELSE previous END FROM ("
                "SELECT *, CASE WHEN yellow AND order_due IS NULL THEN taian_order_due(deadline) END AS new_due "
                "FROM ("
                "SELECT *, previous = '' AND blue_at <= :at AS blue, previous IN ('', 'blue') AND deadline < :at "
                "AND (order_origin IS NULL OR order_origin = 'manual') AS yellow FROM ("
                "SELECT a.id, a.ref, a.unit_code, a.card AS previous, a.blue_at, a.deadline, o.due_at AS order_due, "
                "o.origin AS order_origin "
                "FROM appeals a LEFT JOIN supervision_orders o ON o.appeal_id = a.id AND o.state = 'open' "
                "WHERE a.state IN ('assigned','accepted') AND a.blue_at <= :at AND a.card != 'red' "
                "AND (a.card = '' "
                "     OR (a.card = 'blue' AND a.deadline < :at AND (o.id IS NULL OR o.origin = 'manual')) "
                "     OR (o.id IS NOT NULL AND o.due_at < :at))" + only + " "
                "UNION ALL "
                "SELECT a.id, a.ref, a.unit_code, a.card, a.blue_at, a.deadline, o.due_at, o.origin "
                "FROM supervision_orders o JOIN appeals a ON a.id = o.appeal_id "
                "WHERE o.state = 'open' AND o.due_at < :at AND a.blue_at > :at AND a.card != 'red' "
                "AND a.state IN ('assigned','accepted')" + only + ")))",
                params)
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
                if notify:
                    for card in ("blue", "yellow", "red"):
                        _queue_sms(store, card, applied_at)
            result.notifications_queued = store.scalar(
                "SELECT COUNT(*) FROM outbox WHERE id > ?", (outbox_before,))
            if appeal_id is None:
                est = store.all("SELECT substr(deadline, 1, 4) AS year, COUNT(*) AS n FROM appeals "
                                "WHERE deadline_estimated = 1 AND state IN ('assigned','accepted') "
                                "GROUP BY year ORDER BY year")
                if est:
                    result.warnings.append(
                        f"{sum(r['n'] for r in est)} open appeals have deadlines counted Monday-Friday: "
                        f"no holiday data for {', '.join(r['year'] for r in est)} "
                        "(add it with `taian calendar import FILE`)")
            if any(counts):
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
    twice for one group."""
    c = store.conn
    group = "unit_code" if card != "red" else "NULL"
    groups = c.execute(
        f"SELECT {group}, COUNT(*), MIN(new_due), MIN(id) FROM temp.sweep_c WHERE {card} "
        f"GROUP BY {group}").fetchall()
    if not groups:
        return
    # the first refs of each group (in ref order): one sorted pass, not one query per group
    first: dict[str | None, list[str]] = {}
    for unit, ref in c.execute(
            f"SELECT grp, ref FROM (SELECT {group} AS grp, ref, row_number() OVER "
            f"(PARTITION BY {group} ORDER BY ref) AS n FROM temp.sweep_c WHERE {card}) "
            f"WHERE n <= {_REFS_SHOWN} ORDER BY grp, ref"):
        first.setdefault(unit, []).append(ref)
    texts: dict[str | None, str] = {}
    about: dict[str | None, str] = {}
    for unit, n, due, first_id in groups:
        refs = first[unit]
        title = store.scalar("SELECT title FROM appeals WHERE ref = ?", (refs[0],)) if n == 1 else ""
        texts[unit] = _sms_text(card, n, refs, title or "", due)
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
