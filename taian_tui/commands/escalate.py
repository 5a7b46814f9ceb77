"""``taian escalate``: the daily card sweep, as cron runs it.
"""
from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from taian_tui.commands.common import (AtOpt, DbOpt, Fail, JsonOpt, at_opt, emit_json_stream, is_locked,
                                       open_store)
from taian_tui.store import BackupError

app = typer.Typer()

@app.command(short_help="The daily card sweep (cron).")
def escalate(db: DbOpt = None, at: AtOpt = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")] = False,
             as_json: JsonOpt = False) -> None:
    """Apply the red/yellow/blue card rules as of now: the daily cron sweep. --at an earlier
    time sweeps as of then; a later one only forecasts (with --dry-run): a sweep never runs
    ahead of the server's clock (per unit, for the next working day and the next five, the
    same forecast is in `taian stats` and on the console's escalation board). --json also carries the audit trail's head, so that the cron
    log keeps it off the machine, and lists each raised appeal, one a line (streamed: a
    catch-up of a million costs the memory of one). --dry-run works on a read-only database."""
    from taian_tui.domain import timeutil

    when, now = at_opt(at), timeutil.iso()
    if when > now and not dry_run:
        raise Fail(f"--at {when} is after now ({now}): a sweep never runs ahead of the clock "
                   "(add --dry-run to see what it would raise then)", 2)
    if dry_run:
        with _dry_run_store(db) as store:
            _sweep(store, when, dry_run, as_json)
        return
    _sweep(open_store(db), when, dry_run, as_json)


@contextlib.contextmanager
def _dry_run_store(db: str | None):
    """The store a dry run sweeps: the database itself when it can be written (the sweep's
    writes are rolled back), else, read-only (a read-only file, folder or mount), a private
    temporary copy of it (``Store.backup``), removed afterwards: a dry run changes nothing,
    so it needs no more than read access."""
    try:
        store = open_store(db)
    except Fail:
        store = None
    if store is not None:
        try:
            yield store
        finally:
            store.close()
        return
    source = open_store(db, read_only=True)
    with tempfile.TemporaryDirectory(prefix="taian-dry-run-") as folder:
        copy = Path(folder) / "copy.db"
        try:
            source.backup(copy)
        except BackupError as exc:
            raise Fail(str(exc), 1) from None
        finally:
            source.close()
        store = open_store(str(copy))
        try:
            yield store
        finally:
            store.close()


#: How long the sweep waits for another writer in all (seconds), and between its tries.
LOCK_WAIT = 900
LOCK_RETRY_PAUSE = 5.0


def _sweep(store, when: str, dry_run: bool, as_json: bool) -> None:
    from taian_tui.domain import integrity
    from taian_tui.domain.escalation import sweep

    def stream(result, raised) -> None:
        head = {k: v for k, v in result.as_dict().items() if k != "appeals"}
        emit_json_stream({**head, "audit_head": integrity.head(store)}, "appeals",
                         (r.as_dict() for r in raised))

    # unattended (cron): another writer holding the file (an import, a backup) is waited for,
    # each try SQLite's busy timeout, up to LOCK_WAIT seconds in all, rather than losing the
    # day's sweep; the sweep is one transaction, so a try that failed changed nothing
    started = time.monotonic()
    while True:
        try:
            result = sweep(store, when, dry_run=dry_run, collect=stream if as_json else False)
            break
        except sqlite3.OperationalError as exc:
            waited = time.monotonic() - started
            if not is_locked(exc) or waited >= LOCK_WAIT:
                if is_locked(exc):
                    raise Fail(f"{store.path} stayed locked by another writer (an import, a backup?) for "
                               f"{waited:.0f} s: no card was raised; run `taian escalate` again (a late "
                               "sweep applies every threshold passed since)", 1) from None
                raise
            typer.echo(f"waiting: {store.path} is being written by another process; trying again "
                       f"({waited:.0f} s of {LOCK_WAIT} s)", err=True)
            time.sleep(LOCK_RETRY_PAUSE)
    if as_json:
        return
    r = result.raised
    prefix = "dry run: would raise" if dry_run else "raised"
    typer.echo(f"escalate at {result.at}: {prefix} blue {r['blue']}, yellow {r['yellow']}, red {r['red']}; "
               f"SMS {'to queue' if dry_run else 'queued'} {result.notifications_queued}")
    for w in result.warnings:
        typer.echo(f"warning: {w}")
