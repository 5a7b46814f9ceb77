"""`taian export enterprises`: the import's columns back out, Excel-safe, and an export
re-imports unchanged."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from taian_tui.dataio import export
from taian_tui.dataio import reading
from taian_tui.dataio import registry
from taian_tui.store import Store

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def test_neutralise_round_trip():
    for value in ["", "plain", "=1+1", "+86 538", "-", "-2", "@SUM(A1)", "\tx", "\rx", "'", "'plain",
                  "'=1", "''=1", "'''+x", "泰安", "a=b"]:
        out = reading.neutralise(value)
        assert reading.unneutralise(out) == value
        assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_csv_bom_chinese_headers_and_neutralised_cells(store, tmp_path):
    registry.import_enterprises(store, "system:import", FIX / "enterprises_formula.csv")
    registry.import_enterprises(store, "system:import", FIX / "enterprises_leading_zero_phone.csv")
    out = tmp_path / "e.csv"
    result = CliRunner().invoke(cli.app, ["export", "enterprises", "--db", str(store.path), "--output", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["企业名称", "统一社会信用代码", "所属县市区", "行业", "企业标签", "联系人", "联系电话", "注册地址"]
    cells = [c for r in rows[1:] for c in r]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"点击\")" in cells
    assert "'@SUM(1+1)" in cells and "'+865386281234" in cells and "'-" in cells and "'-2+3" in cells
    assert "05380000001" in cells                       # leading zero kept
    assert len(rows) == 1 + 1 + 2 + 4                     # the conftest enterprise + 6


def test_export_then_import_reports_nothing_new(store, tmp_path):
    for name in ("enterprises_base.csv", "enterprises_formula.csv", "enterprises_leading_zero_phone.csv",
                 "enterprises_control_chars.csv", "enterprises_crlf.csv", "enterprises_fullwidth.csv"):
        registry.import_enterprises(store, "system:import", FIX / name)
    out = tmp_path / "e.csv"
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        n = export.export_enterprises(store, fh, "csv")
    before = store.all("SELECT * FROM enterprises ORDER BY uscc")
    r = registry.import_enterprises(store, "system:import", out)
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected) == (n, 0, 0, n, 0)
    assert [tuple(x) for x in store.all("SELECT * FROM enterprises ORDER BY uscc")] == [tuple(x) for x in before]


def test_export_to_stdout_and_json(store, run_cli):
    registry.import_enterprises(store, "system:import", FIX / "enterprises_base.csv")
    result = CliRunner().invoke(cli.app, ["export", "enterprises", "--db", str(store.path)])
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf\xe4\xbc\x81")        # BOM, then 企
    result = CliRunner().invoke(cli.app, ["export", "enterprises", "--db", str(store.path), "--format", "json"])
    data = json.loads(result.stdout_bytes.decode("utf-8"))
    assert len(data) == 6 and set(data[0]) == {"name", "uscc", "county", "industry", "tags", "contact",
                                                 "phone", "address"}
    assert [d["phone"] for d in data if d["uscc"] == "91370900MA00000019"] == ["05388888801"]
    code, out, err = run_cli("export", "enterprises", "--db", str(store.path), "--format", "xml")
    assert code == 2 and "--format must be csv, json or xlsx" in err


def test_empty_export(tmp_path):
    path = tmp_path / "empty.db"
    Store(path).close()
    result = CliRunner().invoke(cli.app, ["export", "enterprises", "--db", str(path), "--format", "json"])
    assert json.loads(result.stdout_bytes) == []


def test_a_persons_exports_are_only_their_plain_files(tmp_path):
    """What `exports list|get` of a key's session gives (``export.personal_files`` and
    ``open_personal_export``): the regular files of ``exports/USER/`` beside the database;
    not a FIFO (refused at once, never waited on), nor a name with a folder in it."""
    import os

    db = tmp_path / "taian.db"
    db.write_bytes(b"")
    target = export.personal_export(db, "zrzy1", "诉求", "2026-11-27T09:00:00+08:00")
    assert target == tmp_path / "exports" / "zrzy1" / "诉求-zrzy1-20261127-090000.xlsx"
    target.write_bytes(b"PK\x03\x04data")
    os.utime(target, (1795741200, 1795741200))
    os.mkfifo(target.parent / "pipe.xlsx")
    assert export.personal_files(db, "zrzy1") == [
        export.ExportFile("诉求-zrzy1-20261127-090000.xlsx", 8, "2026-11-27T09:00:00+08:00")]
    assert export.personal_files(db, "sthj1") == []
    fh, info = export.open_personal_export(db, "zrzy1", target.name)
    with fh:
        assert (fh.read(), info.size) == (b"PK\x03\x04data", 8)
    for name, error, message in (
            ("pipe.xlsx", export.ExportRefused, "'pipe.xlsx' is not one of your exports (not a plain file)"),
            ("zrzy1/x.xlsx", export.ExportRefused, "'zrzy1/x.xlsx' is not the name of an export: give a file name "
                                                   "as `exports list` shows it (no folder, no path)"),
            ("x\n.xlsx", export.ExportRefused, "'x\\n.xlsx' is not the name of an export: give a file name as "
                                               "`exports list` shows it (no folder, no path)"),
            ("gone.xlsx", export.NoSuchExport, "no export named 'gone.xlsx' in your folder: `exports list` shows "
                                               "yours")):
        with pytest.raises(error) as exc:
            export.open_personal_export(db, "zrzy1", name)
        assert str(exc.value) == message
