"""Reading Excel workbooks for the imports (``dataio.workbook``): cells as the text a person
reads, rows numbered as Excel shows them, the first visible sheet, merged cells, bounds, and
the registry's two-process check on a workbook's rows (the same result as one process), a
header of two rows under a merged group, formulas without a value, Excel's day numbers, and
where a file that does not decode goes wrong. The workbooks are written here with
xlsxwriter (openpyxl for formulas without a value)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from stdnum.cn import uscc as stdnum_uscc

from taian_tui.dataio import reading, registry, workbook

HEADER = ["企业名称", "统一社会信用代码", "所属县市区", "联系电话"]


def code(n: int) -> str:
    body = f"91370900MA4D{n:05d}"
    return body + stdnum_uscc.calc_check_digit(body)


def test_cells_as_the_text_a_person_reads():
    assert [workbook.cell_text(v) for v in (
        "05380000001", 13805381234.0, 1.3805381234e10, 271000.0, 12000.5, 0.1, -3.0, 42, True, False,
        dt.datetime(2027, 1, 1), dt.datetime(2027, 1, 1, 9, 30), dt.date(2027, 2, 7), dt.time(8, 0), None,
    )] == ["05380000001", "13805381234", "13805381234", "271000", "12000.5", "0.1", "-3", "42", "TRUE", "FALSE",
           "2027-01-01", "2027-01-01 09:30:00", "2027-02-07", "08:00:00", ""]


def test_a_number_whose_digits_excel_cut_is_not_made_an_integer():
    """913709001234500006 typed in Excel is kept as 9.13709001234500E+17 and read back as the
    float 913709001234499968: from 2**53 on a float does not hold every whole number."""
    assert workbook.cell_text(float(2 ** 53 - 1)) == "9007199254740991"
    assert workbook.cell_text(-float(2 ** 53 - 1)) == "-9007199254740991"
    assert workbook.cell_text(1e15) == "1000000000000000"
    for value, shown in ((913709001234500006.0, "9.13709001234500E+17"), (float(2 ** 53), "9.00719925474099E+15"),
                         (-float(2 ** 53), "-9.00719925474099E+15"), (1e300, "1.00000000000000E+300")):
        with pytest.raises(workbook.LostDigits) as exc:
            workbook.cell_text(value)
        assert str(exc.value) == (f"the number {shown} has more than 15 digits: Excel kept only 15 (format the "
                                  "column as text and type the code again)")


def test_cell_names_as_excel_writes_them():
    assert [workbook.column_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == \
        ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]
    assert [workbook.sheet_ref(n) for n in ("企业名录", "Sheet1", "2026名录", "my list", "It's")] == \
        ["企业名录", "Sheet1", "'2026名录'", "'my list'", "'It''s'"]


def write(path: Path, build) -> Path:
    book = xlsxwriter.Workbook(str(path))
    build(book)
    book.close()
    return path


def test_records_numbered_as_excel_shows_them(tmp_path):
    def build(book):
        hidden = book.add_worksheet("旧表")     # first in the file, hidden
        hidden.write("A1", "不要读这一页")
        ws = book.add_worksheet("名录")
        ws.activate()                           # (Excel cannot show a hidden sheet as the active one)
        hidden.hide()
        ws.write("C3", "泰安市重点企业名录")          # the table starts at column C, row 3
        ws.write_row("C5", HEADER)
        for col, text in zip("CDE", ("=甲公司", "'+86", "@x")):
            ws.write_string(f"{col}6", text)
        ws.write_formula("F6", "=1+1", None, 2)     # a formula: its cached result
        ws.write_row("C7", ["乙\x07\x1b[2J公司\u2028二", " 岱岳区 "])
    path = write(tmp_path / "book.xlsx", build)
    # the hidden sheet is the file's first (sheetId 1, first in workbook.xml): the first
    # *visible* one is read
    openpyxl = pytest.importorskip("openpyxl")
    written = openpyxl.load_workbook(path)
    assert [(s.title, s.sheet_state) for s in written.worksheets] == [("旧表", "hidden"), ("名录", "visible")]
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as z:
        sheets = [(s.get("name"), s.get("sheetId"), s.get("state"))
                  for s in ET.fromstring(z.read("xl/workbook.xml")).iter() if s.tag.endswith("}sheet")]
    assert sheets == [("旧表", "1", "hidden"), ("名录", "2", None)]
    book = workbook.WorkbookSource(path, "xlsx")
    assert (book.sheet, book.first_col, book.total_rows) == ("名录", 2, 7)
    recs = list(reading.records(book))
    assert [(r.line, r.cells) for r in recs if any(r.cells)] == [
        (3, ["泰安市重点企业名录", "", "", ""]),
        (5, HEADER),
        (6, ["'=甲公司", "''+86", "'@x", "2"]),              # as the CSV path writes them: the import unquotes
        (7, ["乙公司 二", " 岱岳区 ", "", ""]),
    ]
    assert [reading.unneutralise(c) for c in recs[5].cells] == ["=甲公司", "'+86", "@x", "2"]
    assert [r.line for r in recs] == [1, 2, 3, 4, 5, 6, 7]
    locate = book.locate(HEADER)
    assert (locate(6, "统一社会信用代码"), locate(6, ""), locate(6, "备注")) == ("名录!D6", "名录!6:6", "名录!6:6")
    assert workbook.WorkbookSource(path, "xlsx", "旧表").sheet == "旧表"          # --sheet may name a hidden one


def test_a_cell_beyond_the_bound_rejects_its_row(store, tmp_path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_FIELD", 100)
    monkeypatch.setattr(reading, "MAX_FIELD", 100)

    def build(book):
        ws = book.add_worksheet("名录")
        ws.write_row(0, 0, HEADER)
        ws.write_row(1, 0, ["甲公司", code(1), "岱岳区", "1" * 101])
        ws.write_row(2, 0, ["乙公司", code(2), "岱岳区", "05380000002"])
    r = registry.import_enterprises(store, "system:import", write(tmp_path / "long.xlsx", build))
    assert (r.rows, r.inserted, r.rejected) == (2, 1, 1)
    assert [(x.cell, x.column, x.reason) for x in r.rejections] == [
        ("名录!2:2", "", "the cell 名录!D2 is longer than 100 characters, the most one cell may hold")]


def test_an_empty_workbook_and_a_missing_header(store, tmp_path):
    empty = write(tmp_path / "empty.xlsx", lambda book: book.add_worksheet("空"))
    with pytest.raises(reading.ImportFileError, match="the file is empty"):
        registry.import_enterprises(store, "system:import", empty)

    def build(book):
        ws = book.add_worksheet("名录")
        ws.write("A1", "泰安市重点企业名录")
        ws.write_row(1, 0, ["企业名称", "所属县市区"])
    # no row names every required column: the one naming the most is taken for the header
    with pytest.raises(reading.ImportFileError, match=r"missing required column 统一社会信用代码 \(uscc\) "
                                                      r"\(header has: 企业名称, 所属县市区\); nothing imported"):
        registry.import_enterprises(store, "system:import", write(tmp_path / "bad.xlsx", build))


@pytest.mark.parametrize("chunk_rows", [1000, 8])
def test_two_process_check_of_a_sheet_matches_one_process(both_ways, tmp_path, monkeypatch, chunk_rows):
    """60 enterprises under a title row; the sheet is split at its middle row (32); a county
    merged down over rows 30-34 crosses the split; rows 10 and 40 have a bad code; the
    code of row 20 comes again in row 50 with other data (a conflict across the halves).
    Rows come from the reading process 8 at a time too: the second half skips the chunks
    before it but the one where the merge starts (rows 25-32)."""
    monkeypatch.setattr(workbook, "CHUNK_ROWS", chunk_rows)
    def build(book):
        ws = book.add_worksheet("名录")
        ws.merge_range("A1:D1", "泰安市重点企业名录（2026年）")
        ws.write_row(1, 0, HEADER)
        for r in range(2, 62):
            n = r + 1                                   # the row as Excel shows it
            uscc = code(20 if n == 50 else n)
            if n in (10, 40):
                uscc = uscc[:17] + ("1" if uscc[17] != "1" else "2")
            ws.write_row(r, 0, [f"企业{n}", uscc])
            if not 30 <= n <= 34:
                ws.write_string(r, 2, "新泰市")
            ws.write_number(r, 3, 13800000000 + n)
        ws.merge_range("C30:C34", "岱岳区")
    path = write(tmp_path / "big.xlsx", build)
    monkeypatch.setattr(registry, "PARALLEL_MIN_ROWS", 10)
    parts, outcomes = both_ways(path, lambda s, r: (
        (r.rows, r.inserted, r.rejected, r.duplicates), [(x.cell, x.reason[:40]) for x in r.rejections],
        [tuple(x) for x in s.all("SELECT uscc, name, county, phone FROM enterprises ORDER BY uscc")]))
    assert parts == [1, 2]                              # the second half was checked by a child process
    assert outcomes[0] == outcomes[1]
    counts, rejections, rows = outcomes[0]
    assert counts == (60, 56, 4, 0)
    assert rejections == [("名录!B10", "check digit is wrong (GB 32100-2015): th"),
                          ("名录!B20", "conflict: the same credit code is also o"),
                          ("名录!B40", "check digit is wrong (GB 32100-2015): th"),
                          ("名录!B50", "conflict: the same credit code is also o")]
    by_name = {name: (county, phone) for _, name, county, phone in rows}
    assert [by_name[f"企业{n}"] for n in (29, 30, 32, 33, 34, 35)] == [
        ("新泰市", "13800000029"), ("岱岳区", "13800000030"), ("岱岳区", "13800000032"),
        ("岱岳区", "13800000033"), ("岱岳区", "13800000034"), ("新泰市", "13800000035")]


def test_a_csv_saved_from_such_a_workbook_keeps_its_title_line(store, tmp_path):
    """The header is found the same way in a CSV file: the title line Excel writes above it
    is skipped, and line numbers stay the file's."""
    path = tmp_path / "registry.csv"
    path.write_text("泰安市重点企业名录（2026年）,,,\n\n" + ",".join(HEADER) + "\n"
                    f"甲公司,{code(1)},岱岳区,05380000001\n乙公司,{code(2)[:17]}0,岱岳区,\n", encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.rows, r.inserted, r.rejected) == (2, 1, 1)
    assert [(x.line, x.cell, x.where, x.column) for x in r.rejections] == [(5, "", "5", "统一社会信用代码")]


def test_rows_read_in_chunks_from_any_row_are_the_rows_of_one_chunk(tmp_path, monkeypatch):
    """A sheet read 4 rows a chunk gives, from any starting row, what it gives in one chunk:
    the values merged down across a chunk's edge (C6:C13) and across the start included,
    the rows numbered from the start."""
    def build(book):
        ws = book.add_worksheet("名录")
        ws.write_row(0, 0, HEADER)
        for r in range(1, 30):
            ws.write_row(r, 0, [f"企业{r + 1}", code(r + 1), "" if 5 <= r <= 12 else "新泰市"])
            ws.write_number(r, 3, 13800000000 + r)
        ws.merge_range("C6:C13", "岱岳区")
    path = write(tmp_path / "merged.xlsx", build)

    def read(chunk_rows: int) -> dict:
        monkeypatch.setattr(workbook, "CHUNK_ROWS", chunk_rows)
        book = workbook.WorkbookSource(path, "xlsx")
        assert len(book._chunks) == -(-30 // chunk_rows)
        return {start: [(reader.line_num, row) for reader in [book.reader(start, 25)] for row in reader]
                for start in (1, 4, 5, 6, 9, 12, 13, 14, 24)}
    whole = read(1000)
    assert whole == read(4)
    assert whole[9][:6] == [(1, ["企业9", code(9), "岱岳区", "13800000008"]),
                            (2, ["企业10", code(10), "岱岳区", "13800000009"]),
                            (3, ["企业11", code(11), "岱岳区", "13800000010"]),
                            (4, ["企业12", code(12), "岱岳区", "13800000011"]),
                            (5, ["企业13", code(13), "岱岳区", "13800000012"]),
                            (6, ["企业14", code(14), "新泰市", "13800000013"])]


# -- a header of two rows ------------------------------------------------------------------------------------
def two_row_header(path: Path, county_merged_down: bool, rows: int = 3) -> Path:
    """Sheet 企业名录 as offices send it: the title merged over A1:F1; 「联系方式」 merged over
    D2:E2 with 联系人 | 联系电话 under it in row 3; 企业名称 and 统一社会信用代码 merged down
    over rows 2-3; 所属县市区 merged down over C2:C3 or (``county_merged_down`` False) written
    on row 3 only; 行业 on row 3 only. Enterprises from row 4, phones as numbers; the code of
    the last row has a wrong check digit."""
    def build(book):
        ws = book.add_worksheet("企业名录")
        ws.merge_range("A1:F1", "泰安市重点企业名录（2026年）")
        ws.merge_range("A2:A3", "企业名称")
        ws.merge_range("B2:B3", "统一社会信用代码")
        if county_merged_down:
            ws.merge_range("C2:C3", "所属县市区")
        else:
            ws.write("C3", "所属县市区")
        ws.merge_range("D2:E2", "联系方式")
        ws.write_row("D3", ["联系人", "联系电话"])
        ws.write("F3", "行业")
        for r in range(3, 3 + rows):
            n = r + 1
            uscc = code(n) if r < 2 + rows else code(n)[:17] + ("1" if code(n)[17] != "1" else "2")
            ws.write_row(r, 0, [f"企业{n}", uscc, "岱岳区", f"联系人{n}"])
            ws.write_number(r, 4, 13800000000 + n)
            ws.write_string(r, 5, "化工")
    return write(path, build)


@pytest.mark.parametrize("county_merged_down", [True, False], ids=["names merged down", "names on row 3"])
def test_a_two_row_header_under_a_merged_group(store, tmp_path, county_merged_down):
    """The header is rows 2-3 read as one (联系人 and 联系电话 from row 3 under 「联系方式」);
    the data starts at row 4, and a rejected value is named as Excel shows it (B6)."""
    path = two_row_header(tmp_path / "two.xlsx", county_merged_down)
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.rows, r.inserted, r.rejected, r.ignored_columns) == (3, 2, 1, [])
    assert [(x.cell, x.column) for x in r.rejections] == [("企业名录!B6", "统一社会信用代码")]
    assert [tuple(x) for x in store.all("SELECT name, county, contact, phone, industry FROM enterprises "
                                        "WHERE name LIKE '企业%' ORDER BY name")] == [
        ("企业4", "岱岳区", "联系人4", "13800000004", "化工"), ("企业5", "岱岳区", "联系人5", "13800000005", "化工")]
    book = workbook.WorkbookSource(path, "xlsx")
    recs = reading.records(book)
    header, line, index, _, _ = reading.find_header(reading.header_rows(recs, "two.xlsx"), registry.ENTERPRISE_COLUMNS,
                                                    registry.ENTERPRISE_ALIASES, "two.xlsx")
    assert (header, line) == (["企业名称", "统一社会信用代码", "所属县市区", "联系人", "联系电话", "行业"], 3)
    assert next(recs).line == 4                                  # the caller goes on with the first data row


def test_a_merge_across_a_one_row_header_keeps_the_first_data_row(store, tmp_path):
    """「联系方式」 merged over two columns of a header of one row, data right under it: the
    data row is not taken for the header's second row (its cells are values under names)."""
    def build(book):
        ws = book.add_worksheet("名录")
        ws.write_row("A1", ["企业名称", "统一社会信用代码", "所属县市区"])
        ws.merge_range("D1:E1", "联系方式")
        ws.write_row("A2", ["甲公司", code(1), "岱岳区", "张三"])
        ws.write_number("E2", 13805381234)
    r = registry.import_enterprises(store, "system:import", write(tmp_path / "one.xlsx", build))
    assert (r.rows, r.inserted, r.rejected, r.ignored_columns) == (1, 1, 0, ["联系方式"])
    assert tuple(store.one("SELECT name, county, contact, phone FROM enterprises WHERE uscc = ?", (code(1),))) == \
        ("甲公司", "岱岳区", "", "")


def test_a_two_row_header_in_a_csv_file(store, tmp_path):
    """The same header saved as CSV (no merges left): the upper row lacks 所属县市区, the
    lower names it and the contact columns; the two are the header, data from line 3."""
    path = tmp_path / "two.csv"
    path.write_text("企业名称,统一社会信用代码,联系方式,,\n,,联系人,联系电话,所属县市区\n"
                    f"甲公司,{code(1)},张三,13805381234,岱岳区\n乙公司,{code(2)[:17]}0,李四,,新泰市\n",
                    encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.rows, r.inserted, r.rejected) == (2, 1, 1)
    assert [(x.line, x.column) for x in r.rejections] == [(4, "统一社会信用代码")]
    assert tuple(store.one("SELECT name, county, contact, phone FROM enterprises WHERE uscc = ?", (code(1),))) == \
        ("甲公司", "岱岳区", "张三", "13805381234")


# -- formulas without a value ------------------------------------------------------------------------------------
def test_formulas_without_a_value_are_found_by_cell(tmp_path):
    """openpyxl writes a formula with no result (``<v></v>``): found, the first by its cell;
    xlsxwriter writes results (a number, a text): none found; a formula whose result is the
    empty text (``t="str"``, as Excel writes it) holds a value."""
    import re
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(HEADER)
    ws.append(["甲公司", code(1), "岱岳区", 13805381234])
    ws.append(["乙公司", code(2), "=C2", "=D2+1"])
    ws["A5"] = '=CONCATENATE("丙","公司")'
    wb.save(tmp_path / "openpyxl.xlsx")
    assert workbook.uncalculated_formulas(tmp_path / "openpyxl.xlsx", "名录") == ("C3", "C2", 3)

    def build(book):
        ws = book.add_worksheet("名录")
        ws.write_formula("A1", "=1+1", None, 2)
        ws.write_formula("B1", '="138"&"05381234"', None, "13805381234")
        ws.write_formula("C1", '=""', None, "")
    path = write(tmp_path / "cached.xlsx", build)
    assert workbook.uncalculated_formulas(path, "名录") == ("C1", '""', 1)     # (xlsxwriter: no t="str")
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(r'<c r="C1">', '<c r="C1" t="str">', sheet).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert workbook.uncalculated_formulas(path, "名录") is None
    assert workbook.WorkbookSource(path, "xlsx").records().__next__().cells == ["2", "13805381234", ""]

    # a formula xlsxwriter was given no result for holds 0, in a workbook that asks to be
    # calculated on opening: no value (the import would have taken a company named "0")
    def defaults(book):
        ws = book.add_worksheet("名录")
        ws.write_formula("A1", "=1+1", None, 2)
        ws.write_formula("A2", '="泰安公式公司"')
        ws.write_formula("A3", "=A1*0", None, 0)
    path = write(tmp_path / "defaults.xlsx", defaults)
    with zipfile.ZipFile(path) as z:
        assert b'fullCalcOnLoad="1"' in z.read("xl/workbook.xml")
    assert workbook.uncalculated_formulas(path, "名录") == ("A2", '"泰安公式公司"', 2)


# -- dates as Excel numbers them ----------------------------------------------------------------------------------
def test_excel_serial_numbers_of_days():
    """Day 0 is 1899-12-30; 1990-01-01 is 32874, 2100-12-31 is 73415 (the bounds)."""
    assert [workbook.whole_number(t) for t in ("46388", "46388.0", "46388.5", "4.6E4", "", "-1", "x")] == \
        [46388, 46388, None, None, None, None, None]
    assert [workbook.serial_date(n) for n in (46388, 46425, 32874, 73415, 32873, 73416, 12, 20270101)] == \
        [dt.date(2027, 1, 1), dt.date(2027, 2, 7), dt.date(1990, 1, 1), dt.date(2100, 12, 31), None, None, None, None]


# -- the line and byte of a file that does not decode ------------------------------------------------------------
@pytest.mark.parametrize("block", [1 << 20, 7], ids=["one block", "blocks of 7 bytes"])
def test_a_line_that_does_not_decode_is_named_by_its_line_and_byte(tmp_path, monkeypatch, block):
    """A UTF-8 header and row, then a line 3 of bytes that are not UTF-8: the file is UTF-8
    (its Chinese decoded before the bad byte: never retried as GBK), the bad byte is on line
    3, at byte 109 (before it: line 1, 21 Chinese characters of 3 bytes, 3 commas and CRLF:
    68; line 2, 甲公司 and 岱岳区 9 bytes each, the code 18, 3 commas and CRLF: 41); counted
    the same whatever the blocks the file is read in."""
    monkeypatch.setattr(reading, "BLOCK_BYTES", block)
    head = ",".join(HEADER).encode() + b"\r\n" + f"甲公司,{code(1)},岱岳区,\r\n".encode()
    path = tmp_path / "bad.csv"
    path.write_bytes(head + b"\xff\xfe\x80garbage\r\n")
    assert len(head) == 109
    source, retry = reading.open_source(path, "auto")
    assert (source.encoding, retry) == ("utf-8", False)
    with pytest.raises(reading.WrongEncoding) as exc:
        list(source)
    assert (exc.value.line, exc.value.detail) == (3, "cannot decode the byte ff at byte 109 of the file: invalid start byte")
