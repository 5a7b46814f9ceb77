"""`taian import enterprises|users|units|routing` and `taian calendar import` read the Excel
workbooks offices send: recognised by content, a merged title row above the header,
numbers where text is meant, dates as dates, a second sheet by --sheet; the CSV path's
rules, reports, --dry-run, --strict and exit codes, with rejected values named by sheet
and cell as Excel shows them. The workbooks are written here with xlsxwriter (xlwt for
.xls)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import xlsxwriter
from stdnum.cn import uscc as stdnum_uscc

TITLE = "泰安市重点企业名录（2026年）"
HEADER = ["企业名称", "统一社会信用代码", "所属县市区", "行业", "企业标签", "联系人", "联系电话", "注册地址"]


#: What `calendar import` says of a file with fewer than 2027's 11 statutory holidays.
PARTIAL_2027 = ("warning: 2027 had no holiday data and this file gives fewer than 11 of its holidays: its days "
                "are used, but 2027 is still counted Monday-Friday elsewhere and its deadlines stay marked "
                "estimated (import the whole year's arrangement)\n")

def code(n: int) -> str:
    body = f"91370900MA3C{n:05d}"
    return body + stdnum_uscc.calc_check_digit(body)


GOOD = [code(i) for i in range(1, 7)]
BAD = GOOD[0][:17] + ("1" if GOOD[0][17] != "1" else "2")          # a wrong check digit


def titled(book, name: str, title: str, header: list[str]):
    """A sheet of ``book`` with ``title`` merged over row 1 and ``header`` in row 2."""
    ws = book.add_worksheet(name)
    ws.merge_range(0, 0, 0, len(header) - 1, title)
    ws.write_row(1, 0, header)
    return ws


def registry_workbook(path: Path) -> Path:
    """Sheet 企业名录: the title merged over A1:H1, an empty row, the header in row 3, then

    row 4  甲: the phone a number (13805381234)
    row 5  乙: the phone a number shown in scientific notation (1.38E+10)
    row 6  丙: a wrong check digit (rejected: 企业名录!B6); a fixed-line phone as text
    row 7  丁, row 8 戊: the county 泰山区 written once, merged down over C7:C8
    row 9  己: an escape sequence in the name, a line break in the tags

    and a formatted empty cell far below and to the right (ignored). Credit codes are text
    cells. Sheet 补充: a header in row 1 and one enterprise (for --sheet)."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("企业名录")
    ws.merge_range("A1:H1", TITLE, book.add_format({"bold": True, "align": "center"}))
    ws.write_row(2, 0, HEADER)
    text = book.add_format({"num_format": "@"})
    sci = book.add_format({"num_format": "0.00E+00"})
    rows = [
        ("甲公司", GOOD[0], "岱岳区", "新材料", "规上工业企业", "张三", 13805381234, "岱岳区天平街道"),
        ("乙公司", GOOD[1], "新泰市", "化工", "", "李四", 1.3805381234e10, ""),
        ("丙公司", BAD, "肥城市", "", "", "", "05388888801", ""),
        ("丁公司", GOOD[2], None, "食品", "", "", "05380000002", ""),
        ("戊公司", GOOD[3], None, "食品", "", "", "", ""),
        ("己\x1b[31m公司", GOOD[4], "东平县", "", "双50强\n四上企业", "", "", ""),
    ]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                ws.write_number(r, c, value, sci if isinstance(value, float) else None)
            else:
                ws.write_string(r, c, value, text if c == 1 else None)
    ws.merge_range("C7:C8", "泰山区")
    ws.write_blank(40, 12, None, book.add_format({"bg_color": "#FFFF00"}))   # an empty, formatted cell
    ws2 = book.add_worksheet("补充")
    ws2.write_row(0, 0, ["企业名称", "统一社会信用代码", "所属县市区", "联系电话"])
    ws2.write_row(1, 0, ["庚公司", GOOD[5], "宁阳县"])
    ws2.write_number(1, 3, 13805387777)                 # a mobile as a number: kept whole
    book.close()
    return path


def enterprises(store) -> dict[str, tuple]:
    return {r["uscc"]: (r["name"], r["county"], r["tags"], r["contact"], r["phone"])
            for r in store.all("SELECT * FROM enterprises WHERE uscc != ?", ("91370900MA3C12345J",))}


CHECK_DIGIT = (f"check digit is wrong (GB 32100-2015): the last character should be "
               f"{stdnum_uscc.calc_check_digit(BAD[:17])} (value {BAD!r})")


def test_registry_workbook_title_row_numbers_merges_and_cells_named(run_cli, db_path, store, tmp_path):
    book = registry_workbook(tmp_path / "registry.xlsx")
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path, "--report", tmp_path / "rej.csv")
    assert code_ == 1, err
    assert out == ("enterprises registry.xlsx: 6 rows read; inserted 5, updated 0, unchanged 0, rejected 1; "
                   f"report: {tmp_path / 'rej.csv'}\n")
    assert err == f"registry.xlsx:企业名录!B6: 统一社会信用代码: {CHECK_DIGIT}\n"
    assert enterprises(store) == {
        GOOD[0]: ("甲公司", "岱岳区", "规上工业企业", "张三", "13805381234"),
        GOOD[1]: ("乙公司", "新泰市", "", "李四", "13805381234"),
        GOOD[2]: ("丁公司", "泰山区", "", "", "05380000002"),
        GOOD[3]: ("戊公司", "泰山区", "", "", ""),              # the merged county reaches row 8
        GOOD[4]: ("己公司", "东平县", "双50强 四上企业", "", ""),   # escape removed; the line break a space (as in CSV)
    }
    rows = list(csv.reader(io.StringIO((tmp_path / "rej.csv").read_text("utf-8-sig"))))
    assert rows == [["cell", "column", "value", "reason"],
                    ["企业名录!B6", "统一社会信用代码", BAD, CHECK_DIGIT.split(" (value")[0]]]
    audit = json.loads(store.one("SELECT after FROM audit WHERE action = 'import.enterprises'")["after"])
    assert (audit["encoding"], audit["file"], audit["rows"], audit["rejected"]) == ("xlsx", "registry.xlsx", 6, 1)


def test_dry_run_and_strict_write_nothing(run_cli, db_path, store, dump, tmp_path):
    book = registry_workbook(tmp_path / "registry.xlsx")
    before = dump()
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path, "--dry-run")
    assert code_ == 1 and out.startswith("enterprises registry.xlsx: dry run (nothing written): 6 rows read; "
                                         "would insert 5, would update 0, unchanged 0, rejected 1")
    assert err == f"registry.xlsx:企业名录!B6: 统一社会信用代码: {CHECK_DIGIT}\n"
    code_, out, _ = run_cli("import", "enterprises", book, "--db", db_path, "--strict")
    assert code_ == 1 and "strict: rows were rejected, nothing written" in out
    assert dump() == before


def test_second_sheet_by_name_and_a_sheet_that_is_not_there(run_cli, db_path, store, tmp_path):
    book = registry_workbook(tmp_path / "registry.xlsx")
    code_, out, err = run_cli("import", "enterprises", book, "--sheet", "补充", "--db", db_path)
    assert (code_, err) == (0, "")
    assert out.startswith("enterprises registry.xlsx: 1 row read; inserted 1,")
    assert enterprises(store) == {GOOD[5]: ("庚公司", "宁阳县", "", "", "13805387777")}
    code_, _, err = run_cli("import", "enterprises", book, "--sheet", "名录", "--db", db_path)
    assert code_ == 2
    assert err == f"error: {book}: no sheet named '名录' (the sheets are: 企业名录, 补充); nothing imported\n"
    text = tmp_path / "registry.csv"
    text.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    code_, _, err = run_cli("import", "enterprises", text, "--sheet", "补充", "--db", db_path)
    assert code_ == 2 and "this is a text file (CSV), not an Excel workbook" in err


def test_recognised_by_content_not_by_name(run_cli, db_path, store, tmp_path):
    book = registry_workbook(tmp_path / "registry.xlsx")
    renamed = tmp_path / "from-the-county.csv"
    renamed.write_bytes(book.read_bytes())
    code_, out, _ = run_cli("import", "enterprises", renamed, "--db", db_path)
    assert code_ == 1 and "6 rows read; inserted 5" in out
    text = tmp_path / "looks-like-excel.xlsx"
    text.write_text(",".join(HEADER) + f"\n辛公司,{GOOD[5]},宁阳县,,,,05381234567,\n", encoding="utf-8")
    code_, out, err = run_cli("import", "enterprises", text, "--db", db_path)
    assert (code_, err) == (0, "") and "1 row read; inserted 1" in out
    assert store.one("SELECT phone FROM enterprises WHERE uscc = ?", (GOOD[5],))["phone"] == "05381234567"


def test_a_conflict_is_named_by_rows(run_cli, db_path, tmp_path):
    path = tmp_path / "dup.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write_row(0, 0, HEADER[:3])
    ws.write_row(1, 0, ["甲公司", GOOD[0], "岱岳区"])
    ws.write_row(2, 0, ["甲公司（新）", GOOD[0], "岱岳区"])
    book.close()
    code_, _, err = run_cli("import", "enterprises", path, "--db", db_path)
    assert code_ == 1
    assert err.splitlines() == [
        f"dup.xlsx:名录!B2: 统一社会信用代码: conflict: the same credit code is also on row(s) 3 with different "
        f"data; conflicting rows are all rejected (value {GOOD[0]!r})",
        f"dup.xlsx:名录!B3: 统一社会信用代码: conflict: the same credit code is also on row(s) 2 with different "
        f"data; conflicting rows are all rejected (value {GOOD[0]!r})"]


# -- the small imports --------------------------------------------------------------------------------------------
def test_users_units_and_routing_from_workbooks(run_cli, db_path, store, tmp_path):
    path = tmp_path / "accounts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = titled(book, "联络员", "2026年联络员名单", ["用户名", "姓名", "角色", "单位", "手机号"])
    ws.write_row(2, 0, ["taishan1", "泰山区联络员", "联络员", "泰山区"])
    ws.write_number(2, 4, 13905380001)
    ws.write_row(3, 0, ["xintai1", "新泰市联络员", "联络员", "新泰市"])          # no mobile: refused
    ws2 = book.add_worksheet("单位")
    ws2.write_row(0, 0, ["代码", "单位名称", "类型", "负责人", "负责人手机"])
    ws2.write_row(1, 0, ["zrzy", "市自然资源和规划局", "市直部门", "褚局长"])
    ws2.write_number(1, 4, 13905381099)
    ws3 = book.add_worksheet("规则")
    ws3.write_row(0, 0, ["类别", "县市区", "承办单位"])
    ws3.write_row(1, 0, ["能耗", "泰山区", "市发展和改革委员会"])
    book.close()
    code_, out, err = run_cli("import", "users", path, "--db", db_path)
    assert code_ == 1
    assert err == "accounts.xlsx:联络员!E4: 手机号: a liaison needs a mobile number (reminder SMS go to it)\n"
    assert out.startswith("users accounts.xlsx: 2 rows read; inserted 1,")
    assert tuple(store.one("SELECT mobile, unit_code FROM users WHERE username = 'taishan1'")) == ("13905380001", "taishan")
    code_, out, err = run_cli("import", "units", path, "--sheet", "单位", "--db", db_path)
    assert (code_, err) == (0, "") and "updated 1" in out
    assert tuple(store.one("SELECT head_name, head_mobile FROM units WHERE code = 'zrzy'")) == ("褚局长", "13905381099")
    code_, out, err = run_cli("import", "routing", path, "--sheet", "规则", "--db", db_path)
    assert (code_, err) == (0, "") and "inserted 1" in out
    assert store.scalar("SELECT unit_code FROM routing_rules WHERE category = 'energy' AND county = '泰山区'") == "fgw"


# -- the calendar -------------------------------------------------------------------------------------------------
def test_calendar_from_a_workbook_with_date_cells(run_cli, db_path, store, tmp_path):
    path = tmp_path / "2027.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = titled(book, "日历", "国务院办公厅关于2027年部分节假日安排的通知", ["日期", "类型"])
    day = book.add_format({"num_format": "yyyy年m月d日"})
    for r, (when, kind) in enumerate(((dt.date(2027, 1, 1), "放假"), (dt.date(2027, 2, 7), "补班"),
                                      (dt.datetime(2027, 2, 8), "休")), start=2):
        ws.write_datetime(r, 0, when, day)
        ws.write_string(r, 1, kind)
    book.close()
    code_, out, err = run_cli("calendar", "import", path, "--db", db_path)
    assert (code_, err) == (0, PARTIAL_2027)   # (a few days of 2027: used, the year not yet known)
    assert out.startswith("imported 3 calendar days for 2027;")
    assert [tuple(r) for r in store.all("SELECT date, kind FROM calendar WHERE date LIKE '2027-%' ORDER BY date")] == \
        [("2027-01-01", "holiday"), ("2027-02-07", "workday"), ("2027-02-08", "holiday")]


def test_calendar_from_a_named_sheet(run_cli, db_path, store, tmp_path):
    """The notice's second sheet holds the days: --sheet names it."""
    path = tmp_path / "notice.xlsx"
    book = xlsxwriter.Workbook(str(path))
    titled(book, "说明", "国务院办公厅通知", ["日期", "备注"])
    ws = titled(book, "2027年", "2027年节假日安排", ["日期", "类型"])
    ws.write_row(2, 0, ["2027-10-01", "放假"])
    book.close()
    code_, out, err = run_cli("calendar", "import", path, "--sheet", "2027年", "--db", db_path)
    assert (code_, err) == (0, PARTIAL_2027)   # (a few days of 2027: used, the year not yet known)
    assert out.startswith("imported 1 calendar day for 2027;")
    assert [tuple(r) for r in store.all("SELECT date, kind FROM calendar WHERE date LIKE '2027-%'")] == \
        [("2027-10-01", "holiday")]


def test_calendar_problems_name_the_cell_and_an_old_xls_is_read(run_cli, db_path, store, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    path = tmp_path / "2027.xls"
    book = xlwt.Workbook()
    ws = book.add_sheet("日历")
    ws.write_merge(0, 0, 0, 1, "2027年节假日")
    ws.write(1, 0, "日期")
    ws.write(1, 1, "类型")
    ws.write(2, 0, dt.date(2027, 1, 1), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    ws.write(2, 1, "放假")
    ws.write(3, 0, "明天")
    ws.write(3, 1, "调休")
    book.save(str(path))
    code_, _, err = run_cli("calendar", "import", path, "--db", db_path)
    assert code_ == 2
    assert err.splitlines() == [
        f"{path}:日历!A4: 日期: '明天' is not a date (YYYY-MM-DD, YYYY/M/D, YYYY年M月D日 or an Excel date)",
        f"{path}:日历!B4: 类型: '调休' must be holiday or workday (节假日/假日/放假/休/休息/休息日 or "
        "工作日/补班/上班/班/调休上班/调休上班日)",
        f"error: {path}: 2 problems; nothing imported"]
    assert store.scalar("SELECT COUNT(*) FROM calendar WHERE date LIKE '2027-%'") == 0


# -- a stray cell far from the table -------------------------------------------------------------------------------
ADVICE = "delete the stray cells far from the table or save the table alone; nothing imported"


def with_stray_cell(path: Path, cell: str, dimension: str | None = None) -> Path:
    """Sheet 名录: a header and one good row, and an empty text cell at ``cell`` (a few KB;
    calamine would hold the grid from A1 to it). ``dimension``: the span the sheet declares
    (``<dimension ref>``, which xlsxwriter writes true) replaced by this lie, or removed
    when it is ""."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write_row(0, 0, HEADER[:3])
    ws.write_row(1, 0, ["甲公司", GOOD[0], "岱岳区"])
    ws.write_string(cell, "")
    book.close()
    if dimension is not None:
        import re
        import zipfile

        with zipfile.ZipFile(path) as z:
            parts = {i.filename: z.read(i) for i in z.infolist()}
        sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
        assert f'<dimension ref="A1:{cell}"/>' in sheet
        parts["xl/worksheets/sheet1.xml"] = re.sub(
            r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>' if dimension else "", sheet).encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
    assert path.stat().st_size < 10_000
    return path


@pytest.mark.parametrize("command", [("import", "enterprises"), ("import", "enterprises", "--dry-run"),
                                     ("import", "users"), ("import", "units"), ("import", "routing"),
                                     ("calendar", "import")])
def test_a_stray_cell_at_the_last_cell_of_the_sheet_is_refused(run_cli, db_path, dump, tmp_path, command):
    """XFD1048576 would be a grid of 16,384 x 1,048,576 cells, 512 GB: Rust's abort (exit 134)
    in any process that loads it. The sheet is loaded by a process of bounded memory, which
    dies; the span the sheet declares names the problem. Exit 2, nothing written."""
    book = with_stray_cell(tmp_path / "far.xlsx", "XFD1048576")
    before = dump()
    code_, out, err = run_cli(*command, book, "--db", db_path)
    assert (code_, out) == (2, "")
    assert err == (f"error: {book}: sheet 名录: its cells span A1:XFD1048576 — 17,179,869,184 cells, more than "
                   f"the limit of 10,000,000; {ADVICE}\n")
    assert dump() == before


def test_a_stray_cell_at_cv400000_is_refused_at_once(run_cli, db_path, dump, tmp_path):
    """100 columns x 400,000 rows: 1.3 GB and some ten seconds when it was loaded here."""
    book = with_stray_cell(tmp_path / "cv.xlsx", "CV400000")
    before = dump()
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path, "--dry-run")
    assert (code_, out) == (2, "")
    assert err == (f"error: {book}: sheet 名录: its cells span A1:CV400000 — 40,000,000 cells, more than "
                   f"the limit of 10,000,000; {ADVICE}\n")
    assert dump() == before


@pytest.mark.parametrize("dimension", ["A1:C2", ""], ids=["a lie", "none"])
def test_a_sheet_that_declares_no_span_or_a_false_one_is_still_refused(run_cli, db_path, dump, tmp_path,
                                                                      dimension):
    """The declared span is optional and may lie: what guards is the reading process's
    memory bound (it dies), not the declaration."""
    book = with_stray_cell(tmp_path / "far.xlsx", "XFD1048576", dimension)
    before = dump()
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path, "--dry-run")
    assert (code_, out) == (2, "")
    assert err == (f"error: {book}: sheet 名录 is too large to read within 1,024 MB (cells spread over more "
                   f"than 10,000,000, or too much text); {ADVICE}\n")
    assert dump() == before


def test_a_grid_over_the_cell_limit_that_fits_in_memory_is_refused_by_its_span(run_cli, db_path, dump, tmp_path,
                                                                             monkeypatch):
    """A grid the reading process could hold but that spans more than MAX_CELLS (here 1,000)
    is refused by its real span (the declaration removed), before any row is converted;
    the same sheet within the limit is read."""
    from taian_tui.dataio import workbook

    monkeypatch.setattr(workbook, "MAX_CELLS", 1_000)
    book = with_stray_cell(tmp_path / "wide.xlsx", "Z100", dimension="")
    before = dump()
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path)
    assert (code_, out) == (2, "")
    assert err == (f"error: {book}: sheet 名录: its cells span A1:Z100 — 2,600 cells, more than the limit of "
                   f"1,000; {ADVICE}\n")
    assert dump() == before
    monkeypatch.setattr(workbook, "MAX_CELLS", 2_600)
    code_, out, err = run_cli("import", "enterprises", book, "--db", db_path)
    assert (code_, err) == (0, "") and "1 row read; inserted 1," in out


def test_an_old_xls_workbook_has_the_same_guard(run_cli, db_path, dump, tmp_path, monkeypatch):
    """calamine builds the grid of every sheet of an .xls when it opens it: that is done by
    the reading process too. A workbook whose grids do not fit in the reading process's
    memory (here 64 MB; the stray cell at IV65536 of another sheet makes a 512 MB grid) is
    refused as too large, --sheet or not; a sheet over the cell limit is named."""
    xlwt = pytest.importorskip("xlwt")
    from taian_tui.dataio import workbook

    def xls(path: Path, far: bool) -> Path:
        book = xlwt.Workbook()
        ws = book.add_sheet("名录")
        for c, value in enumerate(HEADER[:3]):
            ws.write(0, c, value)
        for c, value in enumerate(["甲公司", GOOD[0], "岱岳区"]):
            ws.write(1, c, value)
        ws.write(99, 25, "x")                               # Z100
        if far:
            old = book.add_sheet("旧表")
            old.write(0, 0, "旧")
            old.write(65535, 255, "x")                      # A1 to IV65536: the whole grid
        book.save(str(path))
        return path

    far, near = xls(tmp_path / "far.xls", True), xls(tmp_path / "near.xls", False)
    before = dump()
    monkeypatch.setattr(workbook, "READ_MEMORY", 64 << 20)
    for sheet in ((), ("--sheet", "名录")):
        code_, out, err = run_cli("import", "enterprises", far, *sheet, "--db", db_path)
        assert (code_, out) == (2, "")
        assert err == (f"error: {far}: the workbook is too large to read within 64 MB (cells spread over more "
                       f"than 10,000,000, or too much text); {ADVICE}\n")
    monkeypatch.setattr(workbook, "MAX_CELLS", 1_000)
    code_, out, err = run_cli("import", "enterprises", near, "--db", db_path)
    assert (code_, out) == (2, "")
    assert err == (f"error: {near}: sheet 名录: its cells span A1:Z100 — 2,600 cells, more than the limit "
                   f"of 1,000; {ADVICE}\n")
    assert dump() == before


def test_the_command_itself_exits_2_and_not_134(taian_process, db_path, tmp_path):
    """The whole command in a process of its own (an abort there would be exit 134)."""
    book = with_stray_cell(tmp_path / "far.xlsx", "XFD1048576")
    proc = taian_process("import", "enterprises", book, "--db", db_path, "--dry-run")
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (2, "")
    assert err == (f"error: {book}: sheet 名录: its cells span A1:XFD1048576 — 17,179,869,184 cells, more than "
                   f"the limit of 10,000,000; {ADVICE}\n")


# -- numbers Excel cut ---------------------------------------------------------------------------------------------
def test_an_18_digit_code_stored_as_a_number_is_rejected_not_guessed(run_cli, db_path, store, tmp_path):
    """913709001234500006 typed as a number is stored as 9.13709001234500E+17 (15 digits
    kept): read back as 913709001234499968 it looked like a code with a wrong check digit.
    The row is rejected naming the cell and what Excel did; a number of 15 digits is read."""
    path = tmp_path / "numbers.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["甲公司"])
    ws.write_number(1, 1, 913709001234500006)
    ws.write_row(1, 2, ["岱岳区"])
    ws.write_row(2, 0, ["乙公司", GOOD[1], "新泰市", "", "", "", ""])
    ws.write_number(2, 6, 538123456789012)                  # 15 digits: all kept
    ws.write_row(3, 0, ["丙公司", GOOD[2], "肥城市", "", "", "", "", ""])
    ws.write_number(3, 7, -9007199254740992.0)             # -2**53: past what is exact, in any column
    book.close()
    code_, out, err = run_cli("import", "enterprises", path, "--db", db_path, "--report", tmp_path / "rej.csv")
    assert code_ == 1
    cut = "has more than 15 digits: Excel kept only 15 (format the column as text and type the code again)"
    assert err.splitlines() == [f"numbers.xlsx:名录!2:2: the cell 名录!B2: the number 9.13709001234500E+17 {cut}",
                                f"numbers.xlsx:名录!4:4: the cell 名录!H4: the number -9.00719925474099E+15 {cut}"]
    assert out == ("enterprises numbers.xlsx: 3 rows read; inserted 1, updated 0, unchanged 0, rejected 2; "
                   f"report: {tmp_path / 'rej.csv'}\n")
    assert list(csv.reader(io.StringIO((tmp_path / "rej.csv").read_text("utf-8-sig")))) == [
        ["cell", "column", "value", "reason"],
        ["名录!2:2", "", "", f"the cell 名录!B2: the number 9.13709001234500E+17 {cut}"],
        ["名录!4:4", "", "", f"the cell 名录!H4: the number -9.00719925474099E+15 {cut}"]]
    assert enterprises(store) == {GOOD[1]: ("乙公司", "新泰市", "", "", "538123456789012")}


# -- a header of two rows -------------------------------------------------------------------------------------------
def test_a_two_row_header_and_rows_named_as_excel_shows_them(run_cli, db_path, store, tmp_path):
    """企业名称, 统一社会信用代码 and 所属县市区 merged down over rows 2-3, 「联系方式」 merged over
    D2:E2 with 联系人 | 联系电话 under it, 行业 on row 3 only; 14 enterprises in rows 4-17, the
    code of row 17 wrong: rejected as 企业名录!B17, the contacts and phones imported."""
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("企业名录")
    ws.merge_range("A1:F1", TITLE)
    for col, name in zip("ABC", ("企业名称", "统一社会信用代码", "所属县市区")):
        ws.merge_range(f"{col}2:{col}3", name)
    ws.merge_range("D2:E2", "联系方式")
    ws.write_row("D3", ["联系人", "联系电话"])
    ws.write("F3", "行业")
    codes = [code(100 + n) for n in range(4, 18)]
    bad = codes[-1][:17] + ("1" if codes[-1][17] != "1" else "2")
    for r, uscc in enumerate(codes[:-1] + [bad], start=3):
        ws.write_row(r, 0, [f"企业{r + 1}", uscc, "泰山区", f"联系人{r + 1}"])
        ws.write_number(r, 4, 13800000000 + r + 1)
        ws.write_string(r, 5, "食品")
    book.close()
    code_, out, err = run_cli("import", "enterprises", path, "--db", db_path)
    assert code_ == 1
    assert out == "enterprises two.xlsx: 14 rows read; inserted 13, updated 0, unchanged 0, rejected 1\n"
    assert err == (f"two.xlsx:企业名录!B17: 统一社会信用代码: check digit is wrong (GB 32100-2015): the last character "
                   f"should be {stdnum_uscc.calc_check_digit(bad[:17])} (value {bad!r})\n")
    assert tuple(store.one("SELECT name, county, industry, contact, phone FROM enterprises WHERE uscc = ?",
                           (codes[0],))) == ("企业4", "泰山区", "食品", "联系人4", "13800000004")
    assert store.scalar("SELECT COUNT(*) FROM enterprises WHERE contact LIKE '联系人%' AND phone LIKE '138%'") == 13


def test_accounts_with_a_two_row_header(run_cli, db_path, store, tmp_path):
    """The table imports (users here) read the same header: 「联系方式」 over 手机号 | 备注."""
    path = tmp_path / "accounts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("联络员")
    ws.merge_range("A1:F1", "2026年联络员名单")
    for col, name in zip("ABCD", ("用户名", "姓名", "角色", "单位")):
        ws.merge_range(f"{col}2:{col}3", name)
    ws.merge_range("E2:F2", "联系方式")
    ws.write_row("E3", ["手机号", "备注"])
    ws.write_row("A4", ["taishan1", "泰山区联络员", "联络员", "泰山区"])
    ws.write_number("E4", 13905380001)
    ws.write_row("A5", ["xintai1", "新泰市联络员", "联络员", "新泰市", "", "暂无手机"])
    book.close()
    code_, out, err = run_cli("import", "users", path, "--db", db_path)
    assert code_ == 1
    assert err == "accounts.xlsx:联络员!E5: 手机号: a liaison needs a mobile number (reminder SMS go to it)\n"
    assert out == "users accounts.xlsx: 2 rows read; inserted 1, updated 0, unchanged 0, rejected 1; ignored columns: 备注\n"
    assert tuple(store.one("SELECT mobile, unit_code FROM users WHERE username = 'taishan1'")) == ("13905380001", "taishan")


# -- formulas -----------------------------------------------------------------------------------------------------
NO_VALUE = ("the file was written by a program and never opened in Excel, which calculates the values; open it in "
            "Excel (or WPS) and save it, or type the values in place of the formulas; nothing imported")


def test_a_formula_without_a_value_is_refused_naming_its_cell(run_cli, db_path, dump, tmp_path):
    """openpyxl writes formulas without their results (calamine reads such a cell as empty):
    the file is refused, the first such cell named (企业名录!G3), exit 2, nothing written;
    for the calendar too."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业名录"
    ws.append(HEADER)
    ws.append(["甲公司", GOOD[0], "岱岳区", "", "", "", "13805381234", ""])
    ws.append(["乙公司", GOOD[1], "新泰市", "", "", "", "=G2+1", ""])
    ws.append(["丙公司", GOOD[2], "=C3", "", "", "", "=G3+1", ""])
    wb.save(tmp_path / "registry.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "日历"
    ws.append(["日期", "类型"])
    ws.append(["=DATE(2027,1,1)", "放假"])
    wb.save(tmp_path / "2027.xlsx")
    before = dump()
    for command, path, cell, formula, more in (
            (("import", "enterprises"), tmp_path / "registry.xlsx", "企业名录!G3", "G2+1", " (and 2 more cells like it)"),
            (("import", "enterprises", "--dry-run"), tmp_path / "registry.xlsx", "企业名录!G3", "G2+1",
             " (and 2 more cells like it)"),
            (("calendar", "import"), tmp_path / "2027.xlsx", "日历!A2", "DATE(2027,1,1)", "")):
        code_, out, err = run_cli(*command, path, "--db", db_path)
        assert (code_, out) == (2, "")
        assert err == f"error: {path}: the cell {cell} holds a formula (={formula}) with no value{more}: {NO_VALUE}\n"
    assert dump() == before


def test_a_formula_with_its_value_imports_the_value(run_cli, db_path, store, tmp_path):
    """xlsxwriter writes the results with the formulas, as Excel saves them: the values are read."""
    path = tmp_path / "cached.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["甲公司", GOOD[0]])
    ws.write_formula(1, 2, '="岱岳"&"区"', None, "岱岳区")
    ws.write_formula(1, 6, "=13805381233+1", None, 13805381234)
    book.close()
    code_, out, err = run_cli("import", "enterprises", path, "--db", db_path)
    assert (code_, err) == (0, "") and out.startswith("enterprises cached.xlsx: 1 row read; inserted 1,")
    assert tuple(store.one("SELECT county, phone FROM enterprises WHERE uscc = ?", (GOOD[0],))) == \
        ("岱岳区", "13805381234")


# -- dates as numbers ----------------------------------------------------------------------------------------------
def test_calendar_dates_that_are_excel_numbers(run_cli, db_path, store, tmp_path):
    """A date column in General format holds Excel's day numbers: 46388 is 2027-01-01 (days
    from 1899-12-30: 2 to 1900-01-01, then 127 years of 365 days and 31 leap days, 46,386),
    46425 is 2027-02-07 (37 days on); in a CSV saved from it too. 12 and 20270101 are no day
    of 1990-2100: refused, naming the cell."""
    path = tmp_path / "2027.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = titled(book, "日历", "2027年节假日安排", ["日期", "类型"])
    ws.write_number("A3", 46388)
    ws.write_string("B3", "放假")
    ws.write_number("A4", 46425)
    ws.write_string("B4", "补班")
    book.close()
    code_, out, err = run_cli("calendar", "import", path, "--db", db_path)
    assert (code_, err) == (0, PARTIAL_2027)   # (a few days of 2027: used, the year not yet known)
    assert out.startswith("imported 2 calendar days for 2027;")
    text = tmp_path / "2027.csv"
    text.write_text("日期,类型\n46426,休\n", encoding="utf-8")
    code_, out, err = run_cli("calendar", "import", text, "--db", db_path)
    assert (code_, err) == (0, PARTIAL_2027) and out.startswith("imported 1 calendar day for 2027;")
    assert [tuple(r) for r in store.all("SELECT date, kind FROM calendar WHERE date LIKE '2027-%' ORDER BY date")] == \
        [("2027-01-01", "holiday"), ("2027-02-07", "workday"), ("2027-02-08", "holiday")]

    bad = tmp_path / "bad.xlsx"
    book = xlsxwriter.Workbook(str(bad))
    ws = book.add_worksheet("日历")
    ws.write_row("A1", ["日期", "类型"])
    for r, n in ((1, 12), (2, 20270101)):
        ws.write_number(r, 0, n)
        ws.write_string(r, 1, "放假")
    book.close()
    code_, out, err = run_cli("calendar", "import", bad, "--db", db_path)
    number = "is a number, not a day of 1990-2100 as Excel numbers days (a date written as a number: 46388 is 2027-01-01)"
    assert (code_, out) == (2, "")
    assert err.splitlines() == [f"{bad}:日历!A2: 日期: '12' {number}", f"{bad}:日历!A3: 日期: '20270101' {number}",
                                f"error: {bad}: 2 problems; nothing imported"]


# -- a file that fails before its data ------------------------------------------------------------------------------
IMPORTS = (("import", "enterprises"), ("import", "users"), ("calendar", "import"))


@pytest.mark.parametrize("command", IMPORTS, ids=" ".join)
def test_a_second_line_that_does_not_decode(run_cli, db_path, dump, tmp_path, command):
    """A UTF-8 header (17 Chinese characters, 2 commas, LF: 54 bytes), then a line of bytes no
    encoding reads: the file is UTF-8, the bad byte line 2's first, at byte 54 (it was
    called line 1 of a GB18030 file). Exit 2, nothing written."""
    path = tmp_path / "bad.csv"
    path.write_bytes("企业名称,统一社会信用代码,所属县市区\n".encode() + b"\xff\xfe\x80garbage\n")
    before = dump()
    code_, out, err = run_cli(*command, path, "--db", db_path)
    hint = "; try --encoding gb18030" if command[1] == "enterprises" else ""
    assert (code_, out) == (2, "")
    assert err == (f"error: {path}: line 2: the file is not valid utf-8 (cannot decode the byte ff at byte 54 of the "
                   f"file: invalid start byte){hint}; nothing imported\n")
    assert dump() == before


@pytest.mark.parametrize("command", IMPORTS, ids=" ".join)
def test_a_row_above_the_header_that_cannot_be_read(run_cli, db_path, dump, tmp_path, command):
    """Row 2 of the sheet, above the header (row 3), holds a number Excel cut: the file is
    refused naming the row and the cell, exit 2, nothing written (every import alike)."""
    path = tmp_path / "note.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("名录")
    ws.write("A1", TITLE)
    ws.write_number("B2", 1e20)
    ws.write_row("A3", HEADER)
    book.close()
    before = dump()
    code_, out, err = run_cli(*command, path, "--db", db_path)
    assert (code_, out) == (2, "")
    assert err == (f"error: {path}:2: the header cannot be read: the cell 名录!B2: the number 1.00000000000000E+20 "
                   "has more than 15 digits: Excel kept only 15 (format the column as text and type the code "
                   "again); nothing imported\n")
    assert dump() == before


def test_a_calendar_with_nothing_under_its_header(run_cli, db_path, dump, tmp_path):
    path = tmp_path / "empty.xlsx"
    book = xlsxwriter.Workbook(str(path))
    titled(book, "日历", "2027年节假日安排", ["日期", "类型"])
    book.close()
    text = tmp_path / "empty.csv"
    text.write_text("date,kind\n\n", encoding="utf-8")
    before = dump()
    for file, where, names in ((path, "日历!2:2", "日期, 类型"), (text, "1", "date, kind")):
        code_, out, err = run_cli("calendar", "import", file, "--db", db_path)
        assert (code_, out) == (2, "")
        assert err == f"error: {file}:{where}: no rows under the header ({names}): no days to import; nothing imported\n"
    assert dump() == before
