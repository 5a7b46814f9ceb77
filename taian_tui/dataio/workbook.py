"""Reading an Excel workbook (.xlsx, .xls) for the imports, with python-calamine (no XML of
our own): one sheet's rows as the same stream of numbered records the CSV reader gives
(:func:`reading.records`), so every import's row rules, reports, ``--dry-run`` and
``--strict`` are the CSV path's.

* **Which sheet.** The first visible worksheet, or the one named by ``--sheet``.
* **Numbers.** A row's number is the row as Excel shows it (the header is found as in a CSV
  file: title rows above it are skipped); a rejected value is named by sheet, column and
  row (``企业名录!B17``, :meth:`WorkbookSource.locate`).
* **Cells as text.** Every cell becomes the text a person reads in it: a number that is a
  whole number loses its ``.0`` (a phone ``13805381234.0`` or ``1.3805381234E10`` read
  as a number is ``13805381234``; a postal code, a credit code of digits, a count likewise),
  other numbers their shortest exact form; a date (Excel's serial number with a date
  format) is ``2027-01-01``, a date and time ``2027-01-01 10:00:00``; TRUE/FALSE.
  Control characters, escape sequences and line breaks inside a cell are cleaned as on the
  CSV path (``text.clean_line``); a text cell that a spreadsheet would read as a formula
  gets the CSV path's quote (:func:`reading.neutralise`), which the imports remove again,
  so a cell's text arrives exactly as it is in the workbook.
* **Merged cells.** A value merged down over several rows (a county written once for a
  group of enterprises) stands in each of those rows; a merge across columns (a title
  over the table) is one cell, at its left.
* **Bounds.** A cell longer than ``reading.MAX_FIELD`` characters rejects its row (naming
  the cell); empty rows and columns around the table are ignored. calamine holds the
  sheet's cells in memory while it is read (about 65 MB more than a CSV import for a
  100,000-row registry); the CSV path stays the one with flat memory for million-row files
  (an .xlsx sheet has at most 1,048,576 rows anyway).
* **Two processes.** The registry's check pass splits a large sheet at its middle row
  (:meth:`WorkbookSource.reader` with ``start``/``end``): the forked process inherits the
  sheet already read, and numbers its rows from the split as a CSV file's second part is
  numbered from its first byte.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from taian_tui.domain.text import clean_line
from taian_tui.dataio.reading import CellTooLong, ImportFileError, MAX_FIELD, Record, neutralise

#: What ``reading.encoding_name`` calls each kind (the import's ``encoding`` in its report).
KINDS = {"xlsx": "Excel workbook (.xlsx)", "xls": "Excel 97-2003 workbook (.xls)"}

# a cell holding any of these is cleaned (controls, line breaks, tabs, Unicode separators)
_DIRTY = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# A row's cells are tested at once, joined by a printable separator that is not a formula's
# first character ("|=" inside a cell at worst costs that row the slow path).
_SEP = "|"
_FORMULA_START = frozenset("=+-@'")     # a cell that may need reading.neutralise
_MAY_NEED_QUOTE = re.compile(r"\|[=+\-@']")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (Excel's column names)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_PLAIN_SHEET = re.compile(r"[^\W\d]\w*")


def sheet_ref(name: str) -> str:
    """The sheet's name as a cell reference writes it: quoted when it has anything but
    letters (Chinese too), digits and ``_`` (``'Sheet 1'!A1``)."""
    return name if _PLAIN_SHEET.fullmatch(name) else "'" + name.replace("'", "''") + "'"


def cell_text(value: Any) -> str:
    """A cell's value as the text a person reads in it (see the module's docstring)."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is float:
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if cls is bool:
        return "TRUE" if value else "FALSE"
    if cls is int:
        return str(value)
    if cls is _dt.datetime:
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if cls is _dt.date or cls is _dt.time:
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def _clean(cell: str) -> str:
    return clean_line(cell).replace("\u2028", " ").replace("\u2029", " ")


def _calamine_error(path: Path, exc: BaseException) -> ImportFileError:
    detail = str(exc) or type(exc).__name__
    if type(exc).__name__ == "PasswordError":
        detail = "it is protected by a password: save a copy without one"
    return ImportFileError(f"{path}: cannot be read as an Excel workbook ({detail}); nothing imported")


class WorkbookSource:
    """One sheet of a workbook, for :func:`reading.records` (``records()``) and for the
    registry's check pass (``reader()``: rows of cells with ``line_num``, as ``csv.reader``).
    Raises ImportFileError when the workbook or the sheet cannot be read."""

    row_word = "row"                    # what a record's number is called in messages

    def __init__(self, path: str | os.PathLike, kind: str, sheet: str | None = None) -> None:
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        self.path = Path(path)
        self.kind = kind
        self.encoding = kind            # (the import result's ``encoding``: xlsx or xls)
        self.delimiter = ","
        self.size = self.path.stat().st_size
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            names = list(book.sheet_names)
            if sheet is None:
                visible = [m.name for m in book.sheets_metadata
                           if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible]
                if not visible:
                    raise ImportFileError(f"{self.path}: the workbook has no visible worksheet; nothing imported")
                sheet = visible[0]
            elif sheet not in names:
                raise ImportFileError(f"{self.path}: no sheet named {sheet!r} (the sheets are: "
                                      f"{', '.join(names) or 'none'}); nothing imported")
            self._sheet = book.get_sheet_by_name(sheet)
            self._merges = self._sheet.merged_cell_ranges or []
            start, end = self._sheet.start, self._sheet.end
        except ImportFileError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:    # calamine's errors, and a panic of its Rust code
            raise _calamine_error(self.path, exc) from None
        self.sheet = sheet
        self.first_col = start[1] if start else 0
        self.total_rows = end[0] + 1 if end else 0
        self.rows_read = 0

    # -- where a value is --------------------------------------------------------------------
    def cell(self, line: int, index: int | None) -> str:
        """``企业名录!B17`` (``index``: the cell's place in the row), or the row
        ``企业名录!17:17`` when no column is named."""
        if index is None or index < 0:
            return f"{sheet_ref(self.sheet)}!{line}:{line}"
        return f"{sheet_ref(self.sheet)}!{column_letter(self.first_col + index)}{line}"

    def locate(self, header: Sequence[str]) -> Callable[[int, str], str]:
        """(line, column as the header writes it) -> the cell; a row-level rejection (no
        column, or a column the file does not have) names the row."""
        place: dict[str, int] = {}
        for i, name in enumerate(header):
            place.setdefault(clean_line(name).lstrip("\ufeff").strip(), i)
        return lambda line, column: self.cell(line, place.get(column) if column else None)

    # -- rows ----------------------------------------------------------------------------------
    def _rows(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, list[str], CellTooLong | None]]:
        """(row number, cells as text, a cell too long or None) of the rows ``start`` to
        ``end`` (excluded; None: the last), every one (calamine yields the empty rows above the
        table too). Numbered as Excel shows them, or from 1 when ``start`` is not the first
        (a part of the sheet checked by another process: its numbers are offset by the
        rows before it, as a CSV file's second part is by its lines)."""
        fills = _MergeFills(self._merges, self.first_col)
        offset = start - 1
        try:
            for line, row in enumerate(self._sheet.iter_rows(), start=1):
                self.rows_read = line
                if line < start:                    # before the part: only merges going into it
                    if fills.active or fills.starting(line):
                        fills.apply(line, [cell_text(v) for v in row])
                    continue
                if end is not None and line >= end:
                    return
                cells = [v if v.__class__ is str else cell_text(v) for v in row]
                joined = _SEP.join(cells)
                if len(joined) < len(cells) or not cells:       # every cell empty
                    if fills.active:
                        fills.apply(line, cells)
                    yield line - offset, cells, None
                    continue
                if not joined.isprintable() and _DIRTY.search(joined):     # (isprintable: C, fast)
                    cells = [_clean(c) if _DIRTY.search(c) else c for c in cells]
                if len(joined) > MAX_FIELD:
                    long = [i for i, c in enumerate(cells) if len(c) > MAX_FIELD]
                    if long:
                        yield line - offset, [], CellTooLong(line, self.cell(line, long[0]))
                        continue
                if cells[0][:1] in _FORMULA_START or _MAY_NEED_QUOTE.search(joined):
                    cells = [neutralise(c) if c and c[0] in _FORMULA_START else c for c in cells]
                if fills.active or fills.starting(line):
                    fills.apply(line, cells)
                yield line - offset, cells, None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if isinstance(exc, (ImportFileError, GeneratorExit)):
                raise
            raise _calamine_error(self.path, exc) from None

    def records(self) -> Iterator[Record]:
        """The rows as :class:`reading.Record` (a cell too long: the record's ``error``)."""
        for line, cells, problem in self._rows():
            yield Record(line, cells, str(problem) if problem else None, line)

    def reader(self, start: int = 1, end: int | None = None) -> "_RowReader":
        """The rows ``start`` to ``end`` (see :meth:`_rows`) as ``csv.reader`` gives them
        (lists of cells, ``line_num``; a cell too long raises :class:`reading.CellTooLong`
        in place of its row)."""
        return _RowReader(self._rows(start, end))


class _RowReader:
    """A ``csv.reader`` look-alike over a workbook's rows (a class, not a generator: it goes
    on after raising for a row)."""

    __slots__ = ("_rows", "line_num")

    def __init__(self, rows: Iterator[tuple[int, list[str], CellTooLong | None]]) -> None:
        self._rows = rows
        self.line_num = 0

    def __iter__(self) -> "_RowReader":
        return self

    def __next__(self) -> list[str]:
        line, cells, problem = next(self._rows)
        self.line_num = line
        if problem is not None:
            raise problem
        return cells


class _MergeFills:
    """Values merged down over several rows, copied into each row of the merge (a merge
    over one row only, such as a title across the table, is left as it is)."""

    def __init__(self, merges: list, first_col: int) -> None:
        self._by_top: dict[int, list[tuple[int, int]]] = {}
        for (r0, c0), (r1, _c1) in merges:
            if r1 > r0 and c0 >= first_col:
                self._by_top.setdefault(r0 + 1, []).append((c0 - first_col, r1 + 1))
        self.active: list[list] = []         # [column index, last row, value]

    def starting(self, line: int) -> bool:
        return line in self._by_top

    def apply(self, line: int, cells: list[str]) -> None:
        if self.active:
            self.active = [a for a in self.active if a[1] >= line]
            for i, _last, value in self.active:
                if i < len(cells) and not cells[i]:
                    cells[i] = value
        for i, last in self._by_top.pop(line, ()):
            if i < len(cells) and cells[i]:
                self.active.append([i, last, cells[i]])
