"""``taian keys``: who may reach the console over SSH, and as whom (the forced-command lines
of the service account's ``authorized_keys``; see ``dataio.sshkeys``).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import DbOpt, Fail, JsonOpt, emit_json, open_store, shown

app = typer.Typer()
keys_app = typer.Typer(help="People's SSH keys: each opens the console as its user, and nothing else.",
                       short_help="People's SSH keys to the console.",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(keys_app, name="keys")

AuthorizedKeysOpt = Annotated[Optional[Path], typer.Option(
    "--authorized-keys", help="The service account's authorized_keys (default ~/.ssh/authorized_keys).",
    show_default=False)]


def _path(path: Path | None) -> Path:
    return (path or Path.home() / ".ssh" / "authorized_keys").expanduser().resolve()


def taian_command() -> str:
    """The absolute path of the ``taian`` command that runs this (the forced command)."""
    beside = Path(sys.executable).parent / "taian"
    if beside.is_file():
        return str(beside)
    found = shutil.which("taian")
    if found:
        return str(Path(found).resolve())
    raise Fail("cannot find the taian command's absolute path (install taian, or put it on PATH)")


@keys_app.command("add", short_help="Let USER in with the public key KEYFILE (or - for stdin).")
def keys_add(user: Annotated[str, typer.Argument(metavar="USER", help="The user the key signs in as.")],
             keyfile: Annotated[str, typer.Argument(metavar="KEYFILE", help="The person's public key file (.pub), or - to read it "
                                                         "from stdin.")],
             db: DbOpt = None, authorized_keys: AuthorizedKeysOpt = None) -> None:
    """Add a forced-command line for USER's key: connecting with it opens `taian session
    USER` on this database and nothing else. Refused (exit 2): a malformed key, a key already
    in the file, an unknown or deactivated user."""
    from taian_tui.dataio import sshkeys
    from taian_tui.domain.actors import OPERATOR

    if keyfile == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(keyfile).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Fail(f"{keyfile}: cannot read: {getattr(exc, 'strerror', None) or exc}", 2) from None
    path = _path(authorized_keys)
    entry = sshkeys.add(open_store(db), OPERATOR, user, text, path=path, taian=taian_command())
    typer.echo(f"added {entry.key.fingerprint} ({entry.key.type}) for {shown(user)} to {path}")


@keys_app.command("list", short_help="The keys and the users they sign in as.")
def keys_list(as_json: JsonOpt = False, authorized_keys: AuthorizedKeysOpt = None) -> None:
    """List the keys this tool wrote (user, fingerprint, type, comment, database)."""
    from taian_tui.dataio import sshkeys

    path = _path(authorized_keys)
    ours, others = sshkeys.listing(path)
    rows = [{"user": e.user, "fingerprint": e.key.fingerprint, "type": e.key.type,
             "comment": e.key.comment, "db": e.db} for e in ours]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo("\t".join(shown(r[k]) for k in ("user", "fingerprint", "type", "comment", "db")))
    typer.echo(f"{len(rows)} key{'s' if len(rows) != 1 else ''} in {path}"
               + (f"; {others} other line{'s' if others != 1 else ''} left as they are" if others else ""))


@keys_app.command("remove", short_help="Take away a key (by fingerprint) or every key of a user.")
def keys_remove(what: Annotated[str, typer.Argument(metavar="FINGERPRINT|USER", help="A SHA256:... fingerprint, or a user name.")],
                db: DbOpt = None, authorized_keys: AuthorizedKeysOpt = None) -> None:
    """Remove the line of the key with this fingerprint, or every line of this user."""
    from taian_tui.dataio import sshkeys
    from taian_tui.domain.actors import OPERATOR

    path = _path(authorized_keys)
    gone = sshkeys.remove(open_store(db), OPERATOR, what, path=path)
    for entry in gone:
        typer.echo(f"removed {entry.key.fingerprint} of {shown(entry.user)} from {path}")
