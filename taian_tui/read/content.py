"""The policy editor's reads: the content list (kinds, levels, states), one item, the
每日一听 pick of a day, and a user's autosaved forms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taian_tui.domain import timeutil
from taian_tui.domain.models import CONTENT_KINDS, CONTENT_LEVELS, CONTENT_STATES
from taian_tui.store import Store, like_pattern
from taian_tui.domain.refusals import InvalidTransition, NotFound, ValidationError


# -- content -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContentFilter:
    kind: str | None = None
    level: str | None = None
    state: str | None = None
    text: str | None = None


@dataclass
class ContentRow:
    id: int
    kind: str
    level: str
    title: str
    tags: str
    source_unit: str
    state: str
    created_by: str
    updated_at: str
    published_at: str | None
    listen_today: int
    autosaved: int
    revision_pending: int = 0


def _content_where(f: ContentFilter) -> tuple[str, list[Any]]:
    clauses, params = ["1"], []
    if f.kind:
        if f.kind not in CONTENT_KINDS:
            raise ValidationError.of("content_kind_choice", choices=CONTENT_KINDS, value=f.kind)
        clauses.append("c.kind = ?")
        params.append(f.kind)
    if f.level:
        if f.level not in CONTENT_LEVELS:
            raise ValidationError.of("content_level_choice", choices=CONTENT_LEVELS, value=f.level)
        clauses.append("c.level = ?")
        params.append(f.level)
    if f.state:
        if f.state not in CONTENT_STATES:
            raise ValidationError.of("content_state_choice", choices=CONTENT_STATES, value=f.state)
        clauses.append("c.state = ?")
        params.append(f.state)
    if f.text and f.text.strip():
        needle = like_pattern(f.text.strip())
        clauses.append("(c.title LIKE ? ESCAPE '\\' OR c.tags LIKE ? ESCAPE '\\' "
                       "OR c.source_unit LIKE ? ESCAPE '\\')")
        params += [needle, needle, needle]
    return " AND ".join(clauses), params


def list_content(store: Store, username: str, f: ContentFilter = ContentFilter(), *,
                 day: str | None = None, limit: int = 50, offset: int = 0) -> list[ContentRow]:
    """One page of content items, the most recently changed first; ``listen_today`` marks
    the daily listen of ``day`` (default today), ``autosaved`` an unsaved edit of
    ``username``'s that can be restored."""
    day = day or timeutil.iso()[:10]
    where, params = _content_where(f)
    rows = store.all(
        "SELECT c.id, c.kind, c.level, c.title, c.tags, c.source_unit, c.state, c.created_by, "
        "c.updated_at, c.published_at, "
        "EXISTS (SELECT 1 FROM daily_listen d WHERE d.date = ? AND d.content_id = c.id) AS listen_today, "
        "EXISTS (SELECT 1 FROM editor_autosave s WHERE s.username = ? AND s.item = CAST(c.id AS TEXT)) "
        "AS autosaved, EXISTS (SELECT 1 FROM content_revisions r WHERE r.content_id = c.id) AS revision_pending "
        f"FROM content c WHERE {where} ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
        [day, username, *params, limit, offset])
    return [ContentRow(**dict(r)) for r in rows]


def count_content(store: Store, f: ContentFilter = ContentFilter()) -> int:
    where, params = _content_where(f)
    return store.scalar(f"SELECT COUNT(*) FROM content c WHERE {where}", params)


def content_item(store: Store, cid: int) -> dict:
    """One content item, with ``created_by_name`` (the author's name), ``revision_draft``
    (the fields of its pending revision, else ``None``, with ``saved_by``/``saved_at``) and
    ``listen_days`` (the days, from today on, whose 每日一听 it is)."""
    row = store.one("SELECT c.*, COALESCE(u.name, c.created_by) AS created_by_name FROM content c "
                    "LEFT JOIN users u ON u.username = c.created_by WHERE c.id = ?", (cid,))
    if row is None:
        raise NotFound.of("no_content", id=cid)
    item = dict(row)
    rev = store.one("SELECT * FROM content_revisions WHERE content_id = ?", (cid,))
    item["revision_draft"] = {k: rev[k] for k in rev.keys() if k != "content_id"} if rev else None
    item["listen_days"] = [r[0] for r in store.all(
        "SELECT date FROM daily_listen WHERE content_id = ? AND date >= ? ORDER BY date",
        (cid, timeutil.iso()[:10]))]
    return item


@dataclass
class DailyListen:
    date: str
    content_id: int
    title: str
    chosen_by: str
    state: str = "published"
    revision: int = 1
    audio_path: str | None = None
    audio_hash: str | None = None
    audio_seconds: float | None = None
    audio_bytes: int | None = None
    audio_built_at: str | None = None

    @property
    def built(self) -> bool:
        return self.audio_seconds is not None


_LISTEN = ("SELECT d.date, d.content_id, COALESCE(c.title, '') AS title, d.chosen_by, "
           "COALESCE(c.state, '') AS state, COALESCE(c.revision, 1) AS revision, d.audio_path, d.audio_hash, "
           "d.audio_seconds, d.audio_bytes, d.audio_built_at "
           "FROM daily_listen d LEFT JOIN content c ON c.id = d.content_id ")


def daily_listen(store: Store, day: str | None = None) -> DailyListen | None:
    """The 每日一听 of ``day`` (default today), if one was chosen."""
    day = day or timeutil.iso()[:10]
    row = store.one(_LISTEN + "WHERE d.date = ?", (day,))
    return DailyListen(**dict(row)) if row else None


def listen_to_build(store: Store, day: str) -> tuple[DailyListen, dict]:
    """The 每日一听 of ``day`` and its item, to build its sound; refused when no pick was
    made for the day, or its item is no longer published."""
    pick = daily_listen(store, day)
    if pick is None:
        raise NotFound.of("no_daily_listen", day=day)
    item = content_item(store, pick.content_id)
    if item["state"] != "published":
        raise InvalidTransition.of("daily_listen_unpublished", id=pick.content_id, state=item["state"])
    return pick, item


def upcoming_listens(store: Store, day: str | None = None, limit: int = 7) -> list[DailyListen]:
    """The picks of ``day`` (default today) and the days after it, at most ``limit``."""
    day = day or timeutil.iso()[:10]
    return [DailyListen(**dict(r)) for r in store.all(_LISTEN + "WHERE d.date >= ? ORDER BY d.date LIMIT ?",
                                                      (day, limit))]


def listen_episodes(store: Store, through: str) -> list[DailyListen]:
    """The 每日一听 whose sound is built, of a published item, up to and including the day
    ``through``, newest first: the podcast's episodes."""
    return [DailyListen(**dict(r)) for r in store.all(
        _LISTEN + "WHERE d.date <= ? AND d.audio_path IS NOT NULL AND c.state = 'published' "
        "ORDER BY d.date DESC", (through,))]


def published_content(store: Store, kind: str) -> list[dict]:
    """The published items of ``kind``, the most recently (re)published first: what the
    website and the apps show."""
    if kind not in CONTENT_KINDS:
        raise ValidationError.of("content_kind_choice", choices=CONTENT_KINDS, value=kind)
    return [dict(r) for r in store.all(
        "SELECT id, kind, level, title, body, source_unit, tags, published_at, revised_at, revision "
        "FROM content WHERE state = 'published' AND kind = ? ORDER BY revised_at DESC, id DESC", (kind,))]


def autosaves(store: Store, username: str) -> list[tuple[str, str, str]]:
    """(item, title typed, saved_at) of ``username``'s unsaved editor forms (not the drafts
    of the action forms, ``form:…``)."""
    import json

    out = []
    for r in store.all("SELECT item, fields, saved_at FROM editor_autosave WHERE username = ? "
                       "AND item NOT LIKE 'form:%' ORDER BY saved_at DESC", (username,)):
        try:
            title = str(json.loads(r["fields"]).get("title", ""))
        except ValueError:
            title = ""
        out.append((r["item"], title, r["saved_at"]))
    return out
