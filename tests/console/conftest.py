"""Fixtures of the console tests, built on tests/conftest.py's small city (``store``,
``submit``, ``make_appeal``), at a fixed "now" (``TAIAN_NOW``, autouse) so that screens and
snapshots are stable. The pilot helpers are fixtures too: ``settle`` (let the workers
finish and their messages land), ``screen_text`` (the screen as plain text lines),
``select_key`` (the cursor on a list's row) and ``open_form`` (a row's form, by its key);
``hostile`` holds the hostile texts the fixture city is built with.

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

import gc
from types import SimpleNamespace

import pytest

from taian_tui.domain import escalation
from taian_tui.domain import operations as wf

NOW = "2026-10-20T09:00:00+08:00"
LATER = "2026-10-13T10:00:00+08:00"
EVIL_TITLE = "\x1b[2J\x07清屏 🚧 [bold]施工[/bold] \u202eevil"
MARKUP_TITLE = "[/b] 标记 [red]x[/red]"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("TAIAN_NOW", NOW)
    monkeypatch.delenv("TAIAN_THEME", raising=False)


# -- speed -------------------------------------------------------------------------------------------
# A pilot test makes and drops a great many small objects (messages, strips, styles): with the
# collector's default thresholds its passes take a sixth of the CPU time of these tests. During a
# console test the youngest generation is collected after 50,000 allocations instead of 700
# (the objects of the test are still collected: at this threshold, and at the defaults again
# after the test).
@pytest.fixture(autouse=True)
def fewer_collections():
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    yield
    gc.set_threshold(*thresholds)


# The console freezes what is alive once it has settled (``TaianApp._settle_heap``), for
# good: in a test process that runs console after console, every closed one would stay. Off
# here; tests/console/test_screen_switch.py tests it.
@pytest.fixture(autouse=True)
def no_frozen_heap(monkeypatch):
    from taian_tui.console.app import TaianApp

    monkeypatch.setattr(TaianApp, "SETTLE_HEAP", False)


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


async def _settle(pilot, rounds: int = 3) -> None:
    """Let the workers finish and their messages land."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _screen_text(app) -> str:
    """The current screen as plain text lines (what a user sees, without colours)."""
    import io

    from rich.console import Console

    width, _height = app.size
    lines = app.screen._compositor.render_update(full=True)
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=True,
                      color_system=None, legacy_windows=False)
    console.print(lines)
    return console.export_text()


# -- part 2: projects, instructions, content ---------------------------------------------------------
HOSTILE_PROJECT = "[b]高危[/b] 项目 \x1b[31m红"
MARKDOWN_BODY = ("## 支持政策\n\n对新开工的**重大项目**给予要素保障：\n\n- 用地优先保障\n- 能耗指标单列\n\n"
                 "> 咨询电话 0538-1234567\n\n原样显示 [red]不是标记[/red]")


def build_projects(store, city) -> None:
    """On top of ``build_fixture``: projects in every library level and stage, progress
    reports, a hostile project name, instructions, content items and today's daily listen.

    * P-0001 年产5万吨新材料项目, 岱岳区 (unit daiyue): applied (from conftest).
    * P-0002 泰山区智能制造产业园, 泰山区: 市重点, 在建, visualised, 2 progress reports.
    * P-0003 岱岳区新能源储能电站, 岱岳区 (daiyue): 省重点, 在建, 1 report; appeal A-2026-0001
      (zrzy's) is about it, so zrzy1 sees it but may not report on it; an answered
      instruction of the mayor to daiyue1.
    * P-0004 东平县冷链物流中心: rejected with a reason.
    * P-0005 (hostile name), 岱岳区: 市重点, 前期.
    * P-0006 新泰市光伏电站, 新泰市: 市重点, 投产, 100 %.
    * An open instruction of the mayor to zrzy1 about A-2026-0001.
    * Content: #1 published policy (the daily listen of 2026-10-20), #2 draft with a Markdown
      body, #3 archived news, #4 published investment news.
    """
    USCC, SETUP_AT = city.uscc, city.setup_at

    def apply(ref, name, county, category, invest, stage="前期"):
        wf.apply_project(store, "system:intake", ref=ref, enterprise_uscc=USCC, name=name,
                         county=county, category=category, investment_wan=invest, stage=stage,
                         planned_start="2026-03-01", planned_finish="2027-12-31", at=SETUP_AT)

    apply("P-0002", "泰山区智能制造产业园", "泰山区", "新旧动能转换项目", 85000, "在建")
    apply("P-0003", "岱岳区新能源储能电站", "岱岳区", "市重点建设项目", 320000, "在建")
    apply("P-0004", "东平县冷链物流中心", "东平县", "其他", 6000)
    apply("P-0005", HOSTILE_PROJECT, "岱岳区", "其他", 900)
    apply("P-0006", "新泰市光伏电站", "新泰市", "省儒商大会签约项目", 42000, "投产")
    at = "2026-09-02T10:00:00+08:00"
    wf.review_project(store, "admin", "P-0002", "city", at=at)
    wf.review_project(store, "admin", "P-0003", "province", at=at)
    wf.review_project(store, "admin", "P-0004", "rejected", "不符合入库条件：投资额不足", at=at)
    wf.review_project(store, "admin", "P-0005", "city", at=at)
    wf.review_project(store, "admin", "P-0006", "city", at=at)
    wf.report_progress(store, "system:import", "P-0002", 30, 25000, "主体结构施工", date="2026-09-10",
                       at="2026-09-10T10:00:00+08:00")
    wf.report_progress(store, "system:import", "P-0002", 45, 38000, "设备进场", date="2026-10-10",
                       at="2026-10-10T10:00:00+08:00")
    wf.report_progress(store, "system:import", "P-0003", 62, 190000, "储能舱安装", date="2026-10-12",
                       at="2026-10-12T10:00:00+08:00")
    wf.report_progress(store, "system:import", "P-0006", 100, 42000, "并网发电", date="2026-09-30",
                       stage="投产", at="2026-09-30T10:00:00+08:00")
    with store.transaction():
        store.conn.execute("UPDATE projects SET visualised = 1 WHERE ref IN ('P-0002', 'P-0003')")
        store.conn.execute("UPDATE appeals SET project_ref = 'P-0003' WHERE ref = 'A-2026-0001'")
        # as an import could leave it: markup and an escape sequence in the name
        store.conn.execute("UPDATE projects SET name = ? WHERE ref = 'P-0005'", (HOSTILE_PROJECT,))
    ins = wf.issue_instruction(store, "shizhang", "daiyue1", "请加快储能舱安装，确保年底并网。",
                               project_ref="P-0003", at="2026-10-13T09:00:00+08:00")
    wf.reply_instruction(store, "daiyue1", ins.id, "已组织三班倒施工，预计12月并网。",
                         at="2026-10-14T16:00:00+08:00")
    wf.issue_instruction(store, "shizhang", "zrzy1", "请会同岱岳区现场办公，限期解决用地指标。",
                         appeal_ref="A-2026-0001", at="2026-10-19T15:00:00+08:00")
    c1 = wf.draft_content(store, "bianji", kind="policy", level="市", title="泰安市支持重大项目建设若干措施",
                          body="## 总则\n\n为加快重大项目建设……", source_unit="市发展和改革委员会",
                          tags="重点项目,要素保障", at="2026-10-08T09:00:00+08:00")
    wf.publish_content(store, "bianji", c1.id, at="2026-10-08T10:00:00+08:00")
    wf.draft_content(store, "bianji", kind="policy", level="省", title="山东省关于要素保障的通知（征求意见稿）",
                     body=MARKDOWN_BODY, source_unit="山东省发展和改革委员会", tags="要素保障",
                     at="2026-10-15T09:00:00+08:00")
    c3 = wf.draft_content(store, "bianji", kind="news", level="县", title="岱岳区项目观摩会召开",
                          body="旧闻", at="2026-09-01T09:00:00+08:00")
    wf.archive_content(store, "bianji", c3.id, at="2026-09-02T09:00:00+08:00")
    c4 = wf.draft_content(store, "bianji", kind="investment", level="市", title="泰安新材料产业链招商推介",
                          body="招商项目清单", tags="招商", at="2026-10-16T09:00:00+08:00")
    wf.publish_content(store, "bianji", c4.id, at="2026-10-16T10:00:00+08:00")
    wf.pick_daily_listen(store, "bianji", "2026-10-20", c1.id, at="2026-10-19T18:00:00+08:00")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture
def board_db(tui_db, store, city):
    build_projects(store, city)
    return tui_db


@pytest.fixture
def settle():
    """``await settle(pilot)``: let the workers finish and their messages land."""
    return _settle


@pytest.fixture
def select_key(settle):
    """``await select_key(pilot, key)``: the list's cursor on the row of ``key``."""
    async def select_key(pilot, key: str) -> None:
        screen = pilot.app.screen
        screen.query_one("#table").move_cursor(row=[screen.row_key(r) for r in screen.rows].index(key))
        await settle(pilot)
        assert screen.current_key() == key
    return select_key


@pytest.fixture
def open_form(select_key, settle):
    """``form = await open_form(pilot, key, press)``: the screen on top once the cursor is on
    the row of ``key`` and ``press`` was pressed."""
    async def open_form(pilot, key: str, press: str):
        await select_key(pilot, key)
        await pilot.press(press)
        await settle(pilot)
        return pilot.app.screen
    return open_form


@pytest.fixture
def screen_text():
    """``screen_text(app)``: the current screen as plain text lines (no colours)."""
    return _screen_text


@pytest.fixture
def hostile():
    """The hostile texts of the fixture city (markup, escape sequences, Markdown)."""
    return SimpleNamespace(EVIL_TITLE=EVIL_TITLE, MARKUP_TITLE=MARKUP_TITLE,
                           HOSTILE_PROJECT=HOSTILE_PROJECT, MARKDOWN_BODY=MARKDOWN_BODY)
