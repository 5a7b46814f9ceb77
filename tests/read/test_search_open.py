"""The search index marks the open appeals (``search.OPEN_WORD``): written when an appeal is
indexed, kept by a trigger through every change of state, used to narrow a search of the
open appeals, and, city-wide, to count such a search (or one of all appeals) from the index
alone. Whatever the path, the count and the list are the appeals' own.

The appeals (tests/conftest.py's city: land/岱岳区 -> zrzy, environment/岱岳区 -> sthj,
energy/泰山区 unrouted; times as its DOMAIN example):

  A-2026-0001  环评批复  zrzy   accepted                       open
  A-2026-0002  环评验收  zrzy   assigned                       open
  A-2026-0003  环评公示  zrzy   answered 09-30                 not open
  A-2026-0004  用地指标  zrzy   accepted                       open (other words)
  A-2026-0005  环评变更  sthj   accepted                       open
  A-2026-0006  环评能耗  —      submitted (no unit)            not open
"""
from __future__ import annotations

import pytest

from taian_tui.domain import actors, search
from taian_tui.domain import operations as wf
from taian_tui.domain.rules import OPEN_STATES
from taian_tui.read import appeals

AT = "2026-10-20T09:00:00+08:00"
OPEN = appeals.AppealFilter(states=OPEN_STATES, text="环评")
ALL = appeals.AppealFilter(states=(), text="环评")


def _city(make_appeal):
    make_appeal("accepted", title="环评批复")
    make_appeal("assigned", title="环评验收")
    make_appeal("answered", title="环评公示")
    make_appeal("accepted", title="用地指标")
    make_appeal("accepted", title="环评变更", category="环评")
    make_appeal("submitted", title="环评能耗", category="能耗", county="泰山区")


def _marks(store) -> dict[str, bool]:
    """Each appeal's ref -> whether its index row carries the open word; and that the rest of
    the row is the appeal's own text, as ``index_appeal`` wrote it."""
    out = {}
    for ref, state, title, body, name, grams in store.all(
            "SELECT a.ref, a.state, a.title, a.body, e.name, s.grams FROM appeals a "
            "JOIN enterprises e ON e.uscc = a.enterprise_uscc JOIN appeal_search s ON s.rowid = a.id "
            "ORDER BY a.ref"):
        marked = grams.endswith(" " + search.OPEN_WORD)
        assert grams == search.indexed(title, body, name, open_=marked), ref
        assert marked == (state in OPEN_STATES), (ref, state)
        out[ref] = marked
    return out


def _count(store, who, f):
    return appeals.count_appeals(store, actors.actor(store, who), f, at=AT)


def _refs(store, who, f):
    return [r.ref for r in appeals.list_appeals(store, actors.actor(store, who), f, limit=50, at=AT)]


def test_the_open_word_follows_every_change_of_state(store, make_appeal):
    _city(make_appeal)
    assert _marks(store) == {"A-2026-0001": True, "A-2026-0002": True, "A-2026-0003": False,
                             "A-2026-0004": True, "A-2026-0005": True, "A-2026-0006": False}
    wf.assign_appeal(store, "admin", "A-2026-0006", "daiyue", at="2026-09-29T12:00:00+08:00")
    wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已办理", at="2026-09-30T11:00:00+08:00")
    wf.return_appeal(store, "zrzy1", "A-2026-0002", "不属于本单位职责", at="2026-09-30T11:00:00+08:00")
    assert _marks(store) == {"A-2026-0001": False, "A-2026-0002": False, "A-2026-0003": False,
                             "A-2026-0004": True, "A-2026-0005": True, "A-2026-0006": True}
    # 不满意, then the supervision office finds the unit at fault: back on the unit's clock
    wf.evaluate_appeal(store, "system:intake", "A-2026-0001", "不满意", "没解决", at="2026-10-08T10:00:00+08:00")
    assert _marks(store)["A-2026-0001"] is False
    wf.review_dispute(store, "ducha1", "A-2026-0001", True, "单位未落实", at="2026-10-09T10:00:00+08:00")
    assert _marks(store)["A-2026-0001"] is True
    # the returned appeal dispatched again
    wf.assign_appeal(store, "admin", "A-2026-0002", "sthj", at="2026-10-09T11:00:00+08:00")
    assert _marks(store)["A-2026-0002"] is True


def test_a_search_of_the_open_appeals_counts_and_lists_them(store, make_appeal):
    _city(make_appeal)
    # city-wide (from the index alone) and in a liaison's unit (walking the unit's appeals)
    assert _count(store, "admin", OPEN) == 3
    assert sorted(_refs(store, "admin", OPEN)) == ["A-2026-0001", "A-2026-0002", "A-2026-0005"]
    assert _count(store, "admin", ALL) == 5
    assert _count(store, "zrzy1", OPEN) == 2
    assert sorted(_refs(store, "zrzy1", OPEN)) == ["A-2026-0001", "A-2026-0002"]
    assert _count(store, "zrzy1", ALL) == 3
    # one open state only, a filter beside the words, a ref: the appeals' own conditions decide
    accepted = appeals.AppealFilter(states=("accepted",), text="环评")
    assert _count(store, "admin", accepted) == 2
    assert sorted(_refs(store, "admin", accepted)) == ["A-2026-0001", "A-2026-0005"]
    assert _count(store, "admin", appeals.AppealFilter(states=OPEN_STATES, text="环评", category="land")) == 2
    assert _count(store, "admin", appeals.AppealFilter(states=OPEN_STATES, text="4")) == 1


@pytest.mark.parametrize("f, expected", [(OPEN, 3), (ALL, 5)], ids=["open", "all"])
def test_a_city_wide_search_is_counted_in_the_index_alone(store, make_appeal, f, expected):
    _city(make_appeal)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        assert _count(store, "admin", f) == expected
    finally:
        store.conn.set_trace_callback(None)
    counts = [s for s in statements if "COUNT(*)" in s]
    mark = f' AND "{search.OPEN_WORD}"' if f.states else ""
    assert counts == [f"SELECT COUNT(*) FROM appeal_search WHERE appeal_search MATCH '\"环评\"{mark}'"]
    # the walk over the appeals gives the same count
    where, params = appeals.appeal_where(store, actors.actor(store, "admin"), f, AT)
    assert store.scalar(f"SELECT COUNT(*) FROM appeals a WHERE {where}", params) == expected


def test_the_migration_marks_the_open_appeals_already_stored(store, make_appeal):
    """Schema 0016 on a file whose index has no marks yet: the open appeals get theirs, and
    from then on the trigger keeps them."""
    from sqlite_utils import Database

    from taian_tui import schema

    _city(make_appeal)
    with store.transaction():
        store.conn.execute("DROP TRIGGER appeal_search_open")
        store.conn.execute("UPDATE appeal_search SET grams = replace(grams, ' ' || char(57344), '')")
        assert store.scalar("SELECT COUNT(*) FROM appeal_search WHERE appeal_search MATCH ?",
                            (f'"{search.OPEN_WORD}"',)) == 0
        schema._search_marks_open_appeals(Database(store.conn))
    assert _marks(store) == {"A-2026-0001": True, "A-2026-0002": True, "A-2026-0003": False,
                             "A-2026-0004": True, "A-2026-0005": True, "A-2026-0006": False}
    wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已办理", at="2026-09-30T11:00:00+08:00")
    assert _marks(store)["A-2026-0001"] is False
