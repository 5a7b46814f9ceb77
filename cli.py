"""The ``taian`` command: the console, the daily escalation sweep, imports and scripts.

Every command takes ``--db PATH`` (else ``TAIAN_DB``, else ``./taian.db``). Output is plain
text (no colour, no terminal needed), so cron can run it. A refused action exits 2 with a
one-line reason; any other failure exits 1 with a one-line reason. The commands themselves
are in ``taian_tui/commands/``; this module assembles them into one Typer app.
"""
from __future__ import annotations

import os
import re
import sqlite3
import sys

import typer
import typer.main

from taian_tui.commands import admin, appeals, console, data, escalate, keys, notify, publish, reports
from taian_tui.commands.common import Fail, is_locked, locked_message, shown
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


#: A non-breaking hyphen (U+2011) stands for each hyphen while help text is wrapped, so that
#: lines break at spaces only: never inside --dry-run or working-day.
_GLUED = "\u2011"


def _glued(text: str) -> str:
    return text.replace("-", _GLUED)


class HelpFormatter(typer.Context.formatter_class):
    """Click's help formatter, wrapping at spaces only (its text wrapper also breaks after a
    hyphen), with a required argument shown in the usage line as its name (``REF``), as the
    help text says it, not in braces (``{REF}``)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, _glued(re.sub(r"\{([^{}\s]+)\}", r"\1", args)), prefix)

    def write_text(self, text: str) -> None:
        super().write_text(_glued(text))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(first, _glued(second)) for first, second in rows], col_max, col_spacing)

    def write(self, string: str) -> None:
        super().write(string.replace(_GLUED, "-"))


class Context(typer.Context):
    formatter_class = HelpFormatter


def command():
    """The ``taian`` app as a click command, every (sub)command's help made by
    :class:`HelpFormatter`."""
    root = typer.main.get_command(app)
    todo = [root]
    while todo:
        cmd = todo.pop()
        cmd.context_class = Context
        todo.extend(getattr(cmd, "commands", {}).values())
    return root


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
        code = command()(prog_name="taian", standalone_mode=False)
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
        typer.echo(f"error: {shown(locked_message(exc))}" if is_locked(exc) else f"error: database: {shown(exc)}",
                   err=True)
        sys.exit(1)
    except BrokenPipeError:
        # what read the output went away (`| head`): stop quietly, as other tools do
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        sys.exit(141)
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
