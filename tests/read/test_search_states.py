"""The search index marks each appeal's state (``search.STATE_WORDS``): written when an appeal
is indexed, changed by a trigger with every change of state, used to narrow a search among
some states (the inbox's 待办), and, city-wide, to count such a search (or one of all
appeals) from the index alone. Whatever the path, the count and the list are the appeals'.

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
#: the admin's 待办: the dispatch queue and the units' open appeals
TODO = appeals.AppealFilter(states=("submitted", "returned", "assigned", "accepted"), text="环评")


def _city(make_appeal):
    make_appeal("accepted", title="环评批复")
    make_appeal("assigned", title="环评验收")
    make_appeal("answered", title="环评公示")
    make_appeal("accepted", title="用地指标")
    make_appeal("accepted", title="环评变更", category="环评")
    make_appeal("submitted", title="环评能耗", category="能耗", county="泰山区")


def _marks(store) -> dict[str, str]:
    """Each appeal's ref -> the state its index row says; that state is the appeal's, and the
    rest of the row is the appeal's own text, as ``index_appeal`` wrote it."""
    by_word = {w: state for state, w in search.STATE_WORDS.items()}
    out = {}
    for ref, state, title, body, name, grams in store.all(
            "SELECT a.ref, a.state, a.title, a.body, e.name, s.grams FROM appeals a "
            "JOIN enterprises e ON e.uscc = a.enterprise_uscc JOIN appeal_search s ON s.rowid = a.id "
            "ORDER BY a.ref"):
        marked = by_word[grams[-1]]
        assert marked == state, ref
        assert grams == search.indexed(title, body, name, marked), ref
        out[ref] = marked
    return out


def _count(store, who, f):
    return appeals.count_appeals(store, actors.actor(store, who), f, at=AT)


def _refs(store, who, f):
    return [r.ref for r in appeals.list_appeals(store, actors.actor(store, who), f, limit=50, at=AT)]


def test_the_state_word_follows_every_change_of_state(store, make_appeal):
    _city(make_appeal)
    assert _marks(store) == {"A-2026-0001": "accepted", "A-2026-0002": "assigned", "A-2026-0003": "answered",
                             "A-2026-0004": "accepted", "A-2026-0005": "accepted", "A-2026-0006": "submitted"}
    wf.assign_appeal(store, "admin", "A-2026-0006", "daiyue", at="2026-09-29T12:00:00+08:00")
    wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已办理", at="2026-09-30T11:00:00+08:00")
    wf.return_appeal(store, "zrzy1", "A-2026-0002", "不属于本单位职责", at="2026-09-30T11:00:00+08:00")
    assert _marks(store) == {"A-2026-0001": "answered", "A-2026-0002": "returned", "A-2026-0003": "answered",
                             "A-2026-0004": "accepted", "A-2026-0005": "accepted", "A-2026-0006": "assigned"}
    # 不满意, then the supervision office finds the unit at fault: back on the unit's clock
    wf.evaluate_appeal(store, "system:intake", "A-2026-0001", "不满意", "没解决", at="2026-10-08T10:00:00+08:00")
    assert _marks(store)["A-2026-0001"] == "disputed"
    wf.review_dispute(store, "ducha1", "A-2026-0001", True, "单位未落实", at="2026-10-09T10:00:00+08:00")
    assert _marks(store)["A-2026-0001"] == "accepted"
    # the returned appeal dispatched again
    wf.assign_appeal(store, "admin", "A-2026-0002", "sthj", at="2026-10-09T11:00:00+08:00")
    assert _marks(store)["A-2026-0002"] == "assigned"


def test_a_search_among_some_states_counts_and_lists_them(store, make_appeal):
    _city(make_appeal)
    # city-wide (from the index alone) and in a liaison's unit (walking the unit's appeals)
    assert _count(store, "admin", OPEN) == 3
    assert sorted(_refs(store, "admin", OPEN)) == ["A-2026-0001", "A-2026-0002", "A-2026-0005"]
    assert _count(store, "admin", ALL) == 5
    assert _count(store, "admin", TODO) == 4
    assert sorted(_refs(store, "admin", TODO)) == ["A-2026-0001", "A-2026-0002", "A-2026-0005", "A-2026-0006"]
    assert _count(store, "zrzy1", OPEN) == 2
    assert sorted(_refs(store, "zrzy1", OPEN)) == ["A-2026-0001", "A-2026-0002"]
    assert _count(store, "zrzy1", ALL) == 3
    # one open state only, a filter beside the words, a ref: the appeals' own conditions decide
    accepted = appeals.AppealFilter(states=("accepted",), text="环评")
    assert _count(store, "admin", accepted) == 2
    assert sorted(_refs(store, "admin", accepted)) == ["A-2026-0001", "A-2026-0005"]
    assert _count(store, "admin", appeals.AppealFilter(states=OPEN_STATES, text="环评", category="land")) == 2
    assert _count(store, "admin", appeals.AppealFilter(states=OPEN_STATES, text="4")) == 1


@pytest.mark.parametrize("f, expected, states", [(OPEN, 3, ("assigned", "accepted")), (ALL, 5, ()),
                                                (TODO, 4, ("submitted", "assigned", "accepted", "returned"))],
                         ids=["open", "all", "todo"])
def test_a_city_wide_search_is_counted_in_the_index_alone(store, make_appeal, f, expected, states):
    _city(make_appeal)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        assert _count(store, "admin", f) == expected
    finally:
        store.conn.set_trace_callback(None)
    counts = [s for s in statements if "COUNT(*)" in s]
    words = " OR ".join(f'"{search.STATE_WORDS[x]}"' for x in states)
    mark = f" AND ({words})" if states else ""
    assert counts == [f"SELECT COUNT(*) FROM appeal_search WHERE appeal_search MATCH '\"环评\"{mark}'"]
    # the walk over the appeals gives the same count
    where, params = appeals.appeal_where(store, actors.actor(store, "admin"), f, AT)
    assert store.scalar(f"SELECT COUNT(*) FROM appeals a WHERE {where}", params) == expected


def test_the_migration_marks_the_states_of_the_appeals_already_stored(store, make_appeal):
    """Schema 0016 on a file whose index has no state words yet: each appeal gets its
    state's, and from then on the trigger changes it."""
    from sqlite_utils import Database

    from taian_tui import schema

    _city(make_appeal)
    with store.transaction():
        store.conn.execute("DROP TRIGGER appeal_search_state")
        store.conn.execute("UPDATE appeal_search SET grams = substr(grams, 1, length(grams) - 2)")
        assert store.scalar("SELECT COUNT(*) FROM appeal_search WHERE appeal_search MATCH ?",
                            (" OR ".join(f'"{w}"' for w in search.STATE_WORDS.values()),)) == 0
        schema._search_marks_appeal_states(Database(store.conn))
    assert _marks(store) == {"A-2026-0001": "accepted", "A-2026-0002": "assigned", "A-2026-0003": "answered",
                             "A-2026-0004": "accepted", "A-2026-0005": "accepted", "A-2026-0006": "submitted"}
    wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已办理", at="2026-09-30T11:00:00+08:00")
    assert _marks(store)["A-2026-0001"] == "answered"
