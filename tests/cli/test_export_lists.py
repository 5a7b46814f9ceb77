"""`taian export appeals|orders|red-cards|rates|enterprises`: the lists a supervisor prints,
as Excel workbooks (read back with openpyxl for the layout and python-calamine for the
values) and as CSV, with `taian appeal list`'s filters and scope and `taian stats`'s month.

The scenario (conftest's city, as of Thu 2026-11-05 12:00), four appeals that reached
their unit on Tue 2026-09-29 (due 2026-10-12 23:59:59):

* A-2026-0001 土地 → 市自然资源和规划局: answered 09-30, 满意 10-08 → closed (its title
  begins with ``=``: a formula to a spreadsheet);
* A-2026-0002 土地 → 市自然资源和规划局: never answered: blue and yellow (sweep 10-13 09:00:
  a yellow order, opened as of the deadline it passed, due 10-19), red (sweep 10-20
  09:00); taken up by 纪委干部 10-21;
* A-2026-0003 环评 → 市生态环境局: never answered: the same cards, red not taken up;
* A-2026-0004 其他 → 岱岳区: answered 09-30, 不满意 10-08, the unit at fault 10-09 (a
  dispute order due 10-15, back to accepted), answered again 10-14, 满意 10-16 → closed.

October's 三率 by hand: 市生态环境局 响应 0/1, no other → mean 0 (worst); 岱岳区 响应 1/1
(answered 10-14 by the order's due 10-15), 解决 0/1 (closed with an order), 满意 1/1 →
mean 2/3; 市自然资源和规划局 响应 1/2, 解决 1/1, 满意 1/1 → mean 5/6; the other 55
handling units have no data (last, by name).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import stat
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from taian_tui.dataio import registry
from taian_tui.domain import operations as wf
from taian_tui.domain.escalation import sweep

AT = "2026-11-05T12:00:00+08:00"
ENV = {"TAIAN_NOW": AT, "TAIAN_USER": ""}
FORMULA_TITLE = '=HYPERLINK("http://evil.example","用地")'
ZRZY, STHJ, DAIYUE = "市自然资源和规划局", "市生态环境局", "岱岳区"
ENTERPRISE = "泰安示范新材料有限公司"


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


@pytest.fixture
def scenario(store, submit, city):
    submit("A-2026-0001", title=FORMULA_TITLE, at=t("09-29"))
    submit("A-2026-0002", title="用地指标落实", at=t("09-29"))
    submit("A-2026-0003", category="环评", title="环评批复", at=t("09-29"))
    submit("A-2026-0004", category="其他", title="配套道路", at=t("09-29"))
    for ref, liaison in (("A-2026-0001", "zrzy1"), ("A-2026-0002", "zrzy1"), ("A-2026-0003", "sthj1"),
                         ("A-2026-0004", "daiyue1")):
        wf.accept_appeal(store, liaison, ref, at=t("09-29", "11:00"))
    wf.reply_appeal(store, "zrzy1", "A-2026-0001", "已协调", at=t("09-30"))
    wf.reply_appeal(store, "daiyue1", "A-2026-0004", "已答复", at=t("09-30"))
    wf.evaluate_appeal(store, "system:intake", "A-2026-0001", "满意", at=t("10-08"))
    wf.evaluate_appeal(store, "system:intake", "A-2026-0004", "不满意", "答复敷衍", at=t("10-08"))
    wf.review_dispute(store, "ducha1", "A-2026-0004", True, "请重新办理", at=t("10-09"))
    sweep(store, t("10-13", "09:00"), applied_at=t("10-13", "09:00"))
    wf.reply_appeal(store, "daiyue1", "A-2026-0004", "重新答复", at=t("10-14"))
    wf.evaluate_appeal(store, "system:intake", "A-2026-0004", "满意", at=t("10-16"))
    sweep(store, t("10-20", "09:00"), applied_at=t("10-20", "09:00"))
    wf.take_up_red_card(store, "jiwei1", "A-2026-0002", "已立案核查", at=t("10-21"))
    assert [store.appeal(f"A-2026-000{i}").card for i in range(1, 5)] == ["", "red", "red", ""]
    return store


@pytest.fixture
def export(run_cli):
    """``export(db, KIND, *args) -> (exit code, stdout, stderr)``: ``taian export KIND ARGS
    --db db`` through ``cli.main`` (its exit codes and messages), as of ``AT``."""
    return lambda db, *args: run_cli("export", *args, "--db", db, env=ENV)


def values(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)


def widths(ws) -> dict[str, float]:
    """Column letter -> width as the file sets it (xlsxwriter adds 0.71 for the cell's padding)."""
    out = {}
    for dim in ws.column_dimensions.values():
        for i in range(dim.min, dim.max + 1):
            out[openpyxl.utils.get_column_letter(i)] = round(dim.width - 0.7109375, 2)
    return out


def d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


APPEAL_HEADER = ["编号", "状态", "挂牌", "类别", "县市区", "企业", "统一社会信用代码", "标题", "承办单位", "提交时间",
                 "到达时间", "办理期限", "剩余工作日", "答复时间", "企业评价", "督办中", "延期待批"]


# -- appeals ----------------------------------------------------------------------------------------------------
def test_appeals_workbook_title_headers_types_and_layout(export, scenario, db_path, city, tmp_path):
    out = tmp_path / "诉求.xlsx"
    code, stdout, stderr = export(db_path, "appeals", "-o", out)
    assert code == 0, stderr
    assert stdout == f"exported 4 appeals to {out} (xlsx)\n"
    rows = values(out)
    title = "诉求清单 · 范围：全部（操作员） · 筛选：全部 · 数据截至 2026-11-05 12:00:00（北京时间）"
    assert rows[0] == [title] + [""] * 16
    assert rows[1] == APPEAL_HEADER
    assert [r[0] for r in rows[2:]] == ["A-2026-0001", "A-2026-0002", "A-2026-0003", "A-2026-0004"]
    assert rows[2] == ["A-2026-0001", "已办结", "", "土地", "岱岳区", ENTERPRISE, city.uscc, FORMULA_TITLE, ZRZY,
                       d("2026-09-29 10:00"), d("2026-09-29 10:00"), d("2026-10-12 23:59:59"), "",
                       d("2026-09-30 10:00"), "满意", "", ""]
    # open, red, its order still open; 18 working days past the deadline (10-13 .. 11-05)
    assert rows[3] == ["A-2026-0002", "已签收", "红牌", "土地", "岱岳区", ENTERPRISE, city.uscc, "用地指标落实", ZRZY,
                       d("2026-09-29 10:00"), d("2026-09-29 10:00"), d("2026-10-12 23:59:59"), -18.0,
                       "", "", "是", ""]
    assert rows[5][1:4] == ["已办结", "", "其他"] and rows[5][11] == d("2026-10-15 23:59:59")
    assert len(rows) == 6

    ws = openpyxl.load_workbook(out).active
    assert ws.title == "诉求清单"
    assert ws.freeze_panes == "A3"                                  # title and header rows stay in view
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:Q1"]
    assert ws["A2"].font.b and ws["J3"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["J3"].is_date and ws["M4"].data_type == "n"
    assert ws["H3"].data_type == "s" and ws["H3"].value == FORMULA_TITLE and ws["H3"].quotePrefix
    assert ws["H4"].quotePrefix is False
    w = widths(ws)
    # 编号: "A-2026-0001" 11 + 2; 企业: 11 Chinese characters = 22 + 2; 标题: the formula text 36 + 2
    # (用地 counts 4); 状态: 已办结 6 + 2; 挂牌 at least 6; dates 16 + 2
    assert (w["A"], w["B"], w["C"], w["F"], w["H"], w["J"], w["M"]) == (13, 8, 6, 24, 42, 18, 12)


def test_appeals_scope_and_filters_are_appeal_lists(export, scenario, db_path, tmp_path, run_cli):
    def refs(*args) -> list[str]:
        out = tmp_path / f"a{len(list(tmp_path.iterdir()))}.xlsx"
        code, _, stderr = export(db_path, "appeals", "-o", out, *args)
        assert code == 0, stderr
        return [r[0] for r in values(out)[2:]]

    def listed(*args) -> list[str]:
        code, out, err = run_cli("appeal", "list", "--db", db_path, *args, env=ENV)
        assert code == 0, err
        return sorted(line.split("\t")[0] for line in out.splitlines())

    cases = [("--as", "zrzy1"), ("--as", "jiwei1"), ("--as", "daiyue-lead"), ("--state", "accepted"),
             ("--card", "red"), ("--unit", "zrzy"), ("--category", "环评"), ("--search", "批复"),
             ("--as", "zrzy1", "--card", "none")]
    got = {" ".join(c): refs(*c) for c in cases}
    assert got == {
        "--as zrzy1": ["A-2026-0001", "A-2026-0002"],
        "--as jiwei1": ["A-2026-0002", "A-2026-0003"],                 # discipline: red cards only
        "--as daiyue-lead": ["A-2026-0001", "A-2026-0002", "A-2026-0003", "A-2026-0004"],  # all in 岱岳区
        "--state accepted": ["A-2026-0002", "A-2026-0003"],
        "--card red": ["A-2026-0002", "A-2026-0003"],
        "--unit zrzy": ["A-2026-0001", "A-2026-0002"],
        "--category 环评": ["A-2026-0003"],
        "--search 批复": ["A-2026-0003"],
        "--as zrzy1 --card none": ["A-2026-0001"],
    }
    assert {k: sorted(v) for k, v in got.items()} == {" ".join(c): listed(*c) for c in cases}
    out = tmp_path / "scoped.xlsx"
    assert export(db_path, "appeals", "-o", out, "--as", "zrzy1", "--state", "accepted", "--month", "2026-09")[0] == 0
    assert values(out)[0][0] == ("诉求清单 · 范围：zrzy1（联络员，市自然资源和规划局）可见的 · 筛选：状态 已签收；"
                                 "2026-09 提交 · 数据截至 2026-11-05 12:00:00（北京时间）")
    assert [r[0] for r in values(out)[2:]] == ["A-2026-0002"]
    out = tmp_path / "october.xlsx"
    assert export(db_path, "appeals", "-o", out, "--month", "2026-10")[0] == 0
    assert values(out)[2:] == []                                     # none submitted in October


def test_appeals_as_csv(export, scenario, db_path, city, tmp_path):
    out = tmp_path / "诉求.csv"
    code, stdout, _ = export(db_path, "appeals", "-o", out, "--unit", "zrzy")
    assert (code, stdout) == (0, f"exported 2 appeals to {out} (csv)\n")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == APPEAL_HEADER                                  # no title row: scripts read the header first
    assert rows[1] == ["A-2026-0001", "已办结", "", "土地", "岱岳区", ENTERPRISE, city.uscc, "'" + FORMULA_TITLE, ZRZY,
                       "2026-09-29T10:00:00+08:00", "2026-09-29T10:00:00+08:00", "2026-10-12T23:59:59+08:00", "",
                       "2026-09-30T10:00:00+08:00", "满意", "", ""]
    assert rows[2][12] == "-18" and len(rows) == 3


# -- supervision orders and red cards ---------------------------------------------------------------------------
def test_orders_in_opening_order_with_labels(export, scenario, db_path, tmp_path):
    out = tmp_path / "orders.xlsx"
    code, stdout, _ = export(db_path, "orders", "-o", out)
    assert (code, stdout) == (0, f"exported 3 supervision orders to {out} (xlsx)\n")
    rows = values(out)
    assert rows[1] == ["督办单号", "诉求编号", "标题", "企业", "县市区", "类别", "承办单位", "督办来源", "开单时间",
                       "开单人", "督办期限", "结束时间", "督办说明", "诉求状态", "挂牌"]
    assert rows[2:] == [
        [1.0, "A-2026-0004", "配套道路", ENTERPRISE, "岱岳区", "其他", DAIYUE, "不满意复核", d("2026-10-09 10:00"),
         "ducha1", d("2026-10-15 23:59:59"), d("2026-10-14 10:00"), "请重新办理", "已办结", ""],
        [2.0, "A-2026-0002", "用地指标落实", ENTERPRISE, "岱岳区", "土地", ZRZY, "黄牌自动督办",
         d("2026-10-12 23:59:59"), "自动挂牌", d("2026-10-19 23:59:59"), "", "黄牌自动督办", "已签收", "红牌"],
        [3.0, "A-2026-0003", "环评批复", ENTERPRISE, "岱岳区", "环评", STHJ, "黄牌自动督办",
         d("2026-10-12 23:59:59"), "自动挂牌", d("2026-10-19 23:59:59"), "", "黄牌自动督办", "已签收", "红牌"],
    ]
    out = tmp_path / "orders-zrzy.csv"
    assert export(db_path, "orders", "-o", out, "--as", "zrzy1")[0] == 0
    assert [r[1] for r in csv.reader(io.StringIO(out.read_text("utf-8-sig")))] == ["诉求编号", "A-2026-0002"]
    out = tmp_path / "orders-sep.xlsx"
    assert export(db_path, "orders", "-o", out, "--month", "2026-09")[0] == 0
    assert values(out)[2:] == [] and values(out)[0][0].endswith("筛选：2026-09 开单 · 数据截至 2026-11-05 12:00:00（北京时间）")


def test_red_cards_not_taken_up_first(export, scenario, db_path, tmp_path):
    out = tmp_path / "red.xlsx"
    code, stdout, _ = export(db_path, "red-cards", "-o", out, "--as", "jiwei1")
    assert (code, stdout) == (0, f"exported 2 red cards to {out} (xlsx)\n")
    rows = values(out)
    assert rows[0][0] == "红牌清单 · 范围：jiwei1（纪委监委，市纪委监委）可见的 · 筛选：全部 · 数据截至 2026-11-05 12:00:00（北京时间）"
    assert rows[1] == ["诉求编号", "标题", "企业", "县市区", "类别", "承办单位", "诉求状态", "办理期限", "督办期限",
                       "挂红牌时间", "记录时间", "答复时间", "接办人", "接办时间", "接办说明"]
    assert rows[2:] == [
        ["A-2026-0003", "环评批复", ENTERPRISE, "岱岳区", "环评", STHJ, "已签收", d("2026-10-12 23:59:59"),
         d("2026-10-19 23:59:59"), d("2026-10-19 23:59:59"), d("2026-10-20 09:00"), "", "", "", ""],
        ["A-2026-0002", "用地指标落实", ENTERPRISE, "岱岳区", "土地", ZRZY, "已签收", d("2026-10-12 23:59:59"),
         d("2026-10-19 23:59:59"), d("2026-10-19 23:59:59"), d("2026-10-20 09:00"), "", "纪委干部",
         d("2026-10-21 10:00"), "已立案核查"],
    ]
    for month, n in (("2026-10", 2), ("2026-11", 0)):            # the red threshold passed 10-19
        out = tmp_path / f"red-{month}.xlsx"
        assert export(db_path, "red-cards", "-o", out, "--month", month)[0] == 0
        assert len(values(out)) - 2 == n
    out = tmp_path / "red-zrzy.xlsx"
    assert export(db_path, "red-cards", "-o", out, "--unit", "zrzy")[0] == 0
    assert [r[0] for r in values(out)[2:]] == ["A-2026-0002"]


# -- the 三率 ranking ----------------------------------------------------------------------------------------------
def test_rates_in_the_dashboards_order(export, scenario, db_path, tmp_path, run_cli):
    out = tmp_path / "rates.xlsx"
    code, stdout, _ = export(db_path, "rates", "--month", "2026-10", "-o", out)
    assert (code, stdout) == (0, f"exported 58 units to {out} (xlsx)\n")
    rows = values(out)
    assert rows[0][0] == "2026-10 各单位“三率”排名（最差在前） · 数据截至 2026-11-05 12:00:00（北京时间）"
    assert rows[1] == ["排名", "单位", "类型", "响应率", "按期答复", "期限在本月", "解决率", "未经督办办结", "办结",
                       "满意率", "满意和基本满意", "已评价", "三率平均"]
    assert rows[2] == [1.0, STHJ, "部门", 0.0, 0.0, 1.0, "", 0.0, 0.0, "", 0.0, 0.0, 0.0]
    assert rows[3] == [2.0, DAIYUE, "县（市、区）", 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, pytest.approx(2 / 3)]
    assert rows[4] == [3.0, ZRZY, "部门", 0.5, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, pytest.approx(5 / 6)]
    assert len(rows) == 2 + 58
    code, text, _ = run_cli("stats", "--month", "2026-10", "--json", "--db", db_path, env=ENV)
    import json
    ranking = [u["name"] for u in json.loads(text)["unit_rates"]]
    assert [r[1] for r in rows[2:]] == ranking                         # the dashboard's order, all 58
    ws = openpyxl.load_workbook(out).active
    assert ws["D3"].number_format == "0.0%" and ws.title == "三率排名 2026-10"
    out = tmp_path / "rates.csv"
    assert export(db_path, "rates", "--month", "2026-10", "-o", out)[0] == 0
    assert list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))[3] == \
        ["3", ZRZY, "部门", "0.5", "1", "2", "1.0", "1", "1", "1.0", "1", "1", "0.8333"]


# -- files -------------------------------------------------------------------------------------------------------
def test_an_existing_file_is_kept_without_force_and_files_are_private(export, scenario, db_path, tmp_path):
    out = tmp_path / "a.xlsx"
    out.write_bytes(b"keep me")
    code, _, stderr = export(db_path, "appeals", "-o", out)
    assert code == 2 and f"{out} already exists; use --force to replace it" in stderr
    assert out.read_bytes() == b"keep me"
    old = os.umask(0o022)
    try:
        assert export(db_path, "appeals", "-o", out, "--force")[0] == 0
        assert export(db_path, "orders", "-o", tmp_path / "o.csv")[0] == 0
    finally:
        os.umask(old)
    assert values(out)[1] == APPEAL_HEADER
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in tmp_path.iterdir() if p.suffix in (".xlsx", ".csv")} \
        == {"a.xlsx": "0o600", "o.csv": "0o600"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []   # no temporary file left


def test_bad_options_write_nothing(export, scenario, db_path, tmp_path):
    out = tmp_path / "x.xlsx"
    for args, message in ((("--state", "sleeping"), "unknown state"), (("--unit", "nowhere"), "nowhere"),
                          (("--month", "2027-01"), "--month"), (("--format", "pdf"), "--format must be xlsx or csv"),
                          (("--as", "ghost"), "ghost")):
        code, _, stderr = export(db_path, "appeals", "-o", out, *args)
        assert code == 2 and message in stderr, (args, stderr)
        assert not out.exists()
    assert export(db_path, "appeals", "-o", tmp_path / "no" / "x.xlsx")[0] == 2
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("t.db")] == []   # nothing, not even hidden


# -- the registry as a workbook ----------------------------------------------------------------------------------
def test_enterprises_workbook_reimports_unchanged(export, scenario, db_path, store, city, tmp_path):
    out = tmp_path / "企业名录.xlsx"
    code, stdout, _ = export(db_path, "enterprises", "-o", out)
    assert (code, stdout) == (0, f"exported 1 enterprise to {out} (xlsx)\n")
    rows = values(out)
    assert rows == [["企业名录 · 数据截至 2026-11-05 12:00:00（北京时间）"] + [""] * 7,
                    ["企业名称", "统一社会信用代码", "所属县市区", "行业", "企业标签", "联系人", "联系电话", "注册地址"],
                    [ENTERPRISE, city.uscc, "岱岳区", "新材料", "规上工业企业,双50强", "王经理", "05388888888",
                     "岱岳区天平街道"]]
    r = registry.import_enterprises(store, "system:import", out)
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected, r.encoding) == (1, 0, 0, 1, 0, "xlsx")


# -- the format: --format, or the -o name; never one against the other ------------------------------------------------
@pytest.mark.parametrize("kind, args, message", [
    ("appeals", ("-o", "{tmp}/out.json"), "-o {tmp}/out.json: this export writes xlsx or csv, not json: end the name "
                                         "in .xlsx or .csv; nothing written"),
    ("appeals", ("-o", "{tmp}/out.dat"), "-o {tmp}/out.dat: this export writes xlsx or csv, and .dat does not say "
                                        "which: end the name in .xlsx or .csv, or give --format; nothing written"),
    ("rates", ("--format", "csv", "-o", "{tmp}/out.xlsx"), "--format csv but -o {tmp}/out.xlsx ends in .xlsx: name "
                                                          "the file out.csv, or give --format xlsx; nothing written"),
    ("orders", ("--format", "xlsx", "-o", "{tmp}/out.CSV"), "--format xlsx but -o {tmp}/out.CSV ends in .csv: name "
                                                           "the file out.xlsx, or give --format csv; nothing written"),
    ("red-cards", ("--format", "xlsx", "-o", "{tmp}/out.json"), "--format xlsx but -o {tmp}/out.json ends in .json: "
                                                               "name the file out.xlsx; nothing written"),
    ("enterprises", ("--format", "xlsx", "-o", "{tmp}/out.json"), "--format xlsx but -o {tmp}/out.json ends in .json: "
                                                                 "name the file out.xlsx, or give --format json; "
                                                                 "nothing written"),
    ("enterprises", ("-o", "{tmp}/out.xls"), "-o {tmp}/out.xls: this export writes csv, json or xlsx, not xls: end the "
                                            "name in .csv, .json or .xlsx; nothing written"),
])
def test_a_format_the_name_contradicts_is_refused(export, scenario, db_path, tmp_path, kind, args, message):
    args = tuple(a.format(tmp=tmp_path) for a in args)
    code, out, err = export(db_path, kind, *args)
    assert (code, out, err) == (2, "", "error: " + message.format(tmp=tmp_path) + "\n")
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("t.db")] == []   # nothing, not even hidden


def test_the_format_follows_the_name_when_not_given(export, scenario, db_path, tmp_path):
    """.xlsx and .csv (any case) say the format; a name without a suffix is a workbook (the
    default); --format with a name that says no format is the person's choice."""
    for name, args, fmt in (("UPPER.CSV", (), "csv"), ("list.xlsx", (), "xlsx"), ("noext", (), "xlsx"),
                            ("list.dat", ("--format", "csv"), "csv"), ("list.txt", ("--format", "CSV"), "csv")):
        out = tmp_path / name
        code, stdout, stderr = export(db_path, "appeals", "-o", out, *args)
        assert (code, stdout) == (0, f"exported 4 appeals to {out} ({fmt})\n"), stderr
        head = out.read_bytes()[:4]
        assert head == (b"PK\x03\x04" if fmt == "xlsx" else "\ufeff编".encode()[:4]), name


# -- --month is the query's ------------------------------------------------------------------------------------------
def test_appeals_of_a_month_are_selected_by_the_query(export, scenario, submit, db_path, tmp_path, monkeypatch):
    """--month of `export appeals` is a filter of the appeal list's query (``submitted_from`` and
    ``submitted_until`` of ``AppealFilter``, in ``appeals.appeal_where``): the pages hold only
    that month's appeals. A-2026-0005 was submitted on the last second of October, -0006 on
    the first of November, -0007 after the export's time (12:00:00 of 11-05): November as of
    then holds -0006 only; September the scenario's four."""
    from taian_tui.read import appeals

    submit("A-2026-0005", at="2026-10-31T23:59:59+08:00")
    submit("A-2026-0006", at="2026-11-01T00:00:00+08:00")
    submit("A-2026-0007", at="2026-11-05T12:00:01+08:00")
    pages: list[int] = []
    real = appeals.list_appeals

    def spy(*args, **kw):
        page = real(*args, **kw)
        pages.append(len(page))
        return page

    monkeypatch.setattr(appeals, "list_appeals", spy)
    got = {}
    for month in ("2026-09", "2026-10", "2026-11"):
        out = tmp_path / f"{month}.xlsx"
        pages.clear()
        code, _, stderr = export(db_path, "appeals", "-o", out, "--month", month)
        assert code == 0, stderr
        got[month] = ([r[0] for r in values(out)[2:]], sum(pages))
    assert got == {"2026-09": (["A-2026-0001", "A-2026-0002", "A-2026-0003", "A-2026-0004"], 4),
                   "2026-10": (["A-2026-0005"], 1),
                   "2026-11": (["A-2026-0006"], 1)}
    # the list's own filter, as `taian appeal list` and the console use it
    f = appeals.AppealFilter(submitted_from="2026-10-01T00:00:00+08:00", submitted_until="2026-11-01T00:00:00+08:00")
    from taian_tui.domain import actors
    act = actors.actor(scenario, actors.OPERATOR)
    assert [r.ref for r in real(scenario, act, f, at=AT)] == ["A-2026-0005", "A-2026-0006"]
    assert appeals.count_appeals(scenario, act, f, AT) == 2


@pytest.mark.parametrize("kind", ["enterprises", "appeals"])
def test_a_reader_that_stops_early_ends_the_export_quietly(taian_process, demo_db, kind):
    """`taian export ... -o - | head -1`: the reader closes the pipe after the first line; the
    export stops without a word on stderr (no traceback), exit 141 (128 + SIGPIPE), as other
    tools do."""
    p = taian_process("export", kind, "--db", demo_db, "--format", "csv", "-o", "-")
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == 141
    assert err == ""
    assert first.startswith({"enterprises": "\ufeff企业名称,统一社会信用代码,", "appeals": "\ufeff编号,状态,挂牌,类别,"}[kind])
