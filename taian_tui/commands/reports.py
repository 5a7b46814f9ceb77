"""Figures for scripts and leaders (``taian stats``, ``taian report``), registered on the ``taian`` app.

``taian stats [--month YYYY-MM] [--at ISO] [--json]`` prints the dashboard's figures (plain
text, or one JSON object equal to ``stats.dashboard(...).as_dict()``), with the cards ahead
(``forecast``: per unit, what the sweep at the start of the next working day and of the 5th
would raise, ``escalation.forecast``);
``taian report [--month YYYY-MM] [--at ISO] [--force] OUT.html`` writes them as one
self-contained HTML page. A bad ``--month``, a month not yet begun or an ``--at`` after now
exits 2; so does an
existing OUT without ``--force``, and an OUT that is the database or its -wal/-shm
(``common.check_output``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import shown, DbOpt, Fail, JsonOpt, check_output, emit_json, open_store, past_at

MonthOpt = Annotated[Optional[str], typer.Option(
    "--month", help="The month of the 三率 ranking and the month figures, YYYY-MM (default: the current month).",
    show_default=False)]
AsOfOpt = Annotated[Optional[str], typer.Option(
    "--at", help="Figures as of this ISO 8601 time, not after now (default: now, Asia/Shanghai); the month "
                 "is cut there.",
    show_default=False)]


def _dashboard(db: str | None, month: str | None, at: str | None, *, forecast: bool = True):
    from taian_tui.read import stats
    from taian_tui.domain.refusals import ValidationError

    when = past_at(at, "figures")
    try:
        p = stats.period(month, when)
    except ValidationError as exc:
        raise Fail(f"--month: {exc}", 2) from None
    store = open_store(db, read_only=True)
    try:
        return stats.dashboard(store, p.month, p.at, forecast=forecast)
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the reporting commands to ``app``."""

    @app.command("stats", short_help="Dashboard figures and the 三率 ranking.")
    def stats_cmd(db: DbOpt = None, month: MonthOpt = None, at: AsOfOpt = None,
                  as_json: JsonOpt = False) -> None:
        """The dashboard's figures: projects by county/stage/library, appeals by category and per
        week (26 weeks), cards, the units' 三率 (响应率, 解决率, 满意率) ranked worst first, and the
        cards ahead: per unit, how many appeals the sweep at the start of the next working day
        (and of the 5th) would turn blue, yellow and red if they are not answered (--json:
        "forecast")."""
        from taian_tui.read import stats

        d = _dashboard(db, month, at)
        if as_json:
            emit_json(d.as_dict())
            return
        for line in stats.summary_lines(d):
            typer.echo(shown(line))

    @app.command("report", short_help="The dashboard as one HTML page.")
    def report_cmd(out: Annotated[Path, typer.Argument(metavar="OUT", help="The HTML file to write, e.g. report-2026-10.html.",
                                                       show_default=False)],
                   db: DbOpt = None, month: MonthOpt = None, at: AsOfOpt = None,
                   force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False) -> None:
        """Write the dashboard (charts and the 三率 ranking) as one self-contained HTML page."""
        from taian_tui.read import report

        check_output(out, force, "report.html", db=db)
        d = _dashboard(db, month, at, forecast=False)     # (the page does not show it)
        try:
            size = report.write_report(out, d)
        except OSError as exc:
            raise Fail(f"{out}: cannot write: {exc.strerror or exc}") from None
        typer.echo(f"report for {d.period.month} written to {out} ({size:,} bytes)")


app = typer.Typer()
register(app)
