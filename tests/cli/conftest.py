"""Fixtures of the command-line tests: ``gateway``, local HTTP SMS gateways on 127.0.0.1."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Gateway:
    """A gateway on 127.0.0.1 that records every request (any method) and then:

    * ``answer`` (default): answers ``status`` with ``body`` (and ``location``);
    * ``sleep``: waits ``delay`` seconds before answering (past the client's timeout);
    * ``drop``: closes the connection without an answer.

    ``hold=N``: the N-th request is held unanswered until ``unhold()`` (or 30 s);
    ``fail_ids``: answer 500 to the SMS of these outbox ids; ``delay`` in ``answer`` mode too."""

    def __init__(self, mode="answer", status=200, body=b"", location=None, delay=0.0, hold=None,
                 fail_ids=()):
        self.mode, self.status, self.body, self.location, self.delay = mode, status, body, location, delay
        self.fail_ids = set(fail_ids)
        self.hold, self.held = hold, threading.Event()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with srv.lock:
                    srv.requests.append({"method": self.command, "path": self.path,
                                         "headers": dict(self.headers),
                                         "json": json.loads(raw) if raw else None})
                    n = len(srv.requests)
                if srv.hold == n:
                    srv.held.wait(30)
                if srv.mode == "sleep" or srv.delay:
                    time.sleep(srv.delay)
                if srv.mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                sms = srv.requests[n - 1]["json"]
                failed = isinstance(sms, dict) and sms.get("id") in srv.fail_ids
                self.send_response(500 if failed else srv.status)
                if srv.location:
                    self.send_header("Location", srv.location)
                self.send_header("Content-Length", str(len(srv.body)))
                self.end_headers()
                self.wfile.write(srv.body)

            do_POST = do_GET = do_PUT = do_HEAD = handle_one  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None   # a client gone away: not our concern
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def ids(self) -> list[int]:
        with self.lock:
            return [r["json"]["id"] for r in self.requests if r["json"]]

    def unhold(self):
        self.held.set()

    def close(self):
        self.held.set()
        self.server.shutdown()
        self.server.server_close()


    @property
    def posts(self) -> list[tuple[str, dict]]:
        """(content type, JSON body) of each POST, in order."""
        with self.lock:
            return [(r["headers"].get("Content-Type"), r["json"]) for r in self.requests if r["method"] == "POST"]

    @property
    def headers(self) -> list[dict]:
        with self.lock:
            return [r["headers"] for r in self.requests]


@pytest.fixture
def gateway():
    """``gateway(**options) -> Gateway``: a local gateway (see ``Gateway``), closed after the test."""
    made = []

    def make(**kw):
        made.append(Gateway(**kw))
        return made[-1]
    yield make
    for g in made:
        g.close()
