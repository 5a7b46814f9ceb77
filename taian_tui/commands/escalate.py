"""``taian escalate``: the daily card sweep, as cron runs it.
"""
from __future__ import annotations

from typing import Annotated

import typer

from taian_tui.commands.common import AtOpt, DbOpt, Fail, JsonOpt, at_opt, emit_json_stream, open_store

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
    catch-up of a million costs the memory of one)."""
    from taian_tui.domain import integrity, timeutil
    from taian_tui.domain.escalation import sweep

    when, now = at_opt(at), timeutil.iso()
    if when > now and not dry_run:
        raise Fail(f"--at {when} is after now ({now}): a sweep never runs ahead of the clock "
                   "(add --dry-run to see what it would raise then)", 2)
    store = open_store(db)

    def stream(result, raised) -> None:
        head = {k: v for k, v in result.as_dict().items() if k != "appeals"}
        emit_json_stream({**head, "audit_head": integrity.head(store)}, "appeals",
                         (r.as_dict() for r in raised))

    result = sweep(store, when, dry_run=dry_run, collect=stream if as_json else False)
    if as_json:
        return
    r = result.raised
    prefix = "dry run: would raise" if dry_run else "raised"
    typer.echo(f"escalate at {result.at}: {prefix} blue {r['blue']}, yellow {r['yellow']}, red {r['red']}; "
               f"SMS {'to queue' if dry_run else 'queued'} {result.notifications_queued}")
    for w in result.warnings:
        typer.echo(f"warning: {w}")
