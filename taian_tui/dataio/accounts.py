"""``taian import users``: accounts (liaisons with their mobiles, leaders, supervisors, ...)
through ``operations.upsert_user``, one row at a time.
"""
from __future__ import annotations

import os
from typing import Callable


from taian_tui.domain import labels
from taian_tui.domain.models import ROLES
from taian_tui.store import Store
from taian_tui.domain.text import normalise_phone
from taian_tui.domain.operations import mobile_refusal, upsert_user, username_refusal
from taian_tui.dataio.reading import ImportResult
from taian_tui.dataio.tables import Problem, RowCheck, Table, import_table, unit_lookup


#: (key, Chinese header, required).
USER_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("username", "用户名", True),
    ("name", "姓名", True),
    ("role", "角色", True),
    ("unit", "单位", False),
    ("mobile", "手机号", False),
    ("scope", "范围", False),
)


USER_ALIASES: dict[str, tuple[str, ...]] = {
    "username": ("用户名", "账号", "帐号", "username", "user", "login"),
    "name": ("姓名", "name", "full_name"),
    "role": ("角色", "role"),
    "unit": ("单位", "所属单位", "unit", "unit_code"),
    "mobile": ("手机号", "手机", "手机号码", "mobile", "phone"),
    "scope": ("范围", "scope"),
}


def _user_check(store: Store) -> RowCheck:
    units = unit_lookup(store)

    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        username = get("username")
        if not username:
            problems.append(("username", "", "the username is required"))
        elif (refused := username_refusal(username)) is not None:
            problems.append(("username", username, str(refused)))
        name = get("name")
        if not name:
            problems.append(("name", "", "the name is required"))
        role = labels.code_of("role", get("role"))
        if role not in ROLES:
            role = None
            problems.append(("role", get("role"), "unknown role: one of " + ", ".join(
                f"{code}/{labels.label('role', code)}" for code in ROLES)))
        unit = None
        if get("unit"):
            unit = units.get(get("unit"))
            if unit is None:
                problems.append(("unit", get("unit"), "no such unit (give its code or its name)"))
        mobile = normalise_phone(get("mobile")) if get("mobile") else ""
        if (refused := mobile_refusal(mobile)) is not None:
            problems.append(("mobile", get("mobile"), str(refused)))
        scope = ""
        if get("scope"):
            scope = labels.code_of("scope", get("scope")) or ""
            if not scope:
                problems.append(("scope", get("scope"), "scope is city (市) or unit (本单位)"))
        if role == "liaison":
            if "unit" in present and not get("unit"):
                problems.append(("unit", "", "a liaison belongs to a unit"))
            if "mobile" in present and not mobile:
                problems.append(("mobile", "", "a liaison needs a mobile number (reminder SMS go to it)"))
        if role == "leader" and scope == "unit" and "unit" in present and not unit:
            problems.append(("scope", get("scope"), "a leader with scope unit needs a unit"))
        return ({"username": username, "name": name, "role": role, "unit": unit, "mobile": mobile,
                 "scope": scope}, problems)
    return check


def _user_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    """Columns absent from the file keep what the account has (unit, mobile, scope)."""
    existing = store.one("SELECT * FROM users WHERE username = ?", (data["username"],))
    unit = data["unit"] if "unit" in present else (existing["unit_code"] if existing else None)
    mobile = data["mobile"] if "mobile" in present else (existing["mobile"] if existing else "")
    if data["scope"]:
        scope = data["scope"]
    elif existing is not None and existing["role"] == data["role"] and "unit" not in present:
        scope = existing["scope"]
    else:
        scope = "unit" if data["role"] == "leader" and unit else "city"
    return upsert_user(store, actor, data["username"], data["name"], data["role"],
                       unit_code=unit or None, mobile=mobile or "", scope=scope, at=at)


USER_TABLE = Table("users", "manage_users", USER_COLUMNS, USER_ALIASES, ("username",), _user_check,
                    _user_apply, {"admin_own_role": "role", "last_admin": "role"})


def import_users(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                 dry_run: bool = False, strict: bool = False,
                 report: str | os.PathLike | None = None, at: str | None = None,
                 sheet: str | None = None) -> ImportResult:
    """Import accounts (``operations.upsert_user`` per row) from a CSV with the columns
    username, name, role, unit, mobile (or 用户名, 姓名, 角色, 单位, 手机号; scope/范围
    optional). Role by code or Chinese label, unit by code or name."""
    return import_table(store, who, path, USER_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at, sheet=sheet)
