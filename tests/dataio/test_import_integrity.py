"""The bulk imports keep the data whole: what one import would change is refused per row
(file, line or cell, column) when other data depends on it.

* units: a unit with appeals, routing rules or liaisons does not change between a handling
  kind (county, zone, department) and one that handles no appeals (督查室, 纪委监委, 平台);
* users: one username rule for the import and ``upsert_user`` (no ``system:`` prefix, no
  quotes, backslashes or control characters: what ``taian keys`` and ``taian session``
  refuse); no change leaves no active admin, and an admin does not demote themselves;
* calendar: a day given as both kinds is refused naming both lines, a repeated day counts
  once; open deadlines that counted a day whose kind changed are counted again;
* routing: a unit that handles no appeals is named as such (the assign refusal's words);
* enterprises: a date in the phone column (a date cell) is refused, naming the cell.

The city is conftest's (units.csv, the liaisons zrzy1/sthj1/daiyue1, the admin ``admin``,
the rules land/environment/other of 岱岳区); every count below is derived from it by hand.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
import xlsxwriter
from stdnum.cn import uscc as stdnum_uscc

from taian_tui.dataio import accounts, registry, routing, units
from taian_tui.dataio.calendar import read_calendar
from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import PermissionDenied, ValidationError

AT = "2026-10-09T12:00:00+08:00"


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def shown(result) -> list[tuple[int, str, str, str]]:
    return [(r.line, r.column, r.value, r.reason) for r in result.rejections]


# -- units: the kind of a unit in use ------------------------------------------------------------------
KIND_IN_USE = ("unit 'zrzy' (市自然资源和规划局) cannot change from department to supervision: appeals "
               "are handled by counties, zones and departments, and 1 appeals (1 not closed), 1 routing "
               "rules and 1 user accounts depend on its kind")


def test_units_import_refuses_to_make_a_unit_in_use_non_handling(store, make_appeal, tmp_path):
    make_appeal("accepted")                                     # with zrzy (land/岱岳区)
    path = write(tmp_path, "units.csv", "code,name,kind,head_name,head_mobile\n"
                 "zrzy,市自然资源和规划局,督查室,,\n"          # 1 appeal, 1 rule, liaison zrzy1: refused
                 "gxj,市工业和信息化局,平台,,\n"              # nothing depends on gxj: lands
                 "fgw,发改委,市直部门,,\n")                    # a new name, the same kind: lands
    result = units.import_units(store, "admin", path, at=AT)
    assert (result.rows, result.inserted, result.updated, result.unchanged, result.rejected) == (3, 0, 2, 0, 1)
    assert shown(result) == [(2, "kind", "supervision", KIND_IN_USE)]
    assert [(u.code, u.name, u.kind) for u in (store.unit("zrzy"), store.unit("gxj"), store.unit("fgw"))] == [
        ("zrzy", "市自然资源和规划局", "department"), ("gxj", "市工业和信息化局", "platform"),
        ("fgw", "发改委", "department")]


def test_upsert_unit_refuses_the_kind_change_and_says_so_in_both_languages(store, unchanged):
    # daiyue-lead (scope unit) and daiyue1 are daiyue's; daiyue is a county: name and kind fixed
    # anyway. sthj: the rule environment/岱岳区 and the liaison sthj1, no appeal.
    with unchanged(), pytest.raises(ValidationError) as refused:
        wf.upsert_unit(store, "admin", "sthj", "市生态环境局", "discipline", at=AT)
    assert str(refused.value) == (
        "unit 'sthj' (市生态环境局) cannot change from department to discipline: appeals are handled by "
        "counties, zones and departments, and 0 appeals (0 not closed), 1 routing rules and 1 user "
        "accounts depend on its kind")
    assert refused.value.localized("zh") == (
        "单位“sthj”（市生态环境局）不能由部门改为纪委监委：诉求由县（市、区）、功能区和部门办理，已有 0 条诉求"
        "（0 条未办结）、1 条分派规则和 1 个用户账号依赖其类型")
    # between two kinds that handle no appeals nothing depends on the kind
    assert wf.upsert_unit(store, "admin", "jwjw", "市纪委监委", "platform", head_name="袁纪检",
                          head_mobile="13905381060", at=AT) == "updated"


# -- users: one username rule; an admin stays ----------------------------------------------------------
CHARS = ("username {!r} is not allowed: at most 64 characters, without spaces, commas, semicolons, "
         "quotes, backslashes or control characters (it stands in SSH forced commands and the audit trail)")
RESERVED = ("username {!r} is not allowed: names beginning with 'system:' are reserved for the system "
            "actors of the audit trail")
OWN_ROLE = ("rule: an admin does not change their own role or deactivate their own account (admin stays "
            "an active admin): another admin does it")
LAST_ADMIN = ("rule: admin is the only active admin: the change would leave no one to manage users, units, "
              "routing rules and imports; make another user admin first")


def test_users_import_refuses_the_names_keys_and_sessions_refuse(store, tmp_path):
    path = write(tmp_path, "users.csv", "username,name,role,unit,mobile\n"
                 "system:escalate,X,编辑,fgw,13800000010\n"
                 '"a""b",Y,编辑,fgw,13800000011\n'
                 "it's,Z,编辑,fgw,13800000012\n"
                 "back\\slash,W,编辑,fgw,13800000013\n"
                 "System:Intake,V,编辑,fgw,13800000014\n"
                 "wang5,王五,编辑,fgw,13800000015\n")
    result = accounts.import_users(store, "admin", path, at=AT)
    assert (result.rows, result.inserted, result.updated, result.rejected) == (6, 1, 0, 5)
    assert shown(result) == [
        (2, "username", "system:escalate", RESERVED.format("system:escalate")),
        (3, "username", 'a"b', CHARS.format('a"b')),
        (4, "username", "it's", CHARS.format("it's")),
        (5, "username", "back\\slash", CHARS.format("back\\slash")),
        (6, "username", "System:Intake", RESERVED.format("System:Intake")),
    ]
    assert store.scalar("SELECT group_concat(username) FROM users WHERE name IN ('X','Y','Z','W','V','王五')") == "wang5"


@pytest.mark.parametrize("name, message", [("system:escalate", RESERVED.format("system:escalate")),
                                           ('a"b', CHARS.format('a"b')), ("a b", CHARS.format("a b")),
                                           ("x" * 65, CHARS.format("x" * 65))])
def test_upsert_user_applies_the_same_rule(store, unchanged, name, message):
    with unchanged(), pytest.raises(ValidationError) as refused:
        wf.upsert_user(store, "admin", name, "某人", "editor", at=AT)
    assert str(refused.value) == message


def test_the_acting_admin_cannot_demote_themselves_in_an_import(store, tmp_path):
    path = write(tmp_path, "users.csv", "username,name,role\nadmin,降级,编辑\nbianji,编辑二,编辑\n")
    result = accounts.import_users(store, "admin", path, at=AT)
    assert (result.rows, result.updated, result.unchanged, result.rejected) == (2, 1, 0, 1)
    assert shown(result) == [(2, "role", "editor", OWN_ROLE)]
    assert (store.user("admin").role, store.user("admin").name) == ("admin", "平台管理员")
    assert store.user("bianji").name == "编辑二"


def test_no_import_leaves_the_city_without_an_active_admin(store, tmp_path):
    demote = write(tmp_path, "demote.csv", "username,name,role\nadmin,降级,编辑\n")
    result = accounts.import_users(store, "system:import", demote, at=AT)
    assert (result.updated, result.rejected) == (0, 1)
    assert shown(result) == [(2, "role", "editor", LAST_ADMIN)]
    assert store.user("admin").role == "admin"
    # another admin first (the row above it in the same file): then the demotion lands
    both = write(tmp_path, "both.csv", "username,name,role\nzrzy1,自然资源联络员,管理员\nadmin,降级,编辑\n")
    result = accounts.import_users(store, "system:import", both, at=AT)
    assert (result.updated, result.rejected) == (2, 0)
    assert store.scalar("SELECT group_concat(username) FROM users WHERE role = 'admin' AND active = 1") == "zrzy1"


def test_the_last_admin_is_not_deactivated(store, unchanged):
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        wf.set_user_active(store, "admin", "admin", False, at=AT)
    assert str(refused.value) == OWN_ROLE
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        wf.set_user_active(store, "system:operator", "admin", False, at=AT)
    assert str(refused.value) == LAST_ADMIN


# -- calendar: conflicting and repeated days; deadlines follow the calendar ----------------------------
def test_a_day_given_as_both_kinds_is_refused_naming_both_lines(tmp_path):
    path = write(tmp_path, "2028.csv", "date,kind\n2028-01-03,放假\n2028-01-04,放假\n2028-01-03,上班\n")
    rows, problems = read_calendar(path)
    assert problems == [f"{path}:4: kind: '上班' on 2028-01-03, but line 2 gives 2028-01-03 as '放假': "
                        "a day is either a holiday or a workday (conflicting rows)"]


def test_a_repeated_day_counts_once(store, tmp_path):
    path = write(tmp_path, "2028.csv", "date,kind\n2028-01-03,放假\n2028-01-03,休\n")
    rows, problems = read_calendar(path)
    assert (rows, problems) == ([("2028-01-03", "holiday")], [])
    # the domain counts days, not rows, and refuses a conflict itself
    result = wf.import_calendar_rows(store, "admin", [("2028-01-04", "holiday")] * 2, source="x.csv", at=AT)
    assert result == {"rows": 1, "years": [2028], "deadlines_moved": 0, "partial_years": [2028]}


def test_import_calendar_rows_refuses_a_conflict(store, unchanged):
    with unchanged(), pytest.raises(ValidationError) as refused:
        wf.import_calendar_rows(store, "admin", [("2028-01-03", "holiday"), ("2028-01-03", "workday")],
                                source="x.csv", at=AT)
    assert str(refused.value) == "the calendar rows say 2028-01-03 is both a holiday and a workday"


def test_a_new_holiday_moves_the_open_deadlines_that_counted_it(store, make_appeal, submit):
    # Arrived Tue 2026-09-29: Day 1..5 = 09-30, 10-08, 10-09, 10-10 (Sat, make-up), 10-12.
    plain = make_appeal("accepted")                                          # due 10-12
    extended = make_appeal("accepted")                                       # + 2 days: 10-14
    ext = wf.request_extension(store, "zrzy1", extended.ref, 2, "需补充材料", at="2026-10-09T09:00:00+08:00")
    wf.decide_extension(store, "ducha1", ext.id, True, at="2026-10-09T10:00:00+08:00")
    assert store.appeal(extended.ref).deadline == "2026-10-14T23:59:59+08:00"
    ordered = make_appeal("disputed")                                        # order due 10-15
    wf.review_dispute(store, "ducha1", ordered.ref, True, "请重新办理", at="2026-10-09T09:00:00+08:00")
    assert store.appeal(ordered.ref).deadline == "2026-10-15T23:59:59+08:00"
    answered = make_appeal("answered")
    later = submit(at="2026-10-13T10:00:00+08:00")                           # 10-14 .. 10-20
    assert store.appeal(later.ref).deadline == "2026-10-20T23:59:59+08:00"
    before = {r: store.appeal(r) for r in (ordered.ref, answered.ref, later.ref)}

    # 2026 has official data; a correction makes Mon 10-12 a holiday
    result = wf.import_calendar_rows(store, "admin", [("2026-10-12", "holiday")], source="fix.csv", at=AT)

    assert result == {"rows": 1, "years": [2026], "deadlines_moved": 2, "partial_years": []}
    moved = store.appeal(plain.ref)
    assert (moved.blue_at, moved.deadline, moved.deadline_estimated) == (
        "2026-10-13T00:00:00+08:00", "2026-10-13T23:59:59+08:00", 0)
    # the extension's two working days stay two: 10-14, 10-15
    assert store.appeal(extended.ref).deadline == "2026-10-15T23:59:59+08:00"
    # the supervision order's due time, an answered appeal, a window after 10-12: as they were
    assert {r: store.appeal(r) for r in before} == before
    row = store.one("SELECT actor, action, after FROM audit WHERE action = 'calendar.import'")
    assert (row["actor"], row["action"]) == ("admin", "calendar.import")
    assert json.loads(row["after"]) == {
        "rows": 1, "years": [2026], "days_changed": ["2026-10-12"], "deadlines_moved": 2,
        "moved": [{"ref": plain.ref, "before": "2026-10-12T23:59:59+08:00", "after": "2026-10-13T23:59:59+08:00"},
                  {"ref": extended.ref, "before": "2026-10-14T23:59:59+08:00",
                   "after": "2026-10-15T23:59:59+08:00"}],
        "years_still_estimated": []}


def test_the_same_day_again_moves_nothing(store, make_appeal):
    a = make_appeal("accepted")
    # 10-10 is already a make-up workday, 10-01 already a holiday: no day changes
    result = wf.import_calendar_rows(store, "admin", [("2026-10-10", "workday"), ("2026-10-01", "holiday")],
                                     source="same.csv", at=AT)
    assert result == {"rows": 2, "years": [2026], "deadlines_moved": 0, "partial_years": []}
    assert store.appeal(a.ref).deadline == "2026-10-12T23:59:59+08:00"


# -- routing: a unit that handles no appeals ---------------------------------------------------------
NOT_HANDLING = "appeals are handled by counties, zones and departments, not {}"


def test_routing_import_names_a_unit_that_handles_no_appeals(store, tmp_path):
    path = write(tmp_path, "routing.csv", "类别,县市区,承办单位\n"
                 "土地,泰山区,dcs\n土地,新泰市,市纪委监委\n土地,肥城市,督查室\n"
                 "土地,宁阳县,ducha\n能耗,泰山区,gxj\n")
    result = routing.import_routing(store, "admin", path, at=AT)
    assert (result.rows, result.inserted, result.rejected) == (5, 1, 4)
    assert shown(result) == [
        (2, "承办单位", "dcs", NOT_HANDLING.format("市委市政府督查室")),
        (3, "承办单位", "市纪委监委", NOT_HANDLING.format("市纪委监委")),
        (4, "承办单位", "督查室", NOT_HANDLING.format("督查室")),
        (5, "承办单位", "ducha", "no such unit (give its code or its name)"),
    ]
    assert store.scalar("SELECT COUNT(*) FROM routing_rules") == 4


def test_set_routing_rule_refuses_a_unit_that_handles_no_appeals(store, unchanged):
    with unchanged(), pytest.raises(ValidationError) as refused:
        wf.set_routing_rule(store, "admin", "land", "泰山区", "dcs", at=AT)
    assert str(refused.value) == NOT_HANDLING.format("市委市政府督查室")


# -- enterprises: a date in the phone column --------------------------------------------------------------
def code(n: int) -> str:
    body = f"91370900MA3C{n:05d}"
    return body + stdnum_uscc.calc_check_digit(body)


DATE_PHONE = ("the cell holds a date, not a phone number (a date cell, or a number the spreadsheet turned "
              "into a date): format the column as text and type the number again")


def test_a_date_cell_in_the_phone_column_is_refused_naming_the_cell(store, tmp_path):
    path = tmp_path / "registry.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("企业名录")
    ws.write_row(0, 0, ["企业名称", "统一社会信用代码", "所属县市区", "联系电话"])
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(1, 0, ["甲公司", code(1), "岱岳区"])
    ws.write_datetime(1, 3, dt.datetime(2026, 1, 2), day)
    ws.write_row(2, 0, ["乙公司", code(2), "岱岳区", "0538-8888888"])
    ws.write_row(3, 0, ["丙公司", code(3), "岱岳区"])
    ws.write_datetime(3, 3, dt.datetime(2026, 1, 2, 10, 30), book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    ws.write_row(4, 0, ["丁公司", code(4), "岱岳区", "12345"])
    book.close()
    result = registry.import_enterprises(store, "system:import", path)
    assert (result.rows, result.inserted, result.rejected) == (4, 2, 2)
    assert [(r.where, r.column, r.value, r.reason) for r in result.rejections] == [
        ("企业名录!D2", "联系电话", "2026-01-02", DATE_PHONE),
        ("企业名录!D4", "联系电话", "2026-01-02 10:30:00", DATE_PHONE)]
    assert store.scalar("SELECT group_concat(phone, ' ') FROM (SELECT phone FROM enterprises "
                        "WHERE uscc IN (?, ?, ?, ?) ORDER BY uscc)", [code(i) for i in range(1, 5)]) == \
        "0538-8888888 12345"


def test_a_date_written_in_the_phone_column_of_a_csv_is_refused(store, tmp_path):
    path = write(tmp_path, "registry.csv", "企业名称,统一社会信用代码,所属县市区,联系电话\n"
                 f"甲公司,{code(1)},岱岳区,2026/1/2\n"
                 f"乙公司,{code(2)},岱岳区,2026年1月2日\n"
                 f"丙公司,{code(3)},岱岳区,0538-12345678\n"
                 f"丁公司,{code(4)},岱岳区,0538.1234.5678\n")
    result = registry.import_enterprises(store, "system:import", path)
    assert (result.rows, result.inserted, result.rejected) == (4, 2, 2)
    assert shown(result) == [(2, "联系电话", "2026/1/2", DATE_PHONE), (3, "联系电话", "2026年1月2日", DATE_PHONE)]


def test_the_supervision_office_with_its_supervisors_does_not_become_a_handling_unit(store, unchanged):
    """督查室 and 纪委监委 are the two units beside the 58 that handle appeals: one whose
    accounts are its supervisors (ducha1) does not become a department (routing to it, a
    rates row of its own), nor 纪委监委 with jiwei1."""
    for code, name, kind in (("dcs", "市委市政府督查室", "supervision"), ("jwjw", "市纪委监委", "discipline")):
        assert store.unit(code).kind == kind
        assert store.scalar("SELECT COUNT(*) FROM users WHERE unit_code = ?", (code,)) == 1
        with unchanged(), pytest.raises(ValidationError) as refused:
            wf.upsert_unit(store, "admin", code, name, "department", at=AT)
        assert str(refused.value) == (
            f"unit {code!r} ({name}) cannot change from {kind} to department: appeals are handled by "
            "counties, zones and departments, and 0 appeals (0 not closed), 0 routing rules and 1 user "
            "accounts depend on its kind")


def test_a_mobile_is_eleven_digits_beginning_with_1(store, tmp_path):
    """The reminder SMS go to an account's mobile: a number Excel turned into 10 digits (a
    lost leading 0 of a landline, 5388888801; a lost digit, 1380000900) or a landline is
    refused, naming the line; +86, dashes and the 0 dialled before another city's mobile are
    kept as written."""
    path = write(tmp_path, "users.csv", "username,name,role,unit,mobile\n"
                 "lianluo1,联络员一,liaison,zrzy,5388888801\n"
                 "lianluo2,联络员二,liaison,zrzy,1380000900\n"
                 "lianluo3,联络员三,liaison,zrzy,0538-8888801\n"
                 "lianluo4,联络员四,liaison,zrzy,+86 138-0000-1004\n"
                 "lianluo5,联络员五,liaison,zrzy,013800001005\n")
    result = accounts.import_users(store, "admin", path, at=AT)
    assert (result.rows, result.inserted, result.rejected) == (5, 2, 3)
    assert shown(result) == [
        (line, "mobile", value, f"mobile {value!r} is not a mobile number: 11 digits beginning with 1 (the "
                                "reminder SMS go to it; a number that lost a digit or its leading 0 in Excel is not one)")
        for line, value in ((2, "5388888801"), (3, "1380000900"), (4, "0538-8888801"))]
    assert [(u["username"], u["mobile"]) for u in store.all(
        "SELECT username, mobile FROM users WHERE username LIKE 'lianluo%' ORDER BY username")] == [
        ("lianluo4", "+86138-0000-1004"), ("lianluo5", "013800001005")]
    with pytest.raises(ValidationError) as refused:
        wf.upsert_unit(store, "admin", "zrzy", "市自然资源和规划局", "department", head_mobile="5388888801", at=AT)
    assert refused.value.localized("zh") == "手机号“5388888801”不是有效的手机号码：应为以 1 开头的 11 位数字（提醒短信发往此号）"


def test_a_username_differing_only_by_case_is_refused(store, tmp_path):
    """ZRZY1 beside zrzy1 would be two accounts to the machine and one to a reader of the audit
    trail: refused, naming the account; zrzy1 itself is updated as usual."""
    path = write(tmp_path, "users.csv", "username,name,role,unit,mobile\n"
                 "ZRZY1,大写联络员,liaison,zrzy,13800009001\n"
                 "zrzy1,自然资源联络员,liaison,zrzy,13800000002\n")
    result = accounts.import_users(store, "admin", path, at=AT)
    assert (result.rows, result.rejected) == (2, 1)
    assert shown(result) == [(2, "username", "ZRZY1",
                              "username 'ZRZY1' is not allowed: the account 'zrzy1' differs from it only in upper "
                              "and lower case (give that account's name to change it)")]
    assert store.scalar("SELECT COUNT(*) FROM users WHERE lower(username) = 'zrzy1'") == 1
