"""The rules, declared once: the appeal's states, and every action with the roles that may
take it, the states it leaves from and leads to, and the conditions of its scope.

``ACTIONS`` is read by the operations (``operations``: the store's checks, which refuse
with the rule's message) and by the console (which offers a key exactly when the same
check passes), so the two cannot disagree. ``OPEN_STATES`` (the states on a unit's clock)
and its SQL form come from ``STATES``.

A check runs in this order: the role (or system actor), then the unit (a liaison acts on
their own unit's appeals and projects only), then the state, then the action's other
conditions. ``refusal(...)`` returns the first refusal (a ``DomainError`` carrying its
message key) or ``None``; ``check(...)`` raises it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from taian_tui.domain import timeutil
from taian_tui.domain.actors import IMPORT, INTAKE, OPERATOR, Actor
from taian_tui.domain.clock import WorkCalendar
from taian_tui.domain.refusals import DomainError, InvalidTransition, PermissionDenied

RETURN_WINDOW_DAYS = 2
MAX_EXTENSION_DAYS = 20
#: A calendar file makes a year without data known only with at least this many holidays of
#: it (the statutory holidays: 11 days a year until 2024, 13 from 2025; a State Council
#: arrangement lists some 30 days off with the weekends inside the holidays).
MIN_YEAR_HOLIDAYS = 11
#: How far ahead a 每日一听 may be chosen: a month's programme (2099-12-31 was taken, and
#: shown as this year's 12-31).
MAX_LISTEN_DAYS_AHEAD = 31
MAX_ORDER_DAYS = 20          # a supervision order set by hand is due within this many working days
#: The kinds of unit that handle appeals (are assigned them, are named by routing rules);
#: 督查室, 纪委监委 and the platform do not.
HANDLING_UNIT_KINDS = ("county", "zone", "department")
#: Added to the note of the supervision order that a reassignment carries over to the new unit
#: (an appeal with a yellow card stays under supervision: ``operations.assign_appeal``).
MOVED_ORDER_NOTE = "（改派后继续督办）"
#: Whom a leader's instruction may be written to (active, and not the leader writing it):
#: the people who act on appeals and projects, not the discipline commission or the editors.
INSTRUCTION_TARGET_ROLES = ("liaison", "admin", "supervisor", "leader")


# -- the appeal's states -------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    code: str
    on_clock: bool        # the unit's working-day clock runs: the sweep cards it, it can be extended


STATES = (
    State("submitted", False),   # waiting in the admin's dispatch queue (no routing rule)
    State("assigned", True),     # with a unit, not yet accepted
    State("accepted", True),     # accepted (签收) by the unit
    State("answered", False),    # the unit replied; the enterprise evaluates
    State("disputed", False),    # evaluated 不满意: the supervision office reviews
    State("returned", False),    # returned (退回) by the unit: back in the dispatch queue
    State("closed", False),
)
APPEAL_STATES = tuple(s.code for s in STATES)
OPEN_STATES = tuple(s.code for s in STATES if s.on_clock)
#: ``('assigned','accepted')``: written exactly as the partial indexes of schema.py are, so
#: that SQLite can use them.
OPEN_STATES_SQL = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"


# -- conditions ------------------------------------------------------------------------------------
OWN_UNIT = "own_unit"                  # a liaison: only their own unit's appeal or project
RETURN_WINDOW = "return_window"        # within RETURN_WINDOW_DAYS working days of arrival
BEFORE_DEADLINE = "before_deadline"    # not after the response deadline
NO_PENDING_EXTENSION = "no_pending_extension"
NO_OPEN_ORDER = "no_open_order"
RED_CARD_OPEN = "red_card_open"        # a red card that is not yet taken up
IN_SCOPE = "in_scope"                  # the appeal is within what the user may see


@dataclass(frozen=True)
class Action:
    name: str
    task: str                            # ``labels`` "task": what the roles may do
    roles: tuple[str, ...]
    system: tuple[str, ...] = ()         # system actors that may take it too
    sources: tuple[str, ...] = ()        # the states it leaves from (empty: any)
    targets: tuple[str, ...] = ()        # the states it leads to (empty: unchanged)
    verb: str = ""                       # ``labels`` "verb": names it in a wrong-state refusal
    conditions: tuple[str, ...] = ()


_ANY = ()
_OPEN = OPEN_STATES

#: Every action of the domain. Appeal actions name their states; the others have roles and
#: conditions only (their own state checks are in ``operations``).
ACTIONS: dict[str, Action] = {a.name: a for a in (
    # -- appeals: the lifecycle of DOMAIN.md
    Action("submit", "submit_appeals", ("admin",), (INTAKE,), _ANY, ("submitted", "assigned")),
    Action("assign", "assign_appeals", ("admin",), (), ("submitted", "returned", "assigned", "accepted"),
           ("assigned",), "assign"),
    Action("accept", "accept_appeals", ("liaison", "admin"), (), ("assigned",), ("accepted",), "accept",
           (OWN_UNIT,)),
    Action("reply", "reply_appeals", ("liaison", "admin"), (), ("accepted",), ("answered",), "reply",
           (OWN_UNIT,)),
    Action("return", "return_appeals", ("liaison",), (), _OPEN, ("returned",), "return",
           (OWN_UNIT, RETURN_WINDOW)),
    Action("request_extension", "request_extensions", ("liaison",), (), _OPEN, (), "request_extension",
           (OWN_UNIT, BEFORE_DEADLINE, NO_PENDING_EXTENSION)),
    Action("approve_extension", "decide_extensions", ("supervisor",), (), _OPEN, (), "extend",
           (BEFORE_DEADLINE,)),
    Action("reject_extension", "decide_extensions", ("supervisor",)),
    Action("evaluate", "record_evaluations", ("admin",), (INTAKE,), ("answered",), ("closed", "disputed"),
           "evaluate"),
    Action("review", "review_disputes", ("supervisor",), (), ("disputed",), ("accepted", "closed"), "review"),
    Action("open_order", "open_orders", ("supervisor",), (), _OPEN, (), "open_order", (NO_OPEN_ORDER,)),
    Action("edit_order", "edit_orders", ("supervisor",)),
    Action("take_up", "take_up_red_cards", ("discipline",), (), _ANY, (), "", (RED_CARD_OPEN,)),
    Action("instruct", "issue_instructions", ("leader",), (), _ANY, (), "", (IN_SCOPE,)),
    # -- projects
    Action("apply_project", "apply_projects", ("admin",), (INTAKE, IMPORT)),
    Action("review_project", "review_projects", ("admin",)),
    Action("visualise_project", "visualise_projects", ("admin",)),
    Action("report_progress", "report_progress", ("liaison", "admin"), (INTAKE, IMPORT), _ANY, (), "",
           (OWN_UNIT,)),
    # -- content (the policy editor)
    Action("draft_content", "write_content", ("editor", "admin")),
    Action("edit_content", "edit_content", ("editor", "admin")),
    Action("publish_content", "publish_content", ("editor", "admin")),
    Action("unpublish_content", "unpublish_content", ("editor", "admin")),
    Action("archive_content", "archive_content", ("editor", "admin")),
    Action("revise_content", "edit_content", ("editor", "admin")),
    Action("publish_revision", "publish_content", ("editor", "admin")),
    Action("daily_listen", "daily_listen", ("editor", "admin")),
    Action("build_listen", "build_listen", ("editor", "admin"), (OPERATOR,)),
    # -- administration
    Action("manage_units", "manage_units", ("admin",), (IMPORT,)),
    Action("manage_users", "manage_users", ("admin",), (IMPORT, OPERATOR)),
    Action("routing_rules", "routing_rules", ("admin",), (IMPORT,)),
    Action("import_calendar", "import_calendars", ("admin",), (IMPORT,)),
    Action("import_registry", "import_registry", ("admin",), (IMPORT,)),
    Action("intake", "feed_intake", ("admin",), (INTAKE,)),
    Action("release_sms", "release_sms", ("admin",)),
)}


# -- the facts a check needs ---------------------------------------------------------------------
@dataclass(frozen=True)
class AppealFacts:
    """What the rules need to know of an appeal. The store builds it from the appeal's rows
    (``operations.appeal_facts``); the console's lists carry the same fields on each row."""

    ref: str
    state: str
    unit_code: str | None
    arrived_at: str | None = None
    deadline: str | None = None
    return_until: str | None = None      # end of the return window (``return_until``)
    pending_extension: bool = False
    open_order: bool = False
    red_card: bool = False               # a red card was raised
    red_taken_up_by: str | None = None
    visible: bool = True                 # within the viewer's scope (``actors.can_see_appeal``)


def return_until(calendar: WorkCalendar, arrived_at: str | None) -> str | None:
    """The end of the return window: the end of the RETURN_WINDOW_DAYS-th working day after
    arrival (``None`` for an appeal not with a unit)."""
    if not arrived_at:
        return None
    day, _ = calendar.add_working_days(timeutil.local_date(arrived_at), RETURN_WINDOW_DAYS)
    return timeutil.end_of_day(day)


# -- checks --------------------------------------------------------------------------------------
def role_refusal(name: str, act: Actor) -> DomainError | None:
    """The role check alone (before anything is read)."""
    action = ACTIONS[name]
    if act.user is None:
        if act.username in action.system:
            return None
        return PermissionDenied.of("system_not_allowed", task=action.task, user=act.username)
    if act.role not in action.roles:
        return PermissionDenied.of("role_required", roles=action.roles, task=action.task, who=act.who())
    return None


def require_role(name: str, act: Actor) -> None:
    refused = role_refusal(name, act)
    if refused is not None:
        raise refused


def _own_unit_refusal(name: str, act: Actor, ref: str, unit_code: str | None,
                      unit_name: Callable[[str | None], str | None]) -> DomainError | None:
    if act.role != "liaison" or act.unit_code == unit_code:
        return None
    if name == "report_progress":
        return PermissionDenied.of("progress_own_unit", user=act.username, user_unit=unit_name(act.unit_code),
                                   ref=ref, unit=unit_name(unit_code))
    return PermissionDenied.of("own_unit", user=act.username, user_unit=unit_name(act.unit_code),
                               verb=ACTIONS[name].verb, ref=ref, unit=unit_name(unit_code))


def refusal(name: str, act: Actor, facts: AppealFacts, *, at: str,
            unit_name: Callable[[str | None], str | None] = lambda code: code,
            role_checked: bool = False) -> DomainError | None:
    """Why ``act`` may not take the appeal action ``name`` on the appeal of ``facts`` at
    ``at``, or ``None`` when the store would take it. ``unit_name`` names units in the
    message (the code when not given)."""
    action = ACTIONS[name]
    if not role_checked:
        refused = role_refusal(name, act)
        if refused is not None:
            return refused
    if OWN_UNIT in action.conditions:
        refused = _own_unit_refusal(name, act, facts.ref, facts.unit_code, unit_name)
        if refused is not None:
            return refused
    if IN_SCOPE in action.conditions and not facts.visible:
        return PermissionDenied.of("out_of_scope", who=act.who(), ref=facts.ref)
    if action.sources and facts.state not in action.sources:
        return InvalidTransition.of("wrong_state", verb=action.verb, ref=facts.ref, state=facts.state,
                                    states=action.sources)
    for condition in action.conditions:
        if condition == RETURN_WINDOW and facts.return_until and at > facts.return_until:
            return InvalidTransition.of("return_window", days=RETURN_WINDOW_DAYS, ref=facts.ref,
                                        arrived=(facts.arrived_at or "")[:10], closed=facts.return_until[:10])
        if condition == BEFORE_DEADLINE and facts.deadline and at > facts.deadline:
            if name == "request_extension":
                return InvalidTransition.of("extension_too_late", ref=facts.ref, deadline=facts.deadline)
            return InvalidTransition.of("approval_too_late", ref=facts.ref, deadline=facts.deadline)
        if condition == NO_PENDING_EXTENSION and facts.pending_extension:
            return InvalidTransition.of("extension_pending", ref=facts.ref)
        if condition == NO_OPEN_ORDER and facts.open_order:
            return InvalidTransition.of("order_exists", ref=facts.ref)
        if condition == RED_CARD_OPEN:
            if not facts.red_card:
                return InvalidTransition.of("no_red_card", ref=facts.ref)
            if facts.red_taken_up_by:
                return InvalidTransition.of("red_card_taken_up", ref=facts.ref, user=facts.red_taken_up_by)
    return None


def instruction_refusal(action: str, username: str, iid: int, target: str, acknowledged_at: str | None,
                        replied_at: str | None) -> DomainError | None:
    """Why ``username`` may not ``action`` (``acknowledge`` or ``reply``) instruction ``iid``
    (written to ``target``, acknowledged and replied at those times), or ``None``: the
    store's check and the console's key (greyed with this reason) alike."""
    if target != username:
        return PermissionDenied.of("instruction_not_yours", target=target, id=iid, verb=action)
    if action == "acknowledge" and acknowledged_at:
        return InvalidTransition.of("instruction_acknowledged", id=iid)
    if action == "reply" and replied_at:
        return InvalidTransition.of("instruction_answered", id=iid)
    return None


def check(name: str, act: Actor, facts: AppealFacts, *, at: str,
          unit_name: Callable[[str | None], str | None] = lambda code: code,
          role_checked: bool = False) -> None:
    """Raise the refusal of ``refusal(...)``, if any."""
    refused = refusal(name, act, facts, at=at, unit_name=unit_name, role_checked=role_checked)
    if refused is not None:
        raise refused


def allowed(name: str, act: Actor, facts: AppealFacts, *, at: str) -> bool:
    """Whether the store would take the action (the console offers its key then)."""
    return refusal(name, act, facts, at=at) is None


def project_refusal(act: Actor, ref: str, unit_code: str | None, *,
                    unit_name: Callable[[str | None], str | None] = lambda code: code) -> DomainError | None:
    """Why ``act`` may not report progress on the project ``ref`` of ``unit_code``."""
    return role_refusal("report_progress", act) or _own_unit_refusal(
        "report_progress", act, ref, unit_code, unit_name)
