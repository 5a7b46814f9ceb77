"""A page waits a moment for its count (read beside it, on a connection of its own): a count
that comes within ``COUNT_WAIT`` is shown with its page, in one frame; a slow one does not
hold the page back longer than that."""
from __future__ import annotations

import threading
import time

import pytest

from textual.screen import Screen

from taian_tui.console.app import TaianApp
from taian_tui.read import appeals
from taian_tui.screens import paged
from taian_tui.screens.inbox import InboxScreen

SIZE = (120, 36)


@pytest.mark.parametrize("count_takes, with_its_count", [(0.02, True), (0.4, False)], ids=["quick", "slow"])
async def test_a_page_is_shown_with_a_count_that_comes_soon(monkeypatch, settle, tui_db, count_takes,
                                                            with_its_count):
    real_count = appeals.count_appeals

    def slow_count(*args, **kw):
        time.sleep(count_takes)
        return real_count(*args, **kw)
    monkeypatch.setattr(appeals, "count_appeals", slow_count)
    shown = []          # what was shown, and each frame drawn, in order
    for name in ("page_shown", "total_shown"):
        monkeypatch.setattr(InboxScreen, name, lambda self, request, name=name: shown.append(
            (name, request.generation, time.monotonic())))
    real_refresh = Screen._compositor_refresh
    monkeypatch.setattr(Screen, "_compositor_refresh", lambda self: (
        shown.append(("frame", None, time.monotonic())), real_refresh(self))[1])
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.total == 6            # the admin's 待办: all but the disputed A-2026-0002
        shown.clear()
        started = time.monotonic()
        await pilot.press("t")              # due today: A-2026-0003 to 0006 (arrived 10-13)
        await settle(pilot)
        assert screen.total == 4 and len(screen.rows) == 4
        generation = screen.generation
        events = [name for name, g, _ in shown if g in (generation, None)]
        events = events[events.index("page_shown"):]
        page_at = next(at for name, g, at in shown if g == generation and name == "page_shown")
        if with_its_count:
            # the count came while the page waited for it: both before the next frame
            assert events[:3] == ["page_shown", "total_shown", "frame"]
        else:
            # the page after COUNT_WAIT, drawn without its count; the count when it comes
            assert events[:2] == ["page_shown", "frame"] and events.count("total_shown") == 1
            assert paged.COUNT_WAIT <= page_at - started < count_takes


async def test_a_read_starts_at_once_not_when_the_ui_thread_is_next_free(settle, tui_db):
    """``run_in_store`` starts its thread before it returns: a Textual thread worker starts
    its thread only when its task first runs, after the UI thread's work in hand (a filter
    chosen started its read 25 ms late, behind the redraw of its list closing)."""
    from taian_tui.console import workers

    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        started = threading.Event()
        worker = workers.run_in_store(app.screen, "probe", lambda job: started.set())
        # the UI thread has not let its loop run since
        assert started.wait(5) is True
        await settle(pilot)
        assert worker.is_finished and not worker.is_cancelled


async def test_the_footer_keys_wait_for_the_page_on_its_way(monkeypatch, settle, tui_db):
    """While a page asked for is being read, the footer's keys are not read again (their
    redraw would land in the page's frame, a tenth of it): the page's own signal updates them,
    after its frame."""
    from taian_tui.console.widgets import KeysFooter

    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        release = threading.Event()
        real_list = appeals.list_appeals
        monkeypatch.setattr(appeals, "list_appeals", lambda *a, **k: (release.wait(10), real_list(*a, **k))[1])
        read = []
        real_keys = KeysFooter._keys
        monkeypatch.setattr(KeysFooter, "_keys", lambda self, active: (read.append(1), real_keys(self, active))[1])
        await pilot.press("t")              # due today: the filter's signal, then its page
        for _ in range(3):
            await pilot.pause()
        assert screen.page_pending() is True and read == []
        release.set()
        await settle(pilot)
        assert screen.page_pending() is False and len(screen.rows) == 4 and len(read) == 1      # once, after the page


async def test_the_table_takes_the_focus_after_the_frame_of_the_page_searched(monkeypatch, settle, tui_db):
    """A search sent from its box: the page is drawn first, in a frame of its own, then the
    table takes the focus (which repaints the whole screen)."""
    events = []
    monkeypatch.setattr(InboxScreen, "page_shown", lambda self, request: events.append("page"))
    real_refresh = Screen._compositor_refresh

    def frame(self):
        table = self.query_one("#table") if isinstance(self, InboxScreen) else None
        events.append("frame, table focused" if table is not None and self.focused is table else "frame")
        return real_refresh(self)
    monkeypatch.setattr(Screen, "_compositor_refresh", frame)
    app = TaianApp(tui_db, username="admin", poll=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"0003", "enter")
        await settle(pilot)
        await pilot.pause(2 * paged.FOCUS_AFTER_PAGE)
        await settle(pilot)
        screen = app.screen
        assert [r.ref for r in screen.rows] == ["A-2026-0003"] and app.focused is screen.table
        after = events[len(events) - 1 - events[::-1].index("page"):]       # from the search's page on
        assert after[:2] == ["page", "frame"] and "frame, table focused" in after
