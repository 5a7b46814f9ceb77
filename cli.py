"""The ``taian`` command: the console, the daily escalation sweep, imports and scripts.

Every command takes ``--db PATH`` (else ``TAIAN_DB``, else ``./taian.db``). Output is plain
text (no colour, no terminal needed), so cron can run it. A refused action exits 2 with a
one-line reason; any other failure exits 1 with a one-line reason.
"""
from __future__ import annotations

import datetime as _dt
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.store import Store, resolve_db_path
from taian_tui.domain.refusals import DomainError

app = typer.Typer(
    name="taian",
    help="泰安市新动能重大项目可视化督导服务平台 — government console and daily jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
appeal_app = typer.Typer(help="List, show and handle appeals from scripts.", no_args_is_help=True,
                         rich_markup_mode=None)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True, rich_markup_mode=None)
calendar_app = typer.Typer(help="The working-day calendar.", no_args_is_help=True, rich_markup_mode=None)
notify_app = typer.Typer(help="The SMS outbox.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(appeal_app, name="appeal")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(notify_app, name="notify")

from taian_tui.commands.common import (AsOpt, AtOpt, DbOpt, EncodingOpt, Fail, JsonOpt, at_opt, emit_json,  # noqa: E402
                                   open_store, who)


# -- demo and console -----------------------------------------------------------------------------
@app.command(short_help="Build the demo city and open the console.")
def demo(db: DbOpt = None,
         no_tui: Annotated[bool, typer.Option("--no-tui", help="Build the database only; do not open the console.")] = False,
         force: Annotated[bool, typer.Option("--force", help="Replace an existing database file.")] = False,
         today: Annotated[Optional[str], typer.Option(help="Build the city as of this day (default: now).")] = None,
         as_user: AsOpt = None,
         lang: Annotated[str, typer.Option(help="Console language: zh or en.")] = "zh") -> None:
    """Build a deterministic demo city (58 units, 1,428 enterprises, 437 projects, ~2,000 appeals) and open the console."""
    from taian_tui.demo.city import build_demo

    path = Path(resolve_db_path(db))
    if path.exists():
        if not force:
            if no_tui:
                raise Fail(f"{path} already exists; use --force to rebuild it")
            typer.echo(f"{path} exists; opening it (use --force to rebuild the demo)")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    if not path.exists():
        started = _dt.datetime.now()
        counts = build_demo(str(path), today=at_opt(today) if today else None)
        secs = (_dt.datetime.now() - started).total_seconds()
        typer.echo(f"demo city built in {path} in {secs:.1f} s: " +
                   ", ".join(f"{k} {v}" for k, v in counts.items()))
    if not no_tui:
        _run_tui(str(path), as_user or os.environ.get("TAIAN_USER") or "admin", lang)


def _run_tui(path: str, as_user: str | None, lang: str) -> None:
    if not sys.stdout.isatty():
        raise Fail("the console needs a terminal; use --no-tui (or `taian tui` from a terminal)")
    from taian_tui.console.app import TaianApp

    TaianApp(db_path=path, username=as_user, lang=lang).run()


@app.command(short_help="Open the console.")
def tui(db: DbOpt = None, as_user: AsOpt = None,
        lang: Annotated[str, typer.Option(help="Language: zh (default) or en.")] = "zh") -> None:
    """Open the console (appeal inbox, escalation board, projects, policies)."""
    path = resolve_db_path(db)
    if not Path(path).exists():
        raise Fail(f"database {path} does not exist (try `taian demo`)")
    if lang not in ("zh", "en"):
        raise Fail("--lang must be zh or en", 2)
    _run_tui(path, as_user or os.environ.get("TAIAN_USER"), lang)


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


# -- escalation and notifications ------------------------------------------------------------------
@app.command(short_help="The daily card sweep (cron).")
def escalate(db: DbOpt = None, at: AtOpt = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")] = False,
             as_json: JsonOpt = False) -> None:
    """Apply the red/yellow/blue card rules as of now (or --at): the daily cron sweep."""
    from taian_tui.domain.escalation import sweep

    store = open_store(db)
    result = sweep(store, at_opt(at), dry_run=dry_run, collect=as_json)
    if as_json:
        emit_json(result.as_dict())
        return
    r = result.raised
    prefix = "dry run: would raise" if dry_run else "raised"
    typer.echo(f"escalate at {result.at}: {prefix} blue {r['blue']}, yellow {r['yellow']}, red {r['red']}; "
               f"SMS {'to queue' if dry_run else 'queued'} {result.notifications_queued}")
    for w in result.warnings:
        typer.echo(f"warning: {w}")


@notify_app.command("send", short_help="Deliver queued SMS; retry failures.")
def notify_send(db: DbOpt = None,
                gateway: Annotated[str, typer.Option(help="log (default) or webhook.")] = "log",
                url: Annotated[Optional[str], typer.Option(help="Webhook URL (with --gateway webhook); else $TAIAN_SMS_WEBHOOK.")] = None,
                log_file: Annotated[Optional[str], typer.Option("--log-file", help="File for the log gateway (else $TAIAN_SMS_LOG or ./sms.log).")] = None,
                at: AtOpt = None,
                limit: Annotated[int, typer.Option(help="At most this many messages in this run.")] = 500) -> None:
    """Deliver queued SMS through the gateway; failures are retried with backoff on later runs."""
    from taian_tui.domain import notify

    store = open_store(db)
    if gateway == "log":
        gw = notify.log_gateway(log_file)
    elif gateway == "webhook":
        gw = notify.webhook_gateway(url or os.environ.get("TAIAN_SMS_WEBHOOK", ""))
    else:
        raise Fail("--gateway must be log or webhook", 2)
    result = notify.send_due(store, gw, at=at_opt(at), limit=limit)
    typer.echo(f"sent {result.sent}, failed {result.failed} (will retry {result.failed - result.gave_up}, "
               f"gave up {result.gave_up})")
    for e in result.errors[:20]:
        typer.echo(f"  {e}", err=True)


@notify_app.command("status")
def notify_status(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Count outbox rows by status."""
    from taian_tui.domain import notify

    counts = notify.status_counts(open_store(db))
    if as_json:
        emit_json(counts)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


# -- appeals ---------------------------------------------------------------------------------------
@appeal_app.command("list", short_help="List appeals (--json for scripts).")
def appeal_list(db: DbOpt = None, as_user: AsOpt = None,
                state: Annotated[Optional[str], typer.Option(help="Only this state.")] = None,
                card: Annotated[Optional[str], typer.Option(help="blue, yellow, red, any or none.")] = None,
                unit: Annotated[Optional[str], typer.Option(help="Only this unit (code or name).")] = None,
                category: Annotated[Optional[str], typer.Option(help="Category, either spelling (land or 土地).")] = None,
                search: Annotated[Optional[str], typer.Option(help="Words in title, body or enterprise name.")] = None,
                limit: Annotated[int, typer.Option(help="At most this many (0: all).")] = 0,
                as_json: JsonOpt = False) -> None:
    """List appeals (as USER's scope when --as is given, else everything)."""
    from taian_tui.domain import actors
    from taian_tui.read import appeals

    store = open_store(db)
    act = actors.actor(store, as_user or os.environ.get("TAIAN_USER") or "system:cli")
    f = appeals.AppealFilter(states=(state,) if state else (), card=card, unit=unit,
                             category=category, text=search)
    rows = appeals.list_appeals(store, act, f, limit=limit or 10**9)
    if as_json:
        emit_json([appeals.appeal_record(store, r.ref) for r in rows])
        return
    for r in rows:
        typer.echo(f"{r.ref}\t{r.state}\t{r.card or '-'}\t{r.unit_code or '-'}\t{r.deadline or '-'}\t{r.title}")


@appeal_app.command("show")
def appeal_show(ref: str, db: DbOpt = None, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Show one appeal with its history."""
    from taian_tui.domain import actors
    from taian_tui.read import appeals

    store = open_store(db)
    if as_user or os.environ.get("TAIAN_USER"):
        act = actors.actor(store, who(as_user))
        actors.require_see_appeal(store, act, store.appeal(ref))
    rec = appeals.appeal_record(store, ref)
    if as_json:
        emit_json(rec)
        return
    for key in ("ref", "state", "card", "unit_name", "deadline", "category_label", "county", "enterprise",
                "title", "body", "reply"):
        typer.echo(f"{key}: {rec[key] if rec[key] is not None else '-'}")
    typer.echo("history:")
    for h in rec["history"]:
        typer.echo(f"  {h['at']}  {h['actor']}  {h['action']}")


def _done(message: str) -> None:
    typer.echo(message)


@appeal_app.command("accept")
def appeal_accept(ref: str, as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None) -> None:
    """Accept (签收) an appeal."""
    from taian_tui.domain import operations

    a = operations.accept_appeal(open_store(db), who(as_user), ref, at=at_opt(at))
    _done(f"{a.ref} accepted; due {a.deadline}")


@appeal_app.command("reply")
def appeal_reply(ref: str, as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None,
                 text: Annotated[Optional[str], typer.Option(help="The answer; '-' or omitted reads stdin.")] = None) -> None:
    """Reply to (答复) an accepted appeal."""
    from taian_tui.domain import operations

    body = sys.stdin.read() if text in (None, "-") else text
    a = operations.reply_appeal(open_store(db), who(as_user), ref, body, at=at_opt(at))
    _done(f"{a.ref} answered at {a.answered_at}")


@appeal_app.command("return", short_help="Return (退回) an appeal to dispatch.")
def appeal_return(ref: str, reason: Annotated[str, typer.Option(help="Why it is not this unit's.")],
                  as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None) -> None:
    """Return (退回) an appeal to the dispatch queue, within 2 working days of arrival."""
    from taian_tui.domain import operations

    a = operations.return_appeal(open_store(db), who(as_user), ref, reason, at=at_opt(at))
    _done(f"{a.ref} returned to the dispatch queue")


@appeal_app.command("assign", short_help="(Re)assign an appeal to a unit.")
def appeal_assign(ref: str, unit: Annotated[str, typer.Option(help="Unit code or name.")],
                  as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None,
                  note: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """(Re)assign an appeal to a unit (admin); the unit's clock starts anew."""
    from taian_tui.domain import operations

    a = operations.assign_appeal(open_store(db), who(as_user), ref, unit, note=note, at=at_opt(at))
    _done(f"{a.ref} assigned to {a.unit_code}; due {a.deadline}")


@appeal_app.command("extend", short_help="Request an extension (延期).")
def appeal_extend(ref: str, days: Annotated[int, typer.Option(help="Working days asked for.")],
                  reason: Annotated[str, typer.Option(help="Why.")],
                  as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None) -> None:
    """Request an extension (延期) for an appeal; the supervision office decides."""
    from taian_tui.domain import operations

    x = operations.request_extension(open_store(db), who(as_user), ref, days, reason, at=at_opt(at))
    _done(f"extension request {x.id} for {ref}: {x.days} working days, pending")


@appeal_app.command("decide-extension")
def appeal_decide_extension(extension_id: int,
                            approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve or reject.")],
                            as_user: AsOpt = None, db: DbOpt = None, at: AtOpt = None,
                            note: Annotated[str, typer.Option(help="Decision note.")] = "") -> None:
    """Approve or reject an extension request (supervisor)."""
    from taian_tui.domain import operations

    x = operations.decide_extension(open_store(db), who(as_user), extension_id, approve, note=note, at=at_opt(at))
    _done(f"extension {x.id} {x.state}" + (f"; new deadline {x.new_deadline}" if x.new_deadline else ""))


# -- audit and calendar ------------------------------------------------------------------------------
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


from taian_tui.commands.data import register as _register_data_commands  # noqa: E402
from taian_tui.commands.reports import register as _register_report_commands  # noqa: E402

_register_data_commands(app)
_register_report_commands(app)


def main() -> None:
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Fail as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.code)
    except DomainError as exc:
        typer.echo(f"refused: {exc}", err=True)
        sys.exit(exc.exit_code)
    except sqlite3.OperationalError as exc:
        typer.echo(f"error: database: {exc}", err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # one line for cron; TAIAN_DEBUG=1 for the traceback
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click's usage errors
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("TAIAN_DEBUG"):
            raise
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
