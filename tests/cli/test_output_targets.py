"""Nothing taian writes replaces its database: `taian export … -o`, `taian report OUT`,
`taian backup PATH` and an import's `--report` refuse the database file and its
-wal/-shm/-journal (by name, through a symbolic or a hard link, or spelled otherwise), with
or without --force: exit 2 before anything is read or written, and the database file is
exactly what it was.

`report` and `backup` know the database (their --db): "PATH is the database (or its
-wal/-shm)". `export` and the imports' --report recognise it by its content: any SQLite
database, or a -wal/-shm/-journal named beside one, is refused."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import xlsxwriter
from stdnum.cn import uscc as stdnum_uscc

from taian_tui.dataio import reading

SIDES = ("", "-wal", "-shm", "-journal")


def is_the_database(path) -> str:
    return f"error: {path} is the database (or its -wal/-shm): choose another file\n"


def is_a_database(path) -> str:
    return f"error: {path} is an SQLite database (or the -wal/-shm/-journal beside one): choose another file\n"


def is_the_database(path) -> str:
    """The refusal when the command knows its database (--db) and the output is that one."""
    return f"error: {path} is the database (or its -wal/-shm): choose another file\n"


@pytest.fixture
def untouched(db_path, store, dump):
    """``untouched()`` -> (the database file's bytes, every row): the same before and after
    a refused command (the store is open: -wal and -shm exist)."""
    assert Path(f"{db_path}-wal").exists() and Path(f"{db_path}-shm").exists()
    assert not Path(f"{db_path}-journal").exists()
    return lambda: (db_path.read_bytes(), dump())


# -- taian export -o ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("kind", ["rates", "appeals", "enterprises"])
def test_an_export_never_replaces_the_database_or_its_files(run_cli, db_path, untouched, side, kind):
    target = f"{db_path}{side}"
    before = untouched()
    code, out, err = run_cli("export", kind, "--db", db_path, "-o", target, "--force")
    assert (code, out, err) == (2, "", is_the_database(target))
    assert untouched() == before
    assert not Path(f"{db_path}-journal").exists()          # not even created


def test_an_export_through_a_link_or_another_spelling(run_cli, db_path, untouched, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.xlsx").symlink_to(db_path)
    os.link(db_path, tmp_path / "hard.xlsx")
    (tmp_path / "wal-link.xlsx").symlink_to(f"{db_path}-wal")
    before = untouched()
    for target in (tmp_path / "link.xlsx", tmp_path / "hard.xlsx", tmp_path / "wal-link.xlsx",
                   tmp_path / "sub" / ".." / db_path.name):
        code, out, err = run_cli("export", "rates", "--db", db_path, "-o", target, "--force")
        assert (code, out, err) == (2, "", is_the_database(target))
    assert untouched() == before
    # another file is written as before
    code, out, _ = run_cli("export", "rates", "--db", db_path, "-o", tmp_path / "rates.xlsx")
    assert code == 0 and out.startswith(f"exported 58 units to {tmp_path / 'rates.xlsx'} (xlsx)")


# -- taian report, taian backup ----------------------------------------------------------------------------
@pytest.mark.parametrize("side", SIDES)
def test_report_refuses_the_database_and_its_files(run_cli, db_path, untouched, side):
    target = f"{db_path}{side}"
    before = untouched()
    code, out, err = run_cli("report", target, "--db", db_path, "--force")
    assert (code, out, err) == (2, "", is_the_database(target))
    assert untouched() == before


def test_report_knows_the_database_of_taian_db_and_any_spelling(run_cli, db_path, untouched, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.html").symlink_to(db_path)
    before = untouched()
    for target in (tmp_path / "sub" / ".." / db_path.name, tmp_path / "link.html"):
        code, _, err = run_cli("report", target, "--force", env={"TAIAN_DB": str(db_path)})
        assert (code, err) == (2, is_the_database(target))
    assert untouched() == before
    code, out, err = run_cli("report", tmp_path / "report.html", "--db", db_path)
    assert (code, err) == (0, "") and f"written to {tmp_path / 'report.html'}" in out


@pytest.mark.parametrize("side", SIDES)
def test_backup_refuses_the_database_and_its_files(run_cli, db_path, untouched, side):
    target = f"{db_path}{side}"
    before = untouched()
    code, out, err = run_cli("backup", target, "--db", db_path)
    assert (code, out, err) == (2, "", is_the_database(target))
    assert untouched() == before
    assert not Path(f"{db_path}-journal").exists()


# -- an import's --report ----------------------------------------------------------------------------------
def registry(path: Path) -> Path:
    """One enterprise, and one with a wrong check digit (rejected: a report to write)."""
    body = "91370900MA3C07001"
    good = body + stdnum_uscc.calc_check_digit(body)
    bad = body + ("1" if good[-1] != "1" else "2")
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write_row(0, 0, ["企业名称", "统一社会信用代码", "所属县市区"])
    ws.write_row(1, 0, ["甲公司", good, "岱岳区"])
    ws.write_row(2, 0, ["乙公司", bad, "岱岳区"])
    book.close()
    return path


@pytest.mark.parametrize("kind", ["enterprises", "users"])
@pytest.mark.parametrize("side", SIDES)
def test_an_import_report_never_replaces_the_database(run_cli, db_path, untouched, tmp_path, side, kind):
    book = registry(tmp_path / "registry.xlsx")
    target = f"{db_path}{side}"
    before = untouched()
    code, out, err = run_cli("import", kind, book, "--db", db_path, "--report", target)
    assert (code, out) == (2, "")
    assert err == (f"error: --report {target} is an SQLite database (or the -wal/-shm/-journal beside one): "
                   "choose another file; nothing imported\n")
    assert untouched() == before


def test_an_import_report_through_a_link_and_then_a_real_report(run_cli, db_path, untouched, tmp_path):
    book = registry(tmp_path / "registry.xlsx")
    (tmp_path / "rej.csv").symlink_to(db_path)
    before = untouched()
    code, _, err = run_cli("import", "enterprises", book, "--db", db_path, "--report", tmp_path / "rej.csv")
    assert code == 2 and err.startswith(f"error: --report {tmp_path / 'rej.csv'} is an SQLite database")
    assert untouched() == before
    code, out, _ = run_cli("import", "enterprises", book, "--db", db_path, "--report", tmp_path / "rejected.csv")
    assert code == 1 and "inserted 1" in out and "rejected 1" in out
    assert (tmp_path / "rejected.csv").read_text("utf-8-sig").startswith("cell,column,value,reason\n")


def test_the_report_check_knows_a_named_database(db_path, tmp_path):
    """Told the database (as the imports could tell it), --report names it so."""
    (tmp_path / "folder-link").symlink_to(tmp_path)
    for side in SIDES:
        target = tmp_path / "folder-link" / f"{db_path.name}{side}"
        with pytest.raises(reading.ImportFileError) as exc:
            reading.check_report_path(target, db_path)
        assert str(exc.value) == (f"--report {target} is the database (or its -wal/-shm): choose another file; "
                                  "nothing imported")
        assert reading.is_database_file(target, db_path)
    assert not reading.is_database_file(tmp_path / "other.csv", db_path)
    assert not reading.is_database_file(f"{db_path}-walrus", db_path)
    reading.check_report_path(tmp_path / "other.csv", db_path)        # no error


def test_an_import_report_is_written_privately_and_never_through_a_link_beside_it(run_cli, db_path, tmp_path):
    """The report names enterprises and their contacts: it is the admin's own file (0600),
    written in a new file beside it and renamed. A link left at REPORT.tmp (where it used to
    be written first) is neither followed nor removed."""
    book = registry(tmp_path / "registry.xlsx")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (tmp_path / "rejected.csv.tmp").symlink_to(victim)
    code, out, _ = run_cli("import", "enterprises", book, "--db", db_path, "--report", tmp_path / "rejected.csv")
    assert code == 1 and "rejected 1" in out
    report = tmp_path / "rejected.csv"
    assert report.read_text("utf-8-sig").startswith("cell,column,value,reason\n")
    assert (report.stat().st_mode & 0o777, report.is_symlink()) == (0o600, False)
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert (tmp_path / "rejected.csv.tmp").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_import_report_never_replaces_the_file_being_imported(run_cli, db_path, untouched, tmp_path):
    book = tmp_path / "users.csv"
    book.write_text("用户名,姓名,角色,单位,手机号\nzz1,某人,联络员,zrzy,13800000777\n", encoding="utf-8")
    content = book.read_bytes()
    before = untouched()
    code, out, err = run_cli("import", "users", book, "--db", db_path, "--report", book)
    assert (code, out) == (2, "")
    assert err == (f"error: --report {book} is the file being imported: give the report another name, such as "
                   "rejected.csv; nothing imported\n")
    assert book.read_bytes() == content and untouched() == before
