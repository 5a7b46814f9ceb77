"""The file behind --db, and backups, when things are not as they should be.

* ``--db`` at the wrong file: another program's SQLite file, a text file, an empty file, a
  directory, a missing path, a taian database from a newer version (an unknown migration
  recorded) or an older one (migrations pending). Every command but ``migrate`` refuses,
  exit 1, naming the path, and the file is byte for byte unchanged; ``migrate`` creates a
  new or empty file, upgrades an older one, refuses the rest.
* A read-only database (a read-only mount; file modes for a user who is not its owner):
  the read-only commands work (``audit verify``, ``appeal list|show``, ``stats``,
  ``report``, ``export``, ``backup``); a command that writes is refused with a clear
  message; a write-ahead log holding changes that cannot be read is refused clearly.
* Backups with real processes: a ~100 MB database while a writer process commits twenty
  times a second (the backup finishes, the copy is one consistent state); a backup killed
  mid-copy (nothing at the target; its hidden temporary file removed by the next run); a
  full disk (a real 2 MB tmpfs when ``mount`` is allowed, and a file size limit in any
  case); a damaged database (exit 1, nothing written).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from taian_tui.schema import migrations
from taian_tui.store import PARTIAL_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-11-05T12:00:00+08:00"


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir())


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir() if PARTIAL_SUFFIX in p.name)


def checkpointed(db_path: Path) -> Path:
    """``db_path`` with everything in the main file, and no -wal or -shm beside it (the
    last connection's close removes them)."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert not Path(f"{db_path}-wal").exists()
    return db_path


@pytest.fixture
def files(tmp_path):
    """The input files a few commands need (valid, so that only the database is wrong)."""
    users = tmp_path / "users.csv"
    users.write_text("用户名,姓名,角色,单位,手机号\nnew1,新用户,liaison,zrzy,13800000099\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("", encoding="utf-8")
    (tmp_path / "outputs").mkdir()
    return {"users": users, "events": events}


def every_command(db: Path, tmp_path: Path, files: dict, *, backup: bool = True) -> list[list]:
    """Read and write commands, each given ``--db db`` (``backup``: with ``taian backup``)."""
    out = tmp_path / "outputs"
    return [c for c in [
        ["escalate", "--at", AT],
        ["audit", "verify"],
        ["audit", "anchor", out / "anchors.jsonl"],
        ["appeal", "list"],
        ["appeal", "show", "A-2026-0001"],
        ["appeal", "accept", "A-2026-0001", "--as", "zrzy1"],
        ["stats", "--at", AT],
        ["report", out / "r.html", "--at", AT],
        ["export", "enterprises", "-o", out / "e.csv"],
        ["import", "users", files["users"]],
        ["intake", files["events"]],
        ["calendar", "show", "2026"],
        ["notify", "status"],
        ["user", "deactivate", "zrzy1"],
        ["backup", out / "b.db"],
    ] if backup or c[0] != "backup"]


def assert_refused_everywhere(run_cli, db: Path, tmp_path: Path, files: dict, *expected: str,
                              backup: bool = True) -> None:
    before, folder = digest(db), listing(db.parent)
    for args in every_command(db, tmp_path, files, backup=backup):
        code, out, err = run_cli(*args, "--db", db)
        assert code == 1, (args, code, out, err)
        assert str(db) in err, (args, err)
        for text in expected:
            assert text in err, (args, err)
        assert len(err.strip().splitlines()) == 1, (args, err)
        assert digest(db) == before, f"{args} changed {db}"
        assert listing(db.parent) == folder, f"{args} left files beside {db}"
    assert listing(tmp_path / "outputs") == [], "a refused command wrote an output"


# -- the wrong file --------------------------------------------------------------------------------------------
@pytest.fixture
def foreign_db(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "inventory.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);
        INSERT INTO customers(name) VALUES ('Acme'), ('Globex');
        INSERT INTO orders(customer_id, total) VALUES (1, 9.5), (2, 12.0);
    """)
    conn.close()
    return path


def test_another_programs_sqlite_file_is_refused_by_every_command_and_left_alone(
        run_cli, foreign_db, tmp_path, files):
    assert_refused_everywhere(run_cli, foreign_db, tmp_path, files,
                              "is not a taian database", "tables: customers, orders")
    code, _, err = run_cli("migrate", "--db", foreign_db)
    assert code == 1 and "is not a taian database" in err and "only in a new or empty file" in err
    conn = sqlite3.connect(foreign_db)
    try:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")] \
            == ["customers", "orders"]
    finally:
        conn.close()


def test_another_programs_wal_mode_file_is_left_alone(run_cli, foreign_db, tmp_path, files):
    conn = sqlite3.connect(foreign_db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    before = digest(foreign_db)
    for args in (["escalate", "--at", AT], ["audit", "verify"], ["appeal", "list"], ["stats", "--at", AT],
                 ["import", "users", files["users"]], ["migrate"]):
        code, _, err = run_cli(*args, "--db", foreign_db)
        assert code == 1 and f"{foreign_db} is not a taian database" in err, (args, err)
        assert digest(foreign_db) == before, args
        assert listing(foreign_db.parent) == ["inventory.sqlite"], args


@pytest.mark.heavy
def test_the_refusal_holds_in_a_real_process(taian_process, foreign_db, files):
    before = digest(foreign_db)
    for args in (["escalate"], ["audit", "verify"], ["appeal", "list"], ["stats"],
                 ["import", "users", str(files["users"])]):
        p = taian_process(*args, "--db", str(foreign_db))
        out, err = p.communicate(timeout=60)
        assert p.returncode == 1, (args, out, err)
        assert err.startswith(f"error: {foreign_db} is not a taian database"), (args, err)
    assert digest(foreign_db) == before


def test_a_text_file_is_named_clearly(run_cli, tmp_path, files):
    text = tmp_path / "notes" / "taian.db"
    text.parent.mkdir()
    text.write_text("这不是数据库 / not a database\n" * 20, encoding="utf-8")
    assert_refused_everywhere(run_cli, text, tmp_path, files, "is not a taian database",
                              "not an SQLite database file")
    code, _, err = run_cli("migrate", "--db", text)
    assert code == 1 and "not an SQLite database file" in err
    assert "file is not a database" not in err


def test_a_directory_and_a_missing_path(run_cli, tmp_path, files):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, _, err = run_cli("appeal", "list", "--db", folder)
    assert code == 1 and f"{folder} is a directory" in err
    missing = tmp_path / "missing" / "taian.db"
    for args in (["escalate"], ["audit", "verify"], ["appeal", "list"], ["backup", tmp_path / "b.db"]):
        code, _, err = run_cli(*args, "--db", missing)
        assert code == 1 and "does not exist" in err and "taian migrate" in err, (args, err)
    assert not missing.parent.exists()
    code, _, err = run_cli("migrate", "--db", missing)
    assert code == 1 and f"the folder {missing.parent} does not exist" in err
    assert not missing.parent.exists()


def test_an_empty_file_is_not_yet_a_taian_database_until_migrate(run_cli, tmp_path, files):
    for name, make in (("zero.db", lambda p: p.write_bytes(b"")),
                       ("no-tables.db", lambda p: sqlite3.connect(p).execute("PRAGMA user_version = 0").close())):
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir()
        path = folder / name
        make(path)
        assert_refused_everywhere(run_cli, path, tmp_path, files, "is empty: not yet a taian database",
                                  f"run `taian migrate --db {path}`")
        code, out, err = run_cli("migrate", "--db", path)
        assert code == 0, err
        assert out.startswith("applied: 0001_initial")
        code, out, err = run_cli("audit", "verify", "--db", path)
        assert code == 0, err


def test_migrate_creates_a_new_file_which_every_command_then_opens(run_cli, tmp_path):
    path = tmp_path / "fresh" / "taian.db"
    path.parent.mkdir()
    code, out, err = run_cli("migrate", "--db", path)
    assert code == 0 and out.startswith("applied: 0001_initial"), err
    assert path.stat().st_mode & 0o777 == 0o600
    code, out, err = run_cli("escalate", "--at", AT, "--db", path)
    assert code == 0, err


def test_a_database_from_a_newer_taian_is_refused(run_cli, db_path, tmp_path, files):
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) "
                 "VALUES ('taian', '9999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()
    checkpointed(db_path)
    assert_refused_everywhere(run_cli, db_path, tmp_path, files, "newer version of taian",
                              "9999_from_the_future")
    before = digest(db_path)
    code, _, err = run_cli("migrate", "--db", db_path)
    assert code == 1 and "newer version of taian" in err and "9999_from_the_future" in err
    assert digest(db_path) == before


def test_an_older_schema_is_refused_until_taian_migrate_upgrades_it(run_cli, tmp_path, files):
    from sqlite_utils import Database

    folder = tmp_path / "old"
    folder.mkdir()
    path = folder / "taian.db"
    names = [m.name for m in migrations._migrations]
    db = Database(str(path))
    migrations.apply(db, stop_before=names[-1])
    db.conn.close()
    assert_refused_everywhere(run_cli, path, tmp_path, files, "older taian schema",
                              names[-1], f"run `taian migrate --db {path}`", backup=False)
    # "back it up, then run `taian migrate`": the backup takes the older schema, as it is
    before = digest(path)
    copy = tmp_path / "outputs" / "before-migrate.db"
    code, out, err = run_cli("backup", copy, "--db", path)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"backup of {path} written to {copy} (")
    assert digest(path) == before
    code, _, err = run_cli("audit", "verify", "--db", copy)
    assert code == 1 and "older taian schema" in err     # the copy is that same older schema
    code, out, err = run_cli("migrate", "--db", path)
    assert code == 0 and out.strip() == f"applied: {names[-1]}", err
    code, out, err = run_cli("escalate", "--at", AT, "--db", path)
    assert code == 0, err


def test_a_damaged_database_is_refused(run_cli, db_path, tmp_path):
    checkpointed(db_path)
    data = bytearray(db_path.read_bytes())
    data[100:112] = b"\xff" * 12               # page 1's b-tree header: the schema itself
    db_path.write_bytes(bytes(data))
    for args in (["audit", "verify"], ["escalate", "--at", AT], ["backup", tmp_path / "b.db"]):
        code, _, err = run_cli(*args, "--db", db_path)
        assert code == 1 and f"{db_path} is damaged" in err, (args, err)
    assert not (tmp_path / "b.db").exists()


# -- read-only databases ---------------------------------------------------------------------------------------
READ_COMMANDS = [
    ["audit", "verify"],
    ["appeal", "list"],
    ["appeal", "show", "A-2026-0001"],
    ["stats", "--at", AT],
    ["report", "{out}/r.html", "--at", AT],
    ["export", "enterprises", "-o", "{out}/e.csv"],
    ["export", "enterprises"],
    ["backup", "{out}/b.db"],
]
WRITE_COMMANDS = [
    ["escalate", "--at", AT],
    ["appeal", "accept", "A-2026-0001", "--as", "zrzy1"],
    ["import", "users", "{users}"],
    ["migrate"],
]


def _fill(args: list, out: Path, users: Path) -> list[str]:
    return [str(a).format(out=out, users=users) for a in args]


@pytest.fixture
def live_db(db_path, make_appeal, store):
    """The city with one accepted appeal, checkpointed and closed."""
    make_appeal("accepted")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return db_path


@pytest.fixture
def tmpfs(tmp_path):
    """``mount(name, size) -> folder``: a real tmpfs (root and CAP_SYS_ADMIN; skipped when
    ``mount`` is not permitted); every mount is undone at the end."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        if os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a tmpfs needs root")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
        if res.returncode:
            pytest.skip(f"mount is not permitted here: {res.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _remount_read_only(folder: Path) -> None:
    res = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
    if res.returncode:
        pytest.skip(f"remount read-only is not permitted here: {res.stderr.strip()}")


def test_read_only_mount_read_commands_work_write_commands_refused(run_cli, live_db, tmpfs, tmp_path, files):
    mnt = tmpfs("ro", "64m")
    db = mnt / "taian.db"
    shutil.copyfile(live_db, db)
    _remount_read_only(mnt)
    with pytest.raises(OSError):
        (mnt / "probe").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    before = digest(db)
    for args in READ_COMMANDS:
        code, stdout, err = run_cli(*_fill(args, out, files["users"]), "--db", db)
        assert code == 0, (args, err)
    code, stdout, _ = run_cli("appeal", "list", "--db", db)
    assert "A-2026-0001\taccepted" in stdout
    assert {"r.html", "e.csv", "b.db"} <= set(listing(out))
    for args in WRITE_COMMANDS:
        code, _, err = run_cli(*_fill(args, out, files["users"]), "--db", db)
        assert code == 1, (args, err)
        assert str(db) in err and "read-only" in err, (args, err)
    code, _, err = run_cli("backup", mnt / "b.db", "--db", db)
    assert code == 1 and f"cannot write in the folder {mnt}" in err and "Read-only file system" in err
    assert digest(db) == before and listing(mnt) == ["taian.db"]


def test_read_only_mount_with_changes_only_in_the_log_is_refused_clearly(run_cli, live_db, tmpfs):
    mnt = tmpfs("ro-wal", "64m")
    db = mnt / "taian.db"
    shutil.copyfile(live_db, db)
    # a writer killed before any checkpoint: committed changes in the -wal only
    code = subprocess.run([sys.executable, "-c", (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "c.execute(\"INSERT INTO settings(key, value) VALUES ('only-in-the-log', 'yes')\")\n"
        "os._exit(0)\n"), str(db)]).returncode
    assert code == 0
    assert Path(f"{db}-wal").stat().st_size > 0
    Path(f"{db}-shm").unlink()
    _remount_read_only(mnt)
    code, _, err = run_cli("audit", "verify", "--db", db)
    assert code == 1
    assert f"{db} cannot be read here" in err and "write-ahead log" in err


def _as_other_user() -> dict:
    """Popen arguments that run a child as ``nobody`` (when we are root, file modes do not
    stop us), or nothing (we are not root: the modes already apply)."""
    if os.geteuid() != 0:
        return {}

    def drop() -> None:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    return {"preexec_fn": drop}


# ``taian ARGS`` run as a real process each (what `python cli.py ARGS` does), without importing
# taian anew for each one: this server imports ``cli`` once, then for each line ``["cli.py",
# *ARGS]`` on its stdin forks a child that runs ``cli.main()`` with that ``sys.argv`` (stdout
# and stderr into files, stdin /dev/null), exits as the interpreter would (SystemExit's code;
# a traceback and 1 for anything else), and answers one JSON line: the exit code, stdout and
# stderr. Each command is a process of its own, started from the state of a fresh import.
FORK_SERVER = r"""
import json, os, sys, tempfile, traceback
sys.path[0] = sys.argv[1]
import cli

for request in sys.stdin:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.argv = json.loads(request)
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    answer = {"returncode": os.waitstatus_to_exitcode(status)}
    for name, f in (("stdout", out), ("stderr", err)):
        f.seek(0)
        answer[name] = f.read().decode("utf-8", errors="replace")
        f.close()
    print(json.dumps(answer), flush=True)
"""


@pytest.mark.heavy
def test_read_only_file_and_folder_for_a_user_who_may_not_write(tmp_path, live_db):
    base = Path(tempfile.mkdtemp(prefix="taian-ro-", dir="/tmp"))
    server = None
    try:
        os.chmod(base, 0o755)
        data, out = base / "data", base / "out"
        data.mkdir()
        out.mkdir()
        db = data / "taian.db"
        shutil.copyfile(live_db, db)
        users = base / "users.csv"
        users.write_text("用户名,姓名,角色,单位,手机号\nnew1,新用户,liaison,zrzy,13800000099\n", encoding="utf-8")
        if os.geteuid() == 0:
            for p in (base, data, out, db, users):
                os.chown(p, 65534, 65534)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(base), "LANG": "C.UTF-8"}
        # every command a process of its own, as that user (FORK_SERVER)
        server_err = tmp_path / "server.err"
        with open(server_err, "wb") as errors:
            server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, str(ROOT)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8",
                                      env=env, cwd=base, **_as_other_user())

        def taian(*args: str) -> subprocess.CompletedProcess:
            argv = [str(ROOT / "cli.py"), *args, "--db", str(db)]
            server.stdin.write(json.dumps(argv) + "\n")
            server.stdin.flush()
            # one answer line per command, read whole: nothing is left in the pipe's buffer
            if not select.select([server.stdout], [], [], 120)[0]:
                server.kill()
                pytest.fail(f"timed out after 120 s: taian {' '.join(args)}")
            answer = server.stdout.readline()
            assert answer, (f"the command server ended (exit code {server.wait(timeout=60)}):\n"
                            f"{server_err.read_text(errors='replace')}")
            return subprocess.CompletedProcess(argv, **json.loads(answer))

        os.chmod(db, 0o400)            # the file read-only; its folder writable (SQLite may add -wal/-shm)
        for folder_mode in (0o755, 0o555):   # then the folder read-only too, without -wal/-shm
            os.chmod(data, folder_mode)
            for args in READ_COMMANDS:
                res = taian(*_fill(args, out, users))
                assert res.returncode == 0, (oct(folder_mode), args, res.stderr)
            for name in ("r.html", "e.csv", "b.db"):
                (out / name).unlink()
            for args in WRITE_COMMANDS:
                res = taian(*_fill(args, out, users))
                assert res.returncode == 1, (oct(folder_mode), args, res.stderr)
                assert f"{db}" in res.stderr and "read-only" in res.stderr, (args, res.stderr)
            if folder_mode == 0o755:
                # the reads left SQLite's -wal/-shm with the file's modes (0400): the file made
                # writable again, a write is refused naming the side file and what to do
                sides = [Path(f"{db}{suffix}") for suffix in ("-wal", "-shm")]
                left = [p for p in sides if p.exists()]
                assert left and all(p.stat().st_mode & 0o777 == 0o400 for p in left)
                os.chmod(db, 0o600)
                res = taian(*_fill(WRITE_COMMANDS[0], out, users))
                assert res.returncode == 1
                assert (f"{left[0].name} is read-only: make it writable like {db.name} (chmod u+w {left[0]}) "
                        "or remove it while no taian process has the database open") in res.stderr, res.stderr
                os.chmod(db, 0o400)
                for suffix in ("-wal", "-shm"):   # what the read-only opens left: SQLite's own, empty log
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            assert conn.execute("SELECT state FROM appeals WHERE ref = 'A-2026-0001'").fetchone()[0] == "accepted"
            assert conn.execute("SELECT COUNT(*) FROM users WHERE username = 'new1'").fetchone()[0] == 0
        finally:
            conn.close()
    finally:
        if server is not None:
            server.stdin.close()
            server.wait(timeout=60)
            server.stdout.close()
        for root, dirs, _ in os.walk(base):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        os.chmod(base, 0o755)
        shutil.rmtree(base, ignore_errors=True)


# -- backups with real processes ---------------------------------------------------------------------------
WRITER = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
period = float(sys.argv[2])
while True:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO fault_rows(at, pad) VALUES (?, randomblob(2000))", (time.time(),))
    conn.execute("UPDATE fault_counter SET n = n + 1")
    conn.execute("COMMIT")
    time.sleep(period)
"""


def make_large(db_path: Path, megabytes: int) -> Path:
    """The city plus ``megabytes`` of ballast, and the tables the writer keeps in step:
    ``fault_counter.n`` is always the number of ``fault_rows``."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE ballast (id INTEGER PRIMARY KEY, b BLOB)")
        conn.execute("CREATE TABLE fault_rows (id INTEGER PRIMARY KEY, at REAL, pad BLOB)")
        conn.execute("CREATE TABLE fault_counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
        conn.execute("INSERT INTO fault_counter VALUES (1, 0)")
        conn.execute(f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {megabytes * 256}) "
                     "INSERT INTO ballast(b) SELECT randomblob(4000) FROM n")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db_path


def counter(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=60)
    try:
        return conn.execute("SELECT n FROM fault_counter").fetchone()[0]
    finally:
        conn.close()


@contextlib.contextmanager
def writer(path: Path, period: float = 0.1):
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(period)])
    try:
        deadline = time.monotonic() + 30
        while counter(path) < 3:
            assert p.poll() is None, "the writer died"
            assert time.monotonic() < deadline, "the writer does not write"
            time.sleep(0.05)
        yield p
    finally:
        p.kill()
        p.wait()


@pytest.mark.heavy
def test_backup_of_a_large_database_finishes_under_steady_writes(taian_process, db_path, tmp_path):
    make_large(db_path, 100)
    assert db_path.stat().st_size > 100e6
    target = tmp_path / "backups" / "taian-copy.db"
    target.parent.mkdir()
    with writer(db_path, 0.05):
        first = counter(db_path)
        started = time.monotonic()
        p = taian_process("backup", str(target), "--db", str(db_path))
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            pytest.fail("the backup did not finish under steady writes")
        took = time.monotonic() - started
        during = counter(db_path) - first
    assert p.returncode == 0, err
    assert f"written to {target}" in out
    print(f"backup of {db_path.stat().st_size / 1e6:.0f} MB under ~20 commits/s: {took:.1f} s, "
          f"{during} commits meanwhile")
    # SQLite's step-by-step online backup (what this replaced) restarts at every commit: on
    # this file under these writes it had not finished after 60 s (1,039 restarts)
    assert took < 60
    assert during >= 2, "the writer did not commit while the backup ran"
    assert listing(target.parent) == ["taian-copy.db"]
    assert target.stat().st_mode & 0o777 == 0o600
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = conn.execute("SELECT n FROM fault_counter").fetchone()[0]
        assert n == conn.execute("SELECT COUNT(*) FROM fault_rows").fetchone()[0]
        assert first <= n <= first + during
        assert conn.execute("SELECT COUNT(*) FROM ballast").fetchone()[0] == 100 * 256
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.heavy
def test_a_killed_backup_leaves_nothing_at_the_target(taian_process, db_path, tmp_path):
    make_large(db_path, 100)
    folder = tmp_path / "backups"
    folder.mkdir()
    target = folder / "taian-2026-11-27.db"
    p = taian_process("backup", str(target), "--db", str(db_path))
    killed = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        growing = [f for f in folder.iterdir() if f.name.endswith(PARTIAL_SUFFIX) and f.stat().st_size > 8e6]
        if growing:
            p.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.001)
    p.communicate(timeout=60)
    assert killed, "the backup finished before it could be killed mid-copy"
    assert p.returncode == -signal.SIGKILL
    assert not target.exists()
    left = partials(folder)
    assert left and all(name.startswith(f".{target.name}.") for name in left)
    assert (folder / left[0]).stat().st_mode & 0o777 == 0o600
    # the next run (another day's name) removes the dead run's file
    code = taian_process("backup", str(folder / "taian-2026-11-28.db"), "--db", str(db_path)).wait(timeout=300)
    assert code == 0
    assert listing(folder) == ["taian-2026-11-28.db"]
    code = taian_process("backup", str(target), "--db", str(db_path)).wait(timeout=300)
    assert code == 0 and listing(folder) == ["taian-2026-11-27.db", "taian-2026-11-28.db"]


def test_backup_onto_a_full_disk_leaves_nothing(run_cli, db_path, tmpfs):
    make_large(db_path, 6)
    full = tmpfs("full", "2m")
    target = full / "taian.db"
    code, out, err = run_cli("backup", target, "--db", db_path)
    assert code == 1, (out, err)
    assert "failed: the disk is full" in err and "nothing was written" in err
    assert listing(full) == []


def test_backup_over_a_file_size_limit_leaves_nothing(db_path, tmp_path):
    """The full disk simulated where mount is not allowed: RLIMIT_FSIZE in the child (and
    SIGXFSZ ignored, so that the write fails with EFBIG instead of killing the process)."""
    make_large(db_path, 6)
    folder = tmp_path / "limited"
    folder.mkdir()
    target = folder / "taian.db"

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "backup", str(target), "--db", str(db_path)],
                         capture_output=True, text=True, timeout=120, preexec_fn=limit)
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "backup of" in res.stderr and "failed" in res.stderr and "nothing was written" in res.stderr
    assert listing(folder) == []


def _corrupt_a_table_page(db_path: Path, table: str) -> None:
    checkpointed(db_path)
    conn = sqlite3.connect(db_path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()
    assert root > 1
    with open(db_path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x00" + os.urandom(64))       # an invalid page type, then garbage


def test_backup_of_a_corrupt_database_exits_non_zero(run_cli, db_path, tmp_path):
    _corrupt_a_table_page(db_path, "calendar")
    folder = tmp_path / "backups"
    folder.mkdir()
    target = folder / "b.db"
    code, out, err = run_cli("backup", target, "--db", db_path)
    assert code == 1, (out, err)
    assert f"{db_path} is damaged" in err and "no backup written" in err
    assert listing(folder) == []
