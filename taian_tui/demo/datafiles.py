"""The demo city's data files, shipped as package data (``data/``): the 58 units of Tai'an
with 督查室 and 纪委监委 (``units.csv``), and the default routing rules
(``routing_rules.csv``, derived from the units by ``default_routing_rules``).
"""
from __future__ import annotations

import csv
from pathlib import Path


from taian_tui.domain.models import CATEGORIES
from taian_tui.demo.names import UNROUTED


#: The demo city's data files (package data): the 58 units and the default routing rules.
DATA = Path(__file__).resolve().parent / "data"


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------
def read_units(path: Path | None = None) -> list[dict]:
    path = path or DATA / "units.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def default_routing_rules(units: list[dict]) -> list[tuple[str, str, str]]:
    """(category, county, unit_code) for every county/zone and category, but the
    :data:`UNROUTED` combos."""
    rules = []
    for u in units:
        if u["kind"] not in ("county", "zone"):
            continue
        for cat in CATEGORIES:
            if (cat, u["name"]) in UNROUTED:
                continue
            unit = {"approval": "xzsp", "planning": "zrzy", "land": "zrzy", "energy": "fgw",
                    "environment": "sthj",
                    "infrastructure": "zjj" if u["kind"] == "county" else u["code"],
                    "other": u["code"]}[cat]
            rules.append((cat, u["name"], unit))
    return rules


def read_routing_rules(path: Path | None = None) -> list[tuple[str, str, str]]:
    path = path or DATA / "routing_rules.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [(r["category"], r["county"], r["unit_code"]) for r in csv.DictReader(fh)]
