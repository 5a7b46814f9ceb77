"""Bulk data in and out: the enterprise registry (CSV import and export) and accounts
(CSV import). No textual here.

Enterprise import (``taian import enterprises FILE``):

1. *Check.* The file is streamed, never held whole: decoded (UTF-8, UTF-8 with BOM or
   GBK/GB18030, detected; ``--encoding`` forces), split into physical lines (control
   characters and ANSI escapes removed, tabs made spaces), parsed as CSV, every value
   normalised and validated. Valid rows go to a staging table, rejected cells to a table
   of rejections, both in a private scratch SQLite file ATTACHed for the import (deleted
   when detached; it takes no lock on the main database, and SQLite's 2 MB page cache
   keeps memory flat however large the file). The staged rows are then sorted by credit
   code; in-file duplicates become neighbours: rows that share a code but differ are
   *all* rejected (a conflict: which one is right?); an identical repeat is dropped and
   counted. Nothing in the main database has been written yet.

   A large file (``PARALLEL_MIN_BYTES``) on Linux with two CPUs or more is checked in two
   parts at once, the second by a forked process into its own scratch file (its line
   numbers offset by the first part's line count); the split is a record boundary
   (verified: if the first part ends inside a quoted cell, the file is checked in one
   piece), so the results are the same as in one piece.
2. *Merge.* Unless ``--dry-run`` (or ``--strict`` with a rejection), the staged rows are
   upserted by credit code in code order, in batches of ``BATCH_ROWS``, each batch one
   short ``BEGIN IMMEDIATE`` transaction, so ``taian escalate`` and the console get the
   write lock between batches. The import's one audit row (who, file, SHA-256, counts)
   is written in the last batch's transaction. ``--dry-run`` classifies the same batches
   read-only and reports the same counts.

Columns absent from the file are left as they are on existing enterprises; a present
column with an empty cell clears that field. Spreadsheet-formula neutralising (a leading
``'`` before ``= + - @`` tab or CR, as :func:`neutralise` writes it) is removed on import,
so an export re-imports unchanged.
"""
from __future__ import annotations

import codecs
import concurrent.futures
import csv
import dataclasses
import gc
import hashlib
import io
import itertools
import json
import multiprocessing
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from stdnum import exceptions as _stdnum_exc
from stdnum.cn import uscc as _uscc

from taian_tui.domain import rules, search, timeutil
from taian_tui.domain.models import ROLES, category_code
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError, ValidationError
from taian_tui.domain.text import clean_line, normalise_phone, strip_escapes
from taian_tui.domain.actors import actor as _actor
from taian_tui.domain.operations import UNIT_KINDS, set_routing_rule, upsert_unit, upsert_user

IMPORT_ACTOR = "system:import"

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

#: (key, Chinese header, required).
USER_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("username", "用户名", True),
    ("name", "姓名", True),
    ("role", "角色", True),
    ("unit", "单位", False),
    ("mobile", "手机号", False),
    ("scope", "范围", False),
)
USER_ALIASES: dict[str, tuple[str, ...]] = {
    "username": ("用户名", "账号", "帐号", "username", "user", "login"),
    "name": ("姓名", "name", "full_name"),
    "role": ("角色", "role"),
    "unit": ("单位", "所属单位", "unit", "unit_code"),
    "mobile": ("手机号", "手机", "手机号码", "mobile", "phone"),
    "scope": ("范围", "scope"),
}
ROLE_LABELS = {"管理员": "admin", "联络员": "liaison", "领导": "leader", "督查": "supervisor",
               "纪委": "discipline", "编辑": "editor"}
SCOPE_LABELS = {"city": "city", "市": "city", "全市": "city", "unit": "unit", "本单位": "unit",
                "单位": "unit"}

BATCH_ROWS = 20000         # rows per merge transaction (some 35 ms of write lock)
STAGE_ROWS = 500           # rows per multi-row INSERT into the staging table
PROGRESS_MIN_BYTES = 1 << 20
SAMPLE_BYTES = 1 << 20     # bytes sniffed to choose the encoding
BLOCK_BYTES = 1 << 20
MAX_SHOWN = 20             # rejections echoed when there is no --report


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (unreadable, bad header): nothing written."""


# -- spreadsheet formula neutralising ----------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(value: str) -> str:
    """A cell that a spreadsheet would run as a formula gets a leading ``'``. Values that
    already begin with quotes before such a character get one more, so that
    :func:`unneutralise` is its exact inverse."""
    if value and (value.startswith(_FORMULA_START) or _NEUTRALISED.match(value)):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Remove exactly the quote :func:`neutralise` added (nothing else)."""
    if value and value[0] == "'" and _NEUTRALISED.match(value):
        return value[1:]
    return value


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


def sniff_encoding(sample: bytes) -> str:
    """``utf-8-sig`` (BOM), ``utf-16`` (BOM), ``utf-8`` when the sample decodes, else
    ``gb18030`` (a superset of GBK and GB2312)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


ENCODINGS = {"auto": None, "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030"}


class WrongEncoding(Exception):
    def __init__(self, encoding: str, line: int, detail: str) -> None:
        super().__init__(detail)
        self.encoding, self.line, self.detail = encoding, line, detail


class LineSource:
    """The physical lines of a file (or of the bytes ``start``..``end`` of it), decoded,
    with tabs and control characters already made safe; counts the bytes read (for
    progress)."""

    def __init__(self, path: str | os.PathLike, encoding: str, start: int = 0, end: int | None = None) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.size = self.path.stat().st_size
        self.start = start
        self.end = self.size if end is None else end
        self.bytes_read = 0
        self.lines_out = 0

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[list[str]]:
        encoding = "utf-8" if self.start and self.encoding == "utf-8-sig" else self.encoding
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        utf8 = encoding in ("utf-8", "utf-8-sig")
        carry = ""
        carry_dirty = False
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
                    raise WrongEncoding(self.encoding, self.lines_out + 1, str(exc)) from None
                text = carry + text
                if utf8:
                    dirty = carry_dirty or _dirty_utf8(block, before)
                    before = block[-2:]
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
                if not final:
                    last = lines[-1]
                    if not last.endswith("\n"):      # incomplete, or a CR whose LF may follow
                        carry = lines.pop()
                        carry_dirty = dirty
                if dirty:
                    lines = [_clean_physical_line(x) for x in lines]
                if "\t" in text:
                    lines = [x.replace("\t", " ") for x in lines]
                self.lines_out += len(lines)
                yield lines
                if final:
                    return


def _line_breaks(value: str) -> int:
    return value.count("\n") + value.count("\r") - value.count("\r\n")


def _header_key(value: str) -> str:
    text = unicodedata.normalize("NFKC", clean_line(value).lstrip("\ufeff"))
    return re.sub(r"[\s_\-]+", "", unneutralise(text)).lower()


def map_header(header: Sequence[str], columns: Sequence[tuple[str, str, bool]],
               aliases: dict[str, tuple[str, ...]], file: str) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Header cells -> ({key: index}, {key: header as written}, [ignored extra columns]).
    Raises ImportFileError naming a missing required column or a repeated one."""
    lookup = {_header_key(a): key for key, names in aliases.items() for a in names}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    extra: list[str] = []
    for i, cell in enumerate(header):
        shown = clean_line(cell).lstrip("\ufeff").strip()
        key = lookup.get(_header_key(cell))
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


@dataclass
class Record:
    line: int                 # physical line where the record starts
    cells: list[str]          # raw cells
    error: str | None = None  # malformed CSV
    end: int = 0              # physical line where it ends

    def cell_line(self, i: int) -> int:
        return self.line + sum(_line_breaks(c) for c in self.cells[:i])


def records(lines: Iterable[str]) -> Iterator[Record]:
    """CSV records with the physical line each starts on (multi-line quoted cells counted).
    Malformed records come back with ``error`` set, and reading goes on."""
    reader = csv.reader(lines, strict=True)
    prev = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            msg = str(exc)
            if "unexpected end of data" in msg:
                msg = ("a quoted cell is never closed: everything from here to the end of the "
                       "file was read as one cell")
            yield Record(prev + 1, [], f"malformed CSV: {msg}", reader.line_num)
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
        text = (f"{head} {self.rows} rows read; {verb['inserted']} {self.inserted}, "
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


def _open_source(path: Path, encoding: str) -> tuple[LineSource, bool]:
    """The line source and whether the encoding was sniffed (so may be retried)."""
    enc_key = (encoding or "auto").lower()
    if enc_key not in ENCODINGS:
        raise ImportFileError(f"--encoding must be auto, utf-8 or gb18030, not {encoding!r}")
    try:
        forced = ENCODINGS[enc_key]
        if forced:
            return LineSource(path, forced), False
        with open(path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
        return LineSource(path, sniff_encoding(sample)), True
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _encoding_name(enc: str) -> str:
    return {"utf-8-sig": "utf-8", "utf-8": "utf-8", "gb18030": "gb18030", "utf-16": "utf-16"}.get(enc, enc)


def check_report_path(path: str | os.PathLike | None) -> None:
    """Refuse, before anything is read or written, a --report that could not be written
    afterwards (so that an import never lands and then fails at its report)."""
    if not path:
        return
    target = Path(path)
    where = target.parent
    if target.is_dir():
        raise ImportFileError(f"--report {target}: is a directory; nothing imported")
    if not where.is_dir():
        raise ImportFileError(f"--report {target}: the folder {where} does not exist; nothing imported")
    if not os.access(where, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ImportFileError(f"--report {target}: cannot be written here; nothing imported")


def _write_report(path: str | os.PathLike, rows: Iterable[Sequence[Any]]) -> None:
    """The rejection report: CSV (UTF-8 with BOM, for Excel) line,column,value,reason."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["line", "column", "value", "reason"])
        for line, col, value, reason in rows:
            w.writerow([line, neutralise(col or ""), neutralise(value or ""), neutralise(reason)])
    os.replace(tmp, target)


def _shorten(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


# -- enterprise import ----------------------------------------------------------------------------
_TAG_SPLIT = re.compile(r"[,，、;；|/]")
_TAG_ODD = re.compile(r"[，、;；|/\s]|,,|^,|,$")
_SCI_NUMBER = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")


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
    """The first non-blank record and the line it ends on."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            raise ImportFileError(f"{file}: the file is empty (no header row); nothing imported") from None
        except csv.Error as exc:
            raise ImportFileError(f"{file}:{reader.line_num}: the header cannot be read: {exc}") from None
        if any(c.strip() for c in cells):
            return cells, reader.line_num


@dataclass
class _Layout:
    """Where the columns are, what the row checks need (built from the header)."""
    ncols: int
    idx: list[int]                 # cell index per ENTERPRISE_COLUMNS key (ncols: absent)
    col_name: dict[str, str]       # key -> header as written (or the Chinese name)
    present: list[str]
    counties: dict[str, str]       # county name or unit code -> county name
    limits: list[tuple[str, int, int]]

    def too_long(self, vals: list[str]) -> bool:
        return any(len(vals[i]) > lim for _, i, lim in self.limits)


def _layout(store: Store, header: list[str], result: ImportResult) -> _Layout:
    counties = {name: name for name in store.counties()}
    if not counties:
        raise ImportFileError(f"{result.file}: no county or zone is known in this database yet: import the "
                              "units first (taian import units taian_tui/demo/data/units.csv); nothing imported")
    for u in store.units(("county", "zone")):
        counties.setdefault(u.code, u.name)
    index, names, extra = map_header(header, ENTERPRISE_COLUMNS, ENTERPRISE_ALIASES, result.file)
    result.ignored_columns = extra
    ncols = len(header)
    return _Layout(ncols=ncols, idx=[index.get(k, ncols) for k, _, _ in ENTERPRISE_COLUMNS],
                   col_name={k: names.get(k, zh) for k, zh, _ in ENTERPRISE_COLUMNS},
                   present=[k for k, _, _ in ENTERPRISE_COLUMNS if k in index], counties=counties,
                   limits=[(k, index[k], lim) for k, lim in ENTERPRISE_LIMITS.items() if k in index])


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
                        cells = _fit_row(cells, ncols)
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
                    if phone and (not phone.isascii() or " " in phone):
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
                            or ("E" in phone or "e" in phone) and _SCI_NUMBER.fullmatch(phone)):
                        problems = _row_problems(lay, vals, code, phone)
                        if problems:
                            rejected += 1
                            for i, key, value, reason in problems:
                                line = start + sum(map(_line_breaks, cells[:i])) if prev > start else start
                                rej.append((line, i, col_name[key], _shorten(value), reason))
                            if len(rej) >= 1000:
                                conn.executemany(rej_sql, rej)
                                rej.clear()
                            continue
                    tags = vals[i_tags]
                    if tag_odd(tags):
                        tags = normalise_tags(tags)
                    buf += (code, name, county, vals[i_ind], tags, vals[i_contact], phone, vals[i_addr],
                            start, start + sum(map(_line_breaks, cells[:i_code])) if prev > start else start)
                    if len(buf) == full:
                        conn.execute(stage_sql_n, buf)
                        buf.clear()
                        if progress is not None:
                            progress(rows)
                break
            except csv.Error as exc:
                start, prev = prev + 1, base + reader.line_num
                msg = str(exc)
                if "unexpected end of data" in msg:
                    if partial:
                        raise _SplitInsideRecord() from None
                    msg = ("a quoted cell is never closed: everything from here to the end of the "
                           "file was read as one cell")
                rows += 1
                rejected += 1
                rej.append((start, 0, "", "", f"malformed CSV: {msg}"))
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


def _fit_row(cells: list[str], ncols: int) -> list[str] | str | None:
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
                       col_name: dict[str, str]) -> None:
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
                "SELECT d.cline, -1, ?, d.code, 'conflict: the same credit code is also on line(s) ' || "
                "(SELECT group_concat(t.cline, ', ') FROM (SELECT cline FROM imp.dups t WHERE t.code = d.code "
                " AND t.line != d.line ORDER BY cline) t) || ' with different data; conflicting rows are all "
                "rejected' FROM imp.dups d WHERE d.code IN (SELECT code FROM imp.conflicts)",
                (col_name["uscc"],))
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


def _child_check(path: Path, encoding: str, start: int, lay: _Layout, db_path: str, err_path: str) -> None:
    """In a forked process: check the second part of the file into its own scratch file.
    Line numbers are counted from the start of the part (the parent, which has read the
    first part, adds its line count). Touches nothing of the parent's (its database
    connection is not used here)."""
    try:
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute(f"PRAGMA page_size = {SCRATCH_PAGE}")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(_STAGE_DDL.format(s="main"))
        conn.execute(_REJ_DDL.format(s="main"))
        reader = csv.reader(LineSource(path, encoding, start), strict=True)
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


def _check(store: Store, path: Path, encoding: str, result: ImportResult, progress: Progress,
           workers: int, tmpdir: str, cpu_free: Callable[[], None]) -> tuple[_Layout, list[tuple[str, int]]]:
    """The check pass. A large file is split in two near the middle and the halves are
    checked at the same time, the second by a forked process; results are the same as
    checking it in one piece (which is what happens when the split turns out to fall
    inside a quoted cell). Returns the layout and the parts: (scratch schema, number of
    lines before the part). ``cpu_free`` is called once a CPU is left idle (at once when
    the file is checked in one piece, else when the child is done)."""
    conn = store.conn
    size = path.stat().st_size
    plan = None
    if workers > 1 and size >= PARALLEL_MIN_BYTES and encoding != "utf-16" and _can_fork():
        plan = _plan_split(path, size)
    while True:
        _attach_scratch(conn)
        source = LineSource(path, encoding, 0, plan)
        reader = csv.reader(source, strict=True)
        header, prev = _read_header(reader, result.file)
        lay = _layout(store, header, result)
        child = None
        if plan:
            db_path, err_path = os.path.join(tmpdir, "part2.db"), os.path.join(tmpdir, "part2.err")
            for p in (db_path, err_path):
                Path(p).unlink(missing_ok=True)
            child = multiprocessing.get_context("fork").Process(
                target=_child_check, args=(path, encoding, plan, lay, db_path, err_path),
                daemon=True)
            child.start()
        else:
            cpu_free()
        total = plan or size
        report = (lambda rows: progress.update(
            "checking", source.bytes_read, total,
            f"{source.bytes_read / 1e6:,.1f}/{total / 1e6:,.1f} MB" + (" (first half)" if plan else ""))) \
            if progress.enabled else None
        try:
            rows, rejected = _scan(conn, "imp", reader, prev, lay, report, partial=bool(plan))
        except _SplitInsideRecord:
            child.kill()
            child.join()
            plan = None                     # check the file in one piece
            continue
        except BaseException:
            if child is not None:
                child.kill()
                child.join()
            raise
        base = reader.line_num              # the lines of the first part
        _sort_part(conn, "imp")
        result.rows, result.rejected = rows, rejected
        if child is None:
            return lay, [("imp", 0)]
        child.join()
        cpu_free()
        if child.exitcode != 0:
            info = json.loads(Path(err_path).read_text(encoding="utf-8")) if Path(err_path).exists() else {}
            if "encoding" in info:
                raise WrongEncoding(info["encoding"], base + info["line"], info["detail"])
            plan = None                     # the child failed: check the file in one piece
            continue
        conn.execute(f"ATTACH DATABASE '{db_path}' AS imp2")
        conn.execute("PRAGMA imp2.journal_mode = OFF")
        conn.execute("PRAGMA imp2.synchronous = OFF")
        r, j = conn.execute("SELECT rows, rejected FROM imp2.meta").fetchone()
        result.rows += r
        result.rejected += j
        conn.execute("INSERT INTO imp.import_rej SELECT line + ?, seq, col, value, reason FROM imp2.import_rej",
                     (base,))
        return lay, [("imp", 0), ("imp2", base)]


def _merge(store: Store, result: ImportResult, parts: list[tuple[str, int]], present: list[str], actor: str,
           at: str, progress: Progress, audit_after: Callable[[], dict] | None, batch_rows: int,
           pause: float) -> None:
    """Pass 2: upsert the staged rows in batches (or, for a dry run, only classify them).

    Writing: one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <a field differs>``
    per batch; a TEMP trigger notes which fields of which updated rows changed (so that
    the common case, new rows, costs no extra lookups). ``rowcount`` = inserted + updated.
    Dry run: the same classification by a read-only join."""
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
                    # fields that changed (new rows are counted in the import's own row)
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


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK_BYTES), b""):
            h.update(block)
    return h.hexdigest()


def import_enterprises(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                       dry_run: bool = False, strict: bool = False,
                       report: str | os.PathLike | None = None, progress: Progress | None = None,
                       at: str | None = None, batch_rows: int = BATCH_ROWS,
                       pause: float = 0.002, workers: int = 2) -> ImportResult:
    """Import (upsert by credit code) the enterprise registry CSV at ``path``. See the
    module docstring. Raises ImportFileError when the file as a whole is unusable.
    ``workers=1`` checks a large file in one process (no fork)."""
    started = time.monotonic()
    path = Path(path)
    actor = check_importer(store, who, "import_registry")
    check_report_path(report)
    if store.in_transaction:
        raise RuntimeError("import_enterprises() runs its own transactions")
    at = timeutil.iso(at)
    progress = progress or Progress()
    source, sniffed = _open_source(path, encoding)
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

    try:
        with tempfile.TemporaryDirectory(prefix="taian-import-") as tmpdir:
            enc = source.encoding
            while True:
                result = ImportResult("enterprises", str(path), dry_run=dry_run, strict=strict)
                try:
                    lay, parts = _check(store, path, enc, result, progress, workers, tmpdir, hash_file)
                    break
                except WrongEncoding as exc:
                    if sniffed and enc == "utf-8":
                        enc, sniffed = "gb18030", False         # not UTF-8 after all
                        continue
                    other = "gb18030" if _encoding_name(exc.encoding) != "gb18030" else "utf-8"
                    raise ImportFileError(
                        f"{path}: line {exc.line}: the file is not valid {_encoding_name(exc.encoding)} "
                        f"({exc.detail}); try --encoding {other}; nothing imported") from None
            result.encoding = _encoding_name(enc)
            _settle_duplicates(conn, parts, result, lay.col_name)
            write = not dry_run and not (strict and result.rejected)

            def audit_after() -> dict:
                result.sha256 = digest[0].result()
                return {"file": path.name, "path": str(path.resolve()), "sha256": result.sha256,
                        "encoding": result.encoding, **result.counts(),
                        "ignored_columns": result.ignored_columns, "strict": strict}

            if not (strict and result.rejected):
                _merge(store, result, parts, lay.present, actor, at, progress,
                       audit_after if write else None, batch_rows, pause)
            result.written = write
            result.sha256 = digest[0].result()
            if report:
                _write_report(report, conn.execute(
                    "SELECT line, col, value, reason FROM imp.import_rej ORDER BY line, seq"))
                result.report = str(report)
            result.rejections = [Rejection(*r) for r in conn.execute(
                "SELECT line, col, value, reason FROM imp.import_rej ORDER BY line, seq LIMIT ?",
                (MAX_SHOWN,))]
            progress.close()
            _detach_scratch(conn)
    finally:
        progress.close()
        _detach_scratch(conn)
        hasher.shutdown(wait=True)
    result.seconds = round(time.monotonic() - started, 3)
    return result


# -- enterprise export ------------------------------------------------------------------------------
EXPORT_FORMATS = ("csv", "json")


def export_enterprises(store: Store, out: TextIO, fmt: str = "csv") -> int:
    """Write every enterprise to ``out``: CSV with the Chinese headers of the import
    (cells neutralised against spreadsheet formulas; open ``out`` with ``utf-8-sig`` so
    Excel reads it), or a JSON array with the English keys. Streams; returns the count."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"--format must be csv or json, not {fmt!r}")
    keys = [k for k, _, _ in ENTERPRISE_COLUMNS]
    cols = ", ".join("uscc" if k == "uscc" else k for k in keys)
    cur = store.conn.execute(f"SELECT {cols} FROM enterprises ORDER BY rowid")
    n = 0
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow([zh for _, zh, _ in ENTERPRISE_COLUMNS])
        for row in cur:
            w.writerow([neutralise(v if v is not None else "") for v in row])
            n += 1
        return n
    out.write("[")
    for row in cur:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(dict(zip(keys, row)), ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


# -- small tables: accounts, units, routing rules ------------------------------------------------
_MOBILE = re.compile(r"\+?[0-9][0-9-]{5,19}")
_USERNAME = re.compile(r"[^\s,;]{1,64}")

Problem = tuple[str, str, str]          # (column key, value, reason)
RowCheck = Callable[[Callable[[str], str], set[str]], tuple[dict, list[Problem]]]


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class _Table:
    """A small CSV import applied row by row through one domain operation. Such files have
    hundreds of rows, so they are checked in memory, then applied in one transaction, one
    SAVEPOINT a row (a row the operation refuses is rejected, the others land); a dry run or
    a strict import with a rejection rolls the whole transaction back."""
    kind: str                                       # ImportResult.kind; audit action import.<kind>
    action: str                                     # its rule (``rules.ACTIONS``)
    columns: tuple[tuple[str, str, bool], ...]
    aliases: dict[str, tuple[str, ...]]
    key: tuple[str, ...]                            # the columns naming a row (a repeat: conflict)
    prepare: Callable[[Store], RowCheck]            # -> check(get cell, present keys) -> (data, problems)
    apply: Callable[[Store, str, dict, set[str], str], str]    # -> inserted | updated | unchanged


def _import_table(store: Store, who: str, path: str | os.PathLike, table: _Table, *, encoding: str,
                  dry_run: bool, strict: bool, report: str | os.PathLike | None,
                  at: str | None) -> ImportResult:
    started = time.monotonic()
    path = Path(path)
    actor = check_importer(store, who, table.action)
    check_report_path(report)
    if store.in_transaction:
        raise RuntimeError(f"import {table.kind} runs its own transaction")
    at = timeutil.iso(at)
    source, sniffed = _open_source(path, encoding)
    check = table.prepare(store)
    rejections: list[tuple[int, int, str, str, str]] = []
    while True:
        result = ImportResult(table.kind, str(path), dry_run=dry_run, strict=strict)
        rejections.clear()
        try:
            present, col_name, rows = _check_table(source, result, table, check, rejections)
            break
        except WrongEncoding as exc:
            if sniffed and source.encoding == "utf-8":
                source, sniffed = LineSource(path, "gb18030"), False
                continue
            raise ImportFileError(f"{path}: line {exc.line}: the file is not valid "
                                  f"{_encoding_name(exc.encoding)} ({exc.detail}); nothing imported") from None
    result.encoding = _encoding_name(source.encoding)
    result.sha256 = file_sha256(path)
    if not (strict and result.rejected):
        try:
            with store.transaction():
                conn = store.conn
                for line, data in rows:
                    conn.execute("SAVEPOINT import_row")
                    try:
                        outcome = table.apply(store, actor, data, present, at)
                    except DomainError as exc:
                        conn.execute("ROLLBACK TO import_row")
                        conn.execute("RELEASE import_row")
                        result.rejected += 1
                        rejections.append((line, 0, col_name[table.key[-1]], str(data[table.key[-1]]), str(exc)))
                        continue
                    conn.execute("RELEASE import_row")
                    setattr(result, outcome, getattr(result, outcome) + 1)
                if dry_run or (strict and result.rejected):
                    raise _Rollback()
                store.audit(actor, f"import.{table.kind}", "import", path.name, None,
                            {"file": path.name, "path": str(path.resolve()), "sha256": result.sha256,
                             "encoding": result.encoding, **result.counts(),
                             "ignored_columns": result.ignored_columns, "strict": strict}, at=at)
                result.written = True
        except _Rollback:
            pass
    if result.strict and result.rejected:
        result.inserted = result.updated = result.unchanged = 0
    rejections.sort(key=lambda r: (r[0], r[1]))
    if report:
        _write_report(report, ((r[0], r[2], r[3], r[4]) for r in rejections))
        result.report = str(report)
    result.rejections = [Rejection(r[0], r[2], r[3], r[4]) for r in rejections[:MAX_SHOWN]]
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _check_table(source: LineSource, result: ImportResult, table: _Table, check: RowCheck,
                 rejections: list) -> tuple[set[str], dict[str, str], list[tuple[int, dict]]]:
    """Every row checked: (present column keys, column names as written, [(line, data)])."""
    recs = records(source)
    header = None
    for rec in recs:
        if rec.error:
            raise ImportFileError(f"{result.file}:{rec.line}: the header cannot be read: {rec.error}")
        if any(c.strip() for c in rec.cells):
            header = rec
            break
    if header is None:
        raise ImportFileError(f"{result.file}: the file is empty (no header row); nothing imported")
    index, names, extra = map_header(header.cells, table.columns, table.aliases, result.file)
    result.ignored_columns = extra
    present = {k for k, _, _ in table.columns if k in index}
    col_name = {k: names.get(k, zh) for k, zh, _ in table.columns}
    ncols = len(header.cells)
    seen: dict[tuple, tuple[int, tuple, int]] = {}      # key -> (line, data, position in rows)
    rows: list[tuple[int, dict] | None] = []
    conflicted: set[tuple] = set()

    def reject(rec: Record, key: str, value: str, reason: str) -> None:
        i = index.get(key, -1)
        line = rec.cell_line(i) if i >= 0 else rec.line
        rejections.append((line, i, col_name.get(key, key), _shorten(value), reason))

    for rec in recs:
        if rec.error:
            result.rows += 1
            result.rejected += 1
            rejections.append((rec.line, 0, "", "", rec.error))
            continue
        cells = rec.cells if len(rec.cells) == ncols else _fit_row(rec.cells, ncols)
        if cells is None:
            continue
        if isinstance(cells, str):
            result.rows += 1
            result.rejected += 1
            rejections.append((rec.line, 0, "", "", cells))
            continue
        vals = [unneutralise(clean_line(c)) for c in cells]
        if not any(vals):
            continue
        result.rows += 1
        data, problems = check(lambda k: vals[index[k]] if k in index else "", present)
        if problems:
            result.rejected += 1
            for key, value, reason in problems:
                reject(rec, key, value, reason)
            continue
        key = tuple(data[k] for k in table.key)
        shown = "/".join(map(str, key))
        if key in seen:
            first_line, first_data, pos = seen[key]
            if tuple(data.values()) == first_data:
                result.duplicates += 1
                continue
            what = " and ".join(col_name[k] for k in table.key)
            if key not in conflicted:          # reject the first one too
                conflicted.add(key)
                rows[pos] = None
                result.rejected += 1
                rejections.append((first_line, index[table.key[-1]], col_name[table.key[-1]], shown,
                                   f"conflict: the same {what} is also on line {rec.line} with "
                                   "different data; conflicting rows are all rejected"))
            result.rejected += 1
            reject(rec, table.key[-1], shown, f"conflict: the same {what} is also on line "
                   f"{first_line} with different data; conflicting rows are all rejected")
            continue
        seen[key] = (rec.line, tuple(data.values()), len(rows))
        rows.append((rec.line, data))
    return present, col_name, [r for r in rows if r is not None]


def _unit_lookup(store: Store) -> dict[str, str]:
    """Unit code or name -> code."""
    units: dict[str, str] = {}
    for u in store.units():
        units[u.code] = u.code
        units.setdefault(u.name, u.code)
    return units


# accounts
def role_code(value: str) -> str | None:
    text = value.strip()
    if text.lower() in ROLES:
        return text.lower()
    return ROLE_LABELS.get(text)


def _user_check(store: Store) -> RowCheck:
    units = _unit_lookup(store)

    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        username = get("username")
        if not username:
            problems.append(("username", "", "the username is required"))
        elif not _USERNAME.fullmatch(username):
            problems.append(("username", username, "a username has no spaces, commas or semicolons "
                             "and at most 64 characters"))
        name = get("name")
        if not name:
            problems.append(("name", "", "the name is required"))
        role = role_code(get("role"))
        if role is None:
            problems.append(("role", get("role"), "unknown role: one of " + ", ".join(
                f"{code}/{label}" for label, code in ROLE_LABELS.items())))
        unit = None
        if get("unit"):
            unit = units.get(get("unit"))
            if unit is None:
                problems.append(("unit", get("unit"), "no such unit (give its code or its name)"))
        mobile = normalise_phone(get("mobile")) if get("mobile") else ""
        if mobile and not _MOBILE.fullmatch(mobile):
            problems.append(("mobile", get("mobile"), "not a phone number (digits, optionally + and -)"))
        scope = ""
        if get("scope"):
            scope = SCOPE_LABELS.get(get("scope").lower(), "")
            if not scope:
                problems.append(("scope", get("scope"), "scope is city (市) or unit (本单位)"))
        if role == "liaison":
            if "unit" in present and not get("unit"):
                problems.append(("unit", "", "a liaison belongs to a unit"))
            if "mobile" in present and not mobile:
                problems.append(("mobile", "", "a liaison needs a mobile number (reminder SMS go to it)"))
        if role == "leader" and scope == "unit" and "unit" in present and not unit:
            problems.append(("scope", get("scope"), "a leader with scope unit needs a unit"))
        return ({"username": username, "name": name, "role": role, "unit": unit, "mobile": mobile,
                 "scope": scope}, problems)
    return check


def _user_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    """Columns absent from the file keep what the account has (unit, mobile, scope)."""
    existing = store.one("SELECT * FROM users WHERE username = ?", (data["username"],))
    unit = data["unit"] if "unit" in present else (existing["unit_code"] if existing else None)
    mobile = data["mobile"] if "mobile" in present else (existing["mobile"] if existing else "")
    if data["scope"]:
        scope = data["scope"]
    elif existing is not None and existing["role"] == data["role"] and "unit" not in present:
        scope = existing["scope"]
    else:
        scope = "unit" if data["role"] == "leader" and unit else "city"
    return upsert_user(store, actor, data["username"], data["name"], data["role"],
                       unit_code=unit or None, mobile=mobile or "", scope=scope, at=at)


USER_TABLE = _Table("users", "manage_users", USER_COLUMNS, USER_ALIASES, ("username",), _user_check,
                    _user_apply)


def import_users(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                 dry_run: bool = False, strict: bool = False,
                 report: str | os.PathLike | None = None, at: str | None = None) -> ImportResult:
    """Import accounts (``operations.upsert_user`` per row) from a CSV with the columns
    username, name, role, unit, mobile (or 用户名, 姓名, 角色, 单位, 手机号; scope/范围
    optional). Role by code or Chinese label, unit by code or name."""
    return _import_table(store, who, path, USER_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at)


# units
UNIT_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "代码", True),
    ("name", "单位名称", True),
    ("kind", "类型", True),
    ("head_name", "负责人", False),
    ("head_mobile", "负责人手机", False),
)
UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("代码", "单位代码", "编码", "code", "unit_code"),
    "name": ("单位名称", "名称", "单位", "name", "unit_name"),
    "kind": ("类型", "单位类型", "kind", "type"),
    "head_name": ("负责人", "负责人姓名", "head", "head_name"),
    "head_mobile": ("负责人手机", "负责人电话", "head_mobile", "head_phone"),
}
UNIT_KIND_LABELS = {"县": "county", "县区": "county", "县市区": "county", "县（市、区）": "county",
                    "功能区": "zone", "部门": "department", "市直部门": "department",
                    "督查室": "supervision", "纪委监委": "discipline", "平台": "platform"}
_UNIT_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def _unit_check(store: Store) -> RowCheck:
    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        code = get("code")
        if not _UNIT_CODE.fullmatch(code):
            problems.append(("code", code, "a unit code is 1-32 letters, digits, '-', '_' or '.'"
                             if code else "the unit code is required"))
        name = get("name")
        if not name:
            problems.append(("name", "", "the unit name is required"))
        kind = get("kind").lower() if get("kind").lower() in UNIT_KINDS else UNIT_KIND_LABELS.get(get("kind"))
        if kind is None:
            problems.append(("kind", get("kind"), "unknown kind: one of " + ", ".join(
                f"{code}/{label}" for label, code in UNIT_KIND_LABELS.items() if label in
                ("县市区", "功能区", "市直部门", "督查室", "纪委监委", "平台"))))
        mobile = normalise_phone(get("head_mobile")) if get("head_mobile") else ""
        if mobile and not _MOBILE.fullmatch(mobile):
            problems.append(("head_mobile", get("head_mobile"), "not a phone number (digits, optionally + and -)"))
        return {"code": code, "name": name, "kind": kind, "head_name": get("head_name"),
                "head_mobile": mobile}, problems
    return check


def _unit_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    """Columns absent from the file keep what the unit has (its head)."""
    existing = store.one("SELECT head_name, head_mobile FROM units WHERE code = ?", (data["code"],))
    head = {k: data[k] if k in present else (existing[k] if existing else "")
            for k in ("head_name", "head_mobile")}
    return upsert_unit(store, actor, data["code"], data["name"], data["kind"], at=at, **head)


UNIT_TABLE = _Table("units", "manage_units", UNIT_COLUMNS, UNIT_ALIASES, ("code",), _unit_check, _unit_apply)


def import_units(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                 dry_run: bool = False, strict: bool = False,
                 report: str | os.PathLike | None = None, at: str | None = None) -> ImportResult:
    """Import units (``operations.upsert_unit`` per row, by code) from a CSV with the columns
    code, name, kind, head_name, head_mobile (or 代码, 单位名称, 类型, 负责人, 负责人手机).
    Kind by code or label (县市区, 功能区, 市直部门, 督查室, 纪委监委, 平台)."""
    return _import_table(store, who, path, UNIT_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at)


# routing rules
ROUTING_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("category", "类别", True),
    ("county", "县市区", True),
    ("unit", "承办单位", True),
)
ROUTING_ALIASES: dict[str, tuple[str, ...]] = {
    "category": ("类别", "诉求类别", "category"),
    "county": ("县市区", "所属县市区", "区县", "county"),
    "unit": ("承办单位", "单位", "unit", "unit_code"),
}


def _routing_check(store: Store) -> RowCheck:
    units = _unit_lookup(store)
    counties = store.counties()

    def check(get: Callable[[str], str], present: set[str]) -> tuple[dict, list[Problem]]:
        problems: list[Problem] = []
        try:
            category = category_code(get("category"))
        except ValueError as exc:
            category = ""
            problems.append(("category", get("category"), str(exc)))
        county = get("county")
        if county not in counties:
            problems.append(("county", county, "unknown county or zone: one of " + "、".join(counties)
                             if counties else "no county or zone is known yet: import the units first"))
        unit = units.get(get("unit"))
        if unit is None:
            problems.append(("unit", get("unit"), "no such unit (give its code or its name)"))
        return {"category": category, "county": county, "unit": unit}, problems
    return check


def _routing_apply(store: Store, actor: str, data: dict, present: set[str], at: str) -> str:
    return set_routing_rule(store, actor, data["category"], data["county"], data["unit"], at=at)


ROUTING_TABLE = _Table("routing", "routing_rules", ROUTING_COLUMNS, ROUTING_ALIASES,
                       ("category", "county"), _routing_check, _routing_apply)


def import_routing(store: Store, who: str, path: str | os.PathLike, *, encoding: str = "auto",
                   dry_run: bool = False, strict: bool = False,
                   report: str | os.PathLike | None = None, at: str | None = None) -> ImportResult:
    """Import routing rules (``operations.set_routing_rule`` per row): which unit handles the
    appeals of a category in a county. Columns category, county, unit (or 类别, 县市区,
    承办单位); category in either spelling (land or 土地), unit by code or name."""
    return _import_table(store, who, path, ROUTING_TABLE, encoding=encoding, dry_run=dry_run, strict=strict,
                         report=report, at=at)


# -- calendar import ---------------------------------------------------------------------------------
CALENDAR_COLUMNS: tuple[tuple[str, str, bool], ...] = (("date", "日期", True), ("kind", "类型", True))
CALENDAR_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("日期", "date", "day"),
    "kind": ("类型", "种类", "安排", "kind", "type"),
}
#: What a calendar file may say for each kind (Chinese as the State Council notice words it).
CALENDAR_KINDS = {
    "holiday": ("holiday", "节假日", "假日", "放假", "休", "休息", "休息日"),
    "workday": ("workday", "工作日", "补班", "上班", "班", "调休上班", "调休上班日"),
}
_KIND_LOOKUP = {w: kind for kind, words in CALENDAR_KINDS.items() for w in words}
# 2027-01-01, 2027/1/1 (how Excel on a Chinese PC writes a date cell to CSV), 2027.1.1,
# 2027年1月1日
_CALENDAR_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def read_calendar(path: str | os.PathLike, encoding: str = "auto") -> tuple[list[tuple[str, str]], list[str]]:
    """The (ISO date, holiday|workday) rows of a calendar CSV and the problems found, one
    ``file:line: column: reason`` each. Same reading as the other imports: UTF-8 (BOM or
    not) or GBK/GB18030, Chinese or English headers (date/日期, kind/类型). Raises
    ImportFileError when the file as a whole is unusable."""
    path = Path(path)
    source, sniffed = _open_source(path, encoding)
    while True:
        try:
            return _read_calendar(source, str(path))
        except WrongEncoding as exc:
            if sniffed and source.encoding == "utf-8":
                source, sniffed = LineSource(path, "gb18030"), False
                continue
            raise ImportFileError(f"{path}: line {exc.line}: the file is not valid "
                                  f"{_encoding_name(exc.encoding)} ({exc.detail}); nothing imported") from None


def _read_calendar(source: LineSource, file: str) -> tuple[list[tuple[str, str]], list[str]]:
    import datetime as _dt

    recs = records(source)
    header = next((r for r in recs if r.error or any(c.strip() for c in r.cells)), None)
    if header is None:
        raise ImportFileError(f"{file}: the file is empty (no header row); nothing imported")
    if header.error:
        raise ImportFileError(f"{file}:{header.line}: the header cannot be read: {header.error}")
    index, names, _ = map_header(header.cells, CALENDAR_COLUMNS, CALENDAR_ALIASES, file)
    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    for rec in recs:
        if rec.error:
            problems.append(f"{file}:{rec.line}: {rec.error}")
            continue
        vals = [unneutralise(clean_line(c)) for c in rec.cells]
        if not any(vals):
            continue
        raw_date = vals[index["date"]] if index["date"] < len(vals) else ""
        raw_kind = vals[index["kind"]] if index["kind"] < len(vals) else ""
        m = _CALENDAR_DATE.fullmatch(unicodedata.normalize("NFKC", raw_date))
        day = None
        if m:
            try:
                day = _dt.date(*map(int, m.groups()))
            except ValueError:
                pass
        if day is None:
            problems.append(f"{file}:{rec.line}: {names['date']}: {raw_date!r} is not a date "
                            "(YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)")
        kind = _KIND_LOOKUP.get(raw_kind.lower())
        if kind is None:
            problems.append(f"{file}:{rec.line}: {names['kind']}: {raw_kind!r} must be holiday or workday "
                            f"({'/'.join(CALENDAR_KINDS['holiday'][1:])} or "
                            f"{'/'.join(CALENDAR_KINDS['workday'][1:])})")
        if day is not None and kind is not None:
            rows.append((day.isoformat(), kind))
    return rows, problems
