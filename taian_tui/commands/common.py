"""Options and helpers shared by every ``taian`` command."""
from __future__ import annotations

import itertools
import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Iterable, Optional

import typer

from taian_tui.domain import timeutil
from taian_tui.domain.text import printable
from taian_tui.store import DatabaseFileError, Store, is_locked, resolve_db_path  # noqa: F401 (is_locked: re-exported)

DbOpt = Annotated[Optional[str], typer.Option("--db", help="Database file (else $TAIAN_DB, else ./taian.db).",
                                              show_default=False)]
AsOpt = Annotated[Optional[str], typer.Option("--as", help="Act as this user (else $TAIAN_USER).",
                                              show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="auto (default: UTF-8, UTF-8 with BOM, "
                                                             "GBK/GB18030 or UTF-16, detected; comma- or "
                                                             "tab-separated as the header line is), utf-8, "
                                                             "gb18030 or utf-16.")]
SheetOpt = Annotated[Optional[str], typer.Option("--sheet", help="For an Excel workbook (.xlsx, .xls; recognised by "
                                                                "its content): the sheet to read (default: the first "
                                                                "visible one).", show_default=False)]
AtOpt = Annotated[Optional[str], typer.Option("--at", help="Act as of this ISO 8601 time (default: now, Asia/Shanghai).",
                                              show_default=False)]


def _check_limit(value: int) -> int:
    if value < 0:
        raise typer.BadParameter(f"{value} is negative: give a number of rows, or 0 for no limit")
    return value


#: The one ``--limit`` of every command: 0 means no limit; a negative number is refused
#: (exit 2). The command's function gives the default; ``limit_of`` turns it into a bound.
LimitOpt = Annotated[int, typer.Option("--limit", callback=_check_limit,
                                       help="At most this many (0: no limit).")]


def limit_of(limit: int) -> int:
    """``--limit`` as a bound to pass on: 0 (no limit) is a bound never reached."""
    return limit or 2 ** 62


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 row``, ``2 rows`` (``words``: the plural when it is not ``word + "s"``)."""
    return f"{n} {word if n == 1 else words or word + 's'}"


class Fail(Exception):
    """A one-line failure with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def shown(value: object) -> str:
    """A stored or received text as the command line prints it, on one line: every control
    character escaped, newlines and tabs included (``text.printable(literal=True)``), so
    nothing planted in the data can drive the operator's terminal."""
    return printable(value, literal=True)


def locked_message(exc: BaseException) -> str:
    """An SQLite "database is locked" said in words: what happened, and what the command
    had added to it (what was kept), else that nothing was changed."""
    text = str(exc)
    rest = text.split("database is locked", 1)[1].strip() if "database is locked" in text else ""
    return ("the database stayed locked by another writer (an import, a backup, a sweep?) for a minute"
            + (f" {rest}" if rest else ": nothing was changed; run the command again"))


def open_store(db: str | None, *, must_exist: bool = True, read_only: bool = False,
               older: bool = False) -> Store:
    """The database of ``--db`` (else ``TAIAN_DB``, else ``./taian.db``) for one command.

    Opens only an existing taian database whose schema is exactly this program's
    (``Store.open_existing``): it never creates a file, applies a migration or seeds the
    calendar; only ``taian migrate`` (and ``taian demo``) create or upgrade a schema. Any
    other file is refused, naming the path, before anything is written to it (exit 1): a
    missing path, a directory, a file that is not SQLite, another program's database, an
    empty file (not yet a taian database: run ``taian migrate``), a database from a newer
    taian, a damaged one, and one whose schema is older than the program: that one too is
    refused with "run `taian migrate`" rather than upgraded in passing, so that an upgrade
    happens when the operator runs it (after a backup), never from a cron job or a read.

    ``read_only=True`` (``audit verify|anchor``, ``appeal list|show``, ``stats``,
    ``report``, ``export``, ``backup``) opens the file so that nothing can be written
    (``mode=ro``; see ``store.connect_read_only``): such commands work on a read-only file
    or folder. Without it, a database that cannot be written here is refused up front with a
    message saying so. ``must_exist`` is accepted for older callers and ignored: a missing
    file is always refused. ``older=True`` (``backup``: the step before ``taian migrate``)
    also opens a database of an older schema."""
    try:
        return Store.open_existing(resolve_db_path(db), read_only=read_only, older=older)
    except DatabaseFileError as exc:
        raise Fail(str(exc), 1) from None


_ANY_DB = object()       # check_output's ``db`` not given: the database is not known there


STDOUT = "-"
"""The file name that means standard output (``-o -``)."""


def is_stdout(out: str | os.PathLike | None) -> bool:
    """Whether ``out`` is ``-``: standard output."""
    return out is not None and os.fspath(out) == STDOUT


def check_output(out: Path, force: bool, example: str = "out.xlsx", *, db: str | None | object = _ANY_DB) -> None:
    """Refuse, before anything is read, a file to write that is a database (exit 2, whatever
    ``--force`` says), a folder, a file that exists (unless ``force``), or one whose folder
    does not exist. Given ``db`` (the command's ``--db``; None: not given, so ``TAIAN_DB``
    or ``./taian.db``), that database and its -wal/-shm/-journal are refused as such
    (:func:`refuse_database`); given or not, so is any SQLite database or -wal/-shm/-journal
    beside one (``reading.is_sqlite_file``): no export or report ever replaces one. An
    existing target that is not a regular file (a device, a FIFO, a socket) or is a symbolic
    link is refused whatever ``--force`` says: a file is written beside it and renamed over
    it, so it would be replaced, not written through. ``-`` (standard output) is refused
    here: a command that can write to standard output handles it before (``is_stdout``)."""
    from taian_tui.dataio.reading import is_sqlite_file

    if is_stdout(out):
        raise Fail(f"{STDOUT} (standard output): this command writes a file; give its path, such as {example}", 2)
    if db is not _ANY_DB:
        refuse_database(out, db)
    if is_sqlite_file(out):
        raise Fail(f"{out} is an SQLite database (or the -wal/-shm/-journal beside one): choose another file", 2)
    if out.is_dir():
        raise Fail(f"{out}: is a directory; give a file name such as {out / example}", 2)
    if out.is_symlink() or (out.exists() and not out.is_file()):
        raise Fail(f"{out} is not a regular file (a device, pipe or link): give the path of a file", 2)
    if out.exists() and not force:
        raise Fail(f"{out} already exists; use --force to replace it", 2)
    if not out.parent.is_dir():
        raise Fail(f"{out.parent}: no such folder", 2)


def refuse_database(out: str | os.PathLike, db: str | None) -> None:
    """Refuse (exit 2) a file to write that is the database of ``--db`` ``db`` (None: not
    given, so ``TAIAN_DB``, else ``./taian.db``) or its -wal, -shm or -journal: the same
    file (links followed) or the same path resolved (``reading.is_database_file``)."""
    from taian_tui.dataio.reading import is_database_file

    if is_database_file(out, resolve_db_path(db)):
        raise Fail(f"{out} is the database (or its -wal/-shm): choose another file", 2)


StateOpt = Annotated[Optional[str], typer.Option(
    "--state", help="Only this state: its code in any case or its label (accepted or 已签收).", show_default=False)]
CardOpt = Annotated[Optional[str], typer.Option(
    "--card", help="blue, yellow or red (any case, or 蓝牌 黄牌 红牌), any or none.", show_default=False)]
UnitOpt = Annotated[Optional[str], typer.Option("--unit", help="Only this unit (code or name).", show_default=False)]
CategoryOpt = Annotated[Optional[str], typer.Option(
    "--category", help="Category, either spelling (land or 土地).", show_default=False)]
SearchOpt = Annotated[Optional[str], typer.Option(
    "--search", help="Words in title, body or enterprise name.", show_default=False)]


def appeal_filter(state: str | None = None, card: str | None = None, unit: str | None = None,
                  category: str | None = None, search: str | None = None):
    """The ``AppealFilter`` of the options of `appeal list` and `export`: a state or a card by
    its code in any case or its label (``labels.code_of``; 无 and 无牌 are ``none``); what names
    none is passed on as typed, for the filter to refuse with the choices."""
    from taian_tui.domain.labels import code_of
    from taian_tui.read.appeals import AppealFilter

    if state:
        state = code_of("state", state) or state
    if card:
        typed = card
        card = card.strip().lower() if card.strip().lower() == "any" else code_of("card", card)
        card = typed if card is None else card or "none"
    return AppealFilter(states=(state,) if state else (), card=card, unit=unit, category=category, text=search)


def appeal_ref(store: Store, typed: str) -> str:
    """The stored ref of the appeal ``typed`` names: ``A-2026-0012`` in any case, ``2026-0012``,
    ``2026-12``, or a bare number ``12``: the appeal of that number, among the years the
    console's search looks at (``search.ref_candidates``), if exactly one has it (several:
    refused, exit 2, listing them). ``typed`` as it is when none matches (the lookup then says
    "no such appeal")."""
    from taian_tui.read import appeals

    try:
        return appeals.resolve_ref(store, typed)
    except appeals.AmbiguousRef as exc:
        raise Fail(f"appeal number {shown(typed.strip())} is in several years: {', '.join(exc.refs)}; "
                   "give the whole ref", 2) from None


def who(as_user: str | None) -> str:
    user = as_user or os.environ.get("TAIAN_USER")
    if not user:
        raise Fail("say who is acting: --as USER or TAIAN_USER", 2)
    return user


def at_opt(at: str | None) -> str:
    if not at:
        return timeutil.iso()
    try:
        return timeutil.iso(at)
    except ValueError as exc:
        raise Fail(f"--at: {exc}", 2)


def past_at(at: str | None, what: str) -> str:
    """``at_opt(at)``, refused (exit 2) when it is after now: ``what`` (e.g. "figures") are
    never given as of a time that has not come."""
    when, now = at_opt(at), timeutil.iso()
    if when > now:
        raise Fail(f"--at {when} is after now ({now}): {what} are never given as of a time that has "
                   "not come", 2)
    return when


def emit_json(value) -> None:
    """One JSON document on stdout. Control characters in strings are escaped, the C1 ones
    and the bidi overrides too (``json`` leaves those raw with ``ensure_ascii=False``)."""
    typer.echo(_escaped(json.dumps(value, ensure_ascii=False, indent=2)))


def emit_json_stream(head: dict, key: str, items: Iterable[dict]) -> None:
    """``emit_json({**head, key: list(items)})``, except that the items are written as they
    come (one a line, in the same escaping) and never held at once: a list of a million
    rows costs the memory of a thousand. Written a thousand at a time, with one encoder."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    out = sys.stdout
    opening = json.dumps(head, ensure_ascii=False, indent=2)
    out.write(_escaped(opening[:-2] if head else "{") + ("," if head else "") + f"\n  {json.dumps(key)}: [")
    items = iter(items)
    first = True
    while batch := list(itertools.islice(items, 1000)):
        out.write(("\n    " if first else ",\n    ") + _escaped(",\n    ".join(map(encode, batch))))
        first = False
    out.write("]\n}\n" if first else "\n  ]\n}\n")
    out.flush()


def _escaped(text: str) -> str:
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
