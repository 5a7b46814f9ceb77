"""Data back out (``taian export``): any table of typed columns written as an Excel workbook
(.xlsx, streamed with xlsxwriter's ``constant_memory``) or as CSV (UTF-8 with BOM, for
Excel); and the enterprise registry's rows (the import's columns, so an export re-imports
unchanged). The lists themselves (appeals, supervision orders, red cards, the 三率 ranking)
are built on the read side (``read.exports``); this module only writes.

A table is ``columns`` — (Chinese header, kind) pairs — and ``rows`` of Python values:

=========== ===================================== ===================================
kind        value                                 in the workbook
=========== ===================================== ===================================
``text``    str (None: empty)                     a string cell (never a formula)
``int``     int                                   a number
``wan``     float, 万元                            a number, ``#,##0.00``
``percent`` a fraction (0.8333) or None           a number, ``0.0%``
``date``    ``YYYY-MM-DD``                        a date
``datetime`` a stored time, ``…T…+08:00``         a date and time (Beijing time), ``yyyy-mm-dd hh:mm``
=========== ===================================== ===================================

The workbook: a title row (what, as of when, filtered how) merged across the table, the
header row under it (bold), both frozen; column widths fitted to the longest value (East
Asian wide characters count two), at most ``MAX_WIDTH``. A text that a spreadsheet would
read as a formula (``= + - @``, tab, CR) is written as a string with Excel's quote prefix:
shown as it is, never run. The CSV: the header row first (no title row: scripts and the
imports read it as it is), cells neutralised with a ``'`` (:func:`reading.neutralise`),
times as stored (ISO 8601, +08:00), rates as fractions.

Files are written by :func:`private_output`: a hidden private temporary file beside the
target (mode 0600), named the target only once complete. :func:`write_listing` writes a
list of the read side (``read.exports.Table``), reporting progress as its rows stream: the
command line's ``taian export`` and the console's export key both go through it. The
console has no file dialog: it writes into the user's folder beside the database
(:func:`personal_export`, ``exports/USER/``, mode 0700). A person who reaches the console
over SSH fetches those files with their key (``taian session``: ``exports list``,
``exports get NAME``): :func:`personal_files` and :func:`open_personal_export` give the
plain files of that person's folder only, opened without following a link.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import errno
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, TextIO


from taian_tui.store import Store, private_output
from taian_tui.domain.refusals import ValidationError
from taian_tui.dataio.reading import FORMULA_START, neutralise
from taian_tui.dataio.registry import ENTERPRISE_COLUMNS


# -- enterprise export ------------------------------------------------------------------------------
EXPORT_FORMATS = ("csv", "json")


#: The registry's columns for :func:`write_table`: the import's Chinese headers, all text.
ENTERPRISE_TABLE_COLUMNS = tuple((zh, "text") for _, zh, _ in ENTERPRISE_COLUMNS)


def enterprise_rows(store: Store) -> Iterator[tuple]:
    """Every enterprise, in the import's columns (``ENTERPRISE_COLUMNS``), streamed."""
    cols = ", ".join(k for k, _, _ in ENTERPRISE_COLUMNS)
    # (a loop, not ``yield from``: a generator dropped half-way, its reader gone, would close
    # the cursor of a store already closed)
    for row in store.conn.execute(f"SELECT {cols} FROM enterprises ORDER BY rowid"):
        yield row


def export_enterprises(store: Store, out: TextIO, fmt: str = "csv") -> int:
    """Write every enterprise to ``out``: CSV with the Chinese headers of the import
    (cells neutralised against spreadsheet formulas; open ``out`` with ``utf-8-sig`` so
    Excel reads it), or a JSON array with the English keys. Streams; returns the count.
    (The workbook: :func:`write_table` with ``ENTERPRISE_TABLE_COLUMNS``.)"""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(f"--format must be csv or json, not {fmt!r}")
    if fmt == "csv":
        return write_csv(out, ENTERPRISE_TABLE_COLUMNS, enterprise_rows(store))
    keys = [k for k, _, _ in ENTERPRISE_COLUMNS]
    n = 0
    out.write("[")
    for row in enterprise_rows(store):
        out.write(",\n" if n else "\n")
        out.write(json.dumps(dict(zip(keys, row)), ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


# -- tables ----------------------------------------------------------------------------------------
TABLE_FORMATS = ("xlsx", "csv")
MAX_WIDTH = 60              # characters (wide ones count two) a column is made wide at most
MIN_WIDTH = 6
_BEIJING = _dt.timezone(_dt.timedelta(hours=8))


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a spreadsheet: East Asian wide and full-width
    characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def local_time(value: str | _dt.datetime) -> _dt.datetime:
    """A stored time (``2026-10-12T23:59:59+08:00``) as the naive Beijing time a workbook holds."""
    dt = _dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is not None:
        dt = dt.astimezone(_BEIJING).replace(tzinfo=None)
    return dt


def _csv_cell(kind: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind == "text":
        return neutralise(str(value))
    if kind == "percent":
        return round(value, 4)
    if kind == "date" and isinstance(value, _dt.date):
        return value.isoformat()
    return value


def write_csv(out: TextIO, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> int:
    """The header row, then the rows (see the module's docstring); returns the rows written.
    ``out``: a text stream opened with ``utf-8-sig`` and ``newline=""``."""
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(h) for h, _ in columns])
    kinds = [k for _, k in columns]
    n = 0
    for row in rows:
        w.writerow([_csv_cell(k, v) for k, v in zip(kinds, row)])
        n += 1
    return n


def write_xlsx(path: str | os.PathLike, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]], *,
               sheet: str, title: str) -> int:
    """The workbook at ``path`` (see the module's docstring), streamed row by row in
    constant memory; returns the rows written."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    try:
        ws = book.add_worksheet(_sheet_name(sheet))
        title_fmt = book.add_format({"bold": True, "font_size": 14, "valign": "vcenter"})
        head_fmt = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                    "valign": "vcenter"})
        quoted = book.add_format({"quote_prefix": True})
        formats = {"int": book.add_format({"num_format": "0"}),
                   "wan": book.add_format({"num_format": "#,##0.00"}),
                   "percent": book.add_format({"num_format": "0.0%"}),
                   "date": book.add_format({"num_format": "yyyy-mm-dd"}),
                   "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"})}
        ncols = len(columns)
        if ncols > 1:
            ws.merge_range(0, 0, 0, ncols - 1, title, title_fmt)
        else:
            ws.write_string(0, 0, title, title_fmt)
        ws.set_row(0, 24)
        widths = []
        for c, (header, kind) in enumerate(columns):
            ws.write_string(1, c, header, head_fmt)
            widths.append(max(display_width(header), {"datetime": 16, "date": 10}.get(kind, 0)))
        ws.freeze_panes(2, 0)
        kinds = [k for _, k in columns]
        r = 1
        for r, row in enumerate(rows, start=2):
            for c, (kind, value) in enumerate(zip(kinds, row)):
                if value is None or value == "":
                    continue
                if kind == "text":
                    text = str(value)
                    ws.write_string(r, c, text, quoted if text.startswith(FORMULA_START) else None)
                    if 2 * len(text) > widths[c]:          # (else it cannot be wider: skip the count)
                        width = display_width(text) if len(text) < 2 * MAX_WIDTH else MAX_WIDTH
                        if width > widths[c]:
                            widths[c] = width
                elif kind == "datetime":
                    ws.write_datetime(r, c, local_time(value), formats["datetime"])
                elif kind == "date":
                    day = _dt.date.fromisoformat(value) if isinstance(value, str) else value
                    ws.write_datetime(r, c, _dt.datetime(day.year, day.month, day.day), formats["date"])
                else:
                    ws.write_number(r, c, value, formats.get(kind))
                    if kind == "int" and len(str(value)) > widths[c]:
                        widths[c] = len(str(value))
        for c, width in enumerate(widths):
            ws.set_column(c, c, min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
        book.close()
    except BaseException:
        with contextlib.suppress(Exception):
            book.fileclosed = True          # nothing more to write: no close() on a failure
        raise
    return r - 1


_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _sheet_name(name: str) -> str:
    """A name Excel takes for a sheet: at most 31 characters, none of ``[]:*?/\\``."""
    return (name.translate(_SHEET_FORBIDDEN).strip("'") or "Sheet1")[:31]


def write_table(target: str | os.PathLike, fmt: str, columns: Sequence[tuple[str, str]],
                rows: Iterable[Sequence[Any]], *, sheet: str, title: str, force: bool = False) -> int:
    """Write the table to ``target`` as ``fmt`` (xlsx or csv) through :func:`private_output`;
    returns the rows written."""
    if fmt not in TABLE_FORMATS:
        raise ValidationError(f"--format must be xlsx or csv, not {fmt!r}")
    with private_output(target, force=force) as partial:
        if fmt == "xlsx":
            return write_xlsx(partial, columns, rows, sheet=sheet, title=title)
        with open(partial, "w", encoding="utf-8-sig", newline="") as fh:
            return write_csv(fh, columns, rows)


# -- lists of the read side, and where the console puts them -----------------------------------------
#: Rows between two calls of :func:`write_listing`'s ``progress``.
PROGRESS_EVERY = 1000


class Listing(Protocol):
    """What :func:`write_listing` writes (``read.exports.Table``)."""

    sheet: str
    title: str
    columns: Sequence[tuple[str, str]]
    rows: Iterator[Sequence[Any]]


def write_listing(target: str | os.PathLike, table: Listing, fmt: str = "xlsx", *, force: bool = False,
                  progress: Callable[[int], None] | None = None) -> int:
    """:func:`write_table` of ``table`` (its columns, rows, sheet and title); returns the rows
    written. ``progress(n)`` is called after every ``PROGRESS_EVERY`` rows (it may raise to
    stop: then nothing is at ``target``). The rows are closed at the end, whatever happens, on
    this thread (a list's read transaction ends here, not whenever the iterator is collected)."""
    every = PROGRESS_EVERY

    def counted() -> Iterator[Sequence[Any]]:
        n = 0
        for row in table.rows:
            yield row
            n += 1
            if progress is not None and n % every == 0:
                progress(n)

    try:
        return write_table(target, fmt, table.columns, counted(), sheet=table.sheet, title=table.title,
                           force=force)
    finally:
        close = getattr(table.rows, "close", None)
        if close is not None:
            close()


#: The folder, beside the database, that holds each console user's exports (``exports/USER/``).
EXPORTS_FOLDER = "exports"
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def safe_name(text: str) -> str:
    """``text`` as a part of a file name: letters (Chinese too), digits, ``.``, ``-`` and
    ``_`` kept, anything else (``/``, spaces, controls) one ``_``; never hidden or empty."""
    return _UNSAFE_NAME.sub("_", text).lstrip(".") or "_"


def personal_folder(db_path: str | os.PathLike, username: str) -> Path:
    """Where the console writes ``username``'s exports: ``exports/USERNAME/`` beside the
    database file (an absolute path; nothing is created)."""
    return Path(os.path.abspath(db_path)).parent / EXPORTS_FOLDER / safe_name(username)


class ForeignFolder(PermissionError):
    """A folder to write in belongs to another account (:func:`private_folder`)."""


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (mode 0700), made if missing (its parent
    must exist). An existing one must be a real folder (not a link) of this account, and is
    narrowed to 0700; otherwise ``OSError`` naming it (``ForeignFolder``: another account's)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    if st.st_uid != os.geteuid():
        raise ForeignFolder(errno.EPERM, "owned by another account", str(path))
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def personal_export(db_path: str | os.PathLike, username: str, what: str, at: str, ext: str = "xlsx") -> Path:
    """A new file name for ``username``'s export of ``what`` at ``at`` (a stored time):
    ``exports/USERNAME/WHAT-USERNAME-YYYYMMDD-HHMMSS.xlsx`` beside the database (``-2``, ``-3``
    … when that name is taken), its folders made private (0700). Two people's files never
    share a name, and a file is never replaced (:func:`private_output` refuses a name taken
    meanwhile)."""
    folder = personal_folder(db_path, username)
    private_folder(folder.parent)
    private_folder(folder)
    stem = f"{safe_name(what)}-{safe_name(username)}-{at[:10].replace('-', '')}-{at[11:19].replace(':', '')}"
    for n in range(1, 1000):
        target = folder / (f"{stem}.{ext}" if n == 1 else f"{stem}-{n}.{ext}")
        if not (target.exists() or target.is_symlink()):
            return target
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(folder / f"{stem}.{ext}"))


# -- a person's exports, fetched over SSH (``taian session``: ``exports list``, ``exports get``) -----
class ExportRefused(ValueError):
    """A name or a file that ``exports get`` does not give (not a plain name, not one of the
    person's exports, a link, not a regular file)."""


class NoSuchExport(ExportRefused):
    """No export of that name in the person's folder."""


@dataclass(frozen=True)
class ExportFile:
    """One file of a person's export folder: its name, size in bytes and time (a stored time)."""
    name: str
    size: int
    modified: str


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _open_personal_folder(db_path: str | os.PathLike, username: str) -> int | None:
    """A descriptor of ``username``'s export folder (:func:`personal_folder`), opened step by
    step from the database's folder with no link followed (``exports`` and the user's folder
    must be real folders); None when either does not exist yet."""
    folder = personal_folder(db_path, username)
    top = None
    try:
        top = os.open(folder.parent, _DIR_FLAGS)
        return os.open(folder.name, _DIR_FLAGS, dir_fd=top)
    except FileNotFoundError:
        return None
    except OSError as exc:
        where = folder.parent if top is None else folder
        link = os.path.islink(where)
        raise ExportRefused(f"{where} is {'a link' if link else 'not a folder'}, not the folder of exports the "
                            f"console makes{'' if link else f' ({exc.strerror or exc})'}: ask the "
                            "operator") from None
    finally:
        if top is not None:
            os.close(top)


def _export_file(name: str, st: os.stat_result) -> ExportFile:
    from taian_tui.domain import timeutil

    return ExportFile(name, st.st_size, timeutil.iso(_dt.datetime.fromtimestamp(int(st.st_mtime), _dt.timezone.utc)))


def _given(st: os.stat_result) -> bool:
    """What ``exports get`` gives: a regular file with one name (a hard link to a file
    elsewhere, such as the database, is not one of the person's exports)."""
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1


def personal_files(db_path: str | os.PathLike, username: str) -> list[ExportFile]:
    """The exports in ``username``'s folder (``exports/USER/`` beside the database), newest
    first: its regular files, not those being written (hidden names) nor links; [] when the
    person has exported nothing yet."""
    fd = _open_personal_folder(db_path, username)
    if fd is None:
        return []
    try:
        files = []
        for entry in os.scandir(fd):
            if entry.name.startswith("."):
                continue
            st = entry.stat(follow_symlinks=False)
            if _given(st):
                files.append(_export_file(entry.name, st))
    finally:
        os.close(fd)
    return sorted(files, key=lambda f: (f.modified, f.name), reverse=True)


def plain_name(name: str) -> str:
    """``name`` when it is the plain name of a file in a folder: not empty, no ``/``, not
    hidden (``.`` ``..`` and the partial files being written), nothing unprintable;
    otherwise ExportRefused."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or not name.isprintable():
        raise ExportRefused(f"{name!r} is not the name of an export: give a file name as `exports list` shows "
                            "it (no folder, no path)")
    return name


def open_personal_export(db_path: str | os.PathLike, username: str, name: str) -> tuple[Any, ExportFile]:
    """(the open file, binary, and what it is) of ``username``'s export ``name``: a plain
    name (:func:`plain_name`) in their own folder only, opened without following a link and
    only when it is a regular file of one name (:func:`_given`); NoSuchExport when there is
    none of that name, ExportRefused for anything else."""
    plain_name(name)
    fd = _open_personal_folder(db_path, username)
    if fd is None:
        raise NoSuchExport(f"no export named {name!r}: you have exported nothing yet (the console's "
                           "export key writes them)")
    try:
        try:
            f = os.open(name, _FILE_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            raise NoSuchExport(f"no export named {name!r} in your folder: `exports list` shows yours") from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise ExportRefused(f"{name!r} is a link, not one of your exports") from None
            raise ExportRefused(f"{name!r} cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    st = os.fstat(f)
    if not _given(st):
        os.close(f)
        raise ExportRefused(f"{name!r} is not one of your exports (not a plain file)")
    os.set_blocking(f, True)
    return os.fdopen(f, "rb"), _export_file(name, st)
