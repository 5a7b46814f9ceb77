"""People reach the console over a real SSH server (DOMAIN.md, "Identity and deployment").

A module-scoped fixture starts OpenSSH's ``sshd`` on 127.0.0.1 on a free port, with a
temporary host key and ``AuthorizedKeysFile`` pointing at a temporary file, and gives two
people (zrzy1 and sthj1 of the small city) a key each with ``taian keys add`` run as a real
process. The tests then connect with the real ``ssh`` client and show that the key, and
nothing the person types, fixes who they are: each key lands in ``taian session`` as its own
user (``appeal list`` in that user's scope; the console over a pty shows that user, and what
is done there is recorded as that user's with the key's fingerprint and the client's address),
``--as``, ``--db`` and any command but ``appeal list|show`` and ``exports list|get`` are
refused without writing anything, a key fetches its own user's console exports and no one
else's, port forwarding is refused, and a removed key no longer gets in.

The module skips itself only when OpenSSH (sshd, ssh, ssh-keygen) is not installed; ``.ci/run``
installs it in CI. Its tests share one server and one authorized_keys file, so they run in
file order on one worker (the removal test comes last).
"""
from __future__ import annotations

import json
import fcntl
import os
import pwd
import re
import select
import shlex
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from taian_tui.domain import operations as wf
from taian_tui.store import Store

pytestmark = pytest.mark.xdist_group("ssh")

TAIAN = str(Path(sys.executable).parent / "taian")
TIMEOUT = 60                   # seconds, for every subprocess (a hung ssh fails, never hangs the run)
ARRIVED = "2026-09-29T10:00:00+08:00"

#: The refs of the appeals the fixture submits, by the unit they are routed to.
ZRZY_REFS = ["A-2026-0001", "A-2026-0002"]           # land/岱岳区 -> zrzy
STHJ_REFS = ["A-2026-0003"]                          # 环评 (environment)/岱岳区 -> sthj
QUEUED_REF = "A-2026-0004"                           # energy/泰山区: no rule, the dispatch queue

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")


def _sshd_path() -> str | None:
    for candidate in ("/usr/sbin/sshd", shutil.which("sshd")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, **kw)


class Server(SimpleNamespace):
    """What the tests need: paths, keys, the port, and ssh/taian runners."""

    def log(self) -> str:
        """sshd's own log so far (-e: to its stderr, captured in a file): it says why a key
        was refused. Included in the assertion messages."""
        try:
            return "\n--- sshd log ---\n" + self.sshd_log.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def ssh_args(self, key: Path, *extra: str) -> list[str]:
        return ["ssh", "-F", "/dev/null", "-i", str(key), "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20", *extra,
                f"{self.login}@127.0.0.1"]

    def ssh(self, key: Path, *command: str) -> subprocess.CompletedProcess:
        return _run([*self.ssh_args(key), *command], env=self.client_env)

    def taian(self, *args: str) -> subprocess.CompletedProcess:
        return _run([TAIAN, *map(str, args)], env=self.client_env)

    def audit_rows(self) -> list[sqlite3.Row]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
        finally:
            conn.close()

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table (to show that a refused session wrote nothing)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            return {n: sorted(map(tuple, conn.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names}
        finally:
            conn.close()

    def user_name(self, username: str) -> str:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT name FROM users WHERE username = ?", (username,)).fetchone()[0]
        finally:
            conn.close()


def _keygen(path: Path, comment: str) -> str:
    done = _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    assert done.returncode == 0, done.stderr
    # ssh-keygen -lf: "256 SHA256:... comment (ED25519)"
    listed = _run(["ssh-keygen", "-lf", f"{path}.pub"])
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.split()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):          # the banner: sshd is really there
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"sshd did not listen on port {port} in 20 s:\n{log.read_text(errors='replace')}")


def _build_db(city_template: Path, path: Path) -> None:
    """The conftest's small city (its session template, copied) and the module's appeals."""
    shutil.copyfile(city_template, path)
    with Store(path) as store:
        uscc = store.scalar("SELECT uscc FROM enterprises")
        for ref, category, county in ((ZRZY_REFS[0], "土地", "岱岳区"), (ZRZY_REFS[1], "土地", "岱岳区"),
                                      (STHJ_REFS[0], "环评", "岱岳区"), (QUEUED_REF, "能耗", "泰山区")):
            wf.submit_appeal(store, "system:intake", ref=ref, enterprise_uscc=uscc, category=category,
                             county=county, title=f"诉求 {ref}", body="请协调", at=ARRIVED)
        units = dict(store.conn.execute("SELECT ref, COALESCE(unit_code, '') FROM appeals"))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert units == {ZRZY_REFS[0]: "zrzy", ZRZY_REFS[1]: "zrzy", STHJ_REFS[0]: "sthj", QUEUED_REF: ""}


@pytest.fixture(scope="module")
def server(city_template, tmp_path_factory):
    sshd = _sshd_path()
    missing = [name for name, found in (("sshd", sshd), ("ssh", shutil.which("ssh")),
                                        ("ssh-keygen", shutil.which("ssh-keygen"))) if not found]
    if missing:
        pytest.skip(f"OpenSSH is not installed ({', '.join(missing)} missing): .ci/run installs "
                    "openssh-server and openssh-client (apt-get, as root)")
    assert os.access(TAIAN, os.X_OK), f"{TAIAN}: the venv's taian command is missing"

    tmp = tmp_path_factory.mktemp("ssh")
    login = pwd.getpwuid(os.getuid()).pw_name
    root = os.geteuid() == 0
    if root:
        # sshd started as root insists on its privilege-separation folder (systemd's unit
        # creates it at boot; a container has none).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    host_key = tmp / "host_ed25519"
    _keygen(host_key, "test host")
    key1, key2 = tmp / "zrzy1_ed25519", tmp / "sthj1_ed25519"
    fp1, fp2 = _keygen(key1, "zrzy1@laptop"), _keygen(key2, "sthj1@laptop")
    authorized_keys = tmp / "authorized_keys"
    db = tmp / "city.db"
    _build_db(city_template, db)

    port = _free_port()
    config = tmp / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {host_key}",
        f"PidFile {tmp / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized_keys}",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "StrictModes no",                  # the temporary folders are not root's 0700 ~/.ssh
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "ExposeAuthInfo yes",              # $SSH_USER_AUTH: which key the session was opened with
        "LogLevel VERBOSE",
        "PrintMotd no",
        "PrintLastLog no",
        "",
    ]))
    sshd_log = tmp / "sshd.log"
    checked = _run([sshd, "-t", "-f", str(config)])
    assert checked.returncode == 0, f"sshd -t refused the configuration:\n{checked.stderr}"
    with open(sshd_log, "wb") as log:
        proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            _wait_for_port(port, proc, sshd_log)
        except AssertionError as exc:
            if not root:
                pytest.skip(f"sshd cannot run unprivileged here as {login}: {exc}")
            raise
        # The client's environment: no agent (only the key given with -i is offered), no
        # TAIAN_* (the server's session must not depend on the caller's environment anyway).
        client_env = {k: v for k, v in os.environ.items()
                      if not k.startswith(("TAIAN_", "SSH_AUTH_SOCK", "SSH_AGENT"))}
        s = Server(tmp=tmp, db=db, port=port, login=login, key1=key1, key2=key2, fp1=fp1, fp2=fp2,
                   authorized_keys=authorized_keys, sshd_log=sshd_log, client_env=client_env)

        for user, key, fp in (("zrzy1", key1, fp1), ("sthj1", key2, fp2)):
            done = s.taian("keys", "add", user, f"{key}.pub", "--db", db, "--authorized-keys", authorized_keys)
            assert (done.returncode, done.stdout, done.stderr) == (
                0, f"added {fp} (ssh-ed25519) for {user} to {authorized_keys}\n", ""), s.log()
        assert authorized_keys.stat().st_mode & 0o777 == 0o600
        lines = authorized_keys.read_text().splitlines()
        pub1, pub2 = (Path(f"{k}.pub").read_text().strip() for k in (key1, key2))
        assert lines == [
            f'command="{shlex.quote(TAIAN)} session zrzy1 --db {shlex.quote(str(db))}",restrict,pty {pub1}',
            f'command="{shlex.quote(TAIAN)} session sthj1 --db {shlex.quote(str(db))}",restrict,pty {pub2}',
        ]
        yield s
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _refs(done: subprocess.CompletedProcess) -> list[str]:
    return [a["ref"] for a in json.loads(done.stdout)]


# -- a. each key lands as its own user -----------------------------------------------------------
def test_each_key_lands_in_a_session_as_its_own_user(server):
    one = server.ssh(server.key1, "appeal", "list", "--json")
    assert (one.returncode, one.stderr) == (0, ""), one.stderr + server.log()
    assert _refs(one) == ZRZY_REFS
    assert {a["unit"] for a in json.loads(one.stdout)} == {"zrzy"}

    two = server.ssh(server.key2, "appeal", "list", "--json")
    assert (two.returncode, two.stderr) == (0, ""), two.stderr + server.log()
    assert _refs(two) == STHJ_REFS

    # the plain listing and `appeal show` of one's own appeal work too ("taian" may be said)
    plain = server.ssh(server.key1, "taian", "appeal", "list")
    assert plain.returncode == 0, plain.stderr + server.log()
    assert [line.split("\t")[:4] for line in plain.stdout.splitlines()] == [
        [ZRZY_REFS[0], "assigned", "-", "市自然资源和规划局"], [ZRZY_REFS[1], "assigned", "-", "市自然资源和规划局"]]
    shown = server.ssh(server.key1, "appeal", "show", ZRZY_REFS[0], "--json")
    assert shown.returncode == 0, shown.stderr + server.log()
    assert json.loads(shown.stdout)["ref"] == ZRZY_REFS[0]

    # sshd saw each key authenticate for the login, and nothing else
    log = server.log()
    assert f"Accepted publickey for {server.login} from 127.0.0.1" in log
    assert server.fp1 in log and server.fp2 in log


# -- b. the session's scope is the key's user's ----------------------------------------------------
def test_another_units_appeal_is_refused(server):
    before = server.dump()
    done = server.ssh(server.key1, "appeal", "show", STHJ_REFS[0], "--json")
    assert (done.returncode, done.stdout) == (2, ""), done.stderr + server.log()
    assert done.stderr.splitlines() == [
        f"refused: rule: zrzy1 (liaison) may not read appeal {STHJ_REFS[0]} (outside their scope)"]
    # and the other way round
    done = server.ssh(server.key2, "appeal", "show", ZRZY_REFS[0])
    assert (done.returncode, done.stdout) == (2, ""), done.stderr + server.log()
    assert done.stderr.splitlines() == [
        f"refused: rule: sthj1 (liaison) may not read appeal {ZRZY_REFS[0]} (outside their scope)"]
    assert server.dump() == before


# -- c. nothing the person types changes who they are or what runs -------------------------------
#: The refusal of any command a key's session does not run (the commands it runs named).
ONLY = ("error: refused: this key runs the console, `appeal list`, `appeal show REF`, `exports list` or "
        "`exports get NAME` only, not ")


@pytest.mark.parametrize("command, line", [
    (["appeal", "list", "--as", "admin"],
     "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    (["appeal", "list", "--as=admin", "--json"],
     "error: refused: --as is fixed by the key (it signs in as zrzy1)"),
    (["appeal", "show", STHJ_REFS[0], "--db", "/tmp/other.db"],
     "error: refused: --db is fixed by the key (it signs in as zrzy1)"),
    (["escalate"], ONLY + "'escalate'"),
    (["tui", "--as", "admin"], ONLY + "'tui --as admin'"),
    (["keys", "list"], ONLY + "'keys list'"),
    (["import", "users", "x"], ONLY + "'import users x'"),
    (["appeal", "accept", ZRZY_REFS[0]], ONLY + f"'appeal accept {ZRZY_REFS[0]}'"),
    (["sh", "-c", "'id'"], ONLY + "'sh -c id'"),
])
def test_other_commands_and_identities_are_refused(server, command, line):
    before = server.dump()
    assert before["audit"]
    done = server.ssh(server.key1, *command)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n"), server.log()
    assert server.dump() == before


def test_the_console_without_a_terminal_is_refused(server):
    """No command and no pty (``ssh -T``): the key's session says how to connect, exit 2."""
    before = server.dump()
    done = _run(server.ssh_args(server.key1, "-T"), env=server.client_env, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "error: this key opens the console: connect with a terminal (ssh -t), or ask for "
               "`appeal list`, `appeal show REF`, `exports list` or `exports get NAME`\n"), server.log()
    assert server.dump() == before


def test_port_forwarding_is_refused(server):
    """``restrict``: sshd itself refuses a port forward asked with the key (a remote one: the
    client learns of the refusal at once, and gives up with ExitOnForwardFailure)."""
    done = _run([*server.ssh_args(server.key1, "-o", "ExitOnForwardFailure=yes",
                                  "-R", f"127.0.0.1:{_free_port()}:127.0.0.1:{server.port}"),
                 "appeal", "list", "--json"], env=server.client_env)
    assert (done.returncode, done.stdout) == (255, ""), done.stdout + done.stderr + server.log()
    assert "remote port forwarding failed" in done.stderr, done.stderr


# -- d. the console over a real terminal ---------------------------------------------------------
def _read_until(fd: int, proc: subprocess.Popen, wanted, seconds: float, *, until_exit: bool = False) -> str:
    """Read the terminal until ``wanted(text)`` holds for the text without escapes (or, with
    ``until_exit``, until ssh exits); return that text."""
    raw = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:          # EIO: the other end closed
                chunk = b""
            if not chunk and proc.poll() is not None:
                if until_exit:
                    return ""
                break
            raw += chunk
            text = _ANSI.sub("", raw.decode("utf-8", errors="replace"))
            if wanted(text):
                return text
        elif proc.poll() is not None:
            if until_exit:
                return ""
            break
    raise AssertionError(f"not seen in {seconds} s (ssh {proc.poll()}); the screen so far:\n"
                         + _ANSI.sub("", raw.decode("utf-8", errors="replace"))[-3000:])


def test_console_over_a_pty_is_the_keys_user_and_its_actions_name_the_key(server):
    """``ssh -tt`` with no command: the console as zrzy1, over a real terminal. The header
    names zrzy1, the inbox holds zrzy's appeals only, an appeal accepted there is recorded as
    zrzy1's with the key's fingerprint and the client's address, and ctrl+q ends the session."""
    name = server.user_name("zrzy1")
    assert name == "自然资源联络员"
    before = len(server.audit_rows())
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = {**server.client_env, "TERM": "xterm-256color"}
    proc = subprocess.Popen(server.ssh_args(server.key1, "-tt"), stdin=child, stdout=child,
                            stderr=child, env=env, close_fds=True, start_new_session=True)
    os.close(child)
    try:
        # Textual draws with cursor moves and colours; with the escapes taken out, each run of
        # text it writes stands together: the header line "自然资源联络员（联络员·市自然资源和
        # 规划局） ... │ 在办 2 · 今日到期 0 · 挂牌 0", then the inbox's rows.
        screen = _read_until(main, proc, lambda text: name in text and all(r in text for r in ZRZY_REFS), 45)
        assert f"{name}（联络员·市自然资源和规划局）" in screen
        assert "在办 2 ·" in screen
        assert STHJ_REFS[0] not in screen and QUEUED_REF not in screen
        assert "生态环境联络员" not in screen and "平台管理员" not in screen   # no sign-in list

        os.write(main, b"a")                          # accept the selected (first) appeal
        screen = _read_until(main, proc, lambda text: "签收诉求 A-" in text, 20)
        ref = re.search(r"签收诉求 (A-\d{4}-\d{4})", screen)[1]
        assert ref in ZRZY_REFS
        os.write(main, b"\x13")                       # ctrl+s: the form's save
        _read_until(main, proc, lambda text: f"已签收 {ref}" in text, 20)

        os.write(main, b"\x11")                       # ctrl+q
        # keep reading: ssh writes the console's last frames (and the terminal's restore) to
        # the pty, and blocks when nobody reads them
        _read_until(main, proc, lambda text: False, 20, until_exit=True)
        assert proc.wait(timeout=5) == 0, server.log()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(main)

    # The row names the application user (the key's, not anything typed) and the real
    # principal: the service account, the key's fingerprint ($SSH_USER_AUTH) and the client's
    # address and port ($SSH_CONNECTION), the same port sshd logged for this session.
    ports = re.findall(r"Starting session: forced-command \(key-option\) '[^']*session zrzy1 [^']*' "
                       r"on pts/\d+ for \S+ from 127\.0\.0\.1 port (\d+)", server.sshd_log.read_text())
    assert ports, server.log()
    new = [(r["actor"], r["action"], r["entity"], r["entity_id"], r["os_user"], r["key_fingerprint"], r["client"])
           for r in server.audit_rows()[before:]]
    assert new == [("zrzy1", "accept", "appeal", ref, server.login, server.fp1, f"127.0.0.1:{ports[-1]}")]
    verified = server.taian("audit", "verify", "--db", server.db)
    assert verified.returncode == 0, verified.stdout + verified.stderr


# -- e. the trail names who gave the key, and the key ---------------------------------------------
def test_keys_add_is_in_the_audit_trail(server):
    rows = [r for r in server.audit_rows() if r["action"] == "key.add"]
    me = pwd.getpwuid(os.getuid()).pw_name
    # run on the server's own shell here: no key, and a client address only when the test
    # itself runs inside an SSH session
    conn = os.environ.get("SSH_CONNECTION", "").split()
    client = f"{conn[0]}:{conn[1]}" if len(conn) >= 2 else ""
    assert [(r["actor"], r["entity"], r["entity_id"], r["os_user"], r["key_fingerprint"], r["client"])
            for r in rows] == [("system:operator", "user", "zrzy1", me, "", client),
                               ("system:operator", "user", "sthj1", me, "", client)]
    afters = [json.loads(r["after"]) for r in rows]
    assert afters == [
        {"fingerprint": server.fp1, "type": "ssh-ed25519", "comment": "zrzy1@laptop",
         "authorized_keys": str(server.authorized_keys), "db": str(server.db)},
        {"fingerprint": server.fp2, "type": "ssh-ed25519", "comment": "sthj1@laptop",
         "authorized_keys": str(server.authorized_keys), "db": str(server.db)},
    ]
    assert all(r["before"] in ("{}", "null", "") for r in rows)
    verified = server.taian("audit", "verify", "--db", server.db)
    assert verified.returncode == 0, verified.stdout + verified.stderr


# -- g. the listing --------------------------------------------------------------------------------
def test_keys_list(server):
    done = server.taian("keys", "list", "--json", "--authorized-keys", server.authorized_keys)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == [
        {"user": "zrzy1", "fingerprint": server.fp1, "type": "ssh-ed25519", "comment": "zrzy1@laptop",
         "db": str(server.db)},
        {"user": "sthj1", "fingerprint": server.fp2, "type": "ssh-ed25519", "comment": "sthj1@laptop",
         "db": str(server.db)},
    ]
    done = server.taian("keys", "list", "--authorized-keys", server.authorized_keys)
    assert done.stdout.splitlines() == [
        f"zrzy1\t{server.fp1}\tssh-ed25519\tzrzy1@laptop\t{server.db}",
        f"sthj1\t{server.fp2}\tssh-ed25519\tsthj1@laptop\t{server.db}",
        f"2 keys in {server.authorized_keys}",
    ]


# -- h. the console's exports are fetched with the key, by their owner only ---------------------
def test_exports_are_fetched_over_ssh_by_their_owner_only(server):
    """zrzy1's console export (``exports/zrzy1/`` beside the database, as the console leaves
    it): listed and fetched byte for byte with zrzy1's key (``ssh … exports get NAME > NAME``);
    sthj1's key finds nothing of it, by its name or by a path to it. Nothing is written."""
    from taian_tui.dataio import export

    folder = export.personal_folder(server.db, "zrzy1")
    export.private_folder(folder.parent)
    export.private_folder(folder)
    name = "诉求-zrzy1-20261127-090000.xlsx"
    data = b"PK\x03\x04" + bytes(range(256)) * 64                # 16,388 bytes, every byte value
    (folder / name).write_bytes(data)
    (folder / name).chmod(0o600)
    os.utime(folder / name, (1795741200, 1795741200))             # 2026-11-27 09:00:00 (+08:00)
    before = server.dump()

    listed = server.ssh(server.key1, "exports", "list")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, f"{name}\t16388\t2026-11-27 09:00:00\n", ""), \
        server.log()
    got = subprocess.run([*server.ssh_args(server.key1), "exports", "get", name], env=server.client_env,
                         capture_output=True, timeout=TIMEOUT)
    assert (got.returncode, got.stdout, got.stderr) == (0, data, b""), server.log()

    theirs = server.ssh(server.key2, "exports", "list")
    assert (theirs.returncode, theirs.stdout, theirs.stderr) == (
        0, "", "no exports yet: the console's export key writes them here\n"), server.log()
    for asked, line in (
            (name, f"error: no export named '{name}': you have exported nothing yet (the console's export key "
                   "writes them)"),
            (f"../zrzy1/{name}", f"error: '../zrzy1/{name}' is not the name of an export: give a file name as "
                                 "`exports list` shows it (no folder, no path)")):
        done = server.ssh(server.key2, "exports", "get", asked)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n"), server.log()
    assert server.dump() == before


# -- f. a removed key no longer gets in (last: it changes the module's server) ------------------
def test_a_removed_key_no_longer_gets_in(server):
    done = server.taian("keys", "remove", "zrzy1", "--db", server.db, "--authorized-keys", server.authorized_keys)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"removed {server.fp1} of zrzy1 from {server.authorized_keys}\n", "")
    assert server.authorized_keys.stat().st_mode & 0o777 == 0o600
    row = server.audit_rows()[-1]
    assert (row["action"], row["entity_id"], json.loads(row["before"])["fingerprint"]) == (
        "key.remove", "zrzy1", server.fp1)

    refused = server.ssh(server.key1, "appeal", "list", "--json")
    assert refused.returncode == 255, refused.stdout + refused.stderr + server.log()
    assert refused.stdout == ""
    assert "Permission denied (publickey)" in refused.stderr, refused.stderr + server.log()

    still = server.ssh(server.key2, "appeal", "list", "--json")
    assert (still.returncode, still.stderr) == (0, ""), still.stderr + server.log()
    assert _refs(still) == STHJ_REFS
