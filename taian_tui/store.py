"""The SQLite store: one file, WAL, busy timeout, foreign keys, schema migrations,
transactions, the tamper-evident audit trail, and the queries the screens and commands
share. No textual here (an import-linter contract enforces it).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shlex
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlite_utils import Database

from taian_tui.domain import clock, timeutil
from taian_tui.domain.refusals import DomainError, NotFound, ValidationError
from taian_tui.domain.models import (Appeal, AuditEntry, CardEvent, Enterprise, Extension, Project,
                     SupervisionOrder, Unit, User, from_row)
from taian_tui.schema import migrations

DEFAULT_DB = "taian.db"
BUSY_TIMEOUT_MS = 60_000
GENESIS_HASH = "0" * 64


def resolve_db_path(path: str | os.PathLike | None = None) -> str:
    """``--db PATH``, else ``TAIAN_DB``, else ``./taian.db``."""
    if path:
        return str(path)
    return os.environ.get("TAIAN_DB") or DEFAULT_DB


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE ? ESCAPE '\\'``, with ``%``, ``_`` and ``\\`` in ``text`` taken
    literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _json(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True,
                      default=str, separators=(",", ":"))


def audit_hash(prev_hash: str, id_: int, at: str, actor: str, action: str, entity: str,
               entity_id: str, before: str, after: str, os_user: str = "", key_fingerprint: str = "",
               client: str = "") -> str:
    """The chain hash of one audit row. The principal's fields are part of it when any is set
    (rows written before they were recorded keep their hash)."""
    fields = [prev_hash, str(id_), at, actor, action, entity, entity_id, before, after]
    if os_user or key_fingerprint or client:
        fields += [os_user, key_fingerprint, client]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who really acts, whatever the application user: the operating-system account (with the
    account that ran ``sudo``, if any), and in an SSH session the key's fingerprint and the
    client's address. Recorded on every audit row."""

    os_user: str
    key_fingerprint: str = ""
    client: str = ""


_PRINCIPAL: list[Principal] = []


def principal() -> Principal:
    """This process's principal: set by ``set_principal`` (``taian session`` sets the key's
    fingerprint), else read from the environment once."""
    if not _PRINCIPAL:
        _PRINCIPAL.append(_principal_from_environment())
    return _PRINCIPAL[0]


def set_principal(value: Principal) -> None:
    _PRINCIPAL[:] = [value]


def _principal_from_environment() -> Principal:
    import pwd

    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = f"uid {os.getuid()}"
    sudo = os.environ.get("SUDO_USER")
    if sudo and sudo != name:
        name = f"{name} (sudo by {sudo})"
    conn = os.environ.get("SSH_CONNECTION", "").split()
    client = f"{conn[0]}:{conn[1]}" if len(conn) >= 2 else ""
    return Principal(os_user=name, client=client)


@dataclass
class AuditCheck:
    ok: bool
    rows: int
    bad_id: int | None = None
    reason: str = ""


# -- what a file is, and opening it without changing it ----------------------------------------
SQLITE_MAGIC = b"SQLite format 3\x00"
READ_ONLY_COMMANDS = "audit verify, appeal list|show, stats, report, export, backup"
#: SQLite's answers when a read-only open cannot create or use the -wal/-shm files
#: (a read-only folder, a -shm it may not write): ``connect_read_only`` may then fall back.
_SHM_PROBLEMS = ("SQLITE_CANTOPEN", "SQLITE_READONLY_DIRECTORY", "SQLITE_READONLY_CANTINIT",
                 "SQLITE_READONLY_RECOVERY", "SQLITE_READONLY_CANTLOCK")


class DatabaseFileError(Exception):
    """The file at the database path cannot be used for what was asked: it is missing, a
    directory, not an SQLite file, another program's database, damaged, from a newer (or an
    older) version of taian, or read-only for a command that writes. ``kind`` says which;
    the message names the path and what to do. Nothing was written to the file. The command
    line prints the message and exits 1."""

    def __init__(self, path: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind


class BackupError(Exception):
    """A backup that did not complete (a full disk, a damaged database, a copy that failed
    its check): nothing was left at the target. The command line exits 1."""


@dataclass(frozen=True)
class SchemaState:
    """What a database holds, as far as this program is concerned (``schema_state``).

    ``kind`` is ``empty`` (no tables: not yet a taian database), ``foreign`` (tables, but
    no taian migration recorded: another program's file), ``newer`` (records a taian
    migration this program does not know), ``older`` (some of this program's migrations
    are pending) or ``current``."""

    kind: str
    tables: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()


def known_migrations() -> list[str]:
    return [m.name for m in migrations._migrations]


def schema_state(conn: sqlite3.Connection) -> SchemaState:
    """Read (never write) which schema ``conn``'s database holds."""
    tables = tuple(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"))
    table = migrations.migrations_table
    if not tables:
        return SchemaState("empty")
    if table not in tables:
        return SchemaState("foreign", tables)
    try:
        recorded = [(r[0], r[1]) for r in conn.execute(
            f'SELECT migration_set, name FROM "{table}" ORDER BY rowid')]
    except sqlite3.OperationalError:          # not sqlite-utils' table
        return SchemaState("foreign", tables)
    applied = tuple(name for set_, name in recorded if set_ == migrations.name)
    if not applied:
        # the migrations table alone, empty: what an interrupted first ``migrate`` could
        # leave; anything else is some other program's
        return SchemaState("empty" if tables == (table,) and not recorded else "foreign", tables)
    known = known_migrations()
    unknown = tuple(n for n in applied if n not in known)
    pending = tuple(n for n in known if n not in applied)
    kind = "newer" if unknown else "older" if pending else "current"
    return SchemaState(kind, tables, applied, unknown, pending)


def _cmd(path: str) -> str:
    return f"taian migrate --db {shlex.quote(path)}"


def _file_kind(path: str, *, may_be_missing: bool = False) -> str:
    """``missing`` (only with ``may_be_missing``), ``empty`` (0 bytes, no write-ahead log) or
    ``sqlite``; anything else raises ``DatabaseFileError``. Reads the header only."""
    p = Path(path)
    if p.is_dir():
        raise DatabaseFileError(path, "directory", f"{path} is a directory, not a database file")
    if not p.exists():
        if may_be_missing:
            return "missing"
        raise DatabaseFileError(
            path, "missing",
            f"database {path} does not exist (run `{_cmd(path)}` to create it, "
            f"`taian demo --no-tui --db {shlex.quote(path)}` for the demo city, "
            "or point --db / TAIAN_DB at your database)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseFileError(path, "unreadable",
                                f"{path}: cannot read the database file ({exc.strerror or exc})") from None
    if not head:
        wal = Path(f"{path}-wal")
        if not (wal.exists() and wal.stat().st_size > 0):
            return "empty"
        return "sqlite"                      # every page still in the log: SQLite decides
    if head != SQLITE_MAGIC:
        raise DatabaseFileError(path, "not_sqlite",
                                f"{path} is not a taian database: it is not an SQLite database file "
                                "at all. Nothing was changed; check --db / TAIAN_DB")
    return "sqlite"


def _refuse(path: str, state: SchemaState, *, migrating: bool) -> None:
    """Raise ``DatabaseFileError`` unless ``state`` may be used: the current schema, or for
    ``taian migrate`` an empty, older or current one."""
    allowed = ("empty", "older", "current") if migrating else ("current",)
    if state.kind in allowed:
        return
    if state.kind == "empty":
        raise DatabaseFileError(path, "empty",
                                f"{path} is empty: not yet a taian database (run `{_cmd(path)}` to create "
                                "the schema)")
    if state.kind == "foreign":
        shown_tables = ", ".join(state.tables[:8]) + (", …" if len(state.tables) > 8 else "")
        what = ("; `taian migrate` creates the schema only in a new or empty file" if migrating else "")
        raise DatabaseFileError(path, "foreign",
                                f"{path} is not a taian database: it is another program's SQLite file "
                                f"(tables: {shown_tables}){what}. Nothing was changed; check --db / TAIAN_DB")
    if state.kind == "newer":
        raise DatabaseFileError(path, "newer",
                                f"{path} was written by a newer version of taian (it records schema "
                                f"migrations this program does not know: {', '.join(state.unknown)}). "
                                "Nothing was changed; upgrade taian to use it")
    if state.kind == "older":
        n = len(state.pending)
        raise DatabaseFileError(path, "older",
                                f"{path} has an older taian schema ({n} migration{'s' if n > 1 else ''} "
                                f"to apply: {', '.join(state.pending)}). Nothing was changed; back it up, "
                                f"then run `{_cmd(path)}`")
    raise DatabaseFileError(path, state.kind, f"{path}: cannot use this database ({state.kind})")


def _inspect(conn: sqlite3.Connection, path: str) -> SchemaState:
    try:
        return schema_state(conn)
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB" \
                or type(exc) is sqlite3.DatabaseError:
            raise DatabaseFileError(path, "damaged",
                                    f"{path} is damaged ({exc}); nothing was changed: restore the "
                                    "latest backup") from None
        raise


def _precheck_untouched(path: str, *, migrating: bool = False) -> None:
    """Before a read-only open: when no -wal (nor -journal) exists (nobody has the file open
    in WAL mode, and the file alone is the whole database), read its schema with ``immutable=1``, which
    creates nothing, and refuse (``DatabaseFileError``) what will be refused anyway. A
    ``mode=ro`` open of a WAL file creates -wal/-shm beside it and, read-only, cannot
    remove them: a refused file (another program's, say) is thus left as it was found, with
    nothing beside it."""
    if Path(f"{path}-wal").exists() or Path(f"{path}-journal").exists():
        return                                     # (a hot rollback journal: let SQLite see it)
    try:
        conn = _sqlite_connect(_uri(path, mode="ro", immutable="1"), uri=True)
    except sqlite3.Error:
        return
    try:
        state = _inspect(conn, path)
    except sqlite3.Error:
        return                                     # the real open will say what is wrong
    finally:
        conn.close()
    _refuse(path, state, migrating=migrating)


def _write_problem(path: str) -> str | None:
    """Why a command that writes could not write ``path`` here (``None``: it can). Asked of
    the operating system (``access``: a read-only mount, file modes, the folder for the
    -wal/-shm), never by trying a write."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.exists() and not os.access(p, os.W_OK):
        return "the file is read-only"
    sides = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    for side in sides:
        if side.exists() and not os.access(side, os.W_OK):
            # (SQLite gives its -wal/-shm the database's modes: a read of a file that was
            # read-only then leaves them so)
            return (f"{side.name} is read-only: make it writable like {p.name} (chmod u+w {side}) "
                    "or remove it while no taian process has the database open")
    if not os.access(folder, os.W_OK | os.X_OK) and not all(side.exists() for side in sides):
        return f"the folder {folder} is read-only (SQLite keeps {p.name}-wal and {p.name}-shm there)"
    return None


def _uri(path: str, **params: str) -> str:
    return "file:" + urllib.parse.quote(os.path.abspath(path)) + "?" + urllib.parse.urlencode(params)


def _sqlite_connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)


def connect_read_only(path: str) -> sqlite3.Connection:
    """A connection that cannot write the database: ``mode=ro``. In WAL mode SQLite needs
    the -wal and -shm files; where it can neither create nor use them (a read-only folder
    and no -shm, or a -shm it may not use), the fallback is ``immutable=1`` (no locks, no
    log), and only when the -wal is absent or empty: then the file alone is the whole
    database. A -wal holding changes not yet in the file is refused rather than read past
    (that would show an older state). Immutable assumes nobody changes the file while the
    command reads it: nobody had it open in WAL mode when it started (no -wal), or nothing
    was logged (an empty -wal); a writer who starts meanwhile and checkpoints into the file
    during the read can make the read inconsistent. ``PRAGMA journal_mode`` is never set.
    A read-only connection on a WAL file whose -wal/-shm did not exist (in a writable
    folder) leaves them behind, empty: they are SQLite's, and the next read-write close
    removes them."""
    conn = None
    try:
        conn = _sqlite_connect(_uri(path, mode="ro"), uri=True)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if conn is not None:
            conn.close()
        if getattr(exc, "sqlite_errorname", "") not in _SHM_PROBLEMS:
            raise
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise DatabaseFileError(
                path, "unreadable_wal",
                f"{path} cannot be read here: its write-ahead log {wal.name} holds changes not yet in "
                f"the database file, and SQLite cannot use the log's index ({Path(path).name}-shm) in a "
                "read-only folder. Read it where it is writable (or once the service has closed it), "
                "or copy the file with its -wal to a writable folder") from None
    conn = _sqlite_connect(_uri(path, mode="ro", immutable="1"), uri=True)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


class Store:
    """One connection to the database file. Not shared between threads: a worker
    thread opens its own ``Store`` on the same path.

    ``Store(path)`` (in-process use: tests, the demo builder) creates the file if need be,
    applies pending migrations and seeds the calendar; ``migrate=False`` does neither.
    The command line never does that: ``Store.open_existing`` (every command but
    ``migrate`` and ``demo``) opens only an existing taian database whose schema is exactly
    this program's, and ``Store.open_for_migration`` (``taian migrate``) only a new or empty
    file or a taian database at most as new as this program; both refuse anything else with
    ``DatabaseFileError`` before writing anything. ``read_only=True`` opens the file so that
    nothing can be written (``connect_read_only``): no migration, no seeding, no
    ``journal_mode``."""

    def __init__(self, path: str | os.PathLike | None = None, *, migrate: bool = True,
                 seed_calendar: bool = True, read_only: bool = False,
                 connection: sqlite3.Connection | None = None) -> None:
        self.path = resolve_db_path(path)
        self.read_only = read_only
        self._depth = 0
        self._calendar: clock.WorkCalendar | None = None
        self._calendar_version: str | None = None
        if connection is not None:             # opened and checked by a classmethod below
            self.conn = connection
        elif read_only:
            self.conn = connect_read_only(self.path)
        else:
            self.conn = _sqlite_connect(self.path)
        try:
            self._configure()
        except BaseException:
            self.conn.close()
            raise
        if migrate and not read_only:
            self.migrate()
            if seed_calendar:
                self.seed_calendar()

    def _configure(self) -> None:
        self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self.read_only:
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and self.path != ":memory:":
                raise DomainError.of("wal_failed", path=self.path, mode=mode)
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")

    @classmethod
    def open_existing(cls, path: str | os.PathLike | None = None, *,
                      read_only: bool = False, older: bool = False) -> "Store":
        """Open an existing taian database whose schema is exactly this program's; create,
        migrate and seed nothing. ``DatabaseFileError`` (naming the path) for a missing
        file, a directory, a file that is not SQLite, another program's database, an empty
        one (not yet a taian database: run ``taian migrate``), one from a newer taian, one
        with migrations pending (run ``taian migrate``; ``older=True``, for ``taian backup``
        before that migration, takes it), a damaged one, and, unless ``read_only``, one that
        cannot be written here. The file is checked before anything could be written to it
        (``journal_mode`` comes after the check)."""
        path = resolve_db_path(path)
        kind = _file_kind(path)
        if kind == "empty":
            _refuse(path, SchemaState("empty"), migrating=False)
        problem = None if read_only else _write_problem(path)
        if read_only or problem:
            _precheck_untouched(path, migrating=older)     # (an empty file was refused above)
            conn = connect_read_only(path)
        else:
            conn = _sqlite_connect(_uri(path, mode="rw"), uri=True)
        try:
            state = _inspect(conn, path)
            if not (older and state.kind == "older"):
                _refuse(path, state, migrating=False)
            if problem:
                raise DatabaseFileError(path, "read_only",
                                        f"{path} is read-only here ({problem}) and this command changes "
                                        f"the database; read-only commands ({READ_ONLY_COMMANDS}) "
                                        "still work")
            return cls(path, migrate=False, read_only=read_only, connection=conn)
        except BaseException:
            conn.close()
            raise

    @classmethod
    def open_for_migration(cls, path: str | os.PathLike | None = None) -> "Store":
        """Open (creating it if need be) a file for ``taian migrate``: a new path, an empty
        file, or a taian database no newer than this program. Another program's file, a
        file that is not SQLite, a damaged one or one from a newer taian is refused
        (``DatabaseFileError``) before anything is written. Does not migrate: call
        ``migrate()``."""
        path = resolve_db_path(path)
        kind = _file_kind(path, may_be_missing=True)
        if kind == "missing":
            folder = Path(path).parent
            if not folder.is_dir():
                raise DatabaseFileError(path, "no_folder",
                                        f"cannot create {path}: the folder {folder} does not exist")
        problem = _write_problem(path)
        if problem and kind == "sqlite":
            _precheck_untouched(path, migrating=True)
            conn = connect_read_only(path)
            try:
                _refuse(path, _inspect(conn, path), migrating=True)
            finally:
                conn.close()
        if problem:
            raise DatabaseFileError(path, "read_only",
                                    f"cannot {'create' if kind == 'missing' else 'migrate'} {path}: "
                                    f"{problem}")
        conn = _sqlite_connect(path)
        try:
            _refuse(path, _inspect(conn, path), migrating=True)
            return cls(path, migrate=False, connection=conn)
        except BaseException:
            conn.close()
            raise

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> list[str]:
        """Apply pending migrations in place, under a write lock so that two processes
        starting at once do not both migrate. Returns the names applied. A database that
        records a migration this program does not know (a newer taian's) is refused
        (``DatabaseFileError``), untouched."""
        if self.read_only:
            raise DatabaseFileError(self.path, "read_only", f"cannot migrate {self.path}: opened read-only")
        db = Database(self.conn)
        applied = {m.name for m in migrations.applied(db)}
        unknown = sorted(applied - set(known_migrations()))
        if unknown:
            _refuse(self.path, SchemaState("newer", unknown=tuple(unknown)), migrating=True)
        pending = [m.name for m in migrations.pending(db)]
        if not pending:
            return []
        with self.transaction():
            pending = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
        return pending

    # -- transactions ----------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: takes the write lock at once, waiting
        up to the busy timeout). Nested calls run in a savepoint of the outer transaction."""
        if self._depth:
            # nested: a savepoint, so a failure inside rolls back only its own writes
            self._depth += 1
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self._depth = 0
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # -- small query helpers ----------------------------------------------------------
    def one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # -- settings ----------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else value

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def response_days(self) -> int:
        return int(self.setting("response_days", str(clock.DEFAULT_RESPONSE_DAYS)))

    # -- audit --------------------------------------------------------------------------
    def audit(self, actor: str, action: str, entity: str, entity_id: Any,
              before: Any = None, after: Any = None, at: str | None = None) -> int:
        """Append one audit row, chained to the previous one. Must run inside the
        transaction of the change it records."""
        if not self.in_transaction:
            raise RuntimeError("audit() outside a transaction")
        at = at or timeutil.iso()
        who = principal()
        os_user = who.os_user
        fixed = os.environ.get("TAIAN_NOW")
        if fixed:
            # the clock set by hand (demos, tests, an operator's shell): the row says so, and
            # when it was really written, so that a backdated action never reads as an honest one
            real = _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=8))).isoformat(timespec="seconds")
            os_user = f"{os_user} (clock set to {fixed}; written {real})"
        head = self.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        prev_hash = head["last_hash"] if head else GENESIS_HASH
        b, a = _json(before), _json(after)
        cur = self.conn.execute(
            "INSERT INTO audit(at, actor, action, entity, entity_id, before, after, prev_hash, hash, "
            "os_user, key_fingerprint, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)",
            (at, actor, action, entity, str(entity_id), b, a, prev_hash, os_user,
             who.key_fingerprint, who.client))
        new_id = cur.lastrowid
        digest = audit_hash(prev_hash, new_id, at, actor, action, entity, str(entity_id), b, a,
                            os_user, who.key_fingerprint, who.client)
        self.conn.execute("UPDATE audit SET hash = ? WHERE id = ?", (digest, new_id))
        self.conn.execute("INSERT INTO audit_head(id, last_id, last_hash) VALUES (1, ?, ?) "
                          "ON CONFLICT(id) DO UPDATE SET last_id = excluded.last_id, "
                          "last_hash = excluded.last_hash", (new_id, digest))
        return new_id

    def verify_audit(self) -> AuditCheck:
        """Walk the chain. Names the first row whose content, link or position is wrong."""
        prev_hash = GENESIS_HASH
        expected_id = None
        n = 0
        first = self.scalar("SELECT MIN(id) FROM audit")
        if first is not None and first != 1:
            return AuditCheck(False, 0, 1, "audit row 1 is missing (rows were deleted)")
        for row in self.conn.execute("SELECT * FROM audit ORDER BY id"):
            n += 1
            if expected_id is not None and row["id"] != expected_id:
                return AuditCheck(False, n, expected_id,
                                  f"audit row {expected_id} is missing (rows were deleted)")
            if row["prev_hash"] != prev_hash:
                return AuditCheck(False, n, row["id"],
                                  f"audit row {row['id']} does not link to the row before it")
            digest = audit_hash(prev_hash, row["id"], row["at"], row["actor"], row["action"],
                                row["entity"], row["entity_id"], row["before"], row["after"],
                                row["os_user"], row["key_fingerprint"], row["client"])
            if digest != row["hash"]:
                return AuditCheck(False, n, row["id"],
                                  f"audit row {row['id']} was altered (hash mismatch)")
            prev_hash = row["hash"]
            expected_id = row["id"] + 1
        head = self.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        last_id = (expected_id - 1) if expected_id else 0
        if head is None and n:
            return AuditCheck(False, n, last_id, "the audit head record is missing")
        if head is not None and (head["last_id"] != last_id or head["last_hash"] != prev_hash):
            if head["last_id"] > last_id:
                bad, what = last_id + 1, "is missing (the newest rows were deleted)"
            elif head["last_id"] < last_id:
                bad, what = head["last_id"] + 1, "was added behind the trail's back"
            else:
                bad, what = last_id, "does not match the hash the trail recorded for it"
            return AuditCheck(False, n, bad,
                              f"audit row {bad} {what}: the trail ends at row {last_id}, "
                              f"its head records row {head['last_id']}")
        return AuditCheck(True, n)

    def audit_rows(self, entity: str, entity_id: Any) -> list[AuditEntry]:
        return [from_row(AuditEntry, r) for r in self.all(
            "SELECT * FROM audit WHERE entity = ? AND entity_id = ? ORDER BY id",
            (entity, str(entity_id)))]

    # -- calendar -----------------------------------------------------------------------
    def seed_calendar(self) -> None:
        """Seed the calendar from chinese_calendar once (years it covers, 2004-2026)."""
        if self.setting("calendar_seeded"):
            return
        rows, years = clock.chinese_calendar_rows()
        with self.transaction():
            if self.setting("calendar_seeded"):
                return
            self.conn.executemany(
                "INSERT OR IGNORE INTO calendar(date, kind, source) VALUES (?, ?, 'chinese_calendar')",
                rows)
            self.conn.executemany(
                "INSERT OR IGNORE INTO calendar_years(year, source) VALUES (?, 'chinese_calendar')",
                [(y,) for y in years])
            self.set_setting("calendar_seeded", timeutil.iso())
            self.set_setting("calendar_version", timeutil.iso())

    def calendar(self) -> clock.WorkCalendar:
        version = self.setting("calendar_version", "")
        if self._calendar is None or version != self._calendar_version:
            cal = clock.WorkCalendar()
            for row in self.conn.execute("SELECT date, kind FROM calendar"):
                cal.days[_dt.date.fromisoformat(row["date"])] = row["kind"]
            cal.years = {r[0] for r in self.conn.execute("SELECT year FROM calendar_years")}
            self._calendar, self._calendar_version = cal, version
        return self._calendar

    # -- lookups --------------------------------------------------------------------------
    def user(self, username: str) -> User:
        u = from_row(User, self.one("SELECT * FROM users WHERE username = ?", (username,)))
        if u is None:
            raise NotFound.of("no_user", value=username)
        return u

    def users(self, role: str | None = None, unit_code: str | None = None) -> list[User]:
        sql, params = "SELECT * FROM users WHERE active = 1", []
        if role:
            sql += " AND role = ?"
            params.append(role)
        if unit_code:
            sql += " AND unit_code = ?"
            params.append(unit_code)
        return [from_row(User, r) for r in self.all(sql + " ORDER BY role, username", params)]

    def unit(self, code_or_name: str) -> Unit:
        u = from_row(Unit, self.one("SELECT * FROM units WHERE code = ? OR name = ?",
                                    (code_or_name, code_or_name)))
        if u is None:
            raise NotFound.of("no_unit", value=code_or_name)
        return u

    def units(self, kinds: Sequence[str] | None = None) -> list[Unit]:
        if kinds:
            marks = ",".join("?" * len(kinds))
            rows = self.all(f"SELECT * FROM units WHERE kind IN ({marks}) ORDER BY rowid", list(kinds))
        else:
            rows = self.all("SELECT * FROM units ORDER BY rowid")
        return [from_row(Unit, r) for r in rows]

    def counties(self) -> list[str]:
        """The names that may stand as an enterprise's, a project's or an appeal's county:
        the counties, county-level cities and functional zones."""
        return [r[0] for r in self.all(
            "SELECT name FROM units WHERE kind IN ('county','zone') ORDER BY rowid")]

    def enterprise(self, uscc: str) -> Enterprise:
        e = from_row(Enterprise, self.one("SELECT * FROM enterprises WHERE uscc = ?", (uscc,)))
        if e is None:
            raise NotFound.of("no_enterprise", value=uscc)
        return e

    def project(self, ref: str) -> Project:
        p = from_row(Project, self.one("SELECT * FROM projects WHERE ref = ?", (ref,)))
        if p is None:
            raise NotFound.of("no_project", value=ref)
        return p

    def appeal(self, ref: str) -> Appeal:
        a = from_row(Appeal, self.one("SELECT * FROM appeals WHERE ref = ?", (ref,)))
        if a is None:
            raise NotFound.of("no_appeal", value=ref)
        return a

    def appeal_by_id(self, id_: int) -> Appeal:
        a = from_row(Appeal, self.one("SELECT * FROM appeals WHERE id = ?", (id_,)))
        if a is None:
            raise NotFound.of("no_appeal_id", id=id_)
        return a

    def extensions(self, appeal_id: int) -> list[Extension]:
        return [from_row(Extension, r) for r in self.all(
            "SELECT * FROM extensions WHERE appeal_id = ? ORDER BY id", (appeal_id,))]

    def orders(self, appeal_id: int) -> list[SupervisionOrder]:
        return [from_row(SupervisionOrder, r) for r in self.all(
            "SELECT * FROM supervision_orders WHERE appeal_id = ? ORDER BY id", (appeal_id,))]

    def open_order(self, appeal_id: int) -> SupervisionOrder | None:
        return from_row(SupervisionOrder, self.one(
            "SELECT * FROM supervision_orders WHERE appeal_id = ? AND state = 'open' "
            "ORDER BY id DESC LIMIT 1", (appeal_id,)))

    def card_events(self, appeal_id: int) -> list[CardEvent]:
        return [from_row(CardEvent, r) for r in self.all(
            "SELECT * FROM card_events WHERE id BETWEEN ? AND ? ORDER BY id",
            (appeal_id * 4, appeal_id * 4 + 3))]

    # -- outbox -------------------------------------------------------------------------
    def queue_sms(self, recipient: str, phone: str, text: str, reason: str, entity: str,
                  at: str | None = None) -> bool:
        """Queue one SMS; the same (recipient, reason, entity) is never queued twice.
        Returns True when a row was added."""
        if not phone:
            return False
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO outbox(recipient, phone, text, reason, entity, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (recipient, phone, text, reason, entity, at or timeutil.iso(), at or timeutil.iso()))
        return cur.rowcount > 0

    # -- backup -------------------------------------------------------------------------
    def backup(self, target: str | os.PathLike) -> int:
        """A consistent copy of the database, safe while others write; returns its pages.

        One snapshot: SQLite's online backup in a single step (``pages=-1``), which holds one
        read transaction for the whole copy, so writers go on (WAL) and, unlike the
        step-by-step backup this replaced, it never restarts when they commit: it finishes
        under steady writes. (``VACUUM INTO`` would do as well, but SQLite 3.40 fails it from
        a read-only connection on a table with a virtual generated column, as
        ``appeals.due_sort`` is: "has 26 columns but 27 values were supplied".)

        The source first passes ``PRAGMA quick_check`` (a damaged database is not backed
        up). The copy is written to a private temporary file in the target's folder
        (``.NAME.XXXX.taian-partial``, created exclusively, mode 0600, held under ``flock``),
        synced, checked with ``quick_check`` (a page-for-page copy: this checks the very
        snapshot copied), kept in WAL mode, and only then linked to the target name (never
        replacing a file that appeared there meanwhile) and the folder synced. On any
        failure (a full disk, a file size limit, a damaged source, a failed check) the
        temporary file is removed and ``BackupError`` raised: nothing is left at the
        target. A run killed outright leaves at most its ``.taian-partial`` file (hidden,
        not ``*.db``); the next backup into that folder removes every such file that no
        live backup holds locked.

        ``quick_check`` rather than ``integrity_check``: on a 1 GB file with four indexes
        ``integrity_check`` took 37 s, ``quick_check`` 1.3 s, the copy 4.8 s."""
        target = Path(target)
        if target.exists() or target.is_symlink():
            raise ValidationError.of("backup_exists", path=str(target))
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise ValidationError.of("backup_no_folder", path=str(target), folder=str(target.parent))
        if self.in_transaction or self.conn.in_transaction:
            raise RuntimeError("backup() inside a transaction")
        remove_stale_partials(folder)
        problems = _quick_check(self.conn)
        if problems != ["ok"]:
            raise BackupError(f"{self.path} is damaged (quick_check: {'; '.join(map(str, problems))}); "
                              f"no backup written to {target}: restore the latest good backup")
        with private_output(target) as partial:
            try:
                _copy_snapshot(self.conn, partial)
                pages = _check_copy(partial)
            except sqlite3.DatabaseError as exc:
                raise BackupError(_backup_failure(self.path, target, exc)) from None
            except BackupError as exc:
                raise BackupError(f"backup of {self.path} failed: {exc}; nothing was written to "
                                  f"{target}") from None
            except OSError as exc:
                raise BackupError(f"backup of {self.path} failed: {exc.strerror or exc}; nothing was "
                                  f"written to {target}") from None
        return pages


    def restore_from(self, source: str | os.PathLike, *, actor: str = "system:operator") -> int:
        """Replace this database's whole content by the backup at ``source``, in one write:
        SQLite's online backup from the backup into this file, through its pager and its
        WAL, so that open consoles and cron see the restored content from their next read (a
        plain copy of the file under a live ``-wal`` was undone by it: SQLite replayed the
        log over the restored pages). ``source`` must be a taian database of this schema
        that passes ``quick_check`` (``DatabaseFileError`` / ``BackupError`` otherwise,
        nothing changed); the restored audit trail then records the restore, by ``actor``,
        with the backup's head. Returns the pages copied."""
        if self.in_transaction or self.conn.in_transaction:
            raise RuntimeError("restore_from() inside a transaction")
        if Path(source).resolve() == Path(self.path).resolve():
            raise BackupError(f"{source} is this database itself: give a backup to restore from")
        # what this file has delivered (or has in flight, or of unknown outcome) since the
        # backup was taken is not delivered again from the restored outbox; and the trail
        # records the head it replaces
        delivered = {r[0]: tuple(r) for r in self.all(
            "SELECT id, recipient, reason, entity, text, status, sent_at, phone, attempts, created_at "
            "FROM outbox WHERE status IN ('sent','sending','unknown')")}
        replaced = self.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        src = Store.open_existing(source, read_only=True)
        try:
            problems = _quick_check(src.conn)
            if problems != ["ok"]:
                raise BackupError(f"{source} is damaged (quick_check: {'; '.join(map(str, problems))}); "
                                  f"nothing was restored to {self.path}")
            head = src.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
            pages = src.scalar("PRAGMA page_count")
            src.conn.backup(self.conn)
        finally:
            src.close()
        with self.transaction():
            kept = 0
            # delivered (or under way) after the backup was taken: kept as they were, so that
            # the card raised again by the next sweep finds its SMS already there (the same
            # key: not queued again)
            known = {r[0] for r in self.all("SELECT id FROM outbox")}
            for id_, recipient, reason, entity, text, status, sent_at, phone, attempts, created in (
                    delivered[i] for i in sorted(delivered) if i not in known):
                kept += self.conn.execute(
                    "INSERT OR IGNORE INTO outbox(id, recipient, phone, text, reason, entity, status, attempts, "
                    "created_at, next_attempt_at, last_error, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                    (id_, recipient, phone, text, reason, entity, "sent" if status == "sent" else "unknown",
                     attempts, created, "" if status == "sent" else "restored: its delivery was under way "
                     "or of unknown outcome before the restore", sent_at)).rowcount
            for r in self.all("SELECT id, recipient, reason, entity, text FROM outbox "
                              "WHERE status IN ('queued','failed')"):
                live = delivered.get(r[0])
                if live is not None and live[:5] == tuple(r):
                    # sent stays sent; in flight or unknown stays for a person to check
                    self.conn.execute("UPDATE outbox SET status = ?, sent_at = ?, next_attempt_at = NULL, "
                                      "last_error = ? WHERE id = ?",
                                      ("sent" if live[5] == "sent" else "unknown", live[6],
                                       "" if live[5] == "sent" else "restored: its delivery was under way "
                                       "or of unknown outcome before the restore", r[0]))
                    kept += 1
            self.audit(actor, "database.restore", "database", str(self.path), None,
                       {"from": str(Path(source).resolve()),
                        "backup_head": {"id": head["last_id"], "hash": head["last_hash"]} if head else None,
                        "replaced_head": ({"id": replaced["last_id"], "hash": replaced["last_hash"]}
                                          if replaced else None),
                        "sms_not_sent_again": kept})
        return pages


def is_locked(exc: BaseException) -> bool:
    """Whether an SQLite error is another connection holding the file (busy / locked)."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA quick_check``'s first five findings (``["ok"]``: none), or the error reading it."""
    try:
        return [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


PARTIAL_SUFFIX = ".taian-partial"


@contextlib.contextmanager
def private_output(target: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """A new private file (mode 0600 whatever the umask, locked) beside ``target``, hidden
    (``.NAME.XXXX.taian-partial``), for the block to write; when the block completes, it is
    synced and named ``target`` (an existing file is replaced only with ``force``; otherwise
    a file that appeared there meanwhile is never replaced). On any failure it is removed,
    and nothing is at ``target``; what a killed run leaves is removed by the next backup or
    export into that folder (``remove_stale_partials``). Backups, exports and reports."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_partials(folder)
    fd, partial = _new_partial(folder, target.name)
    try:
        yield partial
        os.fsync(fd)
        if force:
            os.replace(partial, target)
        else:
            _publish(partial, target)
    except BaseException:
        _remove_partial(partial)
        raise
    finally:
        os.close(fd)
_SQLITE_SIDES = ("-journal", "-wal", "-shm")


def _new_partial(folder: Path, name: str) -> tuple[int, Path]:
    """A new empty private file ``.NAME.XXXX.taian-partial`` in ``folder``, created
    exclusively (mode 0600 whatever the umask) and locked (``flock``) for as long as the
    returned descriptor is open: that lock is how a later run tells a live backup's file from
    a dead one's."""
    for _ in range(100):
        path = folder / f".{name[:120]}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise BackupError(f"cannot write in the folder {folder}: {exc.strerror or exc}; nothing was "
                              f"written to {folder / name}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:   # not removed by a cleaner meanwhile
                return fd, path
        except OSError:
            pass
        os.close(fd)
    raise BackupError(f"cannot create a temporary file in {folder}")


def remove_stale_partials(folder: str | os.PathLike) -> list[Path]:
    """Remove the ``.taian-partial`` files (and their SQLite -journal/-wal/-shm) that killed
    backups left in ``folder``: those no live backup holds locked. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith("."):
            continue
        if name.endswith(PARTIAL_SUFFIX):
            try:
                fd = os.open(entry, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino != os.stat(entry).st_ino:
                    continue
                _remove_partial(entry)
                removed.append(entry)
            except OSError:
                continue                           # held by a live backup, or gone
            finally:
                os.close(fd)
        elif any(name.endswith(PARTIAL_SUFFIX + side) for side in _SQLITE_SIDES):
            main = entry.with_name(name[: name.rindex(PARTIAL_SUFFIX) + len(PARTIAL_SUFFIX)])
            if not main.exists():                  # its partial is gone: an orphan
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def _remove_partial(path: Path) -> None:
    for suffix in ("", *_SQLITE_SIDES):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _copy_snapshot(conn: sqlite3.Connection, partial: Path) -> None:
    """Every page of ``conn``'s database, as of one read transaction, into ``partial``."""
    dest = sqlite3.connect(str(partial), isolation_level=None)
    try:
        dest.execute("PRAGMA journal_mode = OFF")     # a new file: nothing to roll back to
        dest.execute("PRAGMA synchronous = OFF")      # synced by the caller, once
        conn.backup(dest, pages=-1)                   # one step: one snapshot, no restarts
    finally:
        dest.close()


def _check_copy(path: Path) -> int:
    """``quick_check`` the copy, switch it to WAL (as the live file is); its page count."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its check (quick_check: {'; '.join(map(str, problems))})")
        conn.execute("PRAGMA journal_mode = WAL")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()
    return pages


def _publish(partial: Path, target: Path) -> None:
    """Give the finished copy its name, never replacing a file that appeared there meanwhile
    (``link`` fails if the name exists; where hard links are not supported, ``rename``
    after one more look); then sync the folder."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise ValidationError.of("backup_exists", path=str(target)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise BackupError(f"cannot name the backup {target}: {exc.strerror or exc}") from None
        if target.exists() or target.is_symlink():
            raise ValidationError.of("backup_exists", path=str(target)) from None
        os.rename(partial, target)
    else:
        os.unlink(partial)
    with contextlib.suppress(OSError):
        dfd = os.open(target.parent if str(target.parent) else ".", os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _backup_failure(source: str, target: Path, exc: sqlite3.DatabaseError) -> str:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG):
        why = f"the disk is full ({exc})"
    elif name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        why = f"the database is damaged ({exc})"
    elif name.startswith("SQLITE_IOERR"):
        why = f"a write failed ({exc}: a full disk or a file size limit?)"
    else:
        why = str(exc)
    return f"backup of {source} failed: {why}; nothing was written to {target}"
