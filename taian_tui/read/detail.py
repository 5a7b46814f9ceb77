"""One appeal as the console's detail pane shows it: the record and its history, the
enterprise, the project, supervision orders, extensions, card events, and the names of
the people and units involved. The viewer must be allowed to see the appeal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from taian_tui.read import appeals, directory
from taian_tui.store import Store
from taian_tui.domain.actors import Actor, require_see_appeal
from taian_tui.domain.rules import OPEN_STATES


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
    #: Whom a supervisor would call about it: the unit's liaisons, then its head.
    contacts: list[directory.Contact] = field(default_factory=list)


def appeal_detail(store: Store, act: Actor, ref: str, at: str | None = None) -> AppealDetail:
    """The whole appeal as the detail pane shows it (the viewer must be allowed to see it)."""
    appeal = store.appeal(ref)
    require_see_appeal(store, act, appeal)
    record = appeals.appeal_record(store, ref)
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
    users = directory.user_names(store, {h["actor"] for h in record["history"]}
                                 | {c["taken_up_by"] for c in cards})
    units = {r[0]: r[1] for r in store.all("SELECT code, name FROM units")}
    days_left = None
    if appeal.state in OPEN_STATES and appeal.deadline:
        days_left = appeals.working_days_left(store, appeal.deadline, at)
    return AppealDetail(record=record, enterprise=dict(ent) if ent else None, project=proj,
                        orders=orders, extensions=exts, cards=cards, users=users, units=units,
                        days_left=days_left, contacts=directory.unit_contacts(store, appeal.unit_code, limit=4))
