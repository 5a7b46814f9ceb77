"""Who is who: the units a viewer may choose from (those that handle appeals: counties,
zones, departments; those a viewer may filter the inbox by) and people's names.
"""
from __future__ import annotations

from dataclasses import dataclass

from taian_tui.domain.models import User
from taian_tui.store import Store
from taian_tui.domain.actors import Actor
from taian_tui.domain.rules import HANDLING_UNIT_KINDS


def handling_units(store: Store) -> list[tuple[str, str]]:
    """(code, name) of the units that handle appeals (counties, zones, departments)."""
    return [(u.code, u.name) for u in store.units(HANDLING_UNIT_KINDS)]


def visible_units(store: Store, act: Actor) -> list[tuple[str, str]]:
    """The units a viewer may filter by: none for a liaison (one unit), else all handling units."""
    if act.role == "liaison":
        return []
    if act.role == "leader" and act.user and act.user.scope != "city":
        return []
    return handling_units(store)


@dataclass
class Contact:
    role: str          # liaison | head
    name: str
    mobile: str


def unit_contacts(store: Store, code: str | None, limit: int | None = None) -> list[Contact]:
    """Whom a supervisor would call at a unit: its active liaisons (at most ``limit``), then
    its head, with their mobile numbers."""
    if not code:
        return []
    out = [Contact("liaison", r["name"], r["mobile"]) for r in store.all(
        "SELECT name, mobile FROM users WHERE unit_code = ? AND role = 'liaison' AND active = 1 "
        "ORDER BY username LIMIT ?", (code, -1 if limit is None else limit))]
    head = store.one("SELECT head_name, head_mobile FROM units WHERE code = ?", (code,))
    if head is not None and (head["head_name"] or head["head_mobile"]):
        out.append(Contact("head", head["head_name"] or "", head["head_mobile"] or ""))
    return out


def user_names(store: Store, usernames: set[str] | list[str]) -> dict[str, str]:
    """``{username: name}`` of the given users (those that exist)."""
    names = sorted({u for u in usernames if u})
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    return {r[0]: r[1] for r in store.all(
        f"SELECT username, name FROM users WHERE username IN ({marks})", names)}


def sign_in_choices(store: Store) -> list[tuple[User, str]]:
    """(user, unit name) of the active users, for a demo database's sign-in list."""
    units = {u.code: u.name for u in store.units()}
    return [(u, units.get(u.unit_code or "", "")) for u in store.users()]
