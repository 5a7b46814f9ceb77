"""The console's export key (``x``, and the palette's command) on every list screen: the inbox
with its filter, the escalation board, the red cards, the project board and the dashboard's
三率 ranking, each written as a workbook into the user's folder beside the database
(``exports/USER/``, 0700; the file 0600), in a worker, with progress in the status line and
the path in a notification. Read back with python-calamine; the values by hand from the
fixture city (conftest.py; now = Tue 2026-10-20 09:00).
"""
from __future__ import annotations

import datetime as dt
import os
import stat
import threading

import pytest
from python_calamine import CalamineWorkbook
from textual.widgets import Select, Static

from taian_tui.console.app import TaianApp
from taian_tui.dataio import export as writing
from taian_tui.read import exports
from taian_tui.screens.dashboard import DashboardScreen
from taian_tui.screens.escalation import BoardScreen, RedCardScreen
from taian_tui.screens.exporting import ExportsList
from taian_tui.screens.inbox import InboxScreen
from taian_tui.screens.projects import ProjectBoardScreen

SIZE = (120, 36)
STAMP = "20261020-090000"                      # TAIAN_NOW, the server's clock
AS_OF = "数据截至 2026-10-20 09:00:00（北京时间）"
ENTERPRISE = "泰安示范新材料有限公司"
ZRZY = "市自然资源和规划局"
APPEAL_HEADER = ["编号", "状态", "挂牌", "类别", "县市区", "企业", "统一社会信用代码", "标题", "承办单位", "提交时间",
                 "到达时间", "办理期限", "剩余工作日", "答复时间", "企业评价", "督办中", "延期待批"]


def app_for(db, user, **kw) -> TaianApp:
    return TaianApp(db, username=user, poll=False, **kw)


def values(path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)


def d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def notes(app) -> list[tuple[str, str, str]]:
    """(title, message, severity) of the notifications shown."""
    return [(n.title, n.message, n.severity) for n in app._notifications]


def status(app, selector: str = "#status") -> str:
    return str(app.screen.query_one(selector, Static).render())


async def export(pilot, settle) -> None:
    await pilot.press("x")
    await settle(pilot)


# -- the inbox: what its filter shows ---------------------------------------------------------------------
async def test_inbox_exports_the_appeals_of_its_filter(settle, tui_db, store):
    exports_dir = tui_db.parent / "exports"
    exports_dir.mkdir(mode=0o755)
    os.chmod(exports_dir, 0o755)                # made by someone else, too open: narrowed
    audit_rows = store.scalar("SELECT COUNT(*) FROM audit")
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#f-card", Select).value = "blue"
        await settle(pilot)
        assert [r.ref for r in app.screen.rows] == ["A-2026-0003", "A-2026-0005", "A-2026-0006"]
        await export(pilot, settle)
        path = exports_dir / "zrzy1" / f"诉求-zrzy1-{STAMP}.xlsx"
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]   # no temporary file left
        assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(exports_dir) == 0o700
        rows = values(path)
        # zrzy1's 待办 (assigned, accepted) with a blue card, by deadline (the same day: by id)
        assert rows[0] == ["诉求清单 · 范围：zrzy1（联络员，市自然资源和规划局）可见的 · "
                           f"筛选：状态 已交办、已签收；挂牌 蓝牌 · {AS_OF}"] + [""] * 16
        assert rows[1] == APPEAL_HEADER
        assert [r[0] for r in rows[2:]] == ["A-2026-0003", "A-2026-0005", "A-2026-0006"]
        assert rows[2] == ["A-2026-0003", "已交办", "蓝牌", "土地", "岱岳区", ENTERPRISE, "91370900MA3C12345J",
                           "新增建设用地指标", ZRZY, d("2026-10-13 10:00"), d("2026-10-13 10:00"),
                           d("2026-10-20 23:59:59"), 0.0, "", "", "", ""]
        assert rows[3][7] == "[/b] 标记 [red]x[/red]"       # a title as it is, never markup
        assert rows[4][1] == "已签收"
        done = f"已导出 3 行：{path}"
        assert ("导出完成", done, "information") in notes(app)
        assert app.screen.export_note == done
        assert status(app).startswith(f"第 1/1 页 · 第 1–3 条，共 3 条 · 按期限  │  已导出 3 行：{exports_dir}")
        # again in the same second: a new file beside it, the first one left as it was
        before = path.read_bytes()
        await export(pilot, settle)
        again = path.with_name(f"诉求-zrzy1-{STAMP}-2.xlsx")
        assert app.screen.export_note == f"已导出 3 行：{again}"
        assert path.read_bytes() == before and values(again)[2:] == rows[2:]
    assert store.scalar("SELECT COUNT(*) FROM audit") == audit_rows         # a read: no audit row


async def test_inbox_export_follows_search_due_day_and_sort(settle, tui_db):
    app = app_for(tui_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#f-state", Select).value = "all"
        screen.query_one("#f-due", Select).value = "today"
        await settle(pilot)
        screen.set_sort("ref")
        await settle(pilot)
        await export(pilot, settle)
        rows = values(tui_db.parent / "exports" / "admin" / f"诉求-admin-{STAMP}.xlsx")
        assert rows[0][0] == f"诉求清单 · 范围：admin（管理员，市发展和改革委员会）可见的 · 筛选：今日到期；按编号排序 · {AS_OF}"
        # due today (10-20), open: A-0003, A-0005, A-0006 (zrzy) and A-0004 (sthj, its extension pending)
        assert [r[0] for r in rows[2:]] == ["A-2026-0003", "A-2026-0004", "A-2026-0005", "A-2026-0006"]
        assert rows[3][16] == "是"
        assert [r.ref for r in screen.rows] == [r[0] for r in rows[2:]]


async def test_progress_in_the_status_line_and_a_second_press_waits(settle, tui_db, monkeypatch):
    monkeypatch.setattr(writing, "PROGRESS_EVERY", 2)
    seen: list[str] = []
    set_note = ExportsList._set_export_note
    monkeypatch.setattr(ExportsList, "_set_export_note", lambda self, text: (seen.append(text), set_note(self, text)))
    release = threading.Event()
    appeals_table = exports.appeals_table

    def slow(*args, **kw):              # the list is read once the test lets it
        assert release.wait(10)
        return appeals_table(*args, **kw)
    monkeypatch.setattr(exports, "appeals_table", slow)

    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#f-state", Select).value = "all"
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert status(app).endswith("│  导出中…")
        await pilot.press("x")                  # while the first runs: said, not done twice
        await pilot.pause()
        assert ("", "正在导出，请等这次导出完成。", "information") in notes(app)
        release.set()
        await settle(pilot)
        folder = tui_db.parent / "exports" / "zrzy1"
        assert [p.name for p in folder.iterdir()] == [f"诉求-zrzy1-{STAMP}.xlsx"]
        # zrzy1's six appeals (every state), a progress line every 2 rows
        assert seen == ["导出中…", "导出中… 已写 2 行", "导出中… 已写 4 行", "导出中… 已写 6 行",
                        f"已导出 6 行：{folder / f'诉求-zrzy1-{STAMP}.xlsx'}"]
        assert len(values(folder / f"诉求-zrzy1-{STAMP}.xlsx")) == 2 + 6


# -- the escalation board and the red cards --------------------------------------------------------------
async def test_board_exports_the_open_carded_appeals(settle, tui_db):
    app = app_for(tui_db, "ducha1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("3")                  # on another view too: the card columns are exported
        await settle(pilot)
        await export(pilot, settle)
        path = tui_db.parent / "exports" / "ducha1" / f"督办看板-ducha1-{STAMP}.xlsx"
        rows = values(path)
        assert rows[0][0] == ("诉求清单 · 范围：ducha1（督查室，市委市政府督查室）可见的 · "
                              f"筛选：状态 已交办、已签收；挂牌 有挂牌 · {AS_OF}")
        assert rows[1] == APPEAL_HEADER
        # red A-0001 (due 10-12, 6 working days past, its order open), then the blue ones due
        # today, zrzy's and sthj's A-0004 (its extension pending)
        assert [(r[0], r[2], r[12], r[15], r[16]) for r in rows[2:]] == [
            ("A-2026-0001", "红牌", -6.0, "是", ""), ("A-2026-0003", "蓝牌", 0.0, "", ""),
            ("A-2026-0004", "蓝牌", 0.0, "", "是"), ("A-2026-0005", "蓝牌", 0.0, "", ""),
            ("A-2026-0006", "蓝牌", 0.0, "", "")]
        board = app.screen.board
        assert sorted(r[0] for r in rows[2:]) == sorted(i.ref for c in board.columns.values() for i in c.items)
        assert mode(path) == 0o600
        assert ("导出完成", f"已导出 5 行：{path}", "information") in notes(app)
        assert status(app, "#viewbar").endswith(f"3 不满意复核（1）   │  已导出 5 行：{path}")


async def test_red_cards_export_from_the_palette(settle, tui_db):
    app = app_for(tui_db, "jiwei1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RedCardScreen)
        folder = tui_db.parent / "exports" / "jiwei1"
        [command] = [c for c in app.screen.palette_commands() if c[0] == "导出红牌清单（Excel）"]
        assert command[1] == f"按 x；文件写入 {folder}"
        command[2]()
        await settle(pilot)
        rows = values(folder / f"红牌-jiwei1-{STAMP}.xlsx")
        assert rows[0][0] == f"红牌清单 · 范围：jiwei1（纪委监委，市纪委监委）可见的 · 筛选：全部 · {AS_OF}"
        assert rows[1][:3] == ["诉求编号", "标题", "企业"]
        assert [r[:2] for r in rows[2:]] == [["A-2026-0001", "用地指标落实"]]
        assert f"已导出 1 行：{folder}" in status(app)


# -- the project board and the dashboard ------------------------------------------------------------------
async def test_project_board_exports_its_tab_and_filters(settle, board_db):
    app = app_for(board_db, "admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectBoardScreen)
        await pilot.press("0")                  # every library level
        await settle(pilot)
        screen.query_one("#pf-stage", Select).value = "在建"
        await settle(pilot)
        assert [r.ref for r in screen.rows] == ["P-0003", "P-0002"]
        await export(pilot, settle)
        path = board_db.parent / "exports" / "admin" / f"重大项目-admin-{STAMP}.xlsx"
        rows = values(path)
        assert rows[0] == [f"重大项目清单 · 范围：admin（管理员，市发展和改革委员会）可见的 · 筛选：阶段 在建 · {AS_OF}"] + [""] * 12
        assert rows[1] == ["编号", "项目名称", "企业", "县市区", "类别", "阶段", "入库", "总投资（万元）", "已完成投资（万元）",
                           "进度", "在办诉求", "责任单位", "可视化"]
        # in the board's order (the larger investment first); A-2026-0001 is about P-0003
        assert rows[2:] == [
            ["P-0003", "岱岳区新能源储能电站", ENTERPRISE, "岱岳区", "市重点建设项目", "在建", "省重点", 320000.0,
             190000.0, 0.62, 1.0, screen_unit(screen, "P-0003"), "是"],
            ["P-0002", "泰山区智能制造产业园", ENTERPRISE, "泰山区", "新旧动能转换项目", "在建", "市重点", 85000.0,
             38000.0, 0.45, 0.0, screen_unit(screen, "P-0002"), "是"]]
        assert mode(path) == 0o600


def screen_unit(screen, ref: str) -> str:
    return next(r.unit for r in screen.rows if r.ref == ref)


async def test_dashboard_exports_the_ranking_of_the_month_shown(settle, tui_db):
    app = app_for(tui_db, "shizhang")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen) and app.screen.month == "2026-10"
        await export(pilot, settle)
        path = tui_db.parent / "exports" / "shizhang" / f"三率排名-shizhang-{STAMP}.xlsx"
        rows = values(path)
        assert rows[0][0] == f"2026-10 各单位“三率”排名（最差在前） · {AS_OF}（本月至今）"
        assert rows[1] == ["排名", "单位", "类型", "响应率", "按期答复", "期限在本月", "解决率", "未经督办办结", "办结",
                           "满意率", "满意和基本满意", "已评价", "三率平均"]
        # 市自然资源和规划局: deadlines passed in October: A-0001 (unanswered) and A-0002
        # (answered 09-30) -> 1/2; nothing closed; A-0002 不满意 (10-08) -> 0/1; mean 0.25.
        # No other unit had an appeal due, closed or evaluated: last, by name.
        assert rows[2] == [1.0, ZRZY, "部门", 0.5, 1.0, 2.0, "", 0.0, 0.0, 0.0, 0.0, 1.0, 0.25]
        assert all(r[3] == r[6] == r[9] == r[12] == "" for r in rows[3:])
        assert [r[0] for r in rows[2:]] == [float(i) for i in range(1, len(rows) - 1)]
        assert len(rows) - 2 == 58                # every handling unit (56 and the two zones)
        assert f"已导出 58 行：{path.parent}" in status(app, "#dash-caption")
        assert [c[0] for c in app.screen.palette_commands()][1] == "导出 2026-10 三率排名（Excel）"


# -- failures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang, said", [
    ("zh", "导出失败：无法写入 {folder}（不是文件夹），未写出文件"),
    ("en", "export failed: cannot write {folder} (not a folder); nothing was written"),
])
async def test_a_folder_that_cannot_be_written_is_said_and_the_console_goes_on(settle, tui_db, lang, said):
    blocker = tui_db.parent / "exports"
    blocker.write_text("not a folder")          # (as root, a folder's mode would not stop us)
    app = app_for(tui_db, "zrzy1", lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await export(pilot, settle)
        text = said.format(folder=blocker)
        assert (("导出失败" if lang == "zh" else "Export failed"), text, "error") in notes(app)
        assert isinstance(app.screen, InboxScreen) and app.screen.export_note == text
        assert blocker.read_text() == "not a folder"
        blocker.unlink()                        # put right: the next press writes the file
        await export(pilot, settle)
        path = blocker / "zrzy1" / f"诉求-zrzy1-{STAMP}.xlsx"
        assert path.is_file()
        done = f"已导出 5 行：{path}" if lang == "zh" else f"exported 5 rows: {path}"
        assert app.screen.export_note == done


@pytest.mark.parametrize("planted, why", [("link", "不是文件夹"), ("owner", "属于其他账户")])
async def test_a_folder_planted_by_another_account_is_not_written_into(settle, tui_db, tmp_path, planted, why):
    folder = tui_db.parent / "exports" / "zrzy1"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.parent.mkdir()
    if planted == "link":                       # a link to a folder somebody else reads
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another account needs root")
        folder.mkdir()
        os.chown(folder, 65534, 65534)          # nobody's
    app = app_for(tui_db, "zrzy1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await export(pilot, settle)
        assert app.screen.export_note == f"导出失败：无法写入 {folder}（{why}），未写出文件"
        assert list(elsewhere.iterdir()) == [] and list(folder.iterdir()) == []


async def test_a_screenshot_goes_to_the_persons_export_folder(settle, tui_db, tmp_path, monkeypatch):
    # never into the working directory (the service account's, on the server)
    import os
    import stat

    from taian_tui.console.app import TaianApp

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    app = TaianApp(tui_db, username="zrzy1", poll=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screenshot_to_exports()
        await settle(pilot)
        folder = tui_db.parent / "exports" / "zrzy1"
        files = sorted(os.listdir(folder))
        assert len(files) == 1 and files[0].startswith("screenshot-zrzy1-") and files[0].endswith(".svg")
        assert stat.S_IMODE(os.stat(folder / files[0]).st_mode) == 0o600
        assert (folder / files[0]).read_text(encoding="utf-8").startswith("<svg")
        assert os.listdir(cwd) == []
        assert [n.message for n in app._notifications] == [
            f"截图已保存：{files[0]}（用 ssh … exports get {files[0]} 取回）"]
