"""Schema migrations: an old file is upgraded in place (same file, same rows), an
up-to-date file is left alone, and every connection has the PRAGMAs the store relies on."""
from __future__ import annotations

import os
import sqlite3

import chinese_calendar
import pytest
from sqlite_utils import Database

from taian_tui.schema import migrations
from taian_tui.store import Store

NAMES = [m.name for m in migrations._migrations]
MIGRATIONS_TABLE = "_sqlite_migrations"


def applied(path) -> list[str]:
    conn = sqlite3.connect(str(path))
    try:
        return [r[0] for r in conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id",
            (migrations.name,))]
    finally:
        conn.close()


def old_file(path, stop_before: str):
    """A file made by an older version: migrations applied up to (not including) ``stop_before``."""
    db = Database(str(path))
    migrations.apply(db, stop_before=stop_before)
    return db


def test_migration_names_are_unique_and_ordered():
    assert NAMES, "no migrations registered"
    assert NAMES[0] == "0001_initial"
    assert len(set(NAMES)) == len(NAMES)
    assert NAMES == sorted(NAMES)


def test_fresh_file_gets_every_migration(tmp_path):
    path = tmp_path / "new.db"
    with Store(path) as s:
        assert s.scalar("SELECT COUNT(*) FROM units") == 0
    assert applied(path) == NAMES


@pytest.mark.skipif(len(migrations._migrations) < 2,
                    reason="needs at least two migrations: an old file is one without the last")
def test_old_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    last = NAMES[-1]
    db = old_file(path, stop_before=last)
    assert last not in [m.name for m in migrations.applied(db)]
    assert [m.name for m in migrations.pending(db)] == [last]
    # Rows written by the old version (tables of 0001_initial).
    db.execute("INSERT INTO units(code, name, kind) VALUES ('daiyue', '岱岳区', 'county')")
    db.execute("INSERT INTO settings(key, value) VALUES ('marker', 'from-the-old-version')")
    db.conn.commit()
    db.conn.close()
    inode = os.stat(path).st_ino
    size_before = os.stat(path).st_size
    assert size_before > 0

    with Store(path) as s:
        assert s.unit("daiyue").name == "岱岳区"
        assert s.setting("marker") == "from-the-old-version"
        assert s.migrate() == []  # nothing left to do
        assert s.verify_audit().ok
    assert os.stat(path).st_ino == inode
    names = applied(path)
    assert names[-1] == last
    assert names == NAMES


@pytest.mark.skipif("0002_appeal_search" not in NAMES, reason="the search migration is not there")
def test_old_appeals_are_indexed_by_the_search_migration(tmp_path):
    path = tmp_path / "old.db"
    db = old_file(path, stop_before="0002_appeal_search")
    db.execute("INSERT INTO enterprises(uscc, name, county, created_at, updated_at) VALUES "
               "('91370900MA3C12345J', '泰安示范新材料有限公司', '岱岳区', 'x', 'x')")
    db.execute("INSERT INTO appeals(ref, enterprise_uscc, category, county, title, body, state, "
               "submitted_at) VALUES ('A-OLD', '91370900MA3C12345J', 'land', '岱岳区', '用地指标', "
               "'请协调', 'submitted', '2026-09-29T10:00:00+08:00')")
    db.conn.commit()
    db.conn.close()
    with Store(path) as s:
        assert s.appeal("A-OLD").title == "用地指标"
        assert s.scalar("SELECT COUNT(*) FROM appeal_search") == 1
        assert s.scalar("SELECT rowid FROM appeal_search") == s.appeal("A-OLD").id


def test_file_with_no_migration_applied_keeps_foreign_rows(tmp_path):
    """The oldest possible file: the migrations table only, plus a table of its own."""
    path = tmp_path / "ancient.db"
    db = old_file(path, stop_before=NAMES[0])
    db.execute("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, note TEXT)")
    db.execute("INSERT INTO legacy_notes(note) VALUES ('keep me')")
    db.conn.commit()
    db.conn.close()
    assert applied(path) == []
    inode = os.stat(path).st_ino
    with Store(path) as s:
        assert s.scalar("SELECT note FROM legacy_notes") == "keep me"
        # seeded after migrating: every day chinese_calendar knows (2004-2026), its holidays
        # and its make-up workdays
        assert s.scalar("SELECT COUNT(*) FROM calendar") == \
            len(chinese_calendar.holidays) + len(chinese_calendar.workdays)
    assert os.stat(path).st_ino == inode
    assert applied(path) == NAMES


def test_up_to_date_file_applies_nothing(tmp_path):
    path = tmp_path / "t.db"
    Store(path).close()
    conn = sqlite3.connect(str(path))
    before = conn.execute(f"SELECT * FROM {MIGRATIONS_TABLE} ORDER BY id").fetchall()
    seeded = conn.execute("SELECT value FROM settings WHERE key = 'calendar_seeded'").fetchone()
    conn.close()
    inode = os.stat(path).st_ino
    with Store(path) as s:
        assert s.migrate() == []
        assert [tuple(r) for r in s.all(f"SELECT * FROM {MIGRATIONS_TABLE} ORDER BY id")] == before
        assert s.setting("calendar_seeded") == seeded[0]  # not seeded twice
    assert os.stat(path).st_ino == inode


def test_the_fixture_file_is_up_to_date(store, db_path):
    assert store.migrate() == []
    assert applied(db_path) == NAMES


def test_migrate_false_leaves_the_file_alone(tmp_path):
    path = tmp_path / "bare.db"
    with Store(path, migrate=False) as s:
        assert s.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") == 0


# -- PRAGMAs ------------------------------------------------------------------------------------
def test_pragmas(store):
    assert store.scalar("PRAGMA journal_mode").lower() == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") == 60_000
    assert store.scalar("PRAGMA synchronous") == 1  # NORMAL


def test_pragmas_on_a_second_connection(store, db_path):
    with Store(db_path) as other:
        assert other.scalar("PRAGMA journal_mode").lower() == "wal"
        assert other.scalar("PRAGMA foreign_keys") == 1
        assert other.scalar("PRAGMA busy_timeout") == 60_000


def test_wal_is_persistent_for_plain_connections(store, db_path):
    conn = sqlite3.connect(str(db_path))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    finally:
        conn.close()


def test_an_old_rollback_journal_file_is_switched_to_wal(tmp_path):
    path = tmp_path / "old.db"
    db = old_file(path, stop_before=NAMES[-1])
    assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal"
    db.conn.close()
    with Store(path) as s:
        assert s.scalar("PRAGMA journal_mode").lower() == "wal"


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():
            store.conn.execute(
                "INSERT INTO appeals(ref, enterprise_uscc, category, county, title, state, submitted_at) "
                "VALUES ('A-FK', '000000000000000000', 'land', '岱岳区', 't', 'submitted', 'x')")
    assert store.one("SELECT 1 FROM appeals WHERE ref = 'A-FK'") is None


def test_the_unused_county_index_of_enterprises_is_dropped(tmp_path):
    path = tmp_path / "old.db"
    db = old_file(path, stop_before="0007_drop_enterprises_county_index")
    assert "enterprises_county" in {i.name for i in db["enterprises"].indexes}
    db.conn.close()
    with Store(path) as s:
        names = {r[0] for r in s.conn.execute("SELECT name FROM pragma_index_list('enterprises')")}
    assert "enterprises_county" not in names
