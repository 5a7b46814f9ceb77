"""`taian --help`, `audit verify`, `backup`, `calendar import|show`, `migrate`, `demo`."""
from __future__ import annotations

import shutil
import sqlite3

from taian_tui.store import Store


def test_help_lists_every_command_and_each_has_help(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for name in ("demo", "tui", "migrate", "backup", "escalate", "appeal", "audit", "calendar", "notify"):
        assert f"  {name}" in out
    import cli
    import typer.main
    group = typer.main.get_command(cli.app)

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            yield path + [name]
            yield from walk(sub, path + [name])
    paths = list(walk(group, []))
    assert sorted(" ".join(p) for p in paths) == sorted([
        "demo", "tui", "session", "migrate", "backup", "restore", "escalate", "intake", "stats", "report",
        "audit", "audit verify", "audit anchor", "calendar", "calendar import", "calendar show",
        "user", "user deactivate", "user activate", "keys", "keys add", "keys list", "keys remove",
        "notify", "notify send", "notify status", "notify release",
        "appeal", "appeal list", "appeal show", "appeal accept", "appeal reply", "appeal return",
        "appeal assign", "appeal extend", "appeal decide-extension",
        "import", "import enterprises", "import users", "import units", "import routing",
        "export", "export enterprises", "export appeals", "export orders", "export red-cards",
        "export rates", "listen", "listen build", "feed", "feed export"])
    assert sorted(group.commands) == sorted(["demo", "tui", "session", "migrate", "backup", "restore", "escalate", "intake",
                                             "stats", "report", "appeal", "audit", "calendar", "user", "keys",
                                             "notify", "import", "export", "listen", "feed"])
    for path in paths:
        code, out, err = run_cli(*path, "--help")
        assert code == 0, (path, err)
        assert "Usage:" in out


def test_audit_verify_detects_an_edit_with_a_plain_client(run_cli, db_path, make_appeal):
    make_appeal("closed")
    code, out, _ = run_cli("audit", "verify", "--db", db_path)
    assert code == 0 and out.startswith("audit trail intact:")
    c = sqlite3.connect(db_path)
    bad = c.execute("SELECT id FROM audit WHERE action = 'reply'").fetchone()[0]
    c.execute("UPDATE audit SET after = replace(after, '已协调解决', '已解决') WHERE id = ?", (bad,))
    c.commit()
    c.close()
    code, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 1 and f"row {bad}" in err


def test_audit_verify_detects_a_deleted_row(run_cli, db_path, make_appeal):
    make_appeal("closed")
    c = sqlite3.connect(db_path)
    mid = c.execute("SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET 5").fetchone()[0]
    c.execute("DELETE FROM audit WHERE id = ?", (mid,))
    c.commit()
    c.close()
    code, _, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 1 and f"row {mid} is missing" in err


def test_backup_is_a_consistent_copy(run_cli, db_path, make_appeal, tmp_path):
    make_appeal("closed")
    target = tmp_path / "copy.db"
    code, out, err = run_cli("backup", target, "--db", db_path)
    assert code == 0, err
    with Store(target) as copy, Store(db_path) as live:
        assert copy.verify_audit().ok
        assert copy.scalar("SELECT COUNT(*) FROM appeals") == live.scalar("SELECT COUNT(*) FROM appeals")
    code, _, err = run_cli("backup", target, "--db", db_path)
    assert code == 2 and "already exists" in err
    code, _, err = run_cli("backup", target.parent / "no-such-folder" / "b.db", "--db", db_path)
    assert code == 2 and "no-such-folder does not exist" in err


def test_calendar_import_validates_and_moves_open_deadlines(run_cli, db_path, store, submit, tmp_path):
    a = submit(at="2026-12-28T10:00:00+08:00")
    assert store.appeal(a.ref).deadline == "2027-01-04T23:59:59+08:00"
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n2027-02-06,sunday\n", encoding="utf-8")
    code, _, err = run_cli("calendar", "import", bad, "--db", db_path)
    assert code == 2
    assert f"{bad}:3: date" in err and f"{bad}:4: kind" in err and "nothing imported" in err
    # three days of 2027 only: used, but 2027 is not yet known (fewer than its 11 holidays)
    few = tmp_path / "few.csv"
    few.write_text("\ufeffdate,kind\r\n2027-01-01,holiday\r\n2027-01-02,holiday\r\n2027-01-03,holiday\r\n",
                   encoding="utf-8")
    code, out, err = run_cli("calendar", "import", few, "--db", db_path)
    assert (code, out) == (0, "imported 3 calendar days for 2027; 1 open deadline recomputed\n")
    assert err == ("warning: 2027 had no holiday data and this file gives fewer than 11 of its holidays: its "
                   "days are used, but 2027 is still counted Monday-Friday elsewhere and its deadlines stay "
                   "marked estimated (import the whole year's arrangement)\n")
    with Store(db_path) as s:
        got = s.appeal(a.ref)
        assert got.deadline == "2027-01-05T23:59:59+08:00" and got.deadline_estimated == 1
    code, out, _ = run_cli("calendar", "show", "2027", "--db", db_path)
    assert (code, out) == (0, "2027: no holiday data; working days counted Monday-Friday but for these 3 days "
                              "given:\n2027-01-01 holiday\n2027-01-02 holiday\n2027-01-03 holiday\n")
    good = tmp_path / "2027.csv"
    good.write_text("\ufeffdate,kind\r\n2027-01-01,holiday\r\n2027-01-02,holiday\r\n2027-01-03,holiday\r\n"
                    + "".join(f"2027-02-{d:02d},holiday\r\n" for d in range(6, 14)), encoding="utf-8")
    code, out, err = run_cli("calendar", "import", good, "--db", db_path)
    assert code == 0, err
    # (the deadline stays 01-05: it is no longer estimated, not moved)
    assert (out, err) == ("imported 11 calendar days for 2027; 0 open deadlines recomputed\n", "")
    with Store(db_path) as s:
        got = s.appeal(a.ref)
        # 12-29, 12-30, 12-31, (01-01 holiday), 01-04, 01-05
        assert got.deadline == "2027-01-05T23:59:59+08:00" and got.deadline_estimated == 0
    code, out, _ = run_cli("calendar", "show", "2027", "--db", db_path)
    assert "2027-01-01 holiday" in out
    code, out, _ = run_cli("calendar", "show", "2028", "--db", db_path)
    assert "no holiday data" in out
    code, out, err = run_cli("calendar", "show", "99999", "--db", db_path)
    assert (code, out, err) == (2, "", "error: 99999: give a year such as 2027 (1900-2100)\n")


def test_migrate_creates_and_then_reports_up_to_date(run_cli, tmp_path):
    path = tmp_path / "new.db"
    code, out, _ = run_cli("migrate", "--db", path)
    assert code == 0 and out.startswith("applied: 0001_initial")
    code, out, _ = run_cli("migrate", "--db", path)
    assert out.strip() == "schema is up to date"


def test_taian_db_environment_variable_is_used(run_cli, db_path, make_appeal):
    make_appeal("accepted")
    code, out, _ = run_cli("appeal", "list", env={"TAIAN_DB": str(db_path)})
    assert code == 0 and "A-2026-0001" in out


def test_demo_no_tui_builds_and_refuses_to_overwrite(run_cli, demo_build, tmp_path):
    # `taian demo --no-tui --db PATH --today 2026-11-27T09:00:00+08:00`, run in-process: the
    # run's demo city is built by this very command, once (conftest's demo_build), so this
    # test reads that run's exit code and output instead of building the city a second time
    assert demo_build.code == 0, demo_build.err
    assert "demo city built" in demo_build.out
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_build.path, path)
    code, _, err = run_cli("demo", "--no-tui", "--db", path)
    assert code == 1 and "--force" in err
    with Store(path) as s:
        assert s.scalar("SELECT COUNT(*) FROM appeals") == 2000


def test_calendar_import_reads_excel_files_from_a_chinese_pc(run_cli, db_path, tmp_path):
    """GBK, Chinese headers and kinds, dates as Excel writes them; any bad row: nothing imported."""
    bad = tmp_path / "2027-gbk-bad.csv"
    bad.write_bytes("日期,类型\r\n2027/2/6,补班\r\n2027-02-30,放假\r\n2027-03-01,调休\r\n".encode("gbk"))
    code, _, err = run_cli("calendar", "import", bad, "--db", db_path)
    assert code == 2
    assert f"{bad}:3: 日期: '2027-02-30' is not a date" in err
    assert f"{bad}:4: 类型: '调休' must be holiday or workday" in err and "nothing imported" in err
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM calendar WHERE date LIKE '2027-%'") == 0
    good = tmp_path / "2027-gbk.csv"
    good.write_bytes(" 日期 ,类型\r\n2027/2/6,补班\r\n2027年10月1日,放假\r\n\r\n2027-10-02,节假日\r\n".encode("gbk"))
    code, out, err = run_cli("calendar", "import", good, "--db", db_path)
    assert code == 0, err
    assert "imported 3 calendar days for 2027" in out
    with Store(db_path) as s:
        assert dict(s.conn.execute("SELECT date, kind FROM calendar WHERE date LIKE '2027-%'").fetchall()) == {
            "2027-02-06": "workday", "2027-10-01": "holiday", "2027-10-02": "holiday"}
    missing = tmp_path / "no-kind.csv"
    missing.write_text("date,note\n2027-01-01,元旦\n", encoding="utf-8")
    code, _, err = run_cli("calendar", "import", missing, "--db", db_path)
    assert code == 2 and "missing required column 类型 (kind)" in err
