"""``taian import units``: the units by code through ``operations.upsert_unit``.
"""
from __future__ import annotations

import os
import re
from typing import Callable


from taian_tui.store import Store
from taian_tui.domain.text import normalise_phone
from taian_tui.domain import labels
from taian_tui.domain.models import UNIT_KINDS
from taian_tui.domain.operations import mobile_refusal, upsert_unit
from taian_tui.dataio.reading import ImportResult
from taian_tui.dataio.tables import Problem, RowCheck, Table, import_table


# units
UNIT_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "代码", True),
    ("name", "单位名称", True),
    ("kind", "类型", True),
    ("head_name", "负责人", False),
    ("head_mobile", "负责人手机", False),
)


UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("代码", "单位代码", "编码", "code", "unit_code"),
    "name": ("单位名称", "名称", "单位", "name", "unit_name"),
    "kind": ("类型", "单位类型", "kind", "type"),
    "head_name": ("负责人", "负责人姓名", "head", "head_name"),
    "head_mobile": ("负责人手机", "负责人电话", "head_mobile", "head_phone"),
}


_UNIT_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def _unit_check(store: Store) -> RowCheck:
    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        code = get("code")
        if not _UNIT_CODE.fullmatch(code):
            problems.append(("code", code, "a unit code is 1-32 letters, digits, '-', '_' or '.'"
                             if code else "the unit code is required"))
        name = get("name")
        if not name:
            problems.append(("name", "", "the unit name is required"))
        kind = labels.code_of("unit_kind", get("kind"))
        if kind not in UNIT_KINDS:
            kind = None
            problems.append(("kind", get("kind"), "unknown kind: one of " + ", ".join(
                f"{code}/{labels.label('unit_kind', code)}" for code in UNIT_KINDS)))
        mobile = normalise_phone(get("head_mobile")) if get("head_mobile") else ""
        if (refused := mobile_refusal(mobile)) is not None:
            problems.append(("head_mobile", get("head_mobile"), str(refused)))
        return {"code": code, "name": name, "kind": kind, "head_name": get("head_name"),
                "head_mobile": mobile}, problems
    return check


def _unit_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    """Columns absent from the file keep what the unit has (its head)."""
    existing = store.one("SELECT head_name, head_mobile FROM units WHERE code = ?", (data["code"],))
    head = {k: data[k] if k in present else (existing[k] if existing else "")
            for k in ("head_name", "head_mobile")}
    return upsert_unit(store, actor, data["code"], data["name"], data["kind"], at=at, **head)


UNIT_TABLE = Table("units", "manage_units", UNIT_COLUMNS, UNIT_ALIASES, ("code",), _unit_check, _unit_apply,
                   {"unit_kind_in_use": "kind", "unit_exists": "name"})


def import_units(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                 dry_run: bool = False, strict: bool = False,
                 report: str | os.PathLike | None = None, at: str | None = None,
                 sheet: str | None = None) -> ImportResult:
    """Import units (``operations.upsert_unit`` per row, by code) from a CSV with the columns
    code, name, kind, head_name, head_mobile (or 代码, 单位名称, 类型, 负责人, 负责人手机).
    Kind by code or label (县市区, 功能区, 市直部门, 督查室, 纪委监委, 平台)."""
    return import_table(store, who, path, UNIT_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at, sheet=sheet)
