"""The webhook gateway against real HTTP servers on 127.0.0.1: what counts as sent, failed
(retried with backoff) or unknown (never retried); redirects refused; where the URL and the
token come from (and the token never shown); a gateway's answer escaped on the terminal; and
a real `taian notify send` process killed with SIGKILL in the middle of a run."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from taian_tui.domain import notify
from taian_tui.domain import operations as wf

T0 = "2026-10-13T08:00:00+08:00"
QUEUED_AT = "2026-10-09T09:00:00+08:00"
SUMMARY_ALL_SENT = "sent 3, failed 0 (will retry 0, gave up 0), unknown 0\n"
TOKEN = "tok-3f9a1c77d2e84b6b"


#: The expiry of stale SMS as the product has it (these tests' sends are days apart: off here
#: but in the tests of the expiry itself, which put these back).
REAL_MAX_AGE_DAYS, REAL_SAME_DAY = notify.MAX_AGE_DAYS, notify.SAME_DAY_REASONS


@pytest.fixture(autouse=True)
def no_expiry(monkeypatch):
    monkeypatch.setattr(notify, "MAX_AGE_DAYS", 100_000)
    monkeypatch.setattr(notify, "SAME_DAY_REASONS", ())


@pytest.fixture(autouse=True)
def no_sms_settings(monkeypatch, tmp_path):
    """No webhook settings leak in from the environment or the real home directory."""
    for name in ("TAIAN_SMS_URL", "TAIAN_SMS_TOKEN", "TAIAN_SMS_WEBHOOK", "TAIAN_CONFIG", "TAIAN_SMS_LOG",
                 "TAIAN_NOW", "TAIAN_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/sms"


@pytest.fixture
def three(store):
    """Three instruction SMS to zrzy1 (ids 1-3), due from QUEUED_AT."""
    for i in range(3):
        wf.issue_instruction(store, "shizhang", "zrzy1", f"第{i + 1}条批示", project_ref="P-0001", at=QUEUED_AT)
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 3
    return store


def rows(store, columns="id, status, attempts, next_attempt_at, last_error"):
    return [tuple(r) for r in store.all(f"SELECT {columns} FROM outbox ORDER BY id")]


def send(run_cli, db_path, *args, at=T0, env=None):
    return run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--at", at, *args, env=env)


# -- outcomes ---------------------------------------------------------------------------------------
def test_200_is_sent(run_cli, db_path, three, gateway):
    gw = gateway()
    code, out, err = send(run_cli, db_path, "--url", gw.url)
    assert (code, out, err) == (0, SUMMARY_ALL_SENT, "")
    assert gw.ids == [1, 2, 3]
    assert [(r["method"], r["path"]) for r in gw.requests] == [("POST", "/sms")] * 3
    assert gw.requests[0]["json"] == {"to": "13800000002", "id": 1,
                                      "text": "【泰安重大项目督导】市长对项目《年产5万吨新材料项目》作出批示：第1条批示，请登录平台查看办理。"}
    assert rows(three, "id, status, attempts, sent_at, last_error") == [(i, "sent", 1, T0, "") for i in (1, 2, 3)]


def test_500_fails_and_is_retried_with_backoff(run_cli, db_path, three, gateway):
    bad = gateway(status=500, body=b"gateway overloaded\n")
    code, out, err = send(run_cli, db_path, "--url", bad.url)
    assert (code, out) == (1, "sent 0, failed 3 (will retry 3, gave up 0), unknown 0\n")
    assert err == ("  #1 to 13800000002: HTTP 500: gateway overloaded\n"
                   "  #2 to 13800000002: HTTP 500: gateway overloaded\n"
                   "  #3 to 13800000002: HTTP 500: gateway overloaded\n"
                   "error: no SMS delivered: all 3 tried failed or are unknown\n")
    assert rows(three) == [(i, "failed", 1, "2026-10-13T08:01:00+08:00", "HTTP 500: gateway overloaded")
                           for i in (1, 2, 3)]
    code, out, _ = send(run_cli, db_path, "--url", bad.url, at="2026-10-13T08:00:59+08:00")
    assert (code, out, bad.ids) == (0, "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n", [1, 2, 3])
    good = gateway()
    code, out, _ = send(run_cli, db_path, "--url", good.url, at="2026-10-13T08:01:00+08:00")
    assert (code, out, good.ids) == (0, SUMMARY_ALL_SENT, [1, 2, 3])
    assert rows(three, "id, status, attempts") == [(i, "sent", 2) for i in (1, 2, 3)]
    assert [e.action for e in three.audit_rows("outbox", 1)] == ["sms.failed", "sms.sent"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_a_failure_never_followed(run_cli, db_path, three, gateway, status):
    target = gateway()
    redirecting = gateway(status=status, location=target.url)
    code, out, err = send(run_cli, db_path, "--url", redirecting.url)
    assert (code, out) == (1, "sent 0, failed 3 (will retry 3, gave up 0), unknown 0\n")
    assert err.splitlines()[0] == f"  #1 to 13800000002: HTTP {status} redirect refused"
    assert redirecting.ids == [1, 2, 3]
    assert target.requests == []          # not followed, not even as a GET
    assert rows(three) == [(i, "failed", 1, "2026-10-13T08:01:00+08:00", f"HTTP {status} redirect refused")
                           for i in (1, 2, 3)]


def test_no_answer_before_the_timeout_is_unknown_and_never_retried(run_cli, db_path, three, gateway):
    slow = gateway(mode="sleep", delay=1.5)
    code, out, err = send(run_cli, db_path, "--url", slow.url, "--timeout", "0.3", "--limit", "1")
    assert (code, out) == (1, "sent 0, failed 0 (will retry 0, gave up 0), unknown 1\n")
    assert err == ("  #1 to 13800000002: no answer after the request was sent (timed out): outcome unknown; "
                   "not retried (check with the provider, then `taian notify release`)\n"
                   "error: no SMS delivered: all 1 tried failed or are unknown\n")
    assert slow.ids == [1]
    assert rows(three)[0] == (1, "unknown", 1, None, "no answer after the request was sent (timed out): "
                                                     "outcome unknown")
    good = gateway()
    code, out, _ = send(run_cli, db_path, "--url", good.url, at="2026-10-20T08:00:00+08:00")
    assert (code, out) == (0, "sent 2, failed 0 (will retry 0, gave up 0), unknown 0\n")
    assert good.ids == [2, 3]            # #1 is not retried
    assert rows(three, "id, status") == [(1, "unknown"), (2, "sent"), (3, "sent")]
    code, out, _ = run_cli("notify", "status", "--db", db_path)
    assert out == "queued 0, sending 0, sent 2, failed 0, unknown 1\n"


def test_connection_dropped_after_the_request_is_unknown(db_path, three, gateway):
    dropping = gateway(mode="drop")
    result = notify.send_due(three, notify.webhook_gateway(dropping.url, timeout=5), at=T0)
    assert (result.sent, result.failed, result.unknown) == (0, 0, 3)
    assert dropping.ids == [1, 2, 3]
    assert rows(three) == [(i, "unknown", 1, None, "no answer after the request was sent (Remote end closed "
                                                   "connection without response): outcome unknown")
                           for i in (1, 2, 3)]


def test_closed_port_fails_and_is_retried(run_cli, db_path, three, gateway):
    url = closed_port_url()
    code, out, err = send(run_cli, db_path, "--url", url)
    assert (code, out) == (1, "sent 0, failed 3 (will retry 3, gave up 0), unknown 0\n")
    assert err.splitlines()[0] == "  #1 to 13800000002: connection failed: [Errno 111] Connection refused"
    assert rows(three) == [(i, "failed", 1, "2026-10-13T08:01:00+08:00",
                            "connection failed: [Errno 111] Connection refused") for i in (1, 2, 3)]
    send(run_cli, db_path, "--url", url, at="2026-10-13T08:01:00+08:00")
    assert rows(three)[0][:4] == (1, "failed", 2, "2026-10-13T08:03:00+08:00")
    good = gateway()
    code, out, _ = send(run_cli, db_path, "--url", good.url, at="2026-10-13T08:03:00+08:00")
    assert (code, out, good.ids) == (0, SUMMARY_ALL_SENT, [1, 2, 3])


def test_unresolvable_host_fails_and_is_retried(db_path, three):
    result = notify.send_due(three, notify.webhook_gateway("http://sms-gw.invalid/send", timeout=5), at=T0,
                             limit=1)
    assert (result.failed, result.unknown) == (1, 0)
    status, error = three.one("SELECT status, last_error FROM outbox WHERE id = 1")
    assert status == "failed" and error.startswith("connection failed: [Errno -")


# -- the terminal -----------------------------------------------------------------------------------
def test_a_gateways_answer_cannot_drive_the_terminal(run_cli, db_path, three, gateway):
    evil = gateway(status=502, body=b"\x1b]52;c;ZXZpbA==\x07\x1b[2J\xc2\x9b6n bad")
    code, out, err = send(run_cli, db_path, "--url", evil.url, "--limit", "1")
    assert code == 1
    assert err.splitlines()[0] == "  #1 to 13800000002: HTTP 502: \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b6n bad"
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in out + err
    # stored as received (escaped when shown)
    assert three.scalar("SELECT last_error FROM outbox WHERE id = 1") == "HTTP 502: \x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b6n bad"


def test_shown():
    from taian_tui.commands.notify import shown
    assert shown("a\x1b[2Jb\x07\x00\x7f\x9b\n\t\r\u202e\u2028好") == \
        "a\\x1b[2Jb\\x07\\x00\\x7f\\x9b\\x0a\\x09\\x0d\\u202e\\u2028好"
    assert shown("【泰安】13800000002") == "【泰安】13800000002"


# -- URL and token ----------------------------------------------------------------------------------
def write_config(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_token_from_the_environment_is_sent_as_bearer(run_cli, db_path, three, gateway):
    gw = gateway()
    code, out, err = send(run_cli, db_path, env={"TAIAN_SMS_URL": gw.url, "TAIAN_SMS_TOKEN": TOKEN})
    assert (code, out, err) == (0, SUMMARY_ALL_SENT, "")
    assert [r["headers"]["Authorization"] for r in gw.requests] == [f"Bearer {TOKEN}"] * 3


def test_url_and_token_from_the_private_config_file(run_cli, db_path, three, gateway, tmp_path):
    gw = gateway()
    write_config(tmp_path / "home/.config/taian/sms.toml", f'[sms]\nurl = "{gw.url}"\ntoken = "{TOKEN}"\n')
    code, out, err = send(run_cli, db_path)
    assert (code, out, err) == (0, SUMMARY_ALL_SENT, "")
    assert gw.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_config_file_from_option_and_taian_config(run_cli, db_path, three, gateway, tmp_path):
    a, b = gateway(), gateway()
    cfg_a = write_config(tmp_path / "a.toml", f'[sms]\nurl = "{a.url}"\ntoken = "A-{TOKEN}"\n')
    cfg_b = write_config(tmp_path / "b.toml", f'[sms]\nurl = "{b.url}"\n')
    code, _, _ = send(run_cli, db_path, "--config", cfg_a, "--limit", "1", env={"TAIAN_CONFIG": str(cfg_b)})
    assert code == 0 and a.ids == [1] and b.ids == []
    assert a.requests[0]["headers"]["Authorization"] == f"Bearer A-{TOKEN}"
    code, _, _ = send(run_cli, db_path, "--limit", "1", env={"TAIAN_CONFIG": str(cfg_b)})
    assert code == 0 and b.ids == [2]
    assert "Authorization" not in b.requests[0]["headers"]
    code, _, err = send(run_cli, db_path, "--config", tmp_path / "missing.toml")
    assert (code, err) == (2, f"error: config file {tmp_path}/missing.toml does not exist\n")


def test_precedence_option_then_environment_then_config(run_cli, db_path, three, gateway, tmp_path):
    opt, env_url, old_env, cfg = gateway(), gateway(), gateway(), gateway()
    write_config(tmp_path / "home/.config/taian/sms.toml", f'[sms]\nurl = "{cfg.url}"\ntoken = "cfg-{TOKEN}"\n')
    env = {"TAIAN_SMS_URL": env_url.url, "TAIAN_SMS_WEBHOOK": old_env.url, "TAIAN_SMS_TOKEN": f"env-{TOKEN}"}
    send(run_cli, db_path, "--url", opt.url, "--limit", "1", env=env)
    send(run_cli, db_path, "--limit", "1", env=env)
    send(run_cli, db_path, "--limit", "1", env={"TAIAN_SMS_WEBHOOK": old_env.url})
    assert (opt.ids, env_url.ids, old_env.ids, cfg.ids) == ([1], [2], [3], [])
    assert opt.requests[0]["headers"]["Authorization"] == f"Bearer env-{TOKEN}"
    assert old_env.requests[0]["headers"]["Authorization"] == f"Bearer cfg-{TOKEN}"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o666], ids=lambda m: f"{m:04o}")
def test_config_file_open_to_others_is_refused(run_cli, db_path, three, gateway, tmp_path, mode, unchanged):
    gw = gateway()
    path = write_config(tmp_path / "home/.config/taian/sms.toml", f'[sms]\nurl = "{gw.url}"\ntoken = "{TOKEN}"\n',
                        mode)
    with unchanged():
        code, out, err = send(run_cli, db_path)
    assert (code, out) == (2, "")
    assert err == (f"error: config file {path} has mode {mode:04o}: it holds the SMS token, so group and others "
                   f"must have no access (chmod 600 {path})\n")
    assert TOKEN not in err and gw.requests == []


def test_config_file_is_not_read_when_the_environment_gives_url_and_token(run_cli, db_path, three, gateway,
                                                                         tmp_path):
    gw = gateway()
    write_config(tmp_path / "home/.config/taian/sms.toml", '[sms]\nurl = "http://127.0.0.1:9/"\n', 0o644)
    code, out, err = send(run_cli, db_path, env={"TAIAN_SMS_URL": gw.url, "TAIAN_SMS_TOKEN": TOKEN})
    assert (code, out, err) == (0, SUMMARY_ALL_SENT, "")
    # ... but it is when the token is missing, and refused (mode 0644)
    code, _, err = send(run_cli, db_path, env={"TAIAN_SMS_URL": gw.url})
    assert code == 2 and "has mode 0644" in err


def test_config_file_mistakes_are_refused(run_cli, db_path, three, tmp_path):
    path = write_config(tmp_path / "c.toml", f'[sms]\nurl = "http://127.0.0.1:9/"\ntokne = "{TOKEN}"\n')
    code, _, err = send(run_cli, db_path, "--config", path)
    assert (code, err) == (2, f"error: config file {path}: unknown key 'tokne' in [sms] (known: url, token)\n")
    write_config(path, f'[sms]\nurl = "http://127.0.0.1:9/"\ntoken = {TOKEN}\n')
    code, _, err = send(run_cli, db_path, "--config", path)
    assert code == 2 and err.startswith(f"error: config file {path} is not valid TOML: ") and TOKEN not in err
    write_config(path, '[sms]\nurl = "http://127.0.0.1:9/"\ntoken = "two words"\n')
    code, _, err = send(run_cli, db_path, "--config", path)
    assert (code, err) == (2, "error: the SMS token must be printable ASCII without spaces (it is not shown here)\n")


def test_no_token_option_on_the_command_line(run_cli, db_path, three):
    code, _, err = send(run_cli, db_path, "--url", "http://127.0.0.1:9/", "--token", TOKEN)
    assert code == 2 and "No such option: --token" in err
    assert three.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 3


def test_token_never_shown_even_if_the_gateway_echoes_it(run_cli, db_path, three, gateway):
    echo = gateway(status=401, body=f"bad credentials: Bearer {TOKEN}".encode())
    code, out, err = send(run_cli, db_path, env={"TAIAN_SMS_URL": echo.url, "TAIAN_SMS_TOKEN": TOKEN})
    assert code == 1
    assert err.splitlines()[0] == "  #1 to 13800000002: HTTP 401: bad credentials: Bearer ***"
    assert TOKEN not in out + err
    assert three.scalar("SELECT last_error FROM outbox WHERE id = 1") == "HTTP 401: bad credentials: Bearer ***"
    assert three.scalar("SELECT COUNT(*) FROM audit WHERE after LIKE ?", (f"%{TOKEN}%",)) == 0


def test_token_over_plain_http_to_another_host_is_warned_about(run_cli, db_path, three):
    code, out, err = send(run_cli, db_path, "--limit", "1", "--timeout", "2",
                          env={"TAIAN_SMS_URL": "http://sms-gw.invalid/send", "TAIAN_SMS_TOKEN": TOKEN})
    assert code == 1
    assert err.splitlines()[0] == "warning: the SMS token is sent unencrypted (http://) to sms-gw.invalid"
    assert TOKEN not in out + err


# -- kill -9 in the middle of a run -------------------------------------------------------------
def test_kill_9_strands_at_most_the_message_in_flight(store, db_path, gateway, taian_process):
    for i in range(20):
        wf.issue_instruction(store, "shizhang", "zrzy1", f"第{i + 1}条批示", project_ref="P-0001", at=QUEUED_AT)
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") == 20
    n = 7
    gw = gateway(hold=n)   # answers at once, but holds the 7th request unanswered
    env = dict(os.environ, TAIAN_SMS_URL=gw.url)
    proc = taian_process("notify", "send", "--db", db_path, "--gateway", "webhook", "--at", T0, env=env)
    try:
        deadline = time.monotonic() + 60
        while len(gw.requests) < n and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert len(gw.requests) == n
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    gw.unhold()
    assert gw.ids == list(range(1, n + 1))
    # rows 1-6 answered and recorded sent; the 7th in flight; the rest never claimed
    assert rows(store, "id, status, attempts") == (
        [(i, "sent", 1) for i in range(1, n)] + [(n, "sending", 1)] + [(i, "queued", 0) for i in range(n + 1, 21)])
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('sent', 'sending')") == len(gw.requests)

    second = taian_process("notify", "send", "--db", db_path, "--gateway", "webhook", "--at",
                           "2026-10-13T09:00:00+08:00", env=env)
    out, err = second.communicate(timeout=60)
    assert (second.returncode, out, err) == (0, "sent 13, failed 0 (will retry 0, gave up 0), unknown 0\n", "")
    assert gw.ids == list(range(1, 21))                 # every row reached the gateway exactly once
    per_id = {i: gw.ids.count(i) for i in gw.ids}
    assert set(per_id.values()) == {1} and len(per_id) == 20
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'") == 19
    assert [tuple(r) for r in store.all("SELECT id, status FROM outbox WHERE status != 'sent'")] == [(n, "sending")]
    # the gateway did get #7: an admin records it as sent, and nothing is left to do
    third = taian_process("notify", "release", str(n), "--mark-sent", "--db", db_path, "--as", "admin", env=env)
    out, err = third.communicate(timeout=60)
    assert (third.returncode, out, err) == (0, f"#{n}: sending -> sent (marked by hand)\n", "")
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'") == 20
