"""Is the file what the store wrote? ``taian audit verify`` and ``taian audit anchor``.

Beyond the audit chain itself (``Store.verify_audit``: every row linked to the one before,
its content hashed, the head recorded), three checks:

* **wiped**: no audit row at all while business rows exist (units, users, enterprises,
  projects, appeals): the trail was emptied.
* **changed outside the store**: the business rows must be what their history says. An
  appeal's state and reply are the last ones its audit rows record; its card is the highest
  of its card events; each sweep's card events are as many, per colour, as that sweep's
  audit row says it raised; a yellow card's supervision order is due when the rule says
  (the 5th working day after the deadline it was opened at), a dispute review's order at
  the due time its review recorded, a supervisor's order at the due time and with the note
  of its last ``order.open``/``order.edit`` row. An ``UPDATE`` or ``DELETE`` made with
  another tool shows up here. (Whoever can write the file and reads this code can also
  forge a consistent history; what they cannot do unnoticed is rebuild the chain past an
  anchor kept off the machine.)
* **anchors**: ``taian audit anchor FILE`` appends the current head (row id and hash) to
  FILE; ``verify --anchors FILE`` checks that the chain still holds every anchored head. A
  chain rebuilt from some row on (to hide a change) no longer does.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from taian_tui.domain import timeutil
from taian_tui.domain.clock import WorkCalendar
from taian_tui.domain.rules import MOVED_ORDER_NOTE
from taian_tui.schema import FIGURE_TABLES, figures_sql
from taian_tui.store import Store

#: Problems listed per check before "... and N more".
SHOWN = 10
#: Tables whose rows are business data (a trail with none of these rows may be empty).
BUSINESS_TABLES = ("units", "users", "enterprises", "projects", "appeals", "content")


@dataclass
class Verification:
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, anchors: str | os.PathLike | None = None) -> Verification:
    """Every check of the module's docstring; ``anchors``: a file written by ``anchor``."""
    result = Verification()
    chain = store.verify_audit()
    result.rows = chain.rows
    if not chain.ok:
        result.problems.append(f"audit trail BROKEN at row {chain.bad_id}: {chain.reason}")
    if chain.rows == 0:
        counts = {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in BUSINESS_TABLES}
        present = {t: n for t, n in counts.items() if n}
        if present:
            result.problems.append("the audit trail was wiped: no audit rows, but " + ", ".join(
                f"{n} {t}" for t, n in present.items()))
    result.problems += _business_rows(store)
    if anchors is not None:
        result.problems += _anchors(store, Path(anchors))
    return result


def head(store: Store) -> dict:
    """The chain's head: ``{"id", "hash"}`` (id 0 and the genesis hash for an empty trail)."""
    row = store.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
    if row is None:
        from taian_tui.store import GENESIS_HASH

        return {"id": 0, "hash": GENESIS_HASH}
    return {"id": row["last_id"], "hash": row["last_hash"]}


def anchor(store: Store, path: str | os.PathLike) -> dict:
    """Append the current head to ``path`` (one JSON line: id, hash, at), created private."""
    record = {**head(store), "at": timeutil.iso()}
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    return record


def _anchor_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(number, text) of each line of the anchors file, decoded one by one (LF or CRLF):
    text None for a line that is not UTF-8, so that a file partly binary (damaged, or another
    file appended) is still read in its lines that are text."""
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                yield n, raw.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError:
                yield n, None


def _anchors(store: Store, path: Path) -> list[str]:
    """The problems of the anchors file ``path``, in the file's order: each anchored head
    the chain no longer holds, and each line that is not an anchor line (one that is not
    UTF-8 text says so; past ``SHOWN`` of those, "... and N more" at the end)."""
    problems: list[str] = []
    bad = 0
    try:
        for n, line in _anchor_lines(path):
            if line is not None and not line.strip():
                continue
            record = None if line is None else _anchor_record(line)
            if record is None:
                bad += 1
                if bad <= SHOWN:
                    problems.append(f"{path}:{n}: not an anchor line" + (" (not UTF-8 text)" if line is None else ""))
                continue
            id_, digest, at = record
            if id_ == 0:
                continue
            got = store.scalar("SELECT hash FROM audit WHERE id = ?", (id_,))
            if got != digest:
                what = "is missing" if got is None else "has another hash"
                problems.append(f"the chain no longer holds the head anchored at {at} "
                                f"(row {id_} {what}): the trail was rebuilt or cut")
    except OSError as exc:
        problems.append(f"{path}: cannot read the anchors: {exc.strerror or exc}")
    if bad > SHOWN:
        problems.append(f"... and {bad - SHOWN} more lines of {path} that are not anchor lines")
    return problems


def _anchor_record(line: str) -> tuple[int, str, str] | None:
    """(id, hash, at) of an anchor line; None: the line is not one."""
    try:
        record = json.loads(line)
        return int(record["id"]), str(record["hash"]), str(record.get("at", "?"))
    except (ValueError, KeyError, TypeError):
        return None


def _more(problems: list[str], total: int, what: str) -> list[str]:
    if total > len(problems):
        problems.append(f"... and {total - len(problems)} more {what}")
    return problems


def _business_rows(store: Store) -> list[str]:
    out: list[str] = []
    out += _appeal_fields(store)
    out += _cards(store)
    out += _orders(store)
    out += _figures(store)
    return out


def _appeal_fields(store: Store) -> list[str]:
    """State and reply as the appeal's last audit rows record them; history for every appeal."""
    problems: list[str] = []
    total = 0
    for field_ in ("state", "reply"):
        rows = store.conn.execute(
            f"WITH last AS (SELECT entity_id AS ref, json_extract(after, '$.{field_}') AS value, "
            f"ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY id DESC) AS n FROM audit "
            f"WHERE entity = 'appeal' AND json_type(after, '$.{field_}') IS NOT NULL) "
            f"SELECT a.ref, a.{field_}, last.value FROM appeals a LEFT JOIN last "
            f"ON last.ref = a.ref AND last.n = 1 "
            f"WHERE a.{field_} IS NOT COALESCE(last.value, CASE WHEN '{field_}' = 'reply' THEN '' END)")
        for ref, value, recorded in rows:
            total += 1
            if len(problems) < SHOWN:
                if recorded is None and field_ == "state":
                    problems.append(f"appeal {ref} has no history: it was written outside the store")
                else:
                    problems.append(f"appeal {ref}: its {field_} {value!r} is not the one its history "
                                    f"records ({recorded!r}): changed outside the store")
    return _more(problems, total, "appeals changed outside the store")


_MONDAY_FRIDAY = WorkCalendar()


def _cards(store: Store) -> list[str]:
    problems: list[str] = []
    total = 0
    # an appeal's card is the highest of its card events (event id = appeal id * 4 + rank)
    for ref, card, events in store.conn.execute(
            "SELECT a.ref, a.card, (SELECT e.card FROM card_events e WHERE e.id BETWEEN a.id * 4 "
            "AND a.id * 4 + 3 ORDER BY e.id DESC LIMIT 1) FROM appeals a "
            "WHERE a.card IS NOT COALESCE((SELECT e.card FROM card_events e WHERE e.id BETWEEN a.id * 4 "
            "AND a.id * 4 + 3 ORDER BY e.id DESC LIMIT 1), '')"):
        total += 1
        if len(problems) < SHOWN:
            problems.append(f"appeal {ref}: card {card or 'none'!r} but its card history ends at "
                            f"{events or 'none'!r}: changed outside the store")
    # each event where its id says (rank) and after the one before it
    for id_, ref, card, previous in store.conn.execute(
            "SELECT e.id, a.ref, e.card, e.previous FROM card_events e JOIN appeals a ON a.id = e.appeal_id "
            "WHERE e.id != e.appeal_id * 4 + (CASE e.card WHEN 'blue' THEN 1 WHEN 'yellow' THEN 2 "
            "WHEN 'red' THEN 3 ELSE 9 END)"):
        total += 1
        if len(problems) < SHOWN:
            problems.append(f"card event {id_} of appeal {ref} ({card}) is not where the store puts it: "
                            "changed outside the store")
    # per sweep (its applied time), as many events of each colour as its audit row raised
    raised: dict[str, dict[str, int]] = {}
    for applied, blue, yellow, red in store.conn.execute(
            "SELECT json_extract(after, '$.card_events_applied_at'), json_extract(after, '$.raised.blue'), "
            "json_extract(after, '$.raised.yellow'), json_extract(after, '$.raised.red') FROM audit "
            "WHERE action = 'escalate'"):
        got = raised.setdefault(applied, {"blue": 0, "yellow": 0, "red": 0})
        for card, n in (("blue", blue), ("yellow", yellow), ("red", red)):
            got[card] += int(n or 0)
    events: dict[str, dict[str, int]] = {}
    for applied, card, n in store.conn.execute(
            "SELECT applied_at, card, COUNT(*) FROM card_events GROUP BY applied_at, card"):
        events.setdefault(applied, {"blue": 0, "yellow": 0, "red": 0})[card] = n
    for applied in sorted(set(raised) | set(events)):
        want = raised.get(applied, {"blue": 0, "yellow": 0, "red": 0})
        have = events.get(applied, {"blue": 0, "yellow": 0, "red": 0})
        if want != have:
            total += 1
            if len(problems) < SHOWN:
                problems.append(f"the sweep applied at {applied} raised blue {want['blue']}, yellow "
                                f"{want['yellow']}, red {want['red']}, but the card history holds blue "
                                f"{have['blue']}, yellow {have['yellow']}, red {have['red']}: "
                                "changed outside the store")
    return _more(problems, total, "card records changed outside the store")


def _orders(store: Store) -> list[str]:
    problems: list[str] = []
    total = 0
    cal = store.calendar()
    recorded: dict[int, dict] = {}     # a supervisor's order: its last due time and note
    for order, due, note in store.conn.execute(
            "SELECT json_extract(after, '$.order'), json_extract(after, '$.due_at'), "
            "json_extract(after, '$.note') FROM audit WHERE action IN ('order.open', 'order.edit') "
            "ORDER BY id"):
        recorded[int(order)] = {"due_at": due, "note": note}
    reassigned: set[int] = set()        # orders a reassignment closed (their note gets a mark)
    for closed in store.conn.execute(
            "SELECT json_extract(after, '$.orders_closed') FROM audit WHERE action IN ('assign', 'reassign') "
            "AND json_type(after, '$.orders_closed') = 'array'"):
        reassigned.update(json.loads(closed[0]))
    moved: dict[int, str] = {}          # orders a reassignment carried over: their due time now
    for order, due in store.conn.execute(
            "SELECT json_extract(after, '$.order_moved.order'), json_extract(after, '$.order_moved.due_at') "
            "FROM audit WHERE action IN ('assign', 'reassign') AND json_type(after, '$.order_moved') = 'object' "
            "ORDER BY id"):
        moved[int(order)] = due
    versions: list[WorkCalendar] | None = None

    def earlier() -> list[WorkCalendar]:
        """The calendar as it was before each calendar file (newest first): the days each
        import's audit row lists as changed, turned back (read once, when first needed)."""
        nonlocal versions
        if versions is None:
            versions, version = [], cal
            for (changed,) in store.conn.execute(
                    "SELECT json_extract(after, '$.days_changed') FROM audit WHERE action = 'calendar.import' "
                    "AND json_type(after, '$.days_changed') = 'array' ORDER BY id DESC"):
                days = [_dt.date.fromisoformat(d) for d in json.loads(changed)]
                if days:
                    version = WorkCalendar(days=dict(version.days), years=set(version.years))
                    for day in days:
                        version.days[day] = "holiday" if version.is_workday(day) else "workday"
                    versions.append(version)
        return versions

    reviews: dict[str, set[str]] = {}   # a dispute review's order: the due times recorded
    for ref, due in store.conn.execute(
            "SELECT entity_id, json_extract(after, '$.order_due') FROM audit WHERE action = 'dispute.at_fault'"):
        reviews.setdefault(ref, set()).add(due)
    for id_, ref, origin, opened_at, due_at, note in store.conn.execute(
            "SELECT o.id, a.ref, o.origin, o.opened_at, o.due_at, o.note FROM supervision_orders o "
            "JOIN appeals a ON a.id = o.appeal_id ORDER BY o.id"):
        wrong = None
        if id_ in moved:
            # carried over to a new unit by a reassignment, which recorded its due time (a
            # supervisor's edit after it is recorded by its own row, after this one)
            rec = recorded.get(id_)
            if due_at != moved[id_] and not (rec is not None and rec["due_at"] == due_at):
                wrong = f"due {due_at}, but the reassignment that carried it over set {moved[id_]}"
        elif origin == "yellow":
            # the calendar as it is, or Monday-Friday if the order was opened before that year's
            # holidays were imported, or as it was before a later calendar file changed a day
            expected, _ = cal.supervision_due(opened_at)
            if due_at not in (expected, _MONDAY_FRIDAY.supervision_due(opened_at)[0]) and not any(
                    old.supervision_due(opened_at)[0] == due_at for old in earlier()):
                wrong = f"due {due_at}, but a yellow card's order opened {opened_at} is due {expected}"
        elif origin == "dispute":
            if due_at not in reviews.get(ref, set()):
                wrong = f"due {due_at}, a due time no review of {ref} recorded"
        elif origin == "manual":
            rec = recorded.get(id_)
            if rec is None:
                wrong = "no order.open row records it"
            elif rec["due_at"] != due_at:
                wrong = f"due {due_at}, but its history says due {rec['due_at']}"
            elif note not in (rec["note"], f"{rec['note']}（已改派）" if id_ in reassigned else rec["note"],
                              f"{rec['note']}{MOVED_ORDER_NOTE}" if id_ in moved else rec["note"]):
                wrong = f"its note {note!r} is not the one its history records ({rec['note']!r})"
        else:
            wrong = f"of an unknown origin {origin!r}"
        if wrong:
            total += 1
            if len(problems) < SHOWN:
                problems.append(f"supervision order {id_} of appeal {ref}: {wrong}: changed outside the store")
    return _more(problems, total, "supervision orders changed outside the store")


def _figures(store: Store) -> list[str]:
    """The dashboard's sums (``appeal_day_figures``, ``appeal_category_figures``) equal to the
    appeals: triggers keep them so, whoever writes; a changed row, or triggers dropped, shows
    up here."""
    problems: list[str] = []
    total = 0
    for table, (keys, counts) in FIGURE_TABLES.items():
        nonzero = " OR ".join(f"{c} != 0" for c in counts)
        stored = f"SELECT {', '.join(keys + counts)} FROM {table} WHERE {nonzero}"
        fresh = figures_sql(table)
        rows = store.all(f"SELECT * FROM (SELECT 'stored', * FROM ({stored} EXCEPT {fresh}) UNION ALL "
                         f"SELECT 'from the appeals', * FROM ({fresh} EXCEPT {stored})) "
                         f"ORDER BY {', '.join(str(i + 2) for i in range(len(keys)))}, 1 DESC")
        total += len(rows)
        for r in rows[:max(0, SHOWN - len(problems))]:
            key = ", ".join(f"{k} {r[1 + i] or '-'}" for i, k in enumerate(keys))
            problems.append(f"{table} ({key}), {r[0]}: " + ", ".join(
                f"{c} {r[1 + len(keys) + i]}" for i, c in enumerate(counts)))
    return _more(problems, total, "differing dashboard sums (compute them again with `taian migrate "
                 "--rebuild-figures`)")
