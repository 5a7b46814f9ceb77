"""The store itself: transactions, locking, backup, settings, lookups and the outbox."""
from __future__ import annotations

import sqlite3

import pytest

from taian_tui.domain import operations as wf
from taian_tui.store import Store, resolve_db_path
from taian_tui.domain.refusals import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationError


# -- errors -------------------------------------------------------------------------------------
def test_domain_errors_share_a_base_and_exit_code():
    for cls in (NotFound, PermissionDenied, InvalidTransition, ValidationError):
        assert issubclass(cls, DomainError)
        assert cls.exit_code == 2


# -- paths --------------------------------------------------------------------------------------
def test_resolve_db_path(monkeypatch, tmp_path):
    monkeypatch.delenv("TAIAN_DB", raising=False)
    assert resolve_db_path() == "taian.db"
    monkeypatch.setenv("TAIAN_DB", str(tmp_path / "env.db"))
    assert resolve_db_path() == str(tmp_path / "env.db")
    assert resolve_db_path(tmp_path / "arg.db") == str(tmp_path / "arg.db")


def test_store_uses_taian_db(monkeypatch, tmp_path):
    monkeypatch.setenv("TAIAN_DB", str(tmp_path / "env.db"))
    with Store() as s:
        assert s.path == str(tmp_path / "env.db")
    assert (tmp_path / "env.db").exists()


# -- transactions -------------------------------------------------------------------------------
def test_transaction_commits(store, db_path):
    with store.transaction():
        assert store.in_transaction
        store.set_setting("k", "v")
    assert not store.in_transaction
    with Store(db_path) as other:
        assert other.setting("k") == "v"


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(ValueError):
        with store.transaction():
            store.set_setting("k", "v")
            raise ValueError("boom")
    assert store.setting("k") is None
    assert not store.in_transaction
    assert not store.conn.in_transaction


def test_nested_transaction_joins_the_outer_one(store):
    with pytest.raises(ValueError):
        with store.transaction():
            store.set_setting("outer", "1")
            with store.transaction():
                store.set_setting("inner", "1")
                assert store.in_transaction
            assert store.in_transaction  # still the outer one
            raise ValueError("boom")
    assert store.setting("outer") is None
    assert store.setting("inner") is None


def test_a_refused_operation_inside_an_outer_transaction_rolls_all_back(store, make_appeal):
    a = make_appeal("assigned")
    with pytest.raises(PermissionDenied):
        with store.transaction():
            wf.accept_appeal(store, "zrzy1", a.ref, at="2026-09-29T11:00:00+08:00")
            wf.reply_appeal(store, "sthj1", a.ref, "答复", at="2026-09-29T12:00:00+08:00")
    assert store.appeal(a.ref).state == "assigned"
    assert [r.action for r in store.audit_rows("appeal", a.ref)] == ["submit"]
    assert store.verify_audit().ok


def test_transaction_takes_the_write_lock_at_once(store, db_path):
    other = sqlite3.connect(str(db_path), timeout=0, isolation_level=None)
    try:
        with store.transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL).
            assert other.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 60
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_writes_wait_for_a_busy_writer(store, db_path):
    """A second Store waits (busy timeout) instead of failing at once."""
    import threading
    import time

    holder = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    committing_at = []

    def release():
        time.sleep(0.2)
        committing_at.append(time.monotonic())
        holder.execute("COMMIT")

    t = threading.Thread(target=release)
    t.start()
    try:
        wf.upsert_user(store, "admin", "waiter", "等待者", "editor", at="2026-10-09T09:00:00+08:00")
        done_at = time.monotonic()
        # It could only get the write lock once the holder let go.
        assert committing_at and done_at >= committing_at[0]
        assert store.user("waiter").role == "editor"
    finally:
        t.join()
        holder.close()


# -- backup -------------------------------------------------------------------------------------
def test_backup_while_another_connection_holds_a_write_transaction(store, db_path, make_appeal, tmp_path):
    a = make_appeal("assigned")
    rows_before = store.scalar("SELECT COUNT(*) FROM audit")
    writer = Store(db_path)
    target = tmp_path / "backup.db"
    try:
        with writer.transaction():
            # An uncommitted change, audit row and all, held open during the backup.
            wf.accept_appeal(writer, "zrzy1", a.ref, at="2026-09-29T11:00:00+08:00")
            writer.conn.execute("INSERT INTO settings(key, value) VALUES ('uncommitted', 'yes')")
            assert writer.in_transaction
            pages = store.backup(target)
            assert pages > 0
    finally:
        writer.close()
    # The live file now has the committed accept...
    assert store.appeal(a.ref).state == "accepted"
    # ...the copy is the consistent state from before it.
    with Store(target) as copy:
        check = copy.verify_audit()
        assert check.ok, check.reason
        assert check.rows == rows_before
        assert copy.appeal(a.ref).state == "assigned"
        assert copy.setting("uncommitted") is None
        assert copy.scalar("PRAGMA journal_mode").lower() == "wal"
        assert copy.scalar("PRAGMA integrity_check") == "ok"
        assert copy.migrate() == []


def test_backup_is_a_full_copy(store, tmp_path, make_appeal):
    make_appeal("closed")
    target = tmp_path / "full.db"
    store.backup(target)
    conn = sqlite3.connect(str(target))
    try:
        for table in ("units", "users", "appeals", "audit", "calendar", "projects", "enterprises"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == \
                store.scalar(f"SELECT COUNT(*) FROM {table}"), table
    finally:
        conn.close()


def test_backup_refuses_an_existing_target(store, tmp_path):
    target = tmp_path / "exists.db"
    target.write_bytes(b"precious")
    with pytest.raises(ValidationError, match="already exists"):
        store.backup(target)
    assert target.read_bytes() == b"precious"


# -- settings -----------------------------------------------------------------------------------
def test_settings_roundtrip(store):
    assert store.setting("missing") is None
    assert store.setting("missing", "dflt") == "dflt"
    store.set_setting("x", "1")
    store.set_setting("x", "2")
    assert store.setting("x") == "2"


def test_response_days_is_a_setting(store, submit):
    assert store.response_days() == 5
    store.set_setting("response_days", "3")
    assert store.response_days() == 3
    a = submit()
    # Day 1..3 after Tue 09-29: 09-30, 10-08, 10-09.
    assert a.deadline == "2026-10-09T23:59:59+08:00"
    assert a.blue_at == "2026-10-09T00:00:00+08:00"


def test_calendar_is_seeded_once(store):
    n = store.scalar("SELECT COUNT(*) FROM calendar")
    assert n > 700
    store.seed_calendar()
    assert store.scalar("SELECT COUNT(*) FROM calendar") == n
    assert store.scalar("SELECT COUNT(*) FROM calendar_years") == 2026 - 2004 + 1


# -- lookups ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, arg", [("user", "ghost"), ("unit", "nowhere"),
                                         ("enterprise", "000"), ("project", "P-X"),
                                         ("appeal", "A-X"), ("appeal_by_id", 999)])
def test_lookups_raise_not_found(store, method, arg):
    with pytest.raises(NotFound, match="no such"):
        getattr(store, method)(arg)


def test_lookups(store, city, make_appeal):
    assert store.unit("zrzy").name == "市自然资源和规划局"
    assert store.unit("市自然资源和规划局").code == "zrzy"
    assert store.enterprise(city.uscc).phone == "05388888888"  # leading zero kept
    a = make_appeal("accepted")
    assert store.appeal_by_id(a.id) == store.appeal(a.ref)
    assert [u.username for u in store.users("liaison", "zrzy")] == ["zrzy1"]
    assert [u.username for u in store.users(unit_code="fgw")] == ["admin", "bianji"]
    store.conn.execute("UPDATE users SET active = 0 WHERE username = 'bianji'")
    assert [u.username for u in store.users(unit_code="fgw")] == ["admin"]
    assert [u.code for u in store.units(["supervision", "discipline"])] == ["dcs", "jwjw"]


def test_fixture_enterprise_has_a_valid_credit_code(store, city):
    from stdnum.cn import uscc
    assert uscc.is_valid(city.uscc)
    assert store.enterprise(city.uscc).county == "岱岳区"


# -- outbox -------------------------------------------------------------------------------------
def test_queue_sms_once_per_recipient_reason_entity(store):
    with store.transaction():
        assert store.queue_sms("zrzy1", "13800000002", "文本", "test", "appeal:A-1",
                               at="2026-10-09T09:00:00+08:00") is True
        assert store.queue_sms("zrzy1", "13800000002", "文本2", "test", "appeal:A-1") is False
        assert store.queue_sms("zrzy1", "13800000002", "文本", "test", "appeal:A-2") is True
        assert store.queue_sms("nophone", "", "文本", "test", "appeal:A-1") is False
    rows = store.all("SELECT * FROM outbox ORDER BY id")
    assert len(rows) == 2
    r = dict(rows[0])
    assert (r["recipient"], r["phone"], r["text"], r["status"], r["attempts"], r["created_at"]) == \
        ("zrzy1", "13800000002", "文本", "queued", 0, "2026-10-09T09:00:00+08:00")


def test_two_stores_on_one_file_see_each_others_commits(store, db_path, submit):
    with Store(db_path) as other:
        a = submit()
        assert other.appeal(a.ref).state == "assigned"
        wf.accept_appeal(other, "zrzy1", a.ref, at="2026-09-29T11:00:00+08:00")
        assert store.appeal(a.ref).state == "accepted"
        assert store.verify_audit().ok and other.verify_audit().ok
