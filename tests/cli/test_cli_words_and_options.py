"""The command line's words and options: whole help lines, one --limit, appeal refs and
filters as people type them, outputs that are not regular files (devices, FIFOs, links, -),
future --at refused, a dry run on a read-only database, what an interrupted import says,
estimated deadlines marked, and singulars for one."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import stat

import pytest

from taian_tui.store import Store

NOW = {"TAIAN_NOW": "2026-10-08T09:00:00+08:00"}


def _commands(command, path=()):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


# -- help ----------------------------------------------------------------------------------------
def test_every_help_line_is_whole_at_80_columns(run_cli):
    import cli

    paths = list(_commands(cli.command()))
    assert len(paths) == 52          # (with restore)
    for path in paths:
        code, out, err = run_cli(*path, "--help", env={"COLUMNS": "80"})
        assert (code, err) == (0, ""), path
        lines = out.splitlines()
        for line in lines:
            text = line.rstrip()
            if not text.startswith("Usage:"):
                assert not text.endswith("..."), (path, line)
            else:
                assert "{" not in text, (path, line)           # REF, not {ref}
            assert not re.search(r"\w-$", text), (path, line)   # --dry- / run, working- / day
        if "Commands:" in lines:
            rows: list[str] = []
            for line in lines[lines.index("Commands:") + 1:]:
                if line.startswith("   "):
                    rows[-1] += " " + line.strip()           # a description wrapped onto the next line
                elif line.strip():
                    rows.append(line.strip())
            for row in rows:
                name, _, text = row.partition(" ")
                assert text.strip().endswith("."), (path, row)


def test_group_lists_show_short_helps(run_cli):
    code, out, _ = run_cli("import", "--help", env={"COLUMNS": "80"})
    assert out.split("Commands:\n")[1] == (
        "  enterprises  Import the enterprise registry.\n"
        "  users        Create or update accounts.\n"
        "  units        Create or update units.\n"
        "  routing      Set the routing rules.\n")
    code, out, _ = run_cli("appeal", "decide-extension", "--help", env={"COLUMNS": "80"})
    assert out.splitlines()[0] == "Usage: taian appeal decide-extension [OPTIONS] ID"


def test_export_month_help_says_what_each_export_selects(run_cli):
    def month_help(kind):
        _, out, _ = run_cli("export", kind, "--help", env={"COLUMNS": "80"})
        lines = out.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("  --month"))
        words = [lines[first].split("  ", 2)[-1].strip()]
        for line in lines[first + 1:]:
            if not line.startswith("     "):
                break
            words.append(line.strip())
        return " ".join(words)

    assert month_help("appeals") == "YYYY-MM, as `taian stats --month`: the appeals submitted in that month."
    assert month_help("orders") == ("YYYY-MM, as `taian stats --month`: the supervision orders opened in "
                                    "that month.")
    assert month_help("red-cards") == ("YYYY-MM, as `taian stats --month`: the red cards whose threshold "
                                       "passed in that month.")
    assert month_help("rates") == ("YYYY-MM, as `taian stats --month`: the month of the 三率 ranking "
                                   "(default: the current month).")


# -- --limit ---------------------------------------------------------------------------------------
def test_limit_zero_is_no_limit_and_negative_is_refused(run_cli, db_path, make_appeal, tmp_path):
    a, b = make_appeal("accepted"), make_appeal("accepted")
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--limit", "0")
    assert (code, [line.split("\t")[0] for line in out.splitlines()]) == (0, [a.ref, b.ref])
    code, out, _ = run_cli("appeal", "list", "--db", db_path, "--limit", "1")
    assert (code, [line.split("\t")[0] for line in out.splitlines()]) == (0, [a.ref])
    refusal = ("Usage: taian appeal list [OPTIONS]\nTry 'taian appeal list --help' for help.\n\n"
               "Error: Invalid value for '--limit': -1 is negative: give a number of rows, or 0 for no limit\n")
    assert run_cli("appeal", "list", "--db", db_path, "--limit", "-1") == (2, "", refusal)
    code, out, err = run_cli("notify", "send", "--db", db_path, "--limit", "0",
                             "--log-file", tmp_path / "sms.log")
    assert (code, out, err) == (0, "sent 0, failed 0 (will retry 0, gave up 0), unknown 0\n", "")
    code, out, err = run_cli("notify", "send", "--db", db_path, "--limit", "-2")
    assert (code, out) == (2, "") and err.endswith(
        "Error: Invalid value for '--limit': -2 is negative: give a number of rows, or 0 for no limit\n")


# -- refs and filters ----------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["A-2026-0002", "a-2026-0002", "2026-0002", "2026-2", "2", " 2 "])
def test_an_appeal_ref_as_people_type_it(run_cli, db_path, submit, typed):
    submit()
    submit()
    code, out, err = run_cli("appeal", "show", typed, "--db", db_path, "--json", env=NOW)
    assert (code, err, json.loads(out)["ref"]) == (0, "", "A-2026-0002")
    code, out, err = run_cli("appeal", "accept", typed, "--as", "zrzy1", "--db", db_path, env=NOW)
    assert (code, out, err) == (0, "A-2026-0002 accepted; due 2026-10-12T23:59:59+08:00\n", "")


def test_a_bare_number_of_several_years_is_refused(run_cli, db_path, submit):
    submit("A-2025-0007", at="2025-09-29T10:00:00+08:00")
    submit("A-2026-0007")
    assert run_cli("appeal", "show", "7", "--db", db_path, env=NOW) == (
        2, "", "error: appeal number 7 is in several years: A-2025-0007, A-2026-0007; give the whole ref\n")
    assert run_cli("appeal", "show", "8", "--db", db_path, env=NOW) == (
        2, "", "refused: no such appeal: '8'\n")


def test_state_and_card_by_code_in_any_case_or_label(run_cli, db_path, make_appeal):
    a = make_appeal("accepted")
    b = make_appeal("closed")
    run_cli("escalate", "--db", db_path, "--at", "2026-10-12T08:00:00+08:00")

    def refs(*args):
        code, out, err = run_cli("appeal", "list", "--db", db_path, "--json", *args)
        assert (code, err) == (0, "")
        return [r["ref"] for r in json.loads(out)]

    for state in ("accepted", "ACCEPTED", "已签收"):
        assert refs("--state", state) == [a.ref]
    for card in ("blue", "BLUE", "蓝牌", "blue card"):
        assert refs("--card", card) == [a.ref]
    for card in ("none", "NONE", "无牌", "无"):
        assert refs("--card", card) == [b.ref]
    assert refs("--card", "ANY") == [a.ref]
    assert run_cli("appeal", "list", "--db", db_path, "--state", "签收了") == (
        2, "", "refused: unknown state '签收了': one of submitted, assigned, accepted, answered, disputed, "
               "returned, closed\n")


# -- outputs ------------------------------------------------------------------------------------------
def _targets(tmp_path):
    """An existing character device (/dev/null's numbers, made here), a FIFO and a link."""
    dev = tmp_path / "node"
    os.mknod(dev, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    (tmp_path / "real.csv").write_text("mine\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "real.csv")
    return dev, fifo, link


def test_force_never_replaces_a_device_fifo_or_link(run_cli, db_path, tmp_path):
    targets = _targets(tmp_path)
    for target in targets:
        refusal = f"error: {target} is not a regular file (a device, pipe or link): give the path of a file\n"
        for args in (("export", "appeals", "-o", target, "--format", "csv"), ("export", "rates", "-o", target,
                     "--format", "csv"), ("export", "enterprises", "-o", target, "--format", "csv"),
                     ("report", target)):
            assert run_cli(*args, "--db", db_path, "--force") == (2, "", refusal), args
    dev, fifo, link = targets
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.path.islink(link) and (tmp_path / "real.csv").read_text(encoding="utf-8") == "mine\n"


def test_dash_is_standard_output_where_csv_can_go_there(run_cli, db_path, make_appeal, tmp_path, monkeypatch):
    a = make_appeal("accepted")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("export", "appeals", "--db", db_path, "-o", "-", env=NOW)
    assert code == 0
    assert out.splitlines()[0] == ("\ufeff编号,状态,挂牌,类别,县市区,企业,统一社会信用代码,标题,承办单位,提交时间,到达时间,"
                                   "办理期限,剩余工作日,答复时间,企业评价,督办中,延期待批")
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [a.ref]
    assert err.splitlines()[0] == "exported 1 appeal"
    code, out, err = run_cli("export", "enterprises", "--db", db_path, "-o", "-")
    assert (code, out.splitlines()[0], err) == (
        0, "\ufeff企业名称,统一社会信用代码,所属县市区,行业,企业标签,联系人,联系电话,注册地址", "exported 1 enterprise\n")
    workbook = "error: --format xlsx writes a workbook: give the file with -o FILE.xlsx\n"
    assert run_cli("export", "rates", "--db", db_path, "-o", "-", "--format", "xlsx") == (2, "", workbook)
    assert run_cli("export", "enterprises", "--db", db_path, "-o", "-", "--format", "xlsx") == (2, "", workbook)
    assert run_cli("report", "-", "--db", db_path) == (
        2, "", "error: - (standard output): this command writes a file; give its path, such as report.html\n")
    assert run_cli("backup", "-", "--db", db_path) == (
        2, "", "error: - (standard output): a backup is a database file; give its path, such as "
               "taian-2026-10-01.db\n")
    assert not (tmp_path / "-").exists()


# -- audit anchor / verify ----------------------------------------------------------------------------
def test_anchor_refuses_the_database_and_its_wal(run_cli, db_path, store):
    before = db_path.read_bytes()
    for target in (db_path, f"{db_path}-wal"):
        assert run_cli("audit", "anchor", target, "--db", db_path) == (
            2, "", f"error: {target} is the database (or its -wal/-shm): choose another file\n")
    other = db_path.parent / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    assert run_cli("audit", "anchor", other, "--db", db_path) == (
        2, "", f"error: {other} is an SQLite database (or the -wal/-shm/-journal beside one): choose another file\n")
    assert db_path.read_bytes() == before


def test_verify_names_the_line_of_an_anchors_file_that_is_not_text(run_cli, db_path, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    code, _, _ = run_cli("audit", "anchor", anchors, "--db", db_path)
    assert code == 0
    anchors.write_bytes(anchors.read_bytes() + b"\x89PNG\r\n\x1a\n\xff\xfe\n")
    assert run_cli("audit", "verify", "--db", db_path, "--anchors", anchors) == (
        1, "", f"{anchors}:2: not an anchor line (not UTF-8 text)\n"
               f"{anchors}:3: not an anchor line\n"
               f"{anchors}:4: not an anchor line (not UTF-8 text)\n"
               "error: audit check FAILED: 3 problems (see above)\n")


# -- --at, dry run, backup -------------------------------------------------------------------------------
def test_figures_are_never_as_of_the_future(run_cli, db_path, tmp_path):
    refusal = ("error: --at 2026-10-09T00:00:00+08:00 is after now (2026-10-08T09:00:00+08:00): figures are "
               "never given as of a time that has not come\n")
    assert run_cli("stats", "--db", db_path, "--at", "2026-10-09", env=NOW) == (2, "", refusal)
    assert run_cli("report", tmp_path / "r.html", "--db", db_path, "--at", "2026-10-09", env=NOW) == (
        2, "", refusal)
    assert not (tmp_path / "r.html").exists()
    code, out, _ = run_cli("stats", "--db", db_path, "--at", "2026-10-08T08:00:00+08:00", env=NOW)
    assert (code, out.splitlines()[0]) == (
        0, "taian stats for 2026-10 (to 2026-10-08; as of 2026-10-08T08:00:00+08:00)")


def test_a_dry_run_works_on_a_read_only_database(run_cli, db_path, make_appeal, monkeypatch):
    from taian_tui import store as store_module

    make_appeal("accepted")
    before = db_path.read_bytes()
    write_problem = store_module._write_problem
    monkeypatch.setattr(store_module, "_write_problem",        # as root, os.access says yes to all
                        lambda path: "the file is read-only" if str(path) == str(db_path) else write_problem(path))
    code, out, err = run_cli("escalate", "--db", db_path, env={"TAIAN_NOW": "2026-10-12T08:00:00+08:00"})
    assert (code, out) == (1, "") and "this command changes the database" in err
    code, out, err = run_cli("escalate", "--db", db_path, "--dry-run",
                             env={"TAIAN_NOW": "2026-10-12T08:00:00+08:00"})
    assert (code, out, err) == (0, "escalate at 2026-10-12T08:00:00+08:00: dry run: would raise blue 1, "
                                   "yellow 0, red 0; SMS to queue 1\n", "")
    assert db_path.read_bytes() == before


def test_backup_into_a_folder_or_an_empty_path(run_cli, db_path, tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    assert run_cli("backup", f"{folder}/", "--db", db_path) == (
        2, "", f"error: {folder}/: is a directory; give a file name such as {folder}/taian-2026-10-01.db\n")
    assert run_cli("backup", "", "--db", db_path) == (
        2, "", "error: the backup's path is empty: give the file to write, such as taian-2026-10-01.db\n")
    assert list(folder.iterdir()) == []


# -- appeal show / list text ---------------------------------------------------------------------------
def test_show_prints_a_body_of_several_lines_as_lines(run_cli, db_path, submit):
    a = submit(body="第一行\n第二行\tend")
    code, out, err = run_cli("appeal", "show", a.ref, "--db", db_path)
    assert (code, err) == (0, "")
    assert out.splitlines()[9:11] == ["body: 第一行", "  第二行    end"]


def test_estimated_deadlines_are_marked(run_cli, db_path, submit):
    a = submit(at="2026-12-28T10:00:00+08:00")
    b = submit()
    code, out, _ = run_cli("appeal", "list", "--db", db_path)
    assert (code, out) == (0, f"{b.ref}\tassigned\t-\t市自然资源和规划局\t2026-10-12T23:59:59+08:00\t用地指标落实\n"
                              f"{a.ref}\tassigned\t-\t市自然资源和规划局\t2027-01-04T23:59:59+08:00 (estimated)\t用地指标落实\n")
    code, out, _ = run_cli("appeal", "show", a.ref, "--db", db_path)
    assert out.splitlines()[4] == ("deadline: 2027-01-04T23:59:59+08:00 (no holiday data for that year: "
                                   "counted Monday-Friday)")
    code, out, _ = run_cli("appeal", "show", b.ref, "--db", db_path)
    assert out.splitlines()[4] == "deadline: 2026-10-12T23:59:59+08:00"


def test_actions_that_count_into_a_year_without_holiday_data_say_so(run_cli, db_path, submit):
    """DOMAIN.md: every command that relied on Monday-Friday counting says so. Assigned on
    Mon 12-28 (reassigned to sthj): Day 5 is Mon 2027-01-04 (12-29, 30, 31, 01-01, 04: 2027
    counted Mon-Fri); accepted, the same; an extension of 2 days after it: 01-05, 01-06."""
    a = submit(at="2026-12-28T09:00:00+08:00")                # (routed to zrzy)
    warning = ("warning: no holiday data for 2027: working days in 2027 counted Monday-Friday (add them "
               "with `taian calendar import FILE`)\n")
    env = {"TAIAN_NOW": "2026-12-28T10:00:00+08:00"}
    code, out, err = run_cli("appeal", "assign", a.ref, "--unit", "sthj", "--as", "admin", "--db", db_path, env=env)
    assert (code, out, err) == (0, f"{a.ref} assigned to 市生态环境局 (sthj); due 2027-01-04T23:59:59+08:00 "
                                   "(estimated)\n", warning)
    code, out, err = run_cli("appeal", "accept", a.ref, "--as", "sthj1", "--db", db_path, env=env)
    assert (code, out, err) == (0, f"{a.ref} accepted; due 2027-01-04T23:59:59+08:00 (estimated)\n", warning)
    code, out, err = run_cli("appeal", "extend", a.ref, "--days", "2", "--reason", "现场踏勘", "--as", "sthj1",
                             "--db", db_path, env=env)
    assert code == 0, err
    ext = out.split()[2]
    code, out, err = run_cli("appeal", "decide-extension", ext, "--approve", "--as", "ducha1", "--db", db_path,
                             env=env)
    assert (code, out, err) == (0, f"extension {ext} approved; new deadline 2027-01-06T23:59:59+08:00 "
                                   "(estimated)\n", warning)


# -- imports -------------------------------------------------------------------------------------------
def test_an_interrupted_import_says_what_landed(run_cli, db_path, tmp_path, monkeypatch):
    from stdnum.cn import uscc

    from taian_tui.dataio import reading

    codes = [body + uscc.calc_check_digit(body) for body in ("91370900MA3C1000", "91370900MA3C2000")]
    codes = [c[:16] + "0" + uscc.calc_check_digit(c[:16] + "0") for c in codes]
    f = tmp_path / "reg.csv"
    f.write_text("name,uscc,county\n" + "".join(f"企业{i},{c},岱岳区\n" for i, c in enumerate(codes)),
                 encoding="utf-8")
    update = reading.Progress.update

    def interrupted(self, label, done, total, detail="", *, force=False):
        update(self, label, done, total, detail, force=force)
        if label == "writing":
            raise KeyboardInterrupt       # Ctrl-C just after a batch was committed

    monkeypatch.setattr(reading.Progress, "update", interrupted)
    assert run_cli("import", "enterprises", f, "--db", db_path) == (
        130, "", "interrupted: 2 rows committed; the file can be imported again: rows already in are unchanged\n")
    with Store(db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM enterprises WHERE uscc IN (?, ?)", codes) == 2


def test_one_is_singular(run_cli, db_path, tmp_path):
    f = tmp_path / "2027.csv"
    f.write_text("date,kind\n2027-01-01,holiday\n", encoding="utf-8")
    code, out, err = run_cli("calendar", "import", f, "--db", db_path)
    assert (code, out) == (0, "imported 1 calendar day for 2027; 0 open deadlines recomputed\n")
    assert err.startswith("warning: 2027 had no holiday data")
