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
