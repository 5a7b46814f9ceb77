"""`taian notify send`: the log and webhook gateways, retries with backoff, at most once."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from taian_tui.domain import notify
from taian_tui.domain import operations as wf
from taian_tui.store import Store

INSTRUCTION = "【泰安重大项目督导】市长对诉求A-2026-0001《用地指标落实》作出批示：抓紧办理，请登录平台查看办理。"
BLUE = "【泰安重大项目督导】蓝牌提醒：你单位诉求A-2026-0001《用地指标落实》今天到期，请于24时前答复。"
YELLOW = ("【泰安重大项目督导】黄牌：你单位诉求A-2026-0001《用地指标落实》已超期未答复，"
          "已推送市委市政府督查室督办，督办期限2026-10-19。")


class Hook:
    """A local HTTP server on 127.0.0.1 that records POSTs and answers with ``status``."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay, self.posts = status, delay, []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append((self.headers["Content-Type"], json.loads(body)))
                time.sleep(hook.delay)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    hooks = []

    def make(**kw):
        h = Hook(**kw)
        hooks.append(h)
        return h
    yield make
    for h in hooks:
        h.close()


@pytest.fixture
def queued(store, make_appeal):
    """One instruction SMS and the cards' SMS of one appeal."""
    a = make_appeal("accepted")
    wf.issue_instruction(store, "shizhang", "zrzy1", "抓紧办理", appeal_ref=a.ref, at="2026-10-09T09:00:00+08:00")
    from taian_tui.domain.escalation import sweep
    sweep(store, "2026-10-13T07:00:00+08:00", applied_at="2026-10-13T07:00:00+08:00")
    n = store.scalar("SELECT COUNT(*) FROM outbox")
    # instruction -> zrzy1; blue -> zrzy1; yellow -> zrzy1 and head:zrzy
    assert n == 4
    return n


def test_queued_rows(store, queued):
    rows = [tuple(r) for r in store.all("SELECT id, recipient, phone, reason, text FROM outbox ORDER BY id")]
    assert rows == [
        (1, "zrzy1", "13800000002", "instruction", INSTRUCTION),
        (2, "zrzy1", "13800000002", "card.blue", BLUE),
        (3, "zrzy1", "13800000002", "card.yellow", YELLOW),
        (4, "head:zrzy", "13905381013", "card.yellow", YELLOW),
    ]


def test_log_gateway_delivers_each_row_once(run_cli, db_path, store, queued, tmp_path):
    log = tmp_path / "sms.log"
    code, out, err = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", "2026-10-13T08:00:00+08:00")
    assert code == 0, err
    assert out == "sent 4, failed 0 (will retry 0, gave up 0)\n"
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"to": "13800000002", "text": INSTRUCTION, "id": 1},
                     {"to": "13800000002", "text": BLUE, "id": 2},
                     {"to": "13800000002", "text": YELLOW, "id": 3},
                     {"to": "13905381013", "text": YELLOW, "id": 4}]
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--log-file", log, "--at", "2026-10-14T08:00:00+08:00")
    assert out.startswith("sent 0, failed 0")
    assert len(log.read_text(encoding="utf-8").splitlines()) == queued
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND attempts = 1") == queued


def test_webhook_posts_json(run_cli, db_path, store, queued, hook):
    h = hook()
    code, out, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", h.url)
    assert code == 0, err
    assert len(h.posts) == queued
    ctype, body = h.posts[0]
    assert ctype == "application/json; charset=utf-8"
    assert body == {"to": "13800000002", "text": INSTRUCTION, "id": 1}
    ids = {b["id"] for _, b in h.posts}
    assert ids == {r[0] for r in store.all("SELECT id FROM outbox")}


def test_failures_are_retried_with_backoff(run_cli, db_path, store, queued, hook):
    bad = hook(status=500)
    t0 = "2026-10-13T08:00:00+08:00"
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url, "--at", t0)
    assert code == 0 and out.startswith(f"sent 0, failed {queued}")
    row = store.one("SELECT status, attempts, last_error, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == ("failed", 1, "HTTP 500", "2026-10-13T08:01:00+08:00")
    # before the backoff has passed: nothing is tried
    run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url,
            "--at", "2026-10-13T08:00:30+08:00")
    assert len(bad.posts) == queued
    # second failure: 2 minutes
    run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", bad.url,
            "--at", "2026-10-13T08:01:00+08:00")
    row = store.one("SELECT attempts, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == (2, "2026-10-13T08:03:00+08:00")
    good = hook()
    code, out, _ = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", good.url,
                           "--at", "2026-10-13T08:03:00+08:00")
    assert out.startswith(f"sent {queued}, failed 0")
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND attempts = 3") == queued
    run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", good.url,
            "--at", "2026-10-14T08:00:00+08:00")
    assert len(good.posts) == queued


def test_gives_up_after_max_attempts(store, queued):
    def failing(message):
        raise notify.DeliveryError("gateway down")
    for day in range(notify.MAX_ATTEMPTS + 2):
        notify.send_due(store, failing, at=f"2026-10-{13 + day}T08:00:00+08:00")
    row = store.one("SELECT status, attempts, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert tuple(row) == ("failed", notify.MAX_ATTEMPTS, None)


def test_two_senders_at_once_deliver_each_row_at_most_once(db_path, store, queued, hook):
    h = hook(delay=0.05)
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
    assert code == 2 and "--gateway must be log or webhook" in err
    code, _, err = run_cli("notify", "send", "--db", db_path, "--gateway", "webhook", "--url", "ftp://x")
    assert code == 2 and "http://" in err
