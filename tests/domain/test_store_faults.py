"""The store's opening and backup when the file is not what it should be.

``Store.open_existing`` (every command but ``migrate``/``demo``) opens only a taian
database at exactly this program's schema and refuses the rest with ``DatabaseFileError``
before writing anything; ``read_only=True`` cannot write at all and never sets the journal
mode; ``Store.open_for_migration`` creates or upgrades, never another program's file or a
newer taian's. ``Store.backup`` leaves nothing at the target on failure, never replaces a
file that appeared there, and a killed run's temporary file is removed by the next run
unless a live backup holds it.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from taian_tui import store as store_mod
from taian_tui.domain.refusals import ValidationError
from taian_tui.schema import migrations
from taian_tui.store import (PARTIAL_SUFFIX, BackupError, DatabaseFileError, Store, remove_stale_partials,
                             schema_state)

NAMES = [m.name for m in migrations._migrations]


def tables(path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        conn.close()


def foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes(body) VALUES ('mine')")
    conn.commit()
    conn.close()
    return path


def old(path: Path, stop_before: str) -> Path:
    db = Database(str(path))
    migrations.apply(db, stop_before=stop_before)
    db.conn.close()
    return path


# -- what a file holds ----------------------------------------------------------------------------------------
def test_schema_state_kinds(tmp_path, db_path):
    def state(path):
        conn = sqlite3.connect(path)
        try:
            return schema_state(conn)
        finally:
            conn.close()

    assert state(db_path).kind == "current"
    assert state(tmp_path / "new.db").kind == "empty"
    f = state(foreign(tmp_path / "f.db"))
    assert (f.kind, f.tables) == ("foreign", ("notes",))
    o = state(old(tmp_path / "o.db", NAMES[-1]))
    assert (o.kind, o.pending) == ("older", (NAMES[-1],))
    assert state(old(tmp_path / "bare.db", NAMES[0])).kind == "empty"   # the migrations table only, no row
    other_app = tmp_path / "other-app.db"
    conn = sqlite3.connect(other_app)
    Database(conn)["_sqlite_migrations"].insert({"migration_set": "someone-else", "name": "0001", "applied_at": "x"})
    conn.commit()
    conn.close()
    assert state(other_app).kind == "foreign"
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) VALUES ('taian', '9999_x', 'x')")
    conn.commit()
    conn.close()
    n = state(db_path)
    assert (n.kind, n.unknown) == ("newer", ("9999_x",))


# -- open_existing --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_only", [False, True])
def test_open_existing_refuses_what_is_not_a_current_taian_database(tmp_path, read_only):
    cases = {
        "missing": tmp_path / "missing.db",
        "directory": tmp_path,
        "empty": tmp_path / "zero.db",
        "not_sqlite": tmp_path / "text.db",
        "foreign": foreign(tmp_path / "foreign.db"),
        "older": old(tmp_path / "old.db", NAMES[-1]),
    }
    cases["empty"].write_bytes(b"")
    cases["not_sqlite"].write_text("hello\n")
    for kind, path in cases.items():
        before = path.read_bytes() if path.is_file() else None
        listing = sorted(os.listdir(tmp_path))
        with pytest.raises(DatabaseFileError) as info:
            Store.open_existing(path, read_only=read_only)
        assert info.value.kind == kind, (kind, str(info.value))
        assert str(path) in str(info.value)
        if before is not None:
            assert path.read_bytes() == before, kind
        assert sorted(os.listdir(tmp_path)) == listing, kind
    assert not cases["missing"].exists()


def test_open_existing_read_only_cannot_write_and_keeps_the_journal_mode(tmp_path, db_path):
    # a taian database in rollback-journal mode: a read-only open must not switch it to WAL
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = db_path.read_bytes()
    with Store.open_existing(db_path, read_only=True) as s:
        assert s.read_only
        assert s.scalar("SELECT COUNT(*) FROM units") > 0
        assert s.verify_audit().ok
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            s.conn.execute("INSERT INTO settings(key, value) VALUES ('x', 'y')")
        with pytest.raises(DatabaseFileError):
            s.migrate()
    assert db_path.read_bytes() == before
    with Store.open_existing(db_path) as s:               # a command that writes: WAL, as always
        assert s.scalar("PRAGMA journal_mode") == "wal"
        assert s.scalar("PRAGMA foreign_keys") == 1


def test_open_existing_writes_nothing_to_a_foreign_wal_file(tmp_path):
    path = foreign(tmp_path / "f.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(DatabaseFileError, match="is not a taian database"):
            Store.open_existing(path, read_only=read_only)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["f.db"]


# -- migrations ---------------------------------------------------------------------------------------------
def test_open_for_migration_creates_and_upgrades_but_refuses_the_rest(tmp_path, db_path):
    new = tmp_path / "new.db"
    with Store.open_for_migration(new) as s:
        assert s.migrate() == NAMES
    o = old(tmp_path / "old.db", NAMES[-1])
    with Store.open_for_migration(o) as s:
        assert s.migrate() == [NAMES[-1]]
    f = foreign(tmp_path / "f.db")
    with pytest.raises(DatabaseFileError) as info:
        Store.open_for_migration(f)
    assert info.value.kind == "foreign" and tables(f) == ["notes"]
    with pytest.raises(DatabaseFileError) as info:
        Store.open_for_migration(tmp_path / "no" / "such" / "folder.db")
    assert info.value.kind == "no_folder" and not (tmp_path / "no").exists()


def test_a_newer_database_is_refused_even_by_store_defaults(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) VALUES ('taian', '9999_x', 'x')")
    conn.commit()
    conn.close()
    for opener in (lambda: Store(db_path), lambda: Store.open_for_migration(db_path).migrate(),
                   lambda: Store.open_existing(db_path)):
        with pytest.raises(DatabaseFileError, match="newer version of taian") as info:
            opener()
        assert info.value.kind == "newer"


# -- backup ---------------------------------------------------------------------------------------------------
def test_backup_is_private_whatever_the_umask(store, tmp_path):
    old_umask = os.umask(0o000)
    try:
        target = tmp_path / "b.db"
        assert store.backup(target) > 0
    finally:
        os.umask(old_umask)
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == sorted(["b.db", "t.db", "t.db-wal", "t.db-shm"])


def test_backup_from_a_read_only_store_of_a_table_with_a_generated_column(db_path, tmp_path, make_appeal):
    """(``VACUUM INTO`` from a read-only connection fails on ``appeals.due_sort`` with SQLite 3.40.)"""
    make_appeal("accepted")
    with Store.open_existing(db_path, read_only=True) as s:
        s.backup(tmp_path / "b.db")
    with Store.open_existing(tmp_path / "b.db", read_only=True) as copy:
        assert copy.scalar("SELECT state FROM appeals") == "accepted"
        assert copy.scalar("SELECT due_sort FROM appeals") is not None
        assert copy.scalar("PRAGMA journal_mode") == "wal"


def test_a_failed_check_of_the_copy_leaves_nothing(store, tmp_path, monkeypatch):
    def bad_copy(path):
        raise BackupError("the copy failed its check (quick_check: row 3 missing from index)")
    monkeypatch.setattr(store_mod, "_check_copy", bad_copy)
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(BackupError, match="nothing was written to"):
        store.backup(folder / "b.db")
    assert os.listdir(folder) == []


def test_a_failed_copy_leaves_nothing(store, tmp_path, monkeypatch):
    def full(conn, partial):
        partial.write_bytes(b"x" * 10_000)
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(store_mod, "_copy_snapshot", full)
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(BackupError, match="failed: .*nothing was written to"):
        store.backup(folder / "b.db")
    assert os.listdir(folder) == []


def test_a_target_that_appears_meanwhile_is_not_replaced(store, tmp_path, monkeypatch):
    folder = tmp_path / "backups"
    folder.mkdir()
    target = folder / "b.db"
    real = store_mod._copy_snapshot

    def racing(conn, partial):
        real(conn, partial)
        target.write_bytes(b"someone else's")
    monkeypatch.setattr(store_mod, "_copy_snapshot", racing)
    with pytest.raises(ValidationError, match="already exists"):
        store.backup(target)
    assert target.read_bytes() == b"someone else's"
    assert os.listdir(folder) == ["b.db"]


def test_backup_inside_a_transaction_is_a_programming_error(store, tmp_path):
    with store.transaction():
        with pytest.raises(RuntimeError):
            store.backup(tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


def test_stale_partials_are_removed_but_not_a_live_backups(tmp_path):
    live_fd, live = store_mod._new_partial(tmp_path, "today.db")
    try:
        assert live.name.startswith(".today.db.") and live.name.endswith(PARTIAL_SUFFIX)
        assert live.stat().st_mode & 0o777 == 0o600
        dead = tmp_path / f".yesterday.db.0badc0de{PARTIAL_SUFFIX}"
        dead.write_bytes(b"half a copy")
        Path(f"{dead}-journal").write_bytes(b"j")
        orphan = tmp_path / f".older.db.12345678{PARTIAL_SUFFIX}-wal"
        orphan.write_bytes(b"w")
        keep = [tmp_path / "taian-2026-11-27.db", tmp_path / ".hidden", tmp_path / f"visible{PARTIAL_SUFFIX}"]
        for p in keep:
            p.write_bytes(b"keep")
        removed = remove_stale_partials(tmp_path)
        assert sorted(p.name for p in removed) == sorted([dead.name, orphan.name])
        assert sorted(os.listdir(tmp_path)) == sorted([live.name] + [p.name for p in keep])
        # another process's view of the live one: locked
        fd = os.open(live, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    finally:
        os.close(live_fd)
    assert remove_stale_partials(tmp_path) == [live]


def test_backup_of_a_damaged_database_raises_and_writes_nothing(db_path, tmp_path):
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'calendar'").fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x00" * 16)
    folder = tmp_path / "backups"
    folder.mkdir()
    with Store.open_existing(db_path, read_only=True) as s:
        with pytest.raises(BackupError, match="is damaged"):
            s.backup(folder / "b.db")
    assert os.listdir(folder) == []
