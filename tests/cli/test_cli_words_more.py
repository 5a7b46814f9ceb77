"""More of the command line's words: one row read and one thing exported in the singular, an
import's --report that is not a regular file (a FIFO, a link) refused, and an anchors file
partly binary read line by line (each line that is not text named, the others checked)."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from taian_tui.dataio import reading
from taian_tui.domain import operations as wf
from taian_tui.domain.escalation import sweep

AT = "2026-11-05T12:00:00+08:00"
ENV = {"TAIAN_NOW": AT, "TAIAN_USER": ""}


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


def uscc(body: str) -> str:
    return body + stdnum_uscc.calc_check_digit(body)


def registry_csv(path: Path, *names: str) -> Path:
    """A registry CSV of one enterprise per name (valid codes, none in the city yet)."""
    rows = [f"{name},{uscc(f'91370900MA3C0{i:04d}')},岱岳区" for i, name in enumerate(names, 1)]
    header = "企业名称,统一社会信用代码,所属县市区\n"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# -- 1 row read ---------------------------------------------------------------------------------------------
def test_an_import_of_one_row_says_row(run_cli, db_path, tmp_path):
    one = registry_csv(tmp_path / "one.csv", "甲公司")
    assert run_cli("import", "enterprises", one, "--db", db_path, "--dry-run") == (
        0, "enterprises one.csv: dry run (nothing written): 1 row read; would insert 1, would update 0, "
           "unchanged 0, rejected 0\n", "")
    assert run_cli("import", "enterprises", one, "--db", db_path) == (
        0, "enterprises one.csv: 1 row read; inserted 1, updated 0, unchanged 0, rejected 0\n", "")
    two = registry_csv(tmp_path / "two.csv", "甲公司", "乙公司")
    assert run_cli("import", "enterprises", two, "--db", db_path) == (
        0, "enterprises two.csv: 2 rows read; inserted 1, updated 0, unchanged 1, rejected 0\n", "")


@pytest.mark.parametrize("rows, words", [(0, "0 rows"), (1, "1 row"), (2, "2 rows")])
def test_the_summary_counts_rows_in_the_singular_for_one(rows, words):
    result = reading.ImportResult("units", "/in/units.csv", rows=rows, inserted=rows)
    assert result.summary() == f"units units.csv: {words} read; inserted {rows}, updated 0, unchanged 0, rejected 0"


# -- exported 1 … -------------------------------------------------------------------------------------------
@pytest.fixture
def one_red(store, submit):
    """One appeal (土地 → 市自然资源和规划局), accepted 09-29 and never answered: the sweep of
    10-13 gives it its yellow card's supervision order, that of 10-20 its red card."""
    submit("A-2026-0001", title="用地指标落实", at=t("09-29"))
    wf.accept_appeal(store, "zrzy1", "A-2026-0001", at=t("09-29", "11:00"))
    sweep(store, t("10-13", "09:00"), applied_at=t("10-13", "09:00"))
    sweep(store, t("10-20", "09:00"), applied_at=t("10-20", "09:00"))
    assert store.appeal("A-2026-0001").card == "red"
    return store


def test_exporting_one_says_it_in_the_singular(run_cli, one_red, db_path, tmp_path):
    for kind, words in (("appeals", "1 appeal"), ("orders", "1 supervision order"), ("red-cards", "1 red card"),
                        ("enterprises", "1 enterprise")):
        out = tmp_path / f"{kind}.csv"
        assert run_cli("export", kind, "-o", out, "--db", db_path, env=ENV)[:2] == (
            0, f"exported {words} to {out} (csv)\n"), kind
    code, _, err = run_cli("export", "appeals", "-o", "-", "--db", db_path, env=ENV)
    assert (code, err.splitlines()[0]) == (0, "exported 1 appeal")
    assert run_cli("export", "enterprises", "--db", db_path, env=ENV)[::2] == (0, "exported 1 enterprise\n")


def test_exporting_none_or_many_says_it_in_the_plural(run_cli, db_path, tmp_path):
    for kind, words in (("appeals", "0 appeals"), ("orders", "0 supervision orders"), ("red-cards", "0 red cards"),
                        ("rates", "58 units")):
        out = tmp_path / f"{kind}.csv"
        assert run_cli("export", kind, "-o", out, "--db", db_path, env=ENV)[:2] == (
            0, f"exported {words} to {out} (csv)\n"), kind


# -- an import's --report that is not a regular file --------------------------------------------------------
def test_an_import_report_that_is_a_fifo_or_a_link_is_refused(run_cli, db_path, store, tmp_path):
    book = registry_csv(tmp_path / "registry.csv", "甲公司")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    (tmp_path / "real.csv").write_text("mine\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "real.csv")
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    enterprises = store.scalar("SELECT COUNT(*) FROM enterprises")
    for target in (fifo, link, dangling):
        refusal = (f"error: --report {target} is not a regular file (a device, pipe or link): give the path of "
                   "a file; nothing imported\n")
        for args in ((), ("--dry-run",)):
            assert run_cli("import", "enterprises", book, "--db", db_path, "--report", target, *args) == (
                2, "", refusal), (target, args)
        with pytest.raises(reading.ImportFileError) as refused:
            reading.check_report_path(target)
        assert str(refused.value) == refusal[len("error: "):-1]
    assert store.scalar("SELECT COUNT(*) FROM enterprises") == enterprises
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.path.islink(link) and (tmp_path / "real.csv").read_text(encoding="utf-8") == "mine\n"
    assert os.path.islink(dangling) and not (tmp_path / "nowhere.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_an_import_report_that_is_a_regular_file_is_replaced(run_cli, db_path, tmp_path):
    book = registry_csv(tmp_path / "registry.csv", "甲公司")
    report = tmp_path / "rej.csv"
    report.write_text("old\n", encoding="utf-8")
    assert run_cli("import", "enterprises", book, "--db", db_path, "--report", report) == (
        0, f"enterprises registry.csv: 1 row read; inserted 1, updated 0, unchanged 0, rejected 0; report: {report}\n",
        "")
    assert report.read_bytes() == b"\xef\xbb\xbfline,column,value,reason\r\n"      # BOM, CSV's CRLF


# -- an anchors file partly binary --------------------------------------------------------------------------
def test_verify_reads_an_anchors_file_line_by_line(run_cli, db_path, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    assert run_cli("audit", "anchor", anchors, "--db", db_path)[0] == 0
    lost = json.dumps({"id": 999999, "hash": "0" * 64, "at": "2026-10-01T00:00:00+08:00"})
    good = anchors.read_bytes()
    anchors.write_bytes(good + b"\xff\xfe binary \x00\n" + lost.encode() + b"\r\n" + b"\n" + b"not json\n"
                        + good.rstrip(b"\n") + b"\r\n" + b"\x80")
    assert run_cli("audit", "verify", "--db", db_path, "--anchors", anchors) == (
        1, "", f"{anchors}:2: not an anchor line (not UTF-8 text)\n"
               "the chain no longer holds the head anchored at 2026-10-01T00:00:00+08:00 (row 999999 is "
               "missing): the trail was rebuilt or cut\n"
               f"{anchors}:5: not an anchor line\n"
               f"{anchors}:7: not an anchor line (not UTF-8 text)\n"
               "error: audit check FAILED: 4 problems (see above)\n")


def test_verify_names_ten_lines_that_are_not_text_and_counts_the_rest(run_cli, db_path, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    assert run_cli("audit", "anchor", anchors, "--db", db_path)[0] == 0
    anchors.write_bytes(anchors.read_bytes() + b"\xff\n" * 12)
    assert run_cli("audit", "verify", "--db", db_path, "--anchors", anchors) == (
        1, "", "".join(f"{anchors}:{n}: not an anchor line (not UTF-8 text)\n" for n in range(2, 12))
               + f"... and 2 more lines of {anchors} that are not anchor lines\n"
               "error: audit check FAILED: 11 problems (see above)\n")


def test_verify_with_a_clean_anchors_file_still_passes(run_cli, db_path, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    assert run_cli("audit", "anchor", anchors, "--db", db_path)[0] == 0
    code, out, err = run_cli("audit", "verify", "--db", db_path, "--anchors", anchors)
    assert (code, err) == (0, "")
    assert out.startswith("audit trail intact: ") and out.endswith(f"; every anchor of {anchors} still in the chain\n")
