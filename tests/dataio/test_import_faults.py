"""`taian import enterprises` (and the other imports on reading.py) against faults: an import
killed half-way (SIGKILL, SIGTERM) leaves every enterprise it wrote accounted for in the
audit trail and no scratch file that the next run does not reclaim; a 100 MB line is
rejected with its line number in bounded memory; a tab-separated or UTF-16 ("Unicode text"
from Excel) file is read, a damaged workbook is refused as one."""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from taian_tui.dataio import accounts, reading, registry, units
from taian_tui.dataio.calendar import read_calendar
from taian_tui.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["企业名称", "统一社会信用代码", "所属县市区", "联系电话"]


def code(i: int) -> str:
    body = f"91370900MA{i:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def write_registry(path: Path, n: int, *, start: int = 0, name: str = "泰安批量企业{i}有限公司") -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(start, start + n):
            w.writerow([name.format(i=i), code(i), "岱岳区", f"0538{i:07d}"])


def count(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM enterprises").fetchone()[0]
    finally:
        conn.close()


def scratch_of(where: Path, pid: int) -> list[str]:
    return sorted(n for n in os.listdir(where) if n.startswith(f"taian-import-{pid}-"))


def gone(pid: int) -> bool:
    """No such process (or only its zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_until(predicate, timeout: float = 30.0, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# -- a real import process, its options set the way a test needs ----------------------------------
DRIVER = r'''
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from taian_tui.dataio import registry
from taian_tui.dataio.reading import Progress
from taian_tui.store import Store

csv_path, db_path, opts = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
registry.PARALLEL_MIN_BYTES = opts.get("parallel_min_bytes", registry.PARALLEL_MIN_BYTES)
if opts.get("two_cpus"):
    registry._cpus = lambda: 2
if opts.get("stall_after_check"):
    # each process, once its part is checked and sorted, says so and waits (to be killed)
    real_sort = registry._sort_part

    def stalled(conn, schema, **kw):
        out = real_sort(conn, schema, **kw)
        # one write(2) of the whole line: both processes write to the same pipe, and print()
        # writes the text and its newline separately when stdout is unbuffered
        # (PYTHONUNBUFFERED), so two lines could interleave ("checked imp 1checked main 2")
        os.write(1, f"checked {schema} {os.getpid()}\n".encode())
        time.sleep(120)
        return out

    registry._sort_part = stalled
store = Store(db_path)
out = {}
try:
    r = registry.import_enterprises(store, "system:import", csv_path, progress=Progress(enabled=False),
                                    batch_rows=opts.get("batch_rows", registry.BATCH_ROWS),
                                    pause=opts.get("pause", 0.002))
    out = {"counts": r.counts(), "rejections": [[x.line, x.column, x.reason] for x in r.rejections]}
except Exception as exc:
    out = {"error": f"{type(exc).__name__}: {exc}"}
# this process's own peak (VmHWM): ru_maxrss would carry the peak of the pytest worker that
# started it (Linux keeps it across exec), whatever other tests that worker ran before
with open("/proc/self/status") as status:
    out["maxrss_mb"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps(out, ensure_ascii=False), flush=True)
'''


def start_import(csv_path: Path, db: Path, tmpdir: Path, **opts) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(ROOT), str(csv_path), str(db), json.dumps(opts)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)


def run_import(csv_path: Path, db: Path, tmpdir: Path, **opts) -> dict:
    proc = start_import(csv_path, db, tmpdir, **opts)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def scratch_dir(tmp_path, monkeypatch) -> Path:
    """TMPDIR of the import processes, and this process's temporary folder too."""
    where = tmp_path / "scratch"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def audit_rows(db: Path, after_id: int, action: str) -> list[dict]:
    with Store(db) as s:
        return [dict(r, after=json.loads(r["after"]) if r["after"] else None) for r in s.all(
            "SELECT * FROM audit WHERE id > ? AND action = ? ORDER BY id", (after_id, action))]


# -- killed half-way ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_an_import_killed_mid_merge_leaves_every_written_enterprise_audited(db_path, tmp_path, scratch_dir,
                                                                          run_cli, sig):
    """12,000 rows, 300 of them already in the registry with another name, merged in
    batches of 500 (the check in two processes): killed once some batches are in. Each
    committed batch has its audit row; their counts add up to what is in the database."""
    n, old = 12_000, range(0, 12_000, 40)
    first = tmp_path / "first.csv"
    with open(first, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in old:
            w.writerow([f"泰安旧名企业{i}有限公司", code(i), "岱岳区", f"0538{i:07d}"])
    with Store(db_path) as s:
        assert registry.import_enterprises(s, "system:import", first).inserted == len(old)
        mark = s.scalar("SELECT MAX(id) FROM audit")
    base = count(db_path)
    path = tmp_path / "registry.csv"
    write_registry(path, n)

    proc = start_import(path, db_path, scratch_dir, batch_rows=500, pause=0.1, parallel_min_bytes=0,
                        two_cpus=True)
    try:
        assert wait_until(lambda: count(db_path) >= base + 1000 or proc.poll() is not None, timeout=120)
        os.kill(proc.pid, sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM

    written = count(db_path) - base
    assert 1000 <= written < n - len(old), "not killed half-way"
    batches = audit_rows(db_path, mark, "import.batch")
    updates = audit_rows(db_path, mark, "enterprise.update")
    assert not audit_rows(db_path, mark, "import.enterprises")          # it never finished
    assert batches and len({b["after"]["import_id"] for b in batches}) == 1
    assert [b["after"]["batch"] for b in batches] == list(range(1, len(batches) + 1))
    inserted = sum(b["after"]["inserted"] for b in batches)
    updated = sum(b["after"]["updated"] for b in batches)
    assert inserted == written                                        # every new enterprise accounted for
    assert updated == len(updates) and updated > 0                    # and every changed one, with its row
    with Store(db_path) as s:
        renamed = {r[0] for r in s.all("SELECT uscc FROM enterprises WHERE name LIKE '泰安批量企业%'")}
        assert len(renamed) == inserted + updated
        # each row the merge wrote lies in the code range of a committed batch
        ranges = [tuple(b["after"]["codes"]) for b in batches]
        assert all(any(lo <= c <= hi for lo, hi in ranges) for c in renamed)
        assert {u["entity_id"] for u in updates} == renamed & {code(i) for i in old}
        assert s.verify_audit().ok
    code_, out, err = run_cli("audit", "verify", "--db", db_path)
    assert code_ == 0, err

    # the run after it: the killed one's scratch gone, the import completed with exact counts
    again = run_import(path, db_path, scratch_dir, batch_rows=500, pause=0)
    assert again["counts"] == {"rows": n, "inserted": n - len(old) - inserted, "updated": len(old) - updated,
                               "unchanged": inserted + updated, "rejected": 0, "duplicates": 0,
                               "field_changes": {"name": len(old) - updated}}
    assert count(db_path) == base + n - len(old)
    assert scratch_of(scratch_dir, proc.pid) == [] and os.listdir(scratch_dir) == []
    (final,) = audit_rows(db_path, mark, "import.enterprises")
    rerun = [b for b in audit_rows(db_path, mark, "import.batch") if b["after"]["import_id"] == final["after"]["import_id"]]
    assert final["after"]["batches"] == len(rerun) >= n // 500
    assert sum(b["after"]["inserted"] for b in rerun) == final["after"]["inserted"] == n - len(old) - inserted
    assert Store(db_path).verify_audit().ok


def _stalled_import(tmp_path: Path, db: Path, scratch_dir: Path) -> tuple[subprocess.Popen, dict[str, int]]:
    """An import whose two processes have each checked their part and wait: (the process,
    {"imp": parent pid, "main": child pid})."""
    path = tmp_path / "registry.csv"
    write_registry(path, 3000)
    proc = start_import(path, db, scratch_dir, parallel_min_bytes=0, two_cpus=True, stall_after_check=True)
    pids: dict[str, int] = {}
    while len(pids) < 2:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        assert line.startswith("checked "), f"the import did not stall after its check: {line!r}"
        _, schema, pid = line.split()
        pids[schema] = int(pid)
    assert pids["imp"] == proc.pid and pids["main"] != proc.pid
    return proc, pids


def test_sigkill_during_the_check_leaves_scratch_the_next_run_reclaims(db_path, tmp_path, scratch_dir, dump,
                                                                     store):
    before = dump()
    proc, pids = _stalled_import(tmp_path, db_path, scratch_dir)
    try:
        names = scratch_of(scratch_dir, proc.pid)
        assert [n.rsplit(".", 1)[1] for n in names] == ["err", "sqlite"]
        assert all(re.fullmatch(rf"taian-import-{proc.pid}-[0-9a-f]+\.(sqlite|err)", n) for n in names)
        assert all((scratch_dir / n).stat().st_mode & 0o777 == 0o600 for n in names)     # private
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert wait_until(lambda: gone(pids["main"]), timeout=10)    # the checker died with its parent
    finally:
        for pid in pids.values():
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    assert scratch_of(scratch_dir, proc.pid) == names                 # SIGKILL: nothing could run
    assert dump() == before                                           # nothing written
    # not the import's own files, nor those of a live process
    (scratch_dir / "taian-import-notes.sqlite").write_bytes(b"")
    (scratch_dir / f"taian-import-{os.getpid()}-0abc.sqlite").write_bytes(b"")
    path = tmp_path / "small.csv"
    write_registry(path, 3, start=50_000)
    r = registry.import_enterprises(store, "system:import", path)
    assert r.inserted == 3
    assert scratch_of(scratch_dir, proc.pid) == []
    assert sorted(os.listdir(scratch_dir)) == sorted([f"taian-import-{os.getpid()}-0abc.sqlite",
                                                      "taian-import-notes.sqlite"])


def test_sigterm_during_the_check_removes_the_scratch_at_once(db_path, tmp_path, scratch_dir, dump):
    before = dump()
    proc, pids = _stalled_import(tmp_path, db_path, scratch_dir)
    try:
        assert len(scratch_of(scratch_dir, proc.pid)) == 2
        t = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - t < 10
    finally:
        for pid in pids.values():
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM
    assert os.listdir(scratch_dir) == []
    assert wait_until(lambda: gone(pids["main"]), timeout=10)
    assert dump() == before


def test_reclaim_scratch_only_takes_files_of_processes_that_are_gone(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = [f"taian-import-{dead.pid}-1a2b.sqlite", f"taian-import-{dead.pid}-1a2b.err",
             f"taian-import-{os.getpid()}-3c4d.sqlite", f"taian-import-{os.getppid()}-5e6f.sqlite",
             f"taian-import-{dead.pid}-1a2b.sqlite-journal", "taian-import-abcdefgh", "other.sqlite"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(registry.reclaim_scratch(str(tmp_path))) == sorted(names[:2])
    assert sorted(os.listdir(tmp_path)) == sorted(names[2:])


def test_signal_handlers_are_put_back_and_a_programs_own_is_left_alone(store, tmp_path, scratch_dir,
                                                                       monkeypatch):
    path = tmp_path / "r.csv"
    write_registry(path, 3)
    own = lambda *a: None                                             # noqa: E731
    wanted = {signal.SIGTERM: signal.SIG_DFL, signal.SIGHUP: own, signal.SIGINT: signal.SIG_IGN}
    saved = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    seen = {}
    real = registry._merge

    def spy(*a):
        seen.update({sig: signal.getsignal(sig) for sig in wanted})
        return real(*a)

    monkeypatch.setattr(registry, "_merge", spy)
    try:
        registry.import_enterprises(store, "system:import", path)
        assert {sig: signal.getsignal(sig) for sig in wanted} == wanted          # put back
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert seen[signal.SIGTERM] not in (signal.SIG_DFL, None)     # raised SystemExit during the import
    assert seen[signal.SIGHUP] is own                             # the program's own: left alone
    assert seen[signal.SIGINT] is signal.SIG_IGN                  # ignored: stays ignored
    with pytest.raises(SystemExit) as exc:
        seen[signal.SIGTERM](signal.SIGTERM, None)
    assert exc.value.code == 128 + signal.SIGTERM


def test_dry_run_and_strict_with_a_rejection_write_no_audit_row(store, tmp_path, dump):
    path = tmp_path / "r.csv"
    write_registry(path, 1200)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"泰安坏码有限公司,{code(1)[:17]}0,岱岳区,\n")
    before = dump()
    r = registry.import_enterprises(store, "system:import", path, dry_run=True, batch_rows=100)
    assert r.inserted == 1200 and not r.written
    r = registry.import_enterprises(store, "system:import", path, strict=True, batch_rows=100)
    assert r.rejected == 1 and not r.written
    assert dump() == before


def test_batch_rows_add_up_to_the_import_row(store, tmp_path):
    path = tmp_path / "r.csv"
    write_registry(path, 1234)
    mark = store.scalar("SELECT MAX(id) FROM audit")
    r = registry.import_enterprises(store, "system:import", path, batch_rows=100, pause=0)
    assert r.inserted == 1234
    rows = store.all("SELECT action, after FROM audit WHERE id > ? ORDER BY id", (mark,))
    assert [a for a, _ in rows] == ["import.batch"] * 13 + ["import.enterprises"]
    batches = [json.loads(x) for _, x in rows[:-1]]
    final = json.loads(rows[-1][1])
    assert sum(b["inserted"] for b in batches) == final["inserted"] == 1234
    assert [b["of"] for b in batches] == [13] * 13 and final["batches"] == 13
    assert {b["import_id"] for b in batches} == {final["import_id"]}
    assert {b["sha256"] for b in batches} == {final["sha256"]} == {r.sha256}
    assert [b["codes"] for b in batches] == [[code(i), code(min(i + 99, 1233))] for i in range(0, 1234, 100)]


# -- a line or a cell beyond the bounds -----------------------------------------------------------------
def test_a_100mb_line_is_rejected_with_its_line_number_in_bounded_memory(db_path, tmp_path, scratch_dir):
    small = tmp_path / "small.csv"
    write_registry(small, 2)
    big = tmp_path / "oneline.csv"
    with open(big, "wb") as fh:
        fh.write(("企业名称,统一社会信用代码,所属县市区\r\n"
                  f"泰安前一行有限公司,{code(1)},岱岳区\r\n").encode("utf-8"))
        chunk = b"A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(f",{code(2)},岱岳区\r\n泰安后一行有限公司,{code(3)},泰山区\r\n".encode("utf-8"))
    assert big.stat().st_size > 100 << 20
    copy = tmp_path / "copy.db"
    copy.write_bytes(db_path.read_bytes())
    baseline = run_import(small, copy, scratch_dir)
    r = run_import(big, db_path, scratch_dir)
    assert r["counts"]["inserted"] == 2 and r["counts"]["rejected"] == 1 and r["counts"]["rows"] == 3
    assert r["rejections"] == [[3, "", "the line is longer than 1,048,576 characters, the most one line "
                                       "may hold (not read)"]]
    # before the bound: about 540 MB (the line held whole, then copied as a cell)
    assert r["maxrss_mb"] < baseline["maxrss_mb"] + 32, (r["maxrss_mb"], baseline["maxrss_mb"])
    assert r["maxrss_mb"] < 200          # (540 MB before the bound)
    print(f"peak RSS: {r['maxrss_mb']:.1f} MB for the 100 MB line, {baseline['maxrss_mb']:.1f} MB for 2 rows")


@pytest.mark.parametrize("block", [5, 64, 1 << 20])
def test_long_lines_are_skipped_and_every_line_keeps_its_number(tmp_path, monkeypatch, block):
    """Lines over MAX_LINE (its line break counted) come as LineTooLong at their number,
    whatever falls on a block edge (CR, LF or CRLF endings, control characters); the others
    as they are."""
    monkeypatch.setattr(reading, "BLOCK_BYTES", block)
    monkeypatch.setattr(reading, "MAX_LINE", 40)
    rnd = random.Random(block)
    pieces = ["泰安", "企业", "abc", "123", "\x07", "x" * 30, "y" * 50]
    lines = []
    for i in range(300):
        body = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4)))    # (CR + empty LF line = CRLF)
        lines.append(body + rnd.choice(["\r\n", "\n", "\r"]))
    lines[-1] = lines[-1].rstrip("\r\n") + ("y" * 50 if block == 64 else "")     # no final line break
    text = "".join(lines)
    (tmp_path / "f.csv").write_bytes(text.encode("utf-8"))
    (tmp_path / "g.csv").write_bytes(text.encode("gb18030"))
    for name, enc in (("f.csv", "utf-8"), ("g.csv", "gb18030")):
        source = reading.LineSource(tmp_path / name, enc, delimiter=",")
        got, it = [], iter(source)
        while True:
            try:
                got.append(next(it))
            except reading.LineTooLong as exc:
                got.append(exc.line)
            except StopIteration:
                break
        expected = []
        for n, line in enumerate(lines, 1):
            if len(line) > 40:
                expected += [n, "\n"]           # the error, then the empty line standing for it
            else:
                expected.append(line.replace("\x07", ""))
        assert got == expected


def test_records_reject_a_long_line_and_a_long_cell_and_read_on(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_LINE", 300)
    monkeypatch.setattr(reading, "MAX_FIELD", 100)
    limit = csv.field_size_limit()
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n" + "x" * 400 + ",3\n4,5\n" + "z" * 150 + ",6\n7,8\n"
                    + '"' + "y\n" * 80 + '",9\n', encoding="utf-8")
    recs = list(reading.records(reading.LineSource(path, "utf-8")))
    assert [(r.line, r.cells, r.error) for r in recs[:7]] == [
        (1, ["a", "b"], None), (2, ["1", "2"], None),
        (3, [], "the line is longer than 300 characters, the most one line may hold (not read)"),
        (3, [], None),                                      # the empty line standing for it
        (4, ["4", "5"], None),
        (5, [], "a cell is longer than 100 characters, the most one cell may hold"),
        (6, ["7", "8"], None)]
    # a quoted cell over many lines: how many were read into it is said
    assert recs[7].line == 7 and recs[7].error == ("a cell is longer than 100 characters, the most one cell "
                                                   "may hold (51 lines were read as that one cell: is a quote "
                                                   "never closed?)")
    assert csv.field_size_limit() == limit                  # put back


def test_a_cell_over_64k_is_rejected_with_its_line(store, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("企业名称,统一社会信用代码,所属县市区,注册地址\n"
                    f"泰安甲有限公司,{code(1)},岱岳区,{'长' * 70_000}\n"
                    f"泰安乙有限公司,{code(2)},岱岳区,泰山大街1号\n", encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.inserted, r.rejected) == (1, 1)
    assert (r.rejections[0].line, r.rejections[0].reason) == (
        2, "a cell is longer than 65,536 characters, the most one cell may hold")


def test_long_lines_and_cells_in_the_second_half_keep_their_numbers(db_path, tmp_path, monkeypatch):
    """Checked in two processes, the second half's long line and long cell are reported at
    their lines in the file, as in one piece."""
    monkeypatch.setattr(registry, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(registry, "_cpus", lambda: 2)
    monkeypatch.setattr(reading, "MAX_LINE", 100_000)
    lines = ["企业名称,统一社会信用代码,所属县市区,注册地址"]
    for i in range(20_000):
        address = "x" * 70_000 if i == 18_000 else f"大街{i}号"
        lines.append(f"泰安{i}有限公司,{code(i)},岱岳区,{address}" if i != 15_000 else "y" * 120_000)
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    split = registry._plan_split(path, path.stat().st_size)
    assert split < len(("\n".join(lines[:15_001]) + "\n").encode("utf-8"))      # both in the second part
    parts, outcomes = [], []
    real = registry._settle_duplicates
    monkeypatch.setattr(registry, "_settle_duplicates", lambda conn, p, *a: (parts.append(len(p)), real(conn, p, *a)))
    for workers in (1, 2):
        copy = tmp_path / f"w{workers}.db"
        copy.write_bytes(db_path.read_bytes())
        with Store(copy) as s:
            r = registry.import_enterprises(s, "system:import", path, workers=workers)
            outcomes.append((r.counts(), [(x.line, x.reason) for x in r.rejections]))
    assert parts == [1, 2] and outcomes[0] == outcomes[1]
    assert outcomes[0][0]["inserted"] == 19_998
    assert outcomes[0][1] == [
        (15_002, "the line is longer than 100,000 characters, the most one line may hold (not read)"),
        (18_002, "a cell is longer than 65,536 characters, the most one cell may hold")]


def test_a_long_line_in_a_users_file_is_rejected_with_its_line(store, tmp_path):
    path = tmp_path / "users.csv"
    with open(path, "wb") as fh:
        fh.write("用户名,姓名,角色,单位,手机号\n".encode())
        fh.write(b"x" * (5 << 20) + b"\n")
        fh.write("lianluo9,新联络员,联络员,zrzy,13900000009\n".encode())
    r = accounts.import_users(store, "system:import", path)
    assert (r.inserted, r.rejected) == (1, 1)
    assert r.rejections[0].line == 2 and "longer than 1,048,576 characters" in r.rejections[0].reason


# -- tab-separated, UTF-16, workbooks ------------------------------------------------------------------
def _tsv_rows() -> list[list[str]]:
    return [["企业名称", "统一社会信用代码", "所属县市区", "联系电话", "注册地址"],
            ["泰安制表符有限公司", code(61), "岱岳区", "05388888861", "泰山大街1号"],
            ["泰安逗号,顿号有限公司", code(62), "泰山区", "05388888862", "东岳大街2号"],
            ["泰安引号\"多行\"有限公司", code(63), "新泰市", "05388888863", "青云街道\n3号楼\t东门"],
            ["泰安坏码有限公司", code(64)[:17] + "0", "岱岳区", "", ""]]


def _as_tsv(rows, line_end="\r\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator=line_end).writerows(rows)   # Excel's quoting
    return buf.getvalue()


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gb18030", b""),
                                          ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-16-le", b"")],
                         ids=["utf8", "utf8-bom", "gb18030", "utf16le-bom", "utf16be-bom", "utf16le-no-bom"])
def test_a_tab_separated_file_imports_with_exact_counts(store, tmp_path, encoding, bom):
    path = tmp_path / "unicode_text.txt"
    path.write_bytes(bom + _as_tsv(_tsv_rows()).encode(encoding))
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.rows, r.inserted, r.rejected, r.ignored_columns) == (4, 3, 1, [])
    assert r.encoding == {"utf-16-le": "utf-16le" if not bom else "utf-16", "utf-16-be": "utf-16"}.get(
        encoding, encoding)
    assert (r.rejections[0].line, r.rejections[0].column) == (6, "统一社会信用代码")     # line 4 has two lines
    row = store.one("SELECT name, county, phone, address FROM enterprises WHERE uscc = ?", (code(63),))
    assert tuple(row) == ("泰安引号\"多行\"有限公司", "新泰市", "05388888863", "青云街道 3号楼 东门")
    assert store.one("SELECT name FROM enterprises WHERE uscc = ?", (code(62),))[0] == "泰安逗号,顿号有限公司"
    again = registry.import_enterprises(store, "system:import", path)
    assert (again.unchanged, again.inserted, again.updated) == (3, 0, 0)


def test_excel_unicode_text_in_two_processes_matches_one(both_ways, tmp_path, monkeypatch):
    """A large UTF-8 tab-separated file is checked in two processes like a CSV one (UTF-16
    is always checked in one)."""
    monkeypatch.setattr(registry, "PARALLEL_MIN_BYTES", 0)
    rows = [HEADER + ["注册地址"]] + [[f"泰安{i}有限公司", code(i), "岱岳区", f"0538{i:07d}",
                                      f"大街{i}号\n{i}楼" if i % 7 == 0 else f"大街{i}号"] for i in range(2000)]
    path = tmp_path / "big.tsv"
    path.write_text(_as_tsv(rows), encoding="utf-8")
    parts, outcomes = both_ways(path, lambda s, r: (r.counts(), [tuple(x) for x in s.all(
        "SELECT uscc, name, address FROM enterprises ORDER BY uscc")]))
    assert parts == [1, 2] and outcomes[0][0]["inserted"] == 2000
    assert outcomes[0][1] == outcomes[1][1]


def test_units_users_and_calendar_read_utf16_tab_separated_files(store, tmp_path):
    units_file = tmp_path / "units.txt"
    units_file.write_bytes(codecs.BOM_UTF16_LE + _as_tsv([
        ["代码", "单位名称", "类型", "负责人", "负责人手机"],
        ["xinqu", "泰安新区", "功能区", "赵某", "13700000001"]]).encode("utf-16-le"))
    r = units.import_units(store, "system:import", units_file)
    assert (r.inserted, r.rejected, r.encoding) == (1, 0, "utf-16")
    users_file = tmp_path / "users.txt"
    users_file.write_bytes(codecs.BOM_UTF16_LE + _as_tsv([
        ["用户名", "姓名", "角色", "单位", "手机号"],
        ["lianluo8", "新联络员", "联络员", "xinqu", "13900000008"]]).encode("utf-16-le"))
    r = accounts.import_users(store, "system:import", users_file)
    assert (r.inserted, r.rejected) == (1, 0)
    calendar_file = tmp_path / "calendar.txt"
    calendar_file.write_bytes(codecs.BOM_UTF16_LE + _as_tsv([
        ["日期", "类型"], ["2027/1/1", "放假"], ["2027-02-07", "补班"]]).encode("utf-16-le"))
    assert read_calendar(calendar_file) == ([("2027-01-01", "holiday"), ("2027-02-07", "workday")], [])


def test_a_comma_file_with_tabs_in_its_header_stays_a_comma_file(store, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(f"企业名称\t,统一社会信用代码,所属县市区\n泰安\t有限公司,{code(71)},岱岳区\n", encoding="utf-8")
    r = registry.import_enterprises(store, "system:import", path)
    assert (r.inserted, r.rejected) == (1, 0)
    assert store.one("SELECT name FROM enterprises WHERE uscc = ?", (code(71),))[0] == "泰安 有限公司"


def test_utf16_can_be_forced(store, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(_as_tsv(_tsv_rows()[:2]).encode("utf-16-le"))
    r = registry.import_enterprises(store, "system:import", path, encoding="utf-16")
    assert (r.inserted, r.encoding) == (1, "utf-16le")
    with pytest.raises(reading.ImportFileError, match="must be auto, utf-8, gb18030 or utf-16"):
        registry.import_enterprises(store, "system:import", path, encoding="latin-1")


@pytest.mark.parametrize("magic", [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"],
                         ids=["xlsx", "xls"])
def test_a_damaged_workbook_is_refused_as_a_workbook(store, tmp_path, dump, magic):
    """A file that begins like a workbook is read as one (whatever its name; see
    test_workbook_import.py); one that is not a readable workbook is refused as such."""
    path = tmp_path / "registry.csv"
    path.write_bytes(magic + bytes(2000))
    before = dump()
    with pytest.raises(reading.ImportFileError, match=re.escape(f"{path}: cannot be read as an Excel workbook (")):
        registry.import_enterprises(store, "system:import", path)
    with pytest.raises(reading.ImportFileError, match="cannot be read as an Excel workbook"):
        units.import_units(store, "system:import", path, encoding="auto")
    assert dump() == before


def test_the_wrong_file_says_which_columns_it_lacks_even_past_an_unreadable_line(store, tmp_path):
    """A registry given as the users file, with a cell too long on its third line: the search
    for the users' header stops there, and the refusal names the columns missing (it named
    only the long cell, as if the header were to blame)."""
    path = tmp_path / "users.csv"
    path.write_text("企业名录\n企业名称,统一社会信用代码,所属县市区\n甲公司,91370900MA0000001X,岱岳区\n"
                    + "乙公司," + "长" * 70_000 + ",岱岳区\n", encoding="utf-8")
    with pytest.raises(reading.ImportFileError) as refused:
        accounts.import_users(store, "admin", path)
    assert str(refused.value) == (
        f"{path}: missing required columns 用户名 (username), 姓名 (name), 角色 (role) (header has: 企业名称, "
        "统一社会信用代码, 所属县市区) (the search for it stopped at line 4: the header cannot be read: a cell "
        "is longer than 65,536 characters, the most one cell may hold); nothing imported")
