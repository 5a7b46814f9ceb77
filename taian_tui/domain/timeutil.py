"""Time in Asia/Shanghai, as ISO 8601 strings with +08:00 (pendulum).

Every timestamp the store writes goes through :func:`iso`, so all of them share one
format (``YYYY-MM-DDTHH:mm:ss+08:00``) and compare correctly as text in SQL.
"""
from __future__ import annotations

import datetime as _dt
import os
import re

import pendulum

TZ = pendulum.timezone("Asia/Shanghai")
FORMAT = "YYYY-MM-DDTHH:mm:ssZ"
# the form every stored time has: parsed without pendulum's general parser (a tenth of the cost)
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def now() -> pendulum.DateTime:
    """The current instant in Asia/Shanghai. ``TAIAN_NOW`` (ISO) overrides it for demos and tests."""
    fixed = os.environ.get("TAIAN_NOW")
    if fixed:
        return parse(fixed)
    return pendulum.now(TZ).replace(microsecond=0)


def parse(value: str | _dt.datetime | _dt.date) -> pendulum.DateTime:
    """Parse an ISO 8601 string (a bare date or a naive time is taken as Shanghai time)."""
    if isinstance(value, pendulum.DateTime):
        return value.in_timezone(TZ)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return pendulum.instance(value, tz=TZ)
        return pendulum.instance(value).in_timezone(TZ)
    if isinstance(value, _dt.date):
        return pendulum.datetime(value.year, value.month, value.day, tz=TZ)
    text = str(value).strip()
    if _CANONICAL.fullmatch(text):
        try:
            return pendulum.instance(_dt.datetime.fromisoformat(text)).in_timezone(TZ)
        except ValueError:
            pass                # (2026-02-30 and the like: pendulum's message below)
    try:
        parsed = pendulum.parse(text, tz=TZ)
    except Exception as exc:  # pendulum raises several types
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    if isinstance(parsed, pendulum.DateTime):
        return parsed.in_timezone(TZ)
    if isinstance(parsed, pendulum.Date):
        return pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=TZ)
    raise ValueError(f"not an ISO 8601 time: {text!r}")


def iso(value: str | _dt.datetime | _dt.date | None = None) -> str:
    """Format as ``2026-10-12T23:59:59+08:00``; ``None`` means now."""
    if isinstance(value, str) and _shanghai_canonical(value):
        return value            # already in the form (most calls: a stored or passed-on time)
    dt = now() if value is None else parse(value)
    return _format(dt)


def _shanghai_canonical(text: str) -> bool:
    """``text`` is a valid time in the stored form, at +08:00 (Shanghai has had no other
    offset since 1991, pendulum's parse of such a string would give it back unchanged)."""
    if len(text) != 25 or not text.endswith("+08:00") or text[:4] < "1992" or not _CANONICAL.fullmatch(text):
        return False
    try:
        _dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _format(dt: _dt.datetime) -> str:
    """``FORMAT`` (seconds, the offset as +08:00), by the standard library: pendulum's
    token formatter costs ten times as much, and every stored time goes through here."""
    return _dt.datetime.isoformat(dt, timespec="seconds")


def start_of_day(day: _dt.date) -> str:
    return _format(pendulum.datetime(day.year, day.month, day.day, 0, 0, 0, tz=TZ))


def end_of_day(day: _dt.date) -> str:
    return _format(pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=TZ))


_DAY = re.compile(r"\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*")


def parse_day(text: str) -> _dt.date:
    """A day as a Chinese office types it: ``2026-12-10``, ``2026/12/10``, ``2026.12.10``,
    ``2026年12月10日`` (one-digit months and days too). ``ValueError`` otherwise."""
    m = _DAY.fullmatch(text or "")
    if not m:
        raise ValueError(f"not a day: {text!r}")
    return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def local_date(value: str | _dt.datetime) -> _dt.date:
    if isinstance(value, str) and _shanghai_canonical(value):
        return _dt.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    dt = parse(value)
    return _dt.date(dt.year, dt.month, dt.day)
