"""`taian import users`: accounts through workflow.upsert_user, with the import's rules
(report, exit status, --dry-run, --strict, one audit row for the import)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from taian_tui.dataio import accounts
from taian_tui.dataio import reading
from taian_tui.commands.common import Fail
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError, PermissionDenied

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def taian(*args, input=None):
    result = CliRunner().invoke(cli.app, [str(a) for a in args], input=input)
    code = result.exit_code
    if isinstance(result.exception, Fail):
        code = result.exception.code
    elif isinstance(result.exception, DomainError):
        code = 2
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return code, result.stdout, result.stderr


def user(store, username):
    row = store.one("SELECT * FROM users WHERE username = ?", (username,))
    return dict(row) if row else None


def imp(store, name, **kw):
    return accounts.import_users(store, "system:import", FIX / name, **kw)


def test_users_file_roles_by_label_and_units_by_name_or_code(store):
    r = imp(store, "users.csv")
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected) == (5, 5, 0, 0, 0)
    assert user(store, "taishan1") | {} == {"username": "taishan1", "name": "泰山区联络员", "role": "liaison",
                                           "unit_code": "taishan", "mobile": "13800001001", "scope": "city",
                                           "active": 1}
    assert user(store, "zjj1")["unit_code"] == "zjj"
    assert user(store, "admin2")["role"] == "admin" and user(store, "admin2")["unit_code"] is None
    lead = user(store, "xintai-lead")
    assert (lead["role"], lead["unit_code"], lead["scope"]) == ("leader", "xintai", "unit")
    assert user(store, "editor2")["mobile"] == "013800001005"        # leading zero kept


def test_import_twice_changes_nothing_then_update(store, tmp_path):
    imp(store, "users.csv")
    r = imp(store, "users.csv")
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 5)
    path = tmp_path / "u.csv"
    path.write_text("username,name,role,unit,mobile\ntaishan1,泰山区联络员,liaison,taishan,13999999999\n",
                    encoding="utf-8")
    r = accounts.import_users(store, "system:import", path)
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 0)
    assert user(store, "taishan1")["mobile"] == "13999999999"


def test_gbk_users(store):
    r = imp(store, "users_gbk.csv")
    assert r.encoding == "gb18030" and r.inserted == 1
    assert user(store, "feicheng1")["name"] == "肥城市联络员"


def test_bad_rows_are_reported_and_the_rest_lands(store, tmp_path):
    report = tmp_path / "r.csv"
    r = imp(store, "users_bad.csv", report=report)
    assert (r.rows, r.inserted, r.rejected) == (8, 1, 7) and r.exit_code == 1
    got = {(x.line, x.column) for x in r.rejections}
    assert got == {(3, "role"), (4, "unit"), (5, "unit"), (6, "username"), (7, "mobile"),
                   (8, "username"), (9, "username")}
    assert user(store, "dupe") is None
    assert user(store, "ok1") | {} == {"username": "ok1", "name": "正常联络员", "role": "liaison",
                                      "unit_code": "daiyue", "mobile": "13800002001", "scope": "city",
                                      "active": 1}
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["line", "column", "value", "reason"] and len(rows) == 8
    assert [(int(x[0]), x[1]) for x in rows[1:]] == [(3, "role"), (4, "unit"), (5, "unit"), (6, "username"),
                                                     (7, "mobile"), (8, "username"), (9, "username")]


def test_strict_and_dry_run_write_nothing(store, dump):
    before = dump()
    r = imp(store, "users_bad.csv", strict=True)
    assert r.rejected == 7 and not r.written and dump() == before
    r = imp(store, "users.csv", dry_run=True)
    assert (r.inserted, r.written) == (5, False) and dump() == before
    assert "would insert 5" in r.summary()


def test_one_audit_row_for_the_import_plus_the_users(store, audit_count):
    n = audit_count()
    imp(store, "users.csv")
    rows = store.all("SELECT action, actor FROM audit WHERE id > ? ORDER BY id", (n,))
    assert [r["action"] for r in rows] == ["user.upsert"] * 5 + ["import.users"]
    after = json.loads(store.one("SELECT after FROM audit ORDER BY id DESC LIMIT 1")[0])
    assert after["inserted"] == 5 and len(after["sha256"]) == 64
    assert store.verify_audit().ok


def test_absent_mobile_column_keeps_existing_mobile(store, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("用户名,姓名,角色,单位\nzrzy1,自然资源联络员（新）,联络员,zrzy\n", encoding="utf-8")
    r = accounts.import_users(store, "system:import", path)
    assert r.updated == 1
    assert user(store, "zrzy1")["mobile"] == "13800000002"
    assert user(store, "zrzy1")["name"] == "自然资源联络员（新）"


def test_missing_column_and_permission(store, tmp_path, dump):
    path = tmp_path / "u.csv"
    path.write_text("用户名,角色\nx,admin\n", encoding="utf-8")
    before = dump()
    with pytest.raises(reading.ImportFileError, match="姓名 \\(name\\)"):
        accounts.import_users(store, "system:import", path)
    with pytest.raises(PermissionDenied):
        accounts.import_users(store, "zrzy1", FIX / "users.csv")
    assert dump() == before


def test_cli_import_users(db_path):
    code, out, err = taian("import", "users", FIX / "users_bad.csv", "--db", db_path)
    assert code == 1 and "inserted 1" in out and "rejected 7" in out
    assert "users_bad.csv:3: role: unknown role" in err
    code, out, _ = taian("import", "users", FIX / "users.csv", "--db", db_path, "--dry-run")
    assert code == 0 and "dry run" in out
    with Store(db_path) as s:
        assert s.one("SELECT 1 FROM users WHERE username = 'taishan1'") is None
