"""Reading the files offices send, shared by every import: encodings (UTF-8, UTF-8 with
BOM, GBK/GB18030, UTF-16 with or without BOM, sniffed), the delimiter (comma, or tab when
the header line is tab-separated: Excel's "Unicode text" is UTF-16LE with tabs), physical
lines cleaned of control characters and escapes, CSV records with their line numbers,
headers mapped from Chinese or English names, the spreadsheet formula neutralising of
exports and its undoing on import, progress, results and the report of rejected rows. No
textual here.

Bounds: a physical line holds at most ``MAX_LINE`` characters and a cell ``MAX_FIELD``.
A longer line is never held whole: it is dropped as it is read (blocks of
``BLOCK_BYTES``) and the line source raises :class:`LineTooLong` in its place (a
``csv.Error``, so every reader rejects it with its line number like a malformed record),
then goes on with the next line. A longer cell is refused by the csv module (its field
limit is ``MAX_FIELD`` while a file is read: :func:`bounded_cells`). So a 100 MB line costs
a few MB of memory, not hundreds.

A workbook (.xlsx, .xls), recognised by its first bytes whatever its name, is read by
:mod:`taian_tui.dataio.workbook` as the same stream of numbered records (the number is the
row as Excel shows it), so that every import's row rules are the CSV path's. The header is
found the same way in both (:func:`find_header`): the first row, among the first
``HEADER_ROWS`` non-blank ones, that names every required column; rows above it (a title
such as 「泰安市重点企业名录（2026年）」) are skipped. A header of two rows (names grouped under
a merged cell: 「联系方式」 over 联系人 | 联系电话) is read as one, the data below its lower row.

A file that does not decode is named by the line the bad bytes are on and their offset in
the file (:class:`WrongEncoding`); a file whose first megabyte holds text beyond ASCII that
decodes as UTF-8 is UTF-8 (:func:`_sniff`): a bad byte further on is damage, reported where
it is, not a reason to read the file as GBK.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import hashlib
import io
import os
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO


from taian_tui.domain import rules
from taian_tui.store import Store, private_output
from taian_tui.domain.refusals import DomainError
from taian_tui.domain.text import clean_line, strip_escapes
from taian_tui.domain.actors import actor as _actor


IMPORT_ACTOR = "system:import"


PROGRESS_MIN_BYTES = 1 << 20


SAMPLE_BYTES = 1 << 20     # bytes sniffed to choose the encoding


BLOCK_BYTES = 1 << 20


MAX_LINE = 1 << 20         # characters one physical line may hold (a registry line has < 2,000)


MAX_FIELD = 1 << 16        # characters one cell may hold (the longest column takes 500)


HEAD_BYTES = 1 << 16       # bytes read to find the header line (and its delimiter)


MAX_SHOWN = 20             # rejections echoed when there is no --report


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (unreadable, bad header): nothing written."""


# -- spreadsheet formula neutralising ----------------------------------------------------------
#: What a spreadsheet runs as a formula when a cell begins with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(value: str) -> str:
    """A cell that a spreadsheet would run as a formula gets a leading ``'``. Values that
    already begin with quotes before such a character get one more, so that
    :func:`unneutralise` is its exact inverse."""
    if value and (value.startswith(FORMULA_START) or _NEUTRALISED.match(value)):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Remove exactly the quote :func:`neutralise` added (nothing else)."""
    if value and value[0] == "'" and _NEUTRALISED.match(value):
        return value[1:]
    return value


# -- reading: encodings, physical lines, CSV ------------------------------------------------------
# Characters removed (or made spaces) on every line before CSV parsing: C0/C1 controls but
# tab, LF and CR (the text.clean definition), ANSI escape sequences, Unicode line separators.
_DIRTY = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


_LINE_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


# The same test on UTF-8 bytes, some five times faster than the regular expression on the
# text: C0 controls and DEL are single bytes; C1 controls (U+0080-U+009F) begin with \xc2
# (as do a few printable characters: a false alarm only costs the slow path);
# U+2028/U+2029 are \xe2\x80\xa8/\xa9.
_CLEAN_BYTES = bytes(b for b in range(256) if b in (9, 10, 13) or 0x20 <= b < 0x7f or b >= 0x80)


_SEPARATORS_UTF8 = re.compile(rb"\xe2\x80[\xa8\xa9]")


def _dirty_utf8(block: bytes, before: bytes) -> bool:
    """Whether the text decoded from ``block`` may hold a character that _DIRTY matches
    (``before``: the last two bytes of the previous block, for a character across the
    edge)."""
    if block.translate(None, _CLEAN_BYTES):
        return True
    edge = before + block[:2]
    if b"\xc2" in block or b"\xc2" in edge:
        return True
    return (b"\xe2" in block or b"\xe2" in edge) and bool(
        _SEPARATORS_UTF8.search(block) or _SEPARATORS_UTF8.search(edge))


def _clean_physical_line(line: str) -> str:
    line = strip_escapes(line)
    line = _LINE_CONTROLS.sub("", line)
    return line.replace("\u2028", " ").replace("\u2029", " ")


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the sample looks like UTF-16 without a BOM: NUL
    bytes, the high halves of ASCII characters (digits, delimiters, line ends), on one side
    of the byte pairs and (nearly) not on the other. Text in UTF-8 or GB18030 has no NULs."""
    head = sample[:4096]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0:pairs * 2:2].count(0), head[1:pairs * 2:2].count(0)
    if odd >= max(2, pairs // 10) and odd >= 4 * even:
        return "utf-16-le"
    if even >= max(2, pairs // 10) and even >= 4 * odd:
        return "utf-16-be"
    return None


def sniff_encoding(sample: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-16`` (BOM), ``utf-16-le``/``utf-16-be`` (no BOM, but the
    NULs of UTF-16), ``utf-8`` when the sample decodes, else ``gb18030`` (a superset of GBK
    and GB2312)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


#: Characters beyond ASCII that, decoded as UTF-8 before a byte that is not, make the file
#: UTF-8 with a bad spot rather than GBK (GBK text almost never decodes as UTF-8 at all).
UTF8_EVIDENCE = 4


def _sniff(sample: bytes) -> tuple[str, bool]:
    """(the encoding of a file whose first bytes are ``sample``, whether GB18030 may be
    tried when UTF-8 fails further on). UTF-8 is certain once Chinese (any text beyond
    ASCII) decoded as UTF-8: a sample with such text that decodes is UTF-8 (a bad byte
    later is damage, reported where it is, never read as GBK mojibake), and so is one whose
    bad byte comes after ``UTF8_EVIDENCE`` such characters (a garbage line 2 under a UTF-8
    header is named as line 2 of a UTF-8 file, not as line 1 of a GBK one). A sample of
    ASCII only may turn out GBK further on."""
    encoding = sniff_encoding(sample)
    if encoding == "utf-8":
        return encoding, sample.isascii()
    if encoding == "gb18030":
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        except UnicodeDecodeError as exc:
            before = sample[:exc.start].decode("utf-8")
            if sum(1 for ch in before if ord(ch) > 127) >= UTF8_EVIDENCE:
                return "utf-8", False
    return encoding, False


ENCODINGS = {"auto": None, "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030", "utf-16": "utf-16", "utf16": "utf-16",
             "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le", "utf-16be": "utf-16-be",
             "utf-16-be": "utf-16-be"}


_WORKBOOKS = ((b"PK\x03\x04", "xlsx"),                                # a zip: .xlsx (or .ods)
              (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"))           # OLE2: Excel 97-2003


def workbook_kind(sample: bytes) -> str | None:
    """``xlsx`` or ``xls`` when the file's first bytes are a workbook's (a zip, or the OLE2
    signature), whatever its name; None for text."""
    for magic, kind in _WORKBOOKS:
        if sample.startswith(magic):
            return kind
    return None


def header_delimiter(line: str) -> str:
    """``"\t"`` when the header line has more cells separated by tabs than by commas (a
    tab-separated file: Excel's "Unicode text", a copy from a web page), else ``","``."""
    if "\t" not in line:
        return ","
    try:
        tabs = len(next(csv.reader([line], delimiter="\t")))
        commas = len(next(csv.reader([line])))
    except (csv.Error, StopIteration):
        return ","
    return "\t" if tabs > commas else ","


_BREAKS = re.compile(r"\r\n|\r|\n")


def sniff_delimiter(path: str | os.PathLike, encoding: str) -> str:
    """The delimiter of the file, from its first non-blank line (see :func:`header_delimiter`)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    text = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
    for line in _BREAKS.split(text):
        if line.strip(" \t\ufeff\u3000"):
            return header_delimiter(line)
    return ","


class LineTooLong(csv.Error):
    """A physical line longer than ``MAX_LINE`` characters, raised by a line source's
    iterator in place of the line (``line``: its number, counted from the source's start).
    The iterator goes on with the next line after it (an empty line stands for the long
    one, so that the csv reader's line count stays right)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is longer than {MAX_LINE:,} characters")
        self.line = line


@contextlib.contextmanager
def bounded_cells() -> Iterator[None]:
    """The csv module's field limit (process-wide) set to ``MAX_FIELD`` for the block, then
    put back: a longer cell is a ``csv.Error`` ("field larger than field limit")."""
    old = csv.field_size_limit(MAX_FIELD)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def csv_problem(exc: csv.Error, lines: int = 1) -> str:
    """The reason given for a record the csv reader refused (``lines``: how many physical
    lines it had read for it)."""
    if isinstance(exc, LineTooLong):
        return (f"the line is longer than {MAX_LINE:,} characters, the most one line may hold "
                "(not read)")
    if isinstance(exc, BadCell):
        return str(exc)
    msg = str(exc)
    if msg.startswith("field larger than field limit"):
        return (f"a cell is longer than {MAX_FIELD:,} characters, the most one cell may hold"
                + (f" ({lines} lines were read as that one cell: is a quote never closed?)"
                   if lines > 1 else ""))
    if "unexpected end of data" in msg:
        msg = ("a quoted cell is never closed: everything from here to the end of the "
               "file was read as one cell")
    return f"malformed CSV: {msg}"


class WrongEncoding(Exception):
    def __init__(self, encoding: str, line: int, detail: str) -> None:
        super().__init__(detail)
        self.encoding, self.line, self.detail = encoding, line, detail


def _line_end(text: str) -> int:
    """The index just past the first line break of ``text`` (CRLF, CR or LF); -1: none."""
    n = text.find("\n")
    r = text.find("\r", 0, n if n >= 0 else len(text))
    if r >= 0:
        return r + 2 if n == r + 1 else r + 1
    return n + 1 if n >= 0 else -1


class _Lines:
    """The iterator of a :class:`LineSource`: its lines, block by block. A line too long to
    keep comes as a :class:`LineTooLong` raised in its place, then an empty line standing
    for it; reading goes on after it. (A class, not a generator: a generator that raises
    is finished. The bound ``__next__`` of a list iterator keeps the cost per line low.)"""

    __slots__ = ("_blocks", "_next")

    def __init__(self, blocks: Iterator[list[str] | LineTooLong]) -> None:
        self._blocks = blocks
        self._next = iter(()).__next__

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        try:
            return self._next()
        except StopIteration:
            pass
        for block in self._blocks:
            if isinstance(block, LineTooLong):
                self._next = iter(("\n",)).__next__
                raise block
            self._next = lines = iter(block).__next__
            try:
                return lines()
            except StopIteration:
                pass
        raise StopIteration


class LineSource:
    """The physical lines of a file (or of the bytes ``start``..``end`` of it), decoded,
    with control characters already made safe (and tabs made spaces, unless the file is
    tab-separated: ``delimiter``, sniffed from the header line when not given); counts the
    bytes read (for progress). A line longer than ``MAX_LINE`` characters is dropped as it
    is read (never held whole) and :class:`LineTooLong` raised in its place."""

    def __init__(self, path: str | os.PathLike, encoding: str, start: int = 0, end: int | None = None,
                 delimiter: str | None = None) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.size = self.path.stat().st_size
        self.start = start
        self.end = self.size if end is None else end
        self.delimiter = delimiter or sniff_delimiter(self.path, encoding)
        self.bytes_read = 0
        self.lines_out = 0

    def __iter__(self) -> Iterator[str]:
        return _Lines(self._blocks())

    @staticmethod
    def _runs(lines: list[str]) -> Iterator[list[str] | None]:
        """``lines`` in runs of lines short enough, None for each line too long."""
        run: list[str] = []
        for x in lines:
            if len(x) <= MAX_LINE:
                run.append(x)
                continue
            if run:
                yield run
                run = []
            yield None
        if run:
            yield run

    def _wrong_encoding(self, exc: UnicodeDecodeError, block: bytes, encoding: str, carry: str,
                        skipping: bool, cr_pending: bool) -> "WrongEncoding":
        """The :class:`WrongEncoding` of a block that does not decode: the line the bad bytes
        are on (the lines before them in the block counted) and where they are in the file."""
        pending = len(exc.object) - len(block)          # bytes of the block before, kept by the decoder
        offset = self.start + self.bytes_read - len(block) - pending + exc.start
        before = codecs.decode(exc.object[:exc.start], encoding, "replace")
        if cr_pending and before.startswith("\n"):
            before = before[1:]
        breaks = len(_BREAKS.findall(carry + before))
        line = self.lines_out + breaks + (0 if skipping else 1)
        bad = exc.object[exc.start:exc.end].hex(" ")
        return WrongEncoding(self.encoding, line, f"cannot decode the byte{'s' if exc.end - exc.start > 1 else ''} "
                                                  f"{bad} at byte {offset:,} of the file: {exc.reason}")

    def _blocks(self) -> Iterator[list[str] | LineTooLong]:
        encoding = "utf-8" if self.start and self.encoding == "utf-8-sig" else self.encoding
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        utf8 = encoding in ("utf-8", "utf-8-sig")
        spaces_for_tabs = self.delimiter != "\t"
        carry = ""
        carry_dirty = False
        skipping = False        # in a line too long to keep: dropped up to its end
        cr_pending = False      # a line ended with CR at the end of a block: drop an LF that follows
        before = b""
        remaining = self.end - self.start
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            while True:
                block = fh.read(min(BLOCK_BYTES, remaining)) if remaining > 0 else b""
                remaining -= len(block)
                final = not block
                self.bytes_read += len(block)
                try:
                    text = decoder.decode(block, final=final)
                except UnicodeDecodeError as exc:
                    raise self._wrong_encoding(exc, block, encoding, carry, skipping, cr_pending) from None
                if utf8:
                    dirty = carry_dirty or _dirty_utf8(block, before)
                    before = block[-2:]
                if cr_pending and text:
                    cr_pending = False
                    if text[0] == "\n":
                        text = text[1:]
                if skipping:                        # the rest of a line too long to keep
                    end = _line_end(text)
                    if end < 0:
                        if final:
                            return
                        continue
                    skipping = False
                    cr_pending = end == len(text) and text[-1] == "\r"
                    text = text[end:]
                text = carry + text
                carry, carry_dirty = "", False
                if not text:
                    if final:
                        return
                    continue
                if not utf8:
                    dirty = _DIRTY.search(text) is not None
                if dirty:
                    lines = io.StringIO(text, newline="").readlines()
                else:
                    lines = text.splitlines(True)
                too_long = False
                if not final:
                    last = lines[-1]
                    if not last.endswith("\n"):      # incomplete, or a CR whose LF may follow
                        carry = lines.pop()
                        carry_dirty = dirty
                        if len(carry) > MAX_LINE:   # drop it: LineTooLong in its place
                            too_long = True
                            if carry.endswith("\r"):
                                cr_pending = True
                            else:
                                skipping = True
                            carry, carry_dirty = "", False
                if lines:
                    # a line's length counts its line break, before cleaning
                    long_lines = len(text) > MAX_LINE and max(map(len, lines)) > MAX_LINE
                    for run in (self._runs(lines) if long_lines else (lines,)):
                        if run is None:
                            self.lines_out += 1
                            yield LineTooLong(self.lines_out)
                            continue
                        if dirty:
                            run = [_clean_physical_line(x) for x in run]
                        if spaces_for_tabs and "\t" in text:
                            run = [x.replace("\t", " ") for x in run]
                        self.lines_out += len(run)
                        yield run
                if too_long:
                    self.lines_out += 1
                    yield LineTooLong(self.lines_out)
                if final:
                    return


class BadCell(csv.Error):
    """A workbook cell that rejects its row (``where``: the cell as Excel names it; the
    message is the reason, naming the cell), raised by a workbook's row reader in place of
    the row; reading goes on."""

    def __init__(self, line: int, where: str, reason: str) -> None:
        super().__init__(f"the cell {where}: {reason}")
        self.line, self.where = line, where


class CellTooLong(BadCell):
    """A workbook cell longer than ``MAX_FIELD`` characters."""

    def __init__(self, line: int, where: str) -> None:
        csv.Error.__init__(self, f"the cell {where} is longer than {MAX_FIELD:,} characters, the most one "
                                 "cell may hold")
        self.line, self.where = line, where


def line_breaks(value: str) -> int:
    return value.count("\n") + value.count("\r") - value.count("\r\n")


def _header_key(value: str) -> str:
    text = unicodedata.normalize("NFKC", clean_line(value).lstrip("\ufeff"))
    return re.sub(r"[\s_\-]+", "", unneutralise(text)).lower()


def map_header(header: Sequence[str], columns: Sequence[tuple[str, str, bool]],
               aliases: dict[str, tuple[str, ...]], file: str) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Header cells -> ({key: index}, {key: header as written}, [ignored extra columns]).
    Raises ImportFileError naming a missing required column or a repeated one."""
    lookup = _header_lookup(aliases)
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    extra: list[str] = []
    for i, cell in enumerate(header):
        shown = clean_line(cell).lstrip("\ufeff").strip()
        key = _match(lookup, cell)
        if key is None:
            if shown:
                extra.append(shown)
            continue
        if key in index:
            raise ImportFileError(f"{file}: column {shown} appears twice in the header "
                                  f"(as {names[key]} and {shown}); nothing imported")
        index[key], names[key] = i, shown
    missing = [f"{zh} ({key})" for key, zh, required in columns if required and key not in index]
    if missing:
        found = ", ".join(clean_line(c) for c in header if clean_line(c)) or "nothing"
        raise ImportFileError(f"{file}: missing required column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (header has: {found}); nothing imported")
    return index, names, extra


HEADER_ROWS = 20           # non-blank rows searched for the header (title rows above it are skipped)


def _header_lookup(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_header_key(a): key for key, names in aliases.items() for a in names}


def _match(lookup: dict[str, str], cell: str) -> str | None:
    """The column a header cell names, as the templates of government offices write it too:
    with a note in brackets after the name (统一社会信用代码（18位）, （必填）, even wrapped
    onto a second line in the cell), or the name's own words in brackets (所属县（市、区）)."""
    key = _header_key(cell)
    found = lookup.get(key)
    if found is None and "(" in key:
        found = (lookup.get(re.sub(r"\([^)]*\)$", "", key))
                 or lookup.get(re.sub(r"[()、,，]", "", key)))
    return found


def _names_below(upper: Sequence[str], lower: Sequence[str], lookup: dict[str, str]) -> bool:
    """Whether ``lower`` is the second row of a two-row header whose first row is ``upper``:
    ``upper`` names a column (a title above the header does not), ``lower`` names at least
    one (a name the import knows, not the one above it), and each of its cells is empty, the
    cell above it again (a name merged down over both rows), a name the import knows under a
    group or an empty cell above (「联系方式」 over 联系人 | 联系电话), or a name it does not
    know under the same; never a value under a column's name (a data row)."""
    if not any(_match(lookup, u) for u in upper if u.strip()):
        return False
    new = False
    for i, cell in enumerate(lower):
        if not cell.strip():
            continue
        up = upper[i] if i < len(upper) else ""
        if cell == up:
            continue
        key = _match(lookup, cell)
        up_key = _match(lookup, up) if up.strip() else None
        if up_key is not None and key != up_key:
            return False                # under a column's name: a value, or another column
        new = new or key is not None
    return new


def _two_rows(upper: Sequence[str], lower: Sequence[str]) -> list[str]:
    """The header of a two-row header: each column named by its lower cell, else the upper
    (a name merged down, or written on the upper row only)."""
    width = max(len(upper), len(lower))
    return [lower[i] if i < len(lower) and lower[i].strip() else (upper[i] if i < len(upper) else "")
            for i in range(width)]


def find_header(rows: Iterable[tuple[int, list[str]]], columns: Sequence[tuple[str, str, bool]],
                aliases: dict[str, tuple[str, ...]], file: str
                ) -> tuple[list[str], int, dict[str, int], dict[str, str], list[str]]:
    """The header among ``rows`` ((line, cells), in file order): the first of the first
    ``HEADER_ROWS`` non-blank rows that names every required column of ``columns``; the rows
    above it (a title, a date line, a merged banner) are skipped. Returns (header cells, its
    line, {key: index}, {key: header as written}, [ignored extra columns]). ``rows`` is read
    only up to the header, so the caller goes on with the data. When no row qualifies, the
    row naming the most required columns (the first of those) is taken for the header and
    its missing columns are named (:func:`map_header`'s ImportFileError); an empty file is
    refused as such.

    A header of two rows (offices group columns under a merged cell: 「联系方式」 over
    联系人 | 联系电话, the other names merged down over both rows or written on one of them)
    is read as one: the lower row names the columns under the group, the upper the others
    (:func:`_two_rows`), the line is the lower row's and the data starts below it. It is
    recognised when the lower row holds names (:func:`_names_below`) and either the upper
    row alone does not name every required column, or the upper row is a workbook's row
    with a merge across columns (``workbook.GroupedRow``: it tells what is under it without
    reading on, so a data row is never taken for the header's)."""
    lookup = _header_lookup(aliases)
    required = {key for key, _, needed in columns if needed}

    def names(cells: Sequence[str]) -> int:
        return len(required & {_match(lookup, c) for c in cells})

    unreadable: list[ImportFileError] = []

    def readable(it: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        # a row that cannot be read ends the search: its error is said unless a row before
        # it was a header of another kind (a registry given as the users file says which
        # columns it lacks, not only that its 17th line has a cell too long)
        try:
            yield from it
        except ImportFileError as exc:
            unreadable.append(exc)

    rows = readable(iter(rows))
    best: tuple[int, list[str]] | None = None
    upper: list[str] | None = None          # the non-blank row just above
    seen = 0
    widest, widest_row = 0, []              # the most cells a row above held: a header of another file?
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            upper = None
            continue
        width = sum(1 for c in cells if c.strip())
        if width > widest:
            widest, widest_row = width, list(cells)
        if upper is not None and _names_below(upper, cells, lookup):
            header = _two_rows(upper, cells)
        else:
            header = cells
        found = names(header)
        if found == len(required):
            below = getattr(cells, "below", None)
            if below is not None and _names_below(header, below(), lookup):
                second = next(rows, None)       # the header's second row: read it here
                if second is not None and names(_two_rows(header, second[1])) == len(required):
                    line, header = second[0], _two_rows(header, second[1])
            index, names_as_written, extra = map_header(header, columns, aliases, file)
            return list(header), line, index, names_as_written, extra
        if best is None or found > best[0]:
            best = (found, header)
        upper = cells
        seen += 1
        if seen >= HEADER_ROWS:
            break
    if best is None:
        if unreadable:
            raise unreadable[0]
        raise ImportFileError(f"{file}: the file is empty (no header row); nothing imported")
    if unreadable and widest < 2:
        raise unreadable[0]         # (only a title above it: the header may be below the bad row)
    if unreadable:
        try:
            map_header(best[1] if best[0] else widest_row, columns, aliases, file)
        except ImportFileError as exc:
            stopped = str(unreadable[0]).removeprefix(f"{file}:").removesuffix("; nothing imported")
            raise ImportFileError(f"{str(exc).removesuffix('; nothing imported')} (the search for it "
                                  f"stopped at line {stopped}); nothing imported") from None
    map_header(best[1], columns, aliases, file)         # raises, naming the missing columns
    raise AssertionError("unreachable: the row lacks a required column")


def header_rows(recs: Iterable["Record"], file: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of ``recs`` for :func:`find_header`; a record that cannot be read
    before the header (or the header's) stops the import, named by its line (a workbook's
    reason names the cell: ``the cell 名录!B2: …``)."""
    for rec in recs:
        if rec.error:
            raise ImportFileError(f"{file}:{rec.line}: the header cannot be read: {rec.error}; nothing imported")
        yield rec.line, rec.cells


@dataclass
class Record:
    line: int                 # physical line where the record starts
    cells: list[str]          # raw cells
    error: str | None = None  # malformed CSV
    end: int = 0              # physical line where it ends

    def cell_line(self, i: int) -> int:
        return self.line + sum(line_breaks(c) for c in self.cells[:i])


def records(lines: Iterable[str]) -> Iterator[Record]:
    """CSV records with the physical line each starts on (multi-line quoted cells counted),
    comma- or tab-separated as the line source says. Malformed records (and lines or cells
    beyond the bounds) come back with ``error`` set, and reading goes on. A workbook source
    gives its own records (its rows, numbered as Excel shows them)."""
    own = getattr(lines, "records", None)
    if own is not None:
        return own()
    return _csv_records(lines)


def _csv_records(lines: Iterable[str]) -> Iterator[Record]:
    reader = csv.reader(lines, strict=True, delimiter=getattr(lines, "delimiter", ","))
    prev = 0
    with bounded_cells():
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except LineTooLong as exc:
                yield Record(exc.line, [], csv_problem(exc), exc.line)
                prev = reader.line_num          # the empty line standing for it comes next
                continue
            except csv.Error as exc:
                yield Record(prev + 1, [], csv_problem(exc, reader.line_num - prev), reader.line_num)
                prev = reader.line_num
                continue
            start, prev = prev + 1, reader.line_num
            yield Record(start, cells, None, prev)


# -- progress ---------------------------------------------------------------------------------------
class Progress:
    """A plain-text progress bar on stderr, only on a terminal (never under cron)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) \
                and not os.environ.get("TAIAN_NO_PROGRESS")
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def update(self, label: str, done: float, total: float, detail: str = "", *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        frac = 0.0 if total <= 0 else min(1.0, done / total)
        width = 30
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        self.stream.write(f"\r{label:<8} [{bar}] {frac * 100:5.1f}% {detail}".ljust(78))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


# -- results -------------------------------------------------------------------------------------
@dataclass
class Rejection:
    line: int
    column: str
    value: str
    reason: str
    cell: str = ""            # a workbook's: the cell as Excel names it (企业名录!B17)

    @property
    def where(self) -> str:
        """Where the rejected value is: the workbook cell, else the line number."""
        return self.cell or str(self.line)


Locate = Callable[[int, str], str]      # (line, column as written) -> the cell as Excel names it


def locator(source: Any, header: Sequence[str]) -> Locate | None:
    """How a rejection is located in the file of ``source``: None for a text file (by its
    line number), else the workbook's (sheet, column and row as Excel shows them)."""
    locate = getattr(source, "locate", None)
    return locate(header) if locate is not None else None


def rejections(rows: Iterable[Sequence[Any]], locate: Locate | None) -> list[Rejection]:
    """(line, column, value, reason) rows as :class:`Rejection`s, located."""
    return [Rejection(line, col, value, reason, locate(line, col) if locate else "")
            for line, col, value, reason in rows]


@dataclass
class ImportResult:
    kind: str
    file: str
    sha256: str = ""
    encoding: str = ""
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    field_changes: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    strict: bool = False
    written: bool = False
    report: str | None = None
    rejections: list[Rejection] = field(default_factory=list)   # the first MAX_SHOWN
    reindexed: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def counts(self) -> dict[str, Any]:
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "duplicates": self.duplicates, "field_changes": dict(self.field_changes)}

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["exit_code"] = self.exit_code
        return d

    def summary(self) -> str:
        head = f"{self.kind} {Path(self.file).name}:"
        verb = {"inserted": "inserted", "updated": "updated"}
        if self.dry_run:
            head += " dry run (nothing written):"
            verb = {"inserted": "would insert", "updated": "would update"}
        elif self.strict and self.rejected:
            head += " strict: rows were rejected, nothing written:"
        changes = ""
        if self.field_changes:
            changes = " (" + ", ".join(f"{k} {v}" for k, v in self.field_changes.items() if v) + ")"
        rows = f"{self.rows} {'row' if self.rows == 1 else 'rows'}"
        text = (f"{head} {rows} read; {verb['inserted']} {self.inserted}, "
                f"{verb['updated']} {self.updated}{changes}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}")
        if self.duplicates:
            text += f", identical duplicates ignored {self.duplicates}"
        if self.ignored_columns:
            text += "; ignored columns: " + ", ".join(self.ignored_columns)
        if self.report:
            text += f"; report: {self.report}"
        return text


def check_importer(store: Store, who: str, action: str) -> str:
    """Imports are done by the roles (and the system actor) of ``action`` in ``rules``."""
    act = _actor(store, who)
    rules.require_role(action, act)
    return act.username


def open_source(path: Path, encoding: str, sheet: str | None = None) -> tuple[Any, bool]:
    """The source of the file's records and whether the encoding was sniffed (so may be
    retried): a :class:`LineSource` for text, a ``workbook.WorkbookSource`` for a workbook
    (.xlsx, .xls: recognised by its first bytes, whatever its name; its first visible sheet,
    or ``sheet``). ``sheet`` with a text file is refused."""
    enc_key = (encoding or "auto").lower()
    if enc_key not in ENCODINGS:
        raise ImportFileError(f"--encoding must be auto, utf-8, gb18030 or utf-16, not {encoding!r}")
    try:
        forced = ENCODINGS[enc_key]
        with open(path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES if not forced else 4096)
        kind = workbook_kind(sample)
        if kind:
            from taian_tui.dataio.workbook import WorkbookSource

            return WorkbookSource(path, kind, sheet), False
        if sheet is not None:
            raise ImportFileError(f"{path}: --sheet {sheet!r}: this is a text file (CSV), not an Excel "
                                  "workbook; nothing imported")
        if forced == "utf-16" and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            forced = _utf16_without_bom(sample) or "utf-16-le"     # no BOM: Excel's order
        if forced:
            return LineSource(path, forced), False
        encoding, retry = _sniff(sample)
        return LineSource(path, encoding), retry
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def encoding_name(enc: str) -> str:
    return {"utf-8-sig": "utf-8", "utf-8": "utf-8", "gb18030": "gb18030", "utf-16": "utf-16",
            "utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}.get(enc, enc)


#: The files of a database: itself and what SQLite keeps beside it.
DATABASE_SIDES = ("", "-wal", "-shm", "-journal")


def is_database_file(path: str | os.PathLike, database: str | os.PathLike | None) -> bool:
    """Whether ``path`` is the database file ``database`` or its -wal, -shm or -journal:
    the same file (``os.path.samefile``: through symbolic and hard links) when both exist,
    else the same path once resolved (links in its folders followed)."""
    if not database or os.fspath(database) == ":memory:":
        return False
    try:
        target = os.path.realpath(path)
        base = os.fspath(database)
        real_base = os.path.realpath(base)
    except (OSError, ValueError):
        return False
    for side in DATABASE_SIDES:
        for other in {base + side, real_base + side}:
            try:
                if os.path.samefile(path, other):
                    return True
            except (OSError, ValueError):
                pass
            try:
                if os.path.realpath(other) == target:
                    return True
            except (OSError, ValueError):
                pass
    return False


# the first bytes of an SQLite database, of a -wal file (either byte order), of a -journal
_SQLITE_HEADERS = (b"SQLite format 3\x00", b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83",
                   b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7")


def _sqlite_file(path: str) -> bool:
    if not os.path.isfile(path):            # (not a FIFO or a device: never opened)
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except (OSError, ValueError):
        return False
    return head.startswith(_SQLITE_HEADERS)


def is_sqlite_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` (links followed) is an SQLite database, -wal or -journal by its
    first bytes, or is named as the -wal, -shm or -journal of an SQLite database beside it
    (whether it exists or not)."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    if _sqlite_file(real):
        return True
    return any(real.endswith(side) and _sqlite_file(real[:-len(side)]) for side in DATABASE_SIDES[1:])


def check_report_path(path: str | os.PathLike | None, database: str | os.PathLike | None = None) -> None:
    """Refuse, before anything is read or written, a --report that could not be written
    afterwards (so that an import never lands and then fails at its report), and one that
    would replace a database: ``database`` (the one imported into) or its -wal, -shm or
    -journal (:func:`is_database_file`), or any SQLite database or file of one
    (:func:`is_sqlite_file`: the imports call this without naming their database). The
    imports have no --force: an existing report is replaced, but only a regular file: an
    existing target that is a symbolic link or not a regular file (a device, a FIFO, a
    socket) is refused, as ``check_output`` refuses it for the exports: the report is
    written beside it and renamed over it, so it would be replaced, not written through."""
    if not path:
        return
    target = Path(path)
    where = target.parent
    if database is not None and is_database_file(target, database):
        raise ImportFileError(f"--report {target} is the database (or its -wal/-shm): choose another file; "
                              "nothing imported")
    if is_sqlite_file(target):
        raise ImportFileError(f"--report {target} is an SQLite database (or the -wal/-shm/-journal beside "
                              "one): choose another file; nothing imported")
    if target.is_dir():
        raise ImportFileError(f"--report {target}: is a directory; nothing imported")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise ImportFileError(f"--report {target} is not a regular file (a device, pipe or link): give the path "
                              "of a file; nothing imported")
    if not where.is_dir():
        raise ImportFileError(f"--report {target}: the folder {where} does not exist; nothing imported")
    if not os.access(where, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ImportFileError(f"--report {target}: cannot be written here; nothing imported")


def county_lookup(store: Store) -> dict[str, str]:
    """A county or zone as a file may name it, its name or its unit code -> its name (the
    enterprises' and the routing rules' county column)."""
    counties = {name: name for name in store.counties()}
    for u in store.units(("county", "zone")):
        counties.setdefault(u.code, u.name)
    return counties


def write_report(path: str | os.PathLike, rows: Iterable[Sequence[Any]], locate: Locate | None = None) -> None:
    """The rejection report: CSV (UTF-8 with BOM, for Excel) line,column,value,reason; for
    a workbook (``locate``) cell,column,value,reason, the cell as Excel names it
    (``企业名录!B17``)."""
    # (in a new private file beside it, then renamed: the rejected rows name enterprises and
    # their contacts; a fixed NAME.tmp beside it followed a link left there)
    with private_output(path, force=True) as partial, \
            open(partial, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cell" if locate else "line", "column", "value", "reason"])
        for line, col, value, reason in rows:
            w.writerow([neutralise(locate(line, col or "")) if locate else line, neutralise(col or ""),
                        neutralise(value or ""), neutralise(reason)])


def shorten(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK_BYTES), b""):
            h.update(block)
    return h.hexdigest()


def fit_row(cells: list[str], ncols: int) -> list[str] | str | None:
    """A row whose cell count differs from the header's: None for a blank line, the row
    padded (missing trailing cells are empty), or the reason it is rejected."""
    if not any(c.strip() for c in cells):
        return None
    if len(cells) > ncols:
        if any(c.strip() for c in cells[ncols:]):
            return (f"the row has {len(cells)} cells but the header has {ncols} "
                    "(an unquoted comma in a value?)")
        return cells[:ncols]
    return cells + [""] * (ncols - len(cells))
