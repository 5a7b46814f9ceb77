"""A real server (without SSH itself: see test_ssh.py): keys in authorized_keys, the
session a key runs, no sign-in list on a real database, private files, and stored text
that cannot drive the operator's terminal."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat
import struct
import sys
from pathlib import Path

import pytest

from taian_tui.dataio import sshkeys
from taian_tui.domain import operations as wf

TAIAN = str(Path(sys.executable).parent / "taian")


def make_key(seed: int, comment: str = "") -> str:
    """A well-formed ssh-ed25519 public key line (32 bytes of key material)."""
    body = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed]) * 32
    return f"ssh-ed25519 {base64.b64encode(body).decode()}" + (f" {comment}" if comment else "")


def fp(key_line: str) -> str:
    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


KEY1, KEY2, KEY3 = make_key(1, "zhang@laptop"), make_key(2, "li@desk"), make_key(3)
FOREIGN = ('# the operator\'s own key, written by hand\n'
           f'no-pty {make_key(9, "operator")}\n'
           '\n')


@pytest.fixture
def auth(tmp_path):
    path = tmp_path / "ssh" / "authorized_keys"
    path.parent.mkdir()
    path.write_text(FOREIGN, encoding="utf-8")
    return path


@pytest.fixture
def keys(run_cli, db_path, auth, tmp_path):
    def run(*args, stdin=None):
        return run_cli("keys", *args, "--authorized-keys", auth, *(("--db", db_path) if args[0] != "list" else ()),
                       stdin=stdin)
    return run


def audit_rows(db_path, action):
    c = sqlite3.connect(db_path)
    try:
        return [tuple(r) for r in c.execute("SELECT actor, entity, entity_id, after, before FROM audit "
                                            "WHERE action = ? ORDER BY id", (action,))]
    finally:
        c.close()


# -- taian keys -----------------------------------------------------------------------------------------
def test_keys_add_writes_the_forced_command_line_and_keeps_the_rest(keys, auth, db_path, tmp_path):
    (tmp_path / "k1.pub").write_text(KEY1 + "\n")
    old = os.umask(0o022)
    try:
        code, out, err = keys("add", "zrzy1", tmp_path / "k1.pub")
        assert code == 0, err
        code2, out2, err2 = keys("add", "sthj1", "-", stdin=KEY2)
        assert code2 == 0, err2
    finally:
        os.umask(old)
    db = str(Path(db_path).resolve())
    assert out == f"added {fp(KEY1)} (ssh-ed25519) for zrzy1 to {auth}\n"
    assert auth.read_text(encoding="utf-8") == FOREIGN + (
        f'command="{TAIAN} session zrzy1 --db {db}",restrict,pty {KEY1}\n'
        f'command="{TAIAN} session sthj1 --db {db}",restrict,pty {KEY2}\n')
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert [(a, e, i, json.loads(after)) for a, e, i, after, _ in audit_rows(db_path, "key.add")] == [
        ("system:operator", "user", "zrzy1", {"fingerprint": fp(KEY1), "type": "ssh-ed25519",
                                              "comment": "zhang@laptop", "authorized_keys": str(auth), "db": db}),
        ("system:operator", "user", "sthj1", {"fingerprint": fp(KEY2), "type": "ssh-ed25519",
                                              "comment": "li@desk", "authorized_keys": str(auth), "db": db})]


def test_keys_add_creates_a_private_folder_and_file(run_cli, db_path, tmp_path):
    path = tmp_path / "new" / ".ssh" / "authorized_keys"
    code, _, err = run_cli("keys", "add", "zrzy1", "-", "--authorized-keys", path, "--db", db_path, stdin=KEY1)
    assert code == 0, err
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("user, key, message", [
    ("zrzy1", "ssh-ed25519 AAAAnotbase64!!", "refused: malformed ssh-ed25519 key: its base64 part does not "
                                             "decode to a key"),
    ("zrzy1", "-----BEGIN OPENSSH PRIVATE KEY-----", "refused: this is a PRIVATE key: never copy it anywhere; "
                                                     "give the .pub file"),
    ("zrzy1", f'command="x" {KEY1}', "refused: not an OpenSSH public key: it starts with 'command=\"x\"', not "
                                     "one of " + ", ".join(sshkeys.KEY_TYPES) + " (options are not accepted: "
                                     "the tool writes its own)"),
    ("zrzy1", "", "refused: the key is empty: give the person's public key (the .pub file)"),
    ("zrzy1", f"{KEY1}\n{KEY2}", "refused: give one public key (one line), not several"),
    ("nobody", KEY1, "refused: no such user: 'nobody' (keys are given to the users of this database)"),
    ("system:import", KEY1, "refused: no such user: 'system:import' (keys are given to the users of this "
                            "database)"),
])
def test_keys_add_refusals_write_nothing(keys, auth, db_path, user, key, message):
    before = auth.read_bytes()
    code, out, err = keys("add", user, "-", stdin=key)
    assert (code, out, err) == (2, "", message + "\n")
    assert auth.read_bytes() == before
    assert audit_rows(db_path, "key.add") == []


def test_a_key_already_in_the_file_is_refused(keys, auth):
    assert keys("add", "zrzy1", "-", stdin=KEY1)[0] == 0
    code, _, err = keys("add", "sthj1", "-", stdin=KEY1)
    assert (code, err) == (2, f"refused: this key ({fp(KEY1)}) is already in {auth}, line 4 for zrzy1: one key "
                              "opens one session\n")
    code, _, err = keys("add", "sthj1", "-", stdin=make_key(9, "other comment"))
    assert (code, err) == (2, f"refused: this key ({fp(make_key(9))}) is already in {auth}, line 2 (a line "
                              "this tool did not write): one key opens one session\n")


def test_a_deactivated_user_gets_no_key_and_their_session_is_refused(keys, store, run_cli, db_path, monkeypatch):
    assert keys("add", "zrzy1", "-", stdin=KEY1)[0] == 0
    code, out, err = run_cli("user", "deactivate", "zrzy1", "--db", db_path)
    assert (code, out) == (0, "zrzy1 is deactivated\n"), err
    code, _, err = keys("add", "zrzy1", "-", stdin=KEY2)
    assert (code, err) == (2, "refused: user 'zrzy1' is deactivated: a deactivated user gets no key\n")
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "appeal list")
    code, out, err = run_cli("session", "zrzy1", "--db", db_path)
    assert (code, out, err) == (2, "", "refused: user 'zrzy1' is deactivated\n")


def test_keys_list_and_remove(keys, auth, db_path):
    assert keys("add", "zrzy1", "-", stdin=KEY1)[0] == 0
    assert keys("add", "sthj1", "-", stdin=KEY2)[0] == 0
    assert keys("add", "zrzy1", "-", stdin=KEY3)[0] == 0
    db = str(Path(db_path).resolve())
    code, out, _ = keys("list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"user": "zrzy1", "fingerprint": fp(KEY1), "type": "ssh-ed25519", "comment": "zhang@laptop", "db": db},
        {"user": "sthj1", "fingerprint": fp(KEY2), "type": "ssh-ed25519", "comment": "li@desk", "db": db},
        {"user": "zrzy1", "fingerprint": fp(KEY3), "type": "ssh-ed25519", "comment": "", "db": db}]
    code, out, _ = keys("list")
    assert out.splitlines()[-1] == f"3 keys in {auth}; 1 other line left as they are"
    code, out, err = keys("remove", fp(KEY2))
    assert (code, out) == (0, f"removed {fp(KEY2)} of sthj1 from {auth}\n"), err
    code, out, err = keys("remove", "zrzy1")
    assert (code, out) == (0, f"removed {fp(KEY1)} of zrzy1 from {auth}\nremoved {fp(KEY3)} of zrzy1 from "
                              f"{auth}\n"), err
    assert auth.read_text(encoding="utf-8") == FOREIGN
    assert [(i, json.loads(before)["fingerprint"]) for _, _, i, _, before in audit_rows(db_path, "key.remove")] \
        == [("sthj1", fp(KEY2)), ("zrzy1", fp(KEY1)), ("zrzy1", fp(KEY3))]
    code, _, err = keys("remove", "zrzy1")
    assert (code, err) == (2, f"refused: no key of this tool in {auth} matches 'zrzy1' (give a user name or a "
                              "SHA256:... fingerprint from `taian keys list`)\n")


def test_a_user_name_that_would_break_the_line_is_refused(store, tmp_path):
    # an account from before usernames were checked (upsert_user refuses it now): the key's
    # forced command must still never carry it
    store.conn.execute("INSERT INTO users(username, name, role, scope, active) VALUES (?, ?, 'editor', 'city', 1)",
                       ('bad"name', "坏名字"))
    with pytest.raises(sshkeys.KeyRefused, match="holds quotes, backslashes or control characters"):
        sshkeys.add(store, "system:operator", 'bad"name', KEY1, path=tmp_path / "a", taian=TAIAN)
    assert not (tmp_path / "a").exists()


# -- taian session ----------------------------------------------------------------------------------------
@pytest.fixture
def appeals_of_two_units(make_appeal):
    z = make_appeal("accepted")
    s = make_appeal("accepted", category="环评")
    return z, s


def session(run_cli, db_path, user, asked=None, **env):
    if asked is not None:
        env["SSH_ORIGINAL_COMMAND"] = asked
    return run_cli("session", user, "--db", db_path, env=env)


def test_a_session_lists_only_its_users_appeals(run_cli, db_path, appeals_of_two_units):
    z, s = appeals_of_two_units
    code, out, err = session(run_cli, db_path, "zrzy1", "appeal list --json")
    assert code == 0, err
    assert [r["ref"] for r in json.loads(out)] == [z.ref]
    code, out, err = session(run_cli, db_path, "sthj1", "taian appeal list --json", TAIAN_USER="admin")
    assert code == 0, err
    assert [r["ref"] for r in json.loads(out)] == [s.ref]              # TAIAN_USER changes nothing
    code, out, err = session(run_cli, db_path, "zrzy1", f"appeal show {z.ref} --json")
    assert code == 0 and json.loads(out)["ref"] == z.ref


#: The refusal of any command a key's session does not run (the commands it runs named).
ONLY = ("error: refused: this key runs the console, `appeal list`, `appeal show REF`, `exports list` or "
        "`exports get NAME` only, not ")


@pytest.mark.parametrize("asked, message", [
    ("appeal list --as admin", "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    ("appeal list --as=admin", "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    ("appeal list --db /tmp/other.db", "error: refused: --db is fixed by the key (it signs in as zrzy1)"),
    ("escalate", ONLY + "'escalate'"),
    ("appeal reply A-2026-0001 --text x", ONLY + "'appeal reply A-2026-0001'"),
    ("keys list", ONLY + "'keys list'"),
    ("sh -c 'cat /etc/passwd'", ONLY + "'sh -c cat /etc/passwd'"),
    ("export appeals -o /tmp/x.xlsx", ONLY + "'export appeals -o'"),
    ("exports remove x.xlsx", ONLY + "'exports remove x.xlsx'"),
    ("exports get x.xlsx --db /tmp/other.db", "error: refused: --db is fixed by the key (it signs in as zrzy1)"),
    ("appeal list 'unclosed", "error: refused: the command asked for over SSH cannot be read"),
])
def test_a_session_refuses_everything_else(run_cli, db_path, appeals_of_two_units, dump, asked, message):
    before = dump()
    code, out, err = session(run_cli, db_path, "zrzy1", asked)
    assert (code, out, err) == (2, "", message + "\n")
    assert dump() == before


def test_a_session_cannot_read_another_units_appeal(run_cli, db_path, appeals_of_two_units):
    z, s = appeals_of_two_units
    code, out, err = session(run_cli, db_path, "zrzy1", f"appeal show {s.ref}")
    assert (code, out) == (2, "")
    assert err == f"refused: rule: zrzy1 (liaison) may not read appeal {s.ref} (outside their scope)\n"


@pytest.mark.parametrize("user, message", [
    ("system:import", "error: system:import is not a person: a key signs in as a user of the database"),
    ("nobody", "refused: unknown user 'nobody': sign in as an existing user"),
])
def test_a_session_for_no_person_is_refused(run_cli, db_path, user, message):
    code, out, err = session(run_cli, db_path, user, "appeal list")
    assert (code, out, err) == (2, "", message + "\n")


def test_a_session_without_a_terminal_or_a_command_says_how_to_connect(run_cli, db_path):
    code, out, err = session(run_cli, db_path, "zrzy1")
    assert (code, out) == (2, "")
    assert err == ("error: this key opens the console: connect with a terminal (ssh -t), or ask for "
                   "`appeal list`, `appeal show REF`, `exports list` or `exports get NAME`\n")


# -- a session fetches the console's exports ------------------------------------------------------------------
EXPORT_AT = 1795741200           # 2026-11-27 09:00:00 (+08:00), as seconds since the epoch
XLSX_BYTES = b"PK\x03\x04" + bytes(range(256)) * 4 + b"\r\n\x00\xff"   # 1,032 bytes, any byte value


@pytest.fixture
def exports(db_path):
    """The export folders as the console leaves them (``exports/USER/`` beside the database,
    0700, files 0600): zrzy1's workbook (09:00) and CSV (09:15, newer), a file being written
    (hidden), a link and a second name (hard link) of the database, a folder; sthj1's workbook."""
    from taian_tui.dataio import export

    def put(user: str, name: str, data: bytes, minutes: int) -> Path:
        folder = export.personal_folder(db_path, user)
        export.private_folder(folder.parent)
        export.private_folder(folder)
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o600)
        os.utime(path, (EXPORT_AT + 60 * minutes, EXPORT_AT + 60 * minutes))
        return path

    mine = put("zrzy1", "诉求-zrzy1-20261127-090000.xlsx", XLSX_BYTES, 0)
    put("zrzy1", "红牌-zrzy1-20261127-091500.csv", "\ufeff编号\r\n".encode(), 15)
    put("zrzy1", ".诉求-zrzy1-20261127-093000.xlsx.tmp", b"half", 30)
    (mine.parent / "db.xlsx").symlink_to(db_path)
    os.link(db_path, mine.parent / "hard.xlsx")
    (mine.parent / "folder.xlsx").mkdir()
    put("sthj1", "督办看板-sthj1-20261127-090000.xlsx", b"sthj's", 0)
    return mine.parent


def session_bytes(db_path, user: str, asked: str) -> tuple[int, bytes, bytes]:
    """``taian session USER`` as sshd runs it (a process of its own, ``$SSH_ORIGINAL_COMMAND``),
    its stdout as bytes (a pipe, as over SSH)."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIAN_")}
    env["SSH_ORIGINAL_COMMAND"] = asked
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "cli.py"), "session", user,
                           "--db", str(db_path)], env=env, capture_output=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_a_session_lists_its_users_exports_only(run_cli, db_path, exports, dump):
    before = dump()
    code, out, err = session(run_cli, db_path, "zrzy1", "exports list")
    assert (code, err) == (0, "")
    # newest first; name, bytes, Beijing time; not the file being written, the links, the folder
    assert out == ("红牌-zrzy1-20261127-091500.csv\t11\t2026-11-27 09:15:00\n"
                   "诉求-zrzy1-20261127-090000.xlsx\t1032\t2026-11-27 09:00:00\n")
    code, out, err = session(run_cli, db_path, "sthj1", "taian exports list")
    assert (code, out, err) == (0, "督办看板-sthj1-20261127-090000.xlsx\t6\t2026-11-27 09:00:00\n", "")
    code, out, err = session(run_cli, db_path, "daiyue1", "exports list")
    assert (code, out, err) == (0, "", "no exports yet: the console's export key writes them here\n")
    code, out, err = session(run_cli, db_path, "zrzy1", "exports list --all")
    assert (code, out, err) == (2, "", "error: refused: `exports list` takes nothing more, not '--all'\n")
    assert dump() == before


def test_a_session_gets_its_users_export_as_bytes(db_path, exports):
    assert session_bytes(db_path, "zrzy1", "exports get 诉求-zrzy1-20261127-090000.xlsx") == (0, XLSX_BYTES, b"")
    assert session_bytes(db_path, "zrzy1", "taian exports get '红牌-zrzy1-20261127-091500.csv'") == \
        (0, "\ufeff编号\r\n".encode(), b"")


@pytest.mark.parametrize("user, asked, message", [
    ("zrzy1", "exports get 督办看板-sthj1-20261127-090000.xlsx",       # another person's file: not in one's folder
     "error: no export named '督办看板-sthj1-20261127-090000.xlsx' in your folder: `exports list` shows yours"),
    ("zrzy1", "exports get ../sthj1/督办看板-sthj1-20261127-090000.xlsx",
     "error: '../sthj1/督办看板-sthj1-20261127-090000.xlsx' is not the name of an export: give a file name as "
     "`exports list` shows it (no folder, no path)"),
    ("zrzy1", "exports get ..", "error: '..' is not the name of an export: give a file name as `exports list` "
                                "shows it (no folder, no path)"),
    ("zrzy1", "exports get .诉求-zrzy1-20261127-093000.xlsx.tmp",
     "error: '.诉求-zrzy1-20261127-093000.xlsx.tmp' is not the name of an export: give a file name as "
     "`exports list` shows it (no folder, no path)"),
    ("zrzy1", "exports get db.xlsx", "error: 'db.xlsx' is a link, not one of your exports"),
    ("zrzy1", "exports get hard.xlsx", "error: 'hard.xlsx' is not one of your exports (not a plain file)"),
    ("zrzy1", "exports get folder.xlsx", "error: 'folder.xlsx' is not one of your exports (not a plain file)"),
    ("zrzy1", "exports get nothing.xlsx",
     "error: no export named 'nothing.xlsx' in your folder: `exports list` shows yours"),
    ("daiyue1", "exports get 诉求-zrzy1-20261127-090000.xlsx",
     "error: no export named '诉求-zrzy1-20261127-090000.xlsx': you have exported nothing yet (the console's "
     "export key writes them)"),
    ("zrzy1", "exports get", "error: refused: give one file name, as `exports list` shows it: `exports get NAME`"),
    ("zrzy1", "exports get a.xlsx b.xlsx",
     "error: refused: give one file name, as `exports list` shows it: `exports get NAME`"),
])
def test_a_session_gets_nothing_but_its_users_exports(run_cli, db_path, exports, dump, user, asked, message):
    before = dump()
    code, out, err = session(run_cli, db_path, user, asked)
    assert (code, out, err) == (2, "", message + "\n")
    assert dump() == before


def test_exports_get_refuses_an_output_without_bytes(run_cli, db_path, exports):
    """In-process (stdout a text stream, no bytes under it): refused, not written as text."""
    code, out, err = session(run_cli, db_path, "zrzy1", "exports get 诉求-zrzy1-20261127-090000.xlsx")
    assert (code, out, err) == (2, "", "error: `exports get` writes the file's bytes: its output must be a file "
                                       "or a pipe\n")


def test_a_session_refuses_exports_through_a_linked_folder(run_cli, db_path, exports, tmp_path):
    """The user's folder replaced by a link to another's: not followed (list and get)."""
    import shutil

    shutil.rmtree(exports)
    exports.symlink_to(exports.parent / "sthj1")
    for asked in ("exports list", "exports get 督办看板-sthj1-20261127-090000.xlsx"):
        code, out, err = session(run_cli, db_path, "zrzy1", asked)
        assert (code, out) == (2, "")
        assert err == (f"error: {exports} is a link, not the folder of exports the console makes: ask the "
                       "operator\n")


# -- no sign-in list on a real database ----------------------------------------------------------------------
def test_tui_without_an_identity_is_refused_on_a_real_database(run_cli, db_path, monkeypatch):
    monkeypatch.delenv("TAIAN_USER", raising=False)
    code, out, err = run_cli("tui", "--db", db_path)
    assert (code, out) == (2, "")
    assert err == (f"error: {db_path} is not a demo database: say who you are. People sign in with their own "
                   "SSH key, whose forced command runs `taian session USER` (see `taian keys add`); an operator "
                   "on the service account runs `taian tui --as USER`\n")


def test_a_demo_database_keeps_its_sign_in_list(run_cli, demo_db, monkeypatch):
    monkeypatch.delenv("TAIAN_USER", raising=False)
    code, out, err = run_cli("tui", "--db", demo_db)          # no terminal here: past the identity check
    assert (code, err) == (1, "error: the console needs a terminal; use --no-tui (or `taian tui` from a "
                              "terminal)\n")


def test_the_console_app_of_a_session_offers_no_sign_in_list(tui_app_without_list):
    assert tui_app_without_list == ("exit", 2)


@pytest.fixture
def tui_app_without_list(db_path):
    """TaianApp for an unknown user with the list off (as `taian session` starts it): it exits
    with the refusal instead of listing the users."""
    import asyncio

    from taian_tui.console.app import TaianApp

    async def run():
        app = TaianApp(db_path, username="nobody", poll=False, sign_in_list=False)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(20):
                await pilot.pause(0.05)
                if app.return_code is not None:
                    break
        return ("exit", app.return_code)
    return asyncio.run(run())


# -- private files ---------------------------------------------------------------------------------------------
def test_everything_taian_creates_is_private_whatever_the_umask(run_cli, db_path, make_appeal, tmp_path):
    make_appeal("answered")
    old = os.umask(0o022)
    try:
        new_db = tmp_path / "new.db"
        assert run_cli("migrate", "--db", new_db)[0] == 0
        assert run_cli("backup", tmp_path / "backup.db", "--db", db_path)[0] == 0
        assert run_cli("report", tmp_path / "r.html", "--db", db_path, "--at", "2026-11-05T12:00:00+08:00")[0] == 0
        assert run_cli("export", "enterprises", "-o", tmp_path / "e.csv", "--db", db_path)[0] == 0
        bad = tmp_path / "bad.csv"
        bad.write_text("企业名称,统一社会信用代码,所属县市区\n坏,123,岱岳区\n", encoding="utf-8")
        assert run_cli("import", "enterprises", bad, "--db", db_path, "--report", tmp_path / "rej.csv")[0] == 1
        made = [new_db, Path(f"{new_db}-wal"), Path(f"{new_db}-shm"), tmp_path / "backup.db",
                tmp_path / "r.html", tmp_path / "e.csv", tmp_path / "rej.csv"]
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made if p.exists()} == \
            {p.name: "0o600" for p in made if p.exists()}
        assert {p.name for p in made if p.exists()} >= {"new.db", "backup.db", "r.html", "e.csv", "rej.csv"}
    finally:
        os.umask(old)


# -- nothing hostile reaches a terminal ----------------------------------------------------------------------------
EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J清屏\x9b31m\u202eevil"


def test_stored_text_is_printed_escaped(run_cli, db_path, make_appeal, store):
    a = make_appeal("accepted")
    with store.transaction():
        store.conn.execute("UPDATE appeals SET title = ?, body = ? WHERE ref = ?", (EVIL, EVIL, a.ref))
    code, out, err = run_cli("appeal", "list", "--db", db_path)
    assert code == 0, err
    assert out == (f"{a.ref}\taccepted\t-\t市自然资源和规划局\t2026-10-12T23:59:59+08:00\t"
                   "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J清屏\\x9b31m\\u202eevil\n")
    code, out, _ = run_cli("appeal", "show", a.ref, "--db", db_path)
    assert "title: \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J清屏\\x9b31m\\u202eevil\n" in out
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    code, out, _ = run_cli("appeal", "show", a.ref, "--db", db_path, "--json")
    assert json.loads(out)["title"] == EVIL                     # the data itself, as JSON escapes it
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")


def test_intake_errors_that_echo_a_bad_line_are_escaped(run_cli, db_path, tmp_path):
    bad = tmp_path / "events.jsonl"
    bad.write_text('{"event_id":"e1\\u001b]52;c;ZXZpbA==\\u0007","type":"appeal.\\u001b[2Jdeleted"}\n',
                   encoding="utf-8")
    code, out, err = run_cli("intake", bad, "--db", db_path)
    assert code == 1
    assert "\x1b" not in err and "\x07" not in err
    assert err.startswith(f"{bad}:1: [e1\\x1b]52;c;ZXZpbA==\\x07] ")
    assert "appeal.\\x1b[2Jdeleted" in err


def test_a_database_path_with_a_quote_is_refused_for_a_forced_command(store, tmp_path):
    """shlex would quote the ' as '"'"': a " inside command="..." makes sshd skip the line."""
    with pytest.raises(sshkeys.KeyRefused, match="would hold a double quote or a backslash"):
        sshkeys.forced_line(TAIAN, "zrzy1", "/srv/o'brien/taian.db", sshkeys.parse_key(KEY1))


def test_a_removed_key_acts_no_more_in_a_console_already_open(keys, auth, store, monkeypatch):
    """`taian keys remove` ends what the key may do in a session already open (the console's
    next read or action is refused, naming the key), not only the next connection; another
    key of the same user, and a key put back, act again."""
    from taian_tui.console import session as console_session
    from taian_tui.domain.refusals import PermissionDenied

    assert keys("add", "zrzy1", "-", stdin=KEY1)[0] == 0
    assert keys("add", "zrzy1", "-", stdin=KEY3)[0] == 0
    guard = sshkeys.KeyGuard(auth, "zrzy1", fp(KEY1))
    monkeypatch.setattr(console_session, "KEY_GUARD", [guard])
    session = console_session.load_session(store, "zrzy1")
    assert session.actor(store).username == "zrzy1"
    assert keys("remove", fp(KEY1))[0] == 0
    with pytest.raises(PermissionDenied) as refused:
        session.actor(store)
    assert refused.value.localized("zh") == (f"本次登录所用的密钥（{fp(KEY1)}）已不再登记给 zrzy1：不能再用它办理"
                                             "（请用已登记的密钥重新登录）")
    assert sshkeys.KeyGuard(auth, "zrzy1", fp(KEY3)).listed() is True      # their other key
    assert sshkeys.KeyGuard(auth, "sthj1", fp(KEY3)).listed() is False     # another user's
    assert keys("add", "zrzy1", "-", stdin=KEY1)[0] == 0
    assert session.actor(store).username == "zrzy1"
