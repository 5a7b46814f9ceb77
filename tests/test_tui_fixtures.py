"""Shared fixtures of the console tests (imported by the other ``test_tui_*`` modules; it
holds no tests itself). Built on tests/conftest.py's small city (``store``, ``submit``,
``make_appeal``), at a fixed "now" (``TAIAN_NOW``) so that screens and snapshots are stable.

The appeals (now = Tue 2026-10-20 09:00):

* A-2026-0001 land -> zrzy, accepted 09-29, never answered: blue, yellow and red cards
  (supervision order due 10-19 passed).
* A-2026-0002 land -> zrzy, answered, evaluated 不满意: disputed.
* A-2026-0003 land -> zrzy, arrived 10-13: assigned, due today (blue).
* A-2026-0004 environment -> sthj, title 环评批复办理进度, accepted, an extension request pending.
* A-2026-0005 land -> zrzy, title ``[/b] 标记 [red]x[/red]``: assigned, due today.
* A-2026-0006 land -> zrzy, title with an escape sequence, a bell and an emoji (set with
  SQL, as an import could leave it): accepted, due today.
* A-2026-0007 land -> zrzy, arrived Fri 10-16: assigned, due 10-23 (3 working days left).
"""
from __future__ import annotations

import asyncio
import functools

import pytest

from taian_tui import escalation
from taian_tui import workflow as wf

NOW = "2026-10-20T09:00:00+08:00"
LATER = "2026-10-13T10:00:00+08:00"
EVIL_TITLE = "\x1b[2J\x07清屏 🚧 [bold]施工[/bold] \u202eevil"
MARKUP_TITLE = "[/b] 标记 [red]x[/red]"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("TAIAN_NOW", NOW)
    monkeypatch.delenv("TAIAN_THEME", raising=False)


def build_fixture(store, submit, make_appeal) -> None:
    make_appeal("accepted", ref="A-2026-0001", title="用地指标落实", body="请协调用地指标")
    make_appeal("disputed", ref="A-2026-0002", title="不动产权证办理",
                body="办理进度慢")
    escalation.sweep(store, NOW, notify=False)  # A-0001: blue, yellow, red
    submit("A-2026-0003", at=LATER, title="新增建设用地指标", body="土地报批进度")
    a4 = submit("A-2026-0004", at=LATER, category="环评", title="环评批复办理进度",
                body="项目环境影响评价报告书审批")
    wf.accept_appeal(store, "sthj1", a4.ref, at="2026-10-13T11:00:00+08:00")
    wf.request_extension(store, "sthj1", a4.ref, 5, "需补充专家论证", at="2026-10-14T10:00:00+08:00")
    submit("A-2026-0005", at=LATER, title=MARKUP_TITLE, body="正文 [link=http://x]点我[/link] [/]")
    a6 = submit("A-2026-0006", at=LATER, title="施工许可", body="第一行\n第二行\t制表")
    wf.accept_appeal(store, "zrzy1", a6.ref, at="2026-10-13T11:00:00+08:00")
    with store.transaction():
        store.conn.execute("UPDATE appeals SET title = ? WHERE ref = ?", (EVIL_TITLE, a6.ref))
    submit("A-2026-0007", at="2026-10-16T10:00:00+08:00", title="供电线路接入", body="供电")
    escalation.sweep(store, NOW, notify=False)  # the ones due today: blue
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture
def tui_db(store, submit, make_appeal, db_path):
    build_fixture(store, submit, make_appeal)
    return db_path


def aio(test):
    """Run an ``async def`` test with asyncio (no pytest async plugin is installed)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return run


async def settle(pilot, rounds: int = 3) -> None:
    """Let the workers finish and their messages land."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:
    """The current screen as plain text lines (what a user sees, without colours)."""
    import io

    from rich.console import Console

    width, _height = app.size
    lines = app.screen._compositor.render_update(full=True)
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=True,
                      color_system=None, legacy_windows=False)
    console.print(lines)
    return console.export_text()
