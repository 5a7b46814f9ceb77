"""The console: ``taian demo`` (build the demo city and open it) and ``taian tui``.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import AsOpt, DbOpt, Fail, at_opt
from taian_tui.store import resolve_db_path

app = typer.Typer()

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
