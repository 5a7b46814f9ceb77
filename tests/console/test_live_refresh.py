"""Live refresh that costs what changed: a console re-reads only the screens a commit
concerns (by kind, and for a liaison by unit), pages through one filter on one count, does
not redraw a page whose rows did not change, and reads on kept connections."""
from __future__ import annotations

import pytest

from taian_tui.console.app import TaianApp
from taian_tui.domain import operations as wf
from taian_tui.screens.inbox import InboxScreen

SIZE = (120, 36)
AT = "2026-10-16T11:00:00+08:00"


def app_for(db, user) -> TaianApp:
    return TaianApp(db, username=user, poll=False)


def spy(monkeypatch, name: str) -> list:
    """Record each call of InboxScreen.<name> (from the worker threads too)."""
    calls: list = []
    original = getattr(InboxScreen, name)

    def wrapper(self, *args, **kw):
        calls.append(args)
        return original(self, *args, **kw)
    monkeypatch.setattr(InboxScreen, name, wrapper)
    return calls


async def test_a_liaison_rereads_for_their_units_appeals_only(settle, tui_db, store):
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = screen.generation
        # 市生态环境局's appeal and a policy draft: nothing zrzy1 sees
        wf.reply_appeal(store, "sthj1", "A-2026-0004", "已办理", at=AT)
        wf.draft_content(store, "bianji", kind="policy", level="市", title="惠企政策", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert screen.generation == before
        # their own unit's appeal, accepted by a colleague elsewhere
        wf.accept_appeal(store, "zrzy1", "A-2026-0003", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert screen.generation == before + 1
        assert next(r for r in screen.rows if r.ref == "A-2026-0003").state == "accepted"


async def test_the_city_wide_inbox_rereads_for_any_units_appeal(settle, tui_db, store):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = screen.generation
        wf.draft_content(store, "bianji", kind="policy", level="市", title="惠企政策", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert screen.generation == before
        wf.reply_appeal(store, "sthj1", "A-2026-0004", "已办理", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert screen.generation == before + 1


async def test_paging_one_filter_counts_once_and_a_change_counts_again(monkeypatch, settle, tui_db, store, submit):
    for i in range(8, 8 + 120):
        submit(f"A-2026-{i:04d}", at="2026-10-16T10:00:00+08:00", title=f"第{i}号诉求")
    counts = spy(monkeypatch, "count")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # zrzy's five open appeals of the fixture (0001, 0003, 0005, 0006, 0007) and these 120
        assert len(counts) == 1 and screen.total == 125
        await pilot.press("pagedown", "pagedown", "pageup")
        await settle(pilot)
        assert screen.page == 1 and len(counts) == 1 and screen.total == 125
        assert "第 2/3 页" in screen.query_one("#status").render().plain
        wf.reply_appeal(store, "zrzy1", "A-2026-0006", "已办理", at=AT)   # leaves the to-do list
        app.poll_changes()
        await settle(pilot)
        assert len(counts) == 2 and screen.total == 124


async def test_a_refresh_that_changed_no_row_shown_redraws_nothing(monkeypatch, settle, tui_db, store, submit):
    for i in range(8, 8 + 60):
        submit(f"A-2026-{i:04d}", at="2026-10-16T10:00:00+08:00", title=f"第{i}号诉求")
    fills = spy(monkeypatch, "fill_table")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(fills) == 1
        last = screen.rows[-1].ref
        # an appeal of the unit that is not on the first page (the last by deadline)
        wf.accept_appeal(store, "zrzy1", "A-2026-0067", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert screen.loaded_generation == screen.generation and len(fills) == 1
        assert screen.rows[-1].ref == last
        # one that is on it: the page is drawn again
        wf.accept_appeal(store, "zrzy1", "A-2026-0003", at=AT)
        app.poll_changes()
        await settle(pilot)
        assert len(fills) == 2


async def test_reads_run_on_kept_connections(monkeypatch, settle, tui_db):
    from taian_tui.console import workers

    opened = []

    class CountedStore(workers.Store):
        def __init__(self, *args, **kw):
            opened.append(1)
            super().__init__(*args, **kw)
    monkeypatch.setattr(workers, "Store", CountedStore)
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(20):
            app.screen.action_reload()                      # a page and its detail each time
            await settle(pilot)
        # at most as many as ran at once (sign-in, header counts, page, detail at start), not
        # two new connections for each of the 20 reloads
        assert len(opened) <= 4
        assert 1 <= len(app.stores._idle) <= app.stores.keep
    assert app.stores._idle == []                           # closed with the app


def test_live_budget_refreshes_at_once_when_cheap_and_later_when_costly():
    """A refresh waits until the CPU used since the last one is at most 2 % of the time
    since (never more than 30 s)."""
    from taian_tui.console.app import LiveBudget

    clock = {"wall": 100.0, "cpu": 5.0}
    budget = LiveBudget(0.02, 30.0, wall=lambda: clock["wall"], cpu=lambda: clock["cpu"])
    clock["wall"] += 2.0
    clock["cpu"] += 0.01                    # a cheap refresh: 10 ms in 2 s is 0.5 %
    assert budget.wait() == 0.0
    budget.spent()
    clock["wall"] += 2.0
    clock["cpu"] += 0.15                    # a costly one: 150 ms is 2 % of 7.5 s
    assert budget.wait() == pytest.approx(5.5)
    clock["wall"] += 5.6
    assert budget.wait() == 0.0
    budget.spent()
    clock["cpu"] += 10.0                    # a long burst: never more than 30 s
    assert budget.wait() == 30.0


def _watchers(*objs) -> int:
    return sum(len(v) for obj in objs for v in getattr(obj, "__watchers", {}).values())


@pytest.mark.heavy
async def test_watchers_stay_flat_over_many_footer_refreshes(settle, tui_db, store, submit):
    """Focus moving between the search box and the list changes the footer's keys (it is
    rebuilt), pages and highlights refresh it: the reactive watchers attached to the footer,
    the screen and the app are as many after 8 rounds as after one (the stock footer's
    rebuilt keys each left a ``data_bind`` watcher behind)."""
    from taian_tui.console.widgets import KeysFooter

    for i in range(8, 8 + 60):
        submit(f"A-2026-{i:04d}", at="2026-10-16T10:00:00+08:00", title=f"第{i}号诉求")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        footer = screen.query_one(KeysFooter)

        async def round_():
            await pilot.press("slash")          # the search box: other keys in the footer
            await settle(pilot)
            await pilot.press("escape", "pagedown", "down", "pageup")
            await settle(pilot)

        await round_()
        before = _watchers(footer, screen, app)
        for _ in range(8):
            await round_()
        assert screen.query_one(KeysFooter) is footer
        assert _watchers(footer, screen, app) == before


def test_a_gone_widgets_drawing_cache_is_freed():
    """Textual's ``StylesCache.get_inner_outer`` kept, in its ``lru_cache``, the drawing
    cache of every widget it was called for (textual#6665); once ``release_styles_caches``
    has run (at the console's import), the cache goes with its widget and equal colours
    still give the one cached pair."""
    import gc
    import weakref

    from textual._styles_cache import StylesCache
    from textual.color import Color

    from taian_tui.console.styles import release_styles_caches

    release_styles_caches()
    release_styles_caches()                         # idempotent: still cached by colours
    drawing = StylesCache()
    gone = weakref.ref(drawing)
    pair = drawing.get_inner_outer(Color(1, 2, 3), Color(4, 5, 6, 0.5))
    del drawing
    gc.collect()
    assert gone() is None
    assert StylesCache().get_inner_outer(Color(1, 2, 3), Color(4, 5, 6, 0.5)) is pair


async def test_the_footer_keys_removed_are_freed_with_their_drawing_caches(monkeypatch, settle, tui_db):
    """The footer shows other keys when the focus moves to the search box and back, in its
    own widgets: those it no longer needs are removed and freed, with their drawing caches,
    and after three round trips it holds as many keys as before."""
    import gc
    import weakref

    from textual.widgets._footer import FooterKey

    from taian_tui.console.widgets import KeysFooter

    made = []
    init = FooterKey.__init__

    def recording(self, *args, **kw):
        init(self, *args, **kw)
        made.append(weakref.ref(self))

    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        before = len(footer.children)
        monkeypatch.setattr(FooterKey, "__init__", recording)
        caches = []
        for _ in range(3):
            caches += [weakref.ref(key._styles_cache) for key in footer.children]
            await pilot.press("slash")
            await settle(pilot)
            caches += [weakref.ref(key._styles_cache) for key in footer.children]
            await pilot.press("escape")
            await settle(pilot)
        gc.collect()
        kept = list(footer.children)
        assert len(kept) == before and all(isinstance(key, FooterKey) for key in kept)
        # the search box shows another number of keys than the list: keys were made and removed
        assert made
        # every key the footer no longer holds is gone, with its drawing cache
        assert [key for ref in made if (key := ref()) is not None and key not in kept] == []
        live = {id(key._styles_cache) for key in kept}
        assert [c for ref in caches if (c := ref()) is not None and id(c) not in live] == []


def test_what_the_drawing_no_longer_uses_is_freed_without_the_collector():
    """A cleared ``LRUCache`` (a list's table clears its render caches on each page) and a
    ``Strip`` divided or cropped to exactly itself made reference cycles: what they held
    waited for the cyclic collector's full passes. Once ``drawing_freed_at_once`` has run
    (at the console's import), they are freed by their reference counts, with the same
    results."""
    import gc

    from rich.segment import Segment
    from textual.cache import LRUCache
    from textual.strip import Strip

    from taian_tui.console.styles import drawing_freed_at_once

    drawing_freed_at_once()
    drawing_freed_at_once()                         # idempotent
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)                  # what the collector finds is kept to be seen
    try:
        line = Strip([Segment("泰安"), Segment("督导")])
        assert line.divide([8]) == [line] and line.divide(iter([8, 9])) == [line]
        assert line.crop_extend(0, 8, None) is line
        assert [s.text for s in line.divide([4, 8])] == ["泰安", "督导"]
        assert line.crop_extend(0, 10, None).text == "泰安督导  "
        cache = LRUCache(4)
        for i in range(6):
            cache[i] = [Segment(str(i))]
        cache.clear()
        cache["again"] = "kept"
        assert len(cache) == 1 and cache.get("again") == "kept"
        del line, cache
        gc.collect()
        ours = [o for o in gc.garbage if isinstance(o, (Strip, Segment))
                or (isinstance(o, list) and o and isinstance(o[0], Segment))]
        assert ours == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
