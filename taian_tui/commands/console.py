"""The console: ``taian demo`` (build the demo city and open it), ``taian tui`` (an
operator's console on the service account) and ``taian session`` (what a person's SSH key
runs: the console as that person, ``appeal list|show`` in their scope, or ``exports
list|get`` of the files the console exported for them; nothing else).
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import AsOpt, DbOpt, Fail, at_opt, open_store, shown
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
            open_store(str(path)).close()  # not another program's file, nor an older/newer schema
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


def _run_tui(path: str, as_user: str | None, lang: str, *, sign_in_list: bool = True) -> None:
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise Fail("the console needs a terminal; use --no-tui (or `taian tui` from a terminal)")
    from taian_tui.console.app import TaianApp

    app = TaianApp(db_path=path, username=as_user, lang=lang, sign_in_list=sign_in_list)
    app.run()
    if app.return_code:
        raise Fail(str(app.return_value or "the console could not start"), app.return_code)


def _is_demo(path: str) -> bool:
    from taian_tui.demo.city import DEMO_SETTING

    return bool(open_store(path).setting(DEMO_SETTING))


LangOpt = Annotated[str, typer.Option(help="Language: zh (default) or en.")]


@app.command(short_help="Open the console.")
def tui(db: DbOpt = None, as_user: AsOpt = None, lang: LangOpt = "zh") -> None:
    """Open the console (appeal inbox, escalation board, projects, policies) as --as USER
    (else $TAIAN_USER). People reach it over SSH with their own key (`taian keys add`),
    which fixes who they are; this command is the operator's. Only a demo database offers a
    list of users to sign in as."""
    path = resolve_db_path(db)
    open_store(path).close()           # a taian database at this schema, writable: else refused, exit 1
    if lang not in ("zh", "en"):
        raise Fail("--lang must be zh or en", 2)
    user = as_user or os.environ.get("TAIAN_USER")
    if not user and not _is_demo(path):
        raise Fail(f"{path} is not a demo database: say who you are. People sign in with their own SSH "
                   "key, whose forced command runs `taian session USER` (see `taian keys add`); an "
                   "operator on the service account runs `taian tui --as USER`", 2)
    _run_tui(path, user, lang, sign_in_list=not user)


#: What a key's session runs when the client asks for a command (``ssh host appeal list``):
#: these, in the key's user's scope, and nothing else. ``exports list|get``: the files the
#: console wrote for the user (``exports/USER/`` beside the database), theirs only.
SESSION_COMMANDS = (("appeal", "list"), ("appeal", "show"), ("exports", "list"), ("exports", "get"))

#: The session's commands as its messages name them.
SESSION_OFFER = "`appeal list`, `appeal show REF`, `exports list` or `exports get NAME`"


@app.command(short_help="What a person's SSH key runs: the console as USER.")
def session(user: Annotated[str, typer.Argument(metavar="USER", help="The user the key signs in as.")],
            db: DbOpt = None, lang: LangOpt = "zh") -> None:
    """The forced command of a key (`taian keys add`): the console as USER. Nothing in the
    session changes who that is: there is no --as, $TAIAN_USER is ignored, no sign-in list
    is offered, system: names are refused, and actions happen at the server's clock. A
    command asked for over SSH ($SSH_ORIGINAL_COMMAND) runs only if it is `appeal list` or
    `appeal show`, in USER's scope, or `exports list` (USER's console exports: name, size,
    time) or `exports get NAME` (that file's bytes on stdout: `ssh taian@server exports get
    NAME > NAME`); anything else is refused (exit 2)."""
    from taian_tui.dataio import sshkeys
    from taian_tui.domain import actors
    from taian_tui.store import Principal, principal, set_principal

    for name in ("TAIAN_USER", "TAIAN_NOW", "TAIAN_DB"):
        os.environ.pop(name, None)         # who and when come from the key and the clock
    if user.startswith("system:"):
        raise Fail(f"{user} is not a person: a key signs in as a user of the database", 2)
    path = resolve_db_path(db)
    if not Path(path).exists():
        raise Fail(f"database {path} does not exist", 1)
    store = open_store(path)
    actors.actor(store, user)              # an unknown or deactivated user is refused here
    fp = sshkeys.key_of_session(os.environ.get("SSH_USER_AUTH"))
    if not fp:                             # without ExposeAuthInfo: the user's only key, if one
        keys = sshkeys.user_fingerprints(Path.home() / ".ssh" / "authorized_keys", user)
        fp = keys[0] if len(keys) == 1 else ""
    me = principal()
    set_principal(Principal(os_user=me.os_user, key_fingerprint=fp, client=me.client))
    asked = os.environ.get("SSH_ORIGINAL_COMMAND")
    if asked is not None:
        _session_command(asked, user, path)
        return
    if lang not in ("zh", "en"):
        raise Fail("--lang must be zh or en", 2)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise Fail(f"this key opens the console: connect with a terminal (ssh -t), or ask for {SESSION_OFFER}", 2)
    guard = sshkeys.KeyGuard(Path.home() / ".ssh" / "authorized_keys", user, fp) if fp else None
    if guard is not None and guard.listed():
        # the key removed (`taian keys remove`) while the console is open: refused from its
        # next read or action on, as for a user deactivated meanwhile (watched where the key
        # is found now: sshd may read another file, AuthorizedKeysFile)
        from taian_tui.console import session as console_session

        console_session.KEY_GUARD[0] = guard
    _run_tui(path, user, lang, sign_in_list=False)


def _session_command(asked: str, user: str, path: str) -> None:
    import shlex

    import typer.main

    from taian_tui.commands import appeals

    try:
        words = shlex.split(asked)
    except ValueError:
        raise Fail("refused: the command asked for over SSH cannot be read", 2) from None
    if words[:1] == ["taian"]:
        words = words[1:]
    if tuple(words[:2]) not in SESSION_COMMANDS:
        shown_cmd = " ".join(words[:3])[:60]
        raise Fail(f"refused: this key runs the console, {SESSION_OFFER} only, not {shown(shown_cmd)!r}", 2)
    for word in words[2:]:
        if word.split("=", 1)[0] in ("--as", "--db"):
            raise Fail(f"refused: {word.split('=', 1)[0]} is fixed by the key (it signs in as {user})", 2)
    if words[0] == "exports":
        _session_exports(words[1], words[2:], user, path)
        return
    command = typer.main.get_command(appeals.app)
    command.main(args=[*words, "--db", path, "--as", user], prog_name="taian", standalone_mode=False)


def _session_exports(what: str, args: list[str], user: str, path: str) -> None:
    """``exports list``: the user's console exports, newest first, one a line: name, size in
    bytes, time (Beijing), tab-separated. ``exports get NAME``: that file's bytes on stdout
    (never to a terminal). Only the user's own folder (``exports/USER/`` beside the database);
    NAME is a file name as the list shows it. Exit 2 for a name that is not one of theirs."""
    import shutil

    from taian_tui.dataio import export

    if what == "list":
        if args:
            raise Fail(f"refused: `exports list` takes nothing more, not {shown(' '.join(args)[:60])!r}", 2)
        try:
            files = export.personal_files(path, user)
        except export.ExportRefused as exc:
            raise Fail(shown(str(exc)), 2) from None
        for f in files:
            typer.echo(f"{shown(f.name)}\t{f.size}\t{f.modified[:10]} {f.modified[11:19]}")
        if not files:
            typer.echo("no exports yet: the console's export key writes them here", err=True)
        return
    if len(args) != 1:
        raise Fail("refused: give one file name, as `exports list` shows it: `exports get NAME`", 2)
    try:
        fh, _ = export.open_personal_export(path, user, args[0])
    except export.ExportRefused as exc:
        raise Fail(shown(str(exc)), 2) from None
    with fh:
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            raise Fail("`exports get` writes the file's bytes: its output must be a file or a pipe", 2)
        if sys.stdout.isatty():
            raise Fail(f"`exports get` writes the file's bytes, not text for a terminal: send them to a file "
                       f"(ssh taian@server exports get {shown(args[0])} > {shown(args[0])})", 2)
        sys.stdout.flush()
        shutil.copyfileobj(fh, out, 1 << 16)
        out.flush()
