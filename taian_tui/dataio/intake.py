"""``taian intake``: the JSON-lines events the enterprise app sends (DOMAIN.md, Intake).

One JSON object a line. Each event runs the matching domain operation as
``system:intake`` (or the ``--as`` user) with ``at=`` the event's ``at``:

=====================  ====================================================================
``appeal.submitted``   :func:`operations.submit_appeal` (stored, then routed by rule)
``appeal.evaluated``   :func:`operations.evaluate_appeal` (不满意 -> the supervisor's review queue)
``project.applied``    :func:`operations.apply_project` (a project-library application)
``project.progress``   :func:`operations.report_progress`
=====================  ====================================================================

The operation and the ``intake_events`` row are written in ONE transaction, so an
event either lands and is remembered, or neither; a repeated ``event_id`` is a no-op.
A bad line (bad JSON, unknown type, missing field, unknown enterprise, appeal or
project, bad category, refused transition) is reported with its line number and
reason, and the other lines still land. No textual here.
"""
from __future__ import annotations

import codecs
import json
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator

from taian_tui.domain import actors, operations, timeutil
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError
from taian_tui.domain.text import clean_line, normalise_code

INTAKE_ACTOR = actors.INTAKE
EVENT_TYPES = ("appeal.submitted", "appeal.evaluated", "project.applied", "project.progress")


class BadEvent(Exception):
    """A line that cannot be applied; the message is the reason."""


@dataclass
class LineError:
    line: int
    event_id: str | None
    reason: str


@dataclass
class IntakeResult:
    source: str
    lines: int = 0
    applied: int = 0
    repeats: int = 0
    rejected: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in self.by_type.items())
        return (f"intake {self.source}: {self.lines} events read; applied {self.applied}"
                + (f" ({kinds})" if kinds else "")
                + f", repeats skipped {self.repeats}, rejected {self.rejected}")

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "lines": self.lines, "applied": self.applied,
                "repeats": self.repeats, "rejected": self.rejected, "by_type": dict(self.by_type),
                "errors": [{"line": e.line, "event_id": e.event_id, "reason": e.reason}
                           for e in self.errors],
                "exit_code": self.exit_code}


# -- field access -----------------------------------------------------------------------------
def _need(obj: dict, key: str, where: str = "") -> Any:
    if not isinstance(obj, dict) or key not in obj or obj[key] is None or obj[key] == "":
        raise BadEvent(f"missing field {where}{key}")
    return obj[key]


def _text(obj: dict, key: str, where: str = "", *, required: bool = True) -> str:
    value = _need(obj, key, where) if required else obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadEvent(f"field {where}{key} must be text, not {type(value).__name__}")
    return str(value)


def _number(obj: dict, key: str, where: str = "", *, required: bool = True, default: float = 0.0) -> float:
    value = _need(obj, key, where) if required else obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadEvent(f"field {where}{key} must be a number, not {value!r}")
    try:
        return float(value)
    except ValueError:
        raise BadEvent(f"field {where}{key} must be a number, not {value!r}") from None


def _object(obj: dict, key: str) -> dict:
    value = _need(obj, key)
    if not isinstance(value, dict):
        raise BadEvent(f"field {key} must be an object")
    return value


# -- the four events ----------------------------------------------------------------------------------
def _appeal_submitted(store: Store, who: str, ev: dict, at: str) -> None:
    a = _object(ev, "appeal")
    project_ref = _text(a, "project_ref", "appeal.", required=False) or None
    operations.submit_appeal(
        store, who, ref=_text(a, "ref", "appeal."),
        enterprise_uscc=normalise_code(_text(a, "enterprise_uscc", "appeal.")),
        category=_text(a, "category", "appeal."), county=_text(a, "county", "appeal."),
        title=_text(a, "title", "appeal."), body=_text(a, "body", "appeal.", required=False),
        project_ref=clean_line(project_ref) if project_ref else None, at=at)


def _appeal_evaluated(store: Store, who: str, ev: dict, at: str) -> None:
    operations.evaluate_appeal(store, who, clean_line(_text(ev, "appeal_ref")), _text(ev, "rating"),
                             _text(ev, "comment", required=False), at=at)


def _project_applied(store: Store, who: str, ev: dict, at: str) -> None:
    p = _object(ev, "project")
    kwargs: dict[str, Any] = {}
    for key in ("planned_start", "planned_finish"):
        if p.get(key):
            kwargs[key] = _text(p, key, "project.")
    if p.get("stage"):
        kwargs["stage"] = _text(p, "stage", "project.")
    operations.apply_project(
        store, who, ref=_text(p, "ref", "project."),
        enterprise_uscc=normalise_code(_text(p, "enterprise_uscc", "project.")),
        name=_text(p, "name", "project."), county=_text(p, "county", "project."),
        category=_text(p, "category", "project.", required=False) or "其他",
        investment_wan=_number(p, "investment_wan", "project."), at=at, **kwargs)


def _project_progress(store: Store, who: str, ev: dict, at: str) -> None:
    operations.report_progress(
        store, who, clean_line(_text(ev, "project_ref")), _number(ev, "percent"),
        _number(ev, "invested_wan", required=False), _text(ev, "note", required=False),
        date=_text(ev, "date", required=False) or None,
        stage=_text(ev, "stage", required=False) or None, at=at)


HANDLERS: dict[str, Callable[[Store, str, dict, str], None]] = {
    "appeal.submitted": _appeal_submitted,
    "appeal.evaluated": _appeal_evaluated,
    "project.applied": _project_applied,
    "project.progress": _project_progress,
}


def apply_event(store: Store, who: str, ev: Any) -> bool:
    """Apply one decoded event. Returns False when its ``event_id`` was already processed
    (a no-op), True when it landed; raises BadEvent or DomainError when it cannot."""
    if not isinstance(ev, dict):
        raise BadEvent("an event is a JSON object")
    event_id = _need(ev, "event_id")
    if not isinstance(event_id, (str, int)) or isinstance(event_id, bool):
        raise BadEvent("event_id must be text")
    event_id = str(event_id).strip()
    if not event_id:
        raise BadEvent("missing field event_id")
    kind = _text(ev, "type")
    handler = HANDLERS.get(kind)
    if handler is None:
        raise BadEvent(f"unknown event type {kind!r}: one of {', '.join(EVENT_TYPES)}")
    raw_at = _text(ev, "at")
    try:
        at = timeutil.iso(raw_at)
    except ValueError:
        raise BadEvent(f"at must be an ISO 8601 time, not {raw_at!r}") from None
    with store.transaction():
        if store.one("SELECT 1 FROM intake_events WHERE event_id = ?", (event_id,)):
            return False
        handler(store, who, ev, at)
        store.conn.execute("INSERT INTO intake_events(event_id, type, at, processed_at) VALUES (?, ?, ?, ?)",
                           (event_id, kind, at, timeutil.iso()))
    return True


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, decoding problem) for each line of a binary stream (UTF-8,
    a BOM is skipped); a line that is not UTF-8 comes back with its problem."""
    first = True
    for n, raw in enumerate(stream, start=1):
        if first:
            first = False
            if raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield n, raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield n, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"


def run_intake(store: Store, stream: IO[bytes], *, who: str = INTAKE_ACTOR, source: str = "-",
               on_error: Callable[[LineError], None] | None = None,
               max_errors_kept: int = 1000) -> IntakeResult:
    """Apply every line of ``stream`` (JSON lines). Each line is its own transaction."""
    started = time.monotonic()
    from taian_tui.dataio.reading import check_importer

    check_importer(store, who, "intake")
    result = IntakeResult(source)
    for n, text, problem in read_lines(stream):
        if text is not None and not text.strip():
            continue
        result.lines += 1
        event_id = None
        try:
            if problem:
                raise BadEvent(problem)
            try:
                ev = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadEvent(f"bad JSON: {exc.msg} (column {exc.colno})") from None
            if isinstance(ev, dict) and isinstance(ev.get("event_id"), (str, int)):
                event_id = str(ev["event_id"])
            landed = apply_event(store, who, ev)
        except (BadEvent, DomainError) as exc:
            result.rejected += 1
            err = LineError(n, event_id, str(exc))
            if len(result.errors) < max_errors_kept:
                result.errors.append(err)
            if on_error:
                on_error(err)
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
