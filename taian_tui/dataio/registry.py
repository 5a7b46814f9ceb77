"""The enterprise registry (``taian import enterprises FILE``), upserted by credit code.

1. *Check.* The file is streamed, never held whole: decoded (UTF-8, UTF-8 with BOM,
   GBK/GB18030 or UTF-16, detected; ``--encoding`` forces), split into physical lines
   (control characters and ANSI escapes removed, tabs made spaces unless the file is
   tab-separated: the header line says), parsed as CSV (or TSV), every value normalised
   and validated. A line longer than ``reading.MAX_LINE`` characters or a cell longer than
   ``reading.MAX_FIELD`` is rejected with its line number, never held whole. Valid rows go
   to a staging table, rejected cells to a table of rejections, both in a private scratch
   SQLite file ATTACHed for the import (an anonymous file SQLite unlinks as it opens it,
   so nothing of it outlives the process, even killed; it takes no lock on the main
   database, and SQLite's 2 MB page cache keeps memory flat however large the file). The
   staged rows are then sorted by credit
   code; in-file duplicates become neighbours: rows that share a code but differ are
   *all* rejected (a conflict: which one is right?); an identical repeat is dropped and
   counted. Nothing in the main database has been written yet.

   A large file (``PARALLEL_MIN_BYTES``) on Linux with two CPUs or more is checked in two
   parts at once, the second by a forked process into its own scratch file (its line
   numbers offset by the first part's line count); the split is a record boundary
   (verified: if the first part ends inside a quoted cell, the file is checked in one
   piece), so the results are the same as in one piece. That file is named
   ``taian-import-<pid>-<token>.sqlite`` (private) in the temporary folder (``TMPDIR``),
   and unlinked as soon as it is ATTACHed (before the merge); it is removed in a
   ``finally`` on any exit that can be caught (SIGTERM and SIGHUP raise SystemExit for
   the import's duration where no handler of the program's own is set; Ctrl-C is
   KeyboardInterrupt), the forked process dies with its parent (PR_SET_PDEATHSIG), and
   what a SIGKILL leaves is removed by the next import (:func:`reclaim_scratch`: files of
   that pattern whose pid is no longer alive).
2. *Merge.* Unless ``--dry-run`` (or ``--strict`` with a rejection), the staged rows are
   upserted by credit code in code order, in batches of ``BATCH_ROWS``, each batch one
   short ``BEGIN IMMEDIATE`` transaction, so ``taian escalate`` and the console get the
   write lock between batches. Each batch's transaction carries its own audit row
   (``import.batch``: the import's id and SHA-256, batch n of N, its first and last
   credit codes, its inserted/updated/unchanged counts; batches run in credit-code order,
   so a batch is a range of codes, its lines scattered over the file), beside the
   ``enterprise.update`` row of each enterprise it changed; the last batch's transaction
   also writes the import's row (``import.enterprises``: who, file, SHA-256, the import's
   id, the number of batches, counts). So an import killed half-way leaves audit rows
   that account for every enterprise it wrote (their ``inserted`` and ``updated`` add up
   to them), and a re-run completes it (the rows already written count as unchanged).
   ``--dry-run`` classifies the same batches read-only and reports the same counts; it,
   and ``--strict`` with a rejection, write nothing at all.

An Excel workbook (.xlsx, .xls: recognised by its first bytes; its first visible sheet or
``--sheet``) is read by ``workbook.WorkbookSource`` (python-calamine holds the sheet in
memory) and its rows go through the same check pass, numbered as Excel shows them; a sheet
of ``PARALLEL_MIN_ROWS`` rows or more is split at its middle row, the forked process
inheriting the sheet already read. Rejections then name the cell (``企业名录!B17``).

Columns absent from the file are left as they are on existing enterprises; a present
column with an empty cell clears that field. Spreadsheet-formula neutralising (a leading
``'`` before ``= + - @`` tab or CR, as :func:`neutralise` writes it) is removed on import,
so an export re-imports unchanged.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import gc
import json
import multiprocessing
import os
import re
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from stdnum import exceptions as _stdnum_exc
from stdnum.cn import uscc as _uscc

from taian_tui.domain import search, timeutil
from taian_tui.store import Store
from taian_tui.domain.text import clean_line, normalise_phone
from taian_tui.dataio.reading import LineTooLong, bounded_cells, county_lookup, csv_problem
from taian_tui.dataio.reading import fit_row, BLOCK_BYTES, ImportFileError, ImportResult, LineSource, MAX_SHOWN, PROGRESS_MIN_BYTES, Progress, WrongEncoding, encoding_name, find_header, line_breaks, locator, open_source, rejections as located, shorten, write_report, check_importer, check_report_path, file_sha256, map_header, unneutralise


# -- columns -----------------------------------------------------------------------------------
#: (key, Chinese header, required); the order of export.
ENTERPRISE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("name", "企业名称", True),
    ("uscc", "统一社会信用代码", True),
    ("county", "所属县市区", True),
    ("industry", "行业", False),
    ("tags", "企业标签", False),
    ("contact", "联系人", False),
    ("phone", "联系电话", False),
    ("address", "注册地址", False),
)


ENTERPRISE_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("企业名称", "名称", "企业", "name", "enterprise", "enterprise_name", "company"),
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "credit_code", "code"),
    "county": ("所属县市区", "县市区", "所属区县", "区县", "county"),
    "industry": ("行业", "所属行业", "industry"),
    "tags": ("企业标签", "标签", "tags", "tag"),
    "contact": ("联系人", "contact"),
    "phone": ("联系电话", "电话", "手机", "phone", "tel", "mobile"),
    "address": ("注册地址", "地址", "address"),
}


ENTERPRISE_LIMITS = {"name": 200, "industry": 100, "tags": 500, "contact": 100,
                     "phone": 100, "address": 500}


BATCH_ROWS = 20000         # rows per merge transaction (some 35 ms of write lock)


STAGE_ROWS = 500           # rows per multi-row INSERT into the staging table


# -- credit codes -------------------------------------------------------------------------------
# The hot path of an import checks 100,000s of codes; stdnum.cn.uscc.validate spends most of
# its time cleaning its input. This is the same GB 32100-2015 check done by int() in C: the
# check is sum(v[i] * 3**i) mod 31 over the first 17 characters (v: the character's place
# in the alphabet), and since 34 = 3 (mod 31), that sum is, mod 31, the first 17 characters
# reversed read as a base-34 number once each is replaced by the base-34 digit of its value
# (characters outside the alphabet become "!", which int() refuses). Tests check it agrees
# with stdnum. A rejected code is re-checked with stdnum, which gives the reason.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


_USCC_BASE34 = str.maketrans({chr(c): "!" for c in range(128)}
                             | {c: "0123456789ABCDEFGHIJKLMNOPQRSTUVWX"[v] for v, c in enumerate(_USCC_ALPHABET)})


def uscc_ok(code: str) -> bool:
    """True when ``code`` (already normalised) is a valid credit code: 18 characters, 8
    digits then 10 of the alphabet, the last the check character."""
    if len(code) != 18 or not code.isascii() or not code[:8].isdigit():
        return False
    try:
        return _USCC_ALPHABET[-int(code[16::-1].translate(_USCC_BASE34), 34) % 31] == code[17]
    except ValueError:              # a character outside the alphabet
        return False


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code (from stdnum.cn.uscc), or None."""
    if not code:
        return "the credit code is required"
    if _SCI_NUMBER.fullmatch(code):
        return ("the credit code was turned into a spreadsheet number (digits lost): format the column "
                "as text and export again")
    try:
        _uscc.validate(code)
    except _stdnum_exc.InvalidLength:
        return f"a credit code has 18 characters, this one {len(code)}"
    except _stdnum_exc.InvalidChecksum:
        return (f"check digit is wrong (GB 32100-2015): the last character should be "
                f"{_uscc.calc_check_digit(code[:17])}")
    except _stdnum_exc.ValidationError:
        bad = sorted({c for c in code[8:] if c not in _USCC_ALPHABET}
                     | {c for c in code[:8] if not c.isdigit()})
        return ("not a credit code: characters 1-8 are digits and 9-18 digits or letters "
                "other than I, O, Z, S, V" + (f" (found {' '.join(bad)})" if bad else ""))
    if code != _uscc.compact(code):
        return "a credit code has no spaces or dashes"
    return None


def normalise_uscc(value: str) -> str:
    """Full-width to half-width, upper case, no spaces (the import's form of a code)."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    if " " in value:
        value = value.replace(" ", "")
    return value.upper()


# -- enterprise import ----------------------------------------------------------------------------
_TAG_SPLIT = re.compile(r"[,，、;；|/]")


_TAG_ODD = re.compile(r"[，、;；|/\s]|,,|^,|,$")


_SCI_NUMBER = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")


#: What follows the day in a date-and-time cell (``2026-01-02 10:00:00``: ``workbook.cell_text``).
_TIME_OF_DAY = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
#: The 5th character of a day as written (``timeutil.parse_day``): the hot path's cheap test.
_DAY_SEPARATORS = frozenset("-/.年")


def lost_leading_zero(phone: str) -> bool:
    """``phone`` is 9 or 10 digits not beginning with 0: a landline whose area code lost its
    leading 0 in a spreadsheet number (0538-8888801 became 5388888801); a mobile has 11
    digits, a local number 7 or 8, and 400/800 service numbers 10."""
    return (len(phone) in (9, 10) and phone[0] != "0" and phone.isdigit()
            and phone[:3] not in ("400", "800"))


def date_in_phone(value: str) -> bool:
    """``value`` (a phone cell) is a day, or a day and a time: a date cell, or a number
    Excel turned into a date (``2026-01-02``, ``2026/1/2``, ``2026年1月2日``), of 1900-2100."""
    head, _, rest = value.partition(" ")
    if "T" in head:
        head, _, tail = head.partition("T")
        rest = "T" + tail
    elif rest:
        rest = " " + rest
    try:
        day = timeutil.parse_day(head)
    except ValueError:
        return False
    return 1900 <= day.year <= 2100 and bool(_TIME_OF_DAY.fullmatch(rest))


def normalise_tags(value: str) -> str:
    """``规上工业企业，双50强`` -> ``规上工业企业,双50强`` (separators unified, empties dropped)."""
    if not _TAG_ODD.search(value):
        return value
    seen: list[str] = []
    for tag in _TAG_SPLIT.split(value):
        tag = tag.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return ",".join(seen)


_STAGE_COLS = ("code", "name", "county", "industry", "tags", "contact", "phone", "address",
               "line", "cline")


_DATA_KEYS = ("name", "county", "industry", "tags", "contact", "phone", "address")


_STAGE_DDL = ("CREATE TABLE {s}.import_stage(code TEXT, name TEXT, county TEXT, industry TEXT, tags TEXT, "
              "contact TEXT, phone TEXT, address TEXT, line INTEGER, cline INTEGER)")


_REJ_DDL = "CREATE TABLE {s}.import_rej(line INTEGER, seq INTEGER, col TEXT, value TEXT, reason TEXT)"


_ROW_DATA = ("name || char(31) || county || char(31) || industry || char(31) || tags || char(31) || "
             "contact || char(31) || phone || char(31) || address")


PARALLEL_MIN_BYTES = 8 << 20    # a file this large is checked by two processes (Linux)


PARALLEL_MIN_ROWS = 40000       # a workbook's sheet with this many rows likewise


SCRATCH_PAGE = 16384            # the scratch files' page size (bulk writes and a sort: big pages)


def _attach_scratch(conn) -> None:
    """A private scratch database for one import: an anonymous on-disk SQLite file that
    SQLite deletes when it is detached. It takes no lock on the main database; its page
    cache is the default 2 MB, so memory stays flat however large the file."""
    _detach_scratch(conn)
    conn.execute("ATTACH DATABASE '' AS imp")
    conn.execute(f"PRAGMA imp.page_size = {SCRATCH_PAGE}")
    conn.execute("PRAGMA imp.journal_mode = OFF")     # scratch: never rolled back, only dropped
    conn.execute("PRAGMA imp.synchronous = OFF")
    conn.execute(_STAGE_DDL.format(s="imp"))
    conn.execute(_REJ_DDL.format(s="imp"))


def _detach_scratch(conn) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.execute("DROP TRIGGER IF EXISTS temp.import_enterprise_changes")
    attached = {r[1] for r in conn.execute("PRAGMA database_list")}
    for name in ("imp2", "imp"):
        if name in attached:
            conn.execute(f"DETACH DATABASE {name}")


def _read_header(reader, file: str) -> tuple[list[str], int]:
    """The header record (``reading.find_header``: title rows above it are skipped) and the
    line it ends on."""
    def rows():
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = getattr(exc, "line", None) or reader.line_num
                raise ImportFileError(f"{file}:{line}: the header cannot be read: {csv_problem(exc)}; "
                                      "nothing imported") from None
            yield reader.line_num, cells

    header, line, _, _, _ = find_header(rows(), ENTERPRISE_COLUMNS, ENTERPRISE_ALIASES, file)
    return header, line


@dataclass
class _Layout:
    """Where the columns are, what the row checks need (built from the header)."""
    ncols: int
    header: list[str]              # the header's cells
    idx: list[int]                 # cell index per ENTERPRISE_COLUMNS key (ncols: absent)
    col_name: dict[str, str]       # key -> header as written (or the Chinese name)
    present: list[str]
    counties: dict[str, str]       # county name or unit code -> county name
    limits: list[tuple[str, int, int]]
    delimiter: str = ","           # "\t": a tab-separated file

    def too_long(self, vals: list[str]) -> bool:
        return any(len(vals[i]) > lim for _, i, lim in self.limits)


def _layout(store: Store, header: list[str], result: ImportResult, delimiter: str) -> _Layout:
    counties = county_lookup(store)
    if not counties:
        raise ImportFileError(f"{result.file}: no county or zone is known in this database yet: import the "
                              "units first (taian import units taian_tui/demo/data/units.csv); nothing imported")
    index, names, extra = map_header(header, ENTERPRISE_COLUMNS, ENTERPRISE_ALIASES, result.file)
    result.ignored_columns = extra
    ncols = len(header)
    return _Layout(ncols=ncols, header=list(header), idx=[index.get(k, ncols) for k, _, _ in ENTERPRISE_COLUMNS],
                   col_name={k: names.get(k, zh) for k, zh, _ in ENTERPRISE_COLUMNS},
                   present=[k for k, _, _ in ENTERPRISE_COLUMNS if k in index], counties=counties,
                   limits=[(k, index[k], lim) for k, lim in ENTERPRISE_LIMITS.items() if k in index],
                   delimiter=delimiter)


class _SplitInsideRecord(Exception):
    """The first part of a split file ended inside a quoted cell: check it in one piece."""


def _scan(conn, schema: str, reader, prev: int, lay: _Layout,
          progress: Callable[[int], None] | None, *, partial: bool) -> tuple[int, int]:
    """Pass 1 over the records of ``reader`` (physical lines after line ``prev``): parse,
    normalise, validate; stage the valid rows in ``schema``.import_stage and the problems
    in ``schema``.import_rej. Returns (rows, rejected rows).

    This loop is the hot path of a large import and is written for speed: no calls on
    the common path but C builtins. A row that fails a fast check goes the slow way
    (:func:`_row_problems`), which says why."""
    i_name, i_code, i_county, i_ind, i_tags, i_contact, i_phone, i_addr = lay.idx
    ncols, col_name = lay.ncols, lay.col_name
    base = prev - reader.line_num
    width = len(_STAGE_COLS)
    stage_sql_n = (f"INSERT INTO {schema}.import_stage VALUES "
                   + ",".join(["(" + ",".join("?" * width) + ")"] * STAGE_ROWS))
    stage_sql_1 = f"INSERT INTO {schema}.import_stage VALUES (" + ",".join("?" * width) + ")"
    rej_sql = f"INSERT INTO {schema}.import_rej VALUES (?, ?, ?, ?, ?)"
    buf: list[Any] = []
    full = STAGE_ROWS * width
    rej: list[tuple] = []
    rows = rejected = 0
    strip = str.strip
    counties_get = lay.counties.get
    alphabet, base34 = _USCC_ALPHABET, _USCC_BASE34
    tag_odd = _TAG_ODD.search
    nfkc = unicodedata.normalize
    min_limit = min(ENTERPRISE_LIMITS.values())
    tsv = lay.delimiter == "\t"
    gc_was_enabled = gc.isenabled()
    gc.disable()            # the loop makes no reference cycles; collections only cost time
    conn.execute("BEGIN")
    try:
        while True:
            try:
                for cells in reader:
                    start = prev + 1
                    prev = base + reader.line_num
                    if len(cells) != ncols:
                        cells = fit_row(cells, ncols)
                        if cells is None:
                            continue                        # a blank line
                        if isinstance(cells, str):          # too many cells
                            rows += 1
                            rejected += 1
                            rej.append((start, 0, "", "", cells))
                            continue
                    vals = list(map(strip, cells))
                    if prev > start:                        # multi-line record: newlines to spaces
                        vals = list(map(clean_line, cells))
                    joined = "".join(vals)
                    if tsv and "\t" in joined:               # a tab inside a quoted cell
                        vals = list(map(clean_line, cells))
                        joined = "".join(vals)
                    if not joined:
                        continue                            # a row of empty cells
                    rows += 1
                    if "'" in joined:
                        vals = list(map(unneutralise, vals))
                    vals.append("")
                    code = vals[i_code]
                    if not code.isascii():
                        code = nfkc("NFKC", code)
                    if " " in code:
                        code = code.replace(" ", "")
                    code = code.upper()
                    name = vals[i_name]
                    county = counties_get(vals[i_county])
                    phone = vals[i_phone]
                    if phone and (not phone.isascii() or " " in phone or "." in phone):
                        phone = normalise_phone(phone)
                    bad = True                              # the GB 32100-2015 check (uscc_ok)
                    if len(code) == 18 and code.isascii() and code[:8].isdigit():
                        try:
                            bad = alphabet[-int(code[16::-1].translate(base34), 34) % 31] != code[17]
                        except ValueError:
                            pass
                    if (bad or not name or county is None
                            or (len(joined) > min_limit and max(map(len, vals)) > min_limit
                                and lay.too_long(vals))
                            or ("E" in phone or "e" in phone) and _SCI_NUMBER.fullmatch(phone)
                            or len(phone) in (9, 10) and lost_leading_zero(phone)
                            or vals[i_phone][4:5] in _DAY_SEPARATORS and date_in_phone(vals[i_phone])):
                        problems = _row_problems(lay, vals, code, phone)
                        if problems:
                            rejected += 1
                            for i, key, value, reason in problems:
                                line = start + sum(map(line_breaks, cells[:i])) if prev > start else start
                                rej.append((line, i, col_name[key], shorten(value), reason))
                            if len(rej) >= 1000:
                                conn.executemany(rej_sql, rej)
                                rej.clear()
                            continue
                    tags = vals[i_tags]
                    if tag_odd(tags):
                        tags = normalise_tags(tags)
                    buf += (code, name, county, vals[i_ind], tags, vals[i_contact], phone, vals[i_addr],
                            start, start + sum(map(line_breaks, cells[:i_code])) if prev > start else start)
                    if len(buf) == full:
                        conn.execute(stage_sql_n, buf)
                        buf.clear()
                        if progress is not None:
                            progress(rows)
                break
            except LineTooLong as exc:               # the line was not read (the source goes on)
                start, prev = base + exc.line, base + reader.line_num
                rows += 1
                rejected += 1
                rej.append((start, 0, "", "", csv_problem(exc)))
            except csv.Error as exc:
                start, prev = prev + 1, base + reader.line_num
                if partial and "unexpected end of data" in str(exc):
                    raise _SplitInsideRecord() from None
                rows += 1
                rejected += 1
                rej.append((start, 0, "", "", csv_problem(exc, prev - start + 1)))
        for i in range(0, len(buf), width):
            conn.execute(stage_sql_1, buf[i:i + width])
        if rej:
            conn.executemany(rej_sql, rej)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    return rows, rejected



def _row_problems(lay: _Layout, vals: list[str], code: str, phone: str) -> list[tuple[int, str, str, str]]:
    """Every problem of a row that failed a fast check: (cell index, key, value, reason)."""
    i_name, i_code, i_county, _, _, _, i_phone, _ = lay.idx
    out: list[tuple[int, str, str, str]] = []
    if not uscc_ok(code):
        out.append((i_code, "uscc", vals[i_code], uscc_problem(code) or "invalid credit code"))
    if not vals[i_name]:
        out.append((i_name, "name", "", "the enterprise name is required"))
    raw = vals[i_county]
    if raw not in lay.counties:
        known = "、".join(dict.fromkeys(lay.counties.values()))
        out.append((i_county, "county", raw, "the county is required" if not raw else
                    f"unknown county {raw!r}: one of {known}"))
    if phone and _SCI_NUMBER.fullmatch(phone):
        out.append((i_phone, "phone", vals[i_phone],
                    "the phone number was turned into a spreadsheet number (leading zeros and "
                    "digits lost): format the column as text and export again"))
    elif lost_leading_zero(phone):
        out.append((i_phone, "phone", vals[i_phone],
                    f"{len(phone)} digits not beginning with 0: a landline whose leading 0 the spreadsheet "
                    "dropped? (format the column as text and type it as 0538-8888801)"))
    elif vals[i_phone][4:5] in _DAY_SEPARATORS and date_in_phone(vals[i_phone]):
        out.append((i_phone, "phone", vals[i_phone],
                    "the cell holds a date, not a phone number (a date cell, or a number the spreadsheet turned "
                    "into a date): format the column as text and type the number again"))
    for key, i, lim in lay.limits:
        if len(vals[i]) > lim:
            out.append((i, key, vals[i], f"too long ({len(vals[i])} characters, at most {lim})"))
    return out


def _sort_part(conn, schema: str, *, index: bool = False) -> None:
    """Sort one part's staged rows by credit code (so that the merge inserts into the
    primary-key index in order: each batch then touches a few adjacent index pages, not
    pages all over the index, which would be rewritten to the WAL at every batch) and
    list the rows whose code repeats within the part (the sort makes them neighbours)."""
    cols = ", ".join(_STAGE_COLS)
    conn.execute("BEGIN")
    try:
        conn.execute(f"CREATE TABLE {schema}.import_sorted AS SELECT {cols} FROM {schema}.import_stage "
                     "ORDER BY code, line")
        conn.execute(f"DROP TABLE {schema}.import_stage")
        # rowids of the new table run 1..n in code order: a repeated code is a neighbour
        conn.execute(
            f"CREATE TABLE {schema}.import_dup AS SELECT rowid AS rid, code, line, cline, {_ROW_DATA} AS data "
            f"FROM {schema}.import_sorted WHERE rowid IN (SELECT a.rowid FROM {schema}.import_sorted a "
            f"JOIN {schema}.import_sorted b ON b.rowid = a.rowid + 1 WHERE b.code = a.code UNION "
            f"SELECT b.rowid FROM {schema}.import_sorted a JOIN {schema}.import_sorted b "
            "ON b.rowid = a.rowid + 1 WHERE b.code = a.code)")
        if index:
            conn.execute(f"CREATE INDEX {schema}.import_sorted_code ON import_sorted(code)")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _settle_duplicates(conn, parts: list[tuple[str, int]], result: ImportResult,
                       col_name: dict[str, str], noun: str = "line") -> None:
    """In-file duplicates: rows sharing a credit code but differing are all rejected (a
    conflict: which one is right?); identical repeats are dropped (counted), the first
    one (lowest line) kept. ``parts``: (scratch schema, lines before the part)."""
    conn.execute("BEGIN")
    try:
        conn.execute("CREATE TABLE imp.dups(part INTEGER, rid INTEGER, code TEXT, line INTEGER, "
                     "cline INTEGER, data TEXT)")
        for n, (schema, off) in enumerate(parts):
            conn.execute(f"INSERT INTO imp.dups SELECT {n}, rid, code, line + {off}, cline + {off}, data "
                         f"FROM {schema}.import_dup")
        if len(parts) == 2:                 # codes in both halves of a split file (the second is indexed)
            conn.execute(f"CREATE TABLE imp.both AS SELECT DISTINCT code FROM {parts[0][0]}.import_sorted "
                         f"WHERE code IN (SELECT code FROM {parts[1][0]}.import_sorted)")
            for n, (schema, off) in enumerate(parts):
                conn.execute(
                    f"INSERT INTO imp.dups SELECT {n}, s.rowid, s.code, s.line + {off}, s.cline + {off}, "
                    f"{_ROW_DATA} FROM {schema}.import_sorted s WHERE s.code IN (SELECT code FROM imp.both) "
                    f"AND s.rowid NOT IN (SELECT rid FROM {schema}.import_dup)")
        if conn.execute("SELECT 1 FROM imp.dups LIMIT 1").fetchone():
            conn.execute("CREATE TABLE imp.conflicts AS SELECT code FROM imp.dups GROUP BY code "
                         "HAVING COUNT(DISTINCT data) > 1")
            cur = conn.execute(
                "INSERT INTO imp.import_rej(line, seq, col, value, reason) "
                "SELECT d.cline, -1, ?, d.code, 'conflict: the same credit code is also on ' || ? || "
                "(SELECT group_concat(t.cline, ', ') FROM (SELECT cline FROM imp.dups t WHERE t.code = d.code "
                " AND t.line != d.line ORDER BY cline) t) || ' with different data; conflicting rows are all "
                "rejected' FROM imp.dups d WHERE d.code IN (SELECT code FROM imp.conflicts)",
                (col_name["uscc"], f"{noun}(s) "))
            result.rejected += cur.rowcount
            for n, (schema, _) in enumerate(parts):
                conn.execute(f"DELETE FROM {schema}.import_sorted WHERE rowid IN (SELECT rid FROM imp.dups "
                             f"WHERE part = {n} AND code IN (SELECT code FROM imp.conflicts))")
                cur = conn.execute(
                    f"DELETE FROM {schema}.import_sorted WHERE rowid IN (SELECT d.rid FROM imp.dups d "
                    f"WHERE d.part = {n} AND d.code NOT IN (SELECT code FROM imp.conflicts) "
                    "AND d.line != (SELECT MIN(t.line) FROM imp.dups t WHERE t.code = d.code))")
                result.duplicates += cur.rowcount
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


# -- the check pass, in one piece or in two processes ------------------------------------------------
def _plan_split(path: Path, size: int) -> int | None:
    """A byte offset near the middle that starts a record (just after a newline, with an
    even number of quote characters before it); None when there is none. (Quotes and line
    ends are single bytes that never occur inside a UTF-8 or GB18030 character.) The first
    part's own parse verifies the split."""
    target = size * 51 // 100   # a little past the middle: the child also indexes its part
    quotes = 0
    with open(path, "rb") as fh:
        pos = 0
        while pos < target:
            chunk = fh.read(min(BLOCK_BYTES * 4, target - pos))
            if not chunk:
                return None
            quotes += chunk.count(b'"')
            pos += len(chunk)
        window = fh.read(BLOCK_BYTES)
    i = 0
    while True:
        j = window.find(b"\n", i)
        if j < 0:
            return None
        quotes += window.count(b'"', i, j)
        i = j + 1
        if quotes % 2 == 0:
            split = target + i
            return split if split < size else None


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this (forked) process when its parent dies (Linux), so that
    a killed import leaves no checker running on; exit at once if the parent is gone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):                                 # pragma: no cover
        pass
    if os.getppid() != parent:
        os._exit(5)


def _child_check(path: Path, encoding: str, start: int, lay: _Layout, db_path: str, err_path: str,
                 parent: int, book=None) -> None:
    """In a forked process: check the second part of the file into its own scratch file
    (created empty and private by the parent). Line numbers are counted from the start of
    the part (the parent, which has read the first part, adds its line count). Touches
    nothing of the parent's (its database connection is not used here). ``book``: a
    workbook's sheet, already read by the parent (``start`` is then a row number)."""
    try:
        _die_with_parent(parent)            # (the csv field limit is the parent's: bounded_cells)
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute(f"PRAGMA page_size = {SCRATCH_PAGE}")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(_STAGE_DDL.format(s="main"))
        conn.execute(_REJ_DDL.format(s="main"))
        if book is not None:
            reader = book.reader(start)
        else:
            reader = csv.reader(LineSource(path, encoding, start, delimiter=lay.delimiter), strict=True,
                                delimiter=lay.delimiter)
        rows, rejected = _scan(conn, "main", reader, 0, lay, None, partial=False)
        _sort_part(conn, "main", index=True)
        conn.execute("CREATE TABLE meta(rows INTEGER, rejected INTEGER)")
        conn.execute("INSERT INTO meta VALUES (?, ?)", (rows, rejected))
        conn.close()
    except WrongEncoding as exc:
        Path(err_path).write_text(json.dumps({"encoding": exc.encoding, "line": exc.line,
                                              "detail": exc.detail}), encoding="utf-8")
        os._exit(3)
    except BaseException as exc:                       # pragma: no cover - reported to the parent
        Path(err_path).write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), encoding="utf-8")
        os._exit(4)


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _can_fork() -> bool:
    """Two processes need two CPUs (on a busy machine they still beat one: measured with
    both CPUs loaded, 1.1 s against 1.3 s for 100,000 rows), and fork only where it is
    safe: Linux, and no other thread in this process."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and _cpus() > 1


# -- scratch files --------------------------------------------------------------------------------
_SCRATCH_NAME = re.compile(r"taian-import-([0-9]+)-[0-9a-f]+\.(?:sqlite|err)\Z")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts as alive)."""
    if pid <= 0:
        return True                     # not a name this module writes: leave it alone
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                     # EPERM: alive, someone else's
        return True
    return True


def reclaim_scratch(where: str | None = None) -> list[str]:
    """Remove the scratch files of imports that were killed: ``taian-import-<pid>-*.sqlite``
    and ``.err`` in the temporary folder whose process is no longer alive. Returns the
    names removed."""
    where = where or tempfile.gettempdir()
    removed: list[str] = []
    try:
        names = os.listdir(where)
    except OSError:
        return removed
    for name in names:
        m = _SCRATCH_NAME.match(name)
        if m is None or _alive(int(m.group(1))):
            continue
        try:
            os.unlink(os.path.join(where, name))
        except OSError:
            continue
        removed.append(name)
    return removed


class _Scratch:
    """The named scratch files of one import (the forked checker's part and its error
    note): private, ``taian-import-<pid>-<token>.*`` in the temporary folder, created
    before the fork (O_EXCL, 0600), removed by :meth:`remove` (in the import's finally)."""

    def __init__(self) -> None:
        self.where = tempfile.gettempdir()
        self.paths: list[str] = []

    def create(self, *suffixes: str) -> list[str]:
        stem = os.path.join(self.where, f"taian-import-{os.getpid()}-{secrets.token_hex(6)}")
        made = []
        for suffix in suffixes:
            path = stem + suffix
            self.paths.append(path)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
            made.append(path)
        return made

    def remove(self) -> None:
        while self.paths:
            with contextlib.suppress(OSError):
                os.unlink(self.paths.pop())


@contextlib.contextmanager
def _signals_raise() -> Any:
    """For the block: SIGTERM and SIGHUP raise SystemExit (status 128 + the signal), and
    SIGINT KeyboardInterrupt, in the main thread, so that the import's ``finally`` runs
    (scratch files removed, the batch in flight rolled back). Only a signal left to its
    default action (SIG_DFL) is changed (an ignored one stays ignored, a program's own
    handler stays), and the previous handlers are put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    saved = []
    try:
        for name in ("SIGTERM", "SIGHUP", "SIGINT"):
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
                saved.append((signum, signal.signal(signum, handler)))
        yield
    finally:
        for signum, previous in reversed(saved):
            signal.signal(signum, previous)


def _check(store: Store, path: Path, encoding: str, result: ImportResult, progress: Progress,
           workers: int, scratch: _Scratch, cpu_free: Callable[[], None],
           book=None) -> tuple[_Layout, list[tuple[str, int]]]:
    """The check pass. A large file is split in two near the middle and the halves are
    checked at the same time, the second by a forked process; results are the same as
    checking it in one piece (which is what happens when the split turns out to fall
    inside a quoted cell). Returns the layout and the parts: (scratch schema, number of
    lines before the part). ``cpu_free`` is called once a CPU is left idle (at once when
    the file is checked in one piece, else when the child is done). The child's scratch
    file is unlinked once ATTACHed (SQLite keeps it open), so only a kill during the check
    can leave it behind (for :func:`reclaim_scratch`).

    ``book``: a workbook's sheet (``workbook.WorkbookSource``, read whole by calamine): its
    rows go through the same check, split at the middle row when there are
    ``PARALLEL_MIN_ROWS`` or more (the forked process inherits the sheet)."""
    conn = store.conn
    size = path.stat().st_size
    plan = None
    if workers > 1 and _can_fork():
        if book is not None:
            plan = book.total_rows // 2 + 1 if book.total_rows >= PARALLEL_MIN_ROWS else None
        elif size >= PARALLEL_MIN_BYTES and not encoding.startswith("utf-16"):
            plan = _plan_split(path, size)
    while True:
        _attach_scratch(conn)
        scratch.remove()
        if book is not None:
            reader, delimiter = book.reader(1, plan), ","
            total = (plan - 1) if plan else book.total_rows

            def done() -> tuple[float, str]:
                return book.rows_read, f"{book.rows_read:,}/{total:,} rows"
        else:
            source = LineSource(path, encoding, 0, plan)
            reader, delimiter = csv.reader(source, strict=True, delimiter=source.delimiter), source.delimiter
            total = plan or size

            def done() -> tuple[float, str]:
                return source.bytes_read, f"{source.bytes_read / 1e6:,.1f}/{total / 1e6:,.1f} MB"
        header, prev = _read_header(reader, result.file)
        lay = _layout(store, header, result, delimiter)
        child = None
        if plan:
            db_path, err_path = scratch.create(".sqlite", ".err")
            child = multiprocessing.get_context("fork").Process(
                target=_child_check, args=(path, encoding, plan, lay, db_path, err_path, os.getpid(), book),
                daemon=True)
            child.start()
        else:
            cpu_free()
        report = (lambda rows: progress.update(
            "checking", done()[0], total, done()[1] + (" (first half)" if plan else ""))) \
            if progress.enabled else None
        try:
            rows, rejected = _scan(conn, "imp", reader, prev, lay, report, partial=bool(plan))
            base = reader.line_num          # the lines of the first part
            _sort_part(conn, "imp")
            if child is not None:
                child.join()
        except _SplitInsideRecord:
            child.kill()
            child.join()
            plan = None                     # check the file in one piece
            continue
        except BaseException:               # SystemExit of a SIGTERM too: no checker left running
            if child is not None:
                child.kill()
                child.join()
            raise
        result.rows, result.rejected = rows, rejected
        if child is None:
            return lay, [("imp", 0)]
        cpu_free()
        if child.exitcode != 0:
            note = Path(err_path).read_text(encoding="utf-8")
            info = json.loads(note) if note else {}
            if "encoding" in info:
                raise WrongEncoding(info["encoding"], base + info["line"], info["detail"])
            plan = None                     # the child failed: check the file in one piece
            continue
        conn.execute(f"ATTACH DATABASE '{db_path}' AS imp2")
        conn.execute("PRAGMA imp2.journal_mode = OFF")
        conn.execute("PRAGMA imp2.synchronous = OFF")
        r, j = conn.execute("SELECT rows, rejected FROM imp2.meta").fetchone()
        scratch.remove()                    # open (attached) until the end; no name left behind
        result.rows += r
        result.rejected += j
        conn.execute("INSERT INTO imp.import_rej SELECT line + ?, seq, col, value, reason FROM imp2.import_rej",
                     (base,))
        return lay, [("imp", 0), ("imp2", base)]


def _merge(store: Store, result: ImportResult, parts: list[tuple[str, int]], present: list[str], actor: str,
           at: str, progress: Progress, audit_after: Callable[[], dict] | None, batch_rows: int,
           pause: float, batch_after: Callable[[], dict] | None = None) -> None:
    """Pass 2: upsert the staged rows in batches (or, for a dry run, only classify them).

    Writing: one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <a field differs>``
    per batch; a TEMP trigger notes which fields of which updated rows changed (so that
    the common case, new rows, costs no extra lookups). ``rowcount`` = inserted + updated.
    Each batch with rows gets its ``import.batch`` audit row in its transaction
    (``batch_after()``: the import's identity, completed with the batch's place, first and
    last credit codes and counts; ``batch`` is its place among the batches planned, an
    empty one, all of its rows dropped as duplicates, gets no row); the last also the
    import's row (``audit_after()``). Dry run: the same classification by a read-only
    join."""
    conn = store.conn
    cols = [k for k in _DATA_KEYS if k in present]
    where = "s.rowid BETWEEN ? AND ?"
    differs = " OR ".join(f"e.{k} IS NOT s.{k}" for k in cols)
    agg_sql = ("SELECT COUNT(*), COUNT(e.uscc), COALESCE(SUM(e.uscc IS NOT NULL AND (" + differs
               + ")), 0), " + ", ".join(f"COALESCE(SUM(e.uscc IS NOT NULL AND e.{k} IS NOT s.{k}), 0)"
                                    for k in cols)
               + " FROM {p}.import_sorted s LEFT JOIN main.enterprises e ON e.uscc = s.code WHERE " + where)
    upsert_sql = (
        "INSERT INTO main.enterprises(uscc, name, county, industry, tags, contact, phone, address, "
        "created_at, updated_at) SELECT code, name, county, industry, tags, contact, phone, address, ?, ? "
        "FROM {p}.import_sorted s WHERE " + where + " ON CONFLICT(uscc) DO UPDATE SET "
        + ", ".join(f"{k} = excluded.{k}" for k in cols) + ", updated_at = excluded.updated_at WHERE "
        + " OR ".join(f"enterprises.{k} IS NOT excluded.{k}" for k in cols))
    changes_sql = ("SELECT COUNT(*), " + ", ".join(f"COALESCE(SUM({k}), 0)" for k in cols)
                   + " FROM imp.import_changes WHERE rowid > ?")
    renamed_sql = ("SELECT DISTINCT c.code FROM imp.import_changes c WHERE c.rowid > ? AND c.name "
                   "AND EXISTS (SELECT 1 FROM main.appeals a WHERE a.enterprise_uscc = c.code)")
    count_sql = "SELECT COUNT(*) FROM {p}.import_sorted s WHERE " + where
    # the batch's first and last credit codes (rowids run in code order): two index lookups
    span_sql = ("SELECT (SELECT code FROM {p}.import_sorted WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid LIMIT 1), "
                "(SELECT code FROM {p}.import_sorted WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid DESC LIMIT 1)")
    if not result.dry_run:
        conn.execute("CREATE TABLE imp.import_changes(code TEXT, " + ", ".join(f"{k} INTEGER" for k in cols)
                     + ", before TEXT, after TEXT)")
        conn.execute("CREATE TEMP TRIGGER import_enterprise_changes AFTER UPDATE ON main.enterprises BEGIN "
                     "INSERT INTO import_changes VALUES (old.uscc, "
                     + ", ".join(f"old.{k} IS NOT new.{k}" for k in cols) + ", "
                     + "json_object(" + ", ".join(f"'{k}', old.{k}" for k in cols) + "), "
                     + "json_object(" + ", ".join(f"'{k}', new.{k}" for k in cols) + ")); END")
    batches: list[tuple[str, int, int]] = []
    total = 0
    for p, _ in parts:
        first, last, n = conn.execute(f"SELECT MIN(rowid), MAX(rowid), COUNT(*) FROM {p}.import_sorted").fetchone()
        total += n
        if n:
            batches += [(p, lo, lo + batch_rows - 1) for lo in range(first, last + 1, batch_rows)]
    if not batches:
        batches = [("imp", 1, 0)]           # nothing to write: one (empty) transaction for the audit row
    field_changes = dict.fromkeys(cols, 0)
    done = 0
    seen_changes = 0
    for n, (p, lo, hi) in enumerate(batches):
        final = n == len(batches) - 1
        if result.dry_run:
            row = conn.execute(agg_sql.format(p=p), (lo, hi)).fetchone()
            count, matched, changed = row[0], row[1], row[2]
            result.inserted += count - matched
            result.updated += changed
            result.unchanged += matched - changed
            for k, v in zip(cols, row[3:]):
                field_changes[k] += v
        else:
            with store.transaction():
                count = conn.execute(count_sql.format(p=p), (lo, hi)).fetchone()[0]
                written = conn.execute(upsert_sql.format(p=p), (at, at, lo, hi)).rowcount if count else 0
                row = conn.execute(changes_sql, (seen_changes,)).fetchone()
                changed = row[0]
                if changed:
                    for k, v in zip(cols, row[1:]):
                        field_changes[k] += v
                    for (code,) in conn.execute(renamed_sql, (seen_changes,)).fetchall():
                        result.reindexed += search.reindex_enterprise(conn, code)
                    # every updated enterprise gets its own audit row, before -> after of the
                    # fields that changed (new rows are counted in the batch's row)
                    for code, before, after in conn.execute(
                            "SELECT code, before, after FROM imp.import_changes WHERE rowid > ? "
                            "ORDER BY rowid", (seen_changes,)).fetchall():
                        b, a = json.loads(before), json.loads(after)
                        keys = [k for k in cols if b.get(k) != a.get(k)]
                        store.audit(actor, "enterprise.update", "enterprise", code,
                                    {k: b[k] for k in keys}, {k: a[k] for k in keys}, at=at)
                    seen_changes = conn.execute("SELECT MAX(rowid) FROM imp.import_changes").fetchone()[0]
                result.inserted += written - changed
                result.updated += changed
                result.unchanged += count - written
                if count and batch_after is not None:
                    # what this transaction wrote, in the audit trail with it (a kill after
                    # it leaves the enterprises it wrote accounted for)
                    first_code, last_code = conn.execute(span_sql.format(p=p), (lo, hi)).fetchone()
                    store.audit(actor, "import.batch", "import", Path(result.file).name, None,
                                {**batch_after(), "batch": n + 1, "of": len(batches),
                                 "codes": [first_code, last_code], "inserted": written - changed,
                                 "updated": changed, "unchanged": count - written}, at=at)
                if final and audit_after is not None:
                    result.field_changes = {k: v for k, v in field_changes.items() if v}
                    store.audit(actor, "import.enterprises", "import", Path(result.file).name,
                                None, audit_after(), at=at)
            if pause and not final:
                time.sleep(pause)       # let a waiting writer (escalate, the console) in
        done += count
        progress.update("writing" if not result.dry_run else "checking", done, total,
                        f"{done:,}/{total:,} rows", force=final)
    if not result.dry_run:
        conn.execute("DROP TRIGGER IF EXISTS temp.import_enterprise_changes")
    result.field_changes = {k: v for k, v in field_changes.items() if v}


def import_enterprises(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                       dry_run: bool = False, strict: bool = False,
                       report: str | os.PathLike | None = None, progress: Progress | None = None,
                       at: str | None = None, batch_rows: int = BATCH_ROWS,
                       pause: float = 0.002, workers: int = 2, sheet: str | None = None) -> ImportResult:
    """Import (upsert by credit code) the enterprise registry at ``path``: a CSV file, or
    an Excel workbook (its first visible sheet, or ``sheet``), recognised by its content.
    See the module docstring. Raises ImportFileError when the file as a whole is unusable.
    ``workers=1`` checks a large file in one process (no fork)."""
    started = time.monotonic()
    path = Path(path)
    actor = check_importer(store, who, "import_registry")
    check_report_path(report)
    if store.in_transaction:
        raise RuntimeError("import_enterprises() runs its own transactions")
    at = timeutil.iso(at)
    progress = progress or Progress()
    source, sniffed = open_source(path, encoding, sheet)
    if source.size < PROGRESS_MIN_BYTES:
        progress.enabled = False
    conn = store.conn
    result = ImportResult("enterprises", str(path), dry_run=dry_run, strict=strict)
    hasher = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    digest: list[concurrent.futures.Future] = []

    def hash_file() -> None:
        """The file's SHA-256, on a thread, once a CPU is idle (hashlib releases the GIL)."""
        if not digest:
            digest.append(hasher.submit(file_sha256, path))

    scratch = _Scratch()
    import_id = secrets.token_hex(8)
    try:
        with _signals_raise(), bounded_cells():
            try:
                reclaim_scratch(scratch.where)
                result = _import(store, path, encoding, source, sniffed, result, dry_run, strict, report,
                                 progress, at, actor, batch_rows, pause, workers, scratch, hash_file,
                                 digest, import_id)
            finally:
                scratch.remove()
                progress.close()
                _detach_scratch(conn)
    finally:
        hasher.shutdown(wait=True)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _import(store: Store, path: Path, encoding: str, source: LineSource, sniffed: bool, result: ImportResult,
            dry_run: bool, strict: bool, report: str | os.PathLike | None, progress: Progress, at: str,
            actor: str, batch_rows: int, pause: float, workers: int, scratch: _Scratch,
            hash_file: Callable[[], None], digest: list[concurrent.futures.Future],
            import_id: str) -> ImportResult:
    """The body of :func:`import_enterprises` (which owns the scratch, the signals and the
    hashing thread)."""
    conn = store.conn
    enc = source.encoding
    book = source if not isinstance(source, LineSource) else None
    while True:
        result = ImportResult("enterprises", str(path), dry_run=dry_run, strict=strict)
        try:
            lay, parts = _check(store, path, enc, result, progress, workers, scratch, hash_file, book)
            break
        except WrongEncoding as exc:
            if sniffed and enc == "utf-8":
                enc, sniffed = "gb18030", False         # not UTF-8 after all
                continue
            name = encoding_name(exc.encoding)
            other = "utf-8" if name == "gb18030" or name.startswith("utf-16") else "gb18030"
            raise ImportFileError(
                f"{path}: line {exc.line}: the file is not valid {name} "
                f"({exc.detail}); try --encoding {other}; nothing imported") from None
    result.encoding = encoding_name(enc)
    _settle_duplicates(conn, parts, result, lay.col_name, getattr(source, "row_word", "line"))
    write = not dry_run and not (strict and result.rejected)
    batches = 0

    def identity() -> dict:
        result.sha256 = digest[0].result()
        return {"import_id": import_id, "file": path.name, "sha256": result.sha256}

    def audit_after() -> dict:
        return {**identity(), "path": str(path.resolve()), "encoding": result.encoding,
                **result.counts(), "ignored_columns": result.ignored_columns, "strict": strict,
                "batches": batches}

    def batch_after() -> dict:
        nonlocal batches
        batches += 1
        return identity()

    if not (strict and result.rejected):
        _merge(store, result, parts, lay.present, actor, at, progress,
               audit_after if write else None, batch_rows, pause, batch_after if write else None)
    result.written = write
    result.sha256 = digest[0].result()
    locate = locator(source, lay.header)
    if report:
        write_report(report, conn.execute(
            "SELECT line, col, value, reason FROM imp.import_rej ORDER BY line, seq"), locate)
        result.report = str(report)
    result.rejections = located(conn.execute(
        "SELECT line, col, value, reason FROM imp.import_rej ORDER BY line, seq LIMIT ?",
        (MAX_SHOWN,)), locate)
    return result
