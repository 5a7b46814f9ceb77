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
  over the table) is one cell, at its left. A row holding a merge across columns comes as a
  :class:`GroupedRow`, which can tell the row under it: a header of two rows (「联系方式」
  merged over 联系人 | 联系电话, the other names merged down over both rows or written on
  one) is read as one by ``reading.find_header`` without reading a data row for it.
* **Formulas.** calamine reads a formula's result as the file stores it. A file written by a
  program (openpyxl, a web system's export) and never opened in Excel may hold formulas
  without results, which calamine reads as empty cells: such a sheet is refused, naming the
  first cell and how many there are, and saying to open and save it in Excel (or type the
  values) — :func:`uncalculated_formulas`, searched in a thread while the sheet is read.
* **Dates as numbers.** A date cell that lost its format ("General") reads as Excel's day
  number (46388); :func:`whole_number` and :func:`serial_date` turn it into the day
  (2027-01-01) for a date column (``taian calendar import``), within ``SERIAL_YEARS``.
* **Numbers Excel cut.** Excel keeps 15 significant digits of a number: an 18-digit credit
  code typed as a number (913709001234500006) is stored as 9.13709001234500E+17. A number
  of 2**53 or more (its last digits lost) is never turned into a plausible integer text
  (``913709001234499968``): it rejects its row, naming the cell ("the number
  9.13709001234500E+17 has more than 15 digits: Excel kept only 15 …").
* **Bounds.** A cell longer than ``reading.MAX_FIELD`` characters rejects its row (naming
  the cell); empty rows and columns around the table are ignored.
* **A stray cell far from the table.** calamine holds a sheet as a dense grid from its
  first to its last cell (32 bytes a cell): one value left at XFD1048576 asks for 512 GB,
  and Rust aborts the process (an abort cannot be caught). So the workbook is never read in
  this process: a forked process (:func:`_read_sheet`, its address space bounded to
  ``READ_MEMORY`` more than it started with, ``RLIMIT_AS``) opens it, chooses the sheet,
  loads it, refuses a sheet whose cells span more than ``MAX_CELLS`` cells (naming the
  span: "its cells span A1:XFD1048576 — 17,179,869,184 cells, more than the limit of
  10,000,000"), and sends its rows back through a pipe, ``CHUNK_ROWS`` at a time
  (marshalled; pickled when they hold dates). This process keeps those chunks (bytes: less
  than calamine's grid, some 20 MB for a 100,000-row registry) and loads each as it reads.
  A reading process that dies (the grid beyond its memory: Rust's abort) refuses the file:
  named by the span the sheet declares (``<dimension ref>`` of an .xlsx sheet, read with
  zipfile and ElementTree: :func:`declared_span`) when that is beyond the limit, else as
  too large to read. Nothing is written in either case. (The cost, measured with
  ``benchmarks/import_xlsx.py``: 0.5-0.7 s more for a 100,000-row registry, its rows made
  Python objects and sent by one process before the check; 45 MB less in this one.)
* **Two processes.** The registry's check pass splits a large sheet at its middle row
  (:meth:`WorkbookSource.reader` with ``start``/``end``): the forked process inherits the
  chunks already received, loads only its own half (and the rows where a value merged
  down across the split starts), and numbers its rows from the split as a CSV file's second
  part is numbered from its first byte.
"""
from __future__ import annotations

import datetime as _dt
import marshal
import os
import pickle
import posixpath
import re
import struct
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from taian_tui.domain.text import clean_line
from taian_tui.dataio.reading import BadCell, CellTooLong, ImportFileError, MAX_FIELD, Record, neutralise

#: What ``reading.encoding_name`` calls each kind (the import's ``encoding`` in its report).
KINDS = {"xlsx": "Excel workbook (.xlsx)", "xls": "Excel 97-2003 workbook (.xls)"}

#: The most cells a sheet's grid may span (its first to its last cell, empty ones too): a
#: 100,000-row registry spans 800,000; a sheet of 1,048,576 rows, 9 columns. calamine holds
#: the grid at 32 bytes a cell: 320 MB at the limit, in the reading process only.
MAX_CELLS = 10_000_000

#: How much more address space the reading process may take than it started with
#: (``RLIMIT_AS``): a grid at the limit, the cells as read, their texts.
READ_MEMORY = 1 << 30

#: Rows sent back by the reading process in one chunk.
CHUNK_ROWS = 1000

# 2**53: from here on a float cannot hold every whole number (Excel's number lost digits)
_EXACT = float(2 ** 53)

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


class LostDigits(ValueError):
    """A number whose last digits Excel did not keep (2**53 or more)."""

    def __init__(self, value: float) -> None:
        super().__init__(f"the number {value:.14E} has more than 15 digits: Excel kept only 15 "
                         "(format the column as text and type the code again)")


def cell_text(value: Any) -> str:
    """A cell's value as the text a person reads in it (see the module's docstring).
    Raises :class:`LostDigits` for a number of 2**53 or more: its digits are not all there."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is float:
        if value.is_integer():
            if -_EXACT < value < _EXACT:
                return str(int(value))
            raise LostDigits(value)
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


#: Excel's day 0: its serial numbers count days from 1899-12-30 (1900's false leap day
#: makes every date from March 1900 on one day later than a count from 1900-01-01).
EXCEL_EPOCH = _dt.date(1899, 12, 30)

#: The years a whole number in a date column is read in as Excel's serial number of a day.
SERIAL_YEARS = (1990, 2100)

_WHOLE = re.compile(r"[0-9]{1,9}(?:\.0+)?")


def whole_number(text: str) -> int | None:
    """``46023`` or ``46023.0`` (how a number cell reads: :func:`cell_text`) -> 46023; None
    for any other text."""
    return int(float(text)) if _WHOLE.fullmatch(text) else None


def serial_date(n: int) -> _dt.date | None:
    """The day Excel numbers ``n`` (46023 -> 2026-01-01: a date cell whose format was lost,
    "General"), or None when that is not a day of ``SERIAL_YEARS`` (12, 20270101)."""
    first, last = SERIAL_YEARS
    if not (_dt.date(first, 1, 1) - EXCEL_EPOCH).days <= n <= (_dt.date(last, 12, 31) - EXCEL_EPOCH).days:
        return None
    return EXCEL_EPOCH + _dt.timedelta(days=n)


def _any_text(value: Any) -> str:
    """:func:`cell_text`, a number that lost digits as Excel shows it (a row before a part
    of the sheet: only a merged value is taken from it)."""
    try:
        return cell_text(value)
    except LostDigits:
        return f"{value:.14E}"


def _lost_digits(row: list) -> int:
    """The index of the first number in ``row`` that lost digits."""
    return next(i for i, v in enumerate(row) if v.__class__ is float and not -_EXACT < v < _EXACT)


def _clean(cell: str) -> str:
    return clean_line(cell).replace("\u2028", " ").replace("\u2029", " ")


def _calamine_message(path: Path, exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    if type(exc).__name__ == "PasswordError":
        detail = "it is protected by a password: save a copy without one"
    return f"{path}: cannot be read as an Excel workbook ({detail}); nothing imported"


def _span(start: tuple[int, int], end: tuple[int, int]) -> tuple[str, int]:
    """(``A1:XFD1048576``, the cells of the grid) from calamine's 0-based corners."""
    cells = (end[0] - start[0] + 1) * (end[1] - start[1] + 1)
    return f"{column_letter(start[1])}{start[0] + 1}:{column_letter(end[1])}{end[0] + 1}", cells


def _too_many_cells(path: Path, sheet: str, span: str, cells: int) -> str:
    return (f"{path}: sheet {sheet_ref(sheet)}: its cells span {span} — {cells:,} cells, more than the "
            f"limit of {MAX_CELLS:,}; delete the stray cells far from the table or save the table alone; "
            "nothing imported")


# -- reading the sheet in a process of its own ----------------------------------------------------
_FRAME = struct.Struct("!cQ")       # a frame of the reading process: tag, length of the payload
_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})\Z")


def _cell_position(ref: str) -> tuple[int, int]:
    """``B17`` -> (16, 1), 0-based (row, column). ValueError when it is not a cell."""
    m = _CELL_REF.match(ref.strip().upper())
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_part(z, sheet: str) -> str | None:
    """The name of the part of the open .xlsx zip ``z`` that holds ``sheet`` (from the
    workbook part and its relationships, small, read with ElementTree); None when the file
    does not say. Raises what zipfile and ElementTree raise on a damaged file."""
    import xml.etree.ElementTree as ET

    def small(name: str):
        if z.getinfo(name).file_size > 1 << 24:
            raise ValueError(name)
        return ET.fromstring(z.read(name))

    def target(rels_of: str, pick) -> str | None:
        folder, base = posixpath.split(rels_of)
        for rel in small(posixpath.join(folder, "_rels", base + ".rels")):
            if pick(rel):
                where = rel.get("Target") or ""
                if where.startswith("/"):
                    return where.lstrip("/")
                return posixpath.normpath(posixpath.join(folder, where))
        return None

    book = target("", lambda rel: (rel.get("Type") or "").endswith("/officeDocument")) or "xl/workbook.xml"
    rid = None
    for node in small(book).iter():
        if _local(node.tag) == "sheet" and node.get("name") == sheet:
            rid = next((v for k, v in node.attrib.items() if _local(k) == "id"), None)
            break
    return target(book, lambda rel: rel.get("Id") == rid) if rid else None


def declared_span(path: str | os.PathLike, sheet: str) -> tuple[str, int] | None:
    """The span an .xlsx sheet declares for its cells (``<dimension ref>``: optional, and
    not to be trusted, but what Excel writes), with its cell count; None when there is none
    or the file cannot tell. Reads the workbook part and its relationships (small) with
    ElementTree, and of the sheet only its beginning, up to ``<sheetData>``."""
    import xml.etree.ElementTree as ET
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            part = _sheet_part(z, sheet)
            if not part:
                return None
            with z.open(part) as fh:
                for _event, node in ET.iterparse(fh, events=("start",)):
                    name = _local(node.tag)
                    if name == "dimension":
                        first, _, last = (node.get("ref") or "").partition(":")
                        start = _cell_position(first)
                        return _span(start, _cell_position(last) if last else start)
                    if name == "sheetData":
                        return None
    except (OSError, KeyError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile, ET.ParseError):
        return None
    return None


# a formula element (``<f>``, ``<x:f …/>``) anywhere in a block of a sheet's XML
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
# a workbook's calculation properties asking a spreadsheet to calculate every formula on opening
_CALC_ON_LOAD = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?calcPr\b[^>]*\bfullCalcOnLoad=\"(?:1|true)\"")


def uncalculated_formulas(path: str | os.PathLike, sheet: str) -> tuple[str, str, int] | None:
    """(the first cell, its formula, how many cells) of the formulas of an .xlsx sheet that
    hold no value, or None. A program that writes a workbook (openpyxl, a web system's
    export) may write a formula without its result, which only a spreadsheet calculates when
    it opens and saves the file; calamine reads such a cell as empty. A formula whose result
    is the empty text (``t="str"``, an empty ``<v>``) holds a value. In a workbook that asks
    to be calculated when opened (``<calcPr fullCalcOnLoad="1"/>``), a result of 0 is what
    xlsxwriter writes for a formula given no result: no value either (a registry's cells are
    never a computed 0; a program that gave its results wrote them). The sheet's XML is
    first searched for any formula, block by block (fast: most registries have none); only a
    sheet with formulas is parsed (ElementTree, a cell at a time)."""
    import xml.etree.ElementTree as ET
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            part = _sheet_part(z, sheet)
            if not part:
                return None
            with z.open(part) as fh:
                tail = b""
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        return None
                    probe = tail + block
                    if (b"<f" in probe or b":f" in probe) and _FORMULA_TAG.search(probe):
                        break
                    tail = block[-64:]
            first: tuple[str, str] | None = None
            count = 0
            try:
                book = z.read("xl/workbook.xml")
            except KeyError:
                book = b""
            stale = bool(_CALC_ON_LOAD.search(book))
            with z.open(part) as fh:
                for _event, node in ET.iterparse(fh, events=("end",)):
                    name = _local(node.tag)
                    if name == "c":
                        formula = value = None
                        for child in node:
                            tag = _local(child.tag)
                            if tag == "f":
                                formula = child
                            elif tag == "v":
                                value = child
                        if formula is not None and (value is None or (
                                not value.text and node.get("t") not in ("str", "inlineStr")) or (
                                stale and value.text == "0" and node.get("t") in (None, "n"))):
                            count += 1
                            if first is None:
                                first = (node.get("r") or "", formula.text or "")
                        node.clear()
                    elif name == "row":
                        node.clear()
    except (OSError, KeyError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile, ET.ParseError):
        return None                     # (calamine says what is wrong with the file)
    return (*first, count) if first else None


def _uncalculated_message(path: Path, sheet: str, found: tuple[str, str, int]) -> str:
    ref, formula, count = found
    shown = _clean(formula)
    shown = f" (={shown if len(shown) <= 60 else shown[:60] + '…'})" if shown else ""
    more = f" (and {count - 1:,} more cells like it)" if count > 1 else ""
    return (f"{path}: the cell {sheet_ref(sheet)}!{ref} holds a formula{shown} with no value{more}: the file "
            "was written by a program and never opened in Excel, which calculates the values; open it in "
            "Excel (or WPS) and save it, or type the values in place of the formulas; nothing imported")


def _limit_memory(extra: int) -> None:
    """Bound this process's address space to ``extra`` bytes more than it has now."""
    import resource

    try:
        with open("/proc/self/status", "rb") as fh:
            size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith(b"VmSize:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return                                      # (no /proc: left unbounded)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _read_sheet(path: Path, kind: str, sheet: str | None) -> Iterator[tuple[bytes, bytes]]:
    """The work of the reading process, as frames (tag, payload): for an .xlsx, ``N`` the
    sheet's name (before it is loaded) and ``S`` the span it declares (pickled, or None);
    then ``M`` the sheet's name, corners, merges and rows a chunk (pickled), ``R`` its rows
    (``CHUNK_ROWS`` rows as calamine gives them, from row 1 and from the sheet's first
    column: :func:`_dumps`), ``D`` done; or ``E`` a message for ImportFileError. The sheet's
    grid is checked against ``MAX_CELLS`` before any row is converted."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        if sheet is None:
            visible = [m.name for m in book.sheets_metadata
                       if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible]
            if not visible:
                yield b"E", f"{path}: the workbook has no visible worksheet; nothing imported".encode()
                return
            sheet = visible[0]
        elif sheet not in names:
            yield b"E", (f"{path}: no sheet named {sheet!r} (the sheets are: "
                         f"{', '.join(names) or 'none'}); nothing imported").encode()
            return
        if kind == "xlsx":               # (an .xls: calamine holds every sheet: the workbook is named)
            yield b"N", sheet.encode("utf-8", "surrogatepass")
            yield b"S", pickle.dumps(declared_span(path, sheet))
        data = book.get_sheet_by_name(sheet)       # the grid: here is where memory runs out
        merges = data.merged_cell_ranges or []
        start, end = data.start, data.end
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:        # calamine's errors, and a panic of its Rust code
        yield b"E", _calamine_message(path, exc).encode("utf-8", "surrogatepass")
        return
    if start and end:
        span, cells = _span(start, end)
        if cells > MAX_CELLS:
            yield b"E", _too_many_cells(path, sheet, span, cells).encode("utf-8", "surrogatepass")
            return
    chunk_rows = CHUNK_ROWS
    yield b"M", pickle.dumps((sheet, start, end, merges, chunk_rows))
    rows: list = []
    try:
        for row in data.iter_rows():
            rows.append(row)
            if len(rows) == chunk_rows:
                yield b"R", _dumps(rows)
                rows = []
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        yield b"E", _calamine_message(path, exc).encode("utf-8", "surrogatepass")
        return
    if rows:
        yield b"R", _dumps(rows)
    yield b"D", b""


def _dumps(rows: list) -> bytes:
    """A chunk of rows as bytes: ``m`` and marshal (texts, numbers, booleans: twice as fast
    as pickle), or ``p`` and pickle when a row holds a date."""
    try:
        return b"m" + marshal.dumps(rows)
    except ValueError:
        return b"p" + pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


def _loads(chunk: bytes) -> list:
    return marshal.loads(memoryview(chunk)[1:]) if chunk[:1] == b"m" else pickle.loads(memoryview(chunk)[1:])


def _reading_process(path: Path, kind: str, sheet: str | None, fd: int) -> None:
    """In the forked process: its address space bounded, :func:`_read_sheet`'s frames
    written to ``fd``; never returns (``os._exit``: nothing of the parent's is flushed or
    closed). Rust's message when memory runs out goes nowhere (the parent says it)."""
    code = 1
    try:
        import faulthandler

        faulthandler.disable()          # (its own copy of stderr: no traceback of the abort)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        _limit_memory(READ_MEMORY)
        with open(fd, "wb", buffering=1 << 16) as out:
            for tag, payload in _read_sheet(path, kind, sheet):
                out.write(_FRAME.pack(tag, len(payload)))
                out.write(payload)
                if tag != b"R":
                    out.flush()             # (before the sheet is loaded: the parent has it)
        code = 0
    finally:
        os._exit(code)


def _load(path: Path, kind: str, sheet: str | None) -> tuple[str, Any, Any, list, int, list[bytes]]:
    """(sheet, first cell, last cell, merges, rows a chunk, chunks of rows) of the workbook at
    ``path``, read by a forked process of bounded memory (see the module's docstring);
    ImportFileError when it cannot be read, is too large, or the process died."""
    frames = _frames_of_a_process(path, kind, sheet) if hasattr(os, "fork") \
        else _read_sheet(path, kind, sheet)        # (no fork: read here, unbounded)
    name, declared, meta, chunks, received, complete = None, None, None, [], 0, False
    formulas: _Search | None = None
    try:
        for tag, payload in frames:
            if tag == b"R":
                chunks.append(payload)
                received += len(payload)
                if received > READ_MEMORY:          # (the grid held less: cannot happen)
                    break
            elif tag == b"M":
                meta = pickle.loads(payload)
            elif tag == b"N":
                name = payload.decode("utf-8", "surrogatepass")
                formulas = _Search(uncalculated_formulas, path, name)  # (while the sheet is read)
            elif tag == b"S":
                declared = pickle.loads(payload)
            elif tag == b"E":
                raise ImportFileError(payload.decode("utf-8", "surrogatepass"))
            elif tag == b"D":
                complete = meta is not None
    finally:
        frames.close()                  # (the process reaped; killed first if not done)
        found = formulas.result() if formulas is not None else None
    if not complete:
        raise ImportFileError(_too_large(path, name, declared))
    if found is not None:
        raise ImportFileError(_uncalculated_message(path, name, found))
    return (*meta, chunks)


class _Search:
    """``fn(*args)`` run in a thread of this process (its time mostly spent inflating the
    zip, which lets the reading go on); :meth:`result` waits for it."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:        # (re-raised by result(), on the caller's thread)
                self._error = exc
        self._thread = threading.Thread(target=run, name="taian-formulas", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _too_large(path: Path, sheet: str | None, declared: tuple[str, int] | None) -> str:
    """What is said of a workbook whose reading process died (its memory ran out)."""
    if sheet is not None and declared is not None and declared[1] > MAX_CELLS:
        return _too_many_cells(path, sheet, *declared)
    what = f"sheet {sheet_ref(sheet)}" if sheet is not None else "the workbook"
    return (f"{path}: {what} is too large to read within {READ_MEMORY >> 20:,} MB (cells spread over more "
            f"than {MAX_CELLS:,}, or too much text); delete the stray cells far from the table or save "
            "the table alone; nothing imported")


def _frames_of_a_process(path: Path, kind: str, sheet: str | None) -> Iterator[tuple[bytes, bytes]]:
    """The frames of :func:`_read_sheet` run in a forked process (:func:`_reading_process`),
    until it ends; a process that is killed or dies mid-frame just ends them. The process is
    killed if this generator is closed before (an error, an interrupt) and always reaped."""
    import importlib
    import signal

    importlib.import_module("python_calamine")      # loaded once here, not in each process

    read, write = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read)
        os.close(write)
        raise
    if pid == 0:                                # pragma: no cover - the reading process
        try:
            os.close(read)
            _reading_process(path, kind, sheet, write)
        finally:
            os._exit(1)
    os.close(write)
    done = False
    try:
        with open(read, "rb") as fh:
            while True:
                head = fh.read(_FRAME.size)
                if len(head) < _FRAME.size:
                    break
                tag, size = _FRAME.unpack(head)
                payload = fh.read(size)
                if len(payload) < size:
                    break
                yield tag, payload
        done = True
    finally:
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os.waitpid(pid, 0)


class WorkbookSource:
    """One sheet of a workbook, for :func:`reading.records` (``records()``) and for the
    registry's check pass (``reader()``: rows of cells with ``line_num``, as ``csv.reader``).
    Raises ImportFileError when the workbook or the sheet cannot be read."""

    row_word = "row"                    # what a record's number is called in messages

    def __init__(self, path: str | os.PathLike, kind: str, sheet: str | None = None) -> None:
        self.path = Path(path)
        self.kind = kind
        self.encoding = kind            # (the import result's ``encoding``: xlsx or xls)
        self.delimiter = ","
        self.size = self.path.stat().st_size
        self.sheet, start, end, self._merges, self._chunk_rows, self._chunks = _load(self.path, kind, sheet)
        self.first_col = start[1] if start else 0
        self.total_rows = end[0] + 1 if end else 0
        self.rows_read = 0
        # rows with a merge across columns within the row (a title, a group of a two-row
        # header: 「联系方式」 over 联系人 | 联系电话): their rows say what is below them
        self._grouped = {r0 + 1 for (r0, c0), (r1, c1) in self._merges if r0 == r1 and c1 > c0}

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
    def _rows(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, list[str], BadCell | None]]:
        """(row number, cells as text, a :class:`reading.BadCell` or None) of the rows ``start`` to
        ``end`` (excluded; None: the last), every one (calamine yields the empty rows above the
        table too). Numbered as Excel shows them, or from 1 when ``start`` is not the first
        (a part of the sheet checked by another process: its numbers are offset by the
        rows before it, as a CSV file's second part is by its lines)."""
        fills = _MergeFills(self._merges, self.first_col)
        offset = start - 1
        needed = fills.tops_reaching(start)     # rows before the part a merged value starts in
        for line, row in self._raw_rows(start, needed):
            self.rows_read = line
            if line < start:                    # before the part: only merges going into it
                if fills.active or fills.starting(line):
                    fills.apply(line, [_any_text(v) for v in row])
                continue
            if end is not None and line >= end:
                return
            try:
                cells = [v if v.__class__ is str else cell_text(v) for v in row]
            except LostDigits as exc:
                yield line - offset, [], BadCell(line, self.cell(line, _lost_digits(row)), str(exc))
                continue
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
            if line in self._grouped:
                cells = GroupedRow(cells, self._row_below(line))
            yield line - offset, cells, None

    def _row_below(self, line: int) -> Callable[[], list[str]]:
        """What :attr:`GroupedRow.below` gives for the row ``line``: the cells of the row
        under it as text, as written (no merged value copied into it), read when asked."""
        def below() -> list[str]:
            k, i = divmod(line, self._chunk_rows)         # (row line + 1, 0-based: line)
            rows = _loads(self._chunks[k]) if k < len(self._chunks) else []
            return [_clean(_any_text(v)) for v in rows[i]] if i < len(rows) else []
        return below

    def _raw_rows(self, start: int, needed: set[int]) -> Iterator[tuple[int, list]]:
        """(row number, cells as calamine gave them), loaded a chunk at a time; a chunk
        wholly before ``start`` is skipped (its rows counted read) unless it holds a row of
        ``needed``."""
        size = self._chunk_rows
        for k, chunk in enumerate(self._chunks):
            first = k * size + 1
            if first + size <= start and not any(first <= n < first + size for n in needed):
                self.rows_read = first + size - 1
                continue
            yield from enumerate(_loads(chunk), start=first)

    def records(self) -> Iterator[Record]:
        """The rows as :class:`reading.Record` (a cell too long: the record's ``error``)."""
        for line, cells, problem in self._rows():
            yield Record(line, cells, str(problem) if problem else None, line)

    def reader(self, start: int = 1, end: int | None = None) -> "_RowReader":
        """The rows ``start`` to ``end`` (see :meth:`_rows`) as ``csv.reader`` gives them
        (lists of cells, ``line_num``; a cell too long, or a number that lost digits, raises
        :class:`reading.BadCell` in place of its row)."""
        return _RowReader(self._rows(start, end))


class GroupedRow(list):
    """The cells of a row that holds a merge across columns (a title over the table, or the
    group of a two-row header: 「联系方式」 merged over the 联系人 and 联系电话 under it), with
    ``below()``: the cells of the row under it as written. ``reading.find_header`` asks it
    when this row could be the header: when the row under it holds the column names under
    the group, the two rows are the header (the lower names the columns), and the data
    starts below them."""

    __slots__ = ("below",)

    def __init__(self, cells: list[str], below: Callable[[], list[str]]) -> None:
        super().__init__(cells)
        self.below = below


class _RowReader:
    """A ``csv.reader`` look-alike over a workbook's rows (a class, not a generator: it goes
    on after raising for a row)."""

    __slots__ = ("_rows", "line_num")

    def __init__(self, rows: Iterator[tuple[int, list[str], BadCell | None]]) -> None:
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

    def tops_reaching(self, line: int) -> set[int]:
        """The rows before ``line`` where a value merged down into ``line`` or beyond starts."""
        return {top for top, spans in self._by_top.items()
                if top < line and any(last >= line for _i, last in spans)}

    def apply(self, line: int, cells: list[str]) -> None:
        if self.active:
            self.active = [a for a in self.active if a[1] >= line]
            for i, _last, value in self.active:
                if i < len(cells) and not cells[i]:
                    cells[i] = value
        for i, last in self._by_top.pop(line, ()):
            if i < len(cells) and cells[i]:
                self.active.append([i, last, cells[i]])
