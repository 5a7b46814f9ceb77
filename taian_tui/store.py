"""The SQLite store: one file, WAL, busy timeout, foreign keys, schema migrations,
transactions, the tamper-evident audit trail, and the queries the screens and commands
share. No textual here (an import-linter contract enforces it).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import sqlite3
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


class Store:
    """One connection to the database file. Not shared between threads: a worker
    thread opens its own ``Store`` on the same path."""

    def __init__(self, path: str | os.PathLike | None = None, *, migrate: bool = True,
                 seed_calendar: bool = True) -> None:
        self.path = resolve_db_path(path)
        self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                    isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and self.path != ":memory:":
            raise DomainError.of("wal_failed", path=self.path, mode=mode)
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._depth = 0
        self._calendar: clock.WorkCalendar | None = None
        self._calendar_version: str | None = None
        if migrate:
            self.migrate()
            if seed_calendar:
                self.seed_calendar()

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> list[str]:
        """Apply pending migrations in place, under a write lock so that two processes
        starting at once do not both migrate. Returns the names applied."""
        db = Database(self.conn)
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
        head = self.one("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
        prev_hash = head["last_hash"] if head else GENESIS_HASH
        b, a = _json(before), _json(after)
        cur = self.conn.execute(
            "INSERT INTO audit(at, actor, action, entity, entity_id, before, after, prev_hash, hash, "
            "os_user, key_fingerprint, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)",
            (at, actor, action, entity, str(entity_id), b, a, prev_hash, who.os_user,
             who.key_fingerprint, who.client))
        new_id = cur.lastrowid
        digest = audit_hash(prev_hash, new_id, at, actor, action, entity, str(entity_id), b, a,
                            who.os_user, who.key_fingerprint, who.client)
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
        """An online, consistent copy (SQLite backup API), safe while others write.
        Returns the number of pages copied."""
        target = Path(target)
        if target.exists():
            raise ValidationError.of("backup_exists", path=str(target))
        if not target.parent.is_dir():
            raise ValidationError.of("backup_no_folder", path=str(target), folder=str(target.parent))
        dest = sqlite3.connect(str(target))
        try:
            self.conn.backup(dest, pages=4096)
            pages = dest.execute("PRAGMA page_count").fetchone()[0]
            dest.execute("PRAGMA journal_mode = WAL")
        finally:
            dest.close()
        return pages
