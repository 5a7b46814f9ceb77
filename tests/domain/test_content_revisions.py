"""A published item changes through a revision; the 每日一听 pick is always publishable.

* ``save_content_revision`` keeps the published text as it is; ``publish_content_revision``
  is a separate, audited step; ``update_content`` refuses a published item;
* withdrawing or archiving an item that is the pick of today or later is refused unless the
  editor clears those picks with it (each cleared pick audited); a past day's pick stays;
* a pick names a published item, for today or later; a new pick or a published revision
  drops the sound built for the old text."""
from __future__ import annotations

import json

import pytest

from taian_tui.domain import operations as wf
from taian_tui.domain.refusals import InvalidTransition, PermissionDenied

T = "2026-10-08T09:00:00+08:00"
T2 = "2026-10-09T10:00:00+08:00"
T3 = "2026-10-10T11:00:00+08:00"


def audit_of(store, entity, ref):
    r = store.audit_rows(entity, ref)[-1]
    return r.action, json.loads(r.before), json.loads(r.after)


def published(store, title="泰安市支持重大项目建设若干措施", body="# 措施\n\n一、用地保障"):
    c = wf.draft_content(store, "bianji", kind="policy", level="市", title=title, body=body,
                         source_unit="市发展和改革委员会", tags="用地", at=T)
    return wf.publish_content(store, "bianji", c.id, at=T)


def test_a_published_item_is_not_edited_in_place(store, unchanged):
    c = published(store)
    with unchanged(), pytest.raises(InvalidTransition, match=f"content {c.id} is published: its text changes "
                                                               "through a revision"):
        wf.update_content(store, "bianji", c.id, title="新标题")


def test_the_revision_keeps_the_published_text_until_it_is_published(store):
    c = published(store)
    assert (c.revision, c.revised_at, c.published_at) == (1, T, T)
    pending = wf.save_content_revision(store, "bianji", c.id, title="新标题", body="# 措施\n\n二、能耗保障", at=T2)
    assert pending == {"title": "新标题", "kind": "policy", "level": "市", "body": "# 措施\n\n二、能耗保障",
                       "source_unit": "市发展和改革委员会", "tags": "用地"}
    item = store.one("SELECT title, body, revision, revised_at, updated_at FROM content WHERE id = ?", (c.id,))
    assert tuple(item) == ("泰安市支持重大项目建设若干措施", "# 措施\n\n一、用地保障", 1, T, T)
    assert audit_of(store, "content", c.id) == (
        "content.revise", {"title": "泰安市支持重大项目建设若干措施", "body": "# 措施\n\n一、用地保障"},
        {"title": "新标题", "body": "# 措施\n\n二、能耗保障"})

    p = wf.publish_content_revision(store, "admin", c.id, at=T3)
    assert (p.title, p.body, p.revision, p.revised_at, p.updated_at, p.published_at) == \
        ("新标题", "# 措施\n\n二、能耗保障", 2, T3, T3, T)
    assert store.scalar("SELECT COUNT(*) FROM content_revisions") == 0
    assert audit_of(store, "content", c.id) == (
        "content.publish_revision",
        {"title": "泰安市支持重大项目建设若干措施", "body": "# 措施\n\n一、用地保障", "revision": 1},
        {"title": "新标题", "body": "# 措施\n\n二、能耗保障", "revision": 2})


def test_a_second_save_replaces_the_revision_and_one_equal_to_the_published_text_is_dropped(store, unchanged):
    c = published(store)
    wf.save_content_revision(store, "bianji", c.id, title="一稿", at=T2)
    wf.save_content_revision(store, "bianji", c.id, tags="用地,能耗", at=T2)
    assert tuple(store.one("SELECT title, tags FROM content_revisions WHERE content_id = ?", (c.id,))) == \
        ("一稿", "用地,能耗")
    with unchanged():        # the same text again: nothing written
        wf.save_content_revision(store, "bianji", c.id, title="一稿", at=T3)
    assert wf.save_content_revision(store, "bianji", c.id, title=c.title, tags=c.tags, at=T3) is None
    assert store.scalar("SELECT COUNT(*) FROM content_revisions") == 0
    with unchanged(), pytest.raises(InvalidTransition, match=f"content {c.id} has no revision waiting"):
        wf.publish_content_revision(store, "bianji", c.id, at=T3)


def test_revisions_are_for_published_items_and_editors(store, unchanged):
    d = wf.draft_content(store, "bianji", kind="news", level="市", title="草稿", at=T)
    with unchanged(), pytest.raises(InvalidTransition, match=f"content {d.id} is draft: only a published item"):
        wf.save_content_revision(store, "bianji", d.id, title="x", at=T)
    c = published(store)
    with unchanged(), pytest.raises(PermissionDenied, match="edit content"):
        wf.save_content_revision(store, "zrzy1", c.id, title="x", at=T)
    wf.save_content_revision(store, "bianji", c.id, title="x", at=T)
    with unchanged(), pytest.raises(PermissionDenied, match="publish content"):
        wf.publish_content_revision(store, "ducha1", c.id, at=T)


def test_withdrawing_keeps_the_revision_as_the_draft_and_archiving_drops_it(store):
    a = published(store, title="甲")
    wf.save_content_revision(store, "bianji", a.id, title="甲二", at=T2)
    d = wf.unpublish_content(store, "bianji", a.id, at=T3)
    assert (d.state, d.title) == ("draft", "甲二")
    assert audit_of(store, "content", a.id) == (
        "content.unpublish", {"state": "published", "revision_pending": True, "title": "甲"},
        {"state": "draft", "title": "甲二"})
    b = published(store, title="乙")
    wf.save_content_revision(store, "bianji", b.id, title="乙二", at=T2)
    x = wf.archive_content(store, "bianji", b.id, at=T3)
    assert (x.state, x.title) == ("archived", "乙")
    assert store.scalar("SELECT COUNT(*) FROM content_revisions") == 0


def test_withdrawing_the_pick_is_refused_unless_the_picks_are_cleared(store, unchanged):
    c = published(store)
    other = published(store, title="另一篇")
    for day in ("2026-10-08", "2026-10-09", "2026-10-10"):
        wf.pick_daily_listen(store, "bianji", day, c.id, at=T)
    wf.pick_daily_listen(store, "bianji", "2026-10-11", other.id, at=T)
    for op in (wf.unpublish_content, wf.archive_content):
        with unchanged(), pytest.raises(InvalidTransition,
                                        match=f"content {c.id} is the daily listen .*of 2026-10-09、2026-10-10"):
            op(store, "bianji", c.id, at=T2)
    w = wf.unpublish_content(store, "bianji", c.id, clear_picks=True, at=T2)
    assert w.state == "draft"
    # the past day's pick stays (it was broadcast); today's and later are cleared, each audited
    assert [tuple(r) for r in store.all("SELECT date, content_id FROM daily_listen ORDER BY date")] == \
        [("2026-10-08", c.id), ("2026-10-11", other.id)]
    for day in ("2026-10-09", "2026-10-10"):
        assert audit_of(store, "daily_listen", day) == ("content.daily_listen", {"content_id": c.id},
                                                        {"content_id": None})
    assert audit_of(store, "content", c.id) == (
        "content.unpublish", {"state": "published", "daily_listen": ["2026-10-09", "2026-10-10"]},
        {"state": "draft", "daily_listen": []})


def test_a_pick_is_for_today_or_later(store, unchanged):
    c = published(store)
    with unchanged(), pytest.raises(InvalidTransition, match="cannot choose the daily listen of 2026-10-07: "
                                                               "that day is past \\(today is 2026-10-08\\)"):
        wf.pick_daily_listen(store, "bianji", "2026-10-07", c.id, at=T)


def _built(store, day, cid, revision=1):
    wf.record_listen_audio(store, "bianji", day, cid, revision, path=f"/srv/listen-{day}.mp3", text_hash="h",
                           seconds=12.5, size=75000, at=T)


def test_a_new_pick_or_a_published_revision_drops_the_sound_of_the_old_text(store):
    c = published(store)
    other = published(store, title="另一篇")
    wf.pick_daily_listen(store, "bianji", "2026-10-08", c.id, at=T)
    wf.pick_daily_listen(store, "bianji", "2026-10-09", c.id, at=T)
    wf.pick_daily_listen(store, "bianji", "2026-10-10", c.id, at=T)
    for day in ("2026-10-08", "2026-10-09", "2026-10-10"):
        _built(store, day, c.id)
    assert audit_of(store, "daily_listen", "2026-10-08") == (
        "content.listen_built", {"file": None, "seconds": None, "bytes": None},
        {"file": "/srv/listen-2026-10-08.mp3", "seconds": 12.5, "bytes": 75000, "content_id": c.id, "revision": 1})
    wf.pick_daily_listen(store, "bianji", "2026-10-10", other.id, at=T)
    wf.save_content_revision(store, "bianji", c.id, title="新标题", at=T2)
    wf.publish_content_revision(store, "bianji", c.id, at=T2)
    assert [tuple(r) for r in store.all("SELECT date, content_id, audio_seconds FROM daily_listen ORDER BY date")] \
        == [("2026-10-08", c.id, 12.5), ("2026-10-09", c.id, None), ("2026-10-10", other.id, None)]


def test_sound_built_for_an_older_text_or_pick_is_not_recorded(store, unchanged):
    c = published(store)
    wf.pick_daily_listen(store, "bianji", "2026-10-08", c.id, at=T)
    with unchanged(), pytest.raises(InvalidTransition, match="changed while its sound was being built"):
        _built(store, "2026-10-08", c.id, revision=0)
    with unchanged(), pytest.raises(PermissionDenied):
        wf.record_listen_audio(store, "zrzy1", "2026-10-08", c.id, 1, path="/x", text_hash="h", seconds=1,
                               size=1, at=T)
