"""Reading Excel workbooks for the imports (``dataio.workbook``): cells as the text a person
reads, rows numbered as Excel shows them, the first visible sheet, merged cells, bounds, and
the registry's two-process check on a workbook's rows (the same result as one process).
The workbooks are written here with xlsxwriter."""
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
