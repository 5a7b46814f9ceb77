"""``taian notify``: deliver the SMS outbox through a gateway; its status; a person's
decision about a stuck row.

The webhook's URL and bearer token come from, in order: ``--url`` (the URL only: a token on
the command line would be readable by every local account through ``ps``), the environment
(``TAIAN_SMS_URL``, else the older ``TAIAN_SMS_WEBHOOK``; ``TAIAN_SMS_TOKEN``), or a private
TOML file (``--config PATH``, else ``$TAIAN_CONFIG``, else ``~/.config/taian/sms.toml``)::

    [sms]
    url = "https://sms-gw.example/send"
    token = "..."

The file holds a secret, so one that group or others may read or write is refused. The
token is never printed.
"""
from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
import urllib.parse
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import shown, AsOpt, AtOpt, DbOpt, Fail, JsonOpt, LimitOpt, at_opt, emit_json, limit_of, open_store, who

app = typer.Typer()
notify_app = typer.Typer(help="The SMS outbox.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(notify_app, name="notify")

LISTABLE = ("sending", "unknown", "failed")
LIST_COLUMNS = ("id", "status", "attempts", "recipient", "phone", "created_at", "next_attempt_at",
                "last_error", "text")
CONFIG_KEYS = ("url", "token")


# -- where the webhook's settings come from ---------------------------------------------------
def _config_path(option: Optional[Path]) -> tuple[Optional[Path], bool]:
    """The config file and whether it was asked for (then it must exist); ``None`` when
    there is none (no option, no ``TAIAN_CONFIG``, no home directory)."""
    if option is not None:
        return option, True
    if os.environ.get("TAIAN_CONFIG"):
        return Path(os.environ["TAIAN_CONFIG"]), True
    try:
        return Path.home() / ".config" / "taian" / "sms.toml", False
    except (RuntimeError, KeyError):  # cron without HOME and no passwd entry
        return None, False


def read_config(path: Path, required: bool) -> dict[str, str]:
    """``[sms]`` of the TOML file at ``path`` (``{}`` when the default file does not exist).
    Refused (exit 2): a file group or others may read or write, one that is not a regular
    file, bad TOML, an unknown key or a value that is not a string."""
    name = shown(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if required:
            raise Fail(f"config file {name} does not exist", 2) from None
        return {}
    except OSError as exc:
        raise Fail(f"config file {name}: {shown(exc.strerror or str(exc))}", 2) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())  # the file opened, not whatever the path names by now
        if not stat.S_ISREG(st.st_mode):
            raise Fail(f"config file {name} is not a regular file", 2)
        if st.st_mode & 0o077:
            raise Fail(f"config file {name} has mode {stat.S_IMODE(st.st_mode):04o}: it holds the SMS "
                       f"token, so group and others must have no access (chmod 600 {name})", 2)
        raw = fh.read()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # tomllib names a line and column, never the value found there
        raise Fail(f"config file {name} is not valid TOML: {shown(str(exc))}", 2) from None
    sms = data.get("sms", {})
    if not isinstance(sms, dict):
        raise Fail(f"config file {name}: [sms] must be a table", 2)
    for key, value in sms.items():
        if key not in CONFIG_KEYS:
            raise Fail(f"config file {name}: unknown key {shown(key)!r} in [sms] (known: url, token)", 2)
        if not isinstance(value, str):
            raise Fail(f"config file {name}: [sms] {key} must be a string", 2)
    return dict(sms)


def webhook_settings(url: Optional[str], config: Optional[Path]) -> tuple[str, Optional[str]]:
    """``(url, token)``; the config file is read only when the command line and the
    environment leave the URL or the token unset."""
    url = url or os.environ.get("TAIAN_SMS_URL") or os.environ.get("TAIAN_SMS_WEBHOOK") or None
    token = os.environ.get("TAIAN_SMS_TOKEN") or None
    path, required = _config_path(config)
    if (url is None or token is None) and path is not None:
        settings = read_config(path, required)
        url = url or settings.get("url") or None
        token = token or settings.get("token") or None
    if not url:
        raise Fail("no webhook URL: give --url, set TAIAN_SMS_URL, or put url under [sms] in "
                   + (shown(str(path)) if path is not None else "a --config file"), 2)
    if token is not None and (not token.isascii() or not token.isprintable() or " " in token):
        raise Fail("the SMS token must be printable ASCII without spaces (it is not shown here)", 2)
    return url, token


def _plain_http_to_another_host(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        return None
    host = parts.hostname or ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host == "localhost":
            return None
    return host


# -- the commands ---------------------------------------------------------------------------------
@notify_app.command("send", short_help="Deliver queued SMS; retry failures.")
def notify_send(db: DbOpt = None,
                gateway: Annotated[str, typer.Option(help="log (default) or webhook.")] = "log",
                url: Annotated[Optional[str], typer.Option(
                    help="Webhook URL (with --gateway webhook); else $TAIAN_SMS_URL, $TAIAN_SMS_WEBHOOK "
                         "or url in the config file.", show_default=False)] = None,
                config: Annotated[Optional[Path], typer.Option(
                    "--config", help="Private TOML file with url and token under [sms] (else $TAIAN_CONFIG, "
                                     "else ~/.config/taian/sms.toml). The token: $TAIAN_SMS_TOKEN or this "
                                     "file, never the command line.", show_default=False)] = None,
                timeout: Annotated[float, typer.Option(
                    min=0.1, help="Seconds to wait for the webhook's answer.")] = 10.0,
                log_file: Annotated[Optional[str], typer.Option(
                    "--log-file", help="File for the log gateway (else $TAIAN_SMS_LOG or ./sms.log).")] = None,
                at: AtOpt = None,
                limit: LimitOpt = 500) -> None:
    """Deliver queued SMS through the gateway, one at a time. Failures (the gateway refused,
    answered with an error or a redirect, or could not be reached) are retried with backoff
    on later runs; a message the gateway may have received without answering is marked
    unknown and never retried automatically (see `notify status --list unknown` and
    `notify release`). --limit: messages delivered in this run. Exit 1 when every delivery
    tried in this run failed or is unknown."""
    from taian_tui.domain import notify, timeutil

    when = at_opt(at) if at else None
    if when is not None and when > timeutil.iso():
        raise Fail(f"--at {when} is after now ({timeutil.iso()}): a delivery run never runs ahead of "
                   "the clock", 2)
    if gateway not in ("log", "webhook"):
        raise Fail("--gateway must be log or webhook", 2)
    if gateway == "log":
        if url is not None or config is not None:
            raise Fail("--url and --config are for --gateway webhook (the default gateway is log)", 2)
        gw = notify.log_gateway(log_file)
    else:
        webhook_url, token = webhook_settings(url, config)
        gw = notify.webhook_gateway(webhook_url, timeout=timeout, token=token)
        host = _plain_http_to_another_host(webhook_url)
        if token and host:
            typer.echo(f"warning: the SMS token is sent unencrypted (http://) to {shown(host)}", err=True)
    store = open_store(db)
    result = notify.send_due(store, gw, at=when, limit=limit_of(limit))
    typer.echo(f"sent {result.sent}, failed {result.failed} (will retry {result.failed - result.gave_up}, "
               f"gave up {result.gave_up}), unknown {result.unknown}"
               + (f"; expired {result.expired} (queued too long ago to be true now: a blue card's reminder "
                  f"on an earlier day, any other over {notify.MAX_AGE_DAYS} days; see "
                  "`taian notify status --list failed`)" if result.expired else "")
               + (f"; not sent again {result.duplicates} (the same text went to that phone today)"
                  if result.duplicates else ""))
    for e in result.errors[:20]:
        typer.echo(f"  {shown(e)}", err=True)
    if len(result.errors) > 20:
        typer.echo(f"  ... and {len(result.errors) - 20} more (taian notify status --list failed,unknown)",
                   err=True)
    if result.attempted and not result.sent:
        raise Fail(f"no SMS delivered: all {result.attempted} tried failed or are unknown", 1)


@notify_app.command("status", short_help="Count the outbox by status; list stuck or failed rows.")
def notify_status(db: DbOpt = None, as_json: JsonOpt = False,
                  list_: Annotated[Optional[list[str]], typer.Option(
                      "--list", help="Also list the rows in these statuses: sending, unknown, failed "
                                     "(repeat it or separate with commas).", show_default=False)] = None) -> None:
    """Count outbox rows by status; with --list, the rows in the statuses named (one a line,
    tab-separated: id, status, attempts, recipient, phone, created_at, next_attempt_at,
    last_error, text; control characters escaped). --json: the counts, or with --list
    {"counts": ..., "rows": [...]}."""
    from taian_tui.domain import notify

    wanted = [s.strip().lower() for item in (list_ or []) for s in item.split(",") if s.strip()]
    for s in wanted:
        if s not in LISTABLE:
            raise Fail(f"--list takes sending, unknown or failed, not {shown(s)!r}", 2)
    if list_ is not None and not wanted:
        raise Fail("--list takes sending, unknown or failed", 2)
    store = open_store(db, read_only=True)
    counts = notify.status_counts(store)
    rows = notify.rows_in(store, wanted) if wanted else []
    if as_json:
        emit_json({"counts": counts, "rows": rows} if list_ is not None else counts)
        return
    typer.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
    if list_ is not None:
        if not rows:
            typer.echo(f"no SMS {'/'.join(dict.fromkeys(wanted))}")
            return
        typer.echo("\t".join(LIST_COLUMNS))
        for r in rows:
            typer.echo("\t".join(shown("-" if r[c] in (None, "") else str(r[c])) for c in LIST_COLUMNS))


@notify_app.command("release", short_help="Admin: a stuck SMS back to the queue, or marked sent.")
def notify_release(ids: Annotated[list[int], typer.Argument(metavar="ID", help="Outbox ids (see `notify status --list "
                                                                 "sending,unknown`).", show_default=False)],
                   mark_sent: Annotated[bool, typer.Option(
                       "--mark-sent", help="Record them as sent (you checked with the provider) instead of "
                                           "queueing them again.")] = False,
                   db: DbOpt = None, as_user: AsOpt = None) -> None:
    """Put SMS stuck in sending (a sender was killed) or unknown (the gateway did not answer)
    back in the queue for the next `notify send`, or with --mark-sent record them as sent.
    Admins only; any id that does not exist or is in another status refuses the whole
    command (exit 2) before anything is written. One transaction and one audit row per SMS."""
    from taian_tui.domain import notify

    done = notify.release(open_store(db), who(as_user), ids, mark_sent=mark_sent)
    for d in done:
        if mark_sent:
            typer.echo(f"#{d['id']}: {d['before']['status']} -> sent (marked by hand)")
        else:
            typer.echo(f"#{d['id']}: {d['before']['status']} -> queued")
