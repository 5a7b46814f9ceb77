"""The SMS outbox and its delivery (DOMAIN.md, "Notifications").

``send_due`` claims due rows in one ``BEGIN IMMEDIATE`` transaction (status ``sending``,
attempt counted) before delivering them, so two senders running at once never claim the
same row and no row is delivered twice. A failure is retried on a later run after an
exponential backoff (1, 2, 4, 8 ... minutes), up to ``MAX_ATTEMPTS``. A row left in
``sending`` by a sender that was killed mid-delivery is *not* sent again automatically
(at most once); ``taian notify status`` lists such rows for a person to check.
"""
from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable


from taian_tui.domain import timeutil
from taian_tui.store import Store
from taian_tui.domain.refusals import ValidationError

MAX_ATTEMPTS = 6
log = logging.getLogger("taian.sms")


class DeliveryError(Exception):
    pass


Gateway = Callable[[dict], None]


def log_gateway(path: str | None = None) -> Gateway:
    """Writes each SMS as a JSON line to ``path`` (default ``TAIAN_SMS_LOG`` or ./sms.log)."""
    target = path or os.environ.get("TAIAN_SMS_LOG") or "sms.log"

    def deliver(message: dict) -> None:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(message, ensure_ascii=False) + "\n")
    return deliver


def webhook_gateway(url: str, timeout: float = 10.0) -> Gateway:
    """POSTs ``{"to", "text", "id"}`` as JSON; any 2xx is a delivery."""
    if not url or not url.startswith(("http://", "https://")):
        raise ValidationError.of("webhook_url", schemes=("http://", "https://"), url=url)

    def deliver(message: dict) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                if not 200 <= resp.status < 300:
                    raise DeliveryError(f"HTTP {resp.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(str(getattr(exc, "reason", exc))) from None
    return deliver


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


def backoff_minutes(attempts: int) -> int:
    return 2 ** max(attempts - 1, 0)


def claim(store: Store, at: str, limit: int = 500) -> list[dict]:
    with store.transaction():
        rows = store.all(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id IN ("
            "SELECT id FROM outbox WHERE status IN ('queued','failed') AND next_attempt_at IS NOT NULL "
            "AND next_attempt_at <= ? ORDER BY id LIMIT ?) RETURNING id, recipient, phone, text, attempts",
            (at, limit))
    return [dict(r) for r in rows]


def send_due(store: Store, gateway: Gateway, *, at: str | None = None, limit: int = 500) -> SendResult:
    at = timeutil.iso(at)
    result = SendResult()
    for msg in claim(store, at, limit):
        try:
            gateway({"to": msg["phone"], "text": msg["text"], "id": msg["id"]})
        except Exception as exc:  # a gateway's failure is recorded, never fatal
            error = str(exc) or type(exc).__name__
            if msg["attempts"] >= MAX_ATTEMPTS:
                next_at, result.gave_up = None, result.gave_up + 1
            else:
                next_at = timeutil.iso(timeutil.parse(at).add(minutes=backoff_minutes(msg["attempts"])))
            with store.transaction():
                store.conn.execute("UPDATE outbox SET status = 'failed', last_error = ?, next_attempt_at = ? "
                                   "WHERE id = ?", (error[:500], next_at, msg["id"]))
                store.audit("system:notify", "sms.failed", "outbox", msg["id"], None,
                            {"attempt": msg["attempts"], "error": error[:500], "next_attempt_at": next_at},
                            at=at)
            result.failed += 1
            result.errors.append(f"#{msg['id']} to {msg['phone']}: {error}")
        else:
            with store.transaction():
                store.conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, last_error = '' "
                                   "WHERE id = ?", (at, msg["id"]))
                store.audit("system:notify", "sms.sent", "outbox", msg["id"], None,
                            {"attempt": msg["attempts"], "to": msg["phone"]}, at=at)
            result.sent += 1
    return result


def status_counts(store: Store) -> dict[str, int]:
    counts = {s: 0 for s in ("queued", "sending", "sent", "failed")}
    for r in store.all("SELECT status, COUNT(*) FROM outbox GROUP BY status"):
        counts[r[0]] = r[1]
    return counts
