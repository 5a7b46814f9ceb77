"""``taian escalate``: the daily card sweep, as cron runs it.
"""
from __future__ import annotations

from typing import Annotated

import typer

from taian_tui.commands.common import AtOpt, DbOpt, JsonOpt, at_opt, emit_json, open_store

app = typer.Typer()

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
