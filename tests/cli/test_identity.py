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
    wf.upsert_user(store, "system:import", 'bad"name', "坏名字", "editor")
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


@pytest.mark.parametrize("asked, message", [
    ("appeal list --as admin", "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    ("appeal list --as=admin", "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    ("appeal list --db /tmp/other.db", "error: refused: --db is fixed by the key (it signs in as zrzy1)"),
    ("escalate", "error: refused: this key runs the console, `appeal list` or `appeal show REF` only, not "
                 "'escalate'"),
    ("appeal reply A-2026-0001 --text x", "error: refused: this key runs the console, `appeal list` or "
                                          "`appeal show REF` only, not 'appeal reply A-2026-0001'"),
    ("keys list", "error: refused: this key runs the console, `appeal list` or `appeal show REF` only, not "
                  "'keys list'"),
    ("sh -c 'cat /etc/passwd'", "error: refused: this key runs the console, `appeal list` or `appeal show REF` "
                                "only, not 'sh -c cat /etc/passwd'"),
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
                   "`appeal list` or `appeal show REF`\n")


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
    assert out == (f"{a.ref}\taccepted\t-\tzrzy\t2026-10-12T23:59:59+08:00\t"
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
