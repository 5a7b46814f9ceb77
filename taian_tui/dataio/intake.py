"""``taian intake``: the JSON-lines events the enterprise app sends (DOMAIN.md, Intake).

One JSON object a line. Each event runs the matching domain operation as
``system:intake`` (or the ``--as`` user) with ``at=`` the event's ``at``:

=====================  ====================================================================
``appeal.submitted``   :func:`operations.submit_appeal` (stored, then routed by rule)
``appeal.evaluated``   :func:`operations.evaluate_appeal` (不满意 -> the supervisor's review queue)
``project.applied``    :func:`operations.apply_project` (a project-library application)
``project.progress``   :func:`operations.report_progress`
=====================  ====================================================================

Every line lands or is rejected, and the run goes on
-------------------------------------------------------
Each line is checked whole before anything is written, then the operation and the
``intake_events`` row are written in ONE transaction of their own, so an event either
lands and is remembered, or leaves no trace at all; lines are applied in file order. A
line that cannot be applied is reported as ``line N: reason`` (``LineError``) and the
next line is read. Nothing a line holds can end the run: any unexpected exception while
applying it becomes that line's rejection ("could not be applied: <what happened>").
Only a database that cannot be used any more (``sqlite3.OperationalError`` such as
"database is locked" after the busy timeout or "disk I/O error", a corrupt file) stops
the run: it is raised again as an ``OperationalError`` naming the line and how many lines
landed before it; those are recorded, so running the same file again carries on.

What a line is checked for, before the domain operation's own checks:

* **size and shape**: at most ``MAX_LINE_BYTES`` (1 MiB) of UTF-8 (a longer line is
  skipped in chunks, never read whole); JSON nested at most ``MAX_DEPTH`` (16) levels
  (counted before ``json.loads``, so no ``RecursionError``); no repeated key in an object;
  integers of at most ``MAX_INT_DIGITS`` (30) digits;
* **text**: valid UTF-8; no lone surrogate (a ``"\\ud800"`` JSON escape) in any key or
  value; every field no longer than the domain operation allows (``FIELD_LIMITS``,
  counted after the same cleaning the operation does): ``ref``/``appeal_ref``/
  ``project_ref`` 64, ``title`` and project ``name`` 200, ``body`` 20,000; the
  operations set no limit for the evaluation ``comment`` and the progress ``note``: 4,000
  here (like a review note); codes (``enterprise_uscc``, ``county``, ``category``,
  ``rating``, ``stage``) 64;
* **numbers**: finite (``NaN``, ``Infinity`` and ``1e999`` are refused, also as strings)
  and within ``NUMBER_RANGES``: ``percent`` 0..100, ``investment_wan`` and
  ``invested_wan`` 0..1e8 万元 (1e8 万元 = 1 万亿元, far above any single project);
* **times**: ``at`` an ISO 8601 time from ``EARLIEST`` (2000-01-01T00:00:00+08:00) to
  at most ``FUTURE_SKEW`` (10 minutes) after the server's clock (``timeutil.now()``); a
  progress ``date`` from 2000-01-01 to the server's date (of now + the skew);
  ``planned_start``/``planned_finish`` dates from 2000-01-01 to ``LATEST_PLAN``
  (2100-12-31), passed on as ``YYYY-MM-DD``;
* **event_id**: text (or an integer), at most ``MAX_EVENT_ID`` (200) characters, all
  printable (no control, format or separator characters but the ASCII space);
  surrounding spaces are trimmed;
* **type**: one of ``EVENT_TYPES``; missing fields are named (``missing field appeal.title``).

Repeats and conflicts
---------------------
An event is remembered with the SHA-256 of its canonical JSON (keys sorted, no spaces,
integral floats as integers: ``event_hash``). A line whose ``event_id`` was applied
before with the same hash is a **repeat**: a no-op, counted apart. The same ``event_id``
with different content is a **conflict**: reported with its line number, counted apart
(``conflicts``), nothing written. An event stored before hashes were kept (no
``intake_events.content_hash`` column, or an empty one) is compared by type and time only.

The result (``IntakeResult``) counts ``applied``, ``repeats``, ``conflicts`` and
``rejected`` (they add up to ``lines``); the exit code is 1 when any line was rejected or
conflicted, 0 otherwise. No textual here.
"""
from __future__ import annotations

import codecs
import datetime as _dt
import hashlib
import json
import math
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator

from taian_tui.domain import actors, operations, timeutil
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.domain.text import clean, clean_line, normalise_code

INTAKE_ACTOR = actors.INTAKE
EVENT_TYPES = ("appeal.submitted", "appeal.evaluated", "project.applied", "project.progress")

#: A line longer than this (bytes, without its line ending) is rejected unread.
MAX_LINE_BYTES = 1024 * 1024
#: Deepest nesting of JSON objects/arrays in a line (an event needs 2).
MAX_DEPTH = 16
#: Longest integer literal accepted (digits).
MAX_INT_DIGITS = 30
#: Longest event_id (characters).
MAX_EVENT_ID = 200
#: How far ahead of the server's clock an event's ``at`` may be.
FUTURE_SKEW = _dt.timedelta(minutes=10)
#: The earliest ``at`` and date accepted.
EARLIEST = "2000-01-01T00:00:00+08:00"
EARLIEST_DATE = _dt.date(2000, 1, 1)
#: The latest planned start/finish date accepted.
LATEST_PLAN = _dt.date(2100, 12, 31)
#: Longest text of each field (characters, after cleaning): the domain operations' limits
#: where they have one (``operations._text``), else 4000 for free text and 64 for codes.
FIELD_LIMITS = {
    "ref": 64, "appeal_ref": 64, "project_ref": 64,
    "title": 200, "name": 200, "body": 20000,
    "comment": 4000, "note": 4000,
    "enterprise_uscc": 64, "county": 64, "category": 64, "rating": 64, "stage": 64,
    "at": 64, "date": 64, "planned_start": 64, "planned_finish": 64, "type": 64,
}
#: Accepted range of each number (inclusive).
NUMBER_RANGES = {
    "percent": (0.0, 100.0),
    "investment_wan": (0.0, 1e8),
    "invested_wan": (0.0, 1e8),
}

_CHUNK = 64 * 1024
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


class BadEvent(Exception):
    """A line that cannot be applied; the message is the reason."""


class Conflict(BadEvent):
    """An ``event_id`` already applied with different content."""


@dataclass
class LineError:
    line: int
    event_id: str | None
    reason: str
    kind: str = "rejected"          # or "conflict"


@dataclass
class IntakeResult:
    source: str
    lines: int = 0
    applied: int = 0
    repeats: int = 0
    conflicts: int = 0
    rejected: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected or self.conflicts else 0

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in self.by_type.items())
        return (f"intake {self.source}: {self.lines} events read; applied {self.applied}"
                + (f" ({kinds})" if kinds else "")
                + f", repeats skipped {self.repeats}, conflicts {self.conflicts}, rejected {self.rejected}")

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "lines": self.lines, "applied": self.applied,
                "repeats": self.repeats, "conflicts": self.conflicts, "rejected": self.rejected,
                "by_type": dict(self.by_type),
                "errors": [{"line": e.line, "event_id": e.event_id, "kind": e.kind, "reason": e.reason}
                           for e in self.errors],
                "exit_code": self.exit_code}


# -- showing what a line holds ------------------------------------------------------------------
def _safe(text: str) -> str:
    """``text`` with any lone surrogate as a ``\\udxxx`` escape (it cannot be printed or stored)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _echo(value: Any, limit: int = 60) -> str:
    """A received value, quoted and shortened, for a reason."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(_safe(text)) if isinstance(value, str) else _safe(text)


def _shown_id(ev: Any) -> str | None:
    """The event_id to show beside a rejection (shortened when absurdly long)."""
    if not isinstance(ev, dict):
        return None
    value = ev.get("event_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = _safe(str(value).strip())
    if len(text) > MAX_EVENT_ID:
        text = text[:40] + "…"
    return text or None


# -- decoding one line --------------------------------------------------------------------------
class BadNumber:
    """What ``NaN``, ``Infinity``, ``-Infinity``, an overflowing number (``1e999``) or an
    integer of more than ``MAX_INT_DIGITS`` digits decode to: never a number, so it cannot
    reach a computation or the store; the check of the decoded event (``check_values``)
    rejects it, naming its field."""

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def problem(self) -> str:
        if self.literal.lstrip("-").isdigit():
            return (f"must be a number of at most {MAX_INT_DIGITS} digits, not one of "
                    f"{len(self.literal.lstrip('-'))} digits")
        return (f"must be a finite number, not {self.literal[:30]} "
                "(NaN, Infinity and overflowing numbers are refused)")

    def __repr__(self) -> str:
        return self.literal[:30]


def _finite_float(literal: str) -> float | BadNumber:
    value = float(literal)
    return value if math.isfinite(value) else BadNumber(literal)


def _bounded_int(literal: str) -> int | BadNumber:
    return BadNumber(literal) if len(literal.lstrip("-")) > MAX_INT_DIGITS else int(literal)


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise BadEvent(f"key {_echo(key)} appears twice in one object")
        obj[key] = value
    return obj


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of the JSON ``text`` (strings skipped), counted without recursion;
    stops counting once past ``limit``."""
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for ch in skeleton:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def check_values(value: Any, where: str = "") -> None:
    """No lone surrogate in any key or string of the (depth-bounded) decoded value, and no
    number that is not finite."""
    if isinstance(value, BadNumber):
        raise BadEvent(f"field {where or 'value'} {value.problem()}")
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        if m:
            raise BadEvent(f"field {where or 'value'} holds a lone surrogate (\\u{ord(m.group()):04x}): "
                           "not valid Unicode text")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                raise BadEvent(f"a key holds a lone surrogate ({_echo(key)}): not valid Unicode text")
            short = key if len(key) <= 40 else key[:40] + "…"
            check_values(item, f"{where}.{short}" if where else short)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_values(item, f"{where}[{i}]")


def decode_line(text: str) -> Any:
    """The JSON value of one line, or BadEvent: too deep, bad JSON, a repeated key. NaN,
    Infinity, overflowing numbers and overlong integers decode to ``BadNumber``, lone
    surrogates stay: ``check_values`` (in ``check_event``) rejects both, naming the field."""
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise BadEvent(f"JSON nested too deep (more than {MAX_DEPTH} levels)")
    try:
        value = json.loads(text, parse_constant=BadNumber, parse_float=_finite_float,
                           parse_int=_bounded_int, object_pairs_hook=_no_repeated_keys)
    except json.JSONDecodeError as exc:
        raise BadEvent(f"bad JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise BadEvent(f"JSON nested too deep (more than {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise BadEvent(f"bad JSON: {_safe(str(exc))[:200]}") from None
    return value


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def event_hash(ev: dict) -> str:
    """SHA-256 of the event's canonical JSON: keys sorted, no spaces, UTF-8, integral
    floats written as integers (``12000.0`` and ``12000`` are the same content)."""
    text = json.dumps(_canonical(ev), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- field access -----------------------------------------------------------------------------
def _need(obj: dict, key: str, where: str = "") -> Any:
    if not isinstance(obj, dict) or key not in obj or obj[key] is None or obj[key] == "":
        raise BadEvent(f"missing field {where}{key}")
    return obj[key]


def _text(obj: dict, key: str, where: str = "", *, required: bool = True, multiline: bool = False) -> str:
    """A text field, no longer (once cleaned as the operation cleans it) than FIELD_LIMITS."""
    value = _need(obj, key, where) if required else obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadEvent(f"field {where}{key} must be text, not {type(value).__name__}")
    text = str(value)
    limit = FIELD_LIMITS.get(key, 4000)
    length = len(clean(text) if multiline else clean_line(text))
    if length > limit:
        raise BadEvent(f"field {where}{key} is too long: {length} characters (at most {limit})")
    return text


def _number(obj: dict, key: str, where: str = "", *, required: bool = True, default: float = 0.0) -> float:
    """A finite number within NUMBER_RANGES (a JSON number, or a string holding one)."""
    value = _need(obj, key, where) if required else obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadEvent(f"field {where}{key} must be a number, not {_echo(value)}")
    if isinstance(value, str):
        if not _NUMBER_TEXT.fullmatch(value.strip()):
            raise BadEvent(f"field {where}{key} must be a number, not {_echo(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise BadEvent(f"field {where}{key} must be a number, not {_echo(value)}") from None
    if not math.isfinite(number):
        raise BadEvent(f"field {where}{key} must be a finite number, not {_echo(value)}")
    low, high = NUMBER_RANGES.get(key, (-1e15, 1e15))
    if not low <= number <= high:
        raise BadEvent(f"field {where}{key} is out of range: {_num(number)} (from {_num(low)} to {_num(high)})")
    return number


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:g}"


def _object(obj: dict, key: str) -> dict:
    value = _need(obj, key)
    if not isinstance(value, dict):
        raise BadEvent(f"field {key} must be an object")
    return value


def _date(obj: dict, key: str, where: str, latest: _dt.date, latest_label: str) -> str | None:
    """An optional ``YYYY-MM-DD`` date within EARLIEST_DATE..latest, normalised."""
    raw = _text(obj, key, where, required=False)
    if not raw:
        return None
    try:
        day = _dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise BadEvent(f"field {where}{key} must be a date (YYYY-MM-DD), not {_echo(raw)}") from None
    if day < EARLIEST_DATE:
        raise BadEvent(f"field {where}{key} {day.isoformat()} is before {EARLIEST_DATE.isoformat()}")
    if day > latest:
        raise BadEvent(f"field {where}{key} {day.isoformat()} is after {latest_label} ({latest.isoformat()})")
    return day.isoformat()


@dataclass(frozen=True)
class Clock:
    """The server's clock for one line: ``now``, the latest ``at`` accepted (now +
    FUTURE_SKEW) and the latest progress date (its date)."""
    now: Any
    latest: _dt.datetime
    today: _dt.date

    @classmethod
    def read(cls, now: Any = None) -> "Clock":
        now = timeutil.now() if now is None else timeutil.parse(now)
        latest = _dt.datetime.fromtimestamp(now.timestamp(), _dt.timezone.utc).astimezone(timeutil.TZ) \
            + FUTURE_SKEW
        return cls(now, latest, latest.date())


_EARLIEST_AT = timeutil.parse(EARLIEST)


def _event_time(ev: dict, clock: Clock) -> str:
    raw = _need(ev, "at")
    if not isinstance(raw, str):
        raise BadEvent(f"at must be an ISO 8601 time, not {_echo(raw)}")
    if len(raw) > FIELD_LIMITS["at"]:
        raise BadEvent(f"at must be an ISO 8601 time, not {_echo(raw)}")
    try:
        when = timeutil.parse(raw)
    except OverflowError:                           # e.g. 9999-12-31T23:00:00-08:00 (year 10000 here)
        raise BadEvent(f"at {_echo(raw)} is out of range (from {EARLIEST} to the server's clock)") from None
    except ValueError:
        raise BadEvent(f"at must be an ISO 8601 time, not {_echo(raw)}") from None
    if when < _EARLIEST_AT:
        raise BadEvent(f"at {_echo(raw)} is before {EARLIEST}")
    if when > clock.latest:
        minutes = int(FUTURE_SKEW.total_seconds() // 60)
        raise BadEvent(f"at {_echo(raw)} is in the future (more than {minutes} minutes after the "
                       f"server's clock, {timeutil.iso(clock.now)})")
    return timeutil.iso(when)


def _event_id(ev: dict) -> str:
    value = _need(ev, "event_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadEvent("event_id must be text")
    event_id = str(value).strip()
    if not event_id:
        raise BadEvent("missing field event_id")
    if len(event_id) > MAX_EVENT_ID:
        raise BadEvent(f"event_id is too long: {len(event_id)} characters (at most {MAX_EVENT_ID})")
    if not event_id.isprintable():
        bad = next(ch for ch in event_id if not ch.isprintable())
        raise BadEvent(f"event_id holds a character that is not printable (U+{ord(bad):04X})")
    return event_id


# -- the four events: checked first, then one call --------------------------------------------------
Call = Callable[[Store, str, str], None]


def _appeal_submitted(ev: dict, clock: Clock) -> Call:
    a = _object(ev, "appeal")
    project_ref = _text(a, "project_ref", "appeal.", required=False) or None
    kwargs = dict(
        ref=_text(a, "ref", "appeal."),
        enterprise_uscc=normalise_code(_text(a, "enterprise_uscc", "appeal.")),
        category=_text(a, "category", "appeal."), county=_text(a, "county", "appeal."),
        title=_text(a, "title", "appeal."), body=_text(a, "body", "appeal.", required=False, multiline=True),
        project_ref=clean_line(project_ref) if project_ref else None)
    return lambda store, who, at: operations.submit_appeal(store, who, at=at, **kwargs)


def _appeal_evaluated(ev: dict, clock: Clock) -> Call:
    ref = clean_line(_text(ev, "appeal_ref"))
    rating = _text(ev, "rating")
    comment = _text(ev, "comment", required=False, multiline=True)
    return lambda store, who, at: operations.evaluate_appeal(store, who, ref, rating, comment, at=at)


def _project_applied(ev: dict, clock: Clock) -> Call:
    p = _object(ev, "project")
    kwargs: dict[str, Any] = {}
    for key in ("planned_start", "planned_finish"):
        day = _date(p, key, "project.", LATEST_PLAN, "the latest planned date")
        if day:
            kwargs[key] = day
    if p.get("stage"):
        kwargs["stage"] = _text(p, "stage", "project.")
    kwargs.update(
        ref=_text(p, "ref", "project."),
        enterprise_uscc=normalise_code(_text(p, "enterprise_uscc", "project.")),
        name=_text(p, "name", "project."), county=_text(p, "county", "project."),
        category=_text(p, "category", "project.", required=False) or "其他",
        investment_wan=_number(p, "investment_wan", "project."))
    return lambda store, who, at: operations.apply_project(store, who, at=at, **kwargs)


def _project_progress(ev: dict, clock: Clock) -> Call:
    ref = clean_line(_text(ev, "project_ref"))
    percent = _number(ev, "percent")
    invested = _number(ev, "invested_wan", required=False)
    note = _text(ev, "note", required=False, multiline=True)
    day = _date(ev, "date", "", clock.today, "the server's date")
    stage = _text(ev, "stage", required=False) or None
    return lambda store, who, at: operations.report_progress(store, who, ref, percent, invested, note,
                                                             date=day, stage=stage, at=at)


HANDLERS: dict[str, Callable[[dict, Clock], Call]] = {
    "appeal.submitted": _appeal_submitted,
    "appeal.evaluated": _appeal_evaluated,
    "project.applied": _project_applied,
    "project.progress": _project_progress,
}


@dataclass
class Event:
    """A checked event, ready to apply."""
    event_id: str
    type: str
    at: str
    content_hash: str
    call: Call


def check_event(ev: Any, now: Any = None) -> Event:
    """Check one decoded event whole (BadEvent naming the first problem), without the store,
    against the server's clock (``now``: default ``timeutil.now()``)."""
    if not isinstance(ev, dict):
        raise BadEvent("an event is a JSON object")
    check_values(ev)
    clock = Clock.read(now)
    _need(ev, "event_id")
    kind = _need(ev, "type")
    if not isinstance(kind, str) or kind not in HANDLERS:
        raise BadEvent(f"unknown event type {_echo(kind)}: one of {', '.join(EVENT_TYPES)}")
    event_id = _event_id(ev)
    at = _event_time(ev, clock)
    call = HANDLERS[kind](ev, clock)
    return Event(event_id, kind, at, event_hash(ev), call)


def has_hash_column(store: Store) -> bool:
    """Whether ``intake_events`` keeps each event's hash (``content_hash``, see the module)."""
    return any(r["name"] == "content_hash" for r in store.all("PRAGMA table_info(intake_events)"))


def apply_event(store: Store, who: str, ev: Any, *, hashes: bool | None = None) -> bool:
    """Apply one decoded event. Returns False when its ``event_id`` was already applied with
    the same content (a no-op), True when it landed; raises Conflict when the event_id was
    applied with different content, BadEvent or DomainError when it cannot be applied."""
    event = check_event(ev)
    if hashes is None:
        hashes = has_hash_column(store)
    with store.transaction():
        row = store.one("SELECT * FROM intake_events WHERE event_id = ?", (event.event_id,))
        if row is not None:
            stored = row["content_hash"] if "content_hash" in row.keys() else ""
            same = (stored == event.content_hash) if stored else \
                (row["type"], row["at"]) == (event.type, event.at)
            if same:
                return False
            raise Conflict(f"conflict: event_id {_echo(event.event_id)} was applied on "
                           f"{row['processed_at']} ({row['type']} at {row['at']}) with different "
                           "content; nothing written")
        event.call(store, who, event.at)
        if hashes:
            store.conn.execute("INSERT INTO intake_events(event_id, type, at, processed_at, content_hash) "
                               "VALUES (?, ?, ?, ?, ?)",
                               (event.event_id, event.type, event.at, timeutil.iso(), event.content_hash))
        else:
            store.conn.execute("INSERT INTO intake_events(event_id, type, at, processed_at) VALUES (?, ?, ?, ?)",
                               (event.event_id, event.type, event.at, timeutil.iso()))
    return True


# -- reading the stream ---------------------------------------------------------------------------
def read_lines(stream: IO[bytes], max_bytes: int = MAX_LINE_BYTES
               ) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, problem) for each line of a binary stream (UTF-8, a BOM is
    skipped); a line that is not UTF-8, or longer than ``max_bytes`` (without its line
    ending), comes back with its problem. A long line is skipped in chunks, never held whole."""
    n = 0
    while True:
        raw = stream.readline(max_bytes + 2)
        if not raw:
            return
        n += 1
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        ended = raw.endswith(b"\n")
        body = raw.rstrip(b"\r\n") if ended else raw
        if not ended and len(raw) >= max_bytes + 2:
            size = len(raw)
            while True:
                chunk = stream.readline(_CHUNK)
                if not chunk:
                    break
                if chunk.endswith(b"\n"):
                    size += len(chunk.rstrip(b"\r\n"))
                    break
                size += len(chunk)
            yield n, None, f"line too long: {size} bytes (at most {max_bytes})"
            continue
        if len(body) > max_bytes:
            yield n, None, f"line too long: {len(body)} bytes (at most {max_bytes})"
            continue
        try:
            yield n, body.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield n, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"


def _store_unusable(exc: sqlite3.Error) -> bool:
    """A database error that no other line could get past (locked after the busy timeout,
    I/O error, a corrupt file), as opposed to one about this line's data (a constraint)."""
    return not isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError,
                                sqlite3.InterfaceError))


def _unexpected(exc: BaseException) -> str:
    text = _safe(str(exc)).replace("\n", " ").strip() or repr(exc)
    if len(text) > 200:
        text = text[:200] + "…"
    return f"could not be applied: {type(exc).__name__}: {text}"


def run_intake(store: Store, stream: IO[bytes], *, who: str = INTAKE_ACTOR, source: str = "-",
               on_error: Callable[[LineError], None] | None = None,
               max_errors_kept: int = 1000) -> IntakeResult:
    """Apply every line of ``stream`` (JSON lines), in order, each in its own transaction.
    Raises ``sqlite3.OperationalError`` (naming the line) only when the database cannot be
    used any more; every other problem is that line's ``LineError``."""
    started = time.monotonic()
    from taian_tui.dataio.reading import check_importer

    check_importer(store, who, "intake")
    hashes = has_hash_column(store)
    result = IntakeResult(source)

    def reject(n: int, event_id: str | None, reason: str, kind: str = "rejected") -> None:
        if kind == "conflict":
            result.conflicts += 1
        else:
            result.rejected += 1
        err = LineError(n, event_id, _safe(reason), kind)
        if len(result.errors) < max_errors_kept:
            result.errors.append(err)
        if on_error:
            on_error(err)

    for n, text, problem in read_lines(stream):
        if text is not None and not text.strip():
            continue
        result.lines += 1
        event_id = None
        ev: Any = None
        try:
            if problem:
                raise BadEvent(problem)
            ev = decode_line(text)
            event_id = _shown_id(ev)
            landed = apply_event(store, who, ev, hashes=hashes)
        except Conflict as exc:
            reject(n, event_id, str(exc), "conflict")
            continue
        except (BadEvent, DomainError) as exc:
            reject(n, event_id, str(exc))
            continue
        except sqlite3.Error as exc:
            if _store_unusable(exc):
                raise sqlite3.OperationalError(
                    f"{_safe(str(exc))} (intake stopped at line {n} of {source}; the {result.applied} "
                    "applied before it are kept: run it again to continue)") from exc
            reject(n, event_id, f"could not be stored: {_safe(str(exc))}")
            continue
        except RecursionError:
            reject(n, event_id, f"JSON nested too deep (more than {MAX_DEPTH} levels)")
            continue
        except Exception as exc:  # noqa: BLE001 - one line never ends the run
            reject(n, event_id, _unexpected(exc))
            continue
        if landed:
            result.applied += 1
            result.by_type[ev["type"]] = result.by_type.get(ev["type"], 0) + 1
        else:
            result.repeats += 1
    result.seconds = round(time.monotonic() - started, 3)
    return result


def run_intake_lines(store: Store, lines: Iterable[str], **kwargs: Any) -> IntakeResult:
    """Convenience for tests and scripts: apply text lines."""
    import io

    data = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode("utf-8")
    return run_intake(store, io.BytesIO(data), **kwargs)
