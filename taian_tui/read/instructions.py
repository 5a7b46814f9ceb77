"""Leader instructions (领导批示) as the console lists them: to me, issued by me, or all
(admin and supervision office), open or answered; one instruction; the people an
instruction may be written to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taian_tui.store import Store, like_pattern
from taian_tui.domain.refusals import NotFound, PermissionDenied, ValidationError
from taian_tui.domain import rules
from taian_tui.domain.actors import Actor


# -- instructions ------------------------------------------------------------------------------
INSTRUCTION_VIEWS = ("mine", "issued", "all")


INSTRUCTION_STATES = ("open", "answered", "all")


def instruction_views(act: Actor) -> tuple[str, ...]:
    """The lists a viewer has: instructions to them; a leader's own; everyone's for the
    admin and the supervision office."""
    if act.role == "leader":
        return ("issued", "mine")
    if act.role in ("admin", "supervisor"):
        return ("mine", "all")
    return ("mine",)


@dataclass(frozen=True)
class InstructionFilter:
    view: str = "mine"
    state: str = "open"               # open (not yet replied) | answered | all


@dataclass
class InstructionRow:
    id: int
    leader: str
    leader_name: str
    target_user: str
    target_name: str
    target_unit: str
    project_ref: str | None
    appeal_ref: str | None
    subject: str
    text: str
    created_at: str
    acknowledged_at: str | None
    reply: str
    replied_at: str | None

    @property
    def status(self) -> str:
        """``new`` (not acknowledged), ``acknowledged``, or ``answered``."""
        if self.replied_at:
            return "answered"
        return "acknowledged" if self.acknowledged_at else "new"


def _instruction_where(act: Actor, f: InstructionFilter) -> tuple[str, list[Any]]:
    if f.view not in INSTRUCTION_VIEWS:
        raise ValidationError.of("instruction_view_choice", choices=INSTRUCTION_VIEWS, value=f.view)
    if f.view not in instruction_views(act):
        raise PermissionDenied.of("instruction_view_denied", who=act.who(), view=f.view)
    clauses: list[str] = []
    params: list[Any] = []
    if f.view == "mine":
        clauses.append("i.target_user = ?")
        params.append(act.username)
    elif f.view == "issued":
        clauses.append("i.leader = ?")
        params.append(act.username)
    if f.state == "open":
        clauses.append("i.replied_at IS NULL")
    elif f.state == "answered":
        clauses.append("i.replied_at IS NOT NULL")
    elif f.state != "all":
        raise ValidationError.of("instruction_state_choice", choices=INSTRUCTION_STATES, value=f.state)
    return " AND ".join(clauses) or "1", params


_INSTRUCTION_SELECT = (
    "SELECT i.id, i.leader, COALESCE(l.name, i.leader) AS leader_name, i.target_user, "
    "COALESCE(t.name, i.target_user) AS target_name, COALESCE(u.name, '') AS target_unit, "
    "i.project_ref, i.appeal_ref, COALESCE(p.name, a.title, '') AS subject, i.text, i.created_at, "
    "i.acknowledged_at, i.reply, i.replied_at FROM instructions i "
    "LEFT JOIN users l ON l.username = i.leader LEFT JOIN users t ON t.username = i.target_user "
    "LEFT JOIN units u ON u.code = t.unit_code LEFT JOIN projects p ON p.ref = i.project_ref "
    "LEFT JOIN appeals a ON a.ref = i.appeal_ref ")


def list_instructions(store: Store, act: Actor, f: InstructionFilter = InstructionFilter(), *,
                      limit: int = 50, offset: int = 0) -> list[InstructionRow]:
    """One page of instructions: open ones oldest first (the longest waiting on top),
    otherwise newest first."""
    where, params = _instruction_where(act, f)
    order = "i.created_at, i.id" if f.state == "open" else "i.created_at DESC, i.id DESC"
    rows = store.all(f"{_INSTRUCTION_SELECT} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                     [*params, limit, offset])
    return [InstructionRow(**dict(r)) for r in rows]


def count_instructions(store: Store, act: Actor, f: InstructionFilter = InstructionFilter()) -> int:
    where, params = _instruction_where(act, f)
    return store.scalar(f"SELECT COUNT(*) FROM instructions i WHERE {where}", params)


def instruction(store: Store, act: Actor, iid: int) -> InstructionRow:
    """One instruction, if the viewer wrote it, received it, or sees every instruction."""
    row = store.one(f"{_INSTRUCTION_SELECT} WHERE i.id = ?", (iid,))
    if row is None:
        raise NotFound.of("no_instruction", id=iid)
    ins = InstructionRow(**dict(row))
    if act.username not in (ins.leader, ins.target_user) and "all" not in instruction_views(act):
        raise PermissionDenied.of("instruction_out_of_scope", who=act.who(), id=iid)
    return ins


@dataclass
class Recipient:
    username: str
    name: str
    role: str
    unit: str
    relevant: bool      # a user of the unit that holds the project or appeal
    mobile: str = ""    # where the instruction's SMS goes


def instruction_recipients(store: Store, act: Actor, *, project_ref: str | None = None,
                           appeal_ref: str | None = None, text: str | None = None,
                           limit: int = 30) -> list[Recipient]:
    """Users an instruction may be written to (active liaisons, admins, supervisors and
    leaders, not the leader writing it), at most ``limit``: matching ``text`` (name, user name
    or unit) if given; those of the unit holding the project or appeal first."""
    unit = None
    if appeal_ref:
        unit = store.scalar("SELECT unit_code FROM appeals WHERE ref = ?", (appeal_ref,))
    elif project_ref:
        unit = store.scalar("SELECT unit_code FROM projects WHERE ref = ?", (project_ref,))
    where, params = "", []
    if text and text.strip():
        needle = like_pattern(text.strip())
        where = ("AND (s.name LIKE ? ESCAPE '\\' OR s.username LIKE ? ESCAPE '\\' "
                 "OR u.name LIKE ? ESCAPE '\\')")
        params = [needle, needle, needle]
    rows = store.all(
        "SELECT s.username, s.name, s.role, COALESCE(u.name, '') AS unit, s.mobile, "
        "(s.unit_code IS NOT NULL AND s.unit_code = ?) AS relevant FROM users s "
        "LEFT JOIN units u ON u.code = s.unit_code WHERE s.active = 1 AND s.username != ? "
        f"AND s.role IN ({', '.join('?' * len(rules.INSTRUCTION_TARGET_ROLES))}) {where} "
        "ORDER BY relevant DESC, s.role != 'liaison', u.rowid, s.username LIMIT ?",
        [unit, act.username, *rules.INSTRUCTION_TARGET_ROLES, *params, limit])
    return [Recipient(r["username"], r["name"], r["role"], r["unit"], bool(r["relevant"]), r["mobile"])
            for r in rows]
