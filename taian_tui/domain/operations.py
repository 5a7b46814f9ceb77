"""The domain operations of DOMAIN.md. Each is called with the acting user, checks the
action's rule (``rules.ACTIONS``: the role, the unit, the state, the action's conditions),
refuses with a message that names the rule, runs in one transaction and writes an audit
row (before -> after).

System actors (no row in ``users``, see ``actors``): ``system:intake`` for what the
enterprise app sends, ``system:escalate`` for the sweep, ``system:import`` for imports.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
from dataclasses import asdict
from typing import Any

from taian_tui.domain import escalation, rules, search, timeutil
from taian_tui.domain.actors import Actor, actor, unit_name
from taian_tui.domain.models import (CATEGORIES, CONTENT_FIELDS, CONTENT_KINDS, CONTENT_LEVELS, LIBRARY_LEVELS,
                                     PROJECT_CATEGORIES, PROJECT_STAGES, RATINGS, ROLES, UNIT_KINDS, Appeal,
                                     Content, Extension, Instruction, Project, SupervisionOrder, Unit,
                                     User, category_code, from_row)
from taian_tui.domain.refusals import InvalidTransition, NotFound, PermissionDenied, ValidationError
from taian_tui.domain.rules import HANDLING_UNIT_KINDS, MAX_EXTENSION_DAYS, MOVED_ORDER_NOTE, OPEN_STATES
from taian_tui.domain.text import clause, clean, clip, clean_line, half_width, normalise_phone
from taian_tui.store import Store

# -- helpers -----------------------------------------------------------------------------
#: The largest amount of money (万元) a project may state: 1 万亿元.
MAX_WAN = 1e8


def _at(at: str | None) -> str:
    return timeutil.iso(at)


def _changes(before: Any, after: Any) -> tuple[dict, dict]:
    """The fields that differ (objects or dicts), before and after."""
    b, a = (x if isinstance(x, dict) else vars(x) for x in (before, after))
    keys = [k for k in a if b.get(k) != a.get(k)]
    return {k: b.get(k) for k in keys}, {k: a.get(k) for k in keys}


def _save_appeal(store: Store, before: Appeal, after: Appeal, act: Actor, action: str,
                 at: str, extra: dict | None = None) -> Appeal:
    b, a = _changes(before, after)
    if a:
        sets = ", ".join(f"{k} = ?" for k in a)
        store.conn.execute(f"UPDATE appeals SET {sets} WHERE id = ?", [*a.values(), after.id])
    if extra:
        a = {**a, **extra}
    store.audit(act.username, action, "appeal", after.ref, b, a, at=at)
    return after


def _copy(appeal: Appeal, **changes: Any) -> Appeal:
    return dataclasses.replace(appeal, **changes)


def appeal_facts(store: Store, appeal: Appeal, act: Actor | None = None) -> rules.AppealFacts:
    """What the rules need to know of ``appeal`` (see ``rules.AppealFacts``), read from the
    store; ``visible`` as ``act`` sees it."""
    red = store.one("SELECT taken_up_by FROM card_events WHERE id = ?", (appeal.id * 4 + 3,))
    return rules.AppealFacts(
        ref=appeal.ref, state=appeal.state, unit_code=appeal.unit_code, arrived_at=appeal.arrived_at,
        deadline=appeal.deadline,
        return_until=rules.return_until(store.calendar(), appeal.arrived_at)
        if appeal.state in OPEN_STATES else None,
        pending_extension=store.one("SELECT 1 FROM extensions WHERE appeal_id = ? AND state = 'pending'",
                                    (appeal.id,)) is not None,
        open_order=store.open_order(appeal.id) is not None,
        red_card=red is not None, red_taken_up_by=red["taken_up_by"] if red else None,
        visible=True if act is None else _visible(store, act, appeal))


def _visible(store: Store, act: Actor, appeal: Appeal) -> bool:
    from taian_tui.domain.actors import can_see_appeal

    return can_see_appeal(store, act, appeal)


def _check(store: Store, name: str, act: Actor, appeal: Appeal, at: str) -> None:
    """The rule of the appeal action ``name`` (its role already checked), inside the
    operation's transaction."""
    rules.check(name, act, appeal_facts(store, appeal, act), at=at,
                unit_name=lambda code: unit_name(store, code), role_checked=True)


def _clock_fields(store: Store, arrived_at: str) -> dict:
    d = store.calendar().deadline(arrived_at, store.response_days())
    return {"arrived_at": d.arrived_at, "blue_at": d.blue_at, "deadline": d.deadline,
            "deadline_estimated": int(d.estimated)}


def _text(value: str, field: str, *, required: bool = True, limit: int = 20000,
          multiline: bool = True) -> str:
    text = clean(value) if multiline else clean_line(value)
    if required and not text:
        raise ValidationError.of("field_required", field=field)
    if len(text) > limit:
        raise ValidationError.of("field_too_long", field=field, length=len(text), limit=limit)
    return text


def _category(value: str) -> str:
    """An appeal category (code or label) to its code; a keyed ValidationError otherwise."""
    try:
        return category_code(value)
    except ValueError:
        raise ValidationError.of("unknown_category", value=value,
                                 choices=tuple(CATEGORIES)) from None


# -- appeals --------------------------------------------------------------------------------
def route_unit(store: Store, category: str, county: str) -> str | None:
    return store.scalar("SELECT unit_code FROM routing_rules WHERE category = ? AND county = ?",
                        (category, county))


def submit_appeal(store: Store, who: str, *, ref: str, enterprise_uscc: str, category: str,
                  county: str, title: str, body: str = "", project_ref: str | None = None,
                  at: str | None = None) -> Appeal:
    """An enterprise's appeal arrives (from intake): stored, then routed by rule; with no
    rule it waits in the admin's dispatch queue (state ``submitted``)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("submit", act)
    ref = _text(ref, "ref", multiline=False, limit=64)
    cat = _category(category)
    county = clean_line(county)
    if county not in store.counties():
        raise ValidationError.of("unknown_county", county=county)
    title = _text(title, "title", limit=200, multiline=False)
    body = _text(body, "body", required=False)
    with store.transaction():
        if store.one("SELECT 1 FROM appeals WHERE ref = ?", (ref,)):
            raise ValidationError.of("appeal_exists", ref=ref)
        store.enterprise(enterprise_uscc)
        if project_ref:
            store.project(project_ref)
        unit = route_unit(store, cat, county)
        row: dict[str, Any] = dict(ref=ref, enterprise_uscc=enterprise_uscc, project_ref=project_ref or None,
                                   category=cat, county=county, title=title, body=body,
                                   state="submitted", unit_code=None, submitted_at=at)
        if unit:
            row.update(state="assigned", unit_code=unit, **_clock_fields(store, at))
        cols = ", ".join(row)
        store.conn.execute(f"INSERT INTO appeals({cols}) VALUES ({', '.join('?' * len(row))})",
                           list(row.values()))
        appeal = store.appeal(ref)
        search.index_appeal(store.conn, appeal.id, title, body, store.enterprise(enterprise_uscc).name,
                            appeal.state)
        store.audit(act.username, "submit", "appeal", ref, None,
                    {"state": appeal.state, "unit_code": unit, "category": cat, "county": county,
                     "title": title, "deadline": appeal.deadline,
                     "routed": "rule" if unit else "dispatch queue"}, at=at)
    return appeal


def assign_appeal(store: Store, who: str, ref: str, unit_code: str, *, note: str = "",
                  at: str | None = None) -> Appeal:
    """Admin (re)assigns an appeal to a unit; the unit's clock starts anew from now."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("assign", act)
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "assign", act, before, at)
        unit = store.unit(unit_code)
        if unit.kind not in HANDLING_UNIT_KINDS:
            raise ValidationError.of("unit_cannot_handle", unit=unit.name)
        if before.state in OPEN_STATES and before.unit_code == unit.code:
            raise InvalidTransition.of("already_with_unit", ref=ref, unit=unit.name)
        # a card the appeal earned with its unit that no sweep has applied yet is recorded
        # first (judged at the threshold, as before a reply): a reassignment never dodges one
        before = _cards_earned(store, before, at, notify=("red",))
        after = _copy(before, state="assigned", unit_code=unit.code, accepted_at=None,
                      **_clock_fields(store, at))
        extra: dict[str, Any] = {}
        if note:
            extra["note"] = clean(note)
        # the previous unit's supervision orders and pending extension requests end here: the
        # new unit starts on its own clock (cards already raised stay, never lowered); but a
        # yellow card is raised once, so an appeal that has one stays under its order, due
        # now at the end of the 5th working day after the new unit's deadline (as a yellow
        # card's order is after its unit's), then red if still unanswered
        kept = store.open_order(before.id) if after.card == "yellow" else None
        keep = kept.id if kept is not None else 0
        closed = [r[0] for r in store.all("SELECT id FROM supervision_orders WHERE appeal_id = ? "
                                          "AND state = 'open' AND id != ?", (before.id, keep))]
        store.conn.execute("UPDATE supervision_orders SET state = 'closed', closed_at = ?, "
                           "note = note || '（已改派）' WHERE appeal_id = ? AND state = 'open' AND id != ?",
                           (at, before.id, keep))
        if after.card == "yellow":
            due, _ = store.calendar().supervision_due(after.deadline)
            if kept is not None:
                store.conn.execute("UPDATE supervision_orders SET due_at = ?, note = note || ? WHERE id = ?",
                                   (due, MOVED_ORDER_NOTE, kept.id))
                extra["order_moved"] = {"order": kept.id, "due_at": due, "before": kept.due_at}
            else:                           # (none open: one for the new unit's deadline)
                cur = store.conn.execute(
                    "INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at, note) "
                    "VALUES (?, 'yellow', ?, ?, ?, ?)", (before.id, at, act.username, due, MOVED_ORDER_NOTE))
                extra["order_moved"] = {"order": cur.lastrowid, "due_at": due, "before": None}
        rejected = _settle_extensions(store, before, act, at, "已改派")
        if closed:
            extra["orders_closed"] = closed
        if rejected:
            extra["extensions_rejected"] = rejected
        return _save_appeal(store, before, after, act, "reassign" if before.unit_code else "assign",
                            at, extra or None)


def _cards_earned(store: Store, appeal: Appeal, at: str, *, notify: tuple[str, ...] = ()) -> Appeal:
    """``appeal`` once the cards it earned by ``at`` and no sweep has applied yet are
    recorded (the sweep of this appeal alone), read again; as it is when it has passed no
    threshold. ``notify``: the cards whose SMS still say what is so after the action (none
    after a reply or an approval: "due today" is then untrue; after a reassignment, red: the
    supervision office is told of the lead sent to the discipline commission, while a yellow
    SMS would tell the old unit of an order that now goes on with the new one)."""
    if appeal.state in OPEN_STATES and (appeal.blue_at and appeal.blue_at <= at or store.open_order(appeal.id)):
        escalation.sweep(store, at, appeal_id=appeal.id, notify=notify, applied_at=at)
        return store.appeal(appeal.ref)
    return appeal


def _settle_extensions(store: Store, appeal: Appeal, act: Actor, at: str, note: str) -> list[int]:
    """The appeal's pending extension request ends with what ``act`` did (a reply, a return,
    a reassignment: there is no deadline of this unit left to move): rejected with ``note``.
    Its id, if there was one."""
    ids = [r[0] for r in store.all("SELECT id FROM extensions WHERE appeal_id = ? AND state = 'pending'",
                                   (appeal.id,))]
    store.conn.execute("UPDATE extensions SET state = 'rejected', decided_by = ?, decided_at = ?, "
                       "decision_note = ? WHERE appeal_id = ? AND state = 'pending'",
                       (act.username, at, note, appeal.id))
    return ids


def accept_appeal(store: Store, who: str, ref: str, *, at: str | None = None) -> Appeal:
    at = _at(at)
    act = actor(store, who)
    rules.require_role("accept", act)
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "accept", act, before, at)
        return _save_appeal(store, before, _copy(before, state="accepted", accepted_at=at),
                            act, "accept", at)


def reply_appeal(store: Store, who: str, ref: str, text: str, *, at: str | None = None) -> Appeal:
    """The unit's answer (答复). Stops the clock. Any threshold the appeal had already
    passed is recorded first, so a late answer keeps the card it earned."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("reply", act)
    reply = _text(text, "reply")
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "reply", act, before, at)
        before = _cards_earned(store, before, at)
        for order in store.orders(before.id):
            if order.state == "open":
                store.conn.execute("UPDATE supervision_orders SET state = 'closed', closed_at = ? "
                                   "WHERE id = ?", (at, order.id))
        rejected = _settle_extensions(store, before, act, at, "已答复")
        return _save_appeal(store, before, _copy(before, state="answered", answered_at=at,
                                                 reply=reply), act, "reply", at,
                            {"extensions_rejected": rejected} if rejected else None)


def return_appeal(store: Store, who: str, ref: str, reason: str, *, at: str | None = None) -> Appeal:
    """The unit sends an appeal back (退回) as not theirs, within 2 working days of its
    arrival; it goes to the admin's dispatch queue."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("return", act)
    reason = _text(reason, "reason", limit=2000)
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "return", act, before, at)
        rejected = _settle_extensions(store, before, act, at, "已退回")
        after = _copy(before, state="returned", returned_at=at, return_reason=reason,
                      blue_at=None, deadline=None, deadline_estimated=0, accepted_at=None)
        return _save_appeal(store, before, after, act, "return", at,
                            {"extensions_rejected": rejected} if rejected else None)


def _working_days(days) -> int:
    """A number of working days given by a person: a whole number, 1..MAX_EXTENSION_DAYS."""
    try:
        whole = int(days)
        if isinstance(days, bool) or (isinstance(days, float) and whole != days):
            raise ValueError(days)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError.of("days_not_whole", value=days) from None
    days = whole
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError.of("days_range", max=MAX_EXTENSION_DAYS)
    return days


def request_extension(store: Store, who: str, ref: str, days: int, reason: str, *,
                      at: str | None = None) -> Extension:
    at = _at(at)
    act = actor(store, who)
    rules.require_role("request_extension", act)
    reason = _text(reason, "reason", limit=2000)
    days = _working_days(days)
    with store.transaction():
        appeal = store.appeal(ref)
        _check(store, "request_extension", act, appeal, at)
        cur = store.conn.execute(
            "INSERT INTO extensions(appeal_id, requested_by, requested_at, days, reason, old_deadline) "
            "VALUES (?, ?, ?, ?, ?, ?)", (appeal.id, act.username, at, days, reason, appeal.deadline))
        ext = from_row(Extension, store.one("SELECT * FROM extensions WHERE id = ?", (cur.lastrowid,)))
        store.audit(act.username, "extension.request", "appeal", ref, None,
                    {"extension": ext.id, "days": days, "reason": reason}, at=at)
    return ext


def decide_extension(store: Store, who: str, extension_id: int, approve: bool, *, note: str = "",
                     at: str | None = None) -> Extension:
    """The supervision office approves (the deadline moves by the days asked, in working
    days) or rejects an extension request; a rejection says why (``note`` required: the unit
    keeps its deadline and is told the reason)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("approve_extension" if approve else "reject_extension", act)
    if not approve and not clean(note).strip():
        raise ValidationError.of("field_required", field="note")
    with store.transaction():
        ext = from_row(Extension, store.one("SELECT * FROM extensions WHERE id = ?", (extension_id,)))
        if ext is None:
            raise NotFound.of("no_extension", id=extension_id)
        if ext.state != "pending":
            raise InvalidTransition.of("extension_decided", id=extension_id, state=ext.state)
        appeal = store.appeal_by_id(ext.appeal_id)
        new_deadline = None
        if approve:
            _check(store, "approve_extension", act, appeal, at)
            # a blue card earned on Day 5 (before the deadline) and not yet applied is kept:
            # the new Day N does not raise it again
            appeal = _cards_earned(store, appeal, at)
            new_deadline, warns = store.calendar().extend(appeal.deadline, ext.days)
            after = _copy(appeal, deadline=new_deadline,
                          blue_at=timeutil.start_of_day(timeutil.local_date(new_deadline)),
                          deadline_estimated=int(bool(warns) or bool(appeal.deadline_estimated)))
            _save_appeal(store, appeal, after, act, "extension.approve", at,
                         {"extension": ext.id, "days": ext.days})
        else:
            store.audit(act.username, "extension.reject", "appeal", appeal.ref, None,
                        {"extension": ext.id, "note": clean(note)}, at=at)
        store.conn.execute(
            "UPDATE extensions SET state = ?, decided_by = ?, decided_at = ?, decision_note = ?, "
            "new_deadline = ? WHERE id = ?",
            ("approved" if approve else "rejected", act.username, at, clean(note), new_deadline, ext.id))
        return from_row(Extension, store.one("SELECT * FROM extensions WHERE id = ?", (ext.id,)))


def evaluate_appeal(store: Store, who: str, ref: str, rating: str, comment: str = "", *,
                    at: str | None = None) -> Appeal:
    """The enterprise's evaluation: 满意/基本满意 close the appeal; 不满意 sends it to
    the supervision office's review queue (``disputed``)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("evaluate", act)
    comment = _text(comment, "comment", required=False, limit=4000)
    rating = clean_line(rating)
    if rating not in RATINGS:
        raise ValidationError.of("rating_choice", choices=RATINGS, value=rating)
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "evaluate", act, before, at)
        state = "disputed" if rating == "不满意" else "closed"
        after = _copy(before, state=state, rating=rating, rating_comment=comment,
                      evaluated_at=at, closed_at=at if state == "closed" else None)
        return _save_appeal(store, before, after, act, "evaluate", at)


def review_dispute(store: Store, who: str, ref: str, unit_at_fault: bool, note: str, *,
                   days: int = 5, at: str | None = None) -> Appeal:
    """Supervisor reviews a 不满意: unit at fault -> a supervision order and the appeal back
    to ``accepted`` due at the order's due time; not at fault -> closed with the note."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("review", act)
    note = _text(note, "note", limit=4000)
    days = _working_days(days)
    with store.transaction():
        before = store.appeal(ref)
        _check(store, "review", act, before, at)
        if unit_at_fault:
            due, warns = store.calendar().extend(at, days)
            store.conn.execute(
                "INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at, note) "
                "VALUES (?, 'dispute', ?, ?, ?, ?)", (before.id, at, act.username, due, note))
            after = _copy(before, state="accepted", answered_at=None, deadline=due,
                          blue_at=timeutil.start_of_day(timeutil.local_date(due)),
                          deadline_estimated=int(bool(warns)))
            return _save_appeal(store, before, after, act, "dispute.at_fault", at,
                                {"order_due": due, "note": note})
        after = _copy(before, state="closed", closed_at=at, close_note=note)
        return _save_appeal(store, before, after, act, "dispute.not_at_fault", at)


def order_due_latest(store: Store, at: str | None = None) -> str:
    """The latest due time a supervision order set at ``at`` may have: the end of the
    ``MAX_ORDER_DAYS``-th working day after that day."""
    return order_due_range(store, at)[0]


def order_due_range(store: Store, at: str | None = None) -> tuple[str, tuple[str, ...]]:
    """``order_due_latest`` and the calendar's warnings for it (the working days of a year
    without holiday data counted Monday-Friday)."""
    at = _at(at)
    day, warnings = store.calendar().add_working_days(timeutil.local_date(at), rules.MAX_ORDER_DAYS)
    return timeutil.end_of_day(day), tuple(warnings)


def _order_fields(store: Store, due_at: str | None, note: str, at: str) -> tuple[str | None, str]:
    """A supervision order's due time (after now, within ``MAX_ORDER_DAYS`` working days;
    ``None`` when not given) and its note (required), as stored."""
    note = _text(note, "note", limit=4000)
    if due_at is None:
        return None, note
    try:                                  # a day alone: the end of that day
        due = timeutil.end_of_day(timeutil.parse_day(due_at))
    except ValueError:
        try:
            due = timeutil.iso(due_at)
        except ValueError:
            raise ValidationError.of("bad_day", field="due_at", value=due_at) from None
    if due <= at:
        raise ValidationError.of("order_due_past")
    latest = order_due_latest(store, at)
    if due > latest:
        raise ValidationError.of("order_due_range", due=due[:10], latest=latest[:10], days=rules.MAX_ORDER_DAYS)
    return due, note


def open_supervision_order(store: Store, who: str, ref: str, due_at: str, note: str = "", *,
                           at: str | None = None) -> SupervisionOrder:
    """Supervisor opens a supervision order (督办单) on an open appeal by hand: due after now
    and within ``MAX_ORDER_DAYS`` working days, with a note saying what is required."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("open_order", act)
    due, note = _order_fields(store, due_at, note, at)
    assert due is not None
    with store.transaction():
        appeal = store.appeal(ref)
        _check(store, "open_order", act, appeal, at)
        cur = store.conn.execute(
            "INSERT INTO supervision_orders(appeal_id, origin, opened_at, opened_by, due_at, note) "
            "VALUES (?, 'manual', ?, ?, ?, ?)", (appeal.id, at, act.username, due, note))
        store.audit(act.username, "order.open", "appeal", ref, None,
                    {"order": cur.lastrowid, "due_at": due, "note": note}, at=at)
        return from_row(SupervisionOrder, store.one("SELECT * FROM supervision_orders WHERE id = ?",
                                                    (cur.lastrowid,)))


def edit_supervision_order(store: Store, who: str, order_id: int, *, due_at: str | None = None,
                           note: str | None = None, at: str | None = None) -> SupervisionOrder:
    at = _at(at)
    act = actor(store, who)
    rules.require_role("edit_order", act)
    with store.transaction():
        before = from_row(SupervisionOrder, store.one("SELECT * FROM supervision_orders WHERE id = ?",
                                                      (order_id,)))
        if before is None:
            raise NotFound.of("no_order", id=order_id)
        if before.state != "open":
            raise InvalidTransition.of("order_closed", id=order_id)
        new_due, new_note = _order_fields(store, due_at, note if note is not None else before.note, at)
        new_due = new_due or before.due_at       # not given: kept as it was (even a sweep's own)
        store.conn.execute("UPDATE supervision_orders SET due_at = ?, note = ? WHERE id = ?",
                           (new_due, new_note, order_id))
        appeal = store.appeal_by_id(before.appeal_id)
        store.audit(act.username, "order.edit", "appeal", appeal.ref,
                    {"order": order_id, "due_at": before.due_at, "note": before.note},
                    {"order": order_id, "due_at": new_due, "note": new_note}, at=at)
        return from_row(SupervisionOrder, store.one("SELECT * FROM supervision_orders WHERE id = ?",
                                                    (order_id,)))


def take_up_red_card(store: Store, who: str, ref: str, note: str = "", *,
                     at: str | None = None) -> None:
    """The discipline commission records that a red card was taken up."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("take_up", act)
    with store.transaction():
        appeal = store.appeal(ref)
        _check(store, "take_up", act, appeal, at)
        store.conn.execute("UPDATE card_events SET taken_up_by = ?, taken_up_at = ?, taken_up_note = ? "
                           "WHERE id = ?", (act.username, at, clean(note), appeal.id * 4 + 3))
        store.audit(act.username, "red.take_up", "appeal", ref, None, {"note": clean(note)}, at=at)


# -- leader instructions -----------------------------------------------------------------------
def issue_instruction(store: Store, who: str, target_user: str, text: str, *,
                      project_ref: str | None = None, appeal_ref: str | None = None,
                      at: str | None = None) -> Instruction:
    """A leader's instruction (领导批示) about a project or an appeal, to a named user; the
    SMS reminder is queued at once."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("instruct", act)
    body = _text(text, "instruction", limit=4000)
    if bool(project_ref) == bool(appeal_ref):
        raise ValidationError.of("instruction_subject")
    with store.transaction():
        target = store.user(target_user)
        if not target.active:
            raise ValidationError.of("target_deactivated", user=target_user)
        if target.role not in rules.INSTRUCTION_TARGET_ROLES or target.username == act.username:
            raise ValidationError.of("instruction_target", user=target.username, role=target.role,
                                     roles=rules.INSTRUCTION_TARGET_ROLES)
        if appeal_ref:
            appeal = store.appeal(appeal_ref)
            _check(store, "instruct", act, appeal, at)
            subject = f"诉求{appeal.ref}《{clip(appeal.title, 20)}》"
        else:
            project = store.project(project_ref)
            if act.user.scope != "city" and project.unit_code != act.unit_code \
                    and project.county != unit_name(store, act.unit_code):
                raise PermissionDenied.of("instruct_scope", who=act.who(),
                                          unit=unit_name(store, act.unit_code))
            subject = f"项目《{clip(project.name, 20)}》"
        cur = store.conn.execute(
            "INSERT INTO instructions(leader, target_user, project_ref, appeal_ref, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (act.username, target.username, project_ref, appeal_ref, body, at))
        iid = cur.lastrowid
        store.queue_sms(target.username, target.mobile,
                        f"【泰安重大项目督导】{act.user.name}对{subject}作出批示：{clause(body, 60)}，请登录平台查看办理。",
                        "instruction", f"instruction:{iid}", at=at)
        store.audit(act.username, "instruction.issue", "instruction", iid, None,
                    {"target": target.username, "project_ref": project_ref, "appeal_ref": appeal_ref,
                     "text": body}, at=at)
        return _instruction(store, iid)


def _instruction(store: Store, iid: int) -> Instruction:
    ins = from_row(Instruction, store.one("SELECT * FROM instructions WHERE id = ?", (iid,)))
    if ins is None:
        raise NotFound.of("no_instruction", id=iid)
    return ins


def acknowledge_instruction(store: Store, who: str, iid: int, *, at: str | None = None) -> Instruction:
    at = _at(at)
    act = actor(store, who)
    with store.transaction():
        ins = _instruction(store, iid)
        refused = rules.instruction_refusal("acknowledge", act.username, iid, ins.target_user,
                                            ins.acknowledged_at, ins.replied_at)
        if refused is not None:
            raise refused
        store.conn.execute("UPDATE instructions SET acknowledged_at = ? WHERE id = ?", (at, iid))
        store.audit(act.username, "instruction.acknowledge", "instruction", iid, None,
                    {"acknowledged_at": at}, at=at)
        return _instruction(store, iid)


def reply_instruction(store: Store, who: str, iid: int, text: str, *, at: str | None = None) -> Instruction:
    at = _at(at)
    act = actor(store, who)
    reply = _text(text, "reply", limit=4000)
    with store.transaction():
        ins = _instruction(store, iid)
        refused = rules.instruction_refusal("reply", act.username, iid, ins.target_user,
                                            ins.acknowledged_at, ins.replied_at)
        if refused is not None:
            raise refused
        store.conn.execute("UPDATE instructions SET reply = ?, replied_at = ?, "
                           "acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ?",
                           (reply, at, at, iid))
        store.audit(act.username, "instruction.reply", "instruction", iid, None, {"reply": reply}, at=at)
        return _instruction(store, iid)


# -- projects -----------------------------------------------------------------------------------
def apply_project(store: Store, who: str, *, ref: str, enterprise_uscc: str, name: str,
                  county: str, category: str, investment_wan: float,
                  planned_start: str | None = None, planned_finish: str | None = None,
                  stage: str = "前期", at: str | None = None) -> Project:
    """A project-library application (项目入库) from an enterprise."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("apply_project", act)
    ref = _text(ref, "ref", multiline=False, limit=64)
    name = _text(name, "name", multiline=False, limit=200)
    county = clean_line(county)
    if county not in store.counties():
        raise ValidationError.of("unknown_county", county=county)
    category = clean_line(category) or "其他"
    if category not in PROJECT_CATEGORIES:
        raise ValidationError.of("unknown_project_category", value=category, choices=PROJECT_CATEGORIES)
    if stage not in PROJECT_STAGES:
        raise ValidationError.of("unknown_stage_choice", value=stage, choices=PROJECT_STAGES)
    try:
        investment = float(investment_wan)
    except (TypeError, ValueError):
        raise ValidationError.of("not_number", field="investment_wan", value=investment_wan) from None
    if not 0 <= investment <= MAX_WAN:          # NaN and ±inf fail this too
        raise ValidationError.of("number_range", field="investment_wan", low=0, high=MAX_WAN,
                                 value=investment_wan)
    for label, value in (("planned_start", planned_start), ("planned_finish", planned_finish)):
        if value:
            try:
                _dt.date.fromisoformat(str(value))
            except ValueError:
                raise ValidationError.of("not_date", field=label, value=value) from None
    if planned_start and planned_finish and str(planned_finish) < str(planned_start):
        raise ValidationError.of("finish_before_start")
    with store.transaction():
        if store.one("SELECT 1 FROM projects WHERE ref = ?", (ref,)):
            raise ValidationError.of("project_exists", ref=ref)
        store.enterprise(enterprise_uscc)
        unit = store.unit(county)
        store.conn.execute(
            "INSERT INTO projects(ref, name, enterprise_uscc, county, category, investment_wan, "
            "planned_start, planned_finish, stage, library, unit_code, applied_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'applied', ?, ?)",
            (ref, name, enterprise_uscc, county, category, investment, planned_start, planned_finish,
             stage, unit.code, at))
        project = store.project(ref)
        store.audit(act.username, "project.apply", "project", ref, None, asdict(project), at=at)
        return project


def review_project(store: Store, who: str, ref: str, decision: str, reason: str = "", *,
                   at: str | None = None) -> Project:
    """Admin decides a library application: ``city`` (市重点), ``province`` (省重点) or
    ``rejected`` (a reason is required)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("review_project", act)
    if decision not in LIBRARY_LEVELS[1:]:
        raise ValidationError.of("decision_choice", value=decision)
    reason = clean(reason)
    if decision == "rejected" and not reason:
        raise ValidationError.of("rejection_reason")
    with store.transaction():
        before = store.project(ref)
        if before.library != "applied":
            raise InvalidTransition.of("project_decided", ref=ref, library=before.library)
        store.conn.execute("UPDATE projects SET library = ?, library_reason = ? WHERE ref = ?",
                           (decision, reason, ref))
        store.audit(act.username, "project.review", "project", ref,
                    {"library": before.library}, {"library": decision, "reason": reason}, at=at)
        return store.project(ref)


def set_project_visualised(store: Store, who: str, ref: str, visualised: bool, *,
                           at: str | None = None) -> Project:
    """Admin marks a project as shown on the visual platform (可视化) or takes the mark off.
    Setting the flag it already has changes nothing and writes no audit row."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("visualise_project", act)
    visualised = bool(visualised)
    with store.transaction():
        before = store.project(ref)
        if bool(before.visualised) == visualised:
            return before
        store.conn.execute("UPDATE projects SET visualised = ? WHERE ref = ?", (int(visualised), ref))
        store.audit(act.username, "project.visualise", "project", ref,
                    {"visualised": not visualised}, {"visualised": visualised}, at=at)
        return store.project(ref)


def report_progress(store: Store, who: str, ref: str, percent: float, invested_wan: float,
                    note: str = "", *, date: str | None = None, stage: str | None = None,
                    at: str | None = None) -> Project:
    """A progress report on a project (by its unit's liaison, an admin, or the app)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("report_progress", act)
    try:
        percent = float(percent)
        invested = float(invested_wan)
    except (TypeError, ValueError):
        raise ValidationError.of("progress_numbers") from None
    if not 0 <= percent <= 100:
        raise ValidationError.of("percent_range", value=percent)
    if not 0 <= invested <= MAX_WAN:
        raise ValidationError.of("number_range", field="invested_wan", low=0, high=MAX_WAN,
                                 value=invested_wan)
    note = _text(note, "note", required=False, limit=4000)
    if stage is not None and stage not in PROJECT_STAGES:
        raise ValidationError.of("unknown_stage", value=stage)
    try:
        day = timeutil.parse_day(date).isoformat() if date else at[:10]
    except ValueError:
        raise ValidationError.of("bad_day", field="date", value=date) from None
    if day > at[:10]:
        raise ValidationError.of("progress_future_day", day=day, today=at[:10])
    with store.transaction():
        before = store.project(ref)
        refused = rules.project_refusal(act, ref, before.unit_code,
                                        unit_name=lambda code: unit_name(store, code))
        if refused is not None:
            raise refused
        latest_day = store.scalar("SELECT MAX(date) FROM progress_reports WHERE project_ref = ?", (ref,))
        # a report dated before the latest one fills in history: it does not go back, and it
        # does not move the project's current stage either
        current = latest_day is None or day >= latest_day
        if not current:
            stage = None
        if not note:
            # a figure no one would believe, or one that goes back, needs a stated reason
            if before.investment_wan and invested > before.investment_wan:
                raise ValidationError.of("progress_over_total", invested=invested, total=before.investment_wan,
                                         ref=ref)
            if current and (percent < (before.percent or 0) or invested < (before.invested_wan or 0)):
                raise ValidationError.of("progress_backwards", ref=ref, percent=percent,
                                         before_percent=before.percent or 0, invested=invested,
                                         before_invested=before.invested_wan or 0)
            if (stage is not None and before.stage in PROJECT_STAGES
                    and PROJECT_STAGES.index(stage) < PROJECT_STAGES.index(before.stage)):
                raise ValidationError.of("stage_backwards", ref=ref, stage=stage, before=before.stage)
        store.conn.execute(
            "INSERT INTO progress_reports(project_ref, date, percent, invested_wan, note, reported_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, day, percent, invested, note, act.username, at))
        latest = store.one("SELECT percent, invested_wan FROM progress_reports WHERE project_ref = ? "
                           "ORDER BY date DESC, id DESC LIMIT 1", (ref,))
        store.conn.execute("UPDATE projects SET percent = ?, invested_wan = ?, stage = COALESCE(?, stage) "
                           "WHERE ref = ?", (latest["percent"], latest["invested_wan"], stage, ref))
        store.audit(act.username, "project.progress", "project", ref,
                    {"percent": before.percent, "invested_wan": before.invested_wan, "stage": before.stage},
                    {"percent": percent, "invested_wan": invested, "date": day, "note": note,
                     "stage": stage or before.stage}, at=at)
        return store.project(ref)


# -- content (policy editor) ----------------------------------------------------------------------
def _content(store: Store, cid: int) -> Content:
    c = from_row(Content, store.one("SELECT * FROM content WHERE id = ?", (cid,)))
    if c is None:
        raise NotFound.of("no_content", id=cid)
    return c


def _check_content_fields(kind: str, level: str, title: str) -> str:
    if kind not in CONTENT_KINDS:
        raise ValidationError.of("content_kind_choice", choices=tuple(CONTENT_KINDS), value=kind)
    if level not in CONTENT_LEVELS:
        raise ValidationError.of("content_level_choice", choices=CONTENT_LEVELS, value=level)
    return _text(title, "title", multiline=False, limit=200)


def draft_content(store: Store, who: str, *, kind: str, level: str, title: str, body: str = "",
                  source_unit: str = "", tags: str = "", at: str | None = None) -> Content:
    at = _at(at)
    act = actor(store, who)
    rules.require_role("draft_content", act)
    title = _check_content_fields(kind, level, title)
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO content(kind, level, title, body, source_unit, tags, state, created_by, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)",
            (kind, level, title, clean(body), clean_line(source_unit), clean_line(tags), act.username, at, at))
        item = _content(store, cur.lastrowid)
        store.audit(act.username, "content.draft", "content", item.id, None,
                    {"kind": kind, "level": level, "title": title}, at=at)
        return item


def update_content(store: Store, who: str, cid: int, *, at: str | None = None, **fields: Any) -> Content:
    """Edit a draft's fields (title, kind, level, body, source_unit, tags). A published
    item changes through a revision (:func:`save_content_revision`), never in place."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("edit_content", act)
    allowed = {"title", "kind", "level", "body", "source_unit", "tags"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError.of("unknown_content_fields", fields=tuple(sorted(unknown)))
    with store.transaction():
        before = _content(store, cid)
        if before.state == "archived":
            raise InvalidTransition.of("content_archived", id=cid)
        if before.state == "published":
            raise InvalidTransition.of("content_published_revise", id=cid)
        data = asdict(before)
        for k, v in fields.items():
            data[k] = clean(v) if k == "body" else clean_line(v)
        data["title"] = _check_content_fields(data["kind"], data["level"], data["title"])
        after = Content(**data)
        b, a = _changes(before, after)
        if not a:
            return before
        a["updated_at"] = at
        sets = ", ".join(f"{k} = ?" for k in a)
        store.conn.execute(f"UPDATE content SET {sets} WHERE id = ?", [*a.values(), cid])
        store.audit(act.username, "content.edit", "content", cid, b, a, at=at)
        return _content(store, cid)


def _content_transition(store: Store, who: str, cid: int, to: str, from_states: tuple[str, ...],
                        action: str, at: str | None, clear_picks: bool = False) -> Content:
    at = _at(at)
    act = actor(store, who)
    verb = action.split(".")[-1]
    rules.require_role(f"{verb}_content", act)
    with store.transaction():
        before = _content(store, cid)
        if before.state not in from_states:
            raise InvalidTransition.of("content_wrong_state", verb=verb, id=cid, state=before.state)
        extra: dict[str, Any] = {}
        if to == "published":
            extra = {"published_at": at, "revised_at": at}
        elif to == "archived":
            extra = {"archived_at": at}
        b: dict[str, Any] = {"state": before.state}
        a: dict[str, Any] = {"state": to}
        if to != "published":
            days = _picks_from(store, cid, at)
            if days and not clear_picks:
                raise InvalidTransition.of("content_is_daily_listen", id=cid, days="、".join(days), verb=verb)
            for day in days:
                _clear_pick(store, act, day, cid, at)
            if days:
                b["daily_listen"], a["daily_listen"] = days, []
            pending = _pending_revision(store, cid)
            if pending is not None:
                # withdrawn: the revision becomes the draft's text (nothing typed is lost);
                # archived: the revision goes with the item
                store.conn.execute("DELETE FROM content_revisions WHERE content_id = ?", (cid,))
                b["revision_pending"] = True
                if to == "draft":
                    extra.update(pending)
                    rb, ra = _changes({k: getattr(before, k) for k in CONTENT_FIELDS}, pending)
                    b.update(rb)
                    a.update(ra)
        sets = ", ".join(["state = ?", "updated_at = ?", *(f"{k} = ?" for k in extra)])
        store.conn.execute(f"UPDATE content SET {sets} WHERE id = ?", [to, at, *extra.values(), cid])
        store.audit(act.username, action, "content", cid, b, a, at=at)
        return _content(store, cid)


def publish_content(store: Store, who: str, cid: int, *, at: str | None = None) -> Content:
    return _content_transition(store, who, cid, "published", ("draft",), "content.publish", at)


def unpublish_content(store: Store, who: str, cid: int, *, clear_picks: bool = False,
                      at: str | None = None) -> Content:
    """Withdraw a published item (back to draft). An item that is the 每日一听 of today or a
    later day is refused unless ``clear_picks``: then those days' picks are cleared with it,
    each audited. A pending revision becomes the draft's text."""
    return _content_transition(store, who, cid, "draft", ("published",), "content.unpublish", at, clear_picks)


def archive_content(store: Store, who: str, cid: int, *, clear_picks: bool = False,
                    at: str | None = None) -> Content:
    """Archive an item; the 每日一听 picks of today and later as :func:`unpublish_content`."""
    return _content_transition(store, who, cid, "archived", ("draft", "published"), "content.archive", at,
                               clear_picks)


def _picks_from(store: Store, cid: int, at: str) -> list[str]:
    """The days, from ``at``'s day on, whose 每日一听 is item ``cid``."""
    return [r[0] for r in store.conn.execute(
        "SELECT date FROM daily_listen WHERE content_id = ? AND date >= ? ORDER BY date", (cid, at[:10]))]


def _clear_pick(store: Store, act: Actor, day: str, cid: int, at: str) -> None:
    store.conn.execute("DELETE FROM daily_listen WHERE date = ?", (day,))
    store.audit(act.username, "content.daily_listen", "daily_listen", day, {"content_id": cid},
                {"content_id": None}, at=at)


# -- revisions of a published item ---------------------------------------------------------------
def _pending_revision(store: Store, cid: int) -> dict[str, Any] | None:
    row = store.one(f"SELECT {', '.join(CONTENT_FIELDS)} FROM content_revisions WHERE content_id = ?", (cid,))
    return dict(row) if row else None


def save_content_revision(store: Store, who: str, cid: int, *, at: str | None = None,
                          **fields: Any) -> dict[str, Any] | None:
    """Save a change to a published item as its draft revision: the published text stays as
    it is until :func:`publish_content_revision`. One pending revision an item: a second
    save replaces it; a revision equal to the published text is dropped. Returns the
    pending revision's fields (``None``: none pending)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("revise_content", act)
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationError.of("unknown_content_fields", fields=tuple(sorted(unknown)))
    with store.transaction():
        item = _content(store, cid)
        if item.state != "published":
            raise InvalidTransition.of("content_revision_unpublished", id=cid, state=item.state)
        published = {k: getattr(item, k) for k in CONTENT_FIELDS}
        pending = _pending_revision(store, cid)
        data = dict(pending or published)
        for k, v in fields.items():
            data[k] = clean(v) if k == "body" else clean_line(v)
        data["title"] = _check_content_fields(data["kind"], data["level"], data["title"])
        if data == (pending or published):
            return pending
        if data == published:
            store.conn.execute("DELETE FROM content_revisions WHERE content_id = ?", (cid,))
            store.audit(act.username, "content.revise", "content", cid, pending, None, at=at)
            return None
        b, a = _changes(pending or published, data)
        store.conn.execute(
            f"INSERT INTO content_revisions(content_id, {', '.join(CONTENT_FIELDS)}, saved_by, saved_at) "
            f"VALUES (?, {', '.join('?' * len(CONTENT_FIELDS))}, ?, ?) ON CONFLICT(content_id) DO UPDATE SET "
            + ", ".join(f"{k} = excluded.{k}" for k in (*CONTENT_FIELDS, "saved_by", "saved_at")),
            [cid, *(data[k] for k in CONTENT_FIELDS), act.username, at])
        store.audit(act.username, "content.revise", "content", cid, b, a, at=at)
        return data


def publish_content_revision(store: Store, who: str, cid: int, *, at: str | None = None) -> Content:
    """Publish an item's pending revision: its text replaces the published one, the item's
    ``revision`` counts up and ``revised_at`` is now. The sound built for the item's
    每日一听 of today and later no longer says what is published: it is dropped (built
    again by the next ``taian listen build``); a past day's stays as it was broadcast."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("publish_revision", act)
    with store.transaction():
        item = _content(store, cid)
        if item.state != "published":
            raise InvalidTransition.of("content_revision_unpublished", id=cid, state=item.state)
        pending = _pending_revision(store, cid)
        if pending is None:
            raise InvalidTransition.of("no_content_revision", id=cid)
        b, a = _changes({k: getattr(item, k) for k in CONTENT_FIELDS}, pending)
        b["revision"], a["revision"] = item.revision, item.revision + 1
        sets = ", ".join(f"{k} = ?" for k in CONTENT_FIELDS)
        store.conn.execute(f"UPDATE content SET {sets}, revision = revision + 1, revised_at = ?, updated_at = ? "
                           "WHERE id = ?", [*(pending[k] for k in CONTENT_FIELDS), at, at, cid])
        store.conn.execute("DELETE FROM content_revisions WHERE content_id = ?", (cid,))
        store.conn.execute("UPDATE daily_listen SET audio_path = NULL, audio_hash = NULL, audio_seconds = NULL, "
                           "audio_bytes = NULL, audio_built_at = NULL WHERE content_id = ? AND date >= ?",
                           (cid, at[:10]))
        store.audit(act.username, "content.publish_revision", "content", cid, b, a, at=at)
        return _content(store, cid)


def discard_content_revision(store: Store, who: str, cid: int, *, at: str | None = None) -> None:
    """Throw away an item's pending revision (the published text stays)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("revise_content", act)
    with store.transaction():
        _content(store, cid)
        pending = _pending_revision(store, cid)
        if pending is None:
            raise InvalidTransition.of("no_content_revision", id=cid)
        store.conn.execute("DELETE FROM content_revisions WHERE content_id = ?", (cid,))
        store.audit(act.username, "content.revise", "content", cid, pending, None, at=at)


def daily_listen_latest(at: str | None = None) -> str:
    """The last day a 每日一听 may be chosen for today (``rules.MAX_LISTEN_DAYS_AHEAD`` ahead)."""
    today = timeutil.local_date(_at(at))
    return (today + _dt.timedelta(days=rules.MAX_LISTEN_DAYS_AHEAD)).isoformat()


def pick_daily_listen(store: Store, who: str, day: str, cid: int, *, at: str | None = None) -> None:
    """Choose the day's 每日一听: a published item, for today or a later day. A new pick
    drops the sound built for the old one."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("daily_listen", act)
    try:
        _dt.date.fromisoformat(day)
    except ValueError:
        raise ValidationError.of("bad_day", field="day", value=day) from None
    with store.transaction():
        item = _content(store, cid)
        if item.state != "published":
            raise InvalidTransition.of("daily_listen_unpublished", id=cid, state=item.state)
        if day < at[:10]:
            raise InvalidTransition.of("daily_listen_past", day=day, today=at[:10])
        latest = daily_listen_latest(at)
        if day > latest:
            raise ValidationError.of("daily_listen_far", day=day, days=rules.MAX_LISTEN_DAYS_AHEAD, latest=latest)
        old = store.scalar("SELECT content_id FROM daily_listen WHERE date = ?", (day,))
        if old == cid:
            return
        store.conn.execute("INSERT INTO daily_listen(date, content_id, chosen_by, chosen_at) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(date) DO UPDATE SET content_id = excluded.content_id, "
                           "chosen_by = excluded.chosen_by, chosen_at = excluded.chosen_at, audio_path = NULL, "
                           "audio_hash = NULL, audio_seconds = NULL, audio_bytes = NULL, audio_built_at = NULL",
                           (day, cid, act.username, at))
        store.audit(act.username, "content.daily_listen", "daily_listen", day,
                    {"content_id": old}, {"content_id": cid}, at=at)


def record_listen_audio(store: Store, who: str, day: str, cid: int, revision: int, *, path: str,
                        text_hash: str, seconds: float, size: int, at: str | None = None) -> None:
    """Remember the sound built for the 每日一听 of ``day`` (item ``cid`` at ``revision``):
    its file, hash, length and size. Refused when the pick or the item's published text
    changed while it was being built."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("build_listen", act)
    with store.transaction():
        row = store.one("SELECT content_id, audio_hash, audio_seconds, audio_bytes, audio_path "
                        "FROM daily_listen WHERE date = ?", (day,))
        if row is None:
            raise NotFound.of("no_daily_listen", day=day)
        item = _content(store, row["content_id"])
        if row["content_id"] != cid or item.revision != revision:
            raise InvalidTransition.of("daily_listen_changed", day=day)
        if item.state != "published":
            raise InvalidTransition.of("daily_listen_unpublished", id=cid, state=item.state)
        store.conn.execute("UPDATE daily_listen SET audio_path = ?, audio_hash = ?, audio_seconds = ?, "
                           "audio_bytes = ?, audio_built_at = ? WHERE date = ?",
                           (path, text_hash, round(seconds, 2), size, at, day))
        store.audit(act.username, "content.listen_built", "daily_listen", day,
                    {"file": row["audio_path"], "seconds": row["audio_seconds"], "bytes": row["audio_bytes"]},
                    {"file": path, "seconds": round(seconds, 2), "bytes": size, "content_id": cid,
                     "revision": revision}, at=at)


# -- administration -------------------------------------------------------------------------------
def _unit_fields(code: str, name: str, kind: str, head_name: str, head_mobile: str) -> Unit:
    unit = Unit(code=clean_line(code), name=clean_line(name), kind=kind, head_name=clean_line(head_name),
                head_mobile=normalise_phone(head_mobile))
    if not unit.code or not unit.name:
        raise ValidationError.of("unit_code_name")
    if kind not in UNIT_KINDS:
        raise ValidationError.of("unit_kind_choice", choices=UNIT_KINDS, value=kind)
    if (refused := mobile_refusal(unit.head_mobile)) is not None:
        raise refused
    return unit


def add_unit(store: Store, who: str, code: str, name: str, kind: str, *, head_name: str = "",
             head_mobile: str = "", at: str | None = None) -> None:
    """A new unit (refused when its code or name is taken: see ``upsert_unit`` to change one)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("manage_units", act)
    u = _unit_fields(code, name, kind, head_name, head_mobile)
    with store.transaction():
        if store.one("SELECT 1 FROM units WHERE code = ? OR name = ?", (u.code, u.name)):
            raise ValidationError.of("unit_exists", code=u.code, name=u.name)
        store.conn.execute("INSERT INTO units(code, name, kind, head_name, head_mobile) VALUES (?, ?, ?, ?, ?)",
                           (u.code, u.name, u.kind, u.head_name, u.head_mobile))
        store.audit(act.username, "unit.add", "unit", u.code, None,
                    {"name": u.name, "kind": u.kind, "head_name": u.head_name}, at=at)


def unit_dependents(store: Store, code: str) -> dict[str, int]:
    """What depends on the kind of the unit ``code``: its ``appeals`` (any state; ``open``:
    those not closed), the routing ``rules`` naming it, and the user ``accounts`` in it (a
    handling unit's liaisons and unit-scope leaders; 督查室's supervisors and 纪委监委's
    discipline accounts, whose unit would otherwise become one that handles appeals)."""
    row = store.one(
        "SELECT (SELECT COUNT(*) FROM appeals WHERE unit_code = :c) AS appeals, "
        "(SELECT COUNT(*) FROM appeals WHERE unit_code = :c AND state != 'closed') AS open, "
        "(SELECT COUNT(*) FROM routing_rules WHERE unit_code = :c) AS rules, "
        "(SELECT COUNT(*) FROM users WHERE unit_code = :c) AS accounts", {"c": code})
    return {k: row[k] for k in ("appeals", "open", "rules", "accounts")}


def upsert_unit(store: Store, who: str, code: str, name: str, kind: str, *, head_name: str = "",
                head_mobile: str = "", at: str | None = None) -> str:
    """Create a unit or change its name, kind or head. Returns ``inserted``, ``updated`` or
    ``unchanged`` (nothing written). A county or zone keeps its name and kind: enterprises,
    projects, appeals and routing rules refer to it by name. A unit that has appeals, routing
    rules or user accounts does not change between a handling kind (county, zone,
    department) and one that handles no appeals (督查室, 纪委监委, platform)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("manage_units", act)
    after = _unit_fields(code, name, kind, head_name, head_mobile)
    with store.transaction():
        before = from_row(Unit, store.one("SELECT code, name, kind, head_name, head_mobile FROM units "
                                          "WHERE code = ?", (after.code,)))
        if before == after:
            return "unchanged"
        if store.one("SELECT 1 FROM units WHERE name = ? AND code != ?", (after.name, after.code)):
            raise ValidationError.of("unit_exists", code=after.code, name=after.name)
        if (before is not None and {"county", "zone"} & {before.kind, after.kind}
                and (before.name, before.kind) != (after.name, after.kind)):
            raise ValidationError.of("county_unit_fixed", code=after.code, name=before.name)
        if before is not None and (before.kind in HANDLING_UNIT_KINDS) != (after.kind in HANDLING_UNIT_KINDS):
            uses = unit_dependents(store, before.code)
            if any(uses.values()):
                raise ValidationError.of("unit_kind_in_use", code=before.code, name=before.name,
                                         before=before.kind, kind=after.kind, **uses)
        store.conn.execute(
            "INSERT INTO units(code, name, kind, head_name, head_mobile) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
            "head_name = excluded.head_name, head_mobile = excluded.head_mobile",
            (after.code, after.name, after.kind, after.head_name, after.head_mobile))
        b, a = _changes(before, after) if before else ({}, asdict(after))
        store.audit(act.username, "unit.upsert", "unit", after.code, b, a, at=at)
        return "updated" if before else "inserted"


#: What a username may be: it stands in SSH forced commands (``taian keys``: no quotes,
#: backslashes or control characters), in the audit trail and in import files (no spaces,
#: commas or semicolons); at most 64 characters.
USERNAME = re.compile(r"[^\s,;\"'\\\x00-\x1f\x7f-\x9f]{1,64}")
#: The prefix of the system actors (``actors.SYSTEM_ACTORS``): never a person's username.
SYSTEM_PREFIX = "system:"


#: A mobile number that SMS can reach (mainland China): 11 digits beginning with 1, after
#: an optional +86 (or the 0 dialled before a mobile of another city); dashes between
#: groups are allowed (138-0000-0002).
MOBILE = re.compile(r"(?:\+?86|0)?1[3-9][0-9]{9}")


def mobile_refusal(mobile: str) -> ValidationError | None:
    """Why ``mobile`` (as ``text.normalise_phone`` leaves it) cannot be an account's or a
    unit head's mobile (``None`` when it can, or when it is empty): the one rule of the
    users and units imports, ``upsert_user`` and ``upsert_unit``."""
    if mobile and not MOBILE.fullmatch(mobile.replace("-", "")):
        return ValidationError.of("mobile_digits", value=mobile)
    return None


def username_refusal(username: str) -> ValidationError | None:
    """Why ``username`` cannot be a user's name (``None`` when it can): the one rule of the
    users import and ``upsert_user``."""
    if not username:
        return ValidationError.of("field_required", field="username")
    if not USERNAME.fullmatch(username):
        return ValidationError.of("username_chars", value=username)
    if username.lower().startswith(SYSTEM_PREFIX):
        return ValidationError.of("username_reserved", value=username, prefix=SYSTEM_PREFIX)
    return None


def _check_admin_kept(store: Store, act: Actor, user: User) -> None:
    """``user`` (an active admin) is about to stop being one (another role, or deactivated):
    refused when ``act`` is that admin, or when no other active admin would be left."""
    if act.username == user.username:
        raise PermissionDenied.of("admin_own_role", user=user.username)
    if not store.one("SELECT 1 FROM users WHERE role = 'admin' AND active = 1 AND username != ?",
                     (user.username,)):
        raise PermissionDenied.of("last_admin", user=user.username)


def upsert_user(store: Store, who: str, username: str, name: str, role: str, *,
                unit_code: str | None = None, mobile: str = "", scope: str = "city",
                at: str | None = None) -> str:
    """Create or update an account. Returns ``inserted``, ``updated`` or ``unchanged``.
    Refused: a username ``username_refusal`` refuses; an admin changing their own role; a
    change that leaves no active admin."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("manage_users", act)
    # (half-width: ｑｉａｎ４ typed in a spreadsheet is qian4, the name people type)
    username, name = half_width(clean_line(username)), clean_line(name)
    refused = username_refusal(username)
    if refused is not None:
        raise refused
    if role not in ROLES:
        raise ValidationError.of("role_choice", choices=ROLES, value=role)
    if role == "liaison" and not unit_code:
        raise ValidationError.of("liaison_needs_unit")
    if scope not in ("city", "unit"):
        raise ValidationError.of("scope_choice", value=scope)
    if role == "leader":
        scope = "city" if not unit_code else scope
    mobile = normalise_phone(mobile)
    if (refused := mobile_refusal(mobile)) is not None:
        raise refused
    with store.transaction():
        if unit_code:
            unit_code = store.unit(unit_code).code
        before = from_row(User, store.one("SELECT * FROM users WHERE username = ?", (username,)))
        if before is None:
            # a name that differs from another only by case (ZRZY1 beside zrzy1) would be two
            # people to the machine and one to whoever reads the audit trail or an SMS log
            other = store.scalar("SELECT username FROM users WHERE lower(username) = lower(?)", (username,))
            if other is not None:
                raise ValidationError.of("username_case", value=username, other=other)
        # a deactivated account stays so (``set_user_active`` alone activates it again): an
        # accounts file re-imported by cron reopened it, and its SSH key worked again
        after = User(username=username, name=name, role=role, unit_code=unit_code, mobile=mobile,
                     scope=scope, active=before.active if before is not None else 1)
        if before == after:
            return "unchanged"
        if before is not None and before.role == "admin" and before.active and role != "admin":
            _check_admin_kept(store, act, before)
        store.conn.execute(
            "INSERT INTO users(username, name, role, unit_code, mobile, scope, active) VALUES (?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT(username) DO UPDATE SET name = excluded.name, role = excluded.role, "
            "unit_code = excluded.unit_code, mobile = excluded.mobile, scope = excluded.scope",
            (username, name, role, unit_code, mobile, scope))
        b, a = _changes(before, after) if before else ({}, asdict(after))
        store.audit(act.username, "user.upsert", "user", username, b, a, at=at)
        return "updated" if before else "inserted"


def set_user_active(store: Store, who: str, username: str, active: bool, *, at: str | None = None) -> str:
    """Deactivate an account (someone left: they can no longer sign in, act, be given a key
    or be instructed; their history stays) or activate it again. Returns ``updated`` or
    ``unchanged``."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("manage_users", act)
    with store.transaction():
        user = store.user(username)
        if bool(user.active) == bool(active):
            return "unchanged"
        if not active and user.role == "admin":
            _check_admin_kept(store, act, user)
        if not active and user.role == "liaison" and user.unit_code:
            # a unit keeps a liaison with a mobile while it has open appeals (DOMAIN.md: the
            # cards' SMS go to them)
            others = store.scalar("SELECT COUNT(*) FROM users WHERE role = 'liaison' AND active = 1 "
                                  "AND unit_code = ? AND username != ? AND mobile != ''",
                                  (user.unit_code, user.username))
            open_n = store.scalar(f"SELECT COUNT(*) FROM appeals WHERE unit_code = ? AND state IN "
                                  f"{rules.OPEN_STATES_SQL}", (user.unit_code,))
            if not others and open_n:
                raise InvalidTransition.of("last_liaison", user=user.username, unit=store.unit(user.unit_code).name,
                                           n=open_n)
        store.conn.execute("UPDATE users SET active = ? WHERE username = ?", (int(bool(active)), username))
        store.audit(act.username, "user.activate" if active else "user.deactivate", "user", username,
                    {"active": user.active}, {"active": int(bool(active))}, at=at)
        return "updated"


def set_routing_rule(store: Store, who: str, category: str, county: str, unit_code: str, *,
                     at: str | None = None) -> str:
    """Appeals of ``category`` in ``county`` go to ``unit_code`` (code or name). Returns
    ``inserted``, ``updated`` or ``unchanged`` (the rule was already so: nothing written)."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("routing_rules", act)
    cat = _category(category)
    with store.transaction():
        unit = store.unit(unit_code)
        if unit.kind not in HANDLING_UNIT_KINDS:
            raise ValidationError.of("unit_cannot_handle", unit=unit.name)
        if county not in store.counties():
            raise ValidationError.of("unknown_county", county=county)
        old = route_unit(store, cat, county)
        if old == unit.code:
            return "unchanged"
        store.conn.execute("INSERT INTO routing_rules(category, county, unit_code) VALUES (?, ?, ?) "
                           "ON CONFLICT(category, county) DO UPDATE SET unit_code = excluded.unit_code",
                           (cat, county, unit.code))
        store.audit(act.username, "routing.set", "routing_rule", f"{cat}:{county}",
                    {"unit_code": old}, {"unit_code": unit.code}, at=at)
        return "updated" if old else "inserted"


def import_calendar_rows(store: Store, who: str, rows: list[tuple[str, str]], *, source: str,
                         at: str | None = None) -> dict:
    """Add holiday/workday rows (already validated; a day given twice the same way counts
    once, a day given as both kinds is refused), mark their years as covered, and recompute
    the deadlines that depended on a day whose kind changed (or on a year counted
    Monday-Friday until now).

    Deadlines follow the calendar (DOMAIN.md, "The clock"): an open appeal (assigned or
    accepted) keeps the number of working days it had between its arrival and its deadline
    (the response days, plus any approved extension), counted again on the new calendar.
    An appeal under an open supervision order keeps its due time (the order's, which the
    supervision office sets and edits). The audit row lists every deadline moved."""
    at = _at(at)
    act = actor(store, who)
    rules.require_role("import_calendar", act)
    kinds: dict[str, str] = {}
    for day, kind in rows:
        if kinds.setdefault(day, kind) != kind:
            raise ValidationError.of("calendar_conflict", day=day)
    years = sorted({int(d[:4]) for d in kinds})
    with store.transaction():
        old = store.calendar()
        # a year becomes known (no longer counted Monday-Friday) only from a file holding its
        # arrangement: at least its statutory holidays; fewer days for a year without data
        # are used, and the year stays estimated (a correction of a known year is any size)
        partial = [y for y in years if not old.has_year(y)
                   and sum(1 for d, k in kinds.items() if d.startswith(f"{y}-") and k == "holiday")
                   < rules.MIN_YEAR_HOLIDAYS]
        store.conn.executemany("INSERT INTO calendar(date, kind, source) VALUES (?, ?, ?) "
                               "ON CONFLICT(date) DO UPDATE SET kind = excluded.kind, source = excluded.source",
                               [(d, k, source) for d, k in kinds.items()])
        store.conn.executemany("INSERT OR REPLACE INTO calendar_years(year, source) VALUES (?, ?)",
                               [(y, source) for y in years if y not in partial])
        store.set_setting("calendar_version", f"{at}#{store.scalar('SELECT COUNT(*) FROM calendar')}")
        cal = store.calendar()
        changed = sorted(d for d in map(_dt.date.fromisoformat, kinds) if old.is_workday(d) != cal.is_workday(d))
        moved: list[dict] = []
        for row in store.all("SELECT id, ref, arrived_at, blue_at, deadline, deadline_estimated FROM appeals "
                             f"WHERE state IN {rules.OPEN_STATES_SQL} AND arrived_at IS NOT NULL "
                             "AND deadline IS NOT NULL AND NOT EXISTS (SELECT 1 FROM supervision_orders o "
                             "WHERE o.appeal_id = appeals.id AND o.state = 'open') ORDER BY id"):
            arrived = timeutil.local_date(row["arrived_at"])
            due = timeutil.local_date(row["deadline"])
            if not (row["deadline_estimated"] or any(arrived < d <= due for d in changed)):
                continue
            days = old.working_days_between(arrived, due)
            if days < 1:
                continue
            day, warns = cal.add_working_days(arrived, days)
            deadline, blue_at = timeutil.end_of_day(day), timeutil.start_of_day(day)
            if (deadline, blue_at, int(bool(warns))) == (row["deadline"], row["blue_at"], row["deadline_estimated"]):
                continue
            store.conn.execute("UPDATE appeals SET blue_at = ?, deadline = ?, deadline_estimated = ? WHERE id = ?",
                               (blue_at, deadline, int(bool(warns)), row["id"]))
            if deadline != row["deadline"]:
                moved.append({"ref": row["ref"], "before": row["deadline"], "after": deadline})
        store.audit(act.username, "calendar.import", "calendar", source, None,
                    {"rows": len(kinds), "years": years, "days_changed": [d.isoformat() for d in changed],
                     "deadlines_moved": len(moved), "moved": moved, "years_still_estimated": partial}, at=at)
    return {"rows": len(kinds), "years": years, "deadlines_moved": len(moved), "partial_years": partial}



# -- the editor's autosave (a user's own scratch, not content: no audit row) -----------------------
def keep_form_draft(store: Store, who: str, key: str, fields: dict[str, Any], *, at: str | None = None) -> None:
    """Keep what ``who`` has typed into a form (``key`` names the form and what it is about:
    a content item's id or ``new`` for the policy editor, ``form:ReplyForm:A-2026-0001`` for
    an action form) until it is saved or thrown away: a crash, a closed terminal or a refused
    save loses nothing. One draft per user and key."""
    at = _at(at)
    act = actor(store, who)
    if act.user is None:
        raise PermissionDenied.of("unknown_user", user=who)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO editor_autosave(username, item, fields, saved_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(username, item) DO UPDATE SET fields = excluded.fields, saved_at = excluded.saved_at",
            (act.username, str(key), json.dumps(fields, ensure_ascii=False), at))


def form_draft(store: Store, who: str, key: str | int) -> tuple[dict[str, Any], str] | None:
    """(fields, saved_at) of ``who``'s draft of the form ``key``, if any."""
    row = store.one("SELECT fields, saved_at FROM editor_autosave WHERE username = ? AND item = ?",
                    (who, str(key)))
    return (json.loads(row["fields"]), row["saved_at"]) if row else None


def discard_form_draft(store: Store, who: str, key: str | int) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM editor_autosave WHERE username = ? AND item = ?", (who, str(key)))


def autosave_content_form(store: Store, who: str, item: str | int, fields: dict[str, Any], *,
                          at: str | None = None) -> None:
    """The policy editor's draft of ``item`` (an id or ``new``): editors and admins only."""
    rules.require_role("draft_content", actor(store, who))
    keep_form_draft(store, who, str(item), fields, at=at)


#: The policy editor reads and drops its drafts as every form does.
autosaved_content_form = form_draft
discard_content_autosave = discard_form_draft
