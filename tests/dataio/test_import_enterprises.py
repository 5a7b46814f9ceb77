"""`taian import enterprises`: one fixture per real-world problem (fixtures/import/), the
upsert rules, --dry-run/--strict, the report, the audit row, streaming and concurrency."""
from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc
from typer.testing import CliRunner

import cli
from taian_tui.dataio import accounts
from taian_tui.dataio import reading
from taian_tui.dataio import registry
from taian_tui.commands.common import Fail
from taian_tui.store import Store
from taian_tui.domain.refusals import DomainError, PermissionDenied

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def code(i: int) -> str:
    body = f"91370900MA{i:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def taian(*args, input=None):
    """(exit code, stdout, stderr) of ``taian ARGS`` through typer's CliRunner, with the
    exit codes cli.main() gives to Fail and DomainError."""
    result = CliRunner().invoke(cli.app, [str(a) for a in args], input=input)
    code_ = result.exit_code
    if isinstance(result.exception, Fail):
        code_ = result.exception.code
    elif isinstance(result.exception, DomainError):
        code_ = 2
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return code_, result.stdout, result.stderr


def ent(store, c):
    row = store.one("SELECT * FROM enterprises WHERE uscc = ?", (c,))
    return dict(row) if row else None


def imp(store, name, **kw):
    return registry.import_enterprises(store, "system:import", FIX / name, **kw)


def count(store):
    return store.scalar("SELECT COUNT(*) FROM enterprises")


# -- the credit-code check ---------------------------------------------------------------------
@pytest.mark.heavy
def test_fast_uscc_check_agrees_with_stdnum():
    rnd = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(20000):
        body = "".join(rnd.choice("0123456789") for _ in range(8)) + \
            "".join(rnd.choice(alphabet) for _ in range(9))
        good = body + stdnum_uscc.calc_check_digit(body)
        assert registry.uscc_ok(good) and stdnum_uscc.is_valid(good)
        for bad in (good[:17] + rnd.choice(alphabet + "IOZSV"), good[:5] + rnd.choice("ABIOZ") + good[6:],
                    good[:-1], good + "0"):
            assert registry.uscc_ok(bad) == stdnum_uscc.is_valid(bad), bad
        # characters int() would take in a number: signs, "_", spaces, other scripts' digits
        i = rnd.randrange(18)
        for odd in ("_", " ", "+", "-", "\t", "٣", "１", "a", "!", "\x00"):
            bad = good[:i] + odd + good[i + 1:]
            expected = stdnum_uscc.is_valid(bad) and stdnum_uscc.compact(bad) == bad
            assert registry.uscc_ok(bad) is expected, bad


# -- fixtures: one per real-world problem --------------------------------------------------------
def test_base_file_inserts_then_reimport_changes_nothing(store, dump):
    r = imp(store, "enterprises_base.csv")
    assert (r.rows, r.inserted, r.updated, r.unchanged, r.rejected) == (5, 5, 0, 0, 0)
    assert r.exit_code == 0 and r.written
    e = ent(store, code(1))
    assert e["name"] == "泰安华信新材料有限公司" and e["county"] == "岱岳区"
    assert e["tags"] == "规上工业企业,双50强" and e["phone"] == "05388888801"
    before = {k: v for k, v in dump().items() if k not in ("audit", "audit_head")}
    r2 = imp(store, "enterprises_base.csv")
    assert (r2.inserted, r2.updated, r2.unchanged, r2.rejected) == (0, 0, 5, 0)
    after = {k: v for k, v in dump().items() if k not in ("audit", "audit_head")}
    assert after == before                     # the second import changed nothing


def test_gbk_file_is_detected(store):
    r = imp(store, "enterprises_gbk.csv")
    assert r.encoding == "gb18030" and (r.inserted, r.rejected) == (3, 0)
    assert ent(store, code(2))["name"] == "泰安鲁中机械制造有限公司"


def test_encoding_can_be_forced(store):
    r = imp(store, "enterprises_gbk.csv", encoding="gb18030")
    assert r.inserted == 3
    with pytest.raises(reading.ImportFileError, match="not valid utf-8.*--encoding gb18030"):
        imp(store, "enterprises_gbk.csv", encoding="utf-8")


def test_gbk_detected_even_when_the_first_megabyte_is_ascii(store, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "SAMPLE_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_bytes(("name,uscc,county\r\n" + f"Plain Co,{code(101)},泰山区\r\n").encode("gbk")
                     .replace("泰山区".encode("gbk"), b"taishan")
                     + f"泰安晚到中文有限公司,{code(102)},岱岳区\r\n".encode("gbk"))
    r = registry.import_enterprises(store, "system:import", path)
    assert r.encoding == "gb18030" and r.inserted == 2
    assert ent(store, code(102))["name"] == "泰安晚到中文有限公司"


def test_bom_does_not_end_up_in_the_header(store):
    r = imp(store, "enterprises_bom.csv")
    assert (r.inserted, r.rejected, r.ignored_columns) == (3, 0, [])


def test_crlf_and_multiline_cells_keep_physical_line_numbers(store):
    r = imp(store, "enterprises_crlf.csv")
    assert (r.rows, r.inserted, r.rejected) == (4, 3, 1)
    # header 1, row 2, a three-line row 3-5, row 6, the bad row on line 7
    assert [(x.line, x.column) for x in r.rejections] == [(7, "所属县市区")]
    assert "泰安县" in r.rejections[0].reason
    assert ent(store, code(2))["address"] == "泰山区财源街道 东岳大街8号 （北门）"


def test_english_headers_any_order_with_stray_spaces(store):
    r = imp(store, "enterprises_english_headers.csv")
    assert (r.inserted, r.rejected, r.ignored_columns) == (3, 0, [])
    e = ent(store, code(1))
    assert e["name"] == "泰安华信新材料有限公司" and e["phone"] == "05388888801" and e["industry"] == "新材料"


def test_full_width_code_and_phone_are_made_half_width(store):
    r = imp(store, "enterprises_fullwidth.csv")
    assert (r.inserted, r.rejected) == (2, 0)
    assert ent(store, code(1))["phone"] == "0538-8888801"
    assert ent(store, code(2))["phone"] == "05386666602"


def test_phones_stay_text_with_leading_zeros(store):
    r = imp(store, "enterprises_leading_zero_phone.csv")
    assert (r.inserted, r.rejected) == (4, 0)
    assert [ent(store, code(i))["phone"] for i in (11, 12, 13, 14)] == \
        ["05380000001", "+865386281234", "0538-6281234转8001", "-"]


def test_bad_check_digit_is_rejected_and_the_rest_lands(store):
    r = imp(store, "enterprises_bad_checksum.csv")
    assert (r.inserted, r.rejected, r.exit_code) == (2, 1, 1)
    (x,) = r.rejections
    assert (x.line, x.column) == (3, "统一社会信用代码")
    assert f"should be {code(21)[17]}" in x.reason


def test_lower_case_code_is_upper_cased(store):
    r = imp(store, "enterprises_lowercase_code.csv")
    assert (r.inserted, r.rejected) == (1, 0)
    row = store.one("SELECT uscc, name, county FROM enterprises WHERE uscc = ?", (code(22),))
    assert tuple(row) == ("91370900MA0000022E", "泰安小写代码有限公司", "宁阳县")


def test_duplicate_codes_conflict_rejects_both_identical_is_ignored(store):
    r = imp(store, "enterprises_duplicate_code.csv")
    assert (r.rows, r.inserted, r.rejected, r.duplicates) == (4, 1, 2, 1)
    assert sorted(x.line for x in r.rejections) == [2, 4]
    assert all("conflict" in x.reason for x in r.rejections)
    assert "line(s) 4" in r.rejections[0].reason
    assert ent(store, code(31)) is None
    assert ent(store, code(32))["name"] == "泰安重复企业有限公司"


def test_blank_lines_and_empty_rows_are_skipped(store):
    r = imp(store, "enterprises_empty_line.csv")
    assert (r.rows, r.inserted, r.rejected) == (2, 2, 0)


def test_missing_required_column_stops_before_any_write(store, dump):
    before = dump()
    with pytest.raises(reading.ImportFileError, match=r"missing required column 所属县市区 \(county\)"):
        imp(store, "enterprises_missing_column.csv")
    assert dump() == before


def test_extra_columns_are_ignored_and_listed(store):
    r = imp(store, "enterprises_extra_column.csv")
    assert (r.inserted, r.rejected) == (2, 0)
    assert r.ignored_columns == ["备注", "成立日期"]
    assert "ignored columns: 备注, 成立日期" in r.summary()


def test_formula_cells_are_stored_as_text_and_the_export_quote_removed(store):
    r = imp(store, "enterprises_formula.csv")
    assert (r.inserted, r.rejected) == (2, 0)
    e = ent(store, code(41))
    assert e["name"].startswith("=HYPERLINK(") and e["contact"] == "@SUM(1+1)"
    assert e["phone"] == "+865386281234" and e["address"] == "-2+3"
    e = ent(store, code(42))
    assert e["name"] == "=1+1 企业"         # the neutralising quote of an export is removed
    assert e["phone"] == "+8653862812"


def test_control_characters_are_removed(store):
    r = imp(store, "enterprises_control_chars.csv")
    assert (r.inserted, r.rejected) == (1, 0)
    e = ent(store, code(51))
    assert e["name"] == "泰安控制字符有限公司"
    assert e["industry"] == "化工" and e["contact"] == "王 经理" and e["phone"] == "05388888851"


def test_spreadsheet_number_phone_is_rejected(store):
    r = imp(store, "enterprises_excel_number.csv")
    assert r.rejected == 1 and r.rejections[0].column == "联系电话"
    assert "spreadsheet number" in r.rejections[0].reason


def test_unclosed_quote_is_reported_at_its_line(store):
    r = imp(store, "enterprises_unclosed_quote.csv")
    assert (r.inserted, r.rejected) == (1, 1)
    assert r.rejections[0].line == 3 and "never closed" in r.rejections[0].reason


def test_shifted_row_with_too_many_cells_is_rejected(store):
    r = imp(store, "enterprises_shifted_row.csv")
    assert (r.inserted, r.rejected) == (1, 1)
    assert r.rejections[0].line == 3 and "9 cells" in r.rejections[0].reason


def test_county_by_unit_code_and_unknown_county(store):
    r = imp(store, "enterprises_county.csv")
    assert (r.inserted, r.rejected) == (1, 1)
    assert ent(store, code(91))["county"] == "泰安高新技术产业开发区"
    assert "济南市" in r.rejections[0].reason


def test_required_cells_missing_each_reported(store, tmp_path):
    path = tmp_path / "missing.csv"
    path.write_text(f"企业名称,统一社会信用代码,所属县市区\n,{code(201)},岱岳区\n泰安无代码有限公司,,泰山区\n"
                    f"泰安无区县有限公司,{code(202)},\n", encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert r.rejected == 3 and r.inserted == 0
    assert [(x.line, x.column) for x in r.rejections] == [(2, "企业名称"), (3, "统一社会信用代码"), (4, "所属县市区")]


# -- upsert rules ------------------------------------------------------------------------------------
def test_later_file_updates_changed_fields_and_says_how_many(store, submit):
    imp(store, "enterprises_base.csv")
    workflow_ent = code(1)
    submit(enterprise_uscc=workflow_ent, ref="A-2026-0777", title="用地指标")
    r = imp(store, "enterprises_update.csv")
    assert (r.inserted, r.updated, r.unchanged, r.rejected) == (1, 1, 1, 0)
    assert r.field_changes == {"name": 1, "phone": 1}
    assert "updated 1 (name 1, phone 1)" in r.summary()
    e = ent(store, code(1))
    assert e["name"] == "泰安华信集团新材料有限公司" and e["phone"] == "05388888899"
    assert e["created_at"] <= e["updated_at"]
    # the appeal search index follows the new name
    hits = store.all("SELECT rowid FROM appeal_search WHERE appeal_search MATCH ?", ('"集团"',))
    assert [h[0] for h in hits] == [store.appeal("A-2026-0777").id]
    assert r.reindexed == 1
    # the updated enterprise has its own audit row, before -> after of what changed
    rows = store.audit_rows("enterprise", code(1))
    assert len(rows) == 1 and rows[0].action == "enterprise.update"
    assert json.loads(rows[0].before) == {"name": "泰安华信新材料有限公司", "phone": "05388888801"}
    assert json.loads(rows[0].after) == {"name": "泰安华信集团新材料有限公司", "phone": "05388888899"}
    assert store.verify_audit().ok


def test_absent_optional_columns_are_left_alone(store, tmp_path):
    imp(store, "enterprises_base.csv")
    path = tmp_path / "names_only.csv"
    path.write_text("统一社会信用代码,企业名称,所属县市区\n" f"{code(1)},泰安华信新材料有限公司,岱岳区\n",
                    encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.unchanged, r.updated) == (1, 0)
    assert ent(store, code(1))["phone"] == "05388888801"


def test_the_import_row_and_its_batch_row(store, audit_count):
    n = audit_count()
    r = imp(store, "enterprises_bad_checksum.csv")
    assert audit_count() == n + 2                 # one batch (its own row), and the import's row
    batch, row = store.all("SELECT * FROM audit ORDER BY id DESC LIMIT 2")[::-1]
    assert (row["actor"], row["action"], row["entity_id"]) == ("system:import", "import.enterprises",
                                                              "enterprises_bad_checksum.csv")
    after = json.loads(row["after"])
    import hashlib
    assert after["sha256"] == hashlib.sha256((FIX / "enterprises_bad_checksum.csv").read_bytes()).hexdigest()
    assert (after["inserted"], after["rejected"], after["rows"], after["batches"]) == (2, 1, 3, 1)
    assert r.sha256 == after["sha256"]
    assert (batch["actor"], batch["action"], batch["entity"], batch["entity_id"]) == \
        ("system:import", "import.batch", "import", "enterprises_bad_checksum.csv")
    b = json.loads(batch["after"])
    assert b == {"import_id": after["import_id"], "file": "enterprises_bad_checksum.csv", "sha256": r.sha256,
                 "batch": 1, "of": 1, "codes": [code(1), code(2)], "inserted": 2, "updated": 0,
                 "unchanged": 0}
    assert store.verify_audit().ok


def test_strict_writes_nothing_when_a_row_is_rejected(store, dump):
    before = dump()
    r = imp(store, "enterprises_bad_checksum.csv", strict=True)
    assert r.rejected == 1 and not r.written and r.exit_code == 1
    assert "strict" in r.summary() and "nothing written" in r.summary()
    assert dump() == before


def test_strict_conflict_writes_nothing(store, dump):
    before = dump()
    r = imp(store, "enterprises_duplicate_code.csv", strict=True)
    assert r.rejected == 2 and not r.written
    assert dump() == before


def test_strict_without_rejections_imports(store):
    r = imp(store, "enterprises_base.csv", strict=True)
    assert r.inserted == 5 and r.written


def test_dry_run_writes_nothing_and_reports_the_same(store, dump, tmp_path):
    imp(store, "enterprises_base.csv")
    before = dump()
    dry = imp(store, "enterprises_update.csv", dry_run=True, report=tmp_path / "dry.csv")
    assert dump() == before
    assert not dry.written and "dry run" in dry.summary() and "would insert 1" in dry.summary()
    real = imp(store, "enterprises_update.csv")
    assert dry.counts() == real.counts()


def test_dry_run_of_problem_file_matches_the_real_run(store, dump):
    before = dump()
    dry = imp(store, "enterprises_duplicate_code.csv", dry_run=True)
    assert dump() == before
    real = imp(store, "enterprises_duplicate_code.csv")
    assert dry.counts() == real.counts()
    assert [(x.line, x.reason) for x in dry.rejections] == [(x.line, x.reason) for x in real.rejections]


def test_report_csv_lists_line_column_value_reason(store, tmp_path):
    report = tmp_path / "report.csv"
    imp(store, "enterprises_crlf.csv", report=report)
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["line", "column", "value", "reason"]
    assert rows[1][:3] == ["7", "所属县市区", "泰安县"]


def test_report_values_are_neutralised(store, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(f"企业名称,统一社会信用代码,所属县市区\n泰安公式有限公司,{code(301)},=cmd|calc\n",
                    encoding="utf-8")
    report = tmp_path / "r.csv"
    registry.import_enterprises(store, "system:import", path, report=report)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[1][2] == "'=cmd|calc"


def test_a_liaison_may_not_import(store, dump):
    before = dump()
    with pytest.raises(PermissionDenied, match="only admin"):
        registry.import_enterprises(store, "zrzy1", FIX / "enterprises_base.csv")
    assert dump() == before
    r = registry.import_enterprises(store, "admin", FIX / "enterprises_base.csv")
    assert r.inserted == 5
    assert store.one("SELECT actor FROM audit ORDER BY id DESC LIMIT 1")[0] == "admin"


def test_empty_file_and_header_only(store, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(reading.ImportFileError, match="empty"):
        registry.import_enterprises(store, "system:import", empty)
    header = tmp_path / "header.csv"
    header.write_text("企业名称,统一社会信用代码,所属县市区\n", encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", header)
    assert (r.rows, r.inserted, r.exit_code) == (0, 0, 0)


def test_the_scratch_database_is_gone_afterwards(store):
    imp(store, "enterprises_base.csv")
    assert "imp" not in [r[1] for r in store.conn.execute("PRAGMA database_list")]
    assert not store.conn.execute("SELECT 1 FROM sqlite_temp_master WHERE type = 'trigger'").fetchall()
    # an update through the same connection still works (no dangling trigger)
    with store.transaction():
        store.conn.execute("UPDATE enterprises SET phone = '1' WHERE uscc = ?", (code(1),))


# -- batches, streaming, concurrency -------------------------------------------------------------
def _big_file(path: Path, n: int, start: int = 1000) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["企业名称", "统一社会信用代码", "所属县市区", "联系电话"])
        for i in range(start, start + n):
            w.writerow([f"泰安批量企业{i}有限公司", code(i), "岱岳区", f"0538{i:07d}"])


def test_small_batches_give_the_same_result(store, tmp_path):
    path = tmp_path / "big.csv"
    _big_file(path, 1234)
    r = registry.import_enterprises(store, "system:import", path, batch_rows=100, pause=0)
    assert (r.inserted, r.rejected) == (1234, 0)
    r = registry.import_enterprises(store, "system:import", path, batch_rows=77, pause=0)
    assert (r.unchanged, r.inserted) == (1234, 0)


def test_another_writer_gets_in_between_batches(db_path, tmp_path):
    path = tmp_path / "big.csv"
    _big_file(path, 30000)
    importer = Store(db_path)
    waits: list[float] = []
    done = threading.Event()

    def writer():
        other = sqlite3.connect(db_path, timeout=60, isolation_level=None)
        while not done.is_set():
            t = time.monotonic()
            other.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - t)
            other.execute("UPDATE settings SET value = value WHERE key = 'calendar_seeded'")
            other.execute("COMMIT")
            time.sleep(0.01)
        other.close()

    th = threading.Thread(target=writer)
    th.start()
    try:
        r = registry.import_enterprises(importer, "system:import", path, batch_rows=2000)
    finally:
        done.set()
        th.join()
        importer.close()
    assert r.inserted == 30000
    assert len(waits) > 3 and max(waits) < 5.0


def test_progress_only_on_a_terminal(tmp_path, store):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    path = tmp_path / "big.csv"
    _big_file(path, 20000)
    tty = Tty()
    registry.import_enterprises(store, "system:import", path, progress=reading.Progress(tty))
    assert "%" in tty.getvalue() and "[" in tty.getvalue()
    pipe = io.StringIO()
    registry.import_enterprises(store, "system:import", path, progress=reading.Progress(pipe))
    assert pipe.getvalue() == ""


# -- the command -------------------------------------------------------------------------------------
def test_cli_import_exit_codes_and_output(db_path, tmp_path):
    code_, out, err = taian("import", "enterprises", FIX / "enterprises_base.csv", "--db", db_path)
    assert code_ == 0 and "inserted 5" in out and err == ""
    code_, out, err = taian("import", "enterprises", FIX / "enterprises_bad_checksum.csv", "--db", db_path)
    assert code_ == 1 and "rejected 1" in out
    assert "enterprises_bad_checksum.csv:3: 统一社会信用代码: check digit is wrong" in err
    assert "\x1b[" not in out + err                       # no colour: cron-safe
    report = tmp_path / "rep.csv"
    code_, out, _ = taian("import", "enterprises", FIX / "enterprises_crlf.csv", "--db", db_path,
                          "--report", report, "--dry-run")
    assert code_ == 1 and report.exists() and "dry run" in out
    code_, _, _ = taian("import", "enterprises", FIX / "enterprises_missing_column.csv", "--db", db_path)
    assert code_ == 2
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM enterprises WHERE uscc = ?", (code(21),)) == 0
        assert s.scalar("SELECT COUNT(*) FROM enterprises WHERE uscc = ?", (code(1),)) == 1


def test_cli_missing_column_message_and_exit_2(db_path):
    result = CliRunner().invoke(cli.app, ["import", "enterprises", str(FIX / "enterprises_missing_column.csv"),
                                          "--db", str(db_path)])
    assert isinstance(result.exception, Fail) and result.exception.code == 2
    assert "所属县市区 (county)" in str(result.exception)


def test_cli_strict_and_json(db_path):
    code_, out, _ = taian("import", "enterprises", FIX / "enterprises_duplicate_code.csv", "--db", db_path,
                          "--strict", "--json")
    data = json.loads(out)
    assert code_ == 1 and data["rejected"] == 2 and data["written"] is False
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM enterprises WHERE uscc IN (?, ?)", (code(31), code(32))) == 0


def test_cli_actor_from_as_and_env(db_path, monkeypatch):
    code_, _, _ = taian("import", "enterprises", FIX / "enterprises_base.csv", "--db", db_path, "--as", "sthj1")
    assert code_ == 2
    monkeypatch.setenv("TAIAN_USER", "admin")
    code_, _, _ = taian("import", "enterprises", FIX / "enterprises_base.csv", "--db", db_path)
    assert code_ == 0
    with Store(db_path) as s:
        assert s.scalar("SELECT actor FROM audit WHERE action = 'import.enterprises'") == "admin"


def test_cli_missing_file(db_path, tmp_path):
    code_, _, _ = taian("import", "enterprises", tmp_path / "nope.csv", "--db", db_path)
    assert code_ == 2


# -- a large file is checked in two processes: same results as in one ---------------------------------
def _messy_file(path: Path, n: int, *, encoding: str = "utf-8", unclosed_at: int | None = None) -> None:
    """Rows with every kind of problem, spread over the whole file; duplicates whose twin
    is in the other half; multi-line cells everywhere."""
    lines = ["企业名称,统一社会信用代码,所属县市区,联系电话,注册地址"]
    for i in range(n):
        c = code(5000 + i)
        addr = f'"泰山大街{i}号\n{i % 7}号楼"' if i % 5 == 0 else f"东岳大街{i}号"
        county = "泰山区" if i % 97 else "外地县"
        if i % 89 == 0:
            c = c[:17] + ("0" if c[17] != "0" else "1")
        if i == unclosed_at:
            addr = '"没有闭合的地址'
        lines.append(f"泰安企业{i}有限公司,{c},{county},0538{i:07d},{addr}")
        if i % 53 == 0:                                   # its twin, far away (other half)
            lines.append(f"泰安企业{i}有限公司,{code(5000 + (n - 1 - i))},泰山区,0538,远方")
        if i % 71 == 0:
            lines.append("")
    Path(path).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def _outcome(store, r):
    rows = [tuple(x) for x in store.all("SELECT uscc, name, county, phone, address FROM enterprises ORDER BY uscc")]
    return (r.counts(), [(x.line, x.column, x.value, x.reason) for x in r.rejections], rows)


@pytest.mark.parametrize("encoding,unclosed_at,expected", [
    # 1500 rows + 29 twins (i % 53 == 0); rejected: 16 foreign counties (i % 97 == 0) + 17 bad
    # check digits (i % 89 == 0) - 1 (i = 0 is both) + 29 twins x 2 (a conflict rejects both)
    ("utf-8", None, dict(rows=1529, inserted=1439, rejected=90, duplicates=0)),
    ("gbk", None, dict(rows=1529, inserted=1439, rejected=90, duplicates=0)),
    ("utf-8", 700, dict(rows=1525, inserted=1435, rejected=90, duplicates=0)),
])
def test_two_process_check_matches_one_process(both_ways, tmp_path, monkeypatch, encoding, unclosed_at, expected):
    path = tmp_path / "messy.csv"
    _messy_file(path, 1500, encoding=encoding, unclosed_at=unclosed_at)
    monkeypatch.setattr(registry, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(registry, "MAX_SHOWN", 10_000)
    forks, outcomes = both_ways(path, _outcome, report=lambda workers: tmp_path / f"r{workers}.csv")
    assert outcomes[0] == outcomes[1]
    counts = outcomes[0][0]
    assert {k: counts[k] for k in expected} == expected
    assert (tmp_path / "r1.csv").read_bytes() == (tmp_path / "r2.csv").read_bytes()
    # the second half was really checked by a child process (unless the split fell in the
    # never-closed cell: then the file is checked in one piece)
    assert forks == ([1, 2] if unclosed_at is None else [1, 1])
    # the line numbers are right: every reported line holds the value reported
    text = re.split(r"\r\n|\r|\n", path.read_bytes().decode(encoding))
    for line, column, value, reason in outcomes[0][1]:
        if value and column == "统一社会信用代码":
            assert value in text[line - 1], (line, value)


def test_a_failed_child_falls_back_to_one_process(store, tmp_path, monkeypatch):
    path = tmp_path / "messy.csv"
    _messy_file(path, 600)
    monkeypatch.setattr(registry, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(registry, "_cpus", lambda: 2)
    monkeypatch.setattr(registry, "_child_check", lambda *a: registry.os._exit(9))
    parts = []
    real = registry._settle_duplicates
    monkeypatch.setattr(registry, "_settle_duplicates", lambda conn, p, *a: (parts.append(len(p)), real(conn, p, *a)))
    r = registry.import_enterprises(store, "system:import", path)
    # 600 rows + 12 twins; rejected: 7 foreign counties + 7 bad check digits - 1 (i = 0) + 12 x 2
    assert parts == [1] and (r.rows, r.inserted, r.rejected) == (612, 575, 37)


def test_one_cpu_or_another_thread_means_one_process(monkeypatch):
    assert registry._can_fork() is (registry._cpus() > 1)
    monkeypatch.setattr(registry, "_cpus", lambda: 1)
    assert registry._can_fork() is False
    monkeypatch.setattr(registry, "_cpus", lambda: 2)
    assert registry._can_fork() is True
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        assert registry._can_fork() is False      # fork() beside another thread is unsafe
    finally:
        done.set()
        thread.join()


# -- reading: the UTF-8 fast check for control characters -----------------------------------------
@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_utf8_lines_are_cleaned_like_any_other_encoding(tmp_path, monkeypatch, block):
    """The UTF-8 reader decides from the raw bytes whether a block needs cleaning; the
    result must be what the character-level check (used for GB18030) gives, whatever falls
    on a block edge: C0/C1 controls, U+2028/2029, ANSI escapes, middle dots, tabs, CRLF."""
    monkeypatch.setattr(reading, "BLOCK_BYTES", block)
    rnd = random.Random(block)
    pieces = ["泰安", "企业", "abc", "123", ",", '"', "\r\n", "\n", "\r", "\t", "\x00", "\x07", "\x1b[2J",
              "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "·", "“引号”", "…", "—", "\u3000", "é"]
    text = "".join(rnd.choice(pieces) for _ in range(3000))
    (tmp_path / "u.csv").write_bytes(text.encode("utf-8"))
    (tmp_path / "g.csv").write_bytes(text.encode("gb18030"))
    utf8 = list(reading.LineSource(tmp_path / "u.csv", "utf-8"))
    assert utf8 == list(reading.LineSource(tmp_path / "g.csv", "gb18030"))
    joined = "".join(utf8)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\t]", joined.replace("\r", "").replace("\n", "")) 
    assert "·" in joined and "“引号”" in joined


@pytest.mark.parametrize("where", ["missing-folder/r.csv", "."])
def test_a_report_that_cannot_be_written_stops_the_import_before_any_write(store, dump, tmp_path, where,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = dump()
    with pytest.raises(reading.ImportFileError, match="--report .*nothing imported"):
        imp(store, "enterprises_bad_checksum.csv", report=where)
    with pytest.raises(reading.ImportFileError, match="--report .*nothing imported"):
        accounts.import_users(store, "system:import", FIX / "users.csv", report=where)
    assert dump() == before


def test_a_landline_that_lost_its_leading_zero_is_rejected_naming_it(store, tmp_path):
    """0538-8888801 as a spreadsheet number is 5388888801: 10 digits not beginning with 0 is no
    phone (a mobile has 11, a local number 7 or 8; 400/800 service numbers keep 10)."""
    from taian_tui.dataio import registry

    path = tmp_path / "registry.csv"
    path.write_text("企业名称,统一社会信用代码,所属县市区,联系电话\n"
                    "甲公司,91370900MA00000006,岱岳区,5388888801\n"
                    "乙公司,91370900MA00000107,岱岳区,4006001234\n"
                    "丙公司,91370900MA00000208,岱岳区,05388888801\n", encoding="utf-8")
    r = registry.import_enterprises(store, "admin", path)
    assert (r.rows, r.inserted, r.rejected) == (3, 2, 1)
    assert [(x.line, x.column, x.value, x.reason) for x in r.rejections] == [
        (2, "联系电话", "5388888801", "10 digits not beginning with 0: a landline whose leading 0 the "
                                     "spreadsheet dropped? (format the column as text and type it as 0538-8888801)")]


def test_numbers_a_spreadsheet_wrote_as_decimals_or_in_scientific_form(store, tmp_path):
    """A mobile exported as 13800000000.0 keeps its 11 digits (the ".0" dropped); a landline as
    5388888801.0 lost its 0 (refused, as 5388888801 is); a credit code as 9.13709E+17 lost its
    digits, and is said so."""
    from taian_tui.dataio import registry

    path = tmp_path / "registry.csv"
    path.write_text("企业名称,统一社会信用代码,所属县市区,联系电话\n"
                    "甲公司,91370900MA00000006,岱岳区,13800000000.0\n"
                    "乙公司,91370900MA00000107,岱岳区,5388888801.0\n"
                    "丙公司,9.13709E+17,岱岳区,05388888801\n", encoding="utf-8")
    r = registry.import_enterprises(store, "admin", path)
    assert (r.rows, r.inserted, r.rejected) == (3, 1, 2)
    assert store.one("SELECT phone FROM enterprises WHERE uscc = '91370900MA00000006'")[0] == "13800000000"
    assert [(x.line, x.column, x.value, x.reason) for x in r.rejections] == [
        (3, "联系电话", "5388888801.0", "10 digits not beginning with 0: a landline whose leading 0 the "
                                       "spreadsheet dropped? (format the column as text and type it as 0538-8888801)"),
        (4, "统一社会信用代码", "9.13709E+17", "the credit code was turned into a spreadsheet number (digits lost): "
                                              "format the column as text and export again")]


def test_a_government_templates_headers_with_notes_in_brackets(store, tmp_path):
    """统一社会信用代码（18位）, a note wrapped onto a second line in the cell, （必填）, and
    所属县（市、区）: the columns they name (the file was refused: "missing required columns")."""
    from taian_tui.dataio import registry

    path = tmp_path / "registry.csv"
    path.write_text('企业名称（必填）,"统一社会信用代码\n（18位）",所属县（市、区）,联系电话(手机)\n'
                    "甲公司,91370900MA00000006,岱岳区,13800000000\n", encoding="utf-8")
    r = registry.import_enterprises(store, "admin", path)
    assert (r.rows, r.inserted, r.rejected) == (1, 1, 0)
    assert tuple(store.one("SELECT name, county, phone FROM enterprises WHERE uscc = '91370900MA00000006'")) == (
        "甲公司", "岱岳区", "13800000000")
