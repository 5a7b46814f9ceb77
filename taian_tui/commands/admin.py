"""The operator's commands: the schema, backups, the audit trail and the working-day
calendar.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui import schema
from taian_tui.commands.common import (STDOUT, AsOpt, DbOpt, EncodingOpt, Fail, SheetOpt, is_stdout, open_store, plural,
                                       refuse_database, shown)
from taian_tui.store import BackupError, DatabaseFileError, Store, resolve_db_path

app = typer.Typer()
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True, rich_markup_mode=None)
calendar_app = typer.Typer(help="The working-day calendar.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
user_app = typer.Typer(help="Accounts: deactivate someone who left, or activate them again.",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(user_app, name="user")

UsernameArg = Annotated[str, typer.Argument(metavar="USERNAME", help="The account's user name.", show_default=False)]

@app.command(short_help="Create the database or upgrade its schema.")
def migrate(db: DbOpt = None,
            rebuild_figures: Annotated[bool, typer.Option(
                "--rebuild-figures", help="Also compute the dashboard's sums per day afresh from the "
                "appeals (when `taian audit verify` finds them differing).")] = False) -> None:
    """Create the database or upgrade its schema in place (back it up first). The only
    command, with `demo`, that creates or upgrades a schema; it refuses another program's
    SQLite file, a file that is not SQLite, and a database from a newer taian."""
    path = resolve_db_path(db)
    try:
        store = Store.open_for_migration(path)
    except DatabaseFileError as exc:
        raise Fail(str(exc), 1) from None
    try:
        applied = store.migrate()
        store.seed_calendar()
        if rebuild_figures:
            with store.transaction():
                rows = schema.rebuild_figures(store.conn)
    except DatabaseFileError as exc:
        raise Fail(str(exc), 1) from None
    finally:
        store.close()
    typer.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")
    if rebuild_figures:
        typer.echo(f"dashboard sums rebuilt from the appeals: {plural(rows, 'row')}")


@app.command(short_help="Put a backup's content back into the live database.")
def restore(backup_path: Annotated[str, typer.Argument(metavar="BACKUP", help="The backup to restore from (taian backup).")],
            db: DbOpt = None,
            yes: Annotated[bool, typer.Option("--yes", help="Yes: replace everything in the database by the backup.")] = False) -> None:
    """Replace the whole content of the live database by BACKUP (a `taian backup` copy of
    this schema that passes a quick check), in one write through SQLite, so that consoles and
    cron see the restored content from their next read: never copy a backup over the file
    (SQLite replays the live -wal over it, and what was to be undone stays). Everything
    written since the backup is gone; the restore is recorded in the restored audit trail
    (heads anchored since the backup are no longer in it: `audit verify --anchors` names
    them). Needs --yes."""
    if not yes:
        raise Fail(f"this replaces everything in the database by {backup_path}: add --yes to do it", 2)
    if not Path(backup_path).is_file():
        raise Fail(f"{backup_path}: no such backup file", 2)
    try:
        store = Store.open_existing(resolve_db_path(db))
    except DatabaseFileError as exc:
        if exc.kind == "damaged":       # SQLite cannot write into it: the file itself is replaced
            path = resolve_db_path(db)
            raise Fail(f"{exc}; to put the backup in its place, stop the consoles and cron, then: "
                       f"cp {backup_path} {path}; rm -f {path}-wal {path}-shm", 1) from None
        raise Fail(str(exc), 1) from None
    try:
        try:
            pages = store.restore_from(backup_path)
        except DatabaseFileError as exc:
            raise Fail(str(exc), 1) from None
        except BackupError as exc:
            raise Fail(str(exc), 1) from None
        rows = store.scalar("SELECT COUNT(*) FROM audit")
    finally:
        store.close()
    typer.echo(f"restored {store.path} from {backup_path} ({plural(pages, 'page')}); its audit trail: "
               f"{plural(rows, 'row')}, the restore the last")


@app.command(short_help="Online consistent copy of the database.")
def backup(path: Annotated[str, typer.Argument(metavar="PATH", help="Where to write the copy (must not exist).")],
           db: DbOpt = None) -> None:
    """Write a consistent copy of the live database (one snapshot: the console, intake and
    cron go on writing meanwhile). The database must pass a quick check; the copy is written
    to a hidden temporary file beside PATH, checked, and only then named PATH, so a failed
    or killed backup (a full disk, a damaged database) leaves nothing at PATH (exit 1). A
    killed run's temporary file (.NAME.XXXX.taian-partial) is removed by the next backup into
    that folder. Works on a read-only database, and on one of an older schema (the step
    before `taian migrate`). PATH may not be the database itself or its
    -wal/-shm/-journal (exit 2), nor empty, a folder or - (exit 2)."""
    example = "taian-2026-10-01.db"
    if not path.strip():
        raise Fail(f"the backup's path is empty: give the file to write, such as {example}", 2)
    if is_stdout(path):
        raise Fail(f"{STDOUT} (standard output): a backup is a database file; give its path, such as {example}", 2)
    if Path(path).is_dir():
        raise Fail(f"{path}: is a directory; give a file name such as {Path(path) / example}", 2)
    refuse_database(path, db)
    store = open_store(db, read_only=True, older=True)     # (before `taian migrate`, as it says)
    try:
        pages = store.backup(path)
    except BackupError as exc:
        raise Fail(str(exc), 1) from None
    finally:
        store.close()
    typer.echo(f"backup of {store.path} written to {path} ({plural(pages, 'page')})")


@audit_app.command("verify", short_help="Check the audit trail and the rows it vouches for.")
def audit_verify(db: DbOpt = None,
                 anchors: Annotated[Optional[Path], typer.Option(
                     "--anchors", help="A file of heads recorded by `taian audit anchor`: each must still be "
                                       "in the chain.", show_default=False)] = None) -> None:
    """Check the audit trail: its hash chain, that it was not wiped, that the appeals, card
    history and supervision orders are what their history says (not changed outside the
    store), and with --anchors that no anchored head was lost (a rebuilt chain). Exit 1
    naming what is wrong."""
    from taian_tui.domain import integrity

    store = open_store(db, read_only=True)
    try:
        # the anchors file is read line by line: each line that is not an anchor line (not
        # UTF-8 text, say) is a problem of its own, and the lines that are text are checked
        result = integrity.verify(store, anchors)
    finally:
        store.close()
    if not result.ok:
        for problem in result.problems:
            typer.echo(shown(problem), err=True)
        raise Fail(f"audit check FAILED: {plural(len(result.problems), 'problem')} (see above)", 1)
    typer.echo(f"audit trail intact: {plural(result.rows, 'row')}" + (f"; every anchor of {anchors} still in the chain"
                                                           if anchors else ""))


@audit_app.command("anchor", short_help="Record the audit head in a file kept elsewhere.")
def audit_anchor(file: Annotated[Path, typer.Argument(metavar="FILE", help="The file to append the head to (created "
                                                           "private); copy it off the machine.")],
                 db: DbOpt = None) -> None:
    """Append the audit trail's current head (row id and hash) to FILE, for `audit verify
    --anchors FILE` to check later that the chain was not rebuilt."""
    from taian_tui.dataio.reading import is_sqlite_file
    from taian_tui.domain import integrity

    refuse_database(file, db)
    if is_sqlite_file(file):
        raise Fail(f"{file} is an SQLite database (or the -wal/-shm/-journal beside one): choose another file", 2)
    if file.is_dir():
        raise Fail(f"{file}: is a directory; give a file name such as {file / 'anchors.jsonl'}", 2)
    record = integrity.anchor(open_store(db, read_only=True), file)
    typer.echo(f"anchored row {record['id']} {record['hash']} in {file}")


@calendar_app.command("import", short_help="Add official holidays and make-up workdays.")
def calendar_import(file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV or Excel workbook with columns date,kind (日期,类型); "
                                                            "kind holiday (节假日, 放假, 休) or workday (工作日, 补班, 上班).")],
                    db: DbOpt = None, encoding: EncodingOpt = "auto", sheet: SheetOpt = None,
                    as_user: AsOpt = None) -> None:
    """Add official holidays and make-up workdays (e.g. for 2027) to the working-day calendar.
    Any bad row: nothing is imported."""
    from taian_tui.dataio import calendar
    from taian_tui.dataio import reading
    from taian_tui.domain import operations, rules

    if not file.is_file():
        raise Fail(f"{file}: {'is a directory' if file.is_dir() else 'no such file'}", 2)
    store = open_store(db)
    try:
        rows, problems = calendar.read_calendar(file, encoding, sheet)
    except reading.ImportFileError as exc:
        raise Fail(str(exc), 2) from None
    if problems:
        for problem in problems:
            typer.echo(shown(problem), err=True)
        raise Fail(f"{file}: {plural(len(problems), 'problem')}; nothing imported", 2)
    if not rows:
        raise Fail(f"{file}: no rows", 2)
    res = operations.import_calendar_rows(store, as_user or os.environ.get("TAIAN_USER") or "system:import",
                                        rows, source=file.name)
    typer.echo(f"imported {plural(res['rows'], 'calendar day')} for {', '.join(map(str, res['years']))}; "
               f"{plural(res['deadlines_moved'], 'open deadline')} recomputed")
    for year in res["partial_years"]:
        typer.echo(f"warning: {year} had no holiday data and this file gives fewer than "
                   f"{rules.MIN_YEAR_HOLIDAYS} of its holidays: its days are used, but {year} is still "
                   f"counted Monday-Friday elsewhere and its deadlines stay marked estimated (import "
                   f"the whole year's arrangement)", err=True)


@calendar_app.command("show", short_help="A year's holidays and make-up days.")
def calendar_show(year: Annotated[int, typer.Argument(metavar="YEAR", help="The year, e.g. 2027.", show_default=False)],
                  db: DbOpt = None) -> None:
    """List a year's holidays and make-up workdays, and whether the year has data."""
    if not 1900 <= year <= 2100:
        raise Fail(f"{year}: give a year such as 2027 (1900-2100)", 2)
    store = open_store(db, read_only=True)
    cal = store.calendar()
    days = sorted((d, k) for d, k in cal.days.items() if d.year == year)
    if not cal.has_year(year):
        # a few days of it given (fewer than a year's arrangement): used, the rest Monday-Friday
        typer.echo(f"{year}: no holiday data; working days counted Monday-Friday"
                   + (f" but for {'this day' if len(days) == 1 else f'these {len(days)} days'} given:"
                      if days else ""))
    for day, kind in days:
        typer.echo(f"{day.isoformat()} {kind}")


def _set_active(username: str, active: bool, db: str | None, as_user: str | None) -> None:
    from taian_tui.domain import operations
    from taian_tui.domain.actors import OPERATOR

    result = operations.set_user_active(open_store(db), as_user or os.environ.get("TAIAN_USER") or OPERATOR,
                                        username, active)
    state = "active" if active else "deactivated"
    typer.echo(f"{shown(username)} is {state}" + (" (it already was)" if result == "unchanged" else ""))


@user_app.command("deactivate", short_help="Someone left: no sign-in, no key, no instruction.")
def user_deactivate(username: UsernameArg, db: DbOpt = None, as_user: AsOpt = None) -> None:
    """Deactivate an account: the person can no longer sign in (their keys stop working),
    act, be given a key or be instructed; their history stays."""
    _set_active(username, False, db, as_user)


@user_app.command("activate", short_help="Activate a deactivated account again.")
def user_activate(username: UsernameArg, db: DbOpt = None, as_user: AsOpt = None) -> None:
    """Activate a deactivated account again."""
    _set_active(username, True, db, as_user)
