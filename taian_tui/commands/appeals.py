"""``taian appeal``: list, show and handle appeals from scripts, as a named user.
"""
from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import (AsOpt, CardOpt, CategoryOpt, DbOpt, JsonOpt, LimitOpt, SearchOpt, StateOpt,
                                       UnitOpt, appeal_filter, appeal_ref, emit_json, limit_of, open_store, shown, who)
from taian_tui.domain.text import printable

app = typer.Typer()
appeal_app = typer.Typer(help="List, show and handle appeals from scripts.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(appeal_app, name="appeal")

RefArg = Annotated[str, typer.Argument(metavar="REF", help="The appeal: A-2026-0012 (any case), 2026-0012, "
                                                          "2026-12, or 12 when one year has that number.",
                                       show_default=False)]

@appeal_app.command("list", short_help="List appeals (--json for scripts).")
def appeal_list(db: DbOpt = None, as_user: AsOpt = None, state: StateOpt = None, card: CardOpt = None,
                unit: UnitOpt = None, category: CategoryOpt = None, search: SearchOpt = None,
                limit: LimitOpt = 0, as_json: JsonOpt = False) -> None:
    """List appeals (as USER's scope when --as is given, else everything): ref, state, card,
    unit, deadline ("(estimated)" when counted Monday-Friday for a year without holiday data)
    and title, tab-separated."""
    from taian_tui.domain import actors
    from taian_tui.read import appeals

    store = open_store(db, read_only=True)
    act = actors.actor(store, as_user or os.environ.get("TAIAN_USER") or actors.OPERATOR)
    f = appeal_filter(state, card, unit, category, search)
    rows = appeals.list_appeals(store, act, f, limit=limit_of(limit))
    if as_json:
        emit_json([appeals.appeal_record(store, r.ref) for r in rows])
        return
    for r in rows:
        deadline = (r.deadline + (f" {ESTIMATED}" if r.deadline_estimated else "")) if r.deadline else "-"
        typer.echo("\t".join(shown(v) for v in (r.ref, r.state, r.card or "-", r.unit or r.unit_code or "-",
                                                 deadline, r.title)))


#: After a deadline counted Monday-Friday (a year without holiday data): in a list, and in
#: `appeal show` with the console's words for it.
ESTIMATED = "(estimated)"


def _due(store, appeal) -> str:
    """An action's new deadline as printed: "(estimated)" after it, and a warning line on
    stderr naming the year without holiday data, when it was counted Monday-Friday (DOMAIN.md:
    every command that relied on it says so)."""
    if not appeal.deadline_estimated:
        return appeal.deadline
    year = int(appeal.deadline[:4])
    if store.calendar().has_year(year):             # (a year before it, the arrival's)
        year = next((y for y in range(int((appeal.arrived_at or appeal.deadline)[:4]), year + 1)
                     if not store.calendar().has_year(y)), year)
    typer.echo(f"warning: {store.calendar().missing_year_warning(year)}", err=True)
    return f"{appeal.deadline} {ESTIMATED}"


#: The fields of `appeal show` that may hold several lines: printed as lines, each one after
#: the first indented under its name.
MULTILINE = ("title", "body", "reply")


@appeal_app.command("show", short_help="Show one appeal with its history.")
def appeal_show(ref: RefArg, db: DbOpt = None, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Show one appeal with its history."""
    from taian_tui.console.strings import STRINGS
    from taian_tui.domain import actors
    from taian_tui.read import appeals

    store = open_store(db, read_only=True)
    ref = appeal_ref(store, ref)
    if as_user or os.environ.get("TAIAN_USER"):
        act = actors.actor(store, who(as_user))
        actors.require_see_appeal(store, act, store.appeal(ref))
    rec = appeals.appeal_record(store, ref)
    if as_json:
        emit_json(rec)
        return
    for key in ("ref", "state", "card", "unit_name", "deadline", "category_label", "county", "enterprise",
                "title", "body", "reply"):
        if rec[key] is None:
            value = "-"
        elif key in MULTILINE:
            value = printable(rec[key], multiline=True).replace("\n", "\n  ")
        else:
            value = shown(rec[key])
        if key == "deadline" and rec[key] is not None and rec["deadline_estimated"]:
            value += " " + STRINGS["detail.deadline_estimated"][1].strip()
        typer.echo(f"{key}: {value}")
    typer.echo("history:")
    for h in rec["history"]:
        typer.echo(f"  {shown(h['at'])}  {shown(h['actor'])}  {shown(h['action'])}")


def _done(message: str) -> None:
    typer.echo(message)


def _store_and_ref(db: str | None, ref: str):
    """The database, and ``ref`` as stored (``common.appeal_ref``: ``a-2026-0001``,
    ``2026-1``, ``1``, ...)."""
    store = open_store(db)
    return store, appeal_ref(store, ref)


# Actions happen at the server's clock: none of them takes a time.

@appeal_app.command("accept")
def appeal_accept(ref: RefArg, as_user: AsOpt = None, db: DbOpt = None) -> None:
    """Accept (签收) an appeal."""
    from taian_tui.domain import operations

    store, ref = _store_and_ref(db, ref)
    a = operations.accept_appeal(store, who(as_user), ref)
    _done(f"{a.ref} accepted; due {_due(store, a)}")


@appeal_app.command("reply")
def appeal_reply(ref: RefArg, as_user: AsOpt = None, db: DbOpt = None,
                 text: Annotated[Optional[str], typer.Option(help="The answer; '-' or omitted reads stdin.")] = None) -> None:
    """Reply to (答复) an accepted appeal."""
    from taian_tui.domain import operations

    body = sys.stdin.read() if text in (None, "-") else text
    store, ref = _store_and_ref(db, ref)
    a = operations.reply_appeal(store, who(as_user), ref, body)
    _done(f"{a.ref} answered at {a.answered_at}")


@appeal_app.command("return", short_help="Return (退回) an appeal to dispatch.")
def appeal_return(ref: RefArg, reason: Annotated[str, typer.Option(help="Why it is not this unit's.")],
                  as_user: AsOpt = None, db: DbOpt = None) -> None:
    """Return (退回) an appeal to the dispatch queue, within 2 working days of arrival."""
    from taian_tui.domain import operations

    store, ref = _store_and_ref(db, ref)
    a = operations.return_appeal(store, who(as_user), ref, reason)
    _done(f"{a.ref} returned to the dispatch queue")


@appeal_app.command("assign", short_help="(Re)assign an appeal to a unit.")
def appeal_assign(ref: RefArg, unit: Annotated[str, typer.Option(help="Unit code or name.")],
                  as_user: AsOpt = None, db: DbOpt = None,
                  note: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """(Re)assign an appeal to a unit (admin); the unit's clock starts anew."""
    from taian_tui.domain import operations

    store, ref = _store_and_ref(db, ref)
    a = operations.assign_appeal(store, who(as_user), ref, unit, note=note)
    order = store.open_order(a.id)
    kept = ""
    if order is not None:                   # (a yellow card's supervision goes on with the unit)
        estimated = not store.calendar().has_year(int(order.due_at[:4]))
        if estimated:
            typer.echo(f"warning: {store.calendar().missing_year_warning(int(order.due_at[:4]))}", err=True)
        kept = f"; its supervision order #{order.id} now due {order.due_at}" + (f" {ESTIMATED}" if estimated else "")
    _done(f"{a.ref} assigned to {store.unit(a.unit_code).name} ({a.unit_code}); due {_due(store, a)}{kept}")


@appeal_app.command("extend", short_help="Request an extension (延期).")
def appeal_extend(ref: RefArg, days: Annotated[int, typer.Option(help="Working days asked for.")],
                  reason: Annotated[str, typer.Option(help="Why.")],
                  as_user: AsOpt = None, db: DbOpt = None) -> None:
    """Request an extension (延期) for an appeal; the supervision office decides."""
    from taian_tui.domain import operations

    store, ref = _store_and_ref(db, ref)
    x = operations.request_extension(store, who(as_user), ref, days, reason)
    _done(f"extension request {x.id} for {ref}: {x.days} working days, pending")


@appeal_app.command("decide-extension")
def appeal_decide_extension(extension_id: Annotated[int, typer.Argument(
                                metavar="ID", help="The extension request's id (as `appeal extend` printed it).",
                                show_default=False)],
                            approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve or reject.")],
                            as_user: AsOpt = None, db: DbOpt = None,
                            note: Annotated[str, typer.Option(help="Decision note (required to reject: the reason).")] = "") -> None:
    """Approve or reject an extension request (supervisor)."""
    from taian_tui.domain import operations

    store = open_store(db)
    x = operations.decide_extension(store, who(as_user), extension_id, approve, note=note)
    due = _due(store, store.appeal_by_id(x.appeal_id)) if x.new_deadline else ""
    _done(f"extension {x.id} {x.state}" + (f"; new deadline {due}" if due else ""))
