"""What a console learns about another connection's commits (read/changes.py): nothing when
nothing was committed, the kinds of the audited entities, and for appeals the units they
belong to now or were taken from; and which views each change concerns."""
from __future__ import annotations

from taian_tui.domain import operations as wf
from taian_tui.domain.escalation import sweep
from taian_tui.read.changes import ANYTHING, APPEALS, CONTENT, PROJECTS, Change, ChangeWatch
from taian_tui.store import Store

AT = "2026-10-09T10:00:00+08:00"


def watch_on(db_path) -> ChangeWatch:
    return ChangeWatch(Store(db_path, migrate=False))


def test_nothing_committed_is_none_and_own_reads_are_not_news(store, db_path, make_appeal):
    make_appeal("assigned")
    watch = watch_on(db_path)
    assert watch.look() is None
    watch.store.scalar("SELECT COUNT(*) FROM appeals")
    assert watch.look() is None


def test_an_appeal_change_names_its_unit(store, db_path, make_appeal):
    a = make_appeal("assigned")                      # land in 岱岳区 -> zrzy
    watch = watch_on(db_path)
    wf.accept_appeal(store, "zrzy1", a.ref, at=AT)
    assert watch.look() == Change(frozenset({"appeal"}), frozenset({"zrzy"}))
    assert watch.look() is None                      # seen once


def test_a_reassignment_names_both_units(store, db_path, make_appeal):
    a = make_appeal("assigned")
    watch = watch_on(db_path)
    wf.assign_appeal(store, "admin", a.ref, "sthj", note="改派", at=AT)
    assert watch.look() == Change(frozenset({"appeal"}), frozenset({"zrzy", "sthj"}))


def test_kinds_of_several_commits_between_two_looks(store, db_path, make_appeal):
    a = make_appeal("assigned", category="环评")     # -> sthj
    watch = watch_on(db_path)
    wf.draft_content(store, "bianji", kind="policy", level="市", title="惠企政策", at=AT)
    wf.accept_appeal(store, "sthj1", a.ref, at=AT)
    assert watch.look() == Change(frozenset({"content", "appeal"}), frozenset({"sthj"}))


def test_an_unaudited_commit_is_an_empty_change(store, db_path):
    watch = watch_on(db_path)
    with store.transaction():
        store.set_setting("console.note", "x")       # bookkeeping: no audit row
    change = watch.look()
    assert change == Change(frozenset()) and not change


def test_a_sweep_is_not_told_apart_by_unit(store, db_path, make_appeal):
    make_appeal("accepted")
    watch = watch_on(db_path)
    sweep(store, "2026-10-13T07:00:00+08:00")
    change = watch.look()
    assert change.kinds == {"sweep"}
    assert change.concerns(APPEALS, frozenset({"sthj"})) is True


def test_which_views_a_change_concerns():
    zrzy = Change(frozenset({"appeal"}), frozenset({"zrzy"}))
    assert zrzy.concerns(APPEALS, frozenset({"zrzy"})) is True
    assert zrzy.concerns(APPEALS, frozenset({"sthj"})) is False      # another unit's appeal
    assert zrzy.concerns(APPEALS, None) is True                      # a city-wide view
    assert zrzy.concerns(CONTENT) is False
    assert zrzy.concerns(None, frozenset({"sthj"})) is False          # reads everything, per unit
    content = Change(frozenset({"content"}))
    assert content.concerns(APPEALS) is False and content.concerns(CONTENT) is True
    assert content.concerns(None) is True
    mixed = Change(frozenset({"appeal", "project"}), frozenset({"zrzy"}))
    assert mixed.concerns(PROJECTS, frozenset({"sthj"})) is True      # the project is not per unit
    assert mixed.concerns(APPEALS, frozenset({"sthj"})) is False
    assert ANYTHING.concerns(CONTENT, frozenset({"sthj"})) is True
    assert Change(frozenset({"outbox"})).concerns(APPEALS) is False
