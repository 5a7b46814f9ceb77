"""The policy editor's reads: the content list (kinds, levels, states), one item, the
每日一听 pick of a day, and a user's autosaved forms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taian_tui.domain import timeutil
from taian_tui.domain.models import CONTENT_KINDS, CONTENT_LEVELS, CONTENT_STATES
from taian_tui.store import Store, like_pattern
from taian_tui.domain.refusals import NotFound, ValidationError


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
        "AS autosaved "
        f"FROM content c WHERE {where} ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?",
        [day, username, *params, limit, offset])
    return [ContentRow(**dict(r)) for r in rows]


def count_content(store: Store, f: ContentFilter = ContentFilter()) -> int:
    where, params = _content_where(f)
    return store.scalar(f"SELECT COUNT(*) FROM content c WHERE {where}", params)


def content_item(store: Store, cid: int) -> dict:
    """One content item, with ``created_by_name`` (the author's name)."""
    row = store.one("SELECT c.*, COALESCE(u.name, c.created_by) AS created_by_name FROM content c "
                    "LEFT JOIN users u ON u.username = c.created_by WHERE c.id = ?", (cid,))
    if row is None:
        raise NotFound.of("no_content", id=cid)
    return dict(row)


@dataclass
class DailyListen:
    date: str
    content_id: int
    title: str
    chosen_by: str


def daily_listen(store: Store, day: str | None = None) -> DailyListen | None:
    """The 每日一听 of ``day`` (default today), if one was chosen."""
    day = day or timeutil.iso()[:10]
    row = store.one("SELECT d.date, d.content_id, COALESCE(c.title, '') AS title, d.chosen_by "
                    "FROM daily_listen d LEFT JOIN content c ON c.id = d.content_id WHERE d.date = ?",
                    (day,))
    return DailyListen(**dict(row)) if row else None


def autosaves(store: Store, username: str) -> list[tuple[str, str, str]]:
    """(item, title typed, saved_at) of ``username``'s unsaved editor forms."""
    import json

    out = []
    for r in store.all("SELECT item, fields, saved_at FROM editor_autosave WHERE username = ? "
                       "ORDER BY saved_at DESC", (username,)):
        try:
            title = str(json.loads(r["fields"]).get("title", ""))
        except ValueError:
            title = ""
        out.append((r["item"], title, r["saved_at"]))
    return out
