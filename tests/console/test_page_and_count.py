"""A page waits a moment for its count (read beside it, on a connection of its own): a count
that comes within ``COUNT_WAIT`` is shown with its page, in one frame; a slow one does not
hold the page back longer than that."""
from __future__ import annotations

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
