"""``taian notify``: deliver the SMS outbox through a gateway; its status.
"""
from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import AtOpt, DbOpt, Fail, JsonOpt, at_opt, emit_json, open_store

app = typer.Typer()
notify_app = typer.Typer(help="The SMS outbox.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(notify_app, name="notify")

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
