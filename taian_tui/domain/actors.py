"""Who is acting, and what they may see.

An ``Actor`` is a user row (an active account) or one of the system actors below, which
have no row in ``users``. The scope of what a user may read is defined here once, as
Python (``can_see_appeal``) and as SQL (``appeal_scope_sql``, ``project_scope_sql``), and
used by every list, count, detail and operation. What a user may *do* is in ``rules``.
"""
from __future__ import annotations

from typing import Any

from taian_tui.domain.models import Appeal, User
from taian_tui.domain.refusals import NotFound, PermissionDenied
from taian_tui.store import Store

#: What the enterprise app sends (``taian intake``).
INTAKE = "system:intake"
#: Bulk imports (``taian import ...``, ``taian calendar import``).
IMPORT = "system:import"
#: The card sweep (``taian escalate``).
ESCALATE = "system:escalate"
#: SMS delivery (``taian notify send``).
NOTIFY = "system:notify"
#: The operator's own commands on the service account (``taian keys``): the audit row's
#: principal names the person.
OPERATOR = "system:operator"
SYSTEM_ACTORS = (INTAKE, IMPORT, ESCALATE, NOTIFY, OPERATOR)


class Actor:
    """Who is acting: a user row, or a system actor (``user`` is ``None``)."""

    def __init__(self, username: str, user: User | None) -> None:
        self.username = username
        self.user = user

    @property
    def role(self) -> str:
        return self.user.role if self.user else "system"

    @property
    def unit_code(self) -> str | None:
        return self.user.unit_code if self.user else None

    def who(self) -> tuple[str, str | None]:
        """``(username, role)`` (role ``None`` for a system actor): a refusal's ``{who:who}``."""
        return (self.username, self.user.role if self.user else None)


def require_key(listed: bool, username: str, fingerprint: str) -> None:
    """Refused (``key_removed``) unless the key an SSH session was opened with is still
    registered for its user (``listed``: ``dataio.sshkeys.KeyGuard.listed``)."""
    if not listed:
        raise PermissionDenied.of("key_removed", user=username, fingerprint=fingerprint)


def actor(store: Store, username: str) -> Actor:
    """The acting user (active), or a system actor; refused otherwise."""
    if username.startswith("system:"):
        if username not in SYSTEM_ACTORS:
            raise PermissionDenied.of("unknown_user", user=username)
        return Actor(username, None)
    try:
        user = store.user(username)
    except NotFound:
        raise PermissionDenied.of("unknown_user", user=username) from None
    if not user.active:
        raise PermissionDenied.of("user_deactivated", user=username)
    return Actor(username, user)


def unit_name(store: Store, code: str | None) -> str | None:
    """A unit's name for a refusal's ``{unit:unit}`` (``None``: no unit; the code when the
    unit is unknown)."""
    if not code:
        return None
    row = store.one("SELECT name FROM units WHERE code = ?", (code,))
    return row["name"] if row else code


# -- what a user may see ------------------------------------------------------------------
def can_see_appeal(store: Store, act: Actor, appeal: Appeal) -> bool:
    role = act.role
    if role in ("admin", "supervisor", "system"):
        return True
    if role == "discipline":
        return appeal.card == "red"
    if role == "liaison":
        return appeal.unit_code == act.unit_code
    if role == "leader":
        if act.user.scope == "city":
            return True
        return appeal.unit_code == act.unit_code or appeal.county == unit_name(store, act.unit_code)
    return False


def require_see_appeal(store: Store, act: Actor, appeal: Appeal) -> None:
    if not can_see_appeal(store, act, appeal):
        raise PermissionDenied.of("out_of_scope", who=act.who(), ref=appeal.ref)


def appeal_scope_sql(store: Store, act: Actor, alias: str = "a") -> tuple[str, list[Any]]:
    """The WHERE fragment restricting appeals to what ``act`` may see (``can_see_appeal``
    as SQL: one definition, used by every list, count and screen)."""
    role = act.role
    if role in ("admin", "supervisor", "system"):
        return "1", []
    if role == "discipline":
        # ("card != ''" as the partial index of carded appeals is written: SQLite then reads it)
        return f"{alias}.card = 'red' AND {alias}.card != ''", []
    if role == "liaison":
        return f"{alias}.unit_code = ?", [act.unit_code]
    if role == "leader":
        if act.user.scope == "city":
            return "1", []
        return (f"({alias}.unit_code = ? OR {alias}.county = ?)",
                [act.unit_code, unit_name(store, act.unit_code)])
    return "0", []


def appeal_scope_units(act: Actor) -> frozenset[str] | None:
    """The units whose appeals are the whole of what ``act`` may see (a liaison: their
    unit), or ``None`` when the scope is not a set of units (``appeal_scope_sql``): a change
    to appeals of other units cannot concern them."""
    if act.role == "liaison" and act.unit_code:
        return frozenset({act.unit_code})
    return None


def project_scope_sql(store: Store, act: Actor, alias: str = "p") -> tuple[str, list[Any]]:
    """The WHERE fragment restricting projects to what ``act`` may see: everything for the
    admin, the supervision office and a leader of the whole city; a county's leader, the
    projects of that unit or county; a liaison, their unit's projects and those their unit
    has appeals about (read-only: ``rules`` refuses progress on another unit's project);
    the discipline commission and editors, none."""
    role = act.role
    if role in ("admin", "supervisor", "system"):
        return "1", []
    if role == "leader":
        if act.user.scope == "city":
            return "1", []
        return (f"({alias}.unit_code = ? OR {alias}.county = ?)",
                [act.unit_code, unit_name(store, act.unit_code)])
    if role == "liaison":
        return (f"({alias}.unit_code = ? OR {alias}.ref IN (SELECT project_ref FROM appeals "
                "WHERE unit_code = ? AND project_ref IS NOT NULL))", [act.unit_code, act.unit_code])
    return "0", []
