"""The red/yellow/blue card sweep (DOMAIN.md, "Cards"), set-based in SQL.

Thresholds, for an appeal still unanswered on a unit's clock:
  blue   at ``blue_at`` (start of Day N, "due today");
  yellow after ``deadline``: a supervision order opens, due at the end of the 5th
         working day after the deadline day;
  red    after the open supervision order's ``due_at``.
Each is applied at most once (``card_events`` is unique on appeal and card), in order,
recording both when the threshold passed and when it was applied; cards are never lowered.
The whole sweep is one ``BEGIN IMMEDIATE`` transaction: a concurrent sweep waits for it and
then finds nothing left to do; a killed sweep leaves the file as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import timeutil
from .store import Store

SYSTEM_ACTOR = "system:escalate"
# page cache for a whole-file sweep, in KiB (negative = KiB for SQLite): the sweep rewrites
# many scattered pages, and a larger cache keeps it from spilling mid-transaction
SWEEP_CACHE_KIB = -2000


@dataclass
class Raised:
    ref: str
    card: str
    previous: str
    threshold_at: str


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
            "appeals": [{"ref": r.ref, "card": r.card, "previous": r.previous,
                         "threshold_at": r.threshold_at} for r in self.appeals],
            "warnings": list(self.warnings),
        }


class _DryRun(Exception):
    pass


_PREFIX = "【泰安重大项目督导】"
_REFS_SHOWN = 3


def _sms_text(card: str, items: list[tuple[str, str, str | None]], *, to_supervisor: bool = False) -> str:
    """One SMS per recipient per card colour per sweep: a unit with 40 appeals due today
    gets one reminder naming the count and the first refs, not 40 messages."""
    n = len(items)
    if n == 1:
        ref, title, due = items[0]
        subject = f"诉求{ref}《{title[:20]}》"
    else:
        refs = "、".join(i[0] for i in items[:_REFS_SHOWN])
        subject = f"{n}件诉求（{refs}{'等' if n > _REFS_SHOWN else ''}）"
    if card == "blue":
        return f"{_PREFIX}蓝牌提醒：你单位{subject}今天到期，请于24时前答复。"
    if card == "yellow":
        dues = [i[2] for i in items if i[2]]
        limit = f"，督办期限{min(dues)[:10]}" if dues else ""
        return f"{_PREFIX}黄牌：你单位{subject}已超期未答复，已推送市委市政府督查室督办{limit}。"
    return f"{_PREFIX}红牌：{subject}督办逾期仍未答复，已推送市纪委监委。"


def sweep(store: Store, at: str | None = None, *, dry_run: bool = False,
          appeal_id: int | None = None, notify: bool = True,
          applied_at: str | None = None, actor: str = SYSTEM_ACTOR,
          collect: bool = True) -> SweepResult:
    """Apply every card threshold passed by ``at``. ``appeal_id`` restricts the sweep to one
    appeal (used when a late reply first records the cards it had earned). ``collect=False``
    leaves ``result.appeals`` empty (counts only), for a plain-text run on a huge file.

    One pass: the candidates (open appeals whose Day N has begun, or whose open supervision
    order is overdue) are gathered once into a temp table with the steps that apply to each;
    then the card history, the yellow cards' supervision orders, each appeal's final card
    and the SMS are written set-wise, all in one transaction."""
    at = timeutil.iso(at)
    applied_at = applied_at or (timeutil.iso() if appeal_id is None else at)
    result = SweepResult(at=at, dry_run=dry_run)
    only = " AND a.id = :only" if appeal_id is not None else ""
    params = {"at": at, "applied": applied_at, "only": appeal_id, "actor": actor}
    cache = store.scalar("PRAGMA cache_size")
    if appeal_id is None:
        store.conn.execute(f"PRAGMA cache_size = {SWEEP_CACHE_KIB}")
    try:
        with store.transaction():
            c = store.conn
            first_event = store.scalar("SELECT COALESCE(MAX(id), 0) FROM card_events")
            outbox_before = store.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox")
            c.execute("DROP TABLE IF EXISTS temp.sweep_c")
            c.execute("CREATE TEMP TABLE sweep_c (id INTEGER PRIMARY KEY, ref TEXT, unit_code TEXT, "
                      "previous TEXT, blue_at TEXT, deadline TEXT, order_due TEXT, order_origin TEXT, "
                      "blue INT, yellow INT, new_due TEXT, red INT, red_at TEXT, final TEXT)")
            # Day N begun (blue_at <= at) covers blue and yellow; an overdue open order, red.
            # An open order from a yellow card or a dispute review already has the appeal with
            # the supervision office: no further yellow. A supervisor's manual order does not
            # excuse the unit's own deadline: yellow is still raised, without a second order.
            c.execute(
                "INSERT INTO temp.sweep_c(id, ref, unit_code, previous, blue_at, deadline, order_due, "
                "order_origin) "
                "SELECT a.id, a.ref, a.unit_code, a.card, a.blue_at, a.deadline, o.due_at, o.origin "
                "FROM appeals a LEFT JOIN supervision_orders o ON o.appeal_id = a.id AND o.state = 'open' "
                "WHERE a.state IN ('assigned','accepted') AND a.blue_at <= :at AND a.card != 'red' "
                "AND (a.card = '' "
                "     OR (a.card = 'blue' AND a.deadline < :at AND (o.id IS NULL OR o.origin = 'manual')) "
                "     OR (o.id IS NOT NULL AND o.due_at < :at))" + only + " "
                "UNION ALL "
                "SELECT a.id, a.ref, a.unit_code, a.card, a.blue_at, a.deadline, o.due_at, o.origin "
                "FROM supervision_orders o JOIN appeals a ON a.id = o.appeal_id "
                "WHERE o.state = 'open' AND o.due_at < :at AND a.blue_at > :at AND a.card != 'red' "
                "AND a.state IN ('assigned','accepted')" + only,
                params)
            c.execute("UPDATE temp.sweep_c SET "
                      "blue = (previous = '' AND blue_at <= :at), "
                      "yellow = (previous IN ('', 'blue') AND deadline < :at "
                      "          AND (order_origin IS NULL OR order_origin = 'manual'))", params)
            # a yellow card's order is due at the end of the 5th working day after the deadline
            # day: computed once per distinct deadline day with the store's calendar
            cal = store.calendar()
            dues = []
            for (deadline,) in c.execute("SELECT DISTINCT deadline FROM temp.sweep_c WHERE yellow "
                                         "AND order_due IS NULL"):
                due, warns = cal.supervision_due(deadline)
                dues.append((due, deadline))
                for w in warns:
                    if w not in result.warnings:
                        result.warnings.append(w)
            c.execute("DROP TABLE IF EXISTS temp.sweep_due")
            c.execute("CREATE TEMP TABLE sweep_due (deadline TEXT PRIMARY KEY, due_at TEXT)")
            c.executemany("INSERT INTO temp.sweep_due(due_at, deadline) VALUES (?, ?)", dues)
            c.execute("UPDATE temp.sweep_c SET new_due = d.due_at FROM temp.sweep_due d "
                      "WHERE sweep_c.yellow AND sweep_c.order_due IS NULL AND d.deadline = sweep_c.deadline")
            c.execute("UPDATE temp.sweep_c SET "
                      "red = (COALESCE(order_due, new_due) < :at), "
                      "red_at = COALESCE(order_due, new_due)", params)
            c.execute("UPDATE temp.sweep_c SET final = CASE WHEN red THEN 'red' WHEN yellow THEN 'yellow' "
                      "WHEN blue THEN 'blue' ELSE previous END")
            c.execute("DELETE FROM temp.sweep_c WHERE final = previous")
            counts = c.execute("SELECT COALESCE(SUM(blue), 0), COALESCE(SUM(yellow), 0), "
                               "COALESCE(SUM(red), 0) FROM temp.sweep_c").fetchone()
            result.raised = {"blue": counts[0], "yellow": counts[1], "red": counts[2]}
            if any(counts):
                c.execute("INSERT INTO card_events(appeal_id, card, previous, threshold_at, applied_at) "
                          "SELECT id, 'blue', previous, blue_at, :applied FROM temp.sweep_c WHERE blue",
                          params)
                c.execute("INSERT INTO card_events(appeal_id, card, previous, threshold_at, applied_at) "
                          "SELECT id, 'yellow', CASE WHEN blue THEN 'blue' ELSE previous END, deadline, "
                          ":applied FROM temp.sweep_c WHERE yellow", params)
                c.execute("INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at, note) "
                          "SELECT id, 'yellow', deadline, :actor, new_due, '黄牌自动督办' "
                          "FROM temp.sweep_c WHERE yellow AND new_due IS NOT NULL", params)
                c.execute("INSERT INTO card_events(appeal_id, card, previous, threshold_at, applied_at) "
                          "SELECT id, 'red', CASE WHEN yellow THEN 'yellow' WHEN blue THEN 'blue' "
                          "ELSE previous END, red_at, :applied FROM temp.sweep_c WHERE red", params)
                c.execute("UPDATE appeals SET card = s.final FROM temp.sweep_c s WHERE s.id = appeals.id")
                if notify:
                    for card in ("blue", "yellow", "red"):
                        _queue_sms(store, card, applied_at)
            c.execute("DROP TABLE IF EXISTS temp.sweep_c")
            c.execute("DROP TABLE IF EXISTS temp.sweep_due")
            if collect:
                result.appeals = [Raised(r[0], r[1], r[2], r[3]) for r in c.execute(
                    "SELECT a.ref, e.card, e.previous, e.threshold_at FROM card_events e "
                    "JOIN appeals a ON a.id = e.appeal_id WHERE e.id > ? ORDER BY e.id", (first_event,))]
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
                last_event = store.scalar("SELECT MAX(id) FROM card_events")
                store.audit(actor, "escalate", "sweep" if appeal_id is None else "appeal",
                            at if appeal_id is None else store.appeal_by_id(appeal_id).ref,
                            None,
                            {"at": at, "raised": result.raised,
                             "card_events": [first_event + 1, last_event],
                             "notifications_queued": result.notifications_queued},
                            at=applied_at)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    finally:
        store.conn.execute(f"PRAGMA cache_size = {cache}")
    return result


def _queue_sms(store: Store, card: str, applied_at: str) -> None:
    """Queue the SMS of one card colour: blue to the unit's liaisons; yellow to the liaisons and the
    unit head; red to the supervisors. Keyed by the sweep, so a sweep is never notified twice."""
    c = store.conn
    by_unit: dict[str, list[tuple[str, str, str | None]]] = {}
    # from the temp table only (no join back into the big appeals table); the first refs of
    # each unit, in deadline order, name the SMS
    for r in c.execute(f"SELECT unit_code, ref, new_due FROM temp.sweep_c WHERE {card} "
                       "ORDER BY unit_code, deadline, ref"):
        by_unit.setdefault(r[0], []).append((r[1], "", r[2]))
    if card != "red":
        for unit, items in by_unit.items():
            if len(items) == 1:
                title = store.scalar("SELECT title FROM appeals WHERE ref = ?", (items[0][0],))
                items[0] = (items[0][0], title or "", items[0][2])
    if not by_unit:
        return
    rows = []
    entity = f"sweep:{applied_at}"
    reason = f"card.{card}"
    if card in ("blue", "yellow"):
        liaisons: dict[str, list[tuple[str, str]]] = {}
        for r in c.execute("SELECT unit_code, username, mobile FROM users WHERE role = 'liaison' "
                           "AND active = 1 AND mobile != ''"):
            liaisons.setdefault(r[0], []).append((r[1], r[2]))
        heads = {r[0]: r[1] for r in c.execute("SELECT code, head_mobile FROM units WHERE head_mobile != ''")}
        for unit, items in by_unit.items():
            text = _sms_text(card, items)
            for username, mobile in liaisons.get(unit, []):
                rows.append((username, mobile, text, reason, entity, applied_at, applied_at))
            if card == "yellow" and unit in heads:
                rows.append((f"head:{unit}", heads[unit], text, reason, entity, applied_at, applied_at))
    else:
        items = [i for unit_items in by_unit.values() for i in unit_items]
        if len(items) == 1:
            title = store.scalar("SELECT title FROM appeals WHERE ref = ?", (items[0][0],))
            items[0] = (items[0][0], title or "", items[0][2])
        text = _sms_text(card, items, to_supervisor=True)
        for r in c.execute("SELECT username, mobile FROM users WHERE role = 'supervisor' AND active = 1 "
                           "AND mobile != ''"):
            rows.append((r[0], r[1], text, reason, entity, applied_at, applied_at))
    c.executemany("INSERT OR IGNORE INTO outbox(recipient, phone, text, reason, entity, created_at, "
                  "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
