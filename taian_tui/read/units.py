"""The units a viewer may choose from: those that handle appeals (counties, zones,
departments), and those a viewer may filter the inbox by.
"""
from __future__ import annotations


from taian_tui.store import Store
from taian_tui.domain.actors import Actor


def handling_units(store: Store) -> list[tuple[str, str]]:
    """(code, name) of the units that handle appeals (counties, zones, departments)."""
    return [(u.code, u.name) for u in store.units(("county", "zone", "department"))]


def visible_units(store: Store, act: Actor) -> list[tuple[str, str]]:
    """The units a viewer may filter by: none for a liaison (one unit), else all handling units."""
    if act.role == "liaison":
        return []
    if act.role == "leader" and act.user and act.user.scope != "city":
        return []
    return handling_units(store)
