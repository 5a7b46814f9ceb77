"""The service account's ``authorized_keys``: one forced-command line per person's key.

Each line this module writes is

    command="<absolute path of taian> session USER --db <absolute db path>",restrict,pty <key>

so that whoever connects with that key lands in ``taian session USER`` (the console as
USER, or ``appeal list|show`` in USER's scope) and in nothing else: ``restrict`` turns off
port, agent and X11 forwarding, ``pty`` gives back the terminal the console needs. Lines
the tool did not write (other keys, comments, blank lines) are kept exactly as they were.
The file is rewritten whole and atomically (a temporary file in the same folder, renamed
over it), mode 0600; its folder is created 0700 when missing. Every change is one audit
row, written in a transaction held while the file is rewritten (two ``taian keys`` runs
at once take turns).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shlex
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from taian_tui.domain.refusals import ValidationError
from taian_tui.domain.text import printable
from taian_tui.store import Store

#: The key types OpenSSH accepts in authorized_keys.
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
OPTIONS = "restrict,pty"
_OURS = re.compile(r'command="(?P<cmd>[^"\\]*)",restrict,pty (?P<type>\S+) (?P<blob>\S+)(?: (?P<comment>.*))?')
#: What may stand in a user name or a path inside the forced command (the line is read by
#: sshd and the command by the service account's shell: nothing that either would interpret).
_SAFE = re.compile(r"[^\"\\\n\r\t\x00-\x1f]+")


class KeyRefused(ValidationError):
    """A key or a change to the file that is refused (exit 2); nothing written."""


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: str            # base64, as in the file
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    def text(self) -> str:
        return f"{self.type} {self.blob}" + (f" {self.comment}" if self.comment else "")


@dataclass(frozen=True)
class Entry:
    """One line of the file: ours (``user`` set) or anybody's (kept as it is)."""

    line: str
    user: str | None = None
    db: str | None = None
    command: str | None = None
    key: PublicKey | None = None


def fingerprint(blob: str) -> str:
    """OpenSSH's SHA256 fingerprint of a key blob (``SHA256:`` + unpadded base64)."""
    raw = base64.b64decode(blob)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def parse_key(text: str) -> PublicKey:
    """A public key as ``ssh-keygen`` writes it (``TYPE BASE64 [COMMENT]``, one line);
    refused with the reason when it is not one."""
    line = text.strip()
    if not line:
        raise KeyRefused("the key is empty: give the person's public key (the .pub file)")
    if "\n" in line or "\r" in line:
        raise KeyRefused("give one public key (one line), not several")
    parts = line.split(None, 2)
    if parts[0] not in KEY_TYPES:
        if "PRIVATE KEY" in line:
            raise KeyRefused("this is a PRIVATE key: never copy it anywhere; give the .pub file")
        raise KeyRefused(f"not an OpenSSH public key: it starts with {printable(parts[0][:40])!r}, "
                        f"not one of {', '.join(KEY_TYPES)} (options are not accepted: the tool "
                        "writes its own)")
    if len(parts) < 2:
        raise KeyRefused(f"malformed {parts[0]} key: the base64 part is missing")
    ktype, blob = parts[0], parts[1]
    try:
        raw = base64.b64decode(blob, validate=True)
        (n,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + n].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        raise KeyRefused(f"malformed {ktype} key: its base64 part does not decode to a key") from None
    if inner != ktype or len(raw) < 4 + n + 4:
        raise KeyRefused(f"malformed key: it says {ktype} but holds {printable(inner[:40])!r}")
    comment = parts[2].strip() if len(parts) > 2 else ""
    if comment and not _SAFE.fullmatch(comment):
        raise KeyRefused("the key's comment holds control characters or quotes")
    return PublicKey(ktype, blob, comment)


def parse_line(line: str) -> Entry:
    m = _OURS.fullmatch(line.strip())
    if not m:
        return Entry(line)
    try:
        words = shlex.split(m["cmd"])
    except ValueError:
        return Entry(line)
    if len(words) != 5 or words[1] != "session" or words[3] != "--db":
        return Entry(line)
    return Entry(line, user=words[2], db=words[4], command=words[0],
                 key=PublicKey(m["type"], m["blob"], m["comment"] or ""))


def read(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [parse_line(line) for line in text.splitlines()]


def forced_line(taian: str, user: str, db: str, key: PublicKey) -> str:
    for what, value in (("the taian command's path", taian), ("the user name", user), ("the database path", db)):
        if not _SAFE.fullmatch(value):
            raise KeyRefused(f"{what} {printable(value)!r} holds quotes, backslashes or control characters: "
                            "it cannot stand in a forced command")
    cmd = " ".join(shlex.quote(w) for w in (taian, "session", user, "--db", db))
    if '"' in cmd or "\\" in cmd:      # shell quoting of a ' would put a " inside command="..."
        raise KeyRefused(f"the forced command {printable(cmd)!r} would hold a double quote or a backslash "
                         "(a ' in the user name or a path): sshd would skip the line")
    return f'command="{cmd}",{OPTIONS} {key.text()}'


def _blob_of(entry: Entry) -> str | None:
    if entry.key is not None:
        return entry.key.blob
    words = entry.line.split()
    for i, word in enumerate(words[:-1]):
        if word in KEY_TYPES or word.endswith(tuple(KEY_TYPES)):
            return words[i + 1]
    return None


def _write(path: Path, entries: list[Entry]) -> None:
    """Rewrite the file atomically, mode 0600 (its folder 0700 when created)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".authorized_keys.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(entry.line.rstrip("\n") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add(store: Store, who: str, user: str, key_text: str, *, path: Path, taian: str) -> Entry:
    """Give ``user`` (an active user of this database) the key ``key_text``."""
    key = parse_key(key_text)
    with store.transaction():
        try:
            target = store.user(user)
        except Exception:
            raise KeyRefused(f"no such user: {user!r} (keys are given to the users of this database)") from None
        if not target.active:
            raise KeyRefused(f"user {user!r} is deactivated: a deactivated user gets no key")
        entries = read(path)
        for n, entry in enumerate(entries, 1):
            if _blob_of(entry) == key.blob:
                owner = f"for {entry.user}" if entry.user else "(a line this tool did not write)"
                raise KeyRefused(f"this key ({key.fingerprint}) is already in {path}, line {n} {owner}: "
                                "one key opens one session")
        db = str(Path(store.path).resolve())
        new = parse_line(forced_line(taian, user, db, key))
        store.audit(who, "key.add", "user", user, None,
                    {"fingerprint": key.fingerprint, "type": key.type, "comment": key.comment,
                     "authorized_keys": str(path), "db": db})
        _write(path, [*entries, new])
    return new


def remove(store: Store, who: str, what: str, *, path: Path) -> list[Entry]:
    """Remove the keys (lines written by this tool) of the user ``what``, or the one with
    the fingerprint ``what``; refused when none matches."""
    with store.transaction():
        entries = read(path)
        gone = [e for e in entries if e.user is not None and (e.user == what or e.key.fingerprint == what)]
        if not gone:
            raise KeyRefused(f"no key of this tool in {path} matches {printable(what)!r} "
                            "(give a user name or a SHA256:... fingerprint from `taian keys list`)")
        for entry in gone:
            store.audit(who, "key.remove", "user", entry.user,
                        {"fingerprint": entry.key.fingerprint, "type": entry.key.type,
                         "comment": entry.key.comment, "authorized_keys": str(path)}, None)
        _write(path, [e for e in entries if e not in gone])
    return gone


def listing(path: Path) -> tuple[list[Entry], int]:
    """The lines of this tool, and how many other lines the file holds."""
    entries = read(path)
    ours = [e for e in entries if e.user is not None]
    return ours, sum(1 for e in entries if e.user is None and e.line.strip() and not e.line.lstrip().startswith("#"))


def user_fingerprints(path: Path, user: str) -> list[str]:
    return [e.key.fingerprint for e in read(path) if e.user == user]


class KeyGuard:
    """Whether the key a session was opened with is still registered for its user in the
    service account's ``authorized_keys`` (``taian keys remove`` ends what the key may do in
    a console already open, not only the next connection). The file is read again only when
    it changed (its size, time or inode)."""

    def __init__(self, path: Path, user: str, fingerprint: str) -> None:
        self.path, self.user, self.fingerprint = path, user, fingerprint
        self._seen: tuple | None = None
        self._listed = True

    def listed(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False                  # no authorized_keys: no key is registered
        seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        if seen != self._seen:
            self._listed = self.fingerprint in user_fingerprints(self.path, self.user)
            self._seen = seen
        return self._listed


def key_of_session(auth_info: str | None) -> str:
    """The fingerprint of the key an SSH session was opened with, from the file sshd names
    in ``SSH_USER_AUTH`` (``ExposeAuthInfo yes``): its ``publickey TYPE BASE64`` line."""
    if not auth_info:
        return ""
    try:
        text = Path(auth_info).read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "publickey" and parts[1] in KEY_TYPES:
            try:
                return fingerprint(parts[2])
            except (binascii.Error, ValueError):
                return ""
    return ""

