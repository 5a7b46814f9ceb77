"""The SMS outbox and its delivery (DOMAIN.md, "Notifications").

Statuses of an outbox row::

    queued --claim--> sending --2xx--------------> sent
      ^                  |  \\--refused/error----> failed --(backoff)--> claimed again
      |                  \\----no answer---------> unknown
      +-- notify release (admin) <-- sending | unknown --(--mark-sent)--> sent

* **One row in flight.** ``send_due`` claims *one* due row at a time, in its own
  ``BEGIN IMMEDIATE`` transaction (status ``sending``, attempt counted), delivers it, and
  records the outcome in a second transaction before claiming the next. Two senders running
  at once never claim the same row, and a sender killed at any point (kill -9, power loss)
  strands at most the one row it was delivering, left ``sending``.
* **At most once.** A ``sending`` row is never claimed again automatically, nor is an
  ``unknown`` one (a request the gateway may have received but did not answer): a person
  checks with the provider and runs ``taian notify release`` (back to ``queued``) or
  ``release --mark-sent``. ``taian notify status --list sending,unknown`` shows them.
* **Retries.** A delivery that certainly did not happen (connection refused, DNS failure,
  an HTTP error or redirect answer) is ``failed`` and retried on a later run after an
  exponential backoff (1, 2, 4, 8 ... minutes), up to ``MAX_ATTEMPTS`` attempts; after the
  last one its ``next_attempt_at`` is cleared (given up).

A gateway is a callable taking ``{"to", "text", "id"}``: returning is a delivery, raising
``DeliveryUnknown`` means "may have been delivered", any other exception is a failure.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Iterable

from taian_tui.domain import rules, timeutil
from taian_tui.domain.actors import actor
from taian_tui.domain.refusals import InvalidTransition, NotFound, ValidationError
from taian_tui.store import Store

MAX_ATTEMPTS = 6
#: Every status an outbox row can have, in the order ``status_counts`` reports them.
STATUSES = ("queued", "sending", "sent", "failed", "unknown")
#: The rows a person must look at: stranded by a killed sender, or of unknown outcome.
STUCK = ("sending", "unknown")
REDACTED = "***"
log = logging.getLogger("taian.sms")


class DeliveryError(Exception):
    """The message was certainly not delivered: retried later."""


class DeliveryUnknown(DeliveryError):
    """The gateway may have received the message (the request was sent, no answer came
    back): never retried automatically."""


Gateway = Callable[[dict], None]


def log_gateway(path: str | None = None) -> Gateway:
    """Writes each SMS as a JSON line to ``path`` (default ``TAIAN_SMS_LOG`` or ./sms.log).
    The file is created private (mode 0600: it holds phone numbers); an existing file keeps
    its mode."""
    target = path or os.environ.get("TAIAN_SMS_LOG") or "sms.log"

    def deliver(message: dict) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(message, ensure_ascii=False) + "\n")
    return deliver


# -- the webhook ----------------------------------------------------------------------------
class _Tracked:
    """A connection that remembers whether the whole request (headers and body) was handed
    to the socket."""

    request_written = False

    def request(self, *args, **kwargs):
        super().request(*args, **kwargs)  # type: ignore[misc]
        self.request_written = True


class _TrackedHTTP(_Tracked, http.client.HTTPConnection):
    pass


_TRACKED: dict[type, type] = {http.client.HTTPConnection: _TrackedHTTP}
if hasattr(http.client, "HTTPSConnection"):
    class _TrackedHTTPS(_Tracked, http.client.HTTPSConnection):
        pass
    _TRACKED[http.client.HTTPSConnection] = _TrackedHTTPS


class _TrackingMixin:
    """An urllib handler whose connections are ``_Tracked`` and kept in ``self.connections``."""

    def __init__(self, connections: list, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.connections = connections

    def do_open(self, http_class, req, **kwargs):
        tracked = _TRACKED.get(http_class, http_class)

        def connect(*a, **kw):
            conn = tracked(*a, **kw)
            self.connections.append(conn)
            return conn
        return super().do_open(connect, req, **kwargs)  # type: ignore[misc]


class _HTTPHandler(_TrackingMixin, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_TrackingMixin, urllib.request.HTTPSHandler):
    pass


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is never followed: ``redirect_request`` returning ``None`` makes urllib
    raise the answer as an ``HTTPError`` (its code is the 3xx)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _read_some(exc: urllib.error.HTTPError, limit: int = 300) -> str:
    try:
        body = exc.read(limit) or b""
    except Exception:
        body = b""
    finally:
        exc.close()
    return " ".join(body.decode("utf-8", errors="replace").split())[:200]


def _has_host_and_port(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return bool(parts.hostname)


def webhook_gateway(url: str, timeout: float = 10.0, token: str | None = None) -> Gateway:
    """POSTs ``{"to", "text", "id"}`` as JSON (with ``Authorization: Bearer TOKEN`` when a
    token is given); a 2xx answer is a delivery.

    What counts as what:

    * a **2xx** answer: sent;
    * a **3xx** answer: failed (``HTTP 302 redirect refused``), never followed (the opener's
      redirect handler refuses), retried later;
    * any other answer (4xx, 5xx): failed (``HTTP 500`` and the first 200 characters of the
      answer's body, if any), retried later;
    * **no answer**, told apart by whether the request had been written: each connection
      urllib opens is a ``_Tracked`` one, which sets ``request_written`` once
      ``HTTPConnection.request`` returned, i.e. the request line, headers and body (sent in
      one ``sendall``) were all handed to the socket.

      - not written: connection refused, DNS failure, connect timeout, TLS handshake failure,
        or an error while writing (the gateway cannot have a complete request): failed
        (``connection failed: <reason>``), retried later. (urllib raises these as
        ``URLError``.)
      - written: a read timeout, the connection closed or reset before a status line
        (``http.client.RemoteDisconnected``), or a garbled answer (``HTTPException``): the
        gateway may have acted on it, so ``DeliveryUnknown`` (``no answer after the request
        was sent (<reason>): outcome unknown``), never retried automatically. (urllib raises
        these from ``getresponse`` unwrapped.)

    The token never appears in an error text: it is replaced by ``***`` wherever it shows
    (an answer's body might echo the request's headers)."""
    if not url or not url.startswith(("http://", "https://")) or not _has_host_and_port(url):
        raise ValidationError.of("webhook_url", schemes=("http://", "https://"), url=url)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def redact(text: str) -> str:
        return text.replace(token, REDACTED) if token else text

    def deliver(message: dict) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="POST", headers=headers)
        connections: list = []
        opener = urllib.request.build_opener(_RefuseRedirects, _HTTPHandler(connections),
                                             _HTTPSHandler(connections))
        try:
            with opener.open(req, timeout=timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                exc.close()
                raise DeliveryError(f"HTTP {exc.code} redirect refused") from None
            detail = _read_some(exc)
            raise DeliveryError(redact(f"HTTP {exc.code}" + (f": {detail}" if detail else ""))) from None
        except Exception as exc:  # noqa: BLE001 - sorted below: not sent, or outcome unknown
            inner = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            reason = redact(str(inner) or type(inner).__name__)
            if any(c.request_written for c in connections):
                raise DeliveryUnknown(f"no answer after the request was sent ({reason}): "
                                      "outcome unknown") from None
            raise DeliveryError(f"connection failed: {reason}") from None
        if not 200 <= status < 300:  # urllib raises for anything else; kept for safety
            raise DeliveryError(f"HTTP {status}")
    return deliver


# -- sending --------------------------------------------------------------------------------
@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    unknown: int = 0
    expired: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.unknown


def backoff_minutes(attempts: int) -> int:
    return 2 ** max(attempts - 1, 0)


#: How long an SMS may wait to be delivered (days after it was queued): after that it says
#: what is no longer so. A blue card's "今天到期" is only true on the day it was queued.
MAX_AGE_DAYS = 7
SAME_DAY_REASONS = ("card.blue",)


def expire_stale(store: Store, at: str) -> tuple[int, int]:
    """Give up, before any delivery, the rows still to be tried (queued, or failed and to
    be retried) that would say what is no longer so at ``at``: a blue card's reminder queued
    on an earlier day ("due today"), any other queued more than ``MAX_AGE_DAYS`` ago (a
    notify cron that was broken for days, a demo's history); and those whose very text their
    phone already got today. They become ``failed``, never retried, the reason in
    ``last_error``; an audit row lists each kind. How many of each (expired, duplicates)."""
    today = timeutil.start_of_day(timeutil.local_date(at))
    oldest = timeutil.iso(timeutil.parse(at).subtract(days=MAX_AGE_DAYS))
    marks = ",".join("?" * len(SAME_DAY_REASONS))
    with store.transaction():
        rows = store.all(
            "UPDATE outbox SET status = 'failed', next_attempt_at = NULL, last_error = "
            "'expired: queued ' || substr(created_at, 1, 16) || ', not delivered in time (now ' || ? || ')' "
            "WHERE status IN ('queued','failed') AND next_attempt_at IS NOT NULL "
            f"AND ((reason IN ({marks}) AND created_at < ?) OR created_at < ?) RETURNING id",
            (at[:16], *SAME_DAY_REASONS, today, oldest))
        # the very text that phone already got today (a card raised again after a restore had
        # taken the file back to before it, the same words queued twice): not sent again
        dups = store.all(
            "UPDATE outbox SET status = 'failed', next_attempt_at = NULL, last_error = "
            "'duplicate: the same text went to this phone at ' || (SELECT substr(s.sent_at, 1, 16) "
            "FROM outbox s WHERE s.phone = outbox.phone AND s.status = 'sent' AND s.sent_at >= ? "
            "AND s.text = outbox.text ORDER BY s.sent_at LIMIT 1) "
            "WHERE status IN ('queued','failed') AND next_attempt_at IS NOT NULL AND EXISTS ("
            "SELECT 1 FROM outbox s WHERE s.phone = outbox.phone AND s.status = 'sent' AND s.sent_at >= ? "
            "AND s.text = outbox.text) RETURNING id", (today, today))
        for what, found in (("sms.expired", rows), ("sms.duplicate", dups)):
            if found:
                ids = sorted(r[0] for r in found)
                store.audit("system:notify", what, "outbox", str(ids[0]), None,
                            {"count": len(ids), "ids": ids[:1000], "at": at}, at=at)
    return len(rows), len(dups)


def claim_next(store: Store, due_by: str) -> dict | None:
    """Claim the oldest row due by ``due_by`` (``queued`` or ``failed`` with its backoff
    passed): ``sending``, attempt counted, in one transaction of its own. ``None``: nothing due."""
    with store.transaction():
        rows = store.all(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ("
            "SELECT id FROM outbox WHERE status IN ('queued','failed') AND next_attempt_at IS NOT NULL "
            "AND next_attempt_at <= ? ORDER BY id LIMIT 1) RETURNING id, recipient, phone, text, attempts",
            (due_by,))
    return dict(rows[0]) if rows else None


def send_due(store: Store, gateway: Gateway, *, at: str | None = None, limit: int = 500) -> SendResult:
    """Deliver the rows due by ``at`` (default: now), at most ``limit`` of them, one at a time
    (see the module's docstring). With ``at`` every time recorded is ``at``; without it, each
    outcome is recorded at the time it happened (rows are due by the run's start, so a row
    that fails in this run is not tried again in it)."""
    due_by = timeutil.iso(at)
    result = SendResult()
    result.expired, result.duplicates = expire_stale(store, due_by)
    while result.attempted < limit:
        msg = claim_next(store, due_by)
        if msg is None:
            break
        try:
            gateway({"to": msg["phone"], "text": msg["text"], "id": msg["id"]})
        except DeliveryUnknown as exc:
            now = timeutil.iso(at)
            error = (str(exc) or type(exc).__name__)[:500]
            with store.transaction():
                store.conn.execute("UPDATE outbox SET status = 'unknown', last_error = ?, "
                                   "next_attempt_at = NULL WHERE id = ?", (error, msg["id"]))
                store.audit("system:notify", "sms.unknown", "outbox", msg["id"], None,
                            {"attempt": msg["attempts"], "error": error}, at=now)
            result.unknown += 1
            result.errors.append(f"#{msg['id']} to {msg['phone']}: {error}; not retried "
                                 "(check with the provider, then `taian notify release`)")
        except Exception as exc:  # a gateway's failure is recorded, never fatal
            now = timeutil.iso(at)
            error = (str(exc) or type(exc).__name__)[:500]
            if msg["attempts"] >= MAX_ATTEMPTS:
                next_at, result.gave_up = None, result.gave_up + 1
            else:
                next_at = timeutil.iso(timeutil.parse(now).add(minutes=backoff_minutes(msg["attempts"])))
            with store.transaction():
                store.conn.execute("UPDATE outbox SET status = 'failed', last_error = ?, next_attempt_at = ? "
                                   "WHERE id = ?", (error, next_at, msg["id"]))
                store.audit("system:notify", "sms.failed", "outbox", msg["id"], None,
                            {"attempt": msg["attempts"], "error": error, "next_attempt_at": next_at},
                            at=now)
            result.failed += 1
            result.errors.append(f"#{msg['id']} to {msg['phone']}: {error}")
        else:
            now = timeutil.iso(at)
            with store.transaction():
                store.conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, last_error = '' "
                                   "WHERE id = ?", (now, msg["id"]))
                store.audit("system:notify", "sms.sent", "outbox", msg["id"], None,
                            {"attempt": msg["attempts"], "to": msg["phone"]}, at=now)
            result.sent += 1
    return result


# -- looking at the outbox ----------------------------------------------------------------------
def status_counts(store: Store) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for r in store.all("SELECT status, COUNT(*) FROM outbox GROUP BY status"):
        counts[r[0]] = r[1]
    return counts


ROW_FIELDS = ("id", "recipient", "phone", "status", "attempts", "created_at", "next_attempt_at",
              "last_error", "text")


def rows_in(store: Store, statuses: Iterable[str]) -> list[dict]:
    """The outbox rows in ``statuses``, oldest first."""
    wanted = list(dict.fromkeys(statuses))
    if not wanted:
        return []
    marks = ", ".join("?" * len(wanted))
    return [dict(r) for r in store.all(
        f"SELECT {', '.join(ROW_FIELDS)} FROM outbox WHERE status IN ({marks}) ORDER BY id", wanted)]


# -- a person's decision about a stuck row ----------------------------------------------------------
def release(store: Store, who: str, ids: Iterable[int], *, mark_sent: bool = False,
            at: str | None = None) -> list[dict]:
    """An admin puts stuck rows (``sending`` or ``unknown``) back to ``queued`` (due at once),
    or with ``mark_sent`` records them as sent (someone checked with the provider). Every row
    is checked before anything is written: one that does not exist or is in another status
    refuses the whole call. Each row is then changed in its own transaction with one audit
    row (``sms.release`` / ``sms.mark_sent``). Returns ``{"id", "before", "after"}`` per row."""
    at = timeutil.iso(at)
    act = actor(store, who)
    rules.require_role("release_sms", act)
    ids = list(dict.fromkeys(int(i) for i in ids))

    def check(row, sms_id: int) -> None:
        if row is None:
            raise NotFound.of("no_sms", id=sms_id)
        if row["status"] not in STUCK and mark_sent:
            raise InvalidTransition.of("sms_not_stuck_mark", id=sms_id, status=row["status"])
        if row["status"] not in STUCK:
            raise InvalidTransition.of("sms_not_stuck_release", id=sms_id, status=row["status"])

    for sms_id in ids:
        check(store.one("SELECT status FROM outbox WHERE id = ?", (sms_id,)), sms_id)
    done = []
    for sms_id in ids:
        with store.transaction():
            row = store.one("SELECT status, attempts, last_error, next_attempt_at, sent_at "
                            "FROM outbox WHERE id = ?", (sms_id,))
            check(row, sms_id)  # changed by someone else since the check above
            before = dict(row)
            if mark_sent:
                after = {"status": "sent", "attempts": row["attempts"], "last_error": "",
                         "next_attempt_at": None, "sent_at": at}
            else:
                after = {"status": "queued", "attempts": row["attempts"], "last_error": row["last_error"],
                         "next_attempt_at": at, "sent_at": None}
            store.conn.execute("UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = ?, "
                               "sent_at = ? WHERE id = ?",
                               (after["status"], after["last_error"], after["next_attempt_at"],
                                after["sent_at"], sms_id))
            store.audit(act.username, "sms.mark_sent" if mark_sent else "sms.release", "outbox",
                        sms_id, before, after, at=at)
        done.append({"id": sms_id, "before": before, "after": after})
    return done
