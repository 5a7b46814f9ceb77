"""Reading the files offices send, shared by every import: encodings (UTF-8, UTF-8 with
BOM, GBK/GB18030, sniffed), physical lines cleaned of control characters and escapes,
CSV records with their line numbers, headers mapped from Chinese or English names, the
spreadsheet formula neutralising of exports and its undoing on import, progress, results
and the report of rejected rows. No textual here.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import itertools
import os
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, TextIO


from taian_tui.domain import rules
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.domain.text import clean_line, strip_escapes
from taian_tui.domain.actors import actor as _actor


IMPORT_ACTOR = "system:import"


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


def line_breaks(value: str) -> int:
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
        return self.line + sum(line_breaks(c) for c in self.cells[:i])


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


def open_source(path: Path, encoding: str) -> tuple[LineSource, bool]:
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


def encoding_name(enc: str) -> str:
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


def write_report(path: str | os.PathLike, rows: Iterable[Sequence[Any]]) -> None:
    """The rejection report: CSV (UTF-8 with BOM, for Excel) line,column,value,reason."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["line", "column", "value", "reason"])
        for line, col, value, reason in rows:
            w.writerow([line, neutralise(col or ""), neutralise(value or ""), neutralise(reason)])
    os.replace(tmp, target)


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
