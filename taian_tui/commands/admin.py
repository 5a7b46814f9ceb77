"""The operator's commands: the schema, backups, the audit trail and the working-day
calendar.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from taian_tui.commands.common import AsOpt, DbOpt, EncodingOpt, Fail, open_store
from taian_tui.store import Store, resolve_db_path

app = typer.Typer()
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True, rich_markup_mode=None)
calendar_app = typer.Typer(help="The working-day calendar.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")

@app.command()
def migrate(db: DbOpt = None) -> None:
    """Create the database or upgrade its schema in place."""
    store = Store(resolve_db_path(db), migrate=False)
    applied = store.migrate()
    store.seed_calendar()
    typer.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")


@app.command(short_help="Online consistent copy of the database.")
def backup(path: Annotated[str, typer.Argument(help="Where to write the copy (must not exist).")],
           db: DbOpt = None) -> None:
    """Write an online, consistent copy of the live database (safe while the console and cron run)."""
    store = open_store(db)
    pages = store.backup(path)
    typer.echo(f"backup of {store.path} written to {path} ({pages} pages)")


@audit_app.command("verify", short_help="Check the audit hash chain.")
def audit_verify(db: DbOpt = None) -> None:
    """Check the audit trail's hash chain; exit 1 naming the first bad row."""
    check = open_store(db).verify_audit()
    if not check.ok:
        raise Fail(f"audit trail BROKEN at row {check.bad_id}: {check.reason}", 1)
    typer.echo(f"audit trail intact: {check.rows} rows")


@calendar_app.command("import")
def calendar_import(file: Annotated[Path, typer.Argument(help="CSV with columns date,kind (日期,类型); kind holiday "
                                                            "(节假日, 放假, 休) or workday (工作日, 补班, 上班).")],
                    db: DbOpt = None, encoding: EncodingOpt = "auto", as_user: AsOpt = None) -> None:
    """Add official holidays and make-up workdays (e.g. for 2027) to the working-day calendar.
    Any bad row: nothing is imported."""
    from taian_tui.dataio import calendar
    from taian_tui.dataio import reading
    from taian_tui.domain import operations

    if not file.is_file():
        raise Fail(f"{file}: {'is a directory' if file.is_dir() else 'no such file'}", 2)
    store = open_store(db)
    try:
        rows, problems = calendar.read_calendar(file, encoding)
    except reading.ImportFileError as exc:
        raise Fail(str(exc), 2) from None
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise Fail(f"{file}: {len(problems)} problem{'s' if len(problems) > 1 else ''}; nothing imported", 2)
    if not rows:
        raise Fail(f"{file}: no rows", 2)
    res = operations.import_calendar_rows(store, as_user or os.environ.get("TAIAN_USER") or "system:import",
                                        rows, source=file.name)
    typer.echo(f"imported {res['rows']} calendar days for {', '.join(map(str, res['years']))}; "
               f"{res['deadlines_moved']} open deadlines recomputed")


@calendar_app.command("show", short_help="A year's holidays and make-up days.")
def calendar_show(year: int, db: DbOpt = None) -> None:
    """List a year's holidays and make-up workdays, and whether the year has data."""
    store = open_store(db)
    cal = store.calendar()
    if not cal.has_year(year):
        typer.echo(f"{year}: no holiday data; working days counted Monday-Friday")
        return
    for day, kind in sorted((d, k) for d, k in cal.days.items() if d.year == year):
        typer.echo(f"{day.isoformat()} {kind}")
