"""``taian import routing``: the routing rules (category x county -> unit) through
``operations.set_routing_rule``.
"""
from __future__ import annotations

import os
from typing import Callable


from taian_tui.domain import labels
from taian_tui.domain.models import category_code
from taian_tui.store import Store
from taian_tui.domain.operations import set_routing_rule
from taian_tui.domain.refusals import ValidationError
from taian_tui.domain.rules import HANDLING_UNIT_KINDS
from taian_tui.dataio.reading import ImportResult, county_lookup
from taian_tui.dataio.tables import Problem, RowCheck, Table, import_table, unit_lookup


# routing rules
ROUTING_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("category", "类别", True),
    ("county", "县市区", True),
    ("unit", "承办单位", True),
)


ROUTING_ALIASES: dict[str, tuple[str, ...]] = {
    "category": ("类别", "诉求类别", "category"),
    "county": ("县市区", "所属县市区", "区县", "county"),
    "unit": ("承办单位", "单位", "unit", "unit_code"),
}


def _routing_check(store: Store) -> RowCheck:
    units = unit_lookup(store)
    handling = set(unit_lookup(store, HANDLING_UNIT_KINDS).values())
    names = {u.code: u.name for u in store.units()}
    counties = county_lookup(store)           # (by name, or by its unit code as enterprises are)
    names_of_counties = list(dict.fromkeys(counties.values()))

    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        try:
            category = category_code(get("category"))
        except ValueError as exc:
            category = ""
            problems.append(("category", get("category"), str(exc)))
        county = counties.get(get("county"), "")
        if not county:
            problems.append(("county", get("county"), "unknown county or zone: one of " + "、".join(names_of_counties)
                             if counties else "no county or zone is known yet: import the units first"))
        unit = units.get(get("unit"))
        if unit is None and labels.code_of("unit_kind", get("unit")) not in (None, *HANDLING_UNIT_KINDS):
            # 督查室, 纪委监委, 平台: a kind of unit that handles no appeals, named as the unit
            problems.append(("unit", get("unit"), str(ValidationError.of("unit_cannot_handle", unit=get("unit")))))
        elif unit is None:
            problems.append(("unit", get("unit"), "no such unit (give its code or its name)"))
        elif unit not in handling:
            problems.append(("unit", get("unit"), str(ValidationError.of("unit_cannot_handle", unit=names[unit]))))
        return {"category": category, "county": county, "unit": unit}, problems
    return check


def _routing_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    return set_routing_rule(store, actor, data["category"], data["county"], data["unit"], at=at)


ROUTING_TABLE = Table("routing", "routing_rules", ROUTING_COLUMNS, ROUTING_ALIASES,
                       ("category", "county"), _routing_check, _routing_apply)


def import_routing(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                   dry_run: bool = False, strict: bool = False,
                   report: str | os.PathLike | None = None, at: str | None = None,
                 sheet: str | None = None) -> ImportResult:
    """Import routing rules (``operations.set_routing_rule`` per row): which unit handles the
    appeals of a category in a county. Columns category, county, unit (or 类别, 县市区,
    承办单位); category in either spelling (land or 土地), unit by code or name."""
    return import_table(store, who, path, ROUTING_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at, sheet=sheet)
