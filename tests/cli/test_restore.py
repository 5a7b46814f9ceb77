"""`taian restore BACKUP --yes` puts a backup's content back into the live database in one write
through SQLite: a copy of the file under a live -wal was undone by SQLite replaying the log
(a console open on the file meant "restore the last good backup" did nothing)."""
from __future__ import annotations

import sqlite3

from taian_tui.domain import operations as wf
from taian_tui.store import Store


def test_a_restore_undoes_what_came_after_the_backup_while_the_file_is_open(run_cli, db_path, store, make_appeal,
                                                                            tmp_path):
    a = make_appeal("assigned", ref="A-2026-0903")
    backup = tmp_path / "good.db"
    code, _, err = run_cli("backup", backup, "--db", db_path)
    assert code == 0, err
    # after the backup, a console (another connection, kept open) accepts it; its -wal stays
    console = Store(str(db_path), migrate=False)
    wf.accept_appeal(console, "zrzy1", a.ref, at="2026-09-29T11:00:00+08:00")
    assert console.appeal(a.ref).state == "accepted"
    # refused without --yes, and from a file that is not a backup
    code, out, err = run_cli("restore", backup, "--db", db_path)
    assert (code, out) == (2, "") and err == f"error: this replaces everything in the database by {backup}: add --yes to do it\n"
    code, _, err = run_cli("restore", tmp_path / "none.db", "--yes", "--db", db_path)
    assert (code, err) == (2, f"error: {tmp_path / 'none.db'}: no such backup file\n")
    assert console.appeal(a.ref).state == "accepted"
    code, out, err = run_cli("restore", backup, "--yes", "--db", db_path)
    assert code == 0, err
    assert out.startswith(f"restored {db_path} from {backup} (") and out.endswith(", the restore the last\n")
    # the open connection and a new one both read the backup's content
    assert console.appeal(a.ref).state == "assigned"
    console.close()
    fresh = sqlite3.connect(db_path)
    try:
        assert fresh.execute("SELECT state FROM appeals WHERE ref = ?", (a.ref,)).fetchone() == ("assigned",)
        last = fresh.execute("SELECT actor, action, entity FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        assert last == ("system:operator", "database.restore", "database")
        accepts = fresh.execute("SELECT COUNT(*) FROM audit WHERE action = 'accept' AND entity_id = ?",
                                (a.ref,)).fetchone()[0]
        assert accepts == 0
    finally:
        fresh.close()
    code, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 0, err


def test_a_damaged_database_is_replaced_by_hand_as_the_command_says(run_cli, db_path, tmp_path):
    backup = tmp_path / "good.db"
    assert run_cli("backup", backup, "--db", db_path)[0] == 0
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db_path.read_bytes())
    data[100:112] = b"\xff" * 12               # page 1's b-tree header: the schema itself
    db_path.write_bytes(bytes(data))
    code, out, err = run_cli("restore", backup, "--yes", "--db", db_path)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {db_path} is damaged") and err.endswith(
        f"; to put the backup in its place, stop the consoles and cron, then: cp {backup} {db_path}; "
        f"rm -f {db_path}-wal {db_path}-shm\n")


def test_what_was_delivered_since_the_backup_is_not_sent_again(run_cli, db_path, store, make_appeal, tmp_path):
    """Two SMS queued (an appeal turning blue and yellow in one sweep: the yellow card's, to
    zrzy1 and to the unit head), a backup, then #1 delivered, #2 left in flight: restored,
    #1 stays sent and #2 is for a person to check (unknown), so nothing goes again; the
    restore's row names the head it replaced."""
    from taian_tui.domain import escalation, notify

    make_appeal("accepted")
    escalation.sweep(store, "2026-10-13T07:00:00+08:00", applied_at="2026-10-13T07:00:00+08:00")
    assert [tuple(r) for r in store.all("SELECT id, recipient, reason, status FROM outbox ORDER BY id")] == [
        (1, "zrzy1", "card.yellow", "queued"), (2, "head:zrzy", "card.yellow", "queued")]
    backup = tmp_path / "b.db"
    assert run_cli("backup", backup, "--db", db_path)[0] == 0
    at = "2026-10-13T08:00:00+08:00"
    notify.send_due(store, lambda m: None, at=at, limit=1)              # #1 sent
    assert notify.claim_next(store, at)["id"] == 2                       # #2 in flight
    head = store.one("SELECT last_id, last_hash FROM audit_head")
    code, _, err = run_cli("restore", backup, "--yes", "--db", db_path)
    assert code == 0, err
    assert [tuple(r) for r in store.all("SELECT id, status, sent_at FROM outbox ORDER BY id")] == [
        (1, "sent", at), (2, "unknown", None)]
    import json
    after = json.loads(store.one("SELECT after FROM audit WHERE action = 'database.restore'")[0])
    assert after["replaced_head"] == {"id": head["last_id"], "hash": head["last_hash"]}
    assert after["sms_not_sent_again"] == 2
    sent: list[int] = []
    notify.send_due(store, lambda m: sent.append(m["id"]), at="2026-10-13T09:00:00+08:00")
    assert sent == []


def test_a_card_raised_again_after_a_restore_is_not_texted_again(run_cli, db_path, store, make_appeal, tmp_path):
    """The helper's case: a backup; then a sweep raises blue (Day 5, 10-12) and its SMS is
    delivered; the backup is restored (the card and its SMS are gone from it); the next sweep
    raises blue again: its SMS is the one already delivered (kept by the restore, the same
    key), so nothing is queued and nothing is sent twice."""
    from taian_tui.domain import escalation, notify

    make_appeal("accepted")                                             # Day 5 = Mon 10-12
    backup = tmp_path / "b.db"
    assert run_cli("backup", backup, "--db", db_path)[0] == 0
    escalation.sweep(store, "2026-10-12T07:00:00+08:00", applied_at="2026-10-12T07:00:00+08:00")
    sent: list[tuple[str, str]] = []
    notify.send_due(store, lambda m: sent.append((m["to"], m["text"])), at="2026-10-12T07:10:00+08:00")
    assert len(sent) == 1
    assert run_cli("restore", backup, "--yes", "--db", db_path)[0] == 0
    assert [tuple(r) for r in store.all("SELECT id, reason, status FROM outbox")] == [(1, "card.blue", "sent")]
    r = escalation.sweep(store, "2026-10-12T09:00:00+08:00", applied_at="2026-10-12T09:00:00+08:00")
    assert (r.raised["blue"], r.notifications_queued) == (1, 0)
    notify.send_due(store, lambda m: sent.append((m["to"], m["text"])), at="2026-10-12T09:10:00+08:00")
    assert len(sent) == 1
    code, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code == 0, out + err


def test_the_same_text_to_the_same_phone_goes_once_a_day(store, make_appeal):
    """Two rows queued with the very same words for one phone on one day (what a restore or a
    repeated instruction can leave): the second is given up as a duplicate, named."""
    from taian_tui.domain import notify

    at = "2026-10-13T08:00:00+08:00"
    store.queue_sms("zrzy1", "13800000002", "请尽快办理", "instruction", "instruction:1", at=at)
    store.queue_sms("zrzy1", "13800000002", "请尽快办理", "instruction", "instruction:2", at=at)
    sent: list[int] = []
    r1 = notify.send_due(store, lambda m: sent.append(m["id"]), at=at, limit=1)
    r2 = notify.send_due(store, lambda m: sent.append(m["id"]), at="2026-10-13T08:10:00+08:00")
    assert (sent, r1.duplicates, r2.duplicates) == ([1], 0, 1)
    assert store.one("SELECT status, last_error FROM outbox WHERE id = 2")[:] == (
        "failed", "duplicate: the same text went to this phone at 2026-10-13T08:00")
