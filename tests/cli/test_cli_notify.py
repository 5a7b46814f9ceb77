"""`taian notify`: the log and webhook gateways, retries with backoff, at most once, one row in
flight, `status` (counts and lists), `release` (admins only), and migration 0009 (the status
`unknown`). The webhook against real servers and a real kill -9: test_sms_gateway.py."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading

import pytest
from sqlite_utils import Database

from taian_tui.domain import notify
from taian_tui.domain import operations as wf
from taian_tui.schema import migrations
from taian_tui.store import Store

INSTRUCTION = "【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示：抓紧办理，请登录平台查看办理。"
BLUE = "【泰安重大项目督导】蓝牌提醒：你单位诉求A-2026-0001《用地指标落实》今天到期，请于24时前答复。"
YELLOW = ("【泰安重大项目督导】黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，"
          "已推送市委市政府督查室督办，督办期限2026-10-19。")
QUEUED_AT = "2026-10-09T09:00:00+08:00"     # the instruction
BLUE_AT = "2026-10-12T07:00:00+08:00"       # Day 5 of the fixture appeal: blue
SWEPT_AT = "2026-10-13T07:00:00+08:00"      # the cards
T0 = "2026-10-13T08:00:00+08:00"
UNKNOWN_ERROR = "no answer after the request was sent (timed out): outcome unknown"


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


@pytest.fixture
def queued(store, make_appeal):
    """One instruction SMS and the cards' SMS of one appeal."""
    a = make_appeal("accepted")
    wf.issue_instruction(store, "shizhang", "zrzy1", "抓紧办理", appeal_ref=a.ref, at=QUEUED_AT)
    from taian_tui.domain.escalation import sweep
    # as of the morning of Day 5 (blue), then of the morning after the deadline (yellow), both
    # applied at SWEPT_AT: a sweep that raised both at once would send only the yellow SMS
    sweep(store, BLUE_AT, applied_at=SWEPT_AT)
    sweep(store, SWEPT_AT, applied_at=SWEPT_AT)
    n = store.scalar("SELECT COUNT(*) FROM outbox")
    # instruction -> zrzy1; blue -> zrzy1; yellow -> zrzy1 and head:zrzy
    assert n == 4
    return n


@pytest.fixture
def mixed(store, queued):
    """#1 sent, #2 unknown, #3 failed, #4 sending (its sender killed while delivering it)."""
    outcomes = {1: None, 2: notify.DeliveryUnknown(UNKNOWN_ERROR), 3: notify.DeliveryError("HTTP 503")}

    def gateway(message):
        if outcomes[message["id"]] is not None:
            raise outcomes[message["id"]]
    r = notify.send_due(store, gateway, at=T0, limit=3)
    assert (r.sent, r.failed, r.unknown, r.gave_up) == (1, 1, 1, 0)
    assert notify.claim_next(store, T0)["id"] == 4
    return store


def outbox(store, columns="id, status, attempts, next_attempt_at, last_error, sent_at"):
    return [tuple(r) for r in store.all(f"SELECT {columns} FROM outbox ORDER BY id")]


def test_queued_rows(store, queued):
    rows = [tuple(r) for r in store.all("SELECT id, recipient, phone, reason, text FROM outbox ORDER BY id")]
    assert rows == [
        (1, "zrzy1", "13800000002", "instruction", INSTRUCTION),
        (2, "zrzy1", "13800000002", "card.blue", BLUE),
        (3, "zrzy1", "13800000002", "card.yellow", YELLOW),
        (4, "head:zrzy", "13905381013", "card.yellow", YELLOW),
    ]


# -- send -------------------------------------------------------------------------------------------
def test_log_gateway_delivers_each_row_once(run_cli, db_path, store, queued, tmp_path):
    log = tmp_path / "sms.log"
    code, out, err = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", T0)
    assert (code, out, err) == (0, "sent 4, failed 0 (will retry 0, gave up 0), unknown 0\n", "")
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"to": "13800000002", "text": INSTRUCTION, "id": 1},
                     {"to": "13800000002", "text": BLUE, "id": 2},
                     {"to": "13800000002", "text": YELLOW, "id": 3},
                     {"to": "13905381013", "text": YELLOW, "id": 4}]
    # phone numbers: the file is created private
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", "2026-10-14T08:00:00+08:00")
    assert (code, out) == (0, "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n")
    assert len(log.read_text(encoding="utf-8").splitlines()) == queued
    assert outbox(store) == [(i, "sent", 1, QUEUED_AT if i == 1 else SWEPT_AT, "", T0) for i in range(1, 5)]


def test_log_gateway_creates_its_file_private_whatever_the_umask(tmp_path):
    path = tmp_path / "sms.log"
    old = os.umask(0o002)
    try:
        notify.log_gateway(str(path))({"to": "13800000002", "text": "t", "id": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == '{"to": "13800000002", "text": "t", "id": 1}\n'


def test_webhook_posts_json(run_cli, db_path, store, queued, gateway):
    h = gateway()
    code, out, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", h.url)
    assert (code, out, err) == (0, "sent 4, failed 0 (will retry 0, gave up 0), unknown 0\n", "")
    assert len(h.posts) == queued
    ctype, body = h.posts[0]
    assert ctype == "application/json; charset=utf-8"
    assert body == {"to": "13800000002", "text": INSTRUCTION, "id": 1}
    assert [b["id"] for _, b in h.posts] == [1, 2, 3, 4]
    assert "Authorization" not in h.headers[0]     # no token configured


def test_failures_are_retried_with_backoff(run_cli, db_path, store, queued, gateway):
    bad = gateway(status=500)
    code, out, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url, "--at", T0)
    assert code == 1
    assert out == "sent 0, failed 4 (will retry 4, gave up 0), unknown 0\n"
    assert err == ("  #1 to 13800000002: HTTP 500\n  #2 to 13800000002: HTTP 500\n"
                   "  #3 to 13800000002: HTTP 500\n  #4 to 13905381013: HTTP 500\n"
                   "error: no SMS delivered: all 4 tried failed or are unknown\n")
    row = store.one("SELECT status, attempts, last_error, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == ("failed", 1, "HTTP 500", "2026-10-13T08:01:00+08:00")
    # before the backoff has passed: nothing is tried, and that is not a failure
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url,
                           "--at", "2026-10-13T08:00:30+08:00")
    assert (code, out) == (0, "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n")
    assert len(bad.posts) == queued
    # second failure: 2 minutes
    run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url,
            "--at", "2026-10-13T08:01:00+08:00")
    row = store.one("SELECT attempts, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == (2, "2026-10-13T08:03:00+08:00")
    good = gateway()
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", good.url,
                           "--at", "2026-10-13T08:03:00+08:00")
    assert (code, out) == (0, "sent 4, failed 0 (will retry 0, gave up 0), unknown 0\n")
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND attempts = 3") == queued
    run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", good.url,
            "--at", "2026-10-14T08:00:00+08:00")
    assert len(good.posts) == queued


def test_exit_code_is_0_when_one_was_sent(run_cli, db_path, store, queued, gateway):
    h = gateway(fail_ids={1, 2, 4})
    code, out, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", h.url, "--at", T0)
    assert (code, out) == (0, "sent 1, failed 3 (will retry 3, gave up 0), unknown 0\n")
    assert err == ("  #1 to 13800000002: HTTP 500\n  #2 to 13800000002: HTTP 500\n"
                   "  #4 to 13905381013: HTTP 500\n")


def test_exit_code_is_0_when_nothing_is_due(run_cli, db_path, store, mixed):
    # #1 sent, #2 unknown, #3 failed (due 08:01), #4 sending: nothing is due at T0 -> 0
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--gateway", "log", "--at", T0)
    assert (code, out) == (0, "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n")


def test_gives_up_after_max_attempts(store, queued):
    def failing(message):
        raise notify.DeliveryError("gateway down")
    for day in range(notify.MAX_ATTEMPTS + 2):
        notify.send_due(store, failing, at=f"2026-10-{13 + day}T08:00:00+08:00")
    row = store.one("SELECT status, attempts, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == ("failed", notify.MAX_ATTEMPTS, None)


def test_one_row_is_claimed_at_a_time(store, queued):
    """While a message is being delivered it is the only row `sending`; the rest wait `queued`."""
    seen = []

    def gateway(message):
        seen.append((message["id"], outbox(store, "id, status")))
    result = notify.send_due(store, gateway, at=T0)
    assert result.sent == 4
    assert seen == [
        (1, [(1, "sending"), (2, "queued"), (3, "queued"), (4, "queued")]),
        (2, [(1, "sent"), (2, "sending"), (3, "queued"), (4, "queued")]),
        (3, [(1, "sent"), (2, "sent"), (3, "sending"), (4, "queued")]),
        (4, [(1, "sent"), (2, "sent"), (3, "sent"), (4, "sending")]),
    ]


def test_limit_counts_messages_tried(store, queued):
    sent = []
    result = notify.send_due(store, lambda m: sent.append(m["id"]), at=T0, limit=3)
    assert (result.sent, sent) == (3, [1, 2, 3])
    assert outbox(store, "id, status") == [(1, "sent"), (2, "sent"), (3, "sent"), (4, "queued")]


def test_a_sender_dying_mid_delivery_strands_only_that_row(store, queued):
    """The sender dies (here: SystemExit from a signal handler) while #2 is in flight: #1 is
    sent, #2 stays `sending` for ever (never sent again automatically), #3 and #4 go out on
    the next run."""
    sent = []

    def dies_on_2(message):
        if message["id"] == 2:
            raise SystemExit(143)
        sent.append(message["id"])
    with pytest.raises(SystemExit):
        notify.send_due(store, dies_on_2, at=T0)
    assert outbox(store, "id, status, attempts") == [(1, "sent", 1), (2, "sending", 1), (3, "queued", 0),
                                                     (4, "queued", 0)]
    result = notify.send_due(store, lambda m: sent.append(m["id"]), at="2026-10-14T08:00:00+08:00")
    assert (result.sent, sent) == (2, [1, 3, 4])
    notify.send_due(store, lambda m: sent.append(m["id"]), at="2026-10-20T08:00:00+08:00")
    assert sent == [1, 3, 4]
    assert outbox(store, "id, status, attempts") == [(1, "sent", 1), (2, "sending", 1), (3, "sent", 1),
                                                     (4, "sent", 1)]


def test_unknown_is_recorded_and_never_retried(store, mixed):
    assert outbox(store) == [
        (1, "sent", 1, QUEUED_AT, "", T0),
        (2, "unknown", 1, None, UNKNOWN_ERROR, None),
        (3, "failed", 1, "2026-10-13T08:01:00+08:00", "HTTP 503", None),
        (4, "sending", 1, SWEPT_AT, "", None),
    ]
    (entry,) = [e for e in store.audit_rows("outbox", 2)]
    assert (entry.actor, entry.action, entry.at, json.loads(entry.after)) == (
        "system:notify", "sms.unknown", T0, {"attempt": 1, "error": UNKNOWN_ERROR})
    tried = []
    result = notify.send_due(store, lambda m: tried.append(m["id"]), at="2026-10-20T08:00:00+08:00")
    assert (result.sent, tried) == (1, [3])


def test_two_senders_at_once_deliver_each_row_at_most_once(db_path, store, queued, gateway):
    h = gateway(delay=0.05)
    results = []

    def sender():
        s = Store(db_path)
        try:
            results.append(notify.send_due(s, notify.webhook_gateway(h.url)))
        finally:
            s.close()
    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [b["id"] for _, b in h.posts]
    assert len(ids) == len(set(ids)) == queued
    assert sum(r.sent for r in results) == queued


def test_bad_gateway_options_are_refused(run_cli, db_path):
    code, _, err = run_cli("notify", "send", "--db", db_path, "--gateway", "carrier-pigeon")
    assert (code, err) == (2, "error: --gateway must be log or webhook\n")
    code, _, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", "ftp://x")
    assert (code, err) == (2, "refused: webhook URL must start with http:// or https://, not 'ftp://x'\n")
    for bad in ("http://", "https://sms.example:port/send"):
        code, _, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad)
        assert (code, err) == (2, f"refused: webhook URL must start with http:// or https://, not {bad!r}\n")
    # a URL without --gateway webhook would silently go to the log file: refused
    code, _, err = run_cli("notify", "send", "--db", db_path, "--url", "https://sms.example/send")
    assert (code, err) == (2, "error: --url and --config are for --gateway webhook (the default gateway is log)\n")
    # a delivery run never runs ahead of the clock
    code, _, err = run_cli("notify", "send", "--db", db_path, "--at", "2026-10-13T08:00:01+08:00",
                           env={"TAIAN_NOW": T0})
    assert (code, err) == (2, "error: --at 2026-10-13T08:00:01+08:00 is after now (2026-10-13T08:00:00+08:00): "
                              "a delivery run never runs ahead of the clock\n")
    code, _, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook")
    assert code == 2
    assert err == ("error: no webhook URL: give --url, set TAIAN_SMS_URL, or put url under [sms] in "
                   f"{os.environ['HOME']}/.config/taian/sms.toml\n")


# -- status ------------------------------------------------------------------------------------------
HEADER = "id\tstatus\tattempts\trecipient\tphone\tcreated_at\tnext_attempt_at\tlast_error\ttext\n"
LINE_2 = f"2\tunknown\t1\tzrzy1\t13800000002\t{SWEPT_AT}\t-\t{UNKNOWN_ERROR}\t{BLUE}\n"
LINE_3 = f"3\tfailed\t1\tzrzy1\t13800000002\t{SWEPT_AT}\t2026-10-13T08:01:00+08:00\tHTTP 503\t{YELLOW}\n"
LINE_4 = f"4\tsending\t1\thead:zrzy\t13905381013\t{SWEPT_AT}\t{SWEPT_AT}\t-\t{YELLOW}\n"


def test_status_counts(run_cli, db_path, mixed):
    code, out, _ = run_cli("notify", "status", "--db", db_path)
    assert (code, out) == (0, "queued 0, sending 1, sent 1, failed 1, unknown 1\n")
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--json")
    assert json.loads(out) == {"queued": 0, "sending": 1, "sent": 1, "failed": 1, "unknown": 1}


def test_status_lists_stuck_and_failed_rows(run_cli, db_path, mixed):
    counts = "queued 0, sending 1, sent 1, failed 1, unknown 1\n"
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "sending,unknown")
    assert (code, out) == (0, counts + HEADER + LINE_2 + LINE_4)
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "failed", "--list", "unknown")
    assert (code, out) == (0, counts + HEADER + LINE_2 + LINE_3)
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "unknown", "--json")
    assert code == 0
    assert json.loads(out) == {
        "counts": {"queued": 0, "sending": 1, "sent": 1, "failed": 1, "unknown": 1},
        "rows": [{"id": 2, "recipient": "zrzy1", "phone": "13800000002", "status": "unknown", "attempts": 1,
                  "created_at": SWEPT_AT, "next_attempt_at": None, "last_error": UNKNOWN_ERROR, "text": BLUE}]}


def test_status_list_when_none(run_cli, db_path, store, queued):
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "sending", "--list", "unknown")
    assert (code, out) == (0, "queued 4, sending 0, sent 0, failed 0, unknown 0\nno SMS sending/unknown\n")


def test_status_list_refuses_other_statuses(run_cli, db_path, store, queued):
    code, out, err = run_cli("notify", "status", "--db", db_path, "--list", "sending,sent")
    assert (code, out, err) == (2, "", "error: --list takes sending, unknown or failed, not 'sent'\n")
    code, out, err = run_cli("notify", "status", "--db", db_path, "--list", ",")
    assert (code, out, err) == (2, "", "error: --list takes sending, unknown or failed\n")


def test_status_escapes_control_characters(run_cli, db_path, store):
    """A stored SMS (or phone number, or gateway error) cannot drive the operator's terminal."""
    with store.transaction():
        store.queue_sms("zrzy1", "138\x1b[2J", "请\x1b]52;c;ZXZpbA==\x07查看\x9b6n\u202e", "test", "x", at=T0)
    store.conn.execute("UPDATE outbox SET status = 'failed', last_error = 'HTTP 500: \x1b[31mred\r\nx'")
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "failed")
    assert code == 0
    assert out.splitlines()[2] == ("1\tfailed\t0\tzrzy1\t138\\x1b[2J\t2026-10-13T08:00:00+08:00\t"
                                   "2026-10-13T08:00:00+08:00\tHTTP 500: \\x1b[31mred\\x0d\\x0ax\t"
                                   "请\\x1b]52;c;ZXZpbA==\\x07查看\\x9b6n\\u202e")
    code, out, _ = run_cli("notify", "status", "--db", db_path, "--list", "failed", "--json")
    assert code == 0
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
        assert raw not in out
    assert json.loads(out)["rows"][0]["text"] == "请\x1b]52;c;ZXZpbA==\x07查看\x9b6n\u202e"   # lossless


# -- release ------------------------------------------------------------------------------------------
NOW = "2026-10-13T09:30:00+08:00"


def test_release_puts_stuck_rows_back_in_the_queue(run_cli, db_path, store, mixed):
    code, out, err = run_cli("notify", "release", "2", "4", "--db", db_path, "--as", "admin",
                             env={"TAIAN_NOW": NOW})
    assert (code, out, err) == (0, "#2: unknown -> queued\n#4: sending -> queued\n", "")
    assert outbox(store)[1] == (2, "queued", 1, NOW, UNKNOWN_ERROR, None)
    assert outbox(store)[3] == (4, "queued", 1, NOW, "", None)
    entry = store.audit_rows("outbox", 2)[-1]
    assert (entry.actor, entry.action, entry.at) == ("admin", "sms.release", NOW)
    assert json.loads(entry.before) == {"status": "unknown", "attempts": 1, "last_error": UNKNOWN_ERROR,
                                        "next_attempt_at": None, "sent_at": None}
    assert json.loads(entry.after) == {"status": "queued", "attempts": 1, "last_error": UNKNOWN_ERROR,
                                       "next_attempt_at": NOW, "sent_at": None}
    assert [e.action for e in store.audit_rows("outbox", 4)] == ["sms.release"]
    assert store.verify_audit().ok
    # the next run sends them (#3's backoff has passed too)
    tried = []
    result = notify.send_due(store, lambda m: tried.append(m["id"]), at="2026-10-13T10:00:00+08:00")
    assert (result.sent, tried) == (3, [2, 3, 4])
    assert outbox(store, "id, status, attempts") == [(1, "sent", 1), (2, "sent", 2), (3, "sent", 2),
                                                     (4, "sent", 2)]


def test_release_mark_sent(run_cli, db_path, store, mixed):
    code, out, _ = run_cli("notify", "release", "2", "--mark-sent", "--db", db_path, "--as", "admin",
                           env={"TAIAN_NOW": NOW})
    assert (code, out) == (0, "#2: unknown -> sent (marked by hand)\n")
    assert outbox(store)[1] == (2, "sent", 1, None, "", NOW)
    entry = store.audit_rows("outbox", 2)[-1]
    assert (entry.actor, entry.action, entry.at) == ("admin", "sms.mark_sent", NOW)
    assert json.loads(entry.after) == {"status": "sent", "attempts": 1, "last_error": "",
                                       "next_attempt_at": None, "sent_at": NOW}
    tried = []
    notify.send_due(store, lambda m: tried.append(m["id"]), at="2026-10-20T08:00:00+08:00")
    assert tried == [3]


def test_release_only_by_an_admin(run_cli, db_path, store, mixed, unchanged):
    with unchanged():
        code, out, err = run_cli("notify", "release", "2", "--db", db_path, "--as", "zrzy1")
        assert (code, out, err) == (2, "", "refused: rule: only admin may release SMS or mark them sent; "
                                           "zrzy1 (liaison) may not\n")
        code, out, err = run_cli("notify", "release", "2", "--mark-sent", "--db", db_path, "--as", "ducha1")
        assert (code, err) == (2, "refused: rule: only admin may release SMS or mark them sent; "
                                  "ducha1 (supervisor) may not\n")
        code, _, err = run_cli("notify", "release", "2", "--db", db_path, "--as", "nobody")
        assert (code, err) == (2, "refused: unknown user 'nobody': sign in as an existing user\n")
        code, _, err = run_cli("notify", "release", "2", "--db", db_path)
        assert (code, err) == (2, "error: say who is acting: --as USER or TAIAN_USER\n")


def test_release_refuses_rows_in_other_statuses_writing_nothing(run_cli, db_path, store, mixed, unchanged):
    with unchanged():
        # #2 could be released, but #3 (failed) refuses the whole command
        code, out, err = run_cli("notify", "release", "2", "3", "--db", db_path, "--as", "admin")
        assert (code, out, err) == (2, "", "refused: SMS #3 is failed: only sending or unknown SMS can be "
                                           "released\n")
        code, out, err = run_cli("notify", "release", "4", "1", "--mark-sent", "--db", db_path, "--as", "admin")
        assert (code, out, err) == (2, "", "refused: SMS #1 is sent: only sending or unknown SMS can be "
                                           "marked sent\n")
        code, out, err = run_cli("notify", "release", "99", "--db", db_path, "--as", "admin")
        assert (code, out, err) == (2, "", "refused: no SMS #99 in the outbox\n")


# -- migration 0009 ---------------------------------------------------------------------------------
def test_migration_0009_allows_unknown_and_keeps_every_row(tmp_path):
    path = tmp_path / "old.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="0009_outbox_unknown")
    rows = [(1, "zrzy1", "13800000002", "短信一", "instruction", "instruction:1", "sent", 1, T0, T0, "", T0),
            (2, "zrzy1", "13800000002", "短信二", "card.blue", "appeal:1", "sending", 1, T0, T0, "", None),
            (3, "head:zrzy", "13905381013", "短信三", "card.yellow", "appeal:1", "failed", 2, T0,
             "2026-10-13T08:03:00+08:00", "HTTP 500", None),
            (7, "sthj1", "13800000003", "短信七", "card.blue", "appeal:2", "queued", 0, T0, T0, "", None)]
    db.conn.executemany("INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    with pytest.raises(sqlite3.IntegrityError):   # the old CHECK has no 'unknown'
        db.execute("UPDATE outbox SET status = 'unknown' WHERE id = 2")
    db.conn.commit()
    columns = [c[1] for c in db.execute("PRAGMA table_info(outbox)").fetchall()]
    db.conn.close()

    with Store(path) as s:
        assert [c[1] for c in s.all("PRAGMA table_info(outbox)")] == columns
        assert [tuple(r) for r in s.all("SELECT * FROM outbox ORDER BY id")] == rows
        assert [tuple(r) for r in s.all("SELECT name, \"unique\" FROM pragma_index_list('outbox') ORDER BY name")] \
            == [("outbox_phone_sent", 0), ("outbox_status", 0), ("sqlite_autoindex_outbox_1", 1)]  # (+ 0018's)
        assert [r[0] for r in s.all("SELECT name FROM pragma_index_info('outbox_status') ORDER BY seqno")] \
            == ["status", "next_attempt_at"]
        assert [r[0] for r in s.all("SELECT name FROM pragma_index_info('sqlite_autoindex_outbox_1') "
                                    "ORDER BY seqno")] == ["recipient", "reason", "entity"]
        with s.transaction():
            s.conn.execute("UPDATE outbox SET status = 'unknown' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError):
            with s.transaction():
                s.conn.execute("UPDATE outbox SET status = 'lost' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError):   # UNIQUE (recipient, reason, entity)
            with s.transaction():
                s.conn.execute("INSERT INTO outbox(recipient, phone, text, reason, entity, created_at) "
                               "VALUES ('zrzy1', '1', 't', 'card.blue', 'appeal:1', 'x')")
        assert s.queue_sms("zrzy1", "13800000002", "新", "card.yellow", "appeal:9", at=T0)
        assert s.scalar("SELECT MAX(id) FROM outbox") == 8
        assert s.scalar("PRAGMA integrity_check") == "ok"
        assert s.all("PRAGMA foreign_key_check") == []


def test_stale_sms_are_given_up_not_sent(run_cli, db_path, store, queued, tmp_path, monkeypatch):
    """A blue card's "今天到期" is only true on the day it was queued; any other SMS waits at
    most 7 days. On Wed 10-14 (the notify job was broken since Tuesday): the blue reminder of
    10-13 is given up, the instruction (10-09, 5 days) and the yellow ones go; on 10-20 the
    instruction (11 days) would be given up too."""
    monkeypatch.setattr(notify, "MAX_AGE_DAYS", REAL_MAX_AGE_DAYS)
    monkeypatch.setattr(notify, "SAME_DAY_REASONS", REAL_SAME_DAY)
    assert (REAL_MAX_AGE_DAYS, REAL_SAME_DAY) == (7, ("card.blue",))
    log = tmp_path / "sms.log"
    at = "2026-10-14T09:00:00+08:00"
    code, out, err = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", at)
    assert (code, err) == (0, "")
    assert out == ("sent 3, failed 0 (will retry 0, gave up 0), unknown 0; expired 1 (queued too long ago to "
                   "be true now: a blue card's reminder on an earlier day, any other over 7 days; see "
                   "`taian notify status --list failed`)\n")
    assert [json.loads(x)["id"] for x in log.read_text(encoding="utf-8").splitlines()] == [1, 3, 4]
    assert outbox(store)[1] == (2, "failed", 0, None, "expired: queued 2026-10-13T07:00, not delivered in time "
                                                      "(now 2026-10-14T09:00)", None)
    row = store.one("SELECT actor, action, after FROM audit WHERE action = 'sms.expired'")
    assert (row["actor"], json.loads(row["after"])) == ("system:notify", {"count": 1, "ids": [2], "at": at})
    # nothing left to expire or send
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", "2026-10-20T09:00:00+08:00")
    assert out == "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n"


def test_an_instruction_waits_at_most_seven_days(store, queued, monkeypatch):
    monkeypatch.setattr(notify, "MAX_AGE_DAYS", REAL_MAX_AGE_DAYS)
    monkeypatch.setattr(notify, "SAME_DAY_REASONS", REAL_SAME_DAY)
    # queued Fri 10-09 09:00: still sent at 10-16 09:00 (7 days), not after
    assert notify.expire_stale(store, "2026-10-16T09:00:00+08:00") == (1, 0)     # the blue of 10-13
    assert notify.expire_stale(store, "2026-10-16T09:00:01+08:00") == (1, 0)     # the instruction
    assert [r[0] for r in store.all("SELECT id FROM outbox WHERE status = 'failed' ORDER BY id")] == [1, 2]
