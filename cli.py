"""The ``taian`` command: the console, the daily escalation sweep, imports and scripts.

Every command takes ``--db PATH`` (else ``TAIAN_DB``, else ``./taian.db``). Output is plain
text (no colour, no terminal needed), so cron can run it. A refused action exits 2 with a
one-line reason; any other failure exits 1 with a one-line reason. The commands themselves
are in ``taian_tui/commands/``; this module assembles them into one Typer app.
"""
from __future__ import annotations

import os
import sqlite3
import sys

import typer

from taian_tui.commands import admin, appeals, console, data, escalate, keys, notify, publish, reports
from taian_tui.commands.common import Fail, shown
from taian_tui.domain.refusals import DomainError

app = typer.Typer(
    name="taian",
    help="泰安市新动能重大项目可视化督导服务平台 — government console and daily jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
for _part in (console, admin, keys, escalate, notify, appeals, data, reports, publish):
    app.registered_commands.extend(_part.app.registered_commands)
    app.registered_groups.extend(_part.app.registered_groups)


#: Whatever taian creates (the database and its -wal/-shm, backups, reports, exports, import
#: reports, the SMS log, authorized_keys) is readable by its owner only, whatever the
#: caller's umask: the data folder belongs to the service account alone.
PRIVATE_UMASK = 0o077


def main() -> None:
    caller_umask = os.umask(PRIVATE_UMASK)
    try:
        _main()
    finally:
        os.umask(caller_umask)


def _main() -> None:
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Fail as exc:
        typer.echo(f"error: {shown(exc)}", err=True)
        sys.exit(exc.code)
    except DomainError as exc:
        typer.echo(f"refused: {shown(exc)}", err=True)
        sys.exit(exc.exit_code)
    except sqlite3.OperationalError as exc:
        typer.echo(f"error: database: {shown(exc)}", err=True)
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
        typer.echo(f"error: {type(exc).__name__}: {shown(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
